#![cfg(feature = "galaxy")]
//! Property tests: objects round-trip through XDR and through PR text, binary and text agree,
//! the stream decoder gives the same messages for every split, and frames round-trip through
//! `monwire_event::Event`.
// Helpers outside #[test] fns fail loudly too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_event::{Kind, Protocol};
use monwire_galaxy::codec::{Codec, Int64Width, StreamDecoder};
use monwire_galaxy::event::{from_event, to_event};
use monwire_galaxy::message::{Frame, FrameType, Message, MsgType, Object, Proxy};
use monwire_galaxy::text::{pr_frame, read_frame};
use monwire_tests::galaxy::{same_frame, same_object, strategies as hard};
use proptest::prelude::*;

fn name() -> impl Strategy<Value = Vec<u8>> {
    "[a-z_][a-z0-9_\\[\\]]{0,8}".prop_map(String::into_bytes)
}

fn key() -> impl Strategy<Value = Vec<u8>> {
    ":[a-z_][a-z0-9_]{0,8}"
        .prop_filter("not :pred", |k| k != ":pred")
        .prop_map(String::into_bytes)
}

/// Any object XDR can carry (finite floats so values compare with `==`).
fn any_object() -> impl Strategy<Value = Object> + Clone {
    let bytes = proptest::collection::vec(any::<u8>(), 0..12);
    let leaf = prop_oneof![
        bytes.clone().prop_map(|v| Object::String(v.into())),
        any::<i32>().prop_map(Object::Int),
        (-1e30f32..1e30).prop_map(Object::Float),
        name().prop_map(|v| Object::Symbol(v.into())),
        bytes.clone().prop_map(|v| Object::Binary(v.into())),
        proptest::collection::vec(any::<i16>(), 0..4).prop_map(|v| Object::Int16(v.into())),
        proptest::collection::vec(any::<i32>(), 0..4).prop_map(|v| Object::Int32(v.into())),
        proptest::collection::vec(any::<i64>(), 0..4).prop_map(|v| Object::Int64(v.into())),
        proptest::collection::vec(-1e30f32..1e30, 0..4).prop_map(|v| Object::Float32(v.into())),
        proptest::collection::vec(-1e300f64..1e300, 0..4).prop_map(|v| Object::Float64(v.into())),
        key().prop_map(|v| Object::Keyword(v.into())),
        name().prop_map(|v| Object::Tag(v.into())),
        bytes.clone().prop_map(|v| Object::Token(v.into())),
        (bytes.clone(), bytes, any::<i32>(), any::<i32>()).prop_map(|(c, h, p, t)| {
            Object::from(Proxy {
                call_id: c,
                host: h,
                port: p,
                object_type: t,
            })
        }),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Object::from),
            frame_of(inner).prop_map(Object::from),
        ]
    })
}

fn frame_of(values: impl Strategy<Value = Object> + Clone) -> impl Strategy<Value = Frame> {
    (
        prop_oneof![
            Just(FrameType::Clause),
            Just(FrameType::Topic),
            Just(FrameType::Pred)
        ],
        name(),
        proptest::collection::vec((key(), values), 0..4),
    )
        .prop_map(|(t, n, props)| {
            let mut f = Frame::new(t, n);
            for (k, v) in props {
                f.set(k, v);
            }
            f
        })
}

/// Objects whose PR text reads back exactly (the PR form loses array types, float digits,
/// keyword/token property values).
fn text_object() -> impl Strategy<Value = Object> + Clone {
    let leaf = prop_oneof![
        proptest::collection::vec(1u8..=255, 0..12).prop_map(|v| Object::String(v.into())),
        any::<i32>().prop_map(Object::Int),
        (-4000i32..4000).prop_map(|k| Object::Float(k as f32 / 8.0)),
        name()
            .prop_filter("a letter first", |n| n[0].is_ascii_alphabetic())
            .prop_map(|v| Object::Symbol(v.into())),
        proptest::collection::vec(any::<u8>(), 0..12).prop_map(|v| Object::Binary(v.into())),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Object::from),
            text_frame(inner).prop_map(Object::from),
        ]
    })
}

fn text_frame(values: impl Strategy<Value = Object> + Clone) -> impl Strategy<Value = Frame> {
    frame_of(values).prop_filter("a name the reader takes", |f| {
        f.name
            .as_deref()
            .is_some_and(|n| !n.is_empty() && n[0] != b':' && n != b"...")
    })
}

proptest! {
    #[test]
    fn any_object_round_trips_through_xdr(obj in any_object()) {
        let codec = Codec::default().with_int64_width(Int64Width::Eight);
        let bytes = codec.encode_object(&obj).unwrap();
        prop_assert_eq!(bytes.len() % 4, 0);
        prop_assert_eq!(codec.decode_object(&bytes).unwrap(), obj);
    }

    #[test]
    fn frames_round_trip_through_pr_text_and_agree_with_xdr(frame in text_frame(text_object())) {
        let text = pr_frame(&frame);
        let back = read_frame(&text).expect("PR text reads back");
        prop_assert_eq!(&back, &frame);
        // Binary and text agree: XDR of the re-read frame is XDR of the original, and the
        // XDR-decoded frame prints the same text.
        let codec = Codec::default();
        let bytes = codec.encode_object(&Object::from(frame.clone())).unwrap();
        prop_assert_eq!(codec.encode_object(&Object::from(back)).unwrap(), bytes.clone());
        let decoded = codec.decode_object(&bytes).unwrap();
        prop_assert_eq!(pr_frame(decoded.as_frame().unwrap()), text);
    }

    #[test]
    fn stream_decoder_is_split_invariant(
        frames in proptest::collection::vec(frame_of(any_object()), 1..5),
        cuts in proptest::collection::vec(any::<prop::sample::Index>(), 0..6),
    ) {
        let codec = Codec::default().with_int64_width(Int64Width::Eight);
        let msgs: Vec<Message> = frames.into_iter().map(|f| Message::frame(MsgType::Message, f)).collect();
        let mut stream = Vec::new();
        for m in &msgs {
            codec.encode_into(m, &mut stream).unwrap();
        }
        let mut points: Vec<usize> = cuts.iter().map(|i| i.index(stream.len() + 1)).collect();
        points.push(0);
        points.push(stream.len());
        points.sort_unstable();
        let mut dec = StreamDecoder::new(codec);
        let mut got = Vec::new();
        for w in points.windows(2) {
            dec.push(&stream[w[0]..w[1]]);
            while let Some(m) = dec.next_message().unwrap() {
                got.push(m);
            }
        }
        prop_assert_eq!(got, msgs);
        prop_assert_eq!(dec.buffered(), 0);
    }

    #[test]
    fn frames_round_trip_through_events(frame in frame_of(any_object())) {
        let event = to_event(&frame);
        prop_assert_eq!(&event.protocol, &Protocol::Galaxy);
        prop_assert_eq!(from_event(&event).unwrap(), frame);
    }

    #[test]
    fn provider_updates_normalize(connected in any::<bool>(), id in "\\[[0-9]{1,3}\\]") {
        let text = format!(
            "{{c provider_status :provider_list ( {{c provider :provider_id \"{id}\" :connected {} }} ) }}",
            i32::from(connected)
        );
        let frame = read_frame(text.as_bytes()).unwrap();
        let event = to_event(&frame);
        prop_assert_eq!(event.kind, if connected { Kind::Connected } else { Kind::Disconnected });
        prop_assert_eq!(&event.subject, &id);
        prop_assert_eq!(from_event(&event).unwrap(), frame);
    }
}

/// INT_64 elements as a 4-byte peer reads them back (the low 32 bits, sign-extended).
fn as_four_bytes(obj: &Object) -> Object {
    match obj {
        Object::Int64(v) => Object::Int64(v.iter().map(|&x| i64::from(x as i32)).collect()),
        Object::List(items) => Object::List(items.iter().map(as_four_bytes).collect()),
        Object::Frame(f) => {
            let mut g = Frame::unnamed(f.ftype);
            g.name = f.name.clone();
            for (k, v) in f.props() {
                g.set(k.to_vec(), as_four_bytes(v));
            }
            *g.preds_mut() = f
                .preds()
                .iter()
                .map(|p| match as_four_bytes(&Object::from(p.clone())) {
                    Object::Frame(p) => *p,
                    _ => unreachable!(),
                })
                .collect();
            Object::from(g)
        }
        other => other.clone(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The lossless law over the hard cases: any frame (unnamed, NULL elements, odd frame
    /// types, NaN payloads, non-UTF-8 names and keys, nested deep) → Event → frame is the
    /// identity, and so is Event → JSON → Event → frame.
    #[test]
    fn any_frame_round_trips_through_events_and_their_json(
        frame in hard::frame_of(hard::object(64, false), false)
    ) {
        let event = to_event(&frame);
        prop_assert!(event.summary.as_deref().is_some_and(|s| !s.is_empty()));
        let back = from_event(&event).unwrap();
        prop_assert!(same_frame(&back, &frame), "{back:?}\n!=\n{frame:?}");
        let json = serde_json::to_string(&event).expect("every galaxy event has a JSON form");
        let reread: monwire_event::Event = serde_json::from_str(&json).unwrap();
        let back = from_event(&reread).unwrap();
        prop_assert!(same_frame(&back, &frame), "via JSON {json}");
    }

    /// Chains exactly at the depth limit round-trip through events too.
    #[test]
    fn the_deepest_frames_round_trip_through_events(obj in hard::deep(63, false)) {
        let frame = Frame::clause("top").with(":deep", obj);
        let back = from_event(&to_event(&frame)).unwrap();
        prop_assert!(same_frame(&back, &frame));
    }

    /// Every encodable object round-trips through XDR with both INT_64 widths (4-byte peers
    /// keep the low 32 bits), nested up to the default depth limit of 64.
    #[test]
    fn any_wire_object_round_trips_through_xdr_with_both_widths(obj in hard::object(64, true)) {
        for width in [Int64Width::Eight, Int64Width::Four] {
            let codec = Codec::default().with_int64_width(width);
            let bytes = codec.encode_object(&obj).unwrap();
            let back = codec.decode_object(&bytes).unwrap();
            let want = if width == Int64Width::Four { as_four_bytes(&obj) } else { obj.clone() };
            prop_assert!(same_object(&back, &want), "{width:?}");
        }
    }

    /// A chain of exactly 64 levels decodes; 65 is refused with `TooDeep`, not a crash.
    #[test]
    fn the_depth_limit_is_exact(obj in hard::deep(64, true)) {
        let codec = Codec::default().with_int64_width(Int64Width::Eight);
        let bytes = codec.encode_object(&obj).unwrap();
        prop_assert!(same_object(&codec.decode_object(&bytes).unwrap(), &obj));
        let deeper = Object::List(vec![obj].into());
        let unlimited = Codec::new(monwire_galaxy::codec::Limits::default().with_max_depth(65))
            .with_int64_width(Int64Width::Eight);
        let bytes = unlimited.encode_object(&deeper).unwrap();
        let err = codec.decode_object(&bytes).unwrap_err();
        prop_assert!(matches!(err.kind, monwire_galaxy::DecodeErrorKind::TooDeep { limit: 64 }), "{err}");
    }
}
