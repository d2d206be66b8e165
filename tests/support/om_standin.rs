//! An OpenMetadata stand-in for the metadata-rest sink's tests: exactly the endpoints the
//! sink calls, under `/api/v1`. It checks the bearer token, validates every body against
//! OpenMetadata's request schemas (`tests/data/openmetadata/om-fields.json`), resolves
//! references by FQN the way the server does (a dashboard naming an unknown chart is a
//! 404), stores entities with generated ids, and records what it received. Classifications
//! and tags are created with `PUT /v1/classifications` and `PUT /v1/tags`, and an entity
//! labelled with a tag the stand-in does not have is refused, as OpenMetadata refuses it.
//! A `PUT` of an entity that exists keeps its non-empty description, display name and
//! owners and adds the request's tags to its own, as OpenMetadata does for its bots'
//! `PUT`s; `PATCH` applies a JSON Patch's `add`/`replace`/`remove` on those fields; lineage
//! of one source into an entity is deleted with `DELETE /v1/lineage/{type}/{id}/type/{source}`.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sigma_connector::records::fqn;

/// The JWT the stand-in accepts.
pub const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.c3RhbmRpbi1ib3Q.c2lnbmF0dXJl-standin";

/// One request as received.
#[allow(dead_code)] // each test binary reads different fields
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub query: String,
    pub status: u16,
}

/// What the stand-in holds, and its knobs.
#[derive(Default)]
pub struct Store {
    /// By entity type (`table`, `chart`, `dashboard`, `dashboardDataModel`,
    /// `dashboardService`), then FQN.
    pub entities: BTreeMap<String, BTreeMap<String, Value>>,
    pub users: Vec<Value>,
    /// `AddLineageRequest` bodies accepted (without the column pairs dropped).
    pub lineage: Vec<Value>,
    /// Column pairs dropped from accepted lineage, as OpenMetadata's server drops them: a
    /// column not on its end (checked where the end's columns are known).
    pub dropped_pairs: Vec<Value>,
    /// Classifications by name.
    pub classifications: BTreeMap<String, Value>,
    /// Tags by FQN (`classification.tag`).
    pub tags: BTreeMap<String, Value>,
    /// Knob: PUTs of tags with these names answer 400.
    pub reject_tags: HashSet<String>,
    pub seen: Vec<Seen>,
    /// Knob: PUTs of entities with these FQNs answer 400.
    pub reject: HashSet<String>,
    /// Knob: this many of the next PUTs answer 503.
    pub unavailable_puts: u32,
    /// 503s served because of `unavailable_puts`.
    pub served_503: u32,
    /// JSON Patches applied: entity type, id, operations.
    pub patches: Vec<(String, String, Value)>,
    next_id: u64,
}

impl Store {
    fn new_id(&mut self) -> String {
        self.next_id += 1;
        format!("5a1d0000-0000-4000-8000-{:012x}", self.next_id)
    }

    pub fn entity(&self, entity_type: &str, fqn: &str) -> Option<&Value> {
        self.entities.get(entity_type)?.get(fqn)
    }

    fn by_id(&mut self, entity_type: &str, id: &str) -> Option<&mut Value> {
        self.entities
            .get_mut(entity_type)?
            .values_mut()
            .find(|e| e["id"] == id)
    }

    /// The column FQNs of the entity `id`, when it lists its columns.
    fn columns_of(&self, id: &str) -> Option<HashSet<String>> {
        let entity = self
            .entities
            .values()
            .flat_map(|m| m.values())
            .find(|e| e["id"] == id)?;
        let entity_fqn = entity["fullyQualifiedName"].as_str()?;
        let columns = entity["columns"].as_array()?;
        Some(
            columns
                .iter()
                .filter_map(|c| c["name"].as_str())
                .map(|name| fqn::column(entity_fqn, name))
                .collect(),
        )
    }

    fn id_exists(&self, id: &str) -> bool {
        self.entities
            .values()
            .flat_map(|m| m.values())
            .any(|e| e["id"] == id && e["deleted"] != true)
    }
}

struct Shared {
    store: Mutex<Store>,
    validators: BTreeMap<&'static str, jsonschema::Validator>,
}

pub struct OmStandin {
    shared: Arc<Shared>,
    base: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for OmStandin {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn validators() -> BTreeMap<&'static str, jsonschema::Validator> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/openmetadata/om-fields.json");
    let om: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    [
        "CreateDashboardServiceRequest",
        "CreateChartRequest",
        "CreateDashboardDataModelRequest",
        "CreateDashboardRequest",
        "AddLineageRequest",
        "CreateClassificationRequest",
        "CreateTagRequest",
    ]
    .into_iter()
    .map(|name| {
        let mut schema = om["requests"][name].clone();
        schema["$schema"] = json!("https://json-schema.org/draft/2020-12/schema");
        schema["$defs"] = om["$defs"].clone();
        let v = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        (name, v)
    })
    .collect()
}

impl OmStandin {
    pub async fn start() -> Self {
        let shared = Arc::new(Shared {
            store: Mutex::default(),
            validators: validators(),
        });
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            shared,
            base: format!("http://{addr}/api"),
            task,
        }
    }

    /// `hostPort` for the workflow: `http://127.0.0.1:{port}/api`.
    pub fn host_port(&self) -> &str {
        &self.base
    }

    pub fn store(&self) -> MutexGuard<'_, Store> {
        self.shared.store.lock().unwrap()
    }

    /// Adds a user; returns its id.
    pub fn seed_user(&self, name: &str, email: &str) -> String {
        let mut s = self.store();
        let id = s.new_id();
        s.users
            .push(json!({"id": id, "name": name, "email": email, "deleted": false}));
        id
    }

    /// Adds a table with columns (whose column pairs are then checked); returns its id.
    #[allow(dead_code)] // each test binary uses different helpers
    pub fn seed_table_with_columns(&self, fqn: &str, columns: &[&str]) -> String {
        let id = self.seed_table(fqn);
        let columns: Vec<Value> = columns.iter().map(|c| json!({"name": c})).collect();
        if let Some(table) = self
            .store()
            .entities
            .get_mut("table")
            .and_then(|t| t.get_mut(fqn))
        {
            table["columns"] = json!(columns);
        }
        id
    }

    /// Adds a table (a lineage end from a database service); returns its id.
    pub fn seed_table(&self, fqn: &str) -> String {
        let mut s = self.store();
        let id = s.new_id();
        s.entities.entry("table".into()).or_default().insert(
            fqn.to_owned(),
            json!({"id": id, "fullyQualifiedName": fqn, "deleted": false}),
        );
        id
    }
}

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = json!({"code": status.as_u16(), "message": message.into()});
    (status, axum::Json(body)).into_response()
}

fn decode(segment: &str) -> String {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz");
            if let Ok(b) = u8::from_str_radix(hex, 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The entity type of a collection path (`charts`, `dashboard/datamodels`, ...).
fn entity_type(collection: &[&str]) -> Option<&'static str> {
    Some(match collection {
        ["tables"] => "table",
        ["charts"] => "chart",
        ["dashboards"] => "dashboard",
        ["dashboard", "datamodels"] => "dashboardDataModel",
        ["services", "dashboardServices"] => "dashboardService",
        _ => return None,
    })
}

async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_owned();
    let query = uri.query().unwrap_or_default().to_owned();
    let response = route(&shared, &method, &path, &query, &headers, &body);
    shared.store.lock().unwrap().seen.push(Seen {
        method: method.to_string(),
        path: decode(&path),
        query,
        status: response.status().as_u16(),
    });
    response
}

fn route(
    shared: &Shared,
    method: &Method,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let Some(rest) = path.strip_prefix("/api/v1/") else {
        return error(StatusCode::NOT_FOUND, format!("no route {path}"));
    };
    let segments: Vec<String> = rest.split('/').map(decode).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    if *method == Method::GET && segments == ["system", "version"] {
        return axum::Json(json!({"version": "1.10.0", "revision": "standin", "timestamp": 0}))
            .into_response();
    }
    let authorized = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == format!("Bearer {TOKEN}"));
    if !authorized {
        return error(
            StatusCode::UNAUTHORIZED,
            "Not Authorized! Token verification failed",
        );
    }
    let params: BTreeMap<String, String> = url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect();
    let body: Option<Value> = serde_json::from_slice(body).ok();
    let mut store = shared.store.lock().unwrap();
    match (method.clone(), segments.as_slice()) {
        (Method::GET, ["services", "dashboardServices"]) => {
            let data: Vec<Value> = store
                .entities
                .get("dashboardService")
                .map(|m| m.values().cloned().collect())
                .unwrap_or_default();
            let total = data.len();
            axum::Json(json!({"data": data, "paging": {"total": total}})).into_response()
        }
        (Method::GET, ["search", "query"]) => {
            let q = params.get("q").cloned().unwrap_or_default();
            let email = q
                .strip_prefix("email.keyword:")
                .map(|e| e.trim_matches('"').to_owned())
                .unwrap_or_default();
            let hits: Vec<Value> =
                if params.get("index").map(String::as_str) == Some("user_search_index") {
                    store
                    .users
                    .iter()
                    .filter(|u| u["email"] == email.as_str())
                    .map(|u| json!({"_index": "user_search_index", "_id": u["id"], "_source": u}))
                    .collect()
                } else {
                    Vec::new()
                };
            axum::Json(json!({"hits": {"total": {"value": hits.len()}, "hits": hits}}))
                .into_response()
        }
        (Method::PUT, ["lineage"]) => {
            let Some(body) = body else {
                return error(StatusCode::BAD_REQUEST, "body is not JSON");
            };
            if let Some(problems) = invalid(shared, "AddLineageRequest", &body) {
                return error(StatusCode::BAD_REQUEST, problems);
            }
            for end in ["fromEntity", "toEntity"] {
                let id = body["edge"][end]["id"].as_str().unwrap_or_default();
                if !store.id_exists(id) {
                    return error(
                        StatusCode::NOT_FOUND,
                        format!("{} instance for {id} not found", body["edge"][end]["type"]),
                    );
                }
            }
            let mut body = body;
            let [from, to] = ["fromEntity", "toEntity"]
                .map(|end| store.columns_of(body["edge"][end]["id"].as_str().unwrap_or_default()));
            let on = |columns: &Option<HashSet<String>>, column: &Value| {
                columns
                    .as_ref()
                    .is_none_or(|c| column.as_str().is_some_and(|name| c.contains(name)))
            };
            let mut dropped = Vec::new();
            if let Some(pairs) = body["edge"]["lineageDetails"]["columnsLineage"].as_array_mut() {
                pairs.retain(|pair| {
                    let kept = on(&to, &pair["toColumn"])
                        && pair["fromColumns"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .all(|c| on(&from, c));
                    if !kept {
                        dropped.push(pair.clone());
                    }
                    kept
                });
            }
            store.dropped_pairs.extend(dropped);
            store.lineage.push(body);
            StatusCode::OK.into_response()
        }
        (Method::PUT, ["classifications"]) => {
            let Some(mut body) = body else {
                return error(StatusCode::BAD_REQUEST, "body is not JSON");
            };
            if let Some(problems) = invalid(shared, "CreateClassificationRequest", &body) {
                return error(StatusCode::BAD_REQUEST, problems);
            }
            let name = body["name"].as_str().unwrap_or_default().to_owned();
            let existing = store.classifications.get(&name).map(|c| c["id"].clone());
            let created = existing.is_none();
            body["id"] = existing.unwrap_or_else(|| json!(store.new_id()));
            body["fullyQualifiedName"] = json!(fqn::build(&[&name]));
            store.classifications.insert(name, body.clone());
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (status, axum::Json(body)).into_response()
        }
        (Method::PUT, ["tags"]) => {
            let Some(mut body) = body else {
                return error(StatusCode::BAD_REQUEST, "body is not JSON");
            };
            if let Some(problems) = invalid(shared, "CreateTagRequest", &body) {
                return error(StatusCode::BAD_REQUEST, problems);
            }
            let name = body["name"].as_str().unwrap_or_default().to_owned();
            if store.reject_tags.contains(&name) {
                return error(
                    StatusCode::BAD_REQUEST,
                    format!("the stand-in rejects tag {name}"),
                );
            }
            let Some(classification) = body["classification"].as_str().map(str::to_owned) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "the stand-in needs the tag's classification",
                );
            };
            if !store.classifications.contains_key(&classification) {
                return error(
                    StatusCode::NOT_FOUND,
                    format!("classification instance for {classification} not found"),
                );
            }
            let full = fqn::build(&[&classification, &name]);
            let existing = store.tags.get(&full).map(|t| t["id"].clone());
            let created = existing.is_none();
            body["id"] = existing.unwrap_or_else(|| json!(store.new_id()));
            body["fullyQualifiedName"] = json!(full);
            store.tags.insert(full, body.clone());
            let status = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            (status, axum::Json(body)).into_response()
        }
        (Method::GET, [collection @ .., "name", fqn]) => {
            let Some(t) = entity_type(collection) else {
                return error(StatusCode::NOT_FOUND, "no such collection");
            };
            match store.entity(t, fqn).filter(|e| e["deleted"] != true) {
                Some(e) => axum::Json(e.clone()).into_response(),
                None => error(
                    StatusCode::NOT_FOUND,
                    format!("{t} instance for {fqn} not found"),
                ),
            }
        }
        (Method::DELETE, ["lineage", _, id, "type", source]) => {
            let before = store.lineage.len();
            store.lineage.retain(|edge| {
                !(edge["edge"]["toEntity"]["id"] == *id
                    && edge["edge"]["lineageDetails"]["source"] == *source)
            });
            if store.lineage.len() == before {
                return error(
                    StatusCode::NOT_FOUND,
                    format!("no {source} lineage into {id}"),
                );
            }
            StatusCode::OK.into_response()
        }
        (Method::PATCH, [collection @ .., id]) if entity_type(collection).is_some() => {
            let t = entity_type(collection).unwrap_or_default();
            let json_patch = headers
                .get("content-type")
                .and_then(|v| v.to_str().ok())
                .is_some_and(|v| v.starts_with("application/json-patch+json"));
            if !json_patch {
                return error(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "a PATCH is a JSON Patch",
                );
            }
            let Some(ops) = body.filter(Value::is_array) else {
                return error(StatusCode::BAD_REQUEST, "a JSON Patch is an array");
            };
            let Some(entity) = store.by_id(t, id) else {
                return error(
                    StatusCode::NOT_FOUND,
                    format!("{t} instance for {id} not found"),
                );
            };
            for op in ops.as_array().into_iter().flatten() {
                let field = op["path"]
                    .as_str()
                    .unwrap_or_default()
                    .trim_start_matches('/');
                if !["description", "displayName", "owners"].contains(&field) {
                    return error(
                        StatusCode::BAD_REQUEST,
                        format!("the stand-in does not patch {field}"),
                    );
                }
                match op["op"].as_str() {
                    Some("add" | "replace") => entity[field] = op["value"].clone(),
                    Some("remove") => {
                        if let Some(e) = entity.as_object_mut() {
                            e.remove(field);
                        }
                    }
                    _ => return error(StatusCode::BAD_REQUEST, format!("unknown operation {op}")),
                }
            }
            let patched = entity.clone();
            store.patches.push((t.to_owned(), (*id).to_owned(), ops));
            axum::Json(patched).into_response()
        }
        (Method::PUT, collection) if entity_type(collection).is_some() => {
            let t = entity_type(collection).unwrap_or_default();
            put_entity(shared, &mut store, t, body)
        }
        (Method::DELETE, [collection @ .., id]) if entity_type(collection).is_some() => {
            let t = entity_type(collection).unwrap_or_default();
            if params.get("hardDelete").map(String::as_str) != Some("false") {
                return error(StatusCode::BAD_REQUEST, "the stand-in only soft-deletes");
            }
            match store.by_id(t, id) {
                Some(e) if e["deleted"] != true => {
                    e["deleted"] = json!(true);
                    axum::Json(e.clone()).into_response()
                }
                _ => error(
                    StatusCode::NOT_FOUND,
                    format!("{t} instance for {id} not found"),
                ),
            }
        }
        _ => error(
            StatusCode::NOT_FOUND,
            format!("the stand-in has no {method} {path}"),
        ),
    }
}

fn invalid(shared: &Shared, request: &str, body: &Value) -> Option<String> {
    let v = shared.validators.get(request)?;
    let problems: Vec<String> = v
        .iter_errors(body)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    (!problems.is_empty()).then(|| problems.join("; "))
}

fn put_entity(shared: &Shared, store: &mut Store, t: &str, body: Option<Value>) -> Response {
    if store.unavailable_puts > 0 {
        store.unavailable_puts -= 1;
        store.served_503 += 1;
        return error(StatusCode::SERVICE_UNAVAILABLE, "try again");
    }
    let Some(mut body) = body else {
        return error(StatusCode::BAD_REQUEST, "body is not JSON");
    };
    let request = match t {
        "dashboardService" => "CreateDashboardServiceRequest",
        "chart" => "CreateChartRequest",
        "dashboardDataModel" => "CreateDashboardDataModelRequest",
        _ => "CreateDashboardRequest",
    };
    if let Some(problems) = invalid(shared, request, &body) {
        return error(StatusCode::BAD_REQUEST, problems);
    }
    let name = body["name"].as_str().unwrap_or_default().to_owned();
    let service = body["service"].as_str().unwrap_or_default().to_owned();
    let full = match t {
        "dashboardService" => fqn::build(&[&name]),
        "chart" => fqn::chart(&service, &name),
        "dashboardDataModel" => fqn::data_model(&service, &name),
        _ => fqn::dashboard(&service, &name),
    };
    if store.reject.contains(&full) {
        return error(
            StatusCode::BAD_REQUEST,
            format!("the stand-in rejects {full}"),
        );
    }
    // References resolve by FQN or id, as OpenMetadata resolves them.
    if t != "dashboardService" && store.entity("dashboardService", &service).is_none() {
        return error(
            StatusCode::NOT_FOUND,
            format!("dashboardService instance for {service} not found"),
        );
    }
    for (field, of) in [("charts", "chart"), ("dataModels", "dashboardDataModel")] {
        for r in body[field].as_array().into_iter().flatten() {
            let r = r.as_str().unwrap_or_default();
            if store.entity(of, r).is_none_or(|e| e["deleted"] == true) {
                return error(
                    StatusCode::NOT_FOUND,
                    format!("{of} instance for {r} not found"),
                );
            }
        }
    }
    for label in body["tags"].as_array().into_iter().flatten() {
        let tag = label["tagFQN"].as_str().unwrap_or_default();
        if label["source"] != "Classification" || !store.tags.contains_key(tag) {
            return error(
                StatusCode::NOT_FOUND,
                format!("tag instance for {tag} not found"),
            );
        }
    }
    for owner in body["owners"].as_array().into_iter().flatten() {
        if !store.users.iter().any(|u| u["id"] == owner["id"]) {
            return error(
                StatusCode::NOT_FOUND,
                format!("user instance for {} not found", owner["id"]),
            );
        }
    }
    let existing = store
        .entity(t, &full)
        .and_then(|e| e["id"].as_str())
        .map(str::to_owned);
    // A bot's PUT over an entity that exists: what people edited stays, tags add up.
    if let Some(previous) = store.entity(t, &full) {
        for field in ["description", "displayName", "owners"] {
            let kept = previous.get(field).filter(|v| {
                !v.is_null() && v.as_str() != Some("") && v.as_array().is_none_or(|a| !a.is_empty())
            });
            if let Some(kept) = kept {
                body[field] = kept.clone();
            }
        }
        let mut tags: Vec<Value> = previous["tags"].as_array().cloned().unwrap_or_default();
        for tag in body["tags"].as_array().cloned().unwrap_or_default() {
            if !tags.iter().any(|t| t["tagFQN"] == tag["tagFQN"]) {
                tags.push(tag);
            }
        }
        if !tags.is_empty() {
            body["tags"] = Value::Array(tags);
        }
    }
    let created = existing.is_none();
    let id = existing.unwrap_or_else(|| store.new_id());
    body["id"] = json!(id);
    body["fullyQualifiedName"] = json!(full);
    body["deleted"] = json!(false);
    store
        .entities
        .entry(t.to_owned())
        .or_default()
        .insert(full, body.clone());
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, axum::Json(body)).into_response()
}
