//! Where a Sigma warehouse table lives in OpenMetadata.
//!
//! A Sigma connection maps to an OpenMetadata database service either explicitly
//! (`connectionServiceMap`, by connection id or name) or through the ordered
//! `lineageInformation.dbServicePrefixes` (`service[.database[.schema]]`). A prefix that names
//! a database or schema only matches tables in it, and fills in the parts a SQL reference
//! leaves out.

use std::collections::{BTreeMap, BTreeSet};

use crate::catalog::{Connection, TablePlacement, WarehouseTable};
use crate::config::Workflow;

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
    /// `connectionServiceMap`: a Sigma connection id or name -> its prefix.
    explicit: BTreeMap<String, ServicePrefix>,
    prefixes: Vec<ServicePrefix>,
}

impl ServiceMapping {
    /// `explicit`: Sigma connection id or name -> prefix; `prefixes`: tried in order for
    /// connections not mapped explicitly. Targets that do not parse are left out.
    pub fn new(explicit: &BTreeMap<String, String>, prefixes: &[String]) -> Self {
        Self {
            explicit: explicit
                .iter()
                .filter_map(|(k, t)| Some((k.clone(), ServicePrefix::parse(t)?)))
                .collect(),
            prefixes: prefixes
                .iter()
                .filter_map(|p| ServicePrefix::parse(p))
                .collect(),
        }
    }

    /// `connectionServiceMap` and the prefixes (`lineageInformation.dbServicePrefixes`,
    /// then `dbServiceNames`) of a workflow.
    pub fn from_workflow(workflow: &Workflow) -> Self {
        let conn = &workflow.source.service_connection.config;
        let sc = &workflow.source.source_config.config;
        let mut prefixes: Vec<String> = sc
            .lineage_information
            .as_ref()
            .map(|l| l.db_service_prefixes.clone())
            .unwrap_or_default();
        prefixes.extend(sc.db_service_names.iter().cloned());
        Self::new(&conn.connection_service_map, &prefixes)
    }

    /// True when no table can ever resolve (lineage to tables is then skipped, once).
    pub fn is_empty(&self) -> bool {
        self.explicit.is_empty() && self.prefixes.is_empty()
    }

    /// The explicit prefix of a connection: by its id, else by its name (`connections`
    /// says which name an id has).
    fn explicit_for(&self, connections: &[Connection], id: &str) -> Option<&ServicePrefix> {
        self.explicit.get(id).or_else(|| {
            connections
                .iter()
                .filter(|c| c.id == id)
                .find_map(|c| self.explicit.get(&c.name))
        })
    }

    /// Candidate table FQNs, best first, for a table on `connection_id` (when known).
    pub fn table_fqns(
        &self,
        connections: &[Connection],
        connection_id: Option<&str>,
        path: &[String],
    ) -> Vec<String> {
        let chosen: Vec<&ServicePrefix> =
            match connection_id.and_then(|c| self.explicit_for(connections, c)) {
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

impl TablePlacement for ServiceMapping {
    fn is_empty(&self) -> bool {
        ServiceMapping::is_empty(self)
    }

    fn places(&self, connections: &[Connection], table: &WarehouseTable) -> bool {
        !self
            .table_fqns(connections, table.connection_id.as_deref(), &table.path)
            .is_empty()
    }

    fn none_placed(&self) -> String {
        "lineage to warehouse tables is skipped: set lineageInformation.dbServicePrefixes or connectionServiceMap to map Sigma connections to OpenMetadata database services".into()
    }

    fn not_placed(&self, name: &str, connection_id: &str) -> (String, String) {
        (
            "tables match no database service prefix (lineageInformation.dbServicePrefixes, connectionServiceMap); lineage to them is skipped".into(),
            format!("table {name} (connection {connection_id}) matches no database service prefix; lineage to it is skipped"),
        )
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
        let m = ServiceMapping::new(&BTreeMap::new(), &["snow.ANALYTICS".into(), "pg".into()]);
        assert_eq!(
            m.table_fqns(&[], None, &path(&["ANALYTICS", "SALES", "ORDERS"])),
            vec!["snow.ANALYTICS.SALES.ORDERS", "pg.ANALYTICS.SALES.ORDERS"]
        );
        assert_eq!(
            m.table_fqns(&[], None, &path(&["OTHER", "S", "T"])),
            vec!["pg.OTHER.S.T"]
        );
        assert_eq!(
            m.table_fqns(&[], None, &path(&["SALES", "ORDERS"])),
            vec!["snow.ANALYTICS.SALES.ORDERS"],
            "a schema-qualified SQL name takes the database from the prefix"
        );
        assert!(m.table_fqns(&[], None, &path(&["ORDERS"])).is_empty());
    }

    #[test]
    fn explicit_map_by_id_or_name_wins() {
        let mut explicit = BTreeMap::new();
        explicit.insert("Snowflake Prod".to_owned(), "snowflake_prod".to_owned());
        let names = [Connection {
            id: "conn-1".into(),
            name: "Snowflake Prod".into(),
            connection_type: "snowflake".into(),
        }];
        let m = ServiceMapping::new(&explicit, &["fallback".into()]);
        assert_eq!(
            m.table_fqns(&names, Some("conn-1"), &path(&["D", "S", "T"])),
            vec!["snowflake_prod.D.S.T"]
        );
        assert_eq!(
            m.table_fqns(&names, Some("conn-2"), &path(&["D", "S", "T"])),
            vec!["fallback.D.S.T"]
        );
    }

    #[test]
    fn bad_prefixes_are_ignored() {
        assert!(ServicePrefix::parse("").is_none());
        assert!(ServicePrefix::parse("a.b.c.d").is_none());
        assert!(ServicePrefix::parse("a..b").is_none());
        assert!(ServiceMapping::new(&BTreeMap::new(), &["".into()]).is_empty());
    }
}
