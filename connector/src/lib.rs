//! sigma-connector: a metadata-ingestion connector for Sigma Computing that speaks
//! OpenMetadata's configuration and entity contracts.
//!
//! The data path (see `docs/architecture.md`): workflow file -> [`config`] -> Sigma client ->
//! source stream -> runner -> sink. Each stage owns one concern.

mod atomic;
pub mod catalog;
pub mod client;
pub mod config;
pub mod datahub;
pub mod demo;
mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod logging;
pub mod openmetadata;
pub mod outcome;
pub mod records;
pub mod sandbox;
pub mod sigma;
pub mod sink;
pub mod state;
pub mod status;
pub mod test_connection;
pub mod workflow;

pub use error::Error;
pub use outcome::Outcome;

/// Internals that the property tests exercise directly (the retry policy's pure functions,
/// the backoff's jitter): not part of the connector's API, and not stable.
#[doc(hidden)]
pub mod testing {
    pub use crate::client::backoff::decorrelated_jitter;
    pub use crate::client::retry::{
        AttemptOutcome, MAX_RETRY_AFTER, RetryDecision, may_retry, parse_retry_after, should_retry,
        wait_before_retry,
    };
}
