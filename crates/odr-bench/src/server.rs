//! `odr serve` as a child process: started with the bench's settings,
//! waited for on `/readyz`, measured through /proc, stopped with SIGTERM.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::http::Client;
use crate::Failure;

pub const ADMIN_EMAIL: &str = "admin@bench.odr.test";
pub const PASSWORD: &str = "bench-password-123";

pub struct Server {
    child: Child,
}

/// Settings of every server the bench starts; `extra` adds or overrides.
pub fn odr_env(database_url: &str, addr: &str, smtp_port: u16) -> Vec<(String, String)> {
    [
        ("ODR_DATABASE_URL", database_url.to_owned()),
        ("ODR_LISTEN", addr.to_owned()),
        ("ODR_PUBLIC_URL", format!("http://{addr}")),
        ("ODR_SMTP_URL", format!("smtp://127.0.0.1:{smtp_port}")),
        ("ODR_ADMIN_EMAIL", ADMIN_EMAIL.to_owned()),
        ("ODR_ADMIN_PASSWORD", PASSWORD.to_owned()),
        ("ODR_LOG", "warn".to_owned()),
        // Sign-ins happen once per person at the start, all from 127.0.0.1.
        ("ODR_RATE_LIMIT_LOGIN", "1000000/min".to_owned()),
        ("ODR_RATE_LIMIT_MAGIC", "1000000/min".to_owned()),
        (
            "ODR_JWT_SECRET",
            "odr-bench-secret-0123456789abcdef0123456789".to_owned(),
        ),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

impl Server {
    pub async fn start(
        odr: &Path,
        workdir: &Path,
        env: &[(String, String)],
        addr: &str,
    ) -> Result<Server, Failure> {
        std::fs::create_dir_all(workdir)?;
        let log = std::fs::File::create(workdir.join("odr.log"))?;
        let mut cmd = Command::new(odr);
        cmd.arg("serve")
            .current_dir(workdir)
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // Only what the bench sets: the caller's ODR_* must not leak in.
        for (k, _) in std::env::vars() {
            if k.starts_with("ODR_") {
                cmd.env_remove(k);
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let child = cmd
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", odr.display()))?;
        let mut server = Server { child };
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut client = Client::new(addr);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "odr serve exited with {status}; see {}",
                    workdir.join("odr.log").display()
                )
                .into());
            }
            if let Ok(r) = client.get("/readyz", None).await {
                if r.status == 200 {
                    return Ok(server);
                }
            }
            if Instant::now() > deadline {
                server.stop();
                return Err("odr serve did not get ready within 60 s".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// (VmRSS, VmHWM) in KiB.
    pub fn memory(&self) -> (u64, u64) {
        memory_of(self.pid())
    }

    pub fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.pid().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(40);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            self.stop();
        }
    }
}

/// A free port on loopback (bound and released at once).
pub fn free_addr() -> Result<String, Failure> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(l.local_addr()?.to_string())
}

/// (VmRSS, VmHWM) of a process in KiB (0 when it is gone).
pub fn memory_of(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

pub fn rss_of(pid: u32) -> u64 {
    memory_of(pid).0
}
