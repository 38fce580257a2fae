//! ZeroMQ monitor round-trip bodies shared by the fuzz targets (`fuzz/fuzz_targets/zmq_*.rs`)
//! and the stable corpus-replay test (`tests/tests/zmq_corpus.rs`), the fuzz-input frame
//! layout, and the golden-vector reader.
//!
//! # Fuzz input layout
//!
//! A monitor message is a list of frames, while a fuzzer hands over one byte string, so the
//! input is split as: byte 0 = frame count (mod 8); then, per frame, one length byte followed by
//! that many bytes. Input that runs out early shortens the frame it is in and leaves any later
//! frames empty. [`join_frames`] is the inverse for frames of at most 255 bytes.

use monwire_event::Event;
use monwire_zmq::codec::{ByteOrder, Codec};
use monwire_zmq::event::{from_event, to_event};
use monwire_zmq::{Message, V1Message, V2Message};

/// The codec the golden vectors and the fuzz targets use: little-endian, default limits.
pub fn codec() -> Codec {
    Codec::new().with_byte_order(ByteOrder::Little)
}

/// Splits fuzz input into frames (see the module docs for the layout).
pub fn split_frames(data: &[u8]) -> Vec<&[u8]> {
    let Some((&count, mut rest)) = data.split_first() else {
        return Vec::new();
    };
    let count = usize::from(count % 8);
    let mut frames = Vec::with_capacity(count);
    for _ in 0..count {
        let (len, tail) = match rest.split_first() {
            Some((&len, tail)) => (usize::from(len), tail),
            None => (0, rest),
        };
        let (frame, tail) = tail.split_at(len.min(tail.len()));
        frames.push(frame);
        rest = tail;
    }
    frames
}

/// Joins frames into the fuzz-input layout [`split_frames`] reads back.
///
/// Panics when there are 8 or more frames or a frame is longer than 255 bytes.
pub fn join_frames<F: AsRef<[u8]>>(frames: &[F]) -> Vec<u8> {
    assert!(frames.len() < 8, "at most 7 frames");
    let mut out = vec![u8::try_from(frames.len()).unwrap()];
    for f in frames {
        let f = f.as_ref();
        out.push(u8::try_from(f.len()).expect("frame longer than 255 bytes"));
        out.extend_from_slice(f);
    }
    out
}

/// Parses the golden `.hex` format: one frame per line, lowercase hex, every line ends with
/// `\n` (an empty line is an empty frame). Panics on malformed text: the vectors are ours.
pub fn parse_hex_frames(text: &str) -> Vec<Vec<u8>> {
    assert!(
        text.is_empty() || text.ends_with('\n'),
        "a .hex vector ends with a newline"
    );
    text.lines().map(crate::vectors::unhex).collect()
}

/// The frames of the golden vector `tests/vectors/zmq/<name>.hex`.
pub fn vector(name: &str) -> Vec<Vec<u8>> {
    let text = crate::vectors::read("zmq", &format!("{name}.hex"));
    parse_hex_frames(std::str::from_utf8(&text).unwrap())
}

/// Every golden vector of `tests/vectors/zmq/` whose name starts with `prefix` (`"v1-"`,
/// `"v2-"`), as `(name, frames)`, sorted by name.
pub fn vectors(prefix: &str) -> Vec<(String, Vec<Vec<u8>>)> {
    crate::vectors::files("zmq", ".hex")
        .into_iter()
        .filter(|(name, _)| name.starts_with(prefix))
        .map(|(name, bytes)| {
            let frames = parse_hex_frames(std::str::from_utf8(&bytes).unwrap());
            (name, frames)
        })
        .collect()
}

/// The event's JSON form parses back to the same event.
fn assert_json_round_trip(event: &Event) {
    let json = serde_json::to_string(event).unwrap();
    let parsed: Event =
        serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json} does not parse: {e}"));
    assert_eq!(&parsed, event, "JSON round trip changed the event: {json}");
}

/// The event's summary is the message's `Display`, and hides every attribute from the view.
fn assert_event_summary(event: &Event, display: &str) {
    assert_eq!(event.summary.as_deref(), Some(display));
    let keys = monwire_zmq::event::summary_keys(event);
    for (k, _) in event.attributes.iter() {
        assert!(keys.contains(&k), "{k} is not in summary_keys");
    }
}

/// v1 frames → message → frames (byte for byte) → message → `Event` (and JSON) → message.
/// Decode errors are fine; a panic is a bug.
pub fn v1_frames_round_trip<F: AsRef<[u8]>>(frames: &[F]) {
    let codec = codec();
    let Ok(msg) = codec.decode_v1(frames) else {
        return;
    };
    let encoded = codec
        .encode_v1(&msg)
        .unwrap_or_else(|e| panic!("{msg:?} decoded but not encoded: {e}"));
    assert_eq!(frames.len(), encoded.len(), "frame count changed");
    for (i, (input, out)) in frames.iter().zip(&encoded).enumerate() {
        assert_eq!(input.as_ref(), out.as_slice(), "frame {i} changed");
    }
    let again = codec
        .decode_v1(&encoded)
        .unwrap_or_else(|e| panic!("{msg:?} re-decode: {e}"));
    assert_eq!(again, msg);
    let owned = msg.to_owned();
    let event = to_event(&msg);
    assert_eq!(event, to_event(&owned), "borrowed and owned events differ");
    let back = from_event(&event).unwrap_or_else(|e| panic!("{owned:?} -> {event:?}: {e}"));
    assert_eq!(back, Message::V1(owned.clone()));
    assert_eq!(V1Message::try_from(&event).unwrap(), owned);
    assert_event_summary(&event, &msg.to_string());
    assert_json_round_trip(&event);
}

/// v2 frames → message → frames (byte for byte) → message → `Event` (and JSON) → message.
/// Decode errors are fine; a panic is a bug.
pub fn v2_frames_round_trip<F: AsRef<[u8]>>(frames: &[F]) {
    let codec = codec();
    let Ok(msg) = codec.decode_v2(frames) else {
        return;
    };
    let encoded = codec.encode_v2(&msg);
    assert_eq!(frames.len(), encoded.len(), "frame count changed");
    for (i, (input, out)) in frames.iter().zip(&encoded).enumerate() {
        assert_eq!(input.as_ref(), out.as_slice(), "frame {i} changed");
    }
    let again = codec
        .decode_v2(&encoded)
        .unwrap_or_else(|e| panic!("{msg:?} re-decode: {e}"));
    assert_eq!(again, msg);
    let owned = msg.to_owned();
    let event = to_event(&msg);
    assert_eq!(event, to_event(&owned), "borrowed and owned events differ");
    let back = from_event(&event).unwrap_or_else(|e| panic!("{owned:?} -> {event:?}: {e}"));
    assert_eq!(back, Message::V2(owned.clone()));
    assert_eq!(V2Message::try_from(&event).unwrap(), owned);
    assert_event_summary(&event, &msg.to_string());
    assert_json_round_trip(&event);
}

/// The `zmq_v1` fuzz body: [`split_frames`], then [`v1_frames_round_trip`].
pub fn roundtrip_v1(data: &[u8]) {
    v1_frames_round_trip(&split_frames(data));
}

/// The `zmq_v2` fuzz body: [`split_frames`], then [`v2_frames_round_trip`].
pub fn roundtrip_v2(data: &[u8]) {
    v2_frames_round_trip(&split_frames(data));
}
