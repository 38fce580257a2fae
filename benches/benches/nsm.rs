//! NSM: the typed decode of every golden datagram beside `rosc::decoder::decode_udp` alone on
//! the same bytes (goal: typed decode at most 0.5x rosc), and beside the previous path (rosc,
//! then conversion: `codec::decode_reference`); then a server fanning one event out to 100
//! monitors. Ratios are read from one run; nothing here asserts a time.
// Bench code: a panic is a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use monwire_nsm::session::MonitorServer;
use monwire_nsm::{ClientEvent, Limits, Message, codec};

fn vectors() -> Vec<(String, Vec<u8>)> {
    let dir = format!("{}/../tests/vectors/nsm", env!("CARGO_MANIFEST_DIR"));
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("the vectors")
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "hex").then_some(path)
        })
        .map(|path| {
            let text = std::fs::read_to_string(&path).unwrap();
            let digits: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
            let bytes = digits
                .chunks(2)
                .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
                .collect();
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            (name, bytes)
        })
        .collect();
    out.sort();
    out
}

fn bench(c: &mut Criterion) {
    let limits = Limits::default();
    let mut g = c.benchmark_group("nsm_decode");
    g.measurement_time(Duration::from_secs(1))
        .warm_up_time(Duration::from_millis(300))
        .throughput(Throughput::Elements(1));
    for (name, bytes) in vectors() {
        g.bench_with_input(
            BenchmarkId::new("rosc_decode_udp", &name),
            &bytes,
            |b, d| b.iter(|| rosc::decoder::decode_udp(black_box(d)).unwrap()),
        );
        g.bench_with_input(BenchmarkId::new("typed_decode", &name), &bytes, |b, d| {
            b.iter(|| codec::decode(black_box(d)).unwrap())
        });
        g.bench_with_input(BenchmarkId::new("typed_via_rosc", &name), &bytes, |b, d| {
            b.iter(|| codec::decode_reference(black_box(d), &limits).unwrap())
        });
    }
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
