//! A sandbox and a workflow file reading it, for tests that run the binary.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sigma_connector::sandbox::{Knobs, OrgSource, Sandbox, SandboxConfig, SandboxHandle};

pub async fn sandbox(org: OrgSource, knobs: Knobs) -> SandboxHandle {
    Sandbox::start(SandboxConfig {
        org,
        knobs,
        ..SandboxConfig::default()
    })
    .await
    .unwrap()
}

/// Writes a workflow file for the sandbox; `source_config` and `sink` are JSON fragments.
pub fn workflow_file(dir: &Path, h: &SandboxHandle, source_config: Value, sink: Value) -> PathBuf {
    let doc = json!({
        "source": {
            "type": "sigma",
            "serviceName": "sigma_sandbox",
            "serviceConnection": {"config": {
                "type": "Sigma", "hostPort": h.base_url().to_string(),
                "clientId": h.client_id(), "clientSecret": h.client_secret(),
                "maxRetries": 1, "retryTimeout": 5
            }},
            "sourceConfig": {"config": source_config}
        },
        "sink": sink,
        "workflowConfig": {"loggerLevel": "INFO"}
    });
    let path = dir.join("workflow.json");
    std::fs::write(&path, doc.to_string()).unwrap();
    path
}

pub fn file_sink(dir: &Path) -> Value {
    json!({"type": "file", "config": {"filename": dir.join("out.jsonl")}})
}
