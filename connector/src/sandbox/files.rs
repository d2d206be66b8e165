//! `/v2/files` (every kind of file in one listing, paged by offset arithmetic) and the
//! connection routes, including the inode → `[db, schema, table]` lookup.

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::ApiError;
use super::org::{FILE_KINDS, FileRef};
use super::paging::{Params, page_slice};
use super::state::SharedState;

type Handler = Result<Response, ApiError>;

const SPEC_FILE_TYPES: [&str; 10] = [
    "workspace",
    "folder",
    "workbook",
    "dataset",
    "sql",
    "worksheet",
    "dashboard",
    "template",
    "table",
    "symlink",
];

pub async fn list_files(State(state): State<SharedState>, RawQuery(q): RawQuery) -> Handler {
    let params = Params::parse(q);
    let mut kinds: Vec<&str> = Vec::new();
    for filter in params.all("typeFilters").flat_map(|v| v.split(',')) {
        let filter = filter.trim();
        if !SPEC_FILE_TYPES.contains(&filter) {
            return Err(ApiError::bad_request(format!(
                "Unknown typeFilters value: {filter}"
            )));
        }
        if !kinds.contains(&filter) {
            kinds.push(filter);
        }
    }
    if kinds.is_empty() {
        kinds = FILE_KINDS.to_vec();
    }
    // Keep the listing order stable whatever order the filters came in.
    kinds.retain(|k| FILE_KINDS.contains(k));
    kinds.sort_by_key(|k| FILE_KINDS.iter().position(|f| f == k));
    params.bool("directChildFilter")?;
    let org = &state.org;
    let parent = params.get("parentId");
    let name = params.get("name").map(str::to_lowercase);
    if parent.is_some() || name.is_some() {
        // Filtered listings scan; unfiltered ones below page by offset arithmetic.
        let matching: Vec<FileRef> = kinds
            .iter()
            .flat_map(|kind| (0..org.file_count(kind)).filter_map(move |n| org.file_at(kind, n)))
            .filter(|&f| parent.is_none_or(|p| org.file_parent(f) == p))
            .filter(|&f| {
                name.as_ref().is_none_or(|n| {
                    org.file_entry(f)["name"]
                        .as_str()
                        .is_some_and(|s| s.to_lowercase().contains(n.as_str()))
                })
            })
            .collect();
        return state.page(&params, matching.len(), |i| {
            matching.get(i).map(|&f| org.file_json(f))
        });
    }
    let total: usize = kinds.iter().map(|k| org.file_count(k)).sum();
    state.page(&params, total, |mut i| {
        for kind in &kinds {
            let count = org.file_count(kind);
            if i < count {
                return org.file_at(kind, i).map(|f| org.file_json(f));
            }
            i -= count;
        }
        None
    })
}

pub async fn file(State(state): State<SharedState>, Path(id): Path<String>) -> Handler {
    let found = state
        .org
        .file(&id)
        .ok_or_else(|| ApiError::not_found("File", &id))?;
    Ok(Json(state.org.file_json(found)).into_response())
}

pub async fn list_connections(State(state): State<SharedState>, RawQuery(q): RawQuery) -> Handler {
    let params = Params::parse(q);
    let include_archived = params.bool("includeArchived")?.unwrap_or(false);
    let search = params.get("search").map(str::to_lowercase);
    let listed: Vec<_> = state
        .org
        .connections
        .iter()
        .filter(|c| include_archived || !c.is_archived.unwrap_or(false))
        .filter(|c| {
            search
                .as_ref()
                .is_none_or(|s| c.name.to_lowercase().contains(s.as_str()))
        })
        .collect();
    page_slice(&state, &params, &listed)
}

pub async fn connection(State(state): State<SharedState>, Path(id): Path<String>) -> Handler {
    let connection = state
        .org
        .connection(&id)
        .ok_or_else(|| ApiError::not_found("Connection", &id))?;
    Ok(Json(connection).into_response())
}

pub async fn connection_path(State(state): State<SharedState>, Path(id): Path<String>) -> Handler {
    let table = state
        .org
        .table_by_inode(&id)
        .ok_or_else(|| ApiError::not_found("Connection path", &id))?;
    if table.archived {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "inode_archived",
            format!("Inode is archived: {id}"),
        ));
    }
    Ok(Json(json!({"connectionId": table.connection_id, "path": table.path})).into_response())
}
