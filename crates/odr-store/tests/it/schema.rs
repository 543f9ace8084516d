//! `schema.rs` against what the migrations built: every column of every
//! table is written through diesel and read back with the declared types.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::{ExpressionMethods, JoinOnDsl, NullableExpressionMethods, QueryDsl, RunQueryDsl};
use odr_store::schema::*;
use odr_store::{DbConnection, StoreError};

pub fn at() -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 12, 1)
        .and_then(|day| day.and_hms_micro_opt(9, 30, 15, 123_456))
        .expect("a valid timestamp")
}

/// A retailer, a customer and a mediator, a complaint, one event, one
/// message and one outbox row, relying on column defaults where they exist.
pub fn insert_fixtures(conn: &mut DbConnection) -> Result<(), StoreError> {
    let at = at();
    diesel::insert_into(retailers::table)
        .values((
            retailers::id.eq("r1"),
            retailers::name.eq("Shop"),
            retailers::support_email.eq("help@shop.example"),
            retailers::created_at.eq(at),
            retailers::updated_at.eq(at),
        ))
        .execute(conn)?;
    for (id, role) in [("u1", "customer"), ("u2", "mediator")] {
        diesel::insert_into(users::table)
            .values((
                users::id.eq(id),
                users::email.eq(format!("{id}@example.org")),
                users::display_name.eq(id.to_uppercase()),
                users::role.eq(role),
                users::created_at.eq(at),
                users::updated_at.eq(at),
            ))
            .execute(conn)?;
    }
    diesel::insert_into(complaints::table)
        .values((
            complaints::id.eq("c1"),
            complaints::reference.eq("ODR-0001"),
            complaints::retailer_id.eq("r1"),
            complaints::customer_id.eq("u1"),
            complaints::mediator_id.eq(Some("u2")),
            complaints::state.eq("submitted"),
            complaints::category.eq("not_delivered"),
            complaints::order_reference.eq("A-17"),
            complaints::next_deadline_at.eq(Some(at)),
            complaints::machine.eq("{}"),
            complaints::version.eq(1_i64),
            complaints::last_seq.eq(1_i64),
            complaints::created_at.eq(at),
            complaints::updated_at.eq(at),
        ))
        .execute(conn)?;
    diesel::insert_into(complaint_events::table)
        .values((
            complaint_events::complaint_id.eq("c1"),
            complaint_events::seq.eq(1_i64),
            complaint_events::event_type.eq("submitted"),
            complaint_events::actor_id.eq(Some("u1")),
            complaint_events::actor_role.eq("customer"),
            complaint_events::to_state.eq("submitted"),
            complaint_events::payload.eq("{}"),
            complaint_events::at.eq(at),
        ))
        .execute(conn)?;
    diesel::insert_into(messages::table)
        .values((
            messages::id.eq("m1"),
            messages::complaint_id.eq("c1"),
            messages::seq.eq(1_i64),
            messages::author_id.eq("u1"),
            messages::author_role.eq("customer"),
            messages::body.eq(Some("Where is my parcel?")),
            messages::created_at.eq(at),
        ))
        .execute(conn)?;
    diesel::insert_into(outbox::table)
        .values((
            outbox::id.eq("o1"),
            outbox::complaint_id.eq(Some("c1")),
            outbox::event_seq.eq(Some(1_i64)),
            outbox::template.eq("complaint_submitted"),
            outbox::recipient_role.eq("retailer_staff"),
            outbox::to_address.eq("help@shop.example"),
            outbox::locale.eq("en"),
            outbox::payload.eq("{}"),
            outbox::available_at.eq(at),
            outbox::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

on_both_backends! {
    fn every_column_round_trips_with_its_declared_type_and_default(db) {
        let store = db.migrated_store();
        store.write_transaction(insert_fixtures).expect("inserting fixtures");
        let at = at();
        let mut conn = store.get().expect("a connection");
        let conn: &mut DbConnection = &mut conn;

        let r: RetailerRow = retailers::table.first(conn).expect("retailer");
        let defaults = (r.3.as_str(), r.4.as_str(), r.5.as_str(), r.6, r.7.as_str());
        assert_eq!(defaults, ("en", "EUR", "UTC", false, "[]"));
        assert_eq!((r.8, r.9), (at, at), "timestamps keep microseconds");

        type User = (String, String, Option<String>, String, String, Option<String>,
                     String, String, i64, Option<NaiveDateTime>, NaiveDateTime, NaiveDateTime);
        let user: User = users::table.find("u1").first(conn).expect("user");
        assert_eq!((user.3.as_str(), user.7.as_str(), user.8, user.9), ("U1", "UTC", 0, None));

        let complaint = complaints::table.first::<(
            String, String, String, String, Option<String>, String, Option<String>, String,
            String, Option<NaiveDateTime>, String, i64, i64, NaiveDateTime, NaiveDateTime,
            Option<NaiveDateTime>,
        )>(conn).expect("complaint");
        assert_eq!((complaint.4.as_deref(), complaint.9, complaint.11), (Some("u2"), Some(at), 1));

        let event = complaint_events::table.first::<(
            String, i64, String, Option<String>, String, Option<String>, String, String,
            NaiveDateTime,
        )>(conn).expect("event");
        assert_eq!((event.2.as_str(), event.5, event.8), ("submitted", None, at));

        let message = messages::table
            .first::<(
                String, String, i64, String, String, Option<String>, String, NaiveDateTime, String,
            )>(conn)
            .expect("message");
        assert_eq!((message.6.as_str(), message.8.as_str()), ("[]", "[]"));

        let outbox_row = outbox::table.first::<(
            String, Option<String>, Option<i64>, String, String, Option<String>, String, String,
            String, String, i64, Option<String>, NaiveDateTime, Option<NaiveDateTime>,
            Option<String>, NaiveDateTime, Option<NaiveDateTime>,
        )>(conn).expect("outbox row");
        assert_eq!((outbox_row.9.as_str(), outbox_row.10, outbox_row.12), ("pending", 0, at));

        // RETURNING is part of MultiConnection's common SQL.
        let claimed: (String, i64) = diesel::update(outbox::table.find("o1"))
            .set((outbox::attempts.eq(outbox::attempts + 1), outbox::claim_token.eq("t1")))
            .returning((outbox::id, outbox::attempts))
            .get_result(conn)
            .expect("update … returning");
        assert_eq!(claimed, ("o1".to_owned(), 1));

        let authors: Vec<(String, String)> = messages::table
            .inner_join(users::table)
            .select((messages::id, users::display_name))
            .load(conn)
            .expect("joinable! messages -> users");
        assert_eq!(authors, [("m1".to_owned(), "U1".to_owned())]);
        let mediated: Vec<String> = complaints::table
            .inner_join(users::table.on(users::id.nullable().eq(complaints::mediator_id)))
            .select(users::id)
            .load(conn)
            .expect("explicit join on mediator_id");
        assert_eq!(mediated, ["u2"]);
    }
}

on_both_backends! {
    /// SQLite ignores foreign keys unless each connection enables them.
    fn foreign_keys_are_enforced(db) {
        let store = db.migrated_store();
        let error = store
            .write_transaction(|conn| {
                diesel::insert_into(users::table)
                    .values((
                        users::id.eq("u9"),
                        users::email.eq("u9@example.org"),
                        users::display_name.eq("U9"),
                        users::role.eq("retailer_staff"),
                        users::retailer_id.eq(Some("no-such-retailer")),
                        users::created_at.eq(at()),
                        users::updated_at.eq(at()),
                    ))
                    .execute(conn)
                    .map_err(StoreError::from)
            })
            .expect_err("a user of an unknown retailer must be refused");
        assert!(matches!(error, StoreError::Database(_)), "{error:?}");
    }
}

type RetailerRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    bool,
    String,
    NaiveDateTime,
    NaiveDateTime,
);
