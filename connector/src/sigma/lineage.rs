//! Where a Sigma warehouse table lives in OpenMetadata, and which warehouse objects an
//! element's lineage graph reaches.
//!
//! A Sigma connection maps to an OpenMetadata database service either explicitly
//! (`connectionServiceMap`, by connection id or name) or through the ordered
//! `lineageInformation.dbServicePrefixes` (`service[.database[.schema]]`). A prefix that names
//! a database or schema only matches tables in it, and fills in the parts a SQL reference
//! leaves out.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::model::{ElementLineage, LineageEntry, LineageNode};

/// One `service[.database[.schema]]` target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServicePrefix {
    pub service: String,
    pub database: Option<String>,
    pub schema: Option<String>,
}

impl ServicePrefix {
    /// Parses `service[.database[.schema]]`; `None` for an empty or over-long prefix.
    pub fn parse(raw: &str) -> Option<Self> {
        let parts: Vec<&str> = raw.split('.').map(str::trim).collect();
        if parts.is_empty() || parts.len() > 3 || parts.iter().any(|p| p.is_empty()) {
            return None;
        }
        Some(Self {
            service: parts[0].to_owned(),
            database: parts.get(1).map(|s| s.to_string()),
            schema: parts.get(2).map(|s| s.to_string()),
        })
    }

    /// Completes a 1- to 3-part table path into `[service, db, schema, table]`, or `None`
    /// when the path and this prefix disagree or parts are missing.
    fn complete(&self, path: &[String]) -> Option<[String; 4]> {
        let (db, schema, table) = match path {
            [db, schema, table] => (Some(db), Some(schema), table),
            [schema, table] => (None, Some(schema), table),
            [table] => (None, None, table),
            _ => return None,
        };
        let pick = |given: Option<&String>, fixed: &Option<String>| -> Option<Option<String>> {
            match (given, fixed) {
                (Some(g), Some(f)) if !g.eq_ignore_ascii_case(f) => None,
                (Some(g), _) => Some(Some(g.clone())),
                (None, Some(f)) => Some(Some(f.clone())),
                (None, None) => Some(None),
            }
        };
        let db = pick(db, &self.database)??;
        let schema = pick(schema, &self.schema)??;
        Some([self.service.clone(), db, schema, table.clone()])
    }
}

/// Resolves warehouse tables to OpenMetadata table FQN candidates.
#[derive(Debug, Clone, Default)]
pub struct ServiceMapping {
    explicit: HashMap<String, ServicePrefix>,
    prefixes: Vec<ServicePrefix>,
}

impl ServiceMapping {
    /// `explicit`: Sigma connection id or name → prefix; `prefixes`: tried in order for
    /// connections not mapped explicitly. `connection_names`: id → name, so a map keyed
    /// by name applies to the connection's id.
    pub fn new(
        explicit: &BTreeMap<String, String>,
        prefixes: &[String],
        connection_names: &HashMap<String, String>,
    ) -> Self {
        let mut map = HashMap::new();
        for (key, target) in explicit {
            let Some(prefix) = ServicePrefix::parse(target) else {
                continue;
            };
            map.insert(key.clone(), prefix.clone());
            for (id, name) in connection_names {
                if name == key {
                    map.entry(id.clone()).or_insert_with(|| prefix.clone());
                }
            }
        }
        Self {
            explicit: map,
            prefixes: prefixes
                .iter()
                .filter_map(|p| ServicePrefix::parse(p))
                .collect(),
        }
    }

    /// True when no table can ever resolve (lineage to tables is then skipped, once).
    pub fn is_empty(&self) -> bool {
        self.explicit.is_empty() && self.prefixes.is_empty()
    }

    /// Candidate table FQNs, best first, for a table on `connection_id` (when known).
    pub fn table_fqns(&self, connection_id: Option<&str>, path: &[String]) -> Vec<String> {
        let chosen: Vec<&ServicePrefix> = match connection_id.and_then(|c| self.explicit.get(c)) {
            Some(p) => vec![p],
            None => self.prefixes.iter().collect(),
        };
        let mut seen = BTreeSet::new();
        chosen
            .into_iter()
            .filter_map(|p| p.complete(path))
            .map(|[service, db, schema, table]| {
                crate::records::fqn::table(&service, &db, &schema, &table)
            })
            .filter(|fqn| seen.insert(fqn.clone()))
            .collect()
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    fn path(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn prefixes_fill_and_filter() {
        let m = ServiceMapping::new(
            &BTreeMap::new(),
            &["snow.ANALYTICS".into(), "pg".into()],
            &HashMap::new(),
        );
        assert_eq!(
            m.table_fqns(None, &path(&["ANALYTICS", "SALES", "ORDERS"])),
            vec!["snow.ANALYTICS.SALES.ORDERS", "pg.ANALYTICS.SALES.ORDERS"]
        );
        assert_eq!(
            m.table_fqns(None, &path(&["OTHER", "S", "T"])),
            vec!["pg.OTHER.S.T"]
        );
        assert_eq!(
            m.table_fqns(None, &path(&["SALES", "ORDERS"])),
            vec!["snow.ANALYTICS.SALES.ORDERS"],
            "a schema-qualified SQL name takes the database from the prefix"
        );
        assert!(m.table_fqns(None, &path(&["ORDERS"])).is_empty());
    }

    #[test]
    fn explicit_map_by_id_or_name_wins() {
        let mut explicit = BTreeMap::new();
        explicit.insert("Snowflake Prod".to_owned(), "snowflake_prod".to_owned());
        let names = HashMap::from([("conn-1".to_owned(), "Snowflake Prod".to_owned())]);
        let m = ServiceMapping::new(&explicit, &["fallback".into()], &names);
        assert_eq!(
            m.table_fqns(Some("conn-1"), &path(&["D", "S", "T"])),
            vec!["snowflake_prod.D.S.T"]
        );
        assert_eq!(
            m.table_fqns(Some("conn-2"), &path(&["D", "S", "T"])),
            vec!["fallback.D.S.T"]
        );
    }

    #[test]
    fn bad_prefixes_are_ignored() {
        assert!(ServicePrefix::parse("").is_none());
        assert!(ServicePrefix::parse("a.b.c.d").is_none());
        assert!(ServicePrefix::parse("a..b").is_none());
        assert!(ServiceMapping::new(&BTreeMap::new(), &["".into()], &HashMap::new()).is_empty());
    }
}
