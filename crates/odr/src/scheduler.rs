//! The deadline scheduler's loop: every `ODR_SCHEDULER_INTERVAL` it lets
//! the store act on every complaint whose deadline or reminder is due.
//! The rules live in the domain; this only keeps time.

use std::sync::Arc;
use std::time::Duration;

use odr_domain::complaint::Policy;
use odr_store::{EngineRules, Store};

pub struct Scheduler {
    pub store: Store,
    pub policy: Policy,
    pub rules: EngineRules,
    pub interval: Duration,
    /// Where each pass's work, time and lag are recorded (`GET /metrics`).
    pub metrics: Arc<odr_http::Metrics>,
}

impl Scheduler {
    /// One pass; errors are logged and the next pass tries again.
    pub async fn tick(&self) {
        let (store, policy, rules) = (self.store.clone(), self.policy.clone(), self.rules);
        let started = std::time::Instant::now();
        let result = tokio::task::spawn_blocking(move || {
            let now = chrono::Utc::now();
            // Expired Idempotency-Keys are swept on the same beat (a request
            // also treats an expired key as new when it meets one).
            if let Err(e) = store.purge_idempotency_keys(now) {
                tracing::warn!(error = %e, "expired idempotency keys not purged");
            }
            // Lag: how overdue the oldest due wake-up is as the pass starts.
            let oldest_due = store.oldest_due(now).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "oldest due wake-up not read");
                None
            });
            (
                now,
                oldest_due,
                store.act_on_deadlines(now, &policy, rules, 100),
            )
        })
        .await;
        let result = result.map(|(now, oldest_due, tick)| {
            self.metrics
                .scheduler_pass(tick.as_ref().ok(), now, oldest_due);
            tick
        });
        match result {
            Ok(Ok(tick)) if tick.deadlines + tick.reminders + tick.lost_races > 0 => {
                tracing::info!(
                    deadlines = tick.deadlines,
                    reminders = tick.reminders,
                    lost_races = tick.lost_races,
                    took_ms = started.elapsed().as_millis() as u64,
                    "scheduler pass"
                );
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                tracing::warn!(error = %e, "scheduler pass failed; retrying next interval")
            }
            Err(e) => tracing::error!(error = %e, "scheduler pass panicked"),
        }
    }

    pub async fn run(self) {
        let mut every = tokio::time::interval(self.interval);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            every.tick().await;
            self.tick().await;
        }
    }
}
