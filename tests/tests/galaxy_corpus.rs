#![cfg(feature = "galaxy")]
//! Replays the committed fuzz corpora through the fuzz targets' round-trip bodies, so CI covers
//! them on stable.
// Helpers outside #[test] fns fail loudly too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_tests::galaxy::{roundtrip_object, roundtrip_stream, roundtrip_text};
use monwire_tests::vectors::corpus;

#[test]
fn galaxy_object_corpus() {
    for (name, data) in corpus("galaxy_object") {
        eprintln!("{name}");
        roundtrip_object(&data);
    }
}

#[test]
fn galaxy_stream_corpus() {
    for (name, data) in corpus("galaxy_stream") {
        eprintln!("{name}");
        roundtrip_stream(&data);
    }
}

#[test]
fn galaxy_text_corpus() {
    for (name, data) in corpus("galaxy_text") {
        eprintln!("{name}");
        roundtrip_text(&data);
    }
}
