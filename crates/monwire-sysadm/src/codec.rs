//! Decoding and encoding of messages and routed bridge frames, with [`Limits`].
//!
//! [`decode`] checks the size and the nesting depth *before* serde_json parses anything, so
//! hostile input costs at most one linear scan; [`encode`] writes what the SysAdm server writes
//! (compact JSON, object keys sorted at every depth, no trailing newline).

use serde_json::Value;

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::json::{check_depth, snippet, write_object};
use crate::message::{Message, Object};

/// Bounds applied to every decode and encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest accepted message (or routed frame), in bytes. Default 1 MiB (the real server
    /// has no limit; a finished job's log is the largest real message).
    pub max_message_len: usize,
    /// Deepest accepted array/object nesting. Default 64 (real messages nest at most 4 deep;
    /// serde_json's own recursion limit is 128, so values above 127 add nothing).
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_len: 1 << 20,
            max_depth: 64,
        }
    }
}

impl Limits {
    /// Sets [`max_message_len`](Limits::max_message_len).
    #[must_use]
    pub fn with_max_message_len(mut self, len: usize) -> Self {
        self.max_message_len = len;
        self
    }

    /// Sets [`max_depth`](Limits::max_depth).
    #[must_use]
    pub fn with_max_depth(mut self, depth: usize) -> Self {
        self.max_depth = depth;
        self
    }
}

/// Parses `bytes` as JSON within `limits` (size, depth), reporting serde_json's position.
pub fn parse_json(bytes: &[u8], limits: &Limits) -> Result<Value, DecodeError> {
    check_limits(bytes, limits)?;
    serde_json::from_slice(bytes).map_err(|e| json_error(bytes, &e))
}

fn json_error(bytes: &[u8], e: &serde_json::Error) -> DecodeError {
    let (line, column) = (e.line(), e.column());
    let text = e.to_string();
    let what = match text.rfind(" at line ") {
        Some(cut) => text.get(..cut).unwrap_or(&text).to_owned(),
        None => text,
    };
    DecodeError {
        offset: offset_of(bytes, line, column),
        line,
        column,
        path: "$".to_owned(),
        kind: DecodeErrorKind::Json(what),
    }
}

/// Byte offset of 1-based `line`/`column` (serde_json counts columns in bytes).
fn offset_of(bytes: &[u8], line: usize, column: usize) -> usize {
    if line == 0 {
        return 0;
    }
    let mut start = 0;
    let mut seen = 1;
    for (i, &b) in bytes.iter().enumerate() {
        if seen == line {
            break;
        }
        if b == b'\n' {
            seen += 1;
            start = i + 1;
        }
    }
    (start + column.saturating_sub(1)).min(bytes.len())
}

/// Decodes one message (one websocket text frame's payload).
///
/// `namespace` and `name` must be strings; `id`, when present, must be a string (absent reads
/// as `""`). Everything else is accepted and typed leniently (see [`crate::message`]).
///
/// Events of the shapes real servers send are deserialized straight into their types; anything
/// else goes through a `serde_json::Value` first. Both give the same message.
pub fn decode(bytes: &[u8], limits: &Limits) -> Result<Message, DecodeError> {
    check_limits(bytes, limits)?;
    if let Some(m) = crate::fast::decode(bytes) {
        return Ok(m);
    }
    decode_general(bytes, limits)
}

/// [`decode`] of a websocket text payload as tungstenite hands it over (`&str`, already UTF-8).
pub fn decode_str(text: &str, limits: &Limits) -> Result<Message, DecodeError> {
    decode(text.as_bytes(), limits)
}

/// The general path of [`decode`] alone: parse to a `serde_json::Value`, then type it. It gives
/// the same message as [`decode`] for every input (a test and the fuzz target check it); it is
/// public for those checks and for benchmarks.
pub fn decode_general(bytes: &[u8], limits: &Limits) -> Result<Message, DecodeError> {
    let value = parse_json(bytes, limits)?;
    from_value(value)
}

fn check_limits(bytes: &[u8], limits: &Limits) -> Result<(), DecodeError> {
    if bytes.len() > limits.max_message_len {
        return Err(DecodeError::at(
            "$",
            limits.max_message_len,
            DecodeErrorKind::TooLong {
                len: bytes.len(),
                max: limits.max_message_len,
            },
        ));
    }
    check_depth(bytes, limits.max_depth)
}

/// Types an already-parsed JSON value as a message.
pub fn from_value(value: Value) -> Result<Message, DecodeError> {
    let mut map = match value {
        Value::Object(m) => m,
        other => {
            return Err(DecodeError::at(
                "$",
                0,
                DecodeErrorKind::NotAnObject(snippet(&other)),
            ));
        }
    };
    let namespace = take_envelope(&mut map, "namespace", true)?;
    let name = take_envelope(&mut map, "name", true)?;
    let id = take_envelope(&mut map, "id", false)?;
    let args = map.remove("args");
    Ok(Message::from_parts(namespace, name, id, args, map))
}

fn take_envelope(
    map: &mut Object,
    key: &'static str,
    required: bool,
) -> Result<String, DecodeError> {
    match map.remove(key) {
        Some(Value::String(s)) => Ok(s),
        Some(other) => Err(DecodeError::at(
            format!("$.{key}"),
            0,
            DecodeErrorKind::NotAString(snippet(&other)),
        )),
        None if required => Err(DecodeError::at("$", 0, DecodeErrorKind::MissingField(key))),
        None => Ok(String::new()),
    }
}

/// Encodes a message as the server would: compact, keys sorted, no trailing newline.
pub fn encode(message: &Message, limits: &Limits) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::with_capacity(128);
    encode_into(message, limits, &mut out)?;
    Ok(out)
}

/// Like [`encode`], appending to `out`.
pub fn encode_into(
    message: &Message,
    limits: &Limits,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let start = out.len();
    write_object(out, &message.to_object(), limits.max_depth).map_err(|e| match e {
        EncodeError::TooDeep { .. } => EncodeError::TooDeep {
            max: limits.max_depth,
        },
        e => e,
    })?;
    let len = out.len() - start;
    if len > limits.max_message_len {
        out.truncate(start);
        return Err(EncodeError::TooLong {
            len,
            max: limits.max_message_len,
        });
    }
    Ok(())
}

/// Encodes a message to a `String` (the text of a websocket text frame).
pub fn encode_text(message: &Message, limits: &Limits) -> Result<String, EncodeError> {
    let bytes = encode(message, limits)?;
    // The writer only emits UTF-8 (input strings are UTF-8, escapes are ASCII).
    Ok(String::from_utf8(bytes).unwrap_or_default())
}

/// Writes any JSON value the server's way (compact, sorted keys).
pub fn encode_value(value: &Value, limits: &Limits) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    crate::json::write_value(&mut out, value, limits.max_depth).map_err(|e| match e {
        EncodeError::TooDeep { .. } => EncodeError::TooDeep {
            max: limits.max_depth,
        },
        e => e,
    })?;
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Routed bridge frames

/// How a routed frame's payload is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PayloadEncoding {
    /// The JSON text itself (before the client's `auth_ssl` with `md5_key`).
    Plain,
    /// Base64 (standard alphabet, padded) of the JSON text (after it).
    Base64,
}

/// A bridge-routed frame: `<connection id>` LF `<payload>`. `Debug` shows the payload's length,
/// not its bytes (it may be an `auth` request).
#[derive(Clone, PartialEq, Eq)]
pub struct RoutedFrame {
    /// The connection id (`::{uuid}`): the destination when sent to the bridge, the source when
    /// received from it.
    pub id: String,
    /// How the payload was (or is to be) written.
    pub encoding: PayloadEncoding,
    /// The payload text (decoded from base64 when [`PayloadEncoding::Base64`]).
    pub payload: Vec<u8>,
}

impl std::fmt::Debug for RoutedFrame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RoutedFrame")
            .field("id", &self.id)
            .field("encoding", &self.encoding)
            .field("payload_len", &self.payload.len())
            .finish()
    }
}

impl RoutedFrame {
    /// Decodes the payload as a message.
    pub fn message(&self, limits: &Limits) -> Result<Message, DecodeError> {
        decode(&self.payload, limits).map_err(|mut e| {
            e.path = format!("$.payload{}", e.path.trim_start_matches('$'));
            e
        })
    }

    /// A routed frame carrying `message`.
    pub fn with_message(
        id: &str,
        encoding: PayloadEncoding,
        message: &Message,
        limits: &Limits,
    ) -> Result<RoutedFrame, EncodeError> {
        Ok(RoutedFrame {
            id: id.to_owned(),
            encoding,
            payload: encode(message, limits)?,
        })
    }
}

/// Decodes a routed frame. The payload is [`PayloadEncoding::Plain`] when it starts with `{`
/// or is not canonical base64, else base64-decoded.
pub fn decode_routed(bytes: &[u8], limits: &Limits) -> Result<RoutedFrame, DecodeError> {
    if bytes.len() > limits.max_message_len {
        return Err(DecodeError::at(
            "$",
            limits.max_message_len,
            DecodeErrorKind::TooLong {
                len: bytes.len(),
                max: limits.max_message_len,
            },
        ));
    }
    let nl = bytes
        .iter()
        .position(|&b| b == b'\n')
        .ok_or_else(|| DecodeError::at("$", bytes.len(), DecodeErrorKind::NoRouteSeparator))?;
    let id = std::str::from_utf8(bytes.get(..nl).unwrap_or_default())
        .map_err(|e| DecodeError::at("$.id", e.valid_up_to(), DecodeErrorKind::BadRouteId))?
        .to_owned();
    let body = bytes.get(nl + 1..).unwrap_or_default();
    if body.first() != Some(&b'{')
        && let Some(decoded) = base64_decode(body)
    {
        return Ok(RoutedFrame {
            id,
            encoding: PayloadEncoding::Base64,
            payload: decoded,
        });
    }
    Ok(RoutedFrame {
        id,
        encoding: PayloadEncoding::Plain,
        payload: body.to_vec(),
    })
}

/// Encodes a routed frame.
pub fn encode_routed(frame: &RoutedFrame) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.id.len() + 1 + frame.payload.len() * 4 / 3 + 4);
    out.extend_from_slice(frame.id.as_bytes());
    out.push(b'\n');
    match frame.encoding {
        PayloadEncoding::Plain => out.extend_from_slice(&frame.payload),
        PayloadEncoding::Base64 => base64_encode(&frame.payload, &mut out),
    }
    out
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard, padded base64.
pub(crate) fn base64_encode(input: &[u8], out: &mut Vec<u8>) {
    let sym = |i: u32| B64.get((i & 63) as usize).copied().unwrap_or(b'=');
    for chunk in input.chunks(3) {
        let b0 = u32::from(chunk.first().copied().unwrap_or(0));
        let b1 = u32::from(chunk.get(1).copied().unwrap_or(0));
        let b2 = u32::from(chunk.get(2).copied().unwrap_or(0));
        let n = (b0 << 16) | (b1 << 8) | b2;
        out.push(sym(n >> 18));
        out.push(sym(n >> 12));
        out.push(if chunk.len() > 1 { sym(n >> 6) } else { b'=' });
        out.push(if chunk.len() > 2 { sym(n) } else { b'=' });
    }
}

/// Decodes canonical standard padded base64 (unused bits zero, no whitespace); `None` otherwise,
/// so that re-encoding gives back the same text.
pub(crate) fn base64_decode(input: &[u8]) -> Option<Vec<u8>> {
    if input.is_empty() || !input.len().is_multiple_of(4) {
        return None;
    }
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let mut out = Vec::with_capacity(input.len() / 4 * 3);
    let quads = input.len() / 4;
    for (qi, q) in input.chunks(4).enumerate() {
        let last = qi + 1 == quads;
        let [a, b, c, d] =
            [q.first(), q.get(1), q.get(2), q.get(3)].map(|x| x.copied().unwrap_or(b'='));
        let (a, b) = (val(a)?, val(b)?);
        match (c, d) {
            (b'=', b'=') if last => {
                if b & 0xf != 0 {
                    return None;
                }
                out.push(((a << 2) | (b >> 4)) as u8);
            }
            (c, b'=') if last && c != b'=' => {
                let c = val(c)?;
                if c & 0x3 != 0 {
                    return None;
                }
                let n = (a << 18) | (b << 12) | (c << 6);
                out.push((n >> 16) as u8);
                out.push((n >> 8) as u8);
            }
            (c, d) => {
                let n = (a << 18) | (b << 12) | (val(c)? << 6) | val(d)?;
                out.push((n >> 16) as u8);
                out.push((n >> 8) as u8);
                out.push(n as u8);
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips_and_rejects_non_canonical() {
        for input in [&b""[..], b"f", b"fo", b"foo", b"foob", b"fooba", b"foobar"] {
            let mut enc = Vec::new();
            base64_encode(input, &mut enc);
            if input.is_empty() {
                assert!(enc.is_empty());
                continue;
            }
            assert_eq!(base64_decode(&enc).as_deref(), Some(input));
        }
        let mut enc = Vec::new();
        base64_encode(b"foobar", &mut enc);
        assert_eq!(enc, b"Zm9vYmFy");
        assert_eq!(base64_decode(b"Zh=="), None, "unused bits set");
        assert_eq!(base64_decode(b"Zg=a"), None);
        assert_eq!(base64_decode(b"Zg==Zg=="), None, "padding in the middle");
        assert_eq!(base64_decode(b"Zm9v\n"), None);
    }

    #[test]
    fn json_error_position_is_reported() {
        let e = decode(b"{\"a\":\n  tru}", &Limits::default()).unwrap_err();
        assert_eq!((e.line, e.column), (2, 6));
        assert_eq!(e.offset, 11);
        assert!(matches!(e.kind, DecodeErrorKind::Json(_)));
    }

    #[test]
    fn envelope_field_errors_name_the_path() {
        let e = decode(br#"{"namespace":5,"name":"x"}"#, &Limits::default()).unwrap_err();
        assert_eq!(e.path, "$.namespace");
        assert_eq!(e.kind, DecodeErrorKind::NotAString("5".into()));
        let e = decode(br#"{"namespace":"rpc"}"#, &Limits::default()).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::MissingField("name"));
        let e = decode(br#"[1]"#, &Limits::default()).unwrap_err();
        assert_eq!(e.kind, DecodeErrorKind::NotAnObject("[1]".into()));
    }
}
