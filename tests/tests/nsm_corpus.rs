//! Replays the committed fuzz corpora through the fuzz targets' own bodies, so CI covers them
//! without nightly, and checks that the corpora hold what they claim: every golden vector is a
//! named seed (`seed-<vector>`) of the decoding corpora, and every seed decodes. A decoder that
//! refused everything would pass the bodies (they return early on an error) but fail here.
#![cfg(feature = "nsm")]
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_nsm::{Limits, codec};
use monwire_tests::{nsm, vectors};
use proptest::prelude::*;

/// Every golden vector is in `target`'s corpus as `seed-<name>`, byte for byte, and decodes.
fn golden_seeds_are_present_and_decode(target: &str) {
    let corpus = vectors::corpus(target);
    let golden = vectors::files("nsm", ".hex");
    assert_eq!(golden.len(), 19, "the golden vectors");
    for (file, text) in golden {
        let name = format!("seed-{}", file.trim_end_matches(".hex"));
        let bytes = vectors::unhex(std::str::from_utf8(&text).unwrap());
        let seed = corpus
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("{target}: no seed {name}"));
        assert_eq!(seed.1, bytes, "{target}/{name} differs from the vector");
        let messages = codec::decode_datagram(&seed.1, &Limits::default())
            .unwrap_or_else(|e| panic!("{target}/{name} does not decode: {e}"));
        assert_eq!(messages.len(), 1, "{name}");
    }
}

#[test]
fn nsm_datagram_corpus_round_trips() {
    golden_seeds_are_present_and_decode("nsm_datagram");
    for (name, bytes) in vectors::corpus("nsm_datagram") {
        eprintln!("{name}");
        nsm::datagram_round_trip(&bytes);
    }
}

#[test]
fn nsm_event_corpus_round_trips() {
    golden_seeds_are_present_and_decode("nsm_event");
    for (name, bytes) in vectors::corpus("nsm_event") {
        eprintln!("{name}");
        nsm::event_round_trip(&bytes);
    }
}

#[test]
fn nsm_differential_corpus_agrees_with_rosc() {
    golden_seeds_are_present_and_decode("nsm_differential");
    // The decoding corpora too: they hold many near-misses of valid OSC.
    for target in ["nsm_differential", "nsm_datagram", "nsm_event"] {
        for (name, bytes) in vectors::corpus(target) {
            eprintln!("{target}/{name}");
            nsm::differential(&bytes);
        }
    }
}

#[test]
fn nsm_session_corpora_replay() {
    for (name, bytes) in vectors::corpus("nsm_monitor_session") {
        eprintln!("{name}");
        nsm::monitor_session(&bytes);
    }
    for (name, bytes) in vectors::corpus("nsm_server_session") {
        eprintln!("{name}");
        nsm::server_session(&bytes);
    }
}

/// The direct decoder meets rosc on near-misses: golden vectors with one byte changed, cut
/// short, or extended.
fn mutated() -> impl Strategy<Value = Vec<u8>> {
    let golden: Vec<Vec<u8>> = vectors::files("nsm", ".hex")
        .into_iter()
        .map(|(_, t)| vectors::unhex(std::str::from_utf8(&t).unwrap()))
        .collect();
    (
        proptest::sample::select(golden),
        any::<usize>(),
        any::<u8>(),
        0u8..4,
    )
        .prop_map(|(mut v, at, b, how)| {
            let i = at % v.len();
            match how {
                0 => v[i] = b,
                1 => v.truncate(i),
                2 => v.insert(i, b),
                _ => v.extend_from_slice(&[b, 0, 0, 0]),
            }
            v
        })
}

proptest! {
    #[test]
    fn direct_decoder_agrees_with_rosc_on_near_misses(bytes in mutated()) {
        nsm::differential(&bytes);
        nsm::datagram_round_trip(&bytes);
    }

    #[test]
    fn monitor_roles_hold_their_invariants_on_any_script(
        bytes in proptest::collection::vec(any::<u8>(), 0..512)
    ) {
        nsm::monitor_session(&bytes);
    }

    #[test]
    fn server_holds_its_invariants_on_any_script(
        bytes in proptest::collection::vec(any::<u8>(), 0..512)
    ) {
        nsm::server_session(&bytes);
    }
}
