//! Client throughput against an in-process Sigma stand-in with a fixed per-request
//! latency, at several concurrency settings. Not a test: it prints a table.
//!
//! ```sh
//! cargo bench --bench client_throughput -- [--latency-ms 20] [--requests 2000] [--entries 50]
//! ```
//! The server is a minimal axum app (token endpoint + one listing route); swap in the
//! project's sandbox when it lands.

use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::routing::{get, post};
use futures::StreamExt;
use serde_json::{Value, json};
use sigma_connector::client::SigmaClient;
use sigma_connector::config::load_connection_str;

#[derive(Clone)]
struct Server {
    latency: Duration,
    page: Value,
}

fn arg(args: &[String], name: &str, default: u64) -> u64 {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let latency = Duration::from_millis(arg(&args, "--latency-ms", 20));
    let requests = arg(&args, "--requests", 2000) as usize;
    let entries = arg(&args, "--entries", 50) as usize;

    let page = json!({
        "entries": (0..entries).map(|i| json!({
            "workbookId": format!("wb-{i:06}"), "name": format!("Workbook {i}"),
            "url": format!("https://app.sigmacomputing.com/org/workbook/wb-{i:06}"),
            "path": "Shared/Finance", "latestVersion": 3, "isArchived": false
        })).collect::<Vec<_>>(),
        "nextPage": null,
        "total": entries,
    });
    let state = Server { latency, page };
    let app = Router::new()
        .route(
            "/v2/auth/token",
            post(|| async {
                axum::Json(json!({"access_token": "bench-token", "refresh_token": "r", "token_type": "bearer", "expires_in": 3599}))
            }),
        )
        .route(
            "/v2/workbooks",
            get(|State(s): State<Server>| async move {
                tokio::time::sleep(s.latency).await;
                axum::Json(s.page)
            }),
        )
        .with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    println!(
        "client throughput: {requests} GET /v2/workbooks, {entries} entries per response, server latency {latency:?}"
    );
    println!("| concurrency | requests/s | items/s | p50 ms | p99 ms | MiB received |");
    println!("|---:|---:|---:|---:|---:|---:|");
    for concurrency in [1usize, 4, 16, 64] {
        let conn = load_connection_str(
            &json!({
                "hostPort": format!("http://{addr}"), "clientId": "bench", "clientSecret": "bench-secret",
                "maxConcurrency": concurrency
            })
            .to_string(),
        )
        .unwrap();
        let client = SigmaClient::new(&conn).unwrap();
        client.authenticate().await.unwrap();
        // Fewer requests at concurrency 1 keep the run short; the rate is what matters.
        let n = if concurrency == 1 {
            requests.min(200)
        } else {
            requests
        };
        let start = Instant::now();
        let mut latencies: Vec<Duration> = futures::stream::iter(0..n)
            .map(|_| {
                let client = client.clone();
                async move {
                    let t = Instant::now();
                    let v: Value = client
                        .get_json("workbooks", &[("limit", "1000")])
                        .await
                        .unwrap();
                    assert!(v["entries"].is_array());
                    t.elapsed()
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
        let elapsed = start.elapsed().as_secs_f64();
        latencies.sort();
        let pct = |p: f64| {
            latencies[((latencies.len() as f64 - 1.0) * p) as usize].as_secs_f64() * 1000.0
        };
        let stats = client.stats();
        println!(
            "| {concurrency} | {:.0} | {:.0} | {:.1} | {:.1} | {:.1} |",
            n as f64 / elapsed,
            (n * entries) as f64 / elapsed,
            pct(0.5),
            pct(0.99),
            stats.bytes_received as f64 / (1024.0 * 1024.0)
        );
    }
}
