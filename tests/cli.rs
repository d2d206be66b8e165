//! The binary's contract: subcommands, help, exit codes (0 ok, 1 run failed, 2 usage/config).

use assert_cmd::Command;
use predicates::prelude::*;

fn bin() -> Command {
    Command::cargo_bin("sigma-connector").unwrap()
}

const VALID: &str = r#"
source:
  type: sigma
  serviceName: local_sigma
  serviceConnection:
    config: {type: Sigma, hostPort: https://api.sigmacomputing.com, clientId: client_id, clientSecret: "TOPSECRET-cli-0042", apiVersion: v2}
  sourceConfig:
    config: {type: DashboardMetadata}
sink: {type: console, config: {}}
workflowConfig:
  openMetadataServerConfig: {hostPort: http://localhost:8585/api, authProvider: openmetadata, securityConfig: {jwtToken: "eyJ-TOPSECRET-jwt"}}
"#;

#[test]
fn help_on_every_subcommand() {
    bin()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("check-config"));
    for sub in ["check-config", "schema"] {
        bin().args([sub, "--help"]).assert().success();
    }
}

#[test]
fn check_config_ok_and_errors_with_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.yaml");
    std::fs::write(&good, VALID).unwrap();
    bin()
        .args(["--log-level", "trace", "check-config", "-c"])
        .arg(&good)
        .assert()
        .code(0)
        .stdout("ok\n")
        .stderr(predicate::str::contains("TOPSECRET").not());

    let bad = dir.path().join("bad.yaml");
    std::fs::write(
        &bad,
        VALID
            .replace("clientId: client_id, ", "")
            .replace("console", "kafka"),
    )
    .unwrap();
    bin()
        .args([
            "--log-level",
            "trace",
            "--log-format",
            "json",
            "check-config",
            "-c",
        ])
        .arg(&bad)
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "/source/serviceConnection/config/clientId: is required",
        ))
        .stdout(predicate::str::contains("/sink/type:"))
        .stdout(predicate::str::contains("TOPSECRET").not())
        .stderr(predicate::str::contains("TOPSECRET").not());
}

#[test]
fn check_config_reads_stdin_and_reports_missing_files() {
    bin()
        .args(["check-config", "-c", "-"])
        .write_stdin(VALID)
        .assert()
        .code(0);
    bin()
        .args(["check-config", "-c", "/nonexistent/workflow.yaml"])
        .assert()
        .code(2)
        .stdout(predicate::str::contains(
            "cannot read config file /nonexistent/workflow.yaml",
        ));
}

#[test]
fn usage_errors_exit_2() {
    bin().arg("no-such-command").assert().code(2);
    bin().args(["check-config"]).assert().code(2);
}

#[test]
fn schema_subcommand_prints_the_committed_schemas() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    for (kind, file) in [
        ("workflow", "workflow.json"),
        ("connection", "sigmaConnection.json"),
    ] {
        let expected = std::fs::read_to_string(root.join("schemas").join(file)).unwrap();
        bin()
            .args(["schema", kind])
            .assert()
            .success()
            .stdout(expected);
    }
}

/// The README's exit-code table lists every outcome once, with the code the binary uses.
#[test]
fn the_readme_exit_code_table_is_the_outcomes() {
    use sigma_connector::Outcome;
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme
        .split("## Exit codes")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("an Exit codes section");
    let rows: Vec<(String, u8)> = section
        .lines()
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let name = cells.get(1)?.strip_prefix('`')?.strip_suffix('`')?;
            Some((name.to_owned(), cells.get(2)?.parse().ok()?))
        })
        .collect();
    let expected: Vec<(String, u8)> = Outcome::ALL
        .iter()
        .map(|o| (o.as_str().to_owned(), o.exit_code()))
        .collect();
    assert_eq!(rows, expected);
}

/// `ingest -c -` reads the workflow from standard input once, and its `loggerLevel` applies
/// (the workflow was once read twice: for the log level, then for the run, so a workflow
/// on standard input ran at the default level).
#[test]
fn ingest_reads_a_workflow_on_stdin_once_and_applies_its_logger_level() {
    // Port 9 (discard) on loopback: refused at once, so the run ends at the first token.
    let workflow = |level: &str| {
        VALID.replace("https://api.sigmacomputing.com", "http://127.0.0.1:9")
            + &format!("  loggerLevel: {level}\n")
    };
    let run = |level: &str| {
        let out = bin()
            .args(["ingest", "-c", "-"])
            .env_remove("RUST_LOG")
            .write_stdin(workflow(level))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let debug = run("DEBUG");
    assert!(debug.contains("the first token request failed"), "{debug}");
    let info = run("INFO");
    assert!(!info.contains("the first token request failed"), "{info}");
    assert!(!debug.contains("TOPSECRET"), "{debug}");
}
