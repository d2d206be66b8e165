//! Code shared by integration tests (not a test target itself). Each test target uses a
//! part of it, so what one target leaves unused is not dead code.
#![allow(dead_code)]

pub mod cli;
pub mod om_standin;
pub mod sandbox;
