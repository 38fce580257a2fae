//! The direct protobuf encoder (`map::encode_events`) writes exactly the bytes of the struct
//! path (`map::encode_protobuf(&map::to_request(..))`, prost over `opentelemetry-proto`), for
//! any batch of events (any protocol mix, so several scopes; nested lists and maps; times
//! before 1970; unsigned integers above `i64::MAX`; empty texts) and any resource; and what it
//! writes decodes, with prost, to the request the struct path builds.
#![allow(clippy::unwrap_used)]

use monwire_otlp::ResourceInfo;
use monwire_otlp::map;
use monwire_otlp::opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use monwire_tests::strategies;
use proptest::prelude::*;

fn resource() -> impl Strategy<Value = ResourceInfo> {
    proptest::collection::vec(("[a-z.]{0,6}", ".{0,8}"), 0..4).prop_map(|kv| {
        let mut r = ResourceInfo::empty();
        for (k, v) in kv {
            r.set(k, v);
        }
        r
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn direct_encoding_is_byte_for_byte_the_struct_encoding(
        resource in resource(),
        events in proptest::collection::vec(strategies::event(), 0..12),
    ) {
        let want = map::encode_protobuf(&map::to_request(&resource, events.clone()));
        let got = map::encode_events(&resource, &events);
        prop_assert_eq!(&got, &want);
        let decoded: ExportLogsServiceRequest = prost::Message::decode(&got[..]).unwrap();
        prop_assert_eq!(decoded, map::to_request(&resource, events));
    }
}

#[test]
fn golden_zmq_events_encode_alike_and_into_reuses_the_buffer() {
    let codec =
        monwire_zmq::codec::Codec::new().with_byte_order(monwire_zmq::codec::ByteOrder::Little);
    let events: Vec<_> = monwire_tests::vectors::files("zmq", ".hex")
        .into_iter()
        .map(|(name, text)| {
            let frames: Vec<Vec<u8>> = String::from_utf8(text)
                .unwrap()
                .lines()
                .map(monwire_tests::vectors::unhex)
                .collect();
            let m = codec
                .decode(&frames)
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            monwire_zmq::event::to_event(&m)
                .with_observed(std::time::SystemTime::now())
                .with_source("dealer tcp://127.0.0.1:5555")
        })
        .collect();
    assert!(events.len() > 10, "{} golden vectors", events.len());
    let resource = ResourceInfo::default();
    let want = map::encode_protobuf(&map::to_request(&resource, events.clone()));
    let mut buf = b"kept".to_vec();
    map::encode_events_into(&resource, &events, &mut buf);
    assert_eq!(&buf[..4], b"kept");
    assert_eq!(&buf[4..], &want[..]);
}
