//! The configuration contract: OpenMetadata's `SigmaConnection` and workflow file, their
//! JSON Schemas, and loading (env substitution, schema validation, then typed values).

mod connection;
pub(crate) mod endpoints;
mod load;
pub mod schema;
mod validate;
mod workflow;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use connection::{SigmaConnection, SigmaType};
pub use endpoints::{EndpointError, SigmaEndpoints};
pub use load::{
    ConfigError, ConfigInput, load_connection_str, load_input_file, load_input_str,
    load_workflow_file, load_workflow_str,
};
pub use validate::Violation;
pub use workflow::{
    ComponentStep, DashboardMetadataType, DashboardSourceConfig, DataHubConnection, Destination,
    LineageInformation, LoggerLevel, OpenMetadataServerConfig, QueryParserConfig, QueryParserType,
    SecurityConfig, ServiceConnection, Sink, SinkConfig, SinkType, Source, SourceConfig,
    SourceType, Workflow, WorkflowConfig,
};

/// OpenMetadata `filterPattern`: regular expressions, matched case-insensitively.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterPattern {
    /// List of strings/regex patterns to match and include only database entities that match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub includes: Vec<String>,
    /// List of strings/regex patterns to match and exclude only database entities that match.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub excludes: Vec<String>,
}
