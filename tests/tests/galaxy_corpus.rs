#![cfg(feature = "galaxy")]
//! Replays the committed fuzz corpora through the fuzz targets' round-trip bodies, so CI covers
//! them on stable. The bodies return early on input that does not decode, so a decoder that
//! refused everything would pass them: each corpus also holds the golden vectors as seeds
//! (`golden-*`, from `tests/vectors/galaxy/`), and those must decode.
// Helpers outside #[test] fns fail loudly too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_galaxy::codec::{Codec, StreamDecoder};
use monwire_galaxy::session::{GuiClient, GuiEvent, GuiServer, sample_info_frame};
use monwire_galaxy::text;
use monwire_tests::galaxy::{
    roundtrip_object, roundtrip_session, roundtrip_stream, roundtrip_text,
};
use monwire_tests::vectors::corpus;

fn golden(target: &str, at_least: usize) -> Vec<(String, Vec<u8>)> {
    let g: Vec<_> = corpus(target)
        .into_iter()
        .filter(|(n, _)| n.starts_with("golden-"))
        .collect();
    assert!(g.len() >= at_least, "{target}: {} golden seeds", g.len());
    g
}

#[test]
fn galaxy_object_corpus() {
    for (name, data) in corpus("galaxy_object") {
        roundtrip_object(&data);
        if name.starts_with("golden-") {
            let obj = Codec::default()
                .decode_object(&data)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                obj.as_frame().is_some(),
                "{name}: every captured body is a frame"
            );
        }
    }
    golden("galaxy_object", 25);
}

#[test]
fn galaxy_stream_corpus() {
    for (name, data) in corpus("galaxy_stream") {
        roundtrip_stream(&data);
        if name.starts_with("golden-") {
            let mut dec = StreamDecoder::new(Codec::default());
            dec.push(&data);
            let mut n = 0;
            while let Some(_m) = dec.next_message().unwrap_or_else(|e| panic!("{name}: {e}")) {
                n += 1;
            }
            assert_eq!(dec.buffered(), 0, "{name}: decodes completely");
            assert!(n >= 2, "{name}: {n} messages");
        }
    }
    golden("galaxy_stream", 4);
}

#[test]
fn galaxy_text_corpus() {
    for (name, data) in corpus("galaxy_text") {
        roundtrip_text(&data);
        if name.starts_with("golden-") {
            let read = text::read_frame_report(&data);
            assert!(read.frame.is_some(), "{name}: reads a frame");
            if name.starts_with("golden-pr-") {
                // PR text is complete: the reader reaches the closing brace.
                assert_eq!(read.stop, None, "{name}");
                assert_eq!(text::pr_frame(read.frame.as_ref().unwrap()), data, "{name}");
            }
        }
    }
    golden("galaxy_text", 37);
}

#[test]
fn galaxy_session_corpus() {
    for (_, data) in corpus("galaxy_session") {
        roundtrip_session(&data);
    }
    // The golden seeds run a whole captured session: running, every status message seen.
    for (name, data) in golden("galaxy_session", 2) {
        let (role, stream) = data.split_first().unwrap();
        let (events, running) = if role.is_multiple_of(2) {
            let mut s = GuiServer::new(Codec::default(), sample_info_frame());
            s.handle_input(stream)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            (
                std::iter::from_fn(|| s.poll_event()).collect::<Vec<_>>(),
                s.is_running(),
            )
        } else {
            let mut s = GuiClient::new(Codec::default(), sample_info_frame()).unwrap();
            s.handle_input(stream)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            (
                std::iter::from_fn(|| s.poll_event()).collect::<Vec<_>>(),
                s.is_running(),
            )
        };
        assert!(running, "{name}: the session runs");
        let statuses = events
            .iter()
            .filter(|e| matches!(e, GuiEvent::Status(_)))
            .count();
        assert!(statuses >= 5, "{name}: {statuses} status messages");
    }
}
