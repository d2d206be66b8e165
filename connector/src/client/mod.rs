//! The authenticated Sigma REST client: one shared OAuth2 token (`TokenCache`), retries
//! with backoff and `Retry-After` (`retry`), bounded and adaptive concurrency, and
//! paginated listings as streams (`pagination`).
//!
//! ```no_run
//! # async fn run(conn: &sigma_connector::config::SigmaConnection) -> Result<(), sigma_connector::client::ClientError> {
//! use futures::StreamExt;
//! use sigma_connector::client::SigmaClient;
//! let client = SigmaClient::new(conn)?;
//! client.authenticate().await?;
//! let workbook: serde_json::Value = client.get_json("workbooks/abc", &[]).await?;
//! let mut workbooks = client.items::<serde_json::Value>("workbooks", vec![]);
//! while let Some(workbook) = workbooks.next().await {
//!     let workbook = workbook?;
//! }
//! println!("{}", client.stats());
//! # Ok(()) }
//! ```

pub(crate) mod backoff;
mod cause;
mod error;
pub(crate) mod http;
mod limit;
pub(crate) mod pagination;
pub(crate) mod retry;
mod stats;
mod token;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;
use tokio::time::Instant;
use url::Url;

use crate::config::{SigmaConnection, SigmaEndpoints};

pub use backoff::BackoffConfig;
pub use cause::FailureCause;
pub(crate) use error::{ApiErrorBody, ListingProgress};
pub use error::{AuthFailure, ClientError, ErrorKind};
pub use pagination::PageStyle;
pub use retry::RetryConfig;
pub(crate) use stats::ClientStats;
pub(crate) use token::TokenCache;
pub use token::refresh_margin;

use http::{RawResponse, SendError, send};
use limit::{AdaptiveLimit, Slot};
use retry::{AttemptOutcome, RetryDecision, should_retry};
use stats::{Counters, bump};
use token::{IssuedToken, TokenGrant, parse_token_response};

/// A Sigma REST client. Cheap to clone: clones share the token, limits and stats.
#[derive(Clone)]
pub struct SigmaClient {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    endpoints: SigmaEndpoints,
    client_id: String,
    client_secret: SecretString,
    retry: RetryConfig,
    page_size: u32,
    /// Longest response body read (`maxResponseBytes`), token answers included.
    max_response_bytes: u64,
    tokens: TokenCache,
    limit: Arc<AdaptiveLimit>,
    counters: Counters,
    /// Sigma (or whatever listens at `hostPort`) has answered at least once. Until then a
    /// failure to connect is not retried: a refused port, an unknown host or an unreachable
    /// address at the start is a wrong setting or a firewall, not a passing outage, and
    /// waiting out the retry budget only hid it for minutes. Answers (503, 429) and request
    /// timeouts are retried as always.
    answered: AtomicBool,
}

impl fmt::Debug for SigmaClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigmaClient")
            .field("api_base", &self.inner.endpoints.api_base.as_str())
            .field("token_url", &self.inner.endpoints.token_url.as_str())
            .field("client_id", &self.inner.client_id)
            .field("client_secret", &"[redacted]")
            .field("tokens", &self.inner.tokens)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}

/// Most replays of one request after a 401 (see `attempt`).
const MAX_REPLAYS: u32 = 3;

/// Where a request goes: the API (bearer token, flow control, 401 replay) or the token
/// endpoint (credentials in the form; no token, no flow control).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Api,
    TokenEndpoint,
}

impl SigmaClient {
    /// A client for `conn`, with the retry settings of the connection.
    pub fn new(conn: &SigmaConnection) -> Result<Self, ClientError> {
        Self::with_retry_config(conn, RetryConfig::from_connection(conn))
    }

    /// A client for `conn` with explicit retry settings (backoff bounds, budgets).
    pub fn with_retry_config(
        conn: &SigmaConnection,
        retry: RetryConfig,
    ) -> Result<Self, ClientError> {
        let refuse = |why: String| ClientError::new(ErrorKind::Refused(why), Method::GET, "");
        // Config validation checks transport security too; `endpoints()` checks it again
        // because a client built from a hand-made `SigmaConnection` never went through it.
        let endpoints = conn.endpoints().map_err(|e| refuse(e.to_string()))?;
        let http = http::build_http_client(
            Duration::from_secs(conn.connect_timeout.max(1)),
            Duration::from_secs(conn.request_timeout.max(1)),
        )
        .map_err(|e| refuse(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                endpoints,
                client_id: conn.client_id.clone(),
                client_secret: conn.client_secret.clone(),
                retry,
                page_size: conn.page_size.clamp(1, 1000),
                max_response_bytes: conn.max_response_bytes.max(1),
                tokens: TokenCache::new(),
                limit: AdaptiveLimit::new(
                    conn.max_concurrency.max(1) as usize,
                    conn.requests_per_second,
                ),
                counters: Counters::default(),
                answered: AtomicBool::new(false),
            }),
        })
    }

    /// Fetches a token now unless a fresh one is cached: proves the URL and credentials.
    pub async fn authenticate(&self) -> Result<(), ClientError> {
        self.token().await.map(|_| ())
    }

    /// Drops the cached access token; the next request fetches a new one (with the refresh
    /// token when the last grant gave one).
    pub async fn invalidate_token(&self) {
        self.inner.tokens.clear().await;
    }

    /// `GET` `path` and decode the JSON body as `T`.
    ///
    /// `path` is relative to `{hostPort}/{apiVersion}` (`"workbooks/abc"`), or, with a
    /// leading slash, to `hostPort` (`"/v2.1/members"`).
    pub async fn get_json<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
    ) -> Result<T, ClientError> {
        let url = self.url(path, query.iter().map(|(k, v)| (*k, *v)))?;
        let raw = self.get(&url).await?;
        decode(&raw.body, &Method::GET, url.path())
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> ClientStats {
        let c = &self.inner.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        ClientStats {
            requests_sent: get(&c.requests_sent),
            retries: get(&c.retries),
            throttled: get(&c.throttled),
            token_fetches: get(&c.token_fetches),
            auth_replays: get(&c.auth_replays),
            failures: get(&c.failures),
            bytes_received: get(&c.bytes_received),
            concurrency_limit: self.inner.limit.current(),
            pace_per_second: self
                .inner
                .limit
                .pace_per_second()
                .map(|r| r.round().clamp(0.0, f64::from(u32::MAX)) as u32),
        }
    }

    /// The URLs this client sends to, as parsed from its connection.
    pub fn endpoints(&self) -> &SigmaEndpoints {
        &self.inner.endpoints
    }

    /// The page size listings request (`pageSize`, Sigma's maximum 1000).
    pub fn page_size(&self) -> u32 {
        self.inner.page_size
    }

    pub(crate) fn url<'a>(
        &self,
        path: &str,
        query: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Url, ClientError> {
        let full = match path.strip_prefix('/') {
            Some(rest) => format!(
                "{}/{rest}",
                self.inner.endpoints.host.as_str().trim_end_matches('/')
            ),
            None => format!(
                "{}/{path}",
                self.inner.endpoints.api_base.as_str().trim_end_matches('/')
            ),
        };
        let mut url = Url::parse(&full).map_err(|e| {
            ClientError::new(
                ErrorKind::Refused(format!("invalid path: {e}")),
                Method::GET,
                path.to_owned(),
            )
        })?;
        let mut query = query.into_iter().peekable();
        if query.peek().is_some() {
            let mut pairs = url.query_pairs_mut();
            for (k, v) in query {
                pairs.append_pair(k, v);
            }
        }
        Ok(url)
    }

    async fn get(&self, url: &Url) -> Result<RawResponse, ClientError> {
        let build = || {
            self.inner
                .http
                .get(url.clone())
                .header(ACCEPT, "application/json")
        };
        self.run(&Method::GET, url.path(), true, Target::Api, &build)
            .await
    }

    /// Boxed with an explicit type: `run` fetches tokens through here, and the token
    /// fetch runs through `run`, so one of them must have a nameable future type.
    fn token(&self) -> futures::future::BoxFuture<'_, Result<IssuedToken, ClientError>> {
        Box::pin(
            self.inner
                .tokens
                .get_or_fetch(|refresh| self.fetch_token(refresh)),
        )
    }

    /// A new token: with the refresh token when there is one, else (or when refreshing
    /// fails) with the client credentials.
    async fn fetch_token(&self, refresh: Option<SecretString>) -> Result<TokenGrant, ClientError> {
        if let Some(refresh) = refresh {
            match self.grant(Some(&refresh)).await {
                Ok(grant) => return Ok(grant),
                Err(e) => {
                    tracing::info!(error = %e, "refresh_token grant failed; falling back to client_credentials")
                }
            }
        }
        self.grant(None).await
    }

    async fn grant(&self, refresh: Option<&SecretString>) -> Result<TokenGrant, ClientError> {
        let inner = &*self.inner;
        bump(&inner.counters.token_fetches, 1);
        let build = || {
            let mut form: Vec<(&str, &str)> = Vec::with_capacity(4);
            match refresh {
                Some(r) => {
                    form.push(("grant_type", "refresh_token"));
                    form.push(("refresh_token", r.expose_secret()));
                }
                None => form.push(("grant_type", "client_credentials")),
            }
            form.push(("client_id", &inner.client_id));
            form.push(("client_secret", inner.client_secret.expose_secret()));
            inner
                .http
                .post(inner.endpoints.token_url.clone())
                .header(ACCEPT, "application/json")
                .form(&form)
        };
        let path = inner.endpoints.token_url.path();
        let raw = self
            .run(&Method::POST, path, true, Target::TokenEndpoint, &build)
            .await?;
        parse_token_response(&raw.body, &inner.client_secret).map_err(|e| {
            bump(&inner.counters.failures, 1);
            ClientError::new(
                ErrorKind::Auth(AuthFailure::NotAToken {
                    json_path: e.json_path,
                    detail: e.detail,
                    body_excerpt: e.body_excerpt,
                }),
                Method::POST,
                path,
            )
            .with_status(raw.status)
            .with_request_id(request_id(&raw.headers))
        })
    }

    /// Sends a request built by `build` until it succeeds, fails for good, or the retry
    /// budget is spent. API requests carry the shared token, pass the pacing and the
    /// adaptive in-flight limit, and are replayed with a new token after a 401 (once, or up
    /// to three times while the tokens refused had worked before: they died, see `attempt`).
    async fn run(
        &self,
        method: &Method,
        path: &str,
        idempotent: bool,
        target: Target,
        build: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
    ) -> Result<RawResponse, ClientError> {
        let inner = &*self.inner;
        let start = Instant::now();
        let (result, spent) = retry::with_retries(&inner.retry, "Sigma", method, path, |attempt| {
            self.attempt(method, path, idempotent, target, build, attempt, start)
        })
        .await;
        bump(&inner.counters.retries, u64::from(spent.retries));
        if spent.gave_up {
            bump(&inner.counters.failures, 1);
        }
        result
    }

    /// One attempt of [`Self::run`]: the token and an in-flight slot for API calls, the
    /// 401 replay, the AIMD limit's feedback. [`retry::with_retries`] does the rest.
    #[allow(clippy::too_many_arguments)]
    async fn attempt(
        &self,
        method: &Method,
        path: &str,
        idempotent: bool,
        target: Target,
        build: &(dyn Fn() -> reqwest::RequestBuilder + Send + Sync),
        attempt: retry::Attempt,
        start: Instant,
    ) -> retry::Step<RawResponse, ClientError> {
        use retry::Step;
        let inner = &*self.inner;
        // The slot first, then the token: a request queued for a slot holds no token, so a
        // token that dies is seen by at most the requests in flight with it, not by every
        // request that was waiting for a place when it died.
        let (token, slot) = match target {
            Target::Api => {
                let slot = inner.limit.acquire().await;
                let token = match self.token().await {
                    Ok(token) => token,
                    Err(e) => return Step::Done(Err(e)),
                };
                (Some(token), Some(slot))
            }
            Target::TokenEndpoint => (None, None),
        };
        let mut request = build();
        if let Some(token) = &token {
            request = request.header(AUTHORIZATION, bearer(&token.access));
        }
        bump(&inner.counters.requests_sent, 1);
        let result = send(request, inner.max_response_bytes).await;
        let outcome = match &result {
            Ok(raw) => {
                bump(&inner.counters.bytes_received, raw.body.len() as u64);
                AttemptOutcome::Status(raw.status)
            }
            Err(e) => {
                if let SendError::TooLarge { received, .. } = e {
                    bump(&inner.counters.bytes_received, *received);
                }
                e.outcome()
            }
        };
        tracing::debug!(%method, path, attempt = attempt.number, status = result.as_ref().ok().map(|r| r.status.as_u16()), "Sigma request");

        if let (Ok(raw), Some(token)) = (&result, &token) {
            if raw.status != StatusCode::UNAUTHORIZED {
                inner.tokens.accepted(token.generation);
            }
            // Replayed once; again (up to MAX_REPLAYS) only when the token refused had worked
            // for some request before, so it died rather than being refused outright: tokens
            // that die every few requests cost no request, and a server that refuses every
            // token still fails the request on its second 401.
            let replay = attempt.replays == 0
                || (attempt.replays < MAX_REPLAYS && inner.tokens.was_accepted(token.generation));
            if raw.status == StatusCode::UNAUTHORIZED {
                if replay {
                    bump(&inner.counters.auth_replays, 1);
                    tracing::debug!(%method, path, request_id = request_id(&raw.headers).as_deref(), "API answered 401; fetching a new token and replaying once");
                    // Invalidated before the slot is given up, so no request can take the
                    // dead token in the place this one leaves.
                    inner.tokens.invalidate(token.generation).await;
                    drop(slot);
                    return Step::Replay;
                }
                drop(slot);
                bump(&inner.counters.failures, 1);
                return Step::Done(Err(ClientError::new(
                    ErrorKind::Auth(AuthFailure::TokenRejected),
                    method.clone(),
                    path,
                )
                .with_status(raw.status)
                .with_request_id(request_id(&raw.headers))
                .with_api_body(ApiErrorBody::parse(&raw.body))
                .with_attempts(attempt.number, start.elapsed())));
            }
        }
        if outcome == AttemptOutcome::Status(StatusCode::TOO_MANY_REQUESTS) {
            bump(&inner.counters.throttled, 1);
            if let Some(slot) = &slot {
                slot.throttled();
            }
        }
        if matches!(result, Ok(_) | Err(SendError::TooLarge { .. })) {
            inner.answered.store(true, Ordering::Relaxed);
        }
        // A connection that could not be made (refused, DNS, or a connect timeout to a host
        // that drops packets) before anything ever answered is not retried.
        let decision = match &result {
            Err(e) if e.is_connect() && !inner.answered.load(Ordering::Relaxed) => {
                RetryDecision::DontRetry
            }
            _ => should_retry(outcome, idempotent),
        };
        // The slot is released before any wait: a request backing off holds no place.
        match decision {
            RetryDecision::Success => {
                if let Some(slot) = &slot {
                    slot.succeeded();
                }
                Step::Done(result.map_err(|_| unreachable_error(method, path)))
            }
            RetryDecision::Retry => {
                release(slot);
                let retry_after = result.as_ref().ok().and_then(RawResponse::retry_after);
                let (status, request_id) = match &result {
                    Ok(raw) => (Some(raw.status.as_u16()), request_id(&raw.headers)),
                    Err(_) => (None, None),
                };
                let error = result.as_ref().err().map(|e| format!("{:?}", e.kind()));
                Step::Retry {
                    retry_after,
                    status,
                    request_id,
                    error,
                    give_up: Err(failure(target, method, path, result)
                        .with_attempts(attempt.number, start.elapsed())),
                }
            }
            RetryDecision::DontRetry => {
                bump(&inner.counters.failures, 1);
                Step::Done(Err(failure(target, method, path, result)
                    .with_attempts(attempt.number, start.elapsed())))
            }
        }
    }
}

fn release(slot: Option<Slot>) {
    drop(slot);
}

fn unreachable_error(method: &Method, path: &str) -> ClientError {
    ClientError::new(ErrorKind::Transport, method.clone(), path)
}

pub(crate) fn bearer(token: &SecretString) -> HeaderValue {
    let mut value = HeaderValue::from_str(&format!("Bearer {}", token.expose_secret()))
        // A token with bytes not allowed in a header cannot be sent; an empty value makes
        // the API answer 401 and the error says so, without echoing the token.
        .unwrap_or_else(|_| HeaderValue::from_static(""));
    value.set_sensitive(true);
    value
}

fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The error for a final failure of one request.
fn failure(
    target: Target,
    method: &Method,
    path: &str,
    result: Result<RawResponse, SendError>,
) -> ClientError {
    match result {
        Ok(raw) => {
            let api = ApiErrorBody::parse(&raw.body);
            let kind = match target {
                Target::Api => ErrorKind::Status,
                Target::TokenEndpoint => match raw.status.as_u16() {
                    400 | 401 | 403 => ErrorKind::Auth(AuthFailure::InvalidCredentials {
                        error: api
                            .as_ref()
                            .and_then(|a| a.error.clone().or_else(|| a.code.clone())),
                        description: api.as_ref().and_then(|a| {
                            a.error_description.clone().or_else(|| a.message.clone())
                        }),
                    }),
                    404 | 405 => ErrorKind::Auth(AuthFailure::WrongTokenUrl),
                    _ => ErrorKind::Auth(AuthFailure::TokenEndpoint),
                },
            };
            ClientError::new(kind, method.clone(), path)
                .with_status(raw.status)
                .with_request_id(request_id(&raw.headers))
                .with_api_body(api)
        }
        // No status attached: predicates such as `is_rate_limited` read the status, and a
        // body over the cap is that, whatever status came with it.
        Err(SendError::TooLarge { limit, .. }) => {
            ClientError::new(ErrorKind::TooLarge { limit }, method.clone(), path)
        }
        Err(SendError::Http(e)) => {
            let kind = match (target, http::kind_of(&e)) {
                (Target::Api, kind) => kind,
                (Target::TokenEndpoint, ErrorKind::Tls) => ErrorKind::Auth(AuthFailure::Tls),
                (Target::TokenEndpoint, ErrorKind::Timeout) => {
                    ErrorKind::Auth(AuthFailure::Timeout)
                }
                (Target::TokenEndpoint, ErrorKind::Connect) => {
                    ErrorKind::Auth(AuthFailure::WrongTokenUrl)
                }
                (Target::TokenEndpoint, _) => ErrorKind::Auth(AuthFailure::TokenEndpoint),
            };
            ClientError::new(kind, method.clone(), path).with_source(e)
        }
    }
}

/// Decodes a success body, naming the JSON path of the first bad field.
pub(crate) fn decode<T: DeserializeOwned>(
    body: &[u8],
    method: &Method,
    path: &str,
) -> Result<T, ClientError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    serde_path_to_error::deserialize(&mut de).map_err(|e| {
        ClientError::new(
            ErrorKind::Decode {
                json_path: e.path().to_string(),
                detail: e.inner().to_string(),
            },
            method.clone(),
            path,
        )
        .with_status(StatusCode::OK)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn(host: &str) -> SigmaConnection {
        crate::config::load_connection_str(&format!(
            r#"{{"hostPort": "{host}", "clientId": "id", "clientSecret": "the-secret"}}"#
        ))
        .unwrap()
    }

    #[test]
    fn an_https_client_builds_with_the_ring_provider() {
        let client = SigmaClient::new(&conn("https://aws-api.sigmacomputing.com")).unwrap();
        let dbg = format!("{client:?}");
        assert!(!dbg.contains("the-secret"), "{dbg}");
        assert_eq!(
            client
                .url("workbooks", [("limit", "1000")])
                .unwrap()
                .as_str(),
            "https://aws-api.sigmacomputing.com/v2/workbooks?limit=1000"
        );
        assert_eq!(
            client.url("/v2.1/members", []).unwrap().as_str(),
            "https://aws-api.sigmacomputing.com/v2.1/members"
        );
    }

    #[test]
    fn plain_http_to_a_remote_host_is_refused_even_without_validation() {
        let mut c = conn("https://api.sigmacomputing.com");
        c.host_port = Url::parse("http://api.sigmacomputing.com").unwrap();
        let err = SigmaClient::new(&c).unwrap_err();
        assert!(matches!(err.kind(), ErrorKind::Refused(_)), "{err}");
        assert!(
            err.to_string()
                .starts_with("refused: `http://api.sigmacomputing.com`"),
            "{err}"
        );
        c.allow_insecure_http = true;
        assert!(SigmaClient::new(&c).is_ok());
    }

    #[test]
    fn bearer_header_is_sensitive() {
        let v = bearer(&SecretString::from("tok"));
        assert!(v.is_sensitive());
        assert!(!format!("{v:?}").contains("tok"));
    }

    #[test]
    fn decode_errors_name_the_json_path() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct W {
            name: String,
        }
        let e = decode::<Vec<W>>(
            br#"[{"name":"a"},{"name":5}]"#,
            &Method::GET,
            "/v2/workbooks",
        )
        .unwrap_err();
        match e.kind() {
            ErrorKind::Decode { json_path, .. } => assert_eq!(json_path, "[1].name"),
            k => panic!("{k:?}"),
        }
        assert!(e.to_string().contains("/v2/workbooks"));
    }
}
