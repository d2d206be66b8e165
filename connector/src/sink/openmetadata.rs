//! The `metadata-rest` sink: OpenMetadata's REST API at
//! `workflowConfig.openMetadataServerConfig.hostPort` (`http://host:8585/api`), with the
//! ingestion bot's JWT as bearer token.
//!
//! Entities are created or updated with idempotent `PUT`s, up to [`MAX_IN_FLIGHT`] at a time.
//! Order matters to OpenMetadata, which resolves references by FQN when it stores an entity:
//! the dashboard service is written (and acknowledged) before anything else, a dashboard
//! only after every earlier request (its charts and data models) has been answered, and
//! lineage only at commit, after every entity, because either end may arrive after the edge.
//! A record OpenMetadata refuses is a failure of that record, reported by `commit`; the run
//! goes on. An owner or lineage end OpenMetadata does not know is a warning.
//!
//! Tags: a record's `refs.tags` are Sigma tag names. OpenMetadata refuses an entity that
//! names a tag it does not have, so, as its own connectors do, the sink first makes sure the
//! `SigmaTags` classification and each tag exist (`PUT /v1/classifications`, `PUT /v1/tags`,
//! each once per run), then labels the entity `SigmaTags.<tag>`. A tag that cannot be
//! created is a warning and the entity is written without it.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::{ACCEPT, AUTHORIZATION};
use reqwest::{Method, StatusCode};
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::sync::{OnceCell, Semaphore};
use tokio::task::JoinSet;
use tokio::time::Instant;
use url::Url;

use super::{Sink, SinkError, SinkSummary};
use crate::client::backoff::{Backoff, BackoffConfig};
use crate::client::http::{self, RawResponse};
use crate::client::retry::{
    AttemptOutcome, MAX_RETRY_AFTER, RetryConfig, RetryDecision, may_retry, should_retry,
    wait_before_retry,
};
use crate::config::OpenMetadataServerConfig;
use crate::records::{
    DeleteRef, EntityType, LineageEdge, TAG_CLASSIFICATION, TagLabel, fqn as om_fqn, tag_name,
};

/// Requests to OpenMetadata in flight at once.
pub const MAX_IN_FLIGHT: usize = 8;

/// Longest part of a server message kept in an error (OpenMetadata sometimes answers with a
/// whole stack trace).
const MESSAGE_MAX: usize = 500;

/// Why the metadata-rest sink cannot go on. None of these carries the JWT.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OmError {
    #[error(
        "cannot reach OpenMetadata at {url}: {reason}. Check workflowConfig.openMetadataServerConfig.hostPort: it must be OpenMetadata's API, for example http://localhost:8585/api, reachable from here"
    )]
    Unreachable { url: String, reason: String },
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
    #[error("invalid workflowConfig.openMetadataServerConfig: {0}")]
    Config(String),
    /// The run cannot go on (the dashboard service was refused, or the token mid-run).
    #[error("{0}")]
    Stopped(String),
}

/// The HTTP side: URLs under `hostPort`, the bearer token, retries.
struct OmClient {
    http: reqwest::Client,
    base: Url,
    token: Option<SecretString>,
    retry: RetryConfig,
    requests: AtomicU64,
    retries: AtomicU64,
}

impl OmClient {
    fn new(config: &OpenMetadataServerConfig, retry: RetryConfig) -> Result<Self, OmError> {
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
            requests: AtomicU64::new(0),
            retries: AtomicU64::new(0),
        })
    }

    /// `{hostPort}/{segments...}`, each segment percent-encoded (FQNs hold quotes, spaces,
    /// slashes and non-ASCII).
    fn url(&self, segments: &[&str], query: &[(&str, &str)]) -> Url {
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
    /// method used here is idempotent (GET, PUT, DELETE), so broken connections are retried
    /// too. An HTTP error status is returned as a reply, for the caller to interpret.
    async fn send(
        &self,
        method: Method,
        url: &Url,
        body: Option<&Value>,
        retry: &RetryConfig,
    ) -> Result<RawResponse, OmError> {
        let start = Instant::now();
        let mut backoff = Backoff::new(retry.backoff);
        let mut retries = 0;
        loop {
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .header(ACCEPT, "application/json");
            if let Some(token) = &self.token {
                request = request.header(AUTHORIZATION, crate::client::bearer(token));
            }
            if let Some(body) = body {
                request = request.json(body);
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let result = http::send(request).await;
            let outcome = match &result {
                Ok(reply) => AttemptOutcome::Status(reply.status),
                Err(e) => http::outcome_of(e),
            };
            if should_retry(outcome, true) == RetryDecision::Retry {
                let retry_after = result.as_ref().ok().and_then(RawResponse::retry_after);
                let wait = wait_before_retry(backoff.next_wait(), retry_after, MAX_RETRY_AFTER);
                if may_retry(retry, retries, start.elapsed(), wait) {
                    retries += 1;
                    self.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(
                        %method,
                        path = url.path(),
                        status = result.as_ref().ok().map(|r| r.status.as_u16()),
                        wait_ms = wait.as_millis() as u64,
                        "retrying OpenMetadata request"
                    );
                    tokio::time::sleep(wait).await;
                    continue;
                }
            }
            return match result {
                Ok(reply) => Ok(reply),
                Err(e) => Err(OmError::Unreachable {
                    url: url.to_string(),
                    reason: chain(&e),
                }),
            };
        }
    }

    /// Sends and insists on a 2xx answer.
    async fn call(
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

    /// `GET` an entity; `None` when OpenMetadata says 404.
    async fn get_optional(&self, url: &Url) -> Result<Option<Value>, OmError> {
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

/// The error for a non-2xx answer, with OpenMetadata's own message when it sent one
/// (`{"code": 400, "message": "..."}`).
fn status_error(method: &Method, url: &Url, reply: &RawResponse) -> OmError {
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

/// An error and its causes on one line (reqwest's own message is only the outermost).
fn chain(error: &(dyn std::error::Error + 'static)) -> String {
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

/// The collection an entity type lives under (`/v1/{collection}`).
fn collection(entity_type: EntityType) -> &'static [&'static str] {
    match entity_type {
        EntityType::Table => &["tables"],
        EntityType::Dashboard => &["dashboards"],
        EntityType::Chart => &["charts"],
        EntityType::DashboardDataModel => &["dashboard", "datamodels"],
        EntityType::DashboardService => &["services", "dashboardServices"],
    }
}

/// Adds tag labels to an entity body's `tags`, leaving out any it already has.
fn add_tags(body: &mut Value, labels: Vec<Value>) {
    if labels.is_empty() {
        return;
    }
    let Some(entity) = body.as_object_mut() else {
        return;
    };
    let list = entity.entry("tags").or_insert_with(|| json!([]));
    if !list.is_array() {
        *list = json!([]);
    }
    if let Some(list) = list.as_array_mut() {
        for label in labels {
            if !list.iter().any(|l| l.get("tagFQN") == label.get("tagFQN")) {
                list.push(label);
            }
        }
    }
}

fn entity_type_of(kind: &str) -> Option<EntityType> {
    Some(match kind {
        "dashboardService" => EntityType::DashboardService,
        "chart" => EntityType::Chart,
        "dataModel" => EntityType::DashboardDataModel,
        "dashboard" => EntityType::Dashboard,
        _ => return None,
    })
}

type Cell = Arc<OnceCell<Option<String>>>;

/// Whether a classification or tag exists in OpenMetadata (else why not), settled once.
type Ensured = Arc<OnceCell<Result<(), String>>>;

/// The description of the classification the sink creates.
const CLASSIFICATION_DESCRIPTION: &str = "Tags from Sigma Computing: each tag here is a tag that Sigma workbooks carry, created by the Sigma connector when it ingests them (sourceConfig.config.includeTags).";

/// Ids by FQN and by email, each looked up at most once (concurrent askers wait for the
/// one lookup). A failed lookup is not cached: the next asker tries again.
struct Resolver {
    client: OmClient,
    entities: Mutex<HashMap<(EntityType, String), Cell>>,
    users: Mutex<HashMap<String, Cell>>,
    /// The `SigmaTags` classification, created at most once per run.
    classification: Ensured,
    /// Tags by (valid) tag name, each created at most once per run; a refusal is kept too,
    /// so a tag OpenMetadata refused is not asked for again by every entity that carries it.
    tags: Mutex<HashMap<String, Ensured>>,
}

impl Resolver {
    fn cell<K: std::hash::Hash + Eq, V: Default + Clone>(map: &Mutex<HashMap<K, V>>, key: K) -> V {
        let mut map = map.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(key).or_default().clone()
    }

    /// `PUT /v1/classifications`: the classification that holds the Sigma tags.
    async fn classification(&self) -> Result<(), String> {
        self.classification
            .get_or_init(|| async {
                let body = json!({
                    "name": TAG_CLASSIFICATION,
                    "description": CLASSIFICATION_DESCRIPTION,
                    "mutuallyExclusive": false,
                });
                let url = self.client.url(&["v1", "classifications"], &[]);
                match self.client.call(Method::PUT, &url, Some(&body)).await {
                    Ok(_) => Ok(()),
                    Err(e) => Err(format!(
                        "cannot create classification {TAG_CLASSIFICATION}: {e}"
                    )),
                }
            })
            .await
            .clone()
    }

    /// `PUT /v1/tags` for a Sigma tag (after its classification): the tag's FQN to label
    /// entities with, or why it cannot be used.
    async fn tag(&self, raw: &str) -> Result<String, String> {
        let name = tag_name(raw);
        let tag_fqn = om_fqn::tag(TAG_CLASSIFICATION, &name);
        let cell: Ensured = Self::cell(&self.tags, name.clone());
        cell.get_or_init(|| async {
            self.classification().await?;
            let mut body = json!({
                "name": name,
                "classification": TAG_CLASSIFICATION,
                "description": format!("Sigma tag `{}`, as Sigma workbooks carry it.", raw.trim()),
            });
            if name != raw.trim() {
                body["displayName"] = json!(raw.trim());
            }
            let url = self.client.url(&["v1", "tags"], &[]);
            match self.client.call(Method::PUT, &url, Some(&body)).await {
                Ok(_) => Ok(()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await
        .clone()
        .map(|()| tag_fqn)
    }

    /// Records an id learnt from a `PUT` answer, so lineage needs no lookup for it.
    fn remember(&self, entity_type: EntityType, fqn: &str, id: String) {
        let cell = Self::cell(&self.entities, (entity_type, fqn.to_owned()));
        let _ = cell.set(Some(id));
    }

    /// `GET /v1/{collection}/name/{fqn}`: the entity's id, `None` if OpenMetadata has none.
    async fn entity(&self, entity_type: EntityType, fqn: &str) -> Result<Option<String>, OmError> {
        let cell = Self::cell(&self.entities, (entity_type, fqn.to_owned()));
        cell.get_or_try_init(|| async {
            let mut segments = vec!["v1"];
            segments.extend_from_slice(collection(entity_type));
            segments.extend(["name", fqn]);
            let url = self.client.url(&segments, &[]);
            let found = self.client.get_optional(&url).await?;
            Ok(found.and_then(|e| e.get("id").and_then(Value::as_str).map(str::to_owned)))
        })
        .await
        .cloned()
    }

    /// A user's id by email, through OpenMetadata's search API the way its own ingestion
    /// framework looks owners up (`get_reference_by_email`): an exact match on the
    /// `email.keyword` field of the user index. The hit's email is compared again here, so
    /// a loose match can never make the wrong person an owner.
    async fn user(&self, email: &str) -> Result<Option<String>, OmError> {
        let cell = Self::cell(&self.users, email.to_lowercase());
        cell.get_or_try_init(|| async {
            let quoted = email.replace('\\', "\\\\").replace('"', "\\\"");
            let query = format!("email.keyword:\"{quoted}\"");
            let url = self.client.url(
                &["v1", "search", "query"],
                &[
                    ("q", query.as_str()),
                    ("index", "user_search_index"),
                    ("from", "0"),
                    ("size", "5"),
                ],
            );
            let body = self.client.call(Method::GET, &url, None).await?;
            let found: Value = serde_json::from_slice(&body).unwrap_or_default();
            let id = found
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
                .map(str::to_owned);
            Ok(id)
        })
        .await
        .cloned()
    }
}

/// What one request task came back with.
struct Outcome {
    warnings: Vec<String>,
    /// The record's failure, and whether it means no further request can succeed.
    failure: Option<(String, bool)>,
    /// The written entity's id, for the cache and for the dashboards that name it.
    written: Option<(EntityType, String, String)>,
    /// A counted non-event (`deleteAlreadyGone`).
    skipped: Option<&'static str>,
    /// The FQN of an entity OpenMetadata refused.
    refused: Option<String>,
}

impl Outcome {
    fn ok() -> Self {
        Self {
            warnings: Vec::new(),
            failure: None,
            written: None,
            skipped: None,
            refused: None,
        }
    }

    fn failed(what: String, error: &OmError) -> Self {
        let fatal = matches!(error, OmError::TokenRefused { .. });
        Self {
            failure: Some((format!("{what}: {error}"), fatal)),
            ..Self::ok()
        }
    }
}

/// The `metadata-rest` sink.
pub struct MetadataRestSink {
    resolver: Arc<Resolver>,
    permits: Arc<Semaphore>,
    in_flight: JoinSet<Outcome>,
    /// Lineage waits for commit: its ends may be written after it arrives.
    lineage: Vec<LineageEdge>,
    /// Charts and data models OpenMetadata refused in this run: dashboards leave them out
    /// rather than fail as a whole.
    refused: HashSet<String>,
    summary: SinkSummary,
    /// A refusal of the token seen by a request task: the run stops at the next write.
    fatal: Option<String>,
    counts: HashMap<&'static str, u64>,
}

impl MetadataRestSink {
    pub fn new(config: &OpenMetadataServerConfig) -> Result<Self, OmError> {
        let retry = RetryConfig {
            max_retries: 5,
            retry_timeout: Duration::from_secs(60),
            backoff: BackoffConfig::default(),
            max_retry_after: MAX_RETRY_AFTER,
        };
        let client = OmClient::new(config, retry)?;
        if config.verify_ssl.as_deref() == Some("ignore") {
            tracing::warn!(
                "verifySSL: ignore is not supported; OpenMetadata's certificate is verified"
            );
        }
        if client.token.is_none() {
            tracing::warn!(
                "no workflowConfig.openMetadataServerConfig.securityConfig.jwtToken: requests to OpenMetadata carry no token"
            );
        }
        Ok(Self {
            resolver: Arc::new(Resolver {
                client,
                entities: Mutex::default(),
                users: Mutex::default(),
                classification: Ensured::default(),
                tags: Mutex::default(),
            }),
            permits: Arc::new(Semaphore::new(MAX_IN_FLIGHT)),
            in_flight: JoinSet::new(),
            lineage: Vec::new(),
            refused: HashSet::new(),
            summary: SinkSummary::default(),
            fatal: None,
            counts: HashMap::new(),
        })
    }

    fn client(&self) -> &OmClient {
        &self.resolver.client
    }

    fn collect(&mut self, joined: Result<Outcome, tokio::task::JoinError>) {
        let outcome = joined.unwrap_or_else(|e| Outcome {
            failure: Some((format!("an OpenMetadata request task ended: {e}"), false)),
            ..Outcome::ok()
        });
        self.summary.warnings.extend(outcome.warnings);
        if let Some((message, fatal)) = outcome.failure {
            tracing::warn!("{message}");
            if fatal && self.fatal.is_none() {
                self.fatal = Some(message.clone());
            }
            self.summary.failures.push(message);
        }
        if let Some((entity_type, fqn, id)) = outcome.written {
            self.resolver.remember(entity_type, &fqn, id);
        }
        if let Some(fqn) = outcome.refused {
            self.refused.insert(fqn);
        }
        if let Some(what) = outcome.skipped {
            *self.summary.skipped.entry(what.to_owned()).or_default() += 1;
        }
    }

    /// Waits for every request in flight.
    async fn drain(&mut self) {
        while let Some(joined) = self.in_flight.join_next().await {
            self.collect(joined);
        }
    }

    /// Starts a request task once one of the [`MAX_IN_FLIGHT`] places is free.
    async fn spawn(
        &mut self,
        task: impl std::future::Future<Output = Outcome> + Send + 'static,
    ) -> Result<(), SinkError> {
        while let Some(joined) = self.in_flight.try_join_next() {
            self.collect(joined);
        }
        let permit = loop {
            if let Ok(permit) = self.permits.clone().try_acquire_owned() {
                break permit;
            }
            // A place frees up when a task ends; collect it while waiting.
            match self.in_flight.join_next().await {
                Some(joined) => self.collect(joined),
                None => {
                    break self.permits.clone().acquire_owned().await.map_err(|_| {
                        OmError::Stopped("the request limiter was closed".to_owned())
                    })?;
                }
            }
        };
        self.in_flight.spawn(async move {
            let outcome = task.await;
            drop(permit);
            outcome
        });
        Ok(())
    }

    fn check_fatal(&mut self) -> Result<(), SinkError> {
        match self.fatal.take() {
            Some(message) => Err(OmError::Stopped(format!(
                "stopping: {message}. Entities written before this point stay in OpenMetadata"
            ))
            .into()),
            None => Ok(()),
        }
    }

    fn count(&mut self, what: &'static str) {
        *self.counts.entry(what).or_default() += 1;
    }

    async fn put_entity(
        &mut self,
        kind: &str,
        fqn: String,
        record: &Value,
    ) -> Result<(), SinkError> {
        let Some(entity_type) = entity_type_of(kind) else {
            return Ok(());
        };
        let mut body = record.get("entity").cloned().unwrap_or(Value::Null);
        if !body.is_object() {
            self.summary
                .failures
                .push(format!("{kind} {fqn}: the record has no entity object"));
            return Ok(());
        }
        if entity_type == EntityType::Dashboard {
            // Everything written before this dashboard (its charts and data models) must be
            // acknowledged first: OpenMetadata resolves them by FQN when it stores it.
            self.drain().await;
            for field in ["charts", "dataModels"] {
                if let Some(Value::Array(list)) = body.get_mut(field) {
                    list.retain(|r| {
                        let keep = r.as_str().is_none_or(|r| !self.refused.contains(r));
                        if !keep {
                            self.summary.warnings.push(format!(
                                "dashboard {fqn}: {} was refused by OpenMetadata and is left out of its {field}",
                                r.as_str().unwrap_or_default()
                            ));
                        }
                        keep
                    });
                }
            }
        }
        let mut owners: Vec<String> = record
            .pointer("/refs/owners")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect();
        let mut seen = HashSet::new();
        owners.retain(|e| seen.insert(e.to_lowercase()));
        let is_service = entity_type == EntityType::DashboardService;
        let mut tags: Vec<String> = if is_service {
            Vec::new()
        } else {
            record
                .pointer("/refs/tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        };
        let mut seen = HashSet::new();
        tags.retain(|t| seen.insert(tag_name(t)));
        if is_service {
            self.drain().await;
        }
        let failures_before = self.summary.failures.len();
        let resolver = self.resolver.clone();
        let kind = kind.to_owned();
        let task = async move {
            let mut outcome = Outcome::ok();
            let mut refs = Vec::new();
            for email in &owners {
                match resolver.user(email).await {
                    Ok(Some(id)) => refs.push(json!({"id": id, "type": "user"})),
                    Ok(None) => outcome.warnings.push(format!(
                        "{kind} {fqn}: owner {email} is not a user in OpenMetadata; left without that owner"
                    )),
                    Err(e) => outcome.warnings.push(format!(
                        "{kind} {fqn}: cannot look up owner {email}: {e}"
                    )),
                }
            }
            if !refs.is_empty() {
                body["owners"] = Value::Array(refs);
            }
            let mut labels = Vec::new();
            for tag in &tags {
                match resolver.tag(tag).await {
                    Ok(tag_fqn) => labels.extend(
                        serde_json::to_value(TagLabel::classification(tag_fqn)).ok(),
                    ),
                    Err(e) => outcome.warnings.push(format!(
                        "{kind} {fqn}: tag {tag} cannot be created in OpenMetadata, so it is written without that tag: {e}"
                    )),
                }
            }
            add_tags(&mut body, labels);
            let mut segments = vec!["v1"];
            segments.extend_from_slice(collection(entity_type));
            let url = resolver.client.url(&segments, &[]);
            match resolver.client.call(Method::PUT, &url, Some(&body)).await {
                Ok(answer) => {
                    let id = serde_json::from_slice::<Value>(&answer)
                        .ok()
                        .and_then(|e| e.get("id").and_then(Value::as_str).map(str::to_owned));
                    if let Some(id) = id {
                        outcome.written = Some((entity_type, fqn, id));
                    }
                }
                Err(e) => {
                    return Outcome {
                        refused: Some(fqn.clone()),
                        ..Outcome::failed(format!("{kind} {fqn}"), &e)
                    };
                }
            }
            outcome
        };
        self.spawn(task).await?;
        if is_service {
            // Everything else lives under the service: nothing can be written without it.
            self.drain().await;
            if let Some(failure) = self.summary.failures.get(failures_before) {
                return Err(OmError::Stopped(format!(
                    "cannot create the dashboard service, so nothing else can be written: {failure}"
                ))
                .into());
            }
        }
        Ok(())
    }

    async fn delete(&mut self, fqn: String, record: &Value) -> Result<(), SinkError> {
        let target: DeleteRef = match record.get("entity").cloned().map(serde_json::from_value) {
            Some(Ok(target)) => target,
            _ => {
                self.summary.failures.push(format!(
                    "delete {fqn}: the record has no valid {{type, fqn}} entity"
                ));
                return Ok(());
            }
        };
        if !matches!(
            target.entity_type,
            EntityType::Dashboard | EntityType::Chart | EntityType::DashboardDataModel
        ) {
            self.summary.failures.push(format!(
                "delete {fqn}: this sink deletes dashboards, charts and data models only, not a {}",
                target.entity_type.as_str()
            ));
            return Ok(());
        }
        let resolver = self.resolver.clone();
        self.spawn(async move {
            let what = format!("delete {} {}", target.entity_type.as_str(), target.fqn);
            let id = match resolver.entity(target.entity_type, &target.fqn).await {
                Ok(Some(id)) => id,
                Ok(None) => {
                    return Outcome {
                        skipped: Some("deleteAlreadyGone"),
                        ..Outcome::ok()
                    };
                }
                Err(e) => return Outcome::failed(what, &e),
            };
            let mut segments = vec!["v1"];
            segments.extend_from_slice(collection(target.entity_type));
            segments.push(&id);
            // Soft delete: reversible in OpenMetadata (restore), and what mark-deleted means.
            let url = resolver
                .client
                .url(&segments, &[("hardDelete", "false"), ("recursive", "true")]);
            match resolver
                .client
                .send(Method::DELETE, &url, None, &resolver.client.retry)
                .await
            {
                Ok(reply) if reply.status.is_success() => Outcome::ok(),
                Ok(reply) if reply.status == StatusCode::NOT_FOUND => Outcome {
                    skipped: Some("deleteAlreadyGone"),
                    ..Outcome::ok()
                },
                Ok(reply) => Outcome::failed(what, &status_error(&Method::DELETE, &url, &reply)),
                Err(e) => Outcome::failed(what, &e),
            }
        })
        .await
    }

    async fn lineage_task(resolver: Arc<Resolver>, edge: LineageEdge) -> Outcome {
        let what = format!("lineage {} -> {}", edge.from.fqn, edge.to.fqn);
        let mut ids = Vec::with_capacity(2);
        for end in [&edge.from, &edge.to] {
            match resolver.entity(end.entity_type, &end.fqn).await {
                Ok(Some(id)) => ids.push(id),
                Ok(None) => {
                    let hint = if end.entity_type == EntityType::Table {
                        " (ingest its database service first, or check lineageInformation.dbServicePrefixes)"
                    } else {
                        ""
                    };
                    return Outcome {
                        warnings: vec![format!(
                            "{what} skipped: {} {} is not in OpenMetadata{hint}",
                            end.entity_type.as_str(),
                            end.fqn
                        )],
                        ..Outcome::ok()
                    };
                }
                Err(e) => return Outcome::failed(what, &e),
            }
        }
        let (Some(from), Some(to)) = (ids.first(), ids.get(1)) else {
            return Outcome::ok();
        };
        let body = edge.to_add_lineage(from, to);
        let url = resolver.client.url(&["v1", "lineage"], &[]);
        match resolver.client.call(Method::PUT, &url, Some(&body)).await {
            Ok(_) => Outcome::ok(),
            Err(e) => Outcome::failed(what, &e),
        }
    }
}

impl Sink for MetadataRestSink {
    /// `GET /v1/system/version` (is this OpenMetadata, and reachable?), then an authenticated
    /// read of the dashboard services (is the token accepted?). Few retries: a wrong
    /// `hostPort` should fail in seconds, not minutes.
    async fn healthcheck(&mut self) -> Result<(), SinkError> {
        let quick = RetryConfig {
            max_retries: 2,
            retry_timeout: Duration::from_secs(10),
            ..self.client().retry
        };
        let client = self.client();
        let url = client.url(&["v1", "system", "version"], &[]);
        let reply = client.send(Method::GET, &url, None, &quick).await?;
        if !reply.status.is_success() {
            let mut error = status_error(&Method::GET, &url, &reply);
            if let OmError::Status { message, .. } = &mut error {
                message.push_str(
                    ". Is workflowConfig.openMetadataServerConfig.hostPort OpenMetadata's API (it ends in /api)?",
                );
            }
            return Err(error.into());
        }
        let version = serde_json::from_slice::<Value>(&reply.body)
            .ok()
            .and_then(|v| v.get("version").and_then(Value::as_str).map(str::to_owned));
        let Some(version) = version else {
            return Err(OmError::Status {
                method: Method::GET,
                url: url.to_string(),
                status: reply.status.as_u16(),
                message: "the answer is not OpenMetadata's version; is workflowConfig.openMetadataServerConfig.hostPort OpenMetadata's API (it ends in /api)?".to_owned(),
            }
            .into());
        };
        tracing::info!(version, server = %http::origin(&url), "OpenMetadata reachable");
        let url = client.url(&["v1", "services", "dashboardServices"], &[("limit", "1")]);
        let reply = client.send(Method::GET, &url, None, &quick).await?;
        if !reply.status.is_success() {
            return Err(status_error(&Method::GET, &url, &reply).into());
        }
        Ok(())
    }

    async fn write(&mut self, record: &Value) -> Result<(), SinkError> {
        self.check_fatal()?;
        let kind = record
            .get("kind")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let fqn = record
            .get("fqn")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        match kind {
            "dashboardService" | "chart" | "dataModel" | "dashboard" => {
                self.count("entities");
                self.put_entity(kind, fqn, record).await
            }
            "lineage" => {
                match record
                    .get("entity")
                    .cloned()
                    .map(serde_json::from_value::<LineageEdge>)
                {
                    Some(Ok(edge)) => self.lineage.push(edge),
                    _ => self
                        .summary
                        .failures
                        .push(format!("lineage {fqn}: the record has no valid edge")),
                }
                Ok(())
            }
            "delete" => {
                self.count("deletes");
                self.delete(fqn, record).await
            }
            other => {
                self.summary
                    .warnings
                    .push(format!("a record of kind `{other}` ({fqn}) was ignored"));
                Ok(())
            }
        }
    }

    /// Waits for every entity request, then applies the lineage, and reports.
    async fn commit(mut self) -> Result<SinkSummary, SinkError> {
        self.drain().await;
        self.check_fatal()?;
        for edge in std::mem::take(&mut self.lineage) {
            self.count("lineage");
            let task = Self::lineage_task(self.resolver.clone(), edge);
            self.spawn(task).await?;
        }
        self.drain().await;
        self.check_fatal()?;
        let client = self.client();
        tracing::info!(
            entities = self.counts.get("entities").copied().unwrap_or(0),
            lineage = self.counts.get("lineage").copied().unwrap_or(0),
            deletes = self.counts.get("deletes").copied().unwrap_or(0),
            failures = self.summary.failures.len(),
            warnings = self.summary.warnings.len(),
            requests = client.requests.load(Ordering::Relaxed),
            retries = client.retries.load(Ordering::Relaxed),
            "OpenMetadata sink finished"
        );
        let output = http::origin(&client.base);
        let mut summary = std::mem::take(&mut self.summary);
        summary.output = Some(output);
        Ok(summary)
    }

    /// Stops the requests in flight. What OpenMetadata has already stored stays there: a
    /// server has no transaction to roll back.
    async fn abort(mut self) {
        self.in_flight.abort_all();
        while self.in_flight.join_next().await.is_some() {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(host_port: &str) -> OpenMetadataServerConfig {
        serde_json::from_value(json!({
            "hostPort": host_port,
            "securityConfig": {"jwtToken": "eyJ.secret.jwt"}
        }))
        .unwrap()
    }

    #[test]
    fn urls_encode_each_segment_under_host_port() {
        let sink = MetadataRestSink::new(&config("http://localhost:8585/api")).unwrap();
        let url = sink.client().url(
            &["v1", "tables", "name", "svc.\"a.b\".c/d é"],
            &[("hardDelete", "false")],
        );
        assert_eq!(
            url.as_str(),
            "http://localhost:8585/api/v1/tables/name/svc.%22a.b%22.c%2Fd%20%C3%A9?hardDelete=false"
        );
        let sink = MetadataRestSink::new(&config("http://localhost:8585/api/")).unwrap();
        assert_eq!(
            sink.client().url(&["v1", "lineage"], &[]).as_str(),
            "http://localhost:8585/api/v1/lineage"
        );
    }

    #[test]
    fn tags_are_added_once_each() {
        let label = |f: &str| serde_json::to_value(TagLabel::classification(f)).unwrap();
        let mut body = json!({"name": "d", "tags": [label("SigmaTags.A")]});
        add_tags(&mut body, vec![label("SigmaTags.A"), label("SigmaTags.B")]);
        assert_eq!(
            body["tags"],
            json!([label("SigmaTags.A"), label("SigmaTags.B")])
        );
        let mut body = json!({"name": "d"});
        add_tags(&mut body, Vec::new());
        assert_eq!(body, json!({"name": "d"}));
        add_tags(&mut body, vec![label("SigmaTags.A")]);
        assert_eq!(
            body["tags"][0],
            json!({"tagFQN": "SigmaTags.A", "source": "Classification", "labelType": "Automated", "state": "Confirmed"})
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
