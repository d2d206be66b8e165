//! The access token shared by every request of a client, and the parsing of token
//! responses.
//!
//! One token for all concurrent requests: the fast path takes a read lock; a request that
//! finds the token stale takes the write lock, checks again (another request may have
//! refreshed it meanwhile) and only then fetches, so a hundred requests that notice expiry
//! together cause one fetch while the rest wait for it. Expiry is kept on tokio's
//! monotonic clock, so wall-clock jumps do nothing and `tokio::time::pause()` drives tests.

use std::fmt;
use std::future::Future;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::RwLock;
use tokio::time::Instant;

/// Lifetime assumed when the token endpoint omits `expires_in`: short enough that a
/// shorter-lived token is replaced early rather than used after it died.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(300);

/// Refresh this long before expiry at most.
const MAX_REFRESH_MARGIN: Duration = Duration::from_secs(60);

/// A token as the endpoint issued it.
pub(crate) struct TokenGrant {
    pub(crate) access: SecretString,
    pub(crate) refresh: Option<SecretString>,
    pub(crate) lifetime: Duration,
}

impl fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenGrant")
            .field("access", &"[redacted]")
            .field("refresh", &self.refresh.as_ref().map(|_| "[redacted]"))
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

/// How long before expiry a token is replaced: 60 s, or a tenth of the lifetime for
/// tokens that live under ten minutes (a 30 s token refreshed 60 s early would never be
/// used).
pub fn refresh_margin(lifetime: Duration) -> Duration {
    MAX_REFRESH_MARGIN.min(lifetime / 10)
}

struct Cached {
    access: SecretString,
    refresh: Option<SecretString>,
    expires_at: Instant,
    refresh_at: Instant,
    generation: u64,
}

/// The cached token of one client.
#[derive(Default)]
pub struct TokenCache {
    state: RwLock<Option<Cached>>,
    generation: std::sync::atomic::AtomicU64,
    /// The newest generation the API has accepted at least once.
    accepted: std::sync::atomic::AtomicU64,
}

impl fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cached = self.state.try_read().ok().map(|s| s.is_some());
        f.debug_struct("TokenCache")
            .field(
                "token",
                &cached.map(|c| if c { "[redacted]" } else { "none" }),
            )
            .finish()
    }
}

/// A token handed to one request, with the generation to name when it is rejected.
pub(crate) struct IssuedToken {
    pub(crate) access: SecretString,
    pub(crate) generation: u64,
}

impl TokenCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The API accepted a token of `generation`.
    pub(crate) fn accepted(&self, generation: u64) {
        self.accepted
            .fetch_max(generation, std::sync::atomic::Ordering::Relaxed);
    }

    /// Whether the API has accepted a token of `generation` (or a later one): a token that
    /// worked and was then refused died (expired, revoked); one never accepted may be
    /// refused outright.
    pub(crate) fn was_accepted(&self, generation: u64) -> bool {
        self.accepted.load(std::sync::atomic::Ordering::Relaxed) >= generation
    }

    /// The current token, fetching one with `fetch` when there is none or it is due for
    /// refresh. `fetch` receives the refresh token of the last grant, if it gave one.
    pub(crate) async fn get_or_fetch<F, Fut, E>(&self, fetch: F) -> Result<IssuedToken, E>
    where
        F: FnOnce(Option<SecretString>) -> Fut,
        Fut: Future<Output = Result<TokenGrant, E>>,
    {
        if let Some(token) = Self::fresh(self.state.read().await.as_ref()) {
            return Ok(token);
        }
        let mut state = self.state.write().await;
        if let Some(token) = Self::fresh(state.as_ref()) {
            return Ok(token);
        }
        let refresh = state.as_ref().and_then(|c| c.refresh.clone());
        match fetch(refresh).await {
            Ok(grant) => {
                let now = Instant::now();
                let generation = self
                    .generation
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
                    + 1;
                let issued = IssuedToken {
                    access: grant.access.clone(),
                    generation,
                };
                *state = Some(Cached {
                    access: grant.access,
                    refresh: grant.refresh,
                    expires_at: now + grant.lifetime,
                    refresh_at: now + grant.lifetime - refresh_margin(grant.lifetime),
                    generation,
                });
                Ok(issued)
            }
            Err(e) => {
                // A proactive refresh failed but the old token has not expired yet: use it
                // for now (the next request tries the refresh again) rather than fail.
                if let Some(c) = state.as_ref() {
                    if Instant::now() < c.expires_at {
                        tracing::warn!(
                            "token refresh failed; using the current token until it expires"
                        );
                        return Ok(IssuedToken {
                            access: c.access.clone(),
                            generation: c.generation,
                        });
                    }
                }
                Err(e)
            }
        }
    }

    fn fresh(cached: Option<&Cached>) -> Option<IssuedToken> {
        let c = cached?;
        (Instant::now() < c.refresh_at).then(|| IssuedToken {
            access: c.access.clone(),
            generation: c.generation,
        })
    }

    /// The API rejected the token of `generation`: drop it so the next request fetches a
    /// new one. A stale generation (another request already replaced the token) is
    /// ignored, so a burst of 401s causes one fetch. The refresh token is kept: it may
    /// still be good, and a failed refresh falls back to client credentials anyway.
    pub(crate) async fn invalidate(&self, generation: u64) {
        let mut state = self.state.write().await;
        if let Some(c) = state.as_mut() {
            if c.generation == generation {
                let now = Instant::now();
                c.expires_at = now;
                c.refresh_at = now;
            }
        }
    }

    /// Drops the current token whatever its generation (the refresh token is kept).
    pub async fn clear(&self) {
        let mut state = self.state.write().await;
        if let Some(c) = state.as_mut() {
            let now = Instant::now();
            c.expires_at = now;
            c.refresh_at = now;
        }
    }
}

#[derive(Deserialize)]
struct TokenBody {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// A 200 from the token endpoint that is not a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NotAToken {
    pub(crate) json_path: String,
    pub(crate) detail: String,
    pub(crate) body_excerpt: String,
}

/// Parses a token response. On failure, reports where and why, with a scrubbed excerpt.
pub(crate) fn parse_token_response(
    body: &[u8],
    secret: &SecretString,
) -> Result<TokenGrant, NotAToken> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed: Result<TokenBody, _> = serde_path_to_error::deserialize(&mut de);
    let parsed = parsed.map_err(|e| NotAToken {
        json_path: e.path().to_string(),
        detail: scrub(&e.inner().to_string(), secret),
        body_excerpt: excerpt(body, secret),
    })?;
    if parsed.access_token.trim().is_empty() {
        return Err(NotAToken {
            json_path: "access_token".into(),
            detail: "empty access token".into(),
            body_excerpt: excerpt(body, secret),
        });
    }
    let lifetime = parsed
        .expires_in
        .as_ref()
        .and_then(|v| match v {
            serde_json::Value::Number(n) => n.as_f64(),
            // Some OAuth servers send the number as a string.
            serde_json::Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        })
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(|s| Duration::from_secs_f64(s.clamp(1.0, 86_400.0 * 366.0)))
        .unwrap_or(DEFAULT_TOKEN_LIFETIME);
    Ok(TokenGrant {
        access: SecretString::from(parsed.access_token),
        refresh: parsed
            .refresh_token
            .filter(|r| !r.is_empty())
            .map(SecretString::from),
        lifetime,
    })
}

static SECRET_FIELD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)("[^"]*(?:token|secret|password|assertion|key)[^"]*"\s*:\s*)"(?:[^"\\]|\\.)*""#,
    )
    .expect("valid regex")
});
/// Long runs of token alphabet: JWTs, opaque tokens, base64 credentials.
static TOKEN_LIKE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9_\-.~+/]{24,}=*").expect("valid regex"));

/// Removes the secret and anything that looks like a token from `text`.
pub(crate) fn scrub(text: &str, secret: &SecretString) -> String {
    let mut text = text.to_owned();
    let secret = secret.expose_secret();
    if !secret.is_empty() {
        text = text.replace(secret, "[redacted]");
    }
    let text = SECRET_FIELD.replace_all(&text, r#"$1"[redacted]""#);
    TOKEN_LIKE.replace_all(&text, "[redacted]").into_owned()
}

/// The first ~200 bytes of a body, scrubbed, for an error message.
pub(crate) fn excerpt(body: &[u8], secret: &SecretString) -> String {
    const SCAN: usize = 4096;
    const KEEP: usize = 200;
    let head = &body[..body.len().min(SCAN)];
    let text = String::from_utf8_lossy(head);
    let mut scrubbed = scrub(&text, secret);
    if scrubbed.len() > KEEP {
        let mut cut = KEEP;
        while !scrubbed.is_char_boundary(cut) {
            cut -= 1;
        }
        scrubbed.truncate(cut);
        scrubbed.push('…');
    }
    scrubbed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn secret() -> SecretString {
        SecretString::from("s3cr3t-client-secret")
    }

    fn grant(access: &str, refresh: Option<&str>, secs: u64) -> TokenGrant {
        TokenGrant {
            access: access.to_owned().into(),
            refresh: refresh.map(|r| r.to_owned().into()),
            lifetime: Duration::from_secs(secs),
        }
    }

    #[test]
    fn margin_is_sixty_seconds_or_a_tenth() {
        assert_eq!(
            refresh_margin(Duration::from_secs(3599)),
            Duration::from_secs(60)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(300)),
            Duration::from_secs(30)
        );
        assert_eq!(
            refresh_margin(Duration::from_secs(10)),
            Duration::from_secs(1)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn concurrent_callers_share_one_fetch() {
        let cache = Arc::new(TokenCache::new());
        let fetches = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let cache = Arc::clone(&cache);
                let fetches = Arc::clone(&fetches);
                tokio::spawn(async move {
                    cache
                        .get_or_fetch(|_| async {
                            fetches.fetch_add(1, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(50)).await;
                            Ok::<_, ()>(grant("a1", None, 3600))
                        })
                        .await
                        .unwrap()
                        .generation
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.unwrap(), 1);
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn token_is_refreshed_before_expiry_with_the_refresh_token() {
        let cache = TokenCache::new();
        let seen = std::sync::Mutex::new(Vec::new());
        let fetch = |refresh: Option<SecretString>| {
            seen.lock()
                .unwrap()
                .push(refresh.map(|r| r.expose_secret().to_owned()));
            async { Ok::<_, ()>(grant("a", Some("r1"), 3600)) }
        };
        cache.get_or_fetch(fetch).await.unwrap();
        // 58 minutes in: still fresh.
        tokio::time::advance(Duration::from_secs(58 * 60)).await;
        cache.get_or_fetch(fetch).await.unwrap();
        assert_eq!(seen.lock().unwrap().len(), 1);
        // 59m01s: inside the 60 s margin, refreshed although not yet expired.
        tokio::time::advance(Duration::from_secs(61)).await;
        cache.get_or_fetch(fetch).await.unwrap();
        assert_eq!(*seen.lock().unwrap(), vec![None, Some("r1".to_owned())]);
    }

    #[tokio::test(start_paused = true)]
    async fn failed_proactive_refresh_keeps_the_unexpired_token() {
        let cache = TokenCache::new();
        cache
            .get_or_fetch(|_| async { Ok::<_, ()>(grant("old", None, 3600)) })
            .await
            .unwrap();
        tokio::time::advance(Duration::from_secs(3550)).await;
        let t = cache
            .get_or_fetch(|_| async { Err::<TokenGrant, _>(()) })
            .await
            .unwrap();
        assert_eq!(t.access.expose_secret(), "old");
        tokio::time::advance(Duration::from_secs(60)).await;
        assert!(
            cache
                .get_or_fetch(|_| async { Err::<TokenGrant, _>(()) })
                .await
                .is_err()
        );
    }

    #[tokio::test(start_paused = true)]
    async fn invalidating_an_old_generation_does_nothing() {
        let cache = TokenCache::new();
        let t1 = cache
            .get_or_fetch(|_| async { Ok::<_, ()>(grant("a", None, 3600)) })
            .await
            .unwrap();
        cache.invalidate(t1.generation).await;
        let t2 = cache
            .get_or_fetch(|_| async { Ok::<_, ()>(grant("b", None, 3600)) })
            .await
            .unwrap();
        assert_eq!(t2.generation, 2);
        cache.invalidate(t1.generation).await;
        let t3 = cache
            .get_or_fetch(|_| async { Ok::<_, ()>(grant("c", None, 3600)) })
            .await
            .unwrap();
        assert_eq!(t3.access.expose_secret(), "b");
    }

    #[test]
    fn token_response_shapes() {
        let g = parse_token_response(
            br#"{"access_token":"abc","refresh_token":"def","token_type":"bearer","expires_in":3599}"#,
            &secret(),
        )
        .unwrap();
        assert_eq!(g.lifetime, Duration::from_secs(3599));
        assert_eq!(g.refresh.unwrap().expose_secret(), "def");
        // Keycloak: no refresh token for client credentials; missing expires_in -> default.
        let g = parse_token_response(
            br#"{"access_token":"abc","token_type":"Bearer"}"#,
            &secret(),
        )
        .unwrap();
        assert!(g.refresh.is_none());
        assert_eq!(g.lifetime, DEFAULT_TOKEN_LIFETIME);
        let g = parse_token_response(br#"{"access_token":"abc","expires_in":"120"}"#, &secret())
            .unwrap();
        assert_eq!(g.lifetime, Duration::from_secs(120));
    }

    #[test]
    fn a_non_token_reports_path_and_a_scrubbed_excerpt() {
        let body = br#"{"access_token": 42, "refresh_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", "note": "s3cr3t-client-secret"}"#;
        let e = parse_token_response(body, &secret()).unwrap_err();
        assert_eq!(e.json_path, "access_token");
        assert!(!e.body_excerpt.contains("eyJ"), "{}", e.body_excerpt);
        assert!(!e.body_excerpt.contains("s3cr3t"), "{}", e.body_excerpt);

        let html = b"<html><body>Please sign in</body></html>";
        let e = parse_token_response(html, &secret()).unwrap_err();
        assert!(e.body_excerpt.starts_with("<html>"));

        let long = "x ".repeat(1000);
        let e = parse_token_response(long.as_bytes(), &secret()).unwrap_err();
        assert!(e.body_excerpt.len() <= 204);
    }

    #[test]
    fn grants_do_not_debug_their_tokens() {
        let g = grant("access-value", Some("refresh-value"), 10);
        let s = format!("{g:?}");
        assert!(
            !s.contains("access-value") && !s.contains("refresh-value"),
            "{s}"
        );
        assert!(s.contains("[redacted]"));
    }
}
