//! Errors: what was wrong and where.

use thiserror::Error;

/// A datagram that could not be decoded: the byte offset (0 when the fault is in the decoded
/// message rather than at one byte) and what was wrong.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{kind} (byte {offset})")]
pub struct DecodeError {
    /// Byte offset into the datagram where the fault was found.
    pub offset: usize,
    /// What was wrong, with the offending wire value.
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    /// For a well-formed OSC message this crate does not accept (unknown path, wrong argument
    /// count or type): its path and type tags, as ray-daemon quotes them in
    /// `/minor_error … -18 "unknown osc message: <path> <tags>"`.
    pub fn unaccepted_message(&self) -> Option<(&str, &str)> {
        match &self.kind {
            DecodeErrorKind::UnknownPath { path, tags }
            | DecodeErrorKind::ArgumentCount { path, tags, .. }
            | DecodeErrorKind::ArgumentType { path, tags, .. } => Some((path, tags)),
            _ => None,
        }
    }

    /// A stable short name for what kind of fault this is (`"unknown_path"`, `"malformed_osc"`,
    /// …), for grouping and rate-limiting reports.
    pub fn cause(&self) -> &'static str {
        match self.kind {
            DecodeErrorKind::TooLong { .. } => "too_long",
            DecodeErrorKind::BundleTooDeep { .. } => "bundle_too_deep",
            DecodeErrorKind::BadBundleElement { .. } => "bad_bundle_element",
            DecodeErrorKind::UnexpectedBundle => "unexpected_bundle",
            DecodeErrorKind::TooManyMessages { .. } => "too_many_messages",
            DecodeErrorKind::Osc { .. } => "malformed_osc",
            DecodeErrorKind::TrailingBytes { .. } => "trailing_bytes",
            DecodeErrorKind::UnknownPath { .. } => "unknown_path",
            DecodeErrorKind::ArgumentCount { .. } => "argument_count",
            DecodeErrorKind::ArgumentType { .. } => "argument_type",
        }
    }

    pub(crate) fn new(offset: usize, kind: DecodeErrorKind) -> DecodeError {
        DecodeError { offset, kind }
    }
}

/// What was wrong with a datagram.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The datagram is longer than [`Limits::max_datagram`](crate::codec::Limits::max_datagram).
    #[error("datagram of {len} bytes exceeds the limit of {limit}")]
    TooLong {
        /// Its length.
        len: usize,
        /// The limit in force.
        limit: usize,
    },
    /// Bundles nested deeper than [`Limits::max_bundle_depth`](crate::codec::Limits::max_bundle_depth).
    #[error("bundles nested deeper than {limit}")]
    BundleTooDeep {
        /// The limit in force.
        limit: usize,
    },
    /// A bundle element whose size does not fit the bytes present.
    #[error("bundle element of {size} bytes, {available} available")]
    BadBundleElement {
        /// The declared element size.
        size: i64,
        /// The bytes left in the enclosing bundle.
        available: usize,
    },
    /// A bundle where a single message was required.
    #[error("a bundle where one message was required")]
    UnexpectedBundle,
    /// More messages in the bundles than [`Limits::max_messages`](crate::codec::Limits::max_messages).
    #[error("more than {limit} messages in one datagram")]
    TooManyMessages {
        /// The limit in force.
        limit: usize,
    },
    /// Not valid OSC (rosc's reason, as text).
    #[error("malformed OSC: {}", Short(.reason))]
    Osc {
        /// What rosc reported.
        reason: String,
    },
    /// Bytes left over after the OSC packet.
    #[error("{count} trailing bytes after the OSC packet")]
    TrailingBytes {
        /// How many.
        count: usize,
    },
    /// An OSC path this crate does not know.
    #[error("unknown path {} with type tags ,{}", Short(.path), Short(.tags))]
    UnknownPath {
        /// The path.
        path: String,
        /// The type-tag string, without its comma.
        tags: String,
    },
    /// A known path with the wrong number of arguments.
    #[error("{} needs {expected} arguments, found {found} (,{})", Short(.path), Short(.tags))]
    ArgumentCount {
        /// The path.
        path: String,
        /// What the message requires (`"3"`, `"at least 1"`).
        expected: &'static str,
        /// How many it had.
        found: usize,
        /// The type-tag string, without its comma.
        tags: String,
    },
    /// A known path with an argument of the wrong type.
    #[error("{} argument {index} must be {expected}, found {found}", Short(.path))]
    ArgumentType {
        /// The path.
        path: String,
        /// Index of the argument (0-based).
        index: usize,
        /// The type tag required.
        expected: char,
        /// The type tag found.
        found: char,
        /// The whole type-tag string, without its comma.
        tags: String,
    },
}

/// At most [`SHORT`] characters of a wire string for an error message, control characters
/// escaped, `…` when cut: a hostile 60 KB path never makes a 60 KB error line.
struct Short<'a>(&'a str);

/// How many characters of a wire string an error message quotes.
const SHORT: usize = 64;

impl std::fmt::Display for Short<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, c) in self.0.chars().enumerate() {
            if i == SHORT {
                return f.write_str("…");
            }
            if c.is_control() {
                write!(f, "\\u{{{:x}}}", u32::from(c))?;
            } else {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

/// A message that cannot be put on the wire.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A capability name that is empty or contains `:` cannot survive the colon form.
    #[error("capability \"{}\" is empty or contains ':'", Short(.0))]
    BadCapability(String),
    /// A string with a NUL byte cannot be an OSC string.
    #[error("string \"{}\" contains a NUL byte", Short(.0))]
    NulInString(String),
    /// A path that is not a valid OSC address.
    #[error("path \"{}\" is not an OSC address", Short(.0))]
    BadPath(String),
    /// rosc refused the packet.
    #[error("OSC encoder: {0}")]
    Osc(String),
}

/// An [`Event`](monwire_event::Event) that does not describe an NSM/Ray message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FromEventError {
    /// The protocol is neither `Nsm` nor `Ray`.
    #[error("protocol {} is not nsm or ray", Short(.0))]
    Protocol(String),
    /// An attribute the message needs is missing or has the wrong type.
    #[error("attribute {} is missing or has the wrong type", Short(.0))]
    Attribute(String),
    /// An event a monitor made about its link to the server (`disconnected`, `reconnected`):
    /// no message was on the wire.
    #[error("{} is a monitor's own event, not a message", Short(.0))]
    NotAMessage(String),
    /// The path or name does not name a message.
    #[error("\"{}\" does not name an NSM/Ray message", Short(.0))]
    Unknown(String),
}

/// A request a session state machine cannot carry out in its current state.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StateError {
    /// The server did not list `:monitor:` among its capabilities.
    #[error("the server lacks the :monitor: capability")]
    NoMonitorCapability,
    /// The role is not registered (or not yet).
    #[error("not registered with the server")]
    NotRegistered,
    /// The role already quit.
    #[error("already closed")]
    Closed,
    /// No such client in the server's session.
    #[error("no client \"{}\"", Short(.0))]
    NoSuchClient(String),
    /// A client id must not be empty: a state-list entry `"" ""` is the list's end marker.
    #[error("a client id must not be empty")]
    EmptyId,
    /// A client id already in the session or its trash.
    #[error("client id \"{}\" is taken", Short(.0))]
    DuplicateId(String),
    /// No session is open.
    #[error("no session open")]
    NoSession,
}
