//! The DataHub edge: catalog items rendered as DataHub metadata change proposals.
//!
//! Everything DataHub-shaped lives here: URNs ([`urn`], the one place they are built),
//! aspects ([`mcp`]) and the mapping from Sigma's catalog ([`render`]). The source knows
//! nothing of it; the `datahub-file` and `datahub-rest` sinks write what it renders.
//!
//! The URNs are DataHub's own Sigma source's (acryl-datahub 1.7) for everything it ingests,
//! so a DataHub user who switches keeps what is attached to them: see `docs/datahub.md`.

pub mod mcp;
pub mod render;
pub mod state;
pub mod urn;

use std::collections::BTreeMap;

use crate::config::{DataHubConnection, SinkConfig};

/// How Sigma maps onto DataHub, from the DataHub sink's config.
#[derive(Debug, Clone, Default)]
pub struct DataHubOptions {
    /// The env of `sigma` datasets (and of warehouse tables unless their connection says).
    pub env: String,
    /// The platform instance of everything on the `sigma` platform.
    pub platform_instance: Option<String>,
    /// Per Sigma connection id or name: the warehouse's DataHub platform, instance and env.
    pub connections: BTreeMap<String, DataHubConnection>,
}

impl DataHubOptions {
    pub fn from_sink(config: &SinkConfig) -> Self {
        Self {
            env: config
                .env
                .clone()
                .filter(|e| !e.is_empty())
                .unwrap_or_else(|| urn::DEFAULT_ENV.to_owned()),
            platform_instance: config.platform_instance.clone().filter(|i| !i.is_empty()),
            connections: config.connection_to_platform_map.clone(),
        }
    }
}

/// DataHub's platform for a Sigma connection type, as DataHub's Sigma source maps it
/// (`connection_registry.py`); `None` for a type it has no platform for.
pub fn platform_of(sigma_type: &str) -> Option<&'static str> {
    Some(match sigma_type.to_ascii_lowercase().as_str() {
        "snowflake" => "snowflake",
        "bigquery" => "bigquery",
        "redshift" => "redshift",
        "databricks" => "databricks",
        "postgres" | "postgresql" => "postgres",
        "mysql" => "mysql",
        "athena" => "athena",
        "spark" => "spark",
        "trino" => "trino",
        "presto" => "presto",
        "synapse" | "azure_synapse" | "sqlserver" | "mssql" => "mssql",
        "oracle" => "oracle",
        "clickhouse" => "clickhouse",
        _ => return None,
    })
}

/// Which warehouse tables DataHub can name: those on a connection whose type has a DataHub
/// platform, or that `connectionToPlatformMap` places (by connection id or name).
#[derive(Debug, Clone, Default)]
pub struct DataHubPlacement {
    mapped: std::collections::BTreeSet<String>,
}

impl DataHubPlacement {
    pub fn new(options: &DataHubOptions) -> Self {
        Self {
            mapped: options
                .connections
                .iter()
                .filter(|(_, c)| c.platform.is_some())
                .map(|(k, _)| k.clone())
                .collect(),
        }
    }
}

impl crate::catalog::TablePlacement for DataHubPlacement {
    fn is_empty(&self) -> bool {
        false
    }

    fn places(
        &self,
        connections: &[crate::catalog::Connection],
        table: &crate::catalog::WarehouseTable,
    ) -> bool {
        if table.path.is_empty() {
            return false;
        }
        let connection = table
            .connection_id
            .as_deref()
            .and_then(|id| connections.iter().find(|c| c.id == id));
        let by_map = table
            .connection_id
            .iter()
            .any(|id| self.mapped.contains(id))
            || connection.is_some_and(|c| self.mapped.contains(&c.name));
        let by_type = table
            .connection_type
            .as_deref()
            .or(connection.map(|c| c.connection_type.as_str()))
            .and_then(platform_of)
            .is_some();
        by_map || by_type
    }

    fn none_placed(&self) -> String {
        String::new()
    }

    fn not_placed(&self, name: &str, connection_id: &str) -> (String, String) {
        (
            "tables on Sigma connections with no DataHub platform (name one in sink.config.connectionToPlatformMap); lineage to them is skipped".to_owned(),
            format!("table {name} (connection {connection_id}) has no DataHub platform; lineage to it is skipped"),
        )
    }
}
