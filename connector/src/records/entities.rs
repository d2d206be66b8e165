//! OpenMetadata Create-request shapes, field for field a subset of the published schemas
//! (`api/data/create*.json`, `api/services/createDashboardService.json`). Every field we
//! emit exists there with a compatible type; `docs/openmetadata-records.md` compares them.
//!
//! Ids are not known to a source. What needs one (owners, lineage ends) travels by email or
//! FQN in [`super::Refs`] or [`LineageEdge`], and the metadata-rest sink resolves it.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::naming::{column_name, fqn};
use super::types::{ChartType, DataType, data_type_from_sigma};

/// `dashboardServiceType`: this connector only ever creates a Sigma service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DashboardServiceType {
    #[default]
    Sigma,
}

/// `dataModelType`: OpenMetadata's enum has had `SigmaDataModel` since Sigma support landed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DataModelType {
    #[default]
    SigmaDataModel,
}

/// `dashboardType`: a Sigma report is a `Report`; workbooks leave it unset (OpenMetadata's
/// default, `Dashboard`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum DashboardType {
    Dashboard,
    Report,
}

/// `dashboardConnection`: `{config: <SigmaConnection>}`. Not written by this connector (see
/// [`CreateDashboardServiceRequest::connection`]); kept so a request read back parses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DashboardConnection {
    pub config: serde_json::Value,
}

/// OpenMetadata `CreateDashboardServiceRequest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateDashboardServiceRequest {
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^((?!::).)*$"))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub service_type: DashboardServiceType,
    /// Left out: OpenMetadata's `SigmaConnection` requires `clientSecret`, which a record
    /// must never carry, and the model allows a service without a connection. The
    /// connection (and its secret) live in OpenMetadata, where the service is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection: Option<DashboardConnection>,
}

impl CreateDashboardServiceRequest {
    /// The service record for `service_name`, without a connection (see `connection`).
    pub fn new(service_name: &str) -> Self {
        Self {
            name: service_name.to_owned(),
            display_name: None,
            description: None,
            service_type: DashboardServiceType::Sigma,
            connection: None,
        }
    }
}

/// `TagLabel.source`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TagSource {
    #[default]
    Classification,
    Glossary,
}

/// `TagLabel.labelType`: a connector's tags are automated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum LabelType {
    Manual,
    #[default]
    Automated,
}

/// `TagLabel.state`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum TagState {
    Suggested,
    #[default]
    Confirmed,
}

/// OpenMetadata `TagLabel` (the four required fields).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TagLabel {
    #[serde(rename = "tagFQN")]
    #[schemars(length(max = 128))]
    pub tag_fqn: String,
    pub source: TagSource,
    pub label_type: LabelType,
    pub state: TagState,
}

impl TagLabel {
    /// A confirmed, automated classification tag (`Classification.Tag`).
    pub fn classification(tag_fqn: impl Into<String>) -> Self {
        Self {
            tag_fqn: tag_fqn.into(),
            source: TagSource::Classification,
            label_type: LabelType::Automated,
            state: TagState::Confirmed,
        }
    }
}

/// OpenMetadata `EntityReference`: filled in by the metadata-rest sink once it has ids.
/// A source leaves every `owners` list empty and puts emails in `Refs::owners`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EntityReference {
    #[schemars(extend("format" = "uuid"))]
    pub id: String,
    #[serde(rename = "type")]
    pub entity_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fully_qualified_name: Option<String>,
}

/// OpenMetadata `CreateChartRequest`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateChartRequest {
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^((?!::).)*$"))]
    pub name: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub chart_type: ChartType,
    /// The element's own URL (not the workbook's, a mistake OpenMetadata's connector made).
    #[schemars(extend("format" = "uri"))]
    pub source_url: String,
    /// The dashboard service's FQN (its name).
    #[schemars(length(min = 1, max = 3072))]
    pub service: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagLabel>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<EntityReference>,
}

/// An OpenMetadata table/data-model `Column`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Column {
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^((?!::).)*$"))]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    pub data_type: DataType,
    pub data_type_display: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub children: Vec<Column>,
}

impl Column {
    /// A column from Sigma's name and type. A name OpenMetadata would reject (too long, `::`)
    /// is made valid and the original kept as `displayName`, so one odd column does not fail
    /// the whole data model (OpenMetadata #26568).
    pub fn from_sigma(raw_name: &str, sigma_type: &str) -> Self {
        let name = column_name(raw_name);
        let display_name = (name != raw_name).then(|| raw_name.to_owned());
        let trimmed = sigma_type.trim();
        Self {
            name,
            display_name,
            data_type: data_type_from_sigma(trimmed),
            data_type_display: if trimmed.is_empty() {
                "unknown".to_owned()
            } else {
                trimmed.to_lowercase()
            },
            description: None,
            children: Vec::new(),
        }
    }
}

/// OpenMetadata `CreateDashboardDataModelRequest`. OpenMetadata's create request has no
/// `sourceUrl` (only the stored entity has one), so a data model's URL travels in
/// `Refs::source_url`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateDashboardDataModelRequest {
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^((?!::).)*$"))]
    pub name: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub data_model_type: DataModelType,
    pub service_type: DashboardServiceType,
    pub columns: Vec<Column>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    /// The Sigma workspace (or folder path) holding it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[schemars(length(min = 1, max = 3072))]
    pub service: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagLabel>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<EntityReference>,
}

/// OpenMetadata `CreateDashboardRequest` (a Sigma workbook).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateDashboardRequest {
    #[schemars(length(min = 1, max = 256), regex(pattern = r"^((?!::).)*$"))]
    pub name: String,
    pub display_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dashboard_type: Option<DashboardType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[schemars(extend("format" = "uri"))]
    pub source_url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// Chart FQNs ([`fqn::chart`]). Written even when empty: the dashboard has no charts.
    #[schemars(inner(length(min = 1, max = 3072)))]
    pub charts: Vec<String>,
    /// Data model FQNs ([`fqn::data_model`]).
    #[schemars(inner(length(min = 1, max = 3072)))]
    pub data_models: Vec<String>,
    #[schemars(length(min = 1, max = 3072))]
    pub service: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<TagLabel>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<EntityReference>,
}

/// OpenMetadata entity types that appear as lineage ends or in delete records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum EntityType {
    Table,
    Dashboard,
    Chart,
    DashboardDataModel,
    DashboardService,
}

impl EntityType {
    /// The name OpenMetadata uses in URLs and entity references.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Table => "table",
            EntityType::Dashboard => "dashboard",
            EntityType::Chart => "chart",
            EntityType::DashboardDataModel => "dashboardDataModel",
            EntityType::DashboardService => "dashboardService",
        }
    }
}

/// An entity named by type and FQN, resolved to an id by the metadata-rest sink.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EntityRef {
    #[serde(rename = "type")]
    pub entity_type: EntityType,
    #[schemars(length(min = 1, max = 3072))]
    pub fqn: String,
}

impl EntityRef {
    pub fn new(entity_type: EntityType, fqn: impl Into<String>) -> Self {
        Self {
            entity_type,
            fqn: fqn.into(),
        }
    }
}

/// `columnLineage`: column FQNs ([`fqn::column`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ColumnLineage {
    #[schemars(inner(length(min = 1, max = 3072)))]
    pub from_columns: Vec<String>,
    #[schemars(length(min = 1, max = 3072))]
    pub to_column: String,
    /// How `toColumn` is made from `fromColumns`: the Sigma formula of the column.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
}

/// `lineageDetails.source`: how the lineage was found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum LineageSource {
    #[default]
    DashboardLineage,
}

/// A lineage edge by FQN. The metadata-rest sink resolves both ends and sends
/// [`LineageEdge::to_add_lineage`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct LineageEdge {
    pub from: EntityRef,
    pub to: EntityRef,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<ColumnLineage>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_query: Option<String>,
    #[serde(default)]
    pub source: LineageSource,
}

impl LineageEdge {
    pub fn new(from: EntityRef, to: EntityRef) -> Self {
        Self {
            from,
            to,
            columns: Vec::new(),
            description: None,
            sql_query: None,
            source: LineageSource::DashboardLineage,
        }
    }

    /// OpenMetadata's `AddLineageRequest` once both ends have ids.
    pub fn to_add_lineage(&self, from_id: &str, to_id: &str) -> serde_json::Value {
        let mut details = serde_json::Map::new();
        if let Some(sql) = &self.sql_query {
            details.insert("sqlQuery".into(), sql.clone().into());
        }
        if !self.columns.is_empty() {
            let columns = serde_json::to_value(&self.columns).unwrap_or_default();
            details.insert("columnsLineage".into(), columns);
        }
        details.insert(
            "source".into(),
            serde_json::to_value(self.source).unwrap_or_default(),
        );
        let mut edge = serde_json::Map::new();
        edge.insert(
            "fromEntity".into(),
            serde_json::json!({"id": from_id, "type": self.from.entity_type.as_str()}),
        );
        edge.insert(
            "toEntity".into(),
            serde_json::json!({"id": to_id, "type": self.to.entity_type.as_str()}),
        );
        if let Some(d) = &self.description {
            edge.insert("description".into(), d.clone().into());
        }
        edge.insert("lineageDetails".into(), details.into());
        serde_json::json!({ "edge": edge })
    }
}

/// An entity to soft-delete (mark-deleted): it was ingested before and is gone from Sigma.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteRef {
    #[serde(rename = "type")]
    pub entity_type: EntityType,
    #[schemars(length(min = 1, max = 3072))]
    pub fqn: String,
}

/// FQNs of the entities a request creates.
impl CreateChartRequest {
    pub fn fqn(&self) -> String {
        fqn::chart(&self.service, &self.name)
    }
}
impl CreateDashboardRequest {
    pub fn fqn(&self) -> String {
        fqn::dashboard(&self.service, &self.name)
    }
}
impl CreateDashboardDataModelRequest {
    pub fn fqn(&self) -> String {
        fqn::data_model(&self.service, &self.name)
    }
}
