//! Tokens: grants, credentials in the form and as Basic, single-use refresh tokens, expiry on
//! the sandbox's clock, the Keycloak-style realm endpoint.

use super::*;

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
