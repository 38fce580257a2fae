//! The two forms `monwire` prints an event in: one readable text line, or one JSON line.
//!
//! # The text line
//!
//! ```text
//! 14:03:07.412 INFO  zmq    tcp://127.0.0.1:5555 handshake succeeded fd=12
//! 14:03:07.415 ERROR zmq    tcp://127.0.0.1:5555 handshake failed: ZMTP_MECHANISM_MISMATCH
//! ```
//!
//! - the time (local, or UTC with [`TextStyle::utc`]) of the event's observed time, else the
//!   time its message carried; `--:--:--.---` when it has neither (a capture without times);
//! - the severity, coloured when colour is on: ERROR and FATAL red, WARN yellow, DEBUG and
//!   TRACE dim;
//! - the protocol;
//! - the message: [`Event::summary_text`], the codec's own summary;
//! - then only the attributes that add to it: those whose keys the codec's
//!   `event::summary_keys` does not list, and whose values are scalars (no bytes, lists or
//!   maps), as `key=value`, the value quoted when [`needs_quotes`] says so.
//!
//! With [`TextStyle::width`], the whole line is cut to that many characters with `…`.
//!
//! With [`TextStyle::verbose`] (`-v`) every attribute is shown, non-scalars in their
//! `Display` form, and the source (`source=…`) too; a verbose line is never cut, because its
//! point is to show everything.

use std::cell::Cell;
use std::fmt::Write as _;
use std::time::UNIX_EPOCH;

use monwire_event::{Event, Protocol, Severity, Value, needs_quotes};

/// How text lines look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextStyle {
    /// ANSI colour for the severity.
    pub color: bool,
    /// Times in UTC instead of the local time zone.
    pub utc: bool,
    /// Every attribute and the source, never cut.
    pub verbose: bool,
    /// Cut each line to this many characters (the terminal's width).
    pub width: Option<usize>,
}

/// Formats events as text lines (see the [module docs](self)).
#[derive(Debug, Clone)]
pub struct TextView {
    style: TextStyle,
    tz: jiff::tz::TimeZone,
    /// The UTC offset of the last 15-minute window seen: (window, offset seconds).
    offset: Cell<(i64, i32)>,
}

/// The attribute keys the codec's summary already states, by the event's protocol family.
pub fn summary_keys(event: &Event) -> &'static [&'static str] {
    match event.protocol.family() {
        Protocol::Zmq => monwire_zmq::event::summary_keys(event),
        Protocol::Nsm => monwire_nsm::event::summary_keys(event),
        Protocol::Galaxy => monwire_galaxy::event::summary_keys(event),
        Protocol::SysAdm => monwire_sysadm::event::summary_keys(event),
        _ => &[],
    }
}

const RESET: &str = "\x1b[0m";

fn severity_style(s: Severity) -> Option<&'static str> {
    match s {
        Severity::Fatal => Some("\x1b[1;31m"),
        Severity::Error => Some("\x1b[31m"),
        Severity::Warn => Some("\x1b[33m"),
        Severity::Debug | Severity::Trace => Some("\x1b[2m"),
        _ => None,
    }
}

impl TextView {
    /// A view with this style; the local time zone is read once, here.
    pub fn new(style: TextStyle) -> TextView {
        let tz = if style.utc {
            jiff::tz::TimeZone::UTC
        } else {
            jiff::tz::TimeZone::system()
        };
        TextView {
            style,
            tz,
            offset: Cell::new((i64::MIN, 0)),
        }
    }

    /// The style.
    pub fn style(&self) -> TextStyle {
        self.style
    }

    /// Sets the width lines are cut to.
    pub fn set_width(&mut self, width: Option<usize>) {
        self.style.width = width;
    }

    fn utc_offset(&self, secs: i64) -> i64 {
        if self.style.utc {
            return 0;
        }
        let window = secs.div_euclid(900);
        let (w, off) = self.offset.get();
        if w == window {
            return i64::from(off);
        }
        let off = jiff::Timestamp::from_second(secs)
            .map(|ts| self.tz.to_offset(ts).seconds())
            .unwrap_or(0);
        self.offset.set((window, off));
        i64::from(off)
    }

    fn push_clock(&self, e: &Event, out: &mut String) {
        let Some(t) = e.observed.or(e.time) else {
            out.push_str("--:--:--.---");
            return;
        };
        let (secs, millis) = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => (
                i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
                d.subsec_millis(),
            ),
            Err(before) => {
                let d = before.duration();
                let secs = -i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
                match d.subsec_millis() {
                    0 => (secs, 0),
                    m => (secs - 1, 1000 - m),
                }
            }
        };
        let local = secs.saturating_add(self.utc_offset(secs));
        let day = local.rem_euclid(86_400);
        let (h, m, s) = (day / 3600, day / 60 % 60, day % 60);
        let digits = |out: &mut String, v: i64, n: usize| {
            let mut buf = [b'0'; 3];
            let mut v = v;
            for slot in buf.iter_mut().take(n).rev() {
                *slot = b'0' + (v % 10) as u8;
                v /= 10;
            }
            for &b in buf.iter().take(n) {
                out.push(char::from(b));
            }
        };
        digits(out, h, 2);
        out.push(':');
        digits(out, m, 2);
        out.push(':');
        digits(out, s, 2);
        out.push('.');
        digits(out, i64::from(millis), 3);
    }

    /// Appends the event's text line, with its `\n`, to `out`.
    pub fn write_line(&self, e: &Event, out: &mut String) {
        let start = out.len();
        self.push_clock(e, out);
        out.push(' ');
        let sev = e.severity.as_str();
        let style = if self.style.color {
            severity_style(e.severity)
        } else {
            None
        };
        if let Some(s) = style {
            out.push_str(s);
        }
        out.push_str(sev);
        if style.is_some() {
            out.push_str(RESET);
        }
        let escapes = out.len() - start - 13 - sev.len();
        for _ in sev.len()..6 {
            out.push(' ');
        }
        let proto = e.protocol.as_str();
        out.push_str(proto);
        for _ in proto.len()..7 {
            out.push(' ');
        }
        out.push_str(&e.summary_text());
        if self.style.verbose {
            if let Some(src) = &e.source {
                push_pair(out, "source", &Value::Str(src.clone()));
            }
            for (k, v) in &e.attributes {
                push_pair(out, k, v);
            }
        } else {
            let hidden = summary_keys(e);
            for (k, v) in &e.attributes {
                if v.is_scalar() && !hidden.contains(&k) {
                    push_pair(out, k, v);
                }
            }
            if let Some(w) = self.style.width {
                cut_visible(out, start, escapes, w);
            }
        }
        out.push('\n');
    }
}

/// ` key=value`, the value quoted when it needs it.
fn push_pair(out: &mut String, k: &str, v: &Value) {
    out.push(' ');
    out.push_str(k);
    out.push('=');
    match v {
        Value::Str(s) if needs_quotes(s) => {
            let _ = write!(out, "{s:?}");
        }
        Value::Str(s) => out.push_str(s),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// Cuts the line that starts at `start` (holding `escapes` bytes of escape codes, all before
/// the message) to `width` visible characters, the last one `…`.
fn cut_visible(out: &mut String, start: usize, escapes: usize, width: usize) {
    let line = &out[start..];
    if line.len() - escapes <= width {
        return; // bytes bound characters from above
    }
    let visible = line.chars().count() - escapes;
    if visible <= width {
        return;
    }
    // Keep `width - 1` visible characters, then `…`. The escapes are ASCII and all lie before
    // the protocol column, so counting them as characters is exact for the cut point.
    let keep = width.saturating_sub(1) + escapes;
    if let Some((at, _)) = line.char_indices().nth(keep) {
        out.truncate(start + at);
        out.push('…');
    }
}

/// An event that has no JSON form (a non-finite float, a time outside 1970–2554).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoJsonForm(&'static str);

impl std::fmt::Display for NoJsonForm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for NoJsonForm {}

/// Appends the event's JSON line, with its `\n`, to `out`; on an error nothing is appended.
///
/// The bytes are exactly those of `serde_json::to_writer(out, event)` with `monwire_event`'s
/// `Serialize` (the documented JSON form; a test holds the two equal over arbitrary events),
/// written directly: the keys are constants, and text without characters to escape is copied
/// as it is.
pub fn write_json_line(e: &Event, out: &mut Vec<u8>) -> Result<(), NoJsonForm> {
    let start = out.len();
    match write_event(e, out) {
        Ok(()) => {
            out.push(b'\n');
            Ok(())
        }
        Err(err) => {
            out.truncate(start);
            Err(err)
        }
    }
}

fn write_event(e: &Event, out: &mut Vec<u8>) -> Result<(), NoJsonForm> {
    out.extend_from_slice(b"{\"protocol\":");
    json_str(out, e.protocol.as_str());
    if let Some(source) = &e.source {
        out.extend_from_slice(b",\"source\":");
        json_str(out, source);
    }
    out.extend_from_slice(b",\"subject\":");
    json_str(out, &e.subject);
    out.extend_from_slice(b",\"kind\":");
    json_str(out, e.kind.as_str());
    out.extend_from_slice(b",\"name\":");
    json_str(out, &e.name);
    out.extend_from_slice(b",\"severity\":\"");
    out.extend_from_slice(e.severity.as_str().as_bytes());
    out.extend_from_slice(b"\",\"severity_number\":");
    json_u64(out, u64::from(e.severity.number()));
    if let Some(t) = e.time {
        out.extend_from_slice(b",\"time_unix_nano\":");
        json_u64(out, unix_nanos(t)?);
    }
    if let Some(t) = e.observed {
        out.extend_from_slice(b",\"observed_unix_nano\":");
        json_u64(out, unix_nanos(t)?);
    }
    if let Some(summary) = &e.summary {
        out.extend_from_slice(b",\"summary\":");
        json_str(out, summary);
    }
    out.extend_from_slice(b",\"attributes\":{");
    for (i, (k, v)) in e.attributes.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        // Top-level attribute keys are written as they are (only nested map keys that start
        // with `$` get one more `$`, as `monwire_event` does).
        json_str(out, k);
        out.push(b':');
        json_value(out, v, 0)?;
    }
    out.extend_from_slice(b"}}");
    Ok(())
}

fn unix_nanos(t: std::time::SystemTime) -> Result<u64, NoJsonForm> {
    let d = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| NoJsonForm("time before 1970 has no JSON form"))?;
    u64::try_from(d.as_nanos()).map_err(|_| NoJsonForm("time after 2554 has no JSON form"))
}

/// Nesting deeper than this is written through serde_json (which bounds it as it does).
const FAST_DEPTH: usize = 32;

fn json_value(out: &mut Vec<u8>, v: &Value, depth: usize) -> Result<(), NoJsonForm> {
    match v {
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Int(i) if *i < 0 => {
            out.push(b'-');
            json_u64(out, i.unsigned_abs());
        }
        Value::Int(i) => json_u64(out, i.unsigned_abs()),
        Value::UInt(u) => json_u64(out, *u),
        Value::Float(f) if f.is_finite() => {
            // Floats are rare: serde_json's own shortest round-trip form, byte for byte.
            serde_json::to_writer(&mut *out, f)
                .map_err(|_| NoJsonForm("float has no JSON form"))?;
        }
        Value::Float(_) => return Err(NoJsonForm("non-finite float has no JSON form")),
        Value::Str(s) => json_str(out, s),
        Value::Bytes(b) => {
            out.extend_from_slice(b"{\"$hex\":\"");
            for &byte in b {
                out.push(HEX_DIGITS[usize::from(byte >> 4)]);
                out.push(HEX_DIGITS[usize::from(byte & 15)]);
            }
            out.extend_from_slice(b"\"}");
        }
        Value::List(items) if depth < FAST_DEPTH => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_value(out, item, depth + 1)?;
            }
            out.push(b']');
        }
        Value::Map(m) if depth < FAST_DEPTH => {
            out.push(b'{');
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                if let Some(rest) = k.strip_prefix('$') {
                    out.extend_from_slice(b"\"$$");
                    json_str_body(out, rest);
                    out.push(b'"');
                } else {
                    json_str(out, k);
                }
                out.push(b':');
                json_value(out, v, depth + 1)?;
            }
            out.push(b'}');
        }
        deep => {
            serde_json::to_writer(&mut *out, deep)
                .map_err(|_| NoJsonForm("value has no JSON form"))?;
        }
    }
    Ok(())
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// "00", "01", … "99": two decimal digits per table lookup.
const DIGIT_PAIRS: [u8; 200] = {
    let mut t = [0u8; 200];
    let mut i = 0;
    while i < 100 {
        t[2 * i] = b'0' + (i / 10) as u8;
        t[2 * i + 1] = b'0' + (i % 10) as u8;
        i += 1;
    }
    t
};

fn json_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while v >= 100 {
        let pair = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    }
    if v >= 10 {
        let pair = v as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    out.extend_from_slice(&buf[i..]);
}

fn json_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    json_str_body(out, s);
    out.push(b'"');
}

/// The characters JSON (and serde_json) escape: `"`, `\\` and the C0 controls.
fn needs_escape(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// Whether any of the 8 bytes of `w` is one JSON escapes (`"`, `\\`, below 0x20). Exact: the
/// classic "has a zero byte" and "has a byte less than n" word tests have no false positives
/// for whether there is one.
#[inline]
fn word_needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let control = w.wrapping_sub(ONES * 0x20) & !w;
    let q = w ^ (ONES * u64::from(b'"'));
    let quote = q.wrapping_sub(ONES) & !q;
    let b = w ^ (ONES * u64::from(b'\\'));
    let backslash = b.wrapping_sub(ONES) & !b;
    (control | quote | backslash) & HIGH != 0
}

/// Whether `bytes` has nothing to escape, 8 bytes at a time: whole words, then the last 8
/// bytes (overlapping the words), so no byte is looked at alone unless there are fewer than 8.
#[inline]
fn is_clean(bytes: &[u8]) -> bool {
    let Some((_, last)) = bytes.split_last_chunk::<8>() else {
        return !bytes.iter().any(|&b| needs_escape(b));
    };
    let mut rest = bytes;
    while let Some((word, tail)) = rest.split_first_chunk::<8>() {
        if word_needs_escape(u64::from_le_bytes(*word)) {
            return false;
        }
        rest = tail;
    }
    !word_needs_escape(u64::from_le_bytes(*last))
}

fn json_str_body(out: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    // Most text has nothing to escape: find that out a word at a time, then copy it whole.
    if is_clean(bytes) {
        out.extend_from_slice(bytes);
        return;
    }
    let mut from = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !needs_escape(b) {
            continue;
        }
        out.extend_from_slice(bytes.get(from..i).unwrap_or_default());
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            c => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX_DIGITS[usize::from(c >> 4)]);
                out.push(HEX_DIGITS[usize::from(c & 15)]);
            }
        }
        from = i + 1;
    }
    out.extend_from_slice(bytes.get(from..).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;
    use monwire_event::Kind;
    use std::time::Duration;

    fn ev() -> Event {
        Event::new(Protocol::SysAdm, Kind::Failed, "x")
            .with_severity(Severity::Error)
            .with_summary("job finished, rc 1")
            .with_observed(UNIX_EPOCH + Duration::from_millis(3_723_456))
            .with_attr("sysadm.priority", "0 - Information")
            .with_attr("sysadm.blob", Value::Bytes(vec![0xde, 0xad]))
            .with_attr("n", 7u64)
    }

    #[test]
    fn text_line_has_utc_time_summary_and_scalar_attributes() {
        let v = TextView::new(TextStyle {
            utc: true,
            ..Default::default()
        });
        let mut s = String::new();
        v.write_line(&ev(), &mut s);
        assert_eq!(
            s,
            "01:02:03.456 ERROR sysadm job finished, rc 1 sysadm.priority=\"0 - Information\" n=7\n"
        );
    }

    #[test]
    fn colour_wraps_only_the_severity_and_width_cuts_visible_characters() {
        let v = TextView::new(TextStyle {
            utc: true,
            color: true,
            width: Some(30),
            ..Default::default()
        });
        let mut s = String::new();
        v.write_line(&ev(), &mut s);
        assert!(s.starts_with("01:02:03.456 \x1b[31mERROR\x1b[0m sysadm "));
        let visible = s.trim_end().replace("\x1b[31m", "").replace("\x1b[0m", "");
        assert_eq!(visible.chars().count(), 30, "{visible:?}");
        assert!(visible.ends_with('…'));
    }

    #[test]
    fn verbose_shows_everything_uncut() {
        let v = TextView::new(TextStyle {
            utc: true,
            verbose: true,
            width: Some(10),
            ..Default::default()
        });
        let mut s = String::new();
        v.write_line(&ev().with_source("wss://h"), &mut s);
        assert!(s.contains(" source=wss://h "), "{s}");
        assert!(s.contains(" sysadm.blob=0xdead "), "{s}");
    }

    #[test]
    fn json_strings_and_numbers_are_serde_jsons_at_every_offset() {
        // Every character that needs escaping (and some that do not), at every position of
        // texts longer than the eight-byte fast path, both sides of each word boundary.
        let specials = [
            '"', '\\', '\n', '\r', '\t', '\u{8}', '\u{c}', '\u{0}', '\u{1f}', '\u{7f}', 'é', ' ',
            '~',
        ];
        for len in [0usize, 1, 7, 8, 9, 15, 16, 17, 23, 31] {
            for at in 0..len.max(1) {
                for c in specials {
                    let mut text: Vec<char> = "abcdefghijklmnopqrstuvwxyz01234"
                        .chars()
                        .take(len)
                        .collect();
                    if at < text.len() {
                        text[at] = c;
                    }
                    let text: String = text.into_iter().collect();
                    let mut out = Vec::new();
                    json_str(&mut out, &text);
                    assert_eq!(
                        String::from_utf8(out).unwrap(),
                        serde_json::to_string(&text).unwrap(),
                        "{text:?}"
                    );
                }
            }
        }
        for v in [
            0u64,
            9,
            10,
            99,
            100,
            101,
            999,
            1000,
            12_345,
            u64::from(u32::MAX),
            1_700_000_000_000_000_001,
            u64::MAX,
        ] {
            let mut out = Vec::new();
            json_u64(&mut out, v);
            assert_eq!(String::from_utf8(out).unwrap(), v.to_string());
        }
    }

    #[test]
    fn no_time_prints_dashes() {
        let v = TextView::new(TextStyle::default());
        let mut s = String::new();
        v.write_line(&Event::new(Protocol::Zmq, Kind::Other, "X"), &mut s);
        assert_eq!(s, "--:--:--.--- INFO  zmq    X\n");
    }
}
