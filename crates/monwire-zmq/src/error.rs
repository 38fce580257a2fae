//! Errors: what was wrong and where.

use thiserror::Error;

use crate::message::EventCode;

/// A monitor message that could not be decoded: which frame, which byte in it, and what was
/// wrong.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{kind} (frame {frame}, byte {offset})")]
pub struct DecodeError {
    /// The index of the offending frame (for a wrong frame count: the first frame missing or
    /// too many).
    pub frame: usize,
    /// The byte offset into that frame.
    pub offset: usize,
    /// What was wrong, with the offending wire value.
    pub kind: DecodeErrorKind,
}

/// What was wrong with a monitor message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The message has the wrong number of frames.
    #[error("{version} message needs {expected} frames, found {found}")]
    FrameCount {
        /// `"v1"` or `"v2"`.
        version: &'static str,
        /// What the format requires (`"exactly 2"`, `"at least 4"`).
        expected: &'static str,
        /// How many frames there were.
        found: usize,
    },
    /// A fixed-size frame has the wrong length.
    #[error("frame must be {expected} bytes, found {found}")]
    FrameLength {
        /// The required length.
        expected: usize,
        /// The length seen.
        found: usize,
    },
    /// A v2 value count that does not match the frames present.
    #[error("v2 value count {declared} does not match the {present} value frames present")]
    ValueCount {
        /// The count frame 1 declares.
        declared: u64,
        /// The value frames present (`frames - 4`).
        present: usize,
    },
    /// A v2 value count above [`Limits::max_v2_values`](crate::codec::Limits::max_v2_values).
    #[error("v2 value count {declared} exceeds the limit of {limit}")]
    TooManyValues {
        /// The count frame 1 declares.
        declared: u64,
        /// The limit in force.
        limit: usize,
    },
    /// An endpoint that is not UTF-8 where text was required.
    #[error("endpoint is not UTF-8")]
    NonUtf8Endpoint,
}

/// A message that cannot be put on the wire in the requested format.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// v1 carries the code as a `u16`.
    #[error("event code {0} does not fit v1's 16 bits")]
    CodeTooLarge(EventCode),
    /// v1 carries the value as a `u32`.
    #[error("value {value} of {code} does not fit v1's 32 bits")]
    ValueTooLarge {
        /// The event code.
        code: EventCode,
        /// The value.
        value: u64,
    },
    /// v1 carries exactly one value (`PIPES_STATS` cannot be v1).
    #[error("{code} has {count} values; v1 carries exactly one")]
    ValueCount {
        /// The event code.
        code: EventCode,
        /// How many values it has.
        count: usize,
    },
}

/// A [`monwire_event::Event`] that does not describe a ZeroMQ monitor message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EventError {
    /// The event is from another protocol.
    #[error("event is from protocol {0:?}, not zmq")]
    WrongProtocol(String),
    /// A required attribute is missing.
    #[error("attribute {0} is missing")]
    Missing(&'static str),
    /// An attribute has the wrong type or an impossible value.
    #[error("attribute {0} has the wrong type or value")]
    Invalid(&'static str),
    /// The event is of another monitor version than the message type asked for.
    #[error("event is a v{found} message, not v{wanted}")]
    Version {
        /// The version asked for.
        wanted: u64,
        /// The version the event names.
        found: u64,
    },
}
