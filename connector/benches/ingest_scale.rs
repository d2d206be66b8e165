//! End-to-end ingestion against the sandbox: the release binary (`sigma-connector ingest`)
//! in its own process against a synthetic org served in this one, so the connector's
//! memory and CPU are measured alone. Not a test: it prints a table.
//!
//! ```sh
//! cargo bench --bench ingest_scale -- --workbooks 1000,10000 --latency-ms 25 \
//!     [--pages 3] [--elements 6] [--concurrency 16] [--rate-limit 50]
//! ```
//! The lower bound of each row: every request the run needed (the same records cannot be
//! had with fewer: nothing is fetched twice) spread over the allowed concurrency (or the
//! server's rate), plus the longest chain of requests that must wait for each other.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sigma_connector::sandbox::{Knobs, OrgSource, Sandbox, SandboxConfig, SyntheticConfig};

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn num(args: &[String], name: &str, default: u64) -> u64 {
    arg(args, name)
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// token -> datasets -> data models -> their elements -> workbooks -> pages -> elements ->
/// lineage -> connection path: the requests that cannot overlap.
const CHAIN: f64 = 9.0;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes: Vec<usize> = arg(&args, "--workbooks")
        .unwrap_or_else(|| "1000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let latency_ms = num(&args, "--latency-ms", 25);
    let pages = num(&args, "--pages", 3) as usize;
    let elements = num(&args, "--elements", 6) as usize;
    let concurrency = num(&args, "--concurrency", 16);
    let rate = arg(&args, "--rate-limit").and_then(|v| v.parse::<u32>().ok());

    println!(
        "| workbooks | latency ms | concurrency | server limit rps | wall s | requests | req/workbook | records | peak RSS MiB | CPU s/1000 records | 429 share | lower bound s | ratio |"
    );
    println!("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for workbooks in sizes {
        let row = run(workbooks, pages, elements, latency_ms, concurrency, rate).await;
        println!("{row}");
    }
}

async fn run(
    workbooks: usize,
    pages: usize,
    elements: usize,
    latency_ms: u64,
    concurrency: u64,
    rate: Option<u32>,
) -> String {
    let org = OrgSource::Synthetic(SyntheticConfig {
        workbooks,
        pages_per_workbook: pages,
        elements_per_page: elements,
        ..SyntheticConfig::default()
    });
    let knobs = Knobs {
        latency: Duration::from_millis(latency_ms),
        rate_limit_per_second: rate,
        ..Knobs::default()
    };
    let sandbox = Sandbox::start(SandboxConfig {
        org,
        knobs,
        ..SandboxConfig::default()
    })
    .await
    .expect("sandbox starts");
    let dir = tempfile::tempdir().expect("temp dir");
    let workflow = json!({
        "source": {
            "type": "sigma", "serviceName": "bench",
            "serviceConnection": {"config": {
                "type": "Sigma", "hostPort": sandbox.base_url().to_string(),
                "clientId": sandbox.client_id(), "clientSecret": sandbox.client_secret(),
                "maxConcurrency": concurrency
            }},
            "sourceConfig": {"config": {"lineageInformation": {"dbServicePrefixes": ["warehouse"]}}}
        },
        "sink": {"type": "file", "config": {"filename": dir.path().join("out.jsonl")}},
        "workflowConfig": {"loggerLevel": "WARN"}
    });
    let wf_path = dir.path().join("workflow.json");
    std::fs::write(&wf_path, workflow.to_string()).expect("write workflow");
    let status_path = dir.path().join("status.json");

    let started = Instant::now();
    let exit = tokio::process::Command::new(env!("CARGO_BIN_EXE_sigma-connector"))
        .args(["--log-level", "warn", "ingest", "-c"])
        .arg(&wf_path)
        .arg("--status-file")
        .arg(&status_path)
        .stdout(std::process::Stdio::null())
        .status()
        .await
        .expect("connector runs");
    let wall = started.elapsed().as_secs_f64();
    assert!(exit.success(), "ingest failed: {exit}");
    let status = read(&status_path);
    let stats = sandbox.stats();
    sandbox.shutdown().await;

    let requests = stats.total_requests;
    let throttled = stats.status_counts.get("429").copied().unwrap_or(0);
    let faults = stats.status_counts.get("503").copied().unwrap_or(0)
        + stats.status_counts.get("dropped").copied().unwrap_or(0);
    let needed = (requests - throttled - faults) as f64;
    let records = status["steps"][1]["processed"].as_u64().unwrap_or(0);
    let rss = status["resources"]["peakRssBytes"].as_f64().unwrap_or(0.0) / 1048576.0;
    let cpu = status["resources"]["cpuSeconds"].as_f64().unwrap_or(0.0);
    let latency = latency_ms as f64 / 1000.0;
    let spread = match rate {
        Some(r) => needed / r as f64,
        None => needed * latency / concurrency as f64,
    };
    let bound = spread + CHAIN * latency;
    format!(
        "| {workbooks} | {latency_ms} | {concurrency} | {} | {wall:.2} | {requests} | {:.1} | {records} | {rss:.1} | {:.3} | {:.3} | {bound:.2} | {:.2} |",
        rate.map(|r| r.to_string()).unwrap_or_else(|| "-".into()),
        requests as f64 / workbooks as f64,
        cpu * 1000.0 / records.max(1) as f64,
        throttled as f64 / requests.max(1) as f64,
        wall / bound.max(1e-9),
    )
}

fn read(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("status file")).expect("status JSON")
}
