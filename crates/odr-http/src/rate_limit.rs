//! In-memory rate limits for login and register, per process and shared by
//! every actix worker (one `Arc` in [`crate::AppState`]).
//!
//! Each key keeps a sliding log of its recent hits (at most `count` of
//! them), timed by the injected clock so tests move time instead of
//! waiting. Memory is bounded: expired keys are swept as the map grows, and
//! a full map forgets its stalest key first.
//!
//! Login counts every attempt per client address, but only *failed*
//! attempts per account: a throttled account still signs in with the right
//! password (api.md: no lock-out of a known account by someone guessing).

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::problem::{retry_after_secs, ApiError};

/// Keys kept per limiter before the stalest is forgotten.
const MAX_KEYS: usize = 100_000;

/// One sliding-window limit: `count` hits per `per`, per key.
#[derive(Debug)]
pub struct SlidingWindow {
    count: usize,
    per: chrono::Duration,
    max_keys: usize,
    hits: Mutex<HashMap<String, VecDeque<DateTime<Utc>>>>,
}

impl SlidingWindow {
    pub fn new(count: u32, per: Duration) -> SlidingWindow {
        SlidingWindow::bounded(count, per, MAX_KEYS)
    }

    fn bounded(count: u32, per: Duration, max_keys: usize) -> SlidingWindow {
        SlidingWindow {
            count: count.max(1) as usize,
            per: chrono::Duration::from_std(per).unwrap_or(chrono::Duration::MAX),
            max_keys: max_keys.max(1),
            hits: Mutex::new(HashMap::new()),
        }
    }

    /// Counts a hit for `key` at `now`, or refuses it with how long to wait
    /// until the oldest hit in the window expires. A refused hit is not
    /// counted, so waiting out `Retry-After` always helps.
    pub fn hit(&self, key: &str, now: DateTime<Utc>) -> Result<(), Duration> {
        let mut map = self.hits.lock().unwrap_or_else(|p| p.into_inner());
        let window_start = now - self.per;
        if let Some(log) = map.get_mut(key) {
            while log.front().is_some_and(|t| *t <= window_start) {
                log.pop_front();
            }
            if log.len() >= self.count {
                let oldest = log.front().copied().unwrap_or(now);
                let wait = (oldest + self.per - now).to_std().unwrap_or_default();
                return Err(wait.max(Duration::from_secs(1)));
            }
            log.push_back(now);
            return Ok(());
        }
        if map.len() >= self.max_keys {
            map.retain(|_, log| log.back().is_some_and(|t| *t > window_start));
        }
        if map.len() >= self.max_keys {
            let stalest = map
                .iter()
                .min_by_key(|(_, log)| log.back().copied())
                .map(|(k, _)| k.clone());
            if let Some(k) = stalest {
                map.remove(&k);
            }
        }
        map.insert(key.to_owned(), VecDeque::from([now]));
        Ok(())
    }

    #[cfg(test)]
    fn keys(&self) -> usize {
        self.hits.lock().map(|m| m.len()).unwrap_or(0)
    }
}

/// The limits of the sign-in routes.
#[derive(Debug)]
pub struct RateLimits {
    /// Every login attempt, per client address.
    pub login_by_address: SlidingWindow,
    /// Failed login attempts, per normalised email (known or not, so that
    /// the answer does not tell which accounts exist).
    pub login_failures_by_account: SlidingWindow,
    /// Every register attempt, per client address.
    pub register_by_address: SlidingWindow,
    /// Magic-link requests per normalised email (`ODR_RATE_LIMIT_MAGIC`).
    pub magic_by_email: SlidingWindow,
    /// Magic-link requests per client address: the login rate.
    pub magic_by_address: SlidingWindow,
}

/// The default of `ODR_RATE_LIMIT_MAGIC`: 5 per hour.
pub const DEFAULT_MAGIC_RATE: (u32, Duration) = (5, Duration::from_secs(3600));

impl RateLimits {
    /// All three limits at `count` per `per` (`ODR_RATE_LIMIT_LOGIN`).
    pub fn new((count, per): (u32, Duration)) -> RateLimits {
        RateLimits {
            login_by_address: SlidingWindow::new(count, per),
            login_failures_by_account: SlidingWindow::new(count, per),
            register_by_address: SlidingWindow::new(count, per),
            magic_by_email: SlidingWindow::new(DEFAULT_MAGIC_RATE.0, DEFAULT_MAGIC_RATE.1),
            magic_by_address: SlidingWindow::new(count, per),
        }
    }

    /// The same, with magic-link requests per email at `count` per `per`.
    pub fn with_magic(mut self, (count, per): (u32, Duration)) -> RateLimits {
        self.magic_by_email = SlidingWindow::new(count, per);
        self
    }
}

/// Turns a refused hit into 429 `rate_limited` with `Retry-After`.
pub fn limited(result: Result<(), Duration>) -> Result<(), ApiError> {
    result.map_err(|wait| ApiError::RateLimited {
        retry_after_secs: retry_after_secs(wait),
    })
}

/// The key of a client: its peer IP address (the port is left out). No
/// proxy header is trusted; behind a reverse proxy every client shares the
/// proxy's address. Without a peer (in-process tests) all share `unknown`.
pub fn client_key(peer: Option<std::net::SocketAddr>) -> String {
    peer.map(|a| a.ip())
        .map_or_else(|| "unknown".to_owned(), |ip: IpAddr| ip.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + secs, 0)
            .single()
            .expect("instant")
    }

    #[test]
    fn the_window_slides_and_says_how_long_to_wait() {
        let w = SlidingWindow::new(2, Duration::from_secs(60));
        assert!(w.hit("a", t(0)).is_ok());
        assert!(w.hit("a", t(10)).is_ok());
        assert_eq!(w.hit("a", t(20)), Err(Duration::from_secs(40)));
        assert!(w.hit("b", t(20)).is_ok(), "other keys are not affected");
        assert!(
            w.hit("a", t(60)).is_ok(),
            "the first hit has left the window"
        );
        assert!(w.hit("a", t(61)).is_err());
    }

    #[test]
    fn memory_stays_bounded() {
        let w = SlidingWindow::bounded(1, Duration::from_secs(60), 3);
        for i in 0..10 {
            assert!(w.hit(&format!("k{i}"), t(i)).is_ok());
        }
        assert!(w.keys() <= 3);
        // Expired keys are swept before anything live is forgotten.
        let w = SlidingWindow::bounded(1, Duration::from_secs(60), 2);
        assert!(w.hit("old", t(0)).is_ok());
        assert!(w.hit("live", t(100)).is_ok());
        assert!(w.hit("new", t(110)).is_ok());
        assert!(w.hit("live", t(111)).is_err(), "a live key is kept");
    }

    #[test]
    fn client_key_is_the_ip_without_port() {
        let peer = "192.0.2.7:5555".parse().ok();
        assert_eq!(client_key(peer), "192.0.2.7");
        assert_eq!(client_key(None), "unknown");
    }
}
