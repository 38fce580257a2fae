//! proptest strategies for the shared event model.

use std::time::{Duration, UNIX_EPOCH};

use monwire_event::{Event, Kind, Map, Protocol, Severity, Value};
use proptest::prelude::*;

/// Any finite float, with the hard cases weighted in: zero of both signs, subnormals, small
/// and integral values, the extremes, and uniform bits (any exponent).
pub fn finite_float() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0f64),
        Just(-0.0f64),
        Just(f64::MIN_POSITIVE),
        Just(f64::MAX),
        Just(f64::MIN),
        Just(5e-324f64),
        (-1_000_000i64..1_000_000).prop_map(|i| i as f64),
        (-1.0f64..1.0),
        proptest::num::f64::SUBNORMAL | proptest::num::f64::NEGATIVE | proptest::num::f64::POSITIVE,
        any::<u64>()
            .prop_map(f64::from_bits)
            .prop_filter("finite", |f| f.is_finite()),
    ]
}

/// Map keys, with the ones the JSON form has to escape (`$hex`, `$x`, `$$`) weighted in.
fn map_key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => ".{0,8}",
        1 => Just("$hex".to_owned()),
        1 => "\\$[$a-z]{0,4}",
        1 => Just("hex".to_owned()),
    ]
}

/// Any attribute value that has a JSON form (finite floats), nested at most three levels of
/// lists and maps deep.
pub fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<u64>().prop_map(Value::UInt),
        finite_float().prop_map(Value::Float),
        ".{0,12}".prop_map(Value::Str),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Bytes),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::List),
            proptest::collection::vec((map_key(), inner), 0..4).prop_map(|entries| {
                let mut m = Map::new();
                for (k, v) in entries {
                    m.insert(k, v);
                }
                Value::Map(m)
            }),
        ]
    })
}

/// Any protocol, made the only way there is from a name: known names (which never become
/// `Other`), and any other text.
pub fn protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![
        proptest::sample::select(&["zmq", "nsm", "ray", "galaxy", "sysadm"][..])
            .prop_map(Protocol::from_name),
        "[a-z]{0,6}".prop_map(|n| Protocol::from_name(&n)),
        ".{0,6}".prop_map(|n| Protocol::from_name(&n)),
    ]
}

/// Any event with a JSON form.
pub fn event() -> impl Strategy<Value = Event> {
    (
        protocol(),
        proptest::option::of(".{0,10}"),
        ".{0,10}",
        proptest::sample::select(Kind::ALL),
        ".{0,10}",
        proptest::sample::select(Severity::ALL),
        proptest::option::of(any::<u64>()),
        proptest::option::of(any::<u64>()),
        proptest::collection::vec(("[a-z.]{1,8}", value()), 0..5),
        proptest::option::of(".{0,16}"),
    )
        .prop_map(
            |(p, source, subject, kind, name, sev, t, o, attrs, summary)| {
                let mut e = Event::new(p, kind, name)
                    .with_subject(subject)
                    .with_severity(sev);
                e.source = source;
                e.time = t.map(|n| UNIX_EPOCH + Duration::from_nanos(n));
                e.observed = o.map(|n| UNIX_EPOCH + Duration::from_nanos(n));
                e.summary = summary;
                for (k, v) in attrs {
                    e.attributes.insert(k, v);
                }
                e
            },
        )
}
