//! The first admin, the demo data, and what processes sharing one database
//! agree on.

use odr_store::Backend;

use crate::server::{Server, Site};

on_databases! {
    both: [
        admin_bootstrap_is_idempotent_and_admins_can_log_in,
        processes_sharing_a_database_share_the_jwt_secret,
        seed_demo_prints_the_demo_logins_and_is_idempotent,
    ],
}

const ADMIN_EMAIL: &str = "root@odr.test";
const ADMIN_PASSWORD: &str = "a long admin passphrase";
const ADMIN_ENV: [(&str, &str); 2] = [
    ("ODR_ADMIN_EMAIL", ADMIN_EMAIL),
    ("ODR_ADMIN_PASSWORD", ADMIN_PASSWORD),
];

/// The demo logins `odr seed-demo` documents.
const DEMO_EMAILS: [&str; 4] = [
    "admin@demo.odr.test",
    "staff@demo-shop.test",
    "mediator@demo.odr.test",
    "customer@demo.odr.test",
];

/// Two `odr serve` processes on the site's database. On PostgreSQL they
/// start at once on the fresh database (migrations and admin bootstrap
/// race); SQLite promises no such thing, so there the second starts once
/// the first answers.
fn two_servers(site: &Site, backend: Backend, env: &[(&str, &str)]) -> (Server, Server) {
    match backend {
        Backend::Postgres => {
            let mut first = site.spawn(env);
            let mut second = site.spawn(env);
            first.wait_until_healthy();
            second.wait_until_healthy();
            (first, second)
        }
        Backend::Sqlite => {
            let first = site.serve(env);
            let second = site.serve(env);
            (first, second)
        }
    }
}

#[track_caller]
fn assert_admin(server: &Server, token: &str, email: &str) {
    let me = server.get("/api/v1/me", Some(token)).expect(200);
    assert_eq!(me["email"], email, "{me}");
    assert_eq!(me["role"], "admin", "{me}");
}

fn admin_bootstrap_is_idempotent_and_admins_can_log_in(backend: Backend) {
    let site = Site::new(backend);
    let mut env = ADMIN_ENV.to_vec();
    env.push(("ODR_LOG", "info"));
    let (first, second) = two_servers(&site, backend, &env);

    for server in [&first, &second] {
        let token = server.login(ADMIN_EMAIL, ADMIN_PASSWORD);
        assert_admin(server, &token, ADMIN_EMAIL);
    }
    let logs = format!("{}{}", first.logs(), second.logs());
    let created = logs
        .lines()
        .filter(|line| line.contains(ADMIN_EMAIL) && line.to_lowercase().contains("created"))
        .count();
    assert_eq!(
        created, 1,
        "of two processes starting with ODR_ADMIN_EMAIL exactly one creates the admin; the logs:\n{logs}"
    );

    // The CLI leaves an existing account alone, its password included.
    let again = site.run(
        &[
            "create-admin",
            "--email",
            ADMIN_EMAIL,
            "--password",
            "another long passphrase",
            "--display-name",
            "Someone Else",
        ],
        &[],
    );
    again.assert_success();
    assert!(
        again.stdout.to_lowercase().contains("nothing changed"),
        "`odr create-admin` for an existing admin must say that nothing changed; it said:\n{}{}",
        again.stdout,
        again.stderr
    );
    let token = second.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    let me = second.get("/api/v1/me", Some(&token)).expect(200);
    assert_ne!(me["display_name"], "Someone Else", "{me}");

    let short = site.run(
        &[
            "create-admin",
            "--email",
            "second@odr.test",
            "--password",
            "short",
            "--display-name",
            "Second Admin",
        ],
        &[],
    );
    short.assert_failure();
    assert!(
        short.stderr.to_lowercase().contains("password"),
        "a refused password must be named as the reason; `odr create-admin` said:\n{}{}",
        short.stdout,
        short.stderr
    );
    first
        .post(
            "/api/v1/auth/login",
            None,
            &serde_json::json!({ "email": "second@odr.test", "password": "short" }),
        )
        .expect(401);

    // A new admin from the CLI signs in on a server that is already running.
    site.run(
        &[
            "create-admin",
            "--email",
            "second@odr.test",
            "--password",
            "second admin passphrase",
            "--display-name",
            "Second Admin",
        ],
        &[],
    )
    .assert_success();
    let token = first.login("second@odr.test", "second admin passphrase");
    assert_admin(&first, &token, "second@odr.test");
}

fn processes_sharing_a_database_share_the_jwt_secret(backend: Backend) {
    let site = Site::new(backend);
    let (first, second) = two_servers(&site, backend, &ADMIN_ENV);

    let token = first.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    assert_admin(&second, &token, ADMIN_EMAIL);
    let token = second.login(ADMIN_EMAIL, ADMIN_PASSWORD);
    assert_admin(&first, &token, ADMIN_EMAIL);
}

/// The password printed on the line that names `email`.
fn printed_password<'a>(stdout: &'a str, email: &str) -> &'a str {
    stdout
        .lines()
        .find_map(|line| {
            let mut words = line.split_whitespace();
            words.by_ref().find(|w| *w == email)?;
            words.next()
        })
        .unwrap_or_else(|| panic!("`odr seed-demo` printed no password for {email}:\n{stdout}"))
}

fn seed_demo_prints_the_demo_logins_and_is_idempotent(backend: Backend) {
    let site = Site::new(backend);
    let first = site.run(&["seed-demo"], &[]);
    first.assert_success();
    let second = site.run(&["seed-demo"], &[]);
    second.assert_success();
    for run in [&first, &second] {
        for email in DEMO_EMAILS {
            assert!(
                run.stdout.contains(email),
                "`odr seed-demo` must list the demo login {email}; it printed:\n{}",
                run.stdout
            );
        }
    }

    let server = site.serve(&[]);
    for email in DEMO_EMAILS {
        let token = server.login(email, printed_password(&second.stdout, email));
        let me = server.get("/api/v1/me", Some(&token)).expect(200);
        assert_eq!(me["email"], email, "{me}");
    }
    let customer = server.login(
        "customer@demo.odr.test",
        printed_password(&second.stdout, "customer@demo.odr.test"),
    );
    let complaints = server
        .get("/api/v1/complaints", Some(&customer))
        .expect(200);
    let items = complaints["items"]
        .as_array()
        .unwrap_or_else(|| panic!("a complaint list has items: {complaints}"));
    assert_eq!(
        items.len(),
        1,
        "seeding twice must leave the demo customer exactly one demo complaint: {complaints}"
    );
}
