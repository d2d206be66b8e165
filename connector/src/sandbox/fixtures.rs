//! The hand-built fixture org, embedded in the binary so the sandbox works from any cwd.

use std::path::Path;

use serde::de::DeserializeOwned;

use super::SandboxError;
use super::org::Org;

/// File names under `fixtures/`, in load order.
pub const FIXTURE_FILES: [&str; 10] = [
    "workspaces.json",
    "folders.json",
    "members.json",
    "connections.json",
    "tables.json",
    "workbooks.json",
    "datasets.json",
    "dataModels.json",
    "reports.json",
    "teams.json",
];

fn embedded(name: &str) -> &'static str {
    match name {
        "workspaces.json" => include_str!("../../../fixtures/workspaces.json"),
        "folders.json" => include_str!("../../../fixtures/folders.json"),
        "members.json" => include_str!("../../../fixtures/members.json"),
        "connections.json" => include_str!("../../../fixtures/connections.json"),
        "tables.json" => include_str!("../../../fixtures/tables.json"),
        "workbooks.json" => include_str!("../../../fixtures/workbooks.json"),
        "datasets.json" => include_str!("../../../fixtures/datasets.json"),
        "reports.json" => include_str!("../../../fixtures/reports.json"),
        "teams.json" => include_str!("../../../fixtures/teams.json"),
        _ => include_str!("../../../fixtures/dataModels.json"),
    }
}

fn parse<T: DeserializeOwned>(name: &str, text: &str) -> Result<T, SandboxError> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|e| SandboxError::Fixture {
        file: name.to_owned(),
        message: format!("{}: {}", e.path(), e.inner()),
    })
}

fn build(read: impl Fn(&str) -> Result<String, SandboxError>) -> Result<Org, SandboxError> {
    let members: Vec<super::org::Member> = parse("members.json", &read("members.json")?)?;
    Ok(Org {
        organization_id: members
            .first()
            .map(|m| m.organization_id.clone())
            .unwrap_or_default(),
        workspaces: parse("workspaces.json", &read("workspaces.json")?)?,
        folders: parse("folders.json", &read("folders.json")?)?,
        members,
        connections: parse("connections.json", &read("connections.json")?)?,
        tables: parse("tables.json", &read("tables.json")?)?,
        workbooks: parse("workbooks.json", &read("workbooks.json")?)?,
        datasets: parse("datasets.json", &read("datasets.json")?)?,
        data_models: parse("dataModels.json", &read("dataModels.json")?)?,
        reports: parse("reports.json", &read("reports.json")?)?,
        teams: parse("teams.json", &read("teams.json")?)?,
        ..Org::default()
    }
    .index())
}

/// The org compiled into the binary.
pub fn embedded_org() -> Result<Org, SandboxError> {
    build(|name| Ok(embedded(name).to_owned()))
}

/// An org from a directory laid out like `fixtures/`.
pub fn org_from_dir(dir: &Path) -> Result<Org, SandboxError> {
    build(|name| {
        std::fs::read_to_string(dir.join(name)).map_err(|e| SandboxError::Fixture {
            file: dir.join(name).display().to_string(),
            message: e.to_string(),
        })
    })
}
