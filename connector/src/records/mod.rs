//! The records the connector emits: OpenMetadata Create-request shapes plus a lineage edge
//! and a delete marker, each with the references a sink must resolve to server ids.
//!
//! On the wire (JSON Lines, one per line):
//! `{"kind": "chart", "fqn": "svc.name", "entity": {...CreateChartRequest...}, "refs": {"owners": [...]}, "group": {"kind": "document", "id": "..."}}`.
//! `kind` and `fqn` are derived from the entity, so they can never disagree with it; `group`
//! is the Sigma object the record was rendered from (none for a delete).

mod entities;
mod naming;
pub mod schema;
mod types;

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::Group;

pub use entities::{
    Column, ColumnLineage, CreateChartRequest, CreateDashboardDataModelRequest,
    CreateDashboardRequest, CreateDashboardServiceRequest, DashboardConnection,
    DashboardServiceType, DashboardType, DataModelType, DeleteRef, EntityRef, EntityReference,
    EntityType, LabelType, LineageEdge, LineageSource, TagLabel, TagSource, TagState,
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

/// What Sigma said about the object that OpenMetadata's request has no field for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum SigmaType {
    /// A Sigma dataset (written as an OpenMetadata data model).
    Dataset,
}

/// What the entity refers to but cannot name by id, and what the request has no field
/// for: a sink resolves or uses these on the server; the runner reads `updated_at`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Refs {
    /// Owners by email (Sigma member emails), to become the entity's `owners`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub owners: Vec<String>,
    /// Sigma tag names, to become `SigmaTags.<tag>` labels on the entity.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// The entity's URL when OpenMetadata's create request has no field for it (data models).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(extend("format" = "uri"))]
    pub source_url: Option<String>,
    /// Sigma's `updatedAt` of the object (RFC 3339), kept in the state for incremental runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    /// The kind of Sigma object, when the entity type alone does not say it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sigma_type: Option<SigmaType>,
    /// A Sigma dataset only: its `migrationStatus` (`not-migrated`, `not-required`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration_status: Option<String>,
    /// A data model that Sigma datasets were migrated to: those datasets' ids, sorted
    /// (several datasets can be migrated into one data model). The datasets are not
    /// emitted themselves; this data model stands for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaces_datasets: Vec<String>,
    /// Lineage only: further FQNs for the `from` end, tried in order when it does not exist.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(inner(length(min = 1, max = 3072)))]
    pub from_candidates: Vec<String>,
}

impl Refs {
    pub fn is_empty(&self) -> bool {
        *self == Refs::default()
    }
}

/// One emitted record. On the wire it is one JSON object, `{"kind", "fqn", "entity",
/// "refs", "group"}`, written by its `Serialize` impl and nowhere else; `fqn` is derived from
/// the entity, `refs` left out when empty, `group` when there is none.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(from = "RecordLine")]
pub struct Record {
    pub entity: Entity,
    pub refs: Refs,
    /// The Sigma object (catalog item) the record was rendered from: what a reader groups
    /// records by (a workbook's charts, data models, dashboard and lineage), never their
    /// order. Set by the runner as it writes; `None` for a delete.
    pub group: Option<Group>,
}

/// One emitted record: a JSON Lines line of the output, and an entry of the state file.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename = "Record", deny_unknown_fields)]
pub struct RecordLine {
    #[serde(flatten)]
    pub entity: Entity,
    /// The FQN the record creates or deletes; for lineage, `from -> to`.
    pub fqn: String,
    #[serde(default)]
    pub refs: Refs,
    /// The Sigma object the record belongs to (`{"kind": "document", "id": "..."}`).
    #[serde(default)]
    pub group: Option<Group>,
}

impl From<RecordLine> for Record {
    fn from(line: RecordLine) -> Self {
        Record {
            entity: line.entity,
            refs: line.refs,
            group: line.group,
        }
    }
}

impl Serialize for Record {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let refs = !self.refs.is_empty();
        let len = 3 + usize::from(refs) + usize::from(self.group.is_some());
        let mut map = serializer.serialize_map(Some(len))?;
        map.serialize_entry("kind", &self.kind())?;
        map.serialize_entry("fqn", &self.fqn())?;
        map.serialize_entry("entity", &Payload(&self.entity))?;
        if refs {
            map.serialize_entry("refs", &self.refs)?;
        }
        if let Some(group) = &self.group {
            map.serialize_entry("group", group)?;
        }
        map.end()
    }
}

/// An entity without its tag: the request (or edge, or delete) itself.
struct Payload<'a>(&'a Entity);

impl Serialize for Payload<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Entity::DashboardService(e) => e.serialize(serializer),
            Entity::Chart(e) => e.serialize(serializer),
            Entity::DataModel(e) => e.serialize(serializer),
            Entity::Dashboard(e) => e.serialize(serializer),
            Entity::Lineage(e) => e.serialize(serializer),
            Entity::Delete(e) => e.serialize(serializer),
        }
    }
}

impl Record {
    /// A record with no references.
    pub fn new(entity: Entity) -> Self {
        Self {
            entity,
            refs: Refs::default(),
            group: None,
        }
    }

    /// Files the record under the Sigma object it was rendered from.
    pub fn in_group(mut self, group: Group) -> Self {
        self.group = Some(group);
        self
    }

    /// Adds owners by email.
    pub fn with_owners(mut self, owners: impl IntoIterator<Item = String>) -> Self {
        self.refs.owners.extend(owners);
        self
    }

    pub fn with_refs(mut self, refs: Refs) -> Self {
        self.refs = refs;
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
    pub fn fqn(&self) -> String {
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
