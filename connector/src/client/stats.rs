//! A client's traffic counters, for the run summary and the benchmarks.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};

/// Counters of one client's traffic, for the run summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent (API and token endpoint; every attempt counts).
    pub requests_sent: u64,
    /// Attempts that were retries of a failed attempt.
    pub retries: u64,
    /// 429 answers seen.
    pub throttled: u64,
    /// Token grants requested (client credentials or refresh).
    pub token_fetches: u64,
    /// API requests replayed with a new token after a 401.
    pub auth_replays: u64,
    /// Requests that finally failed.
    pub failures: u64,
    /// Response body bytes received.
    pub bytes_received: u64,
    /// The adaptive cap on requests in flight at the moment of the snapshot.
    pub concurrency_limit: usize,
    /// Request starts a second the client paces itself at (after a 429, or as configured
    /// by `requestsPerSecond`), rounded; `None` when it is not pacing.
    pub pace_per_second: Option<u32>,
}

impl fmt::Display for ClientStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} requests ({} retries, {} throttled, {} failed), {} token fetches, {} re-authentications, {} bytes received, concurrency {}",
            self.requests_sent,
            self.retries,
            self.throttled,
            self.failures,
            self.token_fetches,
            self.auth_replays,
            self.bytes_received,
            self.concurrency_limit
        )?;
        if let Some(pace) = self.pace_per_second {
            write!(f, ", paced at {pace} requests/s")?;
        }
        Ok(())
    }
}

#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) requests_sent: AtomicU64,
    pub(super) retries: AtomicU64,
    pub(super) throttled: AtomicU64,
    pub(super) token_fetches: AtomicU64,
    pub(super) auth_replays: AtomicU64,
    pub(super) failures: AtomicU64,
    pub(super) bytes_received: AtomicU64,
}

pub(super) fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}
