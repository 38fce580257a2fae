//! The frame text syntax: the reader (`Gal_ReadFrameFromString`), the PR, PP and outline
//! printers (`pr_util.c`), and Galaxy uuencode (`uucode.c`).
//!
//! Output is bytes (`Vec<u8>`): strings are printed raw, as C does.
//!
//! # Reader
//!
//! [`read_frame`] accepts what the C reader accepts, edge cases included: `{x` and a bare `{`
//! open a clause, a name starting with `:` is the first key, keys need no colon, `NULLObject`,
//! `NULLFrame` and `...` values drop their key, a keyword in value position becomes the next key,
//! `":pred"` values become predicates. Like C it stops early, without failing, at a token value,
//! a `)`, an invalid nested frame or binary, or the end of the input, and returns the frame so
//! far; [`read_frame_report`] also says where and why ([`TextRead::stop`]).
//!
//! Choices where C is undefined: a binary whose `enc_len` characters decode to fewer than
//! `dec_len` bytes is refused (C reads uninitialised memory), extra groups are ignored (C writes
//! past its buffer); nesting deeper than [`Limits::max_depth`](crate::codec::Limits) is refused
//! like an invalid nested frame (C recurses without bound); integers outside 32 bits wrap the way
//! glibc's `atoi` does on LP64 (`strtol` saturated to 64 bits, then truncated).

use crate::codec::{Limits, MAX_DEPTH_CAP};
use crate::index::KeyIndex;
use crate::message::{Frame, FrameType, Key, NO_KEY, Object, type_name};

const TOKEN_MAX: usize = 1023;
const STOPS: &[u8] = b"}){(\"";

/// Where and why the reader stopped before the frame's closing `}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TextStop {
    /// Byte offset in the input where the reader stopped.
    pub offset: usize,
    /// What the C reader would warn.
    pub reason: String,
}

/// The result of [`read_frame_report`].
#[derive(Clone, Debug, PartialEq)]
pub struct TextRead {
    /// The frame, or `None` where C returns NULL (no valid opening, invalid name).
    pub frame: Option<Frame>,
    /// The first abnormal stop, if the frame did not end with its `}`.
    pub stop: Option<TextStop>,
    /// How many input bytes the reader consumed.
    pub consumed: usize,
}

/// Reads a frame from text as C `Gal_ReadFrameFromString` does.
pub fn read_frame(text: &[u8]) -> Option<Frame> {
    read_frame_report(text).frame
}

/// Reads a frame and reports an early stop.
pub fn read_frame_report(text: &[u8]) -> TextRead {
    read_frame_with(text, &Limits::default())
}

/// Reads a frame with these limits (only `max_depth` applies).
pub fn read_frame_with(text: &[u8], limits: &Limits) -> TextRead {
    let mut r = TextReader::new(text, limits.max_depth.min(MAX_DEPTH_CAP));
    let frame = r.frame(1);
    r.finish();
    TextRead {
        frame,
        stop: r.stop,
        consumed: r.pos,
    }
}

/// Reads one object (a value: string, frame, list, number, …) from text, as C
/// `Gal_ReadObjectFromString` does; `None` where C returns NULL.
pub fn read_object(text: &[u8]) -> Option<Object> {
    let mut r = TextReader::new(text, Limits::default().max_depth);
    let v = match r.object(1) {
        Value::Obj(o) => Some(o),
        Value::Keyword(k) => Some(Object::Keyword(k.into())),
        _ => None,
    };
    r.finish();
    v
}

/// The readers' working vectors, kept per thread between reads so that reading a frame does
/// not grow them again each time.
#[derive(Default)]
struct Scratch {
    props: Vec<(Key, Object)>,
    items: Vec<Object>,
}

/// Scratch vectors larger than this many entries are not kept (a huge frame's would stay
/// allocated for the thread's life).
const SCRATCH_KEEP: usize = 1024;

thread_local! {
    static SCRATCH: std::cell::Cell<Scratch> = std::cell::Cell::default();
}

fn is_space(b: u8) -> bool {
    CLASS[b as usize] & SPACE != 0
}

/// Byte classes for the token scanner: C `isspace`, the stop characters `}){("`, and `}`.
const SPACE: u8 = 1;
const STOP: u8 = 2;
const BRACE: u8 = 4;
const CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 256 {
        let b = i as u8;
        if matches!(b, b' ' | b'\t' | b'\n' | 0x0b | 0x0c | b'\r') {
            t[i] = SPACE;
        }
        let mut j = 0;
        while j < STOPS.len() {
            if STOPS[j] == b {
                t[i] |= STOP;
            }
            j += 1;
        }
        if b == b'}' {
            t[i] |= BRACE;
        }
        i += 1;
    }
    t
};

enum Value<'a> {
    Obj(Object),
    /// A keyword (`:name`) in value position, borrowed: the next key in a frame, an object in
    /// a list.
    Keyword(&'a [u8]),
    /// NULL with `last` set to this token (`}`, `)`, `NULLObject`, `NULLFrame`, `...`).
    Last(&'static str),
    /// NULL with no `last` (end of input, invalid frame, list or binary).
    Nothing,
}

struct TextReader<'a> {
    s: &'a [u8],
    pos: usize,
    stop: Option<TextStop>,
    max_depth: usize,
    /// The properties of the frames being read, innermost last: each frame's are moved into
    /// one exact allocation when it ends (no growth of its own vector).
    props: Vec<(Key, Object)>,
    /// The items of the lists being read, innermost last (as `props`).
    items: Vec<Object>,
}

impl<'a> TextReader<'a> {
    fn new(text: &'a [u8], max_depth: usize) -> TextReader<'a> {
        // C strings end at the first NUL.
        let end = memchr::memchr(0, text).unwrap_or(text.len());
        let scratch = SCRATCH.try_with(std::cell::Cell::take).unwrap_or_default();
        TextReader {
            s: text.get(..end).unwrap_or_default(),
            pos: 0,
            stop: None,
            max_depth,
            props: scratch.props,
            items: scratch.items,
        }
    }

    /// Gives the (empty) working vectors back to the thread for the next read.
    fn finish(&mut self) {
        let mut props = std::mem::take(&mut self.props);
        let mut items = std::mem::take(&mut self.items);
        props.clear();
        items.clear();
        if props.capacity() > SCRATCH_KEEP {
            props = Vec::new();
        }
        if items.capacity() > SCRATCH_KEEP {
            items = Vec::new();
        }
        let _ = SCRATCH.try_with(|s| s.set(Scratch { props, items }));
    }

    fn warn(&mut self, reason: impl Into<String>) {
        if self.stop.is_none() {
            self.stop = Some(TextStop {
                offset: self.pos,
                reason: reason.into(),
            });
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn skip_space(&mut self) {
        let rest = self.s.get(self.pos..).unwrap_or_default();
        self.pos += rest.iter().take_while(|&&b| is_space(b)).count();
    }

    /// `Gal_ReadToken` with rewind: skips whitespace, takes the first byte, runs to whitespace
    /// or (after the first byte) a stop character of class `stops` ([`STOP`], [`BRACE`] or 0),
    /// which stays unread. Cut to 1023 bytes. Borrowed from the input.
    fn token(&mut self, stops: u8) -> Option<&'a [u8]> {
        self.skip_space();
        let s: &'a [u8] = self.s;
        let start = self.pos;
        let rest = s.get(start + 1..)?;
        let mask = SPACE | stops;
        let len = rest
            .iter()
            .position(|&b| CLASS[b as usize] & mask != 0)
            .unwrap_or(rest.len());
        self.pos = start + 1 + len;
        let tok = s.get(start..self.pos).unwrap_or_default();
        Some(tok.get(..TOKEN_MAX).unwrap_or(tok))
    }

    fn frame(&mut self, depth: usize) -> Option<Frame> {
        let Some(open) = self.token(BRACE) else {
            self.warn("Failed to read frame");
            return None;
        };
        let ftype = match open {
            b"{" | b"{c" => FrameType::Clause,
            b"{q" => FrameType::Topic,
            b"{p" => FrameType::Pred,
            [b'{', _] => FrameType::Clause,
            _ => {
                self.warn("Invalid frame");
                return None;
            }
        };
        if depth > self.max_depth {
            self.warn("Frame nested too deep");
            return None;
        }
        let Some(name) = self.token(STOP) else {
            self.warn("Failed to read frame name");
            return None;
        };
        let mut pending_key = None;
        let mut frame = match name.first() {
            Some(b'{' | b'(' | b')' | b'"' | b'\\' | b'%') => {
                self.warn("Invalid frame name");
                return None;
            }
            Some(b':') => {
                pending_key = Some(name);
                Frame::unnamed(ftype)
            }
            Some(b'}') => return Some(Frame::unnamed(ftype)),
            _ => {
                let mut f = Frame::unnamed(ftype);
                f.name = Some(name.into());
                f
            }
        };
        let mut done = false;
        let mut index = KeyIndex::new();
        // This frame's properties are `self.props[base..]` until it ends.
        let base = self.props.len();
        loop {
            let key = match pending_key.take() {
                Some(k) => k,
                None => match self.token(STOP) {
                    Some(k) => k,
                    None => break,
                },
            };
            match key.first() {
                Some(b'}') => {
                    done = true;
                    break;
                }
                _ if key == b"..." => continue,
                Some(b'{' | b'(' | b')' | b'"' | b'\\' | b'%') => {
                    self.warn("Read invalid keyword");
                    break;
                }
                _ => {}
            }
            let obj = match self.object(depth + 1) {
                Value::Obj(Object::Token(_)) => {
                    self.warn("Read illegal value");
                    break;
                }
                Value::Keyword(k) => {
                    pending_key = Some(k);
                    continue;
                }
                Value::Obj(o) => o,
                Value::Last("}") => {
                    self.warn("Read no value for key");
                    done = true;
                    break;
                }
                Value::Last(")") => {
                    self.warn("Read illegal value ')'");
                    break;
                }
                Value::Last(_) => continue,
                Value::Nothing => {
                    self.warn("Read no value for key");
                    break;
                }
            };
            if key == b":pred" || key == b":PRED" {
                if let Object::Frame(p) = obj {
                    frame.push_pred(*p);
                }
                // C `fr_add_pred` ignores a non-frame.
            } else {
                // `Frame::set` in linear time: an existing key keeps its place.
                let key = Key::new(key);
                let mine = self.props.get(base..).unwrap_or_default();
                let found = index.find_or_insert(&key, mine.len(), |j| {
                    mine.get(j).map_or(&NO_KEY, |(k, _)| k)
                });
                match found.and_then(|j| self.props.get_mut(base + j)) {
                    Some(slot) => slot.1 = obj,
                    None => self.props.push((key, obj)),
                }
            }
        }
        if !done {
            self.warn("Frame terminated abnormally while reading");
        }
        frame.set_props(self.props.drain(base..).collect());
        Some(frame)
    }

    fn object(&mut self, depth: usize) -> Value<'a> {
        self.skip_space();
        let Some(c) = self.peek() else {
            return Value::Nothing;
        };
        match c {
            b'"' => {
                self.pos += 1;
                Value::Obj(Object::String(self.string()))
            }
            b'{' => match self.frame(depth) {
                Some(f) => Value::Obj(Object::from(f)),
                None => Value::Nothing,
            },
            b'}' => {
                self.pos += 1;
                Value::Last("}")
            }
            b'(' => {
                if depth > self.max_depth {
                    self.warn("List nested too deep");
                    return Value::Nothing;
                }
                self.pos += 1;
                Value::Obj(Object::List(self.list(depth)))
            }
            b')' => {
                self.pos += 1;
                Value::Last(")")
            }
            _ => {
                let start = self.pos;
                let Some(tok) = self.token(STOP) else {
                    return Value::Nothing;
                };
                if tok.first() == Some(&b':') {
                    Value::Keyword(tok)
                } else if tok == b"%" {
                    self.pos = start + 1;
                    match self.binary() {
                        Some(b) => Value::Obj(Object::Binary(b.into_boxed_slice())),
                        None => Value::Nothing,
                    }
                } else if tok == b"NULLObject" {
                    Value::Last("NULLObject")
                } else if tok == b"NULLFrame" {
                    Value::Last("NULLFrame")
                } else if tok == b"..." {
                    Value::Last("...")
                } else if digit_string(tok) {
                    Value::Obj(Object::Int(atoi(tok)))
                } else if float_string(tok) {
                    Value::Obj(Object::Float(atof(tok) as f32))
                } else if tok
                    .first()
                    .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'$')
                {
                    Value::Obj(Object::Symbol(tok.into()))
                } else {
                    Value::Obj(Object::Token(tok.into()))
                }
            }
        }
    }

    /// After the opening quote.
    fn string(&mut self) -> Box<[u8]> {
        let s: &'a [u8] = self.s;
        let rest = s.get(self.pos..).unwrap_or_default();
        // The common case, no backslash: one exact copy.
        if let Some(i) = memchr::memchr2(b'"', b'\\', rest)
            && rest.get(i) == Some(&b'"')
        {
            self.pos += i + 1;
            return rest.get(..i).unwrap_or_default().into();
        }
        self.escaped_string().into_boxed_slice()
    }

    /// [`string`](Self::string) with backslashes (or without its closing quote).
    #[inline(never)]
    fn escaped_string(&mut self) -> Vec<u8> {
        let s: &'a [u8] = self.s;
        let mut out = Vec::new();
        loop {
            let rest = s.get(self.pos..).unwrap_or_default();
            let Some(i) = memchr::memchr2(b'"', b'\\', rest) else {
                out.extend_from_slice(rest);
                self.pos = s.len();
                self.warn("String terminated unexpectedly while reading");
                return out;
            };
            out.extend_from_slice(rest.get(..i).unwrap_or_default());
            self.pos += i + 1;
            if rest.get(i) == Some(&b'"') {
                return out;
            }
            // A backslash: the next byte is taken as it is.
            match s.get(self.pos) {
                Some(&c) => {
                    out.push(c);
                    self.pos += 1;
                }
                None => {
                    self.warn("String terminated unexpectedly while reading");
                    return out;
                }
            }
        }
    }

    /// After the opening parenthesis.
    fn list(&mut self, depth: usize) -> Box<[Object]> {
        // This list's items are `self.items[base..]` until it ends.
        let base = self.items.len();
        loop {
            match self.object(depth + 1) {
                Value::Obj(o) => self.items.push(o),
                Value::Keyword(k) => self.items.push(Object::Keyword(k.into())),
                Value::Last(")") => return self.items.drain(base..).collect(),
                Value::Last("NULLObject" | "NULLFrame") => self.items.push(Object::Null),
                Value::Last("...") => continue,
                Value::Last(_) => {
                    self.warn("Read illegal object in list");
                    break;
                }
                Value::Nothing => break,
            }
        }
        self.warn("List terminated abnormally while reading");
        self.items.drain(base..).collect()
    }

    /// After the `%`.
    fn binary(&mut self) -> Option<Vec<u8>> {
        let dec = self.token(0).unwrap_or_default();
        if !digit_string(dec) || atoi(dec) < 0 {
            self.warn("Read invalid decode length for binary object");
            return None;
        }
        let dec_len = atoi(dec) as usize;
        let enc = self.token(0).unwrap_or_default();
        if !digit_string(enc) || atoi(enc) < 0 {
            self.warn("Read invalid encode length for binary object");
            return None;
        }
        let enc_len = atoi(enc) as usize;
        // do_rewind = 0: the one byte after the length is consumed.
        if self.peek().is_some() {
            self.pos += 1;
        }
        let Some(data) = self.s.get(self.pos..self.pos.saturating_add(enc_len)) else {
            self.warn("Binary object terminated unexpectedly while reading");
            self.pos = self.s.len();
            return None;
        };
        self.pos += enc_len;
        if dec_len > enc_len / 4 * 3 {
            self.warn("Binary object decode length exceeds its encoded data");
            return None;
        }
        Some(uudecode(data, dec_len))
    }
}

/// C `Gal_DigitStringp`: an optional leading sign, then at least one digit and nothing else.
pub(crate) fn digit_string(w: &[u8]) -> bool {
    let body = match w.first() {
        Some(b'-' | b'+') => w.get(1..).unwrap_or_default(),
        _ => w,
    };
    !body.is_empty() && body.iter().all(u8::is_ascii_digit)
}

/// C `Gal_FloatStringp`.
pub(crate) fn float_string(w: &[u8]) -> bool {
    let (mut dcount, mut got_e, mut pcount, mut got_pm) = (0usize, None::<usize>, false, false);
    for (i, &c) in w.iter().enumerate() {
        match c {
            b'e' | b'E' => {
                if dcount == 0 || got_e.is_some() {
                    return false;
                }
                got_e = Some(i);
            }
            b'.' => {
                if pcount || got_e.is_some() {
                    return false;
                }
                pcount = true;
            }
            b'-' | b'+' => {
                if got_pm {
                    return false;
                }
                if i == 0 {
                    continue;
                }
                if got_e.is_some_and(|e| i == e + 1) {
                    got_pm = true;
                } else {
                    return false;
                }
            }
            c if c.is_ascii_digit() => dcount += 1,
            _ => return false,
        }
    }
    dcount > 0
}

/// glibc `atoi` on LP64: `(int) strtol(s)`, `strtol` saturating at 64 bits.
pub(crate) fn atoi(w: &[u8]) -> i32 {
    // Up to 18 digits cannot overflow 64 bits: the common case, without the 128-bit path.
    if w.len() <= 18 {
        let (neg, digits) = match w.first() {
            Some(b'-') => (true, w.get(1..).unwrap_or_default()),
            Some(b'+') => (false, w.get(1..).unwrap_or_default()),
            _ => (false, w),
        };
        let mut v: i64 = 0;
        for &d in digits.iter().take_while(|d| d.is_ascii_digit()) {
            v = v * 10 + i64::from(d - b'0');
        }
        return if neg { -v } else { v } as i32;
    }
    let (neg, digits) = match w.first() {
        Some(b'-') => (true, w.get(1..).unwrap_or_default()),
        Some(b'+') => (false, w.get(1..).unwrap_or_default()),
        _ => (false, w),
    };
    let mut v: i128 = 0;
    for &d in digits.iter().take_while(|d| d.is_ascii_digit()) {
        v = (v * 10 + i128::from(d - b'0')).min(i128::from(i64::MAX) + 1);
    }
    let v = if neg { -v } else { v };
    let v = v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64;
    v as i32
}

/// C `atof` (`strtod`) on a token that passed [`float_string`]: the longest valid prefix, so
/// `"1e"` and `"1e+"` read as 1.
pub(crate) fn atof(w: &[u8]) -> f64 {
    let mut end = w.len();
    while end > 0 {
        if let Some(v) = std::str::from_utf8(w.get(..end).unwrap_or_default())
            .ok()
            .and_then(|s| s.parse::<f64>().ok())
        {
            return v;
        }
        end -= 1;
    }
    0.0
}

/// Galaxy uuencode: 3 bytes to 4 characters `0x20 + 6 bits`, the last group zero-padded.
pub fn uuencode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len().div_ceil(3) * 4);
    for group in data.chunks(3) {
        let b0 = group.first().copied().unwrap_or(0);
        let b1 = group.get(1).copied().unwrap_or(0);
        let b2 = group.get(2).copied().unwrap_or(0);
        out.push(0x20 + (b0 >> 2));
        out.push(0x20 + (((b0 << 4) | (b1 >> 4)) & 63));
        out.push(0x20 + (((b1 << 2) | (b2 >> 6)) & 63));
        out.push(0x20 + (b2 & 63));
    }
    out
}

/// Galaxy uudecode: 4 characters to 3 bytes (`(c - 0x20) & 63`, no validation), stopping after
/// `dec_len` bytes; bytes the input does not provide are zero (the caller bounds `dec_len`;
/// the reader refuses a `dec_len` larger than `enc_len / 4 * 3`).
pub fn uudecode(enc: &[u8], dec_len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(dec_len.min(enc.len() / 4 * 3 + 3));
    for group in enc.chunks(4) {
        if out.len() >= dec_len {
            break;
        }
        let c = |i: usize| group.get(i).map_or(0, |c| c.wrapping_sub(0x20) & 63);
        let (c0, c1, c2, c3) = (c(0), c(1), c(2), c(3));
        for b in [(c0 << 2) | (c1 >> 4), (c1 << 4) | (c2 >> 2), (c2 << 6) | c3] {
            if out.len() < dec_len {
                out.push(b);
            }
        }
    }
    out.resize(dec_len, 0);
    out
}

/// C `%e` of a float widened to double: `1.500000e+00`, `inf`, `-nan`.
pub fn format_float(v: f32) -> String {
    format_double(f64::from(v))
}

/// C `%e` of a double.
pub fn format_double(v: f64) -> String {
    if v.is_nan() {
        return if v.is_sign_negative() { "-nan" } else { "nan" }.to_owned();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf" } else { "inf" }.to_owned();
    }
    let s = format!("{v:.6e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    let mant = if v == 0.0 && v.is_sign_negative() && !mant.starts_with('-') {
        format!("-{mant}")
    } else {
        mant.to_owned()
    };
    if digits.len() < 2 {
        format!("{mant}e{sign}0{digits}")
    } else {
        format!("{mant}e{sign}{digits}")
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Style {
    Pp,
    Outline,
}

/// Prints an object in PR (one-line) form.
pub fn pr(obj: &Object) -> Vec<u8> {
    let mut out = Vec::new();
    pr_object(obj, &mut out);
    out
}

/// Prints a frame in PR (one-line) form, as C `Gal_PrFrameToString`.
pub fn pr_frame(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    pr_frame_into(frame, &mut out);
    out
}

/// Prints a frame in PP (pretty) form.
pub fn pp_frame(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    pp_frame_into(frame, 0, Style::Pp, &mut out);
    out
}

/// Prints a frame in outline form (`Gal_OutlineFrame`, what `gui.out` holds).
pub fn outline_frame(frame: &Frame) -> Vec<u8> {
    let mut out = Vec::new();
    pp_frame_into(frame, 0, Style::Outline, &mut out);
    out
}

/// Prints an object in PP form at column 0.
pub fn pp(obj: &Object) -> Vec<u8> {
    let mut out = Vec::new();
    pp_object(obj, 0, Style::Pp, &mut out);
    out
}

fn push_quoted(s: &[u8], out: &mut Vec<u8>) {
    out.push(b'"');
    for &b in s {
        if b == b'"' || b == b'\\' {
            out.push(b'\\');
        }
        out.push(b);
    }
    out.push(b'"');
}

fn frame_open(frame: &Frame, out: &mut Vec<u8>) {
    out.push(b'{');
    match frame.ftype.letter() {
        Some(l) => out.push(l),
        None => out.push(b' '),
    }
    out.push(b' ');
    match &frame.name {
        Some(n) => out.extend_from_slice(n),
        None => out.extend_from_slice(b"NO_NAME"),
    }
}

/// Whether a property value is skipped by PR and PP (keywords, tags, tokens).
fn skipped(obj: &Object) -> bool {
    matches!(obj, Object::Keyword(_) | Object::Tag(_) | Object::Token(_))
}

fn pr_frame_into(frame: &Frame, out: &mut Vec<u8>) {
    frame_open(frame, out);
    for (k, v) in frame.props() {
        if skipped(v) {
            continue;
        }
        out.push(b' ');
        out.extend_from_slice(k);
        out.push(b' ');
        pr_object(v, out);
    }
    for p in frame.preds() {
        out.extend_from_slice(b" :pred ");
        pr_frame_into(p, out);
    }
    out.extend_from_slice(b" }");
}

fn proxy_type(t: i32) -> &'static str {
    if t == -1 { "any" } else { type_name(t) }
}

fn pr_object(obj: &Object, out: &mut Vec<u8>) {
    match obj {
        Object::Frame(f) => pr_frame_into(f, out),
        Object::List(items) => {
            out.extend_from_slice(b"( ");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                pr_object(item, out);
            }
            out.extend_from_slice(b" )");
        }
        Object::Binary(b) => {
            let enc = uuencode(b);
            out.extend_from_slice(format!("% {} {} ", b.len(), enc.len()).as_bytes());
            out.extend_from_slice(&enc);
        }
        Object::Int16(_)
        | Object::Int32(_)
        | Object::Int64(_)
        | Object::Float32(_)
        | Object::Float64(_) => out.extend_from_slice(
            format!(
                "\"[non-readable frame element: array of type {}]\"",
                type_name(obj.type_code())
            )
            .as_bytes(),
        ),
        Object::Proxy(p) => {
            out.extend_from_slice(b"\"[non-readable frame element: broker proxy, call ID ");
            out.extend_from_slice(&p.call_id);
            out.extend_from_slice(b", host ");
            out.extend_from_slice(&p.host);
            out.extend_from_slice(
                format!(", port {}, type {}]\"", p.port, proxy_type(p.object_type)).as_bytes(),
            );
        }
        _ => atom(obj, out),
    }
}

fn atom(obj: &Object, out: &mut Vec<u8>) {
    match obj {
        Object::String(s) => push_quoted(s, out),
        Object::Int(v) => push_int(*v, out),
        Object::Float(v) => out.extend_from_slice(format_float(*v).as_bytes()),
        Object::Symbol(s) | Object::Keyword(s) | Object::Tag(s) | Object::Token(s) => {
            out.extend_from_slice(s)
        }
        Object::Null => out.extend_from_slice(b"NULLObject"),
        other => pr_object(other, out),
    }
}

/// `%d` without an allocation.
fn push_int(v: i32, out: &mut Vec<u8>) {
    let mut buf = [0u8; 11];
    let mut i = buf.len();
    let mut n = v.unsigned_abs();
    loop {
        i -= 1;
        if let Some(d) = buf.get_mut(i) {
            *d = b'0' + (n % 10) as u8;
        }
        n /= 10;
        if n == 0 {
            break;
        }
    }
    if v < 0 {
        i -= 1;
        if let Some(d) = buf.get_mut(i) {
            *d = b'-';
        }
    }
    out.extend_from_slice(buf.get(i..).unwrap_or_default());
}

fn spaces(n: usize, out: &mut Vec<u8>) {
    out.resize(out.len() + n, b' ');
}

fn pp_frame_into(frame: &Frame, col: usize, style: Style, out: &mut Vec<u8>) {
    frame_open(frame, out);
    if style == Style::Outline && col > 0 {
        out.extend_from_slice(b" ... }");
        return;
    }
    for (k, v) in frame.props() {
        if style == Style::Pp && skipped(v) {
            continue;
        }
        out.push(b'\n');
        spaces(col + 3, out);
        out.extend_from_slice(k);
        out.push(b' ');
        pp_object(v, col + 3 + k.len() + 1, style, out);
    }
    for p in frame.preds() {
        out.push(b'\n');
        spaces(col + 3, out);
        out.extend_from_slice(b":pred ");
        pp_frame_into(p, col + 3 + 6, style, out);
    }
    out.extend_from_slice(b" }");
}

fn pp_object(obj: &Object, col: usize, style: Style, out: &mut Vec<u8>) {
    match obj {
        Object::Frame(f) => pp_frame_into(f, col, style, out),
        Object::List(items) => {
            out.extend_from_slice(b"( ");
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b'\n');
                    spaces(col + 2, out);
                    if style == Style::Outline {
                        out.extend_from_slice(b"...");
                        break;
                    }
                }
                pp_object(item, col + 2, style, out);
            }
            out.extend_from_slice(b" )");
        }
        Object::Binary(b) => {
            if style == Style::Outline {
                out.extend_from_slice(format!("% {} GAL_BINARY object", b.len()).as_bytes());
            } else {
                pr_object(obj, out);
                out.push(b'\n');
            }
        }
        Object::String(s) if style == Style::Outline && (50..60).contains(&s.len()) => {
            let mut cut = s.get(..50).unwrap_or(s).to_vec();
            cut.extend_from_slice(b" ...");
            push_quoted(&cut, out);
        }
        Object::Int16(v) => array(12, v.len(), out),
        Object::Int32(v) => array(13, v.len(), out),
        Object::Int64(v) => array(14, v.len(), out),
        Object::Float32(v) => array(15, v.len(), out),
        Object::Float64(v) => array(16, v.len(), out),
        Object::Proxy(p) => {
            out.extend_from_slice(b"[broker proxy: call ID ");
            out.extend_from_slice(&p.call_id);
            out.extend_from_slice(b", host ");
            out.extend_from_slice(&p.host);
            out.extend_from_slice(
                format!(", port {}, type {}]", p.port, proxy_type(p.object_type)).as_bytes(),
            );
        }
        _ => atom(obj, out),
    }
}

fn array(code: i32, n: usize, out: &mut Vec<u8>) {
    out.extend_from_slice(format!("[array: type {}, {} bytes]", type_name(code), n).as_bytes());
}
