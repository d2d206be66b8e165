//! Running the `sigma-connector` binary from async tests.

use std::path::Path;
use std::process::Output;

use serde_json::Value;
use tokio::process::Command;

pub const BIN: &str = env!("CARGO_BIN_EXE_sigma-connector");

/// `sigma-connector ingest -c CONFIG EXTRA...`, run to its end.
pub async fn ingest(config: &Path, extra: &[&str]) -> Output {
    Command::new(BIN)
        .arg("ingest")
        .arg("-c")
        .arg(config)
        .args(extra)
        .output()
        .await
        .expect("the binary runs")
}

/// Asserts the exit code, showing the run's stderr when it differs.
#[track_caller]
pub fn assert_exit(out: &Output, code: i32) {
    assert_eq!(
        out.status.code(),
        Some(code),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A JSON file the run wrote (the status file, the state).
pub fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}
