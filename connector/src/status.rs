//! The run status OpenMetadata users know: per step, what was processed, filtered, warned
//! about and failed (with the first examples), the success percentage, elapsed time, the
//! Sigma requests made, and whether every listing was complete. Printed as a table at the
//! end of a run and written as JSON with `--status-file`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::client::ClientStats;
use crate::outcome::Outcome;
use crate::sigma::source::{FailedObject, ListingIncomplete, SourceStatus, WarningGroups};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StepStatus {
    pub name: String,
    /// Records that went through this step.
    pub processed: u64,
    /// Per kind.
    pub processed_by_kind: BTreeMap<String, u64>,
    pub filtered: u64,
    pub filtered_by_kind: BTreeMap<String, u64>,
    pub skipped: BTreeMap<String, u64>,
    pub warnings: u64,
    pub warning_examples: Vec<String>,
    /// The warnings grouped by cause, with the objects each affected: what the summary
    /// prints (see [`WarningGroups`]).
    #[serde(default, skip_serializing_if = "WarningGroups::is_empty")]
    pub warnings_by_cause: WarningGroups,
    pub failures: u64,
    pub failure_examples: Vec<String>,
    /// The failures of objects grouped by cause, as warnings are: what the summary prints
    /// for a step that groups them (listings that ended early are `incompleteListings`).
    #[serde(default, skip_serializing_if = "WarningGroups::is_empty")]
    pub failures_by_cause: WarningGroups,
}

/// What an interrupted run leaves as it was, decided before the run starts (whether an
/// output file existed then), so the messages say only what is true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeptOnInterrupt {
    output: KeptOutput,
    state_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum KeptOutput {
    /// A file from an earlier run: an interrupted run leaves it byte for byte.
    PreviousFile(std::path::PathBuf),
    /// No file yet: an interrupted run writes none.
    NoFile(std::path::PathBuf),
    /// Standard output or the console: what was printed stays printed.
    Printed,
    /// The metadata-rest sink: what was sent is in OpenMetadata.
    Sent,
}

impl KeptOnInterrupt {
    /// What an interruption would keep, decided before the run from the workflow's sink,
    /// the `--output` override and the state file.
    pub fn before_run(
        workflow: &crate::config::Workflow,
        output: Option<&std::path::Path>,
        state_file: Option<&std::path::Path>,
    ) -> Self {
        use crate::config::Destination;
        let output = match workflow.destination(output) {
            destination if destination.is_server() => KeptOutput::Sent,
            Destination::Console => KeptOutput::Printed,
            destination => match destination.file() {
                Some(path) if path.exists() => KeptOutput::PreviousFile(path.to_path_buf()),
                Some(path) => KeptOutput::NoFile(path.to_path_buf()),
                None => KeptOutput::Printed,
            },
        };
        Self {
            output,
            state_file: state_file.map(std::path::Path::to_path_buf),
        }
    }
}

impl std::fmt::Display for KeptOnInterrupt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.output {
            KeptOutput::PreviousFile(p) => write!(f, "the previous {} was kept", p.display())?,
            KeptOutput::NoFile(p) => write!(f, "nothing was written to {}", p.display())?,
            KeptOutput::Printed => {
                f.write_str("the records printed so far are an incomplete run")?
            }
            KeptOutput::Sent => f.write_str(
                "entities sent so far stay in OpenMetadata; nothing was marked deleted",
            )?,
        }
        if let Some(state) = &self.state_file {
            write!(f, "; the state {} was not updated", state.display())?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestStatus {
    pub requests: u64,
    pub retries: u64,
    pub throttled: u64,
    pub token_fetches: u64,
    pub failed: u64,
    /// Request starts a second the client was pacing itself at when the run ended (learnt
    /// from 429s, or the configured `requestsPerSecond`); absent when it was not pacing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paced_per_second: Option<u32>,
}

impl From<&ClientStats> for RequestStatus {
    fn from(s: &ClientStats) -> Self {
        Self {
            requests: s.requests_sent,
            retries: s.retries,
            throttled: s.throttled,
            token_fetches: s.token_fetches,
            failed: s.failures,
            paced_per_second: s.pace_per_second,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunStatus {
    pub service_name: String,
    pub started_at: String,
    pub finished_at: String,
    pub elapsed_seconds: f64,
    /// The verdict (see [`Outcome`]); the exit code follows from it.
    pub outcome: Outcome,
    pub success_percentage: f64,
    pub success_threshold: f64,
    /// `workflowConfig.raiseOnError` was `false`: a success percentage under the threshold
    /// did not fail the run (OpenMetadata's meaning). Absent when it was `true`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub threshold_waived: bool,
    /// Every Sigma listing was read to its end (deletions are only made when true).
    pub listings_complete: bool,
    /// Each listing that ended early: which, how far it got, and why.
    pub incomplete_listings: Vec<ListingIncomplete>,
    /// Every Sigma object that failed, with its kind and id (first 10,000; all are counted
    /// in the steps' `failures`). A platform running the binary reports these one by one
    /// and deletes nothing while any is listed (see docs/openmetadata-native.md).
    #[serde(default)]
    pub failed_objects: Vec<FailedObject>,
    pub interrupted: bool,
    /// Why the run could not start or finish (`couldNotRun`), in words a person can act on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Files of an earlier run this run left exactly as they were (output, state), because
    /// it did not succeed. Empty when it committed, or when there was nothing to keep.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept_previous: Vec<String>,
    pub steps: Vec<StepStatus>,
    pub sigma_requests: RequestStatus,
    /// Records emitted as soft deletes (mark-deleted).
    pub deleted: u64,
    /// Workbooks replayed from the state unchanged (incremental runs).
    pub unchanged_workbooks: u64,
    /// What an interrupted run left as it was, in words (absent when not interrupted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kept_on_interrupt: Option<String>,
    /// Where the output went, when it is a file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// This process's resource use (Linux; absent elsewhere).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resources: Option<ResourceUse>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResourceUse {
    /// Peak resident set size (`VmHWM`).
    pub peak_rss_bytes: u64,
    /// User plus system CPU time.
    pub cpu_seconds: f64,
}

impl ResourceUse {
    /// Reads `/proc/self`; `None` where there is no procfs.
    pub fn of_this_process() -> Option<Self> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()
            .ok()?;
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // Fields after the parenthesised command name; utime and stime are 14th and 15th.
        let after = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = after.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        // USER_HZ is 100 on every Linux this runs on.
        Some(Self {
            peak_rss_bytes: kib * 1024,
            cpu_seconds: ticks as f64 / 100.0,
        })
    }
}

/// The name of the source's step in the status.
const SOURCE_STEP: &str = "Sigma source";

impl StepStatus {
    pub fn from_source(s: &SourceStatus) -> Self {
        Self {
            name: SOURCE_STEP.into(),
            processed: s.emitted.values().sum(),
            processed_by_kind: s.emitted.clone(),
            filtered: s.filtered.values().sum(),
            filtered_by_kind: s.filtered.clone(),
            skipped: s.skipped.clone(),
            warnings: s.warnings,
            warning_examples: s.warning_examples.clone(),
            warnings_by_cause: s.warnings_by_cause.clone(),
            failures: s.failures,
            failure_examples: s.failure_examples.clone(),
            failures_by_cause: s.failures_by_cause.clone(),
        }
    }
}

fn round_ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

/// OpenMetadata's definition: processed / (processed + failures), as a percentage; 100
/// when nothing was attempted.
pub fn success_percentage(processed: u64, failures: u64) -> f64 {
    let total = processed + failures;
    if total == 0 {
        100.0
    } else {
        (processed as f64 * 100.0 / total as f64 * 100.0).round() / 100.0
    }
}

/// What a run that got to the end of its loop saw, for [`RunStatus::of_run`].
pub struct RunReport<'a> {
    pub service_name: String,
    pub started_at: jiff::Timestamp,
    pub elapsed: std::time::Duration,
    pub source: &'a SourceStatus,
    pub sink: StepStatus,
    /// Workbooks replayed from the state (they count as processed).
    pub unchanged: u64,
    pub deleted: u64,
    pub interrupted: bool,
    pub sink_failed: bool,
    pub success_threshold: f64,
    pub allow_partial: bool,
    /// `workflowConfig.raiseOnError` (see [`crate::outcome::RunFacts::raise_on_error`]).
    pub raise_on_error: bool,
    pub requests: &'a ClientStats,
    /// What an interrupted run leaves as it was, in words (decided before the run).
    pub kept_on_interrupt: Option<String>,
}

impl RunStatus {
    /// The status of a run that got through its loop, with its verdict.
    pub fn of_run(r: RunReport<'_>) -> Self {
        let source_step = StepStatus::from_source(r.source);
        let failures = source_step.failures + r.sink.failures;
        let processed = source_step.processed + r.unchanged;
        let percentage = success_percentage(processed, failures);
        let outcome = Outcome::of_run(&crate::outcome::RunFacts {
            interrupted: r.interrupted,
            sink_failed: r.sink_failed,
            failures,
            listings_complete: r.source.is_complete(),
            success_percentage: percentage,
            success_threshold: r.success_threshold,
            allow_partial: r.allow_partial,
            raise_on_error: r.raise_on_error,
        });
        Self {
            service_name: r.service_name,
            started_at: r.started_at.to_string(),
            finished_at: jiff::Timestamp::now().to_string(),
            elapsed_seconds: round_ms(r.elapsed),
            outcome,
            success_percentage: percentage,
            success_threshold: r.success_threshold,
            threshold_waived: !r.raise_on_error,
            listings_complete: r.source.is_complete(),
            incomplete_listings: r.source.incomplete_listings.clone(),
            failed_objects: r.source.failed_objects.clone(),
            interrupted: r.interrupted,
            kept_on_interrupt: r.interrupted.then_some(r.kept_on_interrupt).flatten(),
            error: None,
            kept_previous: Vec::new(),
            steps: vec![source_step, r.sink],
            sigma_requests: RequestStatus::from(r.requests),
            deleted: r.deleted,
            unchanged_workbooks: r.unchanged,
            output: None,
            resources: ResourceUse::of_this_process(),
        }
    }

    /// The status of a run that could not start or finish: `error` says why.
    pub fn could_not_run(
        service_name: String,
        started_at: jiff::Timestamp,
        elapsed: std::time::Duration,
        error: String,
        requests: &ClientStats,
    ) -> Self {
        Self {
            service_name,
            started_at: started_at.to_string(),
            finished_at: jiff::Timestamp::now().to_string(),
            elapsed_seconds: round_ms(elapsed),
            outcome: Outcome::CouldNotRun,
            success_percentage: 0.0,
            success_threshold: 0.0,
            listings_complete: false,
            error: Some(error),
            sigma_requests: RequestStatus::from(requests),
            resources: ResourceUse::of_this_process(),
            ..Self::default()
        }
    }

    /// The process exit code, which the outcome decides.
    pub fn exit_code(&self) -> u8 {
        self.outcome.exit_code()
    }

    /// A table for people, printed at the end of a run.
    pub fn render_table(&self) -> String {
        let mut out = String::new();
        if let Some(error) = &self.error {
            let _ = writeln!(out, "error: {error}");
            let _ = writeln!(
                out,
                "outcome: {}, elapsed {:.2}s, {} Sigma requests",
                self.outcome, self.elapsed_seconds, self.sigma_requests.requests
            );
            self.render_kept(&mut out);
            return out;
        }
        let _ = writeln!(out, "Workflow summary for service `{}`", self.service_name);
        let _ = writeln!(
            out,
            "{:<16} {:>10} {:>9} {:>9} {:>9}",
            "step", "processed", "filtered", "warnings", "failures"
        );
        for s in &self.steps {
            let _ = writeln!(
                out,
                "{:<16} {:>10} {:>9} {:>9} {:>9}",
                s.name, s.processed, s.filtered, s.warnings, s.failures
            );
            for (kind, n) in &s.processed_by_kind {
                let _ = writeln!(out, "  {kind:<18} {n:>6}");
            }
        }
        let waived = if self.threshold_waived {
            ", not applied: raiseOnError is false"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "success {:.2}% (threshold {:.0}%{waived}), outcome: {}, elapsed {:.2}s",
            self.success_percentage, self.success_threshold, self.outcome, self.elapsed_seconds
        );
        let r = &self.sigma_requests;
        let _ = writeln!(
            out,
            "Sigma requests: {} ({} retries, {} throttled, {} token fetches, {} failed)",
            r.requests, r.retries, r.throttled, r.token_fetches, r.failed
        );
        if self.unchanged_workbooks > 0 {
            let _ = writeln!(
                out,
                "unchanged workbooks replayed from state: {}",
                self.unchanged_workbooks
            );
        }
        if self.deleted > 0 {
            let _ = writeln!(out, "marked deleted: {}", self.deleted);
        }
        self.render_incomplete(&mut out);
        if self.interrupted {
            match &self.kept_on_interrupt {
                Some(kept) => {
                    let _ = writeln!(out, "the run was INTERRUPTED: {kept}");
                }
                None => {
                    let _ = writeln!(out, "the run was INTERRUPTED");
                }
            }
        }
        for s in &self.steps {
            // One line per cause where the step groups its failures (the source: its
            // listings that ended early are the INCOMPLETE lines above, not repeated here),
            // else its first examples (the sink).
            let grouped = !s.failures_by_cause.is_empty() || s.name == SOURCE_STEP;
            if grouped {
                for group in s.failures_by_cause.iter() {
                    let _ = writeln!(out, "failure: {group}");
                }
            } else {
                for e in &s.failure_examples {
                    let _ = writeln!(out, "failure: {e}");
                }
            }
            // One line per cause where the step groups them, else its first examples.
            if s.warnings_by_cause.is_empty() {
                for w in &s.warning_examples {
                    let _ = writeln!(out, "warning: {w}");
                }
            } else {
                for group in s.warnings_by_cause.iter() {
                    let _ = writeln!(out, "warning: {group}");
                }
            }
        }
        if let Some(r) = &self.resources {
            let _ = writeln!(
                out,
                "peak memory {:.1} MiB, CPU {:.2}s",
                r.peak_rss_bytes as f64 / 1048576.0,
                r.cpu_seconds
            );
        }
        if let Some(o) = &self.output {
            let _ = writeln!(out, "output: {o}");
        }
        self.render_kept(&mut out);
        out
    }

    /// One `INCOMPLETE:` line per cause: a listing alone with its cause says everything
    /// (path, requestId, attempts); listings one cause broke share a line that names each
    /// and how far it got, then the cause once.
    fn render_incomplete(&self, out: &mut String) {
        // Listings run concurrently, so the order they failed in is timing: print them in
        // a fixed order (workbooks first) so the same failure reads the same every run.
        let rank = |l: &ListingIncomplete| {
            let known = ["workbooks", "reports", "dataModels", "datasets"];
            let at = known.iter().position(|k| *k == l.listing);
            (at.unwrap_or(known.len()), l.listing.clone())
        };
        let mut listings: Vec<&ListingIncomplete> = self.incomplete_listings.iter().collect();
        listings.sort_by_key(|l| rank(l));
        let mut groups: Vec<(&str, Vec<&ListingIncomplete>)> = Vec::new();
        for listing in listings {
            let reason = if listing.reason.is_empty() {
                listing.cause.as_str()
            } else {
                listing.reason.as_str()
            };
            match groups.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, members)) => members.push(listing),
                None => groups.push((reason, vec![listing])),
            }
        }
        for (reason, listings) in groups {
            if let [listing] = listings.as_slice() {
                let _ = writeln!(out, "INCOMPLETE: {listing} (nothing was marked deleted)");
                continue;
            }
            let progress: Vec<String> = listings
                .iter()
                .map(|l| {
                    format!(
                        "after {} item(s) on {} page(s)",
                        l.items_so_far, l.pages_so_far
                    )
                })
                .collect();
            let others: Vec<String> = listings
                .iter()
                .zip(&progress)
                .skip(1)
                .map(|(l, p)| format!("`{}` {p}", l.listing))
                .collect();
            let _ = writeln!(
                out,
                "INCOMPLETE: listing `{}` ended early {}, {}: {reason} ({} listings, one cause; nothing was marked deleted)",
                listings[0].listing,
                progress[0],
                others.join(", "),
                listings.len()
            );
        }
    }

    fn render_kept(&self, out: &mut String) {
        if !self.kept_previous.is_empty() {
            let _ = writeln!(
                out,
                "kept the previous run's files unchanged: {}",
                self.kept_previous.join(", ")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_own_resource_use_on_linux() {
        if cfg!(target_os = "linux") {
            let r = ResourceUse::of_this_process().unwrap();
            assert!(r.peak_rss_bytes > 1024 * 1024);
        }
    }

    #[test]
    fn warnings_group_by_cause_counting_objects_and_keeping_a_few_ids() {
        let mut groups = WarningGroups::default();
        assert!(groups.add("members could not be listed", None));
        for i in 0..400 {
            let id = format!("wb{i}");
            assert!(!groups.add("members could not be listed", Some(&id)));
        }
        assert!(groups.add("lineage unavailable (HTTP 500)", Some("wb1/el1")));
        let lines: Vec<String> = groups.iter().map(ToString::to_string).collect();
        assert_eq!(
            lines,
            [
                "members could not be listed (400 objects, e.g. wb0, wb1, wb2, ...)",
                "lineage unavailable (HTTP 500) (1 object, e.g. wb1/el1)",
            ]
        );
        let json = serde_json::to_value(&groups).unwrap();
        assert_eq!(json[0]["objects"], 400);
        assert_eq!(json[0]["exampleIds"].as_array().unwrap().len(), 3);
    }

    #[test]
    fn percentage() {
        assert_eq!(success_percentage(0, 0), 100.0);
        assert_eq!(success_percentage(9, 1), 90.0);
        assert_eq!(success_percentage(2, 1), 66.67);
    }
}
