//! The catalog: what the Sigma source yields, in Sigma's own terms and no platform's.
//!
//! Every item names the Sigma object it describes (its [`Group`]: the org, a workbook or
//! report, a data model, a dataset) and carries Sigma's identity and structure: document,
//! page, element, data model and dataset ids; each element's columns with their formulas
//! and column ids; what each element reads (its own upstreams, not one list per document);
//! warehouse ends as connection + path + column; column lineage as Sigma-addressed pairs.
//!
//! Nothing here is an OpenMetadata FQN or a DataHub URN: each platform's edge
//! (`openmetadata::render` for OpenMetadata) derives its names from these items, so a new
//! platform is a new renderer beside it. All of it is `Serialize + Deserialize`: the
//! checkpoint keeps what the source yielded, and a renderer can replay it.
//!
//! What a field holds is what Sigma said, trimmed of nothing; a renderer decides how to
//! name it. Lists are in Sigma's order (page order, then element order within a page;
//! column order as `/columns` lists them; upstreams as the lineage names them).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The kinds of Sigma object an item describes; its records on any platform travel
/// together (replayed, kept and marked deleted as one).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum GroupKind {
    /// The Sigma org itself (on OpenMetadata: the dashboard service).
    Org,
    /// A workbook or a report: its elements, the document, the lineage into it.
    Document,
    /// A data model: its elements, the lineage into them.
    DataModel,
    /// A (retired) dataset: itself unless migrated, the lineage into it.
    Dataset,
}

/// Which Sigma object an item (and every record rendered from it) belongs to. On the wire:
/// `{"kind": "document", "id": "..."}`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Group {
    pub kind: GroupKind,
    /// The Sigma id (`workbookId`, `reportId`, `dataModelId`, `datasetId`); the org's host
    /// URL for the org.
    pub id: String,
}

impl Group {
    pub fn org(host: impl Into<String>) -> Self {
        Self {
            kind: GroupKind::Org,
            id: host.into(),
        }
    }
    pub fn document(id: impl Into<String>) -> Self {
        Self {
            kind: GroupKind::Document,
            id: id.into(),
        }
    }
    pub fn data_model(id: impl Into<String>) -> Self {
        Self {
            kind: GroupKind::DataModel,
            id: id.into(),
        }
    }
    pub fn dataset(id: impl Into<String>) -> Self {
        Self {
            kind: GroupKind::Dataset,
            id: id.into(),
        }
    }
}

/// One item of the catalog: a Sigma object with everything under it.
// The large variants are the common ones: boxing would allocate per item for nothing.
#[allow(clippy::large_enum_variant)]
/// On the wire: `{"kind": "document", "item": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "item", rename_all = "camelCase")]
pub enum Item {
    Org(Org),
    Document(Document),
    DataModel(DataModel),
    Dataset(Dataset),
}

impl Item {
    /// The Sigma object this item describes: derived from the item, so it cannot disagree.
    pub fn group(&self) -> Group {
        match self {
            Item::Org(o) => Group::org(&o.host),
            Item::Document(d) => Group::document(&d.id),
            Item::DataModel(m) => Group::data_model(&m.id),
            Item::Dataset(d) => Group::dataset(&d.id),
        }
    }
}

/// The Sigma org: where it is, and the warehouse connections its tables live on. What a
/// platform calls it (OpenMetadata's service name) is that platform's configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Org {
    /// The Sigma host (`hostPort`), e.g. `https://aws-api.sigmacomputing.com`.
    pub host: String,
    /// Every connection `/v2/connections` listed, in listing order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub connections: Vec<Connection>,
    /// The workspaces `/v2/workspaces` listed, in listing order: asked for only by a
    /// platform that places documents in them (DataHub's workspace containers), so an
    /// OpenMetadata run's requests do not change.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workspaces: Vec<Workspace>,
    /// Whether `workspaces` is the whole listing. False when the platform did not ask, the
    /// listing failed or an entry did not decode: a platform then deletes nothing it made
    /// from workspaces (the listing is only a warning, never a failed run).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub workspaces_complete: bool,
}

/// A Sigma workspace (the first segment of every path in it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    /// `workspaceId`.
    pub id: String,
    pub name: String,
    /// Its creator's email, resolved from the member listing (none when owners are off or
    /// the creator is not a listed member).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Sigma's `createdAt` and `updatedAt` (RFC 3339), when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// A Sigma warehouse connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub id: String,
    pub name: String,
    /// Sigma's connection `type`: `snowflake`, `bigquery`, `postgres`, `databricks`,
    /// `redshift`, ...
    #[serde(rename = "type")]
    pub connection_type: String,
}

/// The workspace a Sigma path starts with (`Finance/Reports/Q3` -> `Finance`).
pub fn workspace_of(path: &str) -> &str {
    path.split('/').next().unwrap_or_default().trim()
}

/// Which warehouse tables the platform being written to can place (an OpenMetadata run
/// only those its database service mapping reaches). The source asks before it resolves a
/// table (so a run that can place none asks Sigma nothing about tables) and leaves out
/// what cannot be placed; the platform's edge supplies it (`openmetadata::ServiceMapping`).
pub trait TablePlacement: Send + Sync + std::fmt::Debug {
    /// No table can be placed at all.
    fn is_empty(&self) -> bool;
    /// Whether `table` can be placed, given the org's connections.
    fn places(&self, connections: &[Connection], table: &WarehouseTable) -> bool;
    /// What to tell the user when no table can be placed (once per run).
    fn none_placed(&self) -> String;
    /// The warning for a table that cannot be placed: the grouped message, and the line
    /// for this table (`name` is its dotted path).
    fn not_placed(&self, name: &str, connection_id: &str) -> (String, String);
}

/// Every table placed: for a platform that can name any warehouse table.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlaceAll;

impl TablePlacement for PlaceAll {
    fn is_empty(&self) -> bool {
        false
    }
    fn places(&self, _: &[Connection], table: &WarehouseTable) -> bool {
        !table.path.is_empty()
    }
    fn none_placed(&self) -> String {
        String::new()
    }
    fn not_placed(&self, name: &str, connection_id: &str) -> (String, String) {
        (
            "warehouse tables without a path; lineage to them is skipped".to_owned(),
            format!(
                "table {name} (connection {connection_id}) has no path; lineage to it is skipped"
            ),
        )
    }
}

/// Workbook or report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DocumentKind {
    Workbook,
    Report,
}

/// A workbook or report, with its pages and elements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Document {
    /// `workbookId` or `reportId`.
    pub id: String,
    /// `workbookUrlId` / `reportUrlId`, when Sigma sends one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_id: Option<String>,
    pub kind: DocumentKind,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub url: String,
    /// The workspace path (`Finance/Reports/Q3`).
    pub path: String,
    /// Sigma's `createdAt` (RFC 3339), when known (state files written before it was kept
    /// have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    /// Sigma's `updatedAt` (RFC 3339).
    pub updated_at: String,
    /// The owner's email, resolved from the member listing (none when owners are off or
    /// the owner is not a listed member).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Version tag names (none when tags are off).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub pages: Vec<Page>,
    /// Every element that passed the selection, in page order then Sigma's order.
    pub elements: Vec<Element>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

/// An element of a workbook or report page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Element {
    pub id: String,
    pub page_id: String,
    /// Sigma's name, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The name to show: Sigma's, or a readable one from its type and page
    /// (`Untitled bar 3 on Overview`).
    pub display_name: String,
    /// Sigma's element `type` (`table`, `visualization`, `pivot-table`, `text`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element_type: Option<String>,
    /// Sigma's `vizualizationType` (`bar`, `line`, `kpi`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visualization_type: Option<String>,
    /// A chart or table, as opposed to text, controls, images, ...
    pub is_chart: bool,
    /// The error Sigma reports for the element, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Deep link to the element (`{documentUrl}?:nodeId={elementId}`).
    pub url: String,
    /// Its columns from the document's `/columns` (none on deployments without it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<Column>,
    /// What it reads, at table grain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstreams: Vec<Upstream>,
    /// What its columns read, exactly (never paired by matching names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub column_lineage: Vec<ColumnLineage>,
}

/// A column of an element (workbook, report or data model).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Column {
    /// Sigma's `columnId` (`inode-<tableUrlId>/<NATIVE>` for a warehouse column).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column_id: Option<String>,
    /// The name formulas use: a data model column's `name`, an element column's `label`
    /// (else its `name`).
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    /// Sigma's type (`number`, `text`, `datetime`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "type")]
    pub column_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A warehouse table as Sigma addresses it: a connection and a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WarehouseTable {
    /// The Sigma connection; `None` for a table SQL names when the connection cannot be
    /// told.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_id: Option<String>,
    /// The connection's `type` (`snowflake`, `bigquery`, ...), when the connection is
    /// known and listed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_type: Option<String>,
    /// `[database, schema, table]` from `/connections/paths`; a table SQL names may leave
    /// out the database or the schema (`[schema, table]`, `[table]`).
    pub path: Vec<String>,
    /// Sigma's `inode-` id of the table, when Sigma named it (lineage, `columnId`s);
    /// `None` for a table only SQL names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inode_id: Option<String>,
}

impl WarehouseTable {
    /// The table's own name (the last part of its path).
    pub fn table(&self) -> &str {
        self.path.last().map_or("", String::as_str)
    }
}

/// Where an element's table-grain upstream came from, which a renderer may need to keep
/// the order and dedup of its output stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TableSource {
    /// Sigma's lineage (a `table` node, `/sources`, a data model element's `sourceTable`).
    Lineage,
    /// The element's SQL (`/queries`, or a custom SQL definition).
    Sql,
}

/// What an element reads, at table grain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Upstream {
    /// A warehouse table.
    #[serde(rename_all = "camelCase")]
    Table {
        table: WarehouseTable,
        source: TableSource,
    },
    /// A data model (a document element reading it): `elements` are that data model's
    /// element ids as this run knows them. `viaDataset`: the element read a dataset that
    /// was migrated into this data model.
    #[serde(rename_all = "camelCase")]
    DataModel {
        data_model_id: String,
        elements: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        via_dataset: Option<String>,
    },
    /// One element of another data model (a data model element reading it).
    #[serde(rename_all = "camelCase")]
    DataModelElement {
        data_model_id: String,
        element_id: String,
    },
    /// A dataset that stands for itself (not migrated).
    #[serde(rename_all = "camelCase")]
    Dataset { dataset_id: String },
    /// A sibling element (same document or data model).
    #[serde(rename_all = "camelCase")]
    Element { element_id: String },
    /// A custom SQL table: its name in formulas, and the warehouse tables its SQL reads.
    #[serde(rename_all = "camelCase")]
    CustomSql {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name: Option<String>,
        tables: Vec<WarehouseTable>,
    },
}

/// The end of a column pair's `from` side.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum End {
    Table {
        table: WarehouseTable,
    },
    #[serde(rename_all = "camelCase")]
    DataModelElement {
        data_model_id: String,
        element_id: String,
    },
    #[serde(rename_all = "camelCase")]
    Dataset {
        dataset_id: String,
    },
    /// A sibling element of the same document or data model.
    #[serde(rename_all = "camelCase")]
    Element {
        element_id: String,
    },
}

/// One source column: an end and the column's name there (a warehouse column's native
/// name; an element column's name as formulas use it).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ColumnRef {
    pub end: End,
    pub column: String,
}

/// One column pair: a column of this element and the columns it reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ColumnLineage {
    /// The column of this element (its [`Column::name`]).
    pub to: String,
    pub from: Vec<ColumnRef>,
    /// The `to` column's Sigma formula, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<String>,
    /// The custom SQL (by its name in formulas) whose output the formula reads: the `from`
    /// columns are the warehouse columns that output is made of. `None` when the formula
    /// reads the ends directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<String>,
}

/// A Sigma data model, with its elements.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataModel {
    pub id: String,
    pub url_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub url: String,
    pub path: String,
    /// Sigma's `createdAt` (RFC 3339), when known (state files written before it was kept
    /// have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    pub elements: Vec<DataModelElement>,
    /// The datasets migrated into this data model, by id, sorted: it stands for them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaces_datasets: Vec<String>,
    /// Where its lineage came from.
    pub lineage: LineageSource,
}

/// Where a data model's element lineage came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LineageSource {
    /// `/v2/dataModels/{id}/lineage` (today's Sigma).
    Tree,
    /// The elements' own `sourceTable` and formulas (an older deployment).
    Elements,
}

/// An element of a data model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataModelElement {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element_type: Option<String>,
    /// Deep link to the element.
    pub url: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<Column>,
    /// What it reads, at table grain, in the order Sigma names it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstreams: Vec<Upstream>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub column_lineage: Vec<ColumnLineage>,
}

/// A Sigma dataset (retired by Sigma as a data source on 2026-09-15).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dataset {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_id: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub url: String,
    /// The workspace path (`Finance/Legacy`; Sigma 2026 sends it), when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// Sigma's `createdAt` (RFC 3339), when known (state files written before it was kept
    /// have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
    pub updated_at: String,
    /// Sigma's `migrationStatus` (`migrated`, `not-migrated`, `not-required`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migration_status: Option<String>,
    /// The data model it was migrated to (which then stands for it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub migrated_to: Option<String>,
    /// The warehouse tables behind it (`/v2/datasets/{id}/sources`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upstreams: Vec<WarehouseTable>,
}

impl Dataset {
    /// Migrated to a data model, which stands for it: nothing of its own to render.
    pub fn is_migrated(&self) -> bool {
        self.migration_status.as_deref() == Some("migrated") && self.migrated_to.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_and_items_round_trip_in_camel_case() {
        let group = Group::data_model("dm1");
        assert_eq!(
            serde_json::to_value(&group).unwrap(),
            serde_json::json!({"kind": "dataModel", "id": "dm1"})
        );
        let item = Item::Dataset(Dataset {
            id: "ds1".into(),
            url_id: Some("u1".into()),
            name: "Orders".into(),
            description: None,
            url: "https://app/ds/u1".into(),
            path: None,
            created_at: None,
            updated_at: "2026-01-01T00:00:00Z".into(),
            migration_status: Some("migrated".into()),
            migrated_to: Some("dm1".into()),
            upstreams: vec![WarehouseTable {
                connection_id: Some("c1".into()),
                connection_type: Some("snowflake".into()),
                path: vec!["DB".into(), "S".into(), "T".into()],
                inode_id: Some("inode-x".into()),
            }],
        });
        let text = serde_json::to_string(&item).unwrap();
        assert!(text.starts_with(r#"{"kind":"dataset","item":{"#), "{text}");
        assert!(text.contains(r#""connectionType":"snowflake""#), "{text}");
        assert_eq!(serde_json::from_str::<Item>(&text).unwrap(), item);
        assert_eq!(item.group(), Group::dataset("ds1"));
        let Item::Dataset(ds) = &item else {
            unreachable!()
        };
        assert!(ds.is_migrated());
    }
}
