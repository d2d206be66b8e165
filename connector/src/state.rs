//! What the last successful run saw, kept between runs: for incremental runs (a workbook
//! whose `updatedAt` has not changed is not expanded again; its records come from here)
//! and for mark-deleted (what was there last time and is gone now).
//!
//! Written atomically (temporary file in the same directory, fsync, rename), and only after
//! the sink has committed the run, so a crash at any point leaves the previous state.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::records::{Entity, Record};
use crate::sigma::source::FailedSet;

/// Bumped when the layout changes; an unknown version is ignored (a full run follows).
pub const STATE_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RunState {
    pub version: u32,
    pub service_name: String,
    /// When the run that wrote this finished (RFC 3339).
    pub finished_at: String,
    /// Dashboards by FQN.
    pub dashboards: BTreeMap<String, WorkbookState>,
    /// Data models (dataset and data-model elements) by FQN.
    pub data_models: BTreeMap<String, EntityState>,
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
    /// version is treated as empty (never used to delete), with a warning.
    pub fn load(path: &Path, service_name: &str) -> Result<Self, StateError> {
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
        let state: RunState = serde_json::from_str(&text).map_err(|e| StateError::Corrupt {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        if state.version != STATE_VERSION || state.service_name != service_name {
            tracing::warn!(
                path = %path.display(),
                "state file belongs to service `{}` (version {}); ignoring it",
                state.service_name,
                state.version
            );
            return Ok(Self::new(service_name));
        }
        Ok(state)
    }

    /// Writes atomically: a crash leaves either the old file or the new one, whole.
    pub fn save(&self, path: &Path) -> Result<(), StateError> {
        crate::atomic::write_json(path, self, false).map_err(|source| StateError::Write {
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
        for (fqn, wb) in &previous.dashboards {
            if failed.documents.contains(&wb.workbook_id) {
                self.dashboards
                    .entry(fqn.clone())
                    .or_insert_with(|| wb.clone());
            }
        }
        // Which data models a failure hid cannot be told: keep every previous one.
        if failed.some_data_model_unseen {
            for (fqn, dm) in &previous.data_models {
                self.data_models
                    .entry(fqn.clone())
                    .or_insert_with(|| dm.clone());
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
        self.data_models
            .keys()
            .filter(|fqn| !current.data_models.contains_key(*fqn))
            .map(String::as_str)
            .collect()
    }
}

/// The FQNs of the chart records among a workbook's records.
fn chart_fqns(records: &[Record]) -> impl Iterator<Item = String> + '_ {
    records.iter().filter_map(|r| match &r.entity {
        Entity::Chart(chart) => Some(chart.fqn()),
        _ => None,
    })
}

/// Builds the next run's state from the records a run writes. A workbook's records arrive
/// together; they are gathered and filed under its dashboard's FQN when the next workbook
/// (or anything else) starts.
#[derive(Debug)]
pub struct StateRecorder {
    state: RunState,
    pending: Option<PendingWorkbook>,
}

#[derive(Debug)]
struct PendingWorkbook {
    workbook_id: String,
    dashboard_fqn: Option<String>,
    updated_at: Option<String>,
    records: Vec<Record>,
}

impl StateRecorder {
    pub fn new(service_name: &str) -> Self {
        Self {
            state: RunState::new(service_name),
            pending: None,
        }
    }

    /// Files a written record under its workbook (or as a data model).
    pub fn record(&mut self, record: Record, workbook_id: Option<String>) {
        match workbook_id {
            Some(id) => {
                if self.pending.as_ref().is_some_and(|p| p.workbook_id != id) {
                    self.flush();
                }
                let p = self.pending.get_or_insert_with(|| PendingWorkbook {
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
                self.flush();
                if let Entity::DataModel(model) = &record.entity {
                    self.state.data_models.insert(
                        model.fqn(),
                        EntityState {
                            updated_at: record.refs.updated_at,
                        },
                    );
                }
            }
        }
    }

    /// Files an unchanged workbook as the last state had it (its records were replayed).
    pub fn replayed(&mut self, dashboard_fqn: &str, entry: &WorkbookState) {
        self.flush();
        self.state
            .dashboards
            .insert(dashboard_fqn.to_owned(), entry.clone());
    }

    /// What the run saw so far (for mark-deleted, before [`Self::finish`]).
    pub fn seen(&mut self) -> &RunState {
        self.flush();
        &self.state
    }

    /// The state to save. After a run that saw only part of the org (`complete` false,
    /// accepted with `--allow-partial`), the previous entries it could not see are kept, so
    /// the state never shrinks on a partial view and a later complete run decides.
    pub fn finish(mut self, previous: Option<&RunState>, complete: bool) -> RunState {
        self.flush();
        if let Some(prev) = previous.filter(|_| !complete) {
            for (k, v) in &prev.dashboards {
                self.state
                    .dashboards
                    .entry(k.clone())
                    .or_insert_with(|| v.clone());
            }
            for (k, v) in &prev.data_models {
                self.state
                    .data_models
                    .entry(k.clone())
                    .or_insert_with(|| v.clone());
            }
        }
        self.state.finished_at = jiff::Timestamp::now().to_string();
        self.state
    }

    fn flush(&mut self) {
        if let Some(p) = self.pending.take() {
            if let Some(fqn) = p.dashboard_fqn {
                self.state.dashboards.insert(
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sigma::api::DecodeError;
    use crate::sigma::source::SourceError;

    #[test]
    fn missing_file_is_empty_and_roundtrip_is_exact() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/state.json");
        let empty = RunState::load(&path, "svc").unwrap();
        assert!(empty.dashboards.is_empty());
        let mut s = RunState::new("svc");
        s.dashboards.insert(
            "svc.wb1".into(),
            WorkbookState {
                workbook_id: "wb1".into(),
                updated_at: Some("2024".into()),
                records: vec![crate::records::Record::new(crate::records::Entity::Delete(
                    crate::records::DeleteRef {
                        entity_type: crate::records::EntityType::Chart,
                        fqn: "svc.wb1_el1".into(),
                    },
                ))],
            },
        );
        s.save(&path).unwrap();
        assert_eq!(RunState::load(&path, "svc").unwrap(), s);
        assert!(
            RunState::load(&path, "other")
                .unwrap()
                .dashboards
                .is_empty()
        );
    }

    #[test]
    fn corrupt_state_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        std::fs::write(&path, "{not json").unwrap();
        let e = RunState::load(&path, "svc").unwrap_err().to_string();
        assert!(e.contains("state.json"), "{e}");
    }

    fn workbook(id: &str, charts: &[&str]) -> WorkbookState {
        WorkbookState {
            workbook_id: id.into(),
            updated_at: None,
            records: charts.iter().map(|c| chart(&format!("{id}_{c}"))).collect(),
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
