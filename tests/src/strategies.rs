//! proptest strategies for the shared event model.

use std::time::{Duration, UNIX_EPOCH};

use monwire_event::{Event, Kind, Protocol, Severity, Value};
use proptest::prelude::*;

/// Any attribute value that has a JSON form (finite floats), nested at most two lists deep.
pub fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        any::<u64>().prop_map(Value::UInt),
        (-1e300f64..1e300).prop_map(Value::Float),
        ".{0,12}".prop_map(Value::Str),
        proptest::collection::vec(any::<u8>(), 0..8).prop_map(Value::Bytes),
    ];
    leaf.prop_recursive(2, 16, 4, |inner| {
        proptest::collection::vec(inner, 0..4).prop_map(Value::List)
    })
}

/// Any protocol, including `Other` names that are not one of the known ones.
pub fn protocol() -> impl Strategy<Value = Protocol> {
    prop_oneof![
        Just(Protocol::Zmq),
        Just(Protocol::Nsm),
        Just(Protocol::Ray),
        Just(Protocol::Galaxy),
        Just(Protocol::SysAdm),
        "x[a-z]{0,6}".prop_map(Protocol::Other),
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
    )
        .prop_map(|(p, source, subject, kind, name, sev, t, o, attrs)| {
            let mut e = Event::new(p, kind, name)
                .with_subject(subject)
                .with_severity(sev);
            e.source = source;
            e.time = t.map(|n| UNIX_EPOCH + Duration::from_nanos(n));
            e.observed = o.map(|n| UNIX_EPOCH + Duration::from_nanos(n));
            for (k, v) in attrs {
                e.attributes.insert(k, v);
            }
            e
        })
}
