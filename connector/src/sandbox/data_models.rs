//! Data model routes. Each element's inputs (tables, custom SQL, sibling elements, elements
//! of other data models, legacy datasets) are stored once in the org; `/lineage` and
//! `/sources` are two views of them, in the spellings Sigma uses for each (`customSQL` in
//! lineage, `custom-sql` in sources).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ApiError;
use super::org::{DataModel, DataModelElement, DataModelInput, Org, default_column_type};
use super::paging::{MAX_SOURCES_PAGE_SIZE, Params, page_slice, token_page_slice};
use super::state::SharedState;
use super::surface::ApiSurface;

type Handler = Result<Response, ApiError>;

fn find_data_model<'a>(org: &'a Org, id: &str) -> Result<&'a DataModel, ApiError> {
    org.data_model(id)
        .ok_or_else(|| ApiError::not_found("Data model", id))
}

/// The id an element entry's `sourceIds` uses for an input.
fn source_id(org: &Org, input: &DataModelInput) -> String {
    match input {
        DataModelInput::Table { inode_id } => inode_id.clone(),
        DataModelInput::CustomSql { name, .. } => name.clone(),
        DataModelInput::Sibling { element_id } => element_id.clone(),
        DataModelInput::DataModel {
            data_model_id,
            element_id,
        } => {
            let url_id = org
                .data_model(data_model_id)
                .map_or(data_model_id.as_str(), |m| m.data_model_url_id.as_str());
            format!("{url_id}/{element_id}")
        }
        DataModelInput::Dataset { dataset_id } => org
            .dataset(dataset_id)
            .map_or_else(|| dataset_id.clone(), |d| format!("inode-{}", d.url_id)),
    }
}

/// The root data sources of an element: its own inputs, siblings followed through.
fn root_sources(
    org: &Org,
    model: &DataModel,
    element: &DataModelElement,
    depth: usize,
) -> Vec<String> {
    let mut roots = Vec::new();
    for input in element.all_inputs() {
        match &input {
            DataModelInput::Sibling { element_id } if depth < 16 => {
                if let Some(sibling) = model.elements.iter().find(|e| &e.element_id == element_id) {
                    roots.extend(root_sources(org, model, sibling, depth + 1));
                }
            }
            DataModelInput::Sibling { .. } => {}
            other => roots.push(source_id(org, other)),
        }
    }
    roots.sort();
    roots.dedup();
    roots
}

/// The lineage tree's entry for one data source input.
fn source_entry(org: &Org, input: &DataModelInput) -> Option<Value> {
    let id = source_id(org, input);
    Some(match input {
        DataModelInput::Table { inode_id } => {
            let table = org.table_by_inode(inode_id);
            json!({"type": "table", "connectionId": table.map(|t| &t.connection_id),
                   "name": table.and_then(|t| t.path.last()), "inodeId": inode_id, "datasourceId": id})
        }
        DataModelInput::CustomSql {
            name,
            connection_id,
            definition,
        } => json!({"type": "customSQL", "connectionId": connection_id, "name": name,
                    "definition": definition, "datasourceId": id}),
        DataModelInput::DataModel { data_model_id, .. } => {
            json!({"type": "data-model", "connectionId": null,
                   "name": org.data_model(data_model_id).map(|m| &m.name),
                   "dataModelId": data_model_id, "datasourceId": id})
        }
        DataModelInput::Dataset { dataset_id } => {
            json!({"type": "dataset", "connectionId": null,
                   "name": org.dataset(dataset_id).map(|d| &d.name), "inodeId": id, "datasourceId": id})
        }
        DataModelInput::Sibling { .. } => return None,
    })
}

/// `/v2/dataModels/{id}/lineage` entries: every element, then each data source once.
pub fn lineage_entries(org: &Org, model: &DataModel) -> Vec<Value> {
    let mut entries = Vec::new();
    let mut sources = BTreeMap::new();
    for element in &model.elements {
        let inputs = element.all_inputs();
        let direct: Vec<String> = inputs.iter().map(|i| source_id(org, i)).collect();
        entries.push(json!({
            "type": "element", "elementId": element.element_id,
            "sourceIds": direct, "dataSourceIds": root_sources(org, model, element, 0),
        }));
        for input in &inputs {
            if let Some(entry) = source_entry(org, input) {
                sources.entry(source_id(org, input)).or_insert(entry);
            }
        }
    }
    entries.extend(sources.into_values());
    entries
}

/// `/v2/dataModels/{id}/sources`: tables, custom SQL, other data models (with the elements
/// read), datasets. Siblings are not sources of the model.
pub fn sources(model: &DataModel) -> Vec<Value> {
    let mut out = Vec::new();
    let mut models: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for element in &model.elements {
        for input in element.all_inputs() {
            match input {
                DataModelInput::Table { inode_id } => {
                    out.push(json!({"type": "table", "tableId": inode_id}));
                }
                DataModelInput::CustomSql {
                    connection_id,
                    definition,
                    ..
                } => out.push(json!({"type": "custom-sql", "connectionId": connection_id,
                                     "definition": definition, "customSqlId": element.element_id})),
                DataModelInput::Dataset { dataset_id } => {
                    out.push(json!({"type": "dataset", "datasetId": dataset_id}));
                }
                DataModelInput::DataModel { .. } | DataModelInput::Sibling { .. } => {}
            }
        }
        for input in &element.inputs {
            if let DataModelInput::DataModel {
                data_model_id,
                element_id,
            } = input
            {
                models.entry(data_model_id).or_default().push(element_id);
            }
        }
    }
    out.dedup();
    out.extend(models.into_iter().map(|(id, mut elements)| {
        elements.sort_unstable();
        elements.dedup();
        json!({"type": "data-model", "dataModelId": id, "elementIds": elements})
    }));
    out
}

fn element_entry(element: &DataModelElement, surface: ApiSurface) -> Value {
    match surface {
        ApiSurface::Legacy2023 => serde_json::to_value(element).unwrap_or_default(),
        ApiSurface::Current => json!({
            "elementId": element.element_id,
            "name": element.name,
            "type": element.kind,
            "columns": element.columns.iter().map(|c| &c.name).collect::<Vec<_>>(),
        }),
    }
}

fn column_entries(model: &DataModel, surface: ApiSurface) -> Vec<Value> {
    model
        .elements
        .iter()
        .flat_map(|e| e.columns.iter().map(move |c| (e, c)))
        .map(|(element, column)| match surface {
            ApiSurface::Legacy2023 => serde_json::to_value(column).unwrap_or_default(),
            ApiSurface::Current => json!({
                "columnId": column.column_id,
                "name": column.name,
                "formula": column.formula.clone()
                    .unwrap_or_else(|| format!("[{}/{}]", element.name, column.name)),
                "type": column.column_type.clone().unwrap_or_else(default_column_type),
                "elementId": column.element_id,
            }),
        })
        .collect()
}

pub async fn list_data_models(State(state): State<SharedState>, RawQuery(q): RawQuery) -> Handler {
    let params = Params::parse(q);
    params.bool("excludeTags")?;
    params.bool("skipPermissionCheck")?;
    page_slice(&state, &params, &state.org.data_models)
}

pub async fn data_model(State(state): State<SharedState>, Path(id): Path<String>) -> Handler {
    Ok(Json(find_data_model(&state.org, &id)?).into_response())
}

pub async fn data_model_elements(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Handler {
    let model = find_data_model(&state.org, &id)?;
    let entries: Vec<Value> = model
        .elements
        .iter()
        .map(|e| element_entry(e, state.surface))
        .collect();
    page_slice(&state, &Params::parse(q), &entries)
}

pub async fn data_model_columns(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Handler {
    let model = find_data_model(&state.org, &id)?;
    page_slice(
        &state,
        &Params::parse(q),
        &column_entries(model, state.surface),
    )
}

pub async fn data_model_lineage(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Handler {
    let model = find_data_model(&state.org, &id)?;
    page_slice(
        &state,
        &Params::parse(q),
        &lineage_entries(&state.org, model),
    )
}

pub async fn data_model_sources(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Handler {
    let model = find_data_model(&state.org, &id)?;
    let mut entries = sources(model);
    if state.surface == ApiSurface::Legacy2023 {
        // Spec 2.0.0 knows only data-model, dataset and table sources.
        entries.retain(|s| s["type"] != "custom-sql");
    }
    token_page_slice(&state, &Params::parse(q), MAX_SOURCES_PAGE_SIZE, &entries)
}

pub async fn data_model_tags(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Handler {
    let model = find_data_model(&state.org, &id)?;
    page_slice(&state, &Params::parse(q), &model.tags)
}
