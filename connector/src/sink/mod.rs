//! Where records go. Every sink implements [`Sink`]: a healthcheck beside the writer, and a
//! commit that makes the run's output visible only when the run has finished (an aborted
//! file run leaves the previous output as it was).

mod console;
mod datahub;
mod jsonl;
mod openmetadata;

use std::collections::BTreeMap;
use std::future::Future;
use std::path::{Path, PathBuf};

pub use console::ConsoleSink;
pub use datahub::{DataHubError, DataHubSink, McpFile, McpPoster};
pub use jsonl::JsonlSink;
pub use openmetadata::{MAX_IN_FLIGHT, MetadataRestSink, OmError};

use crate::config::{Destination, Workflow};
use crate::records::Record;

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
    #[error(transparent)]
    OpenMetadata(#[from] OmError),
    #[error(transparent)]
    DataHub(#[from] DataHubError),
    /// What one platform renders handed to another platform's sink: a bug of the runner.
    #[error("a `{0}` was handed to a sink of another platform")]
    WrongPlatform(&'static str),
    #[error(
        "the `metadata-rest` sink needs workflowConfig.openMetadataServerConfig (hostPort and securityConfig.jwtToken); add it, or use the `file` sink (or --output)"
    )]
    MissingServerConfig,
}

/// What a sink learnt while writing, reported by `commit`. The file and console sinks either
/// write a record or fail the run; a server sink can refuse single records and go on, and
/// those outcomes belong in the run status.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct SinkSummary {
    /// Where the output is, when it is a file.
    pub output: Option<String>,
    /// Records the destination refused, one message each (with the entity's FQN).
    pub failures: Vec<String>,
    /// What was written incompletely or left out on purpose (an owner or a lineage end
    /// unknown to the destination).
    pub warnings: Vec<String>,
    /// Counted outcomes that are neither (for example deletes of entities already gone).
    pub skipped: BTreeMap<String, u64>,
}

/// A destination for records. A sink is used as: `healthcheck`, any number of `write`s,
/// then exactly one of `commit` or `abort` (both consume it).
pub trait Sink: Send + Sized {
    /// Checks the sink can take records, before any Sigma request is made.
    fn healthcheck(&mut self) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// Takes one record (new, or replayed from the state of an earlier run). An error here
    /// stops the run; a refusal of this one record by the destination is reported by
    /// `commit` instead.
    fn write(&mut self, record: &Record) -> impl Future<Output = Result<(), SinkError>> + Send;

    /// Finishes the run's output (renames the file into place, waits for the last requests).
    fn commit(self) -> impl Future<Output = Result<SinkSummary, SinkError>> + Send;

    /// Finishes a run whose output must not replace the last complete one (a listing ended
    /// early, or too much failed): a file sink writes it beside the target, as
    /// `<target>.partial`, and leaves the target as it was; other sinks finish as `commit`
    /// does (a server has already taken the records; no delete was sent).
    fn set_aside(self) -> impl Future<Output = Result<SinkSummary, SinkError>> + Send;

    /// Stops without finishing. What cannot be taken back (requests a server has already
    /// acted on) stays; a file sink leaves the previous output as it was.
    fn abort(self) -> impl Future<Output = ()> + Send;
}

/// The sinks a workflow can name. `Sink` uses `async fn` in a trait, which is not object
/// safe; an enum keeps dispatch static and the list of sinks in one place.
pub enum AnySink {
    File(JsonlSink),
    Console(ConsoleSink),
    MetadataRest(Box<MetadataRestSink>),
    DataHub(Box<DataHubSink>),
}

impl AnySink {
    /// The sink the workflow names (`--output`, when given, overrides it with a file sink of
    /// the workflow's platform).
    /// Each sink builds itself from the workflow here, so the runner only drives a `Sink`.
    pub fn from_workflow(workflow: &Workflow, output: Option<&Path>) -> Result<Self, SinkError> {
        match workflow.destination(output) {
            Destination::File(path) => Ok(AnySink::File(JsonlSink::new(&path))),
            Destination::Console => Ok(AnySink::Console(ConsoleSink::new())),
            Destination::DataHubFile(path) => {
                Ok(AnySink::DataHub(Box::new(DataHubSink::file(&path))))
            }
            Destination::DataHubServer => {
                Ok(AnySink::DataHub(Box::new(DataHubSink::rest(workflow)?)))
            }
            Destination::Server => {
                let server = workflow
                    .workflow_config
                    .open_metadata_server_config
                    .as_ref()
                    .ok_or(SinkError::MissingServerConfig)?;
                let overrides = openmetadata::Overrides::from_source_config(
                    &workflow.source.source_config.config,
                );
                let sink = MetadataRestSink::new(server, overrides)?;
                Ok(AnySink::MetadataRest(Box::new(sink)))
            }
        }
    }
}

impl AnySink {
    /// Writes DataHub proposals (a DataHub sink only).
    pub async fn write_mcps(&mut self, mcps: &[crate::datahub::mcp::Mcp]) -> Result<(), SinkError> {
        match self {
            AnySink::DataHub(s) => s.write_mcps(mcps).await,
            _ => Err(SinkError::WrongPlatform("DataHub proposal")),
        }
    }

    /// Soft-deletes DataHub entities (a DataHub sink only); how many.
    pub async fn remove(&mut self, urns: &[String]) -> Result<u64, SinkError> {
        match self {
            AnySink::DataHub(s) => s.remove(urns).await,
            _ => Err(SinkError::WrongPlatform("DataHub removal")),
        }
    }
}

impl Sink for AnySink {
    async fn healthcheck(&mut self) -> Result<(), SinkError> {
        match self {
            AnySink::File(s) => s.healthcheck().await,
            AnySink::Console(s) => s.healthcheck().await,
            AnySink::MetadataRest(s) => s.healthcheck().await,
            AnySink::DataHub(s) => s.healthcheck().await,
        }
    }

    async fn write(&mut self, record: &Record) -> Result<(), SinkError> {
        match self {
            AnySink::File(s) => s.write(record).await,
            AnySink::Console(s) => s.write(record).await,
            AnySink::MetadataRest(s) => s.write(record).await,
            AnySink::DataHub(_) => Err(SinkError::WrongPlatform(record.kind().as_str())),
        }
    }

    async fn commit(self) -> Result<SinkSummary, SinkError> {
        match self {
            AnySink::File(s) => s.commit().await,
            AnySink::Console(s) => s.commit().await,
            AnySink::MetadataRest(s) => s.commit().await,
            AnySink::DataHub(s) => s.commit().await,
        }
    }

    async fn set_aside(self) -> Result<SinkSummary, SinkError> {
        match self {
            AnySink::File(s) => s.set_aside().await,
            AnySink::Console(s) => s.set_aside().await,
            AnySink::MetadataRest(s) => s.set_aside().await,
            AnySink::DataHub(s) => s.set_aside().await,
        }
    }

    async fn abort(self) {
        match self {
            AnySink::File(s) => s.abort().await,
            AnySink::Console(s) => s.abort().await,
            AnySink::MetadataRest(s) => s.abort().await,
            AnySink::DataHub(s) => s.abort().await,
        }
    }
}
