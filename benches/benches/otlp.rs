//! OTLP export:
//! - `otlp_encode`: mapping plus protobuf encoding of a batch of 512 real ZeroMQ events (every
//!   golden vector, cycled), goal at most 300 ns per event: `direct_512` is what the exporter
//!   does (`map::encode_events`, protobuf written straight from the events); beside it the
//!   struct path it replaced (`map::to_request` into the `opentelemetry-proto` tree, then
//!   prost), and prost's encoding alone of the same, already mapped request.
//! - `otlp_export`: end-to-end export to a real rotel over loopback OTLP/HTTP protobuf (its
//!   debug log off), goal at least 200,000 events/s; beside it the ceiling: rotel taking the
//!   same pre-encoded 512-record requests from a bare HTTP/1.1 keep-alive loop, one request in
//!   flight like the exporter. The ratio is the exporter's share of the ceiling.
//!
//! `nice -n 19 cargo bench -p monwire-benches --bench otlp` (the second group needs rotel:
//! `$MONWIRE_ROTEL` or `rotel-agent` on `PATH`; without it, it is skipped with a note).
// Bench code: a panic is a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{BatchSize, Criterion, SamplingMode, Throughput, criterion_group, criterion_main};
use monwire_event::Event;
use monwire_otlp::{BatchConfig, Exporter, ExporterConfig, ResourceInfo, map};
use monwire_zmq::codec::{ByteOrder, Codec};

const BATCH: usize = 512;

/// One event per golden ZeroMQ vector (v1 and v2).
fn golden_zmq() -> Vec<Event> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/zmq");
    let codec = Codec::new().with_byte_order(ByteOrder::Little);
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "hex"))
        .collect();
    names.sort();
    let mut out = Vec::new();
    for p in names {
        let text = std::fs::read_to_string(&p).unwrap();
        let frames: Vec<Vec<u8>> = text
            .lines()
            .map(|line| {
                line.as_bytes()
                    .chunks(2)
                    .map(|h| u8::from_str_radix(std::str::from_utf8(h).unwrap(), 16).unwrap())
                    .collect()
            })
            .collect();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let e = if name.starts_with("v1-") {
            monwire_zmq::event::to_event(&codec.decode_v1(&frames).unwrap())
        } else {
            monwire_zmq::event::to_event(&codec.decode_v2(&frames).unwrap())
        };
        out.push(e.with_observed(std::time::SystemTime::now()));
    }
    assert!(!out.is_empty());
    out
}

fn batch_of(n: usize) -> Vec<Event> {
    golden_zmq().into_iter().cycle().take(n).collect()
}

fn encode(c: &mut Criterion) {
    let events = batch_of(BATCH);
    let resource = ResourceInfo::default();
    let mut g = c.benchmark_group("otlp_encode");
    g.measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(BATCH as u64));
    let mut buf = Vec::new();
    g.bench_function("direct_512", |b| {
        b.iter(|| {
            buf.clear();
            map::encode_events_into(&resource, black_box(&events), &mut buf);
            buf.len()
        })
    });
    g.bench_function("direct_512_fresh_buffer", |b| {
        b.iter(|| map::encode_events(&resource, black_box(&events)))
    });
    g.bench_function("struct_map_and_protobuf_512", |b| {
        b.iter_batched(
            || events.clone(),
            |evs| map::encode_protobuf(&map::to_request(&resource, evs)),
            BatchSize::SmallInput,
        )
    });
    let request = map::to_request(&resource, events.clone());
    g.bench_function("protobuf_only_512", |b| {
        b.iter(|| map::encode_protobuf(black_box(&request)))
    });
    g.finish();
}

fn rotel_binary() -> Option<PathBuf> {
    let p = std::env::var_os("MONWIRE_ROTEL")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("rotel-agent"));
    Command::new(&p)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| p)
}

struct Rotel {
    child: Child,
    http: SocketAddr,
}

impl Drop for Rotel {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Rotel on fresh loopback ports, blackhole exporter, no debug log (it cannot bind port 0: the
/// ports are released before it binds them, and a lost race is retried).
fn start_rotel(bin: &PathBuf) -> Rotel {
    for attempt in 0..5 {
        let a = TcpListener::bind("127.0.0.1:0").unwrap();
        let b = TcpListener::bind("127.0.0.1:0").unwrap();
        let (http, grpc) = (a.local_addr().unwrap(), b.local_addr().unwrap());
        drop((a, b));
        let mut child = Command::new(bin)
            .arg("start")
            .args(["--otlp-http-endpoint", &http.to_string()])
            .args(["--otlp-grpc-endpoint", &grpc.to_string()])
            .args(["--exporter", "blackhole"])
            .arg("--pid-file")
            .arg(std::env::temp_dir().join(format!(
                "monwire-bench-rotel-{}-{attempt}.pid",
                std::process::id()
            )))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if child.try_wait().unwrap().is_some() {
                break;
            }
            if TcpStream::connect_timeout(&http, Duration::from_millis(200)).is_ok() {
                return Rotel { child, http };
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("rotel did not start");
}

/// The ceiling: one keep-alive connection, one request in flight, pre-encoded bodies.
struct BareHttp {
    stream: BufReader<TcpStream>,
    head: Vec<u8>,
}

impl BareHttp {
    fn connect(addr: SocketAddr, body_len: usize) -> BareHttp {
        let s = TcpStream::connect(addr).unwrap();
        s.set_nodelay(true).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let head = format!(
            "POST /v1/logs HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/x-protobuf\r\ncontent-length: {body_len}\r\n\r\n"
        )
        .into_bytes();
        BareHttp {
            stream: BufReader::new(s),
            head,
        }
    }

    fn post(&mut self, body: &[u8]) {
        let s = self.stream.get_mut();
        s.write_all(&self.head).unwrap();
        s.write_all(body).unwrap();
        let mut len = 0usize;
        let mut status = String::new();
        self.stream.read_line(&mut status).unwrap();
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        loop {
            let mut line = String::new();
            self.stream.read_line(&mut line).unwrap();
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut sink = vec![0u8; len];
        self.stream.read_exact(&mut sink).unwrap();
    }
}

fn export(c: &mut Criterion) {
    let Some(bin) = rotel_binary() else {
        eprintln!("otlp_export skipped: no rotel (set MONWIRE_ROTEL or put rotel-agent on PATH)");
        return;
    };
    let rotel = start_rotel(&bin);
    const PER_ITER: usize = 20 * BATCH;
    let events = batch_of(BATCH);
    let mut g = c.benchmark_group("otlp_export");
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(10)
        .measurement_time(Duration::from_secs(6))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(PER_ITER as u64));

    let body = map::encode_events(&ResourceInfo::default(), &events);
    let mut bare = BareHttp::connect(rotel.http, body.len());
    g.bench_function("bare_http_loop_ceiling", |b| {
        b.iter(|| {
            for _ in 0..PER_ITER / BATCH {
                bare.post(&body);
            }
        })
    });
    drop(bare);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let exporter = rt.block_on(async {
        Exporter::start(
            ExporterConfig::default()
                .with_endpoint(&format!("http://{}", rotel.http))
                .with_batch(BatchConfig::default().with_max_queue(4 * PER_ITER)),
        )
        .unwrap()
    });
    g.bench_function("exporter_http_protobuf", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let copies: Vec<Event> = events.iter().cycle().take(PER_ITER).cloned().collect();
                let target = exporter.counters().sent + PER_ITER as u64;
                let t = Instant::now();
                for e in copies {
                    exporter.export(e);
                }
                let deadline = Instant::now() + Duration::from_secs(60);
                while exporter.counters().sent < target {
                    assert!(Instant::now() < deadline, "{:?}", exporter.counters());
                    std::thread::sleep(Duration::from_micros(200));
                }
                total += t.elapsed();
            }
            total
        })
    });
    g.finish();
    let counters = rt.block_on(exporter.shutdown(Duration::from_secs(10)));
    eprintln!("otlp_export exporter counters: {counters:?}");
}

criterion_group!(benches, encode, export);
criterion_main!(benches);
