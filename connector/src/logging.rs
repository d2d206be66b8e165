//! Log setup: text or JSON lines on stderr, filtered by `--log-level`, else `RUST_LOG`,
//! else the workflow's `loggerLevel`. Secrets cannot reach a log line because every type
//! that holds one prints `[redacted]`.
//!
//! While a progress bar is shown, every log line is written through it (`suspend`), so
//! logs never garble the bar.

use std::io::Write;
use std::sync::{Mutex, OnceLock};

use indicatif::ProgressBar;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

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
pub fn init(explicit: Option<&str>, fallback: &str, format: LogFormat) {
    let filter = filter(explicit, fallback);
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(BarAwareStderr)
        .with_target(false);
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}
