//! JSON Schemas generated from the record types, committed under
//! `tests/data/openmetadata/` and kept in step by a test.

use schemars::JsonSchema;
use schemars::generate::SchemaSettings;
use serde_json::Value;

use super::{
    CreateChartRequest, CreateDashboardDataModelRequest, CreateDashboardRequest,
    CreateDashboardServiceRequest, DeleteRef, LineageEdge, RecordLine,
};

fn schema_of<T: JsonSchema>() -> Value {
    let schema = SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>();
    crate::config::schema::finish(schema)
}

/// Makes one schema.
pub type SchemaFn = fn() -> Value;

/// The committed file name of each schema, and its generator.
pub const SCHEMAS: [(&str, SchemaFn); 7] = [
    ("record.json", schema_of::<RecordLine>),
    (
        "createDashboardService.json",
        schema_of::<CreateDashboardServiceRequest>,
    ),
    ("createChart.json", schema_of::<CreateChartRequest>),
    (
        "createDashboardDataModel.json",
        schema_of::<CreateDashboardDataModelRequest>,
    ),
    ("createDashboard.json", schema_of::<CreateDashboardRequest>),
    ("lineageEdge.json", schema_of::<LineageEdge>),
    ("delete.json", schema_of::<DeleteRef>),
];
