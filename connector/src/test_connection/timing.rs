//! Step timing: each step runs under its own timeout, capped by what is left of the test's
//! total, so that one slow endpoint costs one step timeout and the UI never waits longer
//! than the total.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use super::result::{SKIPPED_PREFIX, Step, StepOutcome};

/// The two limits a step runs under.
#[derive(Debug, Clone, Copy)]
pub(super) struct Clock {
    pub(super) deadline: Instant,
    pub(super) step_timeout: Duration,
    pub(super) total_timeout: Duration,
}

/// Which limit ended a step: named in the message, because the fix differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Limit {
    Step,
    RestOfTotal,
}

impl Clock {
    pub(super) fn start(total_timeout: Duration, step_timeout: Duration) -> Self {
        Self {
            deadline: Instant::now() + total_timeout,
            step_timeout,
            total_timeout,
        }
    }

    /// Runs one step under its own timeout, capped by what is left of the total.
    pub(super) async fn run(
        &self,
        step: Step,
        work: impl Future<Output = StepOutcome>,
    ) -> StepOutcome {
        let now = Instant::now();
        if now >= self.deadline {
            return total_timeout_ran_out(self.total_timeout);
        }
        let left = self.deadline - now;
        let (limit, which) = if self.step_timeout <= left {
            (self.step_timeout, Limit::Step)
        } else {
            (left, Limit::RestOfTotal)
        };
        match tokio::time::timeout(limit, work).await {
            Ok(outcome) => outcome,
            Err(_) => step_timed_out(step, limit, which, self),
        }
    }
}

/// A duration as a person reads it: whole seconds when whole, else tenths.
pub(super) fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s.fract() == 0.0 {
        format!("{s:.0} s")
    } else {
        format!("{s:.1} s")
    }
}

pub(super) fn total_timeout_ran_out(total: Duration) -> StepOutcome {
    StepOutcome::fail(
        format!(
            "{SKIPPED_PREFIX}the test's total timeout of {} ran out",
            secs(total)
        ),
        String::new(),
    )
}

pub(super) fn step_timed_out(
    step: Step,
    limit: Duration,
    which: Limit,
    clock: &Clock,
) -> StepOutcome {
    let which = match which {
        Limit::Step => "step timeout",
        Limit::RestOfTotal => "rest of the test's total timeout",
    };
    StepOutcome::fail(
        format!(
            "{} timed out: Sigma did not answer within {} ({which}); the API may be overloaded or unreachable, try again or raise the timeout.",
            step.name(),
            secs(limit)
        ),
        format!(
            "step: {}\ntimeout: {} ({which})\nstep timeout: {}\ntotal timeout: {}",
            step.name(),
            secs(limit),
            secs(clock.step_timeout),
            secs(clock.total_timeout)
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_step_is_cut_by_the_rest_of_the_total_when_that_is_shorter() {
        let clock = Clock::start(Duration::from_secs(3), Duration::from_secs(20));
        let out = clock
            .run(Step::GetMembers, async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                StepOutcome::pass("never")
            })
            .await;
        assert!(!out.passed);
        assert!(
            out.message
                .contains("within 3 s (rest of the test's total timeout)"),
            "{}",
            out.message
        );
        let out = clock
            .run(Step::GetLineage, async { StepOutcome::pass("late") })
            .await;
        assert!(out.message.starts_with("skipped:"), "{}", out.message);
    }

    #[test]
    fn seconds_read_naturally() {
        assert_eq!(secs(Duration::from_secs(20)), "20 s");
        assert_eq!(secs(Duration::from_millis(900)), "0.9 s");
    }
}
