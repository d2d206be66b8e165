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
    // NaN would survive `clamp` and make the conversion panic; treat it as the low end.
    let unit = if unit.is_nan() {
        0.0
    } else {
        unit.clamp(0.0, 1.0)
    };
    let wait = low + (high - low) * unit;
    // Three times a huge `previous` can exceed what a Duration holds: that is the cap too.
    Duration::try_from_secs_f64(wait)
        .unwrap_or(Duration::MAX)
        .min(config.max)
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

    /// A first wait (`[init, 3 * init]`), without growing the next one.
    pub(crate) fn first_wait(&mut self) -> Duration {
        let unit: f64 = self.rng.random();
        decorrelated_jitter(&self.config, self.config.init, unit)
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

    /// Found by `tests/properties.rs`: 3 x a huge previous wait overflowed `Duration` and a
    /// NaN sample survived `clamp`; both panicked in `from_secs_f64`.
    #[test]
    fn huge_previous_waits_and_nan_samples_do_not_panic() {
        let c = BackoffConfig {
            init: Duration::ZERO,
            max: Duration::ZERO,
        };
        assert_eq!(
            decorrelated_jitter(&c, Duration::from_secs(6_148_914_691_236_516_353), 1.0),
            Duration::ZERO
        );
        let c = BackoffConfig::default();
        assert_eq!(decorrelated_jitter(&c, Duration::MAX, 0.5), c.max);
        assert_eq!(decorrelated_jitter(&c, c.init, f64::NAN), c.init);
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
