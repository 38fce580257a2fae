//! The recording format: what came off the wire, as it came, with each message's arrival time.
//!
//! A recording is UTF-8 text, one item per line, so that it can be read, diffed and cut with
//! ordinary tools, and so that one bad line never hides the rest.
//!
//! # Grammar
//!
//! ```text
//! recording = header *( record / comment / blank )
//! header    = "monwire-capture 1 " protocol *( " " key "=" token ) LF
//! record    = time " " dir " " kind " " peer [ " " data ] LF
//! comment   = "#" *any LF
//! time      = 1*DIGIT "." 9DIGIT        ; Unix time: seconds, then nanoseconds
//! dir       = "in" / "out"              ; received by the recorder, or sent by it
//! kind      = "frames" / "datagram" / "bytes" / "text" / "open" / "close"
//! peer      = token / "-"               ; the other end, "-" when none applies
//! token     = 1*( %x21-7E )             ; percent-encoded: "%", space, controls and
//!                                       ; non-ASCII as %XX of their UTF-8 bytes ("=" too
//!                                       ; in a key); "%" alone is the empty text
//! data      = frames: one hex token per frame, separated by one space ("-": an empty frame)
//!             datagram, bytes, text: one hex token ("-": empty); text holds UTF-8
//!             open, close: nothing
//! ```
//!
//! Hex is lowercase when written; either case is read. A line may end in CR LF.
//!
//! # What each protocol records
//!
//! | protocol | records |
//! |---|---|
//! | `zmq` | `frames`: one monitor message, every frame of it; peer: the watched socket |
//! | `nsm` | `datagram`: one UDP payload; peer: its sender (`in`) or receiver (`out`) |
//! | `galaxy` | `open`, `bytes` (a TCP read or write, as it came), `close`; peer: the Hub |
//! | `sysadm` | `open`, `text` (one websocket text message), `close`; peer: the server URL |
//!
//! Header keys say how the recording was made where that decides how it reads back (for
//! example `role=external` for an NSM external monitor); a reader ignores keys it does not
//! know. Secrets are never recorded: a recorder leaves out what it sent that carries one.
//!
//! # Example
//!
//! ```
//! use std::time::{Duration, UNIX_EPOCH};
//! use monwire_capture::record::{Direction, Header, Payload, Reader, Record, Writer};
//!
//! let mut w = Writer::new(Vec::new(), &Header::new("nsm").with("role", "external"))?;
//! let at = UNIX_EPOCH + Duration::new(1_700_000_000, 5);
//! w.write(&Record::new(at, Direction::In, Payload::Datagram(b"/x\0\0,\0\0\0".to_vec()))
//!     .with_peer("127.0.0.1:1234"))?;
//! let bytes = w.into_inner()?;
//! assert!(bytes.starts_with(b"monwire-capture 1 nsm role=external\n1700000000.000000005 in datagram 127.0.0.1:1234 2f78"));
//!
//! let mut r = Reader::new(&bytes[..])?;
//! assert_eq!(r.header().protocol, "nsm");
//! assert_eq!(r.header().get("role"), Some("external"));
//! let rec = r.next_record().unwrap()?;
//! assert_eq!(rec.time, at);
//! assert_eq!(rec.peer.as_deref(), Some("127.0.0.1:1234"));
//! assert!(r.next_record().is_none());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::io::{self, BufRead, Write};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The first bytes of every recording.
pub const MAGIC: &[u8] = b"monwire-capture ";

/// The format version this crate writes and reads.
pub const VERSION: u32 = 1;

/// Who sent a recorded message, seen from the recorder.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// Received from the peer.
    In,
    /// Sent to the peer.
    Out,
}

impl Direction {
    /// `in` or `out`.
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::In => "in",
            Direction::Out => "out",
        }
    }
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one record holds.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Payload {
    /// A multipart message (ZeroMQ monitor messages), every frame.
    Frames(Vec<Vec<u8>>),
    /// One datagram (UDP payload).
    Datagram(Vec<u8>),
    /// A piece of a byte stream (one TCP read or write, as it came).
    Bytes(Vec<u8>),
    /// One websocket text message.
    Text(String),
    /// A connection opened.
    Open,
    /// A connection closed.
    Close,
}

impl Payload {
    /// The record kind's name in the format.
    pub fn kind(&self) -> &'static str {
        self.as_ref().kind()
    }

    /// A borrowed view.
    pub fn as_ref(&self) -> PayloadRef<'_> {
        match self {
            Payload::Frames(f) => PayloadRef::Frames(FramesRef::Owned(f)),
            Payload::Datagram(d) => PayloadRef::Datagram(d),
            Payload::Bytes(b) => PayloadRef::Bytes(b),
            Payload::Text(t) => PayloadRef::Text(t),
            Payload::Open => PayloadRef::Open,
            Payload::Close => PayloadRef::Close,
        }
    }
}

/// Frames borrowed in either shape a caller has them.
#[derive(Clone, Copy, Debug)]
pub enum FramesRef<'a> {
    /// Slices.
    Slices(&'a [&'a [u8]]),
    /// Owned frames.
    Owned(&'a [Vec<u8>]),
}

impl<'a> FramesRef<'a> {
    fn iter(self) -> impl Iterator<Item = &'a [u8]> {
        let (a, b) = match self {
            FramesRef::Slices(s) => (Some(s.iter().copied()), None),
            FramesRef::Owned(o) => (None, Some(o.iter().map(Vec::as_slice))),
        };
        a.into_iter().flatten().chain(b.into_iter().flatten())
    }
}

/// A borrowed [`Payload`], for writing without copies.
#[derive(Clone, Copy, Debug)]
#[non_exhaustive]
pub enum PayloadRef<'a> {
    /// See [`Payload::Frames`].
    Frames(FramesRef<'a>),
    /// See [`Payload::Datagram`].
    Datagram(&'a [u8]),
    /// See [`Payload::Bytes`].
    Bytes(&'a [u8]),
    /// See [`Payload::Text`].
    Text(&'a str),
    /// See [`Payload::Open`].
    Open,
    /// See [`Payload::Close`].
    Close,
}

impl PayloadRef<'_> {
    /// The record kind's name in the format.
    pub fn kind(&self) -> &'static str {
        match self {
            PayloadRef::Frames(_) => "frames",
            PayloadRef::Datagram(_) => "datagram",
            PayloadRef::Bytes(_) => "bytes",
            PayloadRef::Text(_) => "text",
            PayloadRef::Open => "open",
            PayloadRef::Close => "close",
        }
    }
}

/// One recorded message.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Record {
    /// When it arrived (or was sent).
    pub time: SystemTime,
    /// Who sent it.
    pub direction: Direction,
    /// The other end, if one applies.
    pub peer: Option<String>,
    /// What it held.
    pub payload: Payload,
}

impl Record {
    /// A record without a peer.
    pub fn new(time: SystemTime, direction: Direction, payload: Payload) -> Record {
        Record {
            time,
            direction,
            peer: None,
            payload,
        }
    }

    /// Sets the peer.
    #[must_use]
    pub fn with_peer(mut self, peer: impl Into<String>) -> Record {
        self.peer = Some(peer.into());
        self
    }

    /// A borrowed view, for [`encode_record`].
    pub fn as_ref(&self) -> RecordRef<'_> {
        RecordRef {
            time: self.time,
            direction: self.direction,
            peer: self.peer.as_deref(),
            payload: self.payload.as_ref(),
        }
    }
}

/// A borrowed [`Record`].
#[derive(Clone, Copy, Debug)]
pub struct RecordRef<'a> {
    /// See [`Record::time`].
    pub time: SystemTime,
    /// See [`Record::direction`].
    pub direction: Direction,
    /// See [`Record::peer`].
    pub peer: Option<&'a str>,
    /// See [`Record::payload`].
    pub payload: PayloadRef<'a>,
}

/// The first line: the protocol and how the recording was made.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Header {
    /// The protocol's name (`zmq`, `nsm`, `galaxy`, `sysadm`).
    pub protocol: String,
    /// `key=value` settings, in order.
    pub settings: Vec<(String, String)>,
}

impl Header {
    /// A header for `protocol`.
    pub fn new(protocol: impl Into<String>) -> Header {
        Header {
            protocol: protocol.into(),
            settings: Vec::new(),
        }
    }

    /// Adds a setting.
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Header {
        self.settings.push((key.into(), value.into()));
        self
    }

    /// The first value of `key`.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Reading limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The longest line, in bytes (default 64 MiB: a 32 MiB message in hex).
    pub max_line: usize,
    /// The most frames in one `frames` record (default 64).
    pub max_frames: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_line: 64 << 20,
            max_frames: 64,
        }
    }
}

impl Limits {
    /// Sets [`max_frames`](Limits::max_frames).
    #[must_use]
    pub fn with_max_frames(mut self, n: usize) -> Limits {
        self.max_frames = n;
        self
    }

    /// Sets [`max_line`](Limits::max_line).
    #[must_use]
    pub fn with_max_line(mut self, n: usize) -> Limits {
        self.max_line = n;
        self
    }
}

/// What is wrong with a line.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input does not start with `monwire-capture `.
    #[error("not a monwire recording (it does not start with `monwire-capture `)")]
    NotARecording,
    /// A version this crate does not read.
    #[error("recording format version {0} is not supported (this reader knows version 1)")]
    Version(String),
    /// The header has no protocol or a malformed setting.
    #[error("bad header: {0}")]
    Header(&'static str),
    /// The time field.
    #[error("bad time {0:?} (expected SECONDS.NANOSECONDS, nine digits after the dot)")]
    Time(String),
    /// The direction field.
    #[error("bad direction {0:?} (expected `in` or `out`)")]
    Direction(String),
    /// The kind field.
    #[error("unknown record kind {0:?}")]
    Kind(String),
    /// A field is missing.
    #[error("missing {0}")]
    Missing(&'static str),
    /// Something follows the last field.
    #[error("unexpected data after the {0} record")]
    Trailing(&'static str),
    /// A hex token.
    #[error("bad hex: {0}")]
    Hex(&'static str),
    /// A percent-encoded token.
    #[error("bad percent-encoding: {0}")]
    Token(&'static str),
    /// A text record that is not UTF-8.
    #[error("text record is not UTF-8")]
    Utf8,
    /// Too many frames.
    #[error("more than {0} frames")]
    TooManyFrames(usize),
    /// A line longer than [`Limits::max_line`].
    #[error("line longer than {0} bytes")]
    LineTooLong(usize),
    /// The input could not be read.
    #[error("read error: {0}")]
    Io(String),
}

/// A line that did not read, with where.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {kind}")]
pub struct Error {
    /// 1-based line number.
    pub line: u64,
    /// 1-based byte column where the bad field starts.
    pub column: usize,
    /// What is wrong.
    pub kind: ErrorKind,
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Every byte's two hex digits.
const HEX2: [[u8; 2]; 256] = {
    let mut t = [[0u8; 2]; 256];
    let mut i = 0;
    while i < 256 {
        t[i] = [HEX[i >> 4], HEX[i & 15]];
        i += 1;
    }
    t
};

fn push_hex(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.is_empty() {
        out.push(b'-');
        return;
    }
    // Grow once, then fill: the recorder's hot loop (it runs on the live path).
    let start = out.len();
    out.resize(start + bytes.len() * 2, 0);
    if let Some(dst) = out.get_mut(start..) {
        for (pair, &b) in dst.chunks_exact_mut(2).zip(bytes) {
            pair.copy_from_slice(&HEX2[usize::from(b)]);
        }
    }
}

/// "00" to "99".
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    t
};

/// Appends `n` in decimal, zero-padded to `width` digits (at most 20), two digits per step.
fn push_decimal(out: &mut Vec<u8>, mut n: u64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut i = digits.len();
    while n >= 100 {
        i -= 2;
        digits[i..i + 2].copy_from_slice(&DIGIT_PAIRS[(n % 100) as usize]);
        n /= 100;
    }
    if n >= 10 {
        i -= 2;
        digits[i..i + 2].copy_from_slice(&DIGIT_PAIRS[n as usize]);
    } else {
        i -= 1;
        digits[i] = b'0' + n as u8;
    }
    let start = i.min(digits.len().saturating_sub(width));
    out.extend_from_slice(&digits[start..]);
}

fn push_token(out: &mut Vec<u8>, text: &str) {
    push_token_escaping(out, text, b"");
}

/// [`push_token`] that also escapes the bytes in `extra` (`=` in a setting's key).
fn push_token_escaping(out: &mut Vec<u8>, text: &str, extra: &[u8]) {
    // `%` alone is the empty text; `-` alone would read as "no peer".
    match text {
        "" => return out.push(b'%'),
        "-" => return out.extend_from_slice(b"%2d"),
        _ => {}
    }
    let plain = |b: &u8| (0x21..=0x7e).contains(b) && *b != b'%' && !extra.contains(b);
    if text.as_bytes().iter().all(plain) {
        return out.extend_from_slice(text.as_bytes());
    }
    for &b in text.as_bytes() {
        if (0x21..=0x7e).contains(&b) && b != b'%' && !extra.contains(&b) {
            out.push(b);
        } else {
            out.push(b'%');
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 15)]);
        }
    }
}

/// Appends the header line to `out`.
pub fn encode_header(header: &Header, out: &mut Vec<u8>) {
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(VERSION.to_string().as_bytes());
    out.push(b' ');
    push_token(out, &header.protocol);
    for (k, v) in &header.settings {
        out.push(b' ');
        push_token_escaping(out, k, b"=");
        out.push(b'=');
        push_token(out, v);
    }
    out.push(b'\n');
}

/// Appends one record line to `out`. Times before 1970 are written as `0.000000000`.
///
/// A writer of many records uses a [`RecordEncoder`], which writes the same bytes faster.
pub fn encode_record(rec: &RecordRef<'_>, out: &mut Vec<u8>) {
    encode_line(rec, out, None);
}

/// Encodes record lines ([`encode_record`]'s bytes) on a live path: it keeps the last peer's
/// token and the last second's digits, so a stream of records from one peer escapes the peer
/// once and writes each second once.
///
/// ```
/// use monwire_capture::record::{Direction, PayloadRef, RecordEncoder, RecordRef, encode_record};
///
/// let rec = RecordRef {
///     time: std::time::UNIX_EPOCH + std::time::Duration::from_millis(1_500),
///     direction: Direction::In,
///     peer: Some("127.0.0.1:5555"),
///     payload: PayloadRef::Datagram(b"\x01\x02"),
/// };
/// let (mut fast, mut plain) = (Vec::new(), Vec::new());
/// let mut enc = RecordEncoder::new();
/// enc.encode(&rec, &mut fast);
/// enc.encode(&rec, &mut fast);
/// encode_record(&rec, &mut plain);
/// encode_record(&rec, &mut plain);
/// assert_eq!(fast, plain);
/// assert_eq!(&plain[..33], b"1.500000000 in datagram 127.0.0.1");
/// ```
#[derive(Debug, Clone, Default)]
pub struct RecordEncoder {
    /// The last peer seen, and its token.
    peer: String,
    peer_token: Vec<u8>,
    /// The last second seen, and its digits (empty before the first record).
    secs: u64,
    secs_text: Vec<u8>,
}

impl RecordEncoder {
    /// An encoder that has seen no record yet.
    pub fn new() -> RecordEncoder {
        RecordEncoder::default()
    }

    /// Appends one record line to `out`: the bytes [`encode_record`] writes.
    pub fn encode(&mut self, rec: &RecordRef<'_>, out: &mut Vec<u8>) {
        encode_line(rec, out, Some(self));
    }
}

fn encode_line(rec: &RecordRef<'_>, out: &mut Vec<u8>, cache: Option<&mut RecordEncoder>) {
    let d = rec.time.duration_since(UNIX_EPOCH).unwrap_or_default();
    let mut cache = cache;
    match cache.as_deref_mut() {
        Some(c) => {
            if d.as_secs() != c.secs || c.secs_text.is_empty() {
                c.secs = d.as_secs();
                c.secs_text.clear();
                push_decimal(&mut c.secs_text, d.as_secs(), 1);
            }
            out.extend_from_slice(&c.secs_text);
        }
        None => push_decimal(out, d.as_secs(), 1),
    }
    out.push(b'.');
    push_decimal(out, u64::from(d.subsec_nanos()), 9);
    out.push(b' ');
    out.extend_from_slice(rec.direction.as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(rec.payload.kind().as_bytes());
    out.push(b' ');
    match (rec.peer, cache) {
        (Some(p), Some(c)) => {
            if p != c.peer || c.peer_token.is_empty() {
                c.peer.clear();
                c.peer.push_str(p);
                c.peer_token.clear();
                push_token(&mut c.peer_token, p);
            }
            out.extend_from_slice(&c.peer_token);
        }
        (Some(p), None) => push_token(out, p),
        (None, _) => out.push(b'-'),
    }
    match rec.payload {
        PayloadRef::Frames(frames) => {
            for f in frames.iter() {
                out.push(b' ');
                push_hex(out, f);
            }
        }
        PayloadRef::Datagram(b) | PayloadRef::Bytes(b) => {
            out.push(b' ');
            push_hex(out, b);
        }
        PayloadRef::Text(t) => {
            out.push(b' ');
            push_hex(out, t.as_bytes());
        }
        PayloadRef::Open | PayloadRef::Close => {}
    }
    out.push(b'\n');
}

/// Writes a recording: the header at once, then one line per [`write`](Writer::write).
///
/// Lines go to `W` whole (one `write_all` each); wrap a file in a `BufWriter` and flush it when
/// the data must be on disk.
#[derive(Debug)]
pub struct Writer<W: Write> {
    out: W,
    line: Vec<u8>,
    enc: RecordEncoder,
}

impl<W: Write> Writer<W> {
    /// Writes the header and returns the writer.
    pub fn new(mut out: W, header: &Header) -> io::Result<Writer<W>> {
        let mut line = Vec::with_capacity(256);
        encode_header(header, &mut line);
        out.write_all(&line)?;
        Ok(Writer {
            out,
            line,
            enc: RecordEncoder::new(),
        })
    }

    /// Writes one record.
    pub fn write(&mut self, rec: &Record) -> io::Result<()> {
        self.write_ref(&rec.as_ref())
    }

    /// Writes one borrowed record (no copy of the payload).
    pub fn write_ref(&mut self, rec: &RecordRef<'_>) -> io::Result<()> {
        self.line.clear();
        self.enc.encode(rec, &mut self.line);
        self.out.write_all(&self.line)
    }

    /// Flushes `W`.
    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    /// The writer inside, flushed.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }

    /// The writer inside.
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.out
    }
}

fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

fn unhex(token: &[u8]) -> Result<Vec<u8>, ErrorKind> {
    if token == b"-" {
        return Ok(Vec::new());
    }
    if !token.len().is_multiple_of(2) {
        return Err(ErrorKind::Hex("odd number of digits"));
    }
    let mut out = Vec::with_capacity(token.len() / 2);
    for pair in token.chunks_exact(2) {
        match (
            pair.first().and_then(|&b| hex_val(b)),
            pair.get(1).and_then(|&b| hex_val(b)),
        ) {
            (Some(h), Some(l)) => out.push(h << 4 | l),
            _ => return Err(ErrorKind::Hex("not a hex digit")),
        }
    }
    Ok(out)
}

fn untoken(token: &[u8]) -> Result<String, ErrorKind> {
    if token == b"%" {
        return Ok(String::new());
    }
    let mut out = Vec::with_capacity(token.len());
    let mut i = 0;
    while let Some(&b) = token.get(i) {
        if b == b'%' {
            let h = token.get(i + 1).and_then(|&b| hex_val(b));
            let l = token.get(i + 2).and_then(|&b| hex_val(b));
            match (h, l) {
                (Some(h), Some(l)) => out.push(h << 4 | l),
                _ => return Err(ErrorKind::Token("`%` not followed by two hex digits")),
            }
            i += 3;
        } else {
            out.push(b);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| ErrorKind::Token("not UTF-8 once decoded"))
}

/// Splits a line into fields separated by single spaces, with their 1-based columns.
fn fields(line: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut col = 1;
    line.split(|&b| b == b' ').map(move |f| {
        let c = col;
        col += f.len() + 1;
        (c, f)
    })
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Parses the header line (with or without its line end). Errors are on line 1.
pub fn parse_header(line: &[u8]) -> Result<Header, Error> {
    let at = |column, kind| Error {
        line: 1,
        column,
        kind,
    };
    let line = trim_eol(line);
    let Some(rest) = line.strip_prefix(MAGIC) else {
        return Err(at(1, ErrorKind::NotARecording));
    };
    let base = MAGIC.len();
    let mut it = fields(rest).map(|(c, f)| (c + base, f));
    let (vc, version) = it.next().unwrap_or((base + 1, b""));
    if version != VERSION.to_string().as_bytes() {
        return Err(at(
            vc,
            ErrorKind::Version(String::from_utf8_lossy(version).into_owned()),
        ));
    }
    let Some((pc, protocol)) = it.next().filter(|(_, p)| !p.is_empty()) else {
        return Err(at(line.len() + 1, ErrorKind::Header("no protocol")));
    };
    let protocol = untoken(protocol).map_err(|k| at(pc, k))?;
    let mut header = Header::new(protocol);
    for (c, f) in it {
        let Some(eq) = f.iter().position(|&b| b == b'=') else {
            return Err(at(c, ErrorKind::Header("a setting without `=`")));
        };
        let (k, v) = f.split_at(eq);
        let v = v.get(1..).unwrap_or_default();
        if k.is_empty() {
            return Err(at(c, ErrorKind::Header("a setting without a key")));
        }
        header.settings.push((
            untoken(k).map_err(|e| at(c, e))?,
            untoken(v).map_err(|e| at(c, e))?,
        ));
    }
    Ok(header)
}

fn parse_time(field: &[u8]) -> Option<SystemTime> {
    let dot = field.iter().position(|&b| b == b'.')?;
    let (secs, nanos) = field.split_at(dot);
    let nanos = nanos.get(1..)?;
    if secs.is_empty()
        || secs.len() > 20
        || nanos.len() != 9
        || !secs.iter().chain(nanos).all(u8::is_ascii_digit)
    {
        return None;
    }
    let secs: u64 = std::str::from_utf8(secs).ok()?.parse().ok()?;
    let nanos: u32 = std::str::from_utf8(nanos).ok()?.parse().ok()?;
    UNIX_EPOCH.checked_add(Duration::new(secs, nanos))
}

/// Parses one record line (with or without its line end). `Ok(None)` for a blank or `#`
/// comment line. Errors carry `line_no`.
pub fn parse_record(line: &[u8], line_no: u64, limits: &Limits) -> Result<Option<Record>, Error> {
    let at = |column, kind| Error {
        line: line_no,
        column,
        kind,
    };
    let line = trim_eol(line);
    if line.is_empty() || line.first() == Some(&b'#') {
        return Ok(None);
    }
    if line.len() > limits.max_line {
        return Err(at(1, ErrorKind::LineTooLong(limits.max_line)));
    }
    let end = line.len() + 1;
    let mut it = fields(line);
    let (tc, t) = it.next().unwrap_or((1, b""));
    let time = parse_time(t)
        .ok_or_else(|| at(tc, ErrorKind::Time(String::from_utf8_lossy(t).into_owned())))?;
    let (dc, d) = it
        .next()
        .ok_or_else(|| at(end, ErrorKind::Missing("direction")))?;
    let direction = match d {
        b"in" => Direction::In,
        b"out" => Direction::Out,
        other => {
            return Err(at(
                dc,
                ErrorKind::Direction(String::from_utf8_lossy(other).into_owned()),
            ));
        }
    };
    let (kc, kind) = it
        .next()
        .ok_or_else(|| at(end, ErrorKind::Missing("kind")))?;
    let (pc, peer) = it
        .next()
        .ok_or_else(|| at(end, ErrorKind::Missing("peer")))?;
    let peer = match peer {
        b"-" => None,
        p => Some(untoken(p).map_err(|k| at(pc, k))?),
    };
    let mut one = |what: &'static str| -> Result<Vec<u8>, Error> {
        let (c, f) = it
            .next()
            .ok_or_else(|| at(end, ErrorKind::Missing("data")))?;
        let bytes = unhex(f).map_err(|k| at(c, k))?;
        if let Some((c, _)) = it.next() {
            return Err(at(c, ErrorKind::Trailing(what)));
        }
        Ok(bytes)
    };
    let payload = match kind {
        b"datagram" => Payload::Datagram(one("datagram")?),
        b"bytes" => Payload::Bytes(one("bytes")?),
        b"text" => {
            let bytes = one("text")?;
            Payload::Text(String::from_utf8(bytes).map_err(|_| at(kc, ErrorKind::Utf8))?)
        }
        b"open" | b"close" => {
            if let Some((c, _)) = it.next() {
                return Err(at(
                    c,
                    ErrorKind::Trailing(if kind == b"open" { "open" } else { "close" }),
                ));
            }
            if kind == b"open" {
                Payload::Open
            } else {
                Payload::Close
            }
        }
        b"frames" => {
            let mut frames = Vec::new();
            for (c, f) in it {
                if frames.len() == limits.max_frames {
                    return Err(at(c, ErrorKind::TooManyFrames(limits.max_frames)));
                }
                frames.push(unhex(f).map_err(|k| at(c, k))?);
            }
            if frames.is_empty() {
                return Err(at(end, ErrorKind::Missing("frames")));
            }
            Payload::Frames(frames)
        }
        other => {
            return Err(at(
                kc,
                ErrorKind::Kind(String::from_utf8_lossy(other).into_owned()),
            ));
        }
    };
    Ok(Some(Record {
        time,
        direction,
        peer,
        payload,
    }))
}

/// Reads a recording line by line from any [`BufRead`], holding one line at a time.
///
/// A bad line is returned as an `Err` and reading goes on with the next one; a read error or
/// an over-long line ends the recording.
#[derive(Debug)]
pub struct Reader<R: BufRead> {
    input: R,
    header: Header,
    line_no: u64,
    limits: Limits,
    buf: Vec<u8>,
    done: bool,
}

/// Reads one line of at most `max` bytes (plus its end). `Ok(false)` at the end of input.
fn read_line<R: BufRead>(input: &mut R, buf: &mut Vec<u8>, max: usize) -> Result<bool, ErrorKind> {
    buf.clear();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(2);
    let mut limited = io::Read::take(&mut *input, limit);
    let n = limited
        .read_until(b'\n', buf)
        .map_err(|e| ErrorKind::Io(e.to_string()))?;
    if n == 0 {
        return Ok(false);
    }
    if trim_eol(buf).len() > max {
        return Err(ErrorKind::LineTooLong(max));
    }
    Ok(true)
}

impl<R: BufRead> Reader<R> {
    /// Reads the header with the default [`Limits`].
    pub fn new(input: R) -> Result<Reader<R>, Error> {
        Reader::with_limits(input, Limits::default())
    }

    /// Reads the header.
    pub fn with_limits(mut input: R, limits: Limits) -> Result<Reader<R>, Error> {
        let mut buf = Vec::new();
        let at1 = |kind| Error {
            line: 1,
            column: 1,
            kind,
        };
        // A header is short; 64 KiB is plenty and keeps a wrong input from being read whole.
        match read_line(&mut input, &mut buf, 64 << 10) {
            Ok(true) => {}
            Ok(false) => return Err(at1(ErrorKind::NotARecording)),
            Err(ErrorKind::LineTooLong(_)) => return Err(at1(ErrorKind::NotARecording)),
            Err(k) => return Err(at1(k)),
        }
        let header = parse_header(&buf)?;
        Ok(Reader {
            input,
            header,
            line_no: 1,
            limits,
            buf,
            done: false,
        })
    }

    /// The header.
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The number of the last line read.
    pub fn line(&self) -> u64 {
        self.line_no
    }

    /// The next record; `None` at the end. Blank and comment lines are skipped.
    pub fn next_record(&mut self) -> Option<Result<Record, Error>> {
        while !self.done {
            self.line_no += 1;
            match read_line(&mut self.input, &mut self.buf, self.limits.max_line) {
                Ok(true) => {}
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Err(kind) => {
                    self.done = true;
                    return Some(Err(Error {
                        line: self.line_no,
                        column: 1,
                        kind,
                    }));
                }
            }
            match parse_record(&self.buf, self.line_no, &self.limits) {
                Ok(Some(r)) => return Some(Ok(r)),
                Ok(None) => {}
                Err(e) => return Some(Err(e)),
            }
        }
        None
    }
}

impl<R: BufRead> Iterator for Reader<R> {
    type Item = Result<Record, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_record()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: u64, n: u32) -> SystemTime {
        UNIX_EPOCH + Duration::new(s, n)
    }

    #[test]
    fn every_kind_round_trips() {
        let header = Header::new("zmq")
            .with("socket type", "dealer %x")
            .with("", "");
        let recs = vec![
            Record::new(
                t(1, 2),
                Direction::In,
                Payload::Frames(vec![vec![1, 0, 2, 3, 4, 5], vec![], b"tcp://a".to_vec()]),
            )
            .with_peer("dealer tcp://127.0.0.1:5555"),
            Record::new(t(3, 999_999_999), Direction::Out, Payload::Datagram(vec![])),
            Record::new(t(4, 0), Direction::In, Payload::Bytes(vec![0xff; 3])).with_peer(""),
            Record::new(t(5, 0), Direction::In, Payload::Text("é \n\"x\"".into()))
                .with_peer("wss://h/"),
            Record::new(t(6, 0), Direction::In, Payload::Open).with_peer("ü"),
            Record::new(t(7, 0), Direction::Out, Payload::Close),
            Record::new(t(8, 0), Direction::Out, Payload::Close).with_peer("-"),
        ];
        let mut w = Writer::new(Vec::new(), &header).unwrap();
        for r in &recs {
            w.write(r).unwrap();
        }
        let bytes = w.into_inner().unwrap();
        // One line per record plus the header, all printable ASCII.
        assert_eq!(
            bytes.iter().filter(|&&b| b == b'\n').count(),
            recs.len() + 1
        );
        assert!(
            bytes
                .iter()
                .all(|&b| b == b'\n' || (0x20..0x7f).contains(&b))
        );
        let mut r = Reader::new(&bytes[..]).unwrap();
        assert_eq!(r.header(), &header);
        let back: Vec<Record> = r.by_ref().map(Result::unwrap).collect();
        assert_eq!(back, recs);
    }

    #[test]
    fn errors_say_line_and_column_and_reading_goes_on() {
        let text = b"monwire-capture 1 nsm\n\
            # a comment\n\
            \n\
            1.000000000 in datagram - 2f7\n\
            1.5 in datagram - 00\n\
            1.000000000 sideways datagram - 00\n\
            1.000000000 in datagram - 00 11\n\
            1.000000000 in teleport - 00\n\
            2.000000000 in datagram %zz 00\r\n\
            3.000000000 in text - ff\n\
            4.000000000 in datagram - 2f\n";
        let got: Vec<Result<Record, Error>> = Reader::new(&text[..]).unwrap().collect();
        let errs: Vec<(u64, usize)> = got
            .iter()
            .filter_map(|r| r.as_ref().err().map(|e| (e.line, e.column)))
            .collect();
        assert_eq!(
            errs,
            vec![
                (4, 27),
                (5, 1),
                (6, 13),
                (7, 30),
                (8, 16),
                (9, 25),
                (10, 16)
            ]
        );
        assert!(matches!(
            got.get(1).unwrap().as_ref().unwrap_err().kind,
            ErrorKind::Time(_)
        ));
        let last = got.last().unwrap().as_ref().unwrap();
        assert_eq!(last.payload, Payload::Datagram(vec![0x2f]));
        assert_eq!(last.time, t(4, 0));
    }

    #[test]
    fn headers_are_checked() {
        assert_eq!(
            Reader::new(&b"hello\n"[..]).unwrap_err().kind,
            ErrorKind::NotARecording
        );
        assert_eq!(
            Reader::new(&b""[..]).unwrap_err().kind,
            ErrorKind::NotARecording
        );
        assert_eq!(
            Reader::new(&b"monwire-capture 2 nsm\n"[..])
                .unwrap_err()
                .kind,
            ErrorKind::Version("2".into())
        );
        assert_eq!(
            Reader::new(&b"monwire-capture 1\n"[..]).unwrap_err().kind,
            ErrorKind::Header("no protocol")
        );
        assert_eq!(
            Reader::new(&b"monwire-capture 1 nsm role\n"[..])
                .unwrap_err()
                .kind,
            ErrorKind::Header("a setting without `=`")
        );
    }

    #[test]
    fn long_lines_are_refused_without_reading_them_whole() {
        let mut text = b"monwire-capture 1 nsm\n1.000000000 in datagram - ".to_vec();
        text.extend(std::iter::repeat_n(b'a', 1000));
        text.extend_from_slice(b"\n1.000000000 in datagram - 00\n");
        let mut r = Reader::with_limits(&text[..], Limits::default().with_max_line(100)).unwrap();
        assert_eq!(
            r.next_record().unwrap().unwrap_err().kind,
            ErrorKind::LineTooLong(100)
        );
        assert!(r.next_record().is_none());
    }

    #[test]
    fn frames_are_bounded() {
        let mut line = b"1.000000000 in frames -".to_vec();
        for _ in 0..5 {
            line.extend_from_slice(b" 00");
        }
        let limits = Limits {
            max_frames: 4,
            ..Limits::default()
        };
        let e = parse_record(&line, 9, &limits).unwrap_err();
        assert_eq!(e.kind, ErrorKind::TooManyFrames(4));
        assert_eq!(
            parse_record(b"1.000000000 in frames -", 1, &limits)
                .unwrap_err()
                .kind,
            ErrorKind::Missing("frames")
        );
    }
}
