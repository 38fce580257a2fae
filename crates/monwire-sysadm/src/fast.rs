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
use serde::de::{self, Deserializer, MapAccess, Visitor};
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

/// Gives up the fast path (the general path decides, and reports any error).
fn bail<E: de::Error>() -> E {
    E::custom("fast path declined")
}

/// The top level: the envelope strings, `args` left raw (classified once the names are known),
/// other keys as values.
struct Envelope<'de> {
    namespace: Option<String>,
    name: Option<String>,
    id: Option<String>,
    args: Option<&'de RawValue>,
    extra: Object,
}

impl<'de> Deserialize<'de> for Envelope<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Envelope<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a message")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Envelope<'de>, A::Error> {
                let mut e = Envelope {
                    namespace: None,
                    name: None,
                    id: None,
                    args: None,
                    extra: Object::new(),
                };
                while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
                    let slot = match &*k {
                        "namespace" => &mut e.namespace,
                        "name" => &mut e.name,
                        "id" => &mut e.id,
                        "args" => {
                            if e.args.replace(map.next_value()?).is_some() {
                                return Err(bail());
                            }
                            continue;
                        }
                        _ => {
                            let v: Value = map.next_value()?;
                            if e.extra.insert(k.into_owned(), v).is_some() {
                                return Err(bail());
                            }
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
                Ok(e)
            }
        }
        d.deserialize_map(V)
    }
}

/// Decodes `text` on the fast path, or `None` to let the general path do it.
pub(crate) fn decode(bytes: &[u8]) -> Option<Message> {
    let env: Envelope<'_> = serde_json::from_slice(bytes).ok()?;
    let namespace = env.namespace?;
    let name = env.name?;
    let id = env.id.unwrap_or_default();
    let raw = env.args?;
    if namespace != ns::EVENTS
        || matches!(
            name.as_str(),
            "subscribe" | "unsubscribe" | "response" | "error"
        )
    {
        return None;
    }
    let body = event_body(&name, raw.get())?;
    Some(Message {
        namespace,
        name,
        id,
        body: crate::message::Body::Event(body),
        extra: env.extra,
    })
}

fn event_body(name: &str, args: &str) -> Option<EventBody> {
    let is_object = args.trim_start().starts_with('{');
    let typed = match name {
        _ if !is_object => None,
        names::DISPATCHER => serde_json::from_str::<DispatcherArgs>(args)
            .ok()
            .and_then(|d| d.finish())
            .map(EventBody::Dispatcher),
        names::LIFE_PRESERVER => serde_json::from_str::<LpArgs>(args)
            .ok()
            .map(|a| EventBody::LifePreserver(a.0)),
        names::SYSTEM_STATE => serde_json::from_str::<StateArgs>(args)
            .ok()
            .map(|a| EventBody::SystemState(a.0)),
        names::BRIDGE => serde_json::from_str::<BridgeArgs>(args)
            .ok()
            .map(|a| EventBody::Bridge(a.0)),
        _ => {
            return Some(EventBody::Unknown {
                name: name.to_owned(),
                args: serde_json::from_str(args).ok()?,
            });
        }
    };
    match typed {
        Some(t) => Some(t),
        None if !is_object => Some(EventBody::Unknown {
            name: name.to_owned(),
            args: serde_json::from_str(args).ok()?,
        }),
        None => None,
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

struct LpArgs(LifePreserver);

impl<'de> Deserialize<'de> for LpArgs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LpArgs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("life-preserver args")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LpArgs, A::Error> {
                let (mut class, mut message, mut priority) = (None, None, None);
                let mut extra = Object::new();
                while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
                    match &*k {
                        "class" => once(&mut class, LpClass::from_text(string(&mut map)?))?,
                        "message" => once(&mut message, string(&mut map)?)?,
                        "priority" => once(&mut priority, Priority(string(&mut map)?))?,
                        _ => put(&mut extra, k, map.next_value()?)?,
                    }
                }
                Ok(LpArgs(LifePreserver {
                    class,
                    message,
                    priority,
                    extra,
                }))
            }
        }
        d.deserialize_map(V)
    }
}

struct BridgeArgs(BridgeAnnouncement);

impl<'de> Deserialize<'de> for BridgeArgs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = BridgeArgs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("bridge args")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BridgeArgs, A::Error> {
                let mut conns = None;
                let mut extra = Object::new();
                while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
                    match &*k {
                        "available_connections" => once(&mut conns, strings(&mut map)?)?,
                        _ => put(&mut extra, k, map.next_value()?)?,
                    }
                }
                Ok(BridgeArgs(BridgeAnnouncement {
                    available_connections: conns,
                    extra,
                }))
            }
        }
        d.deserialize_map(V)
    }
}

struct ZpoolArgs(Zpool);

impl<'de> Deserialize<'de> for ZpoolArgs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ZpoolArgs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a pool")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ZpoolArgs, A::Error> {
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
                            put(&mut z.extra, k, map.next_value()?)?;
                            continue;
                        }
                    };
                    once(slot, string(&mut map)?)?;
                }
                Ok(ZpoolArgs(z))
            }
        }
        d.deserialize_map(V)
    }
}

/// `zpools`: pool name → pool, in key order (the general path's map order).
struct Pools(Vec<(String, Zpool)>);

impl<'de> Deserialize<'de> for Pools {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Pools;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("pools")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Pools, A::Error> {
                let mut pools: Vec<(String, Zpool)> = Vec::new();
                while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
                    let ZpoolArgs(z) = map.next_value().map_err(|_| bail())?;
                    pools.push((k.into_owned(), z));
                }
                if !pools.is_sorted_by(|a, b| a.0 < b.0) {
                    pools.sort_by(|a, b| a.0.cmp(&b.0));
                    if pools.windows(2).any(|w| w[0].0 == w[1].0) {
                        return Err(bail());
                    }
                }
                Ok(Pools(pools))
            }
        }
        d.deserialize_map(V)
    }
}

struct StateArgs(SystemState);

impl<'de> Deserialize<'de> for StateArgs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = StateArgs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("system-state args")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<StateArgs, A::Error> {
                let mut s = SystemState::default();
                while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
                    match &*k {
                        "hostname" => once(&mut s.hostname, string(&mut map)?)?,
                        "hostnamechanged" => once(&mut s.hostname_changed, string(&mut map)?)?,
                        "priority" => once(&mut s.priority, Priority(string(&mut map)?))?,
                        "updates" => {
                            let u = map.next_value::<Object>().map_err(|_| bail())?;
                            once(&mut s.updates, u)?;
                        }
                        "zpools" => {
                            let Pools(p) = map.next_value().map_err(|_| bail())?;
                            once(&mut s.zpools, p)?;
                        }
                        _ => put(&mut s.extra, k, map.next_value()?)?,
                    }
                }
                Ok(StateArgs(s))
            }
        }
        d.deserialize_map(V)
    }
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
    ) -> Result<(), A::Error> {
        match map.next_value::<Value>()? {
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
        for (k, v) in strings {
            match k.strip_prefix(RC) {
                Some(cmd) => return_codes.push((cmd.to_owned(), v)),
                None => {
                    if extra.insert(k, Value::String(v)).is_some() {
                        return None;
                    }
                }
            }
        }
        // The general path reads return codes in key order.
        if !return_codes.is_sorted_by(|a, b| a.0 < b.0) {
            return_codes.sort_by(|a, b| a.0.cmp(&b.0));
            if return_codes.windows(2).any(|w| w[0].0 == w[1].0) {
                return None;
            }
        }
        if return_codes
            .iter()
            .any(|(c, _)| extra.contains_key(&format!("{RC}{c}")))
        {
            return None;
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
    let mut keys: Vec<&str> = strings.iter().map(|(k, _)| k.as_str()).collect();
    keys.sort_unstable();
    keys.windows(2).any(|w| w[0] == w[1]) || keys.iter().any(|k| extra.contains_key(*k))
}

struct LogArgs(LogFields);

impl<'de> Deserialize<'de> for LogArgs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LogArgs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a job log")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LogArgs, A::Error> {
                let mut f = LogFields::default();
                while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
                    if !f.take(&k, &mut map)? {
                        f.other(k, &mut map)?;
                    }
                }
                Ok(LogArgs(f))
            }
        }
        d.deserialize_map(V)
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

impl<'de> Deserialize<'de> for DispatcherArgs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DispatcherArgs;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("dispatcher args")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<DispatcherArgs, A::Error> {
                let mut a = DispatcherArgs {
                    event_system: None,
                    process_details: None,
                    log: LogFields::default(),
                };
                while let Some(Key(k)) = map.next_key::<Key<'de>>()? {
                    match &*k {
                        "event_system" => once(&mut a.event_system, string(&mut map)?)?,
                        "process_details" => {
                            let LogArgs(p) = map.next_value().map_err(|_| bail())?;
                            once(&mut a.process_details, p)?;
                        }
                        _ => {
                            if !a.log.take(&k, &mut map)? {
                                a.log.other(k, &mut map)?;
                            }
                        }
                    }
                }
                Ok(a)
            }
        }
        d.deserialize_map(V)
    }
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
                assert!(super::decode(bytes).is_some(), "{name}");
                n += 1;
            }
        }
        assert_eq!(n, 15);
    }
}
