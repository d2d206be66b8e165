//! The records the connector emits: OpenMetadata Create-request shapes plus a lineage edge
//! and a delete marker, each with the references a sink must resolve to server ids.
//!
//! On the wire (JSON Lines, one per line):
//! `{"kind": "chart", "entity": {...CreateChartRequest...}, "refs": {"owners": [...]}}`.
//! `kind` is derived from the entity's variant, so the two can never disagree.

mod entities;
mod naming;
pub mod schema;
mod types;

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use entities::{
    Column, ColumnLineage, CreateChartRequest, CreateDashboardDataModelRequest,
    CreateDashboardRequest, CreateDashboardServiceRequest, DashboardConnection,
    DashboardServiceType, DataModelType, DeleteRef, EntityRef, EntityReference, EntityType,
    LabelType, LineageEdge, LineageSource, TagLabel, TagSource, TagState,
};
pub use naming::{
    COLUMN_NAME_MAX, ENTITY_NAME_MAX, TAG_CLASSIFICATION, TAG_FQN_MAX, column_name, entity_name,
    fqn, om_len, tag_name,
};
pub use types::{ChartType, DataType, chart_type_from_sigma, data_type_from_sigma};

/// What a record describes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum RecordKind {
    DashboardService,
    Chart,
    DataModel,
    Dashboard,
    Lineage,
    Delete,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::DashboardService => "dashboardService",
            RecordKind::Chart => "chart",
            RecordKind::DataModel => "dataModel",
            RecordKind::Dashboard => "dashboard",
            RecordKind::Lineage => "lineage",
            RecordKind::Delete => "delete",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // `pad` so that width and alignment (`{:<16}`) apply.
        f.pad(self.as_str())
    }
}

/// The payload of a record, tagged on the wire by `kind` with the payload under `entity`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", content = "entity", rename_all = "camelCase")]
pub enum Entity {
    DashboardService(CreateDashboardServiceRequest),
    Chart(CreateChartRequest),
    DataModel(CreateDashboardDataModelRequest),
    Dashboard(CreateDashboardRequest),
    Lineage(LineageEdge),
    Delete(DeleteRef),
}

/// What the entity refers to but cannot name by id: a sink resolves these on the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Refs {
    /// Owners by email (Sigma member emails), to become the entity's `owners`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<String>,
    /// The entity's URL when OpenMetadata's create request has no field for it (data models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "uri"))]
    pub source_url: Option<String>,
}

impl Refs {
    pub fn is_empty(&self) -> bool {
        self.owners.is_empty() && self.source_url.is_none()
    }
}

/// One emitted record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Record {
    #[serde(flatten)]
    pub entity: Entity,
    #[serde(default)]
    pub refs: Refs,
}

impl Record {
    /// A record with no references.
    pub fn new(entity: Entity) -> Self {
        Self {
            entity,
            refs: Refs::default(),
        }
    }

    /// Adds owners by email.
    pub fn with_owners(mut self, owners: impl IntoIterator<Item = String>) -> Self {
        self.refs.owners.extend(owners);
        self
    }

    pub fn kind(&self) -> RecordKind {
        match &self.entity {
            Entity::DashboardService(_) => RecordKind::DashboardService,
            Entity::Chart(_) => RecordKind::Chart,
            Entity::DataModel(_) => RecordKind::DataModel,
            Entity::Dashboard(_) => RecordKind::Dashboard,
            Entity::Lineage(_) => RecordKind::Lineage,
            Entity::Delete(_) => RecordKind::Delete,
        }
    }

    /// The FQN the record creates or deletes; for lineage, `from -> to`.
    pub fn subject(&self) -> String {
        match &self.entity {
            Entity::DashboardService(s) => fqn::build(&[&s.name]),
            Entity::Chart(c) => c.fqn(),
            Entity::DataModel(m) => m.fqn(),
            Entity::Dashboard(d) => d.fqn(),
            Entity::Lineage(l) => format!("{} -> {}", l.from.fqn, l.to.fqn),
            Entity::Delete(d) => d.fqn.clone(),
        }
    }
}

impl From<Entity> for Record {
    fn from(entity: Entity) -> Self {
        Record::new(entity)
    }
}
