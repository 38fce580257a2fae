#![cfg(feature = "sysadm")]
//! Replays the committed fuzz corpora through the fuzz targets' round-trip bodies, and checks
//! that the golden vectors are among the seeds and decode (so a decoder that rejected
//! everything could not pass).
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_tests::{sysadm, vectors};

fn replay(target: &str, golden: &str, body: fn(&[u8]) -> bool) {
    let corpus = vectors::corpus(target);
    let mut decoded = 0;
    for (name, bytes) in &corpus {
        eprintln!("{name}");
        if body(bytes) {
            decoded += 1;
        }
    }
    let seeds = vectors::files("sysadm", golden);
    assert!(!seeds.is_empty());
    for (name, bytes) in &seeds {
        assert!(
            corpus.iter().any(|(_, c)| c == bytes),
            "golden vector {name} is not a seed of the {target} corpus"
        );
        assert!(body(bytes), "golden vector {name} does not decode");
    }
    assert!(
        decoded >= seeds.len(),
        "{decoded} of {} decoded",
        corpus.len()
    );
    eprintln!(
        "{target}: {decoded} of {} corpus entries decode",
        corpus.len()
    );
}

#[test]
fn sysadm_message_corpus() {
    replay("sysadm_message", ".json", sysadm::roundtrip_message);
}

#[test]
fn sysadm_routed_corpus() {
    replay("sysadm_routed", ".txt", sysadm::roundtrip_routed);
}

fn replay_sessions(target: &str, body: fn(&[u8])) {
    let corpus = vectors::corpus(target);
    assert!(corpus.len() >= 3, "{target}: the seeds are committed");
    for (name, bytes) in &corpus {
        eprintln!("{name}");
        body(bytes);
    }
}

#[test]
fn sysadm_client_session_corpus() {
    replay_sessions("sysadm_client", sysadm::session_client);
}

#[test]
fn sysadm_server_session_corpus() {
    replay_sessions("sysadm_server", sysadm::session_server);
}
