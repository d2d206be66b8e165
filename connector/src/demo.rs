//! The workflow `sigma-connector demo` runs against the embedded sandbox: the fixture org,
//! owners and lineage on, tables mapped to a `snowflake_prod` database service.

use crate::config::{ConfigError, Workflow, load_workflow_str};

/// A workflow reading the sandbox at `host_port` with the given credentials.
pub fn workflow(
    host_port: &str,
    client_id: &str,
    client_secret: &str,
) -> Result<Workflow, ConfigError> {
    let doc = serde_json::json!({
        "source": {
            "type": "sigma",
            "serviceName": "sigma_demo",
            "serviceConnection": {"config": {
                "type": "Sigma",
                "hostPort": host_port,
                "clientId": client_id,
                "clientSecret": client_secret,
                "apiVersion": "v2"
            }},
            "sourceConfig": {"config": {
                "type": "DashboardMetadata",
                "includeOwners": true,
                "lineageInformation": {"dbServicePrefixes": ["snowflake_prod"]}
            }}
        },
        "sink": {"type": "file", "config": {"filename": "sigma-demo-output/records.jsonl"}},
        "workflowConfig": {"loggerLevel": "INFO"}
    });
    load_workflow_str(&doc.to_string())
}
