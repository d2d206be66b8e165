//! The `sigma-connector` command line: parse, call the library, map errors to exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};
use sigma_connector::Outcome;
use sigma_connector::config::{self, ConfigError};
use sigma_connector::logging::{self, LogFormat};
use sigma_connector::sandbox::Corruption;
use sigma_connector::workflow::{self, RunOptions};

/// Metadata-ingestion connector for Sigma Computing (OpenMetadata-compatible).
#[derive(Debug, Parser)]
#[command(name = "sigma-connector", version, about, long_about = None)]
struct Cli {
    /// Log level for the connector's own lines (error, warn, info, debug; trace adds
    /// dependencies), or a directive such as `sigma_connector=debug,hyper=info`.
    /// Overrides RUST_LOG and the workflow's loggerLevel.
    #[arg(long, global = true, env = "SIGMA_CONNECTOR_LOG_LEVEL")]
    log_level: Option<String>,
    /// Log line format on stderr (colour only on a terminal without NO_COLOR).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Validate a workflow file (YAML or JSON) without touching the network.
    ///
    /// Prints `ok`, or every problem as `<json pointer>: <what is wrong>`.
    /// Exit 0 when valid, 2 when not.
    CheckConfig {
        /// The workflow file (`-` for standard input). A bare SigmaConnection is accepted too.
        #[arg(short, long)]
        config: PathBuf,
    },
    /// Print the JSON Schema of a config document.
    Schema {
        /// Which schema.
        #[arg(value_enum, default_value_t = SchemaKind::Workflow)]
        kind: SchemaKind,
    },
    /// Test a Sigma connection as OpenMetadata's UI does: config, token, a few one-item
    /// listings and one element's lineage. Prints OpenMetadata's TestConnectionResult.
    ///
    /// Exit 0 when every mandatory step passed, 1 when one failed, 2 when the config is invalid.
    TestConnection {
        /// A workflow file or a bare SigmaConnection, YAML or JSON (`-` for standard input).
        #[arg(short, long)]
        config: PathBuf,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Json)]
        format: OutputFormat,
        /// Seconds the whole test may take.
        #[arg(long, default_value_t = 60.0, value_parser = parse_seconds)]
        timeout: f64,
        /// Seconds one step may take (default: 20, capped by --timeout).
        #[arg(long, value_parser = parse_seconds)]
        step_timeout: Option<f64>,
    },
    /// Serve a local emulator of Sigma's REST API (fixture org or a generated one) until Ctrl-C.
    Sandbox(Box<SandboxArgs>),
    /// Run an ingestion: Sigma -> the workflow's sink, ending with a status table.
    ///
    /// Exit 0 when the success percentage reaches the threshold, 1 when it does not (or
    /// the run failed, was interrupted or could not start), 2 for an invalid config or
    /// usage, 3 when a listing ended early (the last complete output is kept).
    Ingest(IngestArgs),
    /// Start the embedded sandbox with the fixture org and run a full ingestion into
    /// ./sigma-demo-output/ (JSON Lines, status and state). Needs no network.
    Demo {
        /// Where the output goes.
        #[arg(long, default_value = "sigma-demo-output")]
        output_dir: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
struct IngestArgs {
    /// The OpenMetadata workflow file (YAML or JSON; `-` for standard input).
    #[arg(short, long)]
    config: PathBuf,
    /// Write JSON Lines here instead of the workflow's sink (`-` for standard output).
    #[arg(long)]
    output: Option<PathBuf>,
    /// Write the run status as JSON to this file.
    #[arg(long)]
    status_file: Option<PathBuf>,
    /// Keep what this run saw in this file (enables mark-deleted and --incremental).
    #[arg(long)]
    state: Option<PathBuf>,
    /// Do not expand workbooks unchanged since the state was written; replay their records.
    #[arg(long, requires = "state")]
    incremental: bool,
    /// Success percentage at or above which the run exits 0 (default: the workflow's
    /// successThreshold, else 90).
    #[arg(long, value_parser = parse_threshold)]
    success_threshold: Option<f64>,
    /// Accept a run in which a listing ended early: commit its output and state (exit 0,
    /// outcome partialSuccess) instead of keeping the last complete ones (outcome partial,
    /// exit 3). Nothing is marked deleted either way.
    #[arg(long)]
    allow_partial: bool,
}

fn parse_threshold(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=100.0).contains(&v) => Ok(v),
        _ => Err(format!("`{s}` is not a percentage between 0 and 100")),
    }
}

#[derive(Debug, clap::Args)]
struct SandboxArgs {
    /// Serve the org in this directory (laid out like `fixtures/`) instead of the built-in one.
    #[arg(long, conflicts_with = "workbooks")]
    fixtures: Option<PathBuf>,
    /// Generate a synthetic org with this many workbooks.
    #[arg(long)]
    workbooks: Option<usize>,
    /// Pages per generated workbook.
    #[arg(long, default_value_t = 3)]
    pages: usize,
    /// Elements per generated page (charts, tables and a few UI elements).
    #[arg(long, default_value_t = 5)]
    elements: usize,
    /// Datasets in the generated org.
    #[arg(long, default_value_t = 20)]
    datasets: usize,
    /// Data models in the generated org.
    #[arg(long, default_value_t = 10)]
    data_models: usize,
    /// Reports in the generated org (today's surface only).
    #[arg(long, default_value_t = 10)]
    reports: usize,
    /// Members (workbook owners) in the generated org.
    #[arg(long, default_value_t = 25)]
    members: usize,
    /// Workspaces the generated workbooks are spread over.
    #[arg(long, default_value_t = 5)]
    workspaces: usize,
    /// Warehouse tables the generated elements read.
    #[arg(long, default_value_t = 50)]
    tables: usize,
    /// Archive every n-th generated workbook (0: none).
    #[arg(long, default_value_t = 0)]
    archive_every: usize,
    /// Seed of the generator and of fault injection.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Which of Sigma's API surfaces to serve: 2026 (today's, with reports, workbook- and
    /// data-model-level lineage; members page only) or 2023 (those routes answer 404,
    /// members answer a bare array without `limit`).
    #[arg(long, default_value = "2026", value_parser = parse_api_surface)]
    api: sigma_connector::sandbox::ApiSurface,
    /// Port on 127.0.0.1 (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Client id the token endpoint accepts.
    #[arg(long, default_value = sigma_connector::sandbox::DEFAULT_CLIENT_ID)]
    client_id: String,
    /// Client secret the token endpoint accepts (a test credential: it is printed).
    #[arg(long, default_value = sigma_connector::sandbox::DEFAULT_CLIENT_SECRET)]
    client_secret: String,
    /// Added latency per request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Requests per second before answering 429 with Retry-After.
    #[arg(long)]
    rate_limit: Option<u32>,
    /// Fraction of requests (0..1) answering 503 or dropping the connection.
    #[arg(long, default_value_t = 0.0)]
    fault_rate: f64,
    /// Fraction of requests (0..1) answering 429 whatever the load, without Retry-After.
    #[arg(long, default_value_t = 0.0)]
    throttle_rate: f64,
    /// Access-token lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    token_lifetime: u64,
    /// Accept each access token for this many API requests, then answer 401 as for an
    /// expired one (re-authentication tried without waiting an hour).
    #[arg(long)]
    token_uses: Option<u64>,
    /// nextPage tokens as decimal offsets instead of opaque strings.
    #[arg(long)]
    numeric_page_tokens: bool,
    /// Object id whose routes answer malformed JSON (repeatable).
    #[arg(long)]
    malformed: Vec<String>,
    /// Object served corrupted wherever it appears, as `ID=HOW:FIELD` with HOW one of
    /// missing, wrong-type, huge:LEN, odd-unicode, lone-surrogate (repeatable).
    #[arg(long, value_parser = parse_corruption)]
    corrupt: Vec<(String, Corruption)>,
    /// Route template, path or object id answering 403 (repeatable).
    #[arg(long)]
    forbid: Vec<String>,
    /// Route template, path or object id that never answers (repeatable).
    #[arg(long)]
    hang: Vec<String>,
    /// Every listing page that starts at or beyond this offset answers 500 on every attempt:
    /// a listing that breaks half way (try `--workbooks 100 --fail-listings-from 50`).
    #[arg(long, value_name = "OFFSET")]
    fail_listings_from: Option<usize>,
    /// Route template or path this deployment does not have, on either surface (repeatable):
    /// try `--absent /v2/dataModels` or `--absent '/v2/workbooks/{workbookId}/queries'`.
    #[arg(long, value_name = "ROUTE")]
    absent: Vec<String>,
    /// What missing routes answer (the older surface's and `--absent`'s): 404, or the 400 an
    /// older Sigma may answer instead.
    #[arg(long, default_value_t = 404, value_name = "STATUS")]
    absent_status: u16,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutputFormat {
    Json,
    Table,
}

fn parse_seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v.is_finite() && v <= 3600.0 => Ok(v),
        _ => Err(format!(
            "`{s}` is not a number of seconds between 0 and 3600"
        )),
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum SchemaKind {
    /// OpenMetadata's SigmaConnection (the `serviceConnection.config` object).
    Connection,
    /// The whole OpenMetadata workflow file.
    Workflow,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // An ingest's workflow is read once, here, before logging starts: its loggerLevel is the
    // fallback when neither --log-level nor RUST_LOG is set (also for `-c -`, standard
    // input, which can be read only once).
    let input = match &cli.command {
        Command::Ingest(args) => Some(config::load_input_file(&args.config)),
        _ => None,
    };
    let fallback = match &input {
        Some(Ok(config::ConfigInput::Workflow(w))) => w.workflow_config.logger_level.as_filter(),
        _ => "info",
    };
    let rust_log = std::env::var("RUST_LOG").ok();
    match logging::filter_directives(cli.log_level.as_deref(), rust_log.as_deref(), fallback) {
        Ok(directives) => logging::init(&directives, cli.log_format),
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    match run(cli, input) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

/// `input` is the ingest's workflow, read by `main`.
fn run(
    cli: Cli,
    input: Option<Result<config::ConfigInput, config::ConfigError>>,
) -> Result<ExitCode> {
    match cli.command {
        Command::CheckConfig { config } => Ok(check_config(&config)),
        Command::Schema { kind } => {
            let schema = match kind {
                SchemaKind::Connection => config::schema::connection_schema(),
                SchemaKind::Workflow => config::schema::workflow_schema(),
            };
            print!("{}", config::schema::render(&schema));
            Ok(ExitCode::SUCCESS)
        }
        Command::TestConnection {
            config,
            format,
            timeout,
            step_timeout,
        } => test_connection(&config, format, timeout, step_timeout),
        Command::Sandbox(args) => run_sandbox(*args),
        Command::Ingest(args) => {
            let input = input.unwrap_or_else(|| config::load_input_file(&args.config));
            ingest(args, input)
        }
        Command::Demo { output_dir } => demo(&output_dir),
    }
}

fn ingest(
    args: IngestArgs,
    input: Result<config::ConfigInput, config::ConfigError>,
) -> Result<ExitCode> {
    let workflow = match input {
        Ok(config::ConfigInput::Workflow(w)) => *w,
        Ok(config::ConfigInput::Connection(_)) => {
            eprintln!(
                "{}: this is a bare SigmaConnection; `ingest` needs a workflow with `source`, `sink` and `workflowConfig` (see docs/configuration.md)",
                args.config.display()
            );
            return Ok(ExitCode::from(Outcome::InvalidConfig.exit_code()));
        }
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(Outcome::InvalidConfig.exit_code()));
        }
    };
    let options = RunOptions {
        success_threshold: args.success_threshold,
        status_file: args.status_file,
        state_file: args.state,
        incremental: args.incremental,
        output: args.output,
        allow_partial: args.allow_partial,
        progress_bar: std::io::IsTerminal::is_terminal(&std::io::stderr()),
        ..RunOptions::default()
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run_workflow(&workflow, &options))
}

async fn run_workflow(workflow: &config::Workflow, options: &RunOptions) -> Result<ExitCode> {
    match workflow::run(workflow, options, shutdown_signal()).await {
        Ok(status) => {
            eprint!("{}", status.render_table());
            Ok(ExitCode::from(status.exit_code()))
        }
        Err(e) => {
            eprintln!("error: {e}");
            eprintln!("outcome: {}", e.outcome());
            Ok(ExitCode::from(e.exit_code()))
        }
    }
}

/// Ctrl-C or SIGTERM (what a scheduler sends): stop fetching, keep the last good output.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

fn demo(output_dir: &std::path::Path) -> Result<ExitCode> {
    use sigma_connector::sandbox::{Sandbox, SandboxConfig};
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let sandbox = Sandbox::start(SandboxConfig::default()).await?;
        eprintln!("sandbox Sigma API listening at {}", sandbox.base_url());
        let workflow = sigma_connector::demo::workflow(
            &sandbox.base_url().to_string(),
            sandbox.client_id(),
            sandbox.client_secret(),
        )?;
        let options = RunOptions {
            output: Some(output_dir.join("records.jsonl")),
            status_file: Some(output_dir.join("status.json")),
            state_file: Some(output_dir.join("state.json")),
            progress_bar: std::io::IsTerminal::is_terminal(&std::io::stderr()),
            ..RunOptions::default()
        };
        let code = run_workflow(&workflow, &options).await;
        sandbox.shutdown().await;
        if matches!(&code, Ok(c) if *c == ExitCode::SUCCESS) {
            // The records' path is the summary's `output:` line, just above.
            eprintln!(
                "status: {}\nstate:  {}",
                output_dir.join("status.json").display(),
                output_dir.join("state.json").display()
            );
        }
        code
    })
}

fn parse_api_surface(raw: &str) -> Result<sigma_connector::sandbox::ApiSurface, String> {
    raw.parse()
}

fn run_sandbox(args: SandboxArgs) -> Result<ExitCode> {
    use sigma_connector::sandbox::{
        Knobs, OrgSource, PageTokenStyle, Sandbox, SandboxConfig, SyntheticConfig,
    };
    let org = match (args.fixtures, args.workbooks) {
        (Some(dir), _) => OrgSource::FixtureDir(dir),
        (None, Some(workbooks)) => OrgSource::Synthetic(SyntheticConfig {
            seed: args.seed,
            workspaces: args.workspaces,
            workbooks,
            pages_per_workbook: args.pages,
            elements_per_page: args.elements,
            datasets: args.datasets,
            data_models: args.data_models,
            reports: args.reports,
            members: args.members,
            connections: 2,
            tables: args.tables,
            archive_every: args.archive_every,
        }),
        (None, None) => OrgSource::Fixtures,
    };
    let knobs = Knobs {
        latency: std::time::Duration::from_millis(args.latency_ms),
        rate_limit_per_second: args.rate_limit,
        fault_rate: args.fault_rate,
        fault_seed: args.seed,
        throttle_rate: args.throttle_rate,
        token_lifetime: std::time::Duration::from_secs(args.token_lifetime),
        token_uses: args.token_uses,
        page_token_style: if args.numeric_page_tokens {
            PageTokenStyle::Numeric
        } else {
            PageTokenStyle::Opaque
        },
        malformed_ids: args.malformed.into_iter().collect(),
        corrupt: args.corrupt.into_iter().collect(),
        forbidden: args.forbid.into_iter().collect(),
        hang: args.hang.into_iter().collect(),
        fail_listings_from_offset: args.fail_listings_from,
        absent_routes: args.absent.into_iter().collect(),
        absent_status: args.absent_status,
    };
    let config = SandboxConfig {
        org,
        port: args.port,
        client_id: args.client_id,
        client_secret: args.client_secret,
        knobs,
        api: args.api,
    };
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async {
        let handle = Sandbox::start(config).await?;
        // The sandbox's credentials are test credentials, printed so a developer can use them.
        println!("url: {}", handle.base_url());
        println!("api: {}", args.api);
        println!("client_id: {}", handle.client_id());
        println!("client_secret: {}", handle.client_secret());
        tokio::signal::ctrl_c().await?;
        handle.shutdown().await;
        Ok(ExitCode::SUCCESS)
    })
}

fn test_connection(
    path: &std::path::Path,
    format: OutputFormat,
    timeout: f64,
    step_timeout: Option<f64>,
) -> Result<ExitCode> {
    use sigma_connector::test_connection::{TestInput, TestOptions, test_connection};
    use std::time::Duration;
    let mut options = TestOptions::with_total_timeout(Duration::from_secs_f64(timeout));
    if let Some(step) = step_timeout {
        options.step_timeout = Duration::from_secs_f64(step);
    }
    let input = TestInput::from(config::load_input_file(path));
    let runtime = tokio::runtime::Runtime::new()?;
    let result = runtime.block_on(test_connection(input, &options));
    match format {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&result)?),
        OutputFormat::Table => print!("{}", result.to_table()),
    }
    Ok(ExitCode::from(result.exit_code() as u8))
}

fn check_config(path: &std::path::Path) -> ExitCode {
    match config::load_input_file(path) {
        Ok(_) => {
            println!("ok");
            ExitCode::SUCCESS
        }
        Err(ConfigError::Invalid { violations }) => {
            for v in &violations {
                println!("{v}");
            }
            eprintln!(
                "{}: {} problem{} found",
                path.display(),
                violations.len(),
                if violations.len() == 1 { "" } else { "s" }
            );
            ExitCode::from(2)
        }
        Err(e) => {
            println!("{e}");
            ExitCode::from(2)
        }
    }
}

fn parse_corruption(text: &str) -> Result<(String, Corruption), String> {
    let (id, how) = text
        .split_once('=')
        .ok_or_else(|| format!("expected ID=HOW:FIELD, got `{text}`"))?;
    Ok((id.to_owned(), how.parse()?))
}
