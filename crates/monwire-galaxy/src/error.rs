//! Errors: decoding (with the byte offset), encoding, and protocol state.

use thiserror::Error;

/// Why a decode failed, with the offending wire value.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input ended inside an object (a body shorter than its contents).
    #[error("truncated: {needed} more bytes needed")]
    Truncated {
        /// How many more bytes the object needed.
        needed: u64,
    },
    /// The header's body size is negative.
    #[error("negative body size {size}")]
    NegativeSize {
        /// The size as read.
        size: i32,
    },
    /// The header's body size exceeds [`Limits::max_message_size`](crate::codec::Limits).
    #[error("body size {size} exceeds the limit {limit}")]
    SizeTooLarge {
        /// The size as read.
        size: u32,
        /// The configured limit.
        limit: u32,
    },
    /// The header's message type is not one Galaxy 4.0 defines.
    #[error("unknown message type {code}")]
    UnknownMsgType {
        /// The type as read.
        code: i32,
    },
    /// A DISCONNECT header with a non-zero body size.
    #[error("DISCONNECT with body size {size}")]
    DisconnectWithBody {
        /// The size as read.
        size: i32,
    },
    /// An object type code that cannot be decoded (0, 7, 8, 9, 10, > 20, negative).
    #[error("object type {code} cannot be decoded")]
    BadObjectType {
        /// The code as read.
        code: i32,
    },
    /// A string, binary or array length larger than the bytes present.
    #[error("length {len} exceeds the {available} bytes available")]
    LengthTooLarge {
        /// The length or count as read.
        len: u32,
        /// Bytes left in the body.
        available: u64,
    },
    /// A negative list, property or predicate count.
    #[error("negative count {count}")]
    NegativeCount {
        /// The count as read.
        count: i32,
    },
    /// A frame name, key or symbol longer than [`Limits::max_name_len`](crate::codec::Limits).
    #[error("name of {len} bytes exceeds the limit {limit}")]
    NameTooLong {
        /// The length as read.
        len: u32,
        /// The configured limit.
        limit: u32,
    },
    /// Frames and lists nested deeper than [`Limits::max_depth`](crate::codec::Limits).
    #[error("nesting deeper than {limit}")]
    TooDeep {
        /// The configured limit.
        limit: usize,
    },
    /// A predicate that is not a frame.
    #[error("predicate of object type {code} is not a frame")]
    PredNotFrame {
        /// The predicate's type code.
        code: i32,
    },
    /// Bytes left in a body after its object.
    #[error("{count} bytes after the object")]
    TrailingBytes {
        /// How many.
        count: u64,
    },
    /// The body is not a frame where a frame is required (Hub links).
    #[error("body of object type {code} is not a frame")]
    NotAFrame {
        /// The body's type code.
        code: i32,
    },
}

/// A decode failure: what went wrong and at which byte offset of the input.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("galaxy decode error at byte {offset}: {kind}")]
pub struct DecodeError {
    /// Byte offset of the offending value, from the start of the input (a stream decoder counts
    /// from the start of the stream).
    pub offset: u64,
    /// What went wrong.
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    pub(crate) fn new(offset: u64, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { offset, kind }
    }

    /// The same error with its offset moved by `base` bytes.
    #[must_use]
    pub fn shifted(mut self, base: u64) -> DecodeError {
        self.offset = self.offset.saturating_add(base);
        self
    }
}

/// Why an object cannot be encoded.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A frame with a NULL name (the C encoder refuses it too).
    #[error("a frame with a NULL name cannot be encoded")]
    NullName,
    /// A NULL list element (the C encoder crashes on it).
    #[error("a NULL object cannot be encoded")]
    NullObject,
    /// A string, list or array longer than a 32-bit count.
    #[error("length {len} does not fit the wire")]
    TooLong {
        /// The length.
        len: usize,
    },
    /// Nesting deeper than the limit.
    #[error("nesting deeper than {limit}")]
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// A DISCONNECT with a body, or another type without one.
    #[error("message type {msg_type} does not match its body")]
    BodyMismatch {
        /// The message type code.
        msg_type: i32,
    },
}

/// A protocol-state error from a session.
#[derive(Clone, Debug, PartialEq, Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The peer's bytes did not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// An object we were asked to send cannot be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// The peer sent a message that is not valid in the current state.
    #[error("unexpected {msg_type} {name:?} while {state}")]
    Unexpected {
        /// The message type.
        msg_type: crate::message::MsgType,
        /// The frame's name.
        name: String,
        /// The session state.
        state: &'static str,
    },
    /// The peer refused us with an ERROR message.
    #[error("refused by the peer: {description} (errno {errno})")]
    Refused {
        /// `:errno`.
        errno: i32,
        /// `:err_description`.
        description: String,
    },
    /// The call is not valid in the current state (nothing to answer, not ready yet, closed).
    #[error("not valid now: {0}")]
    State(&'static str),
}
