//! The `datahub-rest` sink's client: DataHub's GMS as its REST emitter speaks to it
//! (`datahub/emitter/rest_emitter.py`, Rest.li mode): `GET /config` to check the server
//! and the token, `POST /aspects?action=ingestProposalBatch` with `{"proposals": [...]}`,
//! header `X-RestLi-Protocol-Version: 2.0.0`, the token as `Authorization: Bearer`.
//!
//! Proposals go in batches (at most [`BATCH_PROPOSALS`] or [`BATCH_BYTES`]), up to
//! `MAX_IN_FLIGHT` batches at a time, each retried through the crate's one retry loop:
//! every proposal is an `UPSERT`, so resending one the server already took changes nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::Value;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use url::Url;

use crate::client::backoff::BackoffConfig;
use crate::client::http::{self, RawResponse, SendError};
use crate::client::retry::{
    AttemptOutcome, MAX_RETRY_AFTER, RetryConfig, RetryDecision, Spent, Step, should_retry,
    with_retries,
};
use crate::datahub::mcp::Mcp;
use crate::sink::SinkSummary;

/// Batches of proposals in flight at once.
pub const MAX_IN_FLIGHT: usize = 4;
/// Most proposals in one batch.
pub const BATCH_PROPOSALS: usize = 100;
/// Largest batch body, well under GMS's default 16 MB request limit (the emitter keeps
/// batches under 15 MB).
pub const BATCH_BYTES: usize = 4 * 1024 * 1024;
/// Longest answer read from GMS.
const MAX_RESPONSE_BYTES: u64 = 16 * 1024 * 1024;
/// Longest part of a server message kept in an error.
const MESSAGE_MAX: usize = 500;

/// Why the datahub-rest sink cannot go on or a batch failed. None of these carries the token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DataHubError {
    #[error(
        "cannot reach DataHub GMS at {url}: {reason}{spent}. Check sink.config.server: it must be DataHub's GMS (usually http://<host>:8080, or https://<frontend>/api/gms), reachable from here"
    )]
    Unreachable {
        url: String,
        reason: String,
        spent: String,
    },
    #[error(
        "DataHub GMS at {url} refused the token in sink.config.token (HTTP {status}). Check the personal access token (not expired, copied whole, allowed to ingest metadata)"
    )]
    TokenRefused { url: String, status: u16 },
    #[error(
        "{url} answered /config without `noCode: \"true\"`: that is not DataHub's GMS (the frontend?). Point sink.config.server at GMS (usually :8080) or the frontend's /api/gms"
    )]
    NotGms { url: String },
    #[error("DataHub GMS answered {method} {url} with HTTP {status}: {message}")]
    Status {
        method: Method,
        url: String,
        status: u16,
        message: String,
    },
    #[error("invalid sink.config for datahub-rest: {0}")]
    Config(String),
    #[error("{0}")]
    Stopped(String),
}

/// GMS over HTTP: URLs under `server`, the token, retries.
pub struct GmsClient {
    http: reqwest::Client,
    server: Url,
    token: Option<SecretString>,
    retry: RetryConfig,
    requests: AtomicU64,
}

impl GmsClient {
    pub fn new(server: &Url, token: Option<SecretString>) -> Result<Self, DataHubError> {
        if !matches!(server.scheme(), "http" | "https") || server.cannot_be_a_base() {
            return Err(DataHubError::Config(format!(
                "server `{}` is not an http(s) URL",
                http::origin(server)
            )));
        }
        let http = http::build_http_client(Duration::from_secs(10), Duration::from_secs(120))
            .map_err(|e| DataHubError::Config(format!("cannot build the HTTP client: {e}")))?;
        Ok(Self {
            http,
            server: server.clone(),
            token,
            retry: RetryConfig {
                max_retries: 5,
                retry_timeout: Duration::from_secs(120),
                backoff: BackoffConfig::default(),
                max_retry_after: MAX_RETRY_AFTER,
            },
            requests: AtomicU64::new(0),
        })
    }

    /// `{server}/{path}`, keeping a path the server URL has (`/api/gms`).
    fn url(&self, path: &str, query: Option<&str>) -> Url {
        let mut url = self.server.clone();
        url.set_query(None);
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.pop_if_empty().push(path);
        }
        url.set_query(query);
        url
    }

    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    async fn send(
        &self,
        method: Method,
        url: &Url,
        body: Option<&[u8]>,
        retry: &RetryConfig,
    ) -> Result<RawResponse, DataHubError> {
        let path = url.path().to_owned();
        let unreachable = |e: &SendError| DataHubError::Unreachable {
            url: http::origin(url),
            reason: match e {
                SendError::Http(e) => http::chain(e),
                SendError::TooLarge { .. } => "the answer was too large".to_owned(),
            },
            spent: String::new(),
        };
        let (result, spent) = with_retries(retry, "DataHub", &method, &path, |_| async {
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .header(ACCEPT, "application/json")
                .header("X-RestLi-Protocol-Version", "2.0.0");
            if let Some(token) = &self.token {
                request = request.header(AUTHORIZATION, crate::client::bearer(token));
            }
            if let Some(body) = body {
                request = request
                    .header(CONTENT_TYPE, "application/json")
                    .body(body.to_vec());
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let result = http::send(request, MAX_RESPONSE_BYTES).await;
            let outcome = match &result {
                Ok(reply) => AttemptOutcome::Status(reply.status),
                Err(e) => e.outcome(),
            };
            // Every request here is a GET or a batch of UPSERTs: idempotent.
            if should_retry(outcome, true) != RetryDecision::Retry {
                return Step::Done(result.map_err(|e| unreachable(&e)));
            }
            let (retry_after, status) = match &result {
                Ok(reply) => (reply.retry_after(), Some(reply.status.as_u16())),
                Err(_) => (None, None),
            };
            Step::Retry {
                retry_after,
                status,
                request_id: None,
                error: result.as_ref().err().map(|e| unreachable(e).to_string()),
                give_up: result.map_err(|e| unreachable(&e)),
            }
        })
        .await;
        result.map_err(|mut e| {
            if let DataHubError::Unreachable { spent: note, .. } = &mut e {
                *note = Spent::note(spent.attempts, spent.elapsed);
            }
            e
        })
    }

    /// `GET /config`, as the emitter's `test_connection`: GMS answers 200 with
    /// `noCode: "true"`; a refused token is 401/403. Retried briefly only: a server that is
    /// down or a wrong URL must fail the run in seconds, before any Sigma request.
    pub async fn healthcheck(&self) -> Result<(), DataHubError> {
        let url = self.url("config", None);
        let brief = RetryConfig {
            max_retries: 2,
            retry_timeout: Duration::from_secs(10),
            ..self.retry
        };
        let reply = self.send(Method::GET, &url, None, &brief).await?;
        if !reply.status.is_success() {
            return Err(status_error(&Method::GET, &url, &reply));
        }
        let config: Value = serde_json::from_slice(&reply.body).unwrap_or(Value::Null);
        if config.get("noCode").and_then(Value::as_str) != Some("true") {
            return Err(DataHubError::NotGms {
                url: http::origin(&url),
            });
        }
        Ok(())
    }

    /// `POST /aspects?action=ingestProposalBatch`.
    pub async fn ingest_batch(&self, body: &[u8]) -> Result<(), DataHubError> {
        let url = self.url("aspects", Some("action=ingestProposalBatch"));
        let reply = self
            .send(Method::POST, &url, Some(body), &self.retry)
            .await?;
        if reply.status.is_success() {
            Ok(())
        } else {
            Err(status_error(&Method::POST, &url, &reply))
        }
    }
}

fn status_error(method: &Method, url: &Url, reply: &RawResponse) -> DataHubError {
    let status = reply.status.as_u16();
    if matches!(
        reply.status,
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
    ) {
        return DataHubError::TokenRefused {
            url: http::origin(url),
            status,
        };
    }
    let message = serde_json::from_slice::<Value>(&reply.body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&reply.body).trim().to_owned());
    DataHubError::Status {
        method: method.clone(),
        url: format!("{}{}", http::origin(url), url.path()),
        status,
        message: message.chars().take(MESSAGE_MAX).collect(),
    }
}

/// What one batch came back with: how many proposals it held, and its failure.
struct BatchOutcome {
    proposals: usize,
    failure: Option<DataHubError>,
}

/// Batches proposals and posts them, `MAX_IN_FLIGHT` at a time.
pub struct McpPoster {
    client: Arc<GmsClient>,
    permits: Arc<Semaphore>,
    in_flight: JoinSet<BatchOutcome>,
    batch: Vec<Value>,
    batch_bytes: usize,
    pub(super) summary: SinkSummary,
    /// A refused token seen by a batch: the run stops at the next write.
    fatal: Option<String>,
    sent: u64,
}

impl McpPoster {
    pub fn new(server: &Url, token: Option<SecretString>) -> Result<Self, DataHubError> {
        if token.is_none() {
            tracing::warn!(
                "no sink.config.token: requests to DataHub GMS carry no token (fine only when GMS has metadata service authentication off)"
            );
        }
        Ok(Self {
            client: Arc::new(GmsClient::new(server, token)?),
            permits: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            in_flight: JoinSet::new(),
            batch: Vec::new(),
            batch_bytes: 0,
            summary: SinkSummary::default(),
            fatal: None,
            sent: 0,
        })
    }

    pub async fn healthcheck(&self) -> Result<(), DataHubError> {
        self.client.healthcheck().await
    }

    pub fn requests(&self) -> u64 {
        self.client.requests()
    }

    pub async fn write(&mut self, mcp: &Mcp) -> Result<(), DataHubError> {
        if let Some(message) = self.fatal.take() {
            return Err(DataHubError::Stopped(format!(
                "stopping: {message}. Proposals sent before this point stay in DataHub"
            )));
        }
        let proposal = mcp
            .rest_form()
            .map_err(|e| DataHubError::Stopped(format!("cannot serialise a proposal: {e}")))?;
        let size = proposal.to_string().len();
        if !self.batch.is_empty()
            && (self.batch.len() >= BATCH_PROPOSALS || self.batch_bytes + size > BATCH_BYTES)
        {
            self.flush().await?;
        }
        self.batch.push(proposal);
        self.batch_bytes += size;
        Ok(())
    }

    fn collect(&mut self, joined: Result<BatchOutcome, tokio::task::JoinError>) {
        let outcome = joined.unwrap_or_else(|e| BatchOutcome {
            proposals: 0,
            failure: Some(DataHubError::Stopped(format!(
                "a DataHub request task ended: {e}"
            ))),
        });
        match outcome.failure {
            None => self.sent += outcome.proposals as u64,
            Some(e) => {
                let message = format!("a batch of {} proposals: {e}", outcome.proposals);
                tracing::warn!("{message}");
                if matches!(e, DataHubError::TokenRefused { .. }) && self.fatal.is_none() {
                    self.fatal = Some(message.clone());
                }
                self.summary.failures.push(message);
            }
        }
    }

    /// Sends the batch being filled, once one of the places in flight is free.
    async fn flush(&mut self) -> Result<(), DataHubError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        while let Some(joined) = self.in_flight.try_join_next() {
            self.collect(joined);
        }
        let permit = loop {
            if let Ok(permit) = self.permits.clone().try_acquire_owned() {
                break permit;
            }
            match self.in_flight.join_next().await {
                Some(joined) => self.collect(joined),
                None => {
                    break self.permits.clone().acquire_owned().await.map_err(|_| {
                        DataHubError::Stopped("the request limiter was closed".into())
                    })?;
                }
            }
        };
        let proposals = std::mem::take(&mut self.batch);
        self.batch_bytes = 0;
        let count = proposals.len();
        let body = serde_json::to_vec(&serde_json::json!({ "proposals": proposals }))
            .map_err(|e| DataHubError::Stopped(format!("cannot serialise a batch: {e}")))?;
        let client = self.client.clone();
        self.in_flight.spawn(async move {
            let failure = client.ingest_batch(&body).await.err();
            drop(permit);
            BatchOutcome {
                proposals: count,
                failure,
            }
        });
        Ok(())
    }

    /// Sends what is left and waits for every batch; the summary counts what GMS took.
    pub async fn finish(mut self) -> SinkSummary {
        if let Err(e) = self.flush().await {
            self.summary.failures.push(e.to_string());
        }
        while let Some(joined) = self.in_flight.join_next().await {
            self.collect(joined);
        }
        tracing::info!(
            proposals = self.sent,
            requests = self.requests(),
            "DataHub GMS took the run's proposals"
        );
        self.summary
    }

    /// Stops: batches in flight are abandoned (GMS may have taken them: UPSERTs).
    pub fn abort(mut self) {
        self.in_flight.abort_all();
    }
}
