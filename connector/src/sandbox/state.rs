//! What every request handler shares: the org, credentials, knobs, tokens, stats and the
//! counters behind request ids, fault injection and the rate limit.

use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};
use std::time::Instant;

use super::knobs::Knobs;
use super::org::Org;
use super::stats::StatsRecorder;
use super::surface::ApiSurface;
use super::tokens::{SandboxClock, TokenStore};

pub(crate) type SharedState = Arc<AppState>;

pub(crate) struct AppState {
    pub org: Arc<Org>,
    /// Which of Sigma's API surfaces is served.
    pub surface: ApiSurface,
    pub client_id: String,
    pub client_secret: String,
    pub knobs: RwLock<Knobs>,
    pub tokens: TokenStore,
    pub stats: StatsRecorder,
    pub clock: SandboxClock,
    /// Numbers API requests for fault injection.
    pub api_sequence: AtomicU64,
    pub request_sequence: AtomicU64,
    pub request_id_salt: u64,
    rate_bucket: Mutex<Option<(f64, Instant)>>,
}

impl AppState {
    pub fn new(
        org: Arc<Org>,
        surface: ApiSurface,
        client_id: String,
        client_secret: String,
        knobs: Knobs,
    ) -> Self {
        Self {
            org,
            surface,
            client_id,
            client_secret,
            knobs: RwLock::new(knobs),
            tokens: TokenStore::default(),
            stats: StatsRecorder::default(),
            clock: SandboxClock::default(),
            api_sequence: AtomicU64::new(0),
            request_sequence: AtomicU64::new(0),
            request_id_salt: rand::random(),
            rate_bucket: Mutex::new(None),
        }
    }

    pub fn knobs(&self) -> RwLockReadGuard<'_, Knobs> {
        self.knobs.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Token bucket of `per_second` tokens refilled continuously, on the sandbox's clock (so
    /// a test that freezes it sees exactly `per_second` requests pass); false when empty.
    pub fn take_rate_token(&self, per_second: u32) -> bool {
        let mut bucket = self.rate_bucket.lock().unwrap_or_else(|e| e.into_inner());
        let now = self.clock.now();
        let capacity = f64::from(per_second.max(1));
        let (tokens, last) = bucket.get_or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*last).as_secs_f64() * capacity).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}
