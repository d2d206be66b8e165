//! Log setup: text or JSON lines on stderr, filtered by `--log-level`, else `RUST_LOG`,
//! else the workflow's `loggerLevel`. Secrets cannot reach a log line because every type
//! that holds one prints `[redacted]`.
//!
//! A plain level (`debug`, `info`, ...) applies to this connector's own modules only;
//! dependencies (hyper, rustls, sqlparser, ...) log their warnings and errors, and
//! everything only at `trace`. A `RUST_LOG` or `--log-level` directive with a target
//! (`hyper=debug,sigma_connector=info`) is taken as written, for whoever asks for more.
//!
//! Colour (ANSI escapes) only when stderr is a terminal and `NO_COLOR` is unset or empty
//! (<https://no-color.org>): a log file or a scheduler's capture gets plain text.
//!
//! While a progress bar is shown, every log line is written through it (`suspend`), so
//! logs never garble the bar.

use std::io::{IsTerminal, Write};
use std::sync::{Mutex, OnceLock};

use indicatif::ProgressBar;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// The target of every log line this crate writes (library and binary alike).
pub const OWN_TARGET: &str = "sigma_connector";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// `TIMESTAMP LEVEL target: message key=value ...`
    #[default]
    Text,
    /// One JSON object per line (`timestamp`, `level`, `target`, `message`, fields).
    Json,
}

/// A log filter that does not parse.
#[derive(Debug, thiserror::Error)]
#[error(
    "{origin} `{directive}` is not a log level or filter: use error, warn, info, debug, trace, or a directive such as `sigma_connector=debug,hyper=info` ({reason})"
)]
pub struct FilterError {
    origin: &'static str,
    directive: String,
    reason: String,
}

/// Which filter the process runs with, decided in one place: `explicit` (`--log-level`)
/// wins, then `rust_log` (`RUST_LOG`, when set and not empty), then `fallback` (the
/// workflow's `loggerLevel`). A plain level from `--log-level` or `loggerLevel` is
/// widened by [`level_directives`]; `RUST_LOG` is taken as written, as every Rust
/// program takes it, so `RUST_LOG=debug` is the way to see dependencies' debug lines.
pub fn filter_directives(
    explicit: Option<&str>,
    rust_log: Option<&str>,
    fallback: &str,
) -> Result<String, FilterError> {
    let (origin, chosen, widen) = match (explicit, rust_log.filter(|s| !s.trim().is_empty())) {
        (Some(level), _) => ("--log-level", level.trim(), true),
        (None, Some(env)) => ("RUST_LOG", env.trim(), false),
        (None, None) => ("loggerLevel", fallback.trim(), true),
    };
    let directives = match plain_level(chosen).filter(|_| widen) {
        Some(level) => level_directives(level),
        None => chosen.to_owned(),
    };
    EnvFilter::try_new(&directives).map_err(|e| FilterError {
        origin,
        directive: chosen.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(directives)
}

fn plain_level(text: &str) -> Option<&'static str> {
    ["off", "error", "warn", "info", "debug", "trace"]
        .into_iter()
        .find(|level| text.eq_ignore_ascii_case(level))
}

/// A plain level for this connector; dependencies at `warn` (or `error` when only errors
/// are wanted), so `debug` shows the connector's requests and decisions, not hyper's.
pub fn level_directives(level: &str) -> String {
    match level {
        "trace" | "off" => level.to_owned(),
        "error" => "error".to_owned(),
        _ => format!("warn,{OWN_TARGET}={level}"),
    }
}

/// Whether log lines carry ANSI colour: only for a terminal, and never under `NO_COLOR`.
pub fn use_colour(stderr_is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
    stderr_is_terminal && no_color.is_none_or(|v| v.is_empty())
}

fn active_bar() -> &'static Mutex<Option<ProgressBar>> {
    static BAR: OnceLock<Mutex<Option<ProgressBar>>> = OnceLock::new();
    BAR.get_or_init(|| Mutex::new(None))
}

/// Routes log lines around the progress bar while one is shown.
pub fn set_progress_bar(bar: Option<ProgressBar>) {
    *active_bar().lock().unwrap_or_else(|p| p.into_inner()) = bar;
}

/// A stderr writer that suspends the progress bar (if any) for each log line.
#[derive(Clone, Copy, Default)]
pub struct BarAwareStderr;

pub struct LineWriter(Vec<u8>);

impl Write for LineWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        let bytes = std::mem::take(&mut self.0);
        let bar = active_bar()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match bar {
            Some(bar) => bar.suspend(|| {
                let _ = std::io::stderr().write_all(&bytes);
            }),
            None => {
                let _ = std::io::stderr().write_all(&bytes);
            }
        }
    }
}

impl<'a> MakeWriter<'a> for BarAwareStderr {
    type Writer = LineWriter;
    fn make_writer(&'a self) -> Self::Writer {
        LineWriter(Vec::with_capacity(256))
    }
}

/// Installs the global subscriber. Calling it twice is harmless (the second is ignored).
/// `directives` comes from [`filter_directives`].
pub fn init(directives: &str, format: LogFormat) {
    let filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    let colour = use_colour(
        std::io::stderr().is_terminal(),
        std::env::var_os("NO_COLOR").as_deref(),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(BarAwareStderr)
        .with_target(true)
        .with_ansi(colour);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
