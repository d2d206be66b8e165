//! Where records go. Every sink has the same life: `healthcheck` before the source starts,
//! `write` per record, then exactly one of `commit` (make the output visible) or `abort`
//! (leave the destination as it was). Both take `self`, so nothing can be written after.
//!
//! The trait uses native `async fn` in traits (returning `Send` futures) and is not object
//! safe; [`AnySink`] is the closed set the runner picks from. The metadata-rest sink will be
//! one more variant: its `write` may queue requests and keep a bounded number in flight, and
//! its `commit` waits for them, which this shape allows.

mod console;
mod jsonl;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::PathBuf;

pub use console::{ConsoleSink, console_line};
pub use jsonl::JsonlSink;

use crate::config::{self, SinkType};
use crate::records::{Record, RecordKind};

/// What went wrong in a sink.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot serialise a record: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("the file sink needs sink.config.filename")]
    MissingFilename,
    #[error("sink type {0} is not available yet")]
    Unsupported(&'static str),
    #[error("an earlier write failed; the output was not committed")]
    Poisoned,
}

/// What a committed sink wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkSummary {
    /// Records written.
    pub records: u64,
    /// Records written, per kind.
    pub by_kind: BTreeMap<RecordKind, u64>,
    /// Where they went (a path, `stdout`, a server URL).
    pub destination: String,
}

impl SinkSummary {
    fn count(&mut self, kind: RecordKind) {
        self.records += 1;
        *self.by_kind.entry(kind).or_default() += 1;
    }
}

/// A destination for records.
pub trait Sink: Sized {
    /// Fails early when the destination cannot be used (before any Sigma call is made).
    fn healthcheck(&mut self) -> impl Future<Output = Result<(), SinkError>> + Send;
    /// Writes (or queues) one record.
    fn write(&mut self, record: &Record) -> impl Future<Output = Result<(), SinkError>> + Send;
    /// Makes everything written visible, and reports it.
    fn commit(self) -> impl Future<Output = Result<SinkSummary, SinkError>> + Send;
    /// Gives up: the destination keeps what it had before this run.
    fn abort(self) -> impl Future<Output = ()> + Send;
}

/// The sinks this build offers.
#[derive(Debug)]
pub enum AnySink {
    File(JsonlSink),
    Console(ConsoleSink),
}

impl AnySink {
    /// The sink a workflow's `sink` section asks for.
    pub fn from_config(sink: &config::Sink) -> Result<Self, SinkError> {
        match sink.sink_type {
            SinkType::File => {
                let path = sink
                    .config
                    .filename
                    .as_ref()
                    .ok_or(SinkError::MissingFilename)?;
                Ok(AnySink::File(JsonlSink::create(path)?))
            }
            SinkType::Console => Ok(AnySink::Console(ConsoleSink::stdout())),
            SinkType::MetadataRest => Err(SinkError::Unsupported("metadata-rest")),
        }
    }
}

impl Sink for AnySink {
    async fn healthcheck(&mut self) -> Result<(), SinkError> {
        match self {
            AnySink::File(s) => s.healthcheck().await,
            AnySink::Console(s) => s.healthcheck().await,
        }
    }

    async fn write(&mut self, record: &Record) -> Result<(), SinkError> {
        match self {
            AnySink::File(s) => s.write(record).await,
            AnySink::Console(s) => s.write(record).await,
        }
    }

    async fn commit(self) -> Result<SinkSummary, SinkError> {
        match self {
            AnySink::File(s) => s.commit().await,
            AnySink::Console(s) => s.commit().await,
        }
    }

    async fn abort(self) {
        match self {
            AnySink::File(s) => s.abort().await,
            AnySink::Console(s) => s.abort().await,
        }
    }
}
