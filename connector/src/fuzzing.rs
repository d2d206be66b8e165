//! Entry points for the `cargo fuzz` targets in `fuzz/`: each takes arbitrary bytes, runs
//! them through the same code a Sigma response or a workflow file goes through, and must
//! never panic. Not an API; hidden from the docs.

use serde::de::DeserializeOwned;
use serde_json::value::RawValue;

use crate::client::pagination::parse_page;
use crate::openmetadata::ServicePrefix;
use crate::records::{column_name, entity_name, fqn};
use crate::sigma::api::decode_raw;
use crate::sigma::lineage::{LineageTree, upstream_sources};
use crate::sigma::model::{
    Connection, ConnectionPath, DataModel, DataModelColumn, DataModelElement, Dataset,
    ElementLineage, ElementQuery, File, LineageEntry, Member, Report, Workbook, WorkbookElement,
    WorkbookPage, Workspace,
};

/// A listing page (paged object or legacy bare array), then every entry decoded as every
/// Sigma type a listing carries, as the source does; names derived from what decodes.
pub fn listing_page(body: &[u8]) {
    let Ok((entries, _next, _total)) = parse_page::<Box<RawValue>>(body, "/v2/fuzz") else {
        return;
    };
    // A lineage listing (workbook, report or data model), walked from every element.
    let lineage: Vec<LineageEntry> = entries
        .iter()
        .enumerate()
        .filter_map(|(i, e)| entry_as::<LineageEntry>(e.get(), "elementId", i))
        .collect();
    let elements: Vec<String> = lineage
        .iter()
        .filter_map(|e| match e {
            LineageEntry::Element { element_id, .. } => Some(element_id.clone()),
            _ => None,
        })
        .collect();
    let tree = LineageTree::new(lineage);
    for id in &elements {
        let _ = tree.data_sources(id);
        for source in tree.direct(id) {
            let _ = tree.source(source);
        }
    }
    for (i, entry) in entries.iter().enumerate() {
        let raw = entry.get();
        if let Some(w) = entry_as::<Workbook>(raw, "workbookId", i) {
            names(&[&w.workbook_id, &w.name, &w.path]);
        }
        if let Some(e) = entry_as::<WorkbookElement>(raw, "elementId", i) {
            names(&[&e.element_id, e.name.as_deref().unwrap_or_default()]);
        }
        if let Some(q) = entry_as::<ElementQuery>(raw, "elementId", i) {
            let _ = crate::sigma::sql::tables_in(q.sql.as_deref().unwrap_or_default());
        }
        if let Some(c) = entry_as::<DataModelColumn>(raw, "columnId", i) {
            let _ = column_name(&c.name);
        }
        if let Some(r) = entry_as::<Report>(raw, "reportId", i) {
            names(&[&r.report_id, &r.name, &r.path]);
        }
        let _ = entry_as::<WorkbookPage>(raw, "pageId", i);
        let _ = entry_as::<Dataset>(raw, "datasetId", i);
        let _ = entry_as::<DataModel>(raw, "dataModelId", i);
        let _ = entry_as::<DataModelElement>(raw, "elementId", i);
        let _ = entry_as::<Member>(raw, "memberId", i);
        let _ = entry_as::<Workspace>(raw, "workspaceId", i);
        let _ = entry_as::<Connection>(raw, "connectionId", i);
    }
}

/// A single-object answer: lineage (walked to its sources), a connection path, a file.
pub fn object(body: &[u8]) {
    let Ok(text) = std::str::from_utf8(body) else {
        return;
    };
    if let Some(lineage) = entry_as::<ElementLineage>(text, "nodeId", 0) {
        for node in upstream_sources(&lineage) {
            names(&[&node.node_id, node.name.as_deref().unwrap_or_default()]);
        }
    }
    if let Some(path) = entry_as::<ConnectionPath>(text, "connectionId", 0) {
        let parts: Vec<&str> = path.path.iter().map(String::as_str).collect();
        let _ = fqn::split(&fqn::build(&parts));
    }
    let _ = entry_as::<File>(text, "id", 0);
    let _ = ServicePrefix::parse(text);
}

/// The SQL of an element, as lineage reads it: its tables, and its projection's columns.
pub fn sql(body: &[u8]) {
    if let Ok(text) = std::str::from_utf8(body) {
        let _ = crate::sigma::sql::tables_in(text);
        if let Ok(projected) = crate::sigma::projection::projection(text) {
            let names: Vec<String> = projected.named_columns().map(str::to_owned).collect();
            for name in names.iter().chain(std::iter::once(&"ID".to_owned())) {
                let _ = projected.reads_of(name);
            }
        }
    }
}

fn entry_as<T: DeserializeOwned>(raw: &str, id_field: &str, i: usize) -> Option<T> {
    match decode_raw::<T>("fuzz", id_field, i, raw) {
        Ok(v) => Some(v),
        Err(e) => {
            // Reports must stay printable and short whatever the input.
            let _ = e.to_string();
            None
        }
    }
}

fn names(raw: &[&str]) {
    for r in raw {
        let name = entity_name(r);
        let _ = fqn::split(&fqn::dashboard("svc", &name));
        let _ = column_name(r);
    }
}
