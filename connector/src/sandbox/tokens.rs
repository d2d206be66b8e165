//! Issued tokens and the clock they expire by: the state a token grant writes and a bearer
//! check reads, kept apart from the routes that do either.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine;

/// A clock tests can move forward, and stop, so token expiry and the rate limit are tested
/// without sleeping and without depending on how fast the machine answers.
#[derive(Debug, Default)]
pub(crate) struct SandboxClock {
    skew: Mutex<Duration>,
    frozen: Mutex<Option<Instant>>,
}

impl SandboxClock {
    pub fn now(&self) -> Instant {
        let base = self
            .frozen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .unwrap_or_else(Instant::now);
        base + *self.skew.lock().unwrap_or_else(|e| e.into_inner())
    }
    pub fn advance(&self, by: Duration) {
        *self.skew.lock().unwrap_or_else(|e| e.into_inner()) += by;
    }
    /// Stops the clock where it is: from now on only [`Self::advance`] moves it.
    pub fn freeze(&self) {
        self.frozen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert_with(Instant::now);
    }
}

/// An access token's limits: a time, and optionally a number of API requests.
#[derive(Debug, Clone, Copy)]
struct AccessLimits {
    expires_at: Instant,
    uses_left: Option<u64>,
}

/// Issued tokens. Refresh tokens are single-use: redeeming one removes it.
#[derive(Debug, Default)]
pub(crate) struct TokenStore {
    access: Mutex<HashMap<String, AccessLimits>>,
    refresh: Mutex<HashSet<String>>,
}

impl TokenStore {
    /// A new access token, accepted until `expires_at` and, when `uses` is set, for that
    /// many API requests.
    pub fn issue_access(&self, expires_at: Instant, uses: Option<u64>) -> String {
        let token = random_token("sbx-at");
        self.access
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                token.clone(),
                AccessLimits {
                    expires_at,
                    uses_left: uses,
                },
            );
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
    /// Whether a bearer token is known and unexpired at `now`; a token with a number of
    /// uses spends one when it is accepted.
    pub fn accept(&self, token: &str, now: Instant) -> bool {
        let mut access = self.access.lock().unwrap_or_else(|e| e.into_inner());
        let Some(limits) = access.get_mut(token) else {
            return false;
        };
        if now >= limits.expires_at {
            return false;
        }
        match &mut limits.uses_left {
            None => true,
            Some(0) => false,
            Some(left) => {
                *left -= 1;
                true
            }
        }
    }
}

fn random_token(prefix: &str) -> String {
    let bytes: [u8; 24] = rand::random();
    format!(
        "{prefix}-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    )
}
