#![no_main]
// Datagram -> messages -> Event (and JSON) -> messages (body shared with tests/tests/nsm_corpus.rs).
libfuzzer_sys::fuzz_target!(|data: &[u8]| monwire_tests::nsm::event_round_trip(data));
