//! `make bench`: the engine under a mixed load from many concurrent
//! clients, on SQLite and on PostgreSQL, next to what the database itself
//! does with the same writes, plus the complaint list at 10,000 and at
//! 1,000,000 complaints. Prints one table; docs/benchmarks.md explains it.

mod http;
mod limit;
mod list;
mod server;
mod smtp;
mod stats;
mod workload;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::server::{free_addr, odr_env, Server};
use crate::stats::percentile_ms;

pub type Failure = Box<dyn std::error::Error + Send + Sync>;

#[derive(Parser, Debug, Clone)]
#[command(about = "Load test of `odr serve` on SQLite and PostgreSQL")]
pub struct Args {
    /// Seconds of load per backend (and of each database-limit run).
    #[arg(long, env = "ODR_BENCH_SECS", default_value_t = 20.0)]
    pub secs: f64,
    /// Concurrent clients.
    #[arg(long, env = "ODR_BENCH_CLIENTS", default_value_t = 32)]
    pub clients: usize,
    /// Backends to run, in order.
    #[arg(
        long,
        env = "ODR_BENCH_BACKENDS",
        default_value = "sqlite,postgres",
        value_delimiter = ','
    )]
    pub backends: Vec<String>,
    /// PostgreSQL server (no database): the bench creates and drops
    /// `odr_bench_*` databases on it.
    #[arg(
        long,
        env = "ODR_BENCH_PG",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    pub pg: String,
    /// The engine binary (`cargo build --release -p odr`).
    #[arg(long, env = "ODR_BENCH_ODR", default_value = "target/release/odr")]
    pub odr: PathBuf,
    /// Scratch directory (SQLite files, server logs, results).
    #[arg(long, env = "ODR_BENCH_DIR", default_value = "target/bench")]
    pub dir: PathBuf,
    /// The pgbench script of one transition.
    #[arg(
        long,
        env = "ODR_BENCH_PGBENCH_SCRIPT",
        default_value = "bench/pgbench/transition.sql"
    )]
    pub pgbench_script: PathBuf,
    /// Complaint counts at which the list is measured, comma-separated;
    /// empty or `none` skips it.
    #[arg(long, env = "ODR_BENCH_LIST_SIZES", default_value = "10000,1000000")]
    pub list_sizes: String,
    /// Requests per list measurement (per list kind and size).
    #[arg(long, env = "ODR_BENCH_LIST_REQUESTS", default_value_t = 2000)]
    pub list_requests: usize,
    /// Retailers the clients are spread over.
    #[arg(long, env = "ODR_BENCH_SHOPS", default_value_t = 8)]
    pub shops: usize,
    /// Skip the database-limit runs.
    #[arg(long, env = "ODR_BENCH_SKIP_LIMIT")]
    pub skip_limit: bool,
    /// Skip the engine load runs (only the list measurement).
    #[arg(long, env = "ODR_BENCH_SKIP_LOAD")]
    pub skip_load: bool,
    /// PostgreSQL: `log_statement = 'all'` on the bench database, to see
    /// the SQL a transition issues in the server log.
    #[arg(long, env = "ODR_BENCH_LOG_SQL")]
    pub log_sql: bool,
    /// Keep the `odr_bench_*` databases afterwards.
    #[arg(long, env = "ODR_BENCH_KEEP")]
    pub keep: bool,
    /// Extra `KEY=VALUE` settings for the servers (e.g. ODR_POOL_SIZE=16).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub settings: Vec<String>,
}

impl Args {
    pub fn list_sizes(&self) -> Vec<u64> {
        self.list_sizes
            .split(',')
            .filter_map(|s| s.trim().parse().ok())
            .collect()
    }
}

pub struct EngineRun {
    pub backend: String,
    pub secs: f64,
    pub transitions_per_s: f64,
    pub requests_per_s: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub transition_p50_ms: f64,
    pub transition_p99_ms: f64,
    pub read_p99_ms: f64,
    pub list_p99_ms: f64,
    pub idle_rss_kib: u64,
    pub peak_rss_kib: u64,
    /// VmHWM of the process that signed the people up (argon2).
    pub setup_peak_rss_kib: u64,
    pub mails_per_s: f64,
    /// Mails still in the outbox when the load ended, and how long the
    /// worker took to send them.
    pub mail_backlog: u64,
    pub drain_secs: f64,
    pub errors: u64,
    pub journeys: u64,
    pub limit: Option<limit::Limit>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("odr-bench: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("odr-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(mut args: Args) -> Result<(), Failure> {
    if !args.odr.exists() {
        return Err(format!(
            "{} not found: run `cargo build --release -p odr -p odr-bench` first",
            args.odr.display()
        )
        .into());
    }
    // The servers run in directories of their own.
    args.odr = std::path::absolute(&args.odr)?;
    std::fs::create_dir_all(&args.dir)?;
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "odr-bench: {} clients, {} s per backend, load average before: {}",
        args.clients,
        args.secs,
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    let mut runs = Vec::new();
    let mut lists = Vec::new();
    for backend in &args.backends {
        let backend = backend.trim();
        if !args.skip_load {
            println!("\n== {backend}: mixed load");
            runs.push(engine_run(&args, backend).await?);
        }
        if !args.list_sizes().is_empty() {
            println!(
                "\n== {backend}: complaint list at {:?} complaints",
                args.list_sizes()
            );
            lists.extend(list::run(&args, backend).await?);
        }
    }
    let table = report(&args, &runs, &lists);
    println!("\n{table}");
    let out = args.dir.join("results.md");
    std::fs::write(&out, &table)?;
    println!("(also written to {})", out.display());
    Ok(())
}

/// A fresh database of the backend: its URL.
pub fn fresh_database(args: &Args, backend: &str, name: &str) -> Result<String, Failure> {
    match backend {
        "sqlite" => {
            let dir = args.dir.join(name);
            if dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
            std::fs::create_dir_all(&dir)?;
            let path = std::path::absolute(dir.join("odr.db"))?;
            Ok(format!("sqlite://{}", path.display()))
        }
        "postgres" => {
            let db = format!("odr_bench_{name}");
            let mut admin = PgConnection::establish(&format!("{}/postgres", args.pg))?;
            diesel::sql_query(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                .execute(&mut admin)?;
            diesel::sql_query(format!("CREATE DATABASE {db}")).execute(&mut admin)?;
            if args.log_sql {
                diesel::sql_query(format!("ALTER DATABASE {db} SET log_statement = 'all'"))
                    .execute(&mut admin)?;
            }
            Ok(format!("{}/{db}", args.pg))
        }
        other => Err(format!("unknown backend {other:?} (sqlite or postgres)").into()),
    }
}

pub fn drop_database(args: &Args, url: &str) {
    if args.keep || !url.starts_with("postgres") {
        return;
    }
    if let Some(db) = url.rsplit('/').next() {
        if let Ok(mut admin) = PgConnection::establish(&format!("{}/postgres", args.pg)) {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)"))
                .execute(&mut admin);
        }
    }
}

pub fn server_env(args: &Args, url: &str, addr: &str, smtp_port: u16) -> Vec<(String, String)> {
    let mut env = odr_env(url, addr, smtp_port);
    for kv in &args.settings {
        if let Some((k, v)) = kv.split_once('=') {
            env.retain(|(key, _)| key != k);
            env.push((k.to_owned(), v.to_owned()));
        }
    }
    env
}

async fn engine_run(args: &Args, backend: &str) -> Result<EngineRun, Failure> {
    let url = fresh_database(args, backend, &format!("{backend}_load"))?;
    let workdir = args.dir.join(format!("{backend}_load"));
    let sink = smtp::Sink::start().await?;
    let addr = free_addr()?;
    let env = server_env(args, &url, &addr, sink.port);
    let mut server = Server::start(&args.odr, &workdir, &env, &addr).await?;
    let people = workload::setup(&addr, args.shops, args.clients).await?;
    let (_, setup_hwm) = server.memory();
    // Signing people up hashes passwords (argon2, 19 MiB each), and glibc
    // keeps that memory: measure the load on a fresh process. The tokens
    // stay valid (same database, same ODR_JWT_SECRET).
    server.stop();
    let mut server = Server::start(&args.odr, &workdir, &env, &addr).await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (idle_rss, _) = server.memory();
    println!(
        "   server pid {}: VmRSS {:.1} MiB idle (peak {:.1} MiB while signing up {} people, before a restart); {} clients for {} s ...",
        server.pid(),
        idle_rss as f64 / 1024.0,
        setup_hwm as f64 / 1024.0,
        args.clients + 2 * args.shops,
        args.clients,
        args.secs
    );
    let mails_before = sink.delivered();
    let pid = server.pid();
    let sampling = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let sampler = {
        let sampling = sampling.clone();
        tokio::spawn(async move {
            let mut peak = 0;
            while sampling.load(std::sync::atomic::Ordering::Relaxed) {
                peak = peak.max(server::rss_of(pid));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            peak
        })
    };
    let (rec, took) = workload::drive(&addr, &people, args.secs).await;
    let mails = sink.delivered() - mails_before;
    sampling.store(false, std::sync::atomic::Ordering::Relaxed);
    let peak_rss = sampler.await.unwrap_or(0).max(server.memory().0);
    let secs = took.as_secs_f64();
    // What the load left in the outbox: how long the worker needs for it.
    // Done when nothing arrived for 3 s (longer than the worker's 2 s poll).
    let drain_start = Instant::now();
    let mut last = sink.delivered();
    let mut drained_at = drain_start;
    while drain_start.elapsed() < Duration::from_secs(180)
        && drained_at.elapsed() < Duration::from_secs(3)
    {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let now = sink.delivered();
        if now != last {
            last = now;
            drained_at = Instant::now();
        }
    }
    let backlog = sink.delivered() - mails_before - mails;
    let drain_secs = drained_at.duration_since(drain_start).as_secs_f64();
    server.stop();
    let all = rec.all();
    let run = EngineRun {
        backend: backend.to_owned(),
        secs,
        transitions_per_s: rec.transitions_ok as f64 / secs,
        requests_per_s: rec.requests_ok as f64 / secs,
        p50_ms: percentile_ms(&all, 0.50),
        p99_ms: percentile_ms(&all, 0.99),
        transition_p50_ms: percentile_ms(&rec.transition, 0.50),
        transition_p99_ms: percentile_ms(&rec.transition, 0.99),
        read_p99_ms: percentile_ms(&rec.read, 0.99),
        list_p99_ms: percentile_ms(&rec.list, 0.99),
        idle_rss_kib: idle_rss,
        setup_peak_rss_kib: setup_hwm,
        peak_rss_kib: peak_rss,
        mails_per_s: mails as f64 / secs,
        mail_backlog: backlog,
        drain_secs,
        errors: rec.errors,
        journeys: rec.journeys,
        limit: None,
    };
    println!(
        "   {:.0} transitions/s, {:.0} requests/s, {} journeys, {} errors; {} mails during the load, {} more in {:.1} s after it",
        run.transitions_per_s,
        run.requests_per_s,
        rec.journeys,
        rec.errors,
        mails,
        backlog,
        drain_secs
    );
    for e in &rec.first_errors {
        println!("   error: {e}");
    }
    let limit = if args.skip_limit {
        None
    } else {
        println!("   the database's own limit for the same writes ...");
        let l = limit::measure(args, backend, &url).await?;
        println!("   {:.0} transitions/s ({})", l.tps, l.how);
        Some(l)
    };
    drop_database(args, &url);
    Ok(EngineRun { limit, ..run })
}

fn mib(kib: u64) -> String {
    format!("{:.1}", kib as f64 / 1024.0)
}

fn report(args: &Args, runs: &[EngineRun], lists: &[list::ListResult]) -> String {
    let mut s = String::new();
    if !runs.is_empty() {
        s.push_str(&format!(
            "Mixed load, {} clients, {:.0} s per backend (journeys: file, read, acknowledge, list, offer, read, accept, list, fulfil, read the log)\n\n",
            args.clients, args.secs
        ));
        s.push_str("| backend | transitions/s | requests/s | p50 ms | p99 ms | transition p50 / p99 ms | read p99 ms | list p99 ms | idle RSS MiB | peak RSS MiB | mails/s delivered | mail backlog at the end | errors | DB limit transitions/s | engine / limit |\n");
        s.push_str("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for r in runs {
            let (limit, ratio) = match &r.limit {
                Some(l) => (
                    format!("{:.0}", l.tps),
                    format!("{:.0} %", 100.0 * r.transitions_per_s / l.tps),
                ),
                None => ("–".into(), "–".into()),
            };
            s.push_str(&format!(
                "| {} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} / {:.1} | {:.1} | {:.1} | {} | {} | {:.0} | {} (sent in {:.0} s) | {} | {} | {} |\n",
                r.backend,
                r.transitions_per_s,
                r.requests_per_s,
                r.p50_ms,
                r.p99_ms,
                r.transition_p50_ms,
                r.transition_p99_ms,
                r.read_p99_ms,
                r.list_p99_ms,
                mib(r.idle_rss_kib),
                mib(r.peak_rss_kib),
                r.mails_per_s,
                r.mail_backlog,
                r.drain_secs,
                r.errors,
                limit,
                ratio
            ));
        }
        for r in runs {
            if let Some(l) = &r.limit {
                s.push_str(&format!("\n{} limit: {}", r.backend, l.how));
            }
            s.push_str(&format!(
                "\n{}: {} journeys; peak RSS of the process that signed up the {} people (argon2, before the restart): {} MiB",
                r.backend,
                r.journeys,
                args.clients + 2 * args.shops,
                mib(r.setup_peak_rss_kib)
            ));
        }
        s.push('\n');
    }
    if !lists.is_empty() {
        s.push_str("\nGET /api/v1/complaints (limit 20), one client after another\n\n");
        s.push_str(
            "| backend | complaints | list | p50 ms | p99 ms (median of 5 rounds) | p99 ms (all requests) | p99 / p99 at the smallest size |\n",
        );
        s.push_str("|---|---:|---|---:|---:|---:|---:|\n");
        for l in lists {
            let base = lists
                .iter()
                .find(|b| b.backend == l.backend && b.list == l.list)
                .map_or(f64::NAN, |b| b.p99_ms);
            s.push_str(&format!(
                "| {} | {} | {} | {:.1} | {:.1} | {:.1} | {:.2}× |\n",
                l.backend,
                l.complaints,
                l.list,
                l.p50_ms,
                l.p99_ms,
                l.p99_all_ms,
                l.p99_ms / base
            ));
        }
    }
    s
}
