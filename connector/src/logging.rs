//! Log setup: text or JSON lines on stderr, filtered by `--log-level`, else `RUST_LOG`,
//! else the workflow's `loggerLevel`. Secrets cannot reach a log line because every type
//! that holds one prints `[redacted]`.

use tracing_subscriber::EnvFilter;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

/// Builds the filter: an explicit level wins, then `RUST_LOG`, then the fallback.
pub fn filter(explicit: Option<&str>, fallback: &str) -> EnvFilter {
    if let Some(level) = explicit {
        return EnvFilter::try_new(level).unwrap_or_else(|_| EnvFilter::new(fallback));
    }
    EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(fallback))
}

/// Installs the global subscriber. Calling it twice is harmless (the second is ignored).
pub fn init(explicit: Option<&str>, fallback: &str, format: LogFormat) {
    let filter = filter(explicit, fallback);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
