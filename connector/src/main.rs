//! The `sigma-connector` command line: parse, call the library, map errors to exit codes.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Parser, Subcommand, ValueEnum};
use sigma_connector::config::{self, ConfigError};
use sigma_connector::logging::{self, LogFormat};

/// Metadata-ingestion connector for Sigma Computing (OpenMetadata-compatible).
#[derive(Debug, Parser)]
#[command(name = "sigma-connector", version, about, long_about = None)]
struct Cli {
    /// Log filter: error, warn, info, debug, trace, or a tracing directive. Overrides
    /// RUST_LOG and the workflow's loggerLevel.
    #[arg(long, global = true, env = "SIGMA_CONNECTOR_LOG_LEVEL")]
    log_level: Option<String>,
    /// Log line format on stderr.
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
    logging::init(cli.log_level.as_deref(), "info", cli.log_format);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(1)
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
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
    }
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
