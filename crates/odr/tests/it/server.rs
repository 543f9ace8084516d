//! The `odr` binary run as an operator runs it: a working directory of its
//! own, a fresh database, settings from `ODR_*` variables only, and its
//! output kept in files so that a failing test can show it.

use std::fs::{self, File};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use odr_store::testing::{TestDatabase, DEFAULT_POSTGRES_URL, POSTGRES_URL_VAR};
use odr_store::Backend;
use serde_json::{json, Value};

use crate::client::{self, Response};

pub const ODR: &str = env!("CARGO_BIN_EXE_odr");

/// How long a server may take to answer `/healthz` after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(20);
/// How long a command such as `odr migrate` may run.
const RUN_TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(50);

/// The relative SQLite URL every SQLite site uses: the documented default.
pub const SQLITE_URL: &str = "sqlite://data/odr.db";

/// One installation: a working directory and the database its processes
/// share. Dropping it removes both.
pub struct Site {
    /// Canonical, so it matches what the binary sees as its working directory.
    root: PathBuf,
    pub database_url: String,
    db: Option<TestDatabase>,
    runs: AtomicU32,
    _dir: tempfile::TempDir,
}

impl Site {
    /// SQLite at the relative default path inside the working directory, or
    /// a throwaway PostgreSQL database.
    pub fn new(backend: Backend) -> Site {
        let dir = tempfile::Builder::new()
            .prefix("odr-it-")
            .tempdir()
            .expect("cannot create a working directory for odr");
        let root = dir
            .path()
            .canonicalize()
            .expect("cannot resolve the working directory");
        fs::create_dir(root.join("logs")).expect("cannot create the log directory");
        let (database_url, db) = match backend {
            Backend::Sqlite => (SQLITE_URL.to_owned(), None),
            Backend::Postgres => {
                let db = TestDatabase::postgres();
                (db.url.clone(), Some(db))
            }
        };
        Site {
            root,
            database_url,
            db,
            runs: AtomicU32::new(0),
            _dir: dir,
        }
    }

    /// A site on a database the caller provides and removes (a PostgreSQL
    /// cluster of the test's own, say); only the working directory is the
    /// site's.
    pub fn on_database(database_url: &str) -> Site {
        let dir = tempfile::Builder::new()
            .prefix("odr-it-")
            .tempdir()
            .expect("cannot create a working directory for odr");
        let root = dir
            .path()
            .canonicalize()
            .expect("cannot resolve the working directory");
        fs::create_dir(root.join("logs")).expect("cannot create the log directory");
        Site {
            root,
            database_url: database_url.to_owned(),
            db: None,
            runs: AtomicU32::new(0),
            _dir: dir,
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// `odr ARGS` with the test settings, `env` last (it wins), output going
    /// to two fresh files whose paths come back with the command.
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> (Command, Output) {
        let output = self.output_files(args.first().copied().unwrap_or("odr"));
        let mut command = Command::new(ODR);
        command.args(args).current_dir(&self.root);
        // Only what the test sets: an ODR_* variable of the caller's shell
        // (ODR_DATABASE_URL, say) must not leak into the server under test.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("ODR_") {
                command.env_remove(name);
            }
        }
        command
            .env("ODR_DATABASE_URL", &self.database_url)
            .env("ODR_LOG", "warn")
            .env("ODR_TOKEN_TTL", "10m")
            // Several processes per test, tests in parallel: stay well under
            // PostgreSQL's connection limit.
            .env("ODR_POOL_SIZE", "3")
            .env("NO_COLOR", "1")
            .envs(env.iter().copied());
        output.attach(&mut command);
        (command, output)
    }

    /// Two fresh files for the output of the next process.
    fn output_files(&self, label: &str) -> Output {
        let run = self.runs.fetch_add(1, Ordering::Relaxed);
        Output {
            stdout: self.root.join(format!("logs/{run:02}-{label}.stdout")),
            stderr: self.root.join(format!("logs/{run:02}-{label}.stderr")),
        }
    }

    /// Runs `odr ARGS` to its end (at most a minute).
    pub fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Finished {
        let (command, output) = self.command(args, env);
        finish(command, output, format!("odr {}", args.join(" ")))
    }

    /// Runs a bash script (`bash -euo pipefail`) in the working directory to
    /// its end (at most a minute).
    pub fn run_bash(&self, script: &str, env: &[(&str, &str)]) -> Finished {
        let output = self.output_files("bash");
        let mut command = Command::new("bash");
        command
            .args(["-euo", "pipefail", "-c", script])
            .current_dir(&self.root)
            .envs(env.iter().copied());
        output.attach(&mut command);
        finish(command, output, "bash script".to_owned())
    }

    /// Starts `odr serve` on a free port without waiting for it.
    pub fn spawn(&self, env: &[(&str, &str)]) -> Server {
        self.spawn_with(&["serve"], env)
    }

    pub fn spawn_with(&self, args: &[&str], env: &[(&str, &str)]) -> Server {
        self.spawn_at(free_address(), args, env)
    }

    /// Starts `odr ARGS` listening on `addr` (a restart on the address a
    /// killed server had) without waiting for it.
    pub fn spawn_at(&self, addr: SocketAddr, args: &[&str], env: &[(&str, &str)]) -> Server {
        let listen = addr.to_string();
        let public_url = format!("http://{addr}");
        let mut all = vec![
            ("ODR_LISTEN", listen.as_str()),
            ("ODR_PUBLIC_URL", public_url.as_str()),
        ];
        all.extend_from_slice(env);
        let (mut command, output) = self.command(args, &all);
        let child = command.spawn().expect("cannot start odr serve");
        Server {
            addr,
            child,
            output,
        }
    }

    /// Starts `odr serve` and waits until it answers.
    pub fn serve(&self, env: &[(&str, &str)]) -> Server {
        let mut server = self.spawn(env);
        server.wait_until_healthy();
        server
    }

    /// Removes the PostgreSQL database while processes still use it,
    /// ending their sessions.
    pub fn drop_postgres_database(&self) {
        let db = self
            .db
            .as_ref()
            .expect("only a PostgreSQL site has a database to drop");
        let name = db
            .url
            .rsplit('/')
            .next()
            .and_then(|tail| tail.split('?').next())
            .expect("the test database URL names a database");
        let admin_url =
            std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
        let out = Command::new("psql")
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", &admin_url, "-c"])
            .arg(format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
            .output()
            .expect("cannot run psql (scripts/test-setup.sh installs it)");
        assert!(
            out.status.success(),
            "dropping {name} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// A port nobody listens on right now.
/// A free port below the kernel's ephemeral range (32768 and up on Linux),
/// so that no outgoing connection (to PostgreSQL, to the SMTP sink) takes
/// it between this check and the server's bind; drawn at random so that
/// test processes running side by side do not pick the same one.
pub fn free_address() -> SocketAddr {
    use std::hash::{BuildHasher, Hasher};
    for attempt in 0..200u32 {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u32(attempt);
        h.write_u32(std::process::id());
        let port = 20_000 + (h.finish() % 12_000) as u16;
        if let Ok(listener) = TcpListener::bind(("127.0.0.1", port)) {
            return listener
                .local_addr()
                .expect("a bound socket has an address");
        }
    }
    panic!("no free port between 20000 and 32000")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| format!("<cannot read {}: {e}>", path.display()))
}

/// Starts `command` and waits for its end, at most `RUN_TIMEOUT`.
fn finish(mut command: Command, output: Output, what: String) -> Finished {
    let mut child = command
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().expect("cannot wait for a child process") {
            break status;
        }
        if started.elapsed() > RUN_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`{what}` still ran after {RUN_TIMEOUT:?}; its output:\n{}",
                output.read()
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Finished {
        command: what,
        status,
        stdout: read(&output.stdout),
        stderr: read(&output.stderr),
    }
}

/// Where a process's stdout and stderr went.
struct Output {
    stdout: PathBuf,
    stderr: PathBuf,
}

impl Output {
    fn attach(&self, command: &mut Command) {
        command
            .stdin(Stdio::null())
            .stdout(File::create(&self.stdout).expect("cannot create a stdout file"))
            .stderr(File::create(&self.stderr).expect("cannot create a stderr file"));
    }

    fn read(&self) -> String {
        format!(
            "--- stdout ---\n{}--- stderr ---\n{}",
            read(&self.stdout),
            read(&self.stderr)
        )
    }
}

/// A command that ran to its end.
#[derive(Debug)]
pub struct Finished {
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Finished {
    #[track_caller]
    pub fn assert_success(&self) -> &Self {
        assert!(
            self.status.success(),
            "`{}` failed ({}):\n--- stdout ---\n{}--- stderr ---\n{}",
            self.command,
            self.status,
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn assert_failure(&self) -> &Self {
        assert!(
            !self.status.success(),
            "`{}` should have failed but exited 0:\n--- stdout ---\n{}--- stderr ---\n{}",
            self.command,
            self.stdout,
            self.stderr
        );
        self
    }
}

/// A running `odr serve`; killed when dropped. Its output is printed when
/// the test fails while it runs.
pub struct Server {
    pub addr: SocketAddr,
    child: Child,
    output: Output,
}

impl Server {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Polls `/healthz` until it answers 200; panics with the server's
    /// output when the process exits or does not answer in time.
    pub fn wait_until_healthy(&mut self) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("cannot wait for odr serve") {
                panic!(
                    "odr serve exited ({status}) before answering /healthz:\n{}",
                    self.output.read()
                );
            }
            if client::get(self.addr, "/healthz", None).is_ok_and(|r| r.status == 200) {
                return;
            }
            if started.elapsed() > START_TIMEOUT {
                panic!(
                    "odr serve did not answer /healthz on {} within {START_TIMEOUT:?}:\n{}",
                    self.addr,
                    self.output.read()
                );
            }
            std::thread::sleep(POLL);
        }
    }

    /// Sends SIGTERM, as a service manager stopping the server does.
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("cannot run kill");
        assert!(status.success(), "kill -TERM failed");
    }

    /// `kill -9`: the process ends at once, in the middle of whatever it
    /// was doing; returns when it is gone.
    pub fn kill(&mut self) {
        self.child.kill().expect("cannot send SIGKILL to odr");
        self.child.wait().expect("cannot wait for the killed odr");
    }

    /// Whether the process still runs.
    pub fn is_running(&mut self) -> bool {
        self.child
            .try_wait()
            .expect("cannot wait for odr serve")
            .is_none()
    }

    /// Waits up to `timeout` for the process to exit.
    pub fn wait_for_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < timeout {
            if let Some(status) = self.child.try_wait().expect("cannot wait for odr serve") {
                return Some(status);
            }
            std::thread::sleep(POLL);
        }
        None
    }

    /// Everything the server has written so far (its log goes to stdout).
    pub fn logs(&self) -> String {
        self.output.read()
    }

    #[track_caller]
    pub fn get(&self, path: &str, bearer: Option<&str>) -> Response {
        client::get(self.addr, path, bearer)
            .unwrap_or_else(|e| panic!("GET {path} failed: {e}\n{}", self.output.read()))
    }

    #[track_caller]
    pub fn post(&self, path: &str, bearer: Option<&str>, body: &Value) -> Response {
        client::post(self.addr, path, bearer, body)
            .unwrap_or_else(|e| panic!("POST {path} failed: {e}\n{}", self.output.read()))
    }

    /// Signs in and returns the bearer token.
    #[track_caller]
    pub fn login(&self, email: &str, password: &str) -> String {
        let answer = self
            .post(
                "/api/v1/auth/login",
                None,
                &json!({ "email": email, "password": password }),
            )
            .expect(200);
        answer["access_token"]
            .as_str()
            .unwrap_or_else(|| panic!("the login answer has no access_token: {answer}"))
            .to_owned()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!(
                "output of odr serve on {} (stopped):\n{}",
                self.addr,
                self.output.read()
            );
        }
    }
}
