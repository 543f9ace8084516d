//! A shop's integration credentials: API keys (shown once, kept hashed,
//! staff of their shop for its complaints only, no credentials or people,
//! revoked at once, their last use noted at most once a minute, their
//! backing user no person) and order-link secrets (shown once, kept
//! sealed, revoked).

use actix_web::http::Method;
use actix_web::test::init_service;
use odr_tests::{call, call_with_headers, on_both_databases, Db, Person, TestApp, World};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::steps::*;

on_both_databases!(
    a_key_is_shown_once_and_only_its_hash_is_kept,
    only_the_shops_staff_and_admins_manage_its_credentials,
    a_key_acts_as_staff_of_its_shop_only,
    a_key_cannot_manage_credentials_or_people,
    a_revoked_key_stops_working_at_once,
    a_keys_last_use_is_noted_at_most_once_a_minute,
    a_keys_backing_user_is_no_person,
    link_secrets_are_shown_once_kept_sealed_and_revocable,
    an_idempotent_replay_shows_no_key_or_secret
);

fn keys_path(retailer_id: &str) -> String {
    format!("/api/v1/retailers/{retailer_id}/api-keys")
}

fn secrets_path(retailer_id: &str) -> String {
    format!("/api/v1/retailers/{retailer_id}/link-secrets")
}

fn hex_sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A key of `retailer_id` created by `who`; as a `Person` whose id is the
/// key's backing user.
async fn new_key(app: &impl App, t: &TestApp, retailer_id: &str, who: &Person) -> (Value, Person) {
    let created = post(
        app,
        &keys_path(retailer_id),
        who,
        json!({"name": "Shop backend"}),
    )
    .await
    .expect(201);
    let key_id = id(&created);
    let user_id = t
        .store()
        .api_keys_of(retailer_id)
        .unwrap()
        .into_iter()
        .find(|k| k.id == key_id)
        .expect("the new key is listed")
        .user_id;
    let token = created["key"].as_str().unwrap().to_owned();
    (created, Person { id: user_id, token })
}

async fn delete(app: &impl App, path: &str, who: &Person) -> odr_tests::Answer {
    call(app, Method::DELETE, path, Some(who), None).await
}

/// The standard complaint, filed by the other customer at the other shop.
async fn file_at_other_shop(app: &impl App, w: &World) -> Value {
    post(
        app,
        "/api/v1/complaints",
        &w.other_customer,
        json!({
            "retailer_id": w.other_retailer_id,
            "order_reference": "B-2002",
            "category": "not_delivered",
            "desired_remedy": "full_refund",
            "claimed_amount": {"amount_minor": 4000, "currency": "EUR"},
            "description": "The parcel never came.",
        }),
    )
    .await
    .expect(201)
}

async fn a_key_is_shown_once_and_only_its_hash_is_kept(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let answer = call(
        &app,
        Method::POST,
        &keys_path(&w.retailer_id),
        Some(&w.staff),
        Some(json!({"name": "  Shop backend "})),
    )
    .await;
    let location = answer.header("location").map(str::to_owned);
    let created = answer.expect(201);
    let key = created["key"].as_str().expect("the key, shown once");
    assert!(key.starts_with("odr_sk_"), "{key}");
    assert!(key.len() >= "odr_sk_".len() + 40, "32 random bytes: {key}");
    assert_eq!(created["name"], "Shop backend");
    assert!(created["created_at"].is_string());
    let key_id = id(&created);
    assert_eq!(
        location.as_deref(),
        Some(format!("{}/{key_id}", keys_path(&w.retailer_id)).as_str())
    );

    let listed = get(&app, &keys_path(&w.retailer_id), &w.staff)
        .await
        .expect(200);
    assert_eq!(
        listed,
        json!({"items": [{
            "id": key_id,
            "name": "Shop backend",
            "created_at": created["created_at"],
            "last_used_at": null,
        }]}),
        "a list shows no key"
    );
    assert!(!listed.to_string().contains(key));

    let kept = t.store().api_key_hash(&key_id).unwrap().unwrap();
    assert_eq!(kept, hex_sha256(key), "only the SHA-256 is kept");
    assert!(!kept.contains(&key["odr_sk_".len()..]));
    let holder = t
        .store()
        .user(&t.store().api_keys_of(&w.retailer_id).unwrap()[0].user_id)
        .unwrap()
        .unwrap();
    assert!(!format!("{holder:?}").contains(key));

    // A second key is another key, listed after the first.
    t.clock.advance(chrono::Duration::seconds(1));
    let second = post(
        &app,
        &keys_path(&w.retailer_id),
        &w.admin,
        json!({"name": "Warehouse"}),
    )
    .await
    .expect(201);
    assert_ne!(second["key"], created["key"]);
    let listed = get(&app, &keys_path(&w.retailer_id), &w.admin)
        .await
        .expect(200);
    let names: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Shop backend", "Warehouse"]);
}

async fn only_the_shops_staff_and_admins_manage_its_credentials(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    for path in [keys_path(&w.retailer_id), secrets_path(&w.retailer_id)] {
        for who in [&w.customer, &w.mediator] {
            post(&app, &path, who, json!({"name": "x"}))
                .await
                .expect(403);
            get(&app, &path, who).await.expect(403);
        }
        // Another shop's staff learns nothing, not even that there is one.
        post(&app, &path, &w.other_staff, json!({"name": "x"}))
            .await
            .expect(404);
        get(&app, &path, &w.other_staff).await.expect(404);
        call(&app, Method::GET, &path, None, None).await.expect(401);
        // The name is required, 1 to 200 characters.
        for body in [
            json!({}),
            json!({"name": ""}),
            json!({"name": "   "}),
            json!({"name": "n".repeat(201)}),
        ] {
            let bad = post(&app, &path, &w.staff, body).await.expect(422);
            assert_eq!(bad["errors"][0]["field"], "name", "{bad}");
        }
        post(&app, &path, &w.staff, json!({"name": "n".repeat(200)}))
            .await
            .expect(201);
        post(&app, &path, &w.staff, json!({"name": "x", "colour": "red"}))
            .await
            .expect(400);
    }
    assert_eq!(
        t.store().api_keys_of(&w.retailer_id).unwrap().len(),
        1,
        "refused requests wrote nothing"
    );
    assert_eq!(t.store().link_secrets_of(&w.retailer_id).unwrap().len(), 1);
    for path in [keys_path("no-such-shop"), secrets_path("no-such-shop")] {
        post(&app, &path, &w.admin, json!({"name": "x"}))
            .await
            .expect(404);
    }

    // Revoking: unknown ids and another shop's ids are 404.
    let key = id(&get(&app, &keys_path(&w.retailer_id), &w.staff)
        .await
        .expect(200)["items"][0]);
    let secret = id(&get(&app, &secrets_path(&w.retailer_id), &w.staff)
        .await
        .expect(200)["items"][0]);
    for (path, item) in [
        (keys_path(&w.retailer_id), &key),
        (secrets_path(&w.retailer_id), &secret),
    ] {
        delete(&app, &format!("{path}/no-such-id"), &w.staff)
            .await
            .expect(404);
        delete(&app, &format!("{path}/{item}"), &w.other_staff)
            .await
            .expect(404);
        delete(&app, &format!("{path}/{item}"), &w.customer)
            .await
            .expect(403);
    }
    for path in [
        format!("{}/{key}", keys_path(&w.other_retailer_id)),
        format!("{}/{secret}", secrets_path(&w.other_retailer_id)),
    ] {
        delete(&app, &path, &w.admin).await.expect(404);
    }
    assert_eq!(t.store().api_keys_of(&w.retailer_id).unwrap().len(), 1);
    assert_eq!(t.store().link_secrets_of(&w.retailer_id).unwrap().len(), 1);
}

async fn a_key_acts_as_staff_of_its_shop_only(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let (_, shop_key) = new_key(&app, &t, &w.retailer_id, &w.staff).await;
    let ours = id(&file(&app, &w).await);
    let theirs = id(&file_at_other_shop(&app, &w).await);

    let list = get(&app, "/api/v1/complaints", &shop_key).await.expect(200);
    let ids: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [ours.as_str()],
        "a key sees its own shop's complaints only"
    );
    get(&app, &format!("/api/v1/complaints/{theirs}"), &shop_key)
        .await
        .expect(404);
    act(&app, &theirs, "acknowledge", &shop_key, json!({}))
        .await
        .expect(404);
    get(
        &app,
        &format!("/api/v1/retailers/{}/stats", w.other_retailer_id),
        &shop_key,
    )
    .await
    .expect(403);
    get(
        &app,
        &format!("/api/v1/retailers/{}/complaints.csv", w.other_retailer_id),
        &shop_key,
    )
    .await
    .expect(403);
    get(
        &app,
        &format!("/api/v1/retailers/{}/stats", w.retailer_id),
        &shop_key,
    )
    .await
    .expect(200);

    let acknowledged = act(&app, &ours, "acknowledge", &shop_key, json!({}))
        .await
        .expect(200);
    assert_eq!(acknowledged["state"], "acknowledged");
    let offered = act(
        &app,
        &ours,
        "offers",
        &shop_key,
        json!({"remedy": "partial_refund", "amount": {"amount_minor": 1500, "currency": "EUR"}}),
    )
    .await
    .expect(200);
    assert_eq!(offered["state"], "proposed");
    let message = post(
        &app,
        &format!("/api/v1/complaints/{ours}/messages"),
        &shop_key,
        json!({"body": "We sent a label for the return."}),
    )
    .await
    .expect(201);
    assert_eq!(message["author_id"], shop_key.id);
    assert_eq!(message["author_role"], "retailer_staff");
    let holder = t.store().user(&shop_key.id).unwrap().unwrap();
    assert_eq!(holder.display_name, "Shop backend (API key)");
    let events = get(
        &app,
        &format!("/api/v1/complaints/{ours}/events"),
        &w.customer,
    )
    .await
    .expect(200);
    let by_key: Vec<&str> = events["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["actor_id"] == shop_key.id.as_str())
        .map(|e| e["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(by_key, ["acknowledge", "propose", "message"], "{events}");
}

async fn a_key_cannot_manage_credentials_or_people(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let (_, shop_key) = new_key(&app, &t, &w.retailer_id, &w.staff).await;
    let rid = &w.retailer_id;
    let staff = format!("/api/v1/retailers/{rid}/staff");
    for (method, path, body) in [
        (Method::POST, keys_path(rid), Some(json!({"name": "More"}))),
        (Method::GET, keys_path(rid), None),
        (
            Method::POST,
            secrets_path(rid),
            Some(json!({"name": "Links"})),
        ),
        (Method::GET, secrets_path(rid), None),
        (
            Method::POST,
            staff.clone(),
            Some(json!({"email": "new@teapot.test", "display_name": "New"})),
        ),
        (Method::GET, staff.clone(), None),
        (Method::DELETE, format!("{staff}/{}", w.staff.id), None),
        (
            Method::PUT,
            "/api/v1/me/password".to_owned(),
            Some(json!({"password": "a long new passphrase"})),
        ),
        (
            Method::PATCH,
            "/api/v1/me".to_owned(),
            Some(json!({"display_name": "Root"})),
        ),
        (Method::POST, "/api/v1/auth/logout".to_owned(), None),
    ] {
        let answer = call(&app, method.clone(), &path, Some(&shop_key), body).await;
        assert_eq!(
            answer.status.as_u16(),
            403,
            "{method} {path} with an API key: {}",
            answer.body
        );
    }
    assert_eq!(t.store().api_keys_of(rid).unwrap().len(), 1);
    assert!(t.store().link_secrets_of(rid).unwrap().is_empty());
    assert!(t
        .store()
        .user_by_email("new@teapot.test")
        .unwrap()
        .is_none());
    assert!(t.store().user(&w.staff.id).unwrap().unwrap().is_active());
    let holder = t.store().user(&shop_key.id).unwrap().unwrap();
    assert_eq!(holder.display_name, "Shop backend (API key)");
    assert!(holder.password_hash.is_none());
    // The key still works: nothing above ended it.
    get(&app, "/api/v1/me", &shop_key).await.expect(200);
}

async fn a_revoked_key_stops_working_at_once(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let (created, shop_key) = new_key(&app, &t, &w.retailer_id, &w.staff).await;
    let (_, other_key) = new_key(&app, &t, &w.retailer_id, &w.staff).await;
    let c = id(&file(&app, &w).await);
    get(&app, &format!("/api/v1/complaints/{c}"), &shop_key)
        .await
        .expect(200);
    delete(
        &app,
        &format!("{}/{}", keys_path(&w.retailer_id), id(&created)),
        &w.staff,
    )
    .await
    .expect(204);
    let refused = get(&app, &format!("/api/v1/complaints/{c}"), &shop_key)
        .await
        .expect(401);
    assert_eq!(
        refused["detail"],
        "This API key is not valid (revoked or never issued)."
    );
    act(&app, &c, "acknowledge", &shop_key, json!({}))
        .await
        .expect(401);
    assert!(
        !t.store().user(&shop_key.id).unwrap().unwrap().is_active(),
        "revoking disables the backing user"
    );
    let listed = get(&app, &keys_path(&w.retailer_id), &w.staff)
        .await
        .expect(200);
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    assert_ne!(listed["items"][0]["id"], created["id"]);
    delete(
        &app,
        &format!("{}/{}", keys_path(&w.retailer_id), id(&created)),
        &w.staff,
    )
    .await
    .expect(404);
    // The other key is untouched; a key never issued is refused alike.
    get(&app, &format!("/api/v1/complaints/{c}"), &other_key)
        .await
        .expect(200);
    let never = Person {
        id: String::new(),
        token: format!("odr_sk_{}", "A".repeat(43)),
    };
    let refused = get(&app, "/api/v1/complaints", &never).await.expect(401);
    assert_eq!(refused["code"], "unauthenticated");
}

async fn a_keys_last_use_is_noted_at_most_once_a_minute(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let (_, shop_key) = new_key(&app, &t, &w.retailer_id, &w.staff).await;
    let last_used = || async {
        get(&app, &keys_path(&w.retailer_id), &w.staff)
            .await
            .expect(200)["items"][0]["last_used_at"]
            .clone()
    };
    assert_eq!(last_used().await, Value::Null, "not used yet");
    t.clock.advance(chrono::Duration::seconds(10));
    get(&app, "/api/v1/complaints", &shop_key).await.expect(200);
    let first = last_used().await;
    assert_eq!(
        first
            .as_str()
            .and_then(|s| s.parse::<chrono::DateTime<chrono::Utc>>().ok()),
        Some(odr_tests::t0() + chrono::Duration::seconds(10))
    );
    t.clock.advance(chrono::Duration::seconds(30));
    get(&app, "/api/v1/complaints", &shop_key).await.expect(200);
    assert_eq!(
        last_used().await,
        first,
        "not written again within a minute"
    );
    t.clock.advance(chrono::Duration::seconds(31));
    get(&app, "/api/v1/complaints", &shop_key).await.expect(200);
    let later = last_used().await;
    assert_eq!(
        later
            .as_str()
            .and_then(|s| s.parse::<chrono::DateTime<chrono::Utc>>().ok()),
        Some(odr_tests::t0() + chrono::Duration::seconds(71))
    );
}

async fn a_keys_backing_user_is_no_person(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let (_, shop_key) = new_key(&app, &t, &w.retailer_id, &w.staff).await;
    let holder = t.store().user(&shop_key.id).unwrap().unwrap();
    assert!(
        holder.email.ends_with("@api-keys.invalid"),
        "{}",
        holder.email
    );

    // A complaint filed for the shop mails the shop, never the key.
    let c = id(&file(&app, &w).await);
    act(&app, &c, "acknowledge", &w.staff, json!({}))
        .await
        .expect(200);
    let shop_mail = t.store().outbox_of(&c).unwrap();
    assert!(!shop_mail.is_empty(), "the filing queued mail");
    assert!(shop_mail.iter().all(|m| m.to_address != holder.email
        && m.recipient_user_id.as_deref() != Some(holder.id.as_str())));
    assert!(t.store().outbox_for_user(&holder.id).unwrap().is_empty());
    assert!(t
        .store()
        .outbox_to_address(&holder.email)
        .unwrap()
        .is_empty());

    // Not listed among the staff, not mailed as staff.
    let staff = get(
        &app,
        &format!("/api/v1/retailers/{}/staff", w.retailer_id),
        &w.staff,
    )
    .await
    .expect(200);
    let ids: Vec<&str> = staff["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [w.staff.id.as_str()]);
    assert!(t
        .store()
        .staff_of(&w.retailer_id)
        .unwrap()
        .iter()
        .all(|u| u.id != holder.id));
    // Not to be removed as staff either: the key is revoked instead.
    delete(
        &app,
        &format!("/api/v1/retailers/{}/staff/{}", w.retailer_id, holder.id),
        &w.staff,
    )
    .await
    .expect(404);

    // It cannot sign in: no magic link is issued for its address (the
    // answer is the same as for any address), no password works.
    call(
        &app,
        Method::POST,
        "/api/v1/auth/magic-link",
        None,
        Some(json!({"email": holder.email})),
    )
    .await
    .expect(202);
    assert!(t
        .store()
        .outbox_to_address(&holder.email)
        .unwrap()
        .is_empty());
    call(
        &app,
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"email": holder.email, "password": "correct horse battery"})),
    )
    .await
    .expect(401);
    // Even a session token minted for it is refused.
    let minted = t
        .state
        .tokens
        .issue(
            &holder.id,
            "retailer_staff",
            holder.session_epoch,
            odr_tests::t0(),
        )
        .unwrap()
        .access_token;
    let as_person = Person {
        id: holder.id.clone(),
        token: minted,
    };
    get(&app, "/api/v1/me", &as_person).await.expect(401);
}

async fn link_secrets_are_shown_once_kept_sealed_and_revocable(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let answer = call(
        &app,
        Method::POST,
        &secrets_path(&w.retailer_id),
        Some(&w.staff),
        Some(json!({"name": "Order links"})),
    )
    .await;
    let location = answer.header("location").map(str::to_owned);
    let created = answer.expect(201);
    let secret = created["secret"].as_str().expect("the secret, shown once");
    assert!(secret.starts_with("olsec_"), "{secret}");
    assert!(secret.len() >= "olsec_".len() + 40);
    let secret_id = id(&created);
    assert_eq!(
        location.as_deref(),
        Some(format!("{}/{secret_id}", secrets_path(&w.retailer_id)).as_str())
    );
    let listed = get(&app, &secrets_path(&w.retailer_id), &w.staff)
        .await
        .expect(200);
    assert_eq!(
        listed,
        json!({"items": [{
            "id": secret_id,
            "name": "Order links",
            "created_at": created["created_at"],
            "last_used_at": null,
        }]})
    );

    let kept = t.store().sealed_link_secret(&secret_id).unwrap().unwrap();
    assert!(kept.starts_with("v1:"), "sealed with the test key: {kept}");
    assert!(!kept.contains(&secret["olsec_".len()..]));
    assert_eq!(t.state.secrets.open(&kept).unwrap(), secret);

    let (_, shop_key) = new_key(&app, &t, &w.retailer_id, &w.staff).await;
    delete(
        &app,
        &format!("{}/{secret_id}", secrets_path(&w.retailer_id)),
        &shop_key,
    )
    .await
    .expect(403);
    delete(
        &app,
        &format!("{}/{secret_id}", secrets_path(&w.retailer_id)),
        &w.admin,
    )
    .await
    .expect(204);
    let listed = get(&app, &secrets_path(&w.retailer_id), &w.staff)
        .await
        .expect(200);
    assert_eq!(listed, json!({"items": []}));
    delete(
        &app,
        &format!("{}/{secret_id}", secrets_path(&w.retailer_id)),
        &w.staff,
    )
    .await
    .expect(404);
}

async fn an_idempotent_replay_shows_no_key_or_secret(db: Db) {
    let t = TestApp::new(db);
    let w = t.world();
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    for (path, member, idempotency_key) in [
        (keys_path(&w.retailer_id), "key", "create-key-once"),
        (secrets_path(&w.retailer_id), "secret", "create-secret-once"),
    ] {
        let headers = [("Idempotency-Key", idempotency_key)];
        let send = || {
            call_with_headers(
                &app,
                Method::POST,
                &path,
                Some(&w.staff),
                Some(json!({"name": "Retried"})),
                &headers,
            )
        };
        let first = send().await.expect(201);
        assert!(first[member].is_string(), "{first}");
        let replay = send().await.expect(201);
        assert_eq!(
            replay["id"], first["id"],
            "the same credential, not a new one"
        );
        assert_eq!(replay[member], Value::Null, "{replay}");
        assert_eq!(replay["name"], "Retried");
    }
    assert_eq!(t.store().api_keys_of(&w.retailer_id).unwrap().len(), 1);
    assert_eq!(t.store().link_secrets_of(&w.retailer_id).unwrap().len(), 1);
}
