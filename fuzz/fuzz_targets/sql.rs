//! An element's SQL, as lineage parses it.
#![no_main]

libfuzzer_sys::fuzz_target!(|body: &[u8]| sigma_connector::fuzzing::sql(body));
