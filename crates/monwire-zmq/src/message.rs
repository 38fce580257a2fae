//! The wire-level types: event codes and masks, typed event values, v1 and v2 messages.

use std::fmt;
use std::ops::{BitOr, BitOrAssign};

use smallvec::SmallVec;

/// The values of an event that has no typed variant: one in v1, `n` in v2.
///
/// Up to two values are stored inline, so decoding never allocates for the shapes libzmq
/// sends; a v2 message with more values (a future event) spills to the heap.
pub type Values = SmallVec<[u64; 2]>;

macro_rules! codes {
    ($($(#[doc = $doc:literal])* $konst:ident = $value:literal, $name:literal;)*) => {
        impl EventCode {
            $($(#[doc = $doc])* pub const $konst: EventCode = EventCode($value);)*

            /// Every code libzmq 4.3.x defines, in numeric order.
            pub const KNOWN: &'static [EventCode] = &[$(EventCode::$konst,)*];

            /// The libzmq name without the `ZMQ_EVENT_` prefix (`"CONNECTED"`), or `None` for a
            /// code libzmq 4.3.x does not define.
            pub const fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($value => Some($name),)*
                    _ => None,
                }
            }

            /// The code with this libzmq name (with or without the `ZMQ_EVENT_` prefix,
            /// case-insensitive).
            pub fn from_name(name: &str) -> Option<EventCode> {
                let bare = name
                    .get(..10)
                    .filter(|p| p.eq_ignore_ascii_case("ZMQ_EVENT_"))
                    .map_or(name, |_| &name[10..]);
                Self::KNOWN
                    .iter()
                    .copied()
                    .find(|c| c.name().is_some_and(|n| n.eq_ignore_ascii_case(bare)))
            }
        }
    };
}

/// A monitor event code, as the wire carries it (`u16` in v1, `u64` in v2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EventCode(pub u64);

codes! {
    /// `ZMQ_EVENT_CONNECTED` (0x0001): a connect completed; value: fd.
    CONNECTED = 0x0001, "CONNECTED";
    /// `ZMQ_EVENT_CONNECT_DELAYED` (0x0002): a non-blocking connect is under way; value: errno.
    CONNECT_DELAYED = 0x0002, "CONNECT_DELAYED";
    /// `ZMQ_EVENT_CONNECT_RETRIED` (0x0004): a reconnect is scheduled; value: delay in ms.
    CONNECT_RETRIED = 0x0004, "CONNECT_RETRIED";
    /// `ZMQ_EVENT_LISTENING` (0x0008): bound; value: fd.
    LISTENING = 0x0008, "LISTENING";
    /// `ZMQ_EVENT_BIND_FAILED` (0x0010): value: errno.
    BIND_FAILED = 0x0010, "BIND_FAILED";
    /// `ZMQ_EVENT_ACCEPTED` (0x0020): value: fd.
    ACCEPTED = 0x0020, "ACCEPTED";
    /// `ZMQ_EVENT_ACCEPT_FAILED` (0x0040): value: errno.
    ACCEPT_FAILED = 0x0040, "ACCEPT_FAILED";
    /// `ZMQ_EVENT_CLOSED` (0x0080): value: the fd just closed.
    CLOSED = 0x0080, "CLOSED";
    /// `ZMQ_EVENT_CLOSE_FAILED` (0x0100): value: errno.
    CLOSE_FAILED = 0x0100, "CLOSE_FAILED";
    /// `ZMQ_EVENT_DISCONNECTED` (0x0200): value: fd.
    DISCONNECTED = 0x0200, "DISCONNECTED";
    /// `ZMQ_EVENT_MONITOR_STOPPED` (0x0400): the end-of-stream marker; value: 0.
    MONITOR_STOPPED = 0x0400, "MONITOR_STOPPED";
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL` (0x0800): value: errno.
    HANDSHAKE_FAILED_NO_DETAIL = 0x0800, "HANDSHAKE_FAILED_NO_DETAIL";
    /// `ZMQ_EVENT_HANDSHAKE_SUCCEEDED` (0x1000): value: 0.
    HANDSHAKE_SUCCEEDED = 0x1000, "HANDSHAKE_SUCCEEDED";
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL` (0x2000): value: a `ZMQ_PROTOCOL_ERROR_*` code.
    HANDSHAKE_FAILED_PROTOCOL = 0x2000, "HANDSHAKE_FAILED_PROTOCOL";
    /// `ZMQ_EVENT_HANDSHAKE_FAILED_AUTH` (0x4000): value: ZAP status 300, 400 or 500.
    HANDSHAKE_FAILED_AUTH = 0x4000, "HANDSHAKE_FAILED_AUTH";
    /// `ZMQ_EVENT_PIPES_STATS` (0x10000, DRAFT, v2 only): values: egress, ingress.
    PIPES_STATS = 0x10000, "PIPES_STATS";
}

impl fmt::Display for EventCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "UNKNOWN(0x{:x})", self.0),
        }
    }
}

/// A set of event codes, as passed to `zmq_socket_monitor`.
///
/// Use the named constants and `|`, not raw integers: `ALL_V1` is frozen at 0xFFFF, while
/// libzmq's "all" grows with new releases.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub struct EventMask(u64);

impl EventMask {
    /// No events.
    pub const NONE: EventMask = EventMask(0);
    /// Every v1 event (`ZMQ_EVENT_ALL_V1`, 0xFFFF).
    pub const ALL_V1: EventMask = EventMask(0xFFFF);
    /// Every v2 event (`ZMQ_EVENT_ALL_V2`, 0x1FFFF: `ALL_V1 | PIPES_STATS`).
    pub const ALL_V2: EventMask = EventMask(0x1FFFF);

    /// The mask with exactly this code's bit.
    pub const fn of(code: EventCode) -> EventMask {
        EventMask(code.0)
    }

    /// A mask from raw bits (any bits are kept).
    pub const fn from_bits(bits: u64) -> EventMask {
        EventMask(bits)
    }

    /// The raw bits.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Whether every bit of `code` is in the mask (an unknown code of several bits must have
    /// them all).
    pub const fn contains(self, code: EventCode) -> bool {
        code.0 != 0 && self.0 & code.0 == code.0
    }

    /// Whether the mask fits v1 (`zmq_socket_monitor` rejects bits at and above 16).
    pub const fn fits_v1(self) -> bool {
        self.0 <= 0xFFFF
    }

    /// Parses a mask: `all` (every v1 event), a number (`0xFFFF`, `12`), or names joined by `,`
    /// or `|` (`connected,disconnected`, with or without `ZMQ_EVENT_`).
    pub fn parse(text: &str) -> Option<EventMask> {
        let text = text.trim();
        if text.eq_ignore_ascii_case("all") {
            return Some(EventMask::ALL_V1);
        }
        if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
            return u64::from_str_radix(hex, 16).ok().map(EventMask);
        }
        if let Ok(n) = text.parse::<u64>() {
            return Some(EventMask(n));
        }
        let mut mask = EventMask::NONE;
        for part in text.split([',', '|']) {
            mask |= EventMask::of(EventCode::from_name(part.trim())?);
        }
        Some(mask)
    }
}

impl BitOr<EventCode> for EventMask {
    type Output = EventMask;
    fn bitor(self, rhs: EventCode) -> EventMask {
        EventMask(self.0 | rhs.0)
    }
}

impl BitOr for EventMask {
    type Output = EventMask;
    fn bitor(self, rhs: EventMask) -> EventMask {
        EventMask(self.0 | rhs.0)
    }
}

impl BitOrAssign for EventMask {
    fn bitor_assign(&mut self, rhs: EventMask) {
        self.0 |= rhs.0;
    }
}

impl BitOr for EventCode {
    type Output = EventMask;
    fn bitor(self, rhs: EventCode) -> EventMask {
        EventMask(self.0 | rhs.0)
    }
}

impl From<EventCode> for EventMask {
    fn from(code: EventCode) -> EventMask {
        EventMask(code.0)
    }
}

/// An OS error number carried by an event (`CONNECT_DELAYED`, `BIND_FAILED`, …).
///
/// The numbers are the sending host's (98 is `EADDRINUSE` on Linux, 48 on macOS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Errno(pub u32);

impl Errno {
    /// The error as this host's `std::io::Error` (meaningful only for events from this host).
    pub fn to_io_error(self) -> std::io::Error {
        match i32::try_from(self.0) {
            Ok(n) => std::io::Error::from_raw_os_error(n),
            Err(_) => std::io::Error::other(format!("errno {}", self.0)),
        }
    }
}

impl Errno {
    /// The Linux name of the number (`EADDRINUSE` for 98), for the numbers libzmq's monitor
    /// events carry in practice; `None` for others. Only meaningful for events from a Linux host.
    pub const fn linux_name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "EPERM",
            2 => "ENOENT",
            4 => "EINTR",
            9 => "EBADF",
            11 => "EAGAIN",
            12 => "ENOMEM",
            13 => "EACCES",
            22 => "EINVAL",
            23 => "ENFILE",
            24 => "EMFILE",
            32 => "EPIPE",
            98 => "EADDRINUSE",
            99 => "EADDRNOTAVAIL",
            101 => "ENETUNREACH",
            103 => "ECONNABORTED",
            104 => "ECONNRESET",
            105 => "ENOBUFS",
            110 => "ETIMEDOUT",
            111 => "ECONNREFUSED",
            113 => "EHOSTUNREACH",
            115 => "EINPROGRESS",
            _ => return None,
        })
    }
}

/// `errno 98`, followed on Linux by the name (`errno 98 EADDRINUSE`): the numbers are the
/// sending host's, and a live monitor's host is this one.
impl fmt::Display for Errno {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "errno {}", self.0)?;
        match self.linux_name() {
            Some(name) if cfg!(target_os = "linux") => write!(f, " {name}"),
            _ => Ok(()),
        }
    }
}

macro_rules! protocol_errors {
    ($($(#[doc = $doc:literal])* $variant:ident = $value:literal, $name:literal;)*) => {
        /// A `ZMQ_PROTOCOL_ERROR_*` code: the value of `HANDSHAKE_FAILED_PROTOCOL`.
        ///
        /// Codes this version does not name are kept in `Other`, so every value round-trips.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ProtocolError {
            $($(#[doc = $doc])* $variant,)*
            /// A code this version does not name.
            Other(u32),
        }

        impl ProtocolError {
            /// The error for a wire value.
            pub const fn from_code(code: u32) -> ProtocolError {
                match code {
                    $($value => ProtocolError::$variant,)*
                    other => ProtocolError::Other(other),
                }
            }

            /// The wire value.
            pub const fn code(self) -> u32 {
                match self {
                    $(ProtocolError::$variant => $value,)*
                    ProtocolError::Other(code) => code,
                }
            }

            /// The name without the `ZMQ_PROTOCOL_ERROR_` prefix, or `None` for `Other`.
            pub const fn name(self) -> Option<&'static str> {
                match self {
                    $(ProtocolError::$variant => Some($name),)*
                    ProtocolError::Other(_) => None,
                }
            }
        }
    };
}

protocol_errors! {
    /// `ZMTP_UNSPECIFIED` (0x10000000).
    ZmtpUnspecified = 0x1000_0000, "ZMTP_UNSPECIFIED";
    /// `ZMTP_UNEXPECTED_COMMAND` (0x10000001).
    ZmtpUnexpectedCommand = 0x1000_0001, "ZMTP_UNEXPECTED_COMMAND";
    /// `ZMTP_INVALID_SEQUENCE` (0x10000002).
    ZmtpInvalidSequence = 0x1000_0002, "ZMTP_INVALID_SEQUENCE";
    /// `ZMTP_KEY_EXCHANGE` (0x10000003).
    ZmtpKeyExchange = 0x1000_0003, "ZMTP_KEY_EXCHANGE";
    /// `ZMTP_MALFORMED_COMMAND_UNSPECIFIED` (0x10000011).
    ZmtpMalformedCommandUnspecified = 0x1000_0011, "ZMTP_MALFORMED_COMMAND_UNSPECIFIED";
    /// `ZMTP_MALFORMED_COMMAND_MESSAGE` (0x10000012).
    ZmtpMalformedCommandMessage = 0x1000_0012, "ZMTP_MALFORMED_COMMAND_MESSAGE";
    /// `ZMTP_MALFORMED_COMMAND_HELLO` (0x10000013).
    ZmtpMalformedCommandHello = 0x1000_0013, "ZMTP_MALFORMED_COMMAND_HELLO";
    /// `ZMTP_MALFORMED_COMMAND_INITIATE` (0x10000014).
    ZmtpMalformedCommandInitiate = 0x1000_0014, "ZMTP_MALFORMED_COMMAND_INITIATE";
    /// `ZMTP_MALFORMED_COMMAND_ERROR` (0x10000015).
    ZmtpMalformedCommandError = 0x1000_0015, "ZMTP_MALFORMED_COMMAND_ERROR";
    /// `ZMTP_MALFORMED_COMMAND_READY` (0x10000016).
    ZmtpMalformedCommandReady = 0x1000_0016, "ZMTP_MALFORMED_COMMAND_READY";
    /// `ZMTP_MALFORMED_COMMAND_WELCOME` (0x10000017).
    ZmtpMalformedCommandWelcome = 0x1000_0017, "ZMTP_MALFORMED_COMMAND_WELCOME";
    /// `ZMTP_INVALID_METADATA` (0x10000018).
    ZmtpInvalidMetadata = 0x1000_0018, "ZMTP_INVALID_METADATA";
    /// `ZMTP_CRYPTOGRAPHIC` (0x11000001).
    ZmtpCryptographic = 0x1100_0001, "ZMTP_CRYPTOGRAPHIC";
    /// `ZMTP_MECHANISM_MISMATCH` (0x11000002): the peer offered another security mechanism.
    ZmtpMechanismMismatch = 0x1100_0002, "ZMTP_MECHANISM_MISMATCH";
    /// `ZAP_UNSPECIFIED` (0x20000000).
    ZapUnspecified = 0x2000_0000, "ZAP_UNSPECIFIED";
    /// `ZAP_MALFORMED_REPLY` (0x20000001).
    ZapMalformedReply = 0x2000_0001, "ZAP_MALFORMED_REPLY";
    /// `ZAP_BAD_REQUEST_ID` (0x20000002).
    ZapBadRequestId = 0x2000_0002, "ZAP_BAD_REQUEST_ID";
    /// `ZAP_BAD_VERSION` (0x20000003).
    ZapBadVersion = 0x2000_0003, "ZAP_BAD_VERSION";
    /// `ZAP_INVALID_STATUS_CODE` (0x20000004).
    ZapInvalidStatusCode = 0x2000_0004, "ZAP_INVALID_STATUS_CODE";
    /// `ZAP_INVALID_METADATA` (0x20000005).
    ZapInvalidMetadata = 0x2000_0005, "ZAP_INVALID_METADATA";
    /// `WS_UNSPECIFIED` (0x30000000; missing from the 4.3.5 man page).
    WsUnspecified = 0x3000_0000, "WS_UNSPECIFIED";
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(n) => f.write_str(n),
            None => write!(f, "0x{:08x}", self.code()),
        }
    }
}

/// A ZAP status code: the value of `HANDSHAKE_FAILED_AUTH` (300, 400 or 500 from libzmq; any
/// other value is kept as it came).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ZapStatus(pub u32);

impl ZapStatus {
    /// 300: temporary failure.
    pub const TEMPORARY_FAILURE: ZapStatus = ZapStatus(300);
    /// 400: authentication denied.
    pub const DENIED: ZapStatus = ZapStatus(400);
    /// 500: internal error.
    pub const INTERNAL_ERROR: ZapStatus = ZapStatus(500);

    /// The meaning of the three statuses libzmq sends.
    pub const fn meaning(self) -> Option<&'static str> {
        match self.0 {
            300 => Some("temporary failure"),
            400 => Some("denied"),
            500 => Some("internal error"),
            _ => None,
        }
    }
}

impl fmt::Display for ZapStatus {
    /// `400 denied`, or the bare number for a status libzmq does not send.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.meaning() {
            Some(m) => write!(f, "{} {m}", self.0),
            None => write!(f, "{}", self.0),
        }
    }
}

/// One monitor event with its typed value.
///
/// Decoding is total and lossless: a known code whose value does not fit its variant
/// (`HANDSHAKE_SUCCEEDED` with 7, `CONNECTED` with two values) becomes [`Unknown`], which keeps
/// the code and every value, so `from_raw(e.code(), &e.values())` gives `e` back.
///
/// [`Unknown`]: MonitorEvent::Unknown
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MonitorEvent {
    /// `CONNECTED`: a connect completed.
    Connected {
        /// The new connection's file descriptor (a 64-bit `SOCKET` on Windows).
        fd: u64,
    },
    /// `CONNECT_DELAYED`: a non-blocking connect is under way.
    ConnectDelayed {
        /// The connect's errno: `EINPROGRESS` (115 on Linux). The man page says "unspecified".
        errno: Errno,
    },
    /// `CONNECT_RETRIED`: a reconnect is scheduled.
    ConnectRetried {
        /// The delay before the next attempt in ms: the interval plus jitter in
        /// `[0, RECONNECT_IVL)`.
        interval_ms: u64,
    },
    /// `LISTENING`: bound and listening.
    Listening {
        /// The listener's file descriptor.
        fd: u64,
    },
    /// `BIND_FAILED`: a bind failed; the endpoint has no scheme.
    BindFailed {
        /// The bind's errno (98 `EADDRINUSE` on Linux).
        errno: Errno,
    },
    /// `ACCEPTED`: a connection was accepted.
    Accepted {
        /// The accepted connection's file descriptor.
        fd: u64,
    },
    /// `ACCEPT_FAILED`: accept failed.
    AcceptFailed {
        /// The errno (24 `EMFILE` when out of descriptors).
        errno: Errno,
    },
    /// `CLOSED`: a descriptor was closed.
    Closed {
        /// The descriptor just closed.
        fd: u64,
    },
    /// `CLOSE_FAILED`: closing failed (only at the close of a wildcard `ipc://*` listener).
    CloseFailed {
        /// The errno.
        errno: Errno,
    },
    /// `DISCONNECTED`: a connection went away.
    Disconnected {
        /// The connection's file descriptor.
        fd: u64,
    },
    /// `MONITOR_STOPPED`: the monitor stream ended (value 0).
    MonitorStopped,
    /// `HANDSHAKE_FAILED_NO_DETAIL`: the ZMTP handshake failed without detail.
    HandshakeFailedNoDetail {
        /// The errno at failure (32 `EPIPE` when the peer closed).
        errno: Errno,
    },
    /// `HANDSHAKE_SUCCEEDED`: the peer is ready (value 0).
    HandshakeSucceeded,
    /// `HANDSHAKE_FAILED_PROTOCOL`: the handshake broke the protocol.
    HandshakeFailedProtocol(ProtocolError),
    /// `HANDSHAKE_FAILED_AUTH`: ZAP refused the peer.
    HandshakeFailedAuth {
        /// The ZAP status.
        status: ZapStatus,
    },
    /// `PIPES_STATS` (DRAFT, v2 only): queue counts of one pipe.
    PipesStats {
        /// Messages queued outbound.
        egress: u64,
        /// Messages queued inbound.
        ingress: u64,
    },
    /// Any code or shape without a typed variant.
    Unknown {
        /// The code.
        code: EventCode,
        /// The values, as many as the wire carried.
        values: Values,
    },
}

impl MonitorEvent {
    /// The typed event for a code and its values. Total: shapes without a typed variant give
    /// [`MonitorEvent::Unknown`].
    pub fn from_raw(code: EventCode, values: &[u64]) -> MonitorEvent {
        let errno = |v: u64| u32::try_from(v).ok().map(Errno);
        let typed = match (code, values) {
            (EventCode::CONNECTED, &[fd]) => Some(MonitorEvent::Connected { fd }),
            (EventCode::CONNECT_DELAYED, &[v]) => {
                errno(v).map(|errno| MonitorEvent::ConnectDelayed { errno })
            }
            (EventCode::CONNECT_RETRIED, &[interval_ms]) => {
                Some(MonitorEvent::ConnectRetried { interval_ms })
            }
            (EventCode::LISTENING, &[fd]) => Some(MonitorEvent::Listening { fd }),
            (EventCode::BIND_FAILED, &[v]) => {
                errno(v).map(|errno| MonitorEvent::BindFailed { errno })
            }
            (EventCode::ACCEPTED, &[fd]) => Some(MonitorEvent::Accepted { fd }),
            (EventCode::ACCEPT_FAILED, &[v]) => {
                errno(v).map(|errno| MonitorEvent::AcceptFailed { errno })
            }
            (EventCode::CLOSED, &[fd]) => Some(MonitorEvent::Closed { fd }),
            (EventCode::CLOSE_FAILED, &[v]) => {
                errno(v).map(|errno| MonitorEvent::CloseFailed { errno })
            }
            (EventCode::DISCONNECTED, &[fd]) => Some(MonitorEvent::Disconnected { fd }),
            (EventCode::MONITOR_STOPPED, &[0]) => Some(MonitorEvent::MonitorStopped),
            (EventCode::HANDSHAKE_FAILED_NO_DETAIL, &[v]) => {
                errno(v).map(|errno| MonitorEvent::HandshakeFailedNoDetail { errno })
            }
            (EventCode::HANDSHAKE_SUCCEEDED, &[0]) => Some(MonitorEvent::HandshakeSucceeded),
            (EventCode::HANDSHAKE_FAILED_PROTOCOL, &[v]) => u32::try_from(v)
                .ok()
                .map(|c| MonitorEvent::HandshakeFailedProtocol(ProtocolError::from_code(c))),
            (EventCode::HANDSHAKE_FAILED_AUTH, &[v]) => {
                u32::try_from(v)
                    .ok()
                    .map(|s| MonitorEvent::HandshakeFailedAuth {
                        status: ZapStatus(s),
                    })
            }
            (EventCode::PIPES_STATS, &[egress, ingress]) => {
                Some(MonitorEvent::PipesStats { egress, ingress })
            }
            _ => None,
        };
        typed.unwrap_or_else(|| MonitorEvent::Unknown {
            code,
            values: Values::from_slice(values),
        })
    }

    /// The event's code.
    pub fn code(&self) -> EventCode {
        match self {
            MonitorEvent::Connected { .. } => EventCode::CONNECTED,
            MonitorEvent::ConnectDelayed { .. } => EventCode::CONNECT_DELAYED,
            MonitorEvent::ConnectRetried { .. } => EventCode::CONNECT_RETRIED,
            MonitorEvent::Listening { .. } => EventCode::LISTENING,
            MonitorEvent::BindFailed { .. } => EventCode::BIND_FAILED,
            MonitorEvent::Accepted { .. } => EventCode::ACCEPTED,
            MonitorEvent::AcceptFailed { .. } => EventCode::ACCEPT_FAILED,
            MonitorEvent::Closed { .. } => EventCode::CLOSED,
            MonitorEvent::CloseFailed { .. } => EventCode::CLOSE_FAILED,
            MonitorEvent::Disconnected { .. } => EventCode::DISCONNECTED,
            MonitorEvent::MonitorStopped => EventCode::MONITOR_STOPPED,
            MonitorEvent::HandshakeFailedNoDetail { .. } => EventCode::HANDSHAKE_FAILED_NO_DETAIL,
            MonitorEvent::HandshakeSucceeded => EventCode::HANDSHAKE_SUCCEEDED,
            MonitorEvent::HandshakeFailedProtocol(_) => EventCode::HANDSHAKE_FAILED_PROTOCOL,
            MonitorEvent::HandshakeFailedAuth { .. } => EventCode::HANDSHAKE_FAILED_AUTH,
            MonitorEvent::PipesStats { .. } => EventCode::PIPES_STATS,
            MonitorEvent::Unknown { code, .. } => *code,
        }
    }

    /// The event's values, as the wire carries them.
    pub fn values(&self) -> Values {
        let one = |v: u64| Values::from_slice(&[v]);
        match self {
            MonitorEvent::Connected { fd }
            | MonitorEvent::Listening { fd }
            | MonitorEvent::Accepted { fd }
            | MonitorEvent::Closed { fd }
            | MonitorEvent::Disconnected { fd } => one(*fd),
            MonitorEvent::ConnectDelayed { errno }
            | MonitorEvent::BindFailed { errno }
            | MonitorEvent::AcceptFailed { errno }
            | MonitorEvent::CloseFailed { errno }
            | MonitorEvent::HandshakeFailedNoDetail { errno } => one(errno.0.into()),
            MonitorEvent::ConnectRetried { interval_ms } => one(*interval_ms),
            MonitorEvent::MonitorStopped | MonitorEvent::HandshakeSucceeded => one(0),
            MonitorEvent::HandshakeFailedProtocol(e) => one(e.code().into()),
            MonitorEvent::HandshakeFailedAuth { status } => one(status.0.into()),
            MonitorEvent::PipesStats { egress, ingress } => {
                Values::from_slice(&[*egress, *ingress])
            }
            MonitorEvent::Unknown { values, .. } => values.clone(),
        }
    }

    /// Whether this is the end-of-stream marker `MONITOR_STOPPED` (with any value).
    pub fn is_monitor_stopped(&self) -> bool {
        self.code() == EventCode::MONITOR_STOPPED
    }
}

/// One short line: what happened, with its value (`connected, fd 25`,
/// `handshake failed: ZMTP_MECHANISM_MISMATCH`, `bind failed, errno 98 EADDRINUSE`).
impl fmt::Display for MonitorEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MonitorEvent::Connected { fd } => write!(f, "connected, fd {fd}"),
            MonitorEvent::ConnectDelayed { errno } => write!(f, "connect delayed, {errno}"),
            MonitorEvent::ConnectRetried { interval_ms } => {
                write!(f, "connect retried, next in {interval_ms} ms")
            }
            MonitorEvent::Listening { fd } => write!(f, "listening, fd {fd}"),
            MonitorEvent::BindFailed { errno } => write!(f, "bind failed, {errno}"),
            MonitorEvent::Accepted { fd } => write!(f, "accepted, fd {fd}"),
            MonitorEvent::AcceptFailed { errno } => write!(f, "accept failed, {errno}"),
            MonitorEvent::Closed { fd } => write!(f, "closed, fd {fd}"),
            MonitorEvent::CloseFailed { errno } => write!(f, "close failed, {errno}"),
            MonitorEvent::Disconnected { fd } => write!(f, "disconnected, fd {fd}"),
            MonitorEvent::MonitorStopped => f.write_str("monitor stopped"),
            MonitorEvent::HandshakeFailedNoDetail { errno } => {
                write!(f, "handshake failed, {errno}")
            }
            MonitorEvent::HandshakeSucceeded => f.write_str("handshake succeeded"),
            MonitorEvent::HandshakeFailedProtocol(e) => write!(f, "handshake failed: {e}"),
            MonitorEvent::HandshakeFailedAuth { status } => {
                write!(f, "handshake failed: ZAP {status}")
            }
            MonitorEvent::PipesStats { egress, ingress } => {
                write!(f, "pipes stats: egress {egress}, ingress {ingress}")
            }
            MonitorEvent::Unknown { code, values } => {
                write!(f, "{code} with values {:?}", values.as_slice())
            }
        }
    }
}

/// Writes `endpoint` as text (invalid UTF-8 as U+FFFD), without allocating when it is UTF-8.
fn write_endpoint(f: &mut fmt::Formatter<'_>, endpoint: &[u8]) -> fmt::Result {
    for chunk in endpoint.utf8_chunks() {
        f.write_str(chunk.valid())?;
        if !chunk.invalid().is_empty() {
            f.write_str("\u{FFFD}")?;
        }
    }
    Ok(())
}

/// `<endpoint> <event>`, or the event alone when the endpoint is empty.
fn fmt_v1(f: &mut fmt::Formatter<'_>, event: &MonitorEvent, endpoint: &[u8]) -> fmt::Result {
    if !endpoint.is_empty() {
        write_endpoint(f, endpoint)?;
        f.write_str(" ")?;
    }
    write!(f, "{event}")
}

/// `<remote> <event>, local <local>`; an empty endpoint is left out.
fn fmt_v2(
    f: &mut fmt::Formatter<'_>,
    event: &MonitorEvent,
    local: &[u8],
    remote: &[u8],
) -> fmt::Result {
    let (subject, other) = if remote.is_empty() {
        (local, &[][..])
    } else {
        (remote, local)
    };
    fmt_v1(f, event, subject)?;
    if !other.is_empty() {
        f.write_str(", local ")?;
        write_endpoint(f, other)?;
    }
    Ok(())
}

/// A v1 message (two frames) with a borrowed endpoint: what [`decode_v1`] returns without
/// allocating.
///
/// [`decode_v1`]: crate::codec::decode_v1
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct V1MessageRef<'a> {
    /// The event.
    pub event: MonitorEvent,
    /// The one endpoint v1 carries: the bound address on the bind side, the connect address on
    /// the connect side; empty for `MONITOR_STOPPED`; no scheme for `BIND_FAILED`.
    pub endpoint: &'a [u8],
}

impl<'a> V1MessageRef<'a> {
    /// The endpoint as text, or an error naming the first byte that is not UTF-8.
    pub fn endpoint_str(&self) -> Result<&'a str, crate::error::DecodeError> {
        crate::codec::utf8_endpoint(self.endpoint, 1)
    }

    /// The owned message.
    pub fn to_owned(&self) -> V1Message {
        V1Message {
            event: self.event.clone(),
            endpoint: self.endpoint.to_vec(),
        }
    }
}

/// A v1 message (two frames), owned.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct V1Message {
    /// The event.
    pub event: MonitorEvent,
    /// The endpoint bytes (opaque; ASCII in practice).
    pub endpoint: Vec<u8>,
}

impl V1Message {
    /// A message from an event and an endpoint.
    pub fn new(event: MonitorEvent, endpoint: impl Into<Vec<u8>>) -> V1Message {
        V1Message {
            event,
            endpoint: endpoint.into(),
        }
    }

    /// The borrowed view.
    pub fn view(&self) -> V1MessageRef<'_> {
        V1MessageRef {
            event: self.event.clone(),
            endpoint: &self.endpoint,
        }
    }

    /// The endpoint as text (lossy: invalid UTF-8 becomes U+FFFD).
    pub fn endpoint_lossy(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.endpoint)
    }
}

/// A v2 message (`n + 4` frames) with borrowed endpoints.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct V2MessageRef<'a> {
    /// The event.
    pub event: MonitorEvent,
    /// The local endpoint (may be empty).
    pub local: &'a [u8],
    /// The remote endpoint (may be empty).
    pub remote: &'a [u8],
}

impl V2MessageRef<'_> {
    /// The owned message.
    pub fn to_owned(&self) -> V2Message {
        V2Message {
            event: self.event.clone(),
            local: self.local.to_vec(),
            remote: self.remote.to_vec(),
        }
    }
}

/// A v2 message (`n + 4` frames), owned.
///
/// v1 and v2 are separate types: v1 does not say which side sent an event, so its one endpoint
/// cannot be placed as local or remote without guessing.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct V2Message {
    /// The event.
    pub event: MonitorEvent,
    /// The local endpoint (may be empty).
    pub local: Vec<u8>,
    /// The remote endpoint (may be empty).
    pub remote: Vec<u8>,
}

impl V2Message {
    /// A message from an event and its endpoints.
    pub fn new(event: MonitorEvent, local: impl Into<Vec<u8>>, remote: impl Into<Vec<u8>>) -> Self {
        V2Message {
            event,
            local: local.into(),
            remote: remote.into(),
        }
    }

    /// The borrowed view.
    pub fn view(&self) -> V2MessageRef<'_> {
        V2MessageRef {
            event: self.event.clone(),
            local: &self.local,
            remote: &self.remote,
        }
    }
}

/// `tcp://127.0.0.1:5555 connected, fd 25` (the event alone when the endpoint is empty).
impl fmt::Display for V1MessageRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_v1(f, &self.event, self.endpoint)
    }
}

/// As for [`V1MessageRef`].
impl fmt::Display for V1Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_v1(f, &self.event, &self.endpoint)
    }
}

/// `<remote> <event>, local <local>` (`tcp://127.0.0.1:37072 accepted, fd 26, local
/// tcp://127.0.0.1:46187`); with no remote endpoint, `<local> <event>`.
impl fmt::Display for V2MessageRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_v2(f, &self.event, self.local, self.remote)
    }
}

/// As for [`V2MessageRef`].
impl fmt::Display for V2Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_v2(f, &self.event, &self.local, &self.remote)
    }
}

/// A monitor message of either version, owned: what [`event::from_event`] returns.
///
/// The versions are told apart by their frame count alone (v1: exactly 2; v2: at least 4), so
/// [`codec::decode`] needs no version argument.
///
/// [`event::from_event`]: crate::event::from_event
/// [`codec::decode`]: crate::codec::decode
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Message {
    /// A v1 message.
    V1(V1Message),
    /// A v2 message.
    V2(V2Message),
}

/// A monitor message of either version, borrowing its endpoints: what [`codec::decode`]
/// returns.
///
/// [`codec::decode`]: crate::codec::decode
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MessageRef<'a> {
    /// A v1 message.
    V1(V1MessageRef<'a>),
    /// A v2 message.
    V2(V2MessageRef<'a>),
}

impl Message {
    /// The event.
    pub fn event(&self) -> &MonitorEvent {
        match self {
            Message::V1(m) => &m.event,
            Message::V2(m) => &m.event,
        }
    }

    /// The monitor format version: 1 or 2.
    pub fn version(&self) -> u8 {
        match self {
            Message::V1(_) => 1,
            Message::V2(_) => 2,
        }
    }

    /// The borrowed view.
    pub fn view(&self) -> MessageRef<'_> {
        match self {
            Message::V1(m) => MessageRef::V1(m.view()),
            Message::V2(m) => MessageRef::V2(m.view()),
        }
    }

    /// The v1 message, if it is one.
    pub fn into_v1(self) -> Option<V1Message> {
        match self {
            Message::V1(m) => Some(m),
            Message::V2(_) => None,
        }
    }

    /// The v2 message, if it is one.
    pub fn into_v2(self) -> Option<V2Message> {
        match self {
            Message::V2(m) => Some(m),
            Message::V1(_) => None,
        }
    }
}

impl MessageRef<'_> {
    /// The event.
    pub fn event(&self) -> &MonitorEvent {
        match self {
            MessageRef::V1(m) => &m.event,
            MessageRef::V2(m) => &m.event,
        }
    }

    /// The monitor format version: 1 or 2.
    pub fn version(&self) -> u8 {
        match self {
            MessageRef::V1(_) => 1,
            MessageRef::V2(_) => 2,
        }
    }

    /// The owned message.
    pub fn to_owned(&self) -> Message {
        match self {
            MessageRef::V1(m) => Message::V1(m.to_owned()),
            MessageRef::V2(m) => Message::V2(m.to_owned()),
        }
    }
}

impl From<V1Message> for Message {
    fn from(m: V1Message) -> Message {
        Message::V1(m)
    }
}

impl From<V2Message> for Message {
    fn from(m: V2Message) -> Message {
        Message::V2(m)
    }
}

impl<'a> From<V1MessageRef<'a>> for MessageRef<'a> {
    fn from(m: V1MessageRef<'a>) -> MessageRef<'a> {
        MessageRef::V1(m)
    }
}

impl<'a> From<V2MessageRef<'a>> for MessageRef<'a> {
    fn from(m: V2MessageRef<'a>) -> MessageRef<'a> {
        MessageRef::V2(m)
    }
}

/// As the message of its version.
impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Message::V1(m) => m.fmt(f),
            Message::V2(m) => m.fmt(f),
        }
    }
}

/// As the message of its version.
impl fmt::Display for MessageRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MessageRef::V1(m) => m.fmt(f),
            MessageRef::V2(m) => m.fmt(f),
        }
    }
}
