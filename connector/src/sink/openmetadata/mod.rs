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
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{Sink, SinkError, SinkSummary};
use crate::client::backoff::BackoffConfig;
use crate::client::http::{self};
use crate::client::retry::{MAX_RETRY_AFTER, RetryConfig};
use crate::config::OpenMetadataServerConfig;
use crate::records::{DeleteRef, Entity, EntityType, LineageEdge, Record, TagLabel, tag_name};

mod client;
mod resolver;

pub use client::OmError;
use client::{OmClient, status_error};
use resolver::{Ensured, Resolver, add_tags};

/// Requests to OpenMetadata in flight at once.
pub const MAX_IN_FLIGHT: usize = 8;

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

/// OpenMetadata's `overrideMetadata` and `overrideLineage`, as its own connectors apply them.
#[derive(Debug, Clone, Copy, Default)]
pub struct Overrides {
    /// After the `PUT` (under which OpenMetadata keeps what people edited), a `PATCH` that
    /// puts back this run's description, display name and owners where they differ. Like
    /// OpenMetadata's own patches under `overrideMetadata`, it adds and replaces, never
    /// removes: a field Sigma leaves empty keeps what people wrote.
    pub metadata: bool,
    /// Before a committed run's lineage is added, each entity it draws lineage into loses
    /// its edges of the same source (`DashboardLineage`), so edges Sigma no longer has go.
    pub lineage: bool,
}

impl Overrides {
    pub fn from_source_config(config: &crate::config::DashboardSourceConfig) -> Self {
        Self {
            metadata: config.override_metadata,
            lineage: config.override_lineage,
        }
    }
}

/// The `PATCH` operations that make `stored` carry `wanted`'s description, display name
/// and owners, for `overrideMetadata`: add or replace where this run has a value that
/// differs, nothing where it has none.
fn override_ops(stored: &Value, wanted: &Value) -> Vec<Value> {
    let mut ops = Vec::new();
    for field in ["description", "displayName"] {
        let Some(value) = wanted
            .get(field)
            .and_then(Value::as_str)
            .filter(|v| !v.is_empty())
        else {
            continue;
        };
        match stored.get(field).filter(|v| !v.is_null()) {
            Some(current) if current.as_str() == Some(value) => {}
            Some(_) => {
                ops.push(json!({"op": "replace", "path": format!("/{field}"), "value": value}))
            }
            None => ops.push(json!({"op": "add", "path": format!("/{field}"), "value": value})),
        }
    }
    let ids = |entity: &Value| -> Vec<String> {
        let mut ids: Vec<String> = entity
            .get("owners")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|o| o.get("id").and_then(Value::as_str).map(str::to_owned))
            .collect();
        ids.sort();
        ids
    };
    let owners = ids(wanted);
    if !owners.is_empty() && owners != ids(stored) {
        let op = if stored.get("owners").is_some_and(|o| !o.is_null()) {
            "replace"
        } else {
            "add"
        };
        ops.push(json!({"op": op, "path": "/owners", "value": wanted["owners"]}));
    }
    ops
}

/// The `metadata-rest` sink.
pub struct MetadataRestSink {
    resolver: Arc<Resolver>,
    permits: Arc<Semaphore>,
    in_flight: JoinSet<Outcome>,
    /// Lineage waits for commit: its ends may be written after it arrives. Each edge comes
    /// with further FQNs for its `from` end (`refs.fromCandidates`), tried in order.
    lineage: Vec<(LineageEdge, Vec<String>)>,
    /// Charts and data models OpenMetadata refused in this run: dashboards leave them out
    /// rather than fail as a whole.
    refused: HashSet<String>,
    summary: SinkSummary,
    /// A refusal of the token seen by a request task: the run stops at the next write.
    fatal: Option<String>,
    counts: HashMap<&'static str, u64>,
    overrides: Overrides,
}

impl MetadataRestSink {
    pub fn new(config: &OpenMetadataServerConfig, overrides: Overrides) -> Result<Self, OmError> {
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
            overrides,
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

    async fn put_entity(&mut self, record: &Record) -> Result<(), SinkError> {
        let kind = record.kind();
        let fqn = record.fqn();
        let body = match &record.entity {
            Entity::DashboardService(s) => {
                serde_json::to_value(s).map(|b| (EntityType::DashboardService, b))
            }
            Entity::Chart(c) => serde_json::to_value(c).map(|b| (EntityType::Chart, b)),
            Entity::DataModel(m) => {
                serde_json::to_value(m).map(|b| (EntityType::DashboardDataModel, b))
            }
            Entity::Dashboard(d) => {
                // Everything written before this dashboard (its charts and data models) must
                // be acknowledged first: OpenMetadata resolves them by FQN when it stores it.
                self.drain().await;
                let mut d = d.clone();
                for (field, list) in [
                    ("charts", &mut d.charts),
                    ("dataModels", &mut d.data_models),
                ] {
                    list.retain(|r| {
                        let keep = !self.refused.contains(r);
                        if !keep {
                            self.summary.warnings.push(format!(
                                "dashboard {fqn}: {r} was refused by OpenMetadata and is left out of its {field}"
                            ));
                        }
                        keep
                    });
                }
                serde_json::to_value(&d).map(|b| (EntityType::Dashboard, b))
            }
            Entity::Lineage(_) | Entity::Delete(_) => return Ok(()),
        };
        let (entity_type, mut body) = match body {
            Ok(body) => body,
            Err(e) => {
                self.summary
                    .failures
                    .push(format!("{kind} {fqn}: cannot be written as JSON: {e}"));
                return Ok(());
            }
        };
        let mut owners = record.refs.owners.clone();
        let mut seen = HashSet::new();
        owners.retain(|e| seen.insert(e.to_lowercase()));
        let is_service = entity_type == EntityType::DashboardService;
        let mut tags = if is_service {
            Vec::new()
        } else {
            record.refs.tags.clone()
        };
        let mut seen = HashSet::new();
        tags.retain(|t| seen.insert(tag_name(t)));
        if is_service {
            self.drain().await;
        }
        let failures_before = self.summary.failures.len();
        let resolver = self.resolver.clone();
        let override_metadata = self.overrides.metadata && !is_service;
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
            if is_service {
                // A service that exists was made in OpenMetadata, with its connection and
                // secret: leave it as it is. One that does not is created without a
                // connection (this run has no secret to give it, and one without its secret
                // would not validate); the operator adds the connection in OpenMetadata.
                match resolver.entity(entity_type, &fqn).await {
                    Ok(Some(id)) => {
                        outcome.written = Some((entity_type, fqn, id));
                        outcome.skipped = Some("dashboardServiceExists");
                        return outcome;
                    }
                    Ok(None) => {}
                    Err(e) => {
                        return Outcome {
                            refused: Some(fqn.clone()),
                            ..Outcome::failed(format!("{kind} {fqn}"), &e)
                        };
                    }
                }
            }
            match resolver.client.put_entity(entity_type, &body).await {
                Ok(stored) => {
                    let id = stored.get("id").and_then(Value::as_str).map(str::to_owned);
                    let ops = if override_metadata {
                        override_ops(&stored, &body)
                    } else {
                        Vec::new()
                    };
                    if let (Some(id), false) = (&id, ops.is_empty()) {
                        if let Err(e) = resolver
                            .client
                            .patch_entity(entity_type, id, &Value::Array(ops))
                            .await
                        {
                            let mut failed = Outcome::failed(
                                format!("{kind} {fqn}: overrideMetadata patch"),
                                &e,
                            );
                            failed.written = Some((entity_type, fqn, id.clone()));
                            return failed;
                        }
                        outcome.skipped = Some("overriddenMetadata");
                    }
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

    async fn delete(&mut self, target: &DeleteRef) -> Result<(), SinkError> {
        let target = target.clone();
        if !matches!(
            target.entity_type,
            EntityType::Dashboard | EntityType::Chart | EntityType::DashboardDataModel
        ) {
            self.summary.failures.push(format!(
                "delete {}: this sink deletes dashboards, charts and data models only, not a {}",
                target.fqn,
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
            match resolver.client.soft_delete(target.entity_type, &id).await {
                Ok(true) => Outcome::ok(),
                Ok(false) => Outcome {
                    skipped: Some("deleteAlreadyGone"),
                    ..Outcome::ok()
                },
                Err(e) => Outcome::failed(what, &e),
            }
        })
        .await
    }

    async fn lineage_task(
        resolver: Arc<Resolver>,
        edge: LineageEdge,
        from_candidates: Vec<String>,
    ) -> Outcome {
        let what = format!("lineage {} -> {}", edge.from.fqn, edge.to.fqn);
        let mut ids = Vec::with_capacity(2);
        let ends: [(&_, &[String]); 2] = [(&edge.from, &from_candidates), (&edge.to, &[])];
        for (end, alternatives) in ends {
            let mut found = None;
            for fqn in std::iter::once(&end.fqn).chain(alternatives) {
                match resolver.entity(end.entity_type, fqn).await {
                    Ok(Some(id)) => {
                        found = Some(id);
                        break;
                    }
                    Ok(None) => {}
                    Err(e) => return Outcome::failed(what, &e),
                }
            }
            match found {
                Some(id) => ids.push(id),
                None => {
                    let hint = if end.entity_type == EntityType::Table {
                        " (ingest its database service first, or check lineageInformation.dbServicePrefixes)"
                    } else {
                        ""
                    };
                    let tried = if alternatives.is_empty() {
                        String::new()
                    } else {
                        format!(" (nor {})", alternatives.join(", "))
                    };
                    return Outcome {
                        warnings: vec![format!(
                            "{what} skipped: {} {}{tried} is not in OpenMetadata{hint}",
                            end.entity_type.as_str(),
                            end.fqn
                        )],
                        ..Outcome::ok()
                    };
                }
            }
        }
        let (Some(from), Some(to)) = (ids.first(), ids.get(1)) else {
            return Outcome::ok();
        };
        let body = edge.to_add_lineage(from, to);
        match resolver.client.add_lineage(&body).await {
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

    async fn write(&mut self, record: &Record) -> Result<(), SinkError> {
        self.check_fatal()?;
        match &record.entity {
            Entity::DashboardService(_)
            | Entity::Chart(_)
            | Entity::DataModel(_)
            | Entity::Dashboard(_) => {
                self.count("entities");
                self.put_entity(record).await
            }
            Entity::Lineage(edge) => {
                self.lineage
                    .push((edge.clone(), record.refs.from_candidates.clone()));
                Ok(())
            }
            Entity::Delete(target) => {
                self.count("deletes");
                self.delete(target).await
            }
        }
    }

    /// Waits for every entity request, then applies the lineage, and reports.
    async fn commit(self) -> Result<SinkSummary, SinkError> {
        self.finish(true).await
    }

    /// Stops the requests in flight. What OpenMetadata has already stored stays there: a
    /// server has no transaction to roll back.
    /// A partial run's lineage is added, and (under `overrideLineage`) replaces nothing:
    /// what this run did not see may still be Sigma's.
    async fn set_aside(self) -> Result<SinkSummary, SinkError> {
        self.finish(false).await
    }

    async fn abort(mut self) {
        self.in_flight.abort_all();
        while self.in_flight.join_next().await.is_some() {}
    }
}

impl MetadataRestSink {
    /// The entities this run draws lineage into lose their edges of the same source
    /// (`overrideLineage`), each once, before this run's edges are added.
    async fn clear_lineage(&mut self) -> Result<(), SinkError> {
        let mut targets: Vec<(EntityType, String, Value)> = Vec::new();
        for (edge, _) in &self.lineage {
            let source = serde_json::to_value(edge.source).unwrap_or_default();
            let target = (edge.to.entity_type, edge.to.fqn.clone(), source);
            if !targets.contains(&target) {
                targets.push(target);
            }
        }
        for (entity_type, fqn, source) in targets {
            let Some(source) = source.as_str().map(str::to_owned) else {
                continue;
            };
            self.count("lineageReplaced");
            let resolver = self.resolver.clone();
            self.spawn(async move {
                let what = format!("overrideLineage: {} {fqn}", entity_type.as_str());
                match resolver.entity(entity_type, &fqn).await {
                    Ok(Some(id)) => match resolver
                        .client
                        .delete_lineage_by_source(entity_type, &id, &source)
                        .await
                    {
                        Ok(_) => Outcome::ok(),
                        Err(e) => Outcome {
                            warnings: vec![format!(
                                "{what}: its earlier {source} edges could not be removed, so they stay beside this run's: {e}"
                            )],
                            ..Outcome::ok()
                        },
                    },
                    // Not in OpenMetadata: its edges are skipped below, with a warning.
                    Ok(None) => Outcome::ok(),
                    Err(e) => Outcome::failed(what, &e),
                }
            })
            .await?;
        }
        self.drain().await;
        self.check_fatal()
    }

    async fn finish(mut self, complete: bool) -> Result<SinkSummary, SinkError> {
        self.drain().await;
        self.check_fatal()?;
        if self.overrides.lineage {
            if complete {
                self.clear_lineage().await?;
            } else if !self.lineage.is_empty() {
                self.summary.warnings.push(
                    "overrideLineage: a partial run adds its lineage and removes none (what it did not see may still be Sigma's)".to_owned(),
                );
            }
        }
        for (edge, from_candidates) in std::mem::take(&mut self.lineage) {
            self.count("lineage");
            let task = Self::lineage_task(self.resolver.clone(), edge, from_candidates);
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn override_ops_add_and_replace_what_differs_and_never_remove() {
        let wanted = json!({"description": "Sigma's", "displayName": "Revenue",
                            "owners": [{"id": "b", "type": "user"}, {"id": "a", "type": "user"}]});
        let stored = json!({"displayName": "Revenue (edited)",
                            "owners": [{"id": "c", "type": "user"}]});
        assert_eq!(
            override_ops(&stored, &wanted),
            [
                json!({"op": "add", "path": "/description", "value": "Sigma's"}),
                json!({"op": "replace", "path": "/displayName", "value": "Revenue"}),
                json!({"op": "replace", "path": "/owners", "value": wanted["owners"]}),
            ]
        );
        // Already Sigma's (owners in another order): nothing to send.
        let same = json!({"description": "Sigma's", "displayName": "Revenue",
                          "owners": [{"id": "a", "type": "user"}, {"id": "b", "type": "user"}]});
        assert!(override_ops(&same, &wanted).is_empty());
        // Sigma has no description or owners: what people wrote stays.
        let people = json!({"description": "Written by a person", "owners": [{"id": "c"}]});
        assert!(override_ops(&people, &json!({"displayName": null})).is_empty());
    }
}
