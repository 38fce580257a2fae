#![no_main]
// Body shared with tests/tests/nsm_corpus.rs: monwire_tests::nsm::differential.
libfuzzer_sys::fuzz_target!(|data: &[u8]| monwire_tests::nsm::differential(data));
