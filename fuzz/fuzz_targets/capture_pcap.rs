#![no_main]
// A pcap/pcapng file -> packets -> UDP datagrams, reassembled TCP streams, websocket messages
// (body shared with tests/tests/capture_corpus.rs).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    monwire_tests::capture::pcap_dissect(data);
});
