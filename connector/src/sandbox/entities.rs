//! The entities of an org in Sigma's JSON shapes. They serialize to exactly the API's field
//! names. Fields the API does not return (a workbook's pages, an element's SQL or lineage, a
//! data model element's inputs) are `skip_serializing`: they are read from the fixtures and
//! served by their own routes.

use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    pub workspace_id: String,
    pub name: String,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub organization_id: String,
    pub member_id: String,
    pub member_type: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    /// Nullable in the spec, so always present.
    pub profile_img_url: Option<String>,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub home_folder_id: String,
    pub user_kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_archived: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_inactive: Option<bool>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub organization_id: String,
    pub connection_id: String,
    pub is_sample: bool,
    pub is_audit_log: bool,
    pub last_active_at: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub use_oauth: bool,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_archived: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warehouse: Option<String>,
}

/// A folder as `/v2/files` returns it (workspaces, workbooks, datasets and tables are turned
/// into the same shape on the fly).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Folder {
    pub id: String,
    pub url_id: String,
    pub name: String,
    pub parent_id: String,
    pub path: String,
    pub owner_id: String,
    pub created_by: String,
    pub created_at: String,
}

/// A warehouse table Sigma knows about: a `table` file and a connection path.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WarehouseTable {
    /// Lineage nodes call it `inode-<urlId>`.
    pub url_id: String,
    pub connection_id: String,
    /// `[database, schema, table]`.
    pub path: Vec<String>,
    pub parent_id: String,
    /// An archived inode: `/v2/connections/paths/{inodeId}` answers 409 `inode_archived`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub archived: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkbookTag {
    pub version_tag_id: String,
    pub name: String,
    pub source_workbook_version: u64,
    pub tagged_workbook_id: String,
    pub workbook_tagged_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workbook {
    pub workbook_id: String,
    pub workbook_url_id: String,
    pub name: String,
    pub url: String,
    pub path: String,
    pub latest_version: u64,
    pub owner_id: String,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub is_archived: bool,
    #[serde(default, skip_serializing)]
    pub folder_id: String,
    /// Listed with the workbook, as Sigma does unless `excludeTags=true`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<WorkbookTag>,
    /// Fixture workbooks carry their pages; synthetic ones leave this empty and are generated
    /// on request (see `Org::pages`).
    #[serde(default, skip_serializing)]
    pub pages: Vec<Page>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page {
    pub page_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<bool>,
    #[serde(default, skip_serializing)]
    pub elements: Vec<Element>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Element {
    pub element_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub columns: Option<Vec<String>>,
    /// Sigma's own spelling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vizualization_type: Option<String>,
    #[serde(default, skip_serializing)]
    pub sql: Option<String>,
    /// `{dependencies, edges}` exactly as the lineage route answers it.
    #[serde(default, skip_serializing)]
    pub lineage: Option<Value>,
    /// A column's formula where the fixture gives one (a computed column: `/columns` then
    /// says it as written); any other column reads `[<source>/<column>]`.
    #[serde(default, skip_serializing)]
    pub formulas: std::collections::BTreeMap<String, String>,
    /// What each column reads, as the generator built it: the truth a measurement counts
    /// column pairs against, independently of the connector (empty for fixtures).
    #[serde(skip)]
    pub truth: Vec<ColumnTruth>,
}

/// One column of a generated element and the source columns it reads (none: it reads
/// nothing that can be told exactly, e.g. `count(*)` or a column the source lacks).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnTruth {
    pub column: String,
    pub reads: Vec<ColumnSource>,
}

/// A source column in the generator's truth.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum ColumnSource {
    /// A warehouse table's column (`inode-<urlId>`).
    Table { inode_id: String, column: String },
    /// A column of a data model's element.
    DataModelElement {
        data_model_id: String,
        element_id: String,
        column: String,
    },
}

impl Element {
    /// Sigma answers 400 for lineage of UI-only elements.
    pub fn is_ui_only(&self) -> bool {
        matches!(
            self.kind.as_str(),
            "text" | "control" | "image" | "button" | "divider"
        )
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dataset {
    pub dataset_id: String,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub name: String,
    pub description: String,
    pub url: String,
    /// Today's fields (the 2026 spec requires them; the older surface sends them too, which
    /// the 2.0.0 schema allows).
    #[serde(default)]
    pub owner: String,
    #[serde(default)]
    pub reference_count: u64,
    #[serde(default)]
    pub path: String,
    #[serde(default)]
    pub migration_to_data_model: Option<DatasetMigration>,
    #[serde(default = "not_migrated")]
    pub migration_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_archived: Option<bool>,
    #[serde(default, skip_serializing)]
    pub url_id: String,
    #[serde(default, skip_serializing)]
    pub folder_id: String,
    /// What `/v2/datasets/{id}/sources` answers: `[{type, inodeId}]`.
    #[serde(default, skip_serializing)]
    pub sources: Vec<DatasetSource>,
    /// An error status `/sources` answers instead (410: the endpoint is gone for it; 409:
    /// `inode_archived`), as DataHub met them.
    #[serde(default, skip_serializing)]
    pub sources_status: Option<u16>,
}

fn not_migrated() -> String {
    "not-migrated".to_owned()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetMigration {
    pub data_model_id: String,
    pub data_model_url: String,
    pub migrated_at: String,
    pub migrated_by: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetSource {
    /// `table` or `dataset`.
    #[serde(rename = "type")]
    pub kind: String,
    pub inode_id: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataModel {
    pub data_model_id: String,
    pub data_model_url_id: String,
    pub name: String,
    pub url: String,
    pub path: String,
    pub latest_version: u64,
    pub owner_id: String,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_archived: Option<bool>,
    /// Listed with the data model unless `excludeTags=true`, and at `/tags`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<VersionTag>,
    #[serde(default, skip_serializing)]
    pub elements: Vec<DataModelElement>,
}

/// A version tag on a data model (`/v2/dataModels/{id}/tags`) or, with `taggedReportId`,
/// on a report.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionTag {
    pub version_tag_id: String,
    pub tag_name: String,
    pub source_version: u64,
    pub tagged_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tagged_report_id: Option<String>,
}

/// What a data model element reads, as the fixtures say it; `/lineage` and `/sources` are
/// derived from it (see `data_models.rs`).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(
    rename_all = "camelCase",
    rename_all_fields = "camelCase",
    tag = "kind"
)]
pub enum DataModelInput {
    /// A warehouse table, by `inode-<urlId>`.
    Table { inode_id: String },
    /// Custom SQL written in the element.
    CustomSql {
        name: String,
        connection_id: String,
        definition: String,
    },
    /// Another element of the same data model.
    Sibling { element_id: String },
    /// An element of another data model (by that model's id).
    DataModel {
        data_model_id: String,
        element_id: String,
    },
    /// A legacy dataset, by dataset id.
    Dataset { dataset_id: String },
}

/// `/v2/dataModels/{id}/elements` is not in the 2.0.0 spec; this follows Sigma's docs.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataModelElement {
    pub element_id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// The older surface's shape (a sandbox invention kept for it): the table an element
    /// reads directly. Today's surface says it through `/lineage` and `/sources` instead.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_table: Option<String>,
    #[serde(default, skip_serializing)]
    pub columns: Vec<DataModelColumn>,
    /// What the element reads; `sourceTable`, when set, counts as a table input.
    #[serde(default, skip_serializing)]
    pub inputs: Vec<DataModelInput>,
    /// What each column reads, as the generator built it (empty for fixtures).
    #[serde(skip)]
    pub truth: Vec<ColumnTruth>,
}

impl DataModelElement {
    /// Every input, `sourceTable` included.
    pub fn all_inputs(&self) -> Vec<DataModelInput> {
        let mut inputs: Vec<DataModelInput> = self
            .source_table
            .iter()
            .map(|inode| DataModelInput::Table {
                inode_id: inode.clone(),
            })
            .collect();
        inputs.extend(self.inputs.iter().cloned());
        inputs
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataModelColumn {
    pub column_id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    /// Filled in by the org on load so `/columns` can say which element a column is in.
    #[serde(default)]
    pub element_id: String,
    /// Sigma's "recursive type object" (served on today's surface only); `{"type": "text"}`
    /// when the fixture says nothing.
    #[serde(default, rename = "type", skip_serializing)]
    pub column_type: Option<Value>,
}

/// A report: laid out like a workbook (pages of elements), listed at `/v2/reports`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub report_id: String,
    pub report_url_id: String,
    pub name: String,
    pub url: String,
    pub path: String,
    pub latest_version: u64,
    pub owner_id: String,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub is_archived: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<VersionTag>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing)]
    pub pages: Vec<Page>,
}

/// A team as `/v2/teams` lists it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Team {
    pub team_id: String,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub name: String,
    pub description: Option<String>,
    pub visibility: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_archived: Option<bool>,
}

/// Column `type` when a fixture gives none.
pub fn default_column_type() -> Value {
    serde_json::json!({"type": "text"})
}
