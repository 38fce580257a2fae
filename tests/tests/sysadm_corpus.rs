#![cfg(feature = "sysadm")]
//! Replays the committed fuzz corpora through the fuzz targets' round-trip bodies.
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_tests::{sysadm, vectors};

#[test]
fn sysadm_message_corpus() {
    for (name, bytes) in vectors::corpus("sysadm_message") {
        eprintln!("{name}");
        sysadm::roundtrip_message(&bytes);
    }
}

#[test]
fn sysadm_routed_corpus() {
    for (name, bytes) in vectors::corpus("sysadm_routed") {
        eprintln!("{name}");
        sysadm::roundtrip_routed(&bytes);
    }
}
