//! `test-connection` against the sandbox and small in-test servers: one test per outcome a
//! user can meet when saving a Sigma service in OpenMetadata's UI, the CLI's exit codes, the
//! request budget, and the output's shape against OpenMetadata's TestConnectionResult fields.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use axum::Router;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{Value, json};
use sigma_connector::sandbox::{ApiSurface, Knobs, SandboxConfig, SandboxHandle};
use sigma_connector::test_connection::{
    Step, TestConnectionResult, TestConnectionStatus, TestInput, TestOptions, test_connection,
};

mod support;

const CLIENT_ID: &str = "tc-client-id";
const SECRET: &str = "tc-SECRET-7f3e9a1c";
const WRONG_SECRET: &str = "tc-WRONG-SECRET-55d2b8";

/// The sandbox with this file's credentials, on today's API surface.
async fn sandbox(knobs: Knobs) -> SandboxHandle {
    sandbox_on(ApiSurface::Current, knobs).await
}

async fn sandbox_on(api: ApiSurface, knobs: Knobs) -> SandboxHandle {
    support::source::sandbox_with(SandboxConfig {
        client_id: CLIENT_ID.into(),
        client_secret: SECRET.into(),
        knobs,
        api,
        ..SandboxConfig::default()
    })
    .await
}

fn form(host_port: &str, secret: &str, extra: Value) -> String {
    let mut v = json!({"type": "Sigma", "hostPort": host_port, "clientId": CLIENT_ID, "clientSecret": secret});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    v.to_string()
}

fn quick() -> TestOptions {
    TestOptions {
        total_timeout: Duration::from_secs(20),
        step_timeout: Duration::from_secs(5),
        ..TestOptions::default()
    }
}

async fn run(text: String, options: &TestOptions) -> TestConnectionResult {
    let result = test_connection(TestInput::text(text), options).await;
    check_shape(&result);
    result
}

/// Every result validates against OpenMetadata's TestConnectionResult fields, lists every
/// step in order, and never carries a secret.
fn check_shape(result: &TestConnectionResult) {
    let json = serde_json::to_value(result).unwrap();
    let schema: Value =
        serde_json::from_str(include_str!("data/test_connection_result.schema.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:?}\n{json:#}");
    assert!(json["lastUpdatedAt"].as_i64().unwrap() > 1_600_000_000_000);
    // Every step, in order, whatever happened (the list itself is pinned in the unit tests).
    let names: Vec<&str> = result.steps.iter().map(|s| s.name.as_str()).collect();
    let expected: Vec<&str> = Step::ALL.iter().map(|s| s.name()).collect();
    assert_eq!(names, expected);
    let text = json.to_string();
    for secret in [SECRET, WRONG_SECRET] {
        assert!(!text.contains(secret), "secret leaked: {json:#}");
    }
    for step in &result.steps {
        let message = step.message.as_deref().unwrap_or_default();
        assert!(!message.is_empty(), "{} has no message", step.name);
        assert!(!message.contains('\n'), "message is one line: {message}");
    }
}

fn message<'a>(result: &'a TestConnectionResult, step: &str) -> &'a str {
    result.step(step).unwrap().message.as_deref().unwrap()
}

fn error_log<'a>(result: &'a TestConnectionResult, step: &str) -> &'a str {
    result
        .step(step)
        .unwrap()
        .error_log
        .as_deref()
        .unwrap_or("")
}

fn passed(result: &TestConnectionResult, step: &str) -> bool {
    result.step(step).unwrap().passed
}

fn assert_rest_skipped(result: &TestConnectionResult, after: &str, why: &str) {
    let at = result.steps.iter().position(|s| s.name == after).unwrap();
    for s in &result.steps[at + 1..] {
        assert!(!s.passed, "{} should be skipped", s.name);
        assert_eq!(s.message.as_deref(), Some(why), "{}", s.name);
    }
}

/// Serves `app` on an ephemeral loopback port; returns `http://127.0.0.1:PORT`.
async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

// ---------------------------------------------------------------- success

#[tokio::test]
async fn a_good_connection_passes_every_step_in_a_handful_of_requests() {
    let sb = sandbox(Knobs::default()).await;
    // Quick is counted, not timed: eight requests (the elapsed time is printed only).
    let started = Instant::now();
    let r = run(form(&sb.base_url(), SECRET, json!({})), &quick()).await;
    let elapsed = started.elapsed();
    assert_eq!(r.status, TestConnectionStatus::Successful, "{r:#?}");
    assert_eq!(r.exit_code(), 0);
    assert!(r.steps.iter().all(|s| s.passed), "{r:#?}");
    assert!(r.steps.iter().all(|s| s.error_log.is_none()));
    assert!(message(&r, "GetWorkbooks").contains("5 visible"), "{r:#?}");
    assert!(message(&r, "GetReports").contains("visible"), "{r:#?}");
    // Today's Sigma: the workbook's lineage in one call, a data model's lineage.
    assert!(message(&r, "GetLineage").contains("in one call"), "{r:#?}");
    assert!(
        message(&r, "GetDataModels").contains("lineage of data model"),
        "{r:#?}"
    );

    let stats = sb.stats();
    eprintln!(
        "success: {} requests in {elapsed:?}: {:?}",
        stats.total_requests, stats.requests_by_route
    );
    // A token and seven GETs: one per listing, one data model's and one workbook's lineage.
    assert_eq!(stats.total_requests, 8, "{stats:?}");
    assert_eq!(stats.token_grants.values().sum::<u64>(), 1, "{stats:?}");
    // Every listing is asked once, for one item (or one page of elements): never paged.
    for (route, count) in &stats.requests_by_route {
        assert_eq!(*count, 1, "{route} asked {count} times");
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn an_older_deployment_warns_about_reports_and_falls_back_for_lineage() {
    let sb = sandbox_on(ApiSurface::Legacy2023, Knobs::default()).await;
    let r = run(form(&sb.base_url(), SECRET, json!({})), &quick()).await;
    assert_eq!(r.status, TestConnectionStatus::Successful, "{r:#?}");
    assert_eq!(r.exit_code(), 0);
    // Reports do not exist there: a warning that says why, not a failure of the test.
    assert!(!passed(&r, "GetReports"));
    let m = message(&r, "GetReports");
    assert!(m.contains("older") && m.contains("/v2/reports"), "{m}");
    assert!(error_log(&r, "GetReports").contains("404"), "{r:#?}");
    // Lineage and data models fall back as the ingestion does, and say so.
    assert!(passed(&r, "GetLineage"), "{r:#?}");
    let m = message(&r, "GetLineage");
    assert!(
        m.contains("elRevKpi001") && m.contains("element by element"),
        "{m}"
    );
    assert!(passed(&r, "GetDataModels"), "{r:#?}");
    let m = message(&r, "GetDataModels");
    assert!(m.contains("sources") && m.contains("older"), "{m}");
    for step in ["GetWorkbooks", "GetDatasets", "GetMembers"] {
        assert!(passed(&r, step), "{step}: {r:#?}");
    }
    let stats = sb.stats();
    eprintln!(
        "older surface: {} requests: {:?}",
        stats.total_requests, stats.requests_by_route
    );
    // One 404 per missing endpoint, nothing asked twice.
    for (route, count) in &stats.requests_by_route {
        assert_eq!(*count, 1, "{route} asked {count} times");
    }
    assert!(stats.total_requests <= 12, "{stats:?}");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_path_on_host_port_is_named_as_the_fault() {
    let sb = sandbox(Knobs::default()).await;
    let host_port = format!("{}/api", sb.base_url());
    let r = run(form(&host_port, SECRET, json!({})), &quick()).await;
    assert_eq!(r.status, TestConnectionStatus::Failed, "{r:#?}");
    // Whichever step catches it (check-config may reject the path itself), its message
    // names the `/api` at fault and the URL without it.
    let failed = r.steps.iter().find(|s| !s.passed).unwrap();
    let m = failed.message.as_deref().unwrap();
    assert!(m.contains("`/api`"), "{m}");
    assert!(m.contains(&sb.base_url()), "{m}");

    // With a token from a separate tokenUrl, the token works and the API calls meet the path.
    let token_url = format!(
        "{}/auth/realms/sigma/protocol/openid-connect/token",
        sb.base_url()
    );
    let r = run(
        form(&host_port, SECRET, json!({"tokenUrl": token_url})),
        &quick(),
    )
    .await;
    let failed = r.steps.iter().find(|s| !s.passed).unwrap();
    let m = failed.message.as_deref().unwrap();
    assert!(m.contains("`/api`") && m.contains(&sb.base_url()), "{r:#?}");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_workflow_file_and_a_keycloak_token_url_work_too() {
    let sb = sandbox(Knobs::default()).await;
    let token_url = format!(
        "{}/auth/realms/sigma/protocol/openid-connect/token",
        sb.base_url()
    );
    let workflow = json!({
        "source": {
            "type": "sigma",
            "serviceName": "local_sigma",
            "serviceConnection": {"config": serde_json::from_str::<Value>(
                &form(&sb.base_url(), SECRET, json!({"tokenUrl": token_url}))).unwrap()},
            "sourceConfig": {"config": {"type": "DashboardMetadata"}}
        },
        "sink": {"type": "metadata-rest", "config": {}},
        "workflowConfig": {"openMetadataServerConfig": {
            "hostPort": "http://localhost:8585/api", "authProvider": "openmetadata",
            "securityConfig": {"jwtToken": "eyJ-test"}}}
    });
    let r = run(workflow.to_string(), &quick()).await;
    assert_eq!(r.status, TestConnectionStatus::Successful, "{r:#?}");
    let grants = sb.stats().token_grants;
    assert_eq!(
        grants.get("keycloak_client_credentials"),
        Some(&1),
        "{grants:?}"
    );
    assert_eq!(grants.get("client_credentials"), None, "{grants:?}");
    sb.shutdown().await;
}

// ---------------------------------------------------------------- network

#[tokio::test]
async fn an_unresolvable_host_says_check_for_typos() {
    let r = run(
        form("https://sigma-connector-test.invalid", SECRET, json!({})),
        &quick(),
    )
    .await;
    assert_eq!(r.status, TestConnectionStatus::Failed);
    assert_eq!(r.exit_code(), 1);
    assert!(passed(&r, "CheckConfig"));
    assert_eq!(
        message(&r, "GetToken"),
        "The host name sigma-connector-test.invalid could not be resolved; check hostPort for typos."
    );
    assert!(error_log(&r, "GetToken").contains("DNS lookup"));
    assert_rest_skipped(&r, "GetToken", "skipped: GetToken failed");
}

#[tokio::test]
async fn a_closed_port_is_connection_refused() {
    let port = closed_port();
    let r = run(
        form(&format!("http://127.0.0.1:{port}"), SECRET, json!({})),
        &quick(),
    )
    .await;
    assert_eq!(r.exit_code(), 1);
    let m = message(&r, "GetToken");
    assert!(
        m.starts_with(&format!("Connection refused at 127.0.0.1:{port}")),
        "{m}"
    );
    assert!(m.contains("nothing is listening"), "{m}");
    assert_rest_skipped(&r, "GetToken", "skipped: GetToken failed");
}

#[tokio::test]
async fn https_to_a_plain_http_port_is_a_tls_failure() {
    let sb = sandbox(Knobs::default()).await;
    let https = sb.base_url().replace("http://", "https://");
    let r = run(form(&https, SECRET, json!({})), &quick()).await;
    assert_eq!(r.exit_code(), 1);
    let m = message(&r, "GetToken");
    assert!(m.starts_with("The TLS handshake with"), "{m}\n{r:#?}");
    sb.shutdown().await;
}

// ---------------------------------------------------------------- not Sigma

#[tokio::test]
async fn a_web_page_at_host_port_is_not_sigmas_api() {
    let html = || async {
        (
            [(header::CONTENT_TYPE, "text/html")],
            "<!doctype html><html><body>Welcome to Sigma</body></html>",
        )
    };
    let base = serve(Router::new().fallback(html)).await;
    let r = run(form(&base, SECRET, json!({})), &quick()).await;
    assert_eq!(r.exit_code(), 1);
    let m = message(&r, "GetToken");
    assert!(m.contains("not a token"), "{m}");
    assert!(m.contains("not Sigma's REST API"), "{m}");
    assert!(m.contains("https://aws-api.sigmacomputing.com"), "{m}");
    assert!(m.contains("Administration → Developer Access"), "{m}");
    assert!(error_log(&r, "GetToken").contains("status: 200"));
}

#[tokio::test]
async fn a_404_at_the_token_endpoint_suggests_regional_api_urls() {
    let not_found = || async { (StatusCode::NOT_FOUND, "<html>Not Found</html>") };
    let base = serve(Router::new().fallback(not_found)).await;
    let r = run(form(&base, SECRET, json!({})), &quick()).await;
    assert_eq!(r.exit_code(), 1);
    let m = message(&r, "GetToken");
    assert!(m.contains("answered HTTP 404"), "{m}");
    assert!(m.contains("not Sigma's REST API"), "{m}");
    assert!(m.contains("https://api.us.azure.sigmacomputing.com"), "{m}");
}

#[tokio::test]
async fn a_wrong_api_version_says_it_should_be_v2() {
    let sb = sandbox(Knobs::default()).await;
    let r = run(
        form(&sb.base_url(), SECRET, json!({"apiVersion": "v9"})),
        &quick(),
    )
    .await;
    assert_eq!(r.exit_code(), 1);
    let m = message(&r, "GetToken");
    assert!(m.contains("apiVersion `v9`"), "{m}");
    assert!(m.contains("apiVersion should be `v2`"), "{m}");
    assert!(error_log(&r, "GetToken").contains("/v9/auth/token"));
    sb.shutdown().await;
}

// ---------------------------------------------------------------- credentials

#[tokio::test]
async fn wrong_credentials_are_named_without_leaking_the_secret() {
    let sb = sandbox(Knobs::default()).await;
    let r = run(form(&sb.base_url(), WRONG_SECRET, json!({})), &quick()).await;
    assert_eq!(r.exit_code(), 1);
    let m = message(&r, "GetToken");
    assert!(
        m.starts_with("Sigma rejected the client ID or client secret (HTTP 401)"),
        "{m}"
    );
    let log = error_log(&r, "GetToken");
    assert!(log.contains("status: 401"), "{log}");
    assert!(log.contains("code: unauthorized"), "{log}");
    assert!(log.contains("requestId: "), "{log}");
    assert!(log.contains("attempts: 1"), "{log}");
    assert_rest_skipped(&r, "GetToken", "skipped: GetToken failed");
    // check_shape searched the output for both secrets.
    assert_eq!(sb.stats().total_requests, 1, "a 401 is not retried");
    sb.shutdown().await;
}

#[tokio::test]
async fn forbidden_members_warn_but_the_test_succeeds() {
    let sb = sandbox(Knobs {
        forbidden: BTreeSet::from(["/v2/members".to_owned()]),
        ..Knobs::default()
    })
    .await;
    let r = run(form(&sb.base_url(), SECRET, json!({})), &quick()).await;
    assert_eq!(r.status, TestConnectionStatus::Successful, "{r:#?}");
    assert_eq!(r.exit_code(), 0);
    let members = r.step("GetMembers").unwrap();
    assert!(!members.passed && !members.mandatory);
    let m = members.message.as_deref().unwrap();
    assert!(m.contains("HTTP 403"), "{m}");
    assert!(m.contains("account type"), "{m}");
    assert!(m.contains("Admin"), "{m}");
    assert!(error_log(&r, "GetMembers").contains("code: forbidden"));
    for step in ["GetWorkbooks", "GetDatasets", "GetDataModels", "GetLineage"] {
        assert!(passed(&r, step), "{step}");
    }
    sb.shutdown().await;
}

#[tokio::test]
async fn forbidden_workbooks_fail_the_test() {
    let sb = sandbox(Knobs {
        forbidden: BTreeSet::from(["/v2/workbooks".to_owned()]),
        ..Knobs::default()
    })
    .await;
    let r = run(form(&sb.base_url(), SECRET, json!({})), &quick()).await;
    assert_eq!(r.status, TestConnectionStatus::Failed);
    assert_eq!(r.exit_code(), 1);
    let m = message(&r, "GetWorkbooks");
    assert!(m.contains("may not read workbooks (HTTP 403)"), "{m}");
    assert!(m.contains("owner's account type"), "{m}");
    // No workbook, so no lineage to try; the other optional steps still ran.
    assert_eq!(message(&r, "GetLineage"), "skipped: GetWorkbooks failed");
    assert!(passed(&r, "GetDatasets") && passed(&r, "GetMembers"));
    sb.shutdown().await;
}

#[tokio::test]
async fn rate_limiting_is_named() {
    let token = || async {
        axum::Json(json!({"access_token": "tok-1", "token_type": "bearer", "expires_in": 3599}))
    };
    let throttled = || async {
        (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "0")],
            axum::Json(json!({"code": "too_many_requests", "message": "Rate limit exceeded", "requestId": "rq-429"})),
        )
            .into_response()
    };
    let base = serve(
        Router::new()
            .route("/v2/auth/token", post(token))
            .fallback(throttled),
    )
    .await;
    let r = run(form(&base, SECRET, json!({})), &quick()).await;
    assert_eq!(r.exit_code(), 1);
    let m = message(&r, "GetWorkbooks");
    assert!(m.contains("rate-limiting"), "{m}");
    assert!(m.contains("HTTP 429 after 2 attempts"), "{m}");
    let log = error_log(&r, "GetWorkbooks");
    assert!(
        log.contains("requestId: rq-429") && log.contains("status: 429"),
        "{log}"
    );
}

// ---------------------------------------------------------------- timeouts

#[tokio::test]
async fn a_hanging_optional_step_times_out_alone() {
    let sb = sandbox(Knobs {
        hang: BTreeSet::from(["/v2/datasets".to_owned()]),
        ..Knobs::default()
    })
    .await;
    let options = TestOptions {
        step_timeout: Duration::from_secs(1),
        ..quick()
    };
    let started = Instant::now();
    let r = run(form(&sb.base_url(), SECRET, json!({})), &options).await;
    let elapsed = started.elapsed();
    assert_eq!(r.status, TestConnectionStatus::Successful, "{r:#?}");
    let m = message(&r, "GetDatasets");
    assert!(m.contains("timed out"), "{m}");
    assert!(!passed(&r, "GetDatasets"));
    assert!(passed(&r, "GetMembers") && passed(&r, "GetLineage"));
    eprintln!(
        "hang: {} requests in {elapsed:?}",
        sb.stats().total_requests
    );
    // Ended by the 1 s step timeout, as its message says; the bound only tells that from
    // the 20 s total (the hanging request itself never ends), with room for a slow machine.
    assert!(m.contains("within 1 s (step timeout)"), "{m}");
    // timing: the step timeout (1 s) against the total (20 s): 10 s is far from both.
    assert!(elapsed < Duration::from_secs(10), "{elapsed:?}");
    sb.shutdown().await;
}

#[tokio::test]
async fn a_slow_api_runs_out_the_total_timeout() {
    let sb = sandbox(Knobs {
        latency: Duration::from_secs(60),
        ..Knobs::default()
    })
    .await;
    let options = TestOptions::with_total_timeout(Duration::from_secs(1));
    let started = Instant::now();
    let r = run(form(&sb.base_url(), SECRET, json!({})), &options).await;
    // Ended by the 1 s budget (the message below names it), not by the 60 s answer: the
    // bound sits far from both, so neither a fast nor a slow machine moves it across.
    let elapsed = started.elapsed();
    // timing: the 1 s budget against the 60 s answer: 20 s is far from both.
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    assert_eq!(r.exit_code(), 1);
    let m = message(&r, "GetToken");
    assert!(m.starts_with("GetToken timed out"), "{m}");
    // The limit named is what was left of the 1 s total when GetToken started: 1 s, or a
    // little less when loading the config took a few milliseconds on a loaded machine. It
    // is never more than the total, and the message says which limit it was.
    let limit: f64 = m
        .split("within ")
        .nth(1)
        .and_then(|rest| rest.split(" s ").next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no limit in {m}"));
    assert!(limit > 0.0 && limit <= 1.0, "{m}");
    assert!(
        m.contains("(step timeout)") || m.contains("(rest of the test's total timeout)"),
        "{m}"
    );
    assert_rest_skipped(&r, "GetToken", "skipped: GetToken failed");
    sb.shutdown().await;
}

// ---------------------------------------------------------------- CLI

fn bin() -> Command {
    Command::cargo_bin("sigma-connector").unwrap()
}

/// Runs the binary off the async runtime (the sandbox is served on it) and returns its
/// exit code and stdout parsed as a TestConnectionResult.
async fn cli(args: Vec<String>, stdin: Option<String>) -> (i32, TestConnectionResult, String) {
    let out = tokio::task::spawn_blocking(move || {
        let mut cmd = bin();
        cmd.arg("test-connection").args(&args);
        if let Some(s) = stdin {
            cmd.write_stdin(s);
        }
        cmd.output().unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let stderr = String::from_utf8(out.stderr).unwrap();
    for secret in [SECRET, WRONG_SECRET] {
        assert!(!stdout.contains(secret) && !stderr.contains(secret));
    }
    let result: TestConnectionResult =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    check_shape(&result);
    (out.status.code().unwrap(), result, stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_exit_codes_0_1_2_and_a_bare_connection_on_stdin() {
    let sb = sandbox(Knobs::default()).await;
    let args = |extra: &[&str]| {
        let mut v: Vec<String> = vec!["-c".into(), "-".into(), "--timeout".into(), "20".into()];
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };

    let (code, r, _) = cli(args(&[]), Some(form(&sb.base_url(), SECRET, json!({})))).await;
    assert_eq!(code, 0, "{r:#?}");
    assert_eq!(r.status, TestConnectionStatus::Successful);

    let (code, r, _) = cli(
        args(&[]),
        Some(form(&sb.base_url(), WRONG_SECRET, json!({}))),
    )
    .await;
    assert_eq!(code, 1);
    assert!(!passed(&r, "GetToken"));

    // An invalid config still prints the JSON, with the violations in CheckConfig's errorLog.
    let (code, r, _) = cli(
        args(&[]),
        Some(form(
            "api.sigmacomputing.com",
            SECRET,
            json!({"pageSize": 0}),
        )),
    )
    .await;
    assert_eq!(code, 2);
    assert!(!passed(&r, "CheckConfig"));
    let log = error_log(&r, "CheckConfig");
    assert!(
        log.contains("/hostPort: ") && log.contains("/pageSize: "),
        "{log}"
    );
    assert_rest_skipped(&r, "CheckConfig", "skipped: CheckConfig failed");
    assert_eq!(
        sb.stats().total_requests,
        9,
        "the invalid config made no request"
    );
    sb.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_reads_a_workflow_file_and_prints_a_table() {
    let sb = sandbox(Knobs::default()).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("workflow.yaml");
    std::fs::write(
        &file,
        format!(
            "source:\n  type: sigma\n  serviceName: s\n  serviceConnection:\n    config: {}\n  sourceConfig:\n    config: {{type: DashboardMetadata}}\nsink: {{type: metadata-rest, config: {{}}}}\nworkflowConfig:\n  openMetadataServerConfig: {{hostPort: http://localhost:8585/api, authProvider: openmetadata}}\n",
            form(&sb.base_url(), SECRET, json!({}))
        ),
    )
    .unwrap();
    let out = tokio::task::spawn_blocking(move || {
        bin()
            .args(["test-connection", "--format", "table", "-c"])
            .arg(&file)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("GetLineage"), "{stdout}");
    assert!(
        !stdout.contains("FAIL") && !stdout.contains("SKIP"),
        "{stdout}"
    );
    assert!(
        stdout.trim_end().ends_with("status: Successful"),
        "{stdout}"
    );
    sb.shutdown().await;
}
