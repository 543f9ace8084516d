//! Faults under load. Run one at a time (the nextest group
//! `serial-postgres-restart` takes every test named `fault::`).
//!
//! - `kill -9` of one of two servers while clients keep sending
//!   transitions; it is started again on the same address. Every transition
//!   answered with success is in the log and its mails arrive; none that
//!   answered an error (or whose connection was refused) is. A request whose
//!   connection broke without an answer may have been applied or not: the
//!   log holds it at most once.
//! - PostgreSQL (a throwaway cluster of the test's own) stopped and started
//!   again under load: meanwhile `/readyz` and the API answer 503 problem
//!   documents (no hang, no 500); afterwards the server serves again by
//!   itself, its worker sends what was queued and its scheduler acts on
//!   deadlines, and nothing answered with success is lost.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use odr_store::Backend;
use odr_tests::smtp::SmtpSink;
use serde_json::json;

use crate::client::{self, Response};
use crate::load::{self, Answer, Attempt, Driver};
use crate::server::{self, Site};

const CLIENTS: usize = 6;

/// Waits until `progress` reaches `target`.
#[track_caller]
fn wait_for_progress(progress: &AtomicUsize, target: usize, what: &str) {
    let started = Instant::now();
    while progress.load(Ordering::Relaxed) < target {
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "{what}: only {} of {target} successful requests after 90 s",
            progress.load(Ordering::Relaxed)
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn mail_settings(sink: &SmtpSink) -> Vec<(&'static str, String)> {
    vec![
        ("ODR_SMTP_URL", sink.url()),
        ("ODR_POOL_SIZE", "5".into()),
        ("ODR_RATE_LIMIT_LOGIN", "100000/min".into()),
        // Mail a killed worker had claimed goes out again soon.
        ("ODR_MAIL_LEASE", "5s".into()),
        ("ODR_MAIL_POLL_INTERVAL", "1s".into()),
    ]
}

fn pairs<'a>(settings: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    settings.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

fn summary(attempts: &[Attempt]) -> String {
    let ok = attempts.iter().filter(|a| a.answer.ok()).count();
    let of = |want: Answer| attempts.iter().filter(|a| a.answer == want).count();
    let errors = attempts
        .iter()
        .filter(|a| matches!(a.answer, Answer::Status(s) if s >= 400))
        .count();
    format!(
        "{} requests: {ok} succeeded, {errors} answered an error, {} refused, {} unanswered",
        attempts.len(),
        of(Answer::Refused),
        of(Answer::Dropped)
    )
}

#[test]
fn postgres_kill_9_of_a_server_under_load_loses_no_answered_transition() {
    let sink = SmtpSink::start();
    let site = Site::new(Backend::Postgres);
    site.run(&["seed-demo"], &[]).assert_success();
    let settings = mail_settings(&sink);
    let env = pairs(&settings);
    let mut victim = site.spawn_with(&["serve"], &env);
    victim.wait_until_healthy();
    let survivor = site.serve(&env);
    let addrs = [victim.addr, survivor.addr];
    let url = &site.database_url;
    let before = load::complaint_ids(url);
    let shop = load::demo_shop(addrs[1]);
    let progress = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);

    let drivers: Vec<Driver> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS)
            .map(|c| {
                let (shop, progress, stop) = (&shop, &progress, &stop);
                s.spawn(move || {
                    let mut driver = Driver::new(&addrs, c, &format!("kill{c}"), shop, progress);
                    driver.until(stop);
                    driver
                })
            })
            .collect();
        let body = || {
            wait_for_progress(&progress, 60, "before the kill");
            victim.kill();
            // The clients go on through the survivor (and are refused by
            // the dead one) for a while.
            let now = progress.load(Ordering::Relaxed);
            wait_for_progress(&progress, now + 30, "while one server is dead");
            let mut restarted = site.spawn_at(addrs[0], &["serve", "--no-migrate"], &env);
            restarted.wait_until_healthy();
            let now = progress.load(Ordering::Relaxed);
            wait_for_progress(&progress, now + 60, "after the restart");
            restarted
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
        stop.store(true, Ordering::Relaxed);
        let drivers = handles
            .into_iter()
            .map(|h| h.join().expect("a client thread panicked"))
            .collect();
        victim = result.unwrap_or_else(|p| std::panic::resume_unwind(p));
        drivers
    });

    let attempts: Vec<Attempt> = drivers.iter().flat_map(|d| d.attempts.clone()).collect();
    let refused_or_dropped = attempts
        .iter()
        .filter(|a| matches!(a.answer, Answer::Refused | Answer::Dropped))
        .count();
    assert!(
        refused_or_dropped > 0,
        "the kill did not touch the load: {}",
        summary(&attempts)
    );
    for a in attempts.iter().filter(|a| a.answer.failed()) {
        // Only refusals of the domain, or connections the dead server refused.
        let fine = match a.answer {
            Answer::Status(409) => true,
            Answer::Refused => a.server == addrs[0],
            _ => false,
        };
        assert!(fine, "unexpected failure: {a:?}");
    }
    let rows = load::wait_for_mail(url, &sink, Duration::from_secs(60));
    let all = load::complaints(url);
    load::check_logs(&all);
    load::check_attempts(&all, &before, &attempts);
    load::check_every_event_mailed(&all, &rows);
    let seen = load::deliveries(&rows, &sink);
    let resent = seen.values().filter(|n| **n > 1).count();
    assert!(
        victim.is_running(),
        "the restarted server died:\n{}",
        victim.logs()
    );
    eprintln!(
        "fault::kill: {}; {} mails, {resent} sent twice (at least once after a kill)",
        summary(&attempts),
        rows.len()
    );
}

// --- PostgreSQL restarted ----------------------------------------------------------

/// A PostgreSQL cluster of the test's own: initdb into a temporary
/// directory, 127.0.0.1 on a free port, stopped and removed when dropped.
/// As root (PostgreSQL refuses to run as root) it runs as user `postgres`,
/// or `odrtest`, created if need be, like `scripts/ensure-postgres.sh`.
struct Cluster {
    bin: PathBuf,
    owner: Option<String>,
    data: PathBuf,
    log: PathBuf,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Cluster {
        let bin = pg_bin_dir();
        let owner = cluster_owner();
        let dir = tempfile::Builder::new()
            .prefix("odr-fault-pg-")
            .tempdir_in("/tmp")
            .expect("cannot create a directory for the cluster");
        if let Some(owner) = &owner {
            run(
                Command::new("chown").arg(owner).arg(dir.path()),
                "chown of the cluster directory",
            );
        }
        let data = dir.path().join("data");
        let log = dir.path().join("postgres.log");
        let port = server::free_address().port();
        let cluster = Cluster {
            bin,
            owner,
            data,
            log,
            port,
            _dir: dir,
        };
        let mut initdb = cluster.command("initdb");
        initdb.arg("-D").arg(&cluster.data).args([
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
        ]);
        run(&mut initdb, "initdb");
        let conf = format!(
            "\n# Throwaway cluster of a fault test.\nlisten_addresses = '127.0.0.1'\nport = {port}\n\
             unix_socket_directories = ''\nfsync = off\nfull_page_writes = off\nmax_connections = 50\n"
        );
        let path = cluster.data.join("postgresql.conf");
        let mut text = std::fs::read_to_string(&path).expect("postgresql.conf");
        text.push_str(&conf);
        std::fs::write(&path, text).expect("cannot write postgresql.conf");
        cluster.start_again();
        let out = Command::new("psql")
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                &cluster.url("postgres"),
                "-c",
            ])
            .arg("CREATE DATABASE odr")
            .output()
            .expect("cannot run psql");
        assert!(
            out.status.success(),
            "CREATE DATABASE failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        cluster
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    fn command(&self, tool: &str) -> Command {
        let path = self.bin.join(tool);
        match &self.owner {
            Some(owner) => {
                let mut command = Command::new("runuser");
                command.args(["-u", owner, "--"]).arg(path);
                command
            }
            None => Command::new(path),
        }
    }

    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut command = self.command("pg_ctl");
        command
            .arg("-D")
            .arg(&self.data)
            .arg("-l")
            .arg(&self.log)
            .args(["-w", "-t", "60"])
            .args(args);
        command
    }

    fn start_again(&self) {
        run(&mut self.pg_ctl(&["start"]), &self.with_log("pg_ctl start"));
    }

    /// Fast shutdown: sessions are ended, open transactions rolled back.
    fn stop(&self) {
        run(
            &mut self.pg_ctl(&["-m", "fast", "stop"]),
            &self.with_log("pg_ctl stop"),
        );
    }

    fn with_log(&self, what: &str) -> String {
        format!("{what} (log in {})", self.log.display())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self
            .pg_ctl(&["-m", "immediate", "stop"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status();
    }
}

#[track_caller]
fn run(command: &mut Command, what: &str) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Where initdb and pg_ctl are: on PATH, or Debian's
/// /usr/lib/postgresql/<version>/bin (the newest). Never skips: without
/// them the test fails and says how to install them.
fn pg_bin_dir() -> PathBuf {
    if let Ok(out) = Command::new("sh")
        .args(["-c", "command -v initdb"])
        .output()
    {
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if out.status.success() && !path.is_empty() {
            if let Some(dir) = Path::new(&path).parent() {
                return dir.to_owned();
            }
        }
    }
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let version = e.file_name().to_string_lossy().parse::<u32>().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    dirs.sort();
    dirs.pop().map(|(_, bin)| bin).unwrap_or_else(|| {
        panic!(
            "initdb and pg_ctl not found (on PATH or in /usr/lib/postgresql/*/bin): \
             install the PostgreSQL server (scripts/test-setup.sh does)"
        )
    })
}

/// As root: the user the cluster runs as.
fn cluster_owner() -> Option<String> {
    let uid = Command::new("id")
        .arg("-u")
        .output()
        .expect("cannot run id");
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return None;
    }
    let exists = |user: &str| {
        Command::new("id")
            .args(["-u", user])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    for user in ["postgres", "odrtest"] {
        if exists(user) {
            return Some(user.to_owned());
        }
    }
    run(
        Command::new("useradd").args([
            "--system",
            "--no-create-home",
            "--shell",
            "/usr/sbin/nologin",
            "odrtest",
        ]),
        "useradd odrtest (running as root, and no user postgres)",
    );
    Some("odrtest".to_owned())
}

/// A 503 problem document saying `unavailable`, with `Retry-After`.
#[track_caller]
fn assert_unavailable(response: &Response, what: &str) {
    assert_eq!(
        response.status,
        503,
        "{what} while PostgreSQL is down: {} {}",
        response.status,
        response.text()
    );
    assert_eq!(
        response.header("content-type"),
        Some("application/problem+json"),
        "{what}: {}",
        response.text()
    );
    let problem = response.json();
    assert_eq!(problem["code"], "unavailable", "{what}: {problem}");
    assert_eq!(problem["status"], 503, "{what}: {problem}");
    assert!(
        response.header("retry-after").is_some(),
        "{what}: no Retry-After"
    );
}

#[test]
fn postgres_restart_under_load_is_answered_503_and_recovered_from() {
    let cluster = Cluster::start();
    let sink = SmtpSink::start();
    let site = Site::on_database(&cluster.url("odr"));
    site.run(&["seed-demo"], &[]).assert_success();
    let mut settings = mail_settings(&sink);
    // Complaints whose acknowledgement the outage stopped escalate
    // afterwards: the scheduler must have survived it.
    settings.push(("ODR_DEADLINE_ACKNOWLEDGE", "3s".into()));
    settings.push(("ODR_SCHEDULER_INTERVAL", "1s".into()));
    let env = pairs(&settings);
    let mut server = site.serve(&env);
    let addr = server.addr;
    let url = &site.database_url;
    let before = load::complaint_ids(url);
    let shop = load::demo_shop(addr);
    let progress = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let mut probes: Vec<Attempt> = Vec::new();

    let drivers: Vec<Driver> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..CLIENTS / 2)
            .map(|c| {
                let (shop, progress, stop) = (&shop, &progress, &stop);
                s.spawn(move || {
                    let mut driver = Driver::new(&[addr], c, &format!("pg{c}"), shop, progress);
                    driver.acknowledge_deadline = Duration::from_secs(3);
                    driver.until(stop);
                    driver
                })
            })
            .collect();
        let body = || {
            wait_for_progress(&progress, 40, "before PostgreSQL stops");
            let some_complaint = load::psql(
                url,
                "SELECT id FROM complaints ORDER BY created_at DESC LIMIT 1",
            )[0][0]
                .clone();
            cluster.stop();

            let ready = client::get(addr, "/readyz", None).expect("/readyz hangs or fails");
            assert_unavailable(&ready, "GET /readyz");
            let alive = client::get(addr, "/healthz", None).expect("/healthz");
            assert_eq!(
                alive.status, 200,
                "liveness does not depend on the database"
            );
            let path = format!("/api/v1/complaints/{some_complaint}");
            let read =
                client::get(addr, &path, Some(&shop.staff_token)).expect("a read hangs or fails");
            assert_unavailable(&read, "GET a complaint");
            let marker = "probe-while-postgres-is-down".to_owned();
            let wrote = client::post(
                addr,
                &format!("{path}/messages"),
                Some(&shop.staff_token),
                &json!({ "body": marker }),
            )
            .expect("a write hangs or fails");
            assert_unavailable(&wrote, "POST a message");
            probes.push(Attempt {
                complaint: Some(some_complaint),
                event: "message",
                marker: Some(marker),
                answer: Answer::Status(wrote.status),
                server: addr,
                code: Some("unavailable".into()),
                content_type: wrote.header("content-type").map(str::to_owned),
            });

            cluster.start_again();
            let started = Instant::now();
            loop {
                let ready = client::get(addr, "/readyz", None).expect("/readyz after the restart");
                if ready.status == 200 {
                    break;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "/readyz still answers {} a minute after PostgreSQL came back: {}",
                    ready.status,
                    ready.text()
                );
                std::thread::sleep(Duration::from_millis(200));
            }
            let now = progress.load(Ordering::Relaxed);
            wait_for_progress(&progress, now + 40, "after PostgreSQL came back");
        };
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(body));
        stop.store(true, Ordering::Relaxed);
        let drivers = handles
            .into_iter()
            .map(|h| h.join().expect("a client thread panicked"))
            .collect();
        if let Err(p) = result {
            eprintln!("odr serve said:\n{}", server.logs());
            std::panic::resume_unwind(p);
        }
        drivers
    });

    let mut attempts: Vec<Attempt> = drivers.iter().flat_map(|d| d.attempts.clone()).collect();
    // What the clients got while the database was away: 503 problem
    // documents, nothing else.
    for a in attempts.iter().filter(|a| a.answer.failed()) {
        let fine = match a.answer {
            Answer::Status(409) => true,
            Answer::Status(503) => {
                a.code.as_deref() == Some("unavailable")
                    && a.content_type.as_deref() == Some("application/problem+json")
            }
            _ => false,
        };
        assert!(fine, "unexpected failure: {a:?}\n{}", server.logs());
    }
    assert!(
        attempts.iter().any(|a| a.answer == Answer::Status(503)),
        "no client request met the outage: {}",
        summary(&attempts)
    );
    attempts.append(&mut probes);

    // The worker and the scheduler survived: every deadline due acts,
    // every mail queued goes out.
    load::wait_for_deadlines(url, Duration::from_secs(60));
    let rows = load::wait_for_mail(url, &sink, Duration::from_secs(60));
    let all = load::complaints(url);
    load::check_logs(&all);
    load::check_attempts(&all, &before, &attempts);
    load::check_every_event_mailed(&all, &rows);
    load::deliveries(&rows, &sink);
    assert!(server.is_running(), "odr serve died:\n{}", server.logs());
    eprintln!(
        "fault::postgres: {}; {} complaints, {} mails",
        summary(&attempts),
        all.len(),
        rows.len()
    );
}
