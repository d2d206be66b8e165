//! Secret hygiene: a full ingestion and a failing test-connection at trace level, JSON logs,
//! with every byte of logs, status, state, output and errors searched for the client
//! secret, the access and refresh tokens (the sandbox issues them as `sbx-at…`/`sbx-rt…`)
//! and the JWT; then the same for a run into OpenMetadata (the stand-in), where the JWT is
//! actually sent, and for one whose JWT OpenMetadata refuses.

mod support;

use serde_json::{Value, json};
use sigma_connector::sandbox::{Sandbox, SandboxConfig};
use std::process::Output;
use support::cli::BIN;

use tokio::process::Command;

const SECRET: &str = "s3cr3t-CLIENT-value-0042";
const JWT: &str = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJpbmdlc3Rpb24tYm90In0.SIGNATURE-0042";

/// `ingest` of `workflow` with trace-level JSON logs (the secret in `SIGMA_TEST_SECRET`), its
/// status at `dir/status.json` (removed first) and, with `state`, its state at
/// `dir/state.json`.
async fn traced_ingest(dir: &std::path::Path, workflow: &Value, state: bool) -> Output {
    let wf = dir.join("workflow.json");
    std::fs::write(&wf, workflow.to_string()).unwrap();
    let status = dir.join("status.json");
    let _ = std::fs::remove_file(&status);
    let mut command = Command::new(BIN);
    command
        .env("SIGMA_TEST_SECRET", SECRET)
        .args([
            "--log-level",
            "trace",
            "--log-format",
            "json",
            "ingest",
            "-c",
        ])
        .arg(&wf)
        .arg("--status-file")
        .arg(&status);
    if state {
        command.arg("--state").arg(dir.join("state.json"));
    }
    command.output().await.unwrap()
}

fn assert_clean(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    for needle in [SECRET, JWT, support::om_standin::TOKEN, "sbx-at", "sbx-rt"] {
        assert!(!text.contains(needle), "{what} contains `{needle}`");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_or_token_anywhere_in_a_traced_run() {
    let h = Sandbox::start(SandboxConfig {
        client_secret: SECRET.to_owned(),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let workflow = json!({
        "source": {"type": "sigma", "serviceName": "svc",
            "serviceConnection": {"config": {
                "type": "Sigma", "hostPort": h.base_url().to_string(),
                "clientId": h.client_id(), "clientSecret": "${SIGMA_TEST_SECRET}"}},
            "sourceConfig": {"config": {"includeOwners": true,
                "lineageInformation": {"dbServicePrefixes": ["wh"]}}}},
        "sink": {"type": "file", "config": {"filename": dir.path().join("out.jsonl")}},
        "workflowConfig": {"loggerLevel": "DEBUG",
            "openMetadataServerConfig": {"hostPort": "http://localhost:8585/api",
                "authProvider": "openmetadata", "securityConfig": {"jwtToken": JWT}}}
    });
    let out = traced_ingest(dir.path(), &workflow, true).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.len() > 10_000, "trace logs were written");
    assert_clean("stderr (trace, JSON)", &out.stderr);
    assert_clean("stdout", &out.stdout);
    for file in ["out.jsonl", "status.json", "state.json"] {
        assert_clean(file, &std::fs::read(dir.path().join(file)).unwrap());
    }

    // A failing test-connection: wrong secret that shares a prefix with the right one.
    let bare = json!({"hostPort": h.base_url().to_string(), "clientId": h.client_id(),
        "clientSecret": format!("{SECRET}-wrong")});
    let mut child = Command::new(BIN)
        .args([
            "--log-level",
            "trace",
            "--log-format",
            "json",
            "test-connection",
            "-c",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use tokio::io::AsyncWriteExt;
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(bare.to_string().as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_clean("test-connection stdout", &out.stdout);
    assert_clean("test-connection stderr", &out.stderr);

    // An invalid config that holds the secret: the errors never echo it.
    let bad = dir.path().join("bad.json");
    let mut doc = workflow.clone();
    doc["source"]["serviceConnection"]["config"]["clientSecret"] = json!(SECRET);
    doc["source"]["serviceConnection"]["config"]["apiVersion"] = json!(SECRET);
    std::fs::write(&bad, doc.to_string()).unwrap();
    let out = Command::new(BIN)
        .args(["check-config", "-c"])
        .arg(&bad)
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_clean("check-config", &[out.stdout, out.stderr].concat());
}

#[tokio::test(flavor = "multi_thread")]
async fn no_jwt_anywhere_in_a_traced_run_into_openmetadata() {
    use support::om_standin::{OmStandin, TOKEN};
    let h = Sandbox::start(SandboxConfig {
        client_secret: SECRET.to_owned(),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let om = OmStandin::start().await;
    // So that owner lookups and lineage PUTs happen (with the JWT) too.
    om.seed_user("ada", "ada.lovelace@example.com");
    om.seed_table("wh.ANALYTICS.SALES.ORDERS");
    let dir = tempfile::tempdir().unwrap();
    let workflow = |jwt: &str| -> Value {
        json!({
            "source": {"type": "sigma", "serviceName": "svc",
                "serviceConnection": {"config": {
                    "type": "Sigma", "hostPort": h.base_url().to_string(),
                    "clientId": h.client_id(), "clientSecret": SECRET}},
                "sourceConfig": {"config": {"includeOwners": true,
                    "lineageInformation": {"dbServicePrefixes": ["wh"]}}}},
            "sink": {"type": "metadata-rest", "config": {}},
            "workflowConfig": {"loggerLevel": "DEBUG",
                "openMetadataServerConfig": {"hostPort": om.host_port(),
                    "authProvider": "openmetadata", "securityConfig": {"jwtToken": jwt}}}
        })
    };
    // The accepted JWT, sent with every request, and a refused one.
    for (jwt, expected_exit) in [(TOKEN, 0), (JWT, 1)] {
        let out = traced_ingest(dir.path(), &workflow(jwt), false).await;
        let status = dir.path().join("status.json");
        assert_eq!(
            out.status.code(),
            Some(expected_exit),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stderr.len() > 1_000, "trace logs were written");
        assert_clean("stderr (trace, JSON, metadata-rest)", &out.stderr);
        assert_clean("stdout (metadata-rest)", &out.stdout);
        if let Ok(bytes) = std::fs::read(&status) {
            assert_clean("status.json (metadata-rest)", &bytes);
        }
    }
    assert!(
        om.store()
            .entities
            .get("dashboard")
            .is_some_and(|m| !m.is_empty()),
        "the accepted JWT wrote dashboards"
    );
    assert!(!om.store().lineage.is_empty(), "and lineage");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_datahub_token_anywhere_in_a_traced_run_into_datahub() {
    use wiremock::matchers::{header, method, path};
    use wiremock::{Mock, MockServer, ResponseTemplate};
    const DH_TOKEN: &str = "dh-pat-0042-eyJhbGciOiJIUzI1NiJ9.datahub";
    let h = Sandbox::start(SandboxConfig {
        client_secret: SECRET.to_owned(),
        ..SandboxConfig::default()
    })
    .await
    .unwrap();
    let gms = MockServer::start().await;
    let bearer = format!("Bearer {DH_TOKEN}");
    Mock::given(method("GET"))
        .and(path("/config"))
        .and(header("Authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"noCode": "true"})))
        .mount(&gms)
        .await;
    Mock::given(method("GET"))
        .and(path("/config"))
        .respond_with(ResponseTemplate::new(401).set_body_string("Unauthorized"))
        .mount(&gms)
        .await;
    Mock::given(method("POST"))
        .and(path("/aspects"))
        .and(header("Authorization", bearer.as_str()))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&gms)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let workflow = |token: &str| -> Value {
        json!({
            "source": {"type": "sigma", "serviceName": "svc",
                "serviceConnection": {"config": {
                    "type": "Sigma", "hostPort": h.base_url().to_string(),
                    "clientId": h.client_id(), "clientSecret": SECRET}},
                "sourceConfig": {"config": {"includeOwners": true}}},
            "sink": {"type": "datahub-rest", "config": {"server": gms.uri(), "token": token}},
            "workflowConfig": {"loggerLevel": "DEBUG"}
        })
    };
    // The accepted token, sent with every request, and a refused one (the run's own token
    // with a suffix, so a prefix match would show).
    let refused = format!("{DH_TOKEN}-old");
    for (token, expected_exit) in [(DH_TOKEN, 0), (refused.as_str(), 1)] {
        let out = traced_ingest(dir.path(), &workflow(token), true).await;
        let (status, state) = (
            dir.path().join("status.json"),
            dir.path().join("state.json"),
        );
        assert_eq!(
            out.status.code(),
            Some(expected_exit),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        for (what, bytes) in [("stderr", out.stderr), ("stdout", out.stdout)] {
            assert_clean(&format!("{what} (datahub-rest)"), &bytes);
            assert!(
                !String::from_utf8_lossy(&bytes).contains(DH_TOKEN),
                "{what} contains the DataHub token"
            );
        }
        for file in [&status, &state] {
            if let Ok(bytes) = std::fs::read(file) {
                assert!(!String::from_utf8_lossy(&bytes).contains(DH_TOKEN));
            }
        }
    }
    // And a config's Debug never shows it.
    let config: sigma_connector::config::Workflow =
        serde_json::from_value(workflow(DH_TOKEN)).unwrap();
    let debug = format!("{config:?}");
    assert!(!debug.contains(DH_TOKEN), "{debug}");
}
