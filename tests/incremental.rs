//! Incremental runs through the binary, against the sandbox's generated org of today's Sigma:
//! an unchanged org costs a handful of requests and writes exactly a full run's output; the
//! checkpoint re-reads what changed, and reads everything when the options or connector
//! version changed or after `FULL_REFRESH_EVERY` incremental runs.

mod support;

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sigma_connector::sandbox::{Knobs, OrgSource, SandboxHandle, Stats, SyntheticConfig};
use sigma_connector::state::FULL_REFRESH_EVERY;
use support::cli::{assert_exit, file_sink, ingest, read_json, workflow_file};
use support::source::sandbox;

/// The 100-workbook org of today's Sigma (datasets, data models, reports, warehouse tables).
async fn org() -> SandboxHandle {
    sandbox(
        OrgSource::Synthetic(SyntheticConfig {
            workbooks: 100,
            ..SyntheticConfig::default()
        }),
        Knobs::default(),
    )
    .await
}

struct Dir {
    _dir: tempfile::TempDir,
    path: PathBuf,
    state: String,
}

impl Dir {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_owned();
        let state = path.join("state.json").to_str().unwrap().to_owned();
        Self {
            _dir: dir,
            path,
            state,
        }
    }
    fn workflow(&self, h: &SandboxHandle, source_config: Value) -> PathBuf {
        workflow_file(&self.path, h, source_config, file_sink(&self.path))
    }
    fn output(&self) -> Vec<u8> {
        std::fs::read(self.path.join("out.jsonl")).unwrap()
    }
    fn state_json(&self) -> Value {
        read_json(Path::new(&self.state))
    }
    fn write_state(&self, state: &Value) {
        std::fs::write(&self.state, state.to_string()).unwrap();
    }
}

fn lineage() -> Value {
    json!({"includeOwners": true, "lineageInformation": {"dbServicePrefixes": ["warehouse"]}})
}

/// Runs `ingest` with `extra` arguments and returns the sandbox's requests for it.
async fn run(h: &SandboxHandle, wf: &Path, extra: &[&str]) -> Stats {
    h.reset_stats();
    let out = ingest(wf, extra).await;
    assert_exit(&out, 0);
    h.stats()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unchanged_org_costs_at_most_5_percent_of_a_full_run_with_the_same_output() {
    let h = org().await;
    let dir = Dir::new();
    let wf = dir.workflow(&h, lineage());
    let full = run(&h, &wf, &["--state", &dir.state]).await;
    let full_output = dir.output();
    let status_file = dir.path.join("status.json");
    let incremental = run(
        &h,
        &wf,
        &[
            "--state",
            &dir.state,
            "--incremental",
            "--status-file",
            status_file.to_str().unwrap(),
        ],
    )
    .await;
    println!(
        "100-workbook org of today's Sigma: full run {} requests, incremental run {} requests ({:.1}%)",
        full.total_requests,
        incremental.total_requests,
        100.0 * incremental.total_requests as f64 / full.total_requests as f64
    );
    println!(
        "incremental run's requests by route: {:?}",
        incremental.requests_by_route
    );
    assert!(
        incremental.total_requests * 20 <= full.total_requests,
        "incremental {} vs full {} requests",
        incremental.total_requests,
        full.total_requests
    );
    assert!(
        dir.output() == full_output,
        "the same output, byte for byte"
    );
    // Nothing per object: no data model, dataset or warehouse path is asked again.
    for route in [
        "/v2/dataModels/{dataModelId}/elements",
        "/v2/dataModels/{dataModelId}/lineage",
        "/v2/datasets/{datasetId}/sources",
        "/v2/connections/paths/{inodeId}",
        "/v2/workbooks/{workbookId}/pages",
    ] {
        assert_eq!(incremental.requests(route), 0, "{route}");
        assert!(full.requests(route) > 0, "{route}");
    }
    let status = read_json(&status_file);
    assert_eq!(status["outcome"], "success");
    // 100 workbooks and the synthetic org's 10 reports.
    assert_eq!(status["unchangedWorkbooks"], 110);

    // A second incremental run on the first one's state: the same again.
    let again = run(&h, &wf, &["--state", &dir.state, "--incremental"]).await;
    assert_eq!(again.total_requests, incremental.total_requests);
    assert!(dir.output() == full_output);
    assert_eq!(dir.state_json()["incrementalRuns"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn what_changed_is_read_again_and_nothing_else() {
    let h = org().await;
    let dir = Dir::new();
    let wf = dir.workflow(&h, lineage());
    let full = run(&h, &wf, &["--state", &dir.state]).await;
    let full_output = dir.output();

    // One data model, one dataset and one workbook as if they had changed since (their
    // stamps in the checkpoint are older), and one warehouse path the checkpoint lacks.
    let mut state = dir.state_json();
    let model = state["models"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    state["models"][&model]["stamp"] = json!("2000-01-01T00:00:00Z");
    let dataset = state["datasets"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(_, d)| d["end"].get("emitted").is_some())
        .map(|(id, _)| id.clone())
        .expect("a dataset with a data model of its own");
    state["datasets"][&dataset]["stamp"] = json!("old");
    let document = state["documents"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    state["documents"][&document]["updatedAt"] = json!("2000-01-01T00:00:00Z");
    let inode = state["paths"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    state["paths"].as_object_mut().unwrap().remove(&inode);
    dir.write_state(&state);

    let incremental = run(&h, &wf, &["--state", &dir.state, "--incremental"]).await;
    assert!(
        dir.output() == full_output,
        "the same output, byte for byte"
    );
    assert_eq!(
        incremental.requests("/v2/dataModels/{dataModelId}/elements"),
        1
    );
    assert_eq!(incremental.requests("/v2/datasets/{datasetId}/sources"), 1);
    assert_eq!(incremental.requests("/v2/workbooks/{workbookId}/pages"), 1);
    assert!(
        incremental.requests("/v2/connections/paths/{inodeId}") <= 1,
        "only a path the checkpoint lacks, and only if a re-read object reads it"
    );
    println!(
        "one data model, dataset and workbook changed: {} requests (full run {})",
        incremental.total_requests, full.total_requests
    );
    assert!(incremental.total_requests * 10 < full.total_requests);
}

#[tokio::test(flavor = "multi_thread")]
async fn other_options_or_many_incremental_runs_mean_a_full_run() {
    let h = org().await;
    let dir = Dir::new();
    let wf = dir.workflow(&h, lineage());
    let full = run(&h, &wf, &["--state", &dir.state]).await;

    // includeTags changes what records say: the checkpoint's records are not replayed.
    let mut other = lineage();
    other["includeTags"] = json!(false);
    let wf_other = dir.workflow(&h, other);
    let changed = run(&h, &wf_other, &["--state", &dir.state, "--incremental"]).await;
    assert_eq!(changed.total_requests, full.total_requests, "a full run");
    assert_eq!(dir.state_json()["incrementalRuns"], 0);
    let tags_off = dir.output();

    // Under the same options it is incremental again...
    let wf = dir.workflow(&h, {
        let mut o = lineage();
        o["includeTags"] = json!(false);
        o
    });
    let incremental = run(&h, &wf, &["--state", &dir.state, "--incremental"]).await;
    assert!(incremental.total_requests * 20 <= full.total_requests);
    assert!(dir.output() == tags_off);

    // ...until FULL_REFRESH_EVERY incremental runs have followed the last full one.
    let mut state = dir.state_json();
    state["incrementalRuns"] = json!(FULL_REFRESH_EVERY);
    dir.write_state(&state);
    let refresh = run(&h, &wf, &["--state", &dir.state, "--incremental"]).await;
    assert_eq!(refresh.total_requests, full.total_requests, "a full run");
    assert_eq!(dir.state_json()["incrementalRuns"], 0);
    assert!(dir.output() == tags_off);
}

/// The same for a DataHub sink: the unchanged objects' items, kept in the state, are
/// rendered again, so the proposals are a full run's, in the same order; and a later
/// complete run still soft-deletes what is gone, also of what was replayed.
#[tokio::test(flavor = "multi_thread")]
async fn a_datahub_run_is_incremental_too_with_a_full_runs_proposals() {
    let h = org().await;
    let dir = Dir::new();
    let out = dir.path.join("mcps.json");
    let sink = json!({"type": "datahub-file", "config": {"filename": out}});
    let wf = workflow_file(&dir.path, &h, lineage(), sink.clone());
    let full = run(&h, &wf, &["--state", &dir.state]).await;
    let full_output = std::fs::read(&out).unwrap();
    let incremental = run(&h, &wf, &["--state", &dir.state, "--incremental"]).await;
    println!(
        "DataHub sink: full run {} requests, incremental run {} requests",
        full.total_requests, incremental.total_requests
    );
    assert!(
        incremental.total_requests * 20 <= full.total_requests,
        "incremental {} vs full {} requests",
        incremental.total_requests,
        full.total_requests
    );
    assert!(
        std::fs::read(&out).unwrap() == full_output,
        "the same proposals, byte for byte"
    );
    assert_eq!(dir.state_json()["incrementalRuns"], 1);

    // The first workbook excluded: the next incremental run (its options changed, so a
    // full one) removes its dashboard, and nothing of the unchanged rest.
    let mcps: Vec<Value> = serde_json::from_slice(&full_output).unwrap();
    let first = mcps
        .iter()
        .find(|m| {
            m["aspectName"] == "dashboardInfo"
                && m["aspect"]["json"]["customProperties"]["sigmaType"] == "workbook"
        })
        .unwrap();
    let (urn, name) = (
        first["entityUrn"].as_str().unwrap().to_owned(),
        first["aspect"]["json"]["title"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    let mut excluding = lineage();
    excluding["dashboardFilterPattern"] =
        json!({"excludes": [format!("^{}$", regex::escape(&name))]});
    let wf = workflow_file(&dir.path, &h, excluding, sink);
    run(&h, &wf, &["--state", &dir.state, "--incremental"]).await;
    let after: Vec<Value> = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    let removed: Vec<&str> = after
        .iter()
        .filter(|m| m["aspectName"] == "status" && m["aspect"]["json"]["removed"] == true)
        .filter_map(|m| m["entityUrn"].as_str())
        .filter(|u| u.starts_with("urn:li:dashboard:"))
        .collect();
    assert!(removed.contains(&urn.as_str()), "{removed:?}");
    assert!(
        removed.len() <= 4,
        "the workbook's dashboard and its pages only: {removed:?}"
    );
}
