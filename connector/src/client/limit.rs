//! Client-side flow control: an adaptive (AIMD) cap on requests in flight, and an optional
//! fixed requests-per-second pacing.
//!
//! Sigma documents no global rate limit but answers 429 when pushed. A client that keeps
//! `maxConcurrency` requests in flight regardless turns one 429 into a storm of them. Like
//! TCP congestion control, we halve the in-flight cap on a 429 (at most once per "window":
//! a 429 to a request that started before the last decrease says nothing new) and add
//! about one slot per window of successes, so a run under a server limit settles just
//! below it instead of oscillating against it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct AdaptiveLimit {
    semaphore: Arc<Semaphore>,
    max: usize,
    state: Mutex<LimitState>,
}

#[derive(Debug)]
struct LimitState {
    /// The adaptive cap; fractional so that additive increase can be `1 / limit` per success.
    limit: f64,
    /// Permits in circulation (held or available): `floor(limit)` once all withheld
    /// permits have been returned.
    circulating: usize,
    /// Permits to retire when their holders release them (a decrease below the number in
    /// flight cannot take permits back from running requests).
    withheld: usize,
    /// Bumped on every decrease.
    epoch: u64,
}

/// One request's slot. Dropping it returns the slot (or retires it after a decrease).
#[derive(Debug)]
pub(crate) struct Slot {
    permit: Option<OwnedSemaphorePermit>,
    epoch: u64,
    owner: Arc<AdaptiveLimit>,
}

impl AdaptiveLimit {
    pub(crate) fn new(max: usize) -> Arc<Self> {
        let max = max.max(1);
        Arc::new(Self {
            semaphore: Arc::new(Semaphore::new(max)),
            max,
            state: Mutex::new(LimitState {
                limit: max as f64,
                circulating: max,
                withheld: 0,
                epoch: 0,
            }),
        })
    }

    pub(crate) async fn acquire(self: &Arc<Self>) -> Slot {
        let permit = Arc::clone(&self.semaphore)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let epoch = self.lock().epoch;
        Slot {
            permit: Some(permit),
            epoch,
            owner: Arc::clone(self),
        }
    }

    /// The current cap (for stats and tests).
    pub(crate) fn current(&self) -> usize {
        let s = self.lock();
        s.circulating
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimitState> {
        // The state stays consistent even if a holder panicked: every update is a few
        // arithmetic steps with no await inside.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn on_success(&self) {
        let mut s = self.lock();
        if s.circulating >= self.max {
            return;
        }
        s.limit = (s.limit + 1.0 / s.limit).min(self.max as f64);
        if (s.limit.floor() as usize) > s.circulating {
            s.circulating += 1;
            if s.withheld > 0 {
                s.withheld -= 1;
            } else {
                self.semaphore.add_permits(1);
            }
        }
    }

    fn on_throttled(&self, epoch: u64) {
        let mut s = self.lock();
        if epoch != s.epoch {
            return;
        }
        s.epoch += 1;
        let target = (s.circulating / 2).max(1);
        s.limit = target as f64;
        let mut surplus = s.circulating - target;
        s.circulating = target;
        while surplus > 0 {
            match self.semaphore.try_acquire() {
                Ok(permit) => {
                    permit.forget();
                    surplus -= 1;
                }
                Err(_) => break,
            }
        }
        s.withheld += surplus;
    }
}

impl Slot {
    /// The request this slot admitted succeeded.
    pub(crate) fn succeeded(&self) {
        self.owner.on_success();
    }

    /// The request this slot admitted was answered 429.
    pub(crate) fn throttled(&self) {
        self.owner.on_throttled(self.epoch);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            let mut s = self.owner.lock();
            if s.withheld > 0 {
                s.withheld -= 1;
                permit.forget();
            }
        }
    }
}

/// Fixed pacing: at most `rate` request starts per second, no bursts beyond one.
#[derive(Debug)]
pub(crate) struct RatePacer {
    interval: Duration,
    next: Mutex<Option<Instant>>,
}

impl RatePacer {
    pub(crate) fn new(requests_per_second: f64) -> Option<Self> {
        if !(requests_per_second.is_finite() && requests_per_second > 0.0) {
            return None;
        }
        Some(Self {
            interval: Duration::from_secs_f64(1.0 / requests_per_second),
            next: Mutex::new(None),
        })
    }

    /// Waits for this caller's turn. Turns are handed out in call order.
    pub(crate) async fn wait(&self) {
        let at = {
            let mut next = self.next.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            let at = match *next {
                Some(t) if t > now => t,
                _ => now,
            };
            *next = Some(at + self.interval);
            at
        };
        tokio::time::sleep_until(at).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_429_halves_the_cap_once_per_window() {
        let limit = AdaptiveLimit::new(16);
        let slots: Vec<Slot> = futures::future::join_all((0..8).map(|_| limit.acquire())).await;
        // Eight requests from the same window are all throttled: one decrease, not eight.
        for s in &slots {
            s.throttled();
        }
        assert_eq!(limit.current(), 8);
        drop(slots);
        // A request admitted after the decrease may decrease again.
        let s = limit.acquire().await;
        s.throttled();
        assert_eq!(limit.current(), 4);
        drop(s);
        assert_eq!(limit.semaphore.available_permits(), 4);
    }

    #[tokio::test]
    async fn a_decrease_below_the_in_flight_count_retires_slots_as_they_return() {
        let limit = AdaptiveLimit::new(4);
        let slots: Vec<Slot> = futures::future::join_all((0..4).map(|_| limit.acquire())).await;
        slots[0].throttled();
        assert_eq!(limit.current(), 2);
        drop(slots);
        assert_eq!(limit.semaphore.available_permits(), 2);
    }

    #[tokio::test]
    async fn successes_grow_the_cap_back_additively() {
        let limit = AdaptiveLimit::new(8);
        let s = limit.acquire().await;
        s.throttled();
        drop(s);
        let s = limit.acquire().await;
        s.throttled();
        drop(s);
        assert_eq!(limit.current(), 2);
        // From 2, three successes (2.5, 2.9, 3.24) lift the cap to 3: additive, not a jump.
        for _ in 0..2 {
            limit.acquire().await.succeeded();
        }
        assert_eq!(limit.current(), 2);
        for _ in 0..1 {
            limit.acquire().await.succeeded();
        }
        assert_eq!(limit.current(), 3);
        for _ in 0..100 {
            limit.acquire().await.succeeded();
        }
        assert_eq!(limit.current(), 8);
        assert_eq!(limit.semaphore.available_permits(), 8);
    }

    #[tokio::test(start_paused = true)]
    async fn pacer_spaces_request_starts() {
        let pacer = RatePacer::new(10.0).unwrap();
        let start = Instant::now();
        for _ in 0..11 {
            pacer.wait().await;
        }
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        assert!(RatePacer::new(0.0).is_none());
    }
}
