//! The one verdict of a run. [`Outcome::of_run`] decides it from what the run saw; the
//! status file's `outcome`, the summary line and the process exit code all read it from
//! here, so they cannot disagree. The README's exit-code table is tested against
//! [`Outcome::ALL`].

use std::fmt;

use serde::{Deserialize, Serialize};

/// How a run ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum Outcome {
    /// Every listing complete, no failure.
    #[default]
    Success,
    /// Some objects failed but the success percentage reached the threshold (or a listing
    /// ended early and the operator accepted partial output with `--allow-partial`).
    PartialSuccess,
    /// A top-level listing ended early: the org was not read whole. Nothing is deleted, the
    /// last complete output and state stay; a file sink writes this run's records beside
    /// them (`<output>.partial`).
    Partial,
    /// Below the success threshold, or the sink could not write the output.
    Failed,
    /// Stopped by a signal before the end; the previous output is kept.
    Interrupted,
    /// The configuration or the command line must be fixed first.
    InvalidConfig,
    /// The run could not start or finish (a sink that cannot be opened or committed, a
    /// state file that cannot be read or written, ...).
    CouldNotRun,
}

/// What a finished run saw, as far as the verdict depends on it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunFacts {
    pub interrupted: bool,
    /// The sink refused a write: the output is not what the run read.
    pub sink_failed: bool,
    /// Failures of the source and the sink together.
    pub failures: u64,
    /// Every Sigma listing was read to its end.
    pub listings_complete: bool,
    pub success_percentage: f64,
    pub success_threshold: f64,
    /// The operator accepts an incomplete listing (`--allow-partial`): output is committed.
    pub allow_partial: bool,
    /// `workflowConfig.raiseOnError` (OpenMetadata's default `true`): failures below the
    /// success threshold fail the run. `false` is OpenMetadata's "do not flag the workflow
    /// as failed for processing errors": such a run is a partial success. It changes nothing
    /// else: an incomplete listing, a failing sink and an interruption are not processing
    /// errors of records.
    pub raise_on_error: bool,
}

/// What happens to a run's output and state, which the outcome decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// Replace the output and the state with this run's.
    Commit,
    /// Keep the last output and state; write what was fetched beside the output.
    SetAside,
    /// Keep the last output and state; drop what was fetched.
    Discard,
}

impl Outcome {
    /// Every outcome, in the order the README lists them.
    pub const ALL: [Outcome; 7] = [
        Outcome::Success,
        Outcome::PartialSuccess,
        Outcome::Partial,
        Outcome::Failed,
        Outcome::Interrupted,
        Outcome::InvalidConfig,
        Outcome::CouldNotRun,
    ];

    /// The verdict of a run that got to its end (or was interrupted).
    pub fn of_run(facts: &RunFacts) -> Self {
        if facts.interrupted {
            Outcome::Interrupted
        } else if facts.sink_failed {
            Outcome::Failed
        } else if !facts.listings_complete && !facts.allow_partial {
            // Whatever the percentage: one failed page can hide most of an org.
            Outcome::Partial
        } else if facts.failures == 0 && facts.listings_complete {
            Outcome::Success
        } else if facts.success_percentage >= facts.success_threshold || !facts.raise_on_error {
            Outcome::PartialSuccess
        } else {
            Outcome::Failed
        }
    }

    /// Whether the run's output and state replace the last ones. Only a run that may be
    /// used commits; a `partial` or `failed` run sets what it fetched aside, the others drop it.
    pub fn disposition(self) -> Disposition {
        match self {
            Outcome::Success | Outcome::PartialSuccess => Disposition::Commit,
            Outcome::Partial | Outcome::Failed => Disposition::SetAside,
            Outcome::Interrupted | Outcome::InvalidConfig | Outcome::CouldNotRun => {
                Disposition::Discard
            }
        }
    }

    /// The process exit code: 0 when the output can be used, 2 when the user must fix the
    /// config or command line, 3 when the org was read only in part, else 1.
    pub fn exit_code(self) -> u8 {
        match self {
            Outcome::Success | Outcome::PartialSuccess => 0,
            Outcome::Failed | Outcome::Interrupted | Outcome::CouldNotRun => 1,
            Outcome::InvalidConfig => 2,
            Outcome::Partial => 3,
        }
    }

    /// The name written in the status file and the summary line.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::PartialSuccess => "partialSuccess",
            Outcome::Partial => "partial",
            Outcome::Failed => "failed",
            Outcome::Interrupted => "interrupted",
            Outcome::InvalidConfig => "invalidConfig",
            Outcome::CouldNotRun => "couldNotRun",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts() -> RunFacts {
        RunFacts {
            interrupted: false,
            sink_failed: false,
            failures: 0,
            listings_complete: true,
            success_percentage: 100.0,
            success_threshold: 90.0,
            allow_partial: false,
            raise_on_error: true,
        }
    }

    #[test]
    fn raise_on_error_false_waives_the_threshold_and_nothing_else() {
        let below = RunFacts {
            failures: 5,
            success_percentage: 50.0,
            raise_on_error: false,
            ..facts()
        };
        let o = Outcome::of_run(&below);
        assert_eq!((o, o.exit_code()), (Outcome::PartialSuccess, 0));
        assert_eq!(
            Outcome::of_run(&RunFacts {
                raise_on_error: true,
                ..below
            }),
            Outcome::Failed
        );
        for (facts, outcome) in [
            (
                RunFacts {
                    listings_complete: false,
                    ..below
                },
                Outcome::Partial,
            ),
            (
                RunFacts {
                    sink_failed: true,
                    ..below
                },
                Outcome::Failed,
            ),
            (
                RunFacts {
                    interrupted: true,
                    ..below
                },
                Outcome::Interrupted,
            ),
        ] {
            assert_eq!(Outcome::of_run(&facts), outcome, "{facts:?}");
        }
    }

    #[test]
    fn a_clean_run_succeeds_with_exit_0() {
        let o = Outcome::of_run(&facts());
        assert_eq!((o, o.exit_code()), (Outcome::Success, 0));
    }

    #[test]
    fn failures_above_the_threshold_are_a_partial_success_with_exit_0() {
        let o = Outcome::of_run(&RunFacts {
            failures: 1,
            success_percentage: 97.5,
            ..facts()
        });
        assert_eq!((o, o.exit_code()), (Outcome::PartialSuccess, 0));
    }

    #[test]
    fn an_incomplete_listing_is_partial_with_exit_3_whatever_the_percentage() {
        let o = Outcome::of_run(&RunFacts {
            listings_complete: false,
            failures: 1,
            success_percentage: 99.9,
            ..facts()
        });
        assert_eq!((o, o.exit_code()), (Outcome::Partial, 3));
        assert_eq!(o.disposition(), Disposition::SetAside);
    }

    #[test]
    fn allow_partial_accepts_an_incomplete_listing_and_commits() {
        let o = Outcome::of_run(&RunFacts {
            listings_complete: false,
            failures: 1,
            success_percentage: 99.9,
            allow_partial: true,
            ..facts()
        });
        assert_eq!((o, o.exit_code()), (Outcome::PartialSuccess, 0));
        assert_eq!(o.disposition(), Disposition::Commit);
    }

    #[test]
    fn only_usable_runs_commit() {
        for o in Outcome::ALL {
            let commits = o.disposition() == Disposition::Commit;
            assert_eq!(commits, o.exit_code() == 0, "{o}");
        }
    }

    #[test]
    fn below_the_threshold_fails_with_exit_1() {
        let o = Outcome::of_run(&RunFacts {
            failures: 1,
            success_percentage: 97.5,
            success_threshold: 99.5,
            ..facts()
        });
        assert_eq!((o, o.exit_code()), (Outcome::Failed, 1));
    }

    #[test]
    fn a_sink_that_failed_to_write_fails_the_run_whatever_the_percentage() {
        let o = Outcome::of_run(&RunFacts {
            sink_failed: true,
            failures: 1,
            success_percentage: 99.9,
            ..facts()
        });
        assert_eq!((o, o.exit_code()), (Outcome::Failed, 1));
    }

    #[test]
    fn an_interrupted_run_exits_1_even_when_nothing_failed() {
        let o = Outcome::of_run(&RunFacts {
            interrupted: true,
            sink_failed: true,
            ..facts()
        });
        assert_eq!((o, o.exit_code()), (Outcome::Interrupted, 1));
    }

    #[test]
    fn an_invalid_config_exits_2_and_a_run_that_could_not_run_exits_1() {
        assert_eq!(Outcome::InvalidConfig.exit_code(), 2);
        assert_eq!(Outcome::CouldNotRun.exit_code(), 1);
    }

    #[test]
    fn names_are_the_serialised_form() {
        for o in Outcome::ALL {
            assert_eq!(
                serde_json::to_value(o).unwrap(),
                serde_json::json!(o.as_str())
            );
        }
    }
}
