//! The Sigma client against in-test servers (wiremock, and small axum servers where a
//! server must count requests in flight). Real time with millisecond backoffs: tokio's
//! paused clock would fire the HTTP timeouts while a request waits on a socket. The
//! timing semantics (refresh margins, pacing) are unit-tested under a paused clock in
//! the modules themselves.

use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::{Value, json};
use sigma_connector::client::{
    AuthFailure, BackoffConfig, ClientError, ErrorKind, PageStyle, RetryConfig, SigmaClient,
};
use sigma_connector::config::{SigmaConnection, load_connection_str};
use wiremock::matchers::{
    body_string_contains, header, method, path, query_param, query_param_is_missing,
};
use wiremock::{Mock, MockServer, ResponseTemplate};

const SECRET: &str = "the-client-secret-XYZ";
const ACCESS: &str = "access-token-AAA111";
const REFRESH: &str = "refresh-token-RRR222";

/// A whole listing as a test reads it: what arrived, and whether that is all of it.
struct Listing<T> {
    items: Vec<T>,
    complete: bool,
    error: Option<ClientError>,
}

/// Reads a stream of items to its end, keeping the items that arrived before a failure.
async fn collect_all<T>(stream: impl futures::Stream<Item = Result<T, ClientError>>) -> Listing<T> {
    let mut stream = std::pin::pin!(stream);
    let mut items = Vec::new();
    while let Some(next) = futures::StreamExt::next(&mut stream).await {
        match next {
            Ok(item) => items.push(item),
            Err(error) => {
                return Listing {
                    items,
                    complete: false,
                    error: Some(error),
                };
            }
        }
    }
    Listing {
        items,
        complete: true,
        error: None,
    }
}

fn conn_with(host: &str, extra: Value) -> SigmaConnection {
    let mut v = json!({"hostPort": host, "clientId": "client-1", "clientSecret": SECRET});
    for (k, x) in extra.as_object().unwrap() {
        v[k] = x.clone();
    }
    load_connection_str(&v.to_string()).unwrap()
}

fn fast_retries() -> RetryConfig {
    RetryConfig {
        max_retries: 5,
        retry_timeout: Duration::from_secs(20),
        backoff: BackoffConfig {
            init: Duration::from_millis(1),
            max: Duration::from_millis(5),
        },
        max_retry_after: Duration::from_secs(120),
    }
}

fn client_for(server: &MockServer) -> SigmaClient {
    SigmaClient::with_retry_config(&conn_with(&server.uri(), json!({})), fast_retries()).unwrap()
}

fn token_body(access: &str, refresh: Option<&str>, expires_in: u64) -> Value {
    let mut v = json!({"access_token": access, "token_type": "bearer", "expires_in": expires_in});
    if let Some(r) = refresh {
        v["refresh_token"] = json!(r);
    }
    v
}

async fn mount_token(server: &MockServer, expect: impl Into<wiremock::Times>) {
    Mock::given(method("POST"))
        .and(path("/v2/auth/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .and(body_string_contains("client_id=client-1"))
        .and(body_string_contains(format!("client_secret={SECRET}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(
            ACCESS,
            Some(REFRESH),
            3599,
        )))
        .expect(expect)
        .named("client_credentials grant")
        .mount(server)
        .await;
}

// ---------------------------------------------------------------- tokens

#[tokio::test]
async fn one_token_fetch_serves_100_concurrent_requests() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path("/v2/workbooks/abc"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .and(header(
            "user-agent",
            concat!("sigma-connector/", env!("CARGO_PKG_VERSION")),
        ))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"workbookId": "abc"})))
        .expect(100)
        .mount(&server)
        .await;
    let client = client_for(&server);
    let results =
        futures::future::join_all((0..100).map(|_| client.get_json::<Value>("workbooks/abc", &[])))
            .await;
    for r in results {
        assert_eq!(r.unwrap()["workbookId"], "abc");
    }
    let stats = client.stats();
    assert_eq!(stats.token_fetches, 1);
    assert_eq!(stats.requests_sent, 101);
    assert!(stats.bytes_received > 0);
}

#[tokio::test]
async fn a_stale_token_is_refreshed_with_the_refresh_token() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("POST"))
        .and(path("/v2/auth/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .and(body_string_contains(format!("refresh_token={REFRESH}")))
        .and(body_string_contains(format!("client_secret={SECRET}")))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body(
            "access-2",
            Some("refresh-2"),
            3599,
        )))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer access-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server);
    client.authenticate().await.unwrap();
    client.invalidate_token().await;
    client.get_json::<Value>("workbooks", &[]).await.unwrap();
    assert_eq!(client.stats().token_fetches, 2);
}

#[tokio::test]
async fn a_rejected_refresh_token_falls_back_to_client_credentials() {
    let server = MockServer::start().await;
    mount_token(&server, 2).await;
    Mock::given(method("POST"))
        .and(path("/v2/auth/token"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(
            ResponseTemplate::new(400)
                .set_body_json(json!({"error": "invalid_grant", "error_description": "expired"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let client = client_for(&server);
    client.authenticate().await.unwrap();
    client.invalidate_token().await;
    client.get_json::<Value>("workbooks", &[]).await.unwrap();
    assert_eq!(client.stats().token_fetches, 3);
}

#[tokio::test]
async fn a_401_is_replayed_once_with_a_new_token() {
    let server = MockServer::start().await;
    mount_token(&server, 0..).await;
    Mock::given(method("POST"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body("access-2", None, 3599)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", format!("Bearer {ACCESS}").as_str()))
        .respond_with(
            ResponseTemplate::new(401)
                .set_body_json(json!({"message": "Unauthorized", "code": "unauthorized"})),
        )
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(header("authorization", "Bearer access-2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .expect(1)
        .mount(&server)
        .await;
    let client = client_for(&server);
    let v: Value = client.get_json("workbooks/x", &[]).await.unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(client.stats().auth_replays, 1);
    assert_eq!(client.stats().token_fetches, 2);
}

#[tokio::test]
async fn a_second_401_is_an_authentication_error_naming_the_cause() {
    let server = MockServer::start().await;
    mount_token(&server, 0..).await;
    Mock::given(method("POST"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(token_body("access-2", None, 3599)))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401).insert_header("x-request-id", "req-401"))
        .expect(2)
        .mount(&server)
        .await;
    let client = client_for(&server);
    let err = client
        .get_json::<Value>("workbooks/x", &[])
        .await
        .unwrap_err();
    assert!(err.is_auth());
    assert_eq!(err.kind(), &ErrorKind::Auth(AuthFailure::TokenRejected));
    assert_eq!(err.status().map(|s| s.as_u16()), Some(401));
    assert_eq!(err.request_id(), Some("req-401"));
    let msg = err.to_string();
    assert!(msg.contains("revoked") && msg.contains("REST API"), "{msg}");
    let public: sigma_connector::Error = err.into();
    assert_eq!(public.exit_code(), 1);
}

#[tokio::test]
async fn keycloak_token_endpoint_works() {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/auth/realms/r/protocol/openid-connect/token"))
        .and(body_string_contains("grant_type=client_credentials"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({
            "access_token": "kc-token", "expires_in": 300, "refresh_expires_in": 0,
            "token_type": "Bearer", "not-before-policy": 0, "scope": "profile email"
        })))
        .expect(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/workspaces"))
        .and(header("authorization", "Bearer kc-token"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!([])))
        .expect(1)
        .mount(&server)
        .await;
    let token_url = format!(
        "{}/auth/realms/r/protocol/openid-connect/token",
        server.uri()
    );
    let client = SigmaClient::with_retry_config(
        &conn_with(&server.uri(), json!({"tokenUrl": token_url})),
        fast_retries(),
    )
    .unwrap();
    let v: Value = client.get_json("workspaces", &[]).await.unwrap();
    assert_eq!(v, json!([]));
}

async fn token_error(response: ResponseTemplate) -> ClientError {
    let server = MockServer::start().await;
    Mock::given(method("POST"))
        .respond_with(response)
        .mount(&server)
        .await;
    let err = client_for(&server).authenticate().await.unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(!text.contains(SECRET), "{text}");
    err
}

#[tokio::test]
async fn token_endpoint_failures_are_typed() {
    let err = token_error(ResponseTemplate::new(401).set_body_json(
        json!({"error": "invalid_client", "error_description": "Invalid client credentials"}),
    ))
    .await;
    assert!(err.is_auth());
    match err.kind() {
        ErrorKind::Auth(AuthFailure::InvalidCredentials { error, description }) => {
            assert_eq!(error.as_deref(), Some("invalid_client"));
            assert_eq!(description.as_deref(), Some("Invalid client credentials"));
        }
        k => panic!("{k:?}"),
    }
    assert_eq!(
        err.attempts(),
        1,
        "4xx from the token endpoint is not retried"
    );

    let err = token_error(ResponseTemplate::new(400).set_body_json(
        json!({"message": "Bad credentials", "code": "bad_request", "requestId": "r-9"}),
    ))
    .await;
    assert!(matches!(
        err.kind(),
        ErrorKind::Auth(AuthFailure::InvalidCredentials { .. })
    ));
    assert_eq!(err.request_id(), Some("r-9"));
    assert!(err.to_string().contains("Bad credentials"), "{err}");

    let err = token_error(ResponseTemplate::new(404)).await;
    assert_eq!(err.kind(), &ErrorKind::Auth(AuthFailure::WrongTokenUrl));

    let err = token_error(
        ResponseTemplate::new(200).set_body_string("<html><body>Sign in to continue</body></html>"),
    )
    .await;
    match err.kind() {
        ErrorKind::Auth(AuthFailure::NotAToken { body_excerpt, .. }) => {
            assert!(body_excerpt.contains("Sign in"), "{body_excerpt}")
        }
        k => panic!("{k:?}"),
    }

    let err = token_error(ResponseTemplate::new(200).set_body_json(json!({
        "access_token": {"nested": true}, "refresh_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl", "echo": SECRET
    })))
    .await;
    match err.kind() {
        ErrorKind::Auth(AuthFailure::NotAToken {
            json_path,
            body_excerpt,
            ..
        }) => {
            assert_eq!(json_path, "access_token");
            assert!(!body_excerpt.contains("eyJ"), "{body_excerpt}");
        }
        k => panic!("{k:?}"),
    }

    // 503 is transient: retried, then reported as a token endpoint failure.
    let err = token_error(ResponseTemplate::new(503)).await;
    assert_eq!(err.kind(), &ErrorKind::Auth(AuthFailure::TokenEndpoint));
    assert_eq!(err.attempts(), 6);
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_a_wrong_url() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = SigmaClient::with_retry_config(
        &conn_with(&format!("http://127.0.0.1:{port}"), json!({})),
        RetryConfig {
            max_retries: 1,
            ..fast_retries()
        },
    )
    .unwrap();
    let err = client.authenticate().await.unwrap_err();
    assert_eq!(
        err.kind(),
        &ErrorKind::Auth(AuthFailure::WrongTokenUrl),
        "{err}"
    );
    assert_eq!(
        err.attempts(),
        1,
        "a refused connection before Sigma ever answered is a wrong setting: not retried"
    );
}

// ---------------------------------------------------------------- retries

async fn status_then_ok(status: u16) -> (SigmaClient, Result<Value, ClientError>, MockServer) {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(status)
                .insert_header("x-request-id", "rid-1")
                .set_body_json(
                    json!({"message": "nope", "code": "some_code", "requestId": "rid-1"}),
                ),
        )
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"ok": true})))
        .mount(&server)
        .await;
    let client = client_for(&server);
    let r = client.get_json::<Value>("workbooks/w", &[]).await;
    (client, r, server)
}

#[tokio::test]
async fn transient_statuses_are_retried() {
    for status in [429, 408, 500, 502, 503, 504] {
        let (client, r, _s) = status_then_ok(status).await;
        assert_eq!(r.unwrap()["ok"], true, "{status}");
        assert_eq!(client.stats().retries, 1, "{status}");
        assert_eq!(client.stats().throttled, u64::from(status == 429));
    }
}

#[tokio::test]
async fn client_errors_and_501_are_not_retried() {
    for status in [400, 403, 404, 501] {
        let (client, r, _s) = status_then_ok(status).await;
        let err = r.unwrap_err();
        assert_eq!(err.status().map(|s| s.as_u16()), Some(status));
        assert_eq!(err.attempts(), 1);
        assert_eq!(client.stats().retries, 0);
        assert_eq!(err.sigma_code(), Some("some_code"));
        assert_eq!(err.sigma_message(), Some("nope"));
        assert_eq!(err.request_id(), Some("rid-1"));
        assert_eq!(err.path(), "/v2/workbooks/w");
        assert_eq!(err.is_not_found(), status == 404);
        assert_eq!(err.is_forbidden(), status == 403);
        assert!(!err.is_auth());
    }
}

#[tokio::test]
async fn retry_after_seconds_is_the_minimum_wait() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "1"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let client = client_for(&server);
    client.authenticate().await.unwrap();
    let start = Instant::now();
    client.get_json::<Value>("workbooks", &[]).await.unwrap();
    // timing: a lower bound on a wait the server asked for: a slower machine only adds to it, and no machine can make a correct client faster than the wait.
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test]
async fn retry_after_http_date_is_the_minimum_wait() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    // The date is written when the 503 is answered, two seconds ahead; HTTP dates have
    // one-second resolution, so it names a time more than one second after the answer.
    // The retry cannot start before that time, so whatever the machine's speed the call
    // takes more than a second (a lower bound: slowness only adds to it).
    Mock::given(method("GET"))
        .respond_with(|_: &wiremock::Request| {
            let when =
                httpdate::fmt_http_date(std::time::SystemTime::now() + Duration::from_secs(2));
            ResponseTemplate::new(503).insert_header("retry-after", when.as_str())
        })
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({})))
        .mount(&server)
        .await;
    let client = client_for(&server);
    client.authenticate().await.unwrap();
    let start = Instant::now();
    client.get_json::<Value>("workbooks", &[]).await.unwrap();
    // timing: a lower bound on a wait the server asked for: a slower machine only adds to it, and no machine can make a correct client faster than the wait.
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(client.stats().retries, 1);
}

#[tokio::test]
async fn the_time_budget_stops_retries() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(503))
        .mount(&server)
        .await;
    let retry = RetryConfig {
        max_retries: 1000,
        retry_timeout: Duration::from_millis(300),
        backoff: BackoffConfig {
            init: Duration::from_millis(50),
            max: Duration::from_millis(50),
        },
        max_retry_after: Duration::from_secs(120),
    };
    let client =
        SigmaClient::with_retry_config(&conn_with(&server.uri(), json!({})), retry).unwrap();
    let err = client
        .get_json::<Value>("workbooks", &[])
        .await
        .unwrap_err();
    // Counted, not timed: every wait is exactly 50 ms (init = max), so a 300 ms budget
    // allows at most six retries whatever the machine's speed, where the retry count alone
    // (1,000) would have gone on for a minute. At least one retry fits unless the first
    // attempt alone took 250 ms.
    assert!(
        err.attempts() >= 2 && err.attempts() <= 7,
        "{}",
        err.attempts()
    );
    assert!(err.is_transient());
    assert!(err.to_string().contains("attempts"), "{err}");
}

#[tokio::test]
async fn a_success_body_of_the_wrong_shape_names_the_json_path() {
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Workbook {
        #[serde(rename = "workbookId")]
        workbook_id: String,
        tags: Vec<String>,
    }
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"workbookId": "w", "tags": ["a", 7]})),
        )
        .mount(&server)
        .await;
    let err = client_for(&server)
        .get_json::<Workbook>("workbooks/w", &[])
        .await
        .unwrap_err();
    assert!(err.is_decode());
    assert!(
        matches!(err.kind(), ErrorKind::Decode { json_path, .. } if json_path == "tags[1]"),
        "{err}"
    );
}

// ---------------------------------------------------------------- redirects

#[tokio::test]
async fn redirects_to_another_host_are_not_followed() {
    let other = MockServer::start().await;
    Mock::given(wiremock::matchers::any())
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"stolen": true})))
        .expect(0)
        .mount(&other)
        .await;
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(302)
                .insert_header("location", format!("{}/v2/workbooks", other.uri()).as_str()),
        )
        .mount(&server)
        .await;
    let err = client_for(&server)
        .get_json::<Value>("workbooks", &[])
        .await
        .unwrap_err();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(302));
    assert!(other.received_requests().await.unwrap().is_empty());
}

#[tokio::test]
async fn same_origin_redirects_are_followed() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path("/v2/old"))
        .respond_with(ResponseTemplate::new(307).insert_header("location", "/v2/new"))
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(path("/v2/new"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"moved": true})))
        .mount(&server)
        .await;
    let v: Value = client_for(&server).get_json("old", &[]).await.unwrap();
    assert_eq!(v["moved"], true);
}

// ---------------------------------------------------------------- pagination

#[tokio::test]
async fn pages_follow_opaque_cursors_through_an_empty_middle_page() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    // Cursors that would break if parsed or not URL-encoded.
    let cursors = ["c/1+x&y=z", "0002", "", "eyJvZmZzZXQiOjN9=="];
    let pages = [
        json!({"entries": [{"id": 1}, {"id": 2}], "nextPage": cursors[0], "total": 5}),
        json!({"entries": [], "nextPage": cursors[1]}),
        json!({"entries": [{"id": 3}], "nextPage": cursors[3]}),
        json!({"entries": [{"id": 4}, {"id": 5}], "nextPage": null}),
    ];
    Mock::given(method("GET"))
        .and(path("/v2/workbooks"))
        .and(query_param("limit", "1000"))
        .and(query_param("isArchived", "false"))
        .and(query_param_is_missing("page"))
        .respond_with(ResponseTemplate::new(200).set_body_json(&pages[0]))
        .expect(1)
        .mount(&server)
        .await;
    for (cursor, page) in [
        (cursors[0], &pages[1]),
        (cursors[1], &pages[2]),
        (cursors[3], &pages[3]),
    ] {
        Mock::given(method("GET"))
            .and(path("/v2/workbooks"))
            .and(query_param("limit", "1000"))
            .and(query_param("page", cursor))
            .respond_with(ResponseTemplate::new(200).set_body_json(page))
            .expect(1)
            .mount(&server)
            .await;
    }
    let client = client_for(&server);
    let query = vec![("isArchived".to_owned(), "false".to_owned())];
    let listing = collect_all(client.items::<Value>("workbooks", query)).await;
    assert!(listing.complete, "{:?}", listing.error);
    let ids: Vec<i64> = listing
        .items
        .iter()
        .map(|v| v["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [1, 2, 3, 4, 5]);
}

#[tokio::test]
async fn many_pages_in_cursor_style() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    let n = 60;
    for i in 0..n {
        let next = if i + 1 < n {
            json!(format!("tok-{}", i + 1))
        } else {
            json!(null)
        };
        let mock = Mock::given(method("GET"))
            .and(path("/v2/accountTypes"))
            .and(query_param("pageSize", "7"));
        let mock = if i == 0 {
            mock.and(query_param_is_missing("pageToken"))
        } else {
            mock.and(query_param("pageToken", format!("tok-{i}")))
        };
        mock.respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"entries": [i, i], "nextPageToken": next})),
        )
        .expect(1)
        .mount(&server)
        .await;
    }
    let client = SigmaClient::with_retry_config(
        &conn_with(&server.uri(), json!({"pageSize": 7})),
        fast_retries(),
    )
    .unwrap();
    let pages: Vec<_> = client
        .pages_with_style::<u32>("accountTypes", vec![], PageStyle::Cursor)
        .collect()
        .await;
    assert_eq!(pages.len(), n as usize);
    let last = pages.last().unwrap().as_ref().unwrap();
    assert_eq!(last.number, n as usize);
    assert_eq!(last.next, None);
}

#[tokio::test]
async fn a_repeated_cursor_is_an_error_not_a_loop() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(query_param_is_missing("page"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"entries": [1], "nextPage": "A"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("page", "A"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"entries": [2], "nextPage": "B"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("page", "B"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"entries": [3], "nextPage": "A"})),
        )
        .mount(&server)
        .await;
    let listing = collect_all(client_for(&server).items::<u32>("workbooks", vec![])).await;
    assert!(!listing.complete);
    assert_eq!(listing.items, [1, 2, 3]);
    let err = listing.error.unwrap();
    assert_eq!(err.kind(), &ErrorKind::RepeatedCursor);
    assert_eq!(
        err.listing_progress().map(|p| (p.pages, p.items)),
        Some((3, 3))
    );
    assert_eq!(server.received_requests().await.unwrap().len(), 4);
}

#[tokio::test]
async fn a_failing_page_ends_the_listing_as_partial() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(query_param_is_missing("page"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"entries": [1, 2], "nextPage": "p2"})),
        )
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .and(query_param("page", "p2"))
        .respond_with(
            ResponseTemplate::new(500)
                .set_body_json(json!({"message": "boom", "requestId": "r-500"})),
        )
        .mount(&server)
        .await;
    let listing = collect_all(client_for(&server).items::<u32>("dataModels", vec![])).await;
    assert!(!listing.complete);
    assert_eq!(listing.items, [1, 2]);
    let err = listing.error.unwrap();
    assert_eq!(err.status().map(|s| s.as_u16()), Some(500));
    assert_eq!(err.attempts(), 6);
    assert_eq!(err.path(), "/v2/dataModels");
    let msg = err.to_string();
    assert!(
        msg.contains("/v2/dataModels")
            && msg.contains("1 page(s), 2 item(s)")
            && msg.contains("r-500"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_bare_array_is_the_only_page() {
    let server = MockServer::start().await;
    mount_token(&server, 1).await;
    Mock::given(method("GET"))
        .and(path("/v2/members"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!([{"memberId": "m1"}, {"memberId": "m2"}])),
        )
        .expect(1)
        .mount(&server)
        .await;
    let listing = collect_all(client_for(&server).items::<Value>("members", vec![])).await;
    assert!(listing.complete);
    assert_eq!(listing.items.len(), 2);
}

// ---------------------------------------------------------------- secrets in logs

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn no_secret_reaches_a_log_line_even_at_trace_level() {
    let captured = Captured::default();
    let writer = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let server = MockServer::start().await;
    mount_token(&server, 0..).await;
    Mock::given(method("POST"))
        .and(body_string_contains("grant_type=refresh_token"))
        .respond_with(ResponseTemplate::new(401).set_body_json(json!({"error": "invalid_grant"})))
        .mount(&server)
        .await;
    // A 401 (replay, refresh, fallback), a 429 and a 500 (retries), then success.
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(401))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(429).insert_header("retry-after", "0"))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(1)
        .mount(&server)
        .await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"entries": [1], "nextPage": null})),
        )
        .mount(&server)
        .await;
    let client = client_for(&server);
    let listing = collect_all(client.items::<u32>("workbooks", vec![])).await;
    assert!(listing.complete, "{:?}", listing.error);
    tracing::trace!(client = ?client, stats = %client.stats(), "done");

    let logs = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("retrying Sigma request"), "{logs}");
    assert!(logs.contains("401"), "{logs}");
    for secret in [SECRET, ACCESS, REFRESH] {
        assert!(!logs.contains(secret), "{secret} leaked into:\n{logs}");
    }
}

// ---------------------------------------------------------------- back-pressure

/// A server that answers 429 whenever more than `limit` requests are in flight.
async fn spawn_limited_server(limit: usize) -> (String, Arc<Mutex<Vec<bool>>>) {
    use axum::Router;
    use axum::http::StatusCode;
    use axum::routing::{get, post};

    let in_flight = Arc::new(AtomicUsize::new(0));
    let log: Arc<Mutex<Vec<bool>>> = Arc::default();
    let (flight, record) = (Arc::clone(&in_flight), Arc::clone(&log));
    let app = Router::new()
        .route(
            "/v2/auth/token",
            post(|| async { axum::Json(token_body(ACCESS, None, 3600)) }),
        )
        .route(
            "/v2/things",
            get(move || {
                let (flight, record) = (Arc::clone(&flight), Arc::clone(&record));
                async move {
                    let now = flight.fetch_add(1, Ordering::SeqCst) + 1;
                    let throttled = now > limit;
                    if !throttled {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    flight.fetch_sub(1, Ordering::SeqCst);
                    record.lock().unwrap().push(throttled);
                    if throttled {
                        (
                            StatusCode::TOO_MANY_REQUESTS,
                            axum::Json(json!({"message": "slow down"})),
                        )
                    } else {
                        (StatusCode::OK, axum::Json(json!({"ok": true})))
                    }
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), log)
}

/// The real client over real HTTP against a server that serves four requests at a time.
/// How many requests overlap at the server depends on the machine's speed (a slow one may
/// never overlap four), so only what holds at any speed is asserted here: everything
/// completes, each request is served once, every 429 is seen, and nothing storms. That the refusals die
/// out is shown on a paused clock, deterministically, in `client::limit`'s
/// `against_a_server_that_serves_four_at_a_time_refusals_die_out`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_converges_instead_of_storming() {
    let (uri, log) = spawn_limited_server(4).await;
    let retry = RetryConfig {
        max_retries: 100,
        retry_timeout: Duration::from_secs(60),
        backoff: BackoffConfig {
            init: Duration::from_millis(2),
            max: Duration::from_millis(20),
        },
        max_retry_after: Duration::from_secs(1),
    };
    let client =
        SigmaClient::with_retry_config(&conn_with(&uri, json!({"maxConcurrency": 32})), retry)
            .unwrap();
    let total = 400;
    let results: Vec<_> = futures::stream::iter(0..total)
        .map(|_| client.get_json::<Value>("things", &[]))
        .buffer_unordered(64)
        .collect()
        .await;
    assert!(results.iter().all(Result::is_ok), "every request completes");
    let log = log.lock().unwrap().clone();
    let refused = log.iter().filter(|t| **t).count();
    let stats = client.stats();
    eprintln!("{refused} of {} answers were 429; {stats}", log.len());
    assert_eq!(log.len() - refused, total, "each request served once");
    assert_eq!(stats.throttled as usize, refused, "every 429 was seen");
    assert!(
        refused < total,
        "no storm: {refused} refusals for {total} requests"
    );
    // Not asserted: the cap's value at the end, or how long the run took; both depend on
    // how many requests overlap at the server, that is on the machine's speed. (The run
    // took ~25 s here while a 429 could start a pace at a young run's rate, ~1 s since.)
}

// ---------------------------------------------------------------- TLS

/// A real TLS handshake with the ring provider, against a local server whose self-signed
/// certificate the client does not trust: the typed TLS error, and no retry.
#[tokio::test]
async fn https_handshakes_and_an_untrusted_certificate_is_a_tls_error() {
    use tokio_rustls::rustls;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

    let cert = CertificateDer::from(include_bytes!("fixtures/selfsigned-cert.der").to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        include_bytes!("fixtures/selfsigned-key.der").to_vec(),
    ));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hellos = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&hellos);
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            seen.fetch_add(1, Ordering::SeqCst);
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = acceptor.accept(tcp).await;
            });
        }
    });
    let client = SigmaClient::with_retry_config(
        &conn_with(&format!("https://localhost:{port}"), json!({})),
        fast_retries(),
    )
    .unwrap();
    let err = client.authenticate().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Auth(AuthFailure::Tls), "{err}");
    assert_eq!(err.attempts(), 1, "a certificate problem is not retried");
    assert_eq!(hellos.load(Ordering::SeqCst), 1);
    assert!(
        err.to_string().to_lowercase().contains("certificate"),
        "{err}"
    );
}
