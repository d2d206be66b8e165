//! Token issuance (`/v2/auth/token` and a Keycloak-style realm endpoint) and bearer checks.

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use bytes::Bytes;
use serde_json::json;

use super::error::ApiError;
use super::state::{AppState, SharedState};

/// Lifetime Keycloak-style realms give their access tokens.
const KEYCLOAK_TOKEN_LIFETIME: Duration = Duration::from_secs(300);

/// The form fields and Basic credentials of a token request.
struct TokenRequest {
    fields: HashMap<String, String>,
    client_id: Option<String>,
    client_secret: Option<String>,
}

fn parse_token_request(headers: &HeaderMap, body: &[u8]) -> TokenRequest {
    let fields: HashMap<String, String> = url::form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Basic ")
                .or_else(|| v.strip_prefix("basic "))
        })
        .and_then(|b64| {
            base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .ok()
        })
        .and_then(|raw| String::from_utf8(raw).ok())
        .and_then(|pair| {
            pair.split_once(':')
                .map(|(id, secret)| (id.to_owned(), secret.to_owned()))
        });
    let (basic_id, basic_secret) = basic.unzip();
    TokenRequest {
        client_id: fields.get("client_id").cloned().or(basic_id),
        client_secret: fields.get("client_secret").cloned().or(basic_secret),
        fields,
    }
}

impl AppState {
    fn credentials_match(&self, request: &TokenRequest) -> bool {
        request.client_id.as_deref() == Some(self.client_id.as_str())
            && request.client_secret.as_deref() == Some(self.client_secret.as_str())
    }
}

/// `POST /v2/auth/token`.
pub(crate) async fn sigma_token(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let request = parse_token_request(&headers, &body);
    let grant_type = request
        .fields
        .get("grant_type")
        .map(String::as_str)
        .unwrap_or_default();
    match grant_type {
        "client_credentials" | "refresh_token" => {}
        "" => return Err(ApiError::bad_request("grant_type is required")),
        _ => return Err(ApiError::bad_request("unsupported grant_type")),
    }
    if !state.credentials_match(&request) {
        return Err(ApiError::unauthorized("Invalid client credentials"));
    }
    if grant_type == "refresh_token" {
        let refresh = request
            .fields
            .get("refresh_token")
            .map(String::as_str)
            .unwrap_or_default();
        if refresh.is_empty() {
            return Err(ApiError::bad_request("refresh_token is required"));
        }
        if !state.tokens.redeem_refresh(refresh) {
            return Err(ApiError::unauthorized(
                "Invalid, expired or already used refresh token",
            ));
        }
    }
    let (lifetime, uses) = {
        let knobs = state.knobs();
        (knobs.token_lifetime, knobs.token_uses)
    };
    let access_token = state
        .tokens
        .issue_access(state.clock.now() + lifetime, uses);
    let refresh_token = state.tokens.issue_refresh();
    state.stats.grant(grant_type);
    Ok(Json(json!({
        "access_token": access_token,
        "refresh_token": refresh_token,
        "token_type": "bearer",
        "expires_in": lifetime.as_secs(),
    }))
    .into_response())
}

/// `POST /auth/realms/{realm}/protocol/openid-connect/token`: client credentials only, errors
/// in RFC 6749's shape rather than Sigma's.
pub(crate) async fn keycloak_token(
    State(state): State<SharedState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request = parse_token_request(&headers, &body);
    let oauth_error = |status: StatusCode, error: &str, description: &str| {
        (
            status,
            Json(json!({"error": error, "error_description": description})),
        )
            .into_response()
    };
    match request.fields.get("grant_type").map(String::as_str) {
        Some("client_credentials") => {}
        Some(_) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                "Unsupported grant_type",
            );
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "Missing form parameter: grant_type",
            );
        }
    }
    if !state.credentials_match(&request) {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Invalid client or Invalid client credentials",
        );
    }
    let uses = state.knobs().token_uses;
    let access_token = state
        .tokens
        .issue_access(state.clock.now() + KEYCLOAK_TOKEN_LIFETIME, uses);
    state.stats.grant("keycloak_client_credentials");
    Json(json!({
        "access_token": access_token,
        "expires_in": KEYCLOAK_TOKEN_LIFETIME.as_secs(),
        "refresh_expires_in": 0,
        "token_type": "Bearer",
        "not-before-policy": 0,
        "scope": "profile email",
    }))
    .into_response()
}

/// Whether the request carries a live bearer token.
pub(crate) fn bearer_is_valid(state: &AppState, headers: &HeaderMap) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .is_some_and(|token| state.tokens.accept(token.trim(), state.clock.now()))
}
