//! Decorrelated-jitter backoff ("Exponential Backoff and Jitter", AWS architecture blog):
//! each wait is drawn uniformly from `[init, 3 * previous]`, capped. Jitter keeps many
//! clients (or many concurrent requests of one client) that failed together from retrying
//! together.

use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// Bounds of the backoff between retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackoffConfig {
    /// The smallest wait, and the first wait's lower bound.
    pub init: Duration,
    /// The largest wait from backoff alone (a `Retry-After` may ask for more).
    pub max: Duration,
}

impl Default for BackoffConfig {
    fn default() -> Self {
        Self {
            init: Duration::from_millis(200),
            max: Duration::from_secs(30),
        }
    }
}

/// The next wait, given the previous one and a uniform sample `unit` in `[0, 1)`.
/// Pure so that its bounds can be tested without randomness.
pub fn decorrelated_jitter(config: &BackoffConfig, previous: Duration, unit: f64) -> Duration {
    let low = config.init.as_secs_f64();
    let high = (previous.as_secs_f64() * 3.0).max(low);
    let unit = unit.clamp(0.0, 1.0);
    let wait = low + (high - low) * unit;
    Duration::from_secs_f64(wait).min(config.max)
}

/// The backoff state of one request's retries.
#[derive(Debug)]
pub(crate) struct Backoff {
    config: BackoffConfig,
    previous: Duration,
    rng: SmallRng,
}

impl Backoff {
    pub(crate) fn new(config: BackoffConfig) -> Self {
        Self {
            config,
            previous: config.init,
            rng: SmallRng::from_rng(&mut rand::rng()),
        }
    }

    pub(crate) fn next_wait(&mut self) -> Duration {
        let unit: f64 = self.rng.random();
        let wait = decorrelated_jitter(&self.config, self.previous, unit);
        self.previous = wait;
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_wait_lies_between_init_and_three_times_init() {
        let c = BackoffConfig {
            init: Duration::from_millis(100),
            max: Duration::from_secs(10),
        };
        assert_eq!(
            decorrelated_jitter(&c, c.init, 0.0),
            Duration::from_millis(100)
        );
        let top = decorrelated_jitter(&c, c.init, 0.999_999);
        assert!(top <= Duration::from_millis(300) && top > Duration::from_millis(299));
    }

    #[test]
    fn waits_are_capped() {
        let c = BackoffConfig {
            init: Duration::from_millis(100),
            max: Duration::from_secs(1),
        };
        assert_eq!(
            decorrelated_jitter(&c, Duration::from_secs(60), 0.9),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn backoff_grows_but_stays_within_bounds() {
        let c = BackoffConfig {
            init: Duration::from_millis(50),
            max: Duration::from_secs(2),
        };
        let mut b = Backoff::new(c);
        for _ in 0..100 {
            let w = b.next_wait();
            assert!(w >= c.init && w <= c.max, "{w:?}");
        }
    }
}
