//! [`FailureCause`]: why getting a first token from Sigma failed, in one sentence a person
//! can act on. `test-connection` shows it as the `GetToken` step's message and `ingest`
//! ends a run that cannot start with it, so both say the same thing about the same cause.
//!
//! Which start failures are retried is not decided here but by the client's one retry
//! loop: a connection that cannot be made before Sigma ever answered, TLS failures and
//! 4xx from the token endpoint end at once; 5xx, 429 and timeouts are retried first.

use std::fmt;

use url::Url;

use super::{AuthFailure, ClientError, ErrorKind};
use crate::config::SigmaConnection;

/// Where Sigma's regional API URLs are found; said whenever `hostPort` looks wrong.
const REGION_HINT: &str = "set hostPort to your Sigma cloud's API URL (https://aws-api.sigmacomputing.com, https://api.sigmacomputing.com for GCP, https://api.us.azure.sigmacomputing.com, ...); Administration → Developer Access shows your API base URL";

/// Why a run (or a test) could not get a first token from Sigma.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FailureCause {
    /// The host name does not resolve.
    UnresolvableHost { host: String, setting: &'static str },
    /// Nothing listens at `host:port`.
    ConnectionRefused {
        target: String,
        setting: &'static str,
    },
    /// No connection could be made for another reason (unreachable network, proxy).
    Unreachable {
        target: String,
        setting: &'static str,
    },
    /// The TLS handshake failed.
    Tls {
        origin: String,
        setting: &'static str,
    },
    /// The token endpoint rejected the client id or secret (HTTP 400/401/403).
    BadCredentials { status: u16 },
    /// `apiVersion` is not one Sigma has a token endpoint for.
    WrongApiVersion { api_version: String, status: u16 },
    /// An explicit `tokenUrl` answered 404/405.
    NotATokenUrl { origin: String, status: u16 },
    /// `hostPort` answered 404/405 where Sigma's token endpoint is.
    NotSigma { origin: String, status: u16 },
    /// `hostPort` has a path (often `/api`) that puts Sigma's token endpoint out of reach
    /// while the host is right; `answered` says what came back there.
    UnusedHostPath {
        origin: String,
        answered: String,
        token_path: String,
        path: String,
        fix: String,
    },
    /// The token endpoint answered 200 with something that is not a token.
    NotAToken { origin: String, token_url_set: bool },
    /// The token endpoint did not answer in time (after the retries).
    Timeout {
        origin: String,
        setting: &'static str,
    },
    /// Sigma throttled token requests for the whole retry budget.
    RateLimited { attempts: u32 },
    /// The token endpoint failed (5xx after the retries, an odd status).
    TokenEndpointFailed { origin: String, status: Option<u16> },
    /// A token was issued but the API rejects it.
    TokenRejected,
    /// The token endpoint's answer passed `maxResponseBytes`.
    ResponseTooLarge {
        origin: String,
        path: String,
        limit: u64,
        setting: &'static str,
    },
    /// Anything else, with the client's own description.
    Other(String),
}

impl FailureCause {
    /// Resolves the host names of `hostPort` and `tokenUrl` before any request: reqwest
    /// reports an unknown host as a generic connect error, and "check for typos" is the one
    /// useful thing to say. `Some` when a name does not resolve.
    pub async fn unresolvable_host(conn: &SigmaConnection) -> Option<(Self, String)> {
        let mut urls = vec![(conn.host_port.clone(), "hostPort")];
        if let Some(t) = token_url(conn) {
            if t.host_str() != conn.host_port.host_str() {
                urls.push((t, "tokenUrl"));
            }
        }
        for (url, setting) in &urls {
            if let Some(url::Host::Domain(host)) = url.host() {
                let port = url.port_or_known_default().unwrap_or(443);
                if let Err(e) = tokio::net::lookup_host((host, port)).await {
                    let detail = format!("DNS lookup of {host}:{port} ({setting}) failed: {e}");
                    let cause = FailureCause::UnresolvableHost {
                        host: host.to_owned(),
                        setting,
                    };
                    return Some((cause, detail));
                }
            }
        }
        None
    }

    /// The cause of a failed token fetch (or of the first API call after it).
    pub fn of(conn: &SigmaConnection, e: &ClientError) -> Self {
        let endpoint = token_url(conn);
        let origin = endpoint
            .as_ref()
            .map(|u| u.origin().ascii_serialization())
            .unwrap_or_else(|| conn.host_port_text().to_owned());
        let setting = if conn.token_url.is_some() {
            "tokenUrl"
        } else {
            "hostPort"
        };
        let status = e.status().map(|s| s.as_u16());
        // A path on hostPort (`/api`) is what most often puts Sigma's token endpoint out of
        // reach while the host is right: name it rather than blame the whole URL.
        let endpoints = conn.endpoints().ok();
        let unused_path = |answered: String| {
            let endpoints = endpoints.as_ref().filter(|e| !e.custom_token_url)?;
            let path = endpoints.host_path()?;
            Some(FailureCause::UnusedHostPath {
                origin: origin.clone(),
                answered,
                token_path: endpoints.token_url.path().to_owned(),
                path: path.to_owned(),
                fix: endpoints.host_origin(),
            })
        };
        let target = || {
            endpoint
                .as_ref()
                .map(host_port)
                .unwrap_or_else(|| origin.clone())
        };
        match e.kind() {
            ErrorKind::Auth(AuthFailure::InvalidCredentials { .. }) => {
                FailureCause::BadCredentials {
                    status: status.unwrap_or(401),
                }
            }
            ErrorKind::Auth(AuthFailure::WrongTokenUrl) if status.is_some() => {
                let status = status.unwrap_or(404);
                if let Some(cause) = unused_path(format!("answered HTTP {status}")) {
                    cause
                } else if conn.token_url.is_none() && conn.api_version != "v2" {
                    FailureCause::WrongApiVersion {
                        api_version: conn.api_version.clone(),
                        status,
                    }
                } else if conn.token_url.is_some() {
                    FailureCause::NotATokenUrl { origin, status }
                } else {
                    FailureCause::NotSigma { origin, status }
                }
            }
            ErrorKind::Auth(AuthFailure::WrongTokenUrl) | ErrorKind::Connect => {
                if chain_mentions(e, "dns error") {
                    FailureCause::UnresolvableHost {
                        host: endpoint
                            .as_ref()
                            .and_then(|u| u.host_str().map(str::to_owned))
                            .unwrap_or_else(target),
                        setting,
                    }
                } else if chain_mentions(e, "refused") {
                    FailureCause::ConnectionRefused {
                        target: target(),
                        setting,
                    }
                } else {
                    FailureCause::Unreachable {
                        target: target(),
                        setting,
                    }
                }
            }
            ErrorKind::Auth(AuthFailure::Tls) | ErrorKind::Tls => {
                FailureCause::Tls { origin, setting }
            }
            ErrorKind::Auth(AuthFailure::Timeout) | ErrorKind::Timeout => {
                FailureCause::Timeout { origin, setting }
            }
            ErrorKind::Auth(AuthFailure::NotAToken { .. }) => unused_path(
                "answered the token request with something that is not a token".to_owned(),
            )
            .unwrap_or(FailureCause::NotAToken {
                origin,
                token_url_set: conn.token_url.is_some(),
            }),
            ErrorKind::Auth(AuthFailure::TokenEndpoint) if e.is_rate_limited() => {
                FailureCause::RateLimited {
                    attempts: e.attempts(),
                }
            }
            ErrorKind::Auth(AuthFailure::TokenEndpoint) => {
                FailureCause::TokenEndpointFailed { origin, status }
            }
            ErrorKind::Auth(AuthFailure::TokenRejected) => FailureCause::TokenRejected,
            ErrorKind::TooLarge { limit } => FailureCause::ResponseTooLarge {
                origin,
                path: e.path().to_owned(),
                limit: *limit,
                setting,
            },
            _ => FailureCause::Other(e.to_string()),
        }
    }
}

impl fmt::Display for FailureCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureCause::UnresolvableHost { host, setting } => write!(
                f,
                "The host name {host} could not be resolved; check {setting} for typos."
            ),
            FailureCause::ConnectionRefused { target, setting } => write!(
                f,
                "Connection refused at {target}: nothing is listening there; check the port in {setting} (Sigma's API is on https, port 443)."
            ),
            FailureCause::Unreachable { target, setting } => write!(
                f,
                "Could not connect to {target}; check {setting} and that this machine can reach it (proxy, firewall)."
            ),
            FailureCause::Tls { origin, setting } => write!(
                f,
                "The TLS handshake with {origin} failed; check that {setting} is Sigma's https API URL, and that no proxy intercepts TLS with a certificate this machine does not trust."
            ),
            FailureCause::BadCredentials { status } => write!(
                f,
                "Sigma rejected the client ID or client secret (HTTP {status}); check both, or create new API credentials in Administration → Developer Access."
            ),
            FailureCause::WrongApiVersion {
                api_version,
                status,
            } => write!(
                f,
                "There is no token endpoint for apiVersion `{api_version}` (HTTP {status}); apiVersion should be `v2`."
            ),
            FailureCause::NotATokenUrl { origin, status } => write!(
                f,
                "{origin} answered HTTP {status} at the token URL, so tokenUrl is not a token endpoint; check tokenUrl, or remove it to use Sigma's own."
            ),
            FailureCause::NotSigma { origin, status } => write!(
                f,
                "{origin} answered HTTP {status} where Sigma's token endpoint should be, so it is not Sigma's REST API; {REGION_HINT}."
            ),
            FailureCause::UnusedHostPath {
                origin,
                answered,
                token_path,
                path,
                fix,
            } => write!(
                f,
                "{origin} {answered} at {token_path}: hostPort has the path `{path}`, which Sigma's API does not use; set hostPort to {fix} (without `{path}`)."
            ),
            FailureCause::NotAToken {
                origin,
                token_url_set: true,
            } => write!(
                f,
                "{origin} answered the token request with something that is not a token; check tokenUrl."
            ),
            FailureCause::NotAToken { origin, .. } => write!(
                f,
                "{origin} answered the token request with something that is not a token (for example a web page), so it is not Sigma's REST API; {REGION_HINT}."
            ),
            FailureCause::Timeout { origin, setting } => write!(
                f,
                "The token endpoint at {origin} did not answer in time; check {setting}, and that this machine can reach it."
            ),
            FailureCause::RateLimited { attempts } => write!(
                f,
                "Sigma is rate-limiting token requests (HTTP 429 after {attempts} attempts); wait a minute and try again."
            ),
            FailureCause::TokenEndpointFailed { origin, status } => {
                write!(f, "The token endpoint at {origin} failed")?;
                if let Some(s) = status {
                    write!(f, " with HTTP {s}")?;
                }
                f.write_str("; Sigma may be unavailable, try again later.")
            }
            FailureCause::TokenRejected => f.write_str(
                "Sigma issued a token but rejects it (HTTP 401); the credentials may have been revoked, or their owner lacks API access.",
            ),
            FailureCause::ResponseTooLarge {
                origin,
                path,
                limit,
                setting,
            } => write!(
                f,
                "{origin} answered the token request (POST {path}) with a body larger than the cap of {}, where a token is under a kilobyte; check {setting} (this is probably not Sigma's token endpoint), or raise maxResponseBytes.",
                super::http::byte_size(*limit),
            ),
            FailureCause::Other(text) => write!(f, "Sigma could not be reached: {text}."),
        }
    }
}

fn token_url(conn: &SigmaConnection) -> Option<Url> {
    conn.endpoints().ok().map(|e| e.token_url)
}

/// `host:port` of a URL, for "nothing listens at" messages.
fn host_port(url: &Url) -> String {
    match (url.host_str(), url.port_or_known_default()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_owned(),
        _ => url.as_str().to_owned(),
    }
}

/// Whether the error's own text or its source chain says `needle` (reqwest and hyper-util
/// re-box connector errors, so the io::ErrorKind is not always reachable by type).
fn chain_mentions(e: &ClientError, needle: &str) -> bool {
    e.to_string().to_ascii_lowercase().contains(needle)
}
