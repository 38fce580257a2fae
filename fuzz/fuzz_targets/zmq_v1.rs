#![no_main]
// Frames -> v1 message -> frames (byte for byte) -> Event (and JSON) -> message (body shared
// with tests/tests/zmq_corpus.rs).
libfuzzer_sys::fuzz_target!(|data: &[u8]| monwire_tests::zmq::roundtrip_v1(data));
