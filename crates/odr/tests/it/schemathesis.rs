//! The served OpenAPI document against the real server: `/docs` and its
//! assets load under a strict CSP, and schemathesis (PyPI, installed by
//! scripts/test-setup.sh) fuzzes every documented operation of `odr serve`
//! on a fresh SQLite database with the demo data and an admin's token,
//! failing on any 5xx and on any answer the document does not describe.

use std::process::Command;
use std::time::{Duration, Instant};

use odr_store::Backend;

use crate::server::Site;

/// The CSP of `/docs`: no inline script or style, nothing from elsewhere.
const DOCS_CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
                        img-src 'self' data:; frame-ancestors 'none'";

/// Bounds of the run: small enough for ~3 minutes on 2 cores, fixed seed so a
/// failure reproduces.
const MAX_EXAMPLES: &str = "10";
const SEED: &str = "20261201";
const BUDGET: Duration = Duration::from_secs(420);

on_databases!(
    both: [],
    sqlite: [
        docs_page_loads_its_script_and_styles_under_a_strict_csp,
        schemathesis_finds_no_server_error_and_no_answer_the_document_does_not_describe,
    ],
);

fn docs_page_loads_its_script_and_styles_under_a_strict_csp() {
    let site = Site::new(Backend::Sqlite);
    let server = site.serve(&[]);

    let page = server.get("/docs", None);
    assert_eq!(page.status, 200, "GET /docs: {}", page.text());
    assert!(
        page.header("content-type")
            .is_some_and(|v| v.starts_with("text/html")),
        "/docs is HTML, got {:?}",
        page.header("content-type")
    );
    assert_eq!(
        page.header("content-security-policy"),
        Some(DOCS_CSP),
        "/docs must forbid inline script and style and anything from another origin"
    );
    let html = page.text();
    assert!(
        !html.contains("<style") && !html.contains(" style=") && !html.contains("<script>"),
        "the page has inline script or style, which its CSP blocks"
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "the page loads nothing from another origin (no CDN)"
    );
    for (asset, kind) in [
        ("/docs/docs.js", "text/javascript"),
        ("/docs/docs.css", "text/css"),
    ] {
        assert!(html.contains(asset), "/docs does not load {asset}");
        let res = server.get(asset, None);
        assert_eq!(res.status, 200, "GET {asset}");
        assert!(
            res.header("content-type")
                .is_some_and(|v| v.starts_with(kind)),
            "{asset} must be served as {kind}, got {:?}",
            res.header("content-type")
        );
        assert!(!res.text().is_empty(), "{asset} is empty");
    }
    let js = server.get("/docs/docs.js", None).text();
    assert!(
        js.contains("/openapi.json") && js.contains("sessionStorage"),
        "the script renders /openapi.json and keeps the token in sessionStorage"
    );

    let doc = server.get("/openapi.json", None).expect(200);
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1.")),
        "GET /openapi.json serves an OpenAPI 3.1 document: {}",
        doc["openapi"]
    );
}

/// `st --version`, or a panic saying how to install it: never a skip.
fn schemathesis_version() -> String {
    let out = Command::new("st")
        .arg("--version")
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "schemathesis is not installed ({e}); run scripts/test-setup.sh \
             (pip install 'schemathesis>=4,<5')"
            )
        });
    assert!(
        out.status.success(),
        "`st --version` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// Operations that end the session of the token the fuzzer uses: run in a
/// second pass of their own, after everything else, so that they are fuzzed
/// too without turning the rest of the run into 401s.
const SESSION_ENDING: &[&str] = &["/api/v1/auth/logout", "/api/v1/me/password"];

/// `--exclude-path`/`--include-path` once per session-ending route.
fn session_ending(flag: &str) -> Vec<String> {
    SESSION_ENDING
        .iter()
        .flat_map(|p| [flag.to_owned(), (*p).to_owned()])
        .collect()
}

/// "N generated" from schemathesis' summary.
fn generated(stdout: &str) -> u64 {
    stdout
        .lines()
        .filter_map(|l| l.trim().split_once(" generated,"))
        .find_map(|(n, _)| n.trim().parse().ok())
        .unwrap_or(0)
}

/// A schemathesis config that points `{id}` at the demo complaint and the
/// demo retailer, so that the fuzzer reaches the handlers' logic instead of
/// answering 404 to random ids (random ids are still tried by the
/// operations without such a binding).
fn demo_ids_config(complaint_id: &str, retailer_id: &str) -> String {
    format!(
        "[[operations]]\n\
         include-path-regex = \"^/api/v1/complaints/\\\\{{id\\\\}}\"\n\
         parameters = {{ \"path.id\" = \"{complaint_id}\" }}\n\n\
         [[operations]]\n\
         include-path-regex = \"^/api/v1/retailers/\\\\{{id\\\\}}\"\n\
         parameters = {{ \"path.id\" = \"{retailer_id}\" }}\n"
    )
}

fn schemathesis_finds_no_server_error_and_no_answer_the_document_does_not_describe() {
    let version = schemathesis_version();
    let site = Site::new(Backend::Sqlite);
    site.run(&["seed-demo"], &[]).assert_success();
    // Generous login limits: the fuzzer signs in and registers far more often
    // than a person; 429 is documented, but every request it wastes on one
    // is a request that checks nothing else.
    let server = site.serve(&[("ODR_RATE_LIMIT_LOGIN", "1000/min")]);
    let admin = server.login("admin@demo.odr.test", "demo-admin-pass");
    let staff = server.login("staff@demo-shop.test", "demo-staff-pass");
    let customer = server.login("customer@demo.odr.test", "demo-customer-pass");
    let complaints = server.get("/api/v1/complaints", Some(&admin)).expect(200);
    let demo = &complaints["items"][0];
    let (Some(complaint_id), Some(retailer_id)) =
        (demo["id"].as_str(), demo["retailer_id"].as_str())
    else {
        panic!("`odr seed-demo` made no complaint to fuzz against: {complaints}");
    };
    let config = site.root().join("schemathesis.toml");
    std::fs::write(&config, demo_ids_config(complaint_id, retailer_id))
        .expect("cannot write the schemathesis config");
    let schema = format!("{}/openapi.json", server.base_url());

    let started = Instant::now();
    let mut total = 0;
    // One pass per role, so that each route is reached by someone allowed to
    // use it; the session-ending route last, in a pass of its own.
    for (pass, token, filter) in [
        ("admin", &admin, session_ending("--exclude-path")),
        ("retailer staff", &staff, session_ending("--exclude-path")),
        ("customer", &customer, session_ending("--exclude-path")),
        ("logout", &customer, session_ending("--include-path")),
    ] {
        let out = Command::new("st")
            .current_dir(site.root())
            .env("NO_COLOR", "1")
            .env("PYTHONUNBUFFERED", "1")
            .arg("--config-file")
            .arg(&config)
            .args(["run", &schema])
            .args(["--header", &format!("Authorization: Bearer {token}")])
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,\
                 response_schema_conformance,response_headers_conformance",
            ])
            .args(["--max-examples", MAX_EXAMPLES, "--seed", SEED])
            .args(["--phases", "examples,coverage,fuzzing"])
            // One worker: with two threads, hypothesis parses lambda sources
            // concurrently and CPython 3.11's `ast` can fail with "AST
            // constructor recursion depth mismatch" (seen once in a clean
            // run), an error of the tool, not of the engine.
            .args(["--workers", "1", "--request-timeout", "10", "--no-color"])
            .args(&filter)
            .output()
            .expect("cannot run schemathesis (st)");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let cases = generated(&stdout);
        total += cases;
        // Shown with --nocapture: how many requests, what it found.
        println!("schemathesis pass `{pass}`: {cases} test cases\n{stdout}\n{stderr}");
        assert!(
            out.status.success(),
            "schemathesis ({version}, pass `{pass}`) found answers that are server errors or \
             that /openapi.json does not describe:\n{stdout}\n{stderr}\n--- server log ---\n{}",
            server.logs()
        );
        assert!(
            cases > 0,
            "schemathesis pass `{pass}` generated no test case:\n{stdout}"
        );
    }
    let elapsed = started.elapsed();
    println!("schemathesis: {total} test cases in {elapsed:?}");
    assert!(
        elapsed < BUDGET,
        "schemathesis took {elapsed:?}, over the budget of {BUDGET:?}"
    );
}
