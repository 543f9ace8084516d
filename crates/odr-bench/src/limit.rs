//! The database's own limit for the SQL of one transition (an
//! `acknowledge`, as the engine issues it: load the caller, the complaint
//! and its retailer, then one write transaction with the versioned UPDATE,
//! the event row, the notification's lookups and its outbox row), on the
//! engine's own schema and indexes, after the engine's run on the same
//! database.
//!
//! PostgreSQL: pgbench with `bench/pgbench/transition.sql`, prepared
//! statements (diesel prepares too), as many clients as the engine had.
//! SQLite: the same statements in a tight loop over diesel's
//! `SqliteConnection` with odr-store's pragmas and `BEGIN IMMEDIATE`.

use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl, SqliteConnection};

use crate::{Args, Failure};

pub struct Limit {
    pub tps: f64,
    pub how: String,
}

/// Complaints per client: each client works on its own, as in the engine
/// run, so that no two transactions wait for one row.
const PER_CLIENT: u64 = 100;

const COLUMNS: &str = "id, reference, retailer_id, customer_id, mediator_id, state, outcome, \
     category, order_reference, next_deadline_at, due_at, machine, version, last_seq, created_at, updated_at";

/// Copies of one complaint of the engine run, `limit-0` .. `limit-{n-1}`,
/// in state `filed` at version 1 (`WITH s(g)` numbers them).
fn seed_sql() -> String {
    format!(
        "INSERT INTO complaints ({COLUMNS}) \
         SELECT 'limit-' || g, 'LIMIT-' || g, retailer_id, customer_id, NULL, 'filed', NULL, \
                category, order_reference, next_deadline_at, due_at, machine, 1, 1, created_at, updated_at \
         FROM (SELECT * FROM complaints ORDER BY created_at LIMIT 1) c, s",
    )
}

#[derive(QueryableByName)]
struct Payload {
    #[diesel(sql_type = Text)]
    payload: String,
}

/// What the limit's transitions bind: the event and mail payloads of a
/// real `acknowledge`, and the id of the staff member who acknowledges.
#[derive(Clone)]
struct Payloads {
    event: String,
    mail: String,
    caller: String,
}

fn payloads<C>(conn: &mut C) -> Result<Payloads, Failure>
where
    C: Connection,
    C::Backend: diesel::backend::Backend,
    diesel::query_builder::SqlQuery: diesel::query_dsl::LoadQuery<'static, C, Payload>,
{
    let event = diesel::sql_query(
        "SELECT payload FROM complaint_events WHERE type = 'acknowledge' LIMIT 1",
    )
    .get_result::<Payload>(conn)
    .map(|p| p.payload)
    .unwrap_or_else(|_| "{}".into());
    let mail =
        diesel::sql_query("SELECT payload FROM outbox WHERE template = 'acknowledged' LIMIT 1")
            .get_result::<Payload>(conn)
            .map(|p| p.payload)
            .unwrap_or_else(|_| "{}".into());
    let caller = diesel::sql_query(
        "SELECT id AS payload FROM users WHERE role = 'retailer_staff' ORDER BY created_at LIMIT 1",
    )
    .get_result::<Payload>(conn)?
    .payload;
    Ok(Payloads {
        event,
        mail,
        caller,
    })
}

pub async fn measure(args: &Args, backend: &str, url: &str) -> Result<Limit, Failure> {
    let args = args.clone();
    let backend = backend.to_owned();
    let url = url.to_owned();
    tokio::task::spawn_blocking(move || match backend.as_str() {
        "postgres" => postgres(&args, &url),
        _ => sqlite(&args, &url),
    })
    .await
    .map_err(|e| e.to_string())?
}

fn postgres(args: &Args, url: &str) -> Result<Limit, Failure> {
    let n = PER_CLIENT * args.clients as u64;
    let mut conn = PgConnection::establish(url)?;
    conn.batch_execute(&format!(
        "WITH s(g) AS (SELECT generate_series(0, {})) {}; ANALYZE;",
        n - 1,
        seed_sql()
    ))?;
    let p = payloads(&mut conn)?;
    drop(conn);
    let pgbench = find_pgbench()?;
    // Each transaction's latency is logged (`-l`), for the database's own
    // p50 and p99 at this concurrency.
    let logs = std::env::temp_dir().join(format!("odr-bench-pgbench-{}", std::process::id()));
    std::fs::create_dir_all(&logs)?;
    let out = Command::new(&pgbench)
        .args(["-n", "-M", "prepared", "-l"])
        .arg(format!("--log-prefix={}", logs.join("tx").display()))
        .args(["-c", &args.clients.to_string(), "-j", "2"])
        .args(["-T", &format!("{}", args.secs.ceil() as u64)])
        .arg("-f")
        .arg(&args.pgbench_script)
        .args(["-D", &format!("per_client={PER_CLIENT}")])
        .args(["-D", &format!("caller_id={}", p.caller)])
        .args(["-D", &format!("event_payload={}", p.event)])
        .args(["-D", &format!("mail_payload={}", p.mail)])
        .arg(url)
        .output()
        .map_err(|e| format!("cannot run {pgbench}: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    if !out.status.success() {
        return Err(format!(
            "pgbench failed: {}{}",
            text,
            String::from_utf8_lossy(&out.stderr)
        )
        .into());
    }
    let tps = text
        .lines()
        .find(|l| l.starts_with("tps = "))
        .and_then(|l| l.split_whitespace().nth(2))
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| format!("no tps in pgbench's output: {text}"))?;
    let latency = text
        .lines()
        .find(|l| l.starts_with("latency average"))
        .unwrap_or("")
        .trim()
        .to_owned();
    let percentiles = logged_latencies(&logs)
        .map(|mut us| {
            us.sort_unstable();
            let at = |q: f64| us[((us.len() - 1) as f64 * q).round() as usize] as f64 / 1000.0;
            format!(", p50 = {:.1} ms, p99 = {:.1} ms", at(0.50), at(0.99))
        })
        .unwrap_or_default();
    let _ = std::fs::remove_dir_all(&logs);
    Ok(Limit {
        tps,
        how: format!(
            "pgbench -M prepared -c {} -j 2 -T {} -f {} ({latency}{percentiles})",
            args.clients,
            args.secs.ceil(),
            args.pgbench_script.display()
        ),
    })
}

/// Every transaction's latency in µs from pgbench's `-l` logs (the third
/// field of each line), or None when there are none.
fn logged_latencies(dir: &std::path::Path) -> Option<Vec<u64>> {
    let mut us = Vec::new();
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let text = std::fs::read_to_string(entry.path()).ok()?;
        us.extend(
            text.lines()
                .filter_map(|l| l.split_whitespace().nth(2)?.parse::<u64>().ok()),
        );
    }
    (!us.is_empty()).then_some(us)
}

fn find_pgbench() -> Result<String, Failure> {
    if let Ok(out) = Command::new("sh")
        .args(["-c", "command -v pgbench"])
        .output()
    {
        let p = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if !p.is_empty() {
            return Ok(p);
        }
    }
    let mut found: Vec<_> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|d| d.path().join("bin/pgbench"))
        .filter(|p| p.exists())
        .collect();
    found.sort();
    found.pop().map(|p| p.display().to_string()).ok_or_else(|| {
        "pgbench not found: apt-get install postgresql-client (or postgresql-contrib)".into()
    })
}

#[derive(QueryableByName)]
struct ComplaintRow {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Text)]
    retailer_id: String,
    #[diesel(sql_type = Text)]
    customer_id: String,
    #[diesel(sql_type = Text)]
    machine: String,
    #[diesel(sql_type = BigInt)]
    version: i64,
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
}

#[derive(QueryableByName)]
#[allow(dead_code)]
struct Named {
    #[diesel(sql_type = Text)]
    id: String,
    #[diesel(sql_type = Nullable<Text>)]
    locale: Option<String>,
}

const SQLITE_NOW: &str = "2026-12-01 10:00:00.000000";

/// One transition on SQLite: the statements of `transition.sql`.
fn sqlite_transition(
    conn: &mut SqliteConnection,
    id: &str,
    outbox_id: &str,
    p: &Payloads,
) -> Result<(), diesel::result::Error> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let user =
        "SELECT id, email, password_hash, display_name, role, retailer_id, locale, time_zone, \
                session_epoch, disabled_at, created_at, updated_at FROM users WHERE id = ? LIMIT ?";
    // The caller (a staff member), signed in afresh as every request is.
    let _: Named = diesel::sql_query(user)
        .bind::<Text, _>(&p.caller)
        .bind::<BigInt, _>(1)
        .get_result(conn)?;
    let c: ComplaintRow = diesel::sql_query(format!(
        "SELECT {COLUMNS} FROM complaints WHERE id = ? LIMIT ?"
    ))
    .bind::<Text, _>(id)
    .bind::<BigInt, _>(1)
    .get_result(conn)?;
    let retailer =
        "SELECT id, name, support_email, locale, currency, time_zone, business_days, holidays, \
                    created_at, updated_at FROM retailers WHERE id = ? LIMIT ?";
    let _: Named = diesel::sql_query(retailer)
        .bind::<Text, _>(&c.retailer_id)
        .bind::<BigInt, _>(1)
        .get_result(conn)?;
    AnsiTransactionManager::begin_transaction_sql(conn, "BEGIN IMMEDIATE")?;
    let body = |conn: &mut SqliteConnection| -> Result<(), diesel::result::Error> {
        let updated = diesel::sql_query(
            "UPDATE complaints SET mediator_id = ?, state = ?, outcome = ?, next_deadline_at = ?, due_at = ?, \
             machine = ?, version = ?, last_seq = ?, updated_at = ? WHERE ((id = ?) AND (version = ?))",
        )
        .bind::<Nullable<Text>, _>(None::<String>)
        .bind::<Text, _>("acknowledged")
        .bind::<Nullable<Text>, _>(None::<String>)
        .bind::<Nullable<Text>, _>(Some(SQLITE_NOW))
        .bind::<Nullable<Text>, _>(Some(SQLITE_NOW))
        .bind::<Text, _>(&c.machine)
        .bind::<BigInt, _>(c.version + 1)
        .bind::<BigInt, _>(c.last_seq + 1)
        .bind::<Text, _>(SQLITE_NOW)
        .bind::<Text, _>(&c.id)
        .bind::<BigInt, _>(c.version)
        .execute(conn)?;
        if updated != 1 {
            return Err(diesel::result::Error::RollbackTransaction);
        }
        diesel::sql_query(
            "INSERT INTO complaint_events (complaint_id, seq, type, actor_id, actor_role, from_state, to_state, payload, at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind::<Text, _>(&c.id)
        .bind::<BigInt, _>(c.last_seq + 1)
        .bind::<Text, _>("acknowledge")
        .bind::<Nullable<Text>, _>(Some("staff"))
        .bind::<Text, _>("retailer_staff")
        .bind::<Nullable<Text>, _>(Some("filed"))
        .bind::<Text, _>("acknowledged")
        .bind::<Text, _>(&p.event)
        .bind::<Text, _>(SQLITE_NOW)
        .execute(conn)?;
        // write_deliveries: the retailer's enabled webhook endpoints (none).
        diesel::sql_query(
            "SELECT id, events FROM webhook_endpoints WHERE ((retailer_id = ?) AND (enabled = ?)) \
             ORDER BY created_at ASC",
        )
        .bind::<Text, _>(&c.retailer_id)
        .bind::<diesel::sql_types::Bool, _>(true)
        .execute(conn)?;
        // write_notifications: the customer, for the mail's facts and as
        // its recipient (the retailer is the one loaded above).
        let _: Named = diesel::sql_query(user)
            .bind::<Text, _>(&c.customer_id)
            .bind::<BigInt, _>(1)
            .get_result(conn)?;
        diesel::sql_query(
            "INSERT INTO outbox (id, complaint_id, event_seq, template, recipient_role, recipient_user_id, to_address, \
             locale, payload, status, attempts, last_error, available_at, locked_until, claim_token, created_at, sent_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        )
        .bind::<Text, _>(outbox_id)
        .bind::<Nullable<Text>, _>(Some(&c.id))
        .bind::<Nullable<BigInt>, _>(Some(c.last_seq + 1))
        .bind::<Text, _>("acknowledged")
        .bind::<Text, _>("customer")
        .bind::<Nullable<Text>, _>(Some(&c.customer_id))
        .bind::<Text, _>("customer@bench.test")
        .bind::<Text, _>("en")
        .bind::<Text, _>(&p.mail)
        .bind::<Text, _>("pending")
        .bind::<BigInt, _>(0)
        .bind::<Nullable<Text>, _>(None::<String>)
        .bind::<Text, _>(SQLITE_NOW)
        .bind::<Nullable<Text>, _>(None::<String>)
        .bind::<Nullable<Text>, _>(None::<String>)
        .bind::<Text, _>(SQLITE_NOW)
        .bind::<Nullable<Text>, _>(None::<String>)
        .execute(conn)?;
        Ok(())
    };
    match body(conn) {
        Ok(()) => AnsiTransactionManager::commit_transaction(conn),
        Err(e) => {
            let _ = AnsiTransactionManager::rollback_transaction(conn);
            Err(e)
        }
    }
}

/// odr-store's per-connection settings (connection.rs), with `synchronous`
/// as the server had it (ODR_SQLITE_SYNCHRONOUS, `full` by default).
fn sqlite_open(path: &str, synchronous: &str) -> Result<SqliteConnection, Failure> {
    let mut conn = SqliteConnection::establish(path)?;
    for pragma in [
        "PRAGMA busy_timeout = 5000;".to_owned(),
        "PRAGMA journal_mode = WAL;".to_owned(),
        format!("PRAGMA synchronous = {};", synchronous.to_uppercase()),
        "PRAGMA foreign_keys = ON;".to_owned(),
    ] {
        conn.batch_execute(&pragma)?;
    }
    Ok(conn)
}

fn sqlite(args: &Args, url: &str) -> Result<Limit, Failure> {
    let path = url.trim_start_matches("sqlite://").to_owned();
    let synchronous = args
        .settings
        .iter()
        .find_map(|kv| kv.strip_prefix("ODR_SQLITE_SYNCHRONOUS="))
        .unwrap_or("full")
        .to_owned();
    let n = PER_CLIENT * args.clients as u64;
    let mut conn = sqlite_open(&path, &synchronous)?;
    conn.batch_execute(&format!(
        "BEGIN IMMEDIATE; WITH RECURSIVE s(g) AS (SELECT 0 UNION ALL SELECT g + 1 FROM s WHERE g < {}) {}; COMMIT; ANALYZE;",
        n - 1,
        seed_sql()
    ))?;
    let p = payloads(&mut conn)?;
    drop(conn);
    let mut results = Vec::new();
    // One writer is SQLite's own limit (it serializes writers); the same
    // number of threads as the engine's clients shows what contention on
    // the write lock costs.
    for threads in [1, args.clients] {
        let tps = sqlite_loop(&path, &synchronous, threads, args, &p)?;
        results.push((threads, tps));
    }
    let best = results.iter().map(|(_, t)| *t).fold(0.0, f64::max);
    let how = results
        .iter()
        .map(|(t, tps)| {
            format!(
                "{tps:.0}/s with {t} thread{}",
                if *t == 1 { "" } else { "s" }
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    Ok(Limit {
        tps: best,
        how: format!(
            "tight loop, diesel SqliteConnection, WAL, synchronous = {synchronous}, BEGIN IMMEDIATE: {how}; the better one is the limit"
        ),
    })
}

fn sqlite_loop(
    path: &str,
    synchronous: &str,
    threads: usize,
    args: &Args,
    p: &Payloads,
) -> Result<f64, Failure> {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let secs = (args.secs / 2.0).max(2.0);
    let mut handles = Vec::new();
    for t in 0..threads {
        let mut conn = sqlite_open(path, synchronous)?;
        let (stop, done) = (stop.clone(), done.clone());
        let p = p.clone();
        let clients = args.clients as u64;
        handles.push(std::thread::spawn(move || -> Result<(), String> {
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // Client t's complaints, round robin (as pgbench's client_id).
                let n = (t as u64 % clients) * PER_CLIENT + i % PER_CLIENT;
                let outbox_id = format!("00000000-0000-4{threads:03x}-8{t:03x}-{i:012x}");
                match sqlite_transition(&mut conn, &format!("limit-{n}"), &outbox_id, &p) {
                    Ok(()) => {
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                    Err(diesel::result::Error::DatabaseError(_, info))
                        if info.message().contains("locked") || info.message().contains("busy") => {
                    }
                    Err(e) => return Err(e.to_string()),
                }
                i += 1;
            }
            Ok(())
        }));
    }
    let start = Instant::now();
    std::thread::sleep(Duration::from_secs_f64(secs));
    stop.store(true, Ordering::Relaxed);
    for h in handles {
        h.join().map_err(|_| "a SQLite bench thread panicked")??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}
