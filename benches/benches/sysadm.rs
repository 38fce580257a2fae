//! SysAdm: typed decode of each golden event against a plain `serde_json::Value` parse of the
//! same text, and server fan-out to 1,000 loopback websocket subscribers.
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use monwire_sysadm::codec::{Limits, decode, decode_general, decode_str};
use monwire_sysadm::session::{AllowAll, ClientConfig, ClientEvent, ServerConfig};
use monwire_sysadm::tokio::{ClientOptions, ServerOptions, ServerTls, spawn_client, spawn_server};

fn vectors() -> Vec<(String, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/sysadm");
    let mut out: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("event-")
        })
        .map(|p| {
            (
                p.file_stem().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

fn decode_bench(c: &mut Criterion) {
    let limits = Limits::default();
    for (name, bytes) in vectors() {
        let mut g = c.benchmark_group(format!("sysadm_decode/{name}"));
        g.measurement_time(Duration::from_secs(2))
            .warm_up_time(Duration::from_millis(500));
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function("typed", |b| {
            b.iter(|| decode(std::hint::black_box(&bytes), &limits).unwrap())
        });
        // The payload as tungstenite hands it over (already UTF-8).
        let text = String::from_utf8(bytes.clone()).unwrap();
        g.bench_function("typed_str", |b| {
            b.iter(|| decode_str(std::hint::black_box(&text), &limits).unwrap())
        });
        // The general path alone (Value, then typed): what `decode` did before the fast path.
        g.bench_function("general", |b| {
            b.iter(|| decode_general(std::hint::black_box(&bytes), &limits).unwrap())
        });
        g.bench_function("serde_json_value", |b| {
            b.iter(|| {
                serde_json::from_slice::<serde_json::Value>(std::hint::black_box(&bytes)).unwrap()
            })
        });
        g.finish();
    }
}

fn rss_kib() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

const SUBSCRIBERS: usize = 1000;

fn fanout_bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let event = decode(
        &std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../tests/vectors/sysadm/event-system-state.json"),
        )
        .unwrap(),
        &Limits::default(),
    )
    .unwrap();
    let (srv, received) = rt.block_on(async {
        let (srv, _events) = spawn_server(ServerOptions {
            listen: "127.0.0.1:0".parse().unwrap(),
            tls: ServerTls::Plain,
            config: ServerConfig { queue_capacity: 4096, ..Default::default() },
            verifier: Box::new(AllowAll),
        })
        .await
        .unwrap();
        std::mem::forget(_events);
        let url = format!("ws://127.0.0.1:{}", srv.local_addr().port());
        let received = Arc::new(AtomicUsize::new(0));
        let subscribed = Arc::new(AtomicUsize::new(0));
        let before = rss_kib();
        for _ in 0..SUBSCRIBERS {
            let mut o = ClientOptions::new(&url).unwrap();
            o.config = ClientConfig { credentials: Some(("u".into(), "p".into())), subscriptions: vec!["system-state".into()], ..Default::default() };
            o.channel = 64;
            let mut h = spawn_client(o).unwrap();
            let (received, subscribed) = (received.clone(), subscribed.clone());
            tokio::spawn(async move {
                while let Some(e) = h.next().await {
                    match e {
                        ClientEvent::Event(_) => { received.fetch_add(1, Ordering::Relaxed); }
                        ClientEvent::Session(s) if s.name == "subscribed" => { subscribed.fetch_add(1, Ordering::Relaxed); }
                        _ => {}
                    }
                }
            });
        }
        while subscribed.load(Ordering::Relaxed) < SUBSCRIBERS {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let after = rss_kib();
        eprintln!(
            "sysadm fan-out: {SUBSCRIBERS} idle subscribers: RSS {before} KiB -> {after} KiB, {:.1} KiB per subscriber (server side and client side together, same process)",
            (after.saturating_sub(before)) as f64 / SUBSCRIBERS as f64
        );
        (srv, received)
    });
    let mut g = c.benchmark_group("sysadm_fanout");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    const EVENTS: usize = 20;
    g.throughput(Throughput::Elements((EVENTS * SUBSCRIBERS) as u64));
    g.bench_function("1000_ws_subscribers_x20_events", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let start_count = received.load(Ordering::Relaxed);
                let start = Instant::now();
                for _ in 0..EVENTS {
                    srv.publish(&event).unwrap();
                }
                while received.load(Ordering::Relaxed) < start_count + EVENTS * SUBSCRIBERS {
                    std::thread::sleep(Duration::from_micros(200));
                }
                total += start.elapsed();
            }
            total
        })
    });
    g.finish();
    drop(rt);
}

criterion_group!(benches, decode_bench, fanout_bench);
criterion_main!(benches);
