//! `ClientError`: what went wrong with one Sigma request, with enough context (method,
//! path, status, Sigma's `code`/`message`/`requestId`, attempts, elapsed time, and for a
//! listing how far it got) to act on a failed 3 a.m. run from the log line alone.
//!
//! Never carries a token, the client secret, or a query string.

use std::fmt;
use std::time::Duration;

use reqwest::{Method, StatusCode};
use serde::Deserialize;

/// The failure classes of a Sigma request.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The API answered a status that is not success (after retries, when retryable).
    Status,
    /// Authentication failed; see [`AuthFailure`].
    Auth(AuthFailure),
    /// No connection could be made (DNS failure, connection refused).
    Connect,
    /// TLS failed (certificate, handshake).
    Tls,
    /// The request or response timed out.
    Timeout,
    /// The connection broke mid-request or mid-response.
    Transport,
    /// A success response's body did not have the expected shape.
    Decode {
        /// Where in the JSON document the problem is (`entries[3].name`), `.` for the root.
        json_path: String,
        /// What was wrong there.
        detail: String,
    },
    /// A listing returned a page cursor it had already returned: following it would loop.
    RepeatedCursor,
    /// The client refused to send the request (for example plain http to a remote host).
    Refused(String),
    /// The response body was longer than `maxResponseBytes`; reading stopped there and the
    /// request was not retried.
    TooLarge {
        /// The cap, in bytes.
        limit: u64,
    },
}

/// Why authentication failed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuthFailure {
    /// The token endpoint rejected the client id / secret (400/401/403 from it).
    InvalidCredentials {
        /// OAuth2 `error` or Sigma `code`.
        error: Option<String>,
        /// OAuth2 `error_description` or Sigma `message`.
        description: Option<String>,
    },
    /// The token URL is wrong: 404/405 there, unknown host, or nothing listening.
    WrongTokenUrl,
    /// TLS to the token endpoint failed.
    Tls,
    /// The token endpoint did not answer in time.
    Timeout,
    /// The token endpoint answered 200 with something that is not a token.
    NotAToken {
        json_path: String,
        detail: String,
        /// The body's first ~200 bytes, with anything token-like and the secret removed.
        body_excerpt: String,
    },
    /// The token endpoint failed in another way (5xx after retries, an odd status).
    TokenEndpoint,
    /// The API answered 401 to a freshly fetched token as well.
    TokenRejected,
}

/// Sigma's error body `{message, code, requestId}`; also the OAuth2 `{error,
/// error_description}` shape of a token endpoint.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct ApiErrorBody {
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default)]
    pub code: Option<String>,
    #[serde(default, rename = "requestId")]
    pub request_id: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_description: Option<String>,
}

impl ApiErrorBody {
    pub(crate) fn parse(body: &[u8]) -> Option<Self> {
        let parsed: Self = serde_json::from_slice(body).ok()?;
        let any = parsed.message.is_some()
            || parsed.code.is_some()
            || parsed.request_id.is_some()
            || parsed.error.is_some()
            || parsed.error_description.is_some();
        any.then_some(parsed)
    }
}

/// How far a listing got before it failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListingProgress {
    /// Pages received completely.
    pub pages: usize,
    /// Items received in those pages.
    pub items: usize,
}

/// A failed Sigma request. Boxed: it travels inside every `Result` of a stream.
pub struct ClientError(Box<Details>);

#[derive(Debug)]
struct Details {
    kind: ErrorKind,
    method: Method,
    path: String,
    status: Option<StatusCode>,
    api: Option<ApiErrorBody>,
    request_id: Option<String>,
    attempts: u32,
    elapsed: Duration,
    listing: Option<ListingProgress>,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ClientError {
    pub(crate) fn new(kind: ErrorKind, method: Method, path: impl Into<String>) -> Self {
        Self(Box::new(Details {
            kind,
            method,
            path: path.into(),
            status: None,
            api: None,
            request_id: None,
            attempts: 0,
            elapsed: Duration::ZERO,
            listing: None,
            source: None,
        }))
    }

    pub(crate) fn with_status(mut self, status: StatusCode) -> Self {
        self.0.status = Some(status);
        self
    }

    pub(crate) fn with_api_body(mut self, api: Option<ApiErrorBody>) -> Self {
        if self.0.request_id.is_none() {
            self.0.request_id = api.as_ref().and_then(|a| a.request_id.clone());
        }
        self.0.api = api;
        self
    }

    pub(crate) fn with_request_id(mut self, id: Option<String>) -> Self {
        if id.is_some() {
            self.0.request_id = id;
        }
        self
    }

    pub(crate) fn with_attempts(mut self, attempts: u32, elapsed: Duration) -> Self {
        self.0.attempts = attempts;
        self.0.elapsed = elapsed;
        self
    }

    pub(crate) fn with_source(mut self, source: reqwest::Error) -> Self {
        // The URL may carry a query string; the path is already in our message.
        self.0.source = Some(Box::new(source.without_url()));
        self
    }

    pub(crate) fn with_listing(mut self, progress: ListingProgress) -> Self {
        self.0.listing = Some(progress);
        self
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> &ErrorKind {
        &self.0.kind
    }
    /// The HTTP method of the failed request.
    pub fn method(&self) -> &Method {
        &self.0.method
    }
    /// The URL path of the failed request (never the query string).
    pub fn path(&self) -> &str {
        &self.0.path
    }
    /// The last HTTP status received, if any.
    pub fn status(&self) -> Option<StatusCode> {
        self.0.status
    }
    /// Sigma's error `code` (or the OAuth2 `error`).
    pub fn sigma_code(&self) -> Option<&str> {
        let api = self.0.api.as_ref()?;
        api.code.as_deref().or(api.error.as_deref())
    }
    /// Sigma's error `message` (or the OAuth2 `error_description`).
    pub fn sigma_message(&self) -> Option<&str> {
        let api = self.0.api.as_ref()?;
        api.message.as_deref().or(api.error_description.as_deref())
    }
    /// Sigma's `requestId` (body) or `x-request-id` (header): quote it to Sigma support.
    pub fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
    /// Attempts made (first try plus retries).
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }
    /// Time from the first attempt to giving up.
    pub fn elapsed(&self) -> Duration {
        self.0.elapsed
    }
    /// For a failed listing: how many pages and items had arrived before the failure.
    pub fn listing_progress(&self) -> Option<ListingProgress> {
        self.0.listing
    }

    /// The cause in words, shared by every request that failed the same way (`HTTP 403
    /// Forbidden`, `could not connect`): what warnings are grouped by.
    pub fn cause(&self) -> String {
        let mut out = String::new();
        let _ = self.0.write_cause(&mut out);
        out
    }
    /// 404: the object does not exist (or is not visible to these credentials).
    pub fn is_not_found(&self) -> bool {
        self.0.status == Some(StatusCode::NOT_FOUND) && self.0.kind == ErrorKind::Status
    }
    /// 403 from an API call: these credentials may not see this object.
    pub fn is_forbidden(&self) -> bool {
        self.0.status == Some(StatusCode::FORBIDDEN) && self.0.kind == ErrorKind::Status
    }
    /// Authentication failed: no usable token. Fatal for a run.
    pub fn is_auth(&self) -> bool {
        matches!(self.0.kind, ErrorKind::Auth(_))
    }
    /// The last answer was 429 (the retry budget ran out while throttled).
    pub fn is_rate_limited(&self) -> bool {
        self.0.status == Some(StatusCode::TOO_MANY_REQUESTS)
    }
    /// A timeout, at the API or the token endpoint.
    pub fn is_timeout(&self) -> bool {
        matches!(
            self.0.kind,
            ErrorKind::Timeout | ErrorKind::Auth(AuthFailure::Timeout)
        )
    }
    /// A 4xx other than 401/408/429: the request itself was refused; retrying is pointless.
    pub fn is_client_error(&self) -> bool {
        self.0.kind == ErrorKind::Status && self.0.status.is_some_and(|s| s.is_client_error())
    }
    /// The success body did not decode.
    pub fn is_decode(&self) -> bool {
        matches!(self.0.kind, ErrorKind::Decode { .. })
    }
    /// A transient kind of failure (5xx, 429, 408, connect, timeout, broken connection)
    /// that outlived the retry budget: the service, not the request, is the problem.
    pub fn is_transient(&self) -> bool {
        match self.0.kind {
            ErrorKind::Connect | ErrorKind::Timeout | ErrorKind::Transport => true,
            ErrorKind::Status => self
                .0
                .status
                .is_some_and(|s| matches!(s.as_u16(), 408 | 429 | 500 | 502 | 503 | 504)),
            _ => false,
        }
    }
}

impl fmt::Debug for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every field is free of secrets by construction, so the derived form is safe.
        self.0.fmt(f)
    }
}

impl Details {
    /// What failed, without the request's path, ids or attempts: the part that is the
    /// same for every object one cause affects (see [`ClientError::cause`]).
    fn write_cause(&self, f: &mut dyn fmt::Write) -> fmt::Result {
        let d = self;
        match &d.kind {
            ErrorKind::Status => match d.status {
                Some(s) => write!(f, "HTTP {s}")?,
                None => f.write_str("unexpected response")?,
            },
            ErrorKind::Auth(a) => match a {
                AuthFailure::InvalidCredentials { error, description } => {
                    f.write_str("authentication failed: the token endpoint rejected the client id/secret")?;
                    if let Some(e) = error {
                        write!(f, " ({e}")?;
                        if let Some(desc) = description {
                            write!(f, ": {desc}")?;
                        }
                        f.write_str(")")?;
                    } else if let Some(desc) = description {
                        write!(f, " ({desc})")?;
                    }
                    f.write_str("; check clientId and clientSecret")?;
                }
                AuthFailure::WrongTokenUrl => f.write_str(
                    "authentication failed: no token endpoint at this URL; check hostPort (your Sigma cloud's API URL), apiVersion and tokenUrl",
                )?,
                AuthFailure::Tls => {
                    f.write_str("authentication failed: TLS error talking to the token endpoint")?
                }
                AuthFailure::Timeout => {
                    f.write_str("authentication failed: the token endpoint did not answer in time")?
                }
                AuthFailure::NotAToken {
                    json_path,
                    detail,
                    body_excerpt,
                } => write!(
                    f,
                    "authentication failed: the token endpoint's answer is not a token (at `{json_path}`: {detail}); body starts: {body_excerpt:?}"
                )?,
                AuthFailure::TokenEndpoint => {
                    f.write_str("authentication failed: the token endpoint failed")?;
                    if let Some(s) = d.status {
                        write!(f, " with HTTP {s}")?;
                    }
                }
                AuthFailure::TokenRejected => f.write_str(
                    "authentication failed: the API rejected a freshly issued token (HTTP 401 twice); the credentials may have been revoked, or their owner lacks REST API access",
                )?,
            },
            ErrorKind::Connect => f.write_str("could not connect")?,
            ErrorKind::Tls => f.write_str("TLS error")?,
            ErrorKind::Timeout => f.write_str("timed out")?,
            ErrorKind::Transport => f.write_str("connection failed mid-request")?,
            ErrorKind::Decode { json_path, detail } => {
                write!(f, "unexpected response body at `{json_path}`: {detail}")?
            }
            ErrorKind::RepeatedCursor => f.write_str(
                "the listing returned a page cursor it had already returned; stopping instead of looping",
            )?,
            ErrorKind::Refused(why) => write!(f, "refused: {why}")?,
            ErrorKind::TooLarge { limit } => write!(
                f,
                "the response is larger than the cap of {}; reading stopped there and the request is not retried (the same request gets the same answer). A page of Sigma's API is a few MB: check that hostPort is Sigma's API, or raise serviceConnection.config.maxResponseBytes",
                byte_size(*limit)
            )?,
        }
        Ok(())
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = &self.0;
        if !d.path.is_empty() {
            write!(f, "{} {}: ", d.method, d.path)?;
        }
        d.write_cause(f)?;
        if let Some(api) = &d.api {
            if !matches!(
                d.kind,
                ErrorKind::Auth(AuthFailure::InvalidCredentials { .. })
            ) {
                let code = api.code.as_deref().or(api.error.as_deref());
                let msg = api.message.as_deref().or(api.error_description.as_deref());
                match (code, msg) {
                    (Some(c), Some(m)) => write!(f, " [{c}: {m}]")?,
                    (Some(c), None) => write!(f, " [{c}]")?,
                    (None, Some(m)) => write!(f, " [{m}]")?,
                    (None, None) => {}
                }
            }
        }
        if let Some(id) = &d.request_id {
            write!(f, " (requestId {id})")?;
        }
        f.write_str(&super::retry::Spent::note(d.attempts, d.elapsed))?;
        if let Some(p) = d.listing {
            write!(
                f,
                "; listing incomplete: {} page(s), {} item(s) received before the failure",
                p.pages, p.items
            )?;
        }
        if let Some(src) = &d.source {
            write!(f, ": {src}")?;
            let mut next = src.source();
            while let Some(e) = next {
                write!(f, ": {e}")?;
                next = e.source();
            }
        }
        Ok(())
    }
}

impl std::error::Error for ClientError {}

/// `n` bytes in words for a message: `67108864 bytes (64 MiB)`.
pub(crate) fn byte_size(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    const KIB: u64 = 1024;
    if n >= MIB && n % MIB == 0 {
        format!("{n} bytes ({} MiB)", n / MIB)
    } else if n >= KIB && n % KIB == 0 {
        format!("{n} bytes ({} KiB)", n / KIB)
    } else {
        format!("{n} bytes")
    }
}
