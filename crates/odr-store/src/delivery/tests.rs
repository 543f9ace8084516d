use chrono::{TimeZone, Utc};
use diesel::prelude::*;

use super::*;
use crate::testing::{backends, TestDatabase};

#[test]
fn last_error_is_cut_at_2000_characters_not_bytes() {
    let long = "ä".repeat(3000);
    assert_eq!(truncated(&long).chars().count(), 2000);
}

#[test]
fn postgres_claims_skip_rows_another_worker_holds_and_sqlite_needs_no_such_clause() {
    let at = chrono::NaiveDate::from_ymd_opt(2026, 12, 1)
        .and_then(|d| d.and_hms_opt(9, 0, 0))
        .expect("valid");
    let pg = diesel::debug_query::<diesel::pg::Pg, _>(&lease_due!(
        due_ids!(at, 5).for_update().skip_locked(),
        at,
        at,
        "token"
    ))
    .to_string();
    assert!(pg.contains("FOR UPDATE SKIP LOCKED"), "{pg}");
    assert!(pg.contains("RETURNING"), "{pg}");
    let lite =
        diesel::debug_query::<diesel::sqlite::Sqlite, _>(&lease_due!(due_ids!(at, 5), at, at, "t"))
            .to_string();
    assert!(!lite.contains("FOR UPDATE"), "{lite}");
}

fn insert_row(store: &Store, id: &str, payload: &str, at: chrono::NaiveDateTime) {
    store
        .with_conn(|conn| {
            diesel::insert_into(outbox::table)
                .values(OutboxRow {
                    id: id.into(),
                    complaint_id: None,
                    event_seq: None,
                    template: "invitation".into(),
                    recipient_role: "customer".into(),
                    recipient_user_id: None,
                    to_address: "someone@example.test".into(),
                    locale: "en".into(),
                    payload: payload.into(),
                    status: "pending".into(),
                    attempts: 0,
                    last_error: None,
                    available_at: at,
                    locked_until: None,
                    claim_token: None,
                    created_at: at,
                    sent_at: None,
                })
                .execute(conn)
                .map_err(StoreError::from)
        })
        .expect("insert outbox row");
}

#[test]
fn a_row_whose_payload_does_not_parse_is_dead_at_once_not_retried_forever() {
    for backend in backends() {
        let db = TestDatabase::for_backend(backend);
        let store = db.migrated_store();
        let now = Utc
            .with_ymd_and_hms(2026, 12, 1, 9, 0, 0)
            .single()
            .expect("t");
        insert_row(&store, "broken", "{\"template\": 1", to_db(now));
        insert_row(
            &store,
            "later",
            "{}",
            to_db(now + chrono::Duration::hours(1)),
        );

        let claimed = store
            .claim_mail(now, Duration::from_secs(60), 10)
            .expect("claim");
        assert!(claimed.is_empty(), "{backend}: {claimed:?}");
        let rows = store.list_outbox(Some("dead"), 10).expect("list");
        assert_eq!(rows.len(), 1, "{backend}: only the due row is looked at");
        let error = rows[0].last_error.as_deref().unwrap_or_default();
        assert!(error.contains("does not parse"), "{backend}: {error}");
        assert_eq!(
            rows[0].payload,
            serde_json::Value::String("{\"template\": 1".into())
        );
        let later = store.claim_mail(
            now + chrono::Duration::hours(2),
            Duration::from_secs(60),
            10,
        );
        assert!(
            later.expect("claim").is_empty(),
            "{backend}: `{{}}` is no MailFacts either"
        );
        assert_eq!(
            store.count_by_status().expect("count"),
            [("dead".to_owned(), 2)],
            "{backend}"
        );
    }
}
