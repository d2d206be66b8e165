//! Test connection: what OpenMetadata's UI runs when a user saves a Sigma service. A fixed
//! list of cheap steps, each with its own timeout, answered in OpenMetadata's
//! `TestConnectionResult` shape (`entity/services/connections/testConnectionResult.json`).
//!
//! Every step makes at most a few requests with `limit=1` (or one small page) through
//! `SigmaApi`, and nothing is ever paged through: the whole
//! test is eight requests against today's Sigma. Failures are explained in one sentence a
//! person can act on (`message`), with the detail in `errorLog`; neither ever holds the
//! client secret.
//!
//! ```no_run
//! # async fn run() {
//! use sigma_connector::test_connection::{TestInput, TestOptions, test_connection};
//! let form = r#"{"hostPort": "https://aws-api.sigmacomputing.com", "clientId": "id", "clientSecret": "s"}"#;
//! let result = test_connection(TestInput::text(form), &TestOptions::default()).await;
//! println!("{}", serde_json::to_string_pretty(&result).unwrap());
//! # }
//! ```
//!
//! Layout: `steps` (what each step asks Sigma), `result` (OpenMetadata's result types and
//! how outcomes become one), `timing` (step and total timeouts), `messages` (every sentence
//! a person reads).

mod messages;
mod result;
mod steps;
mod timing;

use std::time::Duration;

use secrecy::ExposeSecret;

use crate::client::{BackoffConfig, RetryConfig, SigmaClient};
use crate::config::{ConfigError, ConfigInput, SigmaConnection, load_input_str};
use crate::sigma::api::SigmaApi;
use crate::sigma::routes::Route;

pub use result::SKIPPED_PREFIX;
pub use result::Step;
pub use result::{TestConnectionResult, TestConnectionStatus, TestConnectionStepResult};

use result::{Report, StepOutcome};
use steps::Probe;
use timing::Clock;

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
    let clock = Clock::start(options.total_timeout, options.step_timeout);
    let loaded = match input {
        TestInput::Text(text) => load_input_str(&text),
        TestInput::Loaded(loaded) => loaded,
    };
    let mut report = Report::default();
    let conn = match loaded {
        Ok(input) => input.connection().clone(),
        Err(e) => {
            report.push(Step::CheckConfig, messages::config_failure(&e));
            report.skip_rest(Step::CheckConfig);
            return report.finish(None);
        }
    };
    let secret = conn.client_secret.expose_secret().to_owned();
    run_steps(&conn, options, &clock, &mut report).await;
    report.finish(Some(&secret))
}

async fn run_steps(
    conn: &SigmaConnection,
    options: &TestOptions,
    clock: &Clock,
    report: &mut Report,
) {
    let endpoints = match conn.endpoints() {
        Ok(endpoints) => endpoints,
        Err(e) => {
            // Validation refuses what `endpoints()` refuses; a hand-made connection may not.
            report.push(Step::CheckConfig, messages::connection_unusable(&e));
            report.skip_rest(Step::CheckConfig);
            return;
        }
    };
    report.push(
        Step::CheckConfig,
        StepOutcome::pass(messages::config_valid(&endpoints)),
    );
    // The HTTP timeouts are capped by the step timeout so that a slow server yields the
    // client's typed timeout (with attempts and elapsed) rather than only ours.
    let mut tuned = conn.clone();
    let step_secs = options.step_timeout.as_secs().max(1);
    tuned.connect_timeout = tuned.connect_timeout.min(step_secs);
    tuned.request_timeout = tuned.request_timeout.min(step_secs);
    let client = match SigmaClient::with_retry_config(&tuned, options.retry) {
        Ok(c) => c,
        Err(e) => {
            report.push(Step::GetToken, messages::connection_unusable(&e));
            report.skip_rest(Step::GetToken);
            return;
        }
    };
    let probe = Probe {
        conn,
        api: SigmaApi::new(client),
    };

    let token = clock.run(Step::GetToken, probe.get_token()).await;
    let token_ok = token.passed;
    report.push(Step::GetToken, token);
    if !token_ok {
        report.skip_rest(Step::GetToken);
        return;
    }

    let mut first_workbook = None;
    let workbooks = clock
        .run(Step::GetWorkbooks, async {
            let (outcome, first) = probe.get_workbooks().await;
            first_workbook = first;
            outcome
        })
        .await;
    let workbooks_ok = workbooks.passed;
    report.push(Step::GetWorkbooks, workbooks);

    // The optional steps are independent: run them together so that one slow endpoint
    // costs one step timeout, not five.
    let (reports, datasets, data_models, members, lineage) = tokio::join!(
        clock.run(Step::GetReports, probe.get_reports()),
        clock.run(
            Step::GetDatasets,
            probe.count(Step::GetDatasets, Route::Datasets)
        ),
        clock.run(Step::GetDataModels, probe.get_data_models()),
        clock.run(
            Step::GetMembers,
            probe.count(Step::GetMembers, Route::Members)
        ),
        async {
            if workbooks_ok {
                clock
                    .run(
                        Step::GetLineage,
                        probe.get_lineage(first_workbook.as_deref()),
                    )
                    .await
            } else {
                // Lineage starts from a workbook: without the listing there is none to try.
                result::skipped_after(Step::GetWorkbooks)
            }
        },
    );
    report.push(Step::GetReports, reports);
    report.push(Step::GetDatasets, datasets);
    report.push(Step::GetDataModels, data_models);
    report.push(Step::GetMembers, members);
    report.push(Step::GetLineage, lineage);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_is_named_once_and_in_order() {
        let names: Vec<_> = Step::ALL.iter().map(|s| s.name()).collect();
        assert_eq!(
            names,
            [
                "CheckConfig",
                "GetToken",
                "GetWorkbooks",
                "GetReports",
                "GetDatasets",
                "GetDataModels",
                "GetMembers",
                "GetLineage"
            ]
        );
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
