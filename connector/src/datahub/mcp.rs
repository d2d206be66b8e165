//! DataHub's metadata change proposals, as far as this connector writes them: typed aspects
//! (field names and required fields as in DataHub's PDL models, checked by
//! `datahub check metadata-file` in the tests) and the proposal around them.
//!
//! One `Serialize` per shape: the file sink writes a proposal as DataHub's file format
//! reads it (`"aspect": {"json": {...}}`), the REST sink wraps the same aspect as GMS's
//! Rest.li endpoint wants it (`"aspect": {"value": "<json>", "contentType": ...}`).

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

/// `{time, actor}`; DataHub's default actor when the source knows none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditStamp {
    pub time: i64,
    pub actor: String,
}

impl AuditStamp {
    pub fn at(time: i64) -> Self {
        Self {
            time,
            actor: "urn:li:corpuser:datahub".to_owned(),
        }
    }
}

impl Default for AuditStamp {
    fn default() -> Self {
        Self {
            time: 0,
            actor: "urn:li:corpuser:unknown".to_owned(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeAuditStamps {
    pub created: AuditStamp,
    pub last_modified: AuditStamp,
}

/// `{time}`: DataHub's `TimeStamp` (datasetProperties, containerProperties).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct TimeStamp {
    pub time: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Edge {
    pub source_urn: String,
    pub destination_urn: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Status {
    pub removed: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DashboardInfo {
    pub custom_properties: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
    pub title: String,
    pub description: String,
    pub charts: Vec<String>,
    pub datasets: Vec<String>,
    pub dashboards: Vec<Edge>,
    pub last_modified: ChangeAuditStamps,
}

/// DataHub's `ChartType` (a subset: what Sigma's visualisations map to).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ChartType {
    Bar,
    Pie,
    Scatter,
    Table,
    Text,
    Line,
    Area,
    Histogram,
    BoxPlot,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ChartInfo {
    pub custom_properties: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
    pub title: String,
    pub description: String,
    pub last_modified: ChangeAuditStamps,
    /// The datasets the chart reads (DataHub's Sigma source fills `inputs` too).
    pub inputs: Vec<String>,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub chart_type: Option<ChartType>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DatasetProperties {
    pub custom_properties: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qualified_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<TimeStamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<TimeStamp>,
    pub tags: Vec<String>,
}

/// DataHub's `SchemaFieldDataType` union members this connector uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Boolean,
    Number,
    String,
    Date,
    Time,
    Null,
}

impl FieldType {
    /// From a Sigma column type (`number`, `text`, `boolean`, `datetime`, ...).
    pub fn from_sigma(sigma: &str) -> Self {
        match sigma.to_ascii_lowercase().as_str() {
            "number" | "integer" | "float" | "decimal" => FieldType::Number,
            "text" | "string" | "varchar" => FieldType::String,
            "boolean" | "logical" | "bool" => FieldType::Boolean,
            "date" => FieldType::Date,
            "datetime" | "timestamp" | "time" => FieldType::Time,
            _ => FieldType::Null,
        }
    }

    fn class(self) -> &'static str {
        match self {
            FieldType::Boolean => "com.linkedin.schema.BooleanType",
            FieldType::Number => "com.linkedin.schema.NumberType",
            FieldType::String => "com.linkedin.schema.StringType",
            FieldType::Date => "com.linkedin.schema.DateType",
            FieldType::Time => "com.linkedin.schema.TimeType",
            FieldType::Null => "com.linkedin.schema.NullType",
        }
    }
}

impl Serialize for FieldType {
    /// `{"type": {"com.linkedin.schema.NumberType": {}}}`: a Pegasus union in JSON.
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut member = serde_json::Map::new();
        member.insert(self.class().to_owned(), Value::Object(Default::default()));
        let mut outer = serde_json::Map::new();
        outer.insert("type".to_owned(), Value::Object(member));
        outer.serialize(serializer)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaField {
    pub field_path: String,
    pub nullable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(rename = "type")]
    pub field_type: FieldType,
    pub native_data_type: String,
    pub recursive: bool,
    pub is_part_of_key: bool,
}

impl SchemaField {
    pub fn new(field_path: String, sigma_type: Option<&str>, description: Option<String>) -> Self {
        let native = sigma_type.unwrap_or("unknown");
        Self {
            field_path,
            nullable: true,
            description,
            field_type: FieldType::from_sigma(native),
            native_data_type: native.to_owned(),
            recursive: false,
            is_part_of_key: false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaMetadata {
    pub schema_name: String,
    pub platform: String,
    pub version: i64,
    pub hash: String,
    /// Always `OtherSchema` with an empty raw schema: Sigma has no schema document.
    pub platform_schema: OtherSchema,
    pub fields: Vec<SchemaField>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OtherSchema;

impl Serialize for OtherSchema {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({"com.linkedin.schema.OtherSchema": {"rawSchema": ""}})
            .serialize(serializer)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LineageType {
    Copy,
    Transformed,
    View,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Upstream {
    pub audit_stamp: AuditStamp,
    pub dataset: String,
    #[serde(rename = "type")]
    pub lineage_type: LineageType,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FineGrainedLineage {
    /// Always `FIELD_SET`.
    pub upstream_type: &'static str,
    pub upstreams: Vec<String>,
    /// Always `FIELD`: one downstream column per entry.
    pub downstream_type: &'static str,
    pub downstreams: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub transform_operation: Option<String>,
    pub confidence_score: f32,
}

impl FineGrainedLineage {
    pub fn field(upstreams: Vec<String>, downstream: String, formula: Option<String>) -> Self {
        Self {
            upstream_type: "FIELD_SET",
            upstreams,
            downstream_type: "FIELD",
            downstreams: vec![downstream],
            transform_operation: formula,
            confidence_score: 1.0,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpstreamLineage {
    pub upstreams: Vec<Upstream>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fine_grained_lineages: Vec<FineGrainedLineage>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InputField {
    pub schema_field_urn: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_field: Option<SchemaField>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputFields {
    pub fields: Vec<InputField>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Owner {
    pub owner: String,
    /// DataHub's `OwnershipType`; `DATAOWNER` as DataHub's Sigma source writes.
    #[serde(rename = "type")]
    pub owner_type: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Ownership {
    pub owners: Vec<Owner>,
    pub last_modified: AuditStamp,
}

impl Ownership {
    pub fn data_owners(urns: impl IntoIterator<Item = String>) -> Self {
        Self {
            owners: urns
                .into_iter()
                .map(|owner| Owner {
                    owner,
                    owner_type: "DATAOWNER",
                })
                .collect(),
            last_modified: AuditStamp::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagAssociation {
    pub tag: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GlobalTags {
    pub tags: Vec<TagAssociation>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Container {
    pub container: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerProperties {
    pub custom_properties: BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub external_url: Option<String>,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<TimeStamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<TimeStamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SubTypes {
    pub type_names: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataPlatformInstance {
    pub platform: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrowsePathEntry {
    pub id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urn: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BrowsePathsV2 {
    pub path: Vec<BrowsePathEntry>,
}

/// DataHub's `deprecation`: how a retired Sigma dataset shows as retired.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deprecation {
    pub deprecated: bool,
    pub note: String,
    pub actor: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

/// One aspect; its DataHub name comes from the variant.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Aspect {
    Status(Status),
    DashboardInfo(DashboardInfo),
    ChartInfo(ChartInfo),
    DatasetProperties(DatasetProperties),
    SchemaMetadata(SchemaMetadata),
    UpstreamLineage(UpstreamLineage),
    InputFields(InputFields),
    Ownership(Ownership),
    GlobalTags(GlobalTags),
    Container(Container),
    ContainerProperties(ContainerProperties),
    SubTypes(SubTypes),
    DataPlatformInstance(DataPlatformInstance),
    BrowsePathsV2(BrowsePathsV2),
    Deprecation(Deprecation),
}

impl Aspect {
    /// DataHub's aspect name.
    pub fn name(&self) -> &'static str {
        match self {
            Aspect::Status(_) => "status",
            Aspect::DashboardInfo(_) => "dashboardInfo",
            Aspect::ChartInfo(_) => "chartInfo",
            Aspect::DatasetProperties(_) => "datasetProperties",
            Aspect::SchemaMetadata(_) => "schemaMetadata",
            Aspect::UpstreamLineage(_) => "upstreamLineage",
            Aspect::InputFields(_) => "inputFields",
            Aspect::Ownership(_) => "ownership",
            Aspect::GlobalTags(_) => "globalTags",
            Aspect::Container(_) => "container",
            Aspect::ContainerProperties(_) => "containerProperties",
            Aspect::SubTypes(_) => "subTypes",
            Aspect::DataPlatformInstance(_) => "dataPlatformInstance",
            Aspect::BrowsePathsV2(_) => "browsePathsV2",
            Aspect::Deprecation(_) => "deprecation",
        }
    }
}

/// One metadata change proposal: an `UPSERT` of one aspect of one entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Mcp {
    pub entity_urn: String,
    pub aspect: Aspect,
}

impl Aspect {
    /// `subTypes` with one type name.
    pub fn sub_type(name: impl Into<String>) -> Self {
        Aspect::SubTypes(SubTypes {
            type_names: vec![name.into()],
        })
    }

    /// `status {removed: false}`: the entity is there.
    pub fn alive() -> Self {
        Aspect::Status(Status { removed: false })
    }
}

impl Mcp {
    pub fn new(entity_urn: impl Into<String>, aspect: Aspect) -> Self {
        Self {
            entity_urn: entity_urn.into(),
            aspect,
        }
    }

    /// The entity type, read from the URN (`urn:li:<type>:...`), as DataHub does.
    pub fn entity_type(&self) -> &str {
        self.entity_urn
            .strip_prefix("urn:li:")
            .and_then(|rest| rest.split(':').next())
            .unwrap_or("")
    }

    /// As DataHub's file format holds it: `"aspect": {"json": {...}}`.
    pub fn file_form(&self) -> FileForm<'_> {
        FileForm(self)
    }

    /// As GMS's Rest.li `ingestProposal` takes it: the aspect as a JSON string.
    pub fn rest_form(&self) -> Result<Value, serde_json::Error> {
        Ok(serde_json::json!({
            "entityType": self.entity_type(),
            "entityUrn": self.entity_urn,
            "changeType": "UPSERT",
            "aspectName": self.aspect.name(),
            "aspect": {
                "value": serde_json::to_string(&self.aspect)?,
                "contentType": "application/json",
            },
        }))
    }
}

/// A proposal in DataHub's file format.
pub struct FileForm<'a>(&'a Mcp);

impl Serialize for FileForm<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mcp = self.0;
        let mut map = serializer.serialize_map(Some(5))?;
        map.serialize_entry("entityType", mcp.entity_type())?;
        map.serialize_entry("entityUrn", &mcp.entity_urn)?;
        map.serialize_entry("changeType", "UPSERT")?;
        map.serialize_entry("aspectName", mcp.aspect.name())?;
        map.serialize_entry("aspect", &AspectJson(&mcp.aspect))?;
        map.end()
    }
}

struct AspectJson<'a>(&'a Aspect);

impl Serialize for AspectJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(1))?;
        map.serialize_entry("json", self.0)?;
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_and_rest_forms_carry_the_same_aspect() {
        let mcp = Mcp::new(
            "urn:li:dashboard:(sigma,w1)",
            Aspect::Status(Status { removed: true }),
        );
        assert_eq!(mcp.entity_type(), "dashboard");
        assert_eq!(
            serde_json::to_string(&mcp.file_form()).unwrap(),
            r#"{"entityType":"dashboard","entityUrn":"urn:li:dashboard:(sigma,w1)","changeType":"UPSERT","aspectName":"status","aspect":{"json":{"removed":true}}}"#
        );
        let rest = mcp.rest_form().unwrap();
        assert_eq!(rest["aspect"]["value"], r#"{"removed":true}"#);
        assert_eq!(rest["aspect"]["contentType"], "application/json");
    }

    #[test]
    fn field_types_are_pegasus_unions() {
        let field = SchemaField::new("Amount".into(), Some("number"), None);
        let json = serde_json::to_value(&field).unwrap();
        assert_eq!(
            json["type"],
            serde_json::json!({"type": {"com.linkedin.schema.NumberType": {}}})
        );
    }
}
