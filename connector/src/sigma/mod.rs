//! Everything Sigma-specific on the reading side: payload types, filters, SQL parsing,
//! and the source that turns an org into a stream of records.

pub mod api;
pub mod endpoints;
pub mod filter;
pub mod lineage;
pub mod mapping;
pub(crate) mod memory;
pub mod model;
pub mod options;
pub(crate) mod projection;
pub mod source;
pub mod sql;
