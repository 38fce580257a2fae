//! Hostile and odd input: bundle depth, trailing bytes, missing type tags, wrong arguments,
//! unknown paths and events.
#![cfg(feature = "nsm")]
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_nsm::codec::{self, Limits};
use monwire_nsm::{
    Capabilities, Capability, ClientEvent, DecodeErrorKind, ErrorCode, Family, Message,
};
use monwire_tests::nsm::vector;

fn bundle(elements: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"#bundle\0\0\0\0\0\0\0\0\x01".to_vec();
    for e in elements {
        out.extend_from_slice(&(e.len() as i32).to_be_bytes());
        out.extend_from_slice(e);
    }
    out
}

#[test]
fn sixty_kilobytes_of_nested_bundles_is_an_error_not_a_stack_overflow() {
    // Build ~60 KB of bundles each holding the next (3750 levels of 16 bytes + size word).
    let mut inner = codec::encode(&Message::MonitorAnnounce).unwrap();
    while inner.len() < 60_000 {
        inner = bundle(&[inner]);
    }
    assert!(inner.len() <= 65_536);
    // Run on a small thread stack so a recursive decoder would certainly overflow.
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || codec::decode_datagram(&inner, &Limits::default()))
        .unwrap();
    let err = handle.join().unwrap().unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::BundleTooDeep { limit: 4 });
    assert_eq!(
        err.offset,
        4 * 20,
        "the fifth bundle starts after four headers and size words"
    );
}

#[test]
fn bundles_within_the_limit_are_flattened_in_order() {
    let a = codec::encode(&Message::MonitorAnnounce).unwrap();
    let q = codec::encode(&Message::MonitorQuit).unwrap();
    let d = bundle(&[bundle(std::slice::from_ref(&a)), q.clone()]);
    assert_eq!(
        codec::decode_datagram(&d, &Limits::default()).unwrap(),
        vec![Message::MonitorAnnounce, Message::MonitorQuit]
    );
    // `decode` wants exactly one message.
    assert_eq!(
        codec::decode(&d).unwrap_err().kind,
        DecodeErrorKind::UnexpectedBundle
    );
    // Depth 2 with a limit of 1 fails.
    let err = codec::decode_datagram(&d, &Limits::default().with_max_bundle_depth(1)).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::BundleTooDeep { limit: 1 });
    // A bundle element that claims more bytes than there are.
    let mut bad = bundle(&[a]);
    bad[16..20].copy_from_slice(&1000i32.to_be_bytes());
    assert!(matches!(
        codec::decode_datagram(&bad, &Limits::default())
            .unwrap_err()
            .kind,
        DecodeErrorKind::BadBundleElement { size: 1000, .. }
    ));
}

#[test]
fn trailing_bytes_are_rejected_with_their_offset() {
    let mut bytes = vector("ray-monitor-quit");
    bytes.extend_from_slice(&[0, 0, 0, 0]);
    let err = codec::decode(&bytes).unwrap_err();
    assert_eq!(err.kind, DecodeErrorKind::TrailingBytes { count: 4 });
    assert_eq!(err.offset, 32);
}

#[test]
fn a_message_without_type_tags_is_an_error() {
    let err = codec::decode(b"/ray/server/monitor_announce\0\0\0\0").unwrap_err();
    assert!(matches!(err.kind, DecodeErrorKind::Osc { .. }), "{err}");
    assert_eq!(
        err.unaccepted_message(),
        None,
        "dropped silently, not answered"
    );
}

#[test]
fn wrong_arguments_and_unknown_paths_name_the_path_and_argument() {
    let m = |path: &str, tags: &str, tail: &[u8]| {
        let mut v = Vec::new();
        for s in [path, tags] {
            v.extend_from_slice(s.as_bytes());
            v.extend(std::iter::repeat_n(0, 4 - s.len() % 4));
        }
        v.extend_from_slice(tail);
        v
    };
    let err =
        codec::decode(&m("/ray/monitor/client_event", ",si", b"okr\0\0\0\0\x01")).unwrap_err();
    assert_eq!(
        err.kind,
        DecodeErrorKind::ArgumentType {
            path: "/ray/monitor/client_event".into(),
            index: 1,
            expected: 's',
            found: 'i',
            tags: "si".into()
        }
    );
    let err = codec::decode(&m("/ray/monitor/bogus", ",i", &[0, 0, 0, 1])).unwrap_err();
    assert_eq!(
        err.kind,
        DecodeErrorKind::UnknownPath {
            path: "/ray/monitor/bogus".into(),
            tags: "i".into()
        }
    );
    assert_eq!(
        err.to_string(),
        "unknown path /ray/monitor/bogus with type tags ,i (byte 0)"
    );
    let err = codec::decode(&m("/ray/server/monitor_announce", ",s", b"extra\0\0\0")).unwrap_err();
    assert!(matches!(
        err.kind,
        DecodeErrorKind::ArgumentCount { found: 1, .. }
    ));
    assert_eq!(
        err.unaccepted_message(),
        Some(("/ray/server/monitor_announce", "s"))
    );
}

#[test]
fn too_long_datagrams_are_refused_before_parsing() {
    let big = vec![0u8; 70_000];
    assert!(matches!(
        codec::decode(&big).unwrap_err().kind,
        DecodeErrorKind::TooLong { len: 70_000, .. }
    ));
}

#[test]
fn legacy_state_form_and_event_parsing() {
    let legacy = Message::ClientStateLegacy {
        family: Family::Ray,
        client_id: "okc".into(),
        started: 1,
    };
    let bytes = codec::encode(&legacy).unwrap();
    assert_eq!(codec::decode(&bytes).unwrap(), legacy);

    for (text, want) in [
        ("switched_to:n2", ClientEvent::SwitchedTo("n2".into())),
        ("id_changed_to:a:b", ClientEvent::IdChangedTo("a:b".into())),
        ("new_alternative:x", ClientEvent::NewAlternative("x".into())),
        ("started:x", ClientEvent::Other("started:x".into())),
        ("switched_to", ClientEvent::Other("switched_to".into())),
        ("", ClientEvent::Other(String::new())),
        ("stopped_by_itself", ClientEvent::StoppedByItself),
    ] {
        let e = ClientEvent::parse(text);
        assert_eq!(e, want, "{text}");
        assert_eq!(e.to_wire(), text);
    }
}

#[test]
fn capabilities_are_a_set_in_colon_form_keeping_unknown_ones() {
    let c = Capabilities::parse("switch::dirty:future-thing:switch");
    assert_eq!(c.len(), 3);
    assert!(c.contains(&Capability::Other("future-thing".into())));
    assert_eq!(c.to_wire(), ":switch:dirty:future-thing:");
    assert_eq!(Capabilities::new().to_wire(), "");
    let bad = Message::Announce {
        app_name: "a".into(),
        capabilities: Capabilities::new().with(Capability::Other("x:y".into())),
        executable: "a".into(),
        api_major: 1,
        api_minor: 0,
        pid: 1,
    };
    assert!(codec::encode(&bad).is_err());
}

#[test]
fn error_codes_map_known_values_and_keep_others() {
    assert_eq!(ErrorCode::from_i32(-18), ErrorCode::UnknownMessage);
    assert_eq!(ErrorCode::from_i32(-6), ErrorCode::NoSessionOpen);
    assert_eq!(ErrorCode::from_i32(0), ErrorCode::Ok);
    assert_eq!(ErrorCode::from_i32(-22), ErrorCode::Other(-22));
    assert_eq!(ErrorCode::from_i32(5), ErrorCode::Other(5));
    for v in -30..5 {
        assert_eq!(ErrorCode::from_i32(v).to_i32(), v);
    }
}

/// `from_event` says what is wrong with an event it cannot rebuild a message from: another
/// protocol, a missing or mistyped attribute, an unknown path, a monitor's own link event.
#[test]
fn from_event_names_what_is_wrong() {
    use monwire_event::{Event, Kind, Protocol, Value};
    use monwire_nsm::error::FromEventError;
    use monwire_nsm::event::{disconnected, from_event, reconnected, to_event};
    use monwire_nsm::session::Loss;

    let good = to_event(&Message::ClientUpdated {
        family: Family::Ray,
        client_id: "a".into(),
        jack_name: "A".into(),
        started: 1,
    });
    assert!(from_event(&good).is_ok());

    let mut zmq = good.clone();
    zmq.protocol = Protocol::Zmq;
    assert_eq!(
        from_event(&zmq),
        Err(FromEventError::Protocol("zmq".into()))
    );

    let mut missing = good.clone();
    missing.attributes.remove("ray.jack_name");
    assert_eq!(
        from_event(&missing),
        Err(FromEventError::Attribute("ray.jack_name".into()))
    );

    let mut mistyped = good.clone();
    mistyped.attributes.insert("ray.started", "yes");
    assert_eq!(
        from_event(&mistyped),
        Err(FromEventError::Attribute("ray.started".into()))
    );
    let mut too_big = good.clone();
    too_big
        .attributes
        .insert("ray.started", i64::from(i32::MAX) + 1);
    assert_eq!(
        from_event(&too_big),
        Err(FromEventError::Attribute("ray.started".into())),
        "an i32 field refuses a value outside i32"
    );

    // The family prefix is checked against the protocol: an `nsm` event needs `nsm.` keys.
    let mut wrong_family = good.clone();
    wrong_family.protocol = Protocol::Nsm;
    assert_eq!(
        from_event(&wrong_family),
        Err(FromEventError::Attribute("nsm.path".into()))
    );

    let unknown =
        Event::new(Protocol::Ray, Kind::Other, "x").with_attr("ray.path", "/ray/monitor/nope");
    assert_eq!(
        from_event(&unknown),
        Err(FromEventError::Unknown("/ray/monitor/nope".into()))
    );
    let unknown = Event::new(Protocol::Nsm, Kind::Other, "x").with_attr("nsm.path", "/what");
    assert_eq!(
        from_event(&unknown),
        Err(FromEventError::Unknown("/what".into()))
    );

    let mut reply = to_event(&Message::reply("/x", "y"));
    reply
        .attributes
        .insert("nsm.args", vec![Value::Str("ok".into()), Value::Int(3)]);
    assert_eq!(
        from_event(&reply),
        Err(FromEventError::Attribute("nsm.args".into())),
        "every reply argument must be a string"
    );

    for e in [disconnected(Loss::Unreachable), reconnected()] {
        assert_eq!(
            from_event(&e),
            Err(FromEventError::NotAMessage(e.name.clone())),
            "{e}"
        );
    }
    // Errors read as one short line.
    let long =
        Event::new(Protocol::Nsm, Kind::Other, "x").with_attr("nsm.path", "/".repeat(10_000));
    let text = from_event(&long).unwrap_err().to_string();
    assert!(text.chars().count() < 128, "{text}");
}

/// The direct decoder's offsets and reasons for malformed OSC, and the two places where it is
/// deliberately stricter than rosc (a type-tag string without `,`, an unclosed `[`).
#[test]
fn malformed_osc_is_reported_where_it_is() {
    let decode = |b: &[u8]| codec::decode_datagram(b, &Limits::default());
    let osc_at = |b: &[u8]| match decode(b) {
        Err(e) => match e.kind {
            DecodeErrorKind::Osc { reason } => (e.offset, reason),
            other => panic!("{other:?}"),
        },
        Ok(m) => panic!("{m:?}"),
    };
    assert_eq!(
        osc_at(b"/a\0\0"),
        (4, "string without its NUL terminator".into())
    );
    assert_eq!(
        osc_at(b"/a\0\0,s\0\0ab"),
        (8, "string without its NUL terminator".into())
    );
    assert_eq!(
        osc_at(b"/a\0\0,i\0\0\0\0"),
        (8, "a 4-byte argument runs past the end".into())
    );
    assert_eq!(
        osc_at(b"/a\0\0,b\0\0\0\0\0\x09abcd"),
        (8, "blob runs past the end".into())
    );
    assert_eq!(
        osc_at(b"/a\0\0,s\0\0\xff\0\0\0"),
        (8, "string is not UTF-8".into())
    );
    assert_eq!(
        osc_at(b"a\0\0\0,\0\0\0"),
        (0, "invalid message address or bundle tag".into())
    );
    assert_eq!(
        osc_at(b"/a\0\0,x\0\0"),
        (8, "type tag not implemented".into())
    );
    // Stricter than rosc, which accepts both of these as `/nsm/client/save` with no argument.
    let save = b"/nsm/client/save\0\0\0\0";
    let mut no_comma = save.to_vec();
    no_comma.extend_from_slice(b"x\0\0\0");
    assert_eq!(
        osc_at(&no_comma).1,
        "type-tag string does not start with ','"
    );
    let mut open_bracket = save.to_vec();
    open_bracket.extend_from_slice(b",[\0\0");
    assert_eq!(osc_at(&open_bracket).1, "[ without its ]");
    assert_eq!(
        codec::decode_reference(&open_bracket, &Limits::default()).unwrap(),
        [Message::Save],
        "rosc drops what came before the bracket"
    );
    // Well-formed OSC with other types on a known path: the path and tags are named.
    let mut typed = b"/nsm/client/save\0\0\0\0,TNI\0\0\0\0".to_vec();
    typed.truncate(28);
    match decode(&typed).unwrap_err().kind {
        DecodeErrorKind::ArgumentCount { path, tags, .. } => {
            assert_eq!((path.as_str(), tags.as_str()), ("/nsm/client/save", "TNI"));
        }
        other => panic!("{other:?}"),
    }
}
