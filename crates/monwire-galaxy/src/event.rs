//! Hub GUI messages to and from [`monwire_event::Event`].
//!
//! [`to_event`] maps one Hub → GUI frame to one event with `Protocol::Galaxy`; [`from_event`]
//! gives the identical frame back (the attribute `galaxy.xdr` carries the frame's XDR encoding,
//! written with 8-byte INT_64 elements so nothing is truncated). The other attributes are for
//! people and filters.
//!
//! # Normalization table
//!
//! | Kind | Galaxy Hub GUI message (`galaxy`) |
//! |---|---|
//! | `connected` | `provider_status` with one provider and `:connected 1`; `handshake` |
//! | `disconnected` | `provider_status` with one provider and `:connected 0` (down, retrying, gone) |
//! | `state` | `provider_status` with several or no providers; `session_status` 0 SETTINGS and 3 HISTORY; `session_lock_status` 0; `session_alarm_status` 0; `token_status` 0; `message_queue_status`; `hub_debug_info` |
//! | `added` | `new_service_type`, `add_menu_items`, `token_status` 1 CREATED |
//! | `removed` | `token_status` 2 DESTROYED |
//! | `started` | `session_status` 1 CREATED, `session_alarm_status` 1 ENABLED |
//! | `stopped` | `session_status` 2 DESTROYED, `session_alarm_status` 2 DISABLED |
//! | `updated` | `session_lock_status` 1 SET and 2 RELEASED, `session_alarm_status` 3 RESET |
//! | `listening` | `listener_status` 0 INITIALIZED |
//! | `failed` | `listener_status` 1 INITIALIZATION_ERROR (severity `ERROR`) |
//! | `message` | `message_event` |
//! | `prompt` | `hub_debug_prompt` |
//! | `ready` | `reinitialize` |
//! | `other` | `session_alarm_status` 4 EXPIRED, any other frame |
//!
//! Severity is `INFO`, except `DEBUG` for answers to debug commands (`:debug 1`) and
//! `ERROR` for a listener error. [`Event::name`] is the frame name.
//!
//! # Attribute keys
//!
//! | key | value |
//! |---|---|
//! | `galaxy.xdr` | bytes: the frame's XDR encoding (what [`from_event`] reads back) |
//! | `galaxy.pr` | text: the frame in PR form |
//! | `galaxy.action` | int: `:action` |
//! | `galaxy.provider_id`, `galaxy.session_id`, `galaxy.destination`, `galaxy.alarm_key`, `galaxy.service` | text |
//! | `galaxy.connected`, `galaxy.init`, `galaxy.debug` | bool |
//! | `galaxy.tidx`, `galaxy.port`, `galaxy.msg_type`, `galaxy.server_tidx`, `galaxy.lock_type` | int |
//! | `galaxy.msg_name` | text: the name of a `message_event`'s `:msg` frame |
//! | `galaxy.queue` | list of ints |
//!
//! The subject is the provider id, session id, token index, service name or listener port the
//! message is about (empty when there is none).

use monwire_event::{Event, Kind, Protocol, Severity, Value};

use crate::codec::{Codec, Int64Width};
use crate::error::DecodeError;
use crate::message::{Frame, Object, lossy};
use crate::status::{
    AlarmAction, ListenerAction, LockAction, SessionAction, StatusMessage, TokenAction,
};
use crate::text::pr_frame;

fn xdr() -> Codec {
    Codec::default().with_int64_width(Int64Width::Eight)
}

/// Why an event cannot be turned back into a frame.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// Not a Galaxy event.
    #[error("not a galaxy event (protocol {0})")]
    NotGalaxy(String),
    /// `galaxy.xdr` does not decode.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// `galaxy.xdr` is not a frame, or is not bytes.
    #[error("galaxy.xdr does not hold a frame")]
    NotAFrame,
}

/// One Hub → GUI frame as an event.
pub fn to_event(frame: &Frame) -> Event {
    status_to_event(&StatusMessage::from_frame(frame.clone()))
}

/// A typed status message as an event.
pub fn status_to_event(msg: &StatusMessage) -> Event {
    let frame = msg.to_frame();
    let name = lossy(frame.name_bytes());
    let (kind, subject) = classify(msg, &frame);
    let mut e = Event::new(Protocol::Galaxy, kind, name).with_subject(subject);
    let s = |v: &[u8]| Value::Str(lossy(v));
    match msg {
        StatusMessage::ProviderStatus { providers } => {
            if let [p] = providers.as_slice() {
                if let Some(id) = p.provider_id() {
                    e = e.with_attr("galaxy.provider_id", s(id));
                }
                if let Some(c) = p.connected() {
                    e = e.with_attr("galaxy.connected", c);
                }
                e = e.with_attr("galaxy.init", p.init());
            }
        }
        StatusMessage::NewServiceType { name, port } => {
            e = e
                .with_attr("galaxy.service", s(name))
                .with_attr("galaxy.port", *port);
        }
        StatusMessage::MessageEvent {
            provider_id,
            msg,
            msg_type,
            destination,
        } => {
            e = e
                .with_attr("galaxy.provider_id", s(provider_id))
                .with_attr("galaxy.msg_name", s(msg.name_bytes()))
                .with_attr("galaxy.msg_type", *msg_type)
                .with_attr("galaxy.destination", s(destination));
        }
        StatusMessage::SessionStatus {
            action,
            debug,
            session_id,
            ..
        } => {
            e = e.with_attr("galaxy.action", action.code());
            if let Some(id) = session_id {
                e = e.with_attr("galaxy.session_id", s(id));
            }
            e = debug_attr(e, *debug);
        }
        StatusMessage::SessionLockStatus {
            debug,
            action,
            lock_type,
            session_id,
            ..
        } => {
            e = e.with_attr("galaxy.action", action.code());
            if let Some(t) = lock_type {
                e = e.with_attr("galaxy.lock_type", *t);
            }
            if let Some(id) = session_id {
                e = e.with_attr("galaxy.session_id", s(id));
            }
            e = debug_attr(e, *debug);
        }
        StatusMessage::SessionAlarmStatus {
            action,
            alarm_key,
            session_id,
            ..
        } => {
            e = e
                .with_attr("galaxy.action", action.code())
                .with_attr("galaxy.alarm_key", s(alarm_key));
            if let Some(id) = session_id {
                e = e.with_attr("galaxy.session_id", s(id));
            }
        }
        StatusMessage::TokenStatus {
            action,
            debug,
            tidx,
            ..
        } => {
            e = e.with_attr("galaxy.action", action.code());
            if let Some(t) = tidx {
                e = e.with_attr("galaxy.tidx", *t);
            }
            e = debug_attr(e, *debug);
        }
        StatusMessage::ListenerStatus { action, port, .. } => {
            e = e.with_attr("galaxy.action", action.code());
            if let Some(p) = port {
                e = e.with_attr("galaxy.port", *p);
            }
        }
        StatusMessage::MessageQueueStatus { action, queue } => {
            e = e.with_attr("galaxy.action", action.code()).with_attr(
                "galaxy.queue",
                Value::List(queue.iter().map(|&t| Value::Int(t.into())).collect()),
            );
        }
        StatusMessage::HubDebugPrompt { admin } => {
            if let Some(t) = admin.get_int(":server_tidx") {
                e = e.with_attr("galaxy.server_tidx", t);
            }
        }
        _ => {}
    }
    if matches!(
        msg,
        StatusMessage::ListenerStatus {
            action: ListenerAction::InitializationError,
            ..
        }
    ) {
        e = e.with_severity(Severity::Error);
    }
    e = e.with_attr("galaxy.pr", lossy(&pr_frame(&frame)));
    match xdr().encode_object(&Object::Frame(frame)) {
        Ok(bytes) => e.with_attr("galaxy.xdr", bytes),
        Err(_) => e,
    }
}

fn debug_attr(e: Event, debug: bool) -> Event {
    if debug {
        e.with_attr("galaxy.debug", true)
            .with_severity(Severity::Debug)
    } else {
        e
    }
}

fn classify(msg: &StatusMessage, frame: &Frame) -> (Kind, String) {
    let s = |v: &[u8]| lossy(v);
    let opt = |v: &Option<Vec<u8>>| v.as_deref().map(lossy).unwrap_or_default();
    match msg {
        StatusMessage::ProviderStatus { providers } => match providers.as_slice() {
            [p] => (
                match p.connected() {
                    Some(true) => Kind::Connected,
                    Some(false) => Kind::Disconnected,
                    None => Kind::State,
                },
                p.provider_id().map(s).unwrap_or_default(),
            ),
            _ => (Kind::State, String::new()),
        },
        StatusMessage::AddMenuItems { .. } => (Kind::Added, String::new()),
        StatusMessage::NewServiceType { name, .. } => (Kind::Added, s(name)),
        StatusMessage::MessageEvent { provider_id, .. } => (Kind::Message, s(provider_id)),
        StatusMessage::SessionStatus {
            action, session_id, ..
        } => (
            match action {
                SessionAction::Created => Kind::Started,
                SessionAction::Destroyed => Kind::Stopped,
                SessionAction::Settings | SessionAction::History => Kind::State,
                SessionAction::Other(_) => Kind::Other,
            },
            opt(session_id),
        ),
        StatusMessage::SessionLockStatus {
            action, session_id, ..
        } => (
            match action {
                LockAction::Status => Kind::State,
                LockAction::Set | LockAction::Released => Kind::Updated,
                LockAction::Other(_) => Kind::Other,
            },
            opt(session_id),
        ),
        StatusMessage::SessionAlarmStatus {
            action, alarm_key, ..
        } => (
            match action {
                AlarmAction::Status => Kind::State,
                AlarmAction::Enabled => Kind::Started,
                AlarmAction::Disabled => Kind::Stopped,
                AlarmAction::Reset => Kind::Updated,
                AlarmAction::Expired | AlarmAction::Other(_) => Kind::Other,
            },
            s(alarm_key),
        ),
        StatusMessage::TokenStatus { action, tidx, .. } => (
            match action {
                TokenAction::Status => Kind::State,
                TokenAction::Created => Kind::Added,
                TokenAction::Destroyed => Kind::Removed,
                TokenAction::Other(_) => Kind::Other,
            },
            tidx.map(|t| t.to_string()).unwrap_or_default(),
        ),
        StatusMessage::ListenerStatus { action, port, .. } => (
            match action {
                ListenerAction::Initialized => Kind::Listening,
                ListenerAction::InitializationError => Kind::Failed,
                ListenerAction::Other(_) => Kind::Other,
            },
            port.map(|p| p.to_string()).unwrap_or_default(),
        ),
        StatusMessage::MessageQueueStatus { .. } => (Kind::State, String::new()),
        StatusMessage::HubDebugPrompt { .. } => (Kind::Prompt, String::new()),
        StatusMessage::HubDebugInfo { info_type, .. } => (Kind::State, opt(info_type)),
        StatusMessage::Other(_) => (
            if frame.is_named("handshake") {
                Kind::Connected
            } else if frame.is_named("reinitialize") {
                Kind::Ready
            } else {
                Kind::Other
            },
            String::new(),
        ),
    }
}

/// A GUI session event as an event, for watchers: status messages, `reinitialize` and stray
/// frames as [`to_event`] maps them; the handshake as `connected` `handshake` (attribute
/// `galaxy.conn_type`); the Hub's acceptance of a GUI client as `ready` (its echo's frame);
/// the Hub's DISCONNECT as `end_of_stream` `disconnect`.
pub fn gui_event_to_event(ev: &crate::session::GuiEvent) -> Event {
    use crate::session::GuiEvent;
    match ev {
        GuiEvent::Handshake { conn_type } => {
            Event::new(Protocol::Galaxy, Kind::Connected, "handshake")
                .with_attr("galaxy.conn_type", *conn_type)
        }
        GuiEvent::Accepted { echo } => {
            let mut e = to_event(echo);
            e.kind = Kind::Ready;
            e
        }
        GuiEvent::Reinitialize(f) | GuiEvent::Echoed(f) => to_event(f),
        GuiEvent::Status(s) => status_to_event(s),
        GuiEvent::Stray(m) => match m.as_frame() {
            Some(f) => to_event(f).with_attr("galaxy.msg_type", m.msg_type.code()),
            None => Event::new(Protocol::Galaxy, Kind::Other, m.msg_type.name()),
        },
        GuiEvent::Closed => Event::new(Protocol::Galaxy, Kind::EndOfStream, "disconnect"),
    }
}

/// The frame an event was made from.
///
/// Events from [`to_event`] carry `galaxy.xdr` and give the identical frame back. Other Galaxy
/// events (built by hand or translated from another protocol) become a clause frame named
/// [`Event::name`], each `galaxy.<key>` attribute (except `galaxy.pr`) a property `:<key>`:
/// integers as ints (when they fit 32 bits, else strings), floats as floats, text as strings,
/// bytes as binary, booleans as 0/1, lists as lists.
pub fn from_event(event: &Event) -> Result<Frame, EventError> {
    if event.protocol != Protocol::Galaxy {
        return Err(EventError::NotGalaxy(event.protocol.to_string()));
    }
    if let Some(v) = event.attr("galaxy.xdr") {
        let bytes = v.as_bytes().ok_or(EventError::NotAFrame)?;
        return match xdr().decode_object(bytes)? {
            Object::Frame(f) => Ok(f),
            _ => Err(EventError::NotAFrame),
        };
    }
    let mut f = Frame::clause(event.name.as_bytes().to_vec());
    for (k, v) in event.attributes.iter() {
        if let Some(key) = k.strip_prefix("galaxy.")
            && key != "pr"
        {
            f.set(format!(":{key}"), value_object(v));
        }
    }
    Ok(f)
}

fn value_object(v: &Value) -> Object {
    match v {
        Value::Bool(b) => Object::Int(i32::from(*b)),
        Value::Float(x) => Object::Float(*x as f32),
        Value::Str(s) => Object::String(s.clone().into_bytes()),
        Value::Bytes(b) => Object::Binary(b.clone()),
        Value::List(l) => Object::List(l.iter().map(value_object).collect()),
        other => match other.as_i64().and_then(|i| i32::try_from(i).ok()) {
            Some(i) => Object::Int(i),
            None => Object::String(other.to_string().into_bytes()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::read_frame;

    #[test]
    fn provider_connected_reads_as_connected_and_round_trips() {
        let f = read_frame(
            b"{c provider_status :provider_list ( {c provider :provider_id \"[0]\" :connected 1 } ) }",
        )
        .unwrap();
        let e = to_event(&f);
        assert_eq!(e.protocol, Protocol::Galaxy);
        assert_eq!(e.kind, Kind::Connected);
        assert_eq!(e.subject, "[0]");
        assert_eq!(e.attr("galaxy.connected"), Some(&Value::Bool(true)));
        assert_eq!(from_event(&e).unwrap(), f);
    }

    #[test]
    fn hand_made_events_become_frames() {
        let e = Event::new(Protocol::Galaxy, Kind::Other, "note")
            .with_attr("galaxy.x", 5i64)
            .with_attr("galaxy.s", "t");
        let f = from_event(&e).unwrap();
        assert_eq!(pr_frame(&f), b"{c note :x 5 :s \"t\" }");
        let zmq = Event::new(Protocol::Zmq, Kind::Other, "x");
        assert!(from_event(&zmq).is_err());
    }
}

/// The attribute keys whose values [`Event::summary`] already states for this event; a
/// one-line view (the `monwire` terminal view) leaves them out unless asked for every
/// attribute.
pub fn summary_keys(event: &Event) -> &'static [&'static str] {
    let _ = event;
    &[]
}
