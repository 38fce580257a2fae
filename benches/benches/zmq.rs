//! ZeroMQ monitor: borrowed v1 decode of `LISTENING` (goal: at most 5 ns per event), v2 decode
//! of `PIPES_STATS`, and a live drain of 100,000 v1 messages over an inproc `PAIR` pair: a raw
//! `recv_multipart` loop against the same loop plus `MonitorSession::handle_v1`, and against
//! the `Monitor` iterator reading the same messages.
// Bench code: a panic is a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use monwire_zmq::codec::{ByteOrder, Codec};
use monwire_zmq::session::MonitorSession;
use monwire_zmq::zmq::{AttachOptions, Monitor};
use monwire_zmq::{EventMask, MonitorEvent, V1Message};

/// The frames of `tests/vectors/zmq/<name>.hex` (one hex frame per line).
fn vector(name: &str) -> Vec<Vec<u8>> {
    let path = format!(
        "{}/../tests/vectors/zmq/{name}.hex",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).expect("the vector");
    text.lines()
        .map(|line| {
            line.as_bytes()
                .chunks(2)
                .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
                .collect()
        })
        .collect()
}

const DRAIN: usize = 100_000;

fn decode(c: &mut Criterion) {
    let codec = Codec::new().with_byte_order(ByteOrder::Little);
    let mut g = c.benchmark_group("zmq_decode");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1));

    let listening = vector("v1-listening-tcp");
    let v1: [&[u8]; 2] = [&listening[0], &listening[1]];
    assert_eq!(
        codec.decode_v1(&v1).unwrap().event,
        MonitorEvent::Listening { fd: 18 }
    );
    g.bench_function("v1_listening_borrowed", |b| {
        b.iter(|| codec.decode_v1(black_box(&v1)))
    });

    let stats = vector("v2-pipes_stats-client");
    let v2: Vec<&[u8]> = stats.iter().map(Vec::as_slice).collect();
    assert!(matches!(
        codec.decode_v2(&v2).unwrap().event,
        MonitorEvent::PipesStats { .. }
    ));
    g.bench_function("v2_pipes_stats_borrowed", |b| {
        b.iter(|| codec.decode_v2(black_box(&v2)))
    });
    g.finish();
}

/// A PAIR pair over inproc with unbounded pipes, so 100,000 messages can be queued up front.
fn pair(ctx: &zmq::Context, name: &str) -> (zmq::Socket, zmq::Socket) {
    let endpoint = format!("inproc://monwire-bench-{name}");
    let tx = ctx.socket(zmq::PAIR).unwrap();
    tx.set_sndhwm(0).unwrap();
    tx.bind(&endpoint).unwrap();
    let rx = ctx.socket(zmq::PAIR).unwrap();
    rx.set_rcvhwm(0).unwrap();
    rx.connect(&endpoint).unwrap();
    (tx, rx)
}

/// Queues `DRAIN` pre-encoded two-frame v1 messages (untimed).
fn fill(tx: &zmq::Socket, frames: &[Vec<u8>; 2]) {
    for _ in 0..DRAIN {
        tx.send(&frames[0][..], zmq::SNDMORE).unwrap();
        tx.send(&frames[1][..], 0).unwrap();
    }
}

fn drain(c: &mut Criterion) {
    let ctx = zmq::Context::new();
    let (tx, rx) = pair(&ctx, "drain");
    let msg = V1Message::new(
        MonitorEvent::Closed { fd: 42 },
        b"tcp://127.0.0.1:38317".to_vec(),
    );
    let frames = Codec::new().encode_v1(&msg.view()).unwrap();

    let mut g = c.benchmark_group("zmq_drain_100k");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(DRAIN as u64));

    g.bench_function("raw_recv_multipart", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                fill(&tx, &frames);
                let start = Instant::now();
                for _ in 0..DRAIN {
                    black_box(rx.recv_multipart(0).unwrap());
                }
                total += start.elapsed();
            }
            total
        })
    });

    g.bench_function("recv_multipart_plus_handle_v1", |b| {
        b.iter_custom(|iters| {
            let mut session = MonitorSession::new(EventMask::ALL_V1);
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                fill(&tx, &frames);
                let start = Instant::now();
                for _ in 0..DRAIN {
                    let parts = rx.recv_multipart(0).unwrap();
                    let m = session.handle_v1(&parts).unwrap().unwrap();
                    black_box(m);
                }
                total += start.elapsed();
            }
            total
        })
    });

    // The attach iterator itself, reading the same pre-encoded messages: `Monitor::connect`
    // reads a monitor endpoint armed elsewhere, here our PAIR sender.
    let endpoint = "inproc://monwire-bench-iterator";
    let itx = ctx.socket(zmq::PAIR).unwrap();
    itx.set_sndhwm(0).unwrap();
    itx.bind(endpoint).unwrap();
    let mut monitor = Monitor::connect(
        &ctx,
        endpoint,
        EventMask::ALL_V1,
        AttachOptions::new().unbounded(true),
    )
    .unwrap();
    g.bench_function("monitor_iterator", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                fill(&itx, &frames);
                let start = Instant::now();
                for m in monitor.by_ref().take(DRAIN) {
                    black_box(m.unwrap());
                }
                total += start.elapsed();
            }
            total
        })
    });
    g.finish();
    // End the stream the way libzmq does, so the monitor closes its reader at once.
    let stopped = Codec::new()
        .encode_v1(&V1Message::new(MonitorEvent::MonitorStopped, Vec::new()).view())
        .unwrap();
    itx.send(&stopped[0][..], zmq::SNDMORE).unwrap();
    itx.send(&stopped[1][..], 0).unwrap();
    assert!(monitor.next().is_none());
}

criterion_group!(benches, decode, drain);
criterion_main!(benches);
