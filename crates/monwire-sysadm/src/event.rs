//! Mapping between SysAdm events and [`monwire_event::Event`].
//!
//! # Wire events
//!
//! A SysAdm event message maps to an `Event` with protocol [`Protocol::SysAdm`], `name` = the
//! SysAdm event name, and these attributes:
//!
//! | key | value | on the way back |
//! |---|---|---|
//! | `sysadm.args` | the event's `args` as compact JSON text (keys sorted) | **the source of truth**: parsed back into the message |
//! | `sysadm.id` | the envelope `id`, only when not `""` | restored |
//! | `sysadm.namespace` | the envelope namespace, only when not `events` | restored |
//! | `sysadm.extra` | other top-level keys as a JSON object text, only when any | restored |
//! | `sysadm.process_id`, `sysadm.state`, `sysadm.event_system`, `sysadm.action`, `sysadm.current_cmd`, `sysadm.return_code` (first non-zero or `0`), `sysadm.updates_available` | dispatcher details | derived, ignored |
//! | `sysadm.class`, `sysadm.message` | life-preserver details | derived, ignored |
//! | `sysadm.priority` (the raw text), `sysadm.priority_level` (its number) | life-preserver and system-state | derived, ignored |
//! | `sysadm.hostname`, `sysadm.pools`, `sysadm.unhealthy_pools`, `sysadm.update_status` | system-state details | derived, ignored |
//! | `sysadm.connections` | bridge: the reachable peer ids | derived, ignored |
//!
//! `subject` is the dispatcher `process_id`, the life-preserver `class`, the system-state
//! `hostname`, or `bridge`. Severity follows SysAdm's priority levels: 0-2 `INFO`, 3-5 `WARN`,
//! 6-8 `ERROR`, 9-10 `FATAL`; a dispatcher job with a non-zero return code is `ERROR`.
//!
//! # Normalization table
//!
//! | Kind | SysAdm (`sysadm`) |
//! |---|---|
//! | `starting` | `dispatcher` with state `pending` |
//! | `started` | `dispatcher` with state `running` (start notice, no output yet); `life-preserver` "Starting replication" |
//! | `progress` | `dispatcher` running with output or `current_cmd`; `life-preserver` replication progress (`Replicating …`) |
//! | `stopped` | `dispatcher` `finished` with every return code `"0"`; `life-preserver` "Finished replication" |
//! | `failed` | `dispatcher` `finished` with a non-zero return code; `life-preserver` priority ≥ 6 (replication failed) |
//! | `saved` | `life-preserver` class `snapshot` |
//! | `state` | `system-state` |
//! | `connected` | `bridge` with a non-empty `available_connections`; session: websocket connected (client) or accepted (server) |
//! | `disconnected` | `bridge` with an empty `available_connections`; session: connection lost or closed |
//! | `authenticated` | session: auth succeeded |
//! | `connecting` | session: reconnect scheduled / attempt under way |
//! | `updated` | session: subscription set changed (`subscribed`) |
//! | `failed` | session: auth rejected, subscriber queue overflow (`overflow`) |
//! | `other` | any other event name; dispatcher states this version does not know |
//!
//! # Session events
//!
//! The sessions report what happened to the connection as `Event`s too. They carry the
//! attribute `sysadm.session` = `true` and have no wire form ([`to_message`] refuses them).
//! Names: [`session::CONNECTED`], [`session::DISCONNECTED`], [`session::AUTHENTICATED`],
//! [`session::AUTH_FAILED`], [`session::SUBSCRIBED`], [`session::RECONNECTING`],
//! [`session::OVERFLOW`], [`session::DECODE_ERROR`].
//!
//! # Bridged events (monwire extension)
//!
//! [`bridged_message`] wraps any other protocol's `Event` as a SysAdm event named
//! `monwire-<protocol>` (`monwire-zmq`, `monwire-nsm`, `monwire-ray`, `monwire-galaxy`) whose
//! `args` is the event's stable JSON form (`monwire_event::json`); [`unwrap_bridged`] takes it
//! back out. SysAdm clients that only know the three standard names ignore them.

use monwire_event::{Event, Kind, Protocol, Severity, Value as EvValue};
use serde_json::Value;

use crate::codec::{Limits, encode_value, parse_json};
use crate::error::FromEventError;
use crate::message::{
    Body, Dispatcher, EventBody, JobState, LpClass, Message, Object, Priority, ns,
};

/// Names of the session events (see the module docs).
pub mod session {
    /// The websocket is up (client: connected; server: accepted).
    pub const CONNECTED: &str = "connected";
    /// The websocket went away.
    pub const DISCONNECTED: &str = "disconnected";
    /// Authentication succeeded.
    pub const AUTHENTICATED: &str = "authenticated";
    /// Authentication was refused.
    pub const AUTH_FAILED: &str = "auth_failed";
    /// The subscription set changed (client: a subscribe reply; server: a subscriber's set).
    pub const SUBSCRIBED: &str = "subscribed";
    /// The client will reconnect after a back-off (`sysadm.delay_ms`).
    pub const RECONNECTING: &str = "reconnecting";
    /// A subscriber's queue overflowed (`sysadm.dropped`, `sysadm.action`).
    pub const OVERFLOW: &str = "overflow";
    /// A frame could not be decoded (`sysadm.error`).
    pub const DECODE_ERROR: &str = "decode_error";
}

/// The prefix of bridged event names.
pub const BRIDGED_PREFIX: &str = "monwire-";

/// A session event (attribute `sysadm.session` = `true`).
pub fn session_event(kind: Kind, name: &str, subject: &str) -> Event {
    Event::new(Protocol::SysAdm, kind, name)
        .with_subject(subject)
        .with_attr("sysadm.session", true)
}

fn severity_of(p: &Priority) -> Severity {
    match p.level() {
        Some(0..=2) | None => Severity::Info,
        Some(3..=5) => Severity::Warn,
        Some(6..=8) => Severity::Error,
        Some(_) => Severity::Fatal,
    }
}

fn json_text(v: &Value) -> String {
    let bytes =
        encode_value(v, &Limits::default().with_max_depth(usize::MAX / 2)).unwrap_or_default();
    String::from_utf8(bytes).unwrap_or_default()
}

/// Maps an event message to an `Event`. Returns `None` when `message` is not an event.
pub fn to_event(message: &Message) -> Option<Event> {
    let Body::Event(body) = &message.body else {
        return None;
    };
    let args = body.to_args();
    let mut e = Event::new(Protocol::SysAdm, Kind::Other, message.name.clone());
    e.attributes.insert("sysadm.args", json_text(&args));
    if !message.id.is_empty() {
        e.attributes.insert("sysadm.id", message.id.clone());
    }
    if message.namespace != ns::EVENTS {
        e.attributes
            .insert("sysadm.namespace", message.namespace.clone());
    }
    if !message.extra.is_empty() {
        e.attributes.insert(
            "sysadm.extra",
            json_text(&Value::Object(message.extra.clone())),
        );
    }
    describe(body, &mut e);
    Some(e)
}

fn describe(body: &EventBody, e: &mut Event) {
    match body {
        EventBody::Dispatcher(d) => {
            let log = d.log();
            let state = d.state();
            if let Some(pid) = log.and_then(|l| l.process_id.as_deref()) {
                e.subject = pid.to_owned();
                e.attributes.insert("sysadm.process_id", pid);
            }
            if let Some(s) = state {
                e.attributes.insert("sysadm.state", s.as_str());
            }
            if let Dispatcher::Class(c) = d {
                e.attributes
                    .insert("sysadm.event_system", c.event_system.clone());
                if let Some(a) = c.action() {
                    e.attributes.insert("sysadm.action", a);
                }
                if let Some(u) = c.updates_available() {
                    e.attributes.insert("sysadm.updates_available", u);
                }
            }
            if let Some(cmd) = log.and_then(|l| l.current_cmd.as_deref()) {
                e.attributes.insert("sysadm.current_cmd", cmd);
            }
            let failed = log.is_some_and(|l| l.failed());
            if let Some(l) = log
                && let Some((_, code)) = l
                    .return_codes
                    .iter()
                    .find(|(_, c)| c.trim() != "0")
                    .or(l.return_codes.first())
            {
                e.attributes.insert("sysadm.return_code", code.clone());
            }
            let has_output = log.is_some_and(|l| l.current_cmd.is_some() || !l.outputs.is_empty());
            e.kind = match state {
                Some(JobState::Pending) => Kind::Starting,
                Some(JobState::Running) if has_output => Kind::Progress,
                Some(JobState::Running) => Kind::Started,
                Some(JobState::Finished) if failed => Kind::Failed,
                Some(JobState::Finished) => Kind::Stopped,
                _ => Kind::Other,
            };
            if failed {
                e.severity = Severity::Error;
            }
        }
        EventBody::LifePreserver(l) => {
            if let Some(c) = &l.class {
                e.subject = c.as_str().to_owned();
                e.attributes.insert("sysadm.class", c.as_str());
            }
            if let Some(m) = &l.message {
                e.attributes.insert("sysadm.message", m.clone());
            }
            priority_attrs(l.priority.as_ref(), e);
            let msg = l.message.as_deref().unwrap_or_default();
            e.kind = if l
                .priority
                .as_ref()
                .and_then(Priority::level)
                .is_some_and(|n| n >= 6)
            {
                Kind::Failed
            } else if l.class == Some(LpClass::Snapshot) {
                Kind::Saved
            } else if msg.starts_with("Replicating ") {
                Kind::Progress
            } else if msg.contains("Starting replication") {
                Kind::Started
            } else if msg.contains("Finished replication") {
                Kind::Stopped
            } else {
                Kind::Other
            };
        }
        EventBody::SystemState(s) => {
            e.kind = Kind::State;
            if let Some(h) = &s.hostname {
                e.subject = h.clone();
                e.attributes.insert("sysadm.hostname", h.clone());
            }
            priority_attrs(s.priority.as_ref(), e);
            if let Some(pools) = &s.zpools {
                let names: Vec<EvValue> = pools
                    .iter()
                    .map(|(n, _)| EvValue::from(n.as_str()))
                    .collect();
                let bad: Vec<EvValue> = pools
                    .iter()
                    .filter(|(_, p)| p.health.as_deref().is_some_and(|h| h != "ONLINE"))
                    .map(|(n, _)| EvValue::from(n.as_str()))
                    .collect();
                e.attributes.insert("sysadm.pools", names);
                if !bad.is_empty() {
                    e.attributes.insert("sysadm.unhealthy_pools", bad);
                }
            }
            if let Some(u) = s.update_status() {
                e.attributes.insert("sysadm.update_status", u);
            }
        }
        EventBody::Bridge(b) => {
            e.subject = "bridge".to_owned();
            let conns = b.available_connections.as_deref().unwrap_or_default();
            e.kind = if conns.is_empty() {
                Kind::Disconnected
            } else {
                Kind::Connected
            };
            e.attributes.insert(
                "sysadm.connections",
                conns
                    .iter()
                    .map(|c| EvValue::from(c.as_str()))
                    .collect::<Vec<_>>(),
            );
        }
        EventBody::Unknown { .. } => {}
    }
}

fn priority_attrs(p: Option<&Priority>, e: &mut Event) {
    if let Some(p) = p {
        e.attributes.insert("sysadm.priority", p.0.clone());
        if let Some(n) = p.level() {
            e.attributes.insert("sysadm.priority_level", n);
        }
        e.severity = severity_of(p);
    }
}

fn json_attr(event: &Event, attr: &'static str) -> Result<Option<Value>, FromEventError> {
    match event.attr(attr) {
        None => Ok(None),
        Some(EvValue::Str(text)) => parse_json(text.as_bytes(), &Limits::default())
            .map(Some)
            .map_err(|error| FromEventError::BadJson { attr, error }),
        Some(_) => Err(FromEventError::MissingArgs),
    }
}

/// Rebuilds the event message from an `Event` made by [`to_event`] (the lossless way back).
pub fn to_message(event: &Event) -> Result<Message, FromEventError> {
    if event.protocol != Protocol::SysAdm {
        return Err(FromEventError::WrongProtocol(event.protocol.to_string()));
    }
    if event.attr("sysadm.session").is_some() {
        return Err(FromEventError::SessionEvent(event.name.clone()));
    }
    let args = json_attr(event, "sysadm.args")?.ok_or(FromEventError::MissingArgs)?;
    let extra = match json_attr(event, "sysadm.extra")? {
        Some(Value::Object(m)) => m,
        _ => Object::new(),
    };
    let text = |k: &str, default: &str| {
        event
            .attr(k)
            .and_then(EvValue::as_str)
            .unwrap_or(default)
            .to_owned()
    };
    Ok(Message {
        namespace: text("sysadm.namespace", ns::EVENTS),
        name: event.name.clone(),
        id: text("sysadm.id", ""),
        body: Body::Event(EventBody::from_args(&event.name, args)),
        extra,
    })
}

/// The SysAdm event name a protocol's events are bridged under (`monwire-zmq`, …).
pub fn bridged_name(protocol: &Protocol) -> String {
    format!("{BRIDGED_PREFIX}{protocol}")
}

/// The message that publishes `event` on a SysAdm feed: a SysAdm wire event as itself, a
/// SysAdm session event or any other protocol's event wrapped as `monwire-<protocol>` with the
/// event's JSON form as `args`.
pub fn bridged_message(event: &Event) -> Result<Message, FromEventError> {
    if event.protocol == Protocol::SysAdm
        && event.attr("sysadm.session").is_none()
        && let Ok(m) = to_message(event)
    {
        return Ok(m);
    }
    let args =
        serde_json::to_value(event).map_err(|e| FromEventError::Unserializable(e.to_string()))?;
    let name = bridged_name(&event.protocol);
    Ok(Message::event(EventBody::Unknown { name, args }))
}

/// The `Event` inside a bridged `monwire-<protocol>` event, if `message` is one.
pub fn unwrap_bridged(message: &Message) -> Option<Event> {
    let Body::Event(EventBody::Unknown { name, args }) = &message.body else {
        return None;
    };
    if !name.starts_with(BRIDGED_PREFIX) {
        return None;
    }
    serde_json::from_value(args.clone()).ok()
}

/// The attribute keys whose values [`Event::summary`] already states for this event; a
/// one-line view (the `monwire` terminal view) leaves them out unless asked for every
/// attribute.
pub fn summary_keys(event: &Event) -> &'static [&'static str] {
    let _ = event;
    &[]
}
