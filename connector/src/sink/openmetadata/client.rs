//! A typed OpenMetadata client: URLs under `hostPort`, the bearer token, the shared retry
//! loop, and OpenMetadata's error answers.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::Value;
use url::Url;

use crate::client::http::{self, RawResponse, SendError};
use crate::client::retry::{
    AttemptOutcome, RetryConfig, RetryDecision, Spent, Step, should_retry, with_retries,
};
use crate::config::OpenMetadataServerConfig;
use crate::records::EntityType;

/// Longest part of a server message kept in an error (OpenMetadata sometimes answers with a
/// whole stack trace).
pub(super) const MESSAGE_MAX: usize = 500;

/// Why the metadata-rest sink cannot go on. None of these carries the JWT.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OmError {
    #[error(
        "cannot reach OpenMetadata at {url}: {reason}{spent}. Check workflowConfig.openMetadataServerConfig.hostPort: it must be OpenMetadata's API, for example http://localhost:8585/api, reachable from here"
    )]
    Unreachable {
        url: String,
        reason: String,
        /// What the request spent (see `retry::Spent::note`), empty for one attempt.
        spent: String,
    },
    #[error(
        "OpenMetadata at {url} refused the JWT in workflowConfig.openMetadataServerConfig.securityConfig.jwtToken (HTTP {status}). Check the token (not expired, copied whole) and that the ingestion bot it belongs to exists and may create dashboards"
    )]
    TokenRefused { url: String, status: u16 },
    #[error("OpenMetadata answered {method} {url} with HTTP {status}: {message}")]
    Status {
        method: Method,
        url: String,
        status: u16,
        message: String,
    },
    #[error(
        "OpenMetadata answered {method} {url} with a body larger than the cap of {limit}; reading stopped there and the call is not retried. Check that workflowConfig.openMetadataServerConfig.hostPort is OpenMetadata's API, or raise workflowConfig.openMetadataServerConfig.maxResponseBytes",
        limit = http::byte_size(*limit)
    )]
    ResponseTooLarge {
        method: Method,
        url: String,
        limit: u64,
    },
    #[error("invalid workflowConfig.openMetadataServerConfig: {0}")]
    Config(String),
    /// The run cannot go on (the dashboard service was refused, or the token mid-run).
    #[error("{0}")]
    Stopped(String),
}

/// The HTTP side: URLs under `hostPort`, the bearer token, retries.
pub(super) struct OmClient {
    pub(super) http: reqwest::Client,
    pub(super) base: Url,
    pub(super) token: Option<SecretString>,
    pub(super) retry: RetryConfig,
    /// Longest response body read (`maxResponseBytes`).
    pub(super) max_response_bytes: u64,
    pub(super) requests: AtomicU64,
    pub(super) retries: AtomicU64,
}

impl OmClient {
    pub(super) fn new(
        config: &OpenMetadataServerConfig,
        retry: RetryConfig,
    ) -> Result<Self, OmError> {
        let base = config.host_port.clone();
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(OmError::Config(format!(
                "hostPort `{}` is not an http(s) URL",
                http::origin(&base)
            )));
        }
        let http = http::build_http_client(Duration::from_secs(10), Duration::from_secs(60))
            .map_err(|e| OmError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            base,
            token: config
                .security_config
                .as_ref()
                .and_then(|s| s.jwt_token.clone()),
            retry,
            max_response_bytes: config.max_response_bytes.max(1),
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        })
    }

    /// `{hostPort}/{segments...}`, each segment percent-encoded (FQNs hold quotes, spaces,
    /// slashes and non-ASCII).
    pub(super) fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
        let mut url = self.base.clone();
        url.set_query(None);
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        if !query.is_empty() {
            url.query_pairs_mut().extend_pairs(query);
        }
        url
    }

    /// Sends until an answer that is not worth retrying, or the budget is spent. Every
    /// request sent here is idempotent (GET, PUT, DELETE, and PATCHes that only add or
    /// replace fields with absolute values), so broken connections are retried too. An HTTP
    /// error status is returned as a reply, for the caller to interpret.
    pub(super) async fn send(
        &self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
        retry: &RetryConfig,
    ) -> Result<RawResponse, OmError> {
        let path = url.path();
        let (result, spent) = with_retries(retry, "OpenMetadata", &method, path, |_| async {
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .header(ACCEPT, "application/json");
            if let Some(token) = &self.token {
                request = request.header(AUTHORIZATION, crate::client::bearer(token));
            }
            if method == Method::PATCH {
                // Before `json`, which sets `application/json` only when none is set.
                request = request.header(CONTENT_TYPE, "application/json-patch+json");
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let result = http::send(request, self.max_response_bytes).await;
            let outcome = match &result {
                Ok(reply) => AttemptOutcome::Status(reply.status),
                Err(e) => e.outcome(),
            };
            let unreachable = |e: &SendError| match e {
                SendError::Http(e) => OmError::Unreachable {
                    url: url.to_string(),
                    reason: http::chain(e),
                    spent: String::new(),
                },
                SendError::TooLarge { limit, .. } => OmError::ResponseTooLarge {
                    method: method.clone(),
                    url: url.to_string(),
                    limit: *limit,
                },
            };
            if should_retry(outcome, true) != RetryDecision::Retry {
                return Step::Done(result.map_err(|e| unreachable(&e)));
            }
            let (retry_after, status) = match &result {
                Ok(reply) => (reply.retry_after(), Some(reply.status.as_u16())),
                Err(_) => (None, None),
            };
            let error = result.as_ref().err().map(|e| match e {
                SendError::Http(e) => http::chain(e),
                SendError::TooLarge { .. } => "body over maxResponseBytes".to_owned(),
            });
            Step::Retry {
                retry_after,
                status,
                request_id: None,
                error,
                // A retryable HTTP status that outlasts the budget is still an answer,
                // for the caller to interpret.
                give_up: result.map_err(|e| unreachable(&e)),
            }
        })
        .await;
        self.retries
            .fetch_add(u64::from(spent.retries), Ordering::Relaxed);
        result.map_err(|mut e| {
            if let OmError::Unreachable { spent: note, .. } = &mut e {
                *note = Spent::note(spent.attempts, spent.elapsed);
            }
            e
        })
    }

    /// Sends and insists on a 2xx answer.
    pub(super) async fn call(
        &self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
    ) -> Result<Bytes, OmError> {
        let reply = self.send(method.clone(), url, body, &self.retry).await?;
        if reply.status.is_success() {
            Ok(reply.body)
        } else {
            Err(status_error(&method, url, &reply))
        }
    }

    /// `DELETE` at `url`: `true` when OpenMetadata deleted something, `false` when it said
    /// there was nothing (404).
    async fn delete(&self, url: &Url) -> Result<bool, OmError> {
        let reply = self.send(Method::DELETE, url, None, &self.retry).await?;
        if reply.status.is_success() {
            Ok(true)
        } else if reply.status == StatusCode::NOT_FOUND {
            Ok(false)
        } else {
            Err(status_error(&Method::DELETE, url, &reply))
        }
    }

    /// `GET` an entity; `None` when OpenMetadata says 404.
    pub(super) async fn get_optional(&self, url: &Url) -> Result<Option<Value>, OmError> {
        let reply = self.send(Method::GET, url, None, &self.retry).await?;
        if reply.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !reply.status.is_success() {
            return Err(status_error(&Method::GET, url, &reply));
        }
        Ok(serde_json::from_slice(&reply.body).ok())
    }
}

/// OpenMetadata's API as this sink uses it: each call one typed method.
impl OmClient {
    /// `PUT /v1/{collection}`: creates or updates an entity; the entity as OpenMetadata
    /// stored it, when the answer is one (`Null` otherwise).
    pub(super) async fn put_entity(
        &self,
        entity_type: EntityType,
        body: &Value,
    ) -> Result<Value, OmError> {
        let mut segments = vec!["v1"];
        segments.extend_from_slice(collection(entity_type));
        let answer = self.put(&segments, body).await?;
        Ok(serde_json::from_slice::<Value>(&answer).unwrap_or_default())
    }

    /// `PATCH /v1/{collection}/{id}` with a JSON Patch (`application/json-patch+json`).
    pub(super) async fn patch_entity(
        &self,
        entity_type: EntityType,
        id: &str,
        ops: &Value,
    ) -> Result<(), OmError> {
        let mut segments = vec!["v1"];
        segments.extend_from_slice(collection(entity_type));
        segments.push(id);
        let url = self.url(&segments, &[]);
        self.call(Method::PATCH, &url, Some(ops)).await.map(drop)
    }

    /// `DELETE /v1/lineage/{entityType}/{id}/type/{source}`: the lineage edges of one
    /// source into an entity (what `overrideLineage` replaces). `false` when there were
    /// none to delete (404).
    pub(super) async fn delete_lineage_by_source(
        &self,
        entity_type: EntityType,
        id: &str,
        source: &str,
    ) -> Result<bool, OmError> {
        let url = self.url(
            &["v1", "lineage", entity_type.as_str(), id, "type", source],
            &[],
        );
        self.delete(&url).await
    }

    /// `PUT` at `segments` (`v1/classifications`, `v1/tags`), insisting on a 2xx answer.
    pub(super) async fn put(&self, segments: &[&str], body: &Value) -> Result<Bytes, OmError> {
        let url = self.url(segments, &[]);
        self.call(Method::PUT, &url, Some(body)).await
    }

    /// `PUT /v1/lineage` with an `AddLineageRequest`.
    pub(super) async fn add_lineage(&self, body: &Value) -> Result<(), OmError> {
        self.put(&["v1", "lineage"], body).await.map(drop)
    }

    /// `GET /v1/{collection}/name/{fqn}`: the entity's id, `None` if OpenMetadata has none.
    pub(super) async fn id_by_fqn(
        &self,
        entity_type: EntityType,
        fqn: &str,
    ) -> Result<Option<String>, OmError> {
        let mut segments = vec!["v1"];
        segments.extend_from_slice(collection(entity_type));
        segments.extend(["name", fqn]);
        let found = self.get_optional(&self.url(&segments, &[])).await?;
        Ok(found.and_then(|e| e.get("id").and_then(Value::as_str).map(str::to_owned)))
    }

    /// A user's id by email, through OpenMetadata's search API the way its own ingestion
    /// framework looks owners up (`get_reference_by_email`): an exact match on the
    /// `email.keyword` field of the user index. The hit's email is compared again here, so
    /// a loose match can never make the wrong person an owner.
    pub(super) async fn user_by_email(&self, email: &str) -> Result<Option<String>, OmError> {
        let quoted = email.replace('\\', "\\\\").replace('"', "\\\"");
        let query = format!("email.keyword:\"{quoted}\"");
        let url = self.url(
            &["v1", "search", "query"],
            &[
                ("q", query.as_str()),
                ("index", "user_search_index"),
                ("from", "0"),
                ("size", "5"),
            ],
        );
        let body = self.call(Method::GET, &url, None).await?;
        let found: Value = serde_json::from_slice(&body).unwrap_or_default();
        Ok(found
            .pointer("/hits/hits")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|hit| hit.get("_source"))
            .find(|user| {
                user.get("email")
                    .and_then(Value::as_str)
                    .is_some_and(|e| e.eq_ignore_ascii_case(email))
                    && !user
                        .get("deleted")
                        .and_then(Value::as_bool)
                        .unwrap_or(false)
            })
            .and_then(|user| user.get("id").and_then(Value::as_str))
            .map(str::to_owned))
    }

    /// `DELETE /v1/{collection}/{id}?hardDelete=false&recursive=true`: a soft delete,
    /// reversible in OpenMetadata (restore), which is what mark-deleted means. `false` when
    /// the entity was already gone.
    pub(super) async fn soft_delete(
        &self,
        entity_type: EntityType,
        id: &str,
    ) -> Result<bool, OmError> {
        let mut segments = vec!["v1"];
        segments.extend_from_slice(collection(entity_type));
        segments.push(id);
        let url = self.url(&segments, &[("hardDelete", "false"), ("recursive", "true")]);
        self.delete(&url).await
    }
}

/// The error for a non-2xx answer, with OpenMetadata's own message when it sent one
/// (`{"code": 400, "message": "..."}`).
pub(super) fn status_error(method: &Method, url: &Url, reply: &RawResponse) -> OmError {
    let status = reply.status.as_u16();
    if matches!(status, 401 | 403) {
        return OmError::TokenRefused {
            url: http::origin(url),
            status,
        };
    }
    let message = serde_json::from_slice::<Value>(&reply.body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&reply.body).trim().to_owned());
    let mut message: String = message.chars().take(MESSAGE_MAX).collect();
    if message.is_empty() {
        message = reply
            .status
            .canonical_reason()
            .unwrap_or("no message")
            .to_owned();
    }
    OmError::Status {
        method: method.clone(),
        url: url.to_string(),
        status,
        message,
    }
}

/// The collection an entity type lives under (`/v1/{collection}`).
pub(super) fn collection(entity_type: EntityType) -> &'static [&'static str] {
    match entity_type {
        EntityType::Table => &["tables"],
        EntityType::Dashboard => &["dashboards"],
        EntityType::Chart => &["charts"],
        EntityType::DashboardDataModel => &["dashboard", "datamodels"],
        EntityType::DashboardService => &["services", "dashboardServices"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn config(host_port: &str) -> OpenMetadataServerConfig {
        serde_json::from_value(json!({
            "hostPort": host_port,
            "securityConfig": {"jwtToken": "eyJ.secret.jwt"}
        }))
        .unwrap()
    }

    #[test]
    fn urls_encode_each_segment_under_host_port() {
        let client =
            OmClient::new(&config("http://localhost:8585/api"), RetryConfig::default()).unwrap();
        let url = client.url(
            &["v1", "tables", "name", "svc.\"a.b\".c/d é"],
            &[("hardDelete", "false")],
        );
        assert_eq!(
            url.as_str(),
            "http://localhost:8585/api/v1/tables/name/svc.%22a.b%22.c%2Fd%20%C3%A9?hardDelete=false"
        );
        let client = OmClient::new(
            &config("http://localhost:8585/api/"),
            RetryConfig::default(),
        )
        .unwrap();
        assert_eq!(
            client.url(&["v1", "lineage"], &[]).as_str(),
            "http://localhost:8585/api/v1/lineage"
        );
    }

    #[test]
    fn status_errors_keep_the_server_message_and_never_the_token() {
        let url = Url::parse("http://om:8585/api/v1/charts").unwrap();
        let reply = RawResponse {
            status: StatusCode::BAD_REQUEST,
            headers: Default::default(),
            body: Bytes::from_static(br#"{"code":400,"message":"name must match pattern"}"#),
        };
        let e = status_error(&Method::PUT, &url, &reply).to_string();
        assert!(e.contains("HTTP 400: name must match pattern"), "{e}");
        let reply = RawResponse {
            status: StatusCode::UNAUTHORIZED,
            headers: Default::default(),
            body: Bytes::new(),
        };
        let e = status_error(&Method::PUT, &url, &reply).to_string();
        assert!(e.contains("securityConfig.jwtToken"), "{e}");
        assert!(!e.contains("eyJ"));
    }
}
