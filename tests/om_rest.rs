//! The `metadata-rest` sink end to end, through the binary: the sandbox's fixture org into
//! an OpenMetadata stand-in (`tests/support/om_standin.rs`).

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sigma_connector::sandbox::{
    ApiSurface, Knobs, OrgSource, Sandbox, SandboxConfig, SandboxHandle,
};
use support::cli::{assert_exit, ingest, read_json, workflow_at};
use support::om_standin::{OmStandin, TOKEN};

const REVENUE: &str = "sigma_sandbox.a3c1e5f7-0001-4a2b-8c3d-5e6f7a8b9c01";
const MARKETING: &str = "sigma_sandbox.a3c1e5f7-0002-4a2b-8c3d-5e6f7a8b9c02";
const ADA: &str = "ada.lovelace@example.com";

async fn sandbox() -> SandboxHandle {
    support::source::sandbox(OrgSource::Fixtures, Knobs::default()).await
}

/// A workflow with the metadata-rest sink; `server` is `openMetadataServerConfig` (or null).
fn workflow(
    dir: &Path,
    sigma_host: &str,
    connection: Value,
    source_config: Value,
    server: Value,
) -> PathBuf {
    let sink = json!({"type": "metadata-rest", "config": {}});
    workflow_at(dir, sigma_host, connection, source_config, sink, server)
}

fn server(host_port: &str, token: &str) -> Value {
    json!({"hostPort": host_port, "authProvider": "openmetadata",
           "securityConfig": {"jwtToken": token}})
}

fn full_source_config() -> Value {
    json!({"includeOwners": true, "lineageInformation": {"dbServicePrefixes": ["snowflake_prod"]}})
}

fn sandbox_workflow(dir: &Path, h: &SandboxHandle, om: &OmStandin, sc: Value) -> PathBuf {
    let conn = json!({"clientId": h.client_id(), "clientSecret": h.client_secret()});
    workflow(
        dir,
        &h.base_url().to_string(),
        conn,
        sc,
        server(om.host_port(), TOKEN),
    )
}

fn golden() -> Vec<Value> {
    golden_of("tests/data/fixture-org.jsonl")
}

/// The golden records of the fixture org on one API surface.
fn golden_of(file: &str) -> Vec<Value> {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(file))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn om_type(kind: &str) -> Option<&'static str> {
    Some(match kind {
        "dashboardService" => "dashboardService",
        "chart" => "chart",
        "dataModel" => "dashboardDataModel",
        "dashboard" => "dashboard",
        _ => return None,
    })
}

fn sink_step(s: &Value) -> &Value {
    &s["steps"][1]
}

fn examples(step: &Value, field: &str) -> Vec<String> {
    step[field]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn writes_every_entity_with_owners_and_lineage_and_warns_about_missing_ends() {
    // Today's surface: table -> data model column lineage comes from `/dataModels/{id}/lineage`.
    let h = Sandbox::start(SandboxConfig {
        api: ApiSurface::Current,
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let om = OmStandin::start().await;
    let ada = om.seed_user("ada", ADA);
    let orders = om.seed_table("snowflake_prod.ANALYTICS.SALES.ORDERS");
    om.seed_table("snowflake_prod.ANALYTICS.SALES.CUSTOMERS");
    let dir = tempfile::tempdir().unwrap();
    let wf = sandbox_workflow(dir.path(), &h, &om, full_source_config());
    let status_file = dir.path().join("status.json");
    let out = ingest(&wf, &["--status-file", status_file.to_str().unwrap()]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains(TOKEN), "the JWT must never be printed");

    let store = om.store();
    let records = golden_of("tests/data/fixture-org.jsonl");
    let mut expected_edges = 0;
    for r in &records {
        let fqn = r["fqn"].as_str().unwrap();
        if let Some(t) = om_type(r["kind"].as_str().unwrap()) {
            assert!(store.entity(t, fqn).is_some(), "{t} {fqn} is missing");
        }
        if r["kind"] == "lineage" {
            let known = |end: &Value| {
                store
                    .entity(end["type"].as_str().unwrap(), end["fqn"].as_str().unwrap())
                    .is_some()
            };
            if known(&r["entity"]["from"]) && known(&r["entity"]["to"]) {
                expected_edges += 1;
            }
        }
    }
    assert!(expected_edges >= 8, "{expected_edges}");
    assert_eq!(store.lineage.len(), expected_edges);
    let revenue = store.entity("dashboard", REVENUE).unwrap();
    assert_eq!(revenue["owners"], json!([{"id": ada, "type": "user"}]));
    assert!(
        store.lineage.iter().any(|l| l["edge"]["fromEntity"]
            == json!({"id": orders, "type": "table"})
            && l["edge"]["lineageDetails"]["columnsLineage"]
                .as_array()
                .is_some_and(|c| !c.is_empty())),
        "a table edge with column lineage"
    );
    drop(store);

    let s = read_json(&status_file);
    assert_eq!(s["outcome"], "success");
    let sink = sink_step(&s);
    assert_eq!(sink["failures"], 0, "{sink}");
    let warnings = examples(sink, "warningExamples");
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("snowflake_prod.RAW.STRIPE.PAYMENTS is not in OpenMetadata")),
        "{warnings:?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("owner grace.hopper@example.com is not a user")),
        "{warnings:?}"
    );
    assert!(stderr.contains("warning: "), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn deletes_are_soft_and_a_partial_listing_deletes_nothing() {
    let h = sandbox().await;
    let om = OmStandin::start().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state = state.to_str().unwrap();
    let wf = sandbox_workflow(dir.path(), &h, &om, json!({}));
    let out = ingest(&wf, &["--state", state]).await;
    assert_exit(&out, 0);
    assert_eq!(
        om.store().entity("dashboard", MARKETING).unwrap()["deleted"],
        false
    );

    // Marketing Funnel disappears (filtered out): a complete run soft-deletes it.
    let wf = sandbox_workflow(
        dir.path(),
        &h,
        &om,
        json!({"dashboardFilterPattern": {"excludes": ["Marketing"]}}),
    );
    let status_file = dir.path().join("status.json");
    let out = ingest(
        &wf,
        &[
            "--state",
            state,
            "--status-file",
            status_file.to_str().unwrap(),
        ],
    )
    .await;
    assert_exit(&out, 0);
    // The dashboard and (markDeletedCharts, on by default) its six charts, and the six
    // data models that carry the charts' columns.
    assert_eq!(read_json(&status_file)["deleted"], 13);
    {
        let store = om.store();
        assert_eq!(
            store.entity("dashboard", MARKETING).unwrap()["deleted"],
            true
        );
        assert_eq!(
            store.entity("dashboard", REVENUE).unwrap()["deleted"],
            false
        );
        let deletes: Vec<_> = store.seen.iter().filter(|r| r.method == "DELETE").collect();
        assert_eq!(deletes.len(), 13, "{deletes:?}");
        assert!(
            deletes.iter().all(|d| d.query.contains("hardDelete=false")),
            "{deletes:?}"
        );
        let marketing_chart = format!("{MARKETING}_elMktPie002");
        assert_eq!(
            store.entity("chart", &marketing_chart).unwrap()["deleted"],
            true
        );
    }

    // A listing that breaks midway: nothing more is deleted, though most of the org is
    // unseen.
    h.update_knobs(|k| k.fail_listings_from_offset = Some(2));
    let conn = json!({"clientId": h.client_id(), "clientSecret": h.client_secret(), "pageSize": 2});
    let wf = workflow(
        dir.path(),
        &h.base_url().to_string(),
        conn,
        json!({}),
        server(om.host_port(), TOKEN),
    );
    let out = ingest(
        &wf,
        &[
            "--state",
            state,
            "--status-file",
            status_file.to_str().unwrap(),
        ],
    )
    .await;
    let s = read_json(&status_file);
    assert_eq!(
        s["listingsComplete"],
        false,
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(s["deleted"], 0);
    let store = om.store();
    let deletes = store.seen.iter().filter(|r| r.method == "DELETE").count();
    assert_eq!(deletes, 13, "no delete beyond the first run's");
    assert_eq!(
        store.entity("dashboard", REVENUE).unwrap()["deleted"],
        false
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_server_wrong_token_and_missing_config_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let host_port = format!("http://127.0.0.1:{port}/api");
    let sigma = "https://aws-api.sigmacomputing.com";
    let wf = workflow(
        dir.path(),
        sigma,
        json!({}),
        json!({}),
        server(&host_port, TOKEN),
    );
    let out = ingest(&wf, &[]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot reach OpenMetadata at {host_port}/v1/system/version"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("openMetadataServerConfig.hostPort"),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN));

    let om = OmStandin::start().await;
    let wrong = "eyJhbGciOiJSUzI1NiJ9.d3Jvbmc.not-the-bot";
    let wf = workflow(
        dir.path(),
        sigma,
        json!({}),
        json!({}),
        server(om.host_port(), wrong),
    );
    let out = ingest(&wf, &[]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("refused the JWT"), "{stderr}");
    assert!(stderr.contains("securityConfig.jwtToken"), "{stderr}");
    assert!(
        !stderr.contains(wrong) && !stderr.contains(TOKEN),
        "{stderr}"
    );
    assert!(
        om.store().seen.iter().all(|r| r.method == "GET"),
        "nothing is written after a failed healthcheck"
    );

    let wf = workflow(dir.path(), sigma, json!({}), json!({}), Value::Null);
    let out = ingest(&wf, &[]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("workflowConfig.openMetadataServerConfig"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_entity_is_a_failure_with_its_fqn_and_the_rest_is_written() {
    let h = sandbox().await;
    let om = OmStandin::start().await;
    let refused = format!("{REVENUE}_elRevBar002");
    om.store().reject.insert(refused.clone());
    let dir = tempfile::tempdir().unwrap();
    let wf = sandbox_workflow(dir.path(), &h, &om, json!({}));
    let status_file = dir.path().join("status.json");
    let out = ingest(&wf, &["--status-file", status_file.to_str().unwrap()]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "one failure is above 90%: {stderr}"
    );
    let s = read_json(&status_file);
    assert_eq!(s["outcome"], "partialSuccess");
    let sink = sink_step(&s);
    assert_eq!(sink["failures"], 1, "{sink}");
    let failure = &examples(sink, "failureExamples")[0];
    assert!(failure.contains(&refused), "{failure}");
    assert!(
        failure.contains("HTTP 400: the stand-in rejects"),
        "{failure}"
    );

    let store = om.store();
    assert!(store.entity("chart", &refused).is_none());
    assert!(
        store
            .entity("chart", &format!("{REVENUE}_elRevKpi001"))
            .is_some()
    );
    let revenue = store.entity("dashboard", REVENUE).unwrap();
    let charts = revenue["charts"].as_array().unwrap();
    assert_eq!(charts.len(), 6, "written without the refused chart");
    assert!(store.entity("dashboard", MARKETING).is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn transient_503s_are_retried() {
    let h = sandbox().await;
    let om = OmStandin::start().await;
    om.store().unavailable_puts = 4;
    let dir = tempfile::tempdir().unwrap();
    let wf = sandbox_workflow(dir.path(), &h, &om, full_source_config());
    let status_file = dir.path().join("status.json");
    let out = ingest(&wf, &["--status-file", status_file.to_str().unwrap()]).await;
    assert_exit(&out, 0);
    let s = read_json(&status_file);
    assert_eq!(s["outcome"], "success", "{s}");
    let store = om.store();
    assert_eq!(store.served_503, 4);
    for r in golden() {
        if let Some(t) = om_type(r["kind"].as_str().unwrap()) {
            let fqn = r["fqn"].as_str().unwrap();
            assert!(store.entity(t, fqn).is_some(), "{t} {fqn}");
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn incremental_runs_replay_unchanged_workbooks_into_openmetadata() {
    let h = sandbox().await;
    let om = OmStandin::start().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state = state.to_str().unwrap();
    let wf = sandbox_workflow(dir.path(), &h, &om, json!({}));
    assert_eq!(
        ingest(&wf, &["--state", state]).await.status.code(),
        Some(0)
    );
    let chart_puts = |om: &OmStandin| {
        om.store()
            .seen
            .iter()
            .filter(|r| r.method == "PUT" && r.path == "/api/v1/charts")
            .count()
    };
    let first = chart_puts(&om);
    assert_eq!(first, 16 + 5, "workbooks' charts and reports' charts");
    // Someone deletes a dashboard in OpenMetadata by hand; the replay brings it back.
    om.store()
        .entities
        .get_mut("dashboard")
        .unwrap()
        .remove(REVENUE);
    let status_file = dir.path().join("status.json");
    let out = ingest(
        &wf,
        &[
            "--state",
            state,
            "--incremental",
            "--status-file",
            status_file.to_str().unwrap(),
        ],
    )
    .await;
    assert_exit(&out, 0);
    assert!(
        read_json(&status_file)["unchangedWorkbooks"]
            .as_u64()
            .unwrap()
            >= 4
    );
    assert_eq!(chart_puts(&om), 2 * first, "replayed charts are PUT again");
    assert!(om.store().entity("dashboard", REVENUE).is_some());
}

fn puts_to(om: &OmStandin, path: &str) -> usize {
    om.store()
        .seen
        .iter()
        .filter(|r| r.method == "PUT" && r.path == path)
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigma_tags_become_a_classification_and_label_the_dashboard() {
    let h = sandbox().await;
    let om = OmStandin::start().await;
    let dir = tempfile::tempdir().unwrap();
    let wf = sandbox_workflow(dir.path(), &h, &om, json!({"includeTags": true}));
    let status_file = dir.path().join("status.json");
    let out = ingest(&wf, &["--status-file", status_file.to_str().unwrap()]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains(TOKEN), "the JWT must never be printed");
    let s = read_json(&status_file);
    assert_eq!(s["outcome"], "success", "{s}");
    assert_eq!(sink_step(&s)["failures"], 0);

    // Created once each, in order: the classification, then its tag.
    assert_eq!(puts_to(&om, "/api/v1/classifications"), 1);
    assert_eq!(puts_to(&om, "/api/v1/tags"), 1);
    let store = om.store();
    let classification = &store.classifications["SigmaTags"];
    assert!(
        classification["description"]
            .as_str()
            .unwrap()
            .contains("Sigma"),
        "{classification}"
    );
    let tag = &store.tags["SigmaTags.Production"];
    assert_eq!(tag["name"], "Production");
    assert_eq!(tag["classification"], "SigmaTags");
    let revenue = store.entity("dashboard", REVENUE).unwrap();
    assert_eq!(revenue["displayName"], "Quarterly Revenue");
    assert_eq!(
        revenue["tags"],
        json!([{"tagFQN": "SigmaTags.Production", "source": "Classification",
                "labelType": "Automated", "state": "Confirmed"}])
    );
    // Untagged workbooks carry no labels.
    let marketing = store.entity("dashboard", MARKETING).unwrap();
    assert!(
        marketing["tags"].as_array().is_none_or(Vec::is_empty),
        "{marketing}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_tag_is_a_warning_and_the_dashboard_is_written_without_it() {
    let h = sandbox().await;
    let om = OmStandin::start().await;
    om.store().reject_tags.insert("Production".to_owned());
    let dir = tempfile::tempdir().unwrap();
    let wf = sandbox_workflow(dir.path(), &h, &om, json!({"includeTags": true}));
    let status_file = dir.path().join("status.json");
    let out = ingest(&wf, &["--status-file", status_file.to_str().unwrap()]).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let s = read_json(&status_file);
    assert_eq!(s["outcome"], "success", "a tag is never a failure: {s}");
    let sink = sink_step(&s);
    assert_eq!(sink["failures"], 0, "{sink}");
    let warnings = examples(sink, "warningExamples");
    assert!(
        warnings.iter().any(|w| w.contains(REVENUE)
            && w.contains("tag Production")
            && w.contains("written without that tag")
            && w.contains("HTTP 400: the stand-in rejects tag Production")),
        "{warnings:?}"
    );
    assert!(!stderr.contains(TOKEN), "the JWT must never be printed");

    let store = om.store();
    assert!(store.tags.is_empty());
    let revenue = store.entity("dashboard", REVENUE).unwrap();
    assert!(
        revenue["tags"].as_array().is_none_or(Vec::is_empty),
        "{revenue}"
    );
    assert_eq!(revenue["charts"].as_array().unwrap().len(), 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_stand_in_refuses_a_dashboard_naming_an_unknown_tag() {
    let om = OmStandin::start().await;
    // reqwest is built without a default TLS provider; plain HTTP still needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::Client::builder().build().unwrap();
    let put = |path: &str, body: Value| {
        client
            .put(format!("{}/v1/{path}", om.host_port()))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
    };
    let service = json!({"name": "svc", "serviceType": "Sigma"});
    assert!(
        put("services/dashboardServices", service)
            .await
            .unwrap()
            .status()
            .is_success()
    );
    let label = json!({"tagFQN": "SigmaTags.Nope", "source": "Classification",
                       "labelType": "Automated", "state": "Confirmed"});
    let dashboard = json!({"name": "d", "service": "svc", "tags": [label]});
    let reply = put("dashboards", dashboard.clone()).await.unwrap();
    assert_eq!(reply.status().as_u16(), 404);
    // A tag without its classification is refused too; with it, the dashboard goes in.
    let tag = json!({"name": "Nope", "classification": "SigmaTags", "description": "x"});
    assert_eq!(
        put("tags", tag.clone()).await.unwrap().status().as_u16(),
        404
    );
    let classification = json!({"name": "SigmaTags", "description": "x"});
    assert!(
        put("classifications", classification)
            .await
            .unwrap()
            .status()
            .is_success()
    );
    assert!(put("tags", tag).await.unwrap().status().is_success());
    assert!(
        put("dashboards", dashboard)
            .await
            .unwrap()
            .status()
            .is_success()
    );
    // Bodies are validated.
    let reply = put("tags", json!({"name": "a::b", "description": "x"}))
        .await
        .unwrap();
    assert_eq!(reply.status().as_u16(), 400);
}

/// With two database service prefixes, a table's first FQN is the lineage end and the second
/// travels in `refs.fromCandidates`: the sink tries it when the first is not in OpenMetadata.
#[tokio::test(flavor = "multi_thread")]
async fn lineage_falls_back_to_the_next_table_candidate() {
    let h = sandbox().await;
    let om = OmStandin::start().await;
    let orders = om.seed_table("snowflake_prod.ANALYTICS.SALES.ORDERS");
    let dir = tempfile::tempdir().unwrap();
    let sc =
        json!({"lineageInformation": {"dbServicePrefixes": ["snowflake_dev", "snowflake_prod"]}});
    let wf = sandbox_workflow(dir.path(), &h, &om, sc);
    let out = ingest(&wf, &[]).await;
    assert_exit(&out, 0);
    let store = om.store();
    assert!(
        store
            .lineage
            .iter()
            .any(|l| l["edge"]["fromEntity"] == json!({"id": orders, "type": "table"})),
        "an edge from snowflake_prod's ORDERS, the second candidate"
    );
}

/// A service configured in OpenMetadata (its connection and secret live there) is never
/// overwritten: a PUT from the connector could only replace it with a secret-less one. A
/// missing service is created as the file record has it, without a connection.
#[tokio::test(flavor = "multi_thread")]
async fn an_existing_dashboard_service_is_left_as_it_is() {
    let h = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let om = OmStandin::start().await;
    let configured = json!({
        "id": "5a1d0000-0000-4000-8000-00000000beef", "name": "sigma_sandbox",
        "fullyQualifiedName": "sigma_sandbox", "serviceType": "Sigma",
        "connection": {"config": {"type": "Sigma", "hostPort": "https://aws-api.sigmacomputing.com",
                                  "clientId": "ui-id", "clientSecret": "secret:/om/sigma"}}
    });
    om.store()
        .entities
        .entry("dashboardService".into())
        .or_default()
        .insert("sigma_sandbox".into(), configured.clone());
    let dir = tempfile::tempdir().unwrap();
    let wf = sandbox_workflow(dir.path(), &h, &om, json!({}));
    let out = ingest(&wf, &[]).await;
    assert_exit(&out, 0);
    let store = om.store();
    assert_eq!(
        store.entity("dashboardService", "sigma_sandbox"),
        Some(&configured)
    );
    assert!(
        store.entity("dashboard", REVENUE).is_some(),
        "the rest is written under it"
    );
    assert!(
        !store
            .seen
            .iter()
            .any(|s| s.method == "PUT" && s.path.ends_with("/services/dashboardServices")),
        "no PUT of the service"
    );
}

/// The generated org of today's Sigma (custom SQL and data model elements read by
/// workbook and report elements) through the `metadata-rest` sink: every column pair has
/// its columns on both ends, so the stand-in, like OpenMetadata's server, drops none.
#[tokio::test(flavor = "multi_thread")]
async fn generated_org_column_pairs_are_all_accepted() {
    use sigma_connector::sandbox::SyntheticConfig;
    let h = support::source::sandbox(
        OrgSource::Synthetic(SyntheticConfig {
            workbooks: 8,
            reports: 4,
            data_models: 3,
            datasets: 3,
            ..SyntheticConfig::default()
        }),
        Knobs::default(),
    )
    .await;
    let om = OmStandin::start().await;
    // Tables with their columns, so pairs from warehouse columns are checked too.
    for table in &h.org().tables {
        om.seed_table_with_columns(
            &format!("warehouse.{}", table.path.join(".")),
            &["ID", "NAME", "AMOUNT"],
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let sc = json!({"lineageInformation": {"dbServicePrefixes": ["warehouse"]}});
    let wf = sandbox_workflow(dir.path(), &h, &om, sc);
    let out = ingest(&wf, &[]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let store = om.store();
    let pairs: usize = store
        .lineage
        .iter()
        .filter_map(|l| l["edge"]["lineageDetails"]["columnsLineage"].as_array())
        .map(Vec::len)
        .sum();
    let from_tables = store
        .lineage
        .iter()
        .filter(|l| l["edge"]["fromEntity"]["type"] == "table")
        .filter_map(|l| l["edge"]["lineageDetails"]["columnsLineage"].as_array())
        .flatten()
        .count();
    assert!(
        pairs > 100 && from_tables > 0,
        "{pairs} pairs, {from_tables} from tables"
    );
    // The check bites: a table lacking AMOUNT loses its AMOUNT pairs (verified by hand
    // with the tables seeded without it: 141 dropped).
    assert!(
        store.dropped_pairs.is_empty(),
        "{} dropped, e.g. {:?}",
        store.dropped_pairs.len(),
        store.dropped_pairs.first()
    );
}

/// `overrideMetadata`: what people edited in OpenMetadata stays under a plain run (the
/// bot's `PUT` keeps it) and is put back to Sigma's with one `PATCH` per entity that
/// differs; `overrideLineage`: edges into an entity that Sigma no longer has go.
#[tokio::test(flavor = "multi_thread")]
async fn overrides_put_sigmas_metadata_back_and_replace_lineage() {
    const EXECUTIVE: &str = "sigma_sandbox.report_4e90a1b2-0001-4c3d-8e4f-5a6b7c8d9e01";
    let h = sandbox().await;
    let om = OmStandin::start().await;
    let ada = om.seed_user("ada", ADA);
    let grace = om.seed_user("grace", "grace.hopper@example.com");
    om.seed_table("snowflake_prod.ANALYTICS.SALES.ORDERS");
    om.seed_table("snowflake_prod.ANALYTICS.SALES.CUSTOMERS");
    let old_table = om.seed_table("snowflake_prod.ANALYTICS.SALES.ORDERS_2019");
    let dir = tempfile::tempdir().unwrap();
    let run = |overrides: bool| {
        let mut sc = full_source_config();
        sc["overrideMetadata"] = json!(overrides);
        sc["overrideLineage"] = json!(overrides);
        let wf = sandbox_workflow(dir.path(), &h, &om, sc);
        async move { assert_exit(&ingest(&wf, &[]).await, 0) }
    };
    run(false).await;
    let edges_into = |om: &OmStandin, id: &str| {
        om.store()
            .lineage
            .iter()
            .filter(|l| l["edge"]["toEntity"]["id"] == id)
            .map(|l| l["edge"]["fromEntity"]["id"].as_str().unwrap().to_owned())
            .collect::<BTreeSet<String>>()
    };
    let revenue_id = om.store().entity("dashboard", REVENUE).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sigma_edges = edges_into(&om, &revenue_id);
    assert!(!sigma_edges.is_empty());

    // People edit in OpenMetadata, and an edge into Quarterly Revenue is one Sigma no
    // longer has.
    {
        let mut store = om.store();
        let dashboards = store.entities.get_mut("dashboard").unwrap();
        let revenue = dashboards.get_mut(REVENUE).unwrap();
        revenue["displayName"] = json!("Revenue (edited)");
        revenue["owners"] = json!([{"id": grace, "type": "user"}]);
        dashboards.get_mut(EXECUTIVE).unwrap()["description"] = json!("Edited by a person");
        let mut stale = store
            .lineage
            .iter()
            .find(|l| l["edge"]["toEntity"]["id"] == revenue_id.as_str())
            .unwrap()
            .clone();
        stale["edge"]["fromEntity"] = json!({"id": old_table, "type": "table"});
        store.lineage.push(stale);
    }
    let dashboard = |fqn: &str| om.store().entity("dashboard", fqn).unwrap().clone();

    // A plain run: the edits stay (OpenMetadata keeps what people wrote under a bot's PUT),
    // the stale edge too.
    run(false).await;
    assert_eq!(dashboard(REVENUE)["displayName"], "Revenue (edited)");
    assert_eq!(dashboard(EXECUTIVE)["description"], "Edited by a person");
    assert!(om.store().patches.is_empty());
    assert!(edges_into(&om, &revenue_id).contains(&old_table));

    // With the overrides: Sigma's metadata back, one PATCH for each entity that differed,
    // and the edges into each entity are exactly Sigma's.
    run(true).await;
    assert_eq!(dashboard(REVENUE)["displayName"], "Quarterly Revenue");
    assert_eq!(
        dashboard(REVENUE)["owners"],
        json!([{"id": ada, "type": "user"}])
    );
    assert_eq!(
        dashboard(EXECUTIVE)["description"],
        "Monthly summary for the board"
    );
    let patched: BTreeSet<String> = om
        .store()
        .patches
        .iter()
        .map(|(t, id, _)| format!("{t} {id}"))
        .collect();
    assert_eq!(
        patched,
        [REVENUE, EXECUTIVE]
            .iter()
            .map(|f| format!("dashboard {}", dashboard(f)["id"].as_str().unwrap()))
            .collect(),
        "only the two entities people edited"
    );
    assert_eq!(edges_into(&om, &revenue_id), sigma_edges);
    let store = om.store();
    let mut drawn: Vec<(Value, Value)> = store
        .lineage
        .iter()
        .map(|l| {
            (
                l["edge"]["fromEntity"]["id"].clone(),
                l["edge"]["toEntity"]["id"].clone(),
            )
        })
        .collect();
    let all = drawn.len();
    drawn.sort_by_key(|(a, b)| (a.to_string(), b.to_string()));
    drawn.dedup();
    assert_eq!(
        drawn.len(),
        all,
        "each edge once: earlier runs' copies were replaced"
    );
}
