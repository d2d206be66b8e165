//! What the source reports besides records: per-object failures (`SourceError`,
//! `FailedObject`), incomplete listings, and the counts and warnings of a run
//! (`SourceStatus`, shared through `StatusHandle`).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::records::RecordKind;
use crate::status::WarningGroups;

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
    pub(super) fn emitted(&self, kind: RecordKind) {
        *self
            .lock()
            .emitted
            .entry(kind.as_str().to_owned())
            .or_default() += 1;
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
        if s.failed_objects.len() < FAILED_OBJECTS_MAX {
            if let Some(object) = FailedObject::of(error) {
                s.failed_objects.push(object);
            }
        }
    }
}
