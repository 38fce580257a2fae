//! Property tests: monitor message ↔ v1/v2 frames ↔ `Event` (and its JSON) round trips.
#![cfg(feature = "zmq")]
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_event::Event;
use monwire_tests::zmq::codec;
use monwire_zmq::event::{from_event, to_event};
use monwire_zmq::{EventCode, Message, MonitorEvent, V1Message, V2Message};
use proptest::prelude::*;

/// A known code (more often) or any code below `bound`.
fn code(bound: u64) -> impl Strategy<Value = EventCode> {
    let known: Vec<EventCode> = EventCode::KNOWN
        .iter()
        .copied()
        .filter(|c| c.0 < bound)
        .collect();
    prop_oneof![
        3 => proptest::sample::select(known),
        1 => (0..bound).prop_map(EventCode),
    ]
}

/// A value: often small (0 is `MONITOR_STOPPED`'s and `HANDSHAKE_SUCCEEDED`'s), sometimes a
/// protocol-error code, sometimes anything up to `max`.
fn value(max: u64) -> impl Strategy<Value = u64> {
    prop_oneof![
        0..4u64,
        (0x1000_0000..0x1000_0020u64).prop_map(move |v| v.min(max)),
        0..=max,
    ]
}

fn endpoint() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(Vec::new()),
        "(tcp|ipc|inproc)://[a-z0-9.:*/]{0,30}".prop_map(String::into_bytes),
        proptest::collection::vec(any::<u8>(), 0..40),
    ]
}

fn v1_message() -> impl Strategy<Value = V1Message> {
    (code(1 << 16), value(u64::from(u32::MAX)), endpoint())
        .prop_map(|(c, v, ep)| V1Message::new(MonitorEvent::from_raw(c, &[v]), ep))
}

/// The decoder's default limit on v2 values.
const MAX_V2: usize = monwire_zmq::Limits::DEFAULT.max_v2_values;

/// v2 value lists: the shapes libzmq sends (1 or 2), none at all, and lists up to and at the
/// decoder's limit of 64.
fn v2_values() -> impl Strategy<Value = Vec<u64>> {
    prop_oneof![
        4 => proptest::collection::vec(value(u64::MAX), 0..=3),
        1 => proptest::collection::vec(value(u64::MAX), 4..MAX_V2 - 4),
        2 => proptest::collection::vec(value(u64::MAX), MAX_V2 - 4..=MAX_V2),
    ]
}

fn v2_message() -> impl Strategy<Value = V2Message> {
    (code(u64::MAX), v2_values(), endpoint(), endpoint())
        .prop_map(|(c, vs, l, r)| V2Message::new(MonitorEvent::from_raw(c, &vs), l, r))
}

fn json_round_trip(event: &Event) -> Event {
    let json = serde_json::to_string(event).unwrap();
    serde_json::from_str(&json).unwrap_or_else(|e| panic!("{json}: {e}"))
}

proptest! {
    #[test]
    fn v1_round_trips_through_frames_and_event(msg in v1_message()) {
        let codec = codec();
        // from_raw is lossless: the code and value come back out.
        let values = msg.event.values();
        prop_assert_eq!(values.len(), 1);
        let frames = codec.encode_v1(&msg.view()).unwrap();
        prop_assert_eq!(frames[0].len(), 6);
        prop_assert_eq!(&frames[1], &msg.endpoint);
        let code = u16::from_le_bytes([frames[0][0], frames[0][1]]);
        prop_assert_eq!(u64::from(code), msg.event.code().0);
        let value = u32::from_le_bytes([frames[0][2], frames[0][3], frames[0][4], frames[0][5]]);
        prop_assert_eq!(u64::from(value), values[0]);
        let decoded = codec.decode_v1(&frames).unwrap();
        prop_assert_eq!(decoded.to_owned(), msg.clone());

        let event = to_event(&msg);
        prop_assert_eq!(from_event(&event).unwrap(), Message::V1(msg.clone()));
        let parsed = json_round_trip(&event);
        prop_assert_eq!(&parsed, &event);
        prop_assert_eq!(V1Message::try_from(&parsed).unwrap(), msg);
    }

    #[test]
    fn v2_round_trips_through_frames_and_event(msg in v2_message()) {
        let codec = codec();
        let values = msg.event.values();
        let frames = codec.encode_v2(&msg.view());
        prop_assert_eq!(frames.len(), values.len() + 4);
        prop_assert_eq!(&frames[0], &msg.event.code().0.to_le_bytes().to_vec());
        prop_assert_eq!(&frames[1], &(values.len() as u64).to_le_bytes().to_vec());
        for (frame, v) in frames[2..].iter().zip(values.iter()) {
            prop_assert_eq!(frame, &v.to_le_bytes().to_vec());
        }
        prop_assert_eq!(&frames[values.len() + 2], &msg.local);
        prop_assert_eq!(&frames[values.len() + 3], &msg.remote);
        let decoded = codec.decode_v2(&frames).unwrap();
        prop_assert_eq!(decoded.to_owned(), msg.clone());

        let event = to_event(&msg);
        prop_assert_eq!(from_event(&event).unwrap(), Message::V2(msg.clone()));
        let parsed = json_round_trip(&event);
        prop_assert_eq!(&parsed, &event);
        prop_assert_eq!(V2Message::try_from(&parsed).unwrap(), msg);
    }

    /// One value past the limit is refused before any value frame is read, whatever the
    /// values are; at the limit it decodes.
    #[test]
    fn v2_value_count_past_the_limit_is_refused(msg in v2_message(), extra in 1..4usize) {
        let codec = codec();
        let mut values = msg.event.values().to_vec();
        values.resize(MAX_V2 + extra, 7);
        let long = V2Message::new(MonitorEvent::from_raw(msg.event.code(), &values), msg.local, msg.remote);
        let frames = codec.encode_v2(&long.view());
        let err = codec.decode_v2(&frames).unwrap_err();
        prop_assert_eq!(err.frame, 1);
        prop_assert_eq!(
            err.kind,
            monwire_zmq::DecodeErrorKind::TooManyValues { declared: (MAX_V2 + extra) as u64, limit: MAX_V2 }
        );
        values.truncate(MAX_V2);
        let at_limit = V2Message::new(MonitorEvent::from_raw(long.event.code(), &values), long.local, long.remote);
        let frames = codec.encode_v2(&at_limit.view());
        prop_assert_eq!(codec.decode_v2(&frames).unwrap().to_owned(), at_limit);
    }

    /// `from_raw` keeps the code and every value, typed or not.
    #[test]
    fn from_raw_is_lossless(c in code(u64::MAX), vs in v2_values()) {
        let e = MonitorEvent::from_raw(c, &vs);
        prop_assert_eq!(e.code(), c);
        let values = e.values();
        prop_assert_eq!(values.as_slice(), vs.as_slice());
        prop_assert_eq!(MonitorEvent::from_raw(e.code(), &e.values()), e);
    }
}

proptest! {
    /// `to_event_into` over one reused event, through any run of v1 and v2 messages (UTF-8
    /// endpoints and not), leaves exactly `to_event`'s event each time, with the source and
    /// observed time it was given kept.
    #[test]
    fn to_event_into_a_reused_event_is_to_event(
        msgs in proptest::collection::vec(
            prop_oneof![
                v1_message().prop_map(Message::V1),
                v2_message().prop_map(Message::V2),
            ],
            1..8,
        ),
    ) {
        let observed = std::time::UNIX_EPOCH + std::time::Duration::from_nanos(1_700_000_000_123);
        let mut reused = Event::new(monwire_event::Protocol::Nsm, monwire_event::Kind::Failed, "x")
            .with_source("dealer tcp://127.0.0.1:5555")
            .with_observed(observed)
            .with_summary("stale")
            .with_attr("stale", 1u64);
        for msg in &msgs {
            monwire_zmq::event::to_event_into(msg, &mut reused);
            let want = to_event(msg)
                .with_source("dealer tcp://127.0.0.1:5555")
                .with_observed(observed);
            prop_assert_eq!(&reused, &want);
            let mut borrowed = reused.clone();
            monwire_zmq::event::to_event_into(&msg.view(), &mut borrowed);
            prop_assert_eq!(&borrowed, &want);
        }
    }
}
