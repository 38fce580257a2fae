//! Replays the committed `zmq_v1`/`zmq_v2` fuzz corpora through the fuzz targets' own bodies, so
//! CI covers them without nightly, and checks the corpora hold every golden vector.
#![cfg(feature = "zmq")]
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_tests::{vectors, zmq};

#[test]
fn zmq_v1_corpus_round_trips() {
    for (name, bytes) in vectors::corpus("zmq_v1") {
        eprintln!("{name}");
        zmq::roundtrip_v1(&bytes);
    }
}

#[test]
fn zmq_v2_corpus_round_trips() {
    for (name, bytes) in vectors::corpus("zmq_v2") {
        eprintln!("{name}");
        zmq::roundtrip_v2(&bytes);
    }
}

/// Every golden vector is in its target's seed corpus, in the splitter's layout, and the
/// splitter gives the vector's frames back, so the fuzzers start from real libzmq messages.
#[test]
fn zmq_corpora_hold_the_golden_vectors() {
    for (prefix, target) in [("v1-", "zmq_v1"), ("v2-", "zmq_v2")] {
        let corpus = vectors::corpus(target);
        let golden = zmq::vectors(prefix);
        assert!(!golden.is_empty(), "no {prefix} vectors");
        for (name, frames) in golden {
            let joined = zmq::join_frames(&frames);
            assert_eq!(
                zmq::split_frames(&joined),
                frames,
                "{name}: split(join) differs"
            );
            assert!(
                corpus.iter().any(|(_, bytes)| *bytes == joined),
                "{name} is missing from fuzz/corpus/{target}/"
            );
        }
    }
}

/// The splitter is total: short input leaves frames short or empty, never panics, and the
/// count byte is taken mod 8.
#[test]
fn zmq_splitter_bounds_by_input() {
    assert!(zmq::split_frames(&[]).is_empty());
    assert_eq!(
        zmq::split_frames(&[2, 6, 8, 0]),
        vec![&[8u8, 0][..], &[][..]]
    );
    assert_eq!(zmq::split_frames(&[9, 1, 7]), vec![&[7u8][..]]);
    assert_eq!(zmq::split_frames(&[0, 1, 2, 3]), Vec::<&[u8]>::new());
}
