//! What an incremental run may reuse from the last one, and what the source tells the
//! runner to remember. The source describes Sigma: groups are Sigma objects by kind and id
//! (a workbook or report, a data model, a dataset); the runner's checkpoint (`state.rs`)
//! keeps their records and these facts between runs.
//!
//! A group is re-read when its own stamp (`updatedAt`) changed **or** when what its records
//! are made from changed: each phase's inputs are fingerprinted ([`Digests`]) and a phase
//! whose inputs differ from the last run's reuses nothing. Members and connections feed
//! everything (owners, service mapping); datasets feed data models (`replacesDatasets`,
//! lineage to a dataset); datasets and data models feed workbooks and reports (which data
//! models a dashboard reads).

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::sigma::model::ConnectionPath;

pub use crate::catalog::{Group, GroupKind};

/// What stands for a dataset (by its urlId) for the elements and data models that read it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum DatasetEnd {
    /// The dataset stands for itself (not migrated, or no migration needed): its id.
    Emitted(String),
    /// Migrated: the data model that stands for it, and the dataset's own id.
    #[serde(rename_all = "camelCase")]
    MigratedTo {
        data_model_id: String,
        dataset_id: String,
    },
}

/// A data model or dataset as a run saw it: enough to stand in for it, unexpanded, in the
/// next incremental run (its records are kept beside this, by the checkpoint).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KnownGroup {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url_id: Option<String>,
    /// What says the object changed: its `updatedAt` (a dataset's with its migration
    /// state, which can change on its own).
    pub stamp: String,
    /// A data model: its elements (what a document that reads it reads, and what its
    /// elements' column formulas may name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elements: Vec<KnownElement>,
    /// A dataset: what stands for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<DatasetEnd>,
}

/// A data model element as a document reading its data model needs it: its id, its name
/// (what `[Element/Column]` formulas say) and its columns' names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KnownElement {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns: Vec<String>,
}

/// Fingerprints of each phase's inputs (besides the objects themselves), as hex text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Digests {
    /// Members (owners) and connections (the service mapping).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    /// The context and what stands for each dataset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datasets: Option<String>,
    /// The datasets' digest and each data model's element ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_models: Option<String>,
}

/// What an incremental run may reuse: built by the runner from the checkpoint, empty for
/// a full run.
#[derive(Debug, Clone, Default)]
pub struct Memory {
    /// Workbooks and reports: id -> `updatedAt`.
    pub documents: HashMap<String, String>,
    pub data_models: HashMap<String, KnownGroup>,
    pub datasets: HashMap<String, KnownGroup>,
    /// Resolved warehouse paths (`/connections/paths/{inode}`), reused as they are.
    pub paths: HashMap<String, ConnectionPath>,
    pub digests: Digests,
}

/// What the source hands the runner at the end of a stream that reached its end: the
/// warehouse paths it knows (resolved or reused) and the digests of this run's inputs.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunMemory {
    pub paths: BTreeMap<String, ConnectionPath>,
    pub digests: Digests,
}

/// A stable fingerprint of a value's JSON (FNV-1a, 64 bits): the same on every platform and
/// toolchain, unlike `std`'s hasher. Maps must be ordered (`BTreeMap`) for it to be stable.
pub fn digest<T: Serialize>(value: &T) -> String {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_stable_and_order_independent_for_ordered_maps() {
        let a: BTreeMap<&str, &str> = [("b", "2"), ("a", "1")].into_iter().collect();
        let b: BTreeMap<&str, &str> = [("a", "1"), ("b", "2")].into_iter().collect();
        assert_eq!(digest(&a), digest(&b));
        // FNV-1a of `{"a":"1","b":"2"}`: pinned, so a state written today is read the same.
        assert_eq!(digest(&a), "be9380e87280e5d5");
        assert_ne!(digest(&a), digest(&("a", "1")));
    }
}
