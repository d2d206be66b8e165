//! The one public error type, in the style of arrow-rs `object_store`: each module keeps its
//! own `thiserror` enum with the detail and converts into this with `From`, so a caller of
//! the library matches on a small, stable set of cases and asks it for its [`Outcome`].

use crate::client::ClientError;
use crate::config::ConfigError;
use crate::outcome::Outcome;
use crate::sink::{OmError, SinkError};
use crate::state::StateError;
use crate::workflow::RunError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration could not be read, parsed or validated.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A Sigma API request failed (authentication, transport, or an error answer).
    #[error(transparent)]
    Sigma(#[from] ClientError),
    /// The sink could not be opened, written or committed.
    #[error("the sink failed: {0}")]
    Sink(#[from] SinkError),
    /// The state file could not be read or written.
    #[error(transparent)]
    State(#[from] StateError),
    /// The workflow cannot run as configured, or its status file cannot be written.
    #[error(transparent)]
    Run(#[from] RunError),
}

impl Error {
    /// What a run that ended with this error amounts to.
    pub fn outcome(&self) -> Outcome {
        match self {
            Error::Config(_)
            | Error::Sink(SinkError::OpenMetadata(OmError::Config(_)))
            | Error::Sink(SinkError::MissingServerConfig)
            | Error::Run(RunError::Filter(_)) => Outcome::InvalidConfig,
            Error::Sigma(_) | Error::Sink(_) | Error::State(_) | Error::Run(_) => {
                Outcome::CouldNotRun
            }
        }
    }

    /// The process exit code this error maps to (see the README), from its outcome.
    pub fn exit_code(&self) -> u8 {
        self.outcome().exit_code()
    }
}
