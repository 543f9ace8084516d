//! The examples of docs/integration.md, run as written: the webhook
//! verification snippets (Python, Node, PHP) judge real deliveries the
//! worker made, and the order-link signing snippets (PyJWT, jsonwebtoken)
//! sign links that the API and the report page redeem. Each snippet is
//! found by the `<!-- example: NAME -->` marker before its code block, so
//! the document cannot drift from what works.
//!
//! The tools come from scripts/test-setup.sh (python3 with PyJWT, node
//! with jsonwebtoken in tests/browser/node_modules, php-cli); a missing one
//! fails the test and says so.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::test::init_service;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use odr_http::Clock;
use odr_tests::{on_both_databases, Db, TestApp};
use odr_webhooks::address::AddressPolicy;
use odr_webhooks::{DeliveryWorker, WorkerSettings};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::browsing::*;
use crate::steps::*;

on_both_databases!(
    the_python_verification_example_accepts_a_real_delivery_and_refuses_forgeries,
    the_node_verification_example_accepts_a_real_delivery_and_refuses_forgeries,
    the_php_verification_example_accepts_a_real_delivery_and_refuses_forgeries,
    the_pyjwt_signing_example_makes_a_link_that_signs_the_customer_in,
    the_jsonwebtoken_signing_example_makes_a_link_that_signs_the_customer_in
);

const SETUP: &str = "run scripts/test-setup.sh to install the tools the doc examples need";

// --- The document -------------------------------------------------------------

fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the workspace root")
        .to_owned()
}

/// The code block right after `<!-- example: NAME -->` in docs/integration.md.
fn example(name: &str) -> String {
    let path = repository().join("docs/integration.md");
    let doc = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let marker = format!("<!-- example: {name} -->");
    let mut lines = doc
        .lines()
        .skip_while(|l| l.trim() != marker)
        .skip(1)
        .skip_while(|l| l.trim().is_empty());
    let fence = lines
        .next()
        .unwrap_or_else(|| panic!("docs/integration.md has no {marker}"));
    assert!(
        fence.starts_with("```"),
        "{marker} is not followed by a code block but by {fence:?}"
    );
    let mut code = String::new();
    for line in lines.by_ref() {
        if line.trim_start().starts_with("```") {
            return code;
        }
        code.push_str(line);
        code.push('\n');
    }
    panic!("the code block after {marker} is not closed");
}

// --- Running a snippet ----------------------------------------------------------

/// Runs `program args` in `dir` with `env`; its standard output when it
/// succeeds, a failed test (naming the setup script) otherwise.
fn run(program: &str, args: &[&str], dir: &Path, env: &[(&str, &str)]) -> String {
    let mut command = Command::new(program);
    command.args(args).current_dir(dir);
    command.env("NODE_PATH", repository().join("tests/browser/node_modules"));
    for (name, value) in env {
        command.env(name, value);
    }
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} ({e}): {SETUP}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{program} {args:?} failed ({}): {stderr}\n(a missing module? {SETUP})",
        out.status
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

// --- Real deliveries ------------------------------------------------------------

/// One request the engine's worker sent: its signature header and raw body.
#[derive(Debug, Clone)]
struct Delivery {
    signature: String,
    body: Vec<u8>,
}

/// A shop's endpoint on loopback that answers 204 and keeps what it got.
struct Endpoint {
    port: u16,
    received: Arc<Mutex<Vec<Delivery>>>,
}

impl Endpoint {
    fn start() -> Endpoint {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let r = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if let Some(delivery) = receive(&stream) {
                    r.lock().unwrap().push(delivery);
                }
                let mut stream = stream;
                let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
            }
        });
        Endpoint { port, received }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/odr/webhook", self.port)
    }

    fn received(&self) -> Vec<Delivery> {
        self.received.lock().unwrap().clone()
    }
}

fn receive(stream: &TcpStream) -> Option<Delivery> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let (mut signature, mut length) = (None, 0);
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((n, v)) = h.trim_end().split_once(':') {
            if n.eq_ignore_ascii_case("odr-signature") {
                signature = Some(v.trim().to_owned());
            } else if n.eq_ignore_ascii_case("content-length") {
                length = v.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Delivery {
        signature: signature?,
        body,
    })
}

/// `t` of an `ODR-Signature` header.
fn signed_at(signature: &str) -> i64 {
    signature
        .strip_prefix("t=")
        .and_then(|s| s.split(',').next())
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("malformed signature {signature}"))
}

/// Whether the signature is the HMAC of `"<t>.<body>"` under `secret`,
/// whatever its age.
fn signature_matches(secret: &str, d: &Delivery) -> bool {
    let (t, v1) = d
        .signature
        .split_once(',')
        .and_then(|(t, v)| Some((t.strip_prefix("t=")?, v.strip_prefix("v1=")?)))
        .unwrap_or_else(|| panic!("malformed signature {}", d.signature));
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.").as_bytes());
    mac.update(&d.body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    hex == v1
}

/// A test app on the real time (the snippets read the machine's clock),
/// with loopback endpoints allowed.
fn app_now(db: Db) -> TestApp {
    let mut t = TestApp::new(db);
    let mut http = (*t.state.http).clone();
    http.webhook_allow_private = true;
    t.state.http = Arc::new(http);
    t.clock.set(now_to_the_second());
    t
}

fn now_to_the_second() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).expect("now")
}

async fn deliver(t: &TestApp) {
    let worker = DeliveryWorker::new(
        t.store().clone(),
        t.state.secrets.clone(),
        WorkerSettings {
            addresses: AddressPolicy {
                allow_private: true,
            },
            timeout: Duration::from_secs(5),
            ..WorkerSettings::default()
        },
    );
    let report = worker.run_batch(t.clock.now()).await.unwrap();
    assert_eq!(report.delivered, 1, "{report:?}");
}

/// The cases a shop's check must judge, with the verdict it must give.
struct Cases {
    secret: String,
    fresh: Delivery,
    old: Delivery,
}

impl Cases {
    fn all(&self) -> Vec<(&'static str, String, Delivery, bool)> {
        let mut tampered = self.fresh.clone();
        let at = tampered
            .body
            .windows(6)
            .position(|w| w == b"\"type\"")
            .expect("the body has a type");
        tampered.body[at + 1] = b'T';
        vec![
            (
                "the delivery as sent",
                self.secret.clone(),
                self.fresh.clone(),
                true,
            ),
            ("a tampered body", self.secret.clone(), tampered, false),
            (
                "another secret",
                "whsec_not-the-endpoints-secret".to_owned(),
                self.fresh.clone(),
                false,
            ),
            (
                "a delivery signed ten minutes ago",
                self.secret.clone(),
                self.old.clone(),
                false,
            ),
            (
                "a malformed signature header",
                self.secret.clone(),
                Delivery {
                    signature: "garbage".to_owned(),
                    body: self.fresh.body.clone(),
                },
                false,
            ),
            (
                "no signature header",
                self.secret.clone(),
                Delivery {
                    signature: String::new(),
                    body: self.fresh.body.clone(),
                },
                false,
            ),
        ]
    }

    /// The cases as JSON for a harness: `[{secret, header, body (base64)}]`.
    fn json(&self) -> String {
        let cases: Vec<Value> = self
            .all()
            .into_iter()
            .map(|(_, secret, d, _)| {
                json!({
                    "secret": secret,
                    "header": d.signature,
                    "body": base64::engine::general_purpose::STANDARD.encode(&d.body),
                })
            })
            .collect();
        Value::Array(cases).to_string()
    }

    /// Compares a harness's verdicts (a JSON array of booleans) with ours.
    #[track_caller]
    fn check(&self, example: &str, verdicts: &[bool]) {
        let all = self.all();
        assert_eq!(verdicts.len(), all.len(), "{example}: {verdicts:?}");
        for ((name, _, _, expected), got) in all.iter().zip(verdicts) {
            assert_eq!(
                got,
                expected,
                "the {example} example judges {name} {}",
                if *got { "valid" } else { "invalid" }
            );
        }
    }
}

/// Two real deliveries to a shop's endpoint: one signed now and one signed
/// ten minutes ago (the worker ran then), both with a good signature.
async fn real_deliveries(t: &TestApp) -> Cases {
    let now = t.clock.now();
    t.clock.set(now - chrono::Duration::minutes(10));
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let w = t.world();
    let endpoint = Endpoint::start();
    let hook = post(
        &app,
        &format!("/api/v1/retailers/{}/webhooks", w.retailer_id),
        &w.staff,
        json!({"url": endpoint.url(), "events": ["complaint.filed", "complaint.acknowledged"]}),
    )
    .await
    .expect(201);
    let secret = hook["secret"].as_str().unwrap().to_owned();
    let complaint = id(&file(&app, &w).await);
    deliver(t).await;
    t.clock.set(now_to_the_second().max(now));
    act(&app, &complaint, "acknowledge", &w.staff, json!({}))
        .await
        .expect(200);
    deliver(t).await;

    let got = endpoint.received();
    assert_eq!(got.len(), 2, "{got:?}");
    let (old, fresh) = (got[0].clone(), got[1].clone());
    assert!(signature_matches(&secret, &old) && signature_matches(&secret, &fresh));
    assert_eq!(signed_at(&old.signature), now.timestamp() - 600);
    assert!((signed_at(&fresh.signature) - Utc::now().timestamp()).abs() < 60);
    Cases { secret, fresh, old }
}

// --- Webhook verification ------------------------------------------------------

async fn the_python_verification_example_accepts_a_real_delivery_and_refuses_forgeries(db: Db) {
    let t = app_now(db);
    let cases = real_deliveries(&t).await;
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "{}\n# The test's harness: judge each case.\nimport base64, json, sys\n\
         cases = json.load(open(sys.argv[1]))\n\
         print(json.dumps([verify(c[\"secret\"], base64.b64decode(c[\"body\"]), c[\"header\"]) for c in cases]))\n",
        example("verify-python")
    );
    write(dir.path(), "verify.py", &script);
    write(dir.path(), "cases.json", &cases.json());
    let out = run("python3", &["verify.py", "cases.json"], dir.path(), &[]);
    let verdicts: Vec<bool> = serde_json::from_str(out.trim()).unwrap();
    cases.check("Python", &verdicts);
}

async fn the_node_verification_example_accepts_a_real_delivery_and_refuses_forgeries(db: Db) {
    let t = app_now(db);
    let cases = real_deliveries(&t).await;
    let dir = tempfile::tempdir().unwrap();
    let script = format!(
        "{}\n// The test's harness: judge each case.\n\
         const cases = JSON.parse(require(\"fs\").readFileSync(process.argv[2], \"utf8\"));\n\
         console.log(JSON.stringify(cases.map((c) => verify(c.secret, Buffer.from(c.body, \"base64\"), c.header))));\n",
        example("verify-node")
    );
    write(dir.path(), "verify.cjs", &script);
    write(dir.path(), "cases.json", &cases.json());
    let out = run("node", &["verify.cjs", "cases.json"], dir.path(), &[]);
    let verdicts: Vec<bool> = serde_json::from_str(out.trim()).unwrap();
    cases.check("Node", &verdicts);
}

/// The PHP example is a whole endpoint: it runs as written under PHP's
/// built-in web server, with the secret in `ODR_WEBHOOK_SECRET`, and each
/// case is sent to it as the worker sent it; 204 is accepted, 400 refused.
async fn the_php_verification_example_accepts_a_real_delivery_and_refuses_forgeries(db: Db) {
    let t = app_now(db);
    let cases = real_deliveries(&t).await;
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "webhook.php", &example("verify-php"));
    let mut verdicts = Vec::new();
    for (_, secret, delivery, _) in cases.all() {
        let server = PhpServer::start(dir.path(), &secret);
        let status = server.post(&delivery);
        assert!(
            status == 204 || status == 400,
            "the PHP example answered {status}"
        );
        verdicts.push(status == 204);
    }
    cases.check("PHP", &verdicts);
}

/// `php -S` serving the example, stopped when dropped.
struct PhpServer {
    child: Child,
    port: u16,
}

impl PhpServer {
    fn start(dir: &Path, secret: &str) -> PhpServer {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new("php")
            .args(["-S", &format!("127.0.0.1:{port}"), "webhook.php"])
            .current_dir(dir)
            .env("ODR_WEBHOOK_SECRET", secret)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run php ({e}): {SETUP}"));
        let mut server = PhpServer { child, port };
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = server.child.try_wait() {
                panic!("php -S stopped at once ({status})");
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "php -S does not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    /// Sends `delivery` as the engine does; the status of the answer.
    fn post(&self, delivery: &Delivery) -> u16 {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let signature = if delivery.signature.is_empty() {
            String::new()
        } else {
            format!("ODR-Signature: {}\r\n", delivery.signature)
        };
        let head = format!(
            "POST /odr/webhook HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Type: application/json\r\n\
             {signature}Content-Length: {}\r\nConnection: close\r\n\r\n",
            self.port,
            delivery.body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&delivery.body).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("the PHP example's server answered {answer:?}"))
    }
}

impl Drop for PhpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// --- Order links ----------------------------------------------------------------

/// Runs a signing example with the variables it expects set to a real
/// link secret, and redeems the link it prints on the API and the page.
async fn sign_and_redeem(db: Db, program: &str, file: &str, script: impl Fn(&str) -> String) {
    let t = app_now(db);
    let app = init_service(odr_http::build_app(t.state.clone())).await;
    let w = t.world();
    let created = post(
        &app,
        &format!("/api/v1/retailers/{}/link-secrets", w.retailer_id),
        &w.staff,
        json!({"name": "web shop"}),
    )
    .await
    .expect(201);
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        file,
        &script(&example(&format!("sign-{program}"))),
    );
    let program = if program == "python" {
        "python3"
    } else {
        program
    };
    let out = run(
        program,
        &[file],
        dir.path(),
        &[
            ("RETAILER_ID", &w.retailer_id),
            ("LINK_SECRET", created["secret"].as_str().unwrap()),
            ("LINK_SECRET_ID", created["id"].as_str().unwrap()),
            ("ODR_PUBLIC_URL", &t.state.public_url),
        ],
    );
    let link = out.trim();
    let path = link
        .strip_prefix(&*t.state.public_url)
        .unwrap_or_else(|| panic!("the example printed {link:?}"));
    let token = path
        .strip_prefix("/report?token=")
        .unwrap_or_else(|| panic!("the example's link is {link}"));

    let login = odr_tests::call(
        &app,
        actix_web::http::Method::POST,
        "/api/v1/auth/order-link/redeem",
        None,
        Some(json!({"token": token})),
    )
    .await
    .expect(200);
    assert!(login["access_token"]
        .as_str()
        .is_some_and(|s| !s.is_empty()));
    assert_eq!(login["order"]["retailer_id"], w.retailer_id.as_str());
    assert_eq!(login["order"]["order_reference"], "SO-10023");
    assert_eq!(login["order"]["customer_email"], "ana@example.com");
    assert_eq!(login["order"]["locale"], "de");
    assert_eq!(
        login["order"]["items"],
        json!([{"sku": "KT-200", "name": "Kettle", "quantity": 1}])
    );

    let landed = page(&app, path, "").await;
    assert_eq!(see_other(&landed), "/report/order", "{}", html(&landed));
    assert!(set_cookie(&landed, "odr_session").is_some());
}

async fn the_pyjwt_signing_example_makes_a_link_that_signs_the_customer_in(db: Db) {
    sign_and_redeem(db, "python", "sign.py", |example| {
        format!(
            "import os\nRETAILER_ID = os.environ[\"RETAILER_ID\"]\n\
             LINK_SECRET = os.environ[\"LINK_SECRET\"]\n\
             LINK_SECRET_ID = os.environ[\"LINK_SECRET_ID\"]\n\
             ODR_PUBLIC_URL = os.environ[\"ODR_PUBLIC_URL\"]\n\n{example}\nprint(link)\n"
        )
    })
    .await;
}

async fn the_jsonwebtoken_signing_example_makes_a_link_that_signs_the_customer_in(db: Db) {
    sign_and_redeem(db, "node", "sign.cjs", |example| {
        format!(
            "const {{ RETAILER_ID, LINK_SECRET, LINK_SECRET_ID, ODR_PUBLIC_URL }} = process.env;\n\n\
             {example}\nconsole.log(link);\n"
        )
    })
    .await;
}
