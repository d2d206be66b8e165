//! Issued tokens and the clock they expire by: the state a token grant writes and a bearer
//! check reads, kept apart from the routes that do either.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;

/// A clock tests can move forward, so expiry is tested without sleeping.
#[derive(Debug, Default)]
pub(crate) struct SandboxClock {
    skew: Mutex<Duration>,
}

impl SandboxClock {
    pub fn now(&self) -> Instant {
        Instant::now() + *self.skew.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn advance(&self, by: Duration) {
        *self.skew.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }
}

/// Issued tokens. Refresh tokens are single-use: redeeming one removes it.
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    access: Mutex<HashMap<String, Instant>>,
    refresh: Mutex<HashSet<String>>,
}

impl TokenStore {
    pub fn issue_access(&self, expires_at: Instant) -> String {
        let token = random_token("sbx-at");
        self.access
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.clone(), expires_at);
        token
    }
    pub fn issue_refresh(&self) -> String {
        let token = random_token("sbx-rt");
        self.refresh
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.clone());
        token
    }
    pub fn redeem_refresh(&self, token: &str) -> bool {
        self.refresh
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token)
    }
    /// Whether a bearer token is known and unexpired at `now`.
    pub fn is_valid(&self, token: &str, now: Instant) -> bool {
        self.access
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
            .is_some_and(|&expires_at| now < expires_at)
    }
}

fn random_token(prefix: &str) -> String {
    let bytes: [u8; 24] = rand::random();
    format!(
        "{prefix}-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}
