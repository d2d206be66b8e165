//! Starting the sandbox and reading a Sigma source to its end, in-process.

use futures::StreamExt;
use serde_json::Value;
use sigma_connector::client::SigmaClient;
use sigma_connector::config::Workflow;
use sigma_connector::sandbox::{Knobs, OrgSource, Sandbox, SandboxConfig, SandboxHandle};
use sigma_connector::sigma::source::{
    SigmaSource, SourceError, SourceItem, SourceOptions, SourceStatus,
};

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

/// What a source stream yielded, with records in their JSON Lines form.
pub struct SourceRun {
    pub records: Vec<Value>,
    pub errors: Vec<SourceError>,
    pub status: SourceStatus,
    pub client: SigmaClient,
}

/// Reads the workflow's Sigma source to its end.
pub async fn run_source(wf: &Workflow) -> SourceRun {
    let client = SigmaClient::new(&wf.source.service_connection.config).expect("a client");
    let options = SourceOptions::from_workflow(wf).expect("valid source options");
    let source = SigmaSource::new(client.clone(), options);
    let status = source.status();
    let mut records = Vec::new();
    let mut errors = Vec::new();
    let mut stream = source.records();
    while let Some(item) = stream.next().await {
        match item {
            Ok(SourceItem::Record { record, .. }) => {
                records.push(serde_json::to_value(&record).expect("a record is JSON"))
            }
            Ok(_) => {}
            Err(e) => errors.push(e),
        }
    }
    SourceRun {
        records,
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
