//! What a DataHub run remembers: the entities each Sigma object rendered, by group. A
//! later complete run that no longer renders one marks it `status {removed: true}`
//! (DataHub's soft delete), never an entity of an object that failed in that run. Kept in
//! the run's own state file (no DataHub checkpoint store).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::catalog::{Group, GroupKind};
use crate::sigma::source::FailedSet;

/// Entity URNs by group (`org:<host>` for workspace containers, `document:<id>`,
/// `dataModel:<id>`, `dataset:<id>`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct DataHubState(pub BTreeMap<String, BTreeSet<String>>);

fn key(group: &Group) -> String {
    let kind = match group.kind {
        GroupKind::Org => "org",
        GroupKind::Document => "document",
        GroupKind::DataModel => "dataModel",
        GroupKind::Dataset => "dataset",
    };
    format!("{kind}:{}", group.id)
}

/// Whether the object a group key names failed in this run (still there as far as anyone
/// knows), or its kind had a failure that hides which objects were seen. The org is filed
/// only after a whole workspace listing (the runner's rule): a run that did not file it
/// saw no workspace for sure, so the previous run's workspace containers stay.
fn failed(key: &str, failed: &FailedSet, current: &DataHubState) -> bool {
    let Some((kind, id)) = key.split_once(':') else {
        return true;
    };
    match kind {
        "org" => !current.0.contains_key(key),
        "document" => failed.documents.contains(id) || failed.some_chart_unseen,
        "dataModel" => failed.data_models.contains(id) || failed.some_data_model_unseen,
        "dataset" => failed.datasets.contains(id) || failed.some_data_model_unseen,
        _ => false,
    }
}

impl DataHubState {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn record(&mut self, group: &Group, urns: BTreeSet<String>) {
        self.0.entry(key(group)).or_default().extend(urns);
    }

    /// What `self` (the previous complete state) has and `current` (this complete run)
    /// does not, leaving out everything of an object that failed in this run. Sorted.
    pub fn removed(&self, current: &DataHubState, failures: &FailedSet) -> Vec<String> {
        let seen: BTreeSet<&String> = current.0.values().flatten().collect();
        let protected: BTreeSet<&String> = self
            .0
            .iter()
            .filter(|(k, _)| failed(k, failures, current))
            .flat_map(|(_, urns)| urns)
            .collect();
        let gone: BTreeSet<&String> = self
            .0
            .values()
            .flatten()
            .filter(|u| !seen.contains(u) && !protected.contains(u))
            .collect();
        gone.into_iter().cloned().collect()
    }

    /// Keeps the previous entries of objects that failed in this run, so a later run can
    /// still remove them when they do disappear.
    pub fn keep_failed_from(&mut self, previous: &DataHubState, failures: &FailedSet) {
        let kept: Vec<(String, BTreeSet<String>)> = previous
            .0
            .iter()
            .filter(|(k, _)| failed(k, failures, self))
            .map(|(k, urns)| (k.clone(), urns.clone()))
            .collect();
        for (k, urns) in kept {
            self.0.entry(k).or_insert(urns);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn urns(list: &[&str]) -> BTreeSet<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn only_what_no_group_renders_any_more_is_removed_and_never_what_failed() {
        let mut previous = DataHubState::default();
        previous.record(&Group::document("w1"), urns(&["d:w1", "c:shared", "c:a"]));
        previous.record(&Group::document("w2"), urns(&["d:w2", "c:shared"]));
        previous.record(&Group::document("w3"), urns(&["d:w3"]));
        previous.record(&Group::data_model("m1"), urns(&["ds:m1.e"]));
        let mut current = DataHubState::default();
        current.record(&Group::document("w1"), urns(&["d:w1", "c:shared"]));
        // w2 gone (its shared chart still rendered by w1), w3 failed, m1 gone.
        let mut failures = FailedSet::default();
        failures.documents.insert("w3".into());
        assert_eq!(
            previous.removed(&current, &failures),
            ["c:a", "d:w2", "ds:m1.e"]
        );
        current.keep_failed_from(&previous, &failures);
        assert!(current.0.contains_key("document:w3"));
        // A data model failure that hides which were seen: no data model entity goes.
        failures.some_data_model_unseen = true;
        assert_eq!(previous.removed(&current, &failures), ["c:a", "d:w2"]);
    }

    #[test]
    fn workspace_containers_go_only_after_a_whole_workspace_listing() {
        let org = Group::org("https://sigma.example");
        let mut previous = DataHubState::default();
        previous.record(&org, urns(&["ws:a", "ws:b"]));
        let failures = FailedSet::default();
        // The listing failed: the runner filed no org, so nothing of it goes, and it is kept.
        let mut current = DataHubState::default();
        assert!(previous.removed(&current, &failures).is_empty());
        current.keep_failed_from(&previous, &failures);
        assert_eq!(
            current.0["org:https://sigma.example"],
            urns(&["ws:a", "ws:b"])
        );
        // A whole listing without b: b goes.
        let mut current = DataHubState::default();
        current.record(&org, urns(&["ws:a"]));
        assert_eq!(previous.removed(&current, &failures), ["ws:b"]);
        // A whole listing of no workspace at all: both go.
        let mut current = DataHubState::default();
        current.record(&org, BTreeSet::new());
        assert_eq!(previous.removed(&current, &failures), ["ws:a", "ws:b"]);
    }
}
