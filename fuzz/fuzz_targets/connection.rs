//! A bare SigmaConnection (test-connection's input), YAML or JSON.
#![no_main]

libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = sigma_connector::config::load_connection_str(text);
});
