//! Starting the server: migrations, health and readiness, what it says at
//! start, and `--no-migrate`.

use odr_store::Backend;
use serde_json::json;

use crate::server::Site;

on_databases! {
    both: [
        serve_migrates_and_answers_health_and_readiness,
        no_migrate_refuses_a_database_with_pending_migrations,
    ],
    postgres: [readiness_is_503_when_the_database_does_not_answer],
}

fn serve_migrates_and_answers_health_and_readiness(backend: Backend) {
    let site = Site::new(backend);
    let server = site.serve(&[("ODR_LOG", "info")]);

    let health = server.get("/healthz", None);
    assert_eq!(health.expect(200), json!({ "status": "ok" }));
    let ready = server.get("/readyz", None);
    ready.expect(200);

    let logs = server.logs();
    assert!(
        logs.lines().any(|line| {
            let line = line.to_lowercase();
            line.contains("warn")
                && line.contains("odr_smtp_url")
                && (line.contains("file") || line.contains(".eml"))
        }),
        "without ODR_SMTP_URL the server must warn at start that mail goes to files; it logged:\n{logs}"
    );
    if backend == Backend::Sqlite {
        // The site runs with the relative `sqlite://data/odr.db`.
        let absolute = site.root().join("data").join("odr.db");
        assert!(
            logs.contains(&absolute.display().to_string()),
            "a relative SQLite path must be logged as the absolute {}; the log:\n{logs}",
            absolute.display()
        );
        assert!(
            absolute.is_file(),
            "the SQLite database was not created at {}",
            absolute.display()
        );
    }
}

fn no_migrate_refuses_a_database_with_pending_migrations(backend: Backend) {
    let site = Site::new(backend);

    let refused = site.run(&["serve", "--no-migrate"], &[("ODR_LISTEN", "127.0.0.1:0")]);
    refused.assert_failure();
    let said = format!("{}{}", refused.stdout, refused.stderr);
    for migration in migration_names(backend) {
        assert!(
            said.contains(&migration),
            "`odr serve --no-migrate` on a fresh database must name the pending migration \
             {migration}; it said:\n{said}"
        );
    }

    site.run(&["migrate"], &[]).assert_success();
    let mut server = site.spawn_with(&["serve", "--no-migrate"], &[]);
    server.wait_until_healthy();
    server.get("/readyz", None).expect(200);
}

/// The migrations the binary embeds, by their folder names.
fn migration_names(backend: Backend) -> Vec<String> {
    let folder = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let dir = format!("{}/../../migrations/{folder}", env!("CARGO_MANIFEST_DIR"));
    let names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {dir}: {e}"))
        .map(|entry| entry.expect("a readable migrations entry").file_name())
        .map(|name| name.to_string_lossy().into_owned())
        .collect();
    assert!(!names.is_empty(), "no migrations in {dir}");
    names
}

fn readiness_is_503_when_the_database_does_not_answer() {
    let site = Site::new(Backend::Postgres);
    let server = site.serve(&[]);
    server.get("/readyz", None).expect(200);

    site.drop_postgres_database();

    let ready = server.get("/readyz", None);
    let problem = ready.expect(503);
    assert_eq!(
        ready.header("content-type"),
        Some("application/problem+json"),
        "a 503 from /readyz must be a problem document: {problem}"
    );
    assert_eq!(problem["code"], "unavailable", "{problem}");
    assert_eq!(problem["status"], 503, "{problem}");
    // Liveness does not depend on the database: the process is fine.
    assert_eq!(
        server.get("/healthz", None).expect(200),
        json!({ "status": "ok" })
    );
}
