//! NSM round-trip bodies shared by the fuzz targets (`fuzz/fuzz_targets/nsm_*.rs`) and the
//! stable corpus-replay test (`tests/tests/nsm_corpus.rs`), and the golden-vector reader.

use monwire_nsm::codec::{self, Limits};
use monwire_nsm::event::{from_event, to_event};

/// The golden vector `tests/vectors/nsm/<name>.hex` as bytes.
pub fn vector(name: &str) -> Vec<u8> {
    let text = crate::vectors::read("nsm", &format!("{name}.hex"));
    crate::vectors::unhex(std::str::from_utf8(&text).unwrap())
}

/// Datagram → messages → bytes → messages: whatever decodes must encode, and decode again to
/// the same messages. A single-message datagram that decodes also re-encodes to a datagram that
/// decodes through [`codec::decode`]. Never panics on any input.
pub fn datagram_round_trip(data: &[u8]) {
    let limits = Limits::default();
    let single = codec::decode(data);
    let Ok(messages) = codec::decode_datagram(data, &limits) else {
        assert!(
            single.is_err(),
            "decode accepted what decode_datagram refused"
        );
        return;
    };
    if let Ok(m) = &single {
        assert_eq!(messages.as_slice(), std::slice::from_ref(m));
    }
    for m in messages {
        let bytes =
            codec::encode(&m).unwrap_or_else(|e| panic!("{m:?} decoded but not encoded: {e}"));
        let again = codec::decode(&bytes).unwrap_or_else(|e| panic!("{m:?} re-decode: {e}"));
        assert_eq!(again, m);
        assert_eq!(
            codec::encode(&again).unwrap(),
            bytes,
            "encoding is not stable"
        );
    }
}

/// Datagram → messages → `Event` → message: every decoded message survives the trip through
/// the shared event model (and its JSON form) unchanged.
pub fn event_round_trip(data: &[u8]) {
    let Ok(messages) = codec::decode_datagram(data, &Limits::default()) else {
        return;
    };
    for m in messages {
        let event = to_event(&m);
        let back = from_event(&event).unwrap_or_else(|e| panic!("{m:?} -> {event:?}: {e}"));
        assert_eq!(back, m);
        let json = serde_json::to_string(&event).unwrap();
        let parsed: monwire_event::Event = serde_json::from_str(&json).unwrap();
        assert_eq!(from_event(&parsed).unwrap(), m);
    }
}
