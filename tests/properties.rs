//! Properties (proptest) of paging and retrying: for any listing a server serves, every item
//! arrives once and in order, or the listing ends in a clear error; backoff, `Retry-After`
//! and the retry budget stay within their bounds for any input, and never panic.
//!
//! Case counts are modest and the seed is fixed so the suite stays fast and every run checks
//! the same cases; `PROPTEST_CASES=10000 cargo test --test properties` explores further.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::extract::{Query, State};
use axum::routing::{get, post};
use futures::StreamExt;
use proptest::prelude::*;
use proptest::test_runner::{FileFailurePersistence, RngSeed};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sigma_connector::client::{BackoffConfig, ErrorKind, RetryConfig, SigmaClient};
use sigma_connector::testing::{
    AttemptOutcome, MAX_RETRY_AFTER, RetryDecision, decorrelated_jitter, may_retry,
    parse_retry_after, should_retry, wait_before_retry,
};

fn config(default_cases: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(default_cases);
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(0x5167_4d41),
        // A failing case is saved in `tests/properties.proptest-regressions` and replayed
        // first on every later run: commit that file.
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

// ------------------------------------------------------------------------------ paging

/// One page as the test server serves it: its items and its `nextPage` (absent, "", or a
/// cursor from a tiny alphabet so that repeats are common).
#[derive(Debug, Clone)]
struct ScriptPage {
    items: Vec<u32>,
    next: Option<String>,
}

type Script = Arc<Mutex<Vec<ScriptPage>>>;

/// The page a request asks for: the first, or the one after the first page that handed out
/// this cursor.
async fn things(
    State(script): State<Script>,
    Query(q): Query<Vec<(String, String)>>,
) -> Json<Value> {
    let script = script.lock().unwrap().clone();
    let cursor = q.iter().find(|(k, _)| k == "page").map(|(_, v)| v.clone());
    let index = match cursor {
        None => 0,
        Some(c) => {
            1 + script
                .iter()
                .position(|p| p.next.as_deref() == Some(c.as_str()))
                .expect("a cursor the server handed out")
        }
    };
    let page = &script[index];
    Json(json!({"entries": page.items, "nextPage": page.next, "total": 0}))
}

async fn token() -> Json<Value> {
    Json(json!({"access_token": "t", "token_type": "bearer", "expires_in": 3599}))
}

struct Server {
    runtime: tokio::runtime::Runtime,
    url: String,
    script: Script,
}

fn server() -> &'static Server {
    static SERVER: OnceLock<Server> = OnceLock::new();
    SERVER.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let script: Script = Arc::default();
        let app = axum::Router::new()
            .route("/v2/auth/token", post(token))
            .route("/v2/things", get(things))
            .with_state(script.clone());
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        runtime.spawn(async move { axum::serve(listener, app).await });
        Server {
            runtime,
            url,
            script,
        }
    })
}

/// What a correct client reads: pages in order until a page without a cursor; a cursor seen
/// before ends the listing with an error after that page's items.
fn expected(script: &[ScriptPage]) -> (Vec<u32>, bool) {
    let mut seen = std::collections::HashSet::new();
    let mut items = Vec::new();
    for page in script {
        items.extend(&page.items);
        match page.next.as_deref() {
            None | Some("") => return (items, false),
            Some(c) if !seen.insert(c.to_owned()) => return (items, true),
            Some(_) => {}
        }
    }
    unreachable!("the last page has no cursor")
}

fn script_strategy() -> impl Strategy<Value = Vec<ScriptPage>> {
    let cursor = prop_oneof![
        Just(None),
        Just(Some(String::new())),
        "[abc]{1,2}".prop_map(Some),
    ];
    let page = (prop::collection::vec(0u32..1000, 0..5), cursor)
        .prop_map(|(items, next)| ScriptPage { items, next });
    prop::collection::vec(page, 1..8).prop_map(|mut pages| {
        // The last page ends the listing; earlier pages may too.
        pages.last_mut().unwrap().next = None;
        pages
    })
}

proptest! {
    #![proptest_config(config(48))]

    #[test]
    fn every_item_once_in_order_or_a_repeated_cursor_error(script in script_strategy()) {
        let s = server();
        *s.script.lock().unwrap() = script.clone();
        let conn = sigma_connector::config::load_connection_str(&format!(
            r#"{{"hostPort": "{}", "clientId": "id", "clientSecret": "secret", "maxRetries": 0}}"#,
            s.url
        ))
        .unwrap();
        let client = SigmaClient::new(&conn).unwrap();
        let results: Vec<_> = s.runtime.block_on(
            client
                .items::<u32>("things", vec![])
                .collect::<Vec<_>>(),
        );
        let mut items = Vec::new();
        let mut error = None;
        for (i, r) in results.into_iter().enumerate() {
            match r {
                Ok(v) => {
                    prop_assert!(error.is_none(), "item {i} after the error");
                    items.push(v);
                }
                Err(e) => {
                    prop_assert!(error.is_none(), "a second error");
                    error = Some(e);
                }
            }
        }
        let (want, want_error) = expected(&script);
        prop_assert_eq!(items, want);
        prop_assert_eq!(error.is_some(), want_error, "{:?}", error);
        if let Some(e) = error {
            prop_assert!(matches!(e.kind(), ErrorKind::RepeatedCursor), "{e}");
        }
    }
}

// ------------------------------------------------------------------------------ retrying

fn any_duration() -> impl Strategy<Value = Duration> {
    prop_oneof![
        (0u64..100_000).prop_map(Duration::from_millis),
        any::<u64>().prop_map(Duration::from_secs),
        Just(Duration::MAX),
        Just(Duration::ZERO),
    ]
}

fn any_unit() -> impl Strategy<Value = f64> {
    prop_oneof![
        0.0f64..1.0,
        Just(f64::NAN),
        Just(f64::INFINITY),
        Just(-1.0),
        Just(1.0)
    ]
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn jitter_stays_within_init_and_cap(
        init in 0u64..60_000,
        max in 0u64..600_000,
        previous in any_duration(),
        unit in any_unit(),
    ) {
        let c = BackoffConfig {
            init: Duration::from_millis(init),
            max: Duration::from_millis(max),
        };
        let wait = decorrelated_jitter(&c, previous, unit);
        prop_assert!(wait <= c.max, "{wait:?} > {:?}", c.max);
        prop_assert!(wait >= c.init.min(c.max), "{wait:?} < {:?}", c.init);
    }

    #[test]
    fn retry_after_never_panics_and_its_wait_is_capped(
        value in prop_oneof![
            any::<String>(),
            "[0-9]{1,30}",
            "-?[0-9]{1,20}\\.[0-9]{0,20}",
            "(Mon|Sun), [0-9]{2} (Jan|Nov) [0-9]{4} [0-9]{2}:[0-9]{2}:[0-9]{2} GMT",
            Just("1e400".to_owned()),
            Just("NaN".to_owned()),
            Just("inf".to_owned()),
        ],
        backoff in (0u64..30_000).prop_map(Duration::from_millis),
    ) {
        let asked = parse_retry_after(&value, SystemTime::now());
        let wait = wait_before_retry(backoff, asked, MAX_RETRY_AFTER);
        prop_assert!(wait <= backoff.max(MAX_RETRY_AFTER), "{value:?} -> {wait:?}");
        prop_assert!(wait >= backoff);
    }

    #[test]
    fn only_idempotent_requests_are_retried_after_the_request_may_have_arrived(
        code in 100u16..1000,
        outcome in 0usize..5,
        idempotent in any::<bool>(),
    ) {
        let outcome = match outcome {
            0 => AttemptOutcome::Status(StatusCode::from_u16(code).unwrap()),
            1 => AttemptOutcome::Connect,
            2 => AttemptOutcome::Tls,
            3 => AttemptOutcome::Timeout,
            _ => AttemptOutcome::Transport,
        };
        let decision = should_retry(outcome, idempotent);
        if matches!(outcome, AttemptOutcome::Timeout | AttemptOutcome::Transport) && !idempotent {
            prop_assert_eq!(decision, RetryDecision::DontRetry);
        }
        if let AttemptOutcome::Status(s) = outcome {
            prop_assert_eq!(decision == RetryDecision::Success, s.is_success());
            if s.is_client_error() && !matches!(s.as_u16(), 408 | 429) {
                prop_assert_eq!(decision, RetryDecision::DontRetry);
            }
        }
        // Idempotence only ever adds retries.
        if decision == RetryDecision::Retry {
            prop_assert_eq!(should_retry(outcome, true), RetryDecision::Retry);
        }
    }

    /// The request loop's budget, replayed with arbitrary waits: never more retries than
    /// `max_retries`, never waiting past `retry_timeout`, whatever the waits are.
    #[test]
    fn retries_are_bounded_by_count_and_total_time(
        max_retries in 0u32..20,
        timeout_ms in 0u64..10_000,
        attempt_ms in prop::collection::vec(0u64..3_000, 25),
        waits in prop::collection::vec(any_duration(), 25),
    ) {
        let c = RetryConfig {
            max_retries,
            retry_timeout: Duration::from_millis(timeout_ms),
            ..RetryConfig::default()
        };
        let mut elapsed = Duration::ZERO;
        let mut retries = 0u32;
        for (attempt, wait) in attempt_ms.iter().zip(&waits) {
            elapsed = elapsed.saturating_add(Duration::from_millis(*attempt));
            if !may_retry(&c, retries, elapsed, *wait) {
                break;
            }
// timing: simulated durations: no clock is read.
            prop_assert!(elapsed + *wait <= c.retry_timeout);
            elapsed += *wait;
            retries += 1;
        }
        prop_assert!(retries <= max_retries);
    }
}
