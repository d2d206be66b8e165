//! The Sigma sandbox over real HTTP: auth, paging, every route, knobs, stats, and conformance
//! of every served spec route to Sigma's OpenAPI response schemas.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{Value, json};
use sigma_connector::sandbox::{
    ApiSurface, Fault, Knobs, OrgSource, PageTokenStyle, Sandbox, SandboxConfig, SandboxHandle,
    SyntheticConfig,
};

// Ids from fixtures/ (see fixtures/README.md).
const WB_REVENUE: &str = "a3c1e5f7-0001-4a2b-8c3d-5e6f7a8b9c01";
const WB_REVENUE_URL_ID: &str = "1aRevQ4x9KpL2mNo";
const WB_MARKETING: &str = "a3c1e5f7-0002-4a2b-8c3d-5e6f7a8b9c02";
const WB_ARCHIVED: &str = "a3c1e5f7-0005-4a2b-8c3d-5e6f7a8b9c05";
const PAGE_OVERVIEW: &str = "pgRevOvrv01";
const EL_JOIN_BAR: &str = "elRevBar002";
const EL_CUSTOM_SQL_PIVOT: &str = "elRevPvt006";
const EL_TEXT: &str = "elRevTxt004";
const EL_CONTROL: &str = "elRevCtl00A";
const EL_INPUT_TABLE: &str = "elRevInp007";
const TABLE_ORDERS_INODE: &str = "inode-tblOrders7QpX2mZk";
const MEMBER_ADA: &str = "MbR4dAdaLovelace01";
const WS_FINANCE: &str = "0b7e1a52-6c1d-4f0e-9d3a-111111111111";
const DATASET_ORDERS: &str = "d5e7a9b1-1111-4c2d-8e3f-0000000000a1";
const DATA_MODEL_SALES: &str = "e8f9a0b1-2222-4d3e-9f40-0000000000b1";
const CONNECTION_SNOWFLAKE: &str = "c0ffee00-5f1a-4e2b-9c3d-000000000001";

mod support;

fn http() -> reqwest::Client {
    http_with_timeout(Duration::from_secs(10))
}

fn http_with_timeout(timeout: Duration) -> reqwest::Client {
    // reqwest is built without a default TLS provider; plain HTTP still needs one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("client")
}

async fn start(config: SandboxConfig) -> SandboxHandle {
    Sandbox::start(config).await.expect("sandbox starts")
}

async fn fixture_sandbox() -> SandboxHandle {
    start(SandboxConfig::default()).await
}

async fn synthetic_sandbox(workbooks: usize, knobs: Knobs) -> SandboxHandle {
    start(SandboxConfig {
        org: OrgSource::Synthetic(SyntheticConfig {
            workbooks,
            ..SyntheticConfig::default()
        }),
        knobs,
        ..SandboxConfig::default()
    })
    .await
}

async fn token_response(h: &SandboxHandle, form: &[(&str, &str)]) -> reqwest::Response {
    http()
        .post(format!("{}/v2/auth/token", h.base_url()))
        .form(form)
        .send()
        .await
        .expect("token request")
}

async fn token(h: &SandboxHandle) -> String {
    let body: Value = token_response(
        h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", h.client_id()),
            ("client_secret", h.client_secret()),
        ],
    )
    .await
    .json()
    .await
    .expect("token json");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

async fn get(h: &SandboxHandle, bearer: &str, path: &str) -> reqwest::Response {
    http()
        .get(format!("{}{path}", h.base_url()))
        .bearer_auth(bearer)
        .send()
        .await
        .expect("request")
}

async fn get_json(h: &SandboxHandle, bearer: &str, path: &str) -> (StatusCode, Value) {
    let response = get(h, bearer, path).await;
    let status = response.status();
    (status, response.json().await.expect("json body"))
}

fn assert_sigma_error(body: &Value) {
    assert!(body["message"].is_string(), "{body}");
    assert!(body["code"].is_string(), "{body}");
    assert!(body["requestId"].is_string(), "{body}");
}

// ---------------------------------------------------------------------------------------------
// Auth

#[tokio::test]
async fn token_with_form_credentials_and_with_basic() {
    let h = fixture_sandbox().await;
    let response = token_response(
        &h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", h.client_id()),
            ("client_secret", h.client_secret()),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["token_type"], "bearer");
    assert_eq!(body["expires_in"], 3600);
    assert!(body["refresh_token"].is_string());

    let basic = http()
        .post(format!("{}/v2/auth/token", h.base_url()))
        .basic_auth(h.client_id(), Some(h.client_secret()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), StatusCode::OK);
    let access: Value = basic.json().await.unwrap();
    let (status, _) = get_json(
        &h,
        access["access_token"].as_str().unwrap(),
        "/v2/workbooks",
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    h.shutdown().await;
}

#[tokio::test]
async fn wrong_credentials_are_401_and_unknown_grant_is_400() {
    let h = fixture_sandbox().await;
    let response = token_response(
        &h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", h.client_id()),
            ("client_secret", "wrong"),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let body: Value = response.json().await.unwrap();
    assert_sigma_error(&body);
    assert_eq!(body["requestId"], request_id.as_str());

    let response = token_response(
        &h,
        &[
            ("grant_type", "password"),
            ("client_id", h.client_id()),
            ("client_secret", h.client_secret()),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_sigma_error(&response.json().await.unwrap());
    h.shutdown().await;
}

#[tokio::test]
async fn refresh_token_is_single_use() {
    let h = fixture_sandbox().await;
    let first: Value = token_response(
        &h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", h.client_id()),
            ("client_secret", h.client_secret()),
        ],
    )
    .await
    .json()
    .await
    .unwrap();
    let refresh = first["refresh_token"].as_str().unwrap();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("client_id", h.client_id()),
        ("client_secret", h.client_secret()),
    ];
    let renewed = token_response(&h, &form).await;
    assert_eq!(renewed.status(), StatusCode::OK);
    let renewed: Value = renewed.json().await.unwrap();
    assert_ne!(renewed["access_token"], first["access_token"]);
    let again = token_response(&h, &form).await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    let stats = h.stats();
    assert_eq!(stats.token_grants["client_credentials"], 1);
    assert_eq!(stats.token_grants["refresh_token"], 1);
    h.shutdown().await;
}

#[tokio::test]
async fn tokens_expire_after_their_lifetime_and_unknown_tokens_are_401() {
    let h = start(SandboxConfig {
        knobs: Knobs {
            token_lifetime: Duration::from_secs(60),
            ..Knobs::default()
        },
        ..SandboxConfig::default()
    })
    .await;
    let bearer = token(&h).await;
    assert_eq!(
        get(&h, &bearer, "/v2/workbooks").await.status(),
        StatusCode::OK
    );
    h.advance_clock(Duration::from_secs(59));
    assert_eq!(
        get(&h, &bearer, "/v2/workbooks").await.status(),
        StatusCode::OK
    );
    h.advance_clock(Duration::from_secs(2));
    let (status, body) = get_json(&h, &bearer, "/v2/workbooks").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_sigma_error(&body);
    assert_eq!(
        get(&h, "not-a-token", "/v2/members").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let no_auth = http()
        .get(format!("{}/v2/workspaces", h.base_url()))
        .send()
        .await
        .unwrap();
    assert_eq!(no_auth.status(), StatusCode::UNAUTHORIZED);
    h.shutdown().await;
}

#[tokio::test]
async fn keycloak_realm_endpoint_issues_short_tokens_without_refresh() {
    let h = fixture_sandbox().await;
    let url = format!(
        "{}/auth/realms/sigma/protocol/openid-connect/token",
        h.base_url()
    );
    let ok = http()
        .post(&url)
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", h.client_id()),
            ("client_secret", h.client_secret()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), StatusCode::OK);
    let body: Value = ok.json().await.unwrap();
    assert_eq!(body["expires_in"], 300);
    assert!(body.get("refresh_token").is_none());
    let bearer = body["access_token"].as_str().unwrap();
    assert_eq!(
        get(&h, bearer, "/v2/workbooks").await.status(),
        StatusCode::OK
    );
    h.advance_clock(Duration::from_secs(301));
    assert_eq!(
        get(&h, bearer, "/v2/workbooks").await.status(),
        StatusCode::UNAUTHORIZED
    );

    let bad = http()
        .post(&url)
        .basic_auth(h.client_id(), Some("nope"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let body: Value = bad.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"].is_string());
    let grant = http()
        .post(&url)
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status(), StatusCode::BAD_REQUEST);
    h.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Paging

#[tokio::test]
async fn paging_defaults_to_50_caps_at_1000_and_ends_with_null() {
    let h = synthetic_sandbox(1205, Knobs::default()).await;
    let bearer = token(&h).await;
    let (status, first) = get_json(&h, &bearer, "/v2/workbooks").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(first["entries"].as_array().unwrap().len(), 50);
    assert_eq!(first["total"], 1205);
    let token = first["nextPage"].as_str().unwrap();
    assert!(token.parse::<u64>().is_err(), "opaque by default: {token}");

    let (_, big) = get_json(&h, &bearer, "/v2/workbooks?limit=1000").await;
    assert_eq!(big["entries"].as_array().unwrap().len(), 1000);
    for bad in ["1001", "0", "-1", "abc", "1.5"] {
        let (status, body) = get_json(&h, &bearer, &format!("/v2/workbooks?limit={bad}")).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "limit={bad}");
        assert_sigma_error(&body);
    }
    let (status, _) = get_json(&h, &bearer, "/v2/workbooks?page=%%garbage").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Walk every page: each id once, last page's nextPage is null.
    let mut seen = std::collections::HashSet::new();
    let mut page: Option<String> = None;
    let mut pages = 0;
    loop {
        let mut request = http()
            .get(format!("{}/v2/workbooks", h.base_url()))
            .bearer_auth(&bearer)
            .query(&[("limit", "500")]);
        if let Some(p) = &page {
            request = request.query(&[("page", p)]);
        }
        let body: Value = request.send().await.unwrap().json().await.unwrap();
        pages += 1;
        for entry in body["entries"].as_array().unwrap() {
            assert!(seen.insert(entry["workbookId"].as_str().unwrap().to_owned()));
        }
        match &body["nextPage"] {
            Value::Null => break,
            Value::String(next) => page = Some(next.clone()),
            other => panic!("nextPage {other}"),
        }
    }
    assert_eq!((pages, seen.len()), (3, 1205));
    h.shutdown().await;
}

#[tokio::test]
async fn numeric_page_token_style() {
    let h = synthetic_sandbox(
        120,
        Knobs {
            page_token_style: PageTokenStyle::Numeric,
            ..Knobs::default()
        },
    )
    .await;
    let bearer = token(&h).await;
    let (_, first) = get_json(&h, &bearer, "/v2/workbooks?limit=100").await;
    assert_eq!(first["nextPage"], "100");
    let (_, last) = get_json(&h, &bearer, "/v2/workbooks?limit=100&page=100").await;
    assert_eq!(last["entries"].as_array().unwrap().len(), 20);
    assert_eq!(last["nextPage"], Value::Null);
    h.shutdown().await;
}

#[tokio::test]
async fn members_and_workspaces_are_bare_arrays_without_limit_on_the_older_surface() {
    let h = start(SandboxConfig {
        api: ApiSurface::Legacy2023,
        ..SandboxConfig::default()
    })
    .await;
    let bearer = token(&h).await;
    for path in ["/v2/members", "/v2/workspaces"] {
        let (status, body) = get_json(&h, &bearer, path).await;
        assert_eq!(status, StatusCode::OK);
        assert!(body.is_array(), "{path}: {body}");
        let (_, paged) = get_json(&h, &bearer, &format!("{path}?limit=2")).await;
        assert_eq!(paged["entries"].as_array().unwrap().len(), 2);
        assert!(paged["nextPage"].is_string());
        let (_, v21) = get_json(&h, &bearer, &path.replace("/v2/", "/v2.1/")).await;
        assert!(v21["entries"].is_array(), "v2.1 always pages");
    }
    let (_, members) = get_json(&h, &bearer, "/v2/members").await;
    assert_eq!(
        members.as_array().unwrap().len(),
        58,
        "archived/inactive hidden"
    );
    let (_, all) = get_json(
        &h,
        &bearer,
        "/v2/members?includeArchived=true&includeInactive=true",
    )
    .await;
    assert_eq!(all.as_array().unwrap().len(), 60);
    assert!(
        all.as_array()
            .unwrap()
            .iter()
            .all(|m| m["email"].as_str().unwrap().contains('@'))
    );
    h.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Routes on the fixture org

#[tokio::test]
async fn workbooks_hide_archived_unless_asked() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    let ids = |body: &Value| -> Vec<String> {
        body["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["workbookId"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, live) = get_json(&h, &bearer, "/v2/workbooks").await;
    assert!(!ids(&live).contains(&WB_ARCHIVED.to_owned()));
    assert!(ids(&live).contains(&WB_REVENUE.to_owned()));
    let (_, all) = get_json(&h, &bearer, "/v2/workbooks?isArchived=true").await;
    assert!(ids(&all).contains(&WB_ARCHIVED.to_owned()));
    let (status, archived) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_ARCHIVED}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(archived["isArchived"], true);
    let (status, _) = get_json(&h, &bearer, "/v2/workbooks?isArchived=maybe").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    h.shutdown().await;
}

#[tokio::test]
async fn workbook_details_pages_elements_and_queries() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    let (status, wb) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(wb["workbookUrlId"], WB_REVENUE_URL_ID);
    assert!(wb["latestVersion"].is_number());
    let created = wb["createdAt"].as_str().unwrap();
    assert!(created.parse::<jiff::Timestamp>().is_ok() && created.contains('.'));
    assert!(wb.get("pages").is_none() && wb.get("folderId").is_none());

    let (_, pages) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE}/pages")).await;
    assert_eq!(pages["entries"].as_array().unwrap().len(), 3);
    assert!(pages["entries"][0].get("elements").is_none());
    let (_, elements) = get_json(
        &h,
        &bearer,
        &format!("/v2/workbooks/{WB_REVENUE}/pages/{PAGE_OVERVIEW}/elements?limit=2"),
    )
    .await;
    assert_eq!(elements["entries"].as_array().unwrap().len(), 2);
    assert_eq!(elements["entries"][1]["vizualizationType"], "bar");
    assert!(elements["entries"][1].get("sql").is_none());

    let (_, queries) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE}/queries")).await;
    let sql: Vec<&str> = queries["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["sql"].as_str().unwrap())
        .collect();
    assert!(sql.iter().any(|s| s.contains("RAW.STRIPE.PAYMENTS")));
    assert!(sql.iter().any(|s| s.contains("ANALYTICS.SALES.CUSTOMERS")));

    let (status, query) = get_json(
        &h,
        &bearer,
        &format!("/v2/workbooks/{WB_REVENUE}/elements/{EL_JOIN_BAR}/query"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(query["elementId"], EL_JOIN_BAR);
    let (status, _) = get_json(
        &h,
        &bearer,
        &format!("/v2/workbooks/{WB_REVENUE}/elements/{EL_INPUT_TABLE}/query"),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (_, tags) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE}/tags")).await;
    assert_eq!(tags["entries"][0]["name"], "Production");

    // By urlId too.
    let (status, _) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE_URL_ID}")).await;
    assert_eq!(status, StatusCode::OK);
    h.shutdown().await;
}

#[tokio::test]
async fn lineage_has_joins_custom_sql_and_tables_and_400_for_ui_elements() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    let lineage = |element: &str| format!("/v2/workbooks/{WB_REVENUE}/lineage/elements/{element}");
    let (status, bar) = get_json(&h, &bearer, &lineage(EL_JOIN_BAR)).await;
    assert_eq!(status, StatusCode::OK);
    let types: Vec<&str> = bar["dependencies"]
        .as_object()
        .unwrap()
        .values()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert!(types.contains(&"join") && types.contains(&"table") && types.contains(&"sheet"));
    assert_eq!(bar["edges"].as_array().unwrap().len(), 3);

    let (_, pivot) = get_json(&h, &bearer, &lineage(EL_CUSTOM_SQL_PIVOT)).await;
    assert!(
        pivot["dependencies"]
            .as_object()
            .unwrap()
            .values()
            .any(|n| n["type"] == "customSQL")
    );
    for ui in [EL_TEXT, EL_CONTROL] {
        let (status, body) = get_json(&h, &bearer, &lineage(ui)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{ui}");
        assert_sigma_error(&body);
    }
    let (status, _) = get_json(&h, &bearer, &lineage("nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // A lineage table node resolves to a connection and [db, schema, table].
    let (status, path) = get_json(
        &h,
        &bearer,
        &format!("/v2/connections/paths/{TABLE_ORDERS_INODE}"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        path,
        json!({"connectionId": CONNECTION_SNOWFLAKE, "path": ["ANALYTICS", "SALES", "ORDERS"]})
    );
    let (status, file) = get_json(&h, &bearer, "/v2/files/tblOrders7QpX2mZk").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(file["type"], "table");
    h.shutdown().await;
}

#[tokio::test]
async fn other_details_and_not_found() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    for (path, field, id) in [
        (format!("/v2/members/{MEMBER_ADA}"), "memberId", MEMBER_ADA),
        (
            format!("/v2/workspaces/{WS_FINANCE}"),
            "workspaceId",
            WS_FINANCE,
        ),
        (
            format!("/v2/datasets/{DATASET_ORDERS}"),
            "datasetId",
            DATASET_ORDERS,
        ),
        (
            format!("/v2/dataModels/{DATA_MODEL_SALES}"),
            "dataModelId",
            DATA_MODEL_SALES,
        ),
        (format!("/v2/files/{WB_REVENUE_URL_ID}"), "id", WB_REVENUE),
        (
            format!("/v2/connections/{CONNECTION_SNOWFLAKE}"),
            "connectionId",
            CONNECTION_SNOWFLAKE,
        ),
    ] {
        let (status, body) = get_json(&h, &bearer, &path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert_eq!(body[field], id, "{path}");
    }
    for path in [
        "/v2/workbooks/unknown",
        "/v2/members/unknown",
        "/v2/datasets/unknown",
        "/v2/dataModels/unknown",
        "/v2/files/unknown",
        "/v2/connections/paths/inode-unknown",
        "/v2/workspaces/unknown",
        "/v2/workbooks/unknown/pages",
        "/v2/not-a-route",
    ] {
        let response = get(&h, &bearer, path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
        assert!(response.headers().contains_key("x-request-id"));
        assert_sigma_error(&response.json().await.unwrap());
    }
    let (_, elements) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/elements"),
    )
    .await;
    assert_eq!(elements["entries"].as_array().unwrap().len(), 4);
    let (_, columns) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/columns?limit=5"),
    )
    .await;
    assert_eq!(columns["total"], 12);
    assert!(columns["entries"][0]["elementId"].is_string());
    h.shutdown().await;
}

#[tokio::test]
async fn files_filter_by_type() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    let (_, workbooks) = get_json(&h, &bearer, "/v2/files?typeFilters=workbook&limit=100").await;
    let entries = workbooks["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 6);
    assert!(entries.iter().all(|e| e["type"] == "workbook"));
    let (_, two) = get_json(
        &h,
        &bearer,
        "/v2/files?typeFilters=folder&typeFilters=workspace&limit=100",
    )
    .await;
    assert_eq!(two["total"], 7);
    let (status, _) = get_json(&h, &bearer, "/v2/files?typeFilters=spreadsheet").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, all) = get_json(&h, &bearer, "/v2/files?limit=3").await;
    assert_eq!(all["entries"].as_array().unwrap().len(), 3);
    h.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Knobs

#[tokio::test]
async fn forbidden_switch_answers_403_by_route_or_id() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    h.update_knobs(|k| {
        k.forbidden.insert("/v2/members".to_owned());
        k.forbidden.insert(WB_MARKETING.to_owned());
    });
    let (status, body) = get_json(&h, &bearer, "/v2/members").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_sigma_error(&body);
    let (status, _) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_MARKETING}/pages")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE}")).await;
    assert_eq!(status, StatusCode::OK);
    h.update_knobs(|k| k.forbidden.clear());
    assert_eq!(
        get(&h, &bearer, "/v2/members").await.status(),
        StatusCode::OK
    );
    h.shutdown().await;
}

#[tokio::test]
async fn hang_switch_never_answers_and_shutdown_still_completes() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    h.update_knobs(|k| {
        k.hang.insert("/v2/workbooks/{workbookId}/pages".to_owned());
    });
    let result = http_with_timeout(Duration::from_millis(300))
        .get(format!("{}/v2/workbooks/{WB_REVENUE}/pages", h.base_url()))
        .bearer_auth(&bearer)
        .send()
        .await;
    assert!(result.is_err_and(|e| e.is_timeout()));
    assert_eq!(
        get(&h, &bearer, "/v2/workbooks").await.status(),
        StatusCode::OK
    );
    // A request still hanging at shutdown must not block it.
    let url = format!("{}/v2/workbooks/{WB_REVENUE}/pages", h.base_url());
    let hanging = tokio::spawn(http().get(url).bearer_auth(bearer).send());
    tokio::time::sleep(Duration::from_millis(50)).await;
    tokio::time::timeout(Duration::from_secs(5), h.shutdown())
        .await
        .expect("shutdown does not wait for hanging requests");
    assert!(hanging.await.unwrap().is_err());
}

#[tokio::test]
async fn malformed_switch_corrupts_chosen_objects_only() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    h.update_knobs(|k| {
        k.malformed_ids.insert(WB_MARKETING.to_owned());
    });
    let response = get(&h, &bearer, &format!("/v2/workbooks/{WB_MARKETING}")).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.json::<Value>().await.is_err());
    let (status, _) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE}")).await;
    assert_eq!(status, StatusCode::OK);
    h.shutdown().await;
}

#[tokio::test]
async fn rate_limit_answers_429_with_retry_after() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    // On a stopped clock the bucket does not refill between requests, however long each
    // takes: exactly two of six pass, and moving the clock a second lets two more through.
    h.freeze_clock();
    h.update_knobs(|k| k.rate_limit_per_second = Some(2));
    let mut statuses = Vec::new();
    let mut retry_after = None;
    for _ in 0..6 {
        let response = get(&h, &bearer, "/v2/workbooks").await;
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            retry_after = response.headers().get("retry-after").cloned();
            assert_sigma_error(&response.json().await.unwrap());
            statuses.push(429);
        } else {
            statuses.push(response.status().as_u16());
        }
    }
    assert_eq!(statuses, [200, 200, 429, 429, 429, 429]);
    assert_eq!(retry_after.unwrap(), "1");
    assert_eq!(h.stats().status_counts["429"], 4);
    h.advance_clock(Duration::from_secs(1));
    for expected in [
        StatusCode::OK,
        StatusCode::OK,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        assert_eq!(get(&h, &bearer, "/v2/workbooks").await.status(), expected);
    }
    h.shutdown().await;
}

#[tokio::test]
async fn latency_knob_delays_answers() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    h.update_knobs(|k| k.latency = Duration::from_millis(150));
    let started = Instant::now();
    assert_eq!(
        get(&h, &bearer, "/v2/workbooks").await.status(),
        StatusCode::OK
    );
    // timing: a lower bound on a delay the sandbox must make; slowness only adds to it.
    assert!(started.elapsed() >= Duration::from_millis(150));
    h.shutdown().await;
}

#[tokio::test]
async fn faults_are_deterministic_from_the_seed() {
    let knobs = Knobs {
        fault_rate: 0.3,
        fault_seed: 7,
        ..Knobs::default()
    };
    let h = fixture_sandbox().await;
    // Token first (with faults off), then replay the same numbered sequence twice.
    let bearer = token(&h).await;
    h.update_knobs(|k| *k = knobs.clone());
    let mut runs = Vec::new();
    for _ in 0..2 {
        h.reset_fault_sequence();
        let mut outcomes = Vec::new();
        for _ in 0..40 {
            let outcome = match http()
                .get(format!("{}/v2/workspaces", h.base_url()))
                .bearer_auth(&bearer)
                .send()
                .await
            {
                Ok(r) if r.status() == StatusCode::SERVICE_UNAVAILABLE => Fault::ServiceUnavailable,
                Ok(r) => {
                    assert_eq!(r.status(), StatusCode::OK);
                    Fault::None
                }
                Err(_) => Fault::DropConnection,
            };
            outcomes.push(outcome);
        }
        runs.push(outcomes);
    }
    let predicted: Vec<Fault> = (0..40).map(|n| knobs.fault_for(n)).collect();
    assert_eq!(runs[0], predicted);
    assert_eq!(runs[1], predicted);
    assert!(predicted.contains(&Fault::ServiceUnavailable));
    assert!(predicted.contains(&Fault::DropConnection));
    assert!(h.stats().status_counts["dropped"] > 0);
    h.shutdown().await;
}

#[tokio::test]
async fn stats_count_routes_statuses_grants_and_peak_in_flight() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    get(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE}")).await;
    get(&h, &bearer, &format!("/v2/workbooks/{WB_MARKETING}")).await;
    get(&h, &bearer, "/v2/workbooks/unknown").await;
    // Overlap made certain, not hoped for from a latency: two requests that hang are in
    // flight together until the test lets them go (waited for by count, bounded).
    h.update_knobs(|k| {
        k.hang.insert("/v2/teams".to_owned());
    });
    let hanging: Vec<_> = (0..2)
        .map(|_| {
            let url = format!("{}/v2/teams", h.base_url());
            let bearer = bearer.clone();
            tokio::spawn(async move { http().get(url).bearer_auth(bearer).send().await })
        })
        .collect();
    support::wait_until("two hanging requests", || {
        h.stats().requests("/v2/teams") == 2
    })
    .await;
    for request in hanging {
        request.abort();
    }
    for _ in 0..4 {
        get(&h, &bearer, "/v2/workspaces").await;
    }
    let stats = h.stats();
    assert_eq!(stats.requests_by_route["GET /v2/workbooks/{workbookId}"], 3);
    assert_eq!(stats.requests_by_route["POST /v2/auth/token"], 1);
    assert_eq!(stats.status_counts["404"], 1);
    assert_eq!(stats.token_grants["client_credentials"], 1);
    assert!(stats.peak_in_flight >= 2, "{stats:?}");
    let served: Value = http()
        .get(format!("{}/__stats", h.base_url()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(served["requestsByRoute"]["GET /v2/workspaces"], 4);
    assert_eq!(
        served["peakInFlight"].as_u64().unwrap(),
        stats.peak_in_flight as u64
    );
    h.shutdown().await;
}

#[tokio::test]
async fn hundred_thousand_workbooks_page_by_offset_to_the_end() {
    let built = Instant::now();
    let h = synthetic_sandbox(
        100_000,
        Knobs {
            page_token_style: PageTokenStyle::Numeric,
            ..Knobs::default()
        },
    )
    .await;
    let build_time = built.elapsed();
    let bearer = token(&h).await;
    let mut timings = Vec::new();
    for offset in [0, 99_000] {
        let started = Instant::now();
        let (status, body) = get_json(
            &h,
            &bearer,
            &format!("/v2/workbooks?limit=1000&page={offset}"),
        )
        .await;
        timings.push(started.elapsed());
        assert_eq!(status, StatusCode::OK);
        let entries = body["entries"].as_array().unwrap();
        assert_eq!(entries.len(), 1000);
        let org = h.org();
        let first = org
            .listed_workbooks(false)
            .get(offset)
            .unwrap()
            .workbook_id
            .clone();
        assert_eq!(
            entries[0]["workbookId"],
            first.as_str(),
            "the page starts at {offset}"
        );
    }
    let last = h.org().workbooks[99_999].workbook_id.clone();
    let (status, pages) = get_json(&h, &bearer, &format!("/v2/workbooks/{last}/pages")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pages["total"], 3);
    // Figures only: that a page costs the same at any offset is what the paging code does
    // by construction (it builds exactly the page's positions; `sandbox::paging`'s unit
    // test counts them), not something a timing on a shared machine can show.
    eprintln!(
        "100k org built in {build_time:?}; 1000-entry page at start {:?}, at end {:?}",
        timings[0], timings[1]
    );
    h.shutdown().await;
}

#[tokio::test]
async fn generator_is_deterministic() {
    let config = SyntheticConfig {
        workbooks: 30,
        seed: 9,
        ..SyntheticConfig::default()
    };
    let a = sigma_connector::sandbox::generate::generate(&config);
    let b = sigma_connector::sandbox::generate::generate(&config);
    assert_eq!(
        serde_json::to_value(&a.workbooks).unwrap(),
        serde_json::to_value(&b.workbooks).unwrap()
    );
    assert_eq!(
        serde_json::to_value(&*a.pages(7)).unwrap(),
        serde_json::to_value(&*b.pages(7)).unwrap()
    );
}

// ---------------------------------------------------------------------------------------------
// Conformance to Sigma's OpenAPI spec

/// The spec's `components/schemas` plus one response schema, as a JSON Schema document:
/// `oneOf` becomes `anyOf` because the spec's branches overlap.
fn response_validator(spec: &Value, path: &str) -> jsonschema::Validator {
    fn one_of_to_any_of(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if let Some(branches) = map.remove("oneOf") {
                    map.insert("anyOf".to_owned(), branches);
                }
                if let Some(Value::String(reference)) = map.get_mut("$ref")
                    && reference.starts_with("#components/")
                {
                    *reference = reference.replacen("#components/", "#/components/", 1);
                }
                map.values_mut().for_each(one_of_to_any_of);
            }
            Value::Array(items) => items.iter_mut().for_each(one_of_to_any_of),
            _ => {}
        }
    }
    let operation = spec["paths"][path]
        .get("get")
        .or_else(|| spec["paths"][path].get("post"))
        .unwrap_or_else(|| panic!("{path} in spec"));
    let mut schema = operation["responses"]["200"]["content"]["application/json"]["schema"].clone();
    assert!(schema.is_object(), "{path} has a 200 JSON schema");
    let mut components = json!({"schemas": spec["components"]["schemas"].clone()});
    one_of_to_any_of(&mut schema);
    one_of_to_any_of(&mut components);
    let mut document = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "components": components,
    });
    if let (Value::Object(doc), Value::Object(s)) = (&mut document, schema) {
        doc.extend(s);
    }
    jsonschema::options()
        .should_validate_formats(true)
        .build(&document)
        .unwrap_or_else(|e| panic!("{path}: schema builds: {e}"))
}

#[tokio::test]
async fn every_served_spec_route_conforms_to_the_spec() {
    // A copy of Sigma's published spec is committed, so the test runs on a clone without
    // the project's `../shared` beside it; where `../shared` is there, the copy must match.
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let spec_path = root.join("tests/data/sigma-openapi-2.0.0.json");
    let text = std::fs::read_to_string(&spec_path)
        .unwrap_or_else(|e| panic!("{}: {e}", spec_path.display()));
    if let Ok(shared) =
        std::fs::read_to_string(root.join("../shared/reference/sigma-openapi-2.0.0.json"))
    {
        assert!(
            shared == text,
            "tests/data/sigma-openapi-2.0.0.json differs from ../shared/reference: copy it over"
        );
    }
    let spec: Value = serde_json::from_str(&text).expect("spec is JSON");
    // Spec 2.0.0 describes the older surface.
    let h = start(SandboxConfig {
        api: ApiSurface::Legacy2023,
        ..SandboxConfig::default()
    })
    .await;
    let bearer = token(&h).await;
    let wb = WB_REVENUE;
    // (spec path, served URL). Several URLs per route where shapes differ.
    let routes: Vec<(&str, String)> = vec![
        ("/v2/workbooks", "/v2/workbooks?isArchived=true".into()),
        ("/v2/workbooks", "/v2/workbooks?limit=2".into()),
        ("/v2/workbooks/{workbookId}", format!("/v2/workbooks/{wb}")),
        (
            "/v2/workbooks/{workbookId}",
            format!("/v2/workbooks/{WB_ARCHIVED}"),
        ),
        (
            "/v2/workbooks/{workbookId}/pages",
            format!("/v2/workbooks/{wb}/pages"),
        ),
        (
            "/v2/workbooks/{workbookId}/pages/{pageId}/elements",
            format!("/v2/workbooks/{wb}/pages/{PAGE_OVERVIEW}/elements"),
        ),
        (
            "/v2/workbooks/{workbookId}/pages/{pageId}/elements",
            format!("/v2/workbooks/{wb}/pages/pgRevDetl02/elements"),
        ),
        (
            "/v2/workbooks/{workbookId}/queries",
            format!("/v2/workbooks/{wb}/queries"),
        ),
        (
            "/v2/workbooks/{workbookId}/elements/{elementId}/query",
            format!("/v2/workbooks/{wb}/elements/{EL_JOIN_BAR}/query"),
        ),
        (
            "/v2/workbooks/{workbookId}/lineage/elements/{elementId}",
            format!("/v2/workbooks/{wb}/lineage/elements/{EL_JOIN_BAR}"),
        ),
        (
            "/v2/workbooks/{workbookId}/lineage/elements/{elementId}",
            format!("/v2/workbooks/{wb}/lineage/elements/{EL_CUSTOM_SQL_PIVOT}"),
        ),
        (
            "/v2/workbooks/{workbookId}/lineage/elements/{elementId}",
            format!("/v2/workbooks/{WB_MARKETING}/lineage/elements/elMktTbl004"),
        ),
        (
            "/v2/workbooks/{workbookId}/tags",
            format!("/v2/workbooks/{wb}/tags"),
        ),
        (
            "/v2/workbooks/{workbookId}/sources",
            format!("/v2/workbooks/{wb}/sources"),
        ),
        (
            "/v2/workbooks/{workbookId}/elements/{elementId}/columns",
            format!("/v2/workbooks/{wb}/elements/{EL_JOIN_BAR}/columns"),
        ),
        (
            "/v2/dataModels/{dataModelId}/sources",
            format!("/v2/dataModels/{DATA_MODEL_SALES}/sources"),
        ),
        (
            "/v2/datasets/{datasetId}/sources",
            format!("/v2/datasets/{DATASET_ORDERS}/sources"),
        ),
        ("/v2/teams", "/v2/teams".into()),
        (
            "/v2/datasets/{datasetId}",
            format!("/v2/datasets/{DATASET_ORDERS}"),
        ),
        ("/v2/dataModels", "/v2/dataModels".into()),
        (
            "/v2/dataModels/{dataModelId}",
            format!("/v2/dataModels/{DATA_MODEL_SALES}"),
        ),
        ("/v2/files", "/v2/files?limit=1000".into()),
        (
            "/v2/files/{inodeId}",
            format!("/v2/files/{WB_REVENUE_URL_ID}"),
        ),
        ("/v2/files/{inodeId}", "/v2/files/tblOrders7QpX2mZk".into()),
        (
            "/v2/connections",
            "/v2/connections?includeArchived=true".into(),
        ),
        (
            "/v2/connections/{connectionId}",
            format!("/v2/connections/{CONNECTION_SNOWFLAKE}"),
        ),
        (
            "/v2/connections/paths/{inodeId}",
            format!("/v2/connections/paths/{TABLE_ORDERS_INODE}"),
        ),
        (
            "/v2/members",
            "/v2/members?includeArchived=true&includeInactive=true".into(),
        ),
        ("/v2/members", "/v2/members?limit=2".into()),
        (
            "/v2/members/{memberId}",
            format!("/v2/members/{MEMBER_ADA}"),
        ),
        ("/v2.1/members", "/v2.1/members".into()),
        ("/v2/workspaces", "/v2/workspaces".into()),
        ("/v2/workspaces", "/v2/workspaces?limit=1".into()),
        (
            "/v2/workspaces/{workspaceId}",
            format!("/v2/workspaces/{WS_FINANCE}"),
        ),
        ("/v2.1/workspaces", "/v2.1/workspaces".into()),
    ];
    // The validator must bite: a workbook without its required fields or with a bad timestamp.
    let workbooks = response_validator(&spec, "/v2/workbooks");
    assert!(!workbooks.is_valid(&json!({"entries": [{"workbookId": "x"}], "nextPage": null})));
    let (_, mut sample) = get_json(&h, &bearer, "/v2/workbooks?limit=1").await;
    assert!(workbooks.is_valid(&sample));
    sample["entries"][0]["createdAt"] = json!("yesterday");
    assert!(!workbooks.is_valid(&sample));

    let mut failures = Vec::new();
    for (spec_route, url) in &routes {
        let validator = response_validator(&spec, spec_route);
        let (status, body) = get_json(&h, &bearer, url).await;
        assert_eq!(status, StatusCode::OK, "{url}");
        for error in validator.iter_errors(&body) {
            failures.push(format!("{url}: {} at {}", error, error.instance_path()));
        }
    }
    // The token route too (form POST).
    let validator = response_validator(&spec, "/v2/auth/token");
    let body: Value = token_response(
        &h,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", h.client_id()),
            ("client_secret", h.client_secret()),
        ],
    )
    .await
    .json()
    .await
    .unwrap();
    failures.extend(validator.iter_errors(&body).map(|e| format!("token: {e}")));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    h.shutdown().await;
}

// ---------------------------------------------------------------------------------------------
// Today's surface, checked against the metadata subset of Sigma's 2026 spec

const REPORT_EXEC: &str = "4e90a1b2-0001-4c3d-8e4f-5a6b7c8d9e01";
const REPORT_ARCHIVED: &str = "4e90a1b2-0002-4c3d-8e4f-5a6b7c8d9e02";
const DATA_MODEL_MARKETING: &str = "e8f9a0b1-2222-4d3e-9f40-0000000000b2";
const DATA_MODEL_TARGETS: &str = "e8f9a0b1-2222-4d3e-9f40-0000000000b3";

/// A committed spec copy, checked against `../shared/reference` where that is present.
fn committed_spec(committed: &str, shared: &str) -> Value {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let path = root.join(committed);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if let Ok(reference) = std::fs::read_to_string(root.join(shared)) {
        assert!(
            reference == text,
            "{committed} differs from {shared}: copy it over"
        );
    }
    serde_json::from_str(&text).expect("spec is JSON")
}

#[tokio::test]
async fn todays_routes_conform_to_the_2026_spec() {
    let spec = committed_spec(
        "tests/data/sigma-api-2026-metadata-subset.json",
        "../shared/reference/sigma-api-2026/openapi-metadata-subset.json",
    );
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    let wb = WB_REVENUE;
    let mkt = WB_MARKETING;
    let rp = REPORT_EXEC;
    let dm = DATA_MODEL_SALES;
    let routes: Vec<(&str, String)> = vec![
        ("/v2/workbooks", "/v2/workbooks?limit=2".into()),
        ("/v2/workbooks/{workbookId}", format!("/v2/workbooks/{wb}")),
        (
            "/v2/workbooks/{workbookId}/elements",
            format!("/v2/workbooks/{wb}/elements"),
        ),
        (
            "/v2/workbooks/{workbookId}/elements",
            format!("/v2/workbooks/{mkt}/elements?limit=2"),
        ),
        (
            "/v2/workbooks/{workbookId}/elements/{elementId}/columns",
            format!("/v2/workbooks/{wb}/elements/{EL_JOIN_BAR}/columns"),
        ),
        (
            "/v2/workbooks/{workbookId}/elements/{elementId}/query",
            format!("/v2/workbooks/{mkt}/elements/elMktTbl004/query"),
        ),
        (
            "/v2/workbooks/{workbookId}/lineage",
            format!("/v2/workbooks/{wb}/lineage"),
        ),
        (
            "/v2/workbooks/{workbookId}/lineage",
            format!("/v2/workbooks/{mkt}/lineage"),
        ),
        (
            "/v2/workbooks/{workbookId}/lineage/elements/{elementId}",
            format!("/v2/workbooks/{wb}/lineage/elements/{EL_CUSTOM_SQL_PIVOT}"),
        ),
        (
            "/v2/workbooks/{workbookId}/columns",
            format!("/v2/workbooks/{wb}/columns"),
        ),
        (
            "/v2/workbooks/{workbookId}/sources",
            format!("/v2/workbooks/{wb}/sources"),
        ),
        (
            "/v2/workbooks/{workbookId}/sources",
            format!("/v2/workbooks/{mkt}/sources"),
        ),
        (
            "/v2/workbooks/{workbookId}/pages",
            format!("/v2/workbooks/{wb}/pages"),
        ),
        (
            "/v2/workbooks/{workbookId}/pages/{pageId}/elements",
            format!("/v2/workbooks/{wb}/pages/{PAGE_OVERVIEW}/elements"),
        ),
        (
            "/v2/workbooks/{workbookId}/tags",
            format!("/v2/workbooks/{wb}/tags"),
        ),
        ("/v2/reports", "/v2/reports?isArchived=true".into()),
        ("/v2/reports", "/v2/reports?limit=1".into()),
        ("/v2/reports/{reportId}", format!("/v2/reports/{rp}")),
        (
            "/v2/reports/{reportId}",
            format!("/v2/reports/{REPORT_ARCHIVED}"),
        ),
        (
            "/v2/reports/{reportId}/pages",
            format!("/v2/reports/{rp}/pages"),
        ),
        (
            "/v2/reports/{reportId}/pages",
            format!("/v2/reports/{rp}/pages?pageSize=1"),
        ),
        (
            "/v2/reports/{reportId}/pages/{pageId}/elements",
            format!("/v2/reports/{rp}/pages/pgExecSum01/elements"),
        ),
        (
            "/v2/reports/{reportId}/elements",
            format!("/v2/reports/{rp}/elements"),
        ),
        (
            "/v2/reports/{reportId}/elements/{elementId}/columns",
            format!("/v2/reports/{rp}/elements/elExecKpi01/columns"),
        ),
        (
            "/v2/reports/{reportId}/elements/{elementId}/query",
            format!("/v2/reports/{rp}/elements/elExecPvt05/query"),
        ),
        (
            "/v2/reports/{reportId}/elements/{elementId}/query",
            format!("/v2/reports/{rp}/elements/elExecTbl04/query"),
        ),
        (
            "/v2/reports/{reportId}/lineage",
            format!("/v2/reports/{rp}/lineage"),
        ),
        (
            "/v2/reports/{reportId}/lineage/elements/{elementId}",
            format!("/v2/reports/{rp}/lineage/elements/elExecPvt05"),
        ),
        (
            "/v2/reports/{reportId}/queries",
            format!("/v2/reports/{rp}/queries"),
        ),
        (
            "/v2/reports/{reportId}/columns",
            format!("/v2/reports/{rp}/columns"),
        ),
        ("/v2/dataModels", "/v2/dataModels".into()),
        (
            "/v2/dataModels/{dataModelId}",
            format!("/v2/dataModels/{dm}"),
        ),
        (
            "/v2/dataModels/{dataModelId}/elements",
            format!("/v2/dataModels/{dm}/elements"),
        ),
        (
            "/v2/dataModels/{dataModelId}/columns",
            format!("/v2/dataModels/{dm}/columns"),
        ),
        (
            "/v2/dataModels/{dataModelId}/lineage",
            format!("/v2/dataModels/{dm}/lineage"),
        ),
        (
            "/v2/dataModels/{dataModelId}/lineage",
            format!("/v2/dataModels/{DATA_MODEL_TARGETS}/lineage"),
        ),
        (
            "/v2/dataModels/{dataModelId}/sources",
            format!("/v2/dataModels/{dm}/sources"),
        ),
        (
            "/v2/dataModels/{dataModelId}/sources",
            format!("/v2/dataModels/{DATA_MODEL_TARGETS}/sources"),
        ),
        (
            "/v2/dataModels/{dataModelId}/tags",
            format!("/v2/dataModels/{dm}/tags"),
        ),
        ("/v2/datasets", "/v2/datasets".into()),
        (
            "/v2/datasets/{datasetId}",
            format!("/v2/datasets/{DATASET_ORDERS}"),
        ),
        (
            "/v2/datasets/{datasetId}/sources",
            format!("/v2/datasets/{DATASET_ORDERS}/sources"),
        ),
        ("/v2/members", "/v2/members".into()),
        ("/v2/members", "/v2/members?limit=2".into()),
        (
            "/v2/members/{memberId}",
            format!("/v2/members/{MEMBER_ADA}"),
        ),
        ("/v2/teams", "/v2/teams".into()),
        ("/v2/files", "/v2/files?limit=1000".into()),
        ("/v2/connections", "/v2/connections".into()),
        (
            "/v2/connections/paths/{inodeId}",
            format!("/v2/connections/paths/{TABLE_ORDERS_INODE}"),
        ),
    ];
    // The validator bites on the new shapes too: a column whose `type` is a string.
    let columns = response_validator(&spec, "/v2/dataModels/{dataModelId}/columns");
    let (_, mut sample) = get_json(&h, &bearer, &format!("/v2/dataModels/{dm}/columns")).await;
    assert!(columns.is_valid(&sample));
    sample["entries"][0]["type"] = json!("text");
    assert!(!columns.is_valid(&sample));

    let mut failures = Vec::new();
    for (spec_route, url) in &routes {
        let validator = response_validator(&spec, spec_route);
        let (status, body) = get_json(&h, &bearer, url).await;
        assert_eq!(status, StatusCode::OK, "{url}: {body}");
        for error in validator.iter_errors(&body) {
            failures.push(format!("{url}: {} at {}", error, error.instance_path()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    h.shutdown().await;
}

#[tokio::test]
async fn the_older_surface_answers_404_on_todays_routes_and_keeps_dataset_sql() {
    let legacy = start(SandboxConfig {
        api: ApiSurface::Legacy2023,
        ..SandboxConfig::default()
    })
    .await;
    let today = fixture_sandbox().await;
    let query = format!("/v2/workbooks/{WB_MARKETING}/elements/elMktTbl004/query");
    let new_routes = [
        format!("/v2/workbooks/{WB_REVENUE}/elements"),
        format!("/v2/workbooks/{WB_REVENUE}/lineage"),
        "/v2/reports".to_owned(),
        format!("/v2/reports/{REPORT_EXEC}/pages"),
        format!("/v2/dataModels/{DATA_MODEL_SALES}/lineage"),
        format!("/v2/dataModels/{DATA_MODEL_SALES}/tags"),
    ];
    let bearer = token(&legacy).await;
    for path in &new_routes {
        let (status, body) = get_json(&legacy, &bearer, path).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        assert_sigma_error(&body);
    }
    let stats = legacy.stats();
    assert_eq!(
        stats.answers("/v2/workbooks/{workbookId}/lineage", "404"),
        1
    );
    assert_eq!(stats.requests("GET /v2/reports"), 1);
    let (_, members) = get_json(&legacy, &bearer, "/v2/members").await;
    assert!(members.is_array());
    let (_, q) = get_json(&legacy, &bearer, &query).await;
    assert!(
        q["sql"].is_string(),
        "the older surface keeps a dataset element's SQL"
    );
    let (_, model_elements) = get_json(
        &legacy,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/elements"),
    )
    .await;
    assert_eq!(
        model_elements["entries"][0]["sourceTable"],
        TABLE_ORDERS_INODE
    );
    let (_, sources) = get_json(
        &legacy,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/sources"),
    )
    .await;
    assert!(
        sources["entries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["type"] != "custom-sql"),
        "2.0.0 had no custom-sql source"
    );
    let (_, columns) = get_json(
        &legacy,
        &bearer,
        &format!("/v2/workbooks/{WB_REVENUE}/elements/{EL_JOIN_BAR}/columns"),
    )
    .await;
    assert!(columns["entries"][0].get("type").is_none());

    let bearer = token(&today).await;
    for path in &new_routes {
        let (status, _) = get_json(&today, &bearer, path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    let (status, q) = get_json(&today, &bearer, &query).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        q.get("sql").is_none(),
        "a dataset-backed element has no SQL today: {q}"
    );
    let (_, model_elements) = get_json(
        &today,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/elements"),
    )
    .await;
    assert!(model_elements["entries"][0].get("sourceTable").is_none());
    assert_eq!(model_elements["entries"][0]["columns"][0], "ID");
    // Members page only, and there are more than 50 of them.
    let (_, first) = get_json(&today, &bearer, "/v2/members").await;
    assert_eq!(first["entries"].as_array().unwrap().len(), 50);
    let next = first["nextPage"].as_str().expect("a second page");
    let (_, second) = get_json(&today, &bearer, &format!("/v2/members?page={next}")).await;
    assert!(
        second["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["memberId"] == "MbR4dBulkMember055")
    );
    let (_, teams) = get_json(&today, &bearer, "/v2/teams").await;
    assert_eq!(teams["entries"].as_array().unwrap().len(), 2);
    legacy.shutdown().await;
    today.shutdown().await;
}

#[tokio::test]
async fn data_model_lineage_and_sources_follow_the_spec_spellings() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    let (_, lineage) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/lineage"),
    )
    .await;
    let entries = lineage["entries"].as_array().unwrap();
    let revenue = entries
        .iter()
        .find(|e| e["elementId"] == "dmElRevenu3")
        .unwrap();
    assert_eq!(revenue["type"], "element");
    assert_eq!(revenue["sourceIds"], json!(["dmElOrders1", "dmElCustmr2"]));
    assert_eq!(
        revenue["dataSourceIds"],
        json!(["inode-tblCustmrs8RtY3nL", "inode-tblOrders7QpX2mZk"]),
        "siblings followed to their tables"
    );
    let sql = entries.iter().find(|e| e["type"] == "customSQL").unwrap();
    let definition = sql["definition"].as_str().unwrap();
    assert!(definition.starts_with("with big as") && definition.contains(" join "));
    // Sources say custom-sql where lineage says customSQL; paged by token.
    let (_, first) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/sources?pageSize=2"),
    )
    .await;
    let token_value = first["nextPageToken"].as_str().expect("more sources");
    let (_, rest) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/sources?pageSize=2&pageToken={token_value}"),
    )
    .await;
    assert!(
        rest.get("nextPageToken").is_none(),
        "absent on the last page"
    );
    let all: Vec<&Value> = first["entries"]
        .as_array()
        .unwrap()
        .iter()
        .chain(rest["entries"].as_array().unwrap())
        .collect();
    assert_eq!(all.len(), 3);
    assert!(
        all.iter()
            .any(|s| s["type"] == "custom-sql" && s["customSqlId"] == "dmElBigSql4")
    );
    let (status, _) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_SALES}/sources?pageSize=501"),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "pageSize is at most 500");
    // The chain: Targets reads Marketing, which reads Sales.
    let (_, targets) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_TARGETS}/sources"),
    )
    .await;
    assert!(targets["entries"].as_array().unwrap().contains(&json!(
        {"type": "data-model", "dataModelId": DATA_MODEL_MARKETING, "elementIds": ["dmElRegns5"]}
    )));
    assert!(targets["entries"].as_array().unwrap().contains(&json!(
        {"type": "dataset", "datasetId": DATASET_ORDERS}
    )));
    let (_, marketing) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_MARKETING}/sources"),
    )
    .await;
    assert!(marketing["entries"].as_array().unwrap().contains(&json!(
        {"type": "data-model", "dataModelId": DATA_MODEL_SALES, "elementIds": ["dmElRevenu3"]}
    )));
    let (_, columns) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_TARGETS}/columns"),
    )
    .await;
    assert_eq!(
        columns["entries"][1]["formula"],
        "[Sales Regions/Revenue] * 1.1"
    );
    assert!(columns["entries"][1]["type"].is_object());
    h.shutdown().await;
}

#[tokio::test]
async fn retired_datasets_carry_migration_state_and_fail_as_sigma_does() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    let (_, datasets) = get_json(&h, &bearer, "/v2/datasets").await;
    let states: std::collections::BTreeSet<&str> = datasets["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["migrationStatus"].as_str().unwrap())
        .collect();
    assert_eq!(
        states.into_iter().collect::<Vec<_>>(),
        ["migrated", "not-migrated", "not-required"]
    );
    let migrated = datasets["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["migrationStatus"] == "migrated")
        .unwrap();
    assert_eq!(
        migrated["migrationToDataModel"]["dataModelId"],
        DATA_MODEL_MARKETING
    );
    let (status, sources) = get_json(
        &h,
        &bearer,
        &format!("/v2/datasets/{DATASET_ORDERS}/sources"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        sources,
        json!([{"type": "table", "inodeId": TABLE_ORDERS_INODE}])
    );
    let (status, body) = get_json(
        &h,
        &bearer,
        "/v2/datasets/d5e7a9b1-1111-4c2d-8e3f-0000000000a4/sources",
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("inode_archived"))
    );
    let (status, _) = get_json(
        &h,
        &bearer,
        "/v2/datasets/d5e7a9b1-1111-4c2d-8e3f-0000000000a5/sources",
    )
    .await;
    assert_eq!(status, StatusCode::GONE);
    let (status, body) =
        get_json(&h, &bearer, "/v2/connections/paths/inode-tblOrd2019Arc0Zz9").await;
    assert_eq!(
        (status, body["code"].as_str()),
        (StatusCode::CONFLICT, Some("inode_archived"))
    );
    let (status, _) = get_json(&h, &bearer, "/v2/connections/paths/inode-tblDeleted00Gone").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    h.shutdown().await;
}

#[tokio::test]
async fn reports_page_by_token_and_workbooks_answer_in_one_call() {
    let h = fixture_sandbox().await;
    let bearer = token(&h).await;
    let (_, reports) = get_json(&h, &bearer, "/v2/reports").await;
    assert_eq!(
        reports["entries"].as_array().unwrap().len(),
        2,
        "archived hidden"
    );
    let (_, all) = get_json(&h, &bearer, "/v2/reports?isArchived=true").await;
    assert_eq!(all["total"], 3);
    let (_, pages) = get_json(
        &h,
        &bearer,
        &format!("/v2/reports/{REPORT_EXEC}/pages?pageSize=1"),
    )
    .await;
    let next = pages["nextPageToken"].as_str().expect("a second page");
    let (_, last) = get_json(
        &h,
        &bearer,
        &format!("/v2/reports/{REPORT_EXEC}/pages?pageSize=1&pageToken={next}"),
    )
    .await;
    assert_eq!(last["entries"][0]["pageId"], "pgExecDet02");
    assert!(last.get("nextPageToken").is_none());
    let (_, lineage) = get_json(&h, &bearer, &format!("/v2/reports/{REPORT_EXEC}/lineage")).await;
    let entries = lineage["entries"].as_array().unwrap();
    assert!(
        entries
            .iter()
            .any(|e| e["type"] == "data-model" && e["dataModelId"] == DATA_MODEL_SALES)
    );
    assert!(entries.iter().any(
        |e| e["type"] == "customSQL" && e["definition"].as_str().unwrap().contains("SHIPMENTS")
    ));
    // Workbook-level: every element of every page, with its page.
    let (_, elements) =
        get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE}/elements")).await;
    let elements = elements["entries"].as_array().unwrap();
    assert_eq!(elements.len(), 9);
    assert!(elements.iter().all(|e| e["pageId"].is_string()));
    let (_, lineage) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE}/lineage")).await;
    let bar = lineage["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["elementId"] == EL_JOIN_BAR)
        .unwrap();
    assert_eq!(
        bar["sourceIds"],
        json!(["inode-tblCustmrs8RtY3nL", "inode-tblOrders7QpX2mZk"]),
        "a join is passed through to what it joins"
    );
    let (_, columns) = get_json(&h, &bearer, &format!("/v2/workbooks/{WB_REVENUE}/columns")).await;
    assert!(columns["entries"].as_array().unwrap().iter().any(|c| {
        c["columnId"]
            .as_str()
            .unwrap()
            .starts_with("inode-tblOrders7QpX2mZk/")
    }));
    let (_, element_columns) = get_json(
        &h,
        &bearer,
        &format!("/v2/workbooks/{WB_REVENUE}/elements/elRevKpi001/columns"),
    )
    .await;
    assert!(element_columns["entries"][0]["label"].is_string());
    h.shutdown().await;
}

#[tokio::test]
async fn knobs_and_counts_cover_todays_routes() {
    let knobs = Knobs {
        forbidden: ["/v2/reports/{reportId}/lineage".to_owned()].into(),
        malformed_ids: [DATA_MODEL_MARKETING.to_owned()].into(),
        corrupt: [(
            REPORT_EXEC.to_owned(),
            sigma_connector::sandbox::Corruption::MissingField("name".into()),
        )]
        .into(),
        fail_listings_from_offset: Some(1),
        ..Knobs::default()
    };
    let h = start(SandboxConfig {
        knobs,
        ..SandboxConfig::default()
    })
    .await;
    let bearer = token(&h).await;
    let (status, _) = get_json(&h, &bearer, &format!("/v2/reports/{REPORT_EXEC}/lineage")).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let response = get(
        &h,
        &bearer,
        &format!("/v2/dataModels/{DATA_MODEL_MARKETING}/lineage"),
    )
    .await;
    assert!(response.json::<Value>().await.is_err(), "malformed body");
    let (_, report) = get_json(&h, &bearer, &format!("/v2/reports/{REPORT_EXEC}")).await;
    assert!(report.get("name").is_none() && report["reportId"] == REPORT_EXEC);
    let (_, first) = get_json(
        &h,
        &bearer,
        &format!("/v2/reports/{REPORT_EXEC}/pages?pageSize=1"),
    )
    .await;
    let next = first["nextPageToken"].as_str().unwrap();
    let (status, _) = get_json(
        &h,
        &bearer,
        &format!("/v2/reports/{REPORT_EXEC}/pages?pageSize=1&pageToken={next}"),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "broken token listing"
    );
    let stats = h.stats();
    assert_eq!(stats.answers("/v2/reports/{reportId}/lineage", "403"), 1);
    assert_eq!(stats.requests("/v2/reports/{reportId}/pages"), 2);
    assert_eq!(stats.answers("/v2/reports/{reportId}/pages", "500"), 1);
    assert_eq!(stats.requests_under("/v2/reports"), 4);
    h.update_knobs(|k| {
        k.hang.insert(format!("/v2/workbooks/{WB_REVENUE}/lineage"));
    });
    let slow = http_with_timeout(Duration::from_millis(300))
        .get(format!(
            "{}/v2/workbooks/{WB_REVENUE}/lineage",
            h.base_url()
        ))
        .bearer_auth(&bearer)
        .send()
        .await;
    assert!(slow.is_err(), "hangs on today's routes too");
    h.shutdown().await;
}

#[tokio::test]
async fn generated_orgs_have_reports_and_chained_data_models_with_lineage() {
    let config = SyntheticConfig {
        workbooks: 5,
        data_models: 4,
        reports: 3,
        datasets: 6,
        seed: 11,
        ..SyntheticConfig::default()
    };
    let a = sigma_connector::sandbox::generate::generate(&config);
    let b = sigma_connector::sandbox::generate::generate(&config);
    for (x, y) in [
        (
            serde_json::to_value(&a.reports).unwrap(),
            serde_json::to_value(&b.reports).unwrap(),
        ),
        (
            serde_json::to_value(&a.datasets).unwrap(),
            serde_json::to_value(&b.datasets).unwrap(),
        ),
        (
            serde_json::to_value(&*a.report_pages(&a.reports[2])).unwrap(),
            serde_json::to_value(&*b.report_pages(&b.reports[2])).unwrap(),
        ),
    ] {
        assert_eq!(x, y);
    }
    let h = start(SandboxConfig {
        org: OrgSource::Synthetic(config),
        ..SandboxConfig::default()
    })
    .await;
    let bearer = token(&h).await;
    let models = h.org().data_models.clone();
    assert_eq!(models.len(), 4);
    // Each model after the first reads the one before it: a chain of four.
    for pair in models.windows(2) {
        let (_, sources) = get_json(
            &h,
            &bearer,
            &format!("/v2/dataModels/{}/sources", pair[1].data_model_id),
        )
        .await;
        let entries = sources["entries"].as_array().unwrap();
        assert!(entries.iter().any(
            |s| s["type"] == "data-model" && s["dataModelId"] == pair[0].data_model_id.as_str()
        ));
        assert!(
            entries.iter().any(|s| s["type"] == "custom-sql"
                && s["definition"].as_str().unwrap().contains(" join "))
        );
    }
    let (_, lineage) = get_json(
        &h,
        &bearer,
        &format!("/v2/dataModels/{}/lineage", models[0].data_model_id),
    )
    .await;
    assert!(
        lineage["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "table")
    );
    let report = &h.org().reports[0].report_id.clone();
    let (status, pages) = get_json(&h, &bearer, &format!("/v2/reports/{report}/pages")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pages["entries"].as_array().unwrap().len(), 3);
    let (_, lineage) = get_json(&h, &bearer, &format!("/v2/reports/{report}/lineage")).await;
    assert!(
        lineage["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["type"] == "table")
    );
    let (_, datasets) = get_json(&h, &bearer, "/v2/datasets").await;
    let migrated = &datasets["entries"][0];
    assert_eq!(migrated["migrationStatus"], "migrated");
    assert_eq!(
        migrated["migrationToDataModel"]["dataModelId"],
        models[0].data_model_id.as_str()
    );
    h.shutdown().await;
}
