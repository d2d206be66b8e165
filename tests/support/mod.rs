//! Code shared by integration tests (not a test target itself).

pub mod om_standin;
