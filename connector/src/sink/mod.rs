//! Where records go. Each sink has a healthcheck beside its writer, and a commit that makes
//! the run's output visible only when the run has finished: an aborted run leaves the
//! previous output as it was.

mod console;
mod jsonl;

use std::path::PathBuf;

pub use console::ConsoleSink;
pub use jsonl::JsonlSink;

use serde_json::Value;

use crate::sigma::mapping::RecordDraft;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SinkError {
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot write to standard output: {0}")]
    Stdout(#[source] std::io::Error),
}

/// A record as written: `{"kind", "fqn", "entity", "refs"}` (refs omitted when empty).
pub fn record_json(record: &RecordDraft) -> Value {
    let mut line =
        serde_json::json!({"kind": record.kind, "fqn": record.fqn, "entity": record.entity});
    if record.refs.as_object().is_some_and(|m| !m.is_empty()) {
        line["refs"] = record.refs.clone();
    }
    line
}

/// The sinks a workflow can name.
pub enum Sink {
    File(JsonlSink),
    Console(ConsoleSink),
}

impl Sink {
    /// Checks the sink can take records before any Sigma request is made.
    pub async fn healthcheck(&mut self) -> Result<(), SinkError> {
        match self {
            Sink::File(s) => s.healthcheck(),
            Sink::Console(_) => Ok(()),
        }
    }

    /// Writes one record in its JSON form (see [`record_json`]); records replayed from the
    /// state of an earlier run arrive in this form already.
    pub async fn write(&mut self, record: &Value) -> Result<(), SinkError> {
        match self {
            Sink::File(s) => s.write(record),
            Sink::Console(s) => s.write(record),
        }
    }

    /// Makes the output visible (the file sink renames its temporary file into place).
    pub async fn commit(self) -> Result<Option<String>, SinkError> {
        match self {
            Sink::File(s) => s.commit().map(Some),
            Sink::Console(s) => s.commit().map(|_| None),
        }
    }

    /// Drops what this run wrote; the previous output stays.
    pub async fn abort(self) {
        match self {
            Sink::File(s) => s.abort(),
            Sink::Console(_) => {}
        }
    }
}
