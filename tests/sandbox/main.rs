//! The Sigma sandbox over real HTTP, one module per concern: auth, paging, routes, knobs and
//! stats, conformance to Sigma's 2.0.0 spec, and today's (2026) surface. One test binary:
//! the modules share the helpers below.

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

#[path = "../support/mod.rs"]
mod support;

mod auth;
mod knobs;
mod paging;
mod routes;
mod spec;
mod today;

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
