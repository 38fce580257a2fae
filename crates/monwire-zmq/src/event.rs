//! Mapping to and from [`monwire_event::Event`].
//!
//! [`to_event`] takes any message, owned or borrowed, of either version (anything that is
//! [`ToEvent`]: [`V1Message`], [`V1MessageRef`], [`V2Message`], [`V2MessageRef`], [`Message`],
//! [`MessageRef`]), so a reader can build the event straight from the frames it decoded,
//! without an owned message in between. [`from_event`] gives back a [`Message`] of the version
//! the event names (`zmq.version`); `V1Message::try_from(&event)` and
//! `V2Message::try_from(&event)` ask for one version.
//!
//! `message → Event → message` is the identity for both versions (the lossless law, proven by
//! proptest in `monwire-tests`). The summary is derived and never read back.
//!
//! ```
//! use monwire_zmq::event::{from_event, summary_keys, to_event};
//! use monwire_zmq::{Message, MonitorEvent, V1Message};
//!
//! let msg = V1Message::new(MonitorEvent::Connected { fd: 25 }, "tcp://127.0.0.1:5555");
//! let event = to_event(&msg);
//! assert_eq!(event.summary.as_deref(), Some("tcp://127.0.0.1:5555 connected, fd 25"));
//! assert!(summary_keys(&event).contains(&"zmq.fd"));
//! assert_eq!(from_event(&event)?, Message::V1(msg));
//! # Ok::<(), monwire_zmq::EventError>(())
//! ```
//!
//! | Event field | value |
//! |---|---|
//! | `protocol` | `zmq` |
//! | `subject` | v1: the endpoint; v2: the remote endpoint, or the local one when remote is empty (lossy text) |
//! | `name` | the libzmq name without `ZMQ_EVENT_` (`CONNECTED`), `UNKNOWN` for other codes |
//! | `summary` | the message's `Display`: `tcp://127.0.0.1:5555 connected, fd 25`, `tcp://127.0.0.1:5555 handshake failed: ZMTP_MECHANISM_MISMATCH` |
//! | `kind`, `severity` | the table below |
//!
//! Attribute keys: `zmq.version` (1 or 2), `zmq.code`, then `zmq.endpoint` (v1) or `zmq.local`
//! and `zmq.remote` (v2) as text (bytes when not UTF-8), then the typed value: `zmq.fd`,
//! `zmq.errno`, `zmq.interval_ms`, `zmq.protocol_error` (name) with `zmq.protocol_error_code`,
//! `zmq.zap_status`, `zmq.egress` and `zmq.ingress`; for shapes without a typed variant,
//! `zmq.values` (a list).
//!
//! | libzmq event | Kind | Severity |
//! |---|---|---|
//! | `LISTENING` | `listening` | INFO |
//! | `CONNECT_DELAYED`, `CONNECT_RETRIED` | `connecting` | DEBUG |
//! | `CONNECTED`, `ACCEPTED` | `connected` | INFO |
//! | `HANDSHAKE_SUCCEEDED` | `ready` | INFO |
//! | `DISCONNECTED` | `disconnected` | INFO |
//! | `CLOSED` | `closed` | DEBUG |
//! | `BIND_FAILED`, `ACCEPT_FAILED` | `failed` | ERROR |
//! | `CLOSE_FAILED`, `HANDSHAKE_FAILED_*` | `failed` | WARN |
//! | `PIPES_STATS` | `stats` | DEBUG |
//! | `MONITOR_STOPPED` | `end_of_stream` | INFO |
//! | anything else | `other` | INFO |

use monwire_event::{Attributes, Event, Kind, Protocol, Severity, Value};

use crate::error::EventError;
use crate::message::{
    EventCode, Message, MessageRef, MonitorEvent, V1Message, V1MessageRef, V2Message, V2MessageRef,
};

/// The normalized kind and severity of an event code.
pub fn classify(code: EventCode) -> (Kind, Severity) {
    use Kind::*;
    match code {
        EventCode::LISTENING => (Listening, Severity::Info),
        EventCode::CONNECT_DELAYED | EventCode::CONNECT_RETRIED => (Connecting, Severity::Debug),
        EventCode::CONNECTED | EventCode::ACCEPTED => (Connected, Severity::Info),
        EventCode::HANDSHAKE_SUCCEEDED => (Ready, Severity::Info),
        EventCode::DISCONNECTED => (Disconnected, Severity::Info),
        EventCode::CLOSED => (Closed, Severity::Debug),
        EventCode::BIND_FAILED | EventCode::ACCEPT_FAILED => (Failed, Severity::Error),
        EventCode::CLOSE_FAILED
        | EventCode::HANDSHAKE_FAILED_NO_DETAIL
        | EventCode::HANDSHAKE_FAILED_PROTOCOL
        | EventCode::HANDSHAKE_FAILED_AUTH => (Failed, Severity::Warn),
        EventCode::PIPES_STATS => (Stats, Severity::Debug),
        EventCode::MONITOR_STOPPED => (EndOfStream, Severity::Info),
        _ => (Other, Severity::Info),
    }
}

fn endpoint_from(v: &Value, key: &'static str) -> Result<Vec<u8>, EventError> {
    match v {
        Value::Str(s) => Ok(s.as_bytes().to_vec()),
        Value::Bytes(b) => Ok(b.clone()),
        _ => Err(EventError::Invalid(key)),
    }
}

/// Fills `e` with the fields every zmq event has, reusing its allocations: `source` and
/// `observed` are left as they are, everything else is overwritten. The attributes are
/// cleared; `spare` receives the text buffers of the endpoint attributes they held, for reuse.
fn base_into(
    e: &mut Event,
    event: &MonitorEvent,
    version: u64,
    subject: &[u8],
    summary: &dyn std::fmt::Display,
    spare: &mut Spare,
) {
    use std::fmt::Write;
    let code = event.code();
    let (kind, severity) = classify(code);
    e.protocol = Protocol::Zmq;
    e.kind = kind;
    e.severity = severity;
    e.time = None;
    e.name.clear();
    e.name.push_str(code.name().unwrap_or("UNKNOWN"));
    e.subject.clear();
    push_lossy(&mut e.subject, subject);
    let text = e.summary.get_or_insert_with(String::new);
    text.clear();
    let _ = write!(text, "{summary}"); // writing to a String cannot fail
    spare.take_from(&mut e.attributes);
    e.attributes.clear();
    e.attributes.push_unchecked("zmq.version", version);
    e.attributes.push_unchecked("zmq.code", code.0);
}

/// `bytes` as text, invalid UTF-8 replaced as `String::from_utf8_lossy` does.
fn push_lossy(out: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(s) => out.push_str(s),
        Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
    }
}

/// Text buffers taken from the endpoint attributes of an event being refilled (on the stack:
/// taking them allocates nothing).
#[derive(Default)]
struct Spare {
    bufs: [String; 3],
    len: usize,
}

impl Spare {
    const KEYS: [&'static str; 3] = ["zmq.endpoint", "zmq.local", "zmq.remote"];

    fn take_from(&mut self, attrs: &mut Attributes) {
        for key in Self::KEYS {
            if let Some(Value::Str(s)) = attrs.get_mut(key)
                && let Some(slot) = self.bufs.get_mut(self.len)
            {
                *slot = std::mem::take(s);
                self.len += 1;
            }
        }
    }

    /// The endpoint's value: text in a reused buffer when it is UTF-8, else bytes.
    fn endpoint_value(&mut self, bytes: &[u8]) -> Value {
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                let mut buf = match self.len.checked_sub(1) {
                    Some(i) => {
                        self.len = i;
                        self.bufs.get_mut(i).map(std::mem::take).unwrap_or_default()
                    }
                    None => String::new(),
                };
                buf.clear();
                buf.push_str(s);
                Value::Str(buf)
            }
            Err(_) => Value::from(bytes),
        }
    }
}

fn typed_attrs(event: &MonitorEvent, attrs: &mut Attributes) {
    // Every key is new to `attrs` (base and the endpoint keys are distinct from these).
    match event {
        MonitorEvent::Connected { fd }
        | MonitorEvent::Listening { fd }
        | MonitorEvent::Accepted { fd }
        | MonitorEvent::Closed { fd }
        | MonitorEvent::Disconnected { fd } => attrs.push_unchecked("zmq.fd", *fd),
        MonitorEvent::ConnectDelayed { errno }
        | MonitorEvent::BindFailed { errno }
        | MonitorEvent::AcceptFailed { errno }
        | MonitorEvent::CloseFailed { errno }
        | MonitorEvent::HandshakeFailedNoDetail { errno } => {
            attrs.push_unchecked("zmq.errno", errno.0)
        }
        MonitorEvent::ConnectRetried { interval_ms } => {
            attrs.push_unchecked("zmq.interval_ms", *interval_ms)
        }
        MonitorEvent::MonitorStopped | MonitorEvent::HandshakeSucceeded => {}
        MonitorEvent::HandshakeFailedProtocol(e) => {
            attrs.push_unchecked("zmq.protocol_error", e.to_string());
            attrs.push_unchecked("zmq.protocol_error_code", e.code());
        }
        MonitorEvent::HandshakeFailedAuth { status } => {
            attrs.push_unchecked("zmq.zap_status", status.0)
        }
        MonitorEvent::PipesStats { egress, ingress } => {
            attrs.push_unchecked("zmq.egress", *egress);
            attrs.push_unchecked("zmq.ingress", *ingress);
        }
        MonitorEvent::Unknown { values, .. } => attrs.push_unchecked(
            "zmq.values",
            values.iter().map(|&v| Value::UInt(v)).collect::<Vec<_>>(),
        ),
        // `MonitorEvent` is ours and exhaustive here; new variants must add their attributes.
    }
}

fn v1_event_into(msg: &V1MessageRef<'_>, e: &mut Event) {
    let mut spare = Spare::default();
    base_into(e, &msg.event, 1, msg.endpoint, msg, &mut spare);
    let endpoint = spare.endpoint_value(msg.endpoint);
    e.attributes.push_unchecked("zmq.endpoint", endpoint);
    typed_attrs(&msg.event, &mut e.attributes);
}

fn v2_event_into(msg: &V2MessageRef<'_>, e: &mut Event) {
    let subject = if msg.remote.is_empty() {
        msg.local
    } else {
        msg.remote
    };
    let mut spare = Spare::default();
    base_into(e, &msg.event, 2, subject, msg, &mut spare);
    let local = spare.endpoint_value(msg.local);
    e.attributes.push_unchecked("zmq.local", local);
    let remote = spare.endpoint_value(msg.remote);
    e.attributes.push_unchecked("zmq.remote", remote);
    typed_attrs(&msg.event, &mut e.attributes);
}

/// A fresh event, filled by `fill`, with room for the summary and attributes made once.
fn fresh(endpoints: usize, fill: impl FnOnce(&mut Event)) -> Event {
    let mut e = Event::new(Protocol::Zmq, Kind::Other, String::new());
    e.summary = Some(String::with_capacity(endpoints + 48));
    e.attributes = Attributes::with_capacity(6);
    fill(&mut e);
    e
}

fn v1_event(msg: &V1MessageRef<'_>) -> Event {
    fresh(msg.endpoint.len(), |e| v1_event_into(msg, e))
}

fn v2_event(msg: &V2MessageRef<'_>) -> Event {
    fresh(msg.local.len() + msg.remote.len() + 8, |e| {
        v2_event_into(msg, e)
    })
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::V1Message {}
    impl Sealed for crate::V1MessageRef<'_> {}
    impl Sealed for crate::V2Message {}
    impl Sealed for crate::V2MessageRef<'_> {}
    impl Sealed for crate::Message {}
    impl Sealed for crate::MessageRef<'_> {}
}

/// A monitor message that maps to an [`Event`]: every message type of this crate, owned or
/// borrowed, of either version. Sealed; use [`to_event`].
pub trait ToEvent: sealed::Sealed {
    /// The event for this message (see the [module docs](self) for the mapping).
    fn to_event(&self) -> Event;

    /// This message's event written over `event`, reusing its allocations; see
    /// [`to_event_into`].
    fn to_event_into(&self, event: &mut Event);
}

impl ToEvent for V1MessageRef<'_> {
    fn to_event(&self) -> Event {
        v1_event(self)
    }
    fn to_event_into(&self, event: &mut Event) {
        v1_event_into(self, event)
    }
}

impl ToEvent for V1Message {
    fn to_event(&self) -> Event {
        v1_event(&self.view())
    }
    fn to_event_into(&self, event: &mut Event) {
        v1_event_into(&self.view(), event)
    }
}

impl ToEvent for V2MessageRef<'_> {
    fn to_event(&self) -> Event {
        v2_event(self)
    }
    fn to_event_into(&self, event: &mut Event) {
        v2_event_into(self, event)
    }
}

impl ToEvent for V2Message {
    fn to_event(&self) -> Event {
        v2_event(&self.view())
    }
    fn to_event_into(&self, event: &mut Event) {
        v2_event_into(&self.view(), event)
    }
}

impl ToEvent for MessageRef<'_> {
    fn to_event(&self) -> Event {
        match self {
            MessageRef::V1(m) => v1_event(m),
            MessageRef::V2(m) => v2_event(m),
        }
    }
    fn to_event_into(&self, event: &mut Event) {
        match self {
            MessageRef::V1(m) => v1_event_into(m, event),
            MessageRef::V2(m) => v2_event_into(m, event),
        }
    }
}

impl ToEvent for Message {
    fn to_event(&self) -> Event {
        match self {
            Message::V1(m) => m.to_event(),
            Message::V2(m) => m.to_event(),
        }
    }
    fn to_event_into(&self, event: &mut Event) {
        match self {
            Message::V1(m) => m.to_event_into(event),
            Message::V2(m) => m.to_event_into(event),
        }
    }
}

/// The event for a monitor message of either version, owned or borrowed.
pub fn to_event<M: ToEvent + ?Sized>(msg: &M) -> Event {
    msg.to_event()
}

/// The event for `msg` written over `event`, reusing its strings and attribute list: for a
/// reader that handles one message at a time (a live watch), it makes no allocation once the
/// event has grown to fit (but for the attributes that hold new text or a list:
/// `HANDSHAKE_FAILED_PROTOCOL`'s error name, an unknown event's values, an endpoint that is not
/// UTF-8).
///
/// Afterwards `event` is `to_event(msg)` except for [`source`](Event::source) and
/// [`observed`](Event::observed), which `to_event` leaves empty for the adapter to fill: they
/// are kept as they were, so a watch sets its source once.
///
/// ```
/// use monwire_event::{Event, Kind, Protocol};
/// use monwire_zmq::event::{to_event, to_event_into};
/// use monwire_zmq::{MonitorEvent, V1Message};
///
/// let mut event = Event::new(Protocol::Zmq, Kind::Other, "").with_source("dealer");
/// for fd in [25, 26] {
///     let msg = V1Message::new(MonitorEvent::Connected { fd }, "tcp://127.0.0.1:5555");
///     to_event_into(&msg, &mut event);
///     assert_eq!(event.source.as_deref(), Some("dealer"));
///     let mut fresh = to_event(&msg);
///     fresh.source = event.source.clone();
///     assert_eq!(event, fresh);
/// }
/// ```
pub fn to_event_into<M: ToEvent + ?Sized>(msg: &M, event: &mut Event) {
    msg.to_event_into(event)
}

fn uint(e: &Event, key: &'static str) -> Result<u64, EventError> {
    e.attr(key)
        .ok_or(EventError::Missing(key))?
        .as_u64()
        .ok_or(EventError::Invalid(key))
}

fn monitor_event(e: &Event) -> Result<MonitorEvent, EventError> {
    if e.protocol != Protocol::Zmq {
        return Err(EventError::WrongProtocol(e.protocol.to_string()));
    }
    let code = EventCode(uint(e, "zmq.code")?);
    if let Some(list) = e.attr("zmq.values") {
        let values = list
            .as_list()
            .ok_or(EventError::Invalid("zmq.values"))?
            .iter()
            .map(|v| v.as_u64().ok_or(EventError::Invalid("zmq.values")))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(MonitorEvent::from_raw(code, &values));
    }
    let values: Vec<u64> = match code {
        EventCode::CONNECTED
        | EventCode::LISTENING
        | EventCode::ACCEPTED
        | EventCode::CLOSED
        | EventCode::DISCONNECTED => vec![uint(e, "zmq.fd")?],
        EventCode::CONNECT_DELAYED
        | EventCode::BIND_FAILED
        | EventCode::ACCEPT_FAILED
        | EventCode::CLOSE_FAILED
        | EventCode::HANDSHAKE_FAILED_NO_DETAIL => vec![uint(e, "zmq.errno")?],
        EventCode::CONNECT_RETRIED => vec![uint(e, "zmq.interval_ms")?],
        EventCode::MONITOR_STOPPED | EventCode::HANDSHAKE_SUCCEEDED => vec![0],
        EventCode::HANDSHAKE_FAILED_PROTOCOL => vec![uint(e, "zmq.protocol_error_code")?],
        EventCode::HANDSHAKE_FAILED_AUTH => vec![uint(e, "zmq.zap_status")?],
        EventCode::PIPES_STATS => vec![uint(e, "zmq.egress")?, uint(e, "zmq.ingress")?],
        _ => return Err(EventError::Missing("zmq.values")),
    };
    Ok(MonitorEvent::from_raw(code, &values))
}

fn endpoint_attr(e: &Event, key: &'static str) -> Result<Vec<u8>, EventError> {
    endpoint_from(e.attr(key).ok_or(EventError::Missing(key))?, key)
}

/// The version an event names: `zmq.version` when present (it must be 1 or 2), else 1 when it
/// has `zmq.endpoint`, else 2 when it has `zmq.local`.
fn version_of(e: &Event) -> Result<u64, EventError> {
    match e.attr("zmq.version") {
        Some(v) => match v.as_u64() {
            Some(n @ (1 | 2)) => Ok(n),
            _ => Err(EventError::Invalid("zmq.version")),
        },
        None if e.attr("zmq.endpoint").is_some() => Ok(1),
        None if e.attr("zmq.local").is_some() => Ok(2),
        None => Err(EventError::Missing("zmq.endpoint")),
    }
}

fn v1_message(e: &Event) -> Result<V1Message, EventError> {
    let event = monitor_event(e)?;
    let endpoint = endpoint_attr(e, "zmq.endpoint")?;
    Ok(V1Message { event, endpoint })
}

fn v2_message(e: &Event) -> Result<V2Message, EventError> {
    let event = monitor_event(e)?;
    let local = endpoint_attr(e, "zmq.local")?;
    let remote = endpoint_attr(e, "zmq.remote")?;
    Ok(V2Message {
        event,
        local,
        remote,
    })
}

/// The message an event describes, of the version it names (the inverse of [`to_event`]).
///
/// The version is `zmq.version`; an event without it is v1 when it has `zmq.endpoint` and v2
/// when it has `zmq.local`. The summary, subject, kind and severity are derived and not read.
pub fn from_event(e: &Event) -> Result<Message, EventError> {
    if e.protocol != Protocol::Zmq {
        return Err(EventError::WrongProtocol(e.protocol.to_string()));
    }
    match version_of(e)? {
        1 => v1_message(e).map(Message::V1),
        _ => v2_message(e).map(Message::V2),
    }
}

fn one_version(e: &Event, wanted: u64) -> Result<(), EventError> {
    if e.protocol != Protocol::Zmq {
        return Err(EventError::WrongProtocol(e.protocol.to_string()));
    }
    match version_of(e)? {
        v if v == wanted => Ok(()),
        found => Err(EventError::Version { wanted, found }),
    }
}

impl From<&V1Message> for Event {
    fn from(msg: &V1Message) -> Event {
        msg.to_event()
    }
}

impl From<&V2Message> for Event {
    fn from(msg: &V2Message) -> Event {
        msg.to_event()
    }
}

impl From<&Message> for Event {
    fn from(msg: &Message) -> Event {
        msg.to_event()
    }
}

/// [`from_event`], for an event that must be v1.
impl TryFrom<&Event> for V1Message {
    type Error = EventError;
    fn try_from(e: &Event) -> Result<V1Message, EventError> {
        one_version(e, 1)?;
        v1_message(e)
    }
}

/// [`from_event`], for an event that must be v2.
impl TryFrom<&Event> for V2Message {
    type Error = EventError;
    fn try_from(e: &Event) -> Result<V2Message, EventError> {
        one_version(e, 2)?;
        v2_message(e)
    }
}

/// [`from_event`].
impl TryFrom<&Event> for Message {
    type Error = EventError;
    fn try_from(e: &Event) -> Result<Message, EventError> {
        from_event(e)
    }
}

/// Every attribute key a zmq event can have.
const ALL_KEYS: &[&str] = &[
    "zmq.version",
    "zmq.code",
    "zmq.endpoint",
    "zmq.local",
    "zmq.remote",
    "zmq.fd",
    "zmq.errno",
    "zmq.interval_ms",
    "zmq.protocol_error",
    "zmq.protocol_error_code",
    "zmq.zap_status",
    "zmq.egress",
    "zmq.ingress",
    "zmq.values",
];

/// The attribute keys whose values [`Event::summary`] already states for this event; a
/// one-line view (the `monwire` terminal view) leaves them out unless asked for every
/// attribute.
///
/// For an event made by [`to_event`] that is every key: the summary names the endpoint(s)
/// and the typed value (`tcp://127.0.0.1:5555 connected, fd 25`, `… handshake failed: ZAP 400
/// denied`), `zmq.code` is what the name says, and `zmq.version` is implied by which endpoint
/// keys there are (`zmq.endpoint` for v1, `zmq.local`/`zmq.remote` for v2). `-v` shows them.
/// For an event of another protocol, or a zmq event without a summary (not made here), none.
pub fn summary_keys(event: &Event) -> &'static [&'static str] {
    if event.protocol == Protocol::Zmq && event.summary.is_some() {
        ALL_KEYS
    } else {
        &[]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Errno, ProtocolError, ZapStatus};

    #[test]
    fn summaries_state_the_endpoint_once_and_the_value() {
        let ep = "tcp://127.0.0.1:5555";
        let cases = [
            (
                MonitorEvent::Connected { fd: 25 },
                "tcp://127.0.0.1:5555 connected, fd 25",
            ),
            (
                MonitorEvent::HandshakeFailedProtocol(ProtocolError::ZmtpMechanismMismatch),
                "tcp://127.0.0.1:5555 handshake failed: ZMTP_MECHANISM_MISMATCH",
            ),
            (
                MonitorEvent::HandshakeFailedAuth {
                    status: ZapStatus::DENIED,
                },
                "tcp://127.0.0.1:5555 handshake failed: ZAP 400 denied",
            ),
            (
                MonitorEvent::ConnectRetried { interval_ms: 83 },
                "tcp://127.0.0.1:5555 connect retried, next in 83 ms",
            ),
            (
                MonitorEvent::PipesStats {
                    egress: 0,
                    ingress: 2,
                },
                "tcp://127.0.0.1:5555 pipes stats: egress 0, ingress 2",
            ),
            (
                MonitorEvent::from_raw(EventCode(0x8000), &[7]),
                "UNKNOWN(0x8000) with values [7]",
            ),
        ];
        for (event, summary) in cases {
            let e = to_event(&V1Message::new(event.clone(), ep));
            let want = if event.code().name().is_none() {
                format!("{ep} {summary}")
            } else {
                summary.to_owned()
            };
            assert_eq!(e.summary.as_deref(), Some(want.as_str()));
            assert_eq!(e.summary_text().matches(ep).count(), 1);
        }
        let stopped = to_event(&V1Message::new(MonitorEvent::MonitorStopped, ""));
        assert_eq!(stopped.summary.as_deref(), Some("monitor stopped"));
        let bind = to_event(&V1Message::new(
            MonitorEvent::BindFailed { errno: Errno(98) },
            "127.0.0.1:1",
        ));
        let want = if cfg!(target_os = "linux") {
            "127.0.0.1:1 bind failed, errno 98 EADDRINUSE"
        } else {
            "127.0.0.1:1 bind failed, errno 98"
        };
        assert_eq!(bind.summary.as_deref(), Some(want));
    }

    #[test]
    fn v2_summary_names_remote_then_local() {
        let m = V2Message::new(MonitorEvent::Accepted { fd: 26 }, "tcp://l:1", "tcp://r:2");
        assert_eq!(
            to_event(&m).summary.as_deref(),
            Some("tcp://r:2 accepted, fd 26, local tcp://l:1")
        );
        let m = V2Message::new(MonitorEvent::Listening { fd: 20 }, "tcp://l:1", "");
        assert_eq!(
            to_event(&m).summary.as_deref(),
            Some("tcp://l:1 listening, fd 20")
        );
        let m = V2Message::new(MonitorEvent::MonitorStopped, "", "");
        assert_eq!(to_event(&m).summary.as_deref(), Some("monitor stopped"));
    }

    #[test]
    fn summary_keys_cover_every_attribute_of_our_events_only() {
        for msg in [
            Message::V1(V1Message::new(MonitorEvent::Closed { fd: 3 }, "tcp://a")),
            Message::V1(V1Message::new(
                MonitorEvent::HandshakeFailedProtocol(ProtocolError::Other(9)),
                "tcp://a",
            )),
            Message::V2(V2Message::new(
                MonitorEvent::PipesStats {
                    egress: 1,
                    ingress: 2,
                },
                "tcp://l",
                "tcp://r",
            )),
            Message::V2(V2Message::new(
                MonitorEvent::from_raw(EventCode(1 << 40), &[1, 2, 3]),
                "",
                "x",
            )),
        ] {
            let e = to_event(&msg);
            let keys = summary_keys(&e);
            for (k, _) in e.attributes.iter() {
                assert!(keys.contains(&k), "{k} of {msg:?} is not in summary_keys");
            }
        }
        let foreign = Event::new(Protocol::Nsm, Kind::Other, "x").with_summary("s");
        assert!(summary_keys(&foreign).is_empty());
        let mut bare = to_event(&V1Message::new(MonitorEvent::Closed { fd: 3 }, "tcp://a"));
        bare.summary = None;
        assert!(summary_keys(&bare).is_empty());
    }

    /// The module's table, written out again code by code: a change to `classify` that the
    /// docs do not follow fails here.
    #[test]
    fn classify_gives_the_documented_kind_and_severity_for_every_code() {
        use Kind::*;
        let table = [
            (EventCode::CONNECTED, Connected, Severity::Info),
            (EventCode::CONNECT_DELAYED, Connecting, Severity::Debug),
            (EventCode::CONNECT_RETRIED, Connecting, Severity::Debug),
            (EventCode::LISTENING, Listening, Severity::Info),
            (EventCode::BIND_FAILED, Failed, Severity::Error),
            (EventCode::ACCEPTED, Connected, Severity::Info),
            (EventCode::ACCEPT_FAILED, Failed, Severity::Error),
            (EventCode::CLOSED, Closed, Severity::Debug),
            (EventCode::CLOSE_FAILED, Failed, Severity::Warn),
            (EventCode::DISCONNECTED, Disconnected, Severity::Info),
            (EventCode::MONITOR_STOPPED, EndOfStream, Severity::Info),
            (
                EventCode::HANDSHAKE_FAILED_NO_DETAIL,
                Failed,
                Severity::Warn,
            ),
            (EventCode::HANDSHAKE_SUCCEEDED, Ready, Severity::Info),
            (EventCode::HANDSHAKE_FAILED_PROTOCOL, Failed, Severity::Warn),
            (EventCode::HANDSHAKE_FAILED_AUTH, Failed, Severity::Warn),
            (EventCode::PIPES_STATS, Stats, Severity::Debug),
        ];
        assert_eq!(
            table.len(),
            EventCode::KNOWN.len(),
            "a code is missing here"
        );
        for (code, kind, severity) in table {
            assert_eq!(classify(code), (kind, severity), "{code}");
            // The event carries them, whatever the values.
            let e = to_event(&V2Message::new(
                MonitorEvent::from_raw(code, &[1, 2]),
                "",
                "x",
            ));
            assert_eq!((e.kind, e.severity), (kind, severity), "{code}");
        }
        for unknown in [0, 0x8000, 0x3, 1 << 20, u64::MAX] {
            assert_eq!(classify(EventCode(unknown)), (Other, Severity::Info));
        }
    }

    fn good_v1() -> Event {
        to_event(&V1Message::new(
            MonitorEvent::Connected { fd: 7 },
            "tcp://a:1",
        ))
    }

    fn without(mut e: Event, key: &str) -> Event {
        e.attributes.remove(key);
        e
    }

    fn with(mut e: Event, key: &'static str, v: impl Into<Value>) -> Event {
        e.attributes.insert(key, v);
        e
    }

    #[test]
    fn from_event_errors_name_what_is_wrong() {
        let e = good_v1();
        assert!(from_event(&e).is_ok());

        let mut nsm = e.clone();
        nsm.protocol = Protocol::Nsm;
        assert_eq!(
            from_event(&nsm),
            Err(EventError::WrongProtocol("nsm".into()))
        );
        assert!(matches!(
            V1Message::try_from(&nsm),
            Err(EventError::WrongProtocol(_))
        ));

        let cases: Vec<(Event, EventError)> = vec![
            (
                without(e.clone(), "zmq.code"),
                EventError::Missing("zmq.code"),
            ),
            (
                with(e.clone(), "zmq.code", "1"),
                EventError::Invalid("zmq.code"),
            ),
            (
                with(e.clone(), "zmq.code", -1i64),
                EventError::Invalid("zmq.code"),
            ),
            (without(e.clone(), "zmq.fd"), EventError::Missing("zmq.fd")),
            (
                with(e.clone(), "zmq.fd", 1.5f64),
                EventError::Invalid("zmq.fd"),
            ),
            (
                without(e.clone(), "zmq.endpoint"),
                EventError::Missing("zmq.endpoint"),
            ),
            (
                with(e.clone(), "zmq.endpoint", 5u64),
                EventError::Invalid("zmq.endpoint"),
            ),
            (
                with(e.clone(), "zmq.version", 3u64),
                EventError::Invalid("zmq.version"),
            ),
            (
                with(e.clone(), "zmq.version", "1"),
                EventError::Invalid("zmq.version"),
            ),
            (
                with(e.clone(), "zmq.values", 5u64),
                EventError::Invalid("zmq.values"),
            ),
            (
                with(
                    e.clone(),
                    "zmq.values",
                    vec![Value::UInt(1), Value::from("x")],
                ),
                EventError::Invalid("zmq.values"),
            ),
            (
                with(without(e.clone(), "zmq.fd"), "zmq.code", 0x8000u64),
                EventError::Missing("zmq.values"),
            ),
            // v2 named but v1 keys present.
            (
                with(e.clone(), "zmq.version", 2u64),
                EventError::Missing("zmq.local"),
            ),
            (
                without(without(e.clone(), "zmq.version"), "zmq.endpoint"),
                EventError::Missing("zmq.endpoint"),
            ),
        ];
        for (event, want) in cases {
            assert_eq!(
                from_event(&event),
                Err(want.clone()),
                "{:?}",
                event.attributes
            );
        }

        // A v2 event without `zmq.remote`, and the version asked for by the message type.
        let v2 = to_event(&V2Message::new(MonitorEvent::Closed { fd: 3 }, "l", "r"));
        assert_eq!(
            from_event(&without(v2.clone(), "zmq.remote")),
            Err(EventError::Missing("zmq.remote"))
        );
        assert_eq!(
            V1Message::try_from(&v2),
            Err(EventError::Version {
                wanted: 1,
                found: 2
            })
        );
        assert_eq!(
            V2Message::try_from(&e),
            Err(EventError::Version {
                wanted: 2,
                found: 1
            })
        );
        // Without `zmq.version`, the endpoint keys say which version it is.
        assert!(matches!(
            from_event(&without(v2, "zmq.version")),
            Ok(Message::V2(_))
        ));
        assert!(matches!(
            from_event(&without(e.clone(), "zmq.version")),
            Ok(Message::V1(_))
        ));
        // Bytes endpoints (not UTF-8) come back as bytes.
        let raw = to_event(&V1Message::new(
            MonitorEvent::Closed { fd: 3 },
            &b"\xff\x00"[..],
        ));
        assert_eq!(
            raw.attr("zmq.endpoint"),
            Some(&Value::from(&b"\xff\x00"[..]))
        );
        assert_eq!(
            V1Message::try_from(&raw).unwrap().endpoint,
            b"\xff\x00".to_vec()
        );
        // The derived fields are not read back: a changed summary or subject changes nothing.
        let mut edited = e.clone();
        edited.summary = Some("something else".into());
        edited.subject = "elsewhere".into();
        assert_eq!(from_event(&edited), from_event(&e));
    }
}
