//! The one public error type. Each module keeps its own private detail enum and converts
//! into this at the boundary, so callers match on a small, stable set of cases.

use crate::client::ClientError;
use crate::config::ConfigError;
use crate::sink::SinkError;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration could not be read, parsed or validated.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A Sigma API request failed (authentication, transport, or an error answer).
    #[error(transparent)]
    Sigma(#[from] ClientError),
    /// The sink could not write or commit the output.
    #[error(transparent)]
    Sink(#[from] SinkError),
}

impl Error {
    /// The process exit code this error maps to (see the README).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Config(_) => 2,
            Error::Sigma(_) | Error::Sink(_) => 1,
        }
    }
}
