//! The config contract: OpenMetadata's example loads unchanged, every invalid config fails
//! with the right JSON pointer, secrets never show, and the committed schemas match the types.

use serde_json::{Value, json};
use sigma_connector::config::{
    self, ConfigError, ConfigInput, LoggerLevel, SinkType, load_input_str, load_workflow_str,
};

const OM_EXAMPLE: &str = r#"
source:
  type: sigma
  serviceName: local_sigma
  serviceConnection:
    config: {type: Sigma, hostPort: https://api.sigmacomputing.com, clientId: client_id, clientSecret: client_secret, apiVersion: v2}
  sourceConfig:
    config: {type: DashboardMetadata, lineageInformation: {dbServicePrefixes: [snowflake_prod]}}
sink: {type: metadata-rest, config: {}}
workflowConfig:
  loggerLevel: DEBUG
  openMetadataServerConfig: {hostPort: http://localhost:8585/api, authProvider: openmetadata, securityConfig: {jwtToken: "eyJraWQiOi..."}}
"#;

fn base() -> Value {
    json!({
        "source": {
            "type": "sigma",
            "serviceName": "local_sigma",
            "serviceConnection": {"config": {
                "type": "Sigma",
                "hostPort": "https://api.sigmacomputing.com",
                "clientId": "client_id",
                "clientSecret": "client_secret",
                "apiVersion": "v2"
            }},
            "sourceConfig": {"config": {"type": "DashboardMetadata"}}
        },
        "sink": {"type": "file", "config": {"filename": "out.jsonl"}},
        "workflowConfig": {
            "loggerLevel": "INFO",
            "openMetadataServerConfig": {"hostPort": "http://localhost:8585/api", "authProvider": "openmetadata"}
        }
    })
}

fn errors_of(doc: &Value) -> Vec<String> {
    match load_workflow_str(&doc.to_string()) {
        Ok(_) => panic!("expected the config to be rejected: {doc}"),
        Err(ConfigError::Invalid { violations }) => {
            violations.iter().map(ToString::to_string).collect()
        }
        Err(other) => panic!("expected violations, got {other}"),
    }
}

fn set(doc: &mut Value, pointer: &str, value: Value) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    let parent = doc.pointer_mut(parent).unwrap().as_object_mut().unwrap();
    parent.insert(key.to_owned(), value);
}

fn remove(doc: &mut Value, pointer: &str) {
    let (parent, key) = pointer.rsplit_once('/').unwrap();
    doc.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key);
}

const CONN: &str = "/source/serviceConnection/config";
const SRC: &str = "/source/sourceConfig/config";

#[test]
fn openmetadata_example_loads_unchanged_with_openmetadata_defaults() {
    let wf = load_workflow_str(OM_EXAMPLE).expect("the OpenMetadata example must load");
    let conn = &wf.source.service_connection.config;
    assert_eq!(wf.source.service_name, "local_sigma");
    assert_eq!(conn.client_id, "client_id");
    let endpoints = conn.endpoints().expect("the example's URLs are usable");
    assert_eq!(
        endpoints.api_base.as_str(),
        "https://api.sigmacomputing.com/v2"
    );
    assert_eq!(
        endpoints.token_url.as_str(),
        "https://api.sigmacomputing.com/v2/auth/token"
    );
    assert_eq!(conn.page_size, 1000, "never Sigma's silent default of 50");
    let sc = &wf.source.source_config.config;
    assert!(!sc.include_owners);
    assert!(sc.include_tags && sc.include_data_models && sc.include_draft_dashboard);
    assert!(sc.mark_deleted_dashboards && sc.mark_deleted_data_models);
    assert!(!sc.override_metadata && !sc.override_lineage);
    assert_eq!(
        sc.lineage_information.as_ref().unwrap().db_service_prefixes,
        vec!["snowflake_prod"]
    );
    assert_eq!(wf.sink.sink_type, SinkType::MetadataRest);
    assert_eq!(wf.workflow_config.logger_level, LoggerLevel::Debug);
    let om = wf.workflow_config.open_metadata_server_config.unwrap();
    assert_eq!(om.host_port.as_str(), "http://localhost:8585/api");
}

#[test]
fn json_form_and_bare_connection_load() {
    assert!(load_workflow_str(&base().to_string()).is_ok());
    let bare = base()["source"]["serviceConnection"]["config"].to_string();
    match load_input_str(&bare).unwrap() {
        ConfigInput::Connection(c) => assert_eq!(c.client_id, "client_id"),
        ConfigInput::Workflow(_) => panic!("a bare connection is not a workflow"),
    }
    // Only the required fields: the rest take OpenMetadata's defaults.
    let minimal = r#"{"hostPort": "https://aws-api.sigmacomputing.com", "clientId": "a", "clientSecret": "b"}"#;
    let c = config::load_connection_str(minimal).unwrap();
    assert_eq!(c.api_version, "v2");
    assert!(c.supports_metadata_extraction);
}

#[test]
fn environment_variables_are_substituted_before_validation() {
    // SAFETY: this test binary sets only variables with names no other test reads.
    unsafe {
        std::env::set_var("SIGMA_CFG_TEST_SECRET", "from-env-secret");
        std::env::set_var("SIGMA_CFG_TEST_PAGE", "not-used");
    }
    let text = OM_EXAMPLE
        .replace("client_secret", "'${SIGMA_CFG_TEST_SECRET}'")
        .replace(
            "clientId: client_id",
            "clientId: '${SIGMA_CFG_TEST_ID:-fallback_id}'",
        );
    let wf = load_workflow_str(&text).unwrap();
    let conn = wf.source.service_connection.config;
    use secrecy::ExposeSecret;
    assert_eq!(conn.client_secret.expose_secret(), "from-env-secret");
    assert_eq!(conn.client_id, "fallback_id");
}

/// Each case: a mutation of a valid workflow and the pointer its error must name.
#[test]
fn invalid_configs_fail_with_the_right_pointer() {
    type Mutation = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Mutation, String)> = vec![
        (
            "missing clientId",
            Box::new(|d| remove(d, &format!("{CONN}/clientId"))),
            format!("{CONN}/clientId"),
        ),
        (
            "missing clientSecret",
            Box::new(|d| remove(d, &format!("{CONN}/clientSecret"))),
            format!("{CONN}/clientSecret"),
        ),
        (
            "missing hostPort",
            Box::new(|d| remove(d, &format!("{CONN}/hostPort"))),
            format!("{CONN}/hostPort"),
        ),
        (
            "hostPort not a URI",
            Box::new(|d| set(d, &format!("{CONN}/hostPort"), json!("not a url"))),
            format!("{CONN}/hostPort"),
        ),
        (
            "hostPort without scheme",
            Box::new(|d| {
                set(
                    d,
                    &format!("{CONN}/hostPort"),
                    json!("api.sigmacomputing.com"),
                )
            }),
            format!("{CONN}/hostPort"),
        ),
        (
            "hostPort over plain http to a remote host",
            Box::new(|d| {
                set(
                    d,
                    &format!("{CONN}/hostPort"),
                    json!("http://api.sigmacomputing.com"),
                )
            }),
            format!("{CONN}/hostPort"),
        ),
        (
            "hostPort with the version in it",
            Box::new(|d| {
                set(
                    d,
                    &format!("{CONN}/hostPort"),
                    json!("https://aws-api.sigmacomputing.com/v2"),
                )
            }),
            format!("{CONN}/hostPort"),
        ),
        (
            "wrong connection type",
            Box::new(|d| set(d, &format!("{CONN}/type"), json!("Tableau"))),
            format!("{CONN}/type"),
        ),
        (
            "unknown key in the connection",
            Box::new(|d| set(d, &format!("{CONN}/clientSecrett"), json!("x"))),
            format!("{CONN}/clientSecrett"),
        ),
        (
            "clientId not a string",
            Box::new(|d| set(d, &format!("{CONN}/clientId"), json!(123))),
            format!("{CONN}/clientId"),
        ),
        (
            "apiVersion malformed",
            Box::new(|d| set(d, &format!("{CONN}/apiVersion"), json!("2"))),
            format!("{CONN}/apiVersion"),
        ),
        (
            "pageSize above Sigma's maximum",
            Box::new(|d| set(d, &format!("{CONN}/pageSize"), json!(5000))),
            format!("{CONN}/pageSize"),
        ),
        (
            "maxConcurrency zero",
            Box::new(|d| set(d, &format!("{CONN}/maxConcurrency"), json!(0))),
            format!("{CONN}/maxConcurrency"),
        ),
        (
            "includeDraftDashboard false, which Sigma cannot honour",
            Box::new(|d| set(d, &format!("{SRC}/includeDraftDashboard"), json!(false))),
            format!("{SRC}/includeDraftDashboard"),
        ),
        (
            "maxResponseBytes too small for a token answer",
            Box::new(|d| set(d, &format!("{CONN}/maxResponseBytes"), json!(10))),
            format!("{CONN}/maxResponseBytes"),
        ),
        (
            "the OpenMetadata server's maxResponseBytes negative",
            Box::new(|d| {
                set(
                    d,
                    "/workflowConfig/openMetadataServerConfig/maxResponseBytes",
                    json!(-1),
                )
            }),
            "/workflowConfig/openMetadataServerConfig/maxResponseBytes".to_owned(),
        ),
        (
            "tokenUrl with a bad scheme",
            Box::new(|d| {
                set(
                    d,
                    &format!("{CONN}/tokenUrl"),
                    json!("ftp://example.com/token"),
                )
            }),
            format!("{CONN}/tokenUrl"),
        ),
        (
            "bad regex in a connection filter",
            Box::new(|d| {
                set(
                    d,
                    &format!("{CONN}/dashboardFilterPattern"),
                    json!({"includes": ["([unclosed"]}),
                )
            }),
            format!("{CONN}/dashboardFilterPattern/includes/0"),
        ),
        (
            "unknown key in a filter pattern",
            Box::new(|d| {
                set(
                    d,
                    &format!("{CONN}/chartFilterPattern"),
                    json!({"include": ["x"]}),
                )
            }),
            format!("{CONN}/chartFilterPattern/include"),
        ),
        (
            "bad regex in a source-config filter",
            Box::new(|d| {
                set(
                    d,
                    &format!("{SRC}/projectFilterPattern"),
                    json!({"excludes": ["ok", "*bad"]}),
                )
            }),
            format!("{SRC}/projectFilterPattern/excludes/1"),
        ),
        (
            "wrong source type",
            Box::new(|d| set(d, "/source/type", json!("tableau"))),
            "/source/type".to_owned(),
        ),
        (
            "missing serviceName",
            Box::new(|d| remove(d, "/source/serviceName")),
            "/source/serviceName".to_owned(),
        ),
        (
            "serviceName with a dot",
            Box::new(|d| set(d, "/source/serviceName", json!("a.b"))),
            "/source/serviceName".to_owned(),
        ),
        (
            "wrong sourceConfig type",
            Box::new(|d| set(d, &format!("{SRC}/type"), json!("DatabaseMetadata"))),
            format!("{SRC}/type"),
        ),
        (
            "includeOwners not a boolean",
            Box::new(|d| set(d, &format!("{SRC}/includeOwners"), json!("yes"))),
            format!("{SRC}/includeOwners"),
        ),
        (
            "unknown key in sourceConfig",
            Box::new(|d| set(d, &format!("{SRC}/includeOwner"), json!(true))),
            format!("{SRC}/includeOwner"),
        ),
        (
            "dbServicePrefixes not a list",
            Box::new(|d| {
                set(
                    d,
                    &format!("{SRC}/lineageInformation"),
                    json!({"dbServicePrefixes": "snowflake"}),
                )
            }),
            format!("{SRC}/lineageInformation/dbServicePrefixes"),
        ),
        (
            "wrong sink type",
            Box::new(|d| set(d, "/sink/type", json!("kafka"))),
            "/sink/type".to_owned(),
        ),
        (
            "file sink without filename",
            Box::new(|d| set(d, "/sink/config", json!({}))),
            "/sink/config/filename".to_owned(),
        ),
        (
            "missing sink",
            Box::new(|d| remove(d, "/sink")),
            "/sink".to_owned(),
        ),
        (
            "missing source",
            Box::new(|d| remove(d, "/source")),
            "/source".to_owned(),
        ),
        (
            "unknown top-level key",
            Box::new(|d| set(d, "/sinks", json!({}))),
            "/sinks".to_owned(),
        ),
        (
            "bad loggerLevel",
            Box::new(|d| set(d, "/workflowConfig/loggerLevel", json!("VERBOSE"))),
            "/workflowConfig/loggerLevel".to_owned(),
        ),
        (
            "OpenMetadata hostPort not a URI",
            Box::new(|d| {
                set(
                    d,
                    "/workflowConfig/openMetadataServerConfig/hostPort",
                    json!("localhost 8585"),
                )
            }),
            "/workflowConfig/openMetadataServerConfig/hostPort".to_owned(),
        ),
        (
            "missing environment variable",
            Box::new(|d| {
                set(
                    d,
                    &format!("{CONN}/clientSecret"),
                    json!("${SIGMA_CFG_TEST_SURELY_UNSET_VAR}"),
                )
            }),
            format!("{CONN}/clientSecret"),
        ),
    ];
    assert!(cases.len() >= 20);
    for (name, mutate, pointer) in cases {
        let mut doc = base();
        mutate(&mut doc);
        let errors = errors_of(&doc);
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with(&format!("{pointer}: "))),
            "{name}: expected an error at {pointer}, got {errors:#?}"
        );
    }
}

#[test]
fn every_violation_is_reported_not_just_the_first() {
    let mut doc = base();
    remove(&mut doc, &format!("{CONN}/clientId"));
    set(&mut doc, "/sink/type", json!("kafka"));
    set(&mut doc, &format!("{SRC}/includeOwners"), json!("yes"));
    let errors = errors_of(&doc);
    assert!(errors.len() >= 3, "{errors:#?}");
}

#[test]
fn missing_variable_error_names_it() {
    let mut doc = base();
    set(
        &mut doc,
        &format!("{CONN}/clientId"),
        json!("${SIGMA_CFG_TEST_SURELY_UNSET_VAR}"),
    );
    let errors = errors_of(&doc);
    assert!(
        errors[0].contains("SIGMA_CFG_TEST_SURELY_UNSET_VAR"),
        "{errors:?}"
    );
}

#[test]
fn syntax_errors_give_a_position_and_no_snippet() {
    let broken = "source:\n  serviceConnection:\n    config:\n      clientSecret: \"TOPSECRET-0042\n  x: [\n";
    let err = load_workflow_str(broken).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, ConfigError::Syntax { .. }), "{text}");
    assert!(!text.contains("TOPSECRET-0042"), "{text}");
    let json_err = load_workflow_str("{\"source\": ").unwrap_err().to_string();
    assert!(json_err.contains("JSON"), "{json_err}");
}

const SECRET: &str = "TOPSECRET-client-0042";
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.TOPSECRET-jwt-0042.sig";

#[test]
fn secrets_never_appear_in_debug_or_errors() {
    let mut doc = base();
    set(&mut doc, &format!("{CONN}/clientSecret"), json!(SECRET));
    set(
        &mut doc,
        "/workflowConfig/openMetadataServerConfig/securityConfig",
        json!({"jwtToken": JWT}),
    );
    let wf = load_workflow_str(&doc.to_string()).unwrap();
    let debug = format!("{wf:?} {:?}", wf.source.service_connection.config);
    assert!(
        !debug.contains(SECRET) && !debug.contains("TOPSECRET"),
        "{debug}"
    );
    assert!(debug.contains("[redacted]"));
    let public = wf
        .source
        .service_connection
        .config
        .to_public_json()
        .to_string();
    assert!(!public.contains(SECRET), "{public}");

    // Errors about the secret fields themselves, and errors elsewhere in a document that
    // holds them, never echo them.
    let mut cases = Vec::new();
    let mut d = doc.clone();
    set(&mut d, &format!("{CONN}/clientSecret"), json!(987654321));
    cases.push((d, "987654321"));
    let mut d = doc.clone();
    set(
        &mut d,
        "/workflowConfig/openMetadataServerConfig/securityConfig",
        json!({"jwtToken": 424242424}),
    );
    cases.push((d, "424242424"));
    let mut d = doc.clone();
    set(&mut d, "/sink/type", json!(SECRET));
    cases.push((d, SECRET));
    let mut d = doc.clone();
    set(&mut d, &format!("{CONN}/apiVersion"), json!(JWT));
    cases.push((d, JWT));
    for (d, needle) in cases {
        let text = load_workflow_str(&d.to_string()).unwrap_err().to_string();
        assert!(!text.contains(needle), "leaked {needle}: {text}");
        assert!(!text.contains(SECRET) && !text.contains(JWT), "{text}");
    }
}

#[test]
fn committed_schemas_match_the_types() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    for (file, make) in config::schema::SCHEMAS {
        let expected = config::schema::render(&make());
        let path = dir.join(file);
        if std::env::var_os("UPDATE_SCHEMAS").is_some() {
            std::fs::write(&path, &expected).unwrap();
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == expected,
            "schemas/{file} is out of date with the Rust types: run `UPDATE_SCHEMAS=1 cargo test --test config_contract` and commit"
        );
    }
}

#[test]
fn configuration_doc_lists_every_schema_field() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/configuration.md"),
    )
    .unwrap();
    let schema = config::schema::workflow_schema();
    let mut missing = Vec::new();
    let mut check = |props: &serde_json::Map<String, Value>| {
        for name in props.keys() {
            if !doc.contains(&format!("`{name}`")) {
                missing.push(name.clone());
            }
        }
    };
    check(schema["properties"].as_object().unwrap());
    for def in schema["$defs"].as_object().unwrap().values() {
        if let Some(props) = def.get("properties").and_then(Value::as_object) {
            check(props);
        }
    }
    assert!(
        missing.is_empty(),
        "docs/configuration.md does not document: {missing:?}"
    );
}

#[test]
fn include_draft_dashboard_false_is_refused_naming_the_field_and_why() {
    let mut doc = base();
    set(
        &mut doc,
        &format!("{SRC}/includeDraftDashboard"),
        json!(false),
    );
    let errors = errors_of(&doc);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].starts_with("/source/sourceConfig/config/includeDraftDashboard: ")
            && errors[0].contains("no draft"),
        "{errors:?}"
    );
    set(
        &mut doc,
        &format!("{SRC}/includeDraftDashboard"),
        json!(true),
    );
    load_workflow_str(&doc.to_string()).expect("true is what Sigma does");
}

#[test]
fn raise_on_error_defaults_to_openmetadatas_true() {
    let wf = load_workflow_str(&base().to_string()).unwrap();
    assert!(wf.workflow_config.raise_on_error);
    let mut doc = base();
    remove(&mut doc, "/workflowConfig");
    let wf = load_workflow_str(&doc.to_string()).unwrap();
    assert!(
        wf.workflow_config.raise_on_error,
        "without workflowConfig too"
    );
    set(&mut doc, "/workflowConfig", json!({"raiseOnError": false}));
    let wf = load_workflow_str(&doc.to_string()).unwrap();
    assert!(!wf.workflow_config.raise_on_error);
}

/// Every field docs/configuration.md documents is read by the code, unless its row says it
/// is not (`unused`, `ignored`, `not applied`): a documented option the code never looks at
/// is a promise the connector does not keep. "Read" means a field access `.snake_name` in
/// the library (the typed config's field), or the camelCase name as an exact string literal
/// outside serde attributes (a check on the raw document).
#[test]
fn every_documented_field_is_read_by_the_code() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(root.join("docs/configuration.md")).unwrap();
    let mut code = String::new();
    let mut stack = vec![root.join("connector/src")];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                for line in std::fs::read_to_string(&path).unwrap().lines() {
                    if !line.contains("rename") {
                        code.push_str(line);
                        code.push('\n');
                    }
                }
            }
        }
    }
    // Names whose Rust field is not the camelCase name in snake case.
    let renamed = |name: &str| -> Vec<String> {
        match name {
            "type" => vec!["service_type", "pipeline_type", "sink_type", "parser_type"],
            "ingestionPipelineFQN" => vec!["ingestion_pipeline_fqn"],
            "verifySSL" => vec!["verify_ssl"],
            _ => vec![],
        }
        .into_iter()
        .map(str::to_owned)
        .collect()
    };
    let snake = |name: &str| {
        let mut out = String::new();
        for c in name.chars() {
            if c.is_ascii_uppercase() {
                out.push('_');
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    };
    let accessed = |field: &str| {
        code.match_indices(&format!(".{field}")).any(|(at, m)| {
            !code[at + m.len()..].starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        })
    };
    let mut documented = 0;
    let mut unread = Vec::new();
    for row in doc.lines().filter(|l| l.starts_with("| `")) {
        // `\|` is a pipe inside a cell (`Auto \| SqlGlot`), not a column.
        let row = row.replace("\\|", "/");
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let meaning = cells.get(4).copied().unwrap_or_default();
        let names: Vec<&str> = cells[1]
            .split(',')
            .map(|n| n.trim().trim_matches('`'))
            .filter(|n| n.chars().all(|c| c.is_ascii_alphanumeric()))
            .collect();
        for name in names {
            // Values in the filter example's table, not fields.
            if name.is_empty() || cells.len() < 5 {
                continue;
            }
            documented += 1;
            if ["unused", "ignored", "not applied"]
                .iter()
                .any(|w| meaning.contains(w))
            {
                continue;
            }
            let mut fields = renamed(name);
            fields.push(snake(name));
            let read = fields.iter().any(|f| accessed(f)) || code.contains(&format!("\"{name}\""));
            if !read {
                unread.push(name.to_owned());
            }
        }
    }
    assert!(documented > 40, "the tables were not found: {documented}");
    assert!(
        unread.is_empty(),
        "docs/configuration.md documents fields the code never reads: {unread:?}; implement them, or say in their row that they are accepted and ignored"
    );
}
