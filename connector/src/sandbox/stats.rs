//! Request accounting, served at `GET /__stats` and through the handle.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

/// A snapshot of what the sandbox has served.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// All requests, including auth and unmatched ones (not `/__stats` itself).
    pub total_requests: u64,
    /// By templated route, e.g. `GET /v2/workbooks/{workbookId}/pages`.
    pub requests_by_route: BTreeMap<String, u64>,
    /// By HTTP status code (dropped connections count under `"dropped"`).
    pub status_counts: BTreeMap<String, u64>,
    /// By templated route, then status: how often a route answered 404, 429, 200...
    pub statuses_by_route: BTreeMap<String, BTreeMap<String, u64>>,
    /// Tokens issued, by grant type (`client_credentials`, `refresh_token`, `keycloak_client_credentials`).
    pub token_grants: BTreeMap<String, u64>,
    pub peak_in_flight: usize,
}

impl Stats {
    /// Requests to one templated route, e.g. `"GET /v2/workbooks/{workbookId}/lineage"`
    /// (a route without the method, `"/v2/reports"`, means `GET`).
    pub fn requests(&self, route: &str) -> u64 {
        self.requests_by_route
            .get(&Self::route_key(route))
            .copied()
            .unwrap_or(0)
    }
    /// How often a templated route answered `status` (`"404"`, `"dropped"`...).
    pub fn answers(&self, route: &str, status: &str) -> u64 {
        self.statuses_by_route
            .get(&Self::route_key(route))
            .and_then(|by_status| by_status.get(status))
            .copied()
            .unwrap_or(0)
    }
    /// Requests whose route template starts with `prefix` (method included or not).
    pub fn requests_under(&self, prefix: &str) -> u64 {
        let prefix = Self::route_key(prefix);
        self.requests_by_route
            .iter()
            .filter(|(route, _)| route.starts_with(&prefix))
            .map(|(_, n)| n)
            .sum()
    }
    fn route_key(route: &str) -> String {
        if route.starts_with('/') {
            format!("GET {route}")
        } else {
            route.to_owned()
        }
    }
}

#[derive(Debug, Default)]
pub(crate) struct StatsRecorder {
    counts: Mutex<Stats>,
    in_flight: AtomicUsize,
    peak_in_flight: AtomicUsize,
}

impl StatsRecorder {
    pub fn route(&self, route: &str) {
        let mut s = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        s.total_requests += 1;
        *s.requests_by_route.entry(route.to_owned()).or_default() += 1;
    }
    pub fn status(&self, route: Option<&str>, status: &str) {
        let mut s = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *s.status_counts.entry(status.to_owned()).or_default() += 1;
        if let Some(route) = route {
            *s.statuses_by_route
                .entry(route.to_owned())
                .or_default()
                .entry(status.to_owned())
                .or_default() += 1;
        }
    }
    pub fn grant(&self, grant_type: &str) {
        let mut s = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        *s.token_grants.entry(grant_type.to_owned()).or_default() += 1;
    }
    /// Marks a request in flight until the guard drops.
    pub fn enter(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak_in_flight.fetch_max(now, Ordering::SeqCst);
        InFlight(self)
    }
    pub fn snapshot(&self) -> Stats {
        let mut s = self
            .counts
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone();
        s.peak_in_flight = self.peak_in_flight.load(Ordering::SeqCst);
        s
    }
    pub fn reset(&self) {
        *self.counts.lock().unwrap_or_else(|e| e.into_inner()) = Stats::default();
        self.peak_in_flight
            .store(self.in_flight.load(Ordering::SeqCst), Ordering::SeqCst);
    }
}

pub(crate) struct InFlight<'a>(&'a StatsRecorder);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}
