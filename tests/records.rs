//! The records contract: Sigma vocabulary maps onto OpenMetadata's enums, names and FQNs are
//! valid OpenMetadata names, the committed schemas match the types, every emitted field exists
//! in OpenMetadata's published request schemas, and the sinks write what they should (the file
//! sink atomically).

mod support;

use std::collections::HashSet;
use std::path::Path;

use serde_json::{Value, json};
use sigma_connector::config;
use sigma_connector::records::{
    self, COLUMN_NAME_MAX, ChartType, Column, ColumnLineage, CreateChartRequest,
    CreateDashboardDataModelRequest, CreateDashboardRequest, CreateDashboardServiceRequest,
    DashboardServiceType, DataModelType, DataType, DeleteRef, ENTITY_NAME_MAX, Entity, EntityRef,
    EntityReference, EntityType, LineageEdge, Record, RecordKind, Refs, TagLabel,
    chart_type_from_sigma, column_name, data_type_from_sigma, entity_name, fqn, om_len,
};
use sigma_connector::sandbox::{Knobs, OrgSource};
use support::cli::{assert_exit, file_sink, ingest, workflow_file};
use support::source::sandbox;

const SERVICE: &str = "sigma_svc";

fn data_dir() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/openmetadata")
}

// ---------------------------------------------------------------- samples

fn owner_ref() -> EntityReference {
    EntityReference {
        id: "6b1f7c7e-2f7e-4c55-9b0b-3f7a5a0b9c11".into(),
        entity_type: "user".into(),
        name: Some("ada".into()),
        fully_qualified_name: Some("ada".into()),
    }
}

fn chart(full: bool) -> CreateChartRequest {
    CreateChartRequest {
        name: "wb123_el456".into(),
        display_name: "Revenue by Region".into(),
        description: full.then(|| "Quarterly *revenue*".into()),
        chart_type: ChartType::Bar,
        source_url: "https://app.sigmacomputing.com/acme/workbook/wb123?:nodeId=el456".into(),
        service: SERVICE.into(),
        tags: if full {
            vec![TagLabel::classification("Sigma.Certified")]
        } else {
            vec![]
        },
        owners: if full { vec![owner_ref()] } else { vec![] },
    }
}

fn data_model(full: bool) -> CreateDashboardDataModelRequest {
    let mut nested = Column::from_sigma("Address", "object");
    nested.children = vec![Column::from_sigma("City", "text")];
    nested.description = Some("where".into());
    CreateDashboardDataModelRequest {
        name: "dm_7f3a".into(),
        display_name: "Orders".into(),
        description: full.then(|| "All orders".into()),
        data_model_type: DataModelType::SigmaDataModel,
        service_type: DashboardServiceType::Sigma,
        columns: if full {
            vec![
                Column::from_sigma("Order Id", "number"),
                Column::from_sigma(&"x".repeat(300), "varchar(20)"),
                nested,
            ]
        } else {
            vec![]
        },
        sql: full.then(|| "select * from orders".into()),
        project: full.then(|| "Finance".into()),
        service: SERVICE.into(),
        tags: if full {
            vec![TagLabel::classification("Sigma.Certified")]
        } else {
            vec![]
        },
        owners: if full { vec![owner_ref()] } else { vec![] },
    }
}

fn dashboard(full: bool) -> CreateDashboardRequest {
    CreateDashboardRequest {
        name: "wb123".into(),
        display_name: "Sales".into(),
        dashboard_type: full.then_some(sigma_connector::records::DashboardType::Report),
        description: full.then(|| "Sales workbook".into()),
        source_url: "https://app.sigmacomputing.com/acme/workbook/wb123".into(),
        project: full.then(|| "Finance".into()),
        charts: if full {
            vec![fqn::chart(SERVICE, "wb123_el456")]
        } else {
            vec![]
        },
        data_models: if full {
            vec![fqn::data_model(SERVICE, "dm_7f3a")]
        } else {
            vec![]
        },
        service: SERVICE.into(),
        tags: if full {
            vec![TagLabel::classification("Sigma.Certified")]
        } else {
            vec![]
        },
        owners: if full { vec![owner_ref()] } else { vec![] },
    }
}

fn service(full: bool) -> CreateDashboardServiceRequest {
    let mut s = CreateDashboardServiceRequest::new(SERVICE);
    if full {
        s.display_name = Some("Sigma (prod)".into());
        s.description = Some("Sigma Computing".into());
    }
    s
}

fn lineage(full: bool) -> LineageEdge {
    let table = fqn::table("snowflake_prod", "ANALYTICS", "PUBLIC", "ORDERS");
    let model = fqn::data_model(SERVICE, "dm_7f3a");
    let mut edge = LineageEdge::new(
        EntityRef::new(EntityType::Table, &table),
        EntityRef::new(EntityType::DashboardDataModel, &model),
    );
    if full {
        edge.columns = vec![ColumnLineage {
            from_columns: vec![fqn::column(&table, "ORDER_ID")],
            to_column: fqn::column(&model, "Order Id"),
            function: Some("[ORDERS/ORDER_ID]".into()),
        }];
        edge.description = Some("Orders feeds the data model".into());
        edge.sql_query = Some("select ORDER_ID from ORDERS".into());
    }
    edge
}

fn delete() -> DeleteRef {
    DeleteRef {
        entity_type: EntityType::Chart,
        fqn: fqn::chart(SERVICE, "old_chart"),
    }
}

fn records(full: bool) -> Vec<Record> {
    let mut out = vec![
        Record::new(Entity::DashboardService(service(full))),
        Record::new(Entity::Chart(chart(full))),
        Record::new(Entity::DataModel(data_model(full))),
        Record::new(Entity::Dashboard(dashboard(full))),
        Record::new(Entity::Lineage(lineage(full))),
        Record::new(Entity::Delete(delete())),
    ];
    if full {
        for r in &mut out[1..4] {
            r.refs.owners = vec!["ada@example.com".into()];
        }
        out[2].refs.source_url =
            Some("https://app.sigmacomputing.com/acme/data-model/dm_7f3a".into());
    }
    out
}

fn all_samples() -> Vec<Record> {
    let mut v = records(true);
    v.extend(records(false));
    v
}

// ---------------------------------------------------------------- chart types

#[test]
fn chart_type_mapping_table() {
    let table: &[(Option<&str>, &str, ChartType)] = &[
        (Some("bar"), "visualization", ChartType::Bar),
        (Some("Bar"), "visualization", ChartType::Bar),
        (Some("stacked-bar"), "visualization", ChartType::Bar),
        (Some("waterfall"), "visualization", ChartType::Bar),
        (Some("line"), "visualization", ChartType::Line),
        (Some("area"), "visualization", ChartType::Area),
        (Some("pie"), "visualization", ChartType::Pie),
        (Some("donut"), "visualization", ChartType::Pie),
        (Some("scatter"), "visualization", ChartType::Scatter),
        (Some("box"), "visualization", ChartType::BoxPlot),
        (Some("box-plot"), "visualization", ChartType::BoxPlot),
        (Some("histogram"), "visualization", ChartType::Histogram),
        (Some("table"), "visualization", ChartType::Table),
        (Some("pivot-table"), "visualization", ChartType::Table),
        (Some("level table"), "visualization", ChartType::Table),
        (Some("kpi"), "visualization", ChartType::Other),
        (Some("gauge"), "visualization", ChartType::Other),
        (Some("funnel"), "visualization", ChartType::Other),
        (Some("sankey"), "visualization", ChartType::Other),
        (Some("combo"), "visualization", ChartType::Other),
        (Some("region-map"), "visualization", ChartType::Other),
        (Some("point map"), "visualization", ChartType::Other),
        (Some("geography-map"), "visualization", ChartType::Other),
        (Some("something-new"), "visualization", ChartType::Other),
        (Some("something-new"), "table", ChartType::Table),
        (None, "table", ChartType::Table),
        (None, "pivot-table", ChartType::Table),
        (None, "input-table", ChartType::Table),
        (None, "text", ChartType::Text),
        (None, "visualization", ChartType::Other),
        (None, "control", ChartType::Other),
        (None, "", ChartType::Other),
    ];
    for (viz, element, expected) in table {
        assert_eq!(
            chart_type_from_sigma(*viz, element),
            *expected,
            "vizualizationType {viz:?}, element type {element:?}"
        );
    }
}

#[test]
fn sigma_column_type_mapping_table() {
    let table = [
        ("text", DataType::String),
        ("string", DataType::String),
        ("VARCHAR(20)", DataType::Varchar),
        ("char", DataType::Char),
        ("number", DataType::Number),
        ("NUMBER(38,0)", DataType::Number),
        ("integer", DataType::Int),
        ("bigint", DataType::Bigint),
        ("float", DataType::Float),
        ("double precision", DataType::Double),
        ("decimal(10, 2)", DataType::Decimal),
        ("boolean", DataType::Boolean),
        ("date", DataType::Date),
        ("datetime", DataType::Datetime),
        ("timestamp", DataType::Timestamp),
        ("TIMESTAMP_NTZ", DataType::Timestamp),
        ("timestamp_tz", DataType::Timestampz),
        ("variant", DataType::Variant),
        ("json", DataType::Json),
        ("array<int>", DataType::Array),
        ("geography", DataType::Geography),
        ("error", DataType::Error),
        ("", DataType::Unknown),
        ("hyperloglog", DataType::Unknown),
    ];
    for (raw, expected) in table {
        assert_eq!(data_type_from_sigma(raw), expected, "{raw:?}");
    }
    let c = Column::from_sigma("Amount", " Decimal(10,2) ");
    assert_eq!(c.data_type, DataType::Decimal);
    assert_eq!(c.data_type_display, "decimal(10,2)");
    assert_eq!(Column::from_sigma("X", "").data_type_display, "unknown");
}

// ---------------------------------------------------------------- names

#[test]
fn entity_names_lose_dots_quotes_double_colons_and_control_characters() {
    assert_eq!(entity_name("wb123_el456"), "wb123_el456");
    assert_eq!(entity_name("Sales v2.1"), "Sales v2_1");
    assert_eq!(entity_name("say \"hi\""), "say _hi_");
    assert_eq!(entity_name("a::b"), "a_:b");
    assert!(!entity_name("a:::::b").contains("::"));
    assert_eq!(entity_name("line\nbreak\t"), "line break");
    assert_eq!(entity_name("  padded  "), "padded");
    assert_eq!(entity_name(""), "_");
    assert_eq!(entity_name(" . "), "_");
    // Unicode is kept as it is.
    assert_eq!(
        entity_name("Umsätze – Übersicht 📈"),
        "Umsätze – Übersicht 📈"
    );
}

#[test]
fn long_entity_names_are_cut_with_a_stable_distinct_suffix() {
    let exact = "a".repeat(ENTITY_NAME_MAX);
    assert_eq!(entity_name(&exact), exact, "256 fits as is");

    let long_a = format!("{}{}", "a".repeat(300), "tail-one");
    let long_b = format!("{}{}", "a".repeat(300), "tail-two");
    let (a, b) = (entity_name(&long_a), entity_name(&long_b));
    assert_eq!(om_len(&a), ENTITY_NAME_MAX);
    assert_ne!(a, b, "names sharing a long prefix stay distinct");
    assert_eq!(a, entity_name(&long_a), "stable across calls");
    assert!(a.starts_with(&"a".repeat(200)));
    let suffix = &a[a.len() - 9..];
    assert!(suffix.starts_with('_') && suffix[1..].chars().all(|c| c.is_ascii_hexdigit()));

    // Measured in UTF-16 units (the Java server's String length), cut on a char boundary.
    let emoji = "📈".repeat(200);
    let cut = entity_name(&emoji);
    assert!(om_len(&cut) <= ENTITY_NAME_MAX);
    assert!(cut.chars().count() < 200);
    let cjk = "売上".repeat(200);
    assert!(om_len(&entity_name(&cjk)) <= ENTITY_NAME_MAX);
}

#[test]
fn column_names_keep_dots_and_are_truncated_not_rejected() {
    assert_eq!(column_name("Revenue (USD)"), "Revenue (USD)");
    assert_eq!(column_name("a.b"), "a.b");
    assert_eq!(column_name("a::b"), "a_:b");

    let raw = "Q8 - Was the communication clear? ".repeat(12);
    let c = Column::from_sigma(&raw, "text");
    assert!(om_len(&c.name) <= COLUMN_NAME_MAX);
    assert_eq!(
        c.display_name.as_deref(),
        Some(raw.as_str()),
        "the full name is kept"
    );
    let other = Column::from_sigma(&format!("{raw}!"), "text");
    assert_ne!(c.name, other.name);

    let short = Column::from_sigma("Order Id", "number");
    assert_eq!(short.name, "Order Id");
    assert_eq!(
        short.display_name, None,
        "no displayName when nothing changed"
    );
}

#[test]
fn fqns_follow_openmetadata_quoting() {
    assert_eq!(fqn::dashboard(SERVICE, "wb123"), "sigma_svc.wb123");
    assert_eq!(fqn::chart(SERVICE, "wb123_el456"), "sigma_svc.wb123_el456");
    assert_eq!(fqn::data_model(SERVICE, "dm1"), "sigma_svc.model.dm1");
    assert_eq!(
        fqn::table("snow", "DB", "PUBLIC", "ORDERS"),
        "snow.DB.PUBLIC.ORDERS"
    );
    assert_eq!(
        fqn::table("snow", "my.db", "PUBLIC", "v1.2"),
        "snow.\"my.db\".PUBLIC.\"v1.2\""
    );
    assert_eq!(fqn::column("snow.DB.S.T", "a.b"), "snow.DB.S.T.\"a.b\"");
    assert_eq!(fqn::column("snow.DB.S.T", "a b"), "snow.DB.S.T.a b");
    // Idempotent on already-quoted parts; needless quotes are dropped, as the server does.
    assert_eq!(fqn::quote("\"a.b\""), "\"a.b\"");
    assert_eq!(fqn::quote("\"ab\""), "ab");
    assert_eq!(fqn::quote("plain"), "plain");
    // A name with an inner quote is left alone (the server's quoteName does the same).
    assert_eq!(fqn::quote("a\"b.c"), "a\"b.c");
    assert_eq!(
        fqn::split("snow.\"my.db\".PUBLIC.\"v1.2\""),
        ["snow", "my.db", "PUBLIC", "v1.2"]
    );
    // Names we mint never need quoting.
    let minted = entity_name("Sales v2.1 \"final\"");
    assert_eq!(fqn::chart(SERVICE, &minted), format!("{SERVICE}.{minted}"));
    assert_eq!(fqn::split(&fqn::chart(SERVICE, &minted)).len(), 2);
}

// ---------------------------------------------------------------- records on the wire

#[test]
fn records_serialise_as_kind_entity_refs_and_round_trip() {
    for record in all_samples() {
        let value = serde_json::to_value(&record).unwrap();
        let obj = value.as_object().unwrap();
        let mut keys = vec!["kind", "fqn", "entity"];
        if !record.refs.is_empty() {
            keys.push("refs");
        }
        assert_eq!(obj.keys().collect::<Vec<_>>(), keys, "{value}");
        assert_eq!(obj["fqn"], record.fqn().as_str());
        assert_eq!(obj["kind"], record.kind().as_str());
        let back: Record = serde_json::from_value(value.clone()).unwrap();
        assert_eq!(back, record);
    }
    let r = &records(false)[1];
    assert_eq!(
        serde_json::to_value(&r.refs).unwrap(),
        json!({}),
        "empty refs fields are skipped"
    );
    assert_eq!(r.kind(), RecordKind::Chart);
    assert!(Refs::default().is_empty());
}

#[test]
fn the_service_record_never_carries_the_secret() {
    let text =
        serde_json::to_string(&Record::new(Entity::DashboardService(service(true)))).unwrap();
    assert!(!text.contains("s3cr3t-value"), "{text}");
    assert!(!text.contains("clientSecret"), "{text}");
    assert!(text.contains("\"serviceType\":\"Sigma\""));
    // OpenMetadata's SigmaConnection requires clientSecret: a connection without it would
    // not validate, so the record has none.
    assert!(!text.contains("connection"), "{text}");
}

#[test]
fn committed_record_schemas_match_the_types() {
    for (file, make) in records::schema::SCHEMAS {
        let expected = config::schema::render(&make());
        let path = data_dir().join(file);
        if std::env::var_os("UPDATE_SCHEMAS").is_some() {
            std::fs::write(&path, &expected).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == expected,
            "tests/data/openmetadata/{file} is out of date with the Rust types: run `UPDATE_SCHEMAS=1 cargo test --test records` and commit"
        );
    }
}

fn validator(schema: &Value) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .expect("a valid JSON Schema")
}

fn problems(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

fn our_schema(file: &str) -> Value {
    records::schema::SCHEMAS
        .iter()
        .find(|(f, _)| *f == file)
        .map(|(_, make)| make())
        .unwrap()
}

fn entity_schema_file(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::DashboardService => "createDashboardService.json",
        RecordKind::Chart => "createChart.json",
        RecordKind::DataModel => "createDashboardDataModel.json",
        RecordKind::Dashboard => "createDashboard.json",
        RecordKind::Lineage => "lineageEdge.json",
        RecordKind::Delete => "delete.json",
    }
}

#[test]
fn sample_records_validate_against_the_generated_schemas() {
    let whole = validator(&our_schema("record.json"));
    for record in all_samples() {
        let value = serde_json::to_value(&record).unwrap();
        assert_eq!(problems(&whole, &value), Vec::<String>::new(), "{value}");
        let entity = validator(&our_schema(entity_schema_file(record.kind())));
        assert_eq!(problems(&entity, &value["entity"]), Vec::<String>::new());
    }
    // And the schema does reject what OpenMetadata would.
    let mut bad = serde_json::to_value(&records(false)[1]).unwrap();
    bad["entity"]["name"] = json!("a::b");
    assert!(!whole.is_valid(&bad));
    bad["entity"]["name"] = json!("x".repeat(257));
    assert!(!whole.is_valid(&bad));
    let mut bad = serde_json::to_value(&records(false)[1]).unwrap();
    bad["kind"] = json!("dashboard");
    assert!(!whole.is_valid(&bad), "kind must agree with the entity");
}

// ---------------------------------------------------------------- OpenMetadata conformance

fn om() -> Value {
    serde_json::from_str(&std::fs::read_to_string(data_dir().join("om-fields.json")).unwrap())
        .unwrap()
}

/// One of OpenMetadata's request shapes (or a `$defs` entry) as a standalone schema.
fn om_schema(om: &Value, pointer: &str) -> Value {
    let mut schema = om
        .pointer(pointer)
        .unwrap_or_else(|| panic!("{pointer}"))
        .clone();
    schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
    schema["$defs"] = om["$defs"].clone();
    schema
}

fn om_request(kind: RecordKind) -> Option<&'static str> {
    Some(match kind {
        RecordKind::DashboardService => "/requests/CreateDashboardServiceRequest",
        RecordKind::Chart => "/requests/CreateChartRequest",
        RecordKind::DataModel => "/requests/CreateDashboardDataModelRequest",
        RecordKind::Dashboard => "/requests/CreateDashboardRequest",
        RecordKind::Lineage | RecordKind::Delete => return None,
    })
}

#[test]
fn sample_entities_are_valid_openmetadata_requests() {
    let om = om();
    for record in all_samples() {
        let value = serde_json::to_value(&record).unwrap();
        match om_request(record.kind()) {
            Some(pointer) => {
                let v = validator(&om_schema(&om, pointer));
                assert_eq!(
                    problems(&v, &value["entity"]),
                    Vec::<String>::new(),
                    "{pointer}"
                );
            }
            None => {
                let Entity::Lineage(edge) = &record.entity else {
                    continue;
                };
                let add = edge.to_add_lineage(
                    "0b9a1c52-51f4-4a43-a1f4-3b58e8f0e7a1",
                    "a4d3a8a4-7c2b-4e3e-9d1e-2e5b7f6c1d20",
                );
                let v = validator(&om_schema(&om, "/requests/AddLineageRequest"));
                assert_eq!(problems(&v, &add), Vec::<String>::new(), "{add}");
                assert_eq!(add["edge"]["fromEntity"]["type"], "table");
                assert_eq!(add["edge"]["toEntity"]["type"], "dashboardDataModel");
                assert_eq!(add["edge"]["lineageDetails"]["source"], "DashboardLineage");
            }
        }
    }
}

fn resolve<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    match schema.get("$ref").and_then(Value::as_str) {
        Some(r) => resolve(root, root.pointer(r.trim_start_matches('#')).unwrap()),
        None => schema,
    }
}

fn json_type(schema: &Value) -> Option<&str> {
    schema.get("type").and_then(Value::as_str)
}

fn enum_values(schema: &Value) -> Option<Vec<&str>> {
    schema
        .get("enum")
        .and_then(Value::as_array)
        .map(|v| v.iter().filter_map(Value::as_str).collect())
}

/// Every property our schema can emit exists in OpenMetadata's, with the same JSON type and
/// (for enums) a subset of its values; every field OpenMetadata requires we require too.
/// Recurses into array items and nested objects.
fn assert_fits(
    path: &str,
    ours_root: &Value,
    ours: &Value,
    om_root: &Value,
    om: &Value,
    seen: &mut HashSet<(String, String)>,
) {
    // Recursive types (a column's children are columns) are compared once.
    if let (Some(a), Some(b)) = (ours.get("$ref"), om.get("$ref")) {
        if !seen.insert((a.to_string(), b.to_string())) {
            return;
        }
    }
    let ours = resolve(ours_root, ours);
    let om = resolve(om_root, om);
    if om.as_object().is_some_and(|o| o.is_empty()) {
        return; // OpenMetadata accepts anything here
    }
    if let (Some(a), Some(b)) = (json_type(ours), json_type(om)) {
        assert_eq!(a, b, "{path}: type {a} vs OpenMetadata's {b}");
    }
    if let Some(ours_enum) = enum_values(ours) {
        let om_enum = enum_values(om).unwrap_or_else(|| panic!("{path}: OpenMetadata has no enum"));
        for v in ours_enum {
            assert!(
                om_enum.contains(&v),
                "{path}: {v} is not in OpenMetadata's enum"
            );
        }
    }
    if let Some(max) = ours.get("maxLength").and_then(Value::as_u64) {
        if let Some(om_max) = om.get("maxLength").and_then(Value::as_u64) {
            assert!(
                max <= om_max,
                "{path}: maxLength {max} > OpenMetadata's {om_max}"
            );
        }
    } else {
        assert!(
            om.get("maxLength").is_none() || json_type(ours) != Some("string"),
            "{path}: OpenMetadata caps the length and we do not"
        );
    }
    if let Some(pattern) = om.get("pattern") {
        assert_eq!(ours.get("pattern"), Some(pattern), "{path}: pattern");
    }
    if let (Some(items), Some(om_items)) = (ours.get("items"), om.get("items")) {
        assert_fits(
            &format!("{path}[]"),
            ours_root,
            items,
            om_root,
            om_items,
            seen,
        );
    }
    if let Some(props) = ours.get("properties").and_then(Value::as_object) {
        let om_props = om.get("properties").and_then(Value::as_object);
        let Some(om_props) = om_props else {
            // An open object in OpenMetadata (connection.config): only the type matters.
            return;
        };
        for (name, schema) in props {
            let om_field = om_props
                .get(name)
                .unwrap_or_else(|| panic!("{path}.{name} does not exist in OpenMetadata"));
            assert_fits(
                &format!("{path}.{name}"),
                ours_root,
                schema,
                om_root,
                om_field,
                seen,
            );
        }
        let ours_required: Vec<&str> = ours
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for req in om
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let req = req.as_str().unwrap();
            assert!(
                ours_required.contains(&req),
                "{path}.{req} is required by OpenMetadata but optional in ours"
            );
        }
    }
}

#[test]
fn every_field_we_emit_exists_in_openmetadata_and_its_required_fields_are_always_present() {
    let om = om();
    for kind in [
        RecordKind::DashboardService,
        RecordKind::Chart,
        RecordKind::DataModel,
        RecordKind::Dashboard,
    ] {
        let ours = our_schema(entity_schema_file(kind));
        let pointer = om_request(kind).unwrap();
        let om_req = om.pointer(pointer).unwrap();
        assert_fits(pointer, &ours, &ours, &om, om_req, &mut HashSet::new());
    }
}

#[test]
fn the_data_model_url_travels_in_refs_because_openmetadata_has_no_field_for_it() {
    let om = om();
    let props = om["requests"]["CreateDashboardDataModelRequest"]["properties"]
        .as_object()
        .unwrap();
    assert!(!props.contains_key("sourceUrl"));
    let r = &records(true)[2];
    assert!(r.refs.source_url.is_some());
}

// ---------------------------------------------------------------- jsonl sink

#[test]
fn records_with_unknown_top_level_keys_are_rejected() {
    let mut value = serde_json::to_value(&records(false)[1]).unwrap();
    value["extra"] = json!(1);
    assert!(serde_json::from_value::<Record>(value).is_err());
}

/// Not samples: a real ingest of the sandbox's fixture org, through the binary over HTTP.
/// Every line of the output is valid against the committed `record.json` (so that schema
/// describes what is really written), and every entity is a valid OpenMetadata request.
#[tokio::test(flavor = "multi_thread")]
async fn every_line_of_a_real_ingest_matches_the_record_schema_and_openmetadata() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let sc = json!({"includeOwners": true, "includeTags": true,
        "lineageInformation": {"dbServicePrefixes": ["snowflake_prod"]}});
    let wf = workflow_file(dir.path(), &h, sc, file_sink(dir.path()));
    let out = ingest(&wf, &[]).await;
    assert_exit(&out, 0);
    let output = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    let record_schema = validator(&our_schema("record.json"));
    let om = om();
    let mut seen = std::collections::BTreeSet::new();
    for line in output.lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        assert_eq!(
            problems(&record_schema, &record),
            Vec::<String>::new(),
            "{line}"
        );
        let kind: RecordKind = serde_json::from_value(record["kind"].clone()).unwrap();
        seen.insert(kind);
        let entity = &record["entity"];
        let ours = validator(&our_schema(entity_schema_file(kind)));
        assert_eq!(problems(&ours, entity), Vec::<String>::new(), "{line}");
        match om_request(kind) {
            Some(pointer) => {
                let v = validator(&om_schema(&om, pointer));
                assert_eq!(
                    problems(&v, entity),
                    Vec::<String>::new(),
                    "{pointer}: {line}"
                );
            }
            None if kind == RecordKind::Lineage => {
                let edge: LineageEdge = serde_json::from_value(entity.clone()).unwrap();
                let add = edge.to_add_lineage(
                    "0b9a1c52-51f4-4a43-a1f4-3b58e8f0e7a1",
                    "a4d3a8a4-7c2b-4e3e-9d1e-2e5b7f6c1d20",
                );
                let v = validator(&om_schema(&om, "/requests/AddLineageRequest"));
                assert_eq!(problems(&v, &add), Vec::<String>::new(), "{add}");
            }
            None => {}
        }
    }
    assert!(
        seen.len() >= 5,
        "service, data models, charts, dashboards and lineage: {seen:?}"
    );
}
