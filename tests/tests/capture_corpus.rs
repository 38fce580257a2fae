//! Replays the committed fuzz corpora of the capture readers through the fuzz targets' own
//! bodies, so CI covers them without nightly.
#![cfg(feature = "capture")]

use monwire_tests::{capture, vectors};

#[test]
fn capture_record_corpus_round_trips() {
    for (name, bytes) in vectors::corpus("capture_record") {
        eprintln!("{name}");
        capture::record_round_trip(&bytes);
    }
}

#[test]
fn capture_pcap_corpus_dissects_within_its_bounds() {
    let mut packets = 0;
    for (name, bytes) in vectors::corpus("capture_pcap") {
        eprintln!("{name}");
        packets += capture::pcap_dissect(&bytes).packets;
    }
    // The seeds are real captures: the body must have read them, not bailed out.
    assert!(packets > 50, "only {packets} packets read from the corpus");
}
