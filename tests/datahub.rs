//! The DataHub sinks end to end on the sandbox: the file sink's array and its atomic
//! commit, the REST sink against a small GMS (wiremock) for the healthcheck, the batches,
//! a refused token before any Sigma request, and soft deletes only after a complete run.
//! DataHub's own models judge the proposals in `datahub/tests` (Python, DataHub 1.7).

mod support;

use std::collections::BTreeSet;

use serde_json::{Value, json};
use sigma_connector::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use support::cli::{BIN, assert_exit, read_json};
use tokio::process::Command;
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, ResponseTemplate};

const TOKEN: &str = "gms-token-0042-never-printed";

fn workflow(h: &SandboxHandle, sink: Value) -> Value {
    json!({
        "source": {"type": "sigma", "serviceName": "svc",
            "serviceConnection": {"config": {
                "type": "Sigma", "hostPort": h.base_url().to_string(),
                "clientId": h.client_id(), "clientSecret": h.client_secret(),
                "maxRetries": 1, "retryTimeout": 5}},
            "sourceConfig": {"config": {"includeOwners": true}}},
        "sink": sink
    })
}

async fn run(dir: &std::path::Path, config: &Value, extra: &[&str]) -> std::process::Output {
    let wf = dir.join("workflow.json");
    std::fs::write(&wf, config.to_string()).unwrap();
    Command::new(BIN)
        .args(["--log-level", "debug", "ingest", "-c"])
        .arg(&wf)
        .arg("--status-file")
        .arg(dir.join("status.json"))
        .args(extra)
        .output()
        .await
        .unwrap()
}

fn entity_urns(mcps: &[Value], prefix: &str) -> BTreeSet<String> {
    mcps.iter()
        .filter(|m| m["aspectName"] == "status" && m["aspect"]["json"]["removed"] == false)
        .filter_map(|m| m["entityUrn"].as_str())
        .filter(|u| u.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_file_sink_writes_an_array_of_proposals_and_keeps_the_last_good_file_on_failure() {
    let h = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mcps.json");
    let config = workflow(
        &h,
        json!({"type": "datahub-file", "config": {"filename": out}}),
    );
    let done = run(dir.path(), &config, &[]).await;
    assert_exit(&done, 0);
    let mcps: Vec<Value> = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert!(!entity_urns(&mcps, "urn:li:dashboard:(sigma,").is_empty());
    assert!(!entity_urns(&mcps, "urn:li:chart:(sigma,").is_empty());
    for m in &mcps {
        assert_eq!(m["changeType"], "UPSERT");
        assert!(m["aspect"]["json"].is_object(), "{m}");
    }
    let status = read_json(&dir.path().join("status.json"));
    assert_eq!(status["output"], out.display().to_string());

    // A run that cannot authenticate leaves the file byte for byte.
    let before = std::fs::read(&out).unwrap();
    let mut bad = config.clone();
    bad["source"]["serviceConnection"]["config"]["clientSecret"] = json!("wrong");
    let failed = run(dir.path(), &bad, &[]).await;
    assert_ne!(failed.status.code(), Some(0));
    assert_eq!(std::fs::read(&out).unwrap(), before);
}

async fn gms(token: &str) -> (MockServer, std::sync::Arc<std::sync::Mutex<Vec<Value>>>) {
    let server = MockServer::start().await;
    let bearer = format!("Bearer {token}");
    Mock::given(method("GET"))
        .and(path("/config"))
        .and(header("Authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"noCode": "true"})))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/config"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"message": "Unauthorized"})))
        .mount(&server)
        .await;
    let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = seen.clone();
    Mock::given(method("POST"))
        .and(path("/aspects"))
        .and(query_param("action", "ingestProposalBatch"))
        .and(header("Authorization", bearer.as_str()))
        .and(header("X-RestLi-Protocol-Version", "2.0.0"))
        .respond_with(move |request: &Request| {
            let body: Value = serde_json::from_slice(&request.body).unwrap();
            let mut seen = sink.lock().unwrap();
            for p in body["proposals"].as_array().unwrap() {
                let aspect: Value =
                    serde_json::from_str(p["aspect"]["value"].as_str().unwrap()).unwrap();
                seen.push(
                    json!({"entityUrn": p["entityUrn"], "aspectName": p["aspectName"],
                    "aspect": {"json": aspect}}),
                );
            }
            ResponseTemplate::new(200).set_body_json(json!({"value": []}))
        })
        .mount(&server)
        .await;
    (server, seen)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_token_ends_the_run_before_any_sigma_request_and_is_never_printed() {
    let h = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let (server, seen) = gms("the-right-token").await;
    let dir = tempfile::tempdir().unwrap();
    let config = workflow(
        &h,
        json!({"type": "datahub-rest", "config": {"server": server.uri(), "token": TOKEN}}),
    );
    let out = run(dir.path(), &config, &[]).await;
    assert_ne!(out.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refused the token in sink.config.token (HTTP 401)"),
        "{stderr}"
    );
    assert!(!stderr.contains(TOKEN));
    assert_eq!(h.stats().total_requests, 0, "no Sigma request");
    assert!(seen.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rest_sink_sends_every_proposal_and_only_a_complete_run_soft_deletes() {
    let h = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let (server, seen) = gms(TOKEN).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();
    let config = workflow(
        &h,
        json!({"type": "datahub-rest", "config": {"server": server.uri(), "token": TOKEN}}),
    );
    let first = run(dir.path(), &config, &["--state", state_arg]).await;
    assert_exit(&first, 0);
    let sent: Vec<Value> = seen.lock().unwrap().drain(..).collect();
    let dashboards = entity_urns(&sent, "urn:li:dashboard:(sigma,");
    assert!(!dashboards.is_empty());
    assert!(!String::from_utf8_lossy(&first.stderr).contains(TOKEN));

    // Listings break: partial, nothing removed.
    h.update_knobs(|k| k.fail_listings_from_offset = Some(2));
    let mut paged = config.clone();
    paged["source"]["serviceConnection"]["config"]["pageSize"] = json!(2);
    let partial = run(dir.path(), &paged, &["--state", state_arg]).await;
    assert_eq!(
        partial.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&partial.stderr)
    );
    let removed: Vec<Value> = seen
        .lock()
        .unwrap()
        .drain(..)
        .filter(|m| m["aspect"]["json"]["removed"] == true)
        .collect();
    assert!(removed.is_empty(), "{removed:?}");

    // Whole again, Marketing Funnel filtered out: it and its charts are soft-deleted,
    // nothing that is still rendered.
    h.update_knobs(|k| k.fail_listings_from_offset = None);
    let mut filtered = config.clone();
    filtered["source"]["sourceConfig"]["config"]["dashboardFilterPattern"] =
        json!({"excludes": ["Marketing"]});
    let complete = run(dir.path(), &filtered, &["--state", state_arg]).await;
    assert_exit(&complete, 0);
    let sent: Vec<Value> = seen.lock().unwrap().drain(..).collect();
    let removed: BTreeSet<String> = sent
        .iter()
        .filter(|m| m["aspectName"] == "status" && m["aspect"]["json"]["removed"] == true)
        .map(|m| m["entityUrn"].as_str().unwrap().to_owned())
        .collect();
    let mut expected: BTreeSet<String> = MARKETING_CHARTS
        .iter()
        .map(|e| format!("urn:li:chart:(sigma,{e})"))
        .collect();
    expected.insert(format!("urn:li:dashboard:(sigma,{MARKETING})"));
    assert!(removed.is_superset(&expected), "{removed:?}");
    let live = entity_urns(&sent, "urn:li:");
    assert!(
        removed.is_disjoint(&live),
        "{:?}",
        removed.intersection(&live)
    );
    assert_eq!(
        read_json(&dir.path().join("status.json"))["deleted"],
        json!(removed.len())
    );
}

const MARKETING: &str = "a3c1e5f7-0002-4a2b-8c3d-5e6f7a8b9c02";
const MARKETING_CHARTS: [&str; 6] = [
    "elMktAre001",
    "elMktPie002",
    "elMktMap003",
    "elMktTbl004",
    "elMktDon005",
    "elMktCmb006",
];

fn workspace_containers(mcps: &[Value]) -> BTreeSet<String> {
    mcps.iter()
        .filter(|m| {
            m["aspectName"] == "subTypes"
                && m["aspect"]["json"]["typeNames"] == json!(["Sigma Workspace"])
        })
        .filter_map(|m| m["entityUrn"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn workspaces_are_listed_for_datahub_only_and_a_failed_listing_removes_no_container() {
    let h = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mcps.json");
    let state = dir.path().join("state.json");
    let state_arg = state.to_str().unwrap();
    let config = workflow(
        &h,
        json!({"type": "datahub-file", "config": {"filename": out}}),
    );
    let workspace_requests = |h: &SandboxHandle| h.stats().requests("GET /v2/workspaces");

    // An OpenMetadata run does not ask for workspaces.
    let mut om = config.clone();
    om["sink"] = json!({"type": "file", "config": {"filename": dir.path().join("om.jsonl")}});
    assert_exit(&run(dir.path(), &om, &[]).await, 0);
    assert_eq!(workspace_requests(&h), 0);

    // A DataHub run lists them once and writes a container for each.
    h.reset_stats();
    assert_exit(&run(dir.path(), &config, &["--state", state_arg]).await, 0);
    assert_eq!(workspace_requests(&h), 1);
    let mcps: Vec<Value> = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let containers = workspace_containers(&mcps);
    assert!(!containers.is_empty());
    let placed = mcps
        .iter()
        .filter(|m| m["aspectName"] == "container")
        .filter(|m| containers.contains(m["aspect"]["json"]["container"].as_str().unwrap_or("")))
        .count();
    assert!(placed > 0, "nothing placed in a workspace container");

    // The listing refused: still a successful run, said once; no container written and
    // none removed, and the state keeps them for a later whole listing to decide.
    h.update_knobs(|k| {
        k.forbidden.insert("/v2/workspaces".into());
    });
    let refused = run(dir.path(), &config, &["--state", state_arg]).await;
    assert_exit(&refused, 0);
    let mcps: Vec<Value> = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    assert!(workspace_containers(&mcps).is_empty());
    let removed: Vec<&Value> = mcps
        .iter()
        .filter(|m| m["aspectName"] == "status" && m["aspect"]["json"]["removed"] == true)
        .collect();
    assert!(removed.is_empty(), "{removed:?}");
    // Said once: one warning group names it.
    let status = std::fs::read_to_string(dir.path().join("status.json")).unwrap();
    assert_eq!(
        status
            .matches("\"cause\": \"workspaces could not be listed")
            .count(),
        1,
        "{status}"
    );
    let kept = std::fs::read_to_string(&state).unwrap();
    for c in &containers {
        assert!(kept.contains(c.as_str()), "{c} not kept in the state");
    }
}
