//! Load for the scale and fault tests: client threads that drive complaint
//! journeys against running `odr` processes and record every answer, and
//! the checks of what the database holds afterwards (read with `psql`).
//!
//! Every transition a journey sends that can carry text carries a marker
//! unique to the request (the message body, an offer's or fulfilment's
//! message, the withdrawal reason), so a request can be found in the log.
//! A journey stops at the first answer that is not a success, so the
//! requests without a marker (`accept`) are sent at most once per complaint.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use odr_tests::smtp::SmtpSink;
use serde_json::{json, Value};

use crate::client;

pub const PASSWORD: &str = "a long enough test password";

/// What became of one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// An HTTP answer with this status.
    Status(u16),
    /// The connection was refused: the request reached no server.
    Refused,
    /// Sent, but no answer came (the server died or the connection broke):
    /// it may or may not have been applied.
    Dropped,
}

impl Answer {
    pub fn ok(self) -> bool {
        matches!(self, Answer::Status(s) if (200..300).contains(&s))
    }

    /// Certainly not applied: an error status, or a refused connection.
    pub fn failed(self) -> bool {
        match self {
            Answer::Status(s) => !(200..300).contains(&s),
            Answer::Refused => true,
            Answer::Dropped => false,
        }
    }
}

/// One request a client sent and what it got.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// `None` for a filing whose answer did not come.
    pub complaint: Option<String>,
    /// The event type the request asks for, as the log names it.
    pub event: &'static str,
    /// Text unique to this request, found in its log row's payload.
    pub marker: Option<String>,
    pub answer: Answer,
    pub server: SocketAddr,
    /// The problem document's `code`, for error answers.
    pub code: Option<String>,
    /// `Content-Type` of the answer.
    pub content_type: Option<String>,
}

/// The journeys a client drives; see `Driver::journey`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Journey {
    /// acknowledge, message, offer, reject, offer, accept, message, fulfil.
    Full,
    /// offer, then accept and withdraw at once through two processes.
    RaceAcceptWithdraw,
    /// offer, then accept and reject at once through two processes: exactly
    /// one can win.
    RaceAcceptReject,
    /// a message, then the acknowledgement only about when its deadline
    /// passes: the staff and the schedulers race.
    LateAcknowledge,
    /// an offer that expires within seconds, accepted about when it does:
    /// the customer and the schedulers race.
    Lapse,
    /// offer, accept, then two fulfilments at once through two processes.
    DoubleFulfil,
}

pub const ALL_JOURNEYS: [Journey; 6] = [
    Journey::Full,
    Journey::RaceAcceptWithdraw,
    Journey::RaceAcceptReject,
    Journey::LateAcknowledge,
    Journey::Lapse,
    Journey::DoubleFulfil,
];

/// What every client shares: the shop and the staff's token.
#[derive(Debug, Clone)]
pub struct Shop {
    pub retailer_id: String,
    pub staff_token: String,
}

/// A request, before it is sent.
struct Request {
    event: &'static str,
    path: String,
    token: String,
    body: Value,
    marker: Option<String>,
}

/// One client: sends its requests round-robin over the servers and keeps
/// what each answered.
pub struct Driver<'a> {
    servers: Vec<SocketAddr>,
    next: usize,
    name: String,
    counter: usize,
    shop: &'a Shop,
    customer_token: String,
    /// Counts successful transitions of all clients (progress for the test).
    progress: &'a AtomicUsize,
    /// How long the acknowledge deadline is (`LateAcknowledge` waits that long).
    pub acknowledge_deadline: Duration,
    pub attempts: Vec<Attempt>,
    /// Each journey and the complaint it filed.
    pub journeys: Vec<(Journey, String)>,
}

impl<'a> Driver<'a> {
    /// A client starting at server `first`, registering its own customer
    /// (panics when that fails: it happens before any fault).
    pub fn new(
        servers: &[SocketAddr],
        first: usize,
        name: &str,
        shop: &'a Shop,
        progress: &'a AtomicUsize,
    ) -> Driver<'a> {
        let server = servers[first % servers.len()];
        let email = format!("{name}@clients.test");
        let registered = client::post(
            server,
            "/api/v1/auth/register",
            None,
            &json!({ "email": email, "password": PASSWORD, "display_name": name }),
        )
        .unwrap_or_else(|e| panic!("registering {email} failed: {e}"));
        registered.expect(201);
        let login = client::post(
            servers[(first + 1) % servers.len()],
            "/api/v1/auth/login",
            None,
            &json!({ "email": email, "password": PASSWORD }),
        )
        .unwrap_or_else(|e| panic!("signing in {email} failed: {e}"))
        .expect(200);
        Driver {
            servers: servers.to_vec(),
            next: first,
            name: name.to_owned(),
            counter: 0,
            shop,
            customer_token: login["access_token"]
                .as_str()
                .expect("access_token")
                .to_owned(),
            progress,
            acknowledge_deadline: Duration::from_secs(4),
            attempts: Vec::new(),
            journeys: Vec::new(),
        }
    }

    fn server(&mut self) -> SocketAddr {
        let server = self.servers[self.next % self.servers.len()];
        self.next += 1;
        server
    }

    fn marker(&mut self, what: &str) -> String {
        self.counter += 1;
        format!("[{what}:{}:{}]", self.name, self.counter)
    }

    /// Files a complaint; its id when that answered 201.
    fn file(&mut self) -> Option<String> {
        let server = self.server();
        let body = json!({
            "retailer_id": self.shop.retailer_id,
            "order_reference": format!("ORD-{}-{}", self.name, self.counter),
            "category": "not_delivered",
            "desired_remedy": "redelivery",
            "description": "The parcel never came.",
        });
        let (answer, value, code, content_type) =
            send(server, "/api/v1/complaints", &self.customer_token, &body);
        let id = value
            .as_ref()
            .filter(|_| answer.ok())
            .and_then(|v| v["id"].as_str())
            .map(str::to_owned);
        self.record(Attempt {
            complaint: id.clone(),
            event: "file",
            marker: None,
            answer,
            server,
            code,
            content_type,
        });
        id
    }

    fn record(&mut self, attempt: Attempt) {
        if attempt.answer.ok() {
            self.progress.fetch_add(1, Ordering::Relaxed);
        }
        self.attempts.push(attempt);
    }

    fn request(
        &mut self,
        id: &str,
        event: &'static str,
        staff: bool,
        body: Value,
        marker: Option<String>,
    ) -> Request {
        let route = match event {
            "propose" => "offers",
            "message" => "messages",
            other => other,
        };
        Request {
            event,
            path: format!("/api/v1/complaints/{id}/{route}"),
            token: if staff {
                self.shop.staff_token.clone()
            } else {
                self.customer_token.clone()
            },
            body,
            marker,
        }
    }

    /// A transition with a marker in `field` (`message`, `body`, `reason`).
    fn marked(&mut self, id: &str, event: &'static str, staff: bool, field: &str) -> Request {
        let marker = self.marker(event);
        let mut body = json!({});
        body[field] = json!(marker);
        self.request(id, event, staff, body, Some(marker))
    }

    fn go(&mut self, id: &str, request: Request) -> Option<Value> {
        let server = self.server();
        let (answer, value, code, content_type) =
            send(server, &request.path, &request.token, &request.body);
        self.record(Attempt {
            complaint: Some(id.to_owned()),
            event: request.event,
            marker: request.marker,
            answer,
            server,
            code,
            content_type,
        });
        value.filter(|_| answer.ok())
    }

    /// Two requests at once, through two different servers.
    fn race(&mut self, id: &str, a: Request, b: Request) -> [Answer; 2] {
        let (server_a, server_b) = (self.server(), self.server());
        let barrier = Barrier::new(2);
        let (first, second) = std::thread::scope(|s| {
            let one = s.spawn(|| {
                barrier.wait();
                send(server_a, &a.path, &a.token, &a.body)
            });
            let two = s.spawn(|| {
                barrier.wait();
                send(server_b, &b.path, &b.token, &b.body)
            });
            (
                one.join().expect("a racing request panicked"),
                two.join().expect("a racing request panicked"),
            )
        });
        let answers = [first.0, second.0];
        for (request, server, (answer, _, code, content_type)) in
            [(a, server_a, first), (b, server_b, second)]
        {
            self.record(Attempt {
                complaint: Some(id.to_owned()),
                event: request.event,
                marker: request.marker,
                answer,
                server,
                code,
                content_type,
            });
        }
        answers
    }

    fn offer_id(offered: &Value) -> Value {
        offered["current_offer"]["id"].clone()
    }

    /// Drives one journey as far as its answers allow: it stops at the first
    /// request that does not succeed.
    pub fn journey(&mut self, journey: Journey) {
        let Some(id) = self.file() else { return };
        self.journeys.push((journey, id.clone()));
        let id = id.as_str();
        match journey {
            Journey::Full => {
                let _ = (|| {
                    let r = self.marked(id, "acknowledge", true, "message");
                    self.go(id, r)?;
                    let r = self.marked(id, "message", false, "body");
                    self.go(id, r)?;
                    let mut r = self.marked(id, "propose", true, "message");
                    r.body["remedy"] = json!("redelivery");
                    self.go(id, r)?;
                    let mut r = self.marked(id, "reject", false, "message");
                    r.body["reason"] = json!("wrong_remedy");
                    self.go(id, r)?;
                    let mut r = self.marked(id, "propose", true, "message");
                    r.body["remedy"] = json!("replacement");
                    let offered = self.go(id, r)?;
                    let r = self.request(
                        id,
                        "accept",
                        false,
                        json!({ "offer_id": Self::offer_id(&offered) }),
                        None,
                    );
                    self.go(id, r)?;
                    let r = self.marked(id, "message", true, "body");
                    self.go(id, r)?;
                    let r = self.marked(id, "fulfil", true, "message");
                    self.go(id, r)
                })();
            }
            Journey::RaceAcceptWithdraw | Journey::RaceAcceptReject => {
                let mut r = self.marked(id, "propose", true, "message");
                r.body["remedy"] = json!("redelivery");
                if self.go(id, r).is_none() {
                    return;
                }
                let accept = self.request(id, "accept", false, json!({}), None);
                let other = if journey == Journey::RaceAcceptWithdraw {
                    self.marked(id, "withdraw", false, "reason")
                } else {
                    let mut r = self.marked(id, "reject", false, "message");
                    r.body["reason"] = json!("amount_too_low");
                    r
                };
                self.race(id, accept, other);
            }
            Journey::LateAcknowledge => {
                let r = self.marked(id, "message", false, "body");
                if self.go(id, r).is_none() {
                    return;
                }
                // Some just before the deadline, some just after.
                let jitter = Duration::from_millis(300 * (self.counter as u64 % 5));
                std::thread::sleep(self.acknowledge_deadline - Duration::from_millis(600) + jitter);
                let r = self.marked(id, "acknowledge", true, "message");
                self.go(id, r);
            }
            Journey::Lapse => {
                let expiry = Duration::from_secs(3);
                let expires_at = chrono::Utc::now() + expiry;
                let mut r = self.marked(id, "propose", true, "message");
                r.body["remedy"] = json!("redelivery");
                r.body["expires_at"] = json!(expires_at.to_rfc3339());
                let Some(offered) = self.go(id, r) else {
                    return;
                };
                let jitter = Duration::from_millis(250 * (self.counter as u64 % 5));
                std::thread::sleep(expiry - Duration::from_millis(500) + jitter);
                let r = self.request(
                    id,
                    "accept",
                    false,
                    json!({ "offer_id": Self::offer_id(&offered) }),
                    None,
                );
                self.go(id, r);
            }
            Journey::DoubleFulfil => {
                let mut r = self.marked(id, "propose", true, "message");
                r.body["remedy"] = json!("redelivery");
                let Some(offered) = self.go(id, r) else {
                    return;
                };
                let r = self.request(
                    id,
                    "accept",
                    false,
                    json!({ "offer_id": Self::offer_id(&offered) }),
                    None,
                );
                if self.go(id, r).is_none() {
                    return;
                }
                let a = self.marked(id, "fulfil", true, "message");
                let b = self.marked(id, "fulfil", true, "message");
                self.race(id, a, b);
            }
        }
    }

    /// Full journeys until `stop` is set; after a refused connection a short
    /// pause, so that a dead server is not hammered.
    pub fn until(&mut self, stop: &AtomicBool) {
        while !stop.load(Ordering::Relaxed) {
            self.journey(Journey::Full);
            if self
                .attempts
                .last()
                .is_some_and(|a| a.answer == Answer::Refused)
            {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Sends one POST; what it answered, its JSON body, problem code and
/// content type.
fn send(
    server: SocketAddr,
    path: &str,
    token: &str,
    body: &Value,
) -> (Answer, Option<Value>, Option<String>, Option<String>) {
    match client::post(server, path, Some(token), body) {
        Ok(response) => {
            let value: Option<Value> = serde_json::from_slice(&response.body).ok();
            let code = value
                .as_ref()
                .and_then(|v| v["code"].as_str())
                .filter(|_| response.status >= 400)
                .map(str::to_owned);
            (
                Answer::Status(response.status),
                value,
                code,
                response.header("content-type").map(str::to_owned),
            )
        }
        Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
            (Answer::Refused, None, None, None)
        }
        Err(_) => (Answer::Dropped, None, None, None),
    }
}

/// Signs in as the demo shop's staff and finds the demo shop.
pub fn demo_shop(server: SocketAddr) -> Shop {
    let login = client::post(
        server,
        "/api/v1/auth/login",
        None,
        &json!({ "email": "staff@demo-shop.test", "password": "demo-staff-pass" }),
    )
    .expect("staff login")
    .expect(200);
    let shops = client::get(server, "/api/v1/retailers", None)
        .expect("retailers")
        .expect(200);
    let retailer_id = shops["items"]
        .as_array()
        .and_then(|a| a.iter().find(|r| r["name"] == "Demo Shop"))
        .and_then(|r| r["id"].as_str())
        .expect("the demo shop")
        .to_owned();
    Shop {
        retailer_id,
        staff_token: login["access_token"]
            .as_str()
            .expect("access_token")
            .to_owned(),
    }
}

// --- what the database holds ---------------------------------------------------

/// Runs one query with `psql`; rows of text fields (NULL as empty text).
pub fn psql(url: &str, sql: &str) -> Vec<Vec<String>> {
    let out = Command::new("psql")
        .args(["-X", "-q", "-A", "-t", "-0", "-F", "\u{1f}"])
        .args(["-v", "ON_ERROR_STOP=1", url, "-c", sql])
        .output()
        .expect("cannot run psql (scripts/test-setup.sh installs it)");
    assert!(
        out.status.success(),
        "psql failed on {sql}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("psql output is UTF-8")
        .split('\0')
        .map(|r| r.trim_start_matches('\n'))
        .filter(|r| !r.is_empty())
        .map(|r| r.split('\u{1f}').map(str::to_owned).collect())
        .collect()
}

fn count(url: &str, sql: &str) -> i64 {
    psql(url, sql)[0][0]
        .parse()
        .unwrap_or_else(|e| panic!("{sql} gave no count: {e}"))
}

#[derive(Debug)]
pub struct Event {
    pub seq: i64,
    pub kind: String,
    pub actor_role: String,
    pub from: Option<String>,
    pub to: String,
    pub payload: Value,
}

#[derive(Debug)]
pub struct Stored {
    pub state: String,
    pub outcome: Option<String>,
    pub version: i64,
    pub last_seq: i64,
    pub events: Vec<Event>,
}

impl Stored {
    pub fn count(&self, kind: &str) -> usize {
        self.events.iter().filter(|e| e.kind == kind).count()
    }

    fn deadline_reasons(&self) -> Vec<String> {
        self.events
            .iter()
            .filter(|e| e.kind == "deadline_passed")
            .map(|e| e.payload["reason"].as_str().unwrap_or("?").to_owned())
            .collect()
    }
}

fn optional(text: &str) -> Option<String> {
    (!text.is_empty()).then(|| text.to_owned())
}

/// Every complaint with its log, by id.
pub fn complaints(url: &str) -> BTreeMap<String, Stored> {
    let mut all: BTreeMap<String, Stored> = psql(
        url,
        "SELECT id, state, COALESCE(outcome, ''), version, last_seq FROM complaints",
    )
    .into_iter()
    .map(|r| {
        (
            r[0].clone(),
            Stored {
                state: r[1].clone(),
                outcome: optional(&r[2]),
                version: r[3].parse().expect("version"),
                last_seq: r[4].parse().expect("last_seq"),
                events: Vec::new(),
            },
        )
    })
    .collect();
    for r in psql(
        url,
        "SELECT complaint_id, seq, type, actor_role, COALESCE(from_state, ''), to_state, payload \
         FROM complaint_events ORDER BY complaint_id, seq",
    ) {
        let stored = all
            .get_mut(&r[0])
            .unwrap_or_else(|| panic!("events of an unknown complaint {}", r[0]));
        stored.events.push(Event {
            seq: r[1].parse().expect("seq"),
            kind: r[2].clone(),
            actor_role: r[3].clone(),
            from: optional(&r[4]),
            to: r[5].clone(),
            payload: serde_json::from_str(&r[6]).expect("payload is JSON"),
        });
    }
    all
}

/// Each log is numbered 1..n without gaps, starts with the filing, chains
/// each event's `from_state` to the previous `to_state`, and ends in the
/// stored state; no deadline acted twice, none but by the system.
pub fn check_logs(all: &BTreeMap<String, Stored>) {
    for (id, c) in all {
        let seqs: Vec<i64> = c.events.iter().map(|e| e.seq).collect();
        let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
        assert_eq!(seqs, expected, "complaint {id}: the log has gaps: {c:#?}");
        let first = &c.events[0];
        assert!(
            first.kind == "file" && first.from.is_none() && first.to == "filed",
            "complaint {id}: the log does not start with its filing: {c:#?}"
        );
        for pair in c.events.windows(2) {
            assert_eq!(
                pair[1].from.as_deref(),
                Some(pair[0].to.as_str()),
                "complaint {id}: event {} does not start where event {} ended: {c:#?}",
                pair[1].seq,
                pair[0].seq
            );
        }
        let last = c.events.last().expect("at least the filing");
        assert_eq!(
            last.to, c.state,
            "complaint {id}: replaying the log: {c:#?}"
        );
        assert_eq!(c.last_seq, last.seq, "complaint {id}: last_seq: {c:#?}");
        assert_eq!(
            c.version,
            c.events.len() as i64,
            "complaint {id}: one version per event: {c:#?}"
        );
        assert_eq!(
            c.state == "closed",
            c.outcome.is_some(),
            "complaint {id}: an outcome exactly when closed: {c:#?}"
        );
        let reasons = c.deadline_reasons();
        let distinct: BTreeSet<&String> = reasons.iter().collect();
        assert_eq!(
            distinct.len(),
            reasons.len(),
            "complaint {id}: a deadline acted twice: {c:#?}"
        );
        for e in &c.events {
            assert_eq!(
                e.kind == "deadline_passed" || e.kind == "reminder",
                e.actor_role == "system",
                "complaint {id}: event {} by {}: {c:#?}",
                e.seq,
                e.actor_role
            );
        }
    }
}

/// What the clients saw agrees with the logs: every success is in its
/// complaint's log once, nothing that failed is, and what got no answer is
/// there at most once. Complaints nobody was told about come only from
/// filings that got no answer.
pub fn check_attempts(
    all: &BTreeMap<String, Stored>,
    before: &BTreeSet<String>,
    attempts: &[Attempt],
) {
    let mut by_complaint: BTreeMap<&str, Vec<&Attempt>> = BTreeMap::new();
    for a in attempts {
        if let Some(id) = &a.complaint {
            by_complaint.entry(id).or_default().push(a);
        }
    }
    let unanswered_filings = attempts
        .iter()
        .filter(|a| a.event == "file" && a.complaint.is_none() && a.answer == Answer::Dropped)
        .count();
    let unknown: Vec<&String> = all
        .keys()
        .filter(|id| !before.contains(*id) && !by_complaint.contains_key(id.as_str()))
        .collect();
    assert!(
        unknown.len() <= unanswered_filings,
        "{} complaints nobody was told of, but only {unanswered_filings} filings went unanswered",
        unknown.len()
    );
    for id in unknown {
        assert_eq!(
            all[id].events.len(),
            1,
            "an unannounced complaint has more than its filing"
        );
    }
    for (id, tried) in by_complaint {
        let c = all
            .get(id)
            .unwrap_or_else(|| panic!("complaint {id} was filed (201) but is not stored"));
        let mut kinds: BTreeSet<&str> = tried.iter().map(|a| a.event).collect();
        kinds.extend(
            c.events
                .iter()
                .filter(|e| e.actor_role != "system")
                .map(|e| e.kind.as_str()),
        );
        // A complaint filed before the load had its filing from elsewhere.
        if before.contains(id) {
            kinds.remove("file");
        }
        for kind in kinds {
            let ok = tried
                .iter()
                .filter(|a| a.event == kind && a.answer.ok())
                .count();
            let dropped = tried
                .iter()
                .filter(|a| a.event == kind && a.answer == Answer::Dropped)
                .count();
            let logged = c.count(kind);
            assert!(
                (ok..=ok + dropped).contains(&logged),
                "complaint {id}: {logged} `{kind}` events in the log, but clients saw {ok} \
                 succeed and {dropped} go unanswered\nattempts: {tried:#?}\nlog: {c:#?}"
            );
        }
        for a in tried.iter().filter(|a| a.marker.is_some()) {
            let marker = a.marker.as_deref().unwrap_or_default();
            let found = c
                .events
                .iter()
                .filter(|e| e.kind == a.event && e.payload.to_string().contains(marker))
                .count();
            let fits = match a.answer {
                answer if answer.ok() => found == 1,
                Answer::Dropped => found <= 1,
                _ => found == 0,
            };
            assert!(
                fits,
                "complaint {id}: request {marker} answered {:?}, and {found} log events carry it: \
                 {c:#?}",
                a.answer
            );
        }
    }
}

/// Complaints known before the load started.
pub fn complaint_ids(url: &str) -> BTreeSet<String> {
    psql(url, "SELECT id FROM complaints")
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
}

/// Waits until no complaint has a deadline or reminder due within the next
/// minute: every short deadline of the test has been acted on.
pub fn wait_for_deadlines(url: &str, timeout: Duration) {
    let started = Instant::now();
    loop {
        let due = count(
            url,
            "SELECT count(*) FROM complaints \
             WHERE next_deadline_at < (now() AT TIME ZONE 'utc') + interval '1 minute'",
        );
        if due == 0 {
            return;
        }
        assert!(
            started.elapsed() < timeout,
            "{due} complaints still have a deadline due after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[derive(Debug)]
pub struct OutboxRow {
    pub id: String,
    pub complaint_id: Option<String>,
    pub event_seq: Option<i64>,
    pub to_address: String,
}

/// Waits until every outbox row is `sent` and the sink has received at
/// least as many mails; fails at once on dead mail.
pub fn wait_for_mail(url: &str, sink: &SmtpSink, timeout: Duration) -> Vec<OutboxRow> {
    let started = Instant::now();
    loop {
        let dead = psql(
            url,
            "SELECT id, COALESCE(last_error, '') FROM outbox WHERE status = 'dead'",
        );
        assert!(dead.is_empty(), "dead mail: {dead:?}");
        let unsent = count(url, "SELECT count(*) FROM outbox WHERE status <> 'sent'");
        let rows = count(url, "SELECT count(*) FROM outbox");
        if unsent == 0 && sink.count() as i64 >= rows {
            break;
        }
        assert!(
            started.elapsed() < timeout,
            "after {timeout:?}: {unsent} of {rows} outbox rows unsent, {} mails at the sink",
            sink.count()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    psql(
        url,
        "SELECT id, COALESCE(complaint_id, ''), COALESCE(event_seq, 0), to_address FROM outbox",
    )
    .into_iter()
    .map(|r| OutboxRow {
        id: r[0].clone(),
        complaint_id: optional(&r[1]),
        event_seq: r[2].parse().ok().filter(|s| *s > 0),
        to_address: r[3].clone(),
    })
    .collect()
}

/// How often each outbox row arrived at the sink, by its Message-ID
/// (`<outbox id@host>`); every mail must belong to a row and go to the
/// row's address.
pub fn deliveries(rows: &[OutboxRow], sink: &SmtpSink) -> HashMap<String, usize> {
    let by_id: HashMap<&str, &OutboxRow> = rows.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for mail in sink.messages() {
        let message_id = mail.message_id.clone().unwrap_or_default();
        let id = message_id
            .trim_matches(|c| c == '<' || c == '>')
            .split('@')
            .next()
            .unwrap_or_default()
            .to_owned();
        let row = by_id
            .get(id.as_str())
            .unwrap_or_else(|| panic!("a mail no outbox row accounts for: {message_id}"));
        assert_eq!(
            mail.envelope_to,
            std::slice::from_ref(&row.to_address),
            "mail {message_id} went elsewhere than its row says"
        );
        *seen.entry(id).or_default() += 1;
    }
    for row in rows {
        assert!(
            seen.contains_key(&row.id),
            "outbox row {row:?} is marked sent but never arrived"
        );
    }
    seen
}

/// Every event in every log queued at least one mail (every event of these
/// journeys tells someone).
pub fn check_every_event_mailed(all: &BTreeMap<String, Stored>, rows: &[OutboxRow]) {
    let mailed: BTreeSet<(&str, i64)> = rows
        .iter()
        .filter_map(|r| Some((r.complaint_id.as_deref()?, r.event_seq?)))
        .collect();
    for (id, c) in all {
        for e in &c.events {
            assert!(
                mailed.contains(&(id.as_str(), e.seq)),
                "complaint {id}: event {} ({}) queued no mail",
                e.seq,
                e.kind
            );
        }
    }
}
