//! A single-object body: element lineage, connection path, file.
#![no_main]

libfuzzer_sys::fuzz_target!(|body: &[u8]| sigma_connector::fuzzing::object(body));
