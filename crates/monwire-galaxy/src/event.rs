//! Hub GUI messages to and from [`monwire_event::Event`].
//!
//! [`to_event`] maps one Hub → GUI frame to one event with `Protocol::Galaxy`; [`from_event`]
//! gives the identical frame back from its attribute `galaxy.frame`, the frame's **structured
//! form** (see [below](#the-structured-form)): every property with its Galaxy type, so the JSON
//! of an event shows the frame as nested objects and nothing is lost. The other attributes are
//! for people and filters; [`Event::summary`] is a short line such as "provider \[0\] connected".
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
//! | `end_of_stream` | the Hub's DISCONNECT, or the connection closing without one ([`gui_event_to_event`]) |
//! | `other` | `session_alarm_status` 4 EXPIRED, any other frame |
//!
//! Severity is `INFO`, except `DEBUG` for answers to debug commands (`:debug 1`) and
//! `ERROR` for a listener error. [`Event::name`] is the frame name.
//!
//! # Attribute keys
//!
//! | key | value |
//! |---|---|
//! | `galaxy.frame` | map: the frame's structured form (what [`from_event`] reads back) |
//! | `galaxy.action` | int: `:action` |
//! | `galaxy.provider_id`, `galaxy.session_id`, `galaxy.destination`, `galaxy.alarm_key`, `galaxy.service` | text |
//! | `galaxy.connected`, `galaxy.init`, `galaxy.debug` | bool |
//! | `galaxy.tidx`, `galaxy.port`, `galaxy.msg_type`, `galaxy.server_tidx`, `galaxy.lock_type` | int |
//! | `galaxy.msg_name` | text: the name of a `message_event`'s `:msg` frame |
//! | `galaxy.queue` | list of ints |
//!
//! The subject is the provider id, session id, token index, service name or listener port the
//! message is about (empty when there is none).
//!
//! # The structured form
//!
//! [`frame_to_value`] gives a frame as a [`Value::Map`]:
//!
//! ```text
//! {"type": "c", "name": "token_status", "keys": {":action": 1, ":tidx": 5}, "preds": [ … ]}
//! ```
//!
//! - `type` is `"c"`, `"q"` or `"p"`, or the wire code as an int for any other type;
//!   `name` is text (bytes when not UTF-8) and absent for a NULL name; `keys` is a map in
//!   property order (a list of `[key, value]` pairs when a key is not UTF-8); `preds` is a list
//!   of frames, absent when there are none.
//! - Values: a Galaxy string is text, an int an int, a float a float, a list a list, binary
//!   bytes, a frame a frame map. Every other type is a one-key map naming it: `{"symbol": "s"}`,
//!   `{"keyword": …}`, `{"tag": …}`, `{"token": …}`, `{"string": bytes}` (a string that is not
//!   UTF-8), `{"int16": [ints]}`, `{"int32": […]}`, `{"int64": […]}`, `{"float32": [floats]}`,
//!   `{"float64": […]}`, `{"proxy": {"call_id", "host", "port", "object_type"}}`,
//!   `{"null": true}` (a NULL list element). A float that is not finite is `{"float_bits": u32}`
//!   (an array element `{"bits": u32|u64}`), so JSON can carry it and NaN payloads survive.
//!
//! [`value_to_frame`] reads that form back; `frame → value → frame` is the identity for every
//! frame, which `tests/tests/galaxy_prop.rs` proves.

use std::borrow::Cow;

use monwire_event::{Event, Kind, Map, Protocol, Severity, Value};

use crate::codec::MAX_DEPTH_CAP;
use crate::message::{Frame, FrameType, Object, Proxy, lossy};
use crate::status::{
    AlarmAction, ListenerAction, LockAction, OtherLine, SessionAction, StatusMessage, TokenAction,
};

/// Why an event cannot be turned back into a frame.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum EventError {
    /// Not a Galaxy event.
    #[error("not a galaxy event (protocol {0})")]
    NotGalaxy(String),
    /// `galaxy.frame` is not a valid structured frame.
    #[error("galaxy.frame{path}: {what}")]
    BadFrame {
        /// Where in the structure, as `.keys.":x"[2]`.
        path: String,
        /// What is wrong there.
        what: &'static str,
    },
}

/// One Hub → GUI frame as an event.
pub fn to_event(frame: &Frame) -> Event {
    // Typed in place: the frame is neither copied nor rebuilt.
    event_of(StatusMessage::typed_exact(frame).as_ref(), frame)
}

/// A typed status message as an event.
pub fn status_to_event(msg: &StatusMessage) -> Event {
    match msg {
        StatusMessage::Other(f) => event_of(None, f),
        m => event_of(Some(m), &m.to_frame()),
    }
}

/// The event of `frame`, typed as `msg` (`None`: no Hub status shape).
fn event_of(msg: Option<&StatusMessage>, frame: &Frame) -> Event {
    let name = lossy(frame.name_bytes());
    let (kind, subject, summary) = match msg {
        Some(m) => {
            let (kind, subject) = classify(m, frame);
            (kind, subject, m.to_string())
        }
        None => (
            classify_other(frame),
            String::new(),
            OtherLine(frame).to_string(),
        ),
    };
    let mut e = Event::new(Protocol::Galaxy, kind, name)
        .with_subject(subject)
        .with_summary(summary);
    // Room for the typed attributes, the frame and the two a reader adds (message type and
    // offset) without growing.
    e.attributes = Map::with_capacity(8);
    if let Some(m) = msg {
        typed_attrs(&mut e, m);
    }
    e.attributes
        .push_unchecked("galaxy.frame", frame_to_value(frame));
    e
}

/// The attributes of a typed message (`galaxy.frame` aside), each key once.
fn typed_attrs(e: &mut Event, msg: &StatusMessage) {
    let s = |v: &[u8]| Value::Str(lossy(v));
    let a = &mut e.attributes;
    let mut debug = false;
    match msg {
        StatusMessage::ProviderStatus { providers } => {
            if let [p] = providers.as_slice() {
                if let Some(id) = p.provider_id() {
                    a.push_unchecked("galaxy.provider_id", s(id));
                }
                if let Some(c) = p.connected() {
                    a.push_unchecked("galaxy.connected", c);
                }
                a.push_unchecked("galaxy.init", p.init());
            }
        }
        StatusMessage::NewServiceType { name, port } => {
            a.push_unchecked("galaxy.service", s(name));
            a.push_unchecked("galaxy.port", *port);
        }
        StatusMessage::MessageEvent {
            provider_id,
            msg,
            msg_type,
            destination,
        } => {
            a.push_unchecked("galaxy.provider_id", s(provider_id));
            a.push_unchecked("galaxy.msg_name", s(msg.name_bytes()));
            a.push_unchecked("galaxy.msg_type", *msg_type);
            a.push_unchecked("galaxy.destination", s(destination));
        }
        StatusMessage::SessionStatus {
            action,
            debug: d,
            session_id,
            ..
        } => {
            a.push_unchecked("galaxy.action", action.code());
            if let Some(id) = session_id {
                a.push_unchecked("galaxy.session_id", s(id));
            }
            debug = *d;
        }
        StatusMessage::SessionLockStatus {
            debug: d,
            action,
            lock_type,
            session_id,
            ..
        } => {
            a.push_unchecked("galaxy.action", action.code());
            if let Some(t) = lock_type {
                a.push_unchecked("galaxy.lock_type", *t);
            }
            if let Some(id) = session_id {
                a.push_unchecked("galaxy.session_id", s(id));
            }
            debug = *d;
        }
        StatusMessage::SessionAlarmStatus {
            action,
            alarm_key,
            session_id,
            ..
        } => {
            a.push_unchecked("galaxy.action", action.code());
            a.push_unchecked("galaxy.alarm_key", s(alarm_key));
            if let Some(id) = session_id {
                a.push_unchecked("galaxy.session_id", s(id));
            }
        }
        StatusMessage::TokenStatus {
            action,
            debug: d,
            tidx,
            ..
        } => {
            a.push_unchecked("galaxy.action", action.code());
            if let Some(t) = tidx {
                a.push_unchecked("galaxy.tidx", *t);
            }
            debug = *d;
        }
        StatusMessage::ListenerStatus { action, port, .. } => {
            a.push_unchecked("galaxy.action", action.code());
            if let Some(p) = port {
                a.push_unchecked("galaxy.port", *p);
            }
            if *action == ListenerAction::InitializationError {
                e.severity = Severity::Error;
            }
        }
        StatusMessage::MessageQueueStatus { action, queue } => {
            a.push_unchecked("galaxy.action", action.code());
            a.push_unchecked(
                "galaxy.queue",
                Value::List(queue.iter().map(|&t| Value::Int(t.into())).collect()),
            );
        }
        StatusMessage::HubDebugPrompt { admin } => {
            if let Some(t) = admin.get_int(":server_tidx") {
                a.push_unchecked("galaxy.server_tidx", t);
            }
        }
        _ => {}
    }
    if debug {
        e.attributes.push_unchecked("galaxy.debug", true);
        e.severity = Severity::Debug;
    }
}

/// The kind of a frame that is no Hub status shape.
fn classify_other(frame: &Frame) -> Kind {
    if frame.is_named("handshake") {
        Kind::Connected
    } else if frame.is_named("reinitialize") {
        Kind::Ready
    } else {
        Kind::Other
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
        StatusMessage::Other(_) => (classify_other(frame), String::new()),
    }
}

/// A GUI session event as an event, for watchers: status messages, `reinitialize` and stray
/// frames as [`to_event`] maps them; the handshake as `connected` `handshake` with its frame
/// (attribute `galaxy.conn_type`); the Hub's acceptance of a GUI client as `ready` (its echo's
/// frame); the Hub's DISCONNECT as `end_of_stream` `disconnect`, and a connection that closed
/// without one as `end_of_stream` `closed`.
pub fn gui_event_to_event(ev: &crate::session::GuiEvent) -> Event {
    use crate::session::GuiEvent;
    match ev {
        GuiEvent::Handshake { conn_type, frame } => {
            to_event(frame).with_attr("galaxy.conn_type", *conn_type)
        }
        GuiEvent::Accepted { echo } => {
            let mut e = to_event(echo).with_summary("the Hub accepted this GUI");
            e.kind = Kind::Ready;
            e
        }
        GuiEvent::Reinitialize(f) | GuiEvent::Echoed(f) => to_event(f),
        GuiEvent::Status(s) => status_to_event(s),
        GuiEvent::Stray(m) => match m.as_frame() {
            Some(f) => to_event(f).with_attr("galaxy.msg_type", m.msg_type.code()),
            None => Event::new(Protocol::Galaxy, Kind::Other, m.msg_type.name())
                .with_summary(m.to_string()),
        },
        GuiEvent::Closed => Event::new(Protocol::Galaxy, Kind::EndOfStream, "disconnect")
            .with_summary("the Hub disconnected"),
        GuiEvent::ConnectionLost => Event::new(Protocol::Galaxy, Kind::EndOfStream, "closed")
            .with_summary("the Hub closed the connection without DISCONNECT"),
    }
}

/// The frame an event was made from.
///
/// Events from [`to_event`] carry `galaxy.frame` and give the identical frame back. Other Galaxy
/// events (built by hand or translated from another protocol) become a clause frame named
/// [`Event::name`], each `galaxy.<key>` attribute a property `:<key>`: integers as ints (when
/// they fit 32 bits, else strings), floats as floats, text as strings, bytes as binary,
/// booleans as 0/1, lists as lists, maps read as structured values.
pub fn from_event(event: &Event) -> Result<Frame, EventError> {
    if event.protocol != Protocol::Galaxy {
        return Err(EventError::NotGalaxy(event.protocol.to_string()));
    }
    if let Some(v) = event.attr("galaxy.frame") {
        return value_to_frame(v);
    }
    let mut f = Frame::clause(event.name.as_bytes().to_vec());
    for (k, v) in event.attributes.iter() {
        if let Some(key) = k.strip_prefix("galaxy.") {
            f.set(format!(":{key}"), loose_object(v));
        }
    }
    Ok(f)
}

/// A hand-made attribute value as an object (never fails: see [`from_event`]).
fn loose_object(v: &Value) -> Object {
    match v {
        Value::Bool(b) => Object::Int(i32::from(*b)),
        Value::Float(x) => Object::Float(*x as f32),
        Value::Str(s) => Object::String(s.as_bytes().into()),
        Value::Bytes(b) => Object::Binary(b.as_slice().into()),
        Value::List(l) => Object::List(l.iter().map(loose_object).collect()),
        Value::Map(_) => value_to_object(v).unwrap_or_else(|_| Object::string(v.to_string())),
        other => match other.as_i64().and_then(|i| i32::try_from(i).ok()) {
            Some(i) => Object::Int(i),
            None => Object::String(other.to_string().into_bytes().into_boxed_slice()),
        },
    }
}

/// The attribute keys whose values [`Event::summary`] already states for this event; a
/// one-line view (the `monwire` terminal view) leaves them out unless asked for every
/// attribute.
pub fn summary_keys(event: &Event) -> &'static [&'static str] {
    match event.name.as_str() {
        "provider_status" => &["galaxy.provider_id", "galaxy.connected", "galaxy.init"],
        "new_service_type" => &["galaxy.service", "galaxy.port"],
        "message_event" => &[
            "galaxy.provider_id",
            "galaxy.msg_name",
            "galaxy.msg_type",
            "galaxy.destination",
        ],
        "session_status" => &["galaxy.action", "galaxy.session_id", "galaxy.debug"],
        "session_lock_status" => &[
            "galaxy.action",
            "galaxy.session_id",
            "galaxy.lock_type",
            "galaxy.debug",
        ],
        "session_alarm_status" => &["galaxy.action", "galaxy.alarm_key", "galaxy.session_id"],
        "token_status" => &["galaxy.action", "galaxy.tidx", "galaxy.debug"],
        "listener_status" => &["galaxy.action", "galaxy.port"],
        "message_queue_status" => &["galaxy.action", "galaxy.queue"],
        "hub_debug_prompt" => &["galaxy.server_tidx"],
        "handshake" => &["galaxy.conn_type"],
        _ => &[],
    }
}

// ---------------------------------------------------------------------------------------------
// The structured form.

/// A frame as its structured value (see [the module docs](self#the-structured-form)).
pub fn frame_to_value(frame: &Frame) -> Value {
    let mut m = Map::with_capacity(4);
    m.push_unchecked(
        "type",
        match frame.ftype.letter() {
            Some(l) => Value::Str(char::from(l).to_string()),
            None => Value::Int(frame.ftype.code().into()),
        },
    );
    if let Some(name) = &frame.name {
        m.push_unchecked("name", text(name));
    }
    if frame
        .keyed_props()
        .all(|(k, _)| k.as_static().is_some() || std::str::from_utf8(k).is_ok())
    {
        let mut keys = Map::with_capacity(frame.len());
        for (k, v) in frame.keyed_props() {
            // Well-known keys are static text: no allocation.
            let key: Cow<'static, str> = match k.as_static() {
                Some(s) => Cow::Borrowed(s),
                None => Cow::Owned(String::from_utf8_lossy(k).into_owned()),
            };
            keys.push_unchecked(key, object_to_value(v));
        }
        m.push_unchecked("keys", Value::Map(keys));
    } else {
        let pairs = frame
            .props()
            .map(|(k, v)| Value::List(vec![text(k), object_to_value(v)]))
            .collect();
        m.push_unchecked("keys", Value::List(pairs));
    }
    if !frame.preds().is_empty() {
        m.push_unchecked(
            "preds",
            Value::List(frame.preds().iter().map(frame_to_value).collect()),
        );
    }
    Value::Map(m)
}

/// Text when the bytes are UTF-8, else bytes.
fn text(b: &[u8]) -> Value {
    match std::str::from_utf8(b) {
        Ok(s) => Value::Str(s.to_owned()),
        Err(_) => Value::Bytes(b.to_vec()),
    }
}

fn tagged(tag: &'static str, v: Value) -> Value {
    let mut m = Map::with_capacity(1);
    m.push_unchecked(tag, v);
    Value::Map(m)
}

fn f32_value(x: f32) -> Value {
    if x.is_finite() {
        Value::Float(f64::from(x))
    } else {
        tagged("bits", Value::UInt(x.to_bits().into()))
    }
}

fn f64_value(x: f64) -> Value {
    if x.is_finite() {
        Value::Float(x)
    } else {
        tagged("bits", Value::UInt(x.to_bits()))
    }
}

fn ints<T: Copy + Into<i64>>(v: &[T]) -> Value {
    Value::List(v.iter().map(|&x| Value::Int(x.into())).collect())
}

/// An object as its structured value (see [the module docs](self#the-structured-form)).
pub fn object_to_value(obj: &Object) -> Value {
    match obj {
        Object::Frame(f) => frame_to_value(f),
        Object::String(s) => match std::str::from_utf8(s) {
            Ok(t) => Value::Str(t.to_owned()),
            Err(_) => tagged("string", Value::Bytes(s.to_vec())),
        },
        Object::Int(v) => Value::Int((*v).into()),
        Object::Float(x) if x.is_finite() => Value::Float(f64::from(*x)),
        Object::Float(x) => tagged("float_bits", Value::UInt(x.to_bits().into())),
        Object::Symbol(s) => tagged("symbol", text(s)),
        Object::List(items) => Value::List(items.iter().map(object_to_value).collect()),
        Object::Binary(b) => Value::Bytes(b.to_vec()),
        Object::Int16(v) => tagged("int16", ints(v)),
        Object::Int32(v) => tagged("int32", ints(v)),
        Object::Int64(v) => tagged("int64", ints(v)),
        Object::Float32(v) => tagged(
            "float32",
            Value::List(v.iter().copied().map(f32_value).collect()),
        ),
        Object::Float64(v) => tagged(
            "float64",
            Value::List(v.iter().copied().map(f64_value).collect()),
        ),
        Object::Keyword(s) => tagged("keyword", text(s)),
        Object::Tag(s) => tagged("tag", text(s)),
        Object::Token(s) => tagged("token", text(s)),
        Object::Proxy(p) => {
            let mut m = Map::with_capacity(4);
            m.push_unchecked("call_id", text(&p.call_id));
            m.push_unchecked("host", text(&p.host));
            m.push_unchecked("port", Value::Int(p.port.into()));
            m.push_unchecked("object_type", Value::Int(p.object_type.into()));
            tagged("proxy", Value::Map(m))
        }
        Object::Null => tagged("null", Value::Bool(true)),
    }
}

/// Reads a structured frame back (the inverse of [`frame_to_value`]).
pub fn value_to_frame(v: &Value) -> Result<Frame, EventError> {
    let mut path = Vec::new();
    Reader { path: &mut path }.frame(v, 1)
}

/// Reads a structured object back (the inverse of [`object_to_value`]).
pub fn value_to_object(v: &Value) -> Result<Object, EventError> {
    let mut path = Vec::new();
    Reader { path: &mut path }.object(v, 1)
}

struct Reader<'p> {
    /// The path so far, for errors (only built on failure from these segments).
    path: &'p mut Vec<String>,
}

impl Reader<'_> {
    fn fail<T>(&self, what: &'static str) -> Result<T, EventError> {
        Err(EventError::BadFrame {
            path: self.path.concat(),
            what,
        })
    }

    fn at<T>(
        &mut self,
        seg: impl FnOnce() -> String,
        f: impl FnOnce(&mut Self) -> Result<T, EventError>,
    ) -> Result<T, EventError> {
        self.path.push(seg());
        let r = f(self);
        if r.is_ok() {
            self.path.pop();
        }
        r
    }

    fn bytes(&self, v: &Value) -> Result<Box<[u8]>, EventError> {
        match v {
            Value::Str(s) => Ok(s.as_bytes().into()),
            Value::Bytes(b) => Ok(b.as_slice().into()),
            _ => self.fail("expected text or bytes"),
        }
    }

    fn int<T: TryFrom<i64>>(&self, v: &Value) -> Result<T, EventError> {
        match v.as_i64().map(T::try_from) {
            Some(Ok(x)) => Ok(x),
            Some(Err(_)) => self.fail("integer out of range"),
            None => self.fail("expected an integer"),
        }
    }

    fn list<'v>(&self, v: &'v Value) -> Result<&'v [Value], EventError> {
        match v {
            Value::List(l) => Ok(l),
            _ => self.fail("expected a list"),
        }
    }

    fn frame(&mut self, v: &Value, depth: usize) -> Result<Frame, EventError> {
        if depth > MAX_DEPTH_CAP {
            return self.fail("nested too deep");
        }
        let Value::Map(m) = v else {
            return self.fail("expected a frame map");
        };
        let ftype = match m.get("type") {
            Some(Value::Str(s)) => match s.as_str() {
                "c" => FrameType::Clause,
                "q" => FrameType::Topic,
                "p" => FrameType::Pred,
                _ => return self.at(|| ".type".into(), |r| r.fail("unknown frame type")),
            },
            Some(t @ (Value::Int(_) | Value::UInt(_))) => {
                let code = self.at(|| ".type".into(), |r| r.int::<i32>(t))?;
                if FrameType::from_code(code).letter().is_some() {
                    return self.at(|| ".type".into(), |r| r.fail("use the letter"));
                }
                FrameType::from_code(code)
            }
            _ => return self.fail("a frame needs a type"),
        };
        for (k, _) in m.iter() {
            if !matches!(k, "type" | "name" | "keys" | "preds") {
                return self.fail("unknown frame field");
            }
        }
        let mut frame = Frame::unnamed(ftype);
        if let Some(n) = m.get("name") {
            frame.name = Some(self.at(|| ".name".into(), |r| r.bytes(n))?);
        }
        match m.get("keys") {
            None => return self.fail("a frame needs keys"),
            Some(Value::Map(keys)) => {
                for (k, val) in keys.iter() {
                    let obj = self.at(|| format!(".keys.{k:?}"), |r| r.object(val, depth + 1))?;
                    frame.push_unchecked(crate::message::Key::new(k.as_bytes()), obj);
                }
            }
            Some(Value::List(pairs)) => {
                let mut seen = std::collections::HashSet::new();
                for (i, pair) in pairs.iter().enumerate() {
                    let (key, obj) = self.at(
                        || format!(".keys[{i}]"),
                        |r| match r.list(pair)? {
                            [k, val] => Ok((r.bytes(k)?, r.object(val, depth + 1)?)),
                            _ => r.fail("a key pair is [key, value]"),
                        },
                    )?;
                    if !seen.insert(key.clone()) {
                        return self.at(|| format!(".keys[{i}]"), |r| r.fail("duplicate key"));
                    }
                    frame.push_unchecked(crate::message::Key::from_vec(key.into_vec()), obj);
                }
            }
            Some(_) => return self.at(|| ".keys".into(), |r| r.fail("expected a map or list")),
        }
        if let Some(p) = m.get("preds") {
            let preds = self.at(|| ".preds".into(), |r| r.list(p))?;
            for (i, p) in preds.iter().enumerate() {
                let pred = self.at(|| format!(".preds[{i}]"), |r| r.frame(p, depth + 1))?;
                frame.push_pred(pred);
            }
        }
        Ok(frame)
    }

    fn floats<T>(
        &mut self,
        v: &Value,
        conv: impl Fn(&Self, &Value) -> Result<T, EventError>,
    ) -> Result<Box<[T]>, EventError> {
        let items = self.list(v)?;
        let mut out = Vec::with_capacity(items.len());
        for (i, x) in items.iter().enumerate() {
            out.push(self.at(|| format!("[{i}]"), |r| conv(r, x))?);
        }
        Ok(out.into_boxed_slice())
    }

    fn object(&mut self, v: &Value, depth: usize) -> Result<Object, EventError> {
        if depth > MAX_DEPTH_CAP {
            return self.fail("nested too deep");
        }
        Ok(match v {
            Value::Str(s) => Object::String(s.as_bytes().into()),
            Value::Int(_) | Value::UInt(_) => Object::Int(self.int(v)?),
            Value::Float(x) => Object::Float(*x as f32),
            Value::Bytes(b) => Object::Binary(b.as_slice().into()),
            Value::Bool(_) => return self.fail("a boolean has no Galaxy type"),
            Value::List(items) => {
                let mut out = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    out.push(self.at(|| format!("[{i}]"), |r| r.object(item, depth + 1))?);
                }
                Object::List(out.into_boxed_slice())
            }
            Value::Map(m) if m.get("type").is_some() => Object::from(self.frame(v, depth)?),
            Value::Map(m) => {
                let mut it = m.iter();
                let (Some((tag, inner)), None) = (it.next(), it.next()) else {
                    return self.fail("a typed value is a one-key map");
                };
                self.at(
                    || format!(".{tag}"),
                    |r| {
                        Ok(match tag {
                            "string" => Object::String(r.bytes(inner)?),
                            "symbol" => Object::Symbol(r.bytes(inner)?),
                            "keyword" => Object::Keyword(r.bytes(inner)?),
                            "tag" => Object::Tag(r.bytes(inner)?),
                            "token" => Object::Token(r.bytes(inner)?),
                            "float_bits" => Object::Float(f32::from_bits(r.int(inner)?)),
                            "int16" => Object::Int16(r.floats(inner, |r, x| r.int(x))?),
                            "int32" => Object::Int32(r.floats(inner, |r, x| r.int(x))?),
                            "int64" => Object::Int64(r.floats(inner, |r, x| r.int(x))?),
                            "float32" => Object::Float32(r.floats(inner, |r, x| match x {
                                Value::Float(f) => Ok(*f as f32),
                                Value::Map(b) => match b.get("bits") {
                                    Some(bits) if b.len() == 1 => Ok(f32::from_bits(r.int(bits)?)),
                                    _ => r.fail("expected a float or {\"bits\": u32}"),
                                },
                                other => match other.as_f64() {
                                    Some(f) => Ok(f as f32),
                                    None => r.fail("expected a float"),
                                },
                            })?),
                            "float64" => Object::Float64(r.floats(inner, |r, x| match x {
                                Value::Float(f) => Ok(*f),
                                Value::Map(b) => match b.get("bits") {
                                    Some(bits) if b.len() == 1 => match bits.as_u64() {
                                        Some(bits) => Ok(f64::from_bits(bits)),
                                        None => r.fail("expected an unsigned integer"),
                                    },
                                    _ => r.fail("expected a float or {\"bits\": u64}"),
                                },
                                other => match other.as_f64() {
                                    Some(f) => Ok(f),
                                    None => r.fail("expected a float"),
                                },
                            })?),
                            "proxy" => {
                                let Value::Map(p) = inner else {
                                    return r.fail("expected a map");
                                };
                                let field = |r: &Self, k: &str| {
                                    p.get(k)
                                        .map_or_else(|| r.fail("a proxy field is missing"), Ok)
                                };
                                Object::from(Proxy {
                                    call_id: r.bytes(field(r, "call_id")?)?.into_vec(),
                                    host: r.bytes(field(r, "host")?)?.into_vec(),
                                    port: r.int(field(r, "port")?)?,
                                    object_type: r.int(field(r, "object_type")?)?,
                                })
                            }
                            "null" => Object::Null,
                            _ => return r.fail("unknown Galaxy type"),
                        })
                    },
                )?
            }
            _ => return self.fail("a value of no Galaxy type"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::{pr_frame, read_frame};

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
        assert_eq!(e.summary.as_deref(), Some("provider [0] connected"));
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

    #[test]
    fn a_bad_structure_says_where() {
        let f = read_frame(b"{c x :a ( 1 2 ) }").unwrap();
        let mut v = frame_to_value(&f);
        if let Value::Map(m) = &mut v
            && let Some(Value::Map(keys)) = m.get_mut("keys")
            && let Some(Value::List(l)) = keys.get_mut(":a")
        {
            l[1] = Value::Bool(true);
        }
        let err = value_to_frame(&v).unwrap_err();
        assert_eq!(
            err.to_string(),
            "galaxy.frame.keys.\":a\"[1]: a boolean has no Galaxy type"
        );
    }
}
