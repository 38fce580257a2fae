#![no_main]
// A recording, line by line -> records -> lines -> the same records (body shared with
// tests/tests/capture_corpus.rs).
libfuzzer_sys::fuzz_target!(|data: &[u8]| monwire_tests::capture::record_round_trip(data));
