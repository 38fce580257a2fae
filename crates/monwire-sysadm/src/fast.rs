//! The fast path of [`crate::codec::decode`]: serde_json deserializes straight into the typed
//! messages, with no `serde_json::Value` tree in between for the parts the types model.
//!
//! It only takes the shapes real traffic has (every known key once, with the JSON type the
//! types expect). Anything else (a duplicate key, a known key of another type, a request or
//! reply) makes it give up with `None`, and the general path (parse to a `Value`, then type it)
//! decodes the message instead; a test and the fuzz target check that both paths give the same
//! message for any input.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::message::{
    BridgeAnnouncement, ClassEvent, Dispatcher, EventBody, JobState, LifePreserver, LpClass,
    Message, Object, Priority, ProcessLog, SystemState, Zpool, names, ns,
};

/// A map key, borrowed from the input when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A `serde_json::Value` read with a bound on its nesting: `left` containers deep at most,
/// this one included (what `check_depth` enforces on the general path).
#[derive(Clone, Copy)]
struct Deep(usize);

impl<'de> DeserializeSeed<'de> for Deep {
    type Value = Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Deep {
    type Value = Value;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let inner = Deep(self.0.checked_sub(1).ok_or_else(bail)?);
        let mut v = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            v.push(item);
        }
        Ok(Value::Array(v))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let inner = Deep(self.0.checked_sub(1).ok_or_else(bail)?);
        let mut m = Object::new();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            let v = map.next_value_seed(inner)?;
            m.insert(k.into_owned(), v);
        }
        Ok(Value::Object(m))
    }
}

/// A child value of a container that may hold `left` more levels.
fn child<'de, A: MapAccess<'de>>(map: &mut A, left: usize) -> Result<Value, A::Error> {
    map.next_value_seed(Deep(left))
}

/// Gives up the fast path (the general path decides, and reports any error).
fn bail<E: de::Error>() -> E {
    E::custom("fast path declined")
}

/// The event name a message most likely has, read from its tail without parsing it: SysAdm
/// writes keys sorted, so `args` comes first and `…,"name":"<name>","namespace":"events"}`
/// ends the text. A wrong guess costs nothing: the names actually parsed are checked against
/// it, and a mismatch declines the fast path.
fn guess_name(bytes: &[u8]) -> Option<&str> {
    const TAIL: &[u8] = br#"","namespace":"events"}"#;
    const NAME: &[u8] = br#","name":""#;
    let body = bytes.strip_suffix(TAIL)?;
    let start = body.windows(NAME.len()).rposition(|w| w == NAME)? + NAME.len();
    let name = body.get(start..)?;
    if name.iter().any(|&b| b == b'"' || b == b'\\') {
        return None;
    }
    std::str::from_utf8(name).ok()
}

/// The top level, filled in place as the keys come (the typed payload is large: building it
/// where it ends up saves copying it through every return on the way up).
struct Envelope<'de> {
    namespace: Option<String>,
    name: Option<String>,
    id: Option<String>,
    /// `args`, typed in the same pass when the name was guessed.
    typed: Option<EventBody>,
    /// `args` kept raw when the name could not be guessed.
    raw: Option<&'de RawValue>,
    extra: Object,
}

struct EnvelopeSeed<'a, 'de> {
    guess: Option<&'a str>,
    max: usize,
    out: &'a mut Envelope<'de>,
}

impl<'de> DeserializeSeed<'de> for EnvelopeSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EnvelopeSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a message")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let e = self.out;
        // The envelope is depth 1; `args` and the extra values are depth 2.
        let left = self.max - 1;
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            let slot = match &*k {
                "namespace" => &mut e.namespace,
                "name" => &mut e.name,
                "id" => &mut e.id,
                "args" => {
                    if e.typed.is_some() || e.raw.is_some() {
                        return Err(bail());
                    }
                    match self.guess {
                        Some(name) => map.next_value_seed(EventArgs {
                            name,
                            left,
                            out: &mut e.typed,
                        })?,
                        None => e.raw = Some(map.next_value()?),
                    }
                    continue;
                }
                _ => {
                    put(&mut e.extra, k, child(&mut map, left)?)?;
                    continue;
                }
            };
            let Some(s) = map.next_value::<Option<String>>().ok().flatten() else {
                return Err(bail());
            };
            if slot.replace(s).is_some() {
                return Err(bail());
            }
        }
        Ok(())
    }
}

/// Decodes `bytes` on the fast path, or `None` to let the general path do it (which then also
/// reports any error). `max_depth` is [`Limits::max_depth`](crate::codec::Limits).
pub(crate) fn decode(bytes: &[u8], max_depth: usize) -> Option<Message> {
    // The typed levels go 4 deep (envelope, args, process_details or zpools, a pool).
    if max_depth < 4 {
        return None;
    }
    // UTF-8 is checked once for the whole text, so that serde_json need not check each string
    // on its own (invalid text is the general path's to report).
    let text = std::str::from_utf8(bytes).ok()?;
    let guess = guess_name(text.as_bytes());
    let mut env = Envelope {
        namespace: None,
        name: None,
        id: None,
        typed: None,
        raw: None,
        extra: Object::new(),
    };
    let mut de = serde_json::Deserializer::from_str(text);
    EnvelopeSeed {
        guess,
        max: max_depth,
        out: &mut env,
    }
    .deserialize(&mut de)
    .ok()?;
    de.end().ok()?;
    let namespace = env.namespace?;
    let name = env.name?;
    let id = env.id.unwrap_or_default();
    if namespace != ns::EVENTS
        || matches!(
            name.as_str(),
            "subscribe" | "unsubscribe" | "response" | "error"
        )
    {
        return None;
    }
    let body = match (env.typed, env.raw) {
        (Some(body), _) if guess == Some(name.as_str()) => body,
        (Some(_), _) | (None, None) => return None,
        (None, Some(raw)) => {
            let mut de = serde_json::Deserializer::from_str(raw.get());
            let mut body = None;
            EventArgs {
                name: &name,
                left: max_depth - 1,
                out: &mut body,
            }
            .deserialize(&mut de)
            .ok()?;
            de.end().ok()?;
            body?
        }
    };
    Some(Message {
        namespace,
        name,
        id,
        body: crate::message::Body::Event(body),
        extra: env.extra,
    })
}

/// An event's `args` for event `name`, typed into `out`; `left` levels of nesting allowed,
/// its own included.
struct EventArgs<'a> {
    name: &'a str,
    left: usize,
    out: &'a mut Option<EventBody>,
}

impl<'de> DeserializeSeed<'de> for EventArgs<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl EventArgs<'_> {
    fn unknown(self, args: Value) {
        *self.out = Some(EventBody::Unknown {
            name: self.name.to_owned(),
            args,
        });
    }
}

impl<'de> Visitor<'de> for EventArgs<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("event args")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        let v = Deep(self.left).visit_bool(v)?;
        self.unknown(v);
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        let v = Deep(self.left).visit_i64(v)?;
        self.unknown(v);
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        let v = Deep(self.left).visit_u64(v)?;
        self.unknown(v);
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        let v = Deep(self.left).visit_f64(v)?;
        self.unknown(v);
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.unknown(Value::String(v.to_owned()));
        Ok(())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        self.unknown(Value::String(v));
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.unknown(Value::Null);
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<(), A::Error> {
        let v = Deep(self.left).visit_seq(seq)?;
        self.unknown(v);
        Ok(())
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        let left = self.left;
        match self.name {
            names::DISPATCHER => dispatcher(map, left, self.out)?,
            names::LIFE_PRESERVER => {
                *self.out = Some(EventBody::LifePreserver(life_preserver(map, left)?));
            }
            names::SYSTEM_STATE => {
                *self.out = Some(EventBody::SystemState(system_state(map, left)?));
            }
            names::BRIDGE => *self.out = Some(EventBody::Bridge(bridge(map, left)?)),
            _ => {
                let v = Deep(left).visit_map(map)?;
                self.unknown(v);
            }
        }
        Ok(())
    }
}

/// Sets a field once; a second occurrence declines the fast path.
fn once<T, E: de::Error>(slot: &mut Option<T>, v: T) -> Result<(), E> {
    if slot.replace(v).is_some() {
        Err(bail())
    } else {
        Ok(())
    }
}

fn put<E: de::Error>(extra: &mut Object, k: Cow<'_, str>, v: Value) -> Result<(), E> {
    if extra.insert(k.into_owned(), v).is_some() {
        Err(bail())
    } else {
        Ok(())
    }
}

/// A string field: anything but a string declines.
fn string<'de, A: MapAccess<'de>>(map: &mut A) -> Result<String, A::Error> {
    map.next_value::<String>().map_err(|_| bail())
}

fn strings<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Vec<String>, A::Error> {
    map.next_value::<Vec<String>>().map_err(|_| bail())
}

fn life_preserver<'de, A: MapAccess<'de>>(
    mut map: A,
    left: usize,
) -> Result<LifePreserver, A::Error> {
    let (mut class, mut message, mut priority) = (None, None, None);
    let mut extra = Object::new();
    while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
        match &*k {
            "class" => once(&mut class, LpClass::from_text(string(&mut map)?))?,
            "message" => once(&mut message, string(&mut map)?)?,
            "priority" => once(&mut priority, Priority(string(&mut map)?))?,
            _ => put(&mut extra, k, child(&mut map, left - 1)?)?,
        }
    }
    Ok(LifePreserver {
        class,
        message,
        priority,
        extra,
    })
}

fn bridge<'de, A: MapAccess<'de>>(mut map: A, left: usize) -> Result<BridgeAnnouncement, A::Error> {
    let mut conns = None;
    let mut extra = Object::new();
    while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
        match &*k {
            "available_connections" => once(&mut conns, strings(&mut map)?)?,
            _ => put(&mut extra, k, child(&mut map, left - 1)?)?,
        }
    }
    Ok(BridgeAnnouncement {
        available_connections: conns,
        extra,
    })
}

struct ZpoolSeed(usize);

impl<'de> DeserializeSeed<'de> for ZpoolSeed {
    type Value = Zpool;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Zpool, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for ZpoolSeed {
    type Value = Zpool;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a pool")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Zpool, A::Error> {
        let left = self.0.checked_sub(1).ok_or_else(bail)?;
        let mut z = Zpool::default();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            let slot = match &*k {
                "alloc" => &mut z.alloc,
                "altroot" => &mut z.altroot,
                "capacity" => &mut z.capacity,
                "dedup" => &mut z.dedup,
                "expandsz" => &mut z.expandsz,
                "frag" => &mut z.frag,
                "free" => &mut z.free,
                "health" => &mut z.health,
                "size" => &mut z.size,
                _ => {
                    put(&mut z.extra, k, child(&mut map, left)?)?;
                    continue;
                }
            };
            once(slot, string(&mut map)?)?;
        }
        Ok(z)
    }
}

/// `zpools`: pool name → pool, in key order (the general path's map order).
struct PoolsSeed(usize);

impl<'de> DeserializeSeed<'de> for PoolsSeed {
    type Value = Vec<(String, Zpool)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for PoolsSeed {
    type Value = Vec<(String, Zpool)>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("pools")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let left = self.0.checked_sub(1).ok_or_else(bail)?;
        let mut pools: Vec<(String, Zpool)> = Vec::new();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            let z = map.next_value_seed(ZpoolSeed(left)).map_err(|_| bail())?;
            pools.push((k.into_owned(), z));
        }
        if !pools.is_sorted_by(|a, b| a.0 < b.0) {
            pools.sort_by(|a, b| a.0.cmp(&b.0));
            if pools.windows(2).any(|w| w[0].0 == w[1].0) {
                return Err(bail());
            }
        }
        Ok(pools)
    }
}

fn system_state<'de, A: MapAccess<'de>>(mut map: A, left: usize) -> Result<SystemState, A::Error> {
    let mut s = SystemState::default();
    while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
        match &*k {
            "hostname" => once(&mut s.hostname, string(&mut map)?)?,
            "hostnamechanged" => once(&mut s.hostname_changed, string(&mut map)?)?,
            "priority" => once(&mut s.priority, Priority(string(&mut map)?))?,
            "updates" => match child(&mut map, left - 1)? {
                Value::Object(u) => once(&mut s.updates, u)?,
                _ => return Err(bail()),
            },
            "zpools" => {
                let p = map
                    .next_value_seed(PoolsSeed(left - 1))
                    .map_err(|_| bail())?;
                once(&mut s.zpools, p)?;
            }
            _ => put(&mut s.extra, k, child(&mut map, left - 1)?)?,
        }
    }
    Ok(s)
}

/// The keys of a job's log object, read as the general path reads them.
#[derive(Default)]
struct LogFields {
    process_id: Option<String>,
    state: Option<String>,
    cmd_list: Option<Vec<String>>,
    current_cmd: Option<String>,
    time_started: Option<String>,
    time_finished: Option<String>,
    /// Other keys with string values, in input order (outputs, return codes, the rest).
    strings: Vec<(String, String)>,
    /// Other keys.
    extra: Object,
}

impl LogFields {
    /// Takes `k` if it is a log key; `false` when it is not one (the caller handles it).
    fn take<'de, A: MapAccess<'de>>(
        &mut self,
        k: &Cow<'de, str>,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match &**k {
            "process_id" => once(&mut self.process_id, string(map)?)?,
            "state" => once(&mut self.state, string(map)?)?,
            "cmd_list" => once(&mut self.cmd_list, strings(map)?)?,
            "current_cmd" => once(&mut self.current_cmd, string(map)?)?,
            "time_started" => once(&mut self.time_started, string(map)?)?,
            "time_finished" => once(&mut self.time_finished, string(map)?)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    fn other<'de, A: MapAccess<'de>>(
        &mut self,
        k: Cow<'de, str>,
        map: &mut A,
        left: usize,
    ) -> Result<(), A::Error> {
        match child(map, left)? {
            Value::String(s) => self.strings.push((k.into_owned(), s)),
            v => put(&mut self.extra, k, v)?,
        }
        Ok(())
    }

    /// The log, as `ProcessLog::from_object` would type the same object; `None` on a
    /// duplicate key.
    fn finish(self) -> Option<ProcessLog> {
        let mut strings = self.strings;
        if has_duplicates(&strings, &self.extra) {
            return None;
        }
        let mut outputs: Vec<(String, String)> = Vec::new();
        if let Some(cmds) = &self.cmd_list {
            for cmd in cmds {
                if outputs.iter().any(|(c, _)| c == cmd) {
                    continue;
                }
                if let Some(i) = strings.iter().position(|(k, _)| k == cmd) {
                    outputs.push(strings.swap_remove(i));
                }
            }
        }
        const RC: &str = "return_codes/";
        let mut return_codes: Vec<(String, String)> = Vec::new();
        let mut extra = self.extra;
        for (mut k, v) in strings {
            if k.starts_with(RC) {
                // The command without the prefix, in place.
                k.replace_range(..RC.len(), "");
                return_codes.push((k, v));
            } else if extra.insert(k, Value::String(v)).is_some() {
                return None;
            }
        }
        // The general path reads return codes in key order.
        if !return_codes.is_sorted_by(|a, b| a.0 < b.0) {
            return_codes.sort_by(|a, b| a.0.cmp(&b.0));
            if return_codes.windows(2).any(|w| w[0].0 == w[1].0) {
                return None;
            }
        }
        Some(ProcessLog {
            process_id: self.process_id,
            state: self.state.map(JobState::from_text),
            cmd_list: self.cmd_list,
            current_cmd: self.current_cmd,
            time_started: self.time_started,
            time_finished: self.time_finished,
            outputs,
            return_codes,
            extra,
        })
    }
}

/// Whether a key occurs twice among the string-valued keys, or also among the others
/// (`O(n log n)`, so a message of many keys stays linear-ish).
fn has_duplicates(strings: &[(String, String)], extra: &Object) -> bool {
    if strings.iter().any(|(k, _)| extra.contains_key(k)) {
        return true;
    }
    if strings.len() <= 8 {
        // A handful of keys (every real log): compare them pairwise, without allocating.
        return strings
            .iter()
            .enumerate()
            .any(|(i, (k, _))| strings.iter().skip(i + 1).any(|(o, _)| o == k));
    }
    let mut keys: Vec<&str> = strings.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    keys.windows(2).any(|w| w[0] == w[1])
}

/// A job log below `args` (`process_details`).
struct LogSeed(usize);

impl<'de> DeserializeSeed<'de> for LogSeed {
    type Value = LogFields;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<LogFields, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for LogSeed {
    type Value = LogFields;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a job log")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LogFields, A::Error> {
        let left = self.0.checked_sub(1).ok_or_else(bail)?;
        let mut f = LogFields::default();
        while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
            if !f.take(&k, &mut map)? {
                f.other(k, &mut map, left)?;
            }
        }
        Ok(f)
    }
}

/// `dispatcher` args: a class event when `event_system` is there, else a plain job's log.
struct DispatcherArgs {
    event_system: Option<String>,
    process_details: Option<LogFields>,
    log: LogFields,
}

impl DispatcherArgs {
    fn finish(self) -> Option<Dispatcher> {
        match self.event_system {
            Some(event_system) => {
                let log = self.log;
                // A class event's own keys other than `state` are extras.
                if log.process_id.is_some()
                    || log.cmd_list.is_some()
                    || log.current_cmd.is_some()
                    || log.time_started.is_some()
                    || log.time_finished.is_some()
                {
                    return None;
                }
                if has_duplicates(&log.strings, &log.extra) {
                    return None;
                }
                let mut extras = log.extra;
                for (k, v) in log.strings {
                    if extras.insert(k, Value::String(v)).is_some() {
                        return None;
                    }
                }
                let process_details = match self.process_details {
                    Some(p) => Some(p.finish()?),
                    None => None,
                };
                Some(Dispatcher::Class(ClassEvent {
                    event_system,
                    state: log.state.map(JobState::from_text),
                    process_details,
                    extras,
                }))
            }
            None if self.process_details.is_some() => None,
            None => Some(Dispatcher::Job(self.log.finish()?)),
        }
    }
}

fn dispatcher<'de, A: MapAccess<'de>>(
    mut map: A,
    left: usize,
    out: &mut Option<EventBody>,
) -> Result<(), A::Error> {
    let mut a = DispatcherArgs {
        event_system: None,
        process_details: None,
        log: LogFields::default(),
    };
    while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
        match &*k {
            "event_system" => once(&mut a.event_system, string(&mut map)?)?,
            "process_details" => {
                let p = map.next_value_seed(LogSeed(left - 1)).map_err(|_| bail())?;
                once(&mut a.process_details, p)?;
            }
            _ => {
                if !a.log.take(&k, &mut map)? {
                    a.log.other(k, &mut map, left - 1)?;
                }
            }
        }
    }
    *out = Some(EventBody::Dispatcher(a.finish().ok_or_else(bail)?));
    Ok(())
}

#[cfg(test)]
mod tests {
    /// Every golden event takes the fast path (so the bench measures it).
    #[test]
    fn golden_events_take_the_fast_path() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/vectors/sysadm");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("event-") && name.ends_with(".json") {
                let bytes = std::fs::read(&path).unwrap();
                let bytes = bytes.trim_ascii_end();
                assert!(super::decode(bytes, 64).is_some(), "{name}");
                n += 1;
            }
        }
        assert_eq!(n, 15);
    }
}
