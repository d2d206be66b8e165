//! Everything Sigma-specific on the reading side: payload types, filters, SQL parsing,
//! and the source that turns an org into a stream of records.

pub mod filter;
pub mod lineage;
pub mod model;
pub mod sql;
