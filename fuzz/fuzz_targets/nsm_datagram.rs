#![no_main]
// Datagram -> messages -> bytes -> messages (body shared with tests/tests/nsm_corpus.rs).
libfuzzer_sys::fuzz_target!(|data: &[u8]| monwire_tests::nsm::datagram_round_trip(data));
