//! Client-side flow control: an adaptive (AIMD) cap on requests in flight, and an adaptive
//! pacing of request starts under an optional fixed requests-per-second ceiling.
//!
//! Sigma documents no global rate limit but answers 429 when pushed. A client that keeps
//! `maxConcurrency` requests in flight regardless turns one 429 into a storm of them. Like
//! TCP congestion control, we halve the in-flight cap on a 429 (at most once per "window":
//! a 429 to a request that started before the last decrease says nothing new) and add
//! about one slot per window of successes.
//!
//! A cap on requests in flight bounds the rate only through the server's latency: at 25 ms
//! a single request in flight is already 40 requests a second, two are 80. Against a server
//! that counts requests per second, the in-flight cap alone keeps oscillating between "one
//! slot, under the limit" and "two slots, over it", and a quarter of the requests were
//! answered 429 (docs/performance.md). So the first 429 also starts pacing: request starts
//! are spaced at 90% of the rate the server accepted over the last second (once it has
//! accepted at least two), each later decrease takes 10% off, and every second of successes
//! adds about 2% (at least one request a second) back, up to twice the rate being accepted.
//! The run settles just under the server's limit: 1% of requests answered 429 under a
//! 50 requests/second limit, where the in-flight cap alone had 25%.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

#[derive(Debug)]
pub(crate) struct AdaptiveLimit {
    semaphore: Arc<Semaphore>,
    max: usize,
    state: Mutex<LimitState>,
    pace: Mutex<Pace>,
}

/// The window over which accepted requests are counted to estimate the server's rate.
const RATE_WINDOW: Duration = Duration::from_secs(1);
/// A decrease paces at this share of the rate the server accepted (or of the last pace).
const RATE_DECREASE: f64 = 0.9;
/// Growth per second of successes, as a share of the pace (at least one request a second).
const RATE_GROWTH: f64 = 0.02;

/// Pacing of request starts: `ceiling` is the configured `requestsPerSecond`, `adaptive` the
/// rate learnt from 429s (none until the first one).
#[derive(Debug)]
struct Pace {
    ceiling: Option<f64>,
    adaptive: Option<f64>,
    /// When the next request may start.
    next: Option<Instant>,
    /// When recent requests succeeded (the last [`RATE_WINDOW`]), to estimate the rate the
    /// server accepts.
    accepted: VecDeque<Instant>,
}

impl Pace {
    fn rate(&self) -> Option<f64> {
        match (self.ceiling, self.adaptive) {
            (Some(c), Some(a)) => Some(c.min(a)),
            (c, a) => c.or(a),
        }
    }

    fn prune(&mut self, now: Instant) {
        while self
            .accepted
            .front()
            .is_some_and(|t| now.duration_since(*t) > RATE_WINDOW)
        {
            self.accepted.pop_front();
        }
    }
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
    /// At most `max` requests in flight, and at most `ceiling` request starts a second
    /// (when it is a positive finite number).
    pub(crate) fn new(max: usize, ceiling: Option<f64>) -> Arc<Self> {
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
            pace: Mutex::new(Pace {
                ceiling: ceiling.filter(|r| r.is_finite() && *r > 0.0),
                adaptive: None,
                next: None,
                accepted: VecDeque::new(),
            }),
        })
    }

    /// Waits for a slot in flight, then for this request's turn to start.
    pub(crate) async fn acquire(self: &Arc<Self>) -> Slot {
        let permit = Arc::clone(&self.semaphore)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let epoch = self.lock().epoch;
        let slot = Slot {
            permit: Some(permit),
            epoch,
            owner: Arc::clone(self),
        };
        if let Some(at) = self.turn() {
            tokio::time::sleep_until(at).await;
        }
        slot
    }

    /// Hands out the next start time under the current pace (turns in call order), or
    /// `None` when requests are not paced.
    fn turn(&self) -> Option<Instant> {
        let mut p = self.pace();
        let rate = p.rate()?;
        let now = Instant::now();
        let at = match p.next {
            Some(t) if t > now => t,
            _ => now,
        };
        p.next = Some(at + Duration::from_secs_f64(1.0 / rate));
        Some(at)
    }

    /// The current cap (for stats and tests).
    pub(crate) fn current(&self) -> usize {
        let s = self.lock();
        s.circulating
    }

    /// The current pace in request starts a second, if requests are paced.
    pub(crate) fn pace_per_second(&self) -> Option<f64> {
        self.pace().rate()
    }

    fn pace(&self) -> std::sync::MutexGuard<'_, Pace> {
        self.pace.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LimitState> {
        // The state stays consistent even if a holder panicked: every update is a few
        // arithmetic steps with no await inside.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn on_success(&self) {
        {
            let mut p = self.pace();
            let now = Instant::now();
            p.prune(now);
            p.accepted.push_back(now);
            // Per success `growth / rate`, so per second (`rate` successes) `growth`; but
            // never beyond twice what the server is accepting now, so a quiet spell does not
            // leave a pace far above anything it has seen answered.
            let seen = 2.0 * p.accepted.len() as f64 / RATE_WINDOW.as_secs_f64() + 1.0;
            if let Some(rate) = p.adaptive.filter(|r| *r < seen) {
                let growth = (rate * RATE_GROWTH).max(1.0);
                p.adaptive = Some(rate + growth / rate);
            }
        }
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
        {
            let mut p = self.pace();
            p.prune(Instant::now());
            let accepted = p.accepted.len() as f64 / RATE_WINDOW.as_secs_f64();
            // The first estimate needs a few answers to go on; before that, the halved
            // in-flight cap and the server's Retry-After do the slowing.
            let base = p.adaptive.or((p.accepted.len() >= 2).then_some(accepted));
            if let Some(base) = base {
                p.adaptive = Some((base * RATE_DECREASE).max(1.0));
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_429_halves_the_cap_once_per_window() {
        let limit = AdaptiveLimit::new(16, None);
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
        let limit = AdaptiveLimit::new(4, None);
        let slots: Vec<Slot> = futures::future::join_all((0..4).map(|_| limit.acquire())).await;
        slots[0].throttled();
        assert_eq!(limit.current(), 2);
        drop(slots);
        assert_eq!(limit.semaphore.available_permits(), 2);
    }

    #[tokio::test]
    async fn successes_grow_the_cap_back_additively() {
        let limit = AdaptiveLimit::new(8, None);
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
    async fn a_ceiling_spaces_request_starts() {
        let limit = AdaptiveLimit::new(4, Some(10.0));
        let start = Instant::now();
        for _ in 0..11 {
            limit.acquire().await.succeeded();
        }
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        assert_eq!(AdaptiveLimit::new(4, Some(0.0)).pace_per_second(), None);
        assert_eq!(
            AdaptiveLimit::new(4, Some(f64::NAN)).pace_per_second(),
            None
        );
    }

    #[tokio::test(start_paused = true)]
    async fn the_first_429_paces_at_90_percent_of_the_accepted_rate() {
        let limit = AdaptiveLimit::new(8, None);
        assert_eq!(limit.pace_per_second(), None);
        // 50 successes within the last second, then a 429.
        for _ in 0..50 {
            limit.acquire().await.succeeded();
            tokio::time::advance(Duration::from_millis(10)).await;
        }
        limit.acquire().await.throttled();
        assert_eq!(limit.pace_per_second(), Some(45.0));
        // A second decrease takes 10% off the pace (not off a window emptied by waiting).
        tokio::time::advance(Duration::from_secs(5)).await;
        limit.acquire().await.throttled();
        let pace = limit.pace_per_second().unwrap();
        assert!((pace - 40.5).abs() < 1e-9, "{pace}");
    }

    #[tokio::test(start_paused = true)]
    async fn no_pacing_from_a_429_with_nothing_answered_to_estimate_from() {
        let limit = AdaptiveLimit::new(8, None);
        limit.acquire().await.throttled();
        assert_eq!(limit.pace_per_second(), None);
        assert_eq!(limit.current(), 4);
    }

    #[tokio::test(start_paused = true)]
    async fn the_pace_does_not_grow_beyond_twice_the_accepted_rate() {
        let limit = AdaptiveLimit::new(8, None);
        for _ in 0..10 {
            limit.acquire().await.succeeded();
        }
        limit.acquire().await.throttled();
        assert_eq!(limit.pace_per_second(), Some(9.0));
        // A trickle of one success every two seconds for ten minutes.
        for _ in 0..300 {
            tokio::time::advance(Duration::from_secs(2)).await;
            limit.acquire().await.succeeded();
        }
        let pace = limit.pace_per_second().unwrap();
        assert!(pace <= 9.0, "{pace}");
    }

    #[tokio::test(start_paused = true)]
    async fn paced_starts_follow_the_pace_and_successes_raise_it_slowly() {
        let limit = AdaptiveLimit::new(8, None);
        for _ in 0..20 {
            limit.acquire().await.succeeded();
        }
        limit.acquire().await.throttled();
        assert_eq!(limit.pace_per_second(), Some(18.0));
        // One second of successes at the pace adds about one request a second.
        let start = Instant::now();
        for _ in 0..18 {
            limit.acquire().await.succeeded();
        }
        let elapsed = start.elapsed().as_secs_f64();
        assert!((0.9..=1.0).contains(&elapsed), "{elapsed}");
        let pace = limit.pace_per_second().unwrap();
        assert!((18.9..19.1).contains(&pace), "{pace}");
        // A configured ceiling stays the ceiling while successes raise the learnt pace, and
        // a 429 under it paces below it.
        let capped = AdaptiveLimit::new(8, Some(5.0));
        for _ in 0..20 {
            capped.acquire().await.succeeded();
        }
        capped.acquire().await.throttled();
        assert_eq!(capped.pace_per_second(), Some(4.5));
        for _ in 0..200 {
            capped.acquire().await.succeeded();
        }
        assert_eq!(capped.pace_per_second(), Some(5.0));
    }

    /// A server that serves four requests at a time and answers 429 to the rest, simulated
    /// on tokio's paused clock (no sockets, one thread): the same run every time, on any
    /// machine. Sixty-four callers share a limit of 32; a refused request backs off 2 ms
    /// and tries again. The refusals die out instead of storming, and the cap comes down to
    /// what the server takes.
    #[tokio::test(start_paused = true)]
    async fn against_a_server_that_serves_four_at_a_time_refusals_die_out() {
        use futures::StreamExt;
        use std::sync::atomic::{AtomicUsize, Ordering};

        const SERVES: usize = 4;
        let limit = AdaptiveLimit::new(32, None);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let log: Arc<Mutex<Vec<bool>>> = Arc::default();
        let total = 400;
        futures::stream::iter(0..total)
            .map(|_| {
                let (limit, in_flight, log) = (limit.clone(), in_flight.clone(), log.clone());
                async move {
                    loop {
                        let slot = limit.acquire().await;
                        // One millisecond on the way to the server.
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        if in_flight.fetch_add(1, Ordering::SeqCst) >= SERVES {
                            in_flight.fetch_sub(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(1)).await;
                            log.lock().unwrap().push(true);
                            slot.throttled();
                            drop(slot);
                            tokio::time::sleep(Duration::from_millis(2)).await;
                            continue;
                        }
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        in_flight.fetch_sub(1, Ordering::SeqCst);
                        log.lock().unwrap().push(false);
                        slot.succeeded();
                        return;
                    }
                }
            })
            .buffer_unordered(64)
            .collect::<Vec<()>>()
            .await;
        let log = log.lock().unwrap().clone();
        let refused = log.iter().filter(|t| **t).count();
        let share = |part: &[bool]| part.iter().filter(|t| **t).count() as f64 / part.len() as f64;
        let quarter = log.len() / 4;
        let (first, last) = (share(&log[..quarter]), share(&log[log.len() - quarter..]));
        eprintln!(
            "{refused} refusals; share first quarter {first:.2}, last {last:.2}; cap {}",
            limit.current()
        );
        assert_eq!(log.len() - refused, total, "every request was served");
        assert!(first > 0.3, "the first burst finds the limit: {first:.2}");
        assert!(
            last < first && last < 0.3,
            "the share of 429s falls, to mostly successes: {first:.2} -> {last:.2}"
        );
        assert!(
            refused < total,
            "no storm: {refused} refusals for {total} requests"
        );
        assert!(limit.current() < 32, "{}", limit.current());
    }

    /// A server with a token bucket (150 a second, starting full) answering 429 with
    /// `Retry-After: 1` when it is empty, 5 ms per answer, and a client allowed 32 in
    /// flight: on a paused clock, the same every run. The opening burst finds the limit;
    /// pacing then keeps refusals to a small share (8 of 608 today), where a client without
    /// it would have most of its requests refused. Pacing from a shorter window than a
    /// second (tried) read the burst as a far higher rate and refused 10-13%.
    #[tokio::test(start_paused = true)]
    async fn against_a_token_bucket_refusals_stay_a_small_share() {
        use futures::StreamExt;

        const PER_SECOND: f64 = 150.0;
        let limit = AdaptiveLimit::new(32, None);
        let bucket = Arc::new(Mutex::new((PER_SECOND, Instant::now())));
        let take = {
            let bucket = bucket.clone();
            move || {
                let mut b = bucket.lock().unwrap();
                let now = Instant::now();
                b.0 = (b.0 + now.duration_since(b.1).as_secs_f64() * PER_SECOND).min(PER_SECOND);
                b.1 = now;
                if b.0 >= 1.0 {
                    b.0 -= 1.0;
                    true
                } else {
                    false
                }
            }
        };
        let refused = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let total = 600;
        let started = Instant::now();
        futures::stream::iter(0..total)
            .map(|_| {
                let (limit, take, refused) = (limit.clone(), take.clone(), refused.clone());
                async move {
                    loop {
                        let slot = limit.acquire().await;
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        if take() {
                            slot.succeeded();
                            return;
                        }
                        refused.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        slot.throttled();
                        drop(slot);
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            })
            .buffer_unordered(64)
            .collect::<Vec<()>>()
            .await;
        let refused = refused.load(std::sync::atomic::Ordering::SeqCst);
        let share = refused as f64 / (refused + total) as f64;
        let took = started.elapsed().as_secs_f64();
        eprintln!(
            "{refused} refused of {} ({:.1}%), {took:.2} s for {total} (bound {:.2} s), pace {:?}",
            refused + total,
            share * 100.0,
            (total as f64 - PER_SECOND) / PER_SECOND,
            limit.pace_per_second()
        );
        assert!(share < 0.05, "{share}");
        // Not slower than the bucket allows by much: its rate after the opening burst.
        assert!(
            took < 1.5 * (total as f64 - PER_SECOND) / PER_SECOND + 1.0,
            "{took}"
        );
    }
}
