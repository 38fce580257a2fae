#![cfg(feature = "sysadm")]
//! Property tests: message ↔ JSON text, and event message ↔ `monwire_event::Event` (also
//! through the Event's JSON form).
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_sysadm::codec::{Limits, decode, decode_general, encode};
use monwire_sysadm::event::{from_event, to_event};
use monwire_sysadm::message::{Message, Object};
use proptest::prelude::*;
use serde_json::{Map, Value};

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        prop::sample::select(vec![
            "process_id",
            "state",
            "cmd_list",
            "current_cmd",
            "time_started",
            "time_finished",
            "return_codes/echo a",
            "echo a",
            "event_system",
            "process_details",
            "class",
            "message",
            "priority",
            "hostname",
            "zpools",
            "updates",
            "health",
            "available_connections",
            "args",
            "subscribe",
            "unsubscribe",
            "token",
            "username",
            "password",
            "hostname",
            "type",
            "test_string",
            "code",
            "md5_key",
            "encrypted_string",
            "action",
            "pub_key",
            "nickname",
            "email",
            "user",
        ])
        .prop_map(str::to_owned),
        "[a-z_/ é\u{1F600}]{0,8}",
        // Where UTF-16 order (Qt's, the server's) and UTF-8 order differ: U+E000-U+FFFF sort
        // before U+10000 and up in UTF-8, after them in UTF-16.
        "[a\u{E000}-\u{FFFF}\u{10000}-\u{10FFFF}]{1,3}",
    ]
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1e300f64..1e300).prop_map(Value::from),
        prop::sample::select(vec![
            "",
            "running",
            "pending",
            "finished",
            "0",
            "1 - Information",
            "9 - Urgent",
            "ONLINE",
            "snapshot",
            "replication",
            "sysadm/pkg",
            "echo a",
            "server",
            "401",
            "register_ssl_cert",
            "list_ssl_certs",
            "list_ssl_checksums",
            "revoke_ssl_cert",
        ])
        .prop_map(Value::from),
        "[\\PC\n\t\"\\\\\u{1}]{0,12}".prop_map(Value::from),
    ]
}

fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

fn envelope_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "identify",
            "auth",
            "auth_token",
            "auth_ssl",
            "auth_clear",
            "query",
            "subscribe",
            "unsubscribe",
            "response",
            "error",
            "dispatcher",
            "life-preserver",
            "system-state",
            "bridge",
            "monwire-zmq",
            "settings",
        ])
        .prop_map(str::to_owned),
        "[a-z-]{0,8}",
    ]
}

fn namespace() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec!["rpc", "RPC", "events", "error", "sysadm"])
            .prop_map(str::to_owned),
        "[a-z]{0,5}",
    ]
}

fn id() -> impl Strategy<Value = String> {
    prop_oneof![Just(String::new()), "[a-z0-9_-]{1,10}"]
}

fn message_object() -> impl Strategy<Value = Object> {
    (
        namespace(),
        envelope_name(),
        prop::option::of(id()),
        prop::option::of(json()),
        prop::collection::vec((key(), leaf()), 0..2),
    )
        .prop_map(|(ns, name, id, args, extra)| {
            let mut m: Object = extra
                .into_iter()
                .filter(|(k, _)| !matches!(k.as_str(), "namespace" | "name" | "id" | "args"))
                .collect();
            m.insert("namespace".into(), ns.into());
            m.insert("name".into(), name.into());
            if let Some(id) = id {
                m.insert("id".into(), id.into());
            }
            if let Some(args) = args {
                m.insert("args".into(), args);
            }
            m
        })
}

/// An independent rendering of what the server writes: compact, object keys sorted by UTF-16
/// code units (Qt's `QJsonObject` order) at every depth, strings and numbers as serde_json
/// writes them.
fn reference_encoding(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap());
                out.push(':');
                reference_encoding(&m[k], out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                reference_encoding(item, out);
            }
            out.push(']');
        }
        other => out.push_str(&serde_json::to_string(other).unwrap()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any well-formed message decodes, re-encodes to exactly the bytes the server would write
    /// (compact, keys in UTF-16 order, compared byte for byte with an independent rendering),
    /// and decodes again to the same typed message.
    #[test]
    fn message_json_round_trip(obj in message_object()) {
        let text = serde_json::to_vec(&Value::Object(obj.clone())).unwrap();
        let limits = Limits::default();
        let msg = decode(&text, &limits).unwrap();
        let out = encode(&msg, &limits).unwrap();
        let mut expected = obj;
        expected.entry("id").or_insert(Value::from(""));
        let mut reference = String::new();
        reference_encoding(&Value::Object(expected.clone()), &mut reference);
        prop_assert_eq!(std::str::from_utf8(&out).unwrap(), reference.as_str());
        prop_assert_eq!(serde_json::from_slice::<Value>(&out).unwrap(), Value::Object(expected));
        prop_assert_eq!(decode(&out, &limits).unwrap(), msg.clone());
        // Typed values rebuilt from their parts encode the same way.
        let rebuilt = Message::from_parts(msg.namespace.clone(), msg.name.clone(), msg.id.clone(), msg.args(), msg.extra.clone());
        prop_assert_eq!(rebuilt, msg);
    }

    /// Every message that carries no secret (requests, replies, errors and events alike) maps
    /// to an Event and back unchanged, also through the Event's JSON form; the ones that carry
    /// one are refused on the way back instead of coming back with `<redacted>` in them.
    #[test]
    fn every_message_round_trips_through_event(obj in message_object()) {
        let text = serde_json::to_vec(&Value::Object(obj)).unwrap();
        let msg = decode(&text, &Limits::default()).unwrap();
        let event = to_event(&msg);
        prop_assert_eq!(&monwire_sysadm::event::into_event(msg.clone()), &event);
        if msg.carries_secret() {
            prop_assert!(from_event(&event).is_err());
        } else {
            prop_assert_eq!(from_event(&event).unwrap(), msg.clone());
            let json = serde_json::to_string(&event).unwrap();
            let back: monwire_event::Event = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(from_event(&back).unwrap(), msg);
        }
    }

    /// The typed fast path and the general path (through a `serde_json::Value`) give the same
    /// message, or the same error, for any message and for events of any shape (known names
    /// with keys of every type, repeated keys, dynamic dispatcher keys).
    #[test]
    fn fast_and_general_decoding_agree(name in envelope_name(), args in json(), obj in prop::collection::vec((key(), json()), 0..8), dup in any::<bool>(), extra in prop::collection::vec((key(), leaf()), 0..2)) {
        let args = match args {
            Value::Object(_) => args,
            _ if obj.len() % 3 == 0 => args,
            _ => Value::Object(obj.into_iter().collect()),
        };
        let mut text = serde_json::to_string(&args).unwrap();
        if dup && text.starts_with("{\"") {
            // A repeated key, which a `Value` cannot hold: the text is built by hand.
            let first = text.split_once(',').map(|(a, _)| a.trim_start_matches('{').to_owned());
            if let Some(first) = first {
                text = format!("{{{first},{}", &text[1..]);
            }
        }
        let mut envelope = String::from("{");
        for (k, v) in extra {
            if !matches!(k.as_str(), "namespace" | "name" | "id" | "args") {
                envelope.push_str(&format!("{}:{},", serde_json::to_string(&k).unwrap(), v));
            }
        }
        let whole = format!(r#"{envelope}"args":{text},"id":"","name":{},"namespace":"events"}}"#, serde_json::to_string(&name).unwrap());
        let limits = Limits::default();
        prop_assert_eq!(decode(whole.as_bytes(), &limits), decode_general(whole.as_bytes(), &limits), "{}", whole);
    }

    /// The same for every message of the general strategy.
    #[test]
    fn fast_and_general_decoding_agree_on_any_message(obj in message_object()) {
        let text = serde_json::to_vec(&Value::Object(obj)).unwrap();
        let limits = Limits::default();
        prop_assert_eq!(decode(&text, &limits), decode_general(&text, &limits));
    }

    /// Every event message maps to an Event and back unchanged, also through the Event JSON.
    #[test]
    fn event_round_trip(name in envelope_name(), args in json(), id in id(), obj in prop::collection::vec((key(), json()), 0..6)) {
        let args = match args {
            Value::Object(_) => args,
            // Mostly objects, as on the wire.
            _ => Value::Object(obj.into_iter().collect()),
        };
        let name = if matches!(name.as_str(), "subscribe" | "unsubscribe" | "response" | "error") { "dispatcher".to_owned() } else { name };
        let mut m = Object::new();
        m.insert("args".into(), args);
        m.insert("id".into(), id.into());
        m.insert("name".into(), name.into());
        m.insert("namespace".into(), "events".into());
        let msg = decode(&serde_json::to_vec(&Value::Object(m)).unwrap(), &Limits::default()).unwrap();
        let event = to_event(&msg);
        prop_assert_eq!(event.protocol.clone(), monwire_event::Protocol::SysAdm);
        // `args` is built from the typed payload directly: the very value (keys in the same
        // order) that converting the message's JSON `args` gives.
        let expected = msg.args().map(|a| monwire_sysadm::event::json_to_value(&a));
        prop_assert_eq!(event.attr("sysadm.args"), expected.as_ref());
        // The consuming form gives the very same event.
        prop_assert_eq!(&monwire_sysadm::event::into_event(msg.clone()), &event);
        prop_assert_eq!(from_event(&event).unwrap(), msg.clone());
        let json = serde_json::to_string(&event).unwrap();
        let back: monwire_event::Event = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(from_event(&back).unwrap(), msg);
    }
}
