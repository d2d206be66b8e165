//! What the source reports besides records: per-object failures (`SourceError`,
//! `FailedObject`), incomplete listings, and the counts and warnings of a run
//! (`SourceStatus`, shared through `StatusHandle`).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use super::super::api::DecodeError;

/// A per-object failure, or a listing that ended early.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    #[error("{kind} `{name}` ({id}): {step} failed: {message}")]
    Object {
        kind: &'static str,
        id: String,
        name: String,
        step: &'static str,
        message: String,
        /// The cause alone (`HTTP 500 Internal Server Error`), without the request's path
        /// or ids: what the end-of-run summary groups failures by. Boxed: every `Result`
        /// of the source stream carries the size of this variant.
        cause: Box<str>,
    },
    #[error("{0}")]
    Malformed(DecodeError),
    #[error("{0}")]
    IncompleteListing(ListingIncomplete),
}

/// A top-level listing (workbooks, data models, datasets; reports later) that ended before
/// its last page. The run that saw one is `partial`: it deletes nothing and does not replace
/// the last complete output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(rename_all = "camelCase")]
#[error(
    "listing `{listing}` ended early after {items_so_far} item(s) on {pages_so_far} page(s): {cause}"
)]
pub struct ListingIncomplete {
    /// Which listing: `workbooks`, `dataModels`, `datasets`, ...
    pub listing: String,
    /// Items of that listing the source had taken in when it ended.
    pub items_so_far: u64,
    /// Pages received completely.
    pub pages_so_far: u64,
    /// Why it ended: the failed request, with its status, attempts and Sigma's message.
    pub cause: String,
    /// The cause alone, without the request's path, ids or attempts (`HTTP 404 Not
    /// Found`): the same words for every listing one problem broke, which the end-of-run
    /// summary groups listings by.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

impl SourceError {
    /// The id of the Sigma object this failure is about, if any: the runner treats it as
    /// seen (never deleted) although no record was emitted for it.
    pub fn object_id(&self) -> Option<&str> {
        match self {
            SourceError::Object { id, .. } => Some(id),
            SourceError::Malformed(d) => Some(&d.id),
            SourceError::IncompleteListing(_) => None,
        }
    }
}

/// How many examples of each problem the status keeps.
const EXAMPLES: usize = 5;

/// Most failed objects the status lists one by one (all are counted in `failures`).
pub const FAILED_OBJECTS_MAX: usize = 10_000;

/// One Sigma object that failed, as the status lists it: what a platform running the
/// binary needs to report the failure by id and to know what must not be deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedObject {
    /// `dashboard` (a workbook), `dataModel`, or for an entry that did not decode the
    /// listing's object kind (`workbook`, `page`, `element`, `dataset`, `data model`, ...).
    pub kind: String,
    /// The Sigma id (for an entry that did not decode and had none, its listing position).
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What failed: a fetch step (`pages`, `elements`, ...) or the field that did not decode.
    pub step: String,
    /// The whole failure in words.
    pub message: String,
}

impl FailedObject {
    fn of(error: &SourceError) -> Option<Self> {
        match error {
            SourceError::Object {
                kind,
                id,
                name,
                step,
                ..
            } => Some(Self {
                kind: (*kind).to_owned(),
                id: id.clone(),
                name: Some(name.clone()),
                step: (*step).to_owned(),
                message: error.to_string(),
            }),
            SourceError::Malformed(d) => Some(Self {
                kind: d.kind.to_owned(),
                id: d.id.clone(),
                name: None,
                step: format!("decode `{}`", d.field),
                message: error.to_string(),
            }),
            SourceError::IncompleteListing { .. } => None,
        }
    }
}

/// Every object that failed in a run, by what it was: what mark-deleted reads. Unlike
/// [`SourceStatus::failed_objects`] (a list for people, capped), it is never capped, and it
/// is typed: the one place that turns a failure's label into what it may have hidden.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FailedSet {
    /// Workbooks and reports (by Sigma id) that failed or whose listing entry did not decode.
    pub documents: BTreeSet<String>,
    /// Data models (by Sigma id) that failed.
    pub data_models: BTreeSet<String>,
    /// Datasets (by Sigma id) whose listing entry did not decode.
    pub datasets: BTreeSet<String>,
    /// A page or element entry did not decode (or a failure of a kind this set does not
    /// know): its document cannot be told, so any chart may be one that was not seen.
    pub some_chart_unseen: bool,
    /// A data model, a dataset or a part of one failed: which data models it hid cannot be
    /// told, so any data model may be one that was not seen.
    pub some_data_model_unseen: bool,
}

/// What a failure is about, from its kind.
enum FailedScope {
    Document,
    DocumentPart,
    DataModel,
    Dataset,
    DataModelPart,
    /// A part of a document that holds no chart or data model (its SQL, its lineage).
    Lineage,
}

impl FailedScope {
    /// `kind` as [`SourceError::Object`] and the listings' [`DecodeError`] say it. A kind not
    /// listed here is treated as hiding anything (no chart or data model is deleted).
    fn of(kind: &str) -> Option<Self> {
        Some(match kind {
            "dashboard" | "workbook" | "report" => Self::Document,
            "page" | "element" => Self::DocumentPart,
            "dataModel" | "data model" => Self::DataModel,
            "dataset" => Self::Dataset,
            "data model element"
            | "data model column"
            | "data model lineage entry"
            | "data model source" => Self::DataModelPart,
            "query" | "lineage entry" | "member" | "connection" => Self::Lineage,
            _ => return None,
        })
    }
}

impl FailedSet {
    /// Files one failure. An incomplete listing is not an object (the run deletes nothing
    /// after one anyway).
    pub fn add(&mut self, error: &SourceError) {
        let (kind, id) = match error {
            SourceError::Object { kind, id, .. } => (*kind, id),
            SourceError::Malformed(d) => (d.kind, &d.id),
            SourceError::IncompleteListing(_) => return,
        };
        match FailedScope::of(kind) {
            Some(FailedScope::Document) => {
                self.documents.insert(id.clone());
            }
            Some(FailedScope::DocumentPart) => self.some_chart_unseen = true,
            Some(FailedScope::DataModel) => {
                self.data_models.insert(id.clone());
                self.some_data_model_unseen = true;
            }
            Some(FailedScope::Dataset) => {
                self.datasets.insert(id.clone());
                self.some_data_model_unseen = true;
            }
            Some(FailedScope::DataModelPart) => self.some_data_model_unseen = true,
            Some(FailedScope::Lineage) => {}
            None => {
                self.some_chart_unseen = true;
                self.some_data_model_unseen = true;
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Counts and first examples of what the source did.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SourceStatus {
    /// Records emitted, per kind.
    pub emitted: BTreeMap<String, u64>,
    /// Objects dropped by a filter pattern, per kind.
    pub filtered: BTreeMap<String, u64>,
    /// Objects skipped on purpose (archived, UI elements), per reason.
    pub skipped: BTreeMap<String, u64>,
    pub warnings: u64,
    pub warning_examples: Vec<String>,
    /// The same warnings, one entry per cause.
    pub warnings_by_cause: WarningGroups,
    pub failures: u64,
    pub failure_examples: Vec<String>,
    /// The failures of objects, one entry per cause (a listing that ended early is in
    /// `incomplete_listings` instead).
    pub failures_by_cause: WarningGroups,
    /// Every object that failed (up to `FAILED_OBJECTS_MAX`), with its id.
    pub failed_objects: Vec<FailedObject>,
    /// Every object that failed, typed and uncapped: what mark-deleted reads.
    #[serde(skip)]
    pub failed: FailedSet,
    /// Listings that ended early: a run with any is not complete.
    pub incomplete_listings: Vec<ListingIncomplete>,
    /// Workbooks Sigma says it has (from the listing's `total`), for progress.
    pub workbooks_total: Option<u64>,
    /// Workbooks finished with so far (expanded, filtered, skipped or failed), for progress.
    pub workbooks_done: u64,
}

impl SourceStatus {
    pub fn is_complete(&self) -> bool {
        self.incomplete_listings.is_empty()
    }
}

/// Shared, cheaply cloned view of the status while the stream runs.
#[derive(Debug, Clone, Default)]
pub struct StatusHandle {
    pub(super) status: Arc<Mutex<SourceStatus>>,
    pub(super) workbooks_total: Arc<AtomicU64>,
    pub(super) workbooks_done: Arc<AtomicU64>,
}

impl StatusHandle {
    pub fn snapshot(&self) -> SourceStatus {
        let mut s = self.lock().clone();
        let total = self.workbooks_total.load(Ordering::Relaxed);
        s.workbooks_total = (total > 0).then_some(total);
        s.workbooks_done = self.workbooks_done.load(Ordering::Relaxed);
        s
    }
    fn lock(&self) -> std::sync::MutexGuard<'_, SourceStatus> {
        // A panic elsewhere must not hide the counts: take the data even if poisoned.
        self.status.lock().unwrap_or_else(|p| p.into_inner())
    }
    /// One record of `kind` rendered from what this source yielded (counted by the
    /// runner, which renders).
    pub fn emitted(&self, kind: &str) {
        *self.lock().emitted.entry(kind.to_owned()).or_default() += 1;
    }
    pub(super) fn filtered(&self, kind: &str) {
        *self.lock().filtered.entry(kind.to_owned()).or_default() += 1;
    }
    pub(super) fn skipped(&self, reason: &str) {
        *self.lock().skipped.entry(reason.to_owned()).or_default() += 1;
    }
    /// A warning: `cause` is what groups it (the same words for every object it affects),
    /// `object` the id it is about, `message` the whole story for the log and the examples.
    /// Only a cause's first occurrence is logged at WARN; the rest go to DEBUG, and the
    /// summary counts them all.
    pub(super) fn warn(&self, cause: &str, object: Option<&str>, message: String) {
        let mut s = self.lock();
        s.warnings += 1;
        if s.warnings_by_cause.add(cause, object) {
            tracing::warn!("{message}");
        } else {
            tracing::debug!("{message}");
        }
        if s.warning_examples.len() < EXAMPLES {
            s.warning_examples.push(message);
        }
    }
    /// A cause that concerns the whole run, not one object.
    pub(super) fn warn_once(&self, cause: String) {
        self.warn(&cause, None, cause.clone());
    }
    /// One more workbook finished with (for progress).
    pub(super) fn workbook_done(&self) {
        self.workbooks_done.fetch_add(1, Ordering::Relaxed);
    }
    /// A failure: logged at WARN when it happens, counted, and filed by cause for the
    /// summary (a listing that ended early under `incomplete_listings`, which the summary
    /// groups by its reason; an object under `failures_by_cause`).
    pub(super) fn fail(&self, error: &SourceError) {
        tracing::warn!("{error}");
        let mut s = self.lock();
        s.failures += 1;
        match error {
            SourceError::IncompleteListing(listing) => s.incomplete_listings.push(listing.clone()),
            SourceError::Object {
                kind,
                id,
                step,
                cause,
                ..
            } => {
                s.failures_by_cause
                    .add(&format!("{kind} {step} failed: {cause}"), Some(id));
            }
            SourceError::Malformed(d) => {
                let cause = format!("{} entry did not decode at `{}`", d.kind, d.field);
                s.failures_by_cause.add(&cause, Some(&d.id));
            }
        }
        if s.failure_examples.len() < EXAMPLES {
            s.failure_examples.push(error.to_string());
        }
        s.failed.add(error);
        if s.failed_objects.len() < FAILED_OBJECTS_MAX {
            if let Some(object) = FailedObject::of(error) {
                s.failed_objects.push(object);
            }
        }
    }
}

/// Warnings (or failures) grouped by cause: one entry per distinct cause with the number
/// of objects it affected and the first few of their ids, in the order the causes first
/// appeared. What a run reports instead of one line per object: a forbidden `/v2/members`
/// is one cause affecting every workbook, not hundreds of warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WarningGroups {
    groups: Vec<WarningGroup>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WarningGroup {
    /// The cause in words, the same for every object it affected.
    pub cause: String,
    /// Objects affected (0 for a cause that concerns the whole run).
    pub objects: u64,
    /// The first few of their ids.
    pub example_ids: Vec<String>,
}

/// Ids kept per cause (all are counted).
const GROUP_EXAMPLES: usize = 3;

impl WarningGroups {
    /// Files one occurrence of `cause`, affecting `object` when given. Returns true when
    /// the cause is new: the caller logs it then, and only then.
    pub fn add(&mut self, cause: &str, object: Option<&str>) -> bool {
        let (index, is_new) = match self.groups.iter().position(|g| g.cause == cause) {
            Some(index) => (index, false),
            None => {
                self.groups.push(WarningGroup {
                    cause: cause.to_owned(),
                    ..WarningGroup::default()
                });
                (self.groups.len() - 1, true)
            }
        };
        if let Some(id) = object {
            let group = &mut self.groups[index];
            group.objects += 1;
            if group.example_ids.len() < GROUP_EXAMPLES
                && !group.example_ids.iter().any(|e| e == id)
            {
                group.example_ids.push(id.to_owned());
            }
        }
        is_new
    }

    pub fn iter(&self) -> impl Iterator<Item = &WarningGroup> {
        self.groups.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

impl std::fmt::Display for WarningGroup {
    /// `cause (N objects, e.g. a, b, c)`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.cause)?;
        match self.objects {
            0 => Ok(()),
            n => {
                write!(f, " ({n} object{}", if n == 1 { "" } else { "s" })?;
                if !self.example_ids.is_empty() {
                    write!(f, ", e.g. {}", self.example_ids.join(", "))?;
                    if n as usize > self.example_ids.len() {
                        f.write_str(", ...")?;
                    }
                }
                f.write_str(")")
            }
        }
    }
}
