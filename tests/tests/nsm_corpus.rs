//! Replays the committed fuzz corpora through the fuzz targets' own bodies, so CI covers them
//! without nightly.
#![cfg(feature = "nsm")]
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_tests::{nsm, vectors};

#[test]
fn nsm_datagram_corpus_round_trips() {
    for (name, bytes) in vectors::corpus("nsm_datagram") {
        eprintln!("{name}");
        nsm::datagram_round_trip(&bytes);
    }
}

#[test]
fn nsm_event_corpus_round_trips() {
    for (name, bytes) in vectors::corpus("nsm_event") {
        eprintln!("{name}");
        nsm::event_round_trip(&bytes);
    }
}
