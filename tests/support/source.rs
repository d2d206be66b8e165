//! Starting the sandbox and reading a Sigma source to its end, in-process.

use futures::StreamExt;
use serde_json::Value;
use sigma_connector::client::SigmaClient;
use sigma_connector::config::{Workflow, load_workflow_str};
use sigma_connector::sandbox::{Knobs, OrgSource, Sandbox, SandboxConfig, SandboxHandle};
use sigma_connector::sigma::source::{
    SigmaSource, SourceError, SourceItem, SourceOptions, SourceStatus,
};
use sigma_connector::workflow::Platform;

/// A sandbox serving `org` with `knobs`, on a free loopback port.
pub async fn sandbox(org: OrgSource, knobs: Knobs) -> SandboxHandle {
    sandbox_with(SandboxConfig {
        org,
        knobs,
        ..SandboxConfig::default()
    })
    .await
}

/// A sandbox as `config` says (its own credentials, the older API surface), on the port
/// it names (0: a free one).
pub async fn sandbox_with(config: SandboxConfig) -> SandboxHandle {
    Sandbox::start(config).await.expect("the sandbox starts")
}

/// A workflow reading `h` into the console sink, service `sigma_sandbox`: the connection
/// with `connection_extra` (JSON members, `"maxConcurrency": 8`, or empty), the source
/// config made of `source_config` (JSON members, or empty). The one builder of in-process
/// workflows; `support::cli::workflow_file` writes one to a file for the binary.
pub fn workflow(h: &SandboxHandle, connection_extra: &str, source_config: &str) -> Workflow {
    let extra = if connection_extra.trim().is_empty() {
        String::new()
    } else {
        format!(", {}", connection_extra.trim().trim_start_matches(','))
    };
    let text = format!(
        r#"{{"source": {{"type": "sigma", "serviceName": "sigma_sandbox",
            "serviceConnection": {{"config": {{"type": "Sigma", "hostPort": "{}", "clientId": "{}", "clientSecret": "{}" {extra}}}}},
            "sourceConfig": {{"config": {{ {source_config} }}}}}},
           "sink": {{"type": "console", "config": {{}}}}}}"#,
        h.base_url(),
        h.client_id(),
        h.client_secret()
    );
    load_workflow_str(&text).expect("a valid workflow")
}

/// JSON object members as text (`{"a": 1}` -> `"a":1`), for [`workflow`].
pub fn members(object: &serde_json::Value) -> String {
    let text = object.to_string();
    text.trim_start_matches('{')
        .trim_end_matches('}')
        .to_owned()
}

/// What a source stream yielded, with records in their JSON Lines form.
pub struct SourceRun {
    pub records: Vec<Value>,
    /// The catalog items the source yielded, as JSON.
    pub items: Vec<Value>,
    pub errors: Vec<SourceError>,
    pub status: SourceStatus,
    pub client: SigmaClient,
}

/// The workflow's source options and the platform it writes to (which says what
/// warehouse tables the source resolves), as the runner makes them.
pub fn source_options(wf: &Workflow) -> (SourceOptions, Platform) {
    let mut options = SourceOptions::from_workflow(wf).expect("valid source options");
    let platform = Platform::from_workflow(wf);
    options.placement = platform.placement();
    (options, platform)
}

/// Reads the workflow's Sigma source to its end, rendering its items as the runner does.
pub async fn run_source(wf: &Workflow) -> SourceRun {
    let client = SigmaClient::new(&wf.source.service_connection.config).expect("a client");
    let (options, mut platform) = source_options(wf);
    let source = SigmaSource::new(client.clone(), options);
    let status = source.status();
    let mut records = Vec::new();
    let mut items = Vec::new();
    let mut errors = Vec::new();
    let mut stream = source.items();
    while let Some(item) = stream.next().await {
        match item {
            Ok(SourceItem::Item(item)) => {
                items.push(serde_json::to_value(&item).expect("an item is JSON"));
                for record in platform.render(&item) {
                    status.emitted(record.kind().as_str());
                    records.push(serde_json::to_value(&record).expect("a record is JSON"));
                }
            }
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    SourceRun {
        records,
        items,
        errors,
        status: status.snapshot(),
        client,
    }
}

/// Asserts two runs yielded the same records in the same order; on a mismatch, names the
/// first differing position and the records only one side has, not two full dumps.
#[track_caller]
pub fn assert_same_records(got: &[Value], want: &[Value], what: &str) {
    if got == want {
        return;
    }
    let first = got
        .iter()
        .zip(want)
        .position(|(a, b)| a != b)
        .unwrap_or(got.len().min(want.len()));
    let only = |a: &[Value], b: &[Value]| -> Vec<String> {
        a.iter()
            .filter(|r| !b.contains(r))
            .take(5)
            .map(|r| r.to_string())
            .collect()
    };
    panic!(
        "{what}: {} records vs {} expected; first difference at #{first}\n  got:  {}\n  want: {}\nonly in got: {:#?}\nonly in want: {:#?}",
        got.len(),
        want.len(),
        got.get(first).map_or("-".into(), |v| v.to_string()),
        want.get(first).map_or("-".into(), |v| v.to_string()),
        only(got, want),
        only(want, got),
    );
}
