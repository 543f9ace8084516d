//! A real SMTP server on loopback for mail tests: `scripts/smtp_sink.py`
//! (aiosmtpd) storing each message it receives in a temporary directory.
//!
//! It never skips: without python3 or aiosmtpd the test fails and says
//! how to install them (`scripts/test-setup.sh`, run by `make test`).

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use mail_parser::{MessageParser, MimeHeaders, PartType};
use serde_json::Value;

const SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/smtp_sink.py");
const READY_WITHIN: Duration = Duration::from_secs(20);
const STOP_WITHIN: Duration = Duration::from_secs(10);

/// One message as the sink received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    pub envelope_from: String,
    /// `RCPT TO` addresses, in order.
    pub envelope_to: Vec<String>,
    /// The message as sent (headers encoded, bodies transfer-encoded).
    pub raw: String,
    /// Every header of the message, in order, unfolded; `Subject` and `To`
    /// decoded (RFC 2047 words become text).
    pub headers: Vec<(String, String)>,
    pub subject: Option<String>,
    pub message_id: Option<String>,
    pub in_reply_to: Option<String>,
    pub references: Option<String>,
    pub to: Option<String>,
    pub content_language: Option<String>,
    /// `multipart/alternative` for our mails.
    pub content_type: String,
    /// The decoded `text/plain` and `text/html` parts.
    pub text: Option<String>,
    pub html: Option<String>,
    pub file: PathBuf,
}

impl ReceivedMail {
    /// The first header of that name (case-insensitive), decoded.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn read(eml: &Path) -> ReceivedMail {
        let raw =
            std::fs::read(eml).unwrap_or_else(|e| panic!("cannot read {}: {e}", eml.display()));
        let json = eml.with_extension("json");
        let envelope: Value = std::fs::read(&json)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_else(|| panic!("the sink wrote no readable {}", json.display()));
        let message = MessageParser::default()
            .parse(&raw)
            .unwrap_or_else(|| panic!("{} is not a parsable message", eml.display()));
        let headers: Vec<(String, String)> = message
            .headers()
            .iter()
            .map(|h| {
                let value = match h.name.as_str() {
                    "Subject" => message.subject().unwrap_or_default().to_owned(),
                    "To" => message.to().and_then(|to| to.first()).map_or_else(
                        || unfolded(&raw[h.offset_start as usize..h.offset_end as usize]),
                        |to| match (to.name(), to.address()) {
                            (Some(name), Some(address)) => format!("{name} <{address}>"),
                            (_, address) => address.unwrap_or_default().to_owned(),
                        },
                    ),
                    _ => unfolded(&raw[h.offset_start as usize..h.offset_end as usize]),
                };
                (h.name.as_str().to_owned(), value)
            })
            .collect();
        let (mut text, mut html) = (None, None);
        for part in &message.parts {
            match &part.body {
                PartType::Text(t) if text.is_none() => text = Some(t.to_string()),
                PartType::Html(h) if html.is_none() => html = Some(h.to_string()),
                _ => {}
            }
        }
        let content_type = message
            .root_part()
            .content_type()
            .map(|c| format!("{}/{}", c.ctype(), c.subtype().unwrap_or_default()))
            .unwrap_or_else(|| "text/plain".into());
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        };
        ReceivedMail {
            envelope_from: envelope["envelope_from"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            envelope_to: envelope["envelope_to"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect(),
            raw: String::from_utf8_lossy(&raw).into_owned(),
            subject: header("Subject"),
            message_id: header("Message-ID"),
            in_reply_to: header("In-Reply-To"),
            references: header("References"),
            to: header("To"),
            content_language: header("Content-Language"),
            content_type,
            text,
            html,
            file: eml.to_owned(),
            headers,
        }
    }
}

/// A header value as one line: folding removed, outer spaces trimmed.
fn unfolded(raw: &[u8]) -> String {
    String::from_utf8_lossy(raw)
        .replace("\r\n", "")
        .replace('\n', "")
        .trim()
        .to_owned()
}

/// The sink process and its mailbox directory; killed when dropped.
pub struct SmtpSink {
    child: Option<Child>,
    port: u16,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    /// Starts the sink on a free loopback port and waits until it listens.
    ///
    /// # Panics
    /// When python3 or aiosmtpd is missing, or the sink does not come up.
    pub fn start() -> SmtpSink {
        let dir = tempfile::Builder::new()
            .prefix("odr-smtp-sink-")
            .tempdir()
            .expect("cannot create a directory for the SMTP sink");
        let (child, port) = spawn(dir.path(), 0);
        SmtpSink {
            child: Some(child),
            port,
            dir,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// An `ODR_SMTP_URL` for this sink.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("the sink directory vanished")
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort();
        files
    }

    /// How many messages arrived so far (cheap: reads no message).
    pub fn count(&self) -> usize {
        self.files().len()
    }

    /// Every message received so far, in order of arrival (across restarts).
    pub fn messages(&self) -> Vec<ReceivedMail> {
        self.files().iter().map(|f| ReceivedMail::read(f)).collect()
    }

    /// Waits (polling every 20 ms) until at least `count` messages arrived.
    ///
    /// # Panics
    /// After `timeout`, saying how many arrived.
    pub fn wait_for(&self, count: usize, timeout: Duration) -> Vec<ReceivedMail> {
        let deadline = Instant::now() + timeout;
        loop {
            if self.count() >= count {
                return self.messages();
            }
            if Instant::now() >= deadline {
                let messages = self.messages();
                let subjects: Vec<_> = messages.iter().map(|m| &m.subject).collect();
                panic!(
                    "the SMTP sink received {} of {count} expected mails within {timeout:?}: {subjects:?}",
                    messages.len()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Stops the sink (SIGTERM, then waits); the port refuses connections
    /// until `restart`.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + STOP_WITHIN;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Starts the sink again on the same port and directory.
    pub fn restart(&mut self) {
        self.stop();
        let (child, port) = spawn(self.dir.path(), self.port);
        assert_eq!(port, self.port, "the restarted sink took another port");
        self.child = Some(child);
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn spawn(dir: &Path, port: u16) -> (Child, u16) {
    let errors = dir.join("sink.stderr");
    let stderr = File::create(&errors).expect("cannot create the sink's stderr file");
    let mut child = Command::new("python3")
        .arg(SCRIPT)
        .args(["--port", &port.to_string(), "--dir"])
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run python3 for the SMTP sink ({e}); run scripts/test-setup.sh")
        });
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx.recv_timeout(READY_WITHIN).unwrap_or_default();
    let bound = line
        .trim()
        .strip_prefix("ready ")
        .and_then(|p| p.parse::<u16>().ok());
    match bound {
        Some(bound) => (child, bound),
        None => {
            let _ = child.kill();
            let _ = child.wait();
            let said = std::fs::read_to_string(&errors).unwrap_or_default();
            panic!(
                "the SMTP sink ({SCRIPT}) did not start on port {port}; it said:\n{said}\n\
                 (python3 with aiosmtpd is needed: run scripts/test-setup.sh)"
            );
        }
    }
}
