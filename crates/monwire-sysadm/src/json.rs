//! JSON helpers: the nesting pre-scan and the server-style writer (compact, sorted keys).

use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};

/// Checks that arrays/objects in `bytes` nest at most `max` deep, without recursion and without
/// allocating. Brackets inside strings are ignored. Syntax is not checked here (serde_json
/// does that next); this only guarantees the parser below never recurses past `max`.
pub(crate) fn check_depth(bytes: &[u8], max: usize) -> Result<(), DecodeError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (offset, &b) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(DecodeError::at(
                        "$",
                        offset,
                        DecodeErrorKind::TooDeep { max },
                    ));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Qt's `QJsonObject` key order: UTF-16 code units, ordinal.
pub(crate) fn qt_key_cmp(a: &str, b: &str) -> Ordering {
    if a.is_ascii() && b.is_ascii() {
        return a.cmp(b);
    }
    a.encode_utf16().cmp(b.encode_utf16())
}

/// Writes `value` the way the SysAdm server does: compact, object keys sorted (UTF-16 ordinal,
/// as Qt), strings escaped like `QJsonDocument::toJson(Compact)`.
pub(crate) fn write_value(
    out: &mut Vec<u8>,
    value: &Value,
    depth_left: usize,
) -> Result<(), EncodeError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => {
            if n.as_f64().is_some_and(|f| !f.is_finite()) {
                return Err(EncodeError::BadNumber);
            }
            out.extend_from_slice(n.to_string().as_bytes());
        }
        Value::String(s) => write_str(out, s),
        Value::Array(items) => {
            let depth_left = deeper(depth_left)?;
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_value(out, item, depth_left)?;
            }
            out.push(b']');
        }
        Value::Object(map) => write_object(out, map, depth_left)?,
    }
    Ok(())
}

fn deeper(depth_left: usize) -> Result<usize, EncodeError> {
    depth_left
        .checked_sub(1)
        .ok_or(EncodeError::TooDeep { max: 0 })
}

/// Writes an object with sorted keys (see [`write_value`]).
pub(crate) fn write_object(
    out: &mut Vec<u8>,
    map: &Map<String, Value>,
    depth_left: usize,
) -> Result<(), EncodeError> {
    let depth_left = deeper(depth_left)?;
    out.push(b'{');
    let mut entries: Vec<(&String, &Value)> = map.iter().collect();
    if !entries.is_sorted_by(|a, b| qt_key_cmp(a.0, b.0) != Ordering::Greater) {
        entries.sort_by(|a, b| qt_key_cmp(a.0, b.0));
    }
    for (i, (k, v)) in entries.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, k);
        out.push(b':');
        write_value(out, v, depth_left)?;
    }
    out.push(b'}');
    Ok(())
}

/// Writes a JSON string: `"` and `\` escaped, control characters as `\b \f \n \r \t` or
/// `\u00XX`, everything else (non-ASCII included) as UTF-8.
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(bytes.get(start..i).unwrap_or_default());
        if esc.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(bytes.get(start..).unwrap_or_default());
    out.push(b'"');
}

/// A short compact rendering of `value` for error messages (at most 64 bytes).
pub(crate) fn snippet(value: &Value) -> String {
    let mut s = value.to_string();
    if s.len() > 64 {
        let mut cut = 61;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str("...");
    }
    s
}

/// Removes `key` from `map` if its value is a string, and returns it.
pub(crate) fn take_str(map: &mut Map<String, Value>, key: &str) -> Option<String> {
    if matches!(map.get(key), Some(Value::String(_))) {
        match map.remove(key) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        }
    } else {
        None
    }
}

/// Removes `key` from `map` if its value is an array of strings, and returns it.
pub(crate) fn take_str_list(map: &mut Map<String, Value>, key: &str) -> Option<Vec<String>> {
    match map.get(key) {
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => {}
        _ => return None,
    }
    match map.remove(key) {
        Some(Value::Array(items)) => Some(
            items
                .into_iter()
                .filter_map(|v| match v {
                    Value::String(s) => Some(s),
                    _ => None,
                })
                .collect(),
        ),
        _ => None,
    }
}

/// Removes `key` from `map` if its value is an object, and returns it.
pub(crate) fn take_obj(map: &mut Map<String, Value>, key: &str) -> Option<Map<String, Value>> {
    if matches!(map.get(key), Some(Value::Object(_))) {
        match map.remove(key) {
            Some(Value::Object(m)) => Some(m),
            _ => None,
        }
    } else {
        None
    }
}

/// Inserts `Some` string values.
pub(crate) fn put_str(map: &mut Map<String, Value>, key: &str, value: &Option<String>) {
    if let Some(v) = value {
        map.insert(key.to_owned(), Value::String(v.clone()));
    }
}

/// A list of strings as a JSON array.
pub(crate) fn str_list(items: &[String]) -> Value {
    Value::Array(items.iter().cloned().map(Value::String).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depth_scan_ignores_brackets_in_strings() {
        assert!(check_depth(br#"{"a":"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}"#, 2).is_ok());
        assert!(check_depth(br#"{"a":"\"[[["}"#, 1).is_ok());
        let e = check_depth(b"[[[", 2).unwrap_err();
        assert_eq!(e.offset, 2);
        assert_eq!(e.kind, DecodeErrorKind::TooDeep { max: 2 });
    }

    #[test]
    fn writer_sorts_keys_and_escapes_like_qt() {
        let v: Value = serde_json::from_str(r#"{"b":1,"a":["x\u0001\n\"\\/é"],"":{}}"#).unwrap();
        let mut out = Vec::new();
        write_value(&mut out, &v, 10).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"":{},"a":["x\u0001\n\"\\/é"],"b":1}"#
        );
    }

    #[test]
    fn qt_order_is_utf16() {
        // U+FF5E sorts before U+10000 in UTF-8 byte order but after it in UTF-16.
        assert_eq!(qt_key_cmp("\u{ff5e}", "\u{10000}"), Ordering::Greater);
        assert_eq!(qt_key_cmp("a", "b"), Ordering::Less);
    }
}
