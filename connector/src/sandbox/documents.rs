//! Workbooks and reports share one layout (pages of elements, each element with its SQL and
//! lineage graph); this module derives today's document-level listings from it: every
//! element with its `pageId`, the whole document's lineage, its sources and columns, and
//! the report routes, which page by token where workbooks page by `limit`.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ApiError;
use super::org::{Element, Org, Page, Report, default_column_type};
use super::paging::{MAX_PAGE_LIMIT, Params, page_slice, token_page_slice};
use super::state::SharedState;
use super::surface::ApiSurface;

type Handler = Result<Response, ApiError>;

/// Node types that are data sources (the leaves of an element's lineage graph).
const DATA_SOURCE_TYPES: [&str; 4] = ["table", "dataset", "data-model", "customSQL"];

fn nodes(element: &Element) -> Option<&serde_json::Map<String, Value>> {
    element.lineage.as_ref()?.get("dependencies")?.as_object()
}

fn node_type<'a>(element: &'a Element, node_id: &str) -> &'a str {
    nodes(element)
        .and_then(|n| n.get(node_id))
        .and_then(|n| n["type"].as_str())
        .unwrap_or_default()
}

/// Direct upstream node ids of `target` in an element's graph.
fn upstream<'a>(element: &'a Element, target: &str) -> Vec<&'a str> {
    let Some(edges) = element.lineage.as_ref().and_then(|l| l["edges"].as_array()) else {
        return Vec::new();
    };
    edges
        .iter()
        .filter(|e| e["target"].as_str() == Some(target))
        .filter_map(|e| e["source"].as_str())
        .collect()
}

/// An element's direct sources with joins passed through (Sigma's tree lists what a join
/// joins, not the join), and every data source it reaches.
fn element_sources(element: &Element) -> (Vec<String>, Vec<String>) {
    let mut direct = Vec::new();
    let mut pending: Vec<&str> = upstream(element, &element.element_id);
    let mut seen = BTreeSet::new();
    while let Some(node) = pending.pop() {
        if !seen.insert(node) {
            continue;
        }
        if node_type(element, node) == "join" {
            pending.extend(upstream(element, node));
            continue;
        }
        let id = nodes(element)
            .and_then(|n| n.get(node))
            .and_then(|n| n["elementId"].as_str())
            .unwrap_or(node);
        direct.push(id.to_owned());
    }
    direct.sort();
    let leaves: Vec<String> = nodes(element)
        .into_iter()
        .flat_map(|n| n.iter())
        .filter(|(_, n)| DATA_SOURCE_TYPES.contains(&n["type"].as_str().unwrap_or_default()))
        .map(|(id, _)| id.clone())
        .collect();
    (direct, leaves)
}

impl Element {
    /// Whether the element reads a legacy dataset: since 2026-09-15 its query has no SQL.
    pub fn reads_dataset(&self) -> bool {
        nodes(self).is_some_and(|n| n.values().any(|n| n["type"] == "dataset"))
    }
    /// The SQL the query routes answer on a surface.
    pub fn served_sql(&self, surface: ApiSurface) -> Option<&str> {
        match surface {
            ApiSurface::Current if self.reads_dataset() => None,
            _ => self.sql.as_deref(),
        }
    }
}

/// The data source entry of the lineage tree for one leaf node.
fn data_source_entry(org: &Org, element: &Element, node_id: &str) -> Value {
    let node = nodes(element).and_then(|n| n.get(node_id));
    let name = node.and_then(|n| n["name"].as_str());
    let table = org.table_by_inode(node_id);
    let connection_id = table.map(|t| t.connection_id.clone());
    match node_type(element, node_id) {
        "table" => json!({
            "type": "table", "connectionId": connection_id, "inodeId": node_id,
            "datasourceId": node_id,
            "name": name.or_else(|| table.and_then(|t| t.path.last()).map(String::as_str)),
        }),
        "dataset" => json!({
            "type": "dataset", "connectionId": null, "inodeId": node_id, "datasourceId": node_id,
            "name": name.or_else(|| org.dataset_by_node(node_id).map(|d| d.name.as_str())),
        }),
        "data-model" => {
            let model = org.data_model_by_node(node_id);
            json!({
                "type": "data-model", "connectionId": null, "datasourceId": node_id,
                "name": name.or_else(|| model.map(|m| m.name.as_str())),
                "dataModelId": model.map_or(node_id, |m| m.data_model_id.as_str()),
            })
        }
        _ => {
            // Custom SQL: its connection is that of the tables it reads, or the node's own.
            let connection = upstream(element, node_id)
                .into_iter()
                .find_map(|n| org.table_by_inode(n))
                .map(|t| t.connection_id.clone())
                .or_else(|| {
                    node.and_then(|n| n["connectionId"].as_str())
                        .map(str::to_owned)
                });
            json!({
                "type": "customSQL", "connectionId": connection, "datasourceId": node_id,
                "name": name.unwrap_or(node_id),
                "definition": element.sql.clone().unwrap_or_default(),
            })
        }
    }
}

fn all_elements(pages: &[Page]) -> impl Iterator<Item = (&Page, &Element)> {
    pages
        .iter()
        .flat_map(|p| p.elements.iter().map(move |e| (p, e)))
}

/// `/lineage` of a workbook or report: one `element` entry per element that has lineage,
/// then each data source once.
pub fn lineage_entries(org: &Org, pages: &[Page]) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut sources = BTreeMap::new();
    for (_, element) in all_elements(pages).filter(|(_, e)| e.lineage.is_some()) {
        let (direct, leaves) = element_sources(element);
        entries.push(json!({
            "type": "element", "elementId": element.element_id,
            "sourceIds": direct, "dataSourceIds": leaves,
        }));
        for leaf in &leaves {
            sources
                .entry(leaf.clone())
                .or_insert_with(|| data_source_entry(org, element, leaf));
        }
    }
    entries.extend(sources.into_values());
    entries
}

/// `/v2/workbooks/{id}/sources`: the tables, datasets and data models the document reads.
pub fn document_sources(org: &Org, pages: &[Page]) -> Vec<Value> {
    let mut out = BTreeMap::new();
    for (_, element) in all_elements(pages) {
        for leaf in element_sources(element).1 {
            let entry = match node_type(element, &leaf) {
                "table" => json!({"type": "table", "inodeId": leaf}),
                "dataset" => json!({"type": "dataset", "inodeId": leaf}),
                "data-model" => match org.data_model_by_node(&leaf) {
                    Some(m) => json!({
                        "type": "data-model", "dataModelId": m.data_model_id,
                        "elementIds": m.elements.iter().map(|e| &e.element_id).collect::<Vec<_>>(),
                    }),
                    None => continue,
                },
                _ => continue,
            };
            out.entry(leaf).or_insert(entry);
        }
    }
    out.into_values().collect()
}

/// One column of an element: `(columnId, label, formula)`. Warehouse-backed columns are
/// `inode-<tableUrlId>/<NAME>`, as Sigma names them.
fn element_columns(element: &Element) -> Vec<(String, String, String)> {
    let leaves = element_sources(element).1;
    let table_leaf = leaves
        .iter()
        .find(|l| node_type(element, l) == "table" && leaves.len() == 1);
    let source_name = leaves
        .first()
        .and_then(|l| nodes(element)?.get(l)?["name"].as_str().map(str::to_owned))
        .unwrap_or_else(|| element.name.clone().unwrap_or_default());
    element
        .columns
        .iter()
        .flatten()
        .map(|column| {
            if let Some(formula) = element.formulas.get(column) {
                let id = format!("{}/{column}", element.element_id);
                return (id, column.clone(), formula.clone());
            }
            let id = match table_leaf {
                Some(inode) => format!("{inode}/{column}"),
                None => format!("{}/{column}", element.element_id),
            };
            (id, column.clone(), format!("[{source_name}/{column}]"))
        })
        .collect()
}

/// `/columns` of a workbook or report: every element's columns, `name` and `elementId`.
pub fn document_columns(pages: &[Page]) -> Vec<Value> {
    all_elements(pages)
        .flat_map(|(_, e)| {
            element_columns(e).into_iter().map(|(id, name, formula)| {
                json!({"columnId": id, "name": name, "formula": formula,
                       "type": default_column_type(), "elementId": e.element_id})
            })
        })
        .collect()
}

/// `/elements/{elementId}/columns`: says `label` where the document listing says `name`;
/// the `type` object is today's (spec 2.0.0 has none).
fn labelled_columns(element: &Element, surface: ApiSurface) -> Vec<Value> {
    element_columns(element)
        .into_iter()
        .map(|(id, label, formula)| {
            let mut column = json!({"columnId": id, "label": label, "formula": formula});
            if surface == ApiSurface::Current {
                column["type"] = default_column_type();
            }
            column
        })
        .collect()
}

/// Every element of every page, with its `pageId`.
pub fn elements_with_page(pages: &[Page]) -> Vec<Value> {
    all_elements(pages)
        .map(|(page, element)| {
            let mut entry = serde_json::to_value(element).unwrap_or_default();
            entry["pageId"] = json!(page.page_id);
            entry
        })
        .collect()
}

/// `/queries`: each element that has a query; dataset-backed ones without `sql` today.
pub fn queries(pages: &[Page], surface: ApiSurface) -> Vec<Value> {
    all_elements(pages)
        .filter(|(_, e)| e.sql.is_some())
        .map(|(_, e)| {
            let mut entry =
                json!({"elementId": e.element_id, "name": e.name.clone().unwrap_or_default()});
            if let Some(sql) = e.served_sql(surface) {
                entry["sql"] = json!(sql);
            }
            entry
        })
        .collect()
}

pub fn find_element<'a>(pages: &'a [Page], element_id: &str) -> Result<&'a Element, ApiError> {
    all_elements(pages)
        .map(|(_, e)| e)
        .find(|e| e.element_id == element_id)
        .ok_or_else(|| ApiError::not_found("Element", element_id))
}

/// `/elements/{elementId}/query`: 404 for an element with no query; 200 without `sql` for a
/// dataset-backed one on today's surface.
pub fn element_query(element: &Element, surface: ApiSurface) -> Handler {
    if element.sql.is_none() {
        return Err(ApiError::not_found(
            "Query for element",
            &element.element_id,
        ));
    }
    let mut body = json!({"elementId": element.element_id});
    if let Some(name) = &element.name {
        body["name"] = json!(name);
    }
    if let Some(sql) = element.served_sql(surface) {
        body["sql"] = json!(sql);
    }
    Ok(Json(body).into_response())
}

/// `/lineage/elements/{elementId}`: 400 for UI elements; an element with no recorded
/// upstream answers its own sheet node.
pub fn element_lineage(element: &Element) -> Handler {
    if element.is_ui_only() {
        return Err(ApiError::bad_request(format!(
            "Lineage is not supported for {} elements",
            element.kind
        )));
    }
    let lineage = element.lineage.clone().unwrap_or_else(|| {
        let mut node =
            json!({"nodeId": element.element_id, "type": "sheet", "elementId": element.element_id});
        if let Some(name) = &element.name {
            node["name"] = Value::String(name.clone());
        }
        json!({"dependencies": {element.element_id.clone(): node}, "edges": []})
    });
    Ok(Json(lineage).into_response())
}

// ---------------------------------------------------------------------------------------------
// Workbook-level routes (limit/page)

fn workbook_pages(state: &SharedState, id: &str) -> Result<Vec<Page>, ApiError> {
    let (index, _) = state
        .org
        .workbook(id)
        .ok_or_else(|| ApiError::not_found("Workbook", id))?;
    Ok(state.org.pages(index).into_owned())
}

pub async fn workbook_elements(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Handler {
    let pages = workbook_pages(&state, &id)?;
    page_slice(&state, &Params::parse(q), &elements_with_page(&pages))
}

pub async fn workbook_lineage(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Handler {
    let pages = workbook_pages(&state, &id)?;
    page_slice(
        &state,
        &Params::parse(q),
        &lineage_entries(&state.org, &pages),
    )
}

pub async fn workbook_columns(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Handler {
    let pages = workbook_pages(&state, &id)?;
    page_slice(&state, &Params::parse(q), &document_columns(&pages))
}

pub async fn workbook_element_columns(
    State(state): State<SharedState>,
    Path((id, element_id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Handler {
    let pages = workbook_pages(&state, &id)?;
    let element = find_element(&pages, &element_id)?;
    page_slice(
        &state,
        &Params::parse(q),
        &labelled_columns(element, state.surface),
    )
}

/// Not paged: a bare array, as the spec says.
pub async fn workbook_sources(State(state): State<SharedState>, Path(id): Path<String>) -> Handler {
    let pages = workbook_pages(&state, &id)?;
    Ok(Json(document_sources(&state.org, &pages)).into_response())
}

// ---------------------------------------------------------------------------------------------
// Reports (the listing pages by limit/page, every sub-resource by pageSize/pageToken)

fn find_report<'a>(state: &'a SharedState, id: &str) -> Result<&'a Report, ApiError> {
    state
        .org
        .report(id)
        .ok_or_else(|| ApiError::not_found("Report", id))
}

fn report_pages(state: &SharedState, id: &str) -> Result<Vec<Page>, ApiError> {
    let report = find_report(state, id)?;
    Ok(state.org.report_pages(report).into_owned())
}

pub async fn list_reports(State(state): State<SharedState>, RawQuery(q): RawQuery) -> Handler {
    let params = Params::parse(q);
    let include_archived = params.bool("isArchived")?.unwrap_or(false);
    let exclude_tags = params.bool("excludeTags")?.unwrap_or(false);
    params.bool("skipPermissionCheck")?;
    let listed: Vec<Value> = state
        .org
        .reports
        .iter()
        .filter(|r| include_archived || !r.is_archived)
        .map(|r| {
            let mut entry = serde_json::to_value(r).unwrap_or_default();
            if exclude_tags && let Some(object) = entry.as_object_mut() {
                object.remove("tags");
            }
            entry
        })
        .collect();
    page_slice(&state, &params, &listed)
}

pub async fn report(State(state): State<SharedState>, Path(id): Path<String>) -> Handler {
    Ok(Json(find_report(&state, &id)?).into_response())
}

pub async fn report_page_list(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Handler {
    let pages = report_pages(&state, &id)?;
    token_page_slice(&state, &Params::parse(q), MAX_PAGE_LIMIT, &pages)
}

pub async fn report_page_elements(
    State(state): State<SharedState>,
    Path((id, page_id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Handler {
    let pages = report_pages(&state, &id)?;
    let page = pages
        .iter()
        .find(|p| p.page_id == page_id)
        .ok_or_else(|| ApiError::not_found("Page", &page_id))?;
    token_page_slice(&state, &Params::parse(q), MAX_PAGE_LIMIT, &page.elements)
}

pub async fn report_elements(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Handler {
    let pages = report_pages(&state, &id)?;
    token_page_slice(
        &state,
        &Params::parse(q),
        MAX_PAGE_LIMIT,
        &elements_with_page(&pages),
    )
}

pub async fn report_element_columns(
    State(state): State<SharedState>,
    Path((id, element_id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Handler {
    let pages = report_pages(&state, &id)?;
    let element = find_element(&pages, &element_id)?;
    token_page_slice(
        &state,
        &Params::parse(q),
        MAX_PAGE_LIMIT,
        &labelled_columns(element, state.surface),
    )
}

pub async fn report_element_query(
    State(state): State<SharedState>,
    Path((id, element_id)): Path<(String, String)>,
) -> Handler {
    let pages = report_pages(&state, &id)?;
    element_query(find_element(&pages, &element_id)?, state.surface)
}

pub async fn report_lineage(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Handler {
    let pages = report_pages(&state, &id)?;
    token_page_slice(
        &state,
        &Params::parse(q),
        MAX_PAGE_LIMIT,
        &lineage_entries(&state.org, &pages),
    )
}

pub async fn report_element_lineage(
    State(state): State<SharedState>,
    Path((id, element_id)): Path<(String, String)>,
) -> Handler {
    let pages = report_pages(&state, &id)?;
    element_lineage(find_element(&pages, &element_id)?)
}

pub async fn report_queries(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Handler {
    let pages = report_pages(&state, &id)?;
    token_page_slice(
        &state,
        &Params::parse(q),
        MAX_PAGE_LIMIT,
        &queries(&pages, state.surface),
    )
}

pub async fn report_columns(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Handler {
    let pages = report_pages(&state, &id)?;
    token_page_slice(
        &state,
        &Params::parse(q),
        MAX_PAGE_LIMIT,
        &document_columns(&pages),
    )
}
