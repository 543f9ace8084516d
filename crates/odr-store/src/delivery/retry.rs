//! How often and how patiently a failed mail is tried again.

use std::time::Duration;

use rand::Rng;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Failed attempts after which a row is `dead`.
    pub max_attempts: u32,
    /// Wait after the first failure; doubles with each further one.
    pub base: Duration,
    /// The longest wait between two attempts (before jitter).
    pub max: Duration,
    /// Each wait is moved by up to this fraction either way, so that mails
    /// that failed together do not all come back together. 0 in tests that
    /// need exact times.
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base: Duration::from_secs(30),
            max: Duration::from_secs(3600),
            jitter: 0.2,
        }
    }
}

impl RetryPolicy {
    /// The wait after the `attempts`-th failure (1 for the first):
    /// `base × 2^(attempts-1)`, at most `max`, then ± `jitter`.
    pub fn backoff(&self, attempts: u32, rng: &mut impl Rng) -> Duration {
        let doublings = attempts.saturating_sub(1).min(32);
        let plain = self
            .base
            .saturating_mul(1 << doublings.min(31))
            .min(self.max);
        let jitter = self.jitter.clamp(0.0, 1.0);
        if jitter == 0.0 {
            return plain;
        }
        plain.mul_f64(1.0 + rng.random_range(-jitter..=jitter))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn backoff_doubles_from_base_up_to_max_without_jitter() {
        let policy = RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        };
        let mut rng = rand::rngs::StdRng::seed_from_u64(1);
        let waits: Vec<u64> = (1..=9)
            .map(|n| policy.backoff(n, &mut rng).as_secs())
            .collect();
        assert_eq!(waits, [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]);
        assert_eq!(policy.backoff(u32::MAX, &mut rng).as_secs(), 3600);
    }

    #[test]
    fn jitter_moves_each_wait_by_at_most_a_fifth_and_varies() {
        let policy = RetryPolicy::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let waits: Vec<f64> = (0..200)
            .map(|_| policy.backoff(3, &mut rng).as_secs_f64())
            .collect();
        assert!(
            waits.iter().all(|w| (96.0..=144.0).contains(w)),
            "{waits:?}"
        );
        let spread = waits.iter().cloned().fold(f64::MIN, f64::max)
            - waits.iter().cloned().fold(f64::MAX, f64::min);
        assert!(spread > 20.0, "jitter should spread retries, got {spread}s");
    }
}
