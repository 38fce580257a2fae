//! ZeroMQ monitor, every figure beside its baseline in one run (issue 12):
//!
//! - `zmq_decode`: borrowed v1 decode of `LISTENING` and v2 decode of `PIPES_STATS`, against
//!   one raw `recv_multipart` of the same v1 message from an inproc pipe (goal: v1 decode at
//!   least 25× faster than that receive).
//! - `zmq_drain_100k`: 100,000 queued v1 messages over an inproc `PAIR` pair, read by a raw
//!   `recv_multipart` loop (the baseline), that loop plus `MonitorSession::handle_v1`, the
//!   owned `Monitor` iterator, and the lending `Monitor::recv_ref` (goal: ≥ 1.0× raw).
//! - `zmq_watch_100k`: what `monwire watch zmq` does per event, against its ceiling of a raw
//!   receive into reused `zmq::Message`s plus a borrowed decode (goal: keep up with 1 M
//!   events/s, and report the ratio). The watch path is the lending read, `to_event`, the
//!   observed time and source, a `Filter`, and the CLI's own JSON or text line writer
//!   (`monwire_cli::view`) into a buffer written out when it fills. `_reused_event` is what
//!   the CLI does (one event refilled per message by `to_event_into`, its source set once);
//!   `_owned_event` is the path it replaced (a new event and source string per message);
//!   `_recorded` adds `--record`'s tap (the monitor's tap writes each message's frames to a
//!   `RecordWriter` into /dev/null and stamps the event), for its cost on a real socket read.
//!
//! libzmq's monitor endpoints are inproc-only, and no local peer can make a real socket emit a
//! million monitor events a second (a connect storm gives tens of thousands), so the flood is
//! fed as pre-encoded monitor messages on an inproc pipe, read by `Monitor::connect`: the same
//! reader `watch zmq` uses behind `Monitor::attach`.
// Bench code: a panic is a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use monwire_capture::record::{Direction, FramesRef, Header, PayloadRef, RecordRef};
use monwire_cli::recording::RecordWriter;
use monwire_cli::view::{TextStyle, TextView, write_json_line};
use monwire_event::{Filter, Severity};
use monwire_zmq::codec::{ByteOrder, Codec};
use monwire_zmq::event::{to_event, to_event_into};
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

const S434: &str = "tcp://127.0.0.1:38317";

/// Messages queued per timed drain.
const DRAIN: usize = 100_000;
/// Messages queued per timed chunk of single receives (bounds the queue's memory).
const CHUNK: u64 = 10_000;

/// A PAIR pair over inproc with unbounded pipes, so every message can be queued up front.
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

/// Queues `n` copies of a two-frame v1 message (untimed).
fn fill(tx: &zmq::Socket, frames: &[Vec<u8>], n: usize) {
    for _ in 0..n {
        tx.send(&frames[0][..], zmq::SNDMORE).unwrap();
        tx.send(&frames[1][..], 0).unwrap();
    }
}

/// A `Monitor` reading the monitor endpoint our own PAIR sender binds, with every v1 event.
fn monitor(ctx: &zmq::Context, name: &str) -> (zmq::Socket, Monitor) {
    let endpoint = format!("inproc://monwire-bench-monitor-{name}");
    let tx = ctx.socket(zmq::PAIR).unwrap();
    tx.set_sndhwm(0).unwrap();
    tx.bind(&endpoint).unwrap();
    let m = Monitor::connect(
        ctx,
        &endpoint,
        EventMask::ALL_V1,
        AttachOptions::new().unbounded(true),
    )
    .unwrap();
    (tx, m)
}

/// Ends the stream as libzmq does. With `EventMask::ALL_V1` the session hands
/// `MONITOR_STOPPED` on (it was asked for), and only then does the iterator end.
fn end(tx: &zmq::Socket, mut monitor: Monitor) {
    let stopped = Codec::new()
        .encode_v1(&V1Message::new(MonitorEvent::MonitorStopped, Vec::new()).view())
        .unwrap();
    fill(tx, &stopped, 1);
    let last = monitor.next().expect("MONITOR_STOPPED").unwrap();
    assert_eq!(last.event, MonitorEvent::MonitorStopped);
    assert!(
        monitor.next().is_none(),
        "the stream ends after MONITOR_STOPPED"
    );
    assert!(monitor.is_ended());
}

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

    // The parts of the watch path: the owned event, and its JSON line.
    let closed = V1Message::new(MonitorEvent::Disconnected { fd: 26 }, S434);
    g.bench_function("v1_to_event", |b| {
        b.iter(|| to_event(black_box(&closed.view())))
    });
    let event = to_event(&closed.view()).with_observed(SystemTime::now());
    let mut line = Vec::with_capacity(512);
    g.bench_function("event_json_line", |b| {
        b.iter(|| {
            line.clear();
            serde_json::to_writer(&mut line, black_box(&event)).unwrap();
            line.push(b'\n');
            black_box(line.len())
        })
    });

    // The baseline: one raw receive of the same v1 message, queued in chunks (untimed).
    let ctx = zmq::Context::new();
    let (tx, rx) = pair(&ctx, "one");
    g.bench_function("raw_recv_multipart_one_v1", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(CHUNK);
                fill(&tx, &listening, n as usize);
                let start = Instant::now();
                for _ in 0..n {
                    black_box(rx.recv_multipart(0).unwrap());
                }
                total += start.elapsed();
                left -= n;
            }
            total
        })
    });
    g.finish();
}

fn drain(c: &mut Criterion) {
    let ctx = zmq::Context::new();
    let (tx, rx) = pair(&ctx, "drain");
    let msg = V1Message::new(
        MonitorEvent::Closed { fd: 42 },
        b"tcp://127.0.0.1:38317".to_vec(),
    );
    let frames = Codec::new().encode_v1(&msg.view()).unwrap().to_vec();

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
                fill(&tx, &frames, DRAIN);
                let start = Instant::now();
                for _ in 0..DRAIN {
                    black_box(rx.recv_multipart(0).unwrap());
                }
                total += start.elapsed();
            }
            total
        })
    });

    // The floor: raw receives into two reused messages, nothing decoded.
    g.bench_function("raw_recv_reused_messages", |b| {
        let mut parts = [zmq::Message::new(), zmq::Message::new()];
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                fill(&tx, &frames, DRAIN);
                let start = Instant::now();
                for _ in 0..DRAIN {
                    rx.recv(&mut parts[0], 0).unwrap();
                    rx.recv(&mut parts[1], 0).unwrap();
                    black_box(&parts);
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
                fill(&tx, &frames, DRAIN);
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

    // The attach iterator itself (owned messages), reading the same pre-encoded messages.
    let (itx, mut owned) = monitor(&ctx, "owned");
    g.bench_function("monitor_iterator", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                fill(&itx, &frames, DRAIN);
                let start = Instant::now();
                for m in owned.by_ref().take(DRAIN) {
                    black_box(m.unwrap());
                }
                total += start.elapsed();
            }
            total
        })
    });

    // The lending read: reused `zmq::Message`s, nothing copied or allocated.
    let (ltx, mut lending) = monitor(&ctx, "lending");
    g.bench_function("monitor_recv_ref", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                fill(&ltx, &frames, DRAIN);
                let start = Instant::now();
                for _ in 0..DRAIN {
                    black_box(lending.recv_ref().unwrap().unwrap());
                }
                total += start.elapsed();
            }
            total
        })
    });
    g.finish();
    end(&itx, owned);
    end(&ltx, lending);
}

fn watch(c: &mut Criterion) {
    let ctx = zmq::Context::new();
    let msg = V1Message::new(
        MonitorEvent::Disconnected { fd: 26 },
        b"tcp://127.0.0.1:38317".to_vec(),
    );
    let frames = Codec::new().encode_v1(&msg.view()).unwrap().to_vec();

    let mut g = c.benchmark_group("zmq_watch_100k");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(10)
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(DRAIN as u64));

    // The ceiling: raw receive into reused messages plus the borrowed decode.
    let (tx, rx) = pair(&ctx, "ceiling");
    let codec = Codec::new();
    g.bench_function("ceiling_raw_recv_plus_decode", |b| {
        let mut parts = [zmq::Message::new(), zmq::Message::new()];
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                fill(&tx, &frames, DRAIN);
                let start = Instant::now();
                for _ in 0..DRAIN {
                    rx.recv(&mut parts[0], 0).unwrap();
                    rx.recv(&mut parts[1], 0).unwrap();
                    let f: [&[u8]; 2] = [&parts[0], &parts[1]];
                    black_box(codec.decode_v1(&f).unwrap());
                }
                total += start.elapsed();
            }
            total
        })
    });

    // What `watch zmq` does for each event: the lending read, the event with its observed
    // time and source, the filter, and the CLI's own line writers into a buffer that is
    // written out (to a sink here) when it fills, as the CLI's buffered stdout is.
    let (wtx, mut mon) = monitor(&ctx, "watch");
    let filter = Filter::new().with_min_severity(Severity::Debug);
    let view = TextView::new(TextStyle {
        color: false,
        utc: false,
        verbose: false,
        width: None,
    });
    // `reused`: what the CLI does, one event refilled per message (`to_event_into`), its
    // source set once; `owned`: the earlier path, a new event (and source) per message.
    // `_recorded`: as `watch zmq --record` does, the monitor's tap writes every message's
    // frames to a recording (the CLI's `RecordWriter`, into /dev/null) and stamps the event
    // with the record's time, one clock read either way (issue 9 §3: at most 10 % more).
    let stamp = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    for (format, reuse, record) in [
        ("json", true, false),
        ("json", true, true),
        ("text", true, false),
        ("json", false, false),
        ("text", false, false),
    ] {
        let name = format!(
            "watch_pipeline_{format}_{}{}",
            if reuse { "reused_event" } else { "owned_event" },
            if record { "_recorded" } else { "" }
        );
        if record {
            let rec = RecordWriter::new(
                std::fs::File::create("/dev/null").unwrap(),
                &Header::new("zmq"),
                |e| panic!("{e}"),
            )
            .unwrap();
            let stamp = std::sync::Arc::clone(&stamp);
            mon.set_tap(Some(Box::new(move |frames: &[&[u8]]| {
                let now = SystemTime::now();
                let nanos = now
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos();
                stamp.store(nanos as u64, std::sync::atomic::Ordering::Relaxed);
                rec.write(&RecordRef {
                    time: now,
                    direction: Direction::In,
                    peer: Some("dealer tcp://127.0.0.1:38317"),
                    payload: PayloadRef::Frames(FramesRef::Slices(frames)),
                });
            })));
        } else {
            mon.set_tap(None);
        }
        g.bench_function(name, |b| {
            let mut out = std::io::sink();
            let mut buf: Vec<u8> = Vec::with_capacity(64 * 1024);
            let mut line = String::with_capacity(256);
            let source = "dealer tcp://127.0.0.1:38317";
            let mut event = monwire_event::Event::new(
                monwire_event::Protocol::Zmq,
                monwire_event::Kind::Other,
                "",
            )
            .with_source(source);
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    fill(&wtx, &frames, DRAIN);
                    let start = Instant::now();
                    for _ in 0..DRAIN {
                        let m = mon.recv_ref().unwrap().unwrap();
                        let owned;
                        let e = if reuse {
                            to_event_into(&m, &mut event);
                            event.observed = Some(if record {
                                SystemTime::UNIX_EPOCH
                                    + Duration::from_nanos(
                                        stamp.load(std::sync::atomic::Ordering::Relaxed),
                                    )
                            } else {
                                SystemTime::now()
                            });
                            &event
                        } else {
                            let mut e = to_event(&m).with_observed(SystemTime::now());
                            e.source = Some(source.to_owned());
                            owned = e;
                            &owned
                        };
                        if filter.matches(e) {
                            if format == "json" {
                                write_json_line(e, &mut buf).unwrap();
                            } else {
                                line.clear();
                                view.write_line(e, &mut line);
                                buf.extend_from_slice(line.as_bytes());
                            }
                            if buf.len() >= 64 * 1024 {
                                out.write_all(&buf).unwrap();
                                buf.clear();
                            }
                        }
                    }
                    out.write_all(&buf).unwrap();
                    buf.clear();
                    total += start.elapsed();
                }
                total
            })
        });
    }
    g.finish();
    mon.set_tap(None);
    end(&wtx, mon);
}

criterion_group!(benches, decode, drain, watch);
criterion_main!(benches);
