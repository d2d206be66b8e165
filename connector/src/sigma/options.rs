//! What the source needs from the workflow, checked once. Its own file so that the
//! mapping and the source both read it without importing each other.

use std::sync::Arc;

use super::filter::NameFilter;
use crate::catalog::{PlaceAll, TablePlacement};
use crate::config::{FilterPattern, Workflow};

/// Everything the source needs from the workflow, checked once.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// The Sigma host (`hostPort`), for the org's item.
    pub host: String,
    pub dashboard_filter: NameFilter,
    pub chart_filter: NameFilter,
    pub data_model_filter: NameFilter,
    pub project_filter: NameFilter,
    pub include_owners: bool,
    pub include_tags: bool,
    pub include_data_models: bool,
    /// `includeUsage` as the workflow says (Sigma has no usage API: a warning when true).
    pub include_usage: bool,
    /// Which warehouse tables the platform written to can place: the source resolves and
    /// yields only those. Every table by default; the runner sets the platform's.
    pub placement: Arc<dyn TablePlacement>,
    /// List the org's workspaces (once, into the org's item): only for a platform that
    /// places documents in them (DataHub), so other runs make exactly the requests they did.
    pub list_workspaces: bool,
    /// Objects (workbooks, reports, data models, datasets) expanded at once: four times
    /// `maxConcurrency`, so that one waiting to retry a refused request does not hold up
    /// the rest (items still come out in listing order); their requests share the client's
    /// limits, which bound what is in flight.
    pub workbook_concurrency: usize,
    /// Incremental runs: what the last run saw. An object still at its `updatedAt` (and
    /// whose inputs did not change) is not expanded; an `Unchanged` item stands in for its
    /// records. Empty for a full run.
    pub memory: Arc<super::memory::Memory>,
}

impl SourceOptions {
    pub fn from_workflow(workflow: &Workflow) -> Result<Self, regex::Error> {
        let conn = &workflow.source.service_connection.config;
        let sc = &workflow.source.source_config.config;
        let filter = |a: &Option<FilterPattern>, b: &Option<FilterPattern>| {
            NameFilter::new(a.iter().chain(b.iter()))
        };
        Ok(Self {
            host: conn.host_port_text().to_owned(),
            dashboard_filter: filter(&conn.dashboard_filter_pattern, &sc.dashboard_filter_pattern)?,
            chart_filter: filter(&conn.chart_filter_pattern, &sc.chart_filter_pattern)?,
            data_model_filter: filter(
                &conn.data_model_filter_pattern,
                &sc.data_model_filter_pattern,
            )?,
            project_filter: filter(&conn.project_filter_pattern, &sc.project_filter_pattern)?,
            include_owners: sc.include_owners,
            include_tags: sc.include_tags,
            include_data_models: sc.include_data_models,
            include_usage: sc.include_usage,
            placement: Arc::new(PlaceAll),
            list_workspaces: false,
            workbook_concurrency: (conn.max_concurrency as usize * 4).clamp(1, 256),
            memory: Arc::default(),
        })
    }
}

/// What the records of a run depend on besides Sigma, as one line of JSON: the connector's
/// version, the service, the connection as stored (no secret) and every source option that
/// shapes a record. A checkpoint written under another fingerprint is not reused (the
/// incremental run is a full one); `markDeleted*` and concurrency are left out, since they
/// change no record.
pub fn fingerprint(workflow: &Workflow) -> String {
    let conn = &workflow.source.service_connection.config;
    let sc = &workflow.source.source_config.config;
    // As stored on the service: no secret, and no tuning (concurrency, retries).
    let connection = conn.to_public_json();
    let prefixes: Vec<&String> = sc
        .lineage_information
        .iter()
        .flat_map(|l| l.db_service_prefixes.iter())
        .chain(sc.db_service_names.iter())
        .collect();
    serde_json::json!({
        "connector": env!("CARGO_PKG_VERSION"),
        // What the checkpoint's memory holds: 3 since it names data model elements by id
        // (it held their OpenMetadata FQNs before), so an older one is not reused.
        "memory": 3,
        "service": workflow.source.service_name,
        "connection": connection,
        "connectionServiceMap": conn.connection_service_map,
        "dashboardFilterPattern": sc.dashboard_filter_pattern,
        "chartFilterPattern": sc.chart_filter_pattern,
        "dataModelFilterPattern": sc.data_model_filter_pattern,
        "projectFilterPattern": sc.project_filter_pattern,
        "includeOwners": sc.include_owners,
        "includeTags": sc.include_tags,
        "includeDataModels": sc.include_data_models,
        "dbServicePrefixes": prefixes,
    })
    .to_string()
}
