//! The workflow runner: source -> bounded channel -> sink, with a truthful status.
//!
//! The source runs in its own task and hands records over a bounded channel, so a slow
//! sink slows the source (back-pressure) and memory stays constant. The sink commits only
//! at the end of a run that was not interrupted; the state (for incremental runs and
//! mark-deleted) is written only after the sink has committed.

use std::collections::HashSet;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::mpsc;

use crate::Error;
use crate::client::SigmaClient;
use crate::config::Workflow;
use crate::outcome::{Outcome, RunFacts};
use crate::records::{DeleteRef, Entity, EntityType, Record, RecordKind};
use crate::sigma::source::{SigmaSource, SourceItem, SourceOptions};
use crate::sink::{AnySink, Sink, SinkError, SinkSummary};
use crate::state::{EntityState, RunState, WorkbookState};
use crate::status::{RequestStatus, RunStatus, StepStatus, success_percentage};

/// How a run is asked to behave beyond the workflow file.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Overrides `workflowConfig.successThreshold`; default 90.
    pub success_threshold: Option<f64>,
    /// Write the status as JSON here.
    pub status_file: Option<PathBuf>,
    /// Keep what this run saw here (enables mark-deleted and incremental runs).
    pub state_file: Option<PathBuf>,
    /// Do not expand workbooks whose `updatedAt` is unchanged since the state was written.
    pub incremental: bool,
    /// Overrides the sink: write JSON Lines here (`-` for standard output).
    pub output: Option<PathBuf>,
    /// Records in flight between source and sink.
    pub channel_capacity: usize,
    /// How often progress is logged when no progress bar is shown.
    pub progress_every: Duration,
    /// Show a progress bar on stderr (the CLI sets this when stderr is a terminal).
    pub progress_bar: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            success_threshold: None,
            status_file: None,
            state_file: None,
            incremental: false,
            output: None,
            channel_capacity: 256,
            progress_every: Duration::from_secs(10),
            progress_bar: false,
        }
    }
}

/// What only the runner can find wrong; converted into [`crate::Error`], which also
/// carries the sink's, the state's and the Sigma client's errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    #[error("invalid filter pattern: {0}")]
    Filter(#[from] regex::Error),
    #[error("cannot write the status file {}: {source}", path.display())]
    StatusFile {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Most examples of sink warnings and failures kept in the status (all are counted).
const SINK_EXAMPLES: usize = 20;

/// Files what the sink reported at commit under the sink step.
fn record_summary(step: &mut StepStatus, summary: &SinkSummary) {
    step.failures += summary.failures.len() as u64;
    step.warnings += summary.warnings.len() as u64;
    for message in &summary.failures {
        if step.failure_examples.len() < SINK_EXAMPLES {
            step.failure_examples.push(message.clone());
        }
    }
    for message in &summary.warnings {
        if step.warning_examples.len() < SINK_EXAMPLES {
            step.warning_examples.push(message.clone());
        }
    }
    for (what, n) in &summary.skipped {
        *step.skipped.entry(what.clone()).or_default() += n;
    }
}

/// A workbook's records being gathered for the state (they arrive contiguously).
struct PendingWorkbook {
    workbook_id: String,
    dashboard_fqn: Option<String>,
    updated_at: Option<String>,
    records: Vec<Record>,
}

/// Runs the workflow to the end, or until `shutdown` resolves.
pub async fn run(
    workflow: &Workflow,
    options: &RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<RunStatus, Error> {
    let started_at = jiff::Timestamp::now();
    let clock = Instant::now();
    let sc = &workflow.source.source_config.config;
    let service = workflow.source.service_name.clone();

    let mut sink = AnySink::from_workflow(workflow, options.output.as_deref())?;
    sink.healthcheck().await?;

    let previous = match &options.state_file {
        Some(path) => Some(RunState::load(path, &service)?),
        None => None,
    };
    let mut source_options = SourceOptions::from_workflow(workflow).map_err(RunError::from)?;
    if options.incremental {
        if let Some(prev) = &previous {
            source_options.unchanged_workbooks = prev
                .dashboards
                .values()
                .filter_map(|w| Some((w.workbook_id.clone(), w.updated_at.clone()?)))
                .collect();
        }
    }
    let client = SigmaClient::new(&workflow.source.service_connection.config)?;
    let source = SigmaSource::new(client.clone(), source_options);
    let source_status = source.status();

    let (tx, mut rx) = mpsc::channel(options.channel_capacity.max(1));
    let producer = tokio::spawn(async move {
        let mut records = source.records();
        while let Some(item) = records.next().await {
            if tx.send(item).await.is_err() {
                break; // the runner stopped listening (interrupted or a sink failure)
            }
        }
    });

    let keep_state = options.state_file.is_some();
    let mut state = RunState::new(&service);
    let mut pending: Option<PendingWorkbook> = None;
    let mut failed_ids: HashSet<String> = HashSet::new();
    let mut sink_status = StepStatus {
        name: "sink".into(),
        ..Default::default()
    };
    let mut unchanged = 0u64;
    let mut interrupted = false;
    let mut sink_error: Option<SinkError> = None;
    let mut last_progress = Instant::now();
    let progress = crate::logging::ProgressLine::start(options.progress_bar);
    let what_is_kept = crate::status::KeptOnInterrupt::before_run(workflow, options);

    tokio::pin!(shutdown);
    loop {
        let item = tokio::select! {
            biased;
            _ = &mut shutdown => {
                tracing::warn!("interrupted: stopping the Sigma source; {what_is_kept}");
                interrupted = true;
                break;
            }
            item = rx.recv() => item,
        };
        let Some(item) = item else { break };
        let result = match item {
            Ok(SourceItem::UnchangedWorkbook { dashboard_fqn, .. }) => {
                unchanged += 1;
                flush(&mut pending, &mut state);
                replay(
                    &dashboard_fqn,
                    previous.as_ref(),
                    &mut sink,
                    &mut state,
                    &mut sink_status,
                )
                .await
            }
            Ok(SourceItem::Record {
                record,
                workbook_id,
            }) => {
                let written = sink.write(&record).await;
                if written.is_ok() {
                    count(&mut sink_status, record.kind());
                    if keep_state {
                        track(record, workbook_id, &mut pending, &mut state);
                    }
                }
                written
            }
            Err(error) => {
                if let Some(id) = error.object_id() {
                    failed_ids.insert(id.to_owned());
                }
                Ok(())
            }
        };
        if let Err(e) = result {
            sink_error = Some(e);
            break;
        }
        if progress.is_shown() {
            if last_progress.elapsed() >= Duration::from_millis(250) {
                last_progress = Instant::now();
                let (s, c) = (source_status.snapshot(), client.stats());
                progress.update(&crate::logging::ProgressFigures {
                    records: sink_status.processed,
                    workbooks_done: s.workbooks_done,
                    workbooks_total: s.workbooks_total,
                    requests: c.requests_sent,
                    retries: c.retries,
                    failures: s.failures,
                });
            }
        } else if last_progress.elapsed() >= options.progress_every {
            last_progress = Instant::now();
            let s = source_status.snapshot();
            tracing::info!(
                records = sink_status.processed,
                dashboards = s.emitted.get("dashboard").copied().unwrap_or(0),
                failures = s.failures,
                requests = client.stats().requests_sent,
                retries = client.stats().retries,
                "progress"
            );
        }
    }
    drop(progress);
    drop(rx);
    if interrupted || sink_error.is_some() {
        producer.abort();
    }
    let _ = producer.await;
    flush(&mut pending, &mut state);

    let source_snapshot = source_status.snapshot();
    let complete = source_snapshot.is_complete() && !interrupted && sink_error.is_none();
    let mut deleted = 0u64;
    let mut output = None;
    let sink_failed = sink_error.is_some();
    if let Some(e) = sink_error {
        sink.abort().await;
        sink_status.failures += 1;
        sink_status.failure_examples.push(e.to_string());
    } else if interrupted {
        sink.abort().await;
    } else {
        // Mark-deleted: only after a run in which every listing was complete.
        if let Some(prev) = previous.as_ref().filter(|_| complete) {
            let mut deletes = Vec::new();
            if sc.mark_deleted_dashboards {
                deletes.extend(
                    prev.deleted_dashboards(&state, &failed_ids)
                        .map(|fqn| delete_record(EntityType::Dashboard, fqn)),
                );
            }
            if sc.mark_deleted_charts {
                deletes.extend(
                    prev.deleted_charts(&state, &source_snapshot.failed_objects)
                        .into_iter()
                        .map(|fqn| delete_record(EntityType::Chart, &fqn)),
                );
            }
            if sc.mark_deleted_data_models && sc.include_data_models {
                deletes.extend(
                    prev.deleted_data_models(&state)
                        .map(|fqn| delete_record(EntityType::DashboardDataModel, fqn)),
                );
            }
            for record in deletes {
                sink.write(&record).await?;
                count(&mut sink_status, RecordKind::Delete);
                deleted += 1;
            }
        } else if previous.is_some() && !source_snapshot.is_complete() {
            tracing::warn!(
                "listings incomplete ({}): nothing is marked deleted in this run",
                source_snapshot.incomplete_listings.join(", ")
            );
        }
        let summary = sink.commit().await?;
        record_summary(&mut sink_status, &summary);
        output = summary.output;
        if let Some(path) = &options.state_file {
            if let Some(prev) = &previous {
                state.keep_failed_from(prev, &source_snapshot.failed_objects);
            }
            // A run that saw only part of the org must not shrink the state: keep the
            // previous entries it could not see, so a later complete run decides.
            if !complete {
                if let Some(prev) = &previous {
                    for (k, v) in &prev.dashboards {
                        state
                            .dashboards
                            .entry(k.clone())
                            .or_insert_with(|| v.clone());
                    }
                    for (k, v) in &prev.data_models {
                        state
                            .data_models
                            .entry(k.clone())
                            .or_insert_with(|| v.clone());
                    }
                }
            }
            state.finished_at = jiff::Timestamp::now().to_string();
            state.save(path)?;
        }
    }

    let source_step = StepStatus::from_source(&source_snapshot);
    let failures = source_step.failures + sink_status.failures;
    let processed = source_step.processed + unchanged;
    let threshold = options
        .success_threshold
        .or(workflow.workflow_config.success_threshold)
        .unwrap_or(90.0);
    let percentage = success_percentage(processed, failures);
    let outcome = Outcome::of_run(&RunFacts {
        interrupted,
        sink_failed,
        failures,
        listings_complete: source_snapshot.is_complete(),
        success_percentage: percentage,
        success_threshold: threshold,
    });
    let status = RunStatus {
        service_name: service,
        started_at: started_at.to_string(),
        finished_at: jiff::Timestamp::now().to_string(),
        elapsed_seconds: (clock.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
        outcome,
        success_percentage: percentage,
        success_threshold: threshold,
        listings_complete: source_snapshot.is_complete(),
        incomplete_listings: source_snapshot.incomplete_listings.clone(),
        failed_objects: source_snapshot.failed_objects.clone(),
        interrupted,
        steps: vec![source_step, sink_status],
        sigma_requests: RequestStatus::from(&client.stats()),
        deleted,
        unchanged_workbooks: unchanged,
        kept_on_interrupt: interrupted.then(|| what_is_kept.to_string()),
        output,
        resources: crate::status::ResourceUse::of_this_process(),
    };
    if let Some(path) = &options.status_file {
        write_status(path, &status)?;
    }
    Ok(status)
}

fn count(step: &mut StepStatus, kind: RecordKind) {
    step.processed += 1;
    *step
        .processed_by_kind
        .entry(kind.as_str().to_owned())
        .or_default() += 1;
}

/// A soft delete (the metadata-rest sink never hard-deletes what a run merely did not see).
fn delete_record(entity_type: EntityType, fqn: &str) -> Record {
    Record::new(Entity::Delete(DeleteRef {
        entity_type,
        fqn: fqn.to_owned(),
    }))
}

/// Files a record under its workbook (or as a data model) for the next run's state.
fn track(
    record: Record,
    workbook_id: Option<String>,
    pending: &mut Option<PendingWorkbook>,
    state: &mut RunState,
) {
    match workbook_id {
        Some(id) => {
            if pending.as_ref().is_some_and(|p| p.workbook_id != id) {
                flush(pending, state);
            }
            let p = pending.get_or_insert_with(|| PendingWorkbook {
                workbook_id: id,
                dashboard_fqn: None,
                updated_at: None,
                records: Vec::new(),
            });
            if let Entity::Dashboard(dashboard) = &record.entity {
                p.dashboard_fqn = Some(dashboard.fqn());
                p.updated_at = record.refs.updated_at.clone();
            }
            p.records.push(record);
        }
        None => {
            flush(pending, state);
            if let Entity::DataModel(model) = &record.entity {
                state.data_models.insert(
                    model.fqn(),
                    EntityState {
                        updated_at: record.refs.updated_at,
                    },
                );
            }
        }
    }
}

fn flush(pending: &mut Option<PendingWorkbook>, state: &mut RunState) {
    if let Some(p) = pending.take() {
        if let Some(fqn) = p.dashboard_fqn {
            state.dashboards.insert(
                fqn,
                WorkbookState {
                    workbook_id: p.workbook_id,
                    updated_at: p.updated_at,
                    records: p.records,
                },
            );
        }
    }
}

/// Writes an unchanged workbook's records as the last run emitted them.
async fn replay(
    dashboard_fqn: &str,
    previous: Option<&RunState>,
    sink: &mut AnySink,
    state: &mut RunState,
    sink_status: &mut StepStatus,
) -> Result<(), SinkError> {
    let Some(entry) = previous.and_then(|p| p.dashboards.get(dashboard_fqn)) else {
        return Ok(());
    };
    for record in &entry.records {
        sink.write(record).await?;
        count(sink_status, record.kind());
    }
    state
        .dashboards
        .insert(dashboard_fqn.to_owned(), entry.clone());
    Ok(())
}

fn write_status(path: &Path, status: &RunStatus) -> Result<(), Error> {
    crate::atomic::write_json(path, status, true).map_err(|source| {
        RunError::StatusFile {
            path: path.to_owned(),
            source,
        }
        .into()
    })
}
