//! Mapping Sigma's vocabulary onto OpenMetadata's enums.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// OpenMetadata `chartType` (`entity/data/chart.json`). Every value of the published enum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum ChartType {
    Line,
    Table,
    Bar,
    Area,
    Pie,
    Histogram,
    Scatter,
    Text,
    BoxPlot,
    Other,
}

/// Lowercase with separators removed: Sigma writes `pivot-table`, some payloads `pivotTable`
/// or `Pivot Table`; all compare equal here.
fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

fn from_vizualization(viz: &str) -> Option<ChartType> {
    Some(match normalise(viz).as_str() {
        "bar" | "column" | "stackedbar" | "groupedbar" | "horizontalbar" | "waterfall" => {
            ChartType::Bar
        }
        "line" | "stepline" => ChartType::Line,
        "area" | "stackedarea" => ChartType::Area,
        "pie" | "donut" | "doughnut" => ChartType::Pie,
        "scatter" | "scatterplot" => ChartType::Scatter,
        "box" | "boxplot" | "boxandwhisker" => ChartType::BoxPlot,
        "histogram" => ChartType::Histogram,
        "table" | "pivottable" | "pivot" | "leveltable" | "inputtable" => ChartType::Table,
        "text" => ChartType::Text,
        // OpenMetadata has no KPI, gauge, funnel, sankey, map or combo type.
        "kpi" | "gauge" | "funnel" | "sankey" | "combo" | "map" | "regionmap" | "pointmap"
        | "geographymap" | "geomap" => ChartType::Other,
        _ => return None,
    })
}

/// The OpenMetadata chart type of a Sigma workbook element. Sigma's `vizualizationType`
/// (its spelling) wins when it is known; otherwise the element type decides (tables of every
/// kind are `Table`, text is `Text`); anything else is `Other`.
pub fn chart_type_from_sigma(vizualization_type: Option<&str>, element_type: &str) -> ChartType {
    if let Some(t) = vizualization_type.and_then(from_vizualization) {
        return t;
    }
    match normalise(element_type).as_str() {
        "table" | "pivottable" | "inputtable" | "leveltable" | "inputstable" => ChartType::Table,
        "text" => ChartType::Text,
        _ => ChartType::Other,
    }
}

/// The OpenMetadata column `dataType` values this connector emits: a subset of
/// `entity/data/table.json#/definitions/dataType` (the conformance test checks it stays one).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum DataType {
    Number,
    Tinyint,
    Smallint,
    Int,
    Bigint,
    Float,
    Double,
    Decimal,
    Numeric,
    Timestamp,
    Timestampz,
    Time,
    Date,
    Datetime,
    Interval,
    String,
    Text,
    Char,
    Varchar,
    Boolean,
    Binary,
    Array,
    Map,
    Struct,
    Geography,
    Json,
    Variant,
    Uuid,
    Error,
    Unknown,
}

/// Maps a Sigma (or warehouse SQL) column type onto OpenMetadata's `dataType`. Parameters
/// (`varchar(20)`, `number(38,0)`) and case are ignored; unknown types are `UNKNOWN`, never
/// an error. Use the raw string as `dataTypeDisplay` so nothing is lost.
pub fn data_type_from_sigma(raw: &str) -> DataType {
    let base = raw.split(['(', '<', '[']).next().unwrap_or("").trim();
    let base = base
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    match base.as_str() {
        "text" | "string" => DataType::String,
        "varchar" | "nvarchar" | "character varying" => DataType::Varchar,
        "char" | "nchar" | "character" => DataType::Char,
        "number" => DataType::Number,
        "integer" | "int" | "int4" => DataType::Int,
        "bigint" | "int8" | "long" => DataType::Bigint,
        "smallint" | "int2" => DataType::Smallint,
        "tinyint" | "byteint" => DataType::Tinyint,
        "float" | "float4" | "real" => DataType::Float,
        "double" | "double precision" | "float8" => DataType::Double,
        "decimal" => DataType::Decimal,
        "numeric" => DataType::Numeric,
        "boolean" | "bool" | "logical" => DataType::Boolean,
        "date" => DataType::Date,
        "datetime" => DataType::Datetime,
        "timestamp" | "timestamp_ntz" | "timestamp without time zone" => DataType::Timestamp,
        "timestamp_tz" | "timestamp_ltz" | "timestamptz" | "timestamp with time zone" => {
            DataType::Timestampz
        }
        "time" => DataType::Time,
        "interval" => DataType::Interval,
        "variant" => DataType::Variant,
        "json" | "jsonb" | "object" => DataType::Json,
        "array" | "list" => DataType::Array,
        "map" => DataType::Map,
        "struct" | "record" => DataType::Struct,
        "geography" | "geo" => DataType::Geography,
        "binary" | "varbinary" | "bytes" => DataType::Binary,
        "uuid" => DataType::Uuid,
        "error" => DataType::Error,
        _ => DataType::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalise_ignores_case_and_separators() {
        assert_eq!(normalise("Pivot-Table"), "pivottable");
        assert_eq!(normalise("box_plot"), "boxplot");
    }
}
