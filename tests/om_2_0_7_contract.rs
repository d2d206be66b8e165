//! The OpenMetadata 2.0.7 contract: our generated workflow schema accepts every field of
//! 2.0.7's `DashboardServiceMetadataPipeline` and `SigmaConnection` with the same type and
//! default, every key of its workflow's top level, source and workflowConfig, and a workflow
//! exactly as 2.0.7 serialises it loads unchanged.
//!
//! The 2.0.7 side lives in `tests/data/openmetadata/2.0.7/`, exported from the package's own
//! pydantic models by `python/tools/export_om_2_0_7.py`; the Python tests (`python/ci.sh`) run
//! that exporter with `--check` against the installed 2.0.7, so the copies cannot drift.

use std::path::Path;

use serde_json::{Map, Value};
use sigma_connector::config::{self, load_workflow_str};

fn om(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/openmetadata/2.0.7")
        .join(name);
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

/// What a property schema accepts, with `$ref`s resolved and pydantic's `null` branch of
/// optional fields dropped (in our files optional means "may be omitted"; see
/// docs/architecture.md, config).
#[derive(Debug, PartialEq)]
enum Shape {
    Scalar(String),
    Enum(Vec<Value>),
    Array(Box<Shape>),
    Object(Map<String, Value>),
    Map,
}

fn shape(schema: &Value, defs: &Value) -> Shape {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        let name = r.rsplit('/').next().unwrap();
        return shape(&defs[name], defs);
    }
    if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
        let non_null: Vec<&Value> = any.iter().filter(|s| s["type"] != "null").collect();
        assert_eq!(non_null.len(), 1, "unexpected union {schema}");
        return shape(non_null[0], defs);
    }
    if let Some(values) = schema.get("enum").and_then(Value::as_array) {
        let mut values = values.clone();
        values.sort_by_key(Value::to_string);
        return Shape::Enum(values);
    }
    match schema["type"].as_str() {
        Some("array") => Shape::Array(Box::new(shape(&schema["items"], defs))),
        Some("object") => match schema.get("properties").and_then(Value::as_object) {
            Some(props) => Shape::Object(props.clone()),
            None => Shape::Map,
        },
        Some(t) => Shape::Scalar(t.to_owned()),
        None => panic!("no type in {schema}"),
    }
}

/// Compares every property of 2.0.7's object with ours: present, same shape, same default.
fn compare_object(
    path: &str,
    theirs: &Map<String, Value>,
    their_defs: &Value,
    ours: &Map<String, Value>,
    our_defs: &Value,
    problems: &mut Vec<String>,
) {
    for (name, their_prop) in theirs {
        let here = format!("{path}/{name}");
        let Some(our_prop) = ours.get(name) else {
            problems.push(format!("{here}: 2.0.7 has it, our schema does not"));
            continue;
        };
        let our_default = our_prop.get("default");
        if let Some(their_default) = their_prop.get("default").filter(|d| !d.is_null()) {
            if Some(their_default) != our_default {
                problems.push(format!(
                    "{here}: default {their_default} in 2.0.7, {} in ours",
                    our_default.map_or("none".into(), Value::to_string)
                ));
            }
        }
        match (shape(their_prop, their_defs), shape(our_prop, our_defs)) {
            (Shape::Object(t), Shape::Object(o)) => {
                compare_object(&here, &t, their_defs, &o, our_defs, problems)
            }
            (Shape::Array(t), Shape::Array(o)) => match (*t, *o) {
                (Shape::Object(t), Shape::Object(o)) => {
                    compare_object(&here, &t, their_defs, &o, our_defs, problems)
                }
                (t, o) if t != o => {
                    problems.push(format!("{here}: items {t:?} in 2.0.7, {o:?} in ours"))
                }
                _ => {}
            },
            (t, o) if t != o => problems.push(format!("{here}: {t:?} in 2.0.7, {o:?} in ours")),
            _ => {}
        }
    }
}

fn ours() -> Value {
    config::schema::workflow_schema()
}

fn our_def<'a>(schema: &'a Value, name: &str) -> &'a Map<String, Value> {
    schema["$defs"][name]["properties"].as_object().unwrap()
}

#[test]
fn every_dashboard_pipeline_and_sigma_connection_field_of_2_0_7_is_ours_with_its_type_and_default()
{
    let schema = ours();
    let defs = &schema["$defs"];
    let mut problems = Vec::new();
    for (file, our_name) in [
        (
            "dashboardServiceMetadataPipeline.json",
            "DashboardSourceConfig",
        ),
        ("sigmaConnection.json", "SigmaConnection"),
    ] {
        let theirs = om(file);
        compare_object(
            our_name,
            theirs["properties"].as_object().unwrap(),
            &theirs["$defs"],
            our_def(&schema, our_name),
            defs,
            &mut problems,
        );
        // We must not require what 2.0.7 lets a file leave out.
        let their_required: Vec<&Value> = theirs["required"]
            .as_array()
            .map(|r| r.iter().collect())
            .unwrap_or_default();
        for name in defs[our_name]["required"].as_array().into_iter().flatten() {
            if !their_required.contains(&name) {
                problems.push(format!("{our_name}/{name}: required by us, not by 2.0.7"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_key_of_the_2_0_7_workflow_top_level_source_and_workflow_config_is_accepted() {
    let schema = ours();
    let theirs = om("workflow.json");
    let top = schema["properties"].as_object().unwrap();
    let mut problems = Vec::new();
    for (their_name, our_props) in [
        ("OpenMetadataWorkflowConfig", top),
        ("Source", our_def(&schema, "Source")),
        ("WorkflowConfig", our_def(&schema, "WorkflowConfig")),
    ] {
        for name in theirs[their_name]["properties"].as_array().unwrap() {
            if !our_props.contains_key(name.as_str().unwrap()) {
                problems.push(format!("{their_name}/{name}: not accepted by our schema"));
            }
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn a_sigma_workflow_as_2_0_7_serialises_it_loads_unchanged() {
    let text = om("sigma-workflow.json").to_string();
    let wf = load_workflow_str(&text).expect("2.0.7's own Sigma workflow must load");
    let sc = &wf.source.source_config.config;
    assert!(sc.mark_deleted_charts && sc.include_usage);
    assert_eq!(
        wf.source
            .service_connection
            .config
            .endpoints()
            .unwrap()
            .api_base
            .as_str()
            .trim_end_matches('/'),
        "https://api.sigmacomputing.com/v2"
    );
    assert_eq!(wf.enable_streamable_logs, Some(false));
    // And with the fields 2.0.7 leaves out by default, set.
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    let config = doc
        .pointer_mut("/source/sourceConfig/config")
        .unwrap()
        .as_object_mut()
        .unwrap();
    config.insert(
        "queryParserConfig".into(),
        serde_json::json!({"type": "SqlGlot"}),
    );
    config.insert("markDeletedCharts".into(), false.into());
    config.insert("includeUsage".into(), false.into());
    config.insert(
        "lineageInformation".into(),
        serde_json::json!({"dbServicePrefixes": ["snowflake_prod.ANALYTICS"]}),
    );
    doc.as_object_mut()
        .unwrap()
        .insert("ingestionRunnerName".into(), "runner-1".into());
    let wf = load_workflow_str(&doc.to_string()).unwrap();
    let sc = &wf.source.source_config.config;
    assert!(!sc.mark_deleted_charts && !sc.include_usage);
    assert_eq!(
        sc.query_parser_config.as_ref().map(|q| q.parser_type),
        Some(config::QueryParserType::SqlGlot)
    );
}
