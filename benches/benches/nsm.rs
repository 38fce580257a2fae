//! NSM: typed decode of a `client_event` datagram against `rosc::decoder::decode_udp` alone on
//! the same bytes (goal: at most 1.2x rosc), and a server fanning one event out to 100 monitors.
// Bench code: a panic is a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use monwire_nsm::session::MonitorServer;
use monwire_nsm::{ClientEvent, Message, codec};

fn vector(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../tests/vectors/nsm/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).expect("the vector");
    let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

fn bench(c: &mut Criterion) {
    let bytes = vector("ray-client-event-okr-stopped-by-server");
    let mut g = c.benchmark_group("nsm_decode_client_event");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1));
    g.bench_function("rosc_decode_udp", |b| {
        b.iter(|| rosc::decoder::decode_udp(black_box(&bytes)).unwrap())
    });
    g.bench_function("typed_decode", |b| {
        b.iter(|| codec::decode(black_box(&bytes)).unwrap())
    });
    g.finish();

    let mut g = c.benchmark_group("nsm_server_fanout");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(100));
    let mut server = MonitorServer::<u32>::new();
    server.load_session("bench", &[("synth", "fluidsynth")]);
    for m in 0..100 {
        server.handle_message(m, Message::MonitorAnnounce);
    }
    while server.poll_transmit().is_some() {}
    g.bench_function("one_event_to_100_monitors_encoded", |b| {
        b.iter(|| {
            server.client_event("synth", ClientEvent::Started).unwrap();
            let mut bytes = 0;
            while let Some((_to, m)) = server.poll_transmit() {
                bytes += codec::encode(&m).unwrap().len();
            }
            assert_eq!(bytes, 100 * 48);
            bytes
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
