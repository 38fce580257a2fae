//! The XDR binary encoding of Galaxy objects and the 8-byte message framing.
//!
//! - [`Codec::decode_object`] / [`Codec::encode_object`]: one object, byte-exact with the C
//!   library (`xdr_buffer.c`): big-endian 4-byte units, zero padding, properties in order.
//! - [`Codec::decode`]: one `type, size, body` message from the front of a stream buffer;
//!   `Ok(None)` means "need more bytes" and consumes nothing. [`StreamDecoder`] keeps the buffer
//!   for you.
//!
//! Every length and count is checked against [`Limits`] **and** against the bytes actually
//! present before anything is allocated, nesting is checked before each level is entered, and
//! the counts of all the containers being read are checked *together*: each announced item is
//! held to the smallest size an item can take (8 bytes for an object, 12 for a property, 20 for
//! a predicate) until it starts, so a list nested in a list cannot claim bytes its parent's
//! remaining items need; and as soon as the bytes left are fewer than those minimums, the
//! message is refused as truncated. No capacity is ever reserved that the input cannot fill, and
//! every byte allocated is paid for by at most a quarter byte of input, read or still promised
//! (see the [layout](crate::message#memory-layout)): the peak heap of decoding any message,
//! valid or not, is at most 4× its size plus 64 KiB. Strings are copied once, out of the input
//! (well-known keys not at all); a frame's duplicate-key check is linear (a hash index past 16
//! keys, sized by the distinct keys seen). `tests/tests/galaxy_alloc.rs` measures all of this
//! with a counting allocator.
//!
//! # The INT_64 width
//!
//! The C library on LP64 machines (64-bit Linux, where the GC 4.0 Hub is run today) writes
//! `GAL_INT_64` elements with `xdr_long`, **4 bytes each** (the low 32 bits), while Java and
//! 32-bit C builds write 8-byte hypers. The width cannot be inferred from the bytes, so it is an
//! explicit option, [`Int64Width`]. The default is [`Int64Width::Four`], what the 64-bit C Hub
//! reads and writes; choose [`Int64Width::Eight`] for Java peers and 32-bit builds.

use crate::index::KeyIndex;

use crate::error::{DecodeError, DecodeErrorKind as K, EncodeError};
use crate::message::Key;
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
            committed: 0,
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

/// The fewest bytes any object takes on the wire (a type code and one 4-byte unit: an int, an
/// empty string or list).
const MIN_OBJECT: usize = 8;
/// The fewest bytes a property takes: an empty key (its length) and the smallest object.
const MIN_PROP: usize = 4 + MIN_OBJECT;
/// The fewest bytes a predicate takes: type code, frame type, empty name, no properties, no
/// predicates.
const MIN_PRED: usize = 20;

struct Reader<'a, 'c> {
    buf: &'a [u8],
    pos: usize,
    codec: &'c Codec,
    /// Bytes that the containers being read still need at the least for the items they have
    /// announced but not started (each `count × smallest item`). A new count or length must
    /// fit in what is left beside them, so the capacity reserved by all open containers
    /// together never exceeds what the input can fill.
    committed: usize,
}

impl<'a> Reader<'a, '_> {
    fn remaining(&self) -> usize {
        self.buf.len().saturating_sub(self.pos)
    }

    /// Bytes not already promised to an open container's announced items.
    fn free(&self) -> usize {
        self.remaining().saturating_sub(self.committed)
    }

    fn err(&self, at: usize, kind: K) -> DecodeError {
        DecodeError::new(at as u64, kind)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        let buf: &'a [u8] = self.buf;
        match start.checked_add(n).and_then(|end| buf.get(start..end)) {
            Some(s) if buf.len() - (start + n) >= self.committed => {
                self.pos += n;
                Ok(s)
            }
            Some(_) => Err(self.err(
                start,
                // The announced items that have not started cannot fit in what is left after
                // this read: the message is short, and reading on would only hold memory.
                K::Truncated {
                    needed: (self.committed + start + n - buf.len()) as u64,
                },
            )),
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

    /// A signed count of items that each need at least `min_item` bytes (lists, properties,
    /// predicates): negative is an error, and the items must fit in the free bytes. The
    /// items' minimum is committed until each is started ([`Reader::start_item`]).
    fn count(&mut self, min_item: usize) -> Result<usize, DecodeError> {
        let at = self.pos;
        let c = self.i32()?;
        if c < 0 {
            return Err(self.err(at, K::NegativeCount { count: c }));
        }
        let n = self.check_len(at, c as u32, min_item)?;
        self.committed += n * min_item;
        Ok(n)
    }

    /// An item of a counted container starts: its committed minimum is released (its own
    /// bytes are read from here on).
    fn start_item(&mut self, min_item: usize) {
        self.committed = self.committed.saturating_sub(min_item);
    }

    /// An unsigned length or element count with `width` bytes per item, checked against the
    /// free bytes.
    fn array_len(&mut self, width: usize) -> Result<usize, DecodeError> {
        let at = self.pos;
        let n = self.u32()?;
        self.check_len(at, n, width)
    }

    fn check_len(&self, at: usize, n: u32, width: usize) -> Result<usize, DecodeError> {
        let need = (n as u64).saturating_mul(width as u64);
        if need > self.free() as u64 {
            return Err(self.err(
                at,
                K::LengthTooLarge {
                    len: n,
                    available: self.free() as u64,
                },
            ));
        }
        Ok(n as usize)
    }

    /// A string or opaque: `u32 len`, the bytes, zero padding to 4 (pad values are ignored,
    /// as C does; they re-encode as zeros). Borrowed from the input.
    fn padded(&mut self) -> Result<&'a [u8], DecodeError> {
        let at = self.pos;
        let n = self.array_len(1)?;
        let pad = (4 - n % 4) % 4;
        if n + pad > self.free() {
            return Err(self.err(
                at,
                K::Truncated {
                    needed: (n + pad).saturating_sub(self.free()).max(1) as u64,
                },
            ));
        }
        let v = self.take(n)?;
        self.take(pad)?;
        Ok(v)
    }

    fn name(&mut self) -> Result<&'a [u8], DecodeError> {
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
            1 => Ok(Object::Frame(Box::new(self.frame_body(at, depth)?))),
            6 => {
                self.enter(at, depth)?;
                let n = self.count(MIN_OBJECT)?;
                let mut items = Vec::with_capacity(n);
                for _ in 0..n {
                    self.start_item(MIN_OBJECT);
                    items.push(self.object(depth + 1)?);
                }
                // Exactly `n` items: no reallocation.
                Ok(Object::List(items.into_boxed_slice()))
            }
            _ => self.leaf(at, code),
        }
    }

    /// Everything but frames and lists, out of line so the recursive path keeps a small stack
    /// frame.
    #[inline(never)]
    fn leaf(&mut self, at: usize, code: i32) -> Result<Object, DecodeError> {
        Ok(match code {
            2 => Object::String(self.padded()?.into()),
            3 => Object::Int(self.i32()?),
            4 => Object::Float(f32::from_bits(self.u32()?)),
            5 => Object::Symbol(self.name()?.into()),
            11 => Object::Binary(self.padded()?.into()),
            12 => {
                let n = self.array_len(4)?;
                let b = self.take(n * 4)?;
                // C truncates to 16 bits on read.
                Object::Int16(
                    b.chunks_exact(4)
                        .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]) as i16)
                        .collect(),
                )
            }
            13 => {
                let n = self.array_len(4)?;
                let b = self.take(n * 4)?;
                Object::Int32(
                    b.chunks_exact(4)
                        .map(|c| i32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                        .collect(),
                )
            }
            14 => match self.codec.int64_width {
                Int64Width::Four => {
                    let n = self.array_len(4)?;
                    let b = self.take(n * 4)?;
                    Object::Int64(
                        b.chunks_exact(4)
                            .map(|c| i64::from(i32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                            .collect(),
                    )
                }
                Int64Width::Eight => {
                    let n = self.array_len(8)?;
                    let b = self.take(n * 8)?;
                    Object::Int64(
                        b.chunks_exact(8)
                            .map(|c| {
                                i64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
                            })
                            .collect(),
                    )
                }
            },
            15 => {
                let n = self.array_len(4)?;
                let b = self.take(n * 4)?;
                Object::Float32(
                    b.chunks_exact(4)
                        .map(|c| f32::from_bits(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                        .collect(),
                )
            }
            16 => {
                let n = self.array_len(8)?;
                let b = self.take(n * 8)?;
                Object::Float64(
                    b.chunks_exact(8)
                        .map(|c| {
                            f64::from_bits(u64::from_be_bytes([
                                c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7],
                            ]))
                        })
                        .collect(),
                )
            }
            17 => Object::Keyword(self.name()?.into()),
            18 => Object::Tag(self.name()?.into()),
            19 => Object::Token(self.padded()?.into()),
            20 => Object::Proxy(Box::new(Proxy {
                call_id: self.padded()?.to_vec(),
                host: self.padded()?.to_vec(),
                port: self.i32()?,
                object_type: self.i32()?,
            })),
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
        let mut frame = Frame::with_name(ftype, name);
        let n = self.count(MIN_PROP)?;
        frame.reserve_exact(n);
        // Duplicate keys: the first position, the last value (C `Gal_SetProp`), in linear time
        // through a [`KeyIndex`].
        let mut index = KeyIndex::new();
        for _ in 0..n {
            self.start_item(MIN_PROP);
            let key = Key::new(self.name()?);
            let value = self.object(depth + 1)?;
            match index.find_or_insert(&key, frame.len(), |j| frame.key_at(j)) {
                Some(j) => frame.replace_at(j, value),
                None => frame.push_unchecked(key, value),
            }
        }
        drop(index);
        let np = self.count(MIN_PRED)?;
        frame.reserve_preds_exact(np);
        for _ in 0..np {
            self.start_item(MIN_PRED);
            let pat = self.pos;
            match self.object(depth + 1)? {
                Object::Frame(p) => frame.preds_mut().push(*p),
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
        self.len(f.preds().len())?;
        for p in f.preds() {
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
