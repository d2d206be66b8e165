//! Running the `sigma-connector` binary from async tests.

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::{Value, json};
use sigma_connector::sandbox::SandboxHandle;
use tokio::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_sigma-connector");

/// `sigma-connector ingest -c CONFIG EXTRA...`, run to its end.
pub async fn ingest(config: &Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .arg("ingest")
        .arg("-c")
        .arg(config)
        .args(extra)
        .output()
        .await
        .expect("the binary runs")
}

/// `sigma-connector ingest -c CONFIG --output - EXTRA...` with standard output on
/// /dev/full, so every write of the stdout sink fails (ENOSPC).
pub async fn ingest_into_a_full_disk(config: &Path, extra: &[&str]) -> Output {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full opens");
    Command::new(BIN)
        .arg("ingest")
        .arg("-c")
        .arg(config)
        .args(["--output", "-"])
        .args(extra)
        .stdout(full)
        .stderr(std::process::Stdio::piped())
        // Not `output()`: it would replace stdout with a pipe.
        .spawn()
        .expect("the binary runs")
        .wait_with_output()
        .await
        .expect("the binary runs")
}

/// Asserts the exit code, showing the run's stderr when it differs.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A JSON file the run wrote (the status file, the state).
pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// Writes a workflow file for the sandbox; `source_config` and `sink` are JSON fragments.
pub fn workflow_file(dir: &Path, h: &SandboxHandle, source_config: Value, sink: Value) -> PathBuf {
    let credentials = json!({"clientId": h.client_id(), "clientSecret": h.client_secret()});
    workflow_at(
        dir,
        &h.base_url().to_string(),
        credentials,
        source_config,
        sink,
        Value::Null,
    )
}

/// Writes `workflow.json` in `dir` for a Sigma at `sigma_host`: `connection`'s fields
/// override the defaults (the sandbox's fixed credentials, one retry, 5 s), `server` is
/// the `openMetadataServerConfig` (`null` for none).
pub fn workflow_at(
    dir: &Path,
    sigma_host: &str,
    connection: Value,
    source_config: Value,
    sink: Value,
    server: Value,
) -> PathBuf {
    let mut config = json!({
        "type": "Sigma", "hostPort": sigma_host,
        "clientId": "sandbox-client-id", "clientSecret": "sandbox-client-secret",
        "maxRetries": 1, "retryTimeout": 5
    });
    for (k, v) in connection.as_object().into_iter().flatten() {
        config[k] = v.clone();
    }
    let mut workflow_config = json!({"loggerLevel": "INFO"});
    if !server.is_null() {
        workflow_config["openMetadataServerConfig"] = server;
    }
    let doc = json!({
        "source": {
            "type": "sigma",
            "serviceName": "sigma_sandbox",
            "serviceConnection": {"config": config},
            "sourceConfig": {"config": source_config}
        },
        "sink": sink,
        "workflowConfig": workflow_config
    });
    let path = dir.join("workflow.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

/// The `file` sink writing `out.jsonl` in `dir`.
pub fn file_sink(dir: &Path) -> Value {
    json!({"type": "file", "config": {"filename": dir.join("out.jsonl")}})
}

/// The JSON Lines of an output file.
pub fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}
