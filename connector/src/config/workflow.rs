//! The OpenMetadata ingestion workflow file (`source`, `sink`, `workflowConfig`) as far as a
//! dashboard-metadata workflow for Sigma uses it.

use std::fmt;
use std::path::PathBuf;

use schemars::JsonSchema;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

use super::{FilterPattern, SigmaConnection};

/// An OpenMetadata ingestion workflow for the Sigma connector.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "SigmaIngestionWorkflow")]
pub struct Workflow {
    pub source: Source,
    pub sink: Sink,
    #[serde(default)]
    pub workflow_config: WorkflowConfig,
    /// Set by OpenMetadata when it runs the workflow itself; carried, not used.
    #[serde(default, rename = "ingestionPipelineFQN")]
    pub ingestion_pipeline_fqn: Option<String>,
    /// Set by OpenMetadata when it runs the workflow itself; carried, not used.
    #[serde(default)]
    pub pipeline_run_id: Option<String>,
    /// OpenMetadata 2.0.7: stream the run's logs to the server; carried, not used.
    #[serde(default)]
    pub enable_streamable_logs: Option<bool>,
    /// OpenMetadata 2.0.7: the ingestion runner that executes the workflow; carried, not used.
    #[serde(default)]
    pub ingestion_runner_name: Option<String>,
    /// OpenMetadata's processor step (not part of a dashboard metadata workflow); accepted
    /// and ignored.
    #[serde(default)]
    pub processor: Option<ComponentStep>,
    /// OpenMetadata's stage step (usage workflows only); accepted and ignored.
    #[serde(default)]
    pub stage: Option<ComponentStep>,
    /// OpenMetadata's bulk sink step (usage workflows only); accepted and ignored.
    #[serde(default)]
    pub bulk_sink: Option<ComponentStep>,
}

/// Where a run's records go, decided once from the workflow's sink and `--output`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    /// A JSON Lines file of OpenMetadata records (`-` is standard output).
    File(PathBuf),
    Console,
    /// An OpenMetadata server (`metadata-rest`).
    Server,
    /// A JSON file of DataHub change proposals (`datahub-file`, or `--output` with a
    /// DataHub sink).
    DataHubFile(PathBuf),
    /// DataHub's GMS (`datahub-rest`).
    DataHubServer,
}

impl Destination {
    /// The file a run replaces, when there is one (not `-`).
    pub fn file(&self) -> Option<&std::path::Path> {
        match self {
            Destination::File(path) | Destination::DataHubFile(path) if path.as_os_str() != "-" => {
                Some(path)
            }
            _ => None,
        }
    }

    /// Whether records go to a server, which keeps what it was sent.
    pub fn is_server(&self) -> bool {
        matches!(self, Destination::Server | Destination::DataHubServer)
    }
}

impl Workflow {
    /// Where the records go: `--output` when given (a file, `-` for standard output; a
    /// DataHub workflow's stays DataHub proposals), else the workflow's sink (a `file` sink
    /// without `filename` writes to standard output).
    pub fn destination(&self, output: Option<&std::path::Path>) -> Destination {
        let datahub = matches!(
            self.sink.sink_type,
            SinkType::DatahubFile | SinkType::DatahubRest
        );
        let filename = || {
            self.sink
                .config
                .filename
                .clone()
                .unwrap_or_else(|| PathBuf::from("-"))
        };
        match (output, self.sink.sink_type) {
            (Some(path), _) if datahub => Destination::DataHubFile(path.to_path_buf()),
            (Some(path), _) => Destination::File(path.to_path_buf()),
            (None, SinkType::File) => Destination::File(filename()),
            (None, SinkType::Console) => Destination::Console,
            (None, SinkType::MetadataRest) => Destination::Server,
            (None, SinkType::DatahubFile) => Destination::DataHubFile(filename()),
            (None, SinkType::DatahubRest) => Destination::DataHubServer,
        }
    }
}

/// A `processor`, `stage` or `bulkSink` step as OpenMetadata's workflow schema defines it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ComponentStep {
    #[serde(rename = "type")]
    pub step_type: String,
    #[serde(default)]
    pub config: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Source type as OpenMetadata spells it for this connector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SourceType {
    #[serde(rename = "sigma")]
    Sigma,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Source {
    #[serde(rename = "type")]
    pub source_type: SourceType,
    /// Name of the dashboard service in OpenMetadata.
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^[^.]+$"))]
    pub service_name: String,
    pub service_connection: ServiceConnection,
    #[serde(default)]
    pub source_config: SourceConfig,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceConnection {
    pub config: SigmaConnection,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    #[serde(default)]
    pub config: DashboardSourceConfig,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DashboardMetadataType {
    #[default]
    DashboardMetadata,
}

/// OpenMetadata `DashboardServiceMetadataPipeline`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DashboardSourceConfig {
    #[serde(rename = "type", default)]
    pub pipeline_type: DashboardMetadataType,
    /// Regex to exclude or include dashboards that match the pattern.
    #[serde(default)]
    pub dashboard_filter_pattern: Option<FilterPattern>,
    /// Regex exclude or include charts that match the pattern.
    #[serde(default)]
    pub chart_filter_pattern: Option<FilterPattern>,
    /// Regex exclude or include data models that match the pattern.
    #[serde(default)]
    pub data_model_filter_pattern: Option<FilterPattern>,
    /// Regex to exclude or include projects that match the pattern.
    #[serde(default)]
    pub project_filter_pattern: Option<FilterPattern>,
    /// Deprecated by OpenMetadata in favour of `lineageInformation.dbServicePrefixes`;
    /// accepted and treated as service-name prefixes.
    #[serde(default)]
    pub db_service_names: Vec<String>,
    /// Ingest owners (by email) of workbooks.
    #[serde(default)]
    pub include_owners: bool,
    /// Ingest Sigma tags (badges) as OpenMetadata tags.
    #[serde(default = "yes")]
    pub include_tags: bool,
    /// Ingest datasets and data models.
    #[serde(default = "yes")]
    pub include_data_models: bool,
    /// OpenMetadata's switch for draft dashboards. Sigma's API has no draft or published
    /// state for workbooks, so every workbook it lists is ingested: `true` (the default)
    /// is what happens, and `false` is refused when the config is loaded.
    #[serde(default = "yes")]
    pub include_draft_dashboard: bool,
    /// Soft-delete dashboards that disappeared from Sigma (only after a complete run).
    #[serde(default = "yes")]
    pub mark_deleted_dashboards: bool,
    /// Soft-delete data models that disappeared from Sigma (only after a complete run).
    #[serde(default = "yes")]
    pub mark_deleted_data_models: bool,
    /// Soft-delete charts that disappeared from Sigma, from dashboards that remain and from
    /// dashboards that are gone (only after a complete run).
    #[serde(default = "yes")]
    pub mark_deleted_charts: bool,
    /// Usage statistics: Sigma has no usage API, so none are ingested; when true (the
    /// default, as in OpenMetadata) a run says so once, as a warning.
    #[serde(default = "yes")]
    pub include_usage: bool,
    /// OpenMetadata's choice of SQL parser for lineage. Accepted; this connector always
    /// parses Sigma's SQL with `sqlparser`.
    #[serde(default)]
    pub query_parser_config: Option<QueryParserConfig>,
    #[serde(default)]
    pub lineage_information: Option<LineageInformation>,
    /// Overwrite descriptions, owners and tags already set in OpenMetadata.
    #[serde(default)]
    pub override_metadata: bool,
    /// Replace lineage already set in OpenMetadata.
    #[serde(default)]
    pub override_lineage: bool,
}

fn yes() -> bool {
    true
}

impl Default for DashboardSourceConfig {
    fn default() -> Self {
        Self {
            pipeline_type: DashboardMetadataType::DashboardMetadata,
            dashboard_filter_pattern: None,
            chart_filter_pattern: None,
            data_model_filter_pattern: None,
            project_filter_pattern: None,
            db_service_names: Vec::new(),
            include_owners: false,
            include_tags: true,
            include_data_models: true,
            include_draft_dashboard: true,
            mark_deleted_dashboards: true,
            mark_deleted_data_models: true,
            mark_deleted_charts: true,
            include_usage: true,
            query_parser_config: None,
            lineage_information: None,
            override_metadata: false,
            override_lineage: false,
        }
    }
}

/// OpenMetadata's `QueryParserConfig`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryParserConfig {
    #[serde(rename = "type", default)]
    pub parser_type: QueryParserType,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum QueryParserType {
    #[default]
    Auto,
    SqlGlot,
    SqlFluff,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LineageInformation {
    /// Database services (`service[.database[.schema]]`) that Sigma's warehouse tables
    /// belong to, tried in order when lineage ends are resolved.
    #[serde(default)]
    pub db_service_prefixes: Vec<String>,
}

/// Where records go: `file` (JSON Lines at `config.filename`), `console` (a readable line
/// per record on standard output), `metadata-rest` (OpenMetadata's REST API at
/// `workflowConfig.openMetadataServerConfig`), `datahub-file` (a JSON array of DataHub
/// metadata change proposals at `config.filename`) or `datahub-rest` (DataHub's GMS at
/// `config.server`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum SinkType {
    #[serde(rename = "file")]
    File,
    #[serde(rename = "console")]
    Console,
    #[serde(rename = "metadata-rest")]
    MetadataRest,
    #[serde(rename = "datahub-file")]
    DatahubFile,
    #[serde(rename = "datahub-rest")]
    DatahubRest,
}

impl SinkType {
    /// Whether the sink writes DataHub metadata (rendered at the DataHub edge).
    pub fn is_datahub(self) -> bool {
        matches!(self, SinkType::DatahubFile | SinkType::DatahubRest)
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Sink {
    #[serde(rename = "type")]
    pub sink_type: SinkType,
    #[serde(default)]
    pub config: SinkConfig,
}

/// Sink settings. `filename` is required by the `file` and `datahub-file` sinks, `server`
/// by `datahub-rest`; other keys OpenMetadata writes here (for example `api_endpoint`) are
/// accepted and ignored.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SinkConfig {
    #[serde(default)]
    #[schemars(length(min = 1))]
    pub filename: Option<PathBuf>,
    /// `datahub-rest`: DataHub's GMS, for example `http://localhost:8080` (or the
    /// frontend's `https://<host>/api/gms`).
    #[serde(default)]
    pub server: Option<Url>,
    /// `datahub-rest`: a DataHub personal access token, sent as a bearer token.
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("format" = "password", "writeOnly" = true))]
    pub token: Option<SecretString>,
    /// DataHub sinks: the environment of the `sigma` datasets (default `PROD`).
    #[serde(default)]
    pub env: Option<String>,
    /// DataHub sinks: the platform instance of everything on the `sigma` platform, as in
    /// DataHub's own Sigma source (`platform_instance`).
    #[serde(default)]
    pub platform_instance: Option<String>,
    /// DataHub sinks: per Sigma connection (by id or name), the DataHub platform, instance
    /// and env its warehouse tables are ingested under.
    #[serde(default)]
    pub connection_to_platform_map: std::collections::BTreeMap<String, DataHubConnection>,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

/// Where a Sigma connection's tables live in DataHub.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DataHubConnection {
    /// The DataHub platform (`snowflake`, `bigquery`, ...); default: from Sigma's
    /// connection type.
    #[serde(default)]
    pub platform: Option<String>,
    #[serde(default)]
    pub platform_instance: Option<String>,
    #[serde(default)]
    pub env: Option<String>,
    /// Lower-case table and column names in URNs. Default: only for Snowflake (as DataHub's
    /// Snowflake source does); `true` never applies to BigQuery or DB2 (case-sensitive).
    #[serde(default)]
    pub convert_urns_to_lowercase: Option<bool>,
    /// The database of tables whose Sigma path names only a schema and a table (Redshift
    /// and Postgres connections often do), so that their URNs carry the three parts the
    /// warehouse's own DataHub source writes. DataHub's Sigma source calls it
    /// `default_database`.
    #[serde(default)]
    pub default_database: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum LoggerLevel {
    Debug,
    #[default]
    Info,
    Warn,
    Error,
}

impl LoggerLevel {
    pub fn as_filter(self) -> &'static str {
        match self {
            LoggerLevel::Debug => "debug",
            LoggerLevel::Info => "info",
            LoggerLevel::Warn => "warn",
            LoggerLevel::Error => "error",
        }
    }
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkflowConfig {
    #[serde(default)]
    pub logger_level: LoggerLevel,
    /// Success percentage at or above which the run exits 0.
    #[serde(default)]
    #[schemars(range(min = 0, max = 100))]
    pub success_threshold: Option<f64>,
    /// OpenMetadata's meaning: flag the run as failed when processing errors leave its
    /// success percentage under the threshold (the default). `false`: such a run is a
    /// partial success (exit 0, output committed, failed objects never deleted); an
    /// incomplete listing or a failing sink still is not.
    #[serde(default = "yes")]
    pub raise_on_error: bool,
    #[serde(default)]
    pub open_metadata_server_config: Option<OpenMetadataServerConfig>,
    /// OpenMetadata's own workflow settings; carried, not used.
    #[serde(default)]
    pub config: Option<serde_json::Value>,
}

/// Where the `metadata-rest` sink writes. OpenMetadata's `OpenMetadataConnection` has
/// many more settings; those not listed here are accepted and ignored.
#[derive(Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct OpenMetadataServerConfig {
    /// OpenMetadata server API, for example `http://localhost:8585/api`.
    pub host_port: Url,
    #[serde(default = "default_auth_provider")]
    pub auth_provider: String,
    #[serde(default)]
    pub security_config: Option<SecurityConfig>,
    #[serde(default, rename = "verifySSL")]
    pub verify_ssl: Option<String>,
    /// sigma-connector's own: longest response body read from OpenMetadata, in bytes
    /// (default 64 MiB). Reading stops as soon as a body passes it and the call fails
    /// naming this setting, unretried.
    #[serde(default = "super::connection::default_max_response_bytes")]
    #[schemars(range(min = 1024, max = 4294967296u64))]
    pub max_response_bytes: u64,
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

impl Default for WorkflowConfig {
    fn default() -> Self {
        Self {
            logger_level: LoggerLevel::default(),
            success_threshold: None,
            raise_on_error: true,
            open_metadata_server_config: None,
            config: None,
        }
    }
}

fn default_auth_provider() -> String {
    "openmetadata".to_owned()
}

impl fmt::Debug for OpenMetadataServerConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenMetadataServerConfig")
            .field("host_port", &self.host_port.as_str())
            .field("auth_provider", &self.auth_provider)
            .field("security_config", &self.security_config)
            .field("max_response_bytes", &self.max_response_bytes)
            .finish_non_exhaustive()
    }
}

#[derive(Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityConfig {
    /// The ingestion bot's JWT.
    #[serde(default)]
    #[schemars(with = "Option<String>", extend("format" = "password", "writeOnly" = true))]
    pub jwt_token: Option<SecretString>,
}

impl fmt::Debug for SecurityConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityConfig")
            .field("jwt_token", &self.jwt_token.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}
