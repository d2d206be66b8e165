//! Everything Sigma-specific on the reading side: payload types, filters, SQL parsing,
//! and the source that turns an org into a stream of records.

pub(crate) mod api;
pub(crate) mod endpoints;
pub mod filter;
pub(crate) mod lineage;
pub(crate) mod mapping;
pub(crate) mod memory;
pub(crate) mod model;
pub(crate) mod options;
pub(crate) mod projection;
pub(crate) mod routes;
pub mod source;
pub(crate) mod sql;
