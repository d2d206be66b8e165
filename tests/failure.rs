//! A bad run never costs the last good result: one test per failure class, through the
//! binary and the sandbox over HTTP. After each failed run the previous output and state are
//! byte for byte what they were, the exit code and summary are as the README documents, and
//! what could not start made no Sigma request. (SIGTERM and kill -9 are in `ingest.rs`.)

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sigma_connector::sandbox::{Knobs, OrgSource, SandboxHandle};
use support::cli::{assert_exit, file_sink, ingest, lines, read_json, workflow_file};
use support::source::sandbox;

/// "Fails in seconds" is asserted by counting: the status file says no request was retried
/// (`assert_could_not_run`). This bound is only a backstop against a run that hangs or keeps
/// trying; such a failure takes ~0.1 s today, so 30 s holds on a machine far slower than any
/// CI, and no machine is too fast for it (docs/testing.md).
const FAIL_FAST: Duration = Duration::from_secs(30);

/// A directory holding a good run's output and state, and the workflow that wrote them.
struct GoodRun {
    dir: tempfile::TempDir,
    workflow: PathBuf,
    output: Vec<u8>,
    state: Vec<u8>,
}

impl GoodRun {
    async fn new(h: &SandboxHandle, source_config: Value) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let workflow = workflow_file(dir.path(), h, source_config, file_sink(dir.path()));
        let out = ingest(
            &workflow,
            &["--state", path(&dir.path().join("state.json"))],
        )
        .await;
        assert_exit(&out, 0);
        Self {
            output: std::fs::read(dir.path().join("out.jsonl")).unwrap(),
            state: std::fs::read(dir.path().join("state.json")).unwrap(),
            workflow,
            dir,
        }
    }

    fn status_file(&self) -> PathBuf {
        self.dir.path().join("status.json")
    }

    /// `ingest` again with the state and a status file, plus `extra`.
    async fn again(&self, workflow: &Path, extra: &[&str]) -> Output {
        let state = self.dir.path().join("state.json");
        let status = self.status_file();
        let mut args = vec!["--state", path(&state), "--status-file", path(&status)];
        args.extend_from_slice(extra);
        ingest(workflow, &args).await
    }

    /// The workflow with its connection changed by `edit`.
    fn edited(&self, edit: impl FnOnce(&mut Value)) -> PathBuf {
        let mut doc = read_json(&self.workflow);
        edit(&mut doc["source"]["serviceConnection"]["config"]);
        let path = self.dir.path().join("edited.json");
        std::fs::write(&path, doc.to_string()).unwrap();
        path
    }

    #[track_caller]
    fn assert_untouched(&self) {
        assert!(
            std::fs::read(self.dir.path().join("out.jsonl")).unwrap() == self.output,
            "the previous output changed"
        );
        assert!(
            std::fs::read(self.dir.path().join("state.json")).unwrap() == self.state,
            "the previous state changed"
        );
    }
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A port on loopback nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[track_caller]
fn assert_could_not_run(good: &GoodRun, out: &Output, cause: &str) {
    assert_exit(out, 1);
    let err = stderr(out);
    assert!(err.contains(cause), "{err}");
    assert!(err.contains("outcome: couldNotRun"), "{err}");
    assert!(
        err.contains("kept the previous run's files unchanged"),
        "{err}"
    );
    good.assert_untouched();
    let s = read_json(&good.status_file());
    assert_eq!(s["outcome"], "couldNotRun");
    assert!(s["error"].as_str().unwrap().contains(cause), "{s}");
    assert_eq!(
        s["sigmaRequests"]["retries"], 0,
        "what retrying cannot fix is not retried: {s}"
    );
    assert_eq!(s["keptPrevious"].as_array().unwrap().len(), 2, "{s}");
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_credentials_keep_the_last_output_and_say_so() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let good = GoodRun::new(&h, json!({})).await;
    let wf = good.edited(|c| c["clientSecret"] = json!("not-the-secret"));
    h.reset_stats();
    let started = Instant::now();
    let out = good.again(&wf, &[]).await;
    // timing: a backstop far from both outcomes (see FAIL_FAST); retries are counted in assert_could_not_run.
    assert!(started.elapsed() < FAIL_FAST, "{:?}", started.elapsed());
    assert_could_not_run(&good, &out, "Sigma rejected the client ID or client secret");
    assert!(!stderr(&out).contains("not-the-secret"));
    assert_eq!(h.stats().total_requests, 1, "one token request, no listing");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_port_fails_in_seconds_naming_the_cause() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let good = GoodRun::new(&h, json!({})).await;
    let port = closed_port();
    let wf = good.edited(|c| c["hostPort"] = json!(format!("http://127.0.0.1:{port}")));
    let started = Instant::now();
    let out = good.again(&wf, &[]).await;
    // timing: a backstop far from both outcomes (see FAIL_FAST); retries are counted in assert_could_not_run.
    assert!(started.elapsed() < FAIL_FAST, "{:?}", started.elapsed());
    assert_could_not_run(
        &good,
        &out,
        &format!("Connection refused at 127.0.0.1:{port}"),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unresolvable_host_fails_in_seconds_naming_the_cause() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let good = GoodRun::new(&h, json!({})).await;
    let wf = good.edited(|c| c["hostPort"] = json!("https://sigma.no-such-host.invalid"));
    let started = Instant::now();
    let out = good.again(&wf, &[]).await;
    // timing: a backstop far from both outcomes (see FAIL_FAST); retries are counted in assert_could_not_run.
    assert!(started.elapsed() < FAIL_FAST, "{:?}", started.elapsed());
    assert_could_not_run(
        &good,
        &out,
        "The host name sigma.no-such-host.invalid could not be resolved",
    );
}

/// The fixture org has six workbooks; with two per page, the listing breaks at page two.
#[tokio::test(flavor = "multi_thread")]
async fn a_listing_that_breaks_midway_is_partial_and_set_aside() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let good = GoodRun::new(&h, json!({})).await;
    let wf = good.edited(|c| c["pageSize"] = json!(2));
    h.update_knobs(|k| k.fail_listings_from_offset = Some(2));
    let out = good.again(&wf, &[]).await;
    assert_exit(&out, 3);
    let err = stderr(&out);
    assert!(err.contains("outcome: partial,"), "{err}");
    assert!(
        err.contains("INCOMPLETE: listing `workbooks` ended early after 2 item(s) on 1 page(s)"),
        "{err}"
    );
    good.assert_untouched();

    let s = read_json(&good.status_file());
    assert_eq!(s["outcome"], "partial");
    assert_eq!(s["deleted"], 0);
    let workbooks = s["incompleteListings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["listing"] == "workbooks")
        .unwrap_or_else(|| panic!("{s}"));
    assert_eq!(workbooks["itemsSoFar"], 2);
    assert_eq!(workbooks["pagesSoFar"], 1);
    assert!(workbooks["cause"].as_str().unwrap().contains("HTTP 500"));

    let partial = good.dir.path().join("out.jsonl.partial");
    assert_eq!(s["output"], path(&partial));
    let fetched = lines(&partial);
    assert_eq!(
        fetched.len() as u64,
        s["steps"][1]["processed"].as_u64().unwrap(),
        "every record the sink took is in the partial file"
    );
    assert!(
        fetched.len() > 1,
        "more than the service record: {fetched:?}"
    );
    assert!(fetched.iter().all(|r| r["kind"] != "delete"));

    // Accepted on purpose: committed, still nothing deleted, the state keeps what it missed.
    // (Here most workbooks' own pages fail too, so the threshold is lowered as well.)
    let out = good
        .again(&wf, &["--allow-partial", "--success-threshold", "0"])
        .await;
    assert_exit(&out, 0);
    let s = read_json(&good.status_file());
    assert_eq!(s["outcome"], "partialSuccess");
    let committed = lines(&good.dir.path().join("out.jsonl"));
    assert!(committed.iter().all(|r| r["kind"] != "delete"));
    let state = read_json(&good.dir.path().join("state.json"));
    let before: Value = serde_json::from_slice(&good.state).unwrap();
    assert_eq!(
        state["documents"].as_object().unwrap().len(),
        before["documents"].as_object().unwrap().len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn unwritable_paths_fail_before_any_sigma_request() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let good = GoodRun::new(&h, json!({})).await;
    let blocker = good.dir.path().join("a-file");
    std::fs::write(&blocker, "").unwrap();
    let under_a_file = blocker.join("x.json");
    let cases: Vec<(&str, Vec<&str>, &str)> = vec![
        (
            "the sink's file is a directory",
            vec!["--output", path(good.dir.path())],
            "is a directory",
        ),
        (
            "--status-file under a file",
            vec!["--status-file", path(&under_a_file)],
            "status file",
        ),
    ];
    for (what, args, cause) in cases {
        h.reset_stats();
        let out = ingest(&good.workflow, &args).await;
        assert_exit(&out, 1);
        let err = stderr(&out);
        assert!(err.contains(cause), "{what}: {err}");
        assert!(err.contains("outcome: couldNotRun"), "{what}: {err}");
        assert_eq!(h.stats().total_requests, 0, "{what}: no Sigma request");
    }
    h.reset_stats();
    let out = ingest(&good.workflow, &["--state", path(&under_a_file)]).await;
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(
        err.contains("state file") && err.contains("x.json"),
        "{err}"
    );
    assert_eq!(h.stats().total_requests, 0, "--state: no Sigma request");
    good.assert_untouched();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_openmetadata_fails_before_any_sigma_request() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let sink = json!({"type": "metadata-rest", "config": {}});
    let wf = workflow_file(dir.path(), &h, json!({}), sink);
    let mut doc = read_json(&wf);
    doc["workflowConfig"]["openMetadataServerConfig"] = json!({
        "hostPort": format!("http://127.0.0.1:{}/api", closed_port()),
        "authProvider": "openmetadata",
        "securityConfig": {"jwtToken": "eyJhbGciOiJIUzI1NiJ9.e30.c2ln"}
    });
    std::fs::write(&wf, doc.to_string()).unwrap();
    let started = Instant::now();
    let out = ingest(&wf, &[]).await;
    // timing: a backstop far from both outcomes (see FAIL_FAST); retries are counted in assert_could_not_run.
    assert!(started.elapsed() < FAIL_FAST, "{:?}", started.elapsed());
    assert_exit(&out, 1);
    assert!(
        stderr(&out).contains("outcome: couldNotRun"),
        "{}",
        stderr(&out)
    );
    assert_eq!(h.stats().total_requests, 0, "no Sigma request");
}

#[test]
fn the_service_record_validates_against_the_committed_openmetadata_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root.join("tests/data/openmetadata/createDashboardService.json"))
            .unwrap(),
    )
    .unwrap();
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let golden = std::fs::read_to_string(root.join("tests/data/fixture-org.jsonl")).unwrap();
    let service: Value = serde_json::from_str(golden.lines().next().unwrap()).unwrap();
    assert_eq!(service["kind"], "dashboardService");
    let errors: Vec<String> = validator
        .iter_errors(&service["entity"])
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert!(
        service["entity"].get("connection").is_none(),
        "no secret-less connection"
    );
}

/// A sink that fails mid-run (standard output is a full disk): failed, and the state the
/// last good run wrote stays as it was.
#[tokio::test(flavor = "multi_thread")]
async fn a_sink_that_fails_keeps_the_last_state() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let good = GoodRun::new(&h, json!({})).await;
    let state = good.dir.path().join("state.json");
    let out =
        support::cli::ingest_into_a_full_disk(&good.workflow, &["--state", path(&state)]).await;
    assert_exit(&out, 1);
    let err = stderr(&out);
    assert!(err.contains("outcome: failed"), "{err}");
    assert!(
        err.contains("kept the previous run's files unchanged"),
        "{err}"
    );
    good.assert_untouched();
}
