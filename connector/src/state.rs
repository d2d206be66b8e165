//! The run's memory (the checkpoint), kept between runs in one file: what the last
//! successful run saw, by Sigma id and kind, with each object's `updatedAt` and the catalog
//! item the source yielded for it (a workbook or report, a data model, a dataset; and the
//! org's); the warehouse paths
//! it resolved; the digests of each phase's inputs; the fingerprint of the options and
//! connector version it ran under; and how many incremental runs have followed the last
//! full one. Incremental runs read it ([`RunState::memory`]) to skip what has not changed;
//! mark-deleted reads it for what was there last time and is gone now, sparing whatever
//! the run's [`FailedSet`] says it may not have seen.
//!
//! When an incremental run reuses nothing (a full run): no state, another fingerprint
//! (options or connector version changed), or [`FULL_REFRESH_EVERY`] incremental runs since
//! the last full one (so warehouse paths, owners and anything an `updatedAt` does not
//! reflect are read again now and then). See `Checkpoint::for_run`.
//!
//! Written atomically (temporary file in the same directory, fsync, rename), and only after
//! the sink has committed the run, so a crash at any point leaves the previous state.
//!
//! Version 3 keeps items, not records: no platform's names are stored, so whichever
//! platform a run writes to renders the previous run's items with its own renderer (the
//! `render` given to [`RunState::load`]) for replay and mark-deleted. In memory a
//! [`RunState`] is that rendered view (dashboards, charts and data models by the names the
//! platform gives them) beside the items; [`RunState::save`] writes the items
//! ([`StateFile`]). Versions 1 and 2 stored OpenMetadata records: they are still read, for
//! mark-deleted (their fingerprint differs, so their first incremental run is a full one).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::catalog::{Item, Org};
use crate::datahub::state::DataHubState;
use crate::records::{Entity, Record};
use crate::sigma::model::ConnectionPath;
use crate::sigma::source::{Digests, FailedSet, Group, GroupKind, KnownGroup, Memory, RunMemory};

/// Bumped when the layout changes; an unknown version is ignored (a full run follows).
/// Versions 1 (dashboards and data models only) and 2 (records per group) are still read:
/// for mark-deleted; their fingerprint differs, so their first incremental run is a full one.
pub const STATE_VERSION: u32 = 3;

/// Incremental runs in a row after which the next one is a full run (every object, owner
/// and warehouse path read again), said in one log line. A run without `--incremental` is
/// a full run too and restarts the count.
pub const FULL_REFRESH_EVERY: u32 = 24;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunState {
    pub version: u32,
    pub service_name: String,
    /// When the run that wrote this finished (RFC 3339).
    pub finished_at: String,
    /// The options and connector version the run ran under (`sigma::options::fingerprint`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// Incremental runs since the last full one.
    #[serde(default)]
    pub incremental_runs: u32,
    /// Dashboards by FQN.
    pub dashboards: BTreeMap<String, WorkbookState>,
    /// Data models (dataset and data-model elements) by FQN.
    pub data_models: BTreeMap<String, EntityState>,
    /// Sigma data models by id: what stands for each, and its records.
    #[serde(default)]
    pub models: BTreeMap<String, GroupState>,
    /// Sigma datasets by id: what stands for each, and its records.
    #[serde(default)]
    pub datasets: BTreeMap<String, GroupState>,
    /// Resolved warehouse paths by `inode-` id.
    #[serde(default)]
    pub paths: BTreeMap<String, ConnectionPath>,
    /// The digests of each phase's inputs in the run that wrote this.
    #[serde(default)]
    pub digests: Digests,
    /// The org as the run that wrote this saw it (version 3): its items render with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<Org>,
    /// A DataHub run's entity URNs by Sigma object (what a later complete run that no
    /// longer renders them marks removed); empty for an OpenMetadata run.
    #[serde(default, skip_serializing_if = "DataHubState::is_empty")]
    pub datahub: DataHubState,
}

/// A data model or dataset as last expanded: what stands for it, and its records.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupState {
    #[serde(flatten)]
    pub known: KnownGroup,
    #[serde(default)]
    pub records: Vec<Record>,
    /// What the source yielded for it (version 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EntityState {
    #[serde(default)]
    pub updated_at: Option<String>,
}

/// A workbook as last emitted: its `updatedAt` and every record it produced (charts,
/// dashboard, lineage), replayed as they were when the workbook has not changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkbookState {
    pub workbook_id: String,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub records: Vec<Record>,
    /// What the source yielded for it (version 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

/// The state file of version 3: items by Sigma id, no platform's names.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateFile {
    pub version: u32,
    pub service_name: String,
    pub finished_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(default)]
    pub incremental_runs: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub org: Option<Org>,
    /// Workbooks and reports by id.
    #[serde(default)]
    pub documents: BTreeMap<String, DocumentEntry>,
    /// Sigma data models by id: what stands for each, and its item.
    #[serde(default)]
    pub models: BTreeMap<String, GroupEntry>,
    /// Sigma datasets by id: what stands for each, and its item.
    #[serde(default)]
    pub datasets: BTreeMap<String, GroupEntry>,
    #[serde(default)]
    pub paths: BTreeMap<String, ConnectionPath>,
    #[serde(default)]
    pub digests: Digests,
    /// A DataHub run's entity URNs by Sigma object (`datahub::state`).
    #[serde(default, skip_serializing_if = "DataHubState::is_empty")]
    pub datahub: DataHubState,
}

/// A workbook or report as last expanded.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentEntry {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
    pub item: Item,
}

/// A data model or dataset as last expanded.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupEntry {
    #[serde(flatten)]
    pub known: KnownGroup,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item: Option<Item>,
}

/// The version and service of a state file, read before the rest.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Probe {
    version: u32,
    #[serde(default)]
    service_name: String,
}

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StateError {
    #[error("cannot read state file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("state file {} is not valid ({message}); move it away to start afresh", path.display())]
    Corrupt { path: PathBuf, message: String },
    #[error("cannot write state file {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl RunState {
    pub fn new(service_name: &str) -> Self {
        Self {
            version: STATE_VERSION,
            service_name: service_name.to_owned(),
            ..Self::default()
        }
    }

    /// Loads the state; a missing file is an empty state. A state of another service or
    /// version is treated as empty (never used to delete), with a warning. `render` gives
    /// the records of an item (version 3 keeps items), as the run's platform renders them.
    pub fn load(
        path: &Path,
        service_name: &str,
        render: &mut dyn FnMut(&Item) -> Vec<Record>,
    ) -> Result<Self, StateError> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self::new(service_name));
            }
            Err(source) => {
                return Err(StateError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let corrupt = |e: serde_json::Error| StateError::Corrupt {
            path: path.to_owned(),
            message: e.to_string(),
        };
        let probe: Probe = serde_json::from_str(&text).map_err(corrupt)?;
        if !(1..=STATE_VERSION).contains(&probe.version) || probe.service_name != service_name {
            tracing::warn!(
                path = %path.display(),
                "state file belongs to service `{}` (version {}); ignoring it",
                probe.service_name,
                probe.version
            );
            return Ok(Self::new(service_name));
        }
        if probe.version < 3 {
            return serde_json::from_str(&text).map_err(corrupt);
        }
        let file: StateFile = serde_json::from_str(&text).map_err(corrupt)?;
        Ok(Self::rendered(file, render))
    }

    /// The view of a version 3 file: each item's records as `render` gives them.
    pub fn rendered(file: StateFile, render: &mut dyn FnMut(&Item) -> Vec<Record>) -> Self {
        let mut state = RunState {
            version: file.version,
            service_name: file.service_name,
            finished_at: file.finished_at,
            fingerprint: file.fingerprint,
            incremental_runs: file.incremental_runs,
            paths: file.paths,
            digests: file.digests,
            org: file.org,
            datahub: file.datahub,
            ..RunState::default()
        };
        if let Some(org) = &state.org {
            render(&Item::Org(org.clone()));
        }
        for (id, entry) in file.documents {
            let records = render(&entry.item);
            // A platform that renders no OpenMetadata records (DataHub) files the document
            // by its Sigma id; it replays from the item.
            let fqn = records
                .iter()
                .find_map(|r| match &r.entity {
                    Entity::Dashboard(d) => Some(d.fqn()),
                    _ => None,
                })
                .unwrap_or_else(|| document_key(&id));
            state.note_data_models(&records);
            state.dashboards.insert(
                fqn,
                WorkbookState {
                    workbook_id: id,
                    updated_at: entry.updated_at,
                    records,
                    item: Some(entry.item),
                },
            );
        }
        for (groups, into) in [
            (file.models, &mut state.models),
            (file.datasets, &mut state.datasets),
        ] {
            for (id, entry) in groups {
                let records = entry.item.as_ref().map(&mut *render).unwrap_or_default();
                into.insert(
                    id,
                    GroupState {
                        known: entry.known,
                        records,
                        item: entry.item,
                    },
                );
            }
        }
        let records: Vec<Record> = state
            .models
            .values()
            .chain(state.datasets.values())
            .flat_map(|g| g.records.iter().cloned())
            .collect();
        state.note_data_models(&records);
        state
    }

    /// Every data model among `records` as a data model seen (for mark-deleted).
    fn note_data_models(&mut self, records: &[Record]) {
        for record in records {
            if let Entity::DataModel(model) = &record.entity {
                self.data_models.insert(
                    model.fqn(),
                    EntityState {
                        updated_at: record.refs.updated_at.clone(),
                    },
                );
            }
        }
    }

    /// What is written: the items by Sigma id. A group without an item (kept from a state
    /// of version 2) cannot be rendered again, and is left out.
    pub fn file(&self) -> StateFile {
        StateFile {
            version: STATE_VERSION,
            service_name: self.service_name.clone(),
            finished_at: self.finished_at.clone(),
            fingerprint: self.fingerprint.clone(),
            incremental_runs: self.incremental_runs,
            org: self.org.clone(),
            documents: self
                .dashboards
                .values()
                .filter_map(|w| {
                    Some((
                        w.workbook_id.clone(),
                        DocumentEntry {
                            updated_at: w.updated_at.clone(),
                            item: w.item.clone()?,
                        },
                    ))
                })
                .collect(),
            models: Self::entries(&self.models),
            datasets: Self::entries(&self.datasets),
            paths: self.paths.clone(),
            digests: self.digests.clone(),
            datahub: self.datahub.clone(),
        }
    }

    fn entries(groups: &BTreeMap<String, GroupState>) -> BTreeMap<String, GroupEntry> {
        groups
            .iter()
            .map(|(id, g)| {
                (
                    id.clone(),
                    GroupEntry {
                        known: g.known.clone(),
                        item: g.item.clone(),
                    },
                )
            })
            .collect()
    }

    /// What an incremental run under `fingerprint` may reuse of this state, or `None` (a
    /// full run) with the reason said in one log line: the options or the connector version
    /// changed, or [`FULL_REFRESH_EVERY`] incremental runs have followed the last full one.
    pub fn reusable(&self, fingerprint: &str) -> Option<Memory> {
        if self.fingerprint.as_deref() != Some(fingerprint) {
            tracing::info!(
                "incremental run: the options or the connector version differ from those of the run that wrote the state, so this run reads everything (a full run)"
            );
            return None;
        }
        if self.incremental_runs >= FULL_REFRESH_EVERY {
            tracing::info!(
                "incremental run: {} incremental runs since the last full one, so this run reads everything again (objects, owners, warehouse paths): a full run",
                self.incremental_runs
            );
            return None;
        }
        Some(self.memory())
    }

    /// What an incremental run may reuse of this state.
    pub fn memory(&self) -> Memory {
        let known = |groups: &BTreeMap<String, GroupState>| {
            groups
                .iter()
                .map(|(id, g)| (id.clone(), g.known.clone()))
                .collect()
        };
        Memory {
            documents: self
                .dashboards
                .values()
                .filter_map(|w| Some((w.workbook_id.clone(), w.updated_at.clone()?)))
                .collect(),
            data_models: known(&self.models),
            datasets: known(&self.datasets),
            paths: self
                .paths
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            digests: self.digests.clone(),
        }
    }

    /// Writes atomically: a crash leaves either the old file or the new one, whole.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        crate::atomic::write_json(path, &self.file(), false).map_err(|source| StateError::Write {
            path: path.to_owned(),
            source,
        })
    }

    /// Dashboards in this state that `current` does not have (and that did not fail this
    /// run: a workbook that failed to expand is still there).
    pub fn deleted_dashboards<'a>(
        &'a self,
        current: &'a RunState,
        failed: &'a FailedSet,
    ) -> impl Iterator<Item = &'a str> + 'a {
        self.dashboards
            .iter()
            .filter(move |(fqn, wb)| {
                !current.dashboards.contains_key(*fqn)
                    && !failed.documents.contains(&wb.workbook_id)
            })
            .map(|(fqn, _)| fqn.as_str())
    }

    /// Charts in this state that `current` does not have: charts removed from dashboards
    /// that remain, and the charts of dashboards that are gone. Call it only after complete
    /// listings. A chart stays when its workbook or element failed in this run, and no chart
    /// is deleted at all when a page or element entry failed to decode (its workbook cannot
    /// be told, so any chart might be one that was merely not seen).
    pub fn deleted_charts(&self, current: &RunState, failed: &FailedSet) -> Vec<String> {
        if failed.some_chart_unseen {
            return Vec::new();
        }
        let seen: std::collections::HashSet<String> = current
            .dashboards
            .values()
            .flat_map(|wb| chart_fqns(&wb.records))
            .collect();
        let mut gone = Vec::new();
        for wb in self.dashboards.values() {
            if failed.documents.contains(&wb.workbook_id) {
                continue;
            }
            for fqn in chart_fqns(&wb.records) {
                if !seen.contains(&fqn) && !gone.contains(&fqn) {
                    gone.push(fqn);
                }
            }
        }
        gone
    }

    /// Keeps the previous entries of workbooks that failed in this run: a failed workbook is
    /// still in Sigma as far as anyone knows, so a later run must still be able to mark it
    /// (and its charts) deleted when it does disappear.
    pub fn keep_failed_from(&mut self, previous: &RunState, failed: &FailedSet) {
        self.datahub.keep_failed_from(&previous.datahub, failed);
        for (fqn, wb) in &previous.dashboards {
            if failed.documents.contains(&wb.workbook_id) {
                // Its elements' data models too: still there as far as anyone knows.
                for model in data_model_fqns(&wb.records) {
                    if let Some(dm) = previous.data_models.get(&model) {
                        self.data_models.entry(model).or_insert_with(|| dm.clone());
                    }
                }
                self.dashboards
                    .entry(fqn.clone())
                    .or_insert_with(|| wb.clone());
            }
        }
        for (id, group) in &previous.models {
            if failed.data_models.contains(id) {
                self.models
                    .entry(id.clone())
                    .or_insert_with(|| group.clone());
            }
        }
        for (id, group) in &previous.datasets {
            if failed.datasets.contains(id) {
                self.datasets
                    .entry(id.clone())
                    .or_insert_with(|| group.clone());
            }
        }
        // Which data models a failure hid cannot be told: keep every previous one (and the
        // groups they are rendered from).
        if failed.some_data_model_unseen {
            for (fqn, dm) in &previous.data_models {
                self.data_models
                    .entry(fqn.clone())
                    .or_insert_with(|| dm.clone());
            }
            for (into, from) in [
                (&mut self.models, &previous.models),
                (&mut self.datasets, &previous.datasets),
            ] {
                for (id, group) in from {
                    into.entry(id.clone()).or_insert_with(|| group.clone());
                }
            }
        }
    }

    /// Data models in this state that `current` does not have. None at all when a data
    /// model, one of its elements or columns, or a dataset failed in this run: its data
    /// models were not seen, which does not mean they are gone.
    pub fn deleted_data_models<'a>(
        &'a self,
        current: &'a RunState,
        failed: &FailedSet,
    ) -> Vec<&'a str> {
        if failed.some_data_model_unseen {
            return Vec::new();
        }
        // The data models of a document that failed this run (its elements') were not seen.
        let spared: std::collections::HashSet<String> = self
            .dashboards
            .values()
            .filter(|wb| failed.documents.contains(&wb.workbook_id))
            .flat_map(|wb| data_model_fqns(&wb.records))
            .collect();
        self.data_models
            .keys()
            .filter(|fqn| !current.data_models.contains_key(*fqn) && !spared.contains(*fqn))
            .map(String::as_str)
            .collect()
    }
}

/// The FQNs of the data model records among a document's records (its elements').
fn data_model_fqns(records: &[Record]) -> impl Iterator<Item = String> + '_ {
    records.iter().filter_map(|r| match &r.entity {
        Entity::DataModel(model) => Some(model.fqn()),
        _ => None,
    })
}

/// The FQNs of the chart records among a workbook's records.
fn chart_fqns(records: &[Record]) -> impl Iterator<Item = String> + '_ {
    records.iter().filter_map(|r| match &r.entity {
        Entity::Chart(chart) => Some(chart.fqn()),
        _ => None,
    })
}

/// Builds the next run's state from the items a run writes. A group's records arrive
/// together; they are gathered and filed when the next group (or anything else) starts: a
/// workbook's or report's under its dashboard's FQN, a data model's or dataset's under its
/// id once the source says what stands for it ([`StateRecorder::known`]).
#[derive(Debug)]
pub struct StateRecorder {
    state: RunState,
    pending: Option<PendingGroup>,
}

#[derive(Debug)]
struct PendingGroup {
    group: Group,
    dashboard_fqn: Option<String>,
    updated_at: Option<String>,
    records: Vec<Record>,
    item: Option<Item>,
}

impl StateRecorder {
    pub fn new(service_name: &str) -> Self {
        Self {
            state: RunState::new(service_name),
            pending: None,
        }
    }

    /// An item about to be written: its records follow ([`Self::record`]) and are filed
    /// with it. The org's is kept as the state's org.
    pub fn item(&mut self, item: &Item) {
        self.flush();
        if let Item::Org(org) = item {
            self.state.org = Some(org.clone());
            return;
        }
        self.pending = Some(PendingGroup {
            group: item.group(),
            dashboard_fqn: None,
            updated_at: None,
            records: Vec::new(),
            item: Some(item.clone()),
        });
    }

    /// Files a written record under its group; every data model record also as a data
    /// model seen (for mark-deleted).
    pub fn record(&mut self, record: Record, group: Option<Group>) {
        self.note_data_model(&record);
        let Some(group) = group else {
            self.flush();
            return;
        };
        if self.pending.as_ref().is_some_and(|p| p.group != group) {
            self.flush();
        }
        let p = self.pending.get_or_insert_with(|| PendingGroup {
            group,
            dashboard_fqn: None,
            updated_at: None,
            records: Vec::new(),
            item: None,
        });
        if let Entity::Dashboard(dashboard) = &record.entity {
            p.dashboard_fqn = Some(dashboard.fqn());
            p.updated_at = record.refs.updated_at.clone();
        }
        p.records.push(record);
    }

    fn note_data_model(&mut self, record: &Record) {
        if let Entity::DataModel(model) = &record.entity {
            self.state.data_models.insert(
                model.fqn(),
                EntityState {
                    updated_at: record.refs.updated_at.clone(),
                },
            );
        }
    }

    /// A data model or dataset this run expanded: what stands for it, with the records
    /// just filed under it.
    pub fn known(&mut self, group: Group, known: KnownGroup) {
        let (records, item) = match self.pending.take() {
            Some(p) if p.group == group => (p.records, p.item),
            other => {
                self.pending = other;
                self.flush();
                (Vec::new(), None)
            }
        };
        let entry = GroupState {
            known,
            records,
            item,
        };
        match group.kind {
            GroupKind::DataModel => {
                self.state.models.insert(group.id, entry);
            }
            GroupKind::Dataset => {
                self.state.datasets.insert(group.id, entry);
            }
            GroupKind::Document | GroupKind::Org => {}
        }
    }

    /// Files an unchanged group as the previous state had it (its records were replayed).
    pub fn replayed(&mut self, group: &Group, previous: &Replay<'_>) {
        self.flush();
        match group.kind {
            GroupKind::Document => {
                if let Some((fqn, entry)) = previous.document(&group.id) {
                    // A document's elements' data models (their columns) are data models seen.
                    for record in &entry.records {
                        self.note_data_model(record);
                    }
                    self.state.dashboards.insert(fqn.to_owned(), entry.clone());
                }
            }
            GroupKind::Org => {}
            GroupKind::DataModel | GroupKind::Dataset => {
                let Some(entry) = previous.group(group) else {
                    return;
                };
                for record in &entry.records {
                    self.note_data_model(record);
                }
                let map = match group.kind {
                    GroupKind::DataModel => &mut self.state.models,
                    _ => &mut self.state.datasets,
                };
                map.insert(group.id.clone(), entry.clone());
            }
        }
    }

    /// The warehouse paths and input digests of a stream that reached its end.
    pub fn memory(&mut self, memory: RunMemory) {
        self.flush();
        self.state.paths = memory.paths;
        self.state.digests = memory.digests;
    }

    /// The DataHub entities an item rendered, filed under its group.
    pub fn datahub(&mut self, group: &Group, urns: std::collections::BTreeSet<String>) {
        self.state.datahub.record(group, urns);
    }

    /// What the run saw so far (for mark-deleted, before [`Self::finish`]).
    pub fn seen(&mut self) -> &RunState {
        self.flush();
        &self.state
    }

    /// The state to save. After a run that saw only part of the org (`complete` false,
    /// accepted with `--allow-partial`), the previous entries it could not see are kept, so
    /// the state never shrinks on a partial view and a later complete run decides; and its
    /// digests are dropped, so the next incremental run reuses nothing on a partial view.
    pub fn finish(mut self, previous: Option<&RunState>, complete: bool) -> RunState {
        self.flush();
        if !complete {
            self.state.digests = Digests::default();
        }
        if let Some(prev) = previous.filter(|_| !complete) {
            fn merge<V: Clone>(into: &mut BTreeMap<String, V>, from: &BTreeMap<String, V>) {
                for (k, v) in from {
                    into.entry(k.clone()).or_insert_with(|| v.clone());
                }
            }
            merge(&mut self.state.dashboards, &prev.dashboards);
            merge(&mut self.state.data_models, &prev.data_models);
            merge(&mut self.state.models, &prev.models);
            merge(&mut self.state.datasets, &prev.datasets);
            merge(&mut self.state.paths, &prev.paths);
            merge(&mut self.state.datahub.0, &prev.datahub.0);
        }
        self.state.finished_at = jiff::Timestamp::now().to_string();
        self.state
    }

    fn flush(&mut self) {
        let Some(p) = self.pending.take() else {
            return;
        };
        // A data model's or dataset's records are filed by `known`; without it (its
        // expansion failed) they are not remembered.
        if p.group.kind != GroupKind::Document {
            return;
        }
        let document = match &p.item {
            Some(Item::Document(d)) => Some(d),
            _ => None,
        };
        // Without OpenMetadata records (a DataHub run) the document is filed by its id.
        let Some(fqn) = p
            .dashboard_fqn
            .or_else(|| document.map(|_| document_key(&p.group.id)))
        else {
            return;
        };
        self.state.dashboards.insert(
            fqn,
            WorkbookState {
                workbook_id: p.group.id,
                updated_at: p
                    .updated_at
                    .or_else(|| document.map(|d| d.updated_at.clone())),
                records: p.records,
                item: p.item,
            },
        );
    }
}

/// The key of a document filed without an OpenMetadata dashboard FQN (a DataHub run's).
/// It is never read as an FQN: a run for OpenMetadata renders the items of the state it
/// loads, so its keys are the FQNs its own renderer gives.
fn document_key(id: &str) -> String {
    format!("sigma-document:{id}")
}

/// The previous state, indexed for replay: an unchanged group's records by its Sigma id.
pub struct Replay<'a> {
    state: &'a RunState,
    documents: std::collections::HashMap<&'a str, &'a str>,
}

impl<'a> Replay<'a> {
    pub fn new(state: &'a RunState) -> Self {
        let documents = state
            .dashboards
            .iter()
            .map(|(fqn, w)| (w.workbook_id.as_str(), fqn.as_str()))
            .collect();
        Self { state, documents }
    }

    /// A workbook's or report's dashboard FQN and entry.
    fn document(&self, id: &str) -> Option<(&'a str, &'a WorkbookState)> {
        let fqn = *self.documents.get(id)?;
        Some((fqn, self.state.dashboards.get(fqn)?))
    }

    fn group(&self, group: &Group) -> Option<&'a GroupState> {
        match group.kind {
            GroupKind::DataModel => self.state.models.get(&group.id),
            GroupKind::Dataset => self.state.datasets.get(&group.id),
            GroupKind::Document | GroupKind::Org => None,
        }
    }

    /// The item an unchanged group was last expanded into (DataHub renders it again).
    pub fn item(&self, group: &Group) -> Option<&'a Item> {
        match group.kind {
            GroupKind::Document => self.document(&group.id)?.1.item.as_ref(),
            _ => self.group(group)?.item.as_ref(),
        }
    }

    /// The records an unchanged group replays, as the run that wrote the state emitted them.
    pub fn records(&self, group: &Group) -> &'a [Record] {
        match group.kind {
            GroupKind::Document => self.document(&group.id).map(|(_, w)| w.records.as_slice()),
            _ => self.group(group).map(|g| g.records.as_slice()),
        }
        .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigma::api::DecodeError;
    use crate::sigma::source::SourceError;

    fn renderer() -> impl FnMut(&Item) -> Vec<Record> {
        let mut r = crate::openmetadata::Renderer::new(
            "svc",
            crate::openmetadata::ServiceMapping::default(),
        );
        move |item| r.render(item)
    }

    fn document(id: &str) -> Item {
        use crate::catalog::{Document, DocumentKind, Element, Page};
        Item::Document(Document {
            id: id.into(),
            url_id: None,
            kind: DocumentKind::Workbook,
            name: "Sales".into(),
            description: None,
            url: format!("https://app.sigmacomputing.com/org/workbook/{id}"),
            path: "Finance".into(),
            created_at: None,
            updated_at: "2026-01-01T00:00:00Z".into(),
            owner: None,
            tags: Vec::new(),
            pages: vec![Page {
                id: "p1".into(),
                name: Some("Overview".into()),
            }],
            elements: vec![Element {
                id: "el1".into(),
                page_id: "p1".into(),
                name: Some("Revenue".into()),
                display_name: "Revenue".into(),
                element_type: Some("visualization".into()),
                visualization_type: Some("bar".into()),
                is_chart: true,
                error: None,
                url: format!("https://app.sigmacomputing.com/org/workbook/{id}?:nodeId=el1"),
                columns: Vec::new(),
                upstreams: Vec::new(),
                column_lineage: Vec::new(),
            }],
        })
    }

    #[test]
    fn missing_file_is_empty_and_a_saved_state_renders_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state.json");
        let empty = RunState::load(&path, "svc", &mut renderer()).unwrap();
        assert!(empty.dashboards.is_empty());
        let mut recorder = StateRecorder::new("svc");
        let item = document("wb1");
        let mut render = renderer();
        recorder.item(&item);
        for record in render(&item) {
            recorder.record(record, Some(item.group()));
        }
        let s = recorder.finish(None, true);
        assert_eq!(s.dashboards.len(), 1);
        s.save(&path).unwrap();
        // Items by Sigma id are written, no platform's names.
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("\"fqn\""), "{text}");
        assert!(text.contains("\"documents\":{\"wb1\""), "{text}");
        let loaded = RunState::load(&path, "svc", &mut renderer()).unwrap();
        assert_eq!(loaded.dashboards, s.dashboards);
        assert_eq!(loaded.data_models, s.data_models);
        assert!(
            RunState::load(&path, "other", &mut renderer())
                .unwrap()
                .dashboards
                .is_empty()
        );
    }

    #[test]
    fn a_version_2_state_is_still_read_for_mark_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(
            &path,
            r#"{"version":2,"serviceName":"svc","finishedAt":"2026","dashboards":{"svc.wb1":{"workbookId":"wb1","records":[]}},"dataModels":{}}"#,
        )
        .unwrap();
        let state = RunState::load(&path, "svc", &mut renderer()).unwrap();
        assert_eq!(state.dashboards["svc.wb1"].workbook_id, "wb1");
        assert!(
            state.fingerprint.is_none(),
            "so its first incremental run is a full one"
        );
    }

    #[test]
    fn corrupt_state_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, "{not json").unwrap();
        let e = RunState::load(&path, "svc", &mut renderer())
            .unwrap_err()
            .to_string();
        assert!(e.contains("state.json"), "{e}");
    }

    fn workbook(id: &str, charts: &[&str]) -> WorkbookState {
        WorkbookState {
            workbook_id: id.into(),
            updated_at: None,
            records: charts.iter().map(|c| chart(&format!("{id}_{c}"))).collect(),
            item: None,
        }
    }

    /// A chart record named `name` in service `svc` (FQN `svc.<name>`).
    fn chart(name: &str) -> Record {
        serde_json::from_value(serde_json::json!({
            "kind": "chart",
            "fqn": format!("svc.{name}"),
            "entity": {
                "name": name,
                "displayName": name,
                "chartType": "Table",
                "sourceUrl": "https://app.sigmacomputing.com/org/workbook/w",
                "service": "svc"
            }
        }))
        .expect("a chart record")
    }

    /// A failed set of one failure: an object that failed (`dashboard`, `dataModel`) or a
    /// listing entry that did not decode (`page`, `element`, `dataset`, ...).
    fn failure(kind: &'static str, id: &str) -> FailedSet {
        let error = match kind {
            "dashboard" | "dataModel" => SourceError::Object {
                kind,
                id: id.into(),
                name: "n".into(),
                step: "pages",
                message: "boom".into(),
                cause: "boom".into(),
            },
            _ => SourceError::Malformed(DecodeError {
                kind,
                id: id.into(),
                field: "name".into(),
                message: "boom".into(),
            }),
        };
        let mut set = FailedSet::default();
        set.add(&error);
        set
    }

    #[test]
    fn charts_deleted_from_remaining_and_gone_dashboards_but_not_failed_ones() {
        let mut old = RunState::new("svc");
        old.dashboards
            .insert("svc.a".into(), workbook("a", &["1", "2"]));
        old.dashboards.insert("svc.b".into(), workbook("b", &["1"]));
        old.dashboards.insert("svc.c".into(), workbook("c", &["1"]));
        let mut new = RunState::new("svc");
        // a keeps chart 1 and loses chart 2; b is gone; c failed this run.
        new.dashboards.insert("svc.a".into(), workbook("a", &["1"]));
        let failed = failure("dashboard", "c");
        assert_eq!(
            old.deleted_charts(&new, &failed),
            vec!["svc.a_2", "svc.b_1"]
        );
        // A chart that moved to another dashboard is not deleted.
        new.dashboards.insert("svc.d".into(), {
            let mut d = workbook("d", &[]);
            d.records.push(chart("b_1"));
            d
        });
        assert_eq!(old.deleted_charts(&new, &failed), vec!["svc.a_2"]);
    }

    #[test]
    fn failed_workbooks_keep_their_previous_entry() {
        let mut old = RunState::new("svc");
        old.dashboards.insert("svc.a".into(), workbook("a", &["1"]));
        old.dashboards.insert("svc.b".into(), workbook("b", &["1"]));
        let mut new = RunState::new("svc");
        new.keep_failed_from(&old, &failure("dashboard", "a"));
        assert_eq!(new.dashboards.keys().collect::<Vec<_>>(), vec!["svc.a"]);
        assert_eq!(new.dashboards["svc.a"], old.dashboards["svc.a"]);
    }

    #[test]
    fn no_chart_is_deleted_when_an_element_or_page_failed_to_decode() {
        let mut old = RunState::new("svc");
        old.dashboards
            .insert("svc.a".into(), workbook("a", &["1", "2"]));
        let new = RunState::new("svc");
        for kind in ["element", "page"] {
            assert!(old.deleted_charts(&new, &failure(kind, "7")).is_empty());
        }
        assert_eq!(old.deleted_charts(&new, &failure("dataset", "x")).len(), 2);
        // A failure of a kind the set does not know hides anything: nothing is deleted.
        assert!(old.deleted_charts(&new, &failure("gadget", "x")).is_empty());
    }

    #[test]
    fn deletions_skip_failed_workbooks() {
        let mut old = RunState::new("svc");
        for id in ["a", "b", "c"] {
            old.dashboards.insert(
                format!("svc.{id}"),
                WorkbookState {
                    workbook_id: id.into(),
                    ..Default::default()
                },
            );
        }
        old.data_models
            .insert("svc.model.x".into(), EntityState::default());
        let mut new = RunState::new("svc");
        new.dashboards.insert(
            "svc.a".into(),
            WorkbookState {
                workbook_id: "a".into(),
                ..Default::default()
            },
        );
        let failed = failure("dashboard", "b");
        assert_eq!(
            old.deleted_dashboards(&new, &failed).collect::<Vec<_>>(),
            vec!["svc.c"]
        );
        assert_eq!(
            old.deleted_data_models(&new, &FailedSet::default()),
            vec!["svc.model.x"]
        );
        for kind in ["dataModel", "dataset", "data model column"] {
            assert!(
                old.deleted_data_models(&new, &failure(kind, "x"))
                    .is_empty()
            );
        }
    }
}
