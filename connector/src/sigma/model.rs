//! Sigma REST API payloads, as `sigma-openapi-2.0.0.json` describes them. Fields the spec
//! marks required are required here; everything else is optional, and unknown fields are
//! ignored so that Sigma adding a field never breaks a run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The two Sigma documents laid out as pages of elements. Their sub-resources have the same
/// names; reports' page by token (`pageSize`/`pageToken`), workbooks' by `limit`/`page`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    Workbook,
    Report,
}

/// `GET /v2/workbooks`, `GET /v2/workbooks/{workbookId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workbook {
    pub workbook_id: String,
    pub workbook_url_id: String,
    pub name: String,
    pub url: String,
    /// Location in Sigma's file tree, workspace first (e.g. `Sales/Quarterly`).
    pub path: String,
    pub latest_version: f64,
    pub owner_id: String,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub is_archived: bool,
    #[serde(default)]
    pub tags: Vec<WorkbookVersionTag>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkbookVersionTag {
    pub version_tag_id: String,
    pub name: String,
    #[serde(default)]
    pub source_workbook_version: Option<f64>,
    #[serde(default)]
    pub tagged_workbook_id: Option<String>,
    #[serde(default)]
    pub workbook_tagged_at: Option<String>,
}

/// A workbook or a report: the two Sigma documents of pages of elements, seen the same way,
/// so that owners, tags, filters, charts, lineage and incremental runs are written once.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub kind: DocumentKind,
    /// Sigma's id (`workbookId` or `reportId`), for API paths and the state.
    pub id: String,
    /// `workbookUrlId` or `reportUrlId`.
    pub url_id: Option<String>,
    pub name: String,
    pub url: String,
    pub path: String,
    pub owner_id: String,
    pub created_at: String,
    pub updated_at: String,
    pub is_archived: bool,
    pub tags: Vec<String>,
    pub description: Option<String>,
}

impl From<Workbook> for Document {
    fn from(wb: Workbook) -> Self {
        Document {
            kind: DocumentKind::Workbook,
            id: wb.workbook_id,
            url_id: Some(wb.workbook_url_id).filter(|u| !u.is_empty()),
            name: wb.name,
            url: wb.url,
            path: wb.path,
            owner_id: wb.owner_id,
            created_at: wb.created_at,
            updated_at: wb.updated_at,
            is_archived: wb.is_archived,
            tags: wb.tags.into_iter().map(|t| t.name).collect(),
            description: wb.description,
        }
    }
}

impl From<Report> for Document {
    fn from(r: Report) -> Self {
        Document {
            kind: DocumentKind::Report,
            id: r.report_id,
            url_id: Some(r.report_url_id).filter(|u| !u.is_empty()),
            name: r.name,
            url: r.url,
            path: r.path,
            owner_id: r.owner_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
            is_archived: r.is_archived,
            tags: r.tags.into_iter().map(|t| t.tag_name).collect(),
            description: r.description,
        }
    }
}

/// `GET /v2/workbooks/{workbookId}/pages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkbookPage {
    pub page_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub hidden: bool,
}

/// `GET /v2/workbooks/{workbookId}/pages/{pageId}/elements`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkbookElement {
    pub element_id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// `table`, `visualization`, `pivot-table`, `input-table`, `text`, `control`, ...
    #[serde(default, rename = "type")]
    pub element_type: Option<String>,
    #[serde(default)]
    pub columns: Vec<String>,
    /// Sigma's own spelling.
    #[serde(default)]
    pub vizualization_type: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    /// The page the element sits on: sent by the document-level `/elements` listings
    /// (`/v2/workbooks/{id}/elements`, `/v2/reports/{id}/elements`), not by per-page ones.
    #[serde(default)]
    pub page_id: Option<String>,
}

/// `GET /v2/reports`, `GET /v2/reports/{reportId}` (Sigma 2026): laid out like a workbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub report_id: String,
    pub report_url_id: String,
    pub name: String,
    pub url: String,
    pub path: String,
    pub owner_id: String,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub is_archived: bool,
    #[serde(default)]
    pub tags: Vec<ReportVersionTag>,
    #[serde(default)]
    pub description: Option<String>,
}

/// A report's version tag: `tagName` where a workbook's says `name`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportVersionTag {
    pub version_tag_id: String,
    pub tag_name: String,
}

/// One entry of a lineage tree (`/v2/workbooks/{id}/lineage`, `/v2/reports/{id}/lineage`,
/// `/v2/dataModels/{id}/lineage`, Sigma 2026): an element with the ids of what it reads, or a
/// data source. Source entries' `datasourceId` (the id `sourceIds` use) is not declared by
/// the spec, only shown in its example: it is optional here and never the only way to match.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub enum LineageEntry {
    #[serde(rename = "element")]
    Element {
        element_id: String,
        #[serde(default)]
        source_ids: Option<Vec<String>>,
        #[serde(default)]
        data_source_ids: Option<Vec<String>>,
    },
    #[serde(rename = "table")]
    Table {
        inode_id: String,
        #[serde(default)]
        connection_id: Option<String>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        datasource_id: Option<String>,
    },
    #[serde(rename = "dataset")]
    Dataset {
        inode_id: String,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        datasource_id: Option<String>,
    },
    #[serde(rename = "data-model")]
    DataModel {
        data_model_id: String,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        datasource_id: Option<String>,
    },
    /// Lineage says `customSQL` where `/sources` says `custom-sql`: both decode.
    #[serde(rename = "customSQL", alias = "custom-sql")]
    CustomSql {
        definition: String,
        #[serde(default)]
        connection_id: Option<String>,
        #[serde(default)]
        name: Option<String>,
        #[serde(default)]
        datasource_id: Option<String>,
    },
    /// CSV uploads, semantic views, SQL documents, and whatever Sigma adds next.
    #[serde(other)]
    Other,
}

/// `GET /v2/datasets/{datasetId}/sources` entries (deprecated, bare array).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetSource {
    #[serde(rename = "type")]
    pub source_type: String,
    #[serde(default)]
    pub inode_id: Option<String>,
}

/// `GET /v2/workbooks/{workbookId}/queries` entries and `.../elements/{elementId}/query`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElementQuery {
    pub element_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub sql: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
}

/// `GET /v2/workbooks/{workbookId}/lineage/elements/{elementId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElementLineage {
    pub dependencies: BTreeMap<String, LineageNode>,
    pub edges: Vec<LineageEdge>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineageNode {
    pub node_id: String,
    /// `sheet`, `table`, `dataset`, `data-model`, `join`, `union`, `customSQL`, ...
    #[serde(rename = "type")]
    pub node_type: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub element_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineageEdge {
    pub source: String,
    pub target: String,
    /// `lookup`, `source` or `dependency`.
    #[serde(rename = "type")]
    pub edge_type: String,
}

/// `GET /v2/datasets` (deprecated by Sigma in favour of data models; still ingested).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Dataset {
    pub dataset_id: String,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    pub url: String,
    /// The workspace path (Sigma 2026; absent on older orgs).
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub is_archived: bool,
    /// `migrated`, `not-migrated` or `not-required` (Sigma 2026; absent on older orgs).
    #[serde(default)]
    pub migration_status: Option<String>,
    #[serde(default)]
    pub migration_to_data_model: Option<DatasetMigration>,
}

/// Where a migrated dataset went.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetMigration {
    pub data_model_id: String,
}

/// `GET /v2/dataModels`, `GET /v2/dataModels/{dataModelId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataModel {
    pub data_model_id: String,
    pub data_model_url_id: String,
    pub name: String,
    pub url: String,
    pub path: String,
    pub latest_version: f64,
    pub owner_id: String,
    pub created_by: String,
    pub updated_by: String,
    pub created_at: String,
    pub updated_at: String,
    #[serde(default)]
    pub is_archived: bool,
    #[serde(default)]
    pub description: Option<String>,
}

/// `GET /v2/dataModels/{dataModelId}/elements` (not in the published spec; shaped like
/// workbook elements).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataModelElement {
    pub element_id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, rename = "type")]
    pub element_type: Option<String>,
    /// The warehouse table (`inode-...`) an element reads directly, when it does.
    #[serde(default)]
    pub source_table: Option<String>,
}

/// `GET /v2/dataModels/{dataModelId}/columns` (not in the published spec).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataModelColumn {
    #[serde(default)]
    pub column_id: Option<String>,
    pub name: String,
    #[serde(default)]
    pub element_id: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    /// Sigma formula, e.g. `[ORDERS/AMOUNT]` (a column of a source) or `Sum([Orders/AMOUNT])`.
    #[serde(default)]
    pub formula: Option<String>,
    /// Today's Sigma sends a "recursive type object" here, older deployments a string: both
    /// decode, keeping the object's own `type` name.
    #[serde(default, alias = "dataType", deserialize_with = "lenient_type_name")]
    pub r#type: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// One column of `GET /v2/workbooks/{id}/columns` or `/v2/reports/{id}/columns` (Sigma 2026):
/// every element's columns in one listing. The listing says `name`, its spec's example and
/// the per-element call say `label`: both decode.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ElementColumn {
    /// `inode-<tableUrlId>/<NATIVE>` for a column read straight from a warehouse table.
    #[serde(default)]
    pub column_id: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub formula: Option<String>,
    #[serde(default, deserialize_with = "lenient_type_name")]
    pub r#type: Option<String>,
    #[serde(default)]
    pub element_id: Option<String>,
}

impl ElementColumn {
    /// The column's name as the element shows it: `label`, else `name`.
    pub fn label(&self) -> Option<&str> {
        [self.label.as_deref(), self.name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .find(|n| !n.is_empty())
    }
}

/// `GET /v2/members`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Member {
    pub member_id: String,
    pub email: String,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub member_type: Option<String>,
    #[serde(default)]
    pub is_archived: bool,
    #[serde(default)]
    pub is_inactive: bool,
}

/// `GET /v2/workspaces`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workspace {
    pub workspace_id: String,
    pub name: String,
    #[serde(default)]
    pub created_by: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// `GET /v2/files/{inodeId}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct File {
    pub id: String,
    pub url_id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub file_type: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub is_archived: bool,
    #[serde(default)]
    pub description: Option<String>,
}

/// `GET /v2/connections/paths/{inodeId}`: a warehouse object behind an `inode-` id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConnectionPath {
    pub connection_id: String,
    /// `[database]`, `[database, schema]` or `[database, schema, table]`.
    pub path: Vec<String>,
}

/// `GET /v2/connections`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub connection_id: String,
    pub name: String,
    /// Warehouse kind: `snowflake`, `bigquery`, `databricks`, `redshift`, `postgres`, ...
    #[serde(rename = "type")]
    pub connection_type: String,
    #[serde(default)]
    pub is_archived: bool,
}

/// A column `type` as a string, or as Sigma's type object (`{"type": "number", ...}`), read as
/// its `type` name; any other shape is no type rather than a decoding failure.
fn lenient_type_name<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(deserializer)?;
    Ok(match value {
        Some(serde_json::Value::String(name)) => Some(name),
        Some(serde_json::Value::Object(object)) => object
            .get("type")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_type_decodes_as_object_string_or_anything_else() {
        let column = |t: serde_json::Value| -> DataModelColumn {
            serde_json::from_value(serde_json::json!({"name": "AMOUNT", "type": t})).unwrap()
        };
        let object = column(serde_json::json!({"type": "number", "format": {"kind": "auto"}}));
        assert_eq!(object.r#type.as_deref(), Some("number"));
        assert_eq!(
            column(serde_json::json!("text")).r#type.as_deref(),
            Some("text")
        );
        assert_eq!(column(serde_json::json!([1])).r#type, None);
    }

    #[test]
    fn decodes_spec_shaped_element_with_sigma_spelling() {
        let el: WorkbookElement = serde_json::from_value(serde_json::json!({
            "elementId": "e1", "name": "Revenue", "type": "visualization",
            "columns": ["Region", "Revenue"], "vizualizationType": "bar", "newField": 1
        }))
        .unwrap();
        assert_eq!(el.vizualization_type.as_deref(), Some("bar"));
        assert_eq!(el.columns.len(), 2);
    }

    #[test]
    fn lineage_nodes_of_every_branch_decode() {
        let l: ElementLineage = serde_json::from_value(serde_json::json!({
            "dependencies": {
                "inode-abc": {"nodeId": "inode-abc", "type": "table", "name": "ORDERS"},
                "wb/el2": {"nodeId": "wb/el2", "type": "sheet", "name": "S", "elementId": "el2"},
                "join-1": {"nodeId": "join-1", "type": "join"}
            },
            "edges": [{"source": "inode-abc", "target": "join-1", "type": "source"}]
        }))
        .unwrap();
        assert_eq!(l.dependencies.len(), 3);
        assert_eq!(l.dependencies["wb/el2"].element_id.as_deref(), Some("el2"));
    }
}
