//! What operators scrape at `GET /metrics` (Prometheus text format): HTTP
//! requests and their latency by matched route, committed transitions by
//! event, the scheduler's work and lag, and, read at scrape time, the
//! outbox and the connection pool.
//!
//! Labels never carry ids: a request is counted under the pattern of the
//! resource it matched (`/api/v1/complaints/{id}/accept`), or `unmatched`.

use std::sync::atomic::AtomicU64;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::middleware::Next;
use actix_web::{web, Error};
use chrono::{DateTime, Utc};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::state::AppState;

/// The `Content-Type` of the answer (Prometheus text format 0.0.4).
pub use prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Latency buckets, in seconds: 5 ms to 10 s.
const LATENCY_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 7.5, 10.0,
];

/// The outbox statuses always reported (0 when there are none).
const OUTBOX_STATUSES: [&str; 3] = ["pending", "sent", "dead"];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabels {
    event: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabels {
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

type FloatGauge = Gauge<f64, AtomicU64>;

/// What the scrape reads from the store and the pool.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Outbox rows by status name.
    pub outbox: Vec<(String, i64)>,
    /// Seconds since the oldest pending outbox row was queued (0 when none).
    pub oldest_pending_age_seconds: f64,
    /// The pool: (open connections, idle connections, max size).
    pub pool: (u32, u32, u32),
}

/// The registry and every metric in it; one per process, shared by the
/// HTTP workers and the scheduler.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram, fn() -> Histogram>,
    transitions: Family<EventLabels, Counter>,
    scheduler_actions: Family<KindLabels, Counter>,
    scheduler_last_tick: FloatGauge,
    scheduler_lag: FloatGauge,
    outbox_rows: Family<StatusLabels, Gauge>,
    outbox_oldest_pending_age: FloatGauge,
    pool_connections: Family<StateLabels, Gauge>,
    pool_max: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "odr_http_requests",
            "HTTP requests answered, by matched route pattern, method and status",
            requests.clone(),
        );
        let durations: Family<RouteLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(latency_histogram);
        registry.register(
            "odr_http_request_duration_seconds",
            "Time to answer an HTTP request, by matched route pattern and method",
            durations.clone(),
        );
        let transitions = Family::<EventLabels, Counter>::default();
        registry.register(
            "odr_transitions",
            "Committed complaint events, by event (filed, propose, accept, ...)",
            transitions.clone(),
        );
        let scheduler_actions = Family::<KindLabels, Counter>::default();
        registry.register(
            "odr_scheduler_actions",
            "What the deadline scheduler did: deadline, reminder, lost_race",
            scheduler_actions.clone(),
        );
        let scheduler_last_tick = FloatGauge::default();
        registry.register(
            "odr_scheduler_last_tick_timestamp_seconds",
            "Unix time of the scheduler's last completed pass (0 before the first)",
            scheduler_last_tick.clone(),
        );
        let scheduler_lag = FloatGauge::default();
        registry.register(
            "odr_scheduler_lag_seconds",
            "At the last pass: now minus the oldest wake-up time that was due (0 when none)",
            scheduler_lag.clone(),
        );
        let outbox_rows = Family::<StatusLabels, Gauge>::default();
        registry.register(
            "odr_outbox_rows",
            "Outbox rows by status, read at scrape time",
            outbox_rows.clone(),
        );
        let outbox_oldest_pending_age = FloatGauge::default();
        registry.register(
            "odr_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox row (0 when none), read at scrape time",
            outbox_oldest_pending_age.clone(),
        );
        let pool_connections = Family::<StateLabels, Gauge>::default();
        registry.register(
            "odr_db_pool_connections",
            "Database pool connections by state (idle, in_use)",
            pool_connections.clone(),
        );
        let pool_max = Gauge::default();
        registry.register(
            "odr_db_pool_max",
            "Most connections the database pool opens",
            pool_max.clone(),
        );
        Metrics {
            registry,
            requests,
            durations,
            transitions,
            scheduler_actions,
            scheduler_last_tick,
            scheduler_lag,
            outbox_rows,
            outbox_oldest_pending_age,
            pool_connections,
            pool_max,
        }
    }

    /// One answered request; `route` is the matched pattern or `unmatched`.
    pub fn record_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                route: route.to_owned(),
                method: method.to_owned(),
                status,
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels {
                route: route.to_owned(),
                method: method.to_owned(),
            })
            .observe(seconds);
    }

    /// One committed event (`filed`, `propose`, `accept`, ...).
    pub fn transition(&self, event: &str) {
        self.transitions
            .get_or_create(&EventLabels {
                event: event.to_owned(),
            })
            .inc();
    }

    /// What one scheduler pass did, when it ran, and the oldest wake-up time
    /// that was due when it started.
    pub fn scheduler_pass(
        &self,
        tick: Option<&odr_store::Tick>,
        now: DateTime<Utc>,
        oldest_due: Option<DateTime<Utc>>,
    ) {
        if let Some(tick) = tick {
            for (kind, n) in [
                ("deadline", tick.deadlines),
                ("reminder", tick.reminders),
                ("lost_race", tick.lost_races),
            ] {
                self.scheduler_actions
                    .get_or_create(&KindLabels { kind: kind.into() })
                    .inc_by(n as u64);
            }
        }
        self.scheduler_last_tick
            .set(now.timestamp_millis() as f64 / 1000.0);
        self.scheduler_lag.set(seconds_since(oldest_due, now));
    }

    /// The text to answer a scrape with, after setting the scrape-time
    /// gauges from `snapshot`.
    pub fn encode(&self, snapshot: &Snapshot) -> Result<String, std::fmt::Error> {
        for status in OUTBOX_STATUSES {
            self.outbox_rows
                .get_or_create(&StatusLabels {
                    status: status.into(),
                })
                .set(0);
        }
        for (status, n) in &snapshot.outbox {
            self.outbox_rows
                .get_or_create(&StatusLabels {
                    status: status.clone(),
                })
                .set(*n);
        }
        self.outbox_oldest_pending_age
            .set(snapshot.oldest_pending_age_seconds);
        let (connections, idle, max) = snapshot.pool;
        for (state, n) in [("idle", idle), ("in_use", connections.saturating_sub(idle))] {
            self.pool_connections
                .get_or_create(&StateLabels {
                    state: state.into(),
                })
                .set(i64::from(n));
        }
        self.pool_max.set(i64::from(max));
        let mut out = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)?;
        Ok(out)
    }
}

/// Seconds from `since` to `now`, 0 when there is no `since` or it is later.
pub fn seconds_since(since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> f64 {
    since.map_or(0.0, |at| {
        ((now - at).num_milliseconds() as f64 / 1000.0).max(0.0)
    })
}

/// A method as a label: the standard ones by name, anything else `other`
/// (so that made-up methods cannot grow the label set).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

/// Counts and times every request under its matched route pattern.
pub async fn metrics_middleware(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let started = Instant::now();
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = method_label(req.method());
    let metrics = req
        .app_data::<web::Data<AppState>>()
        .map(|state| state.metrics.clone());
    let result = next.call(req).await;
    if let Some(metrics) = metrics {
        let status = match &result {
            Ok(res) => res.status(),
            Err(e) => e.as_response_error().status_code(),
        };
        metrics.record_request(
            &route,
            method,
            status.as_u16(),
            started.elapsed().as_secs_f64(),
        );
    }
    result
}
