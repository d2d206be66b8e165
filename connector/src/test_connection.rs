//! Test connection: what OpenMetadata's UI runs when a user saves a Sigma service. A fixed
//! list of cheap steps, each with its own timeout, answered in OpenMetadata's
//! `TestConnectionResult` shape (`entity/services/connections/testConnectionResult.json`).
//!
//! Every step makes at most a few requests with `limit=1` (or one small page) and nothing is
//! ever paged through: the whole test is about ten requests. Failures are explained in one
//! sentence a person can act on (`message`), with the detail in `errorLog`; neither ever
//! holds the client secret.
//!
//! ```no_run
//! # async fn run() {
//! use sigma_connector::test_connection::{TestInput, TestOptions, test_connection};
//! let form = r#"{"hostPort": "https://aws-api.sigmacomputing.com", "clientId": "id", "clientSecret": "s"}"#;
//! let result = test_connection(TestInput::text(form), &TestOptions::default()).await;
//! println!("{}", serde_json::to_string_pretty(&result).unwrap());
//! # }
//! ```

use std::fmt::Write as _;
use std::future::Future;
use std::time::Duration;

use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::time::Instant;
use url::Url;

use crate::client::{
    AuthFailure, BackoffConfig, ClientError, ErrorKind, FailureCause, RetryConfig, SigmaClient,
};
use crate::config::{ConfigError, ConfigInput, SigmaConnection, load_input_str};
use crate::sigma::mapping::is_chart;
use crate::sigma::model::WorkbookElement;

/// OpenMetadata's `TestConnectionResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestConnectionResult {
    /// When the test finished, in Unix epoch milliseconds (OpenMetadata's `timestamp`).
    pub last_updated_at: i64,
    pub status: TestConnectionStatus,
    /// In the order they ran; every step is always listed.
    pub steps: Vec<TestConnectionStepResult>,
}

/// OpenMetadata's `TestConnectionResult.statusType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TestConnectionStatus {
    Successful,
    Failed,
    Running,
}

/// OpenMetadata's `TestConnectionStepResult`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TestConnectionStepResult {
    pub name: String,
    pub mandatory: bool,
    pub passed: bool,
    /// One sentence for the UI. Omitted rather than `null`: the schema types it `string`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The detail behind a failure (status, Sigma's code and message, requestId, attempts,
    /// elapsed time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error_log: Option<String>,
}

impl TestConnectionResult {
    /// The CLI's exit code: 2 when the config did not validate, 1 when another mandatory
    /// step failed, 0 when every mandatory step passed (optional ones may have failed).
    pub fn exit_code(&self) -> i32 {
        let failed = |name: &str| {
            self.steps
                .iter()
                .any(|s| s.name == name && s.mandatory && !s.passed)
        };
        if failed(Step::CheckConfig.name()) {
            2
        } else if self.steps.iter().any(|s| s.mandatory && !s.passed) {
            1
        } else {
            0
        }
    }

    /// A plain-text table for a terminal: one line per step, then the status. `errorLog`
    /// lines of failed steps follow, indented.
    pub fn to_table(&self) -> String {
        let width = self.steps.iter().map(|s| s.name.len()).max().unwrap_or(4);
        let mut out = format!(
            "{:width$}  {:9}  {:4}  message\n",
            "step", "mandatory", "ok"
        );
        for s in &self.steps {
            let _ = writeln!(
                out,
                "{:width$}  {:9}  {:4}  {}",
                s.name,
                if s.mandatory { "yes" } else { "no" },
                if s.passed { "ok" } else { "FAIL" },
                s.message.as_deref().unwrap_or("")
            );
            if let (false, Some(log)) = (s.passed, &s.error_log) {
                for line in log.lines() {
                    let _ = writeln!(out, "{:width$}      | {line}", "");
                }
            }
        }
        let _ = writeln!(out, "status: {:?}", self.status);
        out
    }

    /// The result of one step by name.
    pub fn step(&self, name: &str) -> Option<&TestConnectionStepResult> {
        self.steps.iter().find(|s| s.name == name)
    }
}

/// The steps, in the order they run and are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Schema and semantic validation of the config; no network.
    CheckConfig,
    /// An access token from the token endpoint: proves hostPort, apiVersion and credentials.
    GetToken,
    /// `GET /v2/workbooks?limit=1`: the dashboards.
    GetWorkbooks,
    /// `GET /v2/datasets?limit=1`.
    GetDatasets,
    /// `GET /v2/dataModels?limit=1`.
    GetDataModels,
    /// `GET /v2/members?limit=1`: owners.
    GetMembers,
    /// The lineage of one chart element of one workbook.
    GetLineage,
}

impl Step {
    pub const ALL: [Step; 7] = [
        Step::CheckConfig,
        Step::GetToken,
        Step::GetWorkbooks,
        Step::GetDatasets,
        Step::GetDataModels,
        Step::GetMembers,
        Step::GetLineage,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Step::CheckConfig => "CheckConfig",
            Step::GetToken => "GetToken",
            Step::GetWorkbooks => "GetWorkbooks",
            Step::GetDatasets => "GetDatasets",
            Step::GetDataModels => "GetDataModels",
            Step::GetMembers => "GetMembers",
            Step::GetLineage => "GetLineage",
        }
    }

    /// Whether the test fails when this step fails. Optional steps only warn.
    pub fn mandatory(self) -> bool {
        matches!(
            self,
            Step::CheckConfig | Step::GetToken | Step::GetWorkbooks
        )
    }

    /// What the objects of this step are called in a message.
    fn objects(self) -> &'static str {
        match self {
            Step::CheckConfig | Step::GetToken => "the API",
            Step::GetWorkbooks => "workbooks",
            Step::GetDatasets => "datasets",
            Step::GetDataModels => "data models",
            Step::GetMembers => "members",
            Step::GetLineage => "element lineage",
        }
    }

    /// What a 403 on this step means for the credentials' owner.
    fn permission_hint(self) -> &'static str {
        match self {
            Step::GetMembers => {
                "listing members needs the Admin account type; without it owners are not ingested"
            }
            Step::GetLineage => {
                "reading lineage needs access to the workbook's data sources (an account type that can explore, such as Creator or Admin); without it lineage is not ingested"
            }
            Step::GetDatasets | Step::GetDataModels => {
                "give the owner an account type that can see them (Admin sees all), or they will not be ingested"
            }
            _ => "give the owner an account type that can see workbooks (Admin sees all of them)",
        }
    }
}

/// What to test: config text as a UI form or a file holds it, or a config already loaded.
#[derive(Debug)]
pub enum TestInput {
    /// YAML or JSON: an OpenMetadata workflow, or a bare `SigmaConnection`.
    Text(String),
    /// The outcome of loading (for example [`crate::config::load_input_file`]).
    Loaded(Result<ConfigInput, ConfigError>),
}

impl TestInput {
    pub fn text(text: impl Into<String>) -> Self {
        TestInput::Text(text.into())
    }
}

impl From<ConfigInput> for TestInput {
    fn from(input: ConfigInput) -> Self {
        TestInput::Loaded(Ok(input))
    }
}

impl From<SigmaConnection> for TestInput {
    fn from(conn: SigmaConnection) -> Self {
        TestInput::Loaded(Ok(ConfigInput::Connection(Box::new(conn))))
    }
}

impl From<Result<ConfigInput, ConfigError>> for TestInput {
    fn from(loaded: Result<ConfigInput, ConfigError>) -> Self {
        TestInput::Loaded(loaded)
    }
}

/// Time limits and retry policy of a test. The UI is waiting: keep them short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestOptions {
    /// The whole test. Steps still to run when it runs out are reported as skipped.
    pub total_timeout: Duration,
    /// One step (capped by what is left of the total).
    pub step_timeout: Duration,
    /// Retries of one request: one quick retry, not the ingestion's patient policy.
    pub retry: RetryConfig,
}

/// Default total time of a test.
pub const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(60);
/// Default time of one step.
pub const DEFAULT_STEP_TIMEOUT: Duration = Duration::from_secs(20);

impl Default for TestOptions {
    fn default() -> Self {
        Self {
            total_timeout: DEFAULT_TOTAL_TIMEOUT,
            step_timeout: DEFAULT_STEP_TIMEOUT,
            retry: quick_retry(),
        }
    }
}

impl TestOptions {
    /// Defaults with this total time; the step time is capped to it.
    pub fn with_total_timeout(total: Duration) -> Self {
        Self {
            total_timeout: total,
            step_timeout: DEFAULT_STEP_TIMEOUT.min(total),
            ..Self::default()
        }
    }
}

/// One retry after a short backoff, and at most 2 s for a `Retry-After`.
pub fn quick_retry() -> RetryConfig {
    RetryConfig {
        max_retries: 1,
        retry_timeout: Duration::from_secs(5),
        backoff: BackoffConfig {
            init: Duration::from_millis(100),
            max: Duration::from_millis(500),
        },
        max_retry_after: Duration::from_secs(2),
    }
}

/// Runs the test. Never fails: every outcome is a step result.
pub async fn test_connection(input: TestInput, options: &TestOptions) -> TestConnectionResult {
    let deadline = Instant::now() + options.total_timeout;
    let loaded = match input {
        TestInput::Text(text) => load_input_str(&text),
        TestInput::Loaded(loaded) => loaded,
    };
    let mut report = Report::default();
    let conn = match loaded {
        Ok(input) => {
            let conn = input.connection().clone();
            report.push(Step::CheckConfig, Outcome::pass(config_summary(&conn)));
            conn
        }
        Err(e) => {
            report.push(Step::CheckConfig, config_failure(&e));
            report.skip_rest("skipped: CheckConfig failed");
            return report.finish(None);
        }
    };
    let secret = conn.client_secret.expose_secret().to_owned();
    run_steps(&conn, options, deadline, &mut report).await;
    report.finish(Some(&secret))
}

async fn run_steps(
    conn: &SigmaConnection,
    options: &TestOptions,
    deadline: Instant,
    report: &mut Report,
) {
    // The HTTP timeouts are capped by the step timeout so that a slow server yields the
    // client's typed timeout (with attempts and elapsed) rather than only ours.
    let mut tuned = conn.clone();
    let step_secs = options.step_timeout.as_secs().max(1);
    tuned.connect_timeout = tuned.connect_timeout.min(step_secs);
    tuned.request_timeout = tuned.request_timeout.min(step_secs);
    let client = match SigmaClient::with_retry_config(&tuned, options.retry) {
        Ok(c) => c,
        Err(e) => {
            report.push(
                Step::GetToken,
                Outcome::fail(format!("The connection cannot be used: {e}."), detail(&e)),
            );
            report.skip_rest("skipped: GetToken failed");
            return;
        }
    };
    let ctx = Ctx { conn, client };

    let token = timed(Step::GetToken, options, deadline, ctx.get_token()).await;
    let token_ok = token.passed;
    report.push(Step::GetToken, token);
    if !token_ok {
        report.skip_rest("skipped: GetToken failed");
        return;
    }

    let mut first_workbook = None;
    let workbooks = timed(Step::GetWorkbooks, options, deadline, async {
        let (outcome, first) = ctx.get_workbooks().await;
        first_workbook = first;
        outcome
    })
    .await;
    let workbooks_ok = workbooks.passed;
    report.push(Step::GetWorkbooks, workbooks);

    // The optional steps are independent: run them together so that one slow endpoint
    // costs one step timeout, not four.
    let (datasets, data_models, members, lineage) = tokio::join!(
        timed(
            Step::GetDatasets,
            options,
            deadline,
            ctx.list_one(Step::GetDatasets, "datasets")
        ),
        timed(
            Step::GetDataModels,
            options,
            deadline,
            ctx.list_one(Step::GetDataModels, "dataModels")
        ),
        timed(
            Step::GetMembers,
            options,
            deadline,
            ctx.list_one(Step::GetMembers, "members")
        ),
        async {
            if workbooks_ok {
                timed(
                    Step::GetLineage,
                    options,
                    deadline,
                    ctx.get_lineage(first_workbook.as_deref()),
                )
                .await
            } else {
                // Lineage starts from a workbook: without the listing there is none to try.
                Outcome::fail("skipped: GetWorkbooks failed", String::new())
            }
        },
    );
    report.push(Step::GetDatasets, datasets);
    report.push(Step::GetDataModels, data_models);
    report.push(Step::GetMembers, members);
    report.push(Step::GetLineage, lineage);
}

/// Runs one step under its own timeout, capped by what is left of the total.
async fn timed(
    step: Step,
    options: &TestOptions,
    deadline: Instant,
    work: impl Future<Output = Outcome>,
) -> Outcome {
    let now = Instant::now();
    if now >= deadline {
        return Outcome::fail(
            format!(
                "skipped: the test's total timeout of {} ran out",
                secs(options.total_timeout)
            ),
            String::new(),
        );
    }
    let left = deadline - now;
    let (limit, which) = if options.step_timeout <= left {
        (options.step_timeout, "step timeout")
    } else {
        (left, "rest of the test's total timeout")
    };
    match tokio::time::timeout(limit, work).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::fail(
            format!(
                "{} timed out: Sigma did not answer within {} ({which}); the API may be overloaded or unreachable, try again or raise the timeout.",
                step.name(),
                secs(limit)
            ),
            format!(
                "step: {}\ntimeout: {} ({which})\nstep timeout: {}\ntotal timeout: {}",
                step.name(),
                secs(limit),
                secs(options.step_timeout),
                secs(options.total_timeout)
            ),
        ),
    }
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

/// What one step found.
#[derive(Debug)]
struct Outcome {
    passed: bool,
    message: String,
    error_log: Option<String>,
}

impl Outcome {
    fn pass(message: impl Into<String>) -> Self {
        Self {
            passed: true,
            message: message.into(),
            error_log: None,
        }
    }
    fn fail(message: impl Into<String>, error_log: String) -> Self {
        Self {
            passed: false,
            message: message.into(),
            error_log: (!error_log.is_empty()).then_some(error_log),
        }
    }
}

/// Shorter secrets are not searched for in the output (see `Report::finish`).
const MIN_REDACTED_SECRET_LEN: usize = 8;

#[derive(Default)]
struct Report {
    steps: Vec<TestConnectionStepResult>,
}

impl Report {
    fn push(&mut self, step: Step, outcome: Outcome) {
        self.steps.push(TestConnectionStepResult {
            name: step.name().to_owned(),
            mandatory: step.mandatory(),
            passed: outcome.passed,
            message: Some(outcome.message),
            error_log: outcome.error_log,
        });
    }

    fn skip_rest(&mut self, why: &str) {
        for step in Step::ALL.iter().skip(self.steps.len()) {
            self.push(*step, Outcome::fail(why, String::new()));
        }
    }

    fn finish(mut self, secret: Option<&str>) -> TestConnectionResult {
        // Belt and braces: nothing below should ever hold the secret, but a server may echo
        // what it was sent, and a UI shows whatever we return. A very short "secret" (a
        // placeholder typed into a form) would mangle ordinary words, so it is left alone.
        if let Some(secret) = secret.filter(|s| s.len() >= MIN_REDACTED_SECRET_LEN) {
            for step in &mut self.steps {
                for text in [&mut step.message, &mut step.error_log]
                    .into_iter()
                    .flatten()
                {
                    if text.contains(secret) {
                        *text = text.replace(secret, "[redacted]");
                    }
                }
            }
        }
        let ok = self.steps.iter().all(|s| s.passed || !s.mandatory);
        TestConnectionResult {
            last_updated_at: jiff::Timestamp::now().as_millisecond(),
            status: if ok {
                TestConnectionStatus::Successful
            } else {
                TestConnectionStatus::Failed
            },
            steps: self.steps,
        }
    }
}

fn config_summary(conn: &SigmaConnection) -> String {
    format!(
        "The configuration is valid (API {}).",
        origin(&conn.host_port)
    )
}

fn config_failure(e: &ConfigError) -> Outcome {
    match e {
        ConfigError::Invalid { violations } => {
            // The loader's own hostPort messages may already name an example URL.
            let hint = if violations.iter().any(|v| {
                v.pointer.ends_with("/hostPort") && !v.message.contains("sigmacomputing.com")
            }) {
                " hostPort must be your Sigma cloud's API URL, for example https://aws-api.sigmacomputing.com (Administration → Developer Access shows it)."
            } else {
                ""
            };
            let first = violations
                .first()
                .map(|v| v.to_string())
                .unwrap_or_default();
            Outcome::fail(
                format!(
                    "The configuration is invalid ({} problem{}; first: {first}).{hint}",
                    violations.len(),
                    if violations.len() == 1 { "" } else { "s" },
                ),
                violations
                    .iter()
                    .map(|v| v.to_string())
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
        }
        other => Outcome::fail(
            "The configuration could not be read; see errorLog.",
            other.to_string(),
        ),
    }
}

/// `scheme://host[:port]` of a URL.
fn origin(url: &Url) -> String {
    url.origin().ascii_serialization()
}

struct Ctx<'a> {
    conn: &'a SigmaConnection,
    client: SigmaClient,
}

impl Ctx<'_> {
    fn token_url(&self) -> Option<Url> {
        Url::parse(&self.conn.token_endpoint()).ok()
    }

    async fn get_token(&self) -> Outcome {
        if let Some((cause, detail)) = FailureCause::unresolvable_host(self.conn).await {
            return Outcome::fail(cause.to_string(), detail);
        }
        let start = Instant::now();
        match self.client.authenticate().await {
            Ok(()) => Outcome::pass(format!(
                "Obtained an access token from {} in {} ms.",
                self.token_url()
                    .map(|u| origin(&u))
                    .unwrap_or_else(|| self.conn.token_endpoint()),
                start.elapsed().as_millis()
            )),
            Err(e) => Outcome::fail(FailureCause::of(self.conn, &e).to_string(), detail(&e)),
        }
    }

    async fn get_workbooks(&self) -> (Outcome, Option<String>) {
        match self
            .client
            .get_json::<Value>("workbooks", &[("limit", "1")])
            .await
        {
            Ok(page) => {
                let first = entries(&page)
                    .first()
                    .and_then(|w| w.get("workbookId"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                (Outcome::pass(count_message("workbooks", &page)), first)
            }
            Err(e) => (
                Outcome::fail(api_failure(Step::GetWorkbooks, &e), detail(&e)),
                None,
            ),
        }
    }

    async fn list_one(&self, step: Step, path: &str) -> Outcome {
        match self.client.get_json::<Value>(path, &[("limit", "1")]).await {
            Ok(page) => Outcome::pass(count_message(step.objects(), &page)),
            Err(e) => Outcome::fail(api_failure(step, &e), detail(&e)),
        }
    }

    /// First workbook → its first page → that page's elements → the lineage of the first
    /// chart-like element. UI elements may answer 400 (or 403/500 when they have no
    /// lineage): try the next one, a few at most.
    async fn get_lineage(&self, workbook: Option<&str>) -> Outcome {
        const MAX_ELEMENTS_TRIED: usize = 3;
        let step = Step::GetLineage;
        let Some(workbook) = workbook else {
            return Outcome::pass(
                "No workbook is visible to these credentials; lineage was not checked.",
            );
        };
        let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let pages = match self
            .client
            .get_json::<Value>(
                &format!("workbooks/{}/pages", enc(workbook)),
                &[("limit", "1")],
            )
            .await
        {
            Ok(p) => p,
            Err(e) => return Outcome::fail(api_failure(step, &e), detail(&e)),
        };
        let Some(page_id) = entries(&pages)
            .first()
            .and_then(|p| p.get("pageId"))
            .and_then(Value::as_str)
        else {
            return Outcome::pass(format!(
                "Workbook {workbook} has no pages; lineage was not checked."
            ));
        };
        // One page of elements, never paged through: enough to find a chart.
        let elements = match self
            .client
            .get_json::<Value>(
                &format!(
                    "workbooks/{}/pages/{}/elements",
                    enc(workbook),
                    enc(page_id)
                ),
                &[("limit", "50")],
            )
            .await
        {
            Ok(e) => e,
            Err(e) => return Outcome::fail(api_failure(step, &e), detail(&e)),
        };
        let charts: Vec<WorkbookElement> = entries(&elements)
            .iter()
            .filter_map(|v| serde_json::from_value::<WorkbookElement>(v.clone()).ok())
            .filter(is_chart)
            .take(MAX_ELEMENTS_TRIED)
            .collect();
        if charts.is_empty() {
            return Outcome::pass(format!(
                "The first page of workbook {workbook} has no chart elements; lineage was not checked."
            ));
        }
        let mut last_error = None;
        for element in &charts {
            let path = format!(
                "workbooks/{}/lineage/elements/{}",
                enc(workbook),
                enc(&element.element_id)
            );
            match self.client.get_json::<Value>(&path, &[]).await {
                Ok(lineage) => {
                    let nodes = lineage
                        .get("dependencies")
                        .and_then(Value::as_object)
                        .map_or(0, |d| d.len());
                    return Outcome::pass(format!(
                        "Read the lineage of element {} of workbook {workbook} ({nodes} node{}).",
                        element.element_id,
                        if nodes == 1 { "" } else { "s" }
                    ));
                }
                // Elements without lineage answer 400 (UI elements), sometimes 500: next.
                Err(e)
                    if e.kind() == &ErrorKind::Status
                        && matches!(e.status().map(|s| s.as_u16()), Some(400 | 404 | 500)) =>
                {
                    last_error = Some(e);
                }
                Err(e) => return Outcome::fail(api_failure(step, &e), detail(&e)),
            }
        }
        let e = last_error.expect("at least one element was tried");
        Outcome::fail(
            format!(
                "None of the {} chart elements tried on the first page of workbook {workbook} returned lineage (last: HTTP {}); lineage may be incomplete.",
                charts.len(),
                e.status().map_or(0, |s| s.as_u16())
            ),
            detail(&e),
        )
    }
}

fn entries(page: &Value) -> &[Value] {
    match page {
        Value::Array(items) => items,
        other => other
            .get("entries")
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice),
    }
}

fn count_message(objects: &str, page: &Value) -> String {
    match page.get("total").and_then(Value::as_u64) {
        Some(total) => format!("Listed {objects}: {total} visible to these credentials."),
        None if entries(page).is_empty() => {
            format!("Listed {objects}: none visible to these credentials.")
        }
        None => format!("Listed {objects}."),
    }
}

/// The one-sentence message for a failed API request of `step`.
fn api_failure(step: Step, e: &ClientError) -> String {
    let objects = step.objects();
    let status = e.status().map_or(0, |s| s.as_u16());
    if e.is_forbidden() {
        return format!(
            "These credentials may not read {objects} (HTTP 403): API credentials act with their owner's account type; {}.",
            step.permission_hint()
        );
    }
    if e.is_rate_limited() {
        return format!(
            "Sigma is rate-limiting these credentials (HTTP 429 after {} attempt{}); wait a minute and test again, and consider lowering maxConcurrency or setting requestsPerSecond.",
            e.attempts(),
            if e.attempts() == 1 { "" } else { "s" }
        );
    }
    match e.kind() {
        ErrorKind::Auth(AuthFailure::TokenRejected) => "Sigma issued a token but rejects it (HTTP 401); the credentials may have been revoked, or their owner lacks API access.".to_owned(),
        ErrorKind::Auth(_) => format!("Authentication failed while reading {objects}: {e}."),
        ErrorKind::Status if status == 401 => format!("Sigma answered HTTP 401 to {objects}; the credentials may have been revoked."),
        ErrorKind::Status if status == 404 => format!(
            "Sigma answered HTTP 404 for {objects}; check hostPort and apiVersion (`v2`)."
        ),
        ErrorKind::Status if status >= 500 => format!(
            "Sigma failed to list {objects} (HTTP {status}); it may be unavailable, try again later."
        ),
        ErrorKind::Status => format!("Sigma refused to list {objects} (HTTP {status}); see errorLog."),
        ErrorKind::Connect => format!("The connection to Sigma failed while reading {objects}; check that this machine can reach hostPort."),
        ErrorKind::Tls => format!("TLS failed while reading {objects}; check that no proxy intercepts TLS."),
        ErrorKind::Timeout => format!("Reading {objects} timed out: Sigma did not answer in time; try again, or raise the step timeout."),
        ErrorKind::Transport => format!("The connection broke while reading {objects}; try again."),
        ErrorKind::Decode { .. } => format!("Sigma's answer for {objects} did not have the expected shape; see errorLog."),
        _ => format!("Reading {objects} failed: {e}."),
    }
}

/// The detail of a failed request for `errorLog`: every field on its own line.
fn detail(e: &ClientError) -> String {
    let mut out = String::new();
    let _ = write!(out, "request: {} {}", e.method(), e.path());
    if let Some(s) = e.status() {
        let _ = write!(out, "\nstatus: {s}");
    }
    if let Some(c) = e.sigma_code() {
        let _ = write!(out, "\ncode: {c}");
    }
    if let Some(m) = e.sigma_message() {
        let _ = write!(out, "\nmessage: {m}");
    }
    if let Some(id) = e.request_id() {
        let _ = write!(out, "\nrequestId: {id}");
    }
    let _ = write!(
        out,
        "\nattempts: {}\nelapsed: {} ms\nerror: {e}",
        e.attempts(),
        e.elapsed().as_millis()
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_follow_the_mandatory_steps() {
        let step = |name: &str, mandatory, passed| TestConnectionStepResult {
            name: name.into(),
            mandatory,
            passed,
            message: None,
            error_log: None,
        };
        let mut r = TestConnectionResult {
            last_updated_at: 0,
            status: TestConnectionStatus::Successful,
            steps: vec![
                step("CheckConfig", true, true),
                step("GetToken", true, true),
                step("GetMembers", false, false),
            ],
        };
        assert_eq!(r.exit_code(), 0);
        r.steps[1].passed = false;
        assert_eq!(r.exit_code(), 1);
        r.steps[0].passed = false;
        assert_eq!(r.exit_code(), 2);
    }

    #[test]
    fn every_step_is_named_once_and_in_order() {
        let names: Vec<_> = Step::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "CheckConfig",
                "GetToken",
                "GetWorkbooks",
                "GetDatasets",
                "GetDataModels",
                "GetMembers",
                "GetLineage"
            ]
        );
    }

    #[test]
    fn an_echoed_secret_is_redacted_but_short_placeholders_do_not_mangle_words() {
        let mut report = Report::default();
        report.push(
            Step::CheckConfig,
            Outcome::fail(
                "could not be resolved",
                "server said: s3cr3t-value-123".into(),
            ),
        );
        let r = report.finish(Some("s3cr3t-value-123"));
        assert_eq!(
            r.steps[0].error_log.as_deref(),
            Some("server said: [redacted]")
        );
        let mut report = Report::default();
        report.push(Step::CheckConfig, Outcome::pass("could not be resolved"));
        let r = report.finish(Some("b"));
        assert_eq!(r.steps[0].message.as_deref(), Some("could not be resolved"));
    }

    #[tokio::test]
    async fn an_invalid_config_fails_check_config_and_skips_the_rest() {
        let r = test_connection(
            TestInput::text(r#"{"hostPort": "aws-api.sigmacomputing.com", "clientId": "x", "clientSecret": "hunter2-secret"}"#),
            &TestOptions::default(),
        )
        .await;
        assert_eq!(r.status, TestConnectionStatus::Failed);
        assert_eq!(r.exit_code(), 2);
        assert_eq!(r.steps.len(), Step::ALL.len());
        let check = &r.steps[0];
        assert!(!check.passed);
        assert!(check.error_log.as_deref().unwrap().contains("/hostPort"));
        for s in &r.steps[1..] {
            assert!(!s.passed);
            assert_eq!(s.message.as_deref(), Some("skipped: CheckConfig failed"));
        }
        assert!(
            !serde_json::to_string(&r)
                .unwrap()
                .contains("hunter2-secret")
        );
    }
}
