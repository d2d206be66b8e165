//! A workflow file, YAML or JSON (JSON is YAML): parse, `${VAR}`, schema check, typed config.
#![no_main]

libfuzzer_sys::fuzz_target!(|text: &str| {
    let _ = sigma_connector::config::load_workflow_str(text);
    // The CLI's entry: a workflow or a bare connection, told apart by its keys.
    let _ = sigma_connector::config::load_input_str(text);
});
