//! The Sigma source against the sandbox's fixture org.

use futures::StreamExt;
use sigma_connector::client::SigmaClient;
use sigma_connector::config::{Workflow, load_workflow_str};
use sigma_connector::sandbox::{Sandbox, SandboxConfig, SandboxHandle};
use sigma_connector::sigma::source::{SigmaSource, SourceOptions};

fn workflow(h: &SandboxHandle, source_config: &str) -> Workflow {
    let text = format!(
        r#"{{"source": {{"type": "sigma", "serviceName": "sigma_sandbox",
            "serviceConnection": {{"config": {{"type": "Sigma", "hostPort": "{}", "clientId": "{}", "clientSecret": "{}"}}}},
            "sourceConfig": {{"config": {source_config}}}}},
           "sink": {{"type": "console", "config": {{}}}}}}"#,
        h.base_url(),
        h.client_id(),
        h.client_secret()
    );
    load_workflow_str(&text).unwrap()
}

#[tokio::test]
async fn fixture_org_probe() {
    let h = Sandbox::start(SandboxConfig::default()).await.unwrap();
    let wf = workflow(
        &h,
        r#"{"includeOwners": true, "lineageInformation": {"dbServicePrefixes": ["snowflake_prod"]}}"#,
    );
    let client = SigmaClient::new(&wf.source.service_connection.config).unwrap();
    let source = SigmaSource::new(client.clone(), SourceOptions::from_workflow(&wf).unwrap());
    let status = source.status();
    let items: Vec<_> = source.records().collect().await;
    for item in &items {
        match item {
            Ok(d) => println!("{} {} {}", d.kind, d.fqn, d.entity),
            Err(e) => println!("ERR {e}"),
        }
    }
    println!("{:#?}", status.snapshot());
    println!("{}", client.stats());
    println!("{:#?}", h.stats());
}
