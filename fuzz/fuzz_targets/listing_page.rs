//! A listing page body, each entry decoded as every Sigma payload type.
#![no_main]

libfuzzer_sys::fuzz_target!(|body: &[u8]| sigma_connector::fuzzing::listing_page(body));
