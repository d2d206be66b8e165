//! The DataHub sinks: `datahub-file` (a JSON array of metadata change proposals, written as
//! the JSON Lines sink writes its file) and `datahub-rest` (DataHub's GMS, as its REST
//! emitter speaks to it). They take proposals the runner rendered at the DataHub edge
//! ([`crate::datahub::render`], through `workflow::Platform`).

mod file;
mod rest;

use std::path::Path;

pub use file::McpFile;
pub use rest::{DataHubError, McpPoster};

use super::{SinkError, SinkSummary};
use crate::config::Workflow;
use crate::datahub::mcp::Mcp;
use crate::datahub::render::removed;

/// Where the proposals go.
enum Writer {
    File(McpFile),
    Rest(Box<McpPoster>),
}

/// A DataHub sink: where the run's proposals go.
pub struct DataHubSink {
    writer: Writer,
    proposals: u64,
}

impl DataHubSink {
    /// A `datahub-file` sink (or `--output` with a DataHub workflow): proposals to `path`.
    pub fn file(path: &Path) -> Self {
        Self {
            writer: Writer::File(McpFile::new(path)),
            proposals: 0,
        }
    }

    /// The `datahub-rest` sink the workflow names: proposals to its GMS.
    pub fn rest(workflow: &Workflow) -> Result<Self, SinkError> {
        let config = &workflow.sink.config;
        let server = config.server.as_ref().ok_or_else(|| {
            SinkError::DataHub(DataHubError::Config(
                "datahub-rest needs sink.config.server".to_owned(),
            ))
        })?;
        Ok(Self {
            writer: Writer::Rest(Box::new(McpPoster::new(server, config.token.clone())?)),
            proposals: 0,
        })
    }

    pub async fn healthcheck(&mut self) -> Result<(), SinkError> {
        match &mut self.writer {
            Writer::File(f) => f.open(),
            Writer::Rest(r) => Ok(r.healthcheck().await?),
        }
    }

    /// Writes proposals.
    pub async fn write_mcps(&mut self, mcps: &[Mcp]) -> Result<(), SinkError> {
        for mcp in mcps {
            match &mut self.writer {
                Writer::File(f) => f.write(mcp)?,
                Writer::Rest(r) => r.write(mcp).await?,
            }
            self.proposals += 1;
        }
        Ok(())
    }

    /// Soft-deletes entities: `status {removed: true}` each.
    pub async fn remove(&mut self, urns: &[String]) -> Result<u64, SinkError> {
        let mcps: Vec<Mcp> = urns.iter().map(|u| removed(u)).collect();
        self.write_mcps(&mcps).await?;
        Ok(mcps.len() as u64)
    }

    async fn finish(self, aside: bool) -> Result<SinkSummary, SinkError> {
        let summary = match self.writer {
            Writer::File(f) => SinkSummary {
                output: Some(f.finish(aside)?),
                ..SinkSummary::default()
            },
            Writer::Rest(r) => r.finish().await,
        };
        tracing::info!(proposals = self.proposals, "DataHub proposals written");
        Ok(summary)
    }

    pub async fn commit(self) -> Result<SinkSummary, SinkError> {
        self.finish(false).await
    }

    pub async fn set_aside(self) -> Result<SinkSummary, SinkError> {
        self.finish(true).await
    }

    pub async fn abort(self) {
        match self.writer {
            Writer::File(f) => f.discard(),
            Writer::Rest(r) => r.abort(),
        }
    }
}
