//! Which warehouse objects an element's lineage graph reaches.

use std::collections::HashMap;

use super::model::{ElementLineage, LineageEntry, LineageNode};

/// The data sources an element's lineage graph reaches: nodes of type `table`, `dataset`
/// or `data-model` (ends of the graph, possibly through joins, unions and custom SQL),
/// in node-id order.
pub fn upstream_sources(lineage: &ElementLineage) -> Vec<&LineageNode> {
    lineage
        .dependencies
        .values()
        .filter(|n| matches!(n.node_type.as_str(), "table" | "dataset" | "data-model"))
        .collect()
}

/// A lineage tree (`/lineage` of a workbook, report or data model) indexed for lookups:
/// which ids each element reads, and the data source entry behind an id. A source is
/// found by the undeclared `datasourceId` when Sigma sends it, else by what the spec
/// declares: a table's or dataset's `inodeId`, a data model's `dataModelId`, a custom SQL's
/// `name`.
#[derive(Debug, Default)]
pub struct LineageTree {
    elements: HashMap<String, (Vec<String>, Option<Vec<String>>)>,
    sources: Vec<LineageEntry>,
    by_id: HashMap<String, usize>,
}

impl LineageTree {
    pub fn new(entries: Vec<LineageEntry>) -> Self {
        let mut tree = LineageTree::default();
        for entry in entries {
            match entry {
                LineageEntry::Element {
                    element_id,
                    source_ids,
                    data_source_ids,
                } => {
                    tree.elements.insert(
                        element_id,
                        (source_ids.unwrap_or_default(), data_source_ids),
                    );
                }
                LineageEntry::Other => {}
                source => {
                    let index = tree.sources.len();
                    let keys: Vec<String> = match &source {
                        LineageEntry::Table {
                            inode_id,
                            datasource_id,
                            ..
                        }
                        | LineageEntry::Dataset {
                            inode_id,
                            datasource_id,
                            ..
                        } => [datasource_id.clone(), Some(inode_id.clone())]
                            .into_iter()
                            .flatten()
                            .collect(),
                        LineageEntry::DataModel {
                            data_model_id,
                            datasource_id,
                            ..
                        } => [datasource_id.clone(), Some(data_model_id.clone())]
                            .into_iter()
                            .flatten()
                            .collect(),
                        LineageEntry::CustomSql {
                            name,
                            datasource_id,
                            ..
                        } => [datasource_id.clone(), name.clone()]
                            .into_iter()
                            .flatten()
                            .collect(),
                        _ => Vec::new(),
                    };
                    for key in keys {
                        tree.by_id.entry(key).or_insert(index);
                    }
                    tree.sources.push(source);
                }
            }
        }
        tree
    }

    /// Whether `id` is an element of this tree (a sibling or a sheet the element reads).
    pub fn is_element(&self, id: &str) -> bool {
        self.elements.contains_key(id)
    }

    /// The ids an element reads directly (`sourceIds`).
    pub fn direct(&self, element_id: &str) -> &[String] {
        self.elements
            .get(element_id)
            .map_or(&[], |(direct, _)| direct.as_slice())
    }

    /// The data source entry behind a source id. An element of another data model is named
    /// `<dataModelUrlId>/<elementId>`: without `datasourceId` it is matched to the tree's
    /// only data model entry, or to the one whose `dataModelId` is the prefix.
    pub fn source(&self, id: &str) -> Option<&LineageEntry> {
        if let Some(index) = self.by_id.get(id) {
            return self.sources.get(*index);
        }
        let (model, _) = id.split_once('/')?;
        let mut models = self
            .sources
            .iter()
            .filter(|s| matches!(s, LineageEntry::DataModel { .. }));
        let by_id = models.clone().find(|s| {
            matches!(s, LineageEntry::DataModel { data_model_id, .. } if data_model_id == model)
        });
        by_id.or_else(|| {
            let first = models.next();
            models.next().is_none().then_some(first).flatten()
        })
    }

    /// Every data source an element reaches: its `dataSourceIds`, or, when Sigma sends none,
    /// its `sourceIds` followed through the elements it reads.
    pub fn data_sources(&self, element_id: &str) -> Vec<&LineageEntry> {
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        let mut pending = vec![element_id.to_owned()];
        while let Some(id) = pending.pop() {
            if !seen.insert(id.clone()) {
                continue;
            }
            let Some((direct, roots)) = self.elements.get(&id) else {
                continue;
            };
            let ids = match roots {
                Some(roots) if id == element_id => roots,
                _ => direct,
            };
            for source in ids {
                if self.is_element(source) {
                    pending.push(source.clone());
                } else if let Some(entry) = self.source(source) {
                    if !out.contains(&entry) {
                        out.push(entry);
                    }
                }
            }
        }
        out
    }
}
