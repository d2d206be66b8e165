//! OpenMetadata's `TestConnectionResult` (`entity/services/connections/testConnectionResult.json`)
//! and how a run's step outcomes become one. The JSON is OpenMetadata's, byte for byte: an
//! automation runner consumes it, so nothing of ours (a "skipped" flag, a warning level) is
//! added to it; such things are read from what OpenMetadata's fields already say.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

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

impl TestConnectionStepResult {
    /// Whether the step never ran (an earlier step failed, or the total timeout ran out).
    /// OpenMetadata's shape has no such flag, so a skipped step is `passed: false` with a
    /// message that starts with `skipped:`; this reads it back in the one place that knows.
    pub fn skipped(&self) -> bool {
        !self.passed
            && self
                .message
                .as_deref()
                .is_some_and(|m| m.starts_with(SKIPPED_PREFIX))
    }

    /// The verdict column of `--format table`: `ok`, `FAIL` (a mandatory step), `WARN` (an
    /// optional one: the test still passes), `SKIP` (not run).
    pub fn verdict(&self) -> &'static str {
        if self.passed {
            "ok"
        } else if self.skipped() {
            "SKIP"
        } else if self.mandatory {
            "FAIL"
        } else {
            "WARN"
        }
    }
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
                s.verdict(),
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

/// What one step found, before it is named and placed in the result.
#[derive(Debug)]
pub(super) struct StepOutcome {
    pub(super) passed: bool,
    pub(super) message: String,
    pub(super) error_log: Option<String>,
}

impl StepOutcome {
    pub(super) fn pass(message: impl Into<String>) -> Self {
        Self {
            passed: true,
            message: message.into(),
            error_log: None,
        }
    }

    pub(super) fn fail(message: impl Into<String>, error_log: String) -> Self {
        Self {
            passed: false,
            message: message.into(),
            error_log: (!error_log.is_empty()).then_some(error_log),
        }
    }
}

/// Shorter secrets are not searched for in the output (see `Report::finish`).
const MIN_REDACTED_SECRET_LEN: usize = 8;

/// The steps' outcomes as they arrive, in the order of [`Step::ALL`].
#[derive(Default)]
pub(super) struct Report {
    steps: Vec<TestConnectionStepResult>,
}

impl Report {
    pub(super) fn push(&mut self, step: Step, outcome: StepOutcome) {
        self.steps.push(TestConnectionStepResult {
            name: step.name().to_owned(),
            mandatory: step.mandatory(),
            passed: outcome.passed,
            message: Some(outcome.message),
            error_log: outcome.error_log,
        });
    }

    /// Reports every step not yet reported as skipped, because of `failed`.
    pub(super) fn skip_rest(&mut self, failed: Step) {
        for step in Step::ALL.iter().skip(self.steps.len()) {
            self.push(*step, skipped_after(failed));
        }
    }

    pub(super) fn finish(mut self, secret: Option<&str>) -> TestConnectionResult {
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

/// The steps, in the order they run and are reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Schema and semantic validation of the config; no network.
    CheckConfig,
    /// An access token from the token endpoint: proves hostPort, apiVersion and credentials.
    GetToken,
    /// `GET /v2/workbooks?limit=1`: the dashboards.
    GetWorkbooks,
    /// `GET /v2/reports?limit=1` (today's API; an older deployment's 404 warns).
    GetReports,
    /// `GET /v2/datasets?limit=1`.
    GetDatasets,
    /// `GET /v2/dataModels?limit=1`, then the first data model's `/lineage` (or, on an
    /// older deployment, its `/sources`).
    GetDataModels,
    /// `GET /v2/members?limit=1`: owners.
    GetMembers,
    /// The first workbook's `/lineage`, or on an older deployment one chart element's.
    GetLineage,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::CheckConfig,
        Step::GetToken,
        Step::GetWorkbooks,
        Step::GetReports,
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
            Step::GetReports => "GetReports",
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
}

/// How a skipped step's message starts: [`super::TestConnectionStepResult::skipped`] reads it.
pub const SKIPPED_PREFIX: &str = "skipped: ";

pub(super) fn skipped_after(failed: Step) -> StepOutcome {
    StepOutcome::fail(
        format!("{SKIPPED_PREFIX}{} failed", failed.name()),
        String::new(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(name: &str, mandatory: bool, passed: bool, message: &str) -> TestConnectionStepResult {
        TestConnectionStepResult {
            name: name.into(),
            mandatory,
            passed,
            message: Some(message.into()),
            error_log: None,
        }
    }

    #[test]
    fn exit_codes_follow_the_mandatory_steps() {
        let mut r = TestConnectionResult {
            last_updated_at: 0,
            status: TestConnectionStatus::Successful,
            steps: vec![
                step("CheckConfig", true, true, ""),
                step("GetToken", true, true, ""),
                step("GetMembers", false, false, ""),
            ],
        };
        assert_eq!(r.exit_code(), 0);
        r.steps[1].passed = false;
        assert_eq!(r.exit_code(), 1);
        r.steps[0].passed = false;
        assert_eq!(r.exit_code(), 2);
    }

    #[test]
    fn the_table_tells_skipped_from_failed_and_warned() {
        let r = TestConnectionResult {
            last_updated_at: 0,
            status: TestConnectionStatus::Failed,
            steps: vec![
                step("CheckConfig", true, true, "valid"),
                step("GetToken", true, false, "rejected"),
                step("GetWorkbooks", true, false, "skipped: GetToken failed"),
                step("GetMembers", false, false, "skipped: GetToken failed"),
                step("GetReports", false, false, "no reports API"),
            ],
        };
        let verdicts: Vec<_> = r.steps.iter().map(|s| s.verdict()).collect();
        assert_eq!(verdicts, ["ok", "FAIL", "SKIP", "SKIP", "WARN"]);
        let table = r.to_table();
        assert!(
            table.contains("GetWorkbooks  yes        SKIP  skipped: GetToken failed"),
            "{table}"
        );
    }

    #[test]
    fn an_echoed_secret_is_redacted_but_short_placeholders_do_not_mangle_words() {
        let mut report = Report::default();
        report.push(
            Step::CheckConfig,
            StepOutcome::fail(
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
        report.push(
            Step::CheckConfig,
            StepOutcome::pass("could not be resolved"),
        );
        let r = report.finish(Some("b"));
        assert_eq!(r.steps[0].message.as_deref(), Some("could not be resolved"));
    }
}
