//! Mapping to and from [`monwire_event::Event`].
//!
//! `V1Message → Event → V1Message` and `V2Message → Event → V2Message` are the identity (the
//! lossless law, proven by proptest in `monwire-tests`).
//!
//! | Event field | value |
//! |---|---|
//! | `protocol` | `zmq` |
//! | `subject` | v1: the endpoint; v2: the remote endpoint, or the local one when remote is empty (lossy text) |
//! | `name` | the libzmq name without `ZMQ_EVENT_` (`CONNECTED`), `UNKNOWN` for other codes |
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
use crate::message::{EventCode, MonitorEvent, V1Message, V2Message};

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

fn endpoint_value(bytes: &[u8]) -> Value {
    match std::str::from_utf8(bytes) {
        Ok(s) => Value::from(s),
        Err(_) => Value::from(bytes),
    }
}

fn endpoint_from(v: &Value, key: &'static str) -> Result<Vec<u8>, EventError> {
    match v {
        Value::Str(s) => Ok(s.as_bytes().to_vec()),
        Value::Bytes(b) => Ok(b.clone()),
        _ => Err(EventError::Invalid(key)),
    }
}

fn base(event: &MonitorEvent, version: u64, subject: &[u8]) -> Event {
    let code = event.code();
    let (kind, severity) = classify(code);
    Event::new(Protocol::Zmq, kind, code.name().unwrap_or("UNKNOWN"))
        .with_subject(String::from_utf8_lossy(subject))
        .with_severity(severity)
        .with_attr("zmq.version", version)
        .with_attr("zmq.code", code.0)
}

fn typed_attrs(event: &MonitorEvent, attrs: &mut Attributes) {
    match event {
        MonitorEvent::Connected { fd }
        | MonitorEvent::Listening { fd }
        | MonitorEvent::Accepted { fd }
        | MonitorEvent::Closed { fd }
        | MonitorEvent::Disconnected { fd } => attrs.insert("zmq.fd", *fd),
        MonitorEvent::ConnectDelayed { errno }
        | MonitorEvent::BindFailed { errno }
        | MonitorEvent::AcceptFailed { errno }
        | MonitorEvent::CloseFailed { errno }
        | MonitorEvent::HandshakeFailedNoDetail { errno } => attrs.insert("zmq.errno", errno.0),
        MonitorEvent::ConnectRetried { interval_ms } => {
            attrs.insert("zmq.interval_ms", *interval_ms)
        }
        MonitorEvent::MonitorStopped | MonitorEvent::HandshakeSucceeded => {}
        MonitorEvent::HandshakeFailedProtocol(e) => {
            attrs.insert("zmq.protocol_error", e.to_string());
            attrs.insert("zmq.protocol_error_code", e.code());
        }
        MonitorEvent::HandshakeFailedAuth { status } => attrs.insert("zmq.zap_status", status.0),
        MonitorEvent::PipesStats { egress, ingress } => {
            attrs.insert("zmq.egress", *egress);
            attrs.insert("zmq.ingress", *ingress);
        }
        MonitorEvent::Unknown { values, .. } => attrs.insert(
            "zmq.values",
            values.iter().map(|&v| Value::UInt(v)).collect::<Vec<_>>(),
        ),
        // `MonitorEvent` is ours and exhaustive here; new variants must add their attributes.
    }
}

/// The event for a v1 message.
pub fn v1_to_event(msg: &V1Message) -> Event {
    let mut e = base(&msg.event, 1, &msg.endpoint);
    e.attributes
        .insert("zmq.endpoint", endpoint_value(&msg.endpoint));
    typed_attrs(&msg.event, &mut e.attributes);
    e
}

/// The event for a v2 message.
pub fn v2_to_event(msg: &V2Message) -> Event {
    let subject = if msg.remote.is_empty() {
        &msg.local
    } else {
        &msg.remote
    };
    let mut e = base(&msg.event, 2, subject);
    e.attributes.insert("zmq.local", endpoint_value(&msg.local));
    e.attributes
        .insert("zmq.remote", endpoint_value(&msg.remote));
    typed_attrs(&msg.event, &mut e.attributes);
    e
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

/// The v1 message an event describes (the inverse of [`v1_to_event`]).
pub fn v1_from_event(e: &Event) -> Result<V1Message, EventError> {
    let event = monitor_event(e)?;
    let endpoint = endpoint_from(
        e.attr("zmq.endpoint")
            .ok_or(EventError::Missing("zmq.endpoint"))?,
        "zmq.endpoint",
    )?;
    Ok(V1Message { event, endpoint })
}

/// The v2 message an event describes (the inverse of [`v2_to_event`]).
pub fn v2_from_event(e: &Event) -> Result<V2Message, EventError> {
    let event = monitor_event(e)?;
    let local = endpoint_from(
        e.attr("zmq.local")
            .ok_or(EventError::Missing("zmq.local"))?,
        "zmq.local",
    )?;
    let remote = endpoint_from(
        e.attr("zmq.remote")
            .ok_or(EventError::Missing("zmq.remote"))?,
        "zmq.remote",
    )?;
    Ok(V2Message {
        event,
        local,
        remote,
    })
}

impl From<&V1Message> for Event {
    fn from(msg: &V1Message) -> Event {
        v1_to_event(msg)
    }
}

impl From<&V2Message> for Event {
    fn from(msg: &V2Message) -> Event {
        v2_to_event(msg)
    }
}

impl TryFrom<&Event> for V1Message {
    type Error = EventError;
    fn try_from(e: &Event) -> Result<V1Message, EventError> {
        v1_from_event(e)
    }
}

impl TryFrom<&Event> for V2Message {
    type Error = EventError;
    fn try_from(e: &Event) -> Result<V2Message, EventError> {
        v2_from_event(e)
    }
}

/// The attribute keys whose values [`Event::summary`] already states for this event; a
/// one-line view (the `monwire` terminal view) leaves them out unless asked for every
/// attribute.
pub fn summary_keys(event: &Event) -> &'static [&'static str] {
    let _ = event;
    &[]
}
