//! JSON Schemas generated from the config types. The committed copies under `schemas/`
//! are checked against these by a test, so they cannot drift.

use schemars::generate::SchemaSettings;
use serde_json::Value;

use super::{SigmaConnection, Workflow};

fn generator() -> schemars::SchemaGenerator {
    SchemaSettings::draft2020_12().into_generator()
}

/// `Option<T>` means "may be omitted", not "may be null". schemars writes it as
/// `anyOf [T, {type: null}]` (or `type: [t, "null"]`), and a mistake inside such an object
/// is then reported as a vague anyOf failure instead of at its own pointer; so we drop
/// the null branch everywhere.
fn drop_null_branches(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            let is_null = |v: &Value| v.get("type").is_some_and(|t| t == "null");
            if let Some(Value::Array(branches)) = map.get("anyOf") {
                if branches.len() == 2 && branches.iter().any(is_null) {
                    let keep = branches.iter().find(|b| !is_null(b)).cloned();
                    map.remove("anyOf");
                    if let Some(Value::Object(inner)) = keep {
                        for (k, v) in inner {
                            map.entry(k).or_insert(v);
                        }
                    }
                }
            }
            if map.get("default").is_some_and(Value::is_null) {
                map.remove("default");
            }
            map.values_mut().for_each(drop_null_branches);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_branches),
        _ => {}
    }
}

pub(crate) fn finish(schema: schemars::Schema) -> Value {
    let mut value = serde_json::to_value(schema).expect("a schema serialises");
    drop_null_branches(&mut value);
    value
}

/// The schema of OpenMetadata's `SigmaConnection` (with our optional extensions).
pub fn connection_schema() -> Value {
    finish(generator().into_root_schema_for::<SigmaConnection>())
}

/// The schema of the whole workflow file.
pub fn workflow_schema() -> Value {
    finish(generator().into_root_schema_for::<Workflow>())
}

/// Makes one schema.
pub type SchemaFn = fn() -> Value;

/// The committed file name of each schema, and its generator.
pub const SCHEMAS: [(&str, SchemaFn); 2] = [
    ("sigmaConnection.json", connection_schema),
    ("workflow.json", workflow_schema),
];

/// Pretty JSON with a trailing newline, as committed.
pub fn render(schema: &Value) -> String {
    let mut text = serde_json::to_string_pretty(schema).expect("a schema serialises");
    text.push('\n');
    text
}
