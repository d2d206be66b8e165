//! The OpenMetadata edge: catalog items become OpenMetadata records here, and nowhere else.
//!
//! The source yields [`crate::catalog::Item`]s in Sigma's terms; [`Renderer`] turns each
//! into the Create requests, lineage edges and references of `records` (names minted by
//! `records::naming`, table FQNs through [`ServiceMapping`]). The runner calls it in one
//! place (`workflow::Platform`), for new items; replayed groups are records already.

mod render;
mod services;

pub use render::Renderer;
pub use services::{ServiceMapping, ServicePrefix};
