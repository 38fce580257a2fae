//! The CLI writes event JSON with its own writer (`monwire_cli::view::write_json_line`, for
//! speed). These tests hold it to the contract: byte for byte what `serde_json` writes with
//! `monwire_event`'s `Serialize`, the documented JSON form, over arbitrary events (proptest,
//! the shared strategies: every protocol, nested maps and lists, `$` keys, bytes, hard floats)
//! and over the hard strings (every control character, quotes, backslashes, non-ASCII), and
//! that an event without a JSON form (a non-finite float) writes nothing and says why.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use std::time::{Duration, UNIX_EPOCH};

use monwire_cli::view::write_json_line;
use monwire_event::{Event, Kind, Map, Protocol, Severity, Value};
use proptest::prelude::*;

fn both(e: &Event) -> (Vec<u8>, Vec<u8>) {
    let mut ours = b"prefix ".to_vec();
    write_json_line(e, &mut ours).unwrap();
    let mut reference = b"prefix ".to_vec();
    serde_json::to_writer(&mut reference, e).unwrap();
    reference.push(b'\n');
    (ours, reference)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn the_fast_writer_writes_what_serde_json_writes(e in monwire_tests::strategies::event()) {
        let (ours, reference) = both(&e);
        prop_assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(reference).unwrap());
    }

    #[test]
    fn any_text_is_escaped_as_serde_json_escapes_it(s in any::<String>(), k in any::<String>()) {
        let mut m = Map::new();
        m.insert(format!("${k}"), Value::Str(s.clone()));
        m.insert(k.clone(), Value::Str(s.clone()));
        let e = Event::new(Protocol::from_name(&s), Kind::Other, s.clone())
            .with_subject(s.clone())
            .with_source(s.clone())
            .with_summary(s.clone())
            .with_attr(k.clone(), s.clone())
            .with_attr(format!("${k}"), Value::Map(m));
        let (ours, reference) = both(&e);
        prop_assert_eq!(ours, reference);
    }
}

#[test]
fn every_control_character_quote_and_backslash() {
    let mut s: String = (0u8..0x20).map(char::from).collect();
    s.push_str("\"\\/\u{7f}\u{80}é\u{2028}\u{10ffff}");
    let e = Event::new(Protocol::Zmq, Kind::Failed, s.clone())
        .with_severity(Severity::Fatal)
        .with_time(UNIX_EPOCH + Duration::from_nanos(1))
        .with_observed(UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .with_attr("$top", s.clone())
        .with_attr("i", Value::Int(i64::MIN))
        .with_attr("u", Value::UInt(u64::MAX))
        .with_attr("f", Value::Float(-0.0))
        .with_attr("b", Value::Bytes(vec![0, 0xff, 0x10]));
    let (ours, reference) = both(&e);
    assert_eq!(
        String::from_utf8(ours).unwrap(),
        String::from_utf8(reference).unwrap()
    );
}

#[test]
fn deep_nesting_is_written_like_serde_json_too() {
    let mut v = Value::Str("leaf".into());
    for i in 0..100 {
        v = if i % 2 == 0 {
            Value::List(vec![v])
        } else {
            let mut m = Map::new();
            m.insert("$k", v);
            Value::Map(m)
        };
    }
    let e = Event::new(Protocol::Galaxy, Kind::Message, "deep").with_attr("galaxy.frame", v);
    let (ours, reference) = both(&e);
    assert_eq!(ours, reference);
}

#[test]
fn an_event_without_a_json_form_writes_nothing() {
    for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let e = Event::new(Protocol::Zmq, Kind::Stats, "x")
            .with_attr("ok", 1u64)
            .with_attr("nested", Value::List(vec![Value::Float(bad)]));
        let mut out = b"kept".to_vec();
        let err = write_json_line(&e, &mut out).unwrap_err();
        assert_eq!(out, b"kept", "nothing appended");
        assert!(err.to_string().contains("non-finite"), "{err}");
        assert!(serde_json::to_vec(&e).is_err(), "serde_json agrees");
    }
    let before =
        Event::new(Protocol::Zmq, Kind::Stats, "x").with_time(UNIX_EPOCH - Duration::from_secs(1));
    let mut out = Vec::new();
    assert!(write_json_line(&before, &mut out).is_err());
    assert!(out.is_empty());
    assert!(serde_json::to_vec(&before).is_err());
}

/// The writer checks text 8 bytes at a time (whole words, then the last 8 overlapping): a
/// character to escape, or one just outside the escaped set, at every position of strings of
/// every length around the word size is written as serde_json writes it.
#[test]
fn an_escape_at_any_position_of_any_word_is_found() {
    for len in 0..=26 {
        for at in 0..len.max(1) {
            for c in [
                '\0', '\u{1f}', ' ', '"', '\\', '\n', '\u{7f}', 'é', '!', '#', '[',
            ] {
                let mut s: String = "abcdefghijklmnopqrstuvwxyz".chars().take(len).collect();
                if at < len {
                    s.replace_range(at..=at, c.encode_utf8(&mut [0; 4]));
                }
                let e = Event::new(Protocol::Zmq, Kind::Other, s.clone()).with_attr("k", s);
                let (ours, reference) = both(&e);
                assert_eq!(ours, reference, "length {len}, {c:?} at {at}");
            }
        }
    }
}
