//! Code shared by integration tests (not a test target itself). Each test target uses a
//! part of it, so what one target leaves unused is not dead code.
#![allow(dead_code)]

pub mod cli;
pub mod om_standin;
pub mod source;

/// Waits until `done()` holds, polling every 10 ms: for a test that must see something
/// happen (a request arrive, a run get under way) before it acts. It waits for an event,
/// not for an amount of time: on a fast machine it returns at once, on a slow one it goes
/// on polling. The bound (two minutes) only turns a run that never gets there into a
/// failure instead of a hang.
pub async fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !done() {
        assert!(
            std::time::Instant::now() < deadline,
            "waited two minutes for {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
