//! Latency samples in microseconds, kept whole and sorted at the end:
//! exact percentiles (a run has at most a few hundred thousand requests).

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Filing or any event: one `Store::transition` (or `insert_filed`).
    Transition,
    /// A complaint, its event log.
    Read,
    /// A complaint list.
    List,
}

#[derive(Default)]
pub struct Recorder {
    pub transition: Vec<u32>,
    pub read: Vec<u32>,
    pub list: Vec<u32>,
    pub transitions_ok: u64,
    pub requests_ok: u64,
    pub errors: u64,
    pub journeys: u64,
    /// The first few error answers, to show what went wrong.
    pub first_errors: Vec<String>,
}

impl Recorder {
    pub fn record(&mut self, kind: Kind, took: Duration, ok: bool) {
        let micros = u32::try_from(took.as_micros()).unwrap_or(u32::MAX);
        match kind {
            Kind::Transition => self.transition.push(micros),
            Kind::Read => self.read.push(micros),
            Kind::List => self.list.push(micros),
        }
        if ok {
            self.requests_ok += 1;
            if kind == Kind::Transition {
                self.transitions_ok += 1;
            }
        } else {
            self.errors += 1;
        }
    }

    pub fn note_error(&mut self, e: String) {
        if self.first_errors.len() < 5 {
            self.first_errors.push(e);
        }
    }

    pub fn merge(&mut self, other: Recorder) {
        self.transition.extend(other.transition);
        self.read.extend(other.read);
        self.list.extend(other.list);
        self.transitions_ok += other.transitions_ok;
        self.requests_ok += other.requests_ok;
        self.errors += other.errors;
        self.journeys += other.journeys;
        for e in other.first_errors {
            self.note_error(e);
        }
    }

    pub fn all(&self) -> Vec<u32> {
        let mut v = Vec::with_capacity(self.transition.len() + self.read.len() + self.list.len());
        v.extend(&self.transition);
        v.extend(&self.read);
        v.extend(&self.list);
        v
    }
}

/// The `q` quantile (0..=1) in milliseconds, nearest rank.
pub fn percentile_ms(samples: &[u32], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    let mut v = samples.to_vec();
    v.sort_unstable();
    let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
    f64::from(v[rank - 1]) / 1000.0
}
