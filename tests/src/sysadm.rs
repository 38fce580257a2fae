//! SysAdm round-trip bodies shared by the fuzz targets and the corpus-replay test.

use monwire_sysadm::codec::{
    Limits, decode, decode_general, decode_routed, encode, encode_routed, parse_json,
};

/// Decodes `bytes` as one message; when it decodes, encodes it, checks the encoding is the
/// same JSON value as the input, and decodes it again to the same message. Never panics on
/// bad input (errors are fine). Returns whether `bytes` decoded.
pub fn roundtrip_message(bytes: &[u8]) -> bool {
    let limits = Limits::default();
    let decoded = decode(bytes, &limits);
    // The typed fast path and the general path agree on every input, errors included.
    assert_eq!(
        decoded,
        decode_general(bytes, &limits),
        "fast and general decode differ"
    );
    let Ok(msg) = decoded else {
        return false;
    };
    let out = encode(&msg, &limits).expect("a decoded message encodes");
    let again = decode(&out, &limits).expect("our encoding decodes");
    assert_eq!(again, msg, "decode(encode(m)) != m");
    let mut before = parse_json(bytes, &limits).unwrap();
    // The one documented normalization: an absent `id` reads as `""` (as the server reads it)
    // and is written as `"id":""` (the server always writes an id).
    if let serde_json::Value::Object(m) = &mut before {
        m.entry("id").or_insert(serde_json::Value::from(""));
    }
    let after = parse_json(&out, &limits).unwrap();
    assert_eq!(before, after, "re-encoding changed the JSON value");
    // Encoding is canonical: a second pass gives the same bytes.
    assert_eq!(encode(&again, &limits).unwrap(), out);
    true
}

/// Decodes `bytes` as a routed bridge frame; when it decodes, re-encodes it to the same bytes
/// and runs [`roundtrip_message`] on its payload. Returns whether the frame and its payload
/// decoded.
pub fn roundtrip_routed(bytes: &[u8]) -> bool {
    let limits = Limits::default();
    let Ok(frame) = decode_routed(bytes, &limits) else {
        return false;
    };
    assert_eq!(
        encode_routed(&frame),
        bytes,
        "routed frame did not re-encode byte for byte"
    );
    roundtrip_message(&frame.payload)
}
