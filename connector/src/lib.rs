//! sigma-connector: a metadata-ingestion connector for Sigma Computing that speaks
//! OpenMetadata's configuration and entity contracts.
//!
//! The data path (see `docs/architecture.md`): workflow file -> [`config`] -> Sigma client ->
//! source stream -> runner -> sink. Each stage owns one concern.

pub mod config;
mod error;
pub mod logging;
pub mod records;
pub mod sink;

pub use error::Error;
