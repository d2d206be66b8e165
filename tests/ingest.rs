//! `sigma-connector ingest` end to end, through the binary, against the sandbox: output,
//! exit codes, interruption, incremental runs, mark-deleted, crash safety.

mod support;

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use serde_json::{Value, json};
use sigma_connector::sandbox::{Knobs, OrgSource, SandboxHandle, SyntheticConfig};
use support::cli::{
    BIN, assert_exit, file_sink, ingest, ingest_into_a_full_disk, lines, read_json, workflow_file,
};
use support::source::sandbox;
use tokio::process::Command;

const MARKETING: &str = "a3c1e5f7-0002-4a2b-8c3d-5e6f7a8b9c02";

#[tokio::test(flavor = "multi_thread")]
async fn file_sink_output_equals_the_expected_records() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let sc = json!({"includeOwners": true, "lineageInformation": {"dbServicePrefixes": ["snowflake_prod"]}});
    let wf = workflow_file(dir.path(), &h, sc, file_sink(dir.path()));
    let status_file = dir.path().join("status.json");
    let out = ingest(&wf, &["--status-file", status_file.to_str().unwrap()]).await;
    assert_exit(&out, 0);
    let expected: Vec<Value> = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/fixture-org.jsonl"),
    )
    .unwrap()
    .lines()
    .map(|l| serde_json::from_str(l).unwrap())
    .collect();
    // Each line names the Sigma object it was rendered from; the rest is the golden.
    let mut written = lines(&dir.path().join("out.jsonl"));
    for line in &mut written {
        let group = line
            .as_object_mut()
            .unwrap()
            .remove("group")
            .unwrap_or_else(|| panic!("a line without its group: {line}"));
        let kind = group["kind"].as_str().unwrap();
        let expected_kind = match line["kind"].as_str().unwrap() {
            "dashboardService" => "org",
            "chart" | "dashboard" => "document",
            _ => kind,
        };
        assert_eq!(kind, expected_kind, "{line}");
        assert!(!group["id"].as_str().unwrap().is_empty());
    }
    assert_eq!(written, expected);
    let s = read_json(&status_file);
    assert_eq!(s["outcome"], "success");
    assert_eq!(s["listingsComplete"], true);
    assert_eq!(s["successPercentage"], 100.0);
    assert!(s["sigmaRequests"]["requests"].as_u64().unwrap() > 10);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("Workflow summary"), "{stderr}");
    assert!(!stderr.contains(h.client_secret()));
}

#[tokio::test(flavor = "multi_thread")]
async fn console_sink_prints_a_line_per_record() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow_file(
        dir.path(),
        &h,
        json!({}),
        json!({"type": "console", "config": {}}),
    );
    let out = ingest(&wf, &[]).await;
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("dashboard") && l.contains("\"Quarterly Revenue\"")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("chart") && l.contains("(Bar)"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn success_threshold_decides_the_exit_code() {
    let knobs = Knobs {
        forbidden: [format!("/v2/workbooks/{MARKETING}/pages")].into(),
        ..Knobs::default()
    };
    let h = sandbox(OrgSource::Fixtures, knobs).await;
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow_file(dir.path(), &h, json!({}), file_sink(dir.path()));
    let status_file = dir.path().join("status.json");
    let out = ingest(&wf, &["--status-file", status_file.to_str().unwrap()]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "one failure in ~40 records is above 90%"
    );
    let s = read_json(&status_file);
    assert_eq!(s["outcome"], "partialSuccess");
    assert_eq!(s["steps"][0]["failures"], 1);
    assert!(
        s["steps"][0]["failureExamples"][0]
            .as_str()
            .unwrap()
            .contains(MARKETING)
    );
    let out = ingest(
        &wf,
        &[
            "--success-threshold",
            "99.5",
            "--status-file",
            status_file.to_str().unwrap(),
        ],
    )
    .await;
    assert_exit(&out, 1);
    assert_eq!(read_json(&status_file)["outcome"], "failed");
    let out = ingest(&wf, &["--success-threshold", "250"]).await;
    assert_eq!(out.status.code(), Some(2), "a bad flag is a usage error");
}

/// `--output -` into a full disk: the write fails, so the run fails (exit 1), whatever its
/// success percentage.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread")]
async fn a_sink_that_cannot_write_fails_the_run() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow_file(dir.path(), &h, json!({}), file_sink(dir.path()));
    let status_file = dir.path().join("status.json");
    let status_arg = status_file.to_str().unwrap();
    let out = ingest_into_a_full_disk(&wf, &["--status-file", status_arg]).await;
    assert_exit(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("standard output"), "{stderr}");
    // The fixture org's output is larger than the sink's buffer: a write fails mid-run.
    assert_eq!(read_json(&status_file)["outcome"], "failed");
}

/// A sink that cannot even be opened: the run cannot start, says so, and exits 1.
#[tokio::test(flavor = "multi_thread")]
async fn a_run_that_cannot_start_is_could_not_run() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let sink = json!({"type": "file", "config": {"filename": blocker.join("out.jsonl")}});
    let wf = workflow_file(dir.path(), &h, json!({}), sink);
    let out = ingest(&wf, &[]).await;
    assert_exit(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("outcome: couldNotRun"), "{stderr}");
    assert_eq!(
        h.stats().requests_by_route.values().sum::<u64>(),
        0,
        "no Sigma request"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn config_errors_exit_2_and_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, "source: {type: sigma}\nsink: {type: file}\n").unwrap();
    let out = ingest(&path, &[]).await;
    assert_exit(&out, 2);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("/source/serviceName"), "{stderr}");
}

/// Polls the sandbox until the run is under way. The run cannot finish first, however fast
/// the machine: the sandbox holds each of its ~1,270 requests 30 ms, 16 at a time, so it
/// lasts over two seconds after the 15th request.
async fn wait_for_requests(h: &SandboxHandle, at_least: u64) {
    support::wait_until("the run to get under way", || {
        h.stats().total_requests >= at_least
    })
    .await;
}

async fn run_and_signal(config: &Path, extra: &[&str], h: &SandboxHandle, signal: &str) -> Output {
    let child = Command::new(BIN)
        .arg("ingest")
        .arg("-c")
        .arg(config)
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().unwrap().to_string();
    wait_for_requests(h, 15).await;
    let killed = std::process::Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait_with_output().await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_run_keeps_the_previous_output_and_says_so() {
    let knobs = Knobs {
        latency: Duration::from_millis(30),
        ..Knobs::default()
    };
    let h = sandbox(
        OrgSource::Synthetic(SyntheticConfig {
            workbooks: 300,
            ..Default::default()
        }),
        knobs,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow_file(dir.path(), &h, json!({}), file_sink(dir.path()));
    let out_file = dir.path().join("out.jsonl");
    std::fs::write(&out_file, "last good output\n").unwrap();
    let state_file = dir.path().join("state.json");
    let previous_state = r#"{"version":1,"serviceName":"sigma_sandbox","finishedAt":"2026-01-01T00:00:00Z","dashboards":{},"dataModels":{}}"#;
    std::fs::write(&state_file, previous_state).unwrap();
    let status_file = dir.path().join("status.json");
    let out = run_and_signal(
        &wf,
        &[
            "--status-file",
            status_file.to_str().unwrap(),
            "--state",
            state_file.to_str().unwrap(),
        ],
        &h,
        "-TERM",
    )
    .await;
    assert_exit(&out, 1);
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap(),
        "last good output\n"
    );
    assert_eq!(
        std::fs::read_to_string(&state_file).unwrap(),
        previous_state
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("outcome: interrupted"), "{stderr}");
    assert!(
        stderr.contains("kept the previous run's files unchanged"),
        "{stderr}"
    );
    let s = read_json(&status_file);
    assert_eq!(s["interrupted"], true);
    assert_eq!(s["outcome"], "interrupted");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let kept = format!("the previous {} was kept", out_file.display());
    assert!(
        stderr.contains(&format!("the run was INTERRUPTED: {kept}")),
        "{stderr}"
    );
    assert_eq!(s["keptPrevious"].as_array().unwrap().len(), 2);
    let leftovers = std::fs::read_dir(dir.path()).unwrap().count();
    assert_eq!(
        leftovers, 4,
        "workflow, output, state and status: no temporary file left"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_9_mid_run_leaves_the_previous_output_and_state_intact() {
    let knobs = Knobs {
        latency: Duration::from_millis(30),
        ..Knobs::default()
    };
    let h = sandbox(
        OrgSource::Synthetic(SyntheticConfig {
            workbooks: 300,
            ..Default::default()
        }),
        knobs,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow_file(dir.path(), &h, json!({}), file_sink(dir.path()));
    let out_file = dir.path().join("out.jsonl");
    let state_file = dir.path().join("state.json");
    std::fs::write(&out_file, "previous output\n").unwrap();
    let previous_state = r#"{"version":1,"serviceName":"sigma_sandbox","finishedAt":"2026-01-01T00:00:00Z","dashboards":{},"dataModels":{}}"#;
    std::fs::write(&state_file, previous_state).unwrap();
    let out = run_and_signal(&wf, &["--state", state_file.to_str().unwrap()], &h, "-KILL").await;
    assert_eq!(out.status.code(), None, "killed by a signal");
    assert_eq!(
        std::fs::read_to_string(&out_file).unwrap(),
        "previous output\n"
    );
    assert_eq!(
        std::fs::read_to_string(&state_file).unwrap(),
        previous_state
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_first_run_does_not_claim_to_keep_an_output_it_never_had() {
    let knobs = Knobs {
        latency: Duration::from_millis(30),
        ..Knobs::default()
    };
    let h = sandbox(
        OrgSource::Synthetic(SyntheticConfig {
            workbooks: 300,
            ..Default::default()
        }),
        knobs,
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow_file(dir.path(), &h, json!({}), file_sink(dir.path()));
    let state_file = dir.path().join("state.json");
    let out = run_and_signal(&wf, &["--state", state_file.to_str().unwrap()], &h, "-TERM").await;
    assert_exit(&out, 1);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("previous"), "{stderr}");
    let out_file = dir.path().join("out.jsonl");
    assert!(
        stderr.contains(&format!(
            "the run was INTERRUPTED: nothing was written to {}; the state {} was not updated",
            out_file.display(),
            state_file.display()
        )),
        "{stderr}"
    );
    assert!(!out_file.exists() && !state_file.exists());
}

#[tokio::test(flavor = "multi_thread")]
async fn incremental_runs_make_far_fewer_requests_and_the_same_output() {
    let h = sandbox(
        OrgSource::Synthetic(SyntheticConfig {
            workbooks: 40,
            ..Default::default()
        }),
        Knobs::default(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow_file(dir.path(), &h, json!({}), file_sink(dir.path()));
    let state = dir.path().join("state.json");
    let state = state.to_str().unwrap();
    let out = ingest(&wf, &["--state", state]).await;
    assert_exit(&out, 0);
    let full = std::fs::read(dir.path().join("out.jsonl")).unwrap();
    let full_requests = h.stats().total_requests;
    h.reset_stats();
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
    let incremental_requests = h.stats().total_requests;
    assert_eq!(
        std::fs::read(dir.path().join("out.jsonl")).unwrap(),
        full,
        "same output"
    );
    assert!(
        incremental_requests * 5 < full_requests,
        "incremental {incremental_requests} vs full {full_requests} requests"
    );
    // 40 workbooks and the synthetic org's 10 reports: reports are incremental too.
    assert_eq!(read_json(&status_file)["unchangedWorkbooks"], 50);
}

#[tokio::test(flavor = "multi_thread")]
async fn mark_deleted_after_a_complete_run_and_never_after_a_partial_one() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state = state.to_str().unwrap();
    let wf = workflow_file(dir.path(), &h, json!({}), file_sink(dir.path()));
    assert_eq!(
        ingest(&wf, &["--state", state]).await.status.code(),
        Some(0)
    );

    // Marketing Funnel disappears (filtered out): a complete run marks it deleted.
    let wf2 = workflow_file(
        dir.path(),
        &h,
        json!({"dashboardFilterPattern": {"excludes": ["Marketing"]}}),
        file_sink(dir.path()),
    );
    assert_eq!(
        ingest(&wf2, &["--state", state]).await.status.code(),
        Some(0)
    );
    // The dashboard and, with markDeletedCharts (2.0.7's default), its six charts.
    let deletes = deleted(&dir.path().join("out.jsonl"));
    let mut expected = vec![format!("dashboard sigma_sandbox.{MARKETING}")];
    expected.extend(
        MARKETING_CHARTS
            .iter()
            .map(|e| format!("chart sigma_sandbox.{MARKETING}_{e}")),
    );
    // And each chart's columns, carried as a data model.
    expected.extend(
        MARKETING_CHARTS
            .iter()
            .map(|e| format!("dashboardDataModel sigma_sandbox.model.{MARKETING}_{e}")),
    );
    expected.sort();
    assert_eq!(deletes, expected);
}

const MARKETING_CHARTS: [&str; 6] = [
    "elMktAre001",
    "elMktPie002",
    "elMktMap003",
    "elMktTbl004",
    "elMktDon005",
    "elMktCmb006",
];

/// The delete records of an output, as sorted `type fqn` lines.
fn deleted(out: &Path) -> Vec<String> {
    let mut d: Vec<String> = lines(out)
        .into_iter()
        .filter(|r| r["kind"] == "delete")
        .map(|r| {
            format!(
                "{} {}",
                r["entity"]["type"].as_str().unwrap(),
                r["entity"]["fqn"].as_str().unwrap()
            )
        })
        .collect();
    d.sort();
    d
}

#[tokio::test(flavor = "multi_thread")]
async fn mark_deleted_charts_of_remaining_dashboards_never_of_failed_ones_and_only_when_asked() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state = state.to_str().unwrap();
    let out = dir.path().join("out.jsonl");
    let status_file = dir.path().join("status.json");
    let status = status_file.to_str().unwrap();
    let run = |config: Value| workflow_file(dir.path(), &h, config, file_sink(dir.path()));
    let wf = run(json!({}));
    assert_eq!(
        ingest(&wf, &["--state", state]).await.status.code(),
        Some(0)
    );

    // Two charts of Marketing Funnel disappear (filtered out); the dashboard remains.
    let wf = run(json!({"chartFilterPattern": {"excludes": ["Sessions over", "Campaign"]}}));
    assert_eq!(
        ingest(&wf, &["--state", state]).await.status.code(),
        Some(0)
    );
    assert_eq!(
        deleted(&out),
        vec![
            format!("chart sigma_sandbox.{MARKETING}_elMktAre001"),
            format!("chart sigma_sandbox.{MARKETING}_elMktDon005"),
            // The charts' columns, carried as data models.
            format!("dashboardDataModel sigma_sandbox.model.{MARKETING}_elMktAre001"),
            format!("dashboardDataModel sigma_sandbox.model.{MARKETING}_elMktDon005"),
        ]
    );

    // Marketing Funnel now fails (403 on its pages): none of its charts is deleted although
    // none was seen, and the status names the failed workbook by id.
    let wf = run(json!({}));
    assert_eq!(
        ingest(&wf, &["--state", state]).await.status.code(),
        Some(0)
    );
    h.update_knobs(|k| {
        k.forbidden.insert(MARKETING.into());
    });
    ingest(&wf, &["--state", state, "--status-file", status]).await;
    assert_eq!(deleted(&out), Vec::<String>::new());
    let s = read_json(&status_file);
    let failed = s["failedObjects"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0]["kind"], "dashboard");
    assert_eq!(failed[0]["id"], MARKETING);
    assert_eq!(failed[0]["name"], "Marketing Funnel");
    h.update_knobs(|k| k.forbidden.clear());

    // markDeletedCharts: false deletes the dashboard and no chart; its charts' columns are
    // data models, which markDeletedDataModels governs.
    let wf = run(
        json!({"markDeletedCharts": false, "dashboardFilterPattern": {"excludes": ["Marketing"]}}),
    );
    assert_eq!(
        ingest(&wf, &["--state", state]).await.status.code(),
        Some(0)
    );
    let mut expected = vec![format!("dashboard sigma_sandbox.{MARKETING}")];
    expected.extend(
        MARKETING_CHARTS
            .iter()
            .map(|e| format!("dashboardDataModel sigma_sandbox.model.{MARKETING}_{e}")),
    );
    expected.sort();
    assert_eq!(deleted(&out), expected);
}

const WEEKLY_MARKETING_REPORT: &str = "4e90a1b2-0003-4c3d-8e4f-5a6b7c8d9e03";
const SALES_MODEL: &str = "e8f9a0b1-2222-4d3e-9f40-0000000000b1";
const MARKETING_MODEL: &str = "e8f9a0b1-2222-4d3e-9f40-0000000000b2";

#[tokio::test(flavor = "multi_thread")]
async fn mark_deleted_covers_reports_and_data_models_and_spares_a_failed_data_model() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let state = state.to_str().unwrap();
    let out = dir.path().join("out.jsonl");
    let run = |config: Value| workflow_file(dir.path(), &h, config, file_sink(dir.path()));
    assert_exit(&ingest(&run(json!({})), &["--state", state]).await, 0);
    let first = lines(&out);
    let fqns_of = |kind: &str, prefix: &str| -> Vec<String> {
        first
            .iter()
            .filter(|r| r["kind"] == kind)
            .map(|r| r["fqn"].as_str().unwrap().to_owned())
            .filter(|fqn| fqn.starts_with(prefix))
            .collect()
    };
    let report = format!("sigma_sandbox.report_{WEEKLY_MARKETING_REPORT}");
    let report_charts = fqns_of("chart", &format!("{report}_"));
    let marketing_models = fqns_of(
        "dataModel",
        &format!("sigma_sandbox.model.{MARKETING_MODEL}_"),
    );
    assert!(!report_charts.is_empty() && marketing_models.len() >= 2);

    // The report and a data model disappear (filtered out): a complete run marks the
    // report, its charts and every element of the data model deleted.
    let wf = run(json!({
        "dashboardFilterPattern": {"excludes": ["Weekly Marketing"]},
        "dataModelFilterPattern": {"excludes": ["Marketing Model"]},
    }));
    assert_exit(&ingest(&wf, &["--state", state]).await, 0);
    let mut expected = vec![format!("dashboard {report}")];
    expected.extend(report_charts.iter().map(|c| format!("chart {c}")));
    // The report's charts' columns, carried as data models.
    expected.extend(report_charts.iter().map(|c| {
        let (service, name) = c.split_once('.').unwrap();
        format!("dashboardDataModel {service}.model.{name}")
    }));
    expected.extend(
        marketing_models
            .iter()
            .map(|m| format!("dashboardDataModel {m}")),
    );
    expected.sort();
    assert_eq!(deleted(&out), expected);

    // Sales Model now fails (403 on its elements): none of its data models is deleted,
    // though none was seen.
    h.update_knobs(|k| {
        k.forbidden.insert(SALES_MODEL.into());
    });
    let status_file = dir.path().join("status.json");
    let out_run = ingest(
        &run(json!({})),
        &[
            "--state",
            state,
            "--status-file",
            status_file.to_str().unwrap(),
        ],
    )
    .await;
    assert_exit(&out_run, 0);
    let failed = read_json(&status_file)["failedObjects"].clone();
    assert!(
        failed
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == SALES_MODEL),
        "{failed}"
    );
    assert!(
        deleted(&out).iter().all(|d| !d.contains(SALES_MODEL)),
        "{:?}",
        deleted(&out)
    );

    // And they stay in the state: once the data model answers again and then goes (filtered
    // out), a complete run still deletes them.
    h.update_knobs(|k| k.forbidden.clear());
    let wf = run(json!({"dataModelFilterPattern": {"excludes": ["Sales Model"]}}));
    assert_exit(&ingest(&wf, &["--state", state]).await, 0);
    let sales: Vec<String> = deleted(&out)
        .into_iter()
        .filter(|d| d.contains(SALES_MODEL))
        .collect();
    assert!(!sales.is_empty(), "{:?}", deleted(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn include_usage_is_warned_once_and_not_when_off() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let status_file = dir.path().join("status.json");
    let status = status_file.to_str().unwrap();
    let usage_warnings = |s: &Value| {
        s["steps"][0]["warningExamples"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|w| w.as_str().unwrap().contains("includeUsage"))
            .count()
    };
    for (config, expected) in [
        (json!({}), 1),
        (json!({"includeUsage": true}), 1),
        (json!({"includeUsage": false}), 0),
    ] {
        let wf = workflow_file(dir.path(), &h, config.clone(), file_sink(dir.path()));
        let out = ingest(&wf, &["--status-file", status]).await;
        assert_eq!(out.status.code(), Some(0));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            stderr
                .matches("includeUsage: Sigma has no usage API")
                .count(),
            // The log line, and the status table's warning list.
            expected * 2,
            "{config}: {stderr}"
        );
        assert_eq!(
            usage_warnings(&read_json(&status_file)),
            expected,
            "{config}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_partial_listing_deletes_nothing() {
    let org = || {
        OrgSource::Synthetic(SyntheticConfig {
            workbooks: 1200,
            pages_per_workbook: 1,
            elements_per_page: 1,
            ..Default::default()
        })
    };
    let h = sandbox(org(), Knobs::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let wf = workflow_file(dir.path(), &h, json!({}), file_sink(dir.path()));
    assert_eq!(
        ingest(&wf, &["--state", state.to_str().unwrap()])
            .await
            .status
            .code(),
        Some(0)
    );
    let dashboards_before = status_dashboards(&state);
    assert_eq!(dashboards_before, 1200 + 10, "1200 workbooks, 10 reports");

    h.update_knobs(|k| k.fail_listings_from_offset = Some(1000));
    let status_file = dir.path().join("status.json");
    let out = ingest(
        &wf,
        &[
            "--state",
            state.to_str().unwrap(),
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
    assert!(
        lines(&dir.path().join("out.jsonl"))
            .iter()
            .all(|r| r["kind"] != "delete")
    );
    assert_eq!(
        status_dashboards(&state),
        1200 + 10,
        "the state keeps what this run could not see"
    );
}

fn status_dashboards(state: &Path) -> usize {
    read_json(state)["documents"].as_object().unwrap().len()
}
