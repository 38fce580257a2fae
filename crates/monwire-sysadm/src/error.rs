//! Errors: decoding, encoding and session state.

use thiserror::Error;

/// A message or routed frame could not be decoded.
///
/// It says *what* was wrong ([`kind`](DecodeError::kind), carrying the offending value) and
/// *where*: the byte [`offset`](DecodeError::offset) into the input, serde_json's 1-based
/// [`line`](DecodeError::line)/[`column`](DecodeError::column) for JSON syntax errors (0 when
/// not applicable), and the JSON [`path`](DecodeError::path) of the field (`$` for the whole
/// message, `$.namespace`, …).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[error("{kind} at {path} (byte {offset}, line {line}, column {column})")]
pub struct DecodeError {
    /// Byte offset into the input where the problem was found (best effort for JSON errors).
    pub offset: usize,
    /// 1-based line of a JSON syntax error, 0 if not a syntax error.
    pub line: usize,
    /// 1-based column of a JSON syntax error, 0 if not a syntax error.
    pub column: usize,
    /// JSON path of the offending field (`$`, `$.name`, `$.args`).
    pub path: String,
    /// What was wrong.
    pub kind: DecodeErrorKind,
}

impl DecodeError {
    pub(crate) fn at(path: impl Into<String>, offset: usize, kind: DecodeErrorKind) -> Self {
        DecodeError {
            offset,
            line: 0,
            column: 0,
            path: path.into(),
            kind,
        }
    }
}

/// What was wrong with the input.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The input is longer than [`Limits::max_message_len`](crate::codec::Limits).
    #[error("message of {len} bytes exceeds the limit of {max}")]
    TooLong {
        /// The input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// Arrays/objects nest deeper than [`Limits::max_depth`](crate::codec::Limits).
    #[error("JSON nesting deeper than {max}")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// The input is not UTF-8.
    #[error("input is not UTF-8")]
    NotUtf8,
    /// serde_json rejected the text (its message, without its position).
    #[error("invalid JSON: {0}")]
    Json(String),
    /// The message is valid JSON but not an object.
    #[error("expected a JSON object, found {0}")]
    NotAnObject(String),
    /// A required envelope field is missing.
    #[error("missing field `{0}`")]
    MissingField(&'static str),
    /// An envelope field has the wrong JSON type (the value, as compact JSON, truncated).
    #[error("expected a string, found {0}")]
    NotAString(String),
    /// A routed bridge frame has no LF after the connection id.
    #[error("routed frame has no newline after the connection id")]
    NoRouteSeparator,
    /// A routed bridge frame's connection id is not UTF-8 text.
    #[error("routed frame connection id is not UTF-8")]
    BadRouteId,
}

/// A message could not be encoded.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// The value nests deeper than the limit.
    #[error("value nests deeper than {max}")]
    TooDeep {
        /// The limit.
        max: usize,
    },
    /// A number has no JSON form.
    #[error("number has no JSON form")]
    BadNumber,
    /// The encoded message would be longer than the limit.
    #[error("encoded message of {len} bytes exceeds the limit of {max}")]
    TooLong {
        /// The encoded length.
        len: usize,
        /// The limit.
        max: usize,
    },
}

/// A session was asked to do something its state does not allow.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum StateError {
    /// The operation needs an open connection.
    #[error("not connected")]
    NotConnected,
    /// The operation needs an authenticated connection.
    #[error("not authenticated")]
    NotAuthenticated,
    /// No such connection.
    #[error("unknown connection {0}")]
    UnknownConnection(u64),
    /// A message could not be encoded.
    #[error(transparent)]
    Encode(#[from] EncodeError),
}

/// A `monwire_event::Event` could not be turned into a SysAdm message.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum FromEventError {
    /// The event is not a SysAdm event.
    #[error("not a sysadm event (protocol {0})")]
    WrongProtocol(String),
    /// A session event (connected, subscribed, …) has no wire message.
    #[error("session event `{0}` has no wire form")]
    SessionEvent(String),
    /// The event was made from a message that carried a secret, which was redacted: the
    /// message cannot be rebuilt.
    #[error("event `{0}` had its secrets redacted and has no wire form")]
    Redacted(String),
    /// An attribute that must be text is not.
    #[error("attribute {0} is not text")]
    NotText(&'static str),
    /// An attribute that must be a map is not.
    #[error("attribute {0} is not a map")]
    NotAMap(&'static str),
    /// An attribute value has no JSON form (bytes, a non-finite float, too deep).
    #[error("attribute {attr}: {what} has no JSON form")]
    NoJsonForm {
        /// The attribute key.
        attr: &'static str,
        /// What has no JSON form.
        what: String,
    },
    /// The event could not be serialized as JSON (for bridging).
    #[error("event has no JSON form: {0}")]
    Unserializable(String),
}

/// Why a client stopped for good (it does not reconnect after these).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ClientFailure {
    /// The server refused the password (or the configured login).
    #[error("login refused: {0}")]
    LoginRefused(String),
    /// A request needed a login and the client has none (`401` without credentials).
    #[error("the server requires a login ({0}) and no user was given")]
    LoginRequired(String),
    /// The peer is not a SysAdm server.
    #[error("the peer identifies as {0:?}, not a SysAdm server")]
    NotAServer(String),
    /// The connection ended before the first login completed.
    #[error("the connection closed before the login completed")]
    ClosedBeforeLogin,
    /// A request got no reply in time before the first login completed.
    #[error("no reply to {what} within {seconds} s")]
    NoReply {
        /// The request.
        what: &'static str,
        /// The deadline.
        seconds: u64,
    },
    /// The adapter could not set up the connection (TLS, websocket upgrade), before the first
    /// login (its own text).
    #[error("{0}")]
    Handshake(String),
    /// The server refused the key login (`auth_ssl`): the challenge or the signature was
    /// refused, usually because the server does not hold the public key.
    #[error("key login refused: {0} (is the public key registered on the server?)")]
    KeyRefused(String),
    /// The challenge could not be signed with the configured key.
    #[error("cannot sign the login challenge: {0}")]
    Signing(String),
}

/// An RSA key for the certificate login (`auth_ssl`) could not be read or used (see
/// `ssl`, feature `ssl-auth`). Never holds key material or a passphrase.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The text holds no PEM block of a kind this reads.
    #[error("no PEM {0} found (expected -----BEGIN …-----)")]
    NoPem(&'static str),
    /// The PEM block is not a valid key of its label (the parser's reason).
    #[error("not a valid {label}: {reason}")]
    Invalid {
        /// The PEM label (`PRIVATE KEY`, `RSA PRIVATE KEY`, `PUBLIC KEY`, …).
        label: String,
        /// Why.
        reason: String,
    },
    /// The key is encrypted and no passphrase was given.
    #[error("the key is encrypted and no passphrase was given")]
    NeedsPassphrase,
    /// The passphrase does not decrypt the key (or the encrypted key is damaged).
    #[error("wrong passphrase (or a damaged encrypted key)")]
    WrongPassphrase,
    /// A PKCS#1 key encrypted the old OpenSSL way (`Proc-Type: 4,ENCRYPTED`), which this does
    /// not read.
    #[error(
        "legacy encrypted PEM (Proc-Type: 4,ENCRYPTED) is not supported; convert it with \
         `openssl pkcs8 -topk8 -in OLD -out NEW` (encrypted PKCS#8)"
    )]
    LegacyEncryption,
    /// `register_ssl_cert`'s `pub_key` is not base64 of a PEM public key.
    #[error("the registration is not base64 of a PEM public key: {0}")]
    BadRegistration(String),
    /// The text to sign does not fit the key (it must be at most the key size less 11 bytes).
    #[error("{len} bytes cannot be signed with a {bits}-bit key")]
    TooLong {
        /// The text's length.
        len: usize,
        /// The key size.
        bits: usize,
    },
    /// The system's random number generator failed.
    #[error("the system random number generator failed: {0}")]
    Random(String),
    /// The RSA operation failed (the crate's reason).
    #[error("RSA: {0}")]
    Rsa(String),
}
