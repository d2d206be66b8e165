//! The workflow runner: source -> bounded channel -> sink, with a truthful status.
//!
//! The source runs in its own task and hands records over a bounded channel, so a slow
//! sink slows the source (back-pressure) and memory stays constant.
//!
//! Before the first Sigma request the run checks what it will write to (the sink, the
//! status and state files) and gets a token; a failure there ends it at once, naming the
//! path or the cause ([`FailureCause`]). The sink commits, and the state is written, only
//! when the run's [`Outcome`] says the output may be used ([`Disposition::Commit`]):
//! anything less leaves the previous output and state byte for byte.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::StreamExt;
use tokio::sync::mpsc;

use crate::Error;
use crate::catalog::TablePlacement;
use crate::client::{FailureCause, SigmaClient};
use crate::config::Workflow;
use crate::outcome::{Disposition, Outcome};
use crate::records::{DeleteRef, Entity, EntityType, Record, RecordKind};
use crate::sigma::source::{
    FailedSet, Group, GroupKind, SigmaSource, SourceItem, SourceOptions, SourceResult, StatusHandle,
};
use crate::sink::{AnySink, Sink, SinkError, SinkSummary};
use crate::state::{Replay, RunState, StateRecorder};
use crate::status::{RunReport, RunStatus, StepStatus};

/// The platform a run writes to, chosen from the sink: where catalog items get the names
/// and shapes that platform takes. `file`, `console` and `metadata-rest` write OpenMetadata
/// records; `datahub-file` and `datahub-rest` DataHub proposals. The runner renders in one
/// place (`Writer::item`).
#[derive(Debug)]
pub enum Platform {
    OpenMetadata(crate::openmetadata::Renderer),
    DataHub(Box<crate::datahub::render::Renderer>),
}

impl Platform {
    pub fn from_workflow(workflow: &Workflow) -> Self {
        use crate::config::SinkType;
        match workflow.sink.sink_type {
            SinkType::File | SinkType::Console | SinkType::MetadataRest => {
                Platform::OpenMetadata(crate::openmetadata::Renderer::from_workflow(workflow))
            }
            SinkType::DatahubFile | SinkType::DatahubRest => {
                Platform::DataHub(Box::new(crate::datahub::render::Renderer::new(
                    crate::datahub::DataHubOptions::from_sink(&workflow.sink.config),
                )))
            }
        }
    }

    /// Which warehouse tables the platform can place (the source resolves only those).
    pub fn placement(&self) -> std::sync::Arc<dyn TablePlacement> {
        match self {
            Platform::OpenMetadata(r) => r.placement(),
            Platform::DataHub(r) => {
                std::sync::Arc::new(crate::datahub::DataHubPlacement::new(r.options()))
            }
        }
    }

    /// One item's OpenMetadata records, in the order the sink takes them; none on DataHub,
    /// whose proposals the runner writes itself (`Writer::item`).
    pub fn render(&mut self, item: &crate::catalog::Item) -> Vec<Record> {
        match self {
            Platform::OpenMetadata(r) => r.render(item),
            Platform::DataHub(_) => Vec::new(),
        }
    }

    pub fn is_datahub(&self) -> bool {
        matches!(self, Platform::DataHub(_))
    }
}

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
    /// Accept a run in which a listing ended early: commit its output and state (merged
    /// with the previous state) instead of setting them aside. Nothing is deleted either way.
    pub allow_partial: bool,
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
            allow_partial: false,
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
    /// The run could not start: the first token request failed in a way it names.
    #[error("{0}")]
    Start(FailureCause),
    #[error("cannot write the state file {}: {source}", path.display())]
    StateFile {
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

/// Runs the workflow to the end, or until `shutdown` resolves. `Err` only for what the
/// config must fix (an invalid filter, a sink without its server config) and for a status
/// file that cannot be written at the end; every other failure is a [`RunStatus`] whose
/// outcome says so, with the previous output and state left as they were.
pub async fn run(
    workflow: &Workflow,
    options: &RunOptions,
    shutdown: impl Future<Output = ()>,
) -> Result<RunStatus, Error> {
    let started_at = jiff::Timestamp::now();
    let clock = Instant::now();
    let service = workflow.source.service_name.clone();
    let previous_files = previous_files(workflow, options);

    let client = SigmaClient::new(&workflow.source.service_connection.config)?;
    let mut status = match execute(workflow, options, &client, shutdown).await {
        Ok(status) => status,
        Err(e) if e.outcome() == Outcome::InvalidConfig => return Err(e),
        Err(e) => {
            // Said once, by the summary's `error:` line.
            tracing::debug!("the run could not start or finish: {e}");
            RunStatus::could_not_run(
                service,
                started_at,
                clock.elapsed(),
                e.to_string(),
                &client.stats(),
            )
        }
    };
    status.started_at = started_at.to_string();
    status.elapsed_seconds = (clock.elapsed().as_secs_f64() * 1000.0).round() / 1000.0;
    if status.outcome.disposition() != Disposition::Commit {
        status.kept_previous = previous_files
            .iter()
            .map(|p| p.display().to_string())
            .collect();
    }
    if let Some(path) = &options.status_file {
        write_status(path, &status)?;
    }
    Ok(status)
}

/// The files of an earlier run this run would replace: the output file and the state.
fn previous_files(workflow: &Workflow, options: &RunOptions) -> Vec<PathBuf> {
    let destination = workflow.destination(options.output.as_deref());
    destination
        .file()
        .map(Path::to_path_buf)
        .into_iter()
        .chain(options.state_file.clone())
        .filter(|p| p.is_file())
        .collect()
}

/// Checks every file the run will write before any Sigma request.
fn preflight(options: &RunOptions) -> Result<(), Error> {
    if let Some(path) = &options.status_file {
        crate::atomic::probe_writable(path).map_err(|source| RunError::StatusFile {
            path: path.clone(),
            source,
        })?;
    }
    if let Some(path) = &options.state_file {
        crate::atomic::probe_writable(path).map_err(|source| RunError::StateFile {
            path: path.clone(),
            source,
        })?;
    }
    Ok(())
}

/// A token before anything else: what retrying cannot fix (refused, DNS, TLS, rejected
/// credentials) ends the run here, in seconds, in `test-connection`'s words.
async fn start(workflow: &Workflow, client: &SigmaClient) -> Result<(), Error> {
    let conn = &workflow.source.service_connection.config;
    client.authenticate().await.map_err(|e| {
        let cause = FailureCause::of(conn, &e);
        tracing::debug!(error = %e, "the first token request failed");
        RunError::Start(cause).into()
    })
}

async fn execute(
    workflow: &Workflow,
    options: &RunOptions,
    client: &SigmaClient,
    shutdown: impl Future<Output = ()>,
) -> Result<RunStatus, Error> {
    let started_at = jiff::Timestamp::now();
    let clock = Instant::now();
    let sc = &workflow.source.source_config.config;
    let service = workflow.source.service_name.clone();

    let mut sink = AnySink::from_workflow(workflow, options.output.as_deref())?;
    let mut source_options = SourceOptions::from_workflow(workflow).map_err(RunError::from)?;
    let mut platform = Platform::from_workflow(workflow);
    source_options.placement = platform.placement();
    source_options.list_workspaces = platform.is_datahub();
    preflight(options)?;
    sink.healthcheck().await?;
    // The previous run's items, rendered by this run's platform (replay and mark-deleted).
    let previous = match &options.state_file {
        Some(path) => Some(RunState::load(path, &service, &mut |item| {
            platform.render(item)
        })?),
        None => None,
    };
    // The checkpoint is reused only by an incremental run under the same options and
    // connector version, and not after FULL_REFRESH_EVERY incremental runs in a row.
    let fingerprint = crate::sigma::options::fingerprint(workflow);
    let memory = previous
        .as_ref()
        .filter(|_| options.incremental)
        .and_then(|prev| prev.reusable(&fingerprint));
    let reused = memory.is_some();
    if let Some(memory) = memory {
        source_options.memory = std::sync::Arc::new(memory);
    }
    if let Err(e) = start(workflow, client).await {
        sink.abort().await;
        return Err(e);
    }
    let source = SigmaSource::new(client.clone(), source_options);
    let source_status = source.status();

    let (tx, mut rx) = mpsc::channel(options.channel_capacity.max(1));
    let producer = tokio::spawn(async move {
        let mut items = source.items();
        while let Some(item) = items.next().await {
            if tx.send(item).await.is_err() {
                break; // the runner stopped listening (interrupted or a sink failure)
            }
        }
    });

    let mut recorder = StateRecorder::new(&service);
    let mut sink_status = StepStatus {
        name: "sink".into(),
        ..Default::default()
    };
    let what_is_kept = crate::status::KeptOnInterrupt::before_run(
        workflow,
        options.output.as_deref(),
        options.state_file.as_deref(),
    );
    let mut progress = Progress::start(options, &source_status, client);
    let replay = previous.as_ref().map(Replay::new);
    let mut writer = Writer {
        sink: &mut sink,
        platform: &mut platform,
        source: &source_status,
        recorder: options.state_file.is_some().then_some(&mut recorder),
        status: &mut sink_status,
        previous: replay.as_ref(),
    };
    let Drained {
        unchanged,
        interrupted,
        sink_error,
    } = drain(&mut rx, shutdown, &mut writer, &mut progress, &what_is_kept).await;
    drop(progress);
    drop(rx);
    if interrupted || sink_error.is_some() {
        producer.abort();
    }
    let _ = producer.await;

    let source_snapshot = source_status.snapshot();
    let sink_failed = sink_error.is_some();
    if let Some(e) = &sink_error {
        sink_status.failures += 1;
        sink_status.failure_examples.push(e.to_string());
    }
    let threshold = options
        .success_threshold
        .or(workflow.workflow_config.success_threshold)
        .unwrap_or(90.0);
    let stats = client.stats();
    let report = |sink: StepStatus, deleted: u64| RunReport {
        service_name: service.clone(),
        started_at,
        elapsed: clock.elapsed(),
        source: &source_snapshot,
        sink,
        unchanged,
        deleted,
        interrupted,
        sink_failed,
        success_threshold: threshold,
        allow_partial: options.allow_partial,
        raise_on_error: workflow.workflow_config.raise_on_error,
        requests: &stats,
        kept_on_interrupt: Some(what_is_kept.to_string()),
    };
    // The verdict before anything is committed decides what happens to the output.
    let verdict = RunStatus::of_run(report(sink_status.clone(), 0)).outcome;
    let disposition = if sink_failed {
        Disposition::Discard
    } else {
        verdict.disposition()
    };
    let mut deleted = 0u64;
    let mut output = None;
    match disposition {
        Disposition::Discard => sink.abort().await,
        Disposition::SetAside => {
            if !source_snapshot.is_complete() && previous.is_some() {
                tracing::warn!("listings incomplete: nothing is marked deleted in this run");
            }
            let summary = sink.set_aside().await?;
            record_summary(&mut sink_status, &summary);
            output = summary.output;
        }
        Disposition::Commit => {
            // Mark-deleted: only after a run in which every listing was complete.
            if let Some(prev) = previous.as_ref().filter(|_| source_snapshot.is_complete()) {
                let failed = &source_snapshot.failed;
                if platform.is_datahub() {
                    let gone = datahub_removals(sc, prev, recorder.seen(), failed);
                    deleted += sink.remove(&gone).await?;
                    for _ in &gone {
                        count(&mut sink_status, RecordKind::Delete);
                    }
                } else {
                    for record in deletions(sc, prev, recorder.seen(), failed) {
                        sink.write(&record).await?;
                        count(&mut sink_status, RecordKind::Delete);
                        deleted += 1;
                    }
                }
            }
            let summary = sink.commit().await?;
            record_summary(&mut sink_status, &summary);
            output = summary.output;
        }
    }
    let mut status = RunStatus::of_run(report(sink_status, deleted));
    status.output = output;
    // The state follows the final verdict: a server sink's refusals, known only at commit,
    // can still fail the run, and then the state must not move on.
    if let (Some(path), Disposition::Commit) = (&options.state_file, status.outcome.disposition()) {
        let mut state = recorder.finish(previous.as_ref(), source_snapshot.is_complete());
        if let Some(prev) = &previous {
            state.keep_failed_from(prev, &source_snapshot.failed);
        }
        state.fingerprint = Some(fingerprint);
        state.incremental_runs = match (&previous, reused) {
            (Some(prev), true) => prev.incremental_runs + 1,
            _ => 0,
        };
        state.save(path)?;
    }
    Ok(status)
}

fn count(step: &mut StepStatus, kind: RecordKind) {
    count_named(step, kind.as_str());
}

fn count_named(step: &mut StepStatus, kind: &str) {
    step.processed += 1;
    *step.processed_by_kind.entry(kind.to_owned()).or_default() += 1;
}

/// What the previous state had and this complete run did not see, as soft deletes, for
/// the kinds the workflow marks deleted.
fn deletions(
    sc: &crate::config::DashboardSourceConfig,
    previous: &RunState,
    seen: &RunState,
    failed: &FailedSet,
) -> Vec<Record> {
    let mut deletes = Vec::new();
    if sc.mark_deleted_dashboards {
        deletes.extend(
            previous
                .deleted_dashboards(seen, failed)
                .map(|fqn| delete_record(EntityType::Dashboard, fqn)),
        );
    }
    if sc.mark_deleted_charts {
        deletes.extend(
            previous
                .deleted_charts(seen, failed)
                .into_iter()
                .map(|fqn| delete_record(EntityType::Chart, &fqn)),
        );
    }
    if sc.mark_deleted_data_models && sc.include_data_models {
        deletes.extend(
            previous
                .deleted_data_models(seen, failed)
                .into_iter()
                .map(|fqn| delete_record(EntityType::DashboardDataModel, fqn)),
        );
    }
    deletes
}

/// What a DataHub run soft-deletes: the previous state's entities no object of this
/// complete run rendered (never those of an object that failed), for the kinds the
/// workflow marks deleted.
fn datahub_removals(
    sc: &crate::config::DashboardSourceConfig,
    previous: &RunState,
    seen: &RunState,
    failed: &FailedSet,
) -> Vec<String> {
    previous
        .datahub
        .removed(&seen.datahub, failed)
        .into_iter()
        .filter(|urn| {
            if urn.starts_with("urn:li:dashboard:") {
                sc.mark_deleted_dashboards
            } else if urn.starts_with("urn:li:chart:") {
                sc.mark_deleted_charts
            } else {
                sc.mark_deleted_data_models
            }
        })
        .collect()
}

/// A soft delete (the metadata-rest sink never hard-deletes what a run merely did not see).
fn delete_record(entity_type: EntityType, fqn: &str) -> Record {
    Record::new(Entity::Delete(DeleteRef {
        entity_type,
        fqn: fqn.to_owned(),
    }))
}

/// What the loop over the source's items leaves behind.
struct Drained {
    unchanged: u64,
    interrupted: bool,
    sink_error: Option<SinkError>,
}

/// Where the loop writes: the sink (through the platform's renderer), the state recorder
/// (with `--state`), the sink's counts and the source's (what was emitted).
struct Writer<'a> {
    sink: &'a mut AnySink,
    platform: &'a mut Platform,
    source: &'a StatusHandle,
    recorder: Option<&'a mut StateRecorder>,
    status: &'a mut StepStatus,
    previous: Option<&'a Replay<'a>>,
}

impl Writer<'_> {
    async fn item(&mut self, item: SourceResult, drained: &mut Drained) -> Result<(), SinkError> {
        match item {
            Ok(SourceItem::Unchanged { group }) => {
                if group.kind == GroupKind::Document {
                    drained.unchanged += 1;
                }
                self.replay(&group).await
            }
            Ok(SourceItem::Item(item)) => {
                let group = item.group();
                if let Some(recorder) = self.recorder.as_deref_mut() {
                    recorder.item(&item);
                }
                match &mut *self.platform {
                    Platform::OpenMetadata(renderer) => {
                        for record in renderer.render(&item) {
                            let record = record.in_group(group.clone());
                            self.source.emitted(record.kind().as_str());
                            self.sink.write(&record).await?;
                            count(self.status, record.kind());
                            if let Some(recorder) = self.recorder.as_deref_mut() {
                                recorder.record(record, Some(group.clone()));
                            }
                        }
                    }
                    Platform::DataHub(_) => self.datahub(&item, &group, true).await?,
                }
                Ok(())
            }
            Ok(SourceItem::Seen { group, known }) => {
                if let Some(recorder) = self.recorder.as_deref_mut() {
                    recorder.known(group, known);
                }
                Ok(())
            }
            Ok(SourceItem::Memory(memory)) => {
                if let Some(recorder) = self.recorder.as_deref_mut() {
                    recorder.memory(memory);
                }
                Ok(())
            }
            // Filed in the source's status (its `FailedSet` is what mark-deleted reads).
            Err(_) => Ok(()),
        }
    }

    /// An item's DataHub proposals, written; their entities filed in the state under the
    /// item's group. `fresh` is false for a replayed item (not counted as emitted by the
    /// source, as replayed OpenMetadata records are not).
    async fn datahub(
        &mut self,
        item: &crate::catalog::Item,
        group: &Group,
        fresh: bool,
    ) -> Result<(), SinkError> {
        let Platform::DataHub(renderer) = &mut *self.platform else {
            return Ok(());
        };
        let mcps = renderer.render(item);
        // The state files every entity the item renders, written here or by an earlier
        // item (a shared chart id), so deletion sees it.
        let entities = crate::datahub::render::entities(&mcps);
        let mcps = renderer.not_yet_written(mcps);
        self.sink.write_mcps(&mcps).await?;
        for mcp in mcps.iter().filter(|m| m.aspect.name() == "status") {
            if fresh {
                self.source.emitted(mcp.entity_type());
            }
            count_named(self.status, mcp.entity_type());
        }
        // The org's entities (workspace containers) are filed, and so ever removed, only
        // after a whole workspace listing; otherwise the previous run's stay as they were.
        let whole = match item {
            crate::catalog::Item::Org(org) => org.workspaces_complete,
            _ => true,
        };
        if let Some(recorder) = self.recorder.as_deref_mut().filter(|_| whole) {
            recorder.datahub(group, entities);
        }
        Ok(())
    }

    /// Writes an unchanged group as the last run emitted it: its OpenMetadata records, or
    /// its item rendered again for DataHub (so this run's sink settings apply).
    async fn replay(&mut self, group: &Group) -> Result<(), SinkError> {
        let Some(previous) = self.previous else {
            return Ok(());
        };
        if self.platform.is_datahub() {
            if let Some(item) = previous.item(group) {
                self.datahub(item, group, false).await?;
            }
        } else {
            for record in previous.records(group) {
                let record = record.clone().in_group(group.clone());
                self.sink.write(&record).await?;
                count(self.status, record.kind());
            }
        }
        if let Some(recorder) = self.recorder.as_deref_mut() {
            recorder.replayed(group, previous);
        }
        Ok(())
    }
}

/// Reads the source's items into the writer until the source ends, the sink fails, or
/// `shutdown` fires.
async fn drain(
    rx: &mut mpsc::Receiver<SourceResult>,
    shutdown: impl Future<Output = ()>,
    writer: &mut Writer<'_>,
    progress: &mut Progress<'_>,
    what_is_kept: &crate::status::KeptOnInterrupt,
) -> Drained {
    let mut drained = Drained {
        unchanged: 0,
        interrupted: false,
        sink_error: None,
    };
    tokio::pin!(shutdown);
    loop {
        let item = tokio::select! {
            biased;
            _ = &mut shutdown => {
                tracing::warn!("interrupted: stopping the Sigma source; {what_is_kept}");
                drained.interrupted = true;
                break;
            }
            item = rx.recv() => item,
        };
        let Some(item) = item else { break };
        if let Err(e) = writer.item(item, &mut drained).await {
            drained.sink_error = Some(e);
            break;
        }
        progress.tick(writer.status.processed);
    }
    drained
}

/// Progress while the run goes: a live line on a terminal, else an INFO line now and then.
struct Progress<'a> {
    line: crate::logging::ProgressLine,
    every: Duration,
    last: Instant,
    source: &'a StatusHandle,
    client: &'a SigmaClient,
}

impl<'a> Progress<'a> {
    fn start(options: &RunOptions, source: &'a StatusHandle, client: &'a SigmaClient) -> Self {
        Progress {
            line: crate::logging::ProgressLine::start(options.progress_bar),
            every: options.progress_every,
            last: Instant::now(),
            source,
            client,
        }
    }

    fn tick(&mut self, records: u64) {
        let every = if self.line.is_shown() {
            Duration::from_millis(250)
        } else {
            self.every
        };
        if self.last.elapsed() < every {
            return;
        }
        self.last = Instant::now();
        let (s, c) = (self.source.snapshot(), self.client.stats());
        if self.line.is_shown() {
            self.line.update(&crate::logging::ProgressFigures {
                records,
                workbooks_done: s.workbooks_done,
                workbooks_total: s.workbooks_total,
                requests: c.requests_sent,
                retries: c.retries,
                failures: s.failures,
            });
        } else {
            tracing::info!(
                records,
                dashboards = s.emitted.get("dashboard").copied().unwrap_or(0),
                failures = s.failures,
                requests = c.requests_sent,
                retries = c.retries,
                "progress"
            );
        }
    }
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
