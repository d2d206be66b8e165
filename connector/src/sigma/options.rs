//! What the source needs from the workflow, checked once. Its own file so that the
//! mapping and the source both read it without importing each other.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;

use super::filter::NameFilter;
use crate::config::{FilterPattern, Workflow};

/// Everything the source needs from the workflow, checked once.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    pub service_name: String,
    /// The connection as OpenMetadata stores it on the service (no secret).
    pub connection_json: Value,
    pub dashboard_filter: NameFilter,
    pub chart_filter: NameFilter,
    pub data_model_filter: NameFilter,
    pub project_filter: NameFilter,
    pub include_owners: bool,
    pub include_tags: bool,
    pub include_data_models: bool,
    /// `includeUsage` as the workflow says (Sigma has no usage API: a warning when true).
    pub include_usage: bool,
    pub connection_service_map: BTreeMap<String, String>,
    pub db_service_prefixes: Vec<String>,
    /// Workbooks expanded at once (their requests share the client's limits).
    pub workbook_concurrency: usize,
    /// Incremental runs: workbook id -> `updatedAt` of the last run. A workbook still at
    /// that `updatedAt` is not expanded; an `unchanged` marker stands in for its records.
    pub unchanged_workbooks: HashMap<String, String>,
}

impl SourceOptions {
    pub fn from_workflow(workflow: &Workflow) -> Result<Self, regex::Error> {
        let conn = &workflow.source.service_connection.config;
        let sc = &workflow.source.source_config.config;
        let filter = |a: &Option<FilterPattern>, b: &Option<FilterPattern>| {
            NameFilter::new(a.iter().chain(b.iter()))
        };
        let mut prefixes: Vec<String> = sc
            .lineage_information
            .as_ref()
            .map(|l| l.db_service_prefixes.clone())
            .unwrap_or_default();
        prefixes.extend(sc.db_service_names.iter().cloned());
        Ok(Self {
            service_name: workflow.source.service_name.clone(),
            connection_json: conn.to_public_json(),
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
            connection_service_map: conn.connection_service_map.clone(),
            db_service_prefixes: prefixes,
            workbook_concurrency: (conn.max_concurrency as usize).clamp(1, 64),
            unchanged_workbooks: HashMap::new(),
        })
    }
}
