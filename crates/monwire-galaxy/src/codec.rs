//! The XDR binary encoding of Galaxy objects and the 8-byte message framing.
//!
//! - [`Codec::decode_object`] / [`Codec::encode_object`]: one object, byte-exact with the C
//!   library (`xdr_buffer.c`): big-endian 4-byte units, zero padding, properties in order.
//! - [`Codec::decode`]: one `type, size, body` message from the front of a stream buffer;
//!   `Ok(None)` means "need more bytes" and consumes nothing. [`StreamDecoder`] keeps the buffer
//!   for you.
//!
//! Every length and count is checked against [`Limits`] **and** against the bytes actually
//! present before anything is allocated, and nesting is checked before each level is entered,
//! so no input can make the decoder allocate more than a small multiple of its size or recurse
//! deeper than [`Limits::max_depth`] (itself capped at [`MAX_DEPTH_CAP`]).
//!
//! # The INT_64 width
//!
//! The C library on LP64 machines (64-bit Linux, where the GC 4.0 Hub is run today) writes
//! `GAL_INT_64` elements with `xdr_long`, **4 bytes each** (the low 32 bits), while Java and
//! 32-bit C builds write 8-byte hypers. The width cannot be inferred from the bytes, so it is an
//! explicit option, [`Int64Width`]. The default is [`Int64Width::Four`], what the 64-bit C Hub
//! reads and writes; choose [`Int64Width::Eight`] for Java peers and 32-bit builds.

use std::collections::HashMap;

use crate::error::{DecodeError, DecodeErrorKind as K, EncodeError};
use crate::message::{Frame, FrameType, Message, MsgType, Object, Proxy};

/// The hard cap on [`Limits::max_depth`]: the decoder and printers recurse once per level, and
/// this keeps the deepest recursion inside a 2 MiB thread stack even in debug builds.
pub const MAX_DEPTH_CAP: usize = 256;

/// Bounds applied while decoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Largest body size a message header may announce (default 16 MiB; C has no limit).
    pub max_message_size: u32,
    /// Deepest nesting of frames and lists (default 64, capped at [`MAX_DEPTH_CAP`]); the top
    /// object is depth 1. Hub messages nest about 6 deep; C has no limit.
    pub max_depth: usize,
    /// Longest frame name, key, symbol, keyword or tag (default 1023: the C decoder's buffers
    /// are 1024 bytes and overflow at exactly 1024).
    pub max_name_len: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_size: 16 * 1024 * 1024,
            max_depth: 64,
            max_name_len: 1023,
        }
    }
}

impl Limits {
    /// Sets [`max_message_size`](Limits::max_message_size).
    #[must_use]
    pub fn with_max_message_size(mut self, v: u32) -> Limits {
        self.max_message_size = v;
        self
    }

    /// Sets [`max_depth`](Limits::max_depth) (capped at [`MAX_DEPTH_CAP`]).
    #[must_use]
    pub fn with_max_depth(mut self, v: usize) -> Limits {
        self.max_depth = v.min(MAX_DEPTH_CAP);
        self
    }

    /// Sets [`max_name_len`](Limits::max_name_len).
    #[must_use]
    pub fn with_max_name_len(mut self, v: u32) -> Limits {
        self.max_name_len = v;
        self
    }

    fn depth(&self) -> usize {
        self.max_depth.min(MAX_DEPTH_CAP)
    }
}

/// How many bytes each `GAL_INT_64` element takes on the wire (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Int64Width {
    /// 4 bytes, low 32 bits, sign-extended on read: the C library on LP64 (the default).
    #[default]
    Four,
    /// 8-byte XDR hypers: Java, and C on 32-bit builds.
    Eight,
}

/// The XDR codec: [`Limits`] and the [`Int64Width`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Codec {
    /// Decoding bounds.
    pub limits: Limits,
    /// The `GAL_INT_64` element width.
    pub int64_width: Int64Width,
}

impl Codec {
    /// A codec with these limits and the default INT_64 width.
    pub fn new(limits: Limits) -> Codec {
        Codec {
            limits,
            int64_width: Int64Width::default(),
        }
    }

    /// Sets the INT_64 width.
    #[must_use]
    pub fn with_int64_width(mut self, w: Int64Width) -> Codec {
        self.int64_width = w;
        self
    }

    /// Decodes exactly one object from `bytes` (no bytes may follow it).
    pub fn decode_object(&self, bytes: &[u8]) -> Result<Object, DecodeError> {
        let mut r = Reader {
            buf: bytes,
            pos: 0,
            codec: self,
        };
        let obj = r.object(1)?;
        let rest = bytes.len().saturating_sub(r.pos);
        if rest > 0 {
            return Err(DecodeError::new(
                r.pos as u64,
                K::TrailingBytes { count: rest as u64 },
            ));
        }
        Ok(obj)
    }

    /// Encodes one object, appending to `out`.
    pub fn encode_object_into(&self, obj: &Object, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        Writer { out, codec: self }.object(obj, 1)
    }

    /// Encodes one object.
    pub fn encode_object(&self, obj: &Object) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode_object_into(obj, &mut out)?;
        Ok(out)
    }

    /// Decodes one message from the front of `buf`.
    ///
    /// Returns `Ok(None)` when `buf` does not yet hold a whole message (nothing is consumed;
    /// call again with more bytes), and `Ok(Some((message, used)))` with the number of bytes the
    /// message took. A bad header (unknown type, negative or oversized size) is an error as soon
    /// as its 8 bytes are present, before the body arrives. Error offsets count from `buf[0]`.
    pub fn decode(&self, buf: &[u8]) -> Result<Option<(Message, usize)>, DecodeError> {
        let (Some(t), Some(s)) = (read_i32(buf, 0), read_i32(buf, 4)) else {
            return Ok(None);
        };
        let msg_type =
            MsgType::from_code(t).ok_or(DecodeError::new(0, K::UnknownMsgType { code: t }))?;
        if s < 0 {
            return Err(DecodeError::new(4, K::NegativeSize { size: s }));
        }
        let size = s as u32;
        if size > self.limits.max_message_size {
            return Err(DecodeError::new(
                4,
                K::SizeTooLarge {
                    size,
                    limit: self.limits.max_message_size,
                },
            ));
        }
        if msg_type == MsgType::Disconnect {
            if s != 0 {
                return Err(DecodeError::new(4, K::DisconnectWithBody { size: s }));
            }
            return Ok(Some((
                Message {
                    msg_type,
                    body: None,
                },
                8,
            )));
        }
        let end = 8 + size as usize;
        let Some(body) = buf.get(8..end) else {
            return Ok(None);
        };
        let obj = self.decode_object(body).map_err(|e| e.shifted(8))?;
        Ok(Some((
            Message {
                msg_type,
                body: Some(obj),
            },
            end,
        )))
    }

    /// Decodes a buffer that must hold exactly one whole message.
    pub fn decode_exact(&self, buf: &[u8]) -> Result<Message, DecodeError> {
        match self.decode(buf)? {
            Some((m, used)) if used == buf.len() => Ok(m),
            Some((_, used)) => Err(DecodeError::new(
                used as u64,
                K::TrailingBytes {
                    count: (buf.len() - used) as u64,
                },
            )),
            None => Err(DecodeError::new(
                buf.len() as u64,
                K::Truncated {
                    needed: needed_for(buf),
                },
            )),
        }
    }

    /// Encodes one message (header and body), appending to `out`.
    pub fn encode_into(&self, msg: &Message, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        let start = out.len();
        out.extend_from_slice(&msg.msg_type.code().to_be_bytes());
        out.extend_from_slice(&[0; 4]);
        match (&msg.body, msg.msg_type) {
            (None, MsgType::Disconnect) => return Ok(()),
            (Some(body), t) if t != MsgType::Disconnect => {
                if let Err(e) = self.encode_object_into(body, out) {
                    out.truncate(start);
                    return Err(e);
                }
            }
            _ => {
                out.truncate(start);
                return Err(EncodeError::BodyMismatch {
                    msg_type: msg.msg_type.code(),
                });
            }
        }
        let size = out.len() - start - 8;
        let Ok(size32) = i32::try_from(size) else {
            out.truncate(start);
            return Err(EncodeError::TooLong { len: size });
        };
        if let Some(slot) = out.get_mut(start + 4..start + 8) {
            slot.copy_from_slice(&size32.to_be_bytes());
        }
        Ok(())
    }

    /// Encodes one message (header and body).
    pub fn encode(&self, msg: &Message) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::new();
        self.encode_into(msg, &mut out)?;
        Ok(out)
    }
}

/// How many more bytes a partial message in `buf` needs (at least 1).
fn needed_for(buf: &[u8]) -> u64 {
    match read_i32(buf, 4) {
        Some(s) if s >= 0 => (8 + s as u64).saturating_sub(buf.len() as u64).max(1),
        _ => (8u64).saturating_sub(buf.len() as u64).max(1),
    }
}

fn read_i32(buf: &[u8], at: usize) -> Option<i32> {
    let b = buf.get(at..at + 4)?;
    Some(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

/// Decodes one object with the default codec.
pub fn decode_object(bytes: &[u8]) -> Result<Object, DecodeError> {
    Codec::default().decode_object(bytes)
}

/// Encodes one object with the default codec.
pub fn encode_object(obj: &Object) -> Result<Vec<u8>, EncodeError> {
    Codec::default().encode_object(obj)
}

/// Decodes one message from the front of `buf` with the default codec (see
/// [`Codec::decode`]).
pub fn decode(buf: &[u8]) -> Result<Option<(Message, usize)>, DecodeError> {
    Codec::default().decode(buf)
}

/// Encodes one message with the default codec.
pub fn encode(msg: &Message) -> Result<Vec<u8>, EncodeError> {
    Codec::default().encode(msg)
}

struct Reader<'a, 'c> {
    buf: &'a [u8],
    pos: usize,
    codec: &'c Codec,
}

impl Reader<'_, '_> {
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    fn err(&self, at: usize, kind: K) -> DecodeError {
        DecodeError::new(at as u64, kind)
    }

    fn take(&mut self, n: usize) -> Result<&[u8], DecodeError> {
        let start = self.pos;
        match start
            .checked_add(n)
            .and_then(|end| self.buf.get(start..end))
        {
            Some(s) => {
                self.pos += n;
                Ok(s)
            }
            None => Err(self.err(
                start,
                K::Truncated {
                    needed: (n - self.remaining()) as u64,
                },
            )),
        }
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i32(&mut self) -> Result<i32, DecodeError> {
        Ok(self.u32()? as i32)
    }

    fn u64(&mut self) -> Result<u64, DecodeError> {
        let hi = self.u32()? as u64;
        let lo = self.u32()? as u64;
        Ok((hi << 32) | lo)
    }

    /// A signed count (lists, properties, predicates): negative is an error, and each item
    /// needs at least `min_item` bytes.
    fn count(&mut self, min_item: usize) -> Result<usize, DecodeError> {
        let at = self.pos;
        let c = self.i32()?;
        if c < 0 {
            return Err(self.err(at, K::NegativeCount { count: c }));
        }
        self.check_len(at, c as u32, min_item)
    }

    /// An unsigned length or element count with `width` bytes per item, checked against the
    /// bytes present.
    fn array_len(&mut self, width: usize) -> Result<usize, DecodeError> {
        let at = self.pos;
        let n = self.u32()?;
        self.check_len(at, n, width)
    }

    fn check_len(&self, at: usize, n: u32, width: usize) -> Result<usize, DecodeError> {
        let need = (n as u64).saturating_mul(width as u64);
        if need > self.remaining() as u64 {
            return Err(self.err(
                at,
                K::LengthTooLarge {
                    len: n,
                    available: self.remaining() as u64,
                },
            ));
        }
        Ok(n as usize)
    }

    /// A string or opaque: `u32 len`, the bytes, zero padding to 4 (pad values are ignored,
    /// as C does; they re-encode as zeros).
    fn padded(&mut self) -> Result<Vec<u8>, DecodeError> {
        let at = self.pos;
        let n = self.array_len(1)?;
        let pad = (4 - n % 4) % 4;
        if n + pad > self.remaining() {
            return Err(self.err(
                at,
                K::Truncated {
                    needed: (n + pad - self.remaining()) as u64,
                },
            ));
        }
        let v = self.take(n)?.to_vec();
        self.take(pad)?;
        Ok(v)
    }

    fn name(&mut self) -> Result<Vec<u8>, DecodeError> {
        let at = self.pos;
        let v = self.padded()?;
        let limit = self.codec.limits.max_name_len;
        if v.len() as u64 > limit as u64 {
            return Err(self.err(
                at,
                K::NameTooLong {
                    len: v.len() as u32,
                    limit,
                },
            ));
        }
        Ok(v)
    }

    fn object(&mut self, depth: usize) -> Result<Object, DecodeError> {
        let at = self.pos;
        let code = self.i32()?;
        match code {
            1 => Ok(Object::Frame(self.frame_body(at, depth)?)),
            6 => {
                self.enter(at, depth)?;
                let n = self.count(4)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    items.push(self.object(depth + 1)?);
                }
                Ok(Object::List(items))
            }
            _ => self.leaf(at, code),
        }
    }

    /// Everything but frames and lists, out of line so the recursive path keeps a small stack
    /// frame.
    #[inline(never)]
    fn leaf(&mut self, at: usize, code: i32) -> Result<Object, DecodeError> {
        Ok(match code {
            2 => Object::String(self.padded()?),
            3 => Object::Int(self.i32()?),
            4 => Object::Float(f32::from_bits(self.u32()?)),
            5 => Object::Symbol(self.name()?),
            11 => Object::Binary(self.padded()?),
            12 => {
                let n = self.array_len(4)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    // C truncates to 16 bits on read.
                    v.push(self.i32()? as i16);
                }
                Object::Int16(v)
            }
            13 => {
                let n = self.array_len(4)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(self.i32()?);
                }
                Object::Int32(v)
            }
            14 => {
                let width = match self.codec.int64_width {
                    Int64Width::Four => 4,
                    Int64Width::Eight => 8,
                };
                let n = self.array_len(width)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(match self.codec.int64_width {
                        Int64Width::Four => i64::from(self.i32()?),
                        Int64Width::Eight => self.u64()? as i64,
                    });
                }
                Object::Int64(v)
            }
            15 => {
                let n = self.array_len(4)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(f32::from_bits(self.u32()?));
                }
                Object::Float32(v)
            }
            16 => {
                let n = self.array_len(8)?;
                let mut v = Vec::with_capacity(n);
                for _ in 0..n {
                    v.push(f64::from_bits(self.u64()?));
                }
                Object::Float64(v)
            }
            17 => Object::Keyword(self.name()?),
            18 => Object::Tag(self.name()?),
            19 => Object::Token(self.padded()?),
            20 => Object::Proxy(Proxy {
                call_id: self.padded()?,
                host: self.padded()?,
                port: self.i32()?,
                object_type: self.i32()?,
            }),
            code => return Err(self.err(at, K::BadObjectType { code })),
        })
    }

    fn enter(&self, at: usize, depth: usize) -> Result<(), DecodeError> {
        let limit = self.codec.limits.depth();
        if depth > limit {
            return Err(self.err(at, K::TooDeep { limit }));
        }
        Ok(())
    }

    /// A frame body, after its type code at `at`.
    fn frame_body(&mut self, at: usize, depth: usize) -> Result<Frame, DecodeError> {
        self.enter(at, depth)?;
        let ftype = FrameType::from_code(self.i32()?);
        let name = self.name()?;
        let mut frame = Frame::new(ftype, name);
        // Each property is at least a key length and a type code.
        let n = self.count(8)?;
        let mut index: Option<HashMap<Vec<u8>, usize>> = None;
        for i in 0..n {
            let key = self.name()?;
            let value = self.object(depth + 1)?;
            // Duplicate keys: the first position, the last value (C `Gal_SetProp`).
            if i == 16 && index.is_none() {
                index = Some(
                    frame
                        .props()
                        .enumerate()
                        .map(|(j, (k, _))| (k.to_vec(), j))
                        .collect(),
                );
            }
            let existing = match &index {
                Some(map) => map.get(&key).copied(),
                None => frame.position(&key),
            };
            match existing {
                Some(j) => frame.replace_at(j, value),
                None => {
                    if let Some(map) = index.as_mut() {
                        map.insert(key.clone(), frame.len());
                    }
                    frame.push_unchecked(key, value);
                }
            }
        }
        let np = self.count(4)?;
        for _ in 0..np {
            let pat = self.pos;
            match self.object(depth + 1)? {
                Object::Frame(p) => frame.preds.push(p),
                other => {
                    return Err(self.err(
                        pat,
                        K::PredNotFrame {
                            code: other.type_code(),
                        },
                    ));
                }
            }
        }
        Ok(frame)
    }
}

struct Writer<'o, 'c> {
    out: &'o mut Vec<u8>,
    codec: &'c Codec,
}

impl Writer<'_, '_> {
    fn i32(&mut self, v: i32) {
        self.out.extend_from_slice(&v.to_be_bytes());
    }

    fn len(&mut self, n: usize) -> Result<(), EncodeError> {
        let v = u32::try_from(n).map_err(|_| EncodeError::TooLong { len: n })?;
        if v > i32::MAX as u32 {
            return Err(EncodeError::TooLong { len: n });
        }
        self.out.extend_from_slice(&v.to_be_bytes());
        Ok(())
    }

    fn bytes(&mut self, b: &[u8]) -> Result<(), EncodeError> {
        self.len(b.len())?;
        self.out.extend_from_slice(b);
        let pad = (4 - b.len() % 4) % 4;
        self.out.extend_from_slice(&[0u8; 3][..pad]);
        Ok(())
    }

    fn object(&mut self, obj: &Object, depth: usize) -> Result<(), EncodeError> {
        let limit = self.codec.limits.depth();
        if matches!(obj, Object::Null) {
            return Err(EncodeError::NullObject);
        }
        self.i32(obj.type_code());
        match obj {
            Object::Frame(f) => {
                if depth > limit {
                    return Err(EncodeError::TooDeep { limit });
                }
                self.frame_body(f, depth)?;
            }
            Object::String(s) | Object::Symbol(s) | Object::Binary(s) => self.bytes(s)?,
            Object::Keyword(s) | Object::Tag(s) | Object::Token(s) => self.bytes(s)?,
            Object::Int(v) => self.i32(*v),
            Object::Float(v) => self.i32(v.to_bits() as i32),
            Object::List(items) => {
                if depth > limit {
                    return Err(EncodeError::TooDeep { limit });
                }
                self.len(items.len())?;
                for item in items {
                    self.object(item, depth + 1)?;
                }
            }
            Object::Int16(v) => {
                self.len(v.len())?;
                for &x in v {
                    self.i32(i32::from(x));
                }
            }
            Object::Int32(v) => {
                self.len(v.len())?;
                for &x in v {
                    self.i32(x);
                }
            }
            Object::Int64(v) => {
                self.len(v.len())?;
                for &x in v {
                    match self.codec.int64_width {
                        Int64Width::Four => self.i32(x as i32),
                        Int64Width::Eight => self.out.extend_from_slice(&x.to_be_bytes()),
                    }
                }
            }
            Object::Float32(v) => {
                self.len(v.len())?;
                for &x in v {
                    self.i32(x.to_bits() as i32);
                }
            }
            Object::Float64(v) => {
                self.len(v.len())?;
                for &x in v {
                    self.out.extend_from_slice(&x.to_bits().to_be_bytes());
                }
            }
            Object::Proxy(p) => {
                self.bytes(&p.call_id)?;
                self.bytes(&p.host)?;
                self.i32(p.port);
                self.i32(p.object_type);
            }
            Object::Null => return Err(EncodeError::NullObject),
        }
        Ok(())
    }

    fn frame_body(&mut self, f: &Frame, depth: usize) -> Result<(), EncodeError> {
        let name = f.name.as_deref().ok_or(EncodeError::NullName)?;
        self.i32(f.ftype.code());
        self.bytes(name)?;
        self.len(f.len())?;
        for (k, v) in f.props() {
            self.bytes(k)?;
            self.object(v, depth + 1)?;
        }
        self.len(f.preds.len())?;
        for p in &f.preds {
            self.i32(1);
            if depth + 1 > self.codec.limits.depth() {
                return Err(EncodeError::TooDeep {
                    limit: self.codec.limits.depth(),
                });
            }
            self.frame_body(p, depth + 1)?;
        }
        Ok(())
    }
}

/// A buffering stream decoder: push bytes as they arrive, pull whole messages.
///
/// Error offsets count from the first byte ever pushed. After an error the decoder keeps
/// returning it (a Galaxy stream cannot resynchronise).
#[derive(Clone, Debug, Default)]
pub struct StreamDecoder {
    codec: Codec,
    buf: Vec<u8>,
    start: usize,
    consumed: u64,
}

impl StreamDecoder {
    /// A decoder using `codec`.
    pub fn new(codec: Codec) -> StreamDecoder {
        StreamDecoder {
            codec,
            ..StreamDecoder::default()
        }
    }

    /// Appends bytes read from the stream.
    pub fn push(&mut self, data: &[u8]) {
        if self.start > 0 && self.start * 2 >= self.buf.len() {
            self.buf.drain(..self.start);
            self.start = 0;
        }
        self.buf.extend_from_slice(data);
    }

    /// The next whole message, `Ok(None)` when more bytes are needed.
    pub fn next_message(&mut self) -> Result<Option<Message>, DecodeError> {
        let pending = self.buf.get(self.start..).unwrap_or_default();
        match self.codec.decode(pending) {
            Ok(Some((m, used))) => {
                self.start += used;
                self.consumed += used as u64;
                Ok(Some(m))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(e.shifted(self.consumed)),
        }
    }

    /// Stream offset of the first byte not yet consumed.
    pub fn offset(&self) -> u64 {
        self.consumed
    }

    /// Bytes buffered but not yet consumed (a partial message).
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The codec in use.
    pub fn codec(&self) -> &Codec {
        &self.codec
    }
}
