//! Mapping between SysAdm messages and [`monwire_event::Event`].
//!
//! # Messages as events
//!
//! [`to_event`] maps **every** message: events, and also requests, replies and errors (for
//! `monwire decode sysadm` and logs). The event's `name` is the message's `name`, and these
//! attributes carry the message itself:
//!
//! | key | value | on the way back ([`from_event`]) |
//! |---|---|---|
//! | `sysadm.args` | the message's `args` as one structured value ([`Value::Map`](monwire_event::Value::Map) for an object, [`Value::List`](monwire_event::Value::List) for an array, scalars as themselves); absent when the message has no `args` | **the source of truth** |
//! | `sysadm.id` | the envelope `id`, only when not `""` | restored |
//! | `sysadm.namespace` | the envelope namespace, only when not `events` | restored |
//! | `sysadm.extra` | other top-level keys as a map, only when any | restored |
//! | `sysadm.message` | `request`, `reply` or `error`, for messages that are not events | derived, ignored |
//! | `sysadm.redacted` | `true` when secrets were taken out (see below) | refused |
//!
//! JSON numbers become `Int`/`UInt`/`Float` as serde_json reads them; JSON `null` (which SysAdm
//! never sends) becomes an empty [`Value::Bytes`](monwire_event::Value::Bytes), the one value
//! JSON text cannot otherwise produce, so the way back is exact.
//!
//! No attribute repeats a field of `args` as it is written. Only **normalized** values derived
//! from them are added, for filters and for the terminal view:
//!
//! | key | value |
//! |---|---|
//! | `sysadm.return_code` | dispatcher: the first non-zero exit code, else the first (an integer) |
//! | `sysadm.updates_available` | dispatcher `pkg_check_upgrade`: a boolean |
//! | `sysadm.priority_level` | life-preserver and system-state: the number of `"<n> - <Level>"` |
//! | `sysadm.unhealthy_pools` | system-state: the pools whose health is not `ONLINE` |
//!
//! The [`summary`](monwire_event::Event::summary) says what happened in a few words
//! (`job sysadm_pkg_install-{…} finished, rc 0`, `snapshot: New snapshot of tank`,
//! `trueos-box: 0 - Information, pool tank ONLINE`); [`summary_keys`] lists the attributes it
//! already states.
//!
//! `subject` is the dispatcher `process_id`, the life-preserver `class`, the system-state
//! `hostname`, `bridge`, or for messages that are not events their namespace. Severity follows
//! SysAdm's priority levels: 0-2 `INFO`, 3-5 `WARN`, 6-8 `ERROR`, 9-10 `FATAL`; a dispatcher job
//! with a non-zero return code is `ERROR`.
//!
//! # Secrets
//!
//! A message that [may carry a secret](Message::carries_secret) (decided by its namespace and
//! name, never by the shape of its `args`: `rpc/auth*` requests and `rpc` replies) never puts
//! it in the event: its `args` become `"<redacted>"`, except the `username` of a well-formed
//! `auth`, its extra keys are dropped, and `sysadm.redacted` is `true`. [`from_event`] refuses
//! such an event ([`FromEventError::Redacted`]), so the lossless law below holds for every
//! message that carries no secret.
//!
//! # Normalization table
//!
//! | Kind | SysAdm (`sysadm`) |
//! |---|---|
//! | `starting` | `dispatcher` with state `pending` |
//! | `started` | `dispatcher` with state `running` (start notice, no output yet); `life-preserver` "Starting replication" |
//! | `progress` | `dispatcher` running with output or `current_cmd`; `life-preserver` replication progress (`Replicating …`) |
//! | `stopped` | `dispatcher` `finished` with every return code `"0"`; `life-preserver` "Finished replication" |
//! | `failed` | `dispatcher` `finished` with a non-zero return code; `life-preserver` priority ≥ 6 (replication failed); an error reply |
//! | `saved` | `life-preserver` class `snapshot` |
//! | `state` | `system-state` |
//! | `connected` | `bridge` with a non-empty `available_connections`; session: websocket connected (client) or accepted (server) |
//! | `disconnected` | `bridge` with an empty `available_connections`; session: connection lost or closed |
//! | `authenticated` | session: auth succeeded |
//! | `connecting` | session: reconnect scheduled / attempt under way |
//! | `updated` | session: subscription set changed (`subscribed`) |
//! | `failed` | session: auth rejected, subscriber queue overflow (`overflow`) |
//! | `other` | any other event name; dispatcher states this version does not know; requests and replies |
//!
//! # Session events
//!
//! The sessions report what happened to the connection as `Event`s too. They carry the
//! attribute `sysadm.session` = `true` and have no wire form ([`from_event`] refuses them).
//! Names: [`session::CONNECTED`], [`session::DISCONNECTED`], [`session::AUTHENTICATED`],
//! [`session::AUTH_FAILED`], [`session::SUBSCRIBED`], [`session::RECONNECTING`],
//! [`session::OVERFLOW`], [`session::DECODE_ERROR`].
//!
//! # Bridged events (monwire extension)
//!
//! [`bridged_message`] wraps any other protocol's `Event` as a SysAdm event named
//! `monwire-<protocol>` (`monwire-zmq`, `monwire-nsm`, `monwire-ray`, `monwire-galaxy`) whose
//! `args` is the event's stable JSON form (`monwire_event::json`); [`unwrap_bridged`] takes it
//! back out. They reach clients that subscribe to those names (monwire's own client, Python
//! `websockets`, a browser). The reference Qt client (`sysadm-ui-qt`) only surfaces
//! `dispatcher`, `life-preserver` and `system-state` and silently drops every other name.

use std::borrow::Cow;

use monwire_event::{Event, Kind, Map as EvMap, Protocol, Severity, Value as EvValue};
use serde_json::{Number, Value};

use crate::error::FromEventError;
use crate::message::{
    Body, Dispatcher, EventBody, JobState, LpClass, Message, Object, Priority, ProcessLog,
    RC_PREFIX, REDACTED, Reply, Request, Zpool, ns,
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
    /// A public key was registered for the certificate login (`rpc/settings`
    /// `register_ssl_cert`; server: `sysadm.user`, `sysadm.nickname`).
    pub const KEY_REGISTERED: &str = "key_registered";
    /// A registered public key was revoked (`revoke_ssl_cert`; server: `sysadm.user`).
    pub const KEY_REVOKED: &str = "key_revoked";
}

/// The prefix of bridged event names.
pub const BRIDGED_PREFIX: &str = "monwire-";

/// The deepest structured value [`from_event`] turns back into JSON (the decoder's own limit is
/// 64 by default).
const MAX_DEPTH: usize = 128;

/// A session event (attribute `sysadm.session` = `true`) with its summary.
pub fn session_event(kind: Kind, name: &str, subject: &str, summary: impl Into<String>) -> Event {
    Event::new(Protocol::SysAdm, kind, name)
        .with_subject(subject)
        .with_summary(summary)
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

/// A JSON value as an attribute value (see the module docs for `null`).
pub fn json_to_value(v: &Value) -> EvValue {
    match v {
        Value::Null => EvValue::Bytes(Vec::new()),
        Value::Bool(b) => EvValue::Bool(*b),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                EvValue::UInt(u)
            } else if let Some(i) = n.as_i64() {
                EvValue::Int(i)
            } else {
                EvValue::Float(n.as_f64().unwrap_or(0.0))
            }
        }
        Value::String(s) => EvValue::Str(s.clone()),
        Value::Array(items) => EvValue::List(items.iter().map(json_to_value).collect()),
        Value::Object(m) => EvValue::Map(object_to_map(m)),
    }
}

fn object_to_map(m: &Object) -> EvMap {
    let mut out = EvMap::with_capacity(m.len());
    for (k, v) in m {
        // serde_json's map has unique keys.
        out.push_unchecked(k.clone(), json_to_value(v));
    }
    out
}

/// [`json_to_value`] of a value that is no longer needed: strings and keys move.
fn json_into_value(v: Value) -> EvValue {
    match v {
        Value::String(s) => EvValue::Str(s),
        Value::Array(items) => EvValue::List(items.into_iter().map(json_into_value).collect()),
        Value::Object(m) => EvValue::Map(object_into_map(m)),
        other => json_to_value(&other),
    }
}

fn object_into_map(m: Object) -> EvMap {
    let mut out = EvMap::with_capacity(m.len());
    for (k, v) in m {
        // serde_json's map has unique keys.
        out.push_unchecked(k, json_into_value(v));
    }
    out
}

/// The entries of a JSON object, pushed in the order `to_object` inserts them and then put in
/// the order of serde_json's map (keys by bytes; of a repeated key the last one wins), so that
/// [`body_into_value`] gives exactly `json_to_value(&body.to_args())`.
struct Entries(Vec<(Cow<'static, str>, EvValue)>);

impl Entries {
    fn with_extra(extra: Object, typed: usize) -> Entries {
        let mut v = Vec::with_capacity(extra.len() + typed);
        for (k, val) in extra {
            v.push((Cow::Owned(k), json_into_value(val)));
        }
        Entries(v)
    }

    fn put(&mut self, key: &'static str, value: impl Into<EvValue>) {
        self.0.push((Cow::Borrowed(key), value.into()));
    }

    fn put_str(&mut self, key: &'static str, value: Option<String>) {
        if let Some(v) = value {
            self.put(key, v);
        }
    }

    fn finish(self) -> EvValue {
        let mut v = self.0;
        if !v.is_sorted_by(|a, b| a.0 < b.0) {
            // Stable: of equal keys the last pushed stays last, and wins below.
            v.sort_by(|a, b| a.0.cmp(&b.0));
        }
        let mut m = EvMap::with_capacity(v.len());
        let mut it = v.into_iter().peekable();
        while let Some((k, val)) = it.next() {
            if it.peek().is_some_and(|next| next.0 == k) {
                continue;
            }
            m.push_unchecked(k, val);
        }
        EvValue::Map(m)
    }
}

/// An object of typed fields (`typed`, in key order, each key once) over its extra keys,
/// merged straight into one map in the order of serde_json's map; a typed field wins over an
/// extra key of the same name, as in `to_object`.
fn merged<const N: usize>(extra: Object, typed: [(&'static str, Option<EvValue>); N]) -> EvValue {
    debug_assert!(typed.is_sorted_by(|a, b| a.0 < b.0));
    let mut m = EvMap::with_capacity(extra.len() + N);
    let mut typed = typed
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
        .peekable();
    for (k, v) in extra {
        while let Some((tk, tv)) = typed.next_if(|(tk, _)| *tk < k.as_str()) {
            m.push_unchecked(tk, tv);
        }
        if typed.peek().is_some_and(|(tk, _)| *tk == k) {
            continue;
        }
        m.push_unchecked(k, json_into_value(v));
    }
    for (tk, tv) in typed {
        m.push_unchecked(tk, tv);
    }
    EvValue::Map(m)
}

fn str_list_value(items: Vec<String>) -> EvValue {
    EvValue::List(items.into_iter().map(EvValue::Str).collect())
}

fn log_value(l: ProcessLog) -> EvValue {
    let mut m = Entries::with_extra(l.extra, 6 + l.outputs.len() + l.return_codes.len());
    m.put_str("process_id", l.process_id);
    if let Some(s) = l.state {
        m.put("state", s.as_str().to_owned());
    }
    if let Some(c) = l.cmd_list {
        m.put("cmd_list", str_list_value(c));
    }
    m.put_str("current_cmd", l.current_cmd);
    m.put_str("time_started", l.time_started);
    m.put_str("time_finished", l.time_finished);
    for (cmd, out) in l.outputs {
        m.0.push((Cow::Owned(cmd), EvValue::Str(out)));
    }
    for (cmd, code) in l.return_codes {
        let mut k = String::with_capacity(RC_PREFIX.len() + cmd.len());
        k.push_str(RC_PREFIX);
        k.push_str(&cmd);
        m.0.push((Cow::Owned(k), EvValue::Str(code)));
    }
    m.finish()
}

fn pool_value(z: Zpool) -> EvValue {
    merged(
        z.extra,
        [
            ("alloc", z.alloc.map(EvValue::Str)),
            ("altroot", z.altroot.map(EvValue::Str)),
            ("capacity", z.capacity.map(EvValue::Str)),
            ("dedup", z.dedup.map(EvValue::Str)),
            ("expandsz", z.expandsz.map(EvValue::Str)),
            ("frag", z.frag.map(EvValue::Str)),
            ("free", z.free.map(EvValue::Str)),
            ("health", z.health.map(EvValue::Str)),
            ("size", z.size.map(EvValue::Str)),
        ],
    )
}

/// An event's `args` as a structured value, built from the typed payload: the same value as
/// `json_to_value(&body.to_args())`, without the JSON value in between.
pub(crate) fn body_to_value(body: &EventBody) -> EvValue {
    body_into_value(body.clone())
}

/// [`body_to_value`] of a payload that is no longer needed: its strings move into the value.
pub(crate) fn body_into_value(body: EventBody) -> EvValue {
    match body {
        EventBody::Dispatcher(Dispatcher::Job(l)) => log_value(l),
        EventBody::Dispatcher(Dispatcher::Class(c)) => merged(
            c.extras,
            [
                ("event_system", Some(EvValue::Str(c.event_system))),
                ("process_details", c.process_details.map(log_value)),
                ("state", c.state.map(|s| EvValue::from(s.as_str()))),
            ],
        ),
        EventBody::LifePreserver(l) => merged(
            l.extra,
            [
                ("class", l.class.map(|c| EvValue::from(c.as_str()))),
                ("message", l.message.map(EvValue::Str)),
                ("priority", l.priority.map(|p| EvValue::Str(p.0))),
            ],
        ),
        EventBody::SystemState(st) => {
            let zpools = st.zpools.map(|pools| {
                let mut pm = Entries(Vec::with_capacity(pools.len()));
                for (name, pool) in pools {
                    pm.0.push((Cow::Owned(name), pool_value(pool)));
                }
                pm.finish()
            });
            merged(
                st.extra,
                [
                    ("hostname", st.hostname.map(EvValue::Str)),
                    ("hostnamechanged", st.hostname_changed.map(EvValue::Str)),
                    ("priority", st.priority.map(|p| EvValue::Str(p.0))),
                    (
                        "updates",
                        st.updates.map(|u| EvValue::Map(object_into_map(u))),
                    ),
                    ("zpools", zpools),
                ],
            )
        }
        EventBody::Bridge(b) => merged(
            b.extra,
            [(
                "available_connections",
                b.available_connections.map(str_list_value),
            )],
        ),
        EventBody::Unknown { args, .. } => json_into_value(args),
    }
}

/// An attribute value as JSON: the inverse of [`json_to_value`]. `attr` names it in errors.
pub fn value_to_json(v: &EvValue, attr: &'static str) -> Result<Value, FromEventError> {
    to_json(v, attr, MAX_DEPTH)
}

fn to_json(v: &EvValue, attr: &'static str, depth: usize) -> Result<Value, FromEventError> {
    let no_form = |what: &str| FromEventError::NoJsonForm {
        attr,
        what: what.to_owned(),
    };
    let depth = depth
        .checked_sub(1)
        .ok_or_else(|| no_form("nests too deep"))?;
    Ok(match v {
        EvValue::Bool(b) => Value::Bool(*b),
        EvValue::Int(i) => Value::Number(Number::from(*i)),
        EvValue::UInt(u) => Value::Number(Number::from(*u)),
        EvValue::Float(f) => {
            Value::Number(Number::from_f64(*f).ok_or_else(|| no_form("a non-finite float"))?)
        }
        EvValue::Str(s) => Value::String(s.clone()),
        EvValue::Bytes(b) if b.is_empty() => Value::Null,
        EvValue::Bytes(_) => return Err(no_form("bytes")),
        EvValue::List(items) => Value::Array(
            items
                .iter()
                .map(|i| to_json(i, attr, depth))
                .collect::<Result<_, _>>()?,
        ),
        EvValue::Map(m) => {
            let mut o = Object::new();
            for (k, v) in m.iter() {
                o.insert(k.to_owned(), to_json(v, attr, depth)?);
            }
            Value::Object(o)
        }
        _ => return Err(no_form("an unknown value type")),
    })
}

/// Maps any message to an `Event` (see the module docs): events with their normalized kind,
/// severity, subject and summary; requests, replies and errors as `other`/`failed` events named
/// after the message. Secrets are redacted.
pub fn to_event(message: &Message) -> Event {
    let secret = message.carries_secret();
    let args = if secret {
        Some(redacted_args(message))
    } else {
        match &message.body {
            // Straight from the typed payload, with no JSON value in between.
            Body::Event(body) => Some(body_to_value(body)),
            _ => message.args().map(|a| json_to_value(&a)),
        }
    };
    event_with(message, args, secret)
}

/// [`to_event`] of a message that is no longer needed: the same event, with the strings of an
/// event's `args` moved into it instead of copied (what `monwire decode` does with each
/// message it reads).
///
/// ```
/// use monwire_sysadm::codec::{Limits, decode};
/// use monwire_sysadm::event::{into_event, to_event};
/// let m = decode(br#"{"args":{"class":"snapshot","message":"New snapshot of tank","priority":"1 - Information"},"id":"","name":"life-preserver","namespace":"events"}"#, &Limits::default())?;
/// assert_eq!(to_event(&m), into_event(m));
/// # Ok::<(), monwire_sysadm::error::DecodeError>(())
/// ```
pub fn into_event(mut message: Message) -> Event {
    if message.carries_secret() || !matches!(message.body, Body::Event(_)) {
        return to_event(&message);
    }
    // Everything else is read from the message first; then its payload moves into `args`,
    // which keeps its place as the first attribute.
    let mut e = event_with(&message, Some(EvValue::Bool(false)), false);
    if let Body::Event(body) = std::mem::replace(&mut message.body, Body::NoArgs)
        && let Some(slot) = e.attributes.get_mut("sysadm.args")
    {
        *slot = body_into_value(body);
    }
    e
}

/// The event of `message` with `args` as its `sysadm.args`.
fn event_with(message: &Message, args: Option<EvValue>, secret: bool) -> Event {
    let mut e = Event::new(Protocol::SysAdm, Kind::Other, message.name.clone());
    e.attributes = EvMap::with_capacity(4);
    let what = match &message.body {
        Body::Event(_) => None,
        Body::Request(_) | Body::NoArgs => Some("request"),
        Body::Reply(_) => Some("reply"),
        Body::Error(_) => Some("error"),
    };
    if let Some(args) = args {
        e.attributes.push_unchecked("sysadm.args", args);
    }
    if !message.id.is_empty() {
        e.attributes.insert("sysadm.id", message.id.clone());
    }
    if message.namespace != ns::EVENTS {
        e.attributes
            .insert("sysadm.namespace", message.namespace.clone());
    }
    if !message.extra.is_empty() && !secret {
        e.attributes
            .insert("sysadm.extra", EvValue::Map(object_to_map(&message.extra)));
    }
    if let Some(what) = what {
        e.attributes.insert("sysadm.message", what);
        e.subject = message.namespace.clone();
    }
    if secret {
        e.attributes.insert("sysadm.redacted", true);
    }
    match &message.body {
        Body::Event(body) => describe(body, &mut e),
        Body::Error(_) => {
            e.kind = Kind::Failed;
            e.severity = Severity::Warn;
        }
        _ => {}
    }
    e.summary = Some(summary(message));
    e
}

fn redacted_args(message: &Message) -> EvValue {
    match &message.body {
        Body::Request(Request::Auth(c)) => {
            let mut m = EvMap::with_capacity(2);
            m.push_unchecked("password", REDACTED);
            m.push_unchecked("username", c.username.clone());
            EvValue::Map(m)
        }
        _ => EvValue::from(REDACTED),
    }
}

fn describe(body: &EventBody, e: &mut Event) {
    match body {
        EventBody::Dispatcher(d) => {
            let log = d.log();
            let state = d.state();
            if let Some(pid) = log.and_then(|l| l.process_id.as_deref()) {
                e.subject = pid.to_owned();
            }
            if let Dispatcher::Class(c) = d
                && let Some(u) = c.updates_available()
            {
                e.attributes.insert("sysadm.updates_available", u);
            }
            let failed = log.is_some_and(|l| l.failed());
            if let Some(code) = log.and_then(return_code)
                && let Ok(n) = code.trim().parse::<i64>()
            {
                e.attributes.insert("sysadm.return_code", n);
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
            }
            priority_attrs(s.priority.as_ref(), e);
            if let Some(pools) = &s.zpools {
                let bad: Vec<EvValue> = pools
                    .iter()
                    .filter(|(_, p)| p.health.as_deref().is_some_and(|h| h != "ONLINE"))
                    .map(|(n, _)| EvValue::from(n.as_str()))
                    .collect();
                if !bad.is_empty() {
                    e.attributes.insert("sysadm.unhealthy_pools", bad);
                }
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
        }
        EventBody::Unknown { .. } => {}
    }
}

fn return_code(l: &crate::message::ProcessLog) -> Option<&str> {
    l.return_codes
        .iter()
        .find(|(_, c)| c.trim() != "0")
        .or(l.return_codes.first())
        .map(|(_, c)| c.as_str())
}

fn priority_attrs(p: Option<&Priority>, e: &mut Event) {
    if let Some(p) = p {
        if let Some(n) = p.level() {
            e.attributes.insert("sysadm.priority_level", n);
        }
        e.severity = severity_of(p);
    }
}

/// One line of text: control characters (LF in a replication failure) become spaces.
fn one_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    push_line(&mut out, s);
    out
}

/// Appends [`one_line`] of `s` to `out`.
fn push_line(out: &mut String, s: &str) {
    // The C0 controls, DEL and the C1 controls (U+0080..U+009F, encoded 0xC2 0x80..0x9F).
    let plain = s.bytes().all(|b| b >= 0x20 && b != 0x7f && b != 0xc2);
    if plain {
        out.push_str(s);
    } else {
        out.extend(s.chars().map(|c| if c.is_control() { ' ' } else { c }));
    }
}

/// The one-line summary of a message (what [`to_event`] puts in `Event::summary`, and what
/// `Display` for [`Message`] prints). Secrets are never part of it.
pub fn summary(message: &Message) -> String {
    let path = || format!("{}/{}", message.namespace, message.name);
    let id = || {
        if message.id.is_empty() {
            String::new()
        } else {
            format!(" {}", message.id)
        }
    };
    match &message.body {
        Body::Event(body) => event_summary(body),
        Body::Request(r) if message.carries_secret() => match r {
            Request::Auth(c) => format!(
                "{} request{}: user {} (password redacted)",
                path(),
                id(),
                one_line(&c.username)
            ),
            _ => format!("{} request{} (redacted)", path(), id()),
        },
        Body::Request(r) => {
            let what = match r {
                Request::Subscribe(t) | Request::Unsubscribe(t) => {
                    format!(": {}", one_line(&t.names().join(", ")))
                }
                _ => String::new(),
            };
            format!("{} request{}{what}", path(), id())
        }
        Body::NoArgs => format!("{} request{} without args", path(), id()),
        Body::Reply(r) => {
            let what = match r {
                Reply::Identify(p) => {
                    format!(": {} {}", p.peer_type.as_str(), one_line(&p.hostname))
                }
                Reply::Token(_) => ": token (redacted)".to_owned(),
                Reply::Challenge { .. } => ": auth_ssl challenge".to_owned(),
                Reply::Subscription(Some((verb, name))) => {
                    format!(": {} {}", verb.as_str(), one_line(name))
                }
                Reply::Subscription(None) => ": no known event name".to_owned(),
                Reply::RpcOther(_) => " (redacted)".to_owned(),
                _ => String::new(),
            };
            format!("{} reply{}{what}", message.namespace, id())
        }
        Body::Error(err) => format!("error{}: {}", id(), one_line(&err.describe())),
    }
}

/// The one-line summary of an event payload.
pub fn event_summary(body: &EventBody) -> String {
    match body {
        EventBody::Dispatcher(d) => {
            let log = d.log();
            let mut s = String::with_capacity(96);
            s.push_str("job ");
            match log.and_then(|l| l.process_id.as_deref()) {
                Some(pid) => push_line(&mut s, pid),
                None => s.push_str("(no id)"),
            }
            match d.state() {
                Some(st) => {
                    s.push(' ');
                    push_line(&mut s, st.as_str());
                }
                None => s.push_str(" (no state)"),
            }
            if let Some(l) = log {
                if let Some(code) = return_code(l) {
                    s.push_str(", rc ");
                    push_line(&mut s, code);
                } else if let Some(cmd) = &l.current_cmd {
                    s.push_str(": ");
                    push_line(&mut s, cmd);
                }
            }
            if let Dispatcher::Class(c) = d {
                match c.updates_available() {
                    Some(true) => s.push_str(", updates available"),
                    Some(false) => s.push_str(", no updates"),
                    None => {}
                }
            }
            s
        }
        EventBody::LifePreserver(l) => {
            let class = l.class.as_ref().map_or("life-preserver", LpClass::as_str);
            let mut s =
                String::with_capacity(class.len() + 2 + l.message.as_ref().map_or(0, String::len));
            push_line(&mut s, class);
            if let Some(m) = &l.message {
                s.push_str(": ");
                push_line(&mut s, m);
            }
            s
        }
        EventBody::SystemState(st) => {
            let mut s = String::with_capacity(96);
            match st.hostname.as_deref() {
                Some(h) => push_line(&mut s, h),
                None => s.push_str("system state"),
            }
            let mut first = true;
            let mut part = |s: &mut String| {
                s.push_str(if first { ": " } else { ", " });
                first = false;
            };
            if let Some(p) = &st.priority {
                part(&mut s);
                push_line(&mut s, &p.0);
            }
            if let Some(pools) = &st.zpools {
                for (name, pool) in pools {
                    part(&mut s);
                    s.push_str("pool ");
                    push_line(&mut s, name);
                    s.push(' ');
                    push_line(&mut s, pool.health.as_deref().unwrap_or("?"));
                }
            }
            if let Some(u) = st.update_status() {
                part(&mut s);
                s.push_str("updates ");
                push_line(&mut s, u);
            }
            if st.hostname_changed.is_some() {
                part(&mut s);
                s.push_str("hostname changed");
            }
            s
        }
        EventBody::Bridge(b) => {
            let n = b.available_connections.as_ref().map_or(0, Vec::len);
            match n {
                1 => "bridge: 1 connection available".to_owned(),
                n => format!("bridge: {n} connections available"),
            }
        }
        EventBody::Unknown { name, .. } => format!("event {}", one_line(name)),
    }
}

fn text_attr<'a>(event: &'a Event, key: &'static str) -> Result<Option<&'a str>, FromEventError> {
    match event.attr(key) {
        None => Ok(None),
        Some(EvValue::Str(s)) => Ok(Some(s)),
        Some(_) => Err(FromEventError::NotText(key)),
    }
}

/// Rebuilds the message from an `Event` made by [`to_event`] (the lossless way back).
pub fn from_event(event: &Event) -> Result<Message, FromEventError> {
    if event.protocol != Protocol::SysAdm {
        return Err(FromEventError::WrongProtocol(event.protocol.to_string()));
    }
    if event.attr("sysadm.session").is_some() {
        return Err(FromEventError::SessionEvent(event.name.clone()));
    }
    if event.attr("sysadm.redacted").is_some() {
        return Err(FromEventError::Redacted(event.name.clone()));
    }
    let args = event
        .attr("sysadm.args")
        .map(|v| value_to_json(v, "sysadm.args"))
        .transpose()?;
    let extra = match event.attr("sysadm.extra") {
        None => Object::new(),
        Some(v) => match value_to_json(v, "sysadm.extra")? {
            Value::Object(m) => m,
            _ => return Err(FromEventError::NotAMap("sysadm.extra")),
        },
    };
    let namespace = text_attr(event, "sysadm.namespace")?.unwrap_or(ns::EVENTS);
    let id = text_attr(event, "sysadm.id")?.unwrap_or_default();
    Ok(Message::from_parts(
        namespace.to_owned(),
        event.name.clone(),
        id.to_owned(),
        args,
        extra,
    ))
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
        && let Ok(m) = from_event(event)
        && m.as_event().is_some()
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
    if event.protocol != Protocol::SysAdm {
        return &[];
    }
    if event.attr("sysadm.session").is_some() {
        return match event.name.as_str() {
            session::CONNECTED => &["sysadm.session", "sysadm.connection", "sysadm.conn"],
            session::RECONNECTING => &["sysadm.session", "sysadm.delay_ms", "sysadm.error"],
            session::AUTH_FAILED | session::DECODE_ERROR | session::DISCONNECTED => {
                &["sysadm.session", "sysadm.error", "sysadm.reason"]
            }
            session::SUBSCRIBED => &[
                "sysadm.session",
                "sysadm.requested",
                "sysadm.confirmed",
                "sysadm.error",
            ],
            session::OVERFLOW => &["sysadm.session", "sysadm.action", "sysadm.dropped"],
            session::AUTHENTICATED => &["sysadm.session", "sysadm.user"],
            _ => &["sysadm.session"],
        };
    }
    match event.name.as_str() {
        crate::message::names::DISPATCHER => &["sysadm.return_code", "sysadm.updates_available"],
        crate::message::names::SYSTEM_STATE => &["sysadm.priority_level", "sysadm.unhealthy_pools"],
        _ if event.attr("sysadm.message").is_some() => &[
            "sysadm.message",
            "sysadm.namespace",
            "sysadm.id",
            "sysadm.redacted",
        ],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{ClassEvent, SystemState};

    /// `body_to_value` is `json_to_value(&to_args())`, also where a typed field and an extra
    /// key share a name (the typed one wins, as in `to_object`) and where pools or return codes
    /// are not in key order.
    #[test]
    fn structured_args_match_the_json_args() {
        let mut extra = Object::new();
        extra.insert("hostname".into(), Value::from("shadowed"));
        extra.insert("a".into(), Value::from(1));
        extra.insert("zz".into(), Value::Null);
        let pool = |h: &str| Zpool {
            health: Some(h.into()),
            extra: extra.clone(),
            ..Zpool::default()
        };
        let st = EventBody::SystemState(SystemState {
            hostname: Some("h".into()),
            zpools: Some(vec![
                ("tank".into(), pool("ONLINE")),
                ("a".into(), pool("X")),
            ]),
            extra: extra.clone(),
            ..SystemState::default()
        });
        let log = ProcessLog {
            process_id: Some("p".into()),
            state: Some(JobState::Finished),
            cmd_list: Some(vec!["b".into(), "a".into()]),
            outputs: vec![("b".into(), "out b".into()), ("a".into(), "out a".into())],
            return_codes: vec![("b".into(), "1".into()), ("a".into(), "0".into())],
            extra: extra.clone(),
            ..ProcessLog::default()
        };
        let class = EventBody::Dispatcher(Dispatcher::Class(ClassEvent {
            event_system: "sysadm/pkg".into(),
            state: None,
            process_details: Some(log.clone()),
            extras: extra,
        }));
        for body in [st, class, EventBody::Dispatcher(Dispatcher::Job(log))] {
            assert_eq!(body_to_value(&body), json_to_value(&body.to_args()));
        }
    }
}
