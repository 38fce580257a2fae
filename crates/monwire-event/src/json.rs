//! The stable JSON form of [`Event`] (feature `serde`).
//!
//! One event is one JSON object with these keys, in this order:
//!
//! | key | JSON type | meaning |
//! |---|---|---|
//! | `protocol` | string | [`Protocol::as_str`] |
//! | `source` | string, omitted when absent | [`Event::source`] |
//! | `subject` | string | [`Event::subject`] |
//! | `kind` | string | [`Kind::as_str`]; an unknown kind reads as `"other"` |
//! | `name` | string | [`Event::name`] |
//! | `severity` | string | [`Severity::as_str`] (`"INFO"`) |
//! | `severity_number` | number | [`Severity::number`] (written for readers; ignored on input) |
//! | `time_unix_nano` | number, omitted when absent | [`Event::time`] in nanoseconds since 1970 |
//! | `observed_unix_nano` | number, omitted when absent | [`Event::observed`], likewise |
//! | `summary` | string, omitted when absent | [`Event::summary`] |
//! | `attributes` | object | [`Event::attributes`] in order |
//!
//! Attribute values map to JSON as booleans, numbers, strings, arrays and objects:
//!
//! | [`Value`] | JSON |
//! |---|---|
//! | `Bool`, `Int`, `UInt`, `Float` | boolean, number |
//! | `Str` | string |
//! | `List` | array |
//! | `Map` | object, keys in order; a key that starts with `$` is written with one more `$` in front (`"$x"` → `"$$x"`) and read back without it |
//! | `Bytes` | `{"$hex": "0a1b…"}`, the one object whose only key is `$hex` |
//!
//! So every value has exactly one JSON form and reads back as itself. A non-finite float, or a
//! time before 1970 or after 2554, cannot be written and is a serialization error. Nested
//! values deeper than 128 levels are rejected on input (`serde_json`'s recursion limit).

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::{self, MapAccess, SeqAccess, Visitor};
use serde::ser::{self, SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::event::{Event, Kind, Protocol, Severity};
use crate::value::{Attributes, Map, Value};

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Bool(v) => s.serialize_bool(*v),
            Value::Int(v) => s.serialize_i64(*v),
            Value::UInt(v) => s.serialize_u64(*v),
            Value::Float(v) if v.is_finite() => s.serialize_f64(*v),
            Value::Float(v) => Err(ser::Error::custom(format!(
                "non-finite float {v} has no JSON form"
            ))),
            Value::Str(v) => s.serialize_str(v),
            Value::Bytes(v) => {
                let mut m = s.serialize_map(Some(1))?;
                m.serialize_entry(BYTES_KEY, &Hex(v))?;
                m.end()
            }
            Value::Map(map) => {
                let mut m = s.serialize_map(Some(map.len()))?;
                for (k, v) in map.iter() {
                    if k.starts_with('$') {
                        m.serialize_entry(&EscapedKey(k), v)?;
                    } else {
                        m.serialize_entry(k, v)?;
                    }
                }
                m.end()
            }
            Value::List(v) => {
                let mut seq = s.serialize_seq(Some(v.len()))?;
                for item in v {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
        }
    }
}

/// The key of the one-key object that stands for [`Value::Bytes`].
const BYTES_KEY: &str = "$hex";

/// A map key that starts with `$`, written with one more `$` in front.
struct EscapedKey<'a>(&'a str);

impl Serialize for EscapedKey<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("${}", self.0))
    }
}

struct Hex<'a>(&'a [u8]);

impl Serialize for Hex<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use std::fmt::Write;
        let mut out = String::with_capacity(self.0.len() * 2);
        for b in self.0 {
            let _ = write!(out, "{b:02x}");
        }
        s.serialize_str(&out)
    }
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    text.as_bytes()
        .chunks_exact(2)
        .map(|pair| {
            let hi = (pair[0] as char).to_digit(16)?;
            let lo = (pair[1] as char).to_digit(16)?;
            u8::try_from(hi * 16 + lo).ok()
        })
        .collect()
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
        d.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a boolean, number, string, array or object")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Int(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::UInt(v))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::Str(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::Str(v))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::List(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        let mut first = true;
        while let Some(key) = map.next_key::<String>()? {
            if first && key == BYTES_KEY {
                let text: String = map.next_value()?;
                if map.next_key::<String>()?.is_some() {
                    return Err(de::Error::custom("{\"$hex\": …} takes one key"));
                }
                return unhex(&text).map(Value::Bytes).ok_or_else(|| {
                    de::Error::custom("\"$hex\" must be an even number of hex digits")
                });
            }
            first = false;
            let key = match key.strip_prefix('$') {
                Some(rest) if rest.starts_with('$') => rest.to_owned(),
                Some(_) => {
                    return Err(de::Error::custom(format!(
                        "object key {key:?}: a key that starts with `$` is written `$${}`",
                        &key[1..]
                    )));
                }
                None => key,
            };
            if out.get(&key).is_some() {
                return Err(de::Error::custom(format!("duplicate key {key:?}")));
            }
            let value: Value = map.next_value()?;
            out.push_unchecked(key, value);
        }
        Ok(Value::Map(out))
    }
}

impl Serialize for Attributes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

impl<'de> Deserialize<'de> for Attributes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Attributes, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Attributes;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of attributes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Attributes, A::Error> {
                let mut attrs = Attributes::new();
                while let Some((k, v)) = map.next_entry::<String, Value>()? {
                    if attrs.get(&k).is_some() {
                        return Err(de::Error::custom(format!("duplicate attribute {k:?}")));
                    }
                    attrs.insert(k, v);
                }
                Ok(attrs)
            }
        }
        d.deserialize_map(V)
    }
}

fn unix_nanos<E: ser::Error>(t: SystemTime) -> Result<u64, E> {
    let d = t
        .duration_since(UNIX_EPOCH)
        .map_err(|_| E::custom("time before 1970 has no JSON form"))?;
    u64::try_from(d.as_nanos()).map_err(|_| E::custom("time after 2554 has no JSON form"))
}

impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("protocol", self.protocol.as_str())?;
        if let Some(source) = &self.source {
            m.serialize_entry("source", source)?;
        }
        m.serialize_entry("subject", &self.subject)?;
        m.serialize_entry("kind", self.kind.as_str())?;
        m.serialize_entry("name", &self.name)?;
        m.serialize_entry("severity", self.severity.as_str())?;
        m.serialize_entry("severity_number", &self.severity.number())?;
        if let Some(t) = self.time {
            m.serialize_entry("time_unix_nano", &unix_nanos::<S::Error>(t)?)?;
        }
        if let Some(t) = self.observed {
            m.serialize_entry("observed_unix_nano", &unix_nanos::<S::Error>(t)?)?;
        }
        if let Some(summary) = &self.summary {
            m.serialize_entry("summary", summary)?;
        }
        m.serialize_entry("attributes", &self.attributes)?;
        m.end()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EventRepr {
    protocol: String,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    subject: String,
    kind: String,
    name: String,
    severity: String,
    #[serde(default)]
    #[allow(dead_code)] // written for readers, derived from `severity` on input
    severity_number: Option<u8>,
    #[serde(default)]
    time_unix_nano: Option<u64>,
    #[serde(default)]
    observed_unix_nano: Option<u64>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    attributes: Attributes,
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Event, D::Error> {
        let r = EventRepr::deserialize(d)?;
        let severity = Severity::from_name(&r.severity)
            .ok_or_else(|| de::Error::custom(format!("unknown severity {:?}", r.severity)))?;
        Ok(Event {
            protocol: Protocol::from_name(&r.protocol),
            source: r.source,
            subject: r.subject,
            kind: Kind::from_name(&r.kind).unwrap_or(Kind::Other),
            name: r.name,
            severity,
            time: r
                .time_unix_nano
                .map(|n| UNIX_EPOCH + Duration::from_nanos(n)),
            observed: r
                .observed_unix_nano
                .map(|n| UNIX_EPOCH + Duration::from_nanos(n)),
            summary: r.summary,
            attributes: r.attributes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_shape() {
        let e = Event::new(Protocol::Zmq, Kind::Connected, "CONNECTED")
            .with_subject("tcp://127.0.0.1:5555")
            .with_observed(UNIX_EPOCH + Duration::from_nanos(1_700_000_000_000_000_001))
            .with_attr("zmq.fd", 25u64)
            .with_attr("zmq.raw", vec![0u8, 0xff]);
        let text = serde_json::to_string(&e).unwrap();
        assert_eq!(
            text,
            r#"{"protocol":"zmq","subject":"tcp://127.0.0.1:5555","kind":"connected","name":"CONNECTED","severity":"INFO","severity_number":9,"observed_unix_nano":1700000000000000001,"attributes":{"zmq.fd":25,"zmq.raw":{"$hex":"00ff"}}}"#
        );
        let back: Event = serde_json::from_str(&text).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn rejects_what_it_cannot_represent() {
        let nan = Event::new(Protocol::Zmq, Kind::Other, "X").with_attr("f", f64::NAN);
        assert!(serde_json::to_string(&nan).is_err());
        let bad = r#"{"protocol":"zmq","kind":"other","name":"X","severity":"LOUD"}"#;
        let err = serde_json::from_str::<Event>(bad).unwrap_err();
        assert!(err.to_string().contains("unknown severity"), "{err}");
        let dup = r#"{"protocol":"zmq","kind":"other","name":"X","severity":"INFO","attributes":{"a":1,"a":2}}"#;
        assert!(serde_json::from_str::<Event>(dup).is_err());
        let odd = r#"{"protocol":"zmq","kind":"other","name":"X","severity":"INFO","attributes":{"a":{"$hex":"abc"}}}"#;
        assert!(serde_json::from_str::<Event>(odd).is_err());
        let unescaped = r#"{"protocol":"zmq","kind":"other","name":"X","severity":"INFO","attributes":{"a":{"$x":1}}}"#;
        assert!(serde_json::from_str::<Event>(unescaped).is_err());
    }

    #[test]
    fn maps_are_objects_and_never_read_as_bytes() {
        let mut inner = Map::new();
        inner.insert("$hex", "00ff");
        inner.insert("b", Value::List(vec![1u64.into(), "two words".into()]));
        let mut outer = Map::new();
        outer.insert("z", 1u64);
        outer.insert("a", Value::Map(inner));
        let e = Event::new(Protocol::SysAdm, Kind::Other, "X")
            .with_summary("a summary")
            .with_attr("sysadm.args", Value::Map(outer));
        let text = serde_json::to_string(&e).unwrap();
        assert!(
            text.ends_with(r#""summary":"a summary","attributes":{"sysadm.args":{"z":1,"a":{"$$hex":"00ff","b":[1,"two words"]}}}}"#),
            "{text}"
        );
        let back: Event = serde_json::from_str(&text).unwrap();
        assert_eq!(back, e);
    }
}
