#![no_main]
// Body shared with tests/tests/nsm_corpus.rs: monwire_tests::nsm::server_session.
libfuzzer_sys::fuzz_target!(|data: &[u8]| monwire_tests::nsm::server_session(data));
