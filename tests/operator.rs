//! What an operator sees: log lines (plain text off a terminal, one target each, no
//! dependency noise at DEBUG), config mistakes named before any request, warnings grouped
//! by cause, and the example workflow refusing to run without its secret.

mod support;

use std::process::Output;

use serde_json::{Value, json};
use sigma_connector::sandbox::{Knobs, OrgSource};
use support::cli::{BIN, assert_exit, ingest, read_json};
use support::cli::{file_sink, workflow_file};
use support::source::sandbox;
use tokio::process::Command;

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The JSON log lines of a `--log-format json` run (the summary table is plain text).
fn json_log_lines(out: &Output) -> Vec<Value> {
    stderr(out)
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

fn demo_source_config() -> Value {
    // includeUsage off: its one warning (Sigma has no usage API) would be counted below.
    json!({"includeOwners": true, "includeUsage": false, "lineageInformation": {"dbServicePrefixes": ["snowflake_prod"]}})
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_to_a_file_are_plain_text_and_every_line_names_its_module() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow_file(dir.path(), &h, demo_source_config(), file_sink(dir.path()));
    // stderr is a pipe here, as under cron's `2>> ingest.log`; NO_COLOR is not set.
    let out = Command::new(BIN)
        .args(["--log-level", "debug", "ingest", "-c"])
        .arg(&wf)
        .env_remove("NO_COLOR")
        .env_remove("RUST_LOG")
        .output()
        .await
        .unwrap();
    assert_exit(&out, 0);
    assert!(
        !out.stderr.contains(&0x1b),
        "escape bytes in the log: {}",
        stderr(&out)
    );
    let text = stderr(&out);
    let log_lines: Vec<&str> = text
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .nth(1)
                .is_some_and(|w| ["DEBUG", "INFO", "WARN", "ERROR"].contains(&w))
        })
        .collect();
    assert!(log_lines.len() > 10, "{text}");
    for line in &log_lines {
        let target = line.split_whitespace().nth(2).unwrap_or_default();
        assert!(
            target.starts_with("sigma_connector") && target.ends_with(':'),
            "no module target on: {line}"
        );
        assert!(
            !line.contains("Some("),
            "debug text instead of a value: {line}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn debug_is_the_connectors_own_output_and_rust_log_opens_the_rest() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow_file(dir.path(), &h, demo_source_config(), file_sink(dir.path()));
    let run = |level_args: Vec<&'static str>, rust_log: Option<&'static str>| {
        let mut cmd = Command::new(BIN);
        cmd.args(level_args)
            .args(["--log-format", "json", "ingest", "-c"])
            .arg(&wf)
            .env_remove("RUST_LOG");
        if let Some(filter) = rust_log {
            cmd.env("RUST_LOG", filter);
        }
        async move { cmd.output().await.unwrap() }
    };

    // loggerLevel DEBUG (the README's example) and --log-level debug alike.
    std::fs::write(
        &wf,
        std::fs::read_to_string(&wf)
            .unwrap()
            .replace("\"INFO\"", "\"DEBUG\""),
    )
    .unwrap();
    for args in [vec![], vec!["--log-level", "debug"]] {
        let out = run(args.clone(), None).await;
        assert_exit(&out, 0);
        let lines = json_log_lines(&out);
        assert!(
            lines.iter().any(|l| l["level"] == "DEBUG"),
            "{args:?}: no debug line at all"
        );
        for line in &lines {
            let target = line["target"].as_str().unwrap_or_default();
            assert!(
                target.starts_with("sigma_connector"),
                "{args:?}: a dependency's line at DEBUG: {line}"
            );
        }
    }

    // The dependencies do log: RUST_LOG, taken as written, shows them.
    let out = run(vec![], Some("debug")).await;
    assert_exit(&out, 0);
    assert!(
        json_log_lines(&out).iter().any(|l| !l["target"]
            .as_str()
            .unwrap_or_default()
            .starts_with("sigma_connector")),
        "RUST_LOG=debug shows no dependency line: {}",
        stderr(&out)
    );
}

#[test]
fn a_bad_log_filter_is_a_usage_error_naming_it() {
    let out = std::process::Command::new(BIN)
        .args(["--log-level", "sigma_connector=loud", "schema"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--log-level `sigma_connector=loud`"),
        "{}",
        stderr(&out)
    );
}

fn example_workflow() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/examples/workflow.yaml")
}

#[tokio::test]
async fn the_example_workflow_without_its_secret_stops_naming_the_variable() {
    for sub in ["check-config", "ingest", "test-connection"] {
        let out = Command::new(BIN)
            .args([sub, "-c"])
            .arg(example_workflow())
            .env("SIGMA_CLIENT_ID", "an-id")
            .env_remove("SIGMA_CLIENT_SECRET")
            .output()
            .await
            .unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert_eq!(out.status.code(), Some(2), "{sub}: {said}");
        assert!(
            said.contains("/source/serviceConnection/config/clientSecret")
                && said.contains("`SIGMA_CLIENT_SECRET` is not set"),
            "{sub}: {said}"
        );
    }
    // Both exported, the example is valid as it stands.
    let out = Command::new(BIN)
        .args(["check-config", "-c"])
        .arg(example_workflow())
        .env("SIGMA_CLIENT_ID", "an-id")
        .env("SIGMA_CLIENT_SECRET", "a-secret")
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[tokio::test]
async fn check_config_rejects_an_empty_secret_and_an_api_suffix_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("connection.yaml");
    std::fs::write(
        &path,
        "type: Sigma\nhostPort: https://aws-api.sigmacomputing.com/api\nclientId: an-id\nclientSecret: \"\"\n",
    )
    .unwrap();
    let out = Command::new(BIN)
        .args(["check-config", "-c"])
        .arg(&path)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("/clientSecret: is empty"), "{stdout}");
    assert!(
        stdout.contains("/hostPort: `https://aws-api.sigmacomputing.com/api` has the path `/api`"),
        "{stdout}"
    );
}

/// The filter example in docs/configuration.md behaves as its table says.
#[test]
fn the_documented_filter_example_holds() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/configuration.md"),
    )
    .unwrap();
    let section = &doc[doc.find("### Filter patterns").expect("the section")..];
    let yaml_start = section.find("```yaml\n").expect("the example") + "```yaml\n".len();
    let yaml_end = yaml_start + section[yaml_start..].find("```").unwrap();
    let example: std::collections::BTreeMap<String, sigma_connector::config::FilterPattern> =
        serde_saphyr::from_str(&section[yaml_start..yaml_end]).unwrap();
    let filter = sigma_connector::sigma::filter::NameFilter::new(example.values()).unwrap();
    let rows: Vec<(&str, &str)> = section[yaml_end..]
        .lines()
        .skip_while(|l| !l.starts_with("| workbook name"))
        .skip(2)
        .take_while(|l| l.starts_with('|'))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            (cells[1].trim_matches('`'), cells[2])
        })
        .collect();
    assert!(rows.len() >= 4, "the example's table: {rows:?}");
    for (name, result) in rows {
        let kept = filter.allows(name);
        assert_eq!(
            if kept { "kept" } else { "dropped" },
            result,
            "`{name}` under the documented example"
        );
    }
}

#[test]
fn every_sandbox_flag_is_described() {
    let out = std::process::Command::new(BIN)
        .args(["sandbox", "-h"])
        .output()
        .unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    // Each option with what clap prints for it: on its line, or (when any is long) on the
    // lines under it.
    let mut options: Vec<(String, String)> = Vec::new();
    for line in help
        .lines()
        .skip_while(|l| !l.starts_with("Options:"))
        .skip(1)
    {
        let text = line.trim();
        if text.starts_with('-') {
            let mut parts = text.splitn(2, "  ");
            let flag = parts.next().unwrap_or_default().to_owned();
            options.push((flag, parts.next().unwrap_or_default().trim().to_owned()));
        } else if let Some((_, description)) = options.last_mut() {
            description.push_str(text);
        }
    }
    assert!(options.len() > 15, "{help}");
    for (flag, description) in options {
        let described = !description.is_empty() && !description.starts_with("[default");
        assert!(described, "no description for {flag}");
    }
}

#[test]
fn a_taken_sandbox_port_is_reported_once() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let out = std::process::Command::new(BIN)
        .args(["sandbox", "--port", &port])
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.matches("in use").count(), 1, "{err}");
    assert!(err.contains("choose another --port"), "{err}");
}

#[test]
fn demo_names_each_output_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(BIN)
        .args(["demo", "--output-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    for file in ["records.jsonl", "status.json", "state.json"] {
        assert_eq!(err.matches(file).count(), 1, "{file}: {err}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn forbidden_members_are_one_warning_naming_the_real_cause() {
    let knobs = Knobs {
        forbidden: ["/v2/members".to_owned()].into_iter().collect(),
        ..Knobs::default()
    };
    let h = sandbox(OrgSource::Fixtures, knobs).await;
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow_file(dir.path(), &h, demo_source_config(), file_sink(dir.path()));
    let status_file = dir.path().join("status.json");
    let out = ingest(&wf, &["--status-file", status_file.to_str().unwrap()]).await;
    assert_exit(&out, 0);
    let text = stderr(&out);

    // The fixture org has other causes too (its retired dataset API answers 410): of the
    // warnings about members, there is one, logged when it happened.
    let logged: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" WARN ") && l.contains("member"))
        .collect();
    assert_eq!(logged.len(), 1, "one warning, when it happened: {text}");
    assert!(
        logged[0].contains("members could not be listed (GET /v2/members: HTTP 403"),
        "{text}"
    );
    assert!(
        !text.contains("is not a listed member"),
        "misstated cause: {text}"
    );

    let status = read_json(&status_file);
    let groups = status["steps"][0]["warningsByCause"]
        .as_array()
        .expect("grouped warnings");
    let members: Vec<&Value> = groups
        .iter()
        .filter(|g| {
            g["cause"]
                .as_str()
                .unwrap_or_default()
                .contains("members could not be listed")
        })
        .collect();
    assert_eq!(members.len(), 1, "{groups:?}");
    let dashboards = status["steps"][0]["processedByKind"]["dashboard"]
        .as_u64()
        .unwrap();
    assert_eq!(
        members[0]["objects"].as_u64(),
        Some(dashboards),
        "{groups:?}"
    );
    assert!(!members[0]["exampleIds"].as_array().unwrap().is_empty());
    // The summary says it in one line too.
    let summary: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("warning: members could not be listed"))
        .collect();
    assert_eq!(summary.len(), 1, "{text}");
    assert!(
        summary[0].contains(&format!("({dashboards} objects, e.g. ")),
        "{text}"
    );
}

async fn test_connection_table(connection: &str) -> (Option<i32>, String) {
    use tokio::io::AsyncWriteExt;
    let mut child = Command::new(BIN)
        .args([
            "test-connection",
            "-c",
            "-",
            "--format",
            "table",
            "--timeout",
            "10",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    stdin.write_all(connection.as_bytes()).await.unwrap();
    drop(stdin);
    let out = child.wait_with_output().await.unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn test_connection_names_the_path_at_fault_and_shows_skipped_steps_as_skip() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let base = h.base_url().to_string();
    let base = base.trim_end_matches('/');
    let connection = |host_port: String| {
        json!({"type": "Sigma", "hostPort": host_port, "clientId": h.client_id(), "clientSecret": h.client_secret()})
            .to_string()
    };

    // `/api`: refused by CheckConfig, naming it; the steps after it did not run.
    let (code, table) = test_connection_table(&connection(format!("{base}/api"))).await;
    assert_eq!(code, Some(2), "{table}");
    let check = table
        .lines()
        .find(|l| l.starts_with("CheckConfig"))
        .unwrap();
    assert!(
        check.contains("FAIL") && check.contains("`/api`"),
        "{table}"
    );
    let skipped: Vec<&str> = table
        .lines()
        .filter(|l| l.contains("skipped: CheckConfig failed"))
        .collect();
    assert_eq!(skipped.len(), 7, "{table}");
    for line in skipped {
        assert!(line.contains(" SKIP ") && !line.contains("FAIL"), "{line}");
    }

    // Another path (a proxy prefix that is wrong here): the token step's message shows it.
    let (code, table) = test_connection_table(&connection(format!("{base}/sigma"))).await;
    assert_eq!(code, Some(1), "{table}");
    let token = table.lines().find(|l| l.starts_with("GetToken")).unwrap();
    assert!(
        token.contains("HTTP 404 at /sigma/v2/auth/token")
            && token.contains("hostPort has the path `/sigma`")
            && token.contains(&format!("set hostPort to {base} (without `/sigma`)")),
        "{table}"
    );
}

/// A `hostPort` whose path Sigma's API does not have, with the token from its own
/// `tokenUrl`: every listing answers 404. Each listing is a WARN line when it happens; the
/// summary then says the cause once, naming each listing, and no `failure:` line repeats it.
#[tokio::test(flavor = "multi_thread")]
async fn every_listing_failing_for_one_cause_is_one_summary_line() {
    let h = sandbox(OrgSource::Fixtures, Knobs::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let wf = workflow_file(dir.path(), &h, demo_source_config(), file_sink(dir.path()));
    let mut doc = read_json(&wf);
    let base = h.base_url().to_string();
    let config = &mut doc["source"]["serviceConnection"]["config"];
    config["tokenUrl"] = json!(format!("{}/v2/auth/token", base.trim_end_matches('/')));
    config["hostPort"] = json!(format!("{}/not-sigma", base.trim_end_matches('/')));
    std::fs::write(&wf, doc.to_string()).unwrap();
    let status_file = dir.path().join("status.json");
    let out = ingest(&wf, &["--status-file", status_file.to_str().unwrap()]).await;
    assert_exit(&out, 3);
    let text = stderr(&out);

    let status = read_json(&status_file);
    let listings = status["incompleteListings"].as_array().unwrap();
    // Workbooks and datasets (reports and data models answering 404 before any success
    // mean "not on this deployment": docs/operations.md, Older Sigma deployments).
    assert!(
        listings.len() >= 2,
        "every required top-level listing: {status}"
    );
    assert!(
        listings.iter().all(|l| l["reason"] == "HTTP 404 Not Found"),
        "{listings:?}"
    );

    // When it happened: one WARN per listing, each with its own path.
    let warned = text
        .lines()
        .filter(|l| l.contains(" WARN ") && l.contains("ended early"))
        .count();
    assert_eq!(warned, listings.len(), "{text}");

    // The summary: the cause once, every listing named on that line, nothing repeated.
    // (Members and connections answer 404 too: those are warnings, each its own line.)
    let summary: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("INCOMPLETE: ") || l.starts_with("failure: "))
        .collect();
    assert_eq!(summary.len(), 1, "one line for one cause: {text}");
    assert!(summary[0].starts_with("INCOMPLETE: listing `"), "{text}");
    assert!(summary[0].contains(": HTTP 404 Not Found ("), "{text}");
    assert!(
        summary[0].contains(&format!("({} listings, one cause;", listings.len())),
        "{text}"
    );
    for listing in listings {
        let name = listing["listing"].as_str().unwrap();
        assert!(summary[0].contains(&format!("`{name}`")), "{name}: {text}");
    }
}

/// OpenMetadata's `raiseOnError`: with it `false`, failures that leave the run under its
/// success threshold do not fail it; with it `true` (the default) they do.
#[tokio::test(flavor = "multi_thread")]
async fn raise_on_error_false_does_not_fail_a_run_under_its_threshold() {
    let knobs = Knobs {
        forbidden: ["/v2/workbooks/a3c1e5f7-0002-4a2b-8c3d-5e6f7a8b9c02/pages".to_owned()]
            .into_iter()
            .collect(),
        ..Knobs::default()
    };
    let h = sandbox(OrgSource::Fixtures, knobs).await;
    for (raise_on_error, exit, outcome) in [(true, 1, "failed"), (false, 0, "partialSuccess")] {
        let dir = tempfile::tempdir().unwrap();
        let wf = workflow_file(dir.path(), &h, demo_source_config(), file_sink(dir.path()));
        let mut doc = read_json(&wf);
        doc["workflowConfig"]["successThreshold"] = json!(100);
        doc["workflowConfig"]["raiseOnError"] = json!(raise_on_error);
        std::fs::write(&wf, doc.to_string()).unwrap();
        let status_file = dir.path().join("status.json");
        let out = ingest(&wf, &["--status-file", status_file.to_str().unwrap()]).await;
        assert_exit(&out, exit);
        let status = read_json(&status_file);
        assert_eq!(status["outcome"], outcome, "{status}");
        assert_eq!(status["steps"][0]["failures"], 1, "{status}");
        let text = stderr(&out);
        let waived = text.contains("not applied: raiseOnError is false");
        assert_eq!(waived, !raise_on_error, "{text}");
        assert_eq!(status.get("thresholdWaived").is_some(), !raise_on_error);
        // The failed workbook is one cause, once.
        let failures: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("failure: "))
            .collect();
        assert_eq!(failures.len(), 1, "{text}");
        assert!(
            failures[0].starts_with("failure: dashboard pages failed: HTTP 403"),
            "{text}"
        );
    }
}
