//! The HTTP layer: the reqwest client (rustls with the ring provider, timeouts, a
//! same-origin-only redirect policy, our User-Agent), the plain-http guard, sending a
//! request and reading its whole answer up to a size cap, and mapping transport errors to
//! error kinds. The Sigma client and the OpenMetadata sink both send through here.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{StatusCode, redirect};
use url::Url;

use super::error::ErrorKind;
use super::retry::{AttemptOutcome, parse_retry_after};

pub(crate) const USER_AGENT: &str = concat!("sigma-connector/", env!("CARGO_PKG_VERSION"));

/// Redirects followed within one origin at most.
const MAX_REDIRECTS: usize = 5;

/// Installs rustls' ring provider as the process default unless one is installed already
/// (by us earlier, or by the embedding program: theirs wins).
pub(crate) fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Losing a race with another installer is fine: some provider is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// The redirect policy: follow only to the same scheme, host and port. A bearer token
/// must never be presented to another host, and a Sigma API that redirects off-origin is
/// misconfigured (or something is intercepting it): better to fail loudly.
pub(crate) fn same_origin_redirects() -> redirect::Policy {
    redirect::Policy::custom(|attempt| {
        let Some(first) = attempt.previous().first() else {
            return attempt.stop();
        };
        let same = first.scheme() == attempt.url().scheme()
            && first.host_str() == attempt.url().host_str()
            && first.port_or_known_default() == attempt.url().port_or_known_default();
        if same && attempt.previous().len() <= MAX_REDIRECTS {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

pub(crate) fn build_http_client(
    connect_timeout: Duration,
    request_timeout: Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    install_crypto_provider();
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .connect_timeout(connect_timeout)
        .timeout(request_timeout)
        .redirect(same_origin_redirects())
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
}

/// `scheme://host[:port]`, for messages (never a path or query).
pub(crate) fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

/// An error and its causes on one line (reqwest's own message is only the outermost).
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut next = error.source();
    while let Some(e) = next {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// How a transport error bears on retrying.
pub(crate) fn outcome_of(err: &reqwest::Error) -> AttemptOutcome {
    if is_tls(err) {
        AttemptOutcome::Tls
    } else if err.is_timeout() {
        AttemptOutcome::Timeout
    } else if err.is_connect() {
        AttemptOutcome::Connect
    } else {
        AttemptOutcome::Transport
    }
}

/// The error kind of a transport error that outlived its retries.
pub(crate) fn kind_of(err: &reqwest::Error) -> ErrorKind {
    if is_tls(err) {
        ErrorKind::Tls
    } else if err.is_timeout() {
        ErrorKind::Timeout
    } else if err.is_connect() {
        ErrorKind::Connect
    } else {
        ErrorKind::Transport
    }
}

/// Whether the failure is TLS's. Looks for a `rustls::Error` in the chain (io::Error hides
/// its inner error from `source()`, so look inside those explicitly), and falls back on the
/// messages: hyper-util and reqwest re-box connector errors, which can lose the type.
pub(crate) fn is_tls(err: &reqwest::Error) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = next {
        if e.is::<rustls::Error>() {
            return true;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if io
                .get_ref()
                .is_some_and(|inner| inner.is::<rustls::Error>())
            {
                return true;
            }
        }
        let text = e.to_string().to_ascii_lowercase();
        if [
            "certificate",
            "tls handshake",
            "handshakefailure",
            "peer is incompatible",
            // rustls, when the server does not speak TLS (https to a plain-http port).
            "received corrupt message",
        ]
        .iter()
        .any(|needle| text.contains(needle))
        {
            return true;
        }
        next = e.source();
    }
    false
}

/// A complete response: status, headers and the whole body.
pub(crate) struct RawResponse {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
}

impl RawResponse {
    /// The wait the server asked for with `Retry-After` (seconds or an HTTP date), if any.
    pub(crate) fn retry_after(&self) -> Option<Duration> {
        self.headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, std::time::SystemTime::now()))
    }
}

/// Why [`send`] has no response to give.
#[derive(Debug)]
pub(crate) enum SendError {
    /// The request or the reading of the answer failed.
    Http(reqwest::Error),
    /// The body is longer than `limit` bytes: reading stopped as soon as that was known
    /// (at once when `Content-Length` said so), and the connection was dropped.
    TooLarge {
        limit: u64,
        /// Body bytes read before stopping (0 when `Content-Length` gave it away).
        received: u64,
    },
}

impl SendError {
    /// How the failure bears on retrying. A body over the cap is final: the same request
    /// gets the same answer.
    pub(crate) fn outcome(&self) -> AttemptOutcome {
        match self {
            SendError::Http(e) => outcome_of(e),
            SendError::TooLarge { .. } => AttemptOutcome::TooLarge,
        }
    }

    /// The error kind of a failure that outlived its retries.
    pub(crate) fn kind(&self) -> ErrorKind {
        match self {
            SendError::Http(e) => kind_of(e),
            SendError::TooLarge { limit, .. } => ErrorKind::TooLarge { limit: *limit },
        }
    }

    /// No connection could be made.
    pub(crate) fn is_connect(&self) -> bool {
        matches!(self, SendError::Http(e) if e.is_connect())
    }
}

impl From<reqwest::Error> for SendError {
    fn from(e: reqwest::Error) -> Self {
        SendError::Http(e)
    }
}

/// Sends `request` and reads the whole answer, whatever its status, but never more than
/// `limit` body bytes: the body is read chunk by chunk and abandoned as soon as it passes
/// the cap, so a hostile or misconfigured server cannot make one response cost more
/// memory than `limit`.
pub(crate) async fn send(
    request: reqwest::RequestBuilder,
    limit: u64,
) -> Result<RawResponse, SendError> {
    let mut response = request.send().await?;
    let status = response.status();
    let too_large = |received: u64| SendError::TooLarge { limit, received };
    if response.content_length().is_some_and(|len| len > limit) {
        return Err(too_large(0));
    }
    // Reserve what the server announced (it is within the cap), but not more than a
    // little: an announced length is a promise, not a fact.
    let announced = response.content_length().unwrap_or(0).min(1 << 20);
    let mut body = bytes::BytesMut::with_capacity(announced as usize);
    while let Some(chunk) = response.chunk().await? {
        let received = body.len() as u64 + chunk.len() as u64;
        if received > limit {
            return Err(too_large(received));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(RawResponse {
        status,
        headers: response.headers().clone(),
        body: body.freeze(),
    })
}

/// Sizes as people write them; kept beside the error that prints them.
pub(crate) use super::error::byte_size;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_names_us_and_our_version() {
        assert!(USER_AGENT.starts_with("sigma-connector/"));
        assert!(USER_AGENT.len() > "sigma-connector/".len());
    }

    #[test]
    fn byte_sizes_read_as_people_write_them() {
        assert_eq!(byte_size(64 * 1024 * 1024), "67108864 bytes (64 MiB)");
        assert_eq!(byte_size(4096), "4096 bytes (4 KiB)");
        assert_eq!(byte_size(1000), "1000 bytes");
    }
}
