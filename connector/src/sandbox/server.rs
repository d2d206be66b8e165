//! Routes, the request gate (auth, knobs, stats) and Sigma's paging and error shapes.

use std::sync::atomic::Ordering;

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{MatchedPath, Path, RawQuery, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::json;

use super::auth;
use super::corruption::{corrupt_objects, malformed};
use super::data_models;
use super::documents;
use super::error::{ApiError, DropConnection};
use super::files;
use super::generate::mix;
use super::knobs::{Fault, Knobs};
use super::org::Org;
use super::paging::{Params, page_slice};
use super::state::SharedState;
use super::surface::ApiSurface;

pub(crate) fn router(state: SharedState) -> Router {
    let api = Router::new()
        .route("/v2/auth/token", post(auth::sigma_token))
        .route(
            "/auth/realms/{realm}/protocol/openid-connect/token",
            post(auth::keycloak_token),
        )
        .route("/v2/workbooks", get(list_workbooks))
        .route("/v2/workbooks/{workbookId}", get(workbook))
        .route("/v2/workbooks/{workbookId}/pages", get(workbook_pages))
        .route(
            "/v2/workbooks/{workbookId}/pages/{pageId}/elements",
            get(page_elements),
        )
        .route("/v2/workbooks/{workbookId}/queries", get(workbook_queries))
        .route(
            "/v2/workbooks/{workbookId}/elements/{elementId}/query",
            get(element_query),
        )
        .route(
            "/v2/workbooks/{workbookId}/lineage/elements/{elementId}",
            get(element_lineage),
        )
        .route("/v2/workbooks/{workbookId}/tags", get(workbook_tags))
        .route(
            "/v2/workbooks/{workbookId}/elements",
            get(documents::workbook_elements),
        )
        .route(
            "/v2/workbooks/{workbookId}/elements/{elementId}/columns",
            get(documents::workbook_element_columns),
        )
        .route(
            "/v2/workbooks/{workbookId}/lineage",
            get(documents::workbook_lineage),
        )
        .route(
            "/v2/workbooks/{workbookId}/columns",
            get(documents::workbook_columns),
        )
        .route(
            "/v2/workbooks/{workbookId}/sources",
            get(documents::workbook_sources),
        )
        .route("/v2/reports", get(documents::list_reports))
        .route("/v2/reports/{reportId}", get(documents::report))
        .route(
            "/v2/reports/{reportId}/pages",
            get(documents::report_page_list),
        )
        .route(
            "/v2/reports/{reportId}/pages/{pageId}/elements",
            get(documents::report_page_elements),
        )
        .route(
            "/v2/reports/{reportId}/elements",
            get(documents::report_elements),
        )
        .route(
            "/v2/reports/{reportId}/elements/{elementId}/columns",
            get(documents::report_element_columns),
        )
        .route(
            "/v2/reports/{reportId}/elements/{elementId}/query",
            get(documents::report_element_query),
        )
        .route(
            "/v2/reports/{reportId}/lineage",
            get(documents::report_lineage),
        )
        .route(
            "/v2/reports/{reportId}/lineage/elements/{elementId}",
            get(documents::report_element_lineage),
        )
        .route(
            "/v2/reports/{reportId}/queries",
            get(documents::report_queries),
        )
        .route(
            "/v2/reports/{reportId}/columns",
            get(documents::report_columns),
        )
        .route("/v2/datasets", get(list_datasets))
        .route("/v2/datasets/{datasetId}", get(dataset))
        .route("/v2/datasets/{datasetId}/sources", get(dataset_sources))
        .route("/v2/dataModels", get(data_models::list_data_models))
        .route("/v2/dataModels/{dataModelId}", get(data_models::data_model))
        .route(
            "/v2/dataModels/{dataModelId}/elements",
            get(data_models::data_model_elements),
        )
        .route(
            "/v2/dataModels/{dataModelId}/columns",
            get(data_models::data_model_columns),
        )
        .route(
            "/v2/dataModels/{dataModelId}/lineage",
            get(data_models::data_model_lineage),
        )
        .route(
            "/v2/dataModels/{dataModelId}/sources",
            get(data_models::data_model_sources),
        )
        .route(
            "/v2/dataModels/{dataModelId}/tags",
            get(data_models::data_model_tags),
        )
        .route("/v2/files", get(files::list_files))
        .route("/v2/files/{inodeId}", get(files::file))
        .route("/v2/connections", get(files::list_connections))
        .route("/v2/connections/{connectionId}", get(files::connection))
        .route(
            "/v2/connections/paths/{inodeId}",
            get(files::connection_path),
        )
        .route("/v2/members", get(list_members))
        .route("/v2/teams", get(list_teams))
        .route("/v2/members/{memberId}", get(member))
        .route("/v2.1/members", get(list_members_paged))
        .route("/v2/workspaces", get(list_workspaces_legacy))
        .route("/v2/workspaces/{workspaceId}", get(workspace))
        .route("/v2.1/workspaces", get(list_workspaces_paged))
        .route_layer(middleware::from_fn_with_state(state.clone(), gate));
    api.route("/__stats", get(stats))
        .fallback(unmatched)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            request_id_layer,
        ))
        .with_state(state)
}

/// Outermost layer: a request id on every response, Sigma's error body, status counts.
async fn request_id_layer(
    State(state): State<SharedState>,
    request: Request,
    next: Next,
) -> Response {
    let sequence = state.request_sequence.fetch_add(1, Ordering::Relaxed);
    let request_id = {
        let a = mix(state.request_id_salt, 1, sequence);
        let b = mix(state.request_id_salt, 2, sequence);
        format!(
            "{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            b >> 52,
            b & 0xffff_ffff_ffff
        )
    };
    let is_stats = request.uri().path() == "/__stats";
    let mut response = next.run(request).await;
    let route = response
        .extensions()
        .get::<RouteLabel>()
        .map(|r| r.0.clone());
    if let Some(error) = response.extensions_mut().remove::<ApiError>() {
        let mut rendered = (
            error.status,
            Json(json!({"message": error.message, "code": error.code, "requestId": request_id})),
        )
            .into_response();
        if let Some(retry_after) = response.headers().get(header::RETRY_AFTER) {
            rendered
                .headers_mut()
                .insert(header::RETRY_AFTER, retry_after.clone());
        }
        response = rendered;
    }
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert("x-request-id", value);
    }
    if !is_stats && response.extensions().get::<DropConnection>().is_none() {
        state
            .stats
            .status(route.as_deref(), response.status().as_str());
    }
    response
}

/// Per-route layer: stats by template, then the knobs in the order a real server would apply
/// them (latency, rate limit, transient faults, authentication, permissions, hangs).
async fn gate(
    State(state): State<SharedState>,
    matched: MatchedPath,
    request: Request,
    next: Next,
) -> Response {
    let template = matched.as_str().to_owned();
    let route = format!("{} {template}", request.method());
    state.stats.route(&route);
    let mut response = gated(&state, &template, &route, request, next).await;
    response.extensions_mut().insert(RouteLabel(route));
    response
}

/// The templated route a response answered, so the outer layer counts statuses per route.
#[derive(Debug, Clone)]
struct RouteLabel(String);

async fn gated(
    state: &SharedState,
    template: &str,
    route: &str,
    request: Request,
    next: Next,
) -> Response {
    let template = template.to_owned();
    let route = route.to_owned();
    let path = request.uri().path().to_owned();
    let knobs = state.knobs().clone();
    if !knobs.latency.is_zero() {
        tokio::time::sleep(knobs.latency).await;
    }
    if let Some(per_second) = knobs.rate_limit_per_second
        && !state.take_rate_token(per_second)
    {
        let mut response = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Rate limit exceeded",
        )
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    }
    let sequence = state.api_sequence.fetch_add(1, Ordering::SeqCst);
    if knobs.throttles(sequence) {
        return ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_requests",
            "Too many requests, try again",
        )
        .into_response();
    }
    match knobs.fault_for(sequence) {
        Fault::None => {}
        Fault::ServiceUnavailable => {
            return ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "service_unavailable",
                "Service temporarily unavailable",
            )
            .into_response();
        }
        Fault::DropConnection => {
            state.stats.status(Some(&route), "dropped");
            let mut response = StatusCode::SERVICE_UNAVAILABLE.into_response();
            response.extensions_mut().insert(DropConnection);
            return response;
        }
    }
    let is_token_route = template == "/v2/auth/token" || template.starts_with("/auth/");
    if !is_token_route && !auth::bearer_is_valid(state, request.headers()) {
        return ApiError::unauthorized("Unauthorized").into_response();
    }
    let absent = !state.surface.serves(&template)
        || (!knobs.absent_routes.is_empty()
            && (knobs.absent_routes.contains(&template) || knobs.absent_routes.contains(&path)));
    if absent {
        return match StatusCode::from_u16(knobs.absent_status) {
            Ok(StatusCode::BAD_REQUEST) => {
                ApiError::bad_request("Unsupported request path".to_owned()).into_response()
            }
            Ok(status) if status != StatusCode::NOT_FOUND => {
                ApiError::new(status, "unsupported", "Route not supported").into_response()
            }
            _ => {
                ApiError::new(StatusCode::NOT_FOUND, "not_found", "Route not found").into_response()
            }
        };
    }
    if Knobs::selects(&knobs.forbidden, &template, &path) {
        return ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "You do not have permission to access this resource",
        )
        .into_response();
    }
    if Knobs::selects(&knobs.hang, &template, &path) {
        std::future::pending::<()>().await;
    }
    let response = next.run(request).await;
    if response.status() == StatusCode::OK && malformed(&knobs.malformed_ids, &path) {
        return (
            [(header::CONTENT_TYPE, "application/json")],
            Body::from(r#"{"entries": [{"id": "truncated", "name": "#),
        )
            .into_response();
    }
    if response.status() == StatusCode::OK && !knobs.corrupt.is_empty() {
        return corrupt_objects(response, &knobs.corrupt).await;
    }
    response
}

async fn unmatched(State(state): State<SharedState>, method: Method) -> ApiError {
    state.stats.route(&format!("{method} (unmatched)"));
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "Route not found")
}

async fn stats(State(state): State<SharedState>) -> Json<super::Stats> {
    Json(state.stats.snapshot())
}

// ---------------------------------------------------------------------------------------------
// Workbooks

type Handler = Result<Response, ApiError>;

fn workbook_index(org: &Org, id: &str) -> Result<usize, ApiError> {
    org.workbook(id)
        .map(|(i, _)| i)
        .ok_or_else(|| ApiError::not_found("Workbook", id))
}

async fn list_workbooks(State(state): State<SharedState>, RawQuery(q): RawQuery) -> Handler {
    let params = Params::parse(q);
    let include_archived = params.bool("isArchived")?.unwrap_or(false);
    params.bool("excludeTags")?;
    let listed = state.org.listed_workbooks(include_archived);
    state.page(&params, listed.len(), |i| listed.get(i))
}

async fn workbook(State(state): State<SharedState>, Path(id): Path<String>) -> Handler {
    let index = workbook_index(&state.org, &id)?;
    Ok(Json(&state.org.workbooks[index]).into_response())
}

async fn workbook_pages(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Handler {
    let params = Params::parse(q);
    let index = workbook_index(&state.org, &id)?;
    page_slice(&state, &params, &state.org.pages(index))
}

async fn page_elements(
    State(state): State<SharedState>,
    Path((id, page_id)): Path<(String, String)>,
    RawQuery(q): RawQuery,
) -> Handler {
    let params = Params::parse(q);
    let index = workbook_index(&state.org, &id)?;
    let pages = state.org.pages(index);
    let page = pages
        .iter()
        .find(|p| p.page_id == page_id)
        .ok_or_else(|| ApiError::not_found("Page", &page_id))?;
    page_slice(&state, &params, &page.elements)
}

async fn workbook_queries(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Handler {
    let params = Params::parse(q);
    let index = workbook_index(&state.org, &id)?;
    let pages = state.org.pages(index);
    page_slice(&state, &params, &documents::queries(&pages, state.surface))
}

async fn element_query(
    State(state): State<SharedState>,
    Path((id, element_id)): Path<(String, String)>,
) -> Handler {
    let index = workbook_index(&state.org, &id)?;
    let pages = state.org.pages(index);
    documents::element_query(documents::find_element(&pages, &element_id)?, state.surface)
}

async fn element_lineage(
    State(state): State<SharedState>,
    Path((id, element_id)): Path<(String, String)>,
) -> Handler {
    let index = workbook_index(&state.org, &id)?;
    let pages = state.org.pages(index);
    documents::element_lineage(documents::find_element(&pages, &element_id)?)
}

async fn workbook_tags(
    State(state): State<SharedState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
) -> Handler {
    let params = Params::parse(q);
    let index = workbook_index(&state.org, &id)?;
    page_slice(&state, &params, &state.org.workbooks[index].tags)
}

// ---------------------------------------------------------------------------------------------
// Datasets and data models

async fn list_datasets(State(state): State<SharedState>, RawQuery(q): RawQuery) -> Handler {
    page_slice(&state, &Params::parse(q), &state.org.datasets)
}

async fn dataset(State(state): State<SharedState>, Path(id): Path<String>) -> Handler {
    let dataset = state
        .org
        .dataset(&id)
        .ok_or_else(|| ApiError::not_found("Dataset", &id))?;
    Ok(Json(dataset).into_response())
}

/// `/v2/datasets/{id}/sources`: a bare array; 410 or 409 `inode_archived` where the fixture
/// says so (what DataHub met on retired datasets).
async fn dataset_sources(State(state): State<SharedState>, Path(id): Path<String>) -> Handler {
    let dataset = state
        .org
        .dataset(&id)
        .ok_or_else(|| ApiError::not_found("Dataset", &id))?;
    match dataset.sources_status {
        Some(410) => Err(ApiError::new(
            StatusCode::GONE,
            "gone",
            format!("Dataset sources are no longer available: {id}"),
        )),
        Some(409) => Err(ApiError::new(
            StatusCode::CONFLICT,
            "inode_archived",
            format!("Dataset is archived: {id}"),
        )),
        _ => Ok(Json(&dataset.sources).into_response()),
    }
}

// ---------------------------------------------------------------------------------------------
// Members and workspaces

fn listed_members<'a>(
    org: &'a Org,
    params: &Params,
) -> Result<Vec<&'a super::org::Member>, ApiError> {
    let include_archived = params.bool("includeArchived")?.unwrap_or(false);
    let include_inactive = params.bool("includeInactive")?.unwrap_or(false);
    let search = params.get("search").map(str::to_lowercase);
    let email = params.get("email");
    Ok(org
        .members
        .iter()
        .filter(|m| include_archived || !m.is_archived.unwrap_or(false))
        .filter(|m| include_inactive || !m.is_inactive.unwrap_or(false))
        .filter(|m| {
            email
                .as_ref()
                .is_none_or(|e| m.email.eq_ignore_ascii_case(e))
        })
        .filter(|m| {
            search.as_ref().is_none_or(|s| {
                m.email.to_lowercase().contains(s.as_str())
                    || format!("{} {}", m.first_name, m.last_name)
                        .to_lowercase()
                        .contains(s.as_str())
            })
        })
        .collect())
}

/// `/v2/members`: on the older surface a bare array unless paging parameters are given;
/// today it always pages (Sigma, since 2026-06-02).
async fn list_members(State(state): State<SharedState>, RawQuery(q): RawQuery) -> Handler {
    let params = Params::parse(q);
    let members = listed_members(&state.org, &params)?;
    if params.has_paging() || state.surface == ApiSurface::Current {
        page_slice(&state, &params, &members)
    } else {
        Ok(Json(members).into_response())
    }
}

async fn list_members_paged(State(state): State<SharedState>, RawQuery(q): RawQuery) -> Handler {
    let params = Params::parse(q);
    let members = listed_members(&state.org, &params)?;
    page_slice(&state, &params, &members)
}

/// `/v2/teams`: like members, a bare array on the older surface without `limit`.
async fn list_teams(State(state): State<SharedState>, RawQuery(q): RawQuery) -> Handler {
    let params = Params::parse(q);
    let name = params.get("name").map(str::to_lowercase);
    let visibility = params.get("visibility");
    let teams: Vec<_> = state
        .org
        .teams
        .iter()
        .filter(|t| {
            name.as_ref()
                .is_none_or(|n| t.name.to_lowercase().contains(n.as_str()))
        })
        .filter(|t| visibility.is_none_or(|v| t.visibility.as_deref() == Some(v)))
        .collect();
    if params.has_paging() || state.surface == ApiSurface::Current {
        page_slice(&state, &params, &teams)
    } else {
        Ok(Json(teams).into_response())
    }
}

async fn member(State(state): State<SharedState>, Path(id): Path<String>) -> Handler {
    let member = state
        .org
        .member(&id)
        .ok_or_else(|| ApiError::not_found("Member", &id))?;
    Ok(Json(member).into_response())
}

fn listed_workspaces<'a>(org: &'a Org, params: &Params) -> Vec<&'a super::org::Workspace> {
    let name = params.get("name").map(str::to_lowercase);
    org.workspaces
        .iter()
        .filter(|w| {
            name.as_ref()
                .is_none_or(|n| w.name.to_lowercase().contains(n.as_str()))
        })
        .collect()
}

/// `/v2/workspaces`: a bare array unless paging parameters are given.
async fn list_workspaces_legacy(
    State(state): State<SharedState>,
    RawQuery(q): RawQuery,
) -> Handler {
    let params = Params::parse(q);
    let workspaces = listed_workspaces(&state.org, &params);
    if params.has_paging() {
        page_slice(&state, &params, &workspaces)
    } else {
        Ok(Json(workspaces).into_response())
    }
}

async fn list_workspaces_paged(State(state): State<SharedState>, RawQuery(q): RawQuery) -> Handler {
    let params = Params::parse(q);
    let workspaces = listed_workspaces(&state.org, &params);
    page_slice(&state, &params, &workspaces)
}

async fn workspace(State(state): State<SharedState>, Path(id): Path<String>) -> Handler {
    let workspace = state
        .org
        .workspace(&id)
        .ok_or_else(|| ApiError::not_found("Workspace", &id))?;
    Ok(Json(workspace).into_response())
}
