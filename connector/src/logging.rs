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

/// What the progress line shows, read from the source, the sink and the client.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProgressFigures {
    /// Records written to the sink.
    pub records: u64,
    /// Workbooks the source has finished with (expanded, filtered, skipped or failed).
    pub workbooks_done: u64,
    /// Workbooks Sigma says it has, once the listing's `total` is known.
    pub workbooks_total: Option<u64>,
    pub requests: u64,
    pub retries: u64,
    pub failures: u64,
}

/// The progress line of a run on a terminal: records, workbooks done out of the total
/// with a percentage and the time left, the record rate, requests and failures. Hidden
/// when stderr is not a terminal. Log lines are written around it, it is cut to the
/// terminal's width, and dropping it (the run ended, failed or was interrupted) clears it.
pub struct ProgressLine {
    bar: Option<ProgressBar>,
    started: std::time::Instant,
}

impl ProgressLine {
    /// Shows the line when `show` (the caller passes whether stderr is a terminal).
    pub fn start(show: bool) -> Self {
        let bar = show.then(|| {
            let bar = ProgressBar::new_spinner();
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {wide_msg}") {
                bar.set_style(style);
            }
            bar.enable_steady_tick(std::time::Duration::from_millis(200));
            set_progress_bar(Some(bar.clone()));
            bar
        });
        Self {
            bar,
            started: std::time::Instant::now(),
        }
    }

    pub fn is_shown(&self) -> bool {
        self.bar.is_some()
    }

    pub fn update(&self, figures: &ProgressFigures) {
        if let Some(bar) = &self.bar {
            bar.set_message(progress_message(figures, self.started.elapsed()));
        }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            set_progress_bar(None);
            bar.finish_and_clear();
        }
    }
}

/// `0:42 1,234 records | 120/401 workbooks 30% ETA 1:38 | 1,009 records/s | 3,456 requests, 2 retries | 0 failures`
pub fn progress_message(f: &ProgressFigures, elapsed: std::time::Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    let mut out = format!("{} {} records", clock(seconds), thousands(f.records));
    match f.workbooks_total {
        Some(total) if total > 0 => {
            let done = f.workbooks_done.min(total);
            let percent = done * 100 / total;
            out.push_str(&format!(" | {done}/{total} workbooks {percent}%"));
            if done > 0 && done < total {
                let left = seconds * (total - done) as f64 / done as f64;
                out.push_str(&format!(" ETA {}", clock(left)));
            }
        }
        _ => out.push_str(&format!(" | {} workbooks", f.workbooks_done)),
    }
    if seconds >= 1.0 {
        let rate = (f.records as f64 / seconds).round() as u64;
        out.push_str(&format!(" | {} records/s", thousands(rate)));
    }
    out.push_str(&format!(
        " | {} requests, {} retries | {} failures",
        thousands(f.requests),
        thousands(f.retries),
        thousands(f.failures)
    ));
    out
}

/// `m:ss`, or `h:mm:ss` from an hour on.
fn clock(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    match s / 3600 {
        0 => format!("{}:{:02}", s / 60, s % 60),
        h => format!("{h}:{:02}:{:02}", s / 60 % 60, s % 60),
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_plain_level_is_the_connectors_and_a_directive_is_taken_as_written() {
        let f = |explicit, rust_log, fallback| filter_directives(explicit, rust_log, fallback);
        assert_eq!(
            f(None, None, "debug").unwrap(),
            "warn,sigma_connector=debug"
        );
        assert_eq!(
            f(Some("DEBUG"), Some("trace"), "info").unwrap(),
            "warn,sigma_connector=debug"
        );
        assert_eq!(f(None, Some("debug"), "info").unwrap(), "debug");
        assert_eq!(
            f(None, Some(" "), "info").unwrap(),
            "warn,sigma_connector=info"
        );
        assert_eq!(f(Some("trace"), None, "info").unwrap(), "trace");
        assert_eq!(f(Some("error"), None, "info").unwrap(), "error");
        assert_eq!(f(Some("hyper=debug"), None, "info").unwrap(), "hyper=debug");
        let e = f(None, Some("sigma_connector=loud"), "info")
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("RUST_LOG `sigma_connector=loud`"), "{e}");
    }

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        use std::ffi::OsStr;
        assert!(use_colour(true, None));
        assert!(use_colour(true, Some(OsStr::new(""))));
        assert!(!use_colour(true, Some(OsStr::new("1"))));
        assert!(!use_colour(false, None));
    }

    #[test]
    fn progress_shows_percent_eta_and_an_integer_rate() {
        let figures = ProgressFigures {
            records: 12_345,
            workbooks_done: 100,
            workbooks_total: Some(400),
            requests: 3_456,
            retries: 2,
            failures: 0,
        };
        assert_eq!(
            progress_message(&figures, Duration::from_millis(12_300)),
            "0:12 12,345 records | 100/400 workbooks 25% ETA 0:37 | 1,004 records/s | 3,456 requests, 2 retries | 0 failures"
        );
        let unknown = ProgressFigures {
            workbooks_total: None,
            ..figures
        };
        assert!(
            progress_message(&unknown, Duration::from_secs(4000))
                .starts_with("1:06:40 12,345 records | 100 workbooks |")
        );
        let done = ProgressFigures {
            workbooks_done: 400,
            ..figures
        };
        let line = progress_message(&done, Duration::from_millis(500));
        assert!(
            line.contains("400/400 workbooks 100% |")
                && !line.contains("ETA")
                && !line.contains("/s"),
            "{line}"
        );
    }

    #[test]
    fn a_hidden_progress_line_does_nothing() {
        let line = ProgressLine::start(false);
        assert!(!line.is_shown());
        line.update(&ProgressFigures::default());
    }
}
