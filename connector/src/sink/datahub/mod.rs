//! The DataHub sinks: `datahub-file` (a JSON array of metadata change proposals, written as
//! the JSON Lines sink writes its file) and `datahub-rest` (DataHub's GMS, as its REST
//! emitter speaks to it). Both take catalog items, render them at the DataHub edge
//! ([`crate::datahub::render`]) and write the proposals.

mod file;
mod rest;

use std::collections::BTreeSet;
use std::path::Path;

pub use file::McpFile;
pub use rest::{DataHubError, McpPoster};

use super::{SinkError, SinkSummary};
use crate::catalog::Item;
use crate::config::{SinkType, Workflow};
use crate::datahub::DataHubOptions;
use crate::datahub::mcp::Mcp;
use crate::datahub::render::{Renderer, removed};

/// Where the proposals go.
enum Writer {
    File(McpFile),
    Rest(Box<McpPoster>),
}

/// A DataHub sink: the renderer and where its proposals go.
pub struct DataHubSink {
    renderer: Renderer,
    writer: Writer,
    proposals: u64,
}

impl DataHubSink {
    /// The sink the workflow's `datahub-file` or `datahub-rest` names (`None` for others).
    pub fn from_workflow(workflow: &Workflow) -> Result<Option<Self>, SinkError> {
        let config = &workflow.sink.config;
        let writer =
            match workflow.sink.sink_type {
                SinkType::DatahubFile => {
                    let path = config.filename.as_deref().ok_or(SinkError::DataHub(
                        DataHubError::Config("datahub-file needs sink.config.filename".into()),
                    ))?;
                    Writer::File(McpFile::new(path))
                }
                SinkType::DatahubRest => {
                    let server =
                        config
                            .server
                            .as_ref()
                            .ok_or(SinkError::DataHub(DataHubError::Config(
                                "datahub-rest needs sink.config.server".into(),
                            )))?;
                    Writer::Rest(Box::new(McpPoster::new(server, config.token.clone())?))
                }
                _ => return Ok(None),
            };
        Ok(Some(Self {
            renderer: Renderer::new(DataHubOptions::from_sink(config)),
            writer,
            proposals: 0,
        }))
    }

    /// A `datahub-file` sink writing to `path`, with default options.
    pub fn file(path: &Path) -> Self {
        Self {
            renderer: Renderer::new(DataHubOptions::from_sink(&Default::default())),
            writer: Writer::File(McpFile::new(path)),
            proposals: 0,
        }
    }

    pub async fn healthcheck(&mut self) -> Result<(), SinkError> {
        match &mut self.writer {
            Writer::File(f) => f.open(),
            Writer::Rest(r) => Ok(r.healthcheck().await?),
        }
    }

    async fn emit(&mut self, mcps: &[Mcp]) -> Result<(), SinkError> {
        for mcp in mcps {
            match &mut self.writer {
                Writer::File(f) => f.write(mcp)?,
                Writer::Rest(r) => r.write(mcp).await?,
            }
            self.proposals += 1;
        }
        Ok(())
    }

    /// Renders one item and writes its proposals.
    pub async fn write_item(&mut self, item: &Item) -> Result<(), SinkError> {
        let mcps = self.renderer.render(item);
        self.emit(&mcps).await
    }

    /// The entities an item renders (for the state, and for what a later run removes).
    pub fn entity_urns(&mut self, item: &Item) -> BTreeSet<String> {
        self.renderer.entity_urns(item)
    }

    /// Soft-deletes entities: `status {removed: true}` each.
    pub async fn remove(&mut self, urns: impl IntoIterator<Item = &str>) -> Result<u64, SinkError> {
        let mcps: Vec<Mcp> = urns.into_iter().map(removed).collect();
        self.emit(&mcps).await?;
        Ok(mcps.len() as u64)
    }

    async fn finish(self, aside: bool) -> Result<SinkSummary, SinkError> {
        let mut summary = match self.writer {
            Writer::File(f) => SinkSummary {
                output: Some(f.finish(aside)?),
                ..SinkSummary::default()
            },
            Writer::Rest(r) => r.finish().await,
        };
        for connection in self.renderer.unmapped_connections() {
            summary.warnings.push(format!(
                "Sigma connection {connection}: no DataHub platform for its type; its tables are left out of lineage (name one in sink.config.connectionToPlatformMap)"
            ));
        }
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
