//! What `watch … --record` costs the live path, per message, beside the same path without it,
//! in the same run (issue 9 §3: at most 10 %):
//!
//! - `nsm_udp`: the live path of `watch nsm` over a real loopback UDP socket pair: send a
//!   `client_event` datagram, receive it, decode it, map it to an `Event` and write its JSON
//!   line (the CLI's own `write_json_line`); `+record` adds what the recording tap does: take
//!   the time and hand the `datagram` record to the CLI's `RecordWriter`, which packs it onto
//!   a queue that its own thread encodes and writes (to `/dev/null` here).
//! - `zmq_frames`: the same without a socket (decode + event refilled + JSON line of a v1
//!   monitor message, as `watch zmq` does), the worst case for the relative cost since no
//!   syscall hides it. With the recording, the tap's clock read stamps the event too.
//! - `galaxy_chunk`: the Hub's 16 status messages of the golden capture, each written to a real
//!   loopback TCP connection, read off it and fed to the GUI-server session, every event's
//!   JSON line written.
//!
//! `record_only` is the tap alone, on the same messages: its time over `live` is the
//! overhead, and it does not move with the socket's noise.
//!
//! And the readers' throughput: a recording replayed (`record_read`) and a pcap of NSM
//! datagrams dissected (`pcap_dissect`).
// Bench code: a panic is a failed run.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::File;
use std::hint::black_box;
use std::net::UdpSocket;
use std::path::Path;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use monwire_capture::record::{Direction, FramesRef, Header, PayloadRef, RecordRef};
use monwire_cli::recording::RecordWriter;
use monwire_cli::view::write_json_line;

fn vectors() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors")
}

fn unhex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// The recorder the CLI uses (`monwire_cli::recording::RecordWriter`: a tap packs the record
/// under a lock, the recording's own thread encodes and writes it). The file is `/dev/null`:
/// the same `write` per batch, without filling the disk with the gigabytes a long run records.
fn recorder(_name: &str, protocol: &str) -> RecordWriter {
    let file = File::options().write(true).open("/dev/null").unwrap();
    RecordWriter::new(file, &Header::new(protocol), |e| panic!("{e}")).unwrap()
}

fn record(rec: &RecordWriter, peer: &str, payload: PayloadRef<'_>) {
    record_at(rec, SystemTime::now(), peer, payload);
}

fn record_at(rec: &RecordWriter, time: SystemTime, peer: &str, payload: PayloadRef<'_>) {
    rec.write(&RecordRef {
        time,
        direction: Direction::In,
        peer: Some(peer),
        payload,
    });
}

fn bench(c: &mut Criterion) {
    let mut json = Vec::with_capacity(4096);

    // NSM over a real loopback socket pair.
    let datagram = unhex(
        &std::fs::read_to_string(vectors().join("nsm/ray-client-event-okr-ready.hex")).unwrap(),
    );
    let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
    let tx = UdpSocket::bind("127.0.0.1:0").unwrap();
    tx.connect(rx.local_addr().unwrap()).unwrap();
    let limits = monwire_nsm::codec::Limits::default();
    let mut buf = vec![0u8; 65_536];
    let rec = recorder("nsm", "nsm");
    let mut g = c.benchmark_group("capture_overhead_nsm_udp");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1));
    let mut live = |with: bool| {
        tx.send(&datagram).unwrap();
        let (n, from) = rx.recv_from(&mut buf).unwrap();
        let d = &buf[..n];
        if with {
            record(&rec, "127.0.0.1:16187", PayloadRef::Datagram(d));
        }
        for m in monwire_nsm::codec::decode_datagram(d, &limits).unwrap() {
            let e = monwire_nsm::event::to_event(&m)
                .with_source(format!("osc.udp://{from}/"))
                .with_observed(SystemTime::now());
            json.clear();
            write_json_line(&e, &mut json).unwrap();
        }
        black_box(json.len())
    };
    g.bench_function("live", |b| b.iter(|| live(false)));
    g.bench_function("live+record", |b| b.iter(|| live(true)));
    g.bench_function("record_only", |b| {
        b.iter(|| {
            record(
                &rec,
                "127.0.0.1:16187",
                PayloadRef::Datagram(black_box(&datagram)),
            )
        })
    });
    g.finish();

    // ZeroMQ monitor frames, in memory.
    let frames: Vec<Vec<u8>> = "200046000000 7463703a2f2f3132372e302e302e313a3338373935"
        .split(' ')
        .map(unhex)
        .collect();
    let slices: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
    let rec = recorder("zmq", "zmq");
    let mut g = c.benchmark_group("capture_overhead_zmq_frames");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(1));
    // As `watch zmq` does: one event refilled per message; with a recording, the tap's time
    // stamps the event too (one clock read either way).
    let mut event =
        monwire_event::Event::new(monwire_event::Protocol::Zmq, monwire_event::Kind::Other, "")
            .with_source("dealer tcp://127.0.0.1:5555");
    let mut live = |with: bool| {
        let m = monwire_zmq::codec::decode(black_box(&slices)).unwrap();
        let now = SystemTime::now();
        if with {
            record_at(
                &rec,
                now,
                "dealer tcp://127.0.0.1:5555",
                PayloadRef::Frames(FramesRef::Slices(&slices)),
            );
        }
        monwire_zmq::event::to_event_into(&m, &mut event);
        event.observed = Some(now);
        json.clear();
        write_json_line(&event, &mut json).unwrap();
        black_box(json.len())
    };
    g.bench_function("live", |b| b.iter(|| live(false)));
    g.bench_function("live+record", |b| b.iter(|| live(true)));
    g.bench_function("record_only", |b| {
        b.iter(|| {
            record(
                &rec,
                "dealer tcp://127.0.0.1:5555",
                PayloadRef::Frames(FramesRef::Slices(black_box(&slices))),
            )
        })
    });
    g.finish();

    // Galaxy: the Hub's stream after the handshake, one status message per chunk.
    let stream = std::fs::read(vectors().join("galaxy/cap.hub2gui")).unwrap();
    let codec = monwire_galaxy::codec::Codec::default();
    let mut dec = monwire_galaxy::codec::StreamDecoder::new(codec);
    dec.push(&stream);
    let mut chunks = Vec::new();
    let mut at = 0usize;
    while let Ok(Some(_)) = dec.next_message() {
        let end = usize::try_from(dec.offset()).unwrap();
        chunks.push(stream[at..end].to_vec());
        at = end;
    }
    let (first, status) = chunks.split_at(2); // handshake, reinitialize
    let rec = recorder("galaxy", "galaxy");
    let mut g = c.benchmark_group("capture_overhead_galaxy_chunk");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .throughput(Throughput::Elements(status.len() as u64));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut hub = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (mut gui, _) = listener.accept().unwrap();
    hub.set_nodelay(true).unwrap();
    let mut tcp_buf = vec![0u8; 65_536];
    let mut run = |with: bool, json: &mut Vec<u8>| {
        use std::io::{Read, Write};
        let mut s = monwire_galaxy::session::GuiServer::default();
        for c in first {
            s.handle_input(c).unwrap();
        }
        while s.poll_event().is_some() {}
        for chunk in status {
            // The Hub writes one message; the GUI's driver reads it off the socket.
            hub.write_all(chunk).unwrap();
            let mut got = 0;
            while got < chunk.len() {
                let n = gui.read(&mut tcp_buf[..chunk.len() - got]).unwrap();
                let read = &tcp_buf[..n];
                got += n;
                if with {
                    record(&rec, "127.0.0.1:40000", PayloadRef::Bytes(read));
                }
                s.handle_input(read).unwrap();
            }
            let _ = chunk;
            while s.poll_transmit().is_some() {}
            while let Some(ev) = s.poll_event() {
                let e =
                    monwire_galaxy::event::gui_event_to_event(&ev).with_observed(SystemTime::now());
                json.clear();
                write_json_line(&e, json).unwrap();
            }
        }
        black_box(json.len())
    };
    g.bench_function("live", |b| b.iter(|| run(false, &mut json)));
    g.bench_function("live+record", |b| b.iter(|| run(true, &mut json)));
    g.bench_function("record_only", |b| {
        b.iter(|| {
            for chunk in status {
                record(&rec, "127.0.0.1:40000", PayloadRef::Bytes(black_box(chunk)));
            }
        })
    });
    g.finish();

    // The readers.
    let recording = std::fs::read(vectors().join("capture/sysadm.rec")).unwrap();
    let pcap = std::fs::read(vectors().join("capture/nsm-lo.pcap")).unwrap();
    let mut g = c.benchmark_group("capture_readers");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    g.throughput(Throughput::Bytes(recording.len() as u64));
    g.bench_function("record_read", |b| {
        b.iter(|| {
            let r = monwire_capture::record::Reader::new(black_box(&recording[..])).unwrap();
            r.filter(Result::is_ok).count()
        })
    });
    g.throughput(Throughput::Bytes(pcap.len() as u64));
    g.bench_function("pcap_dissect", |b| {
        b.iter(|| {
            use monwire_capture::dissect::{Dissector, Selection};
            let mut d = Dissector::new(Selection::all());
            let mut n = 0;
            for p in monwire_capture::pcap::PacketReader::new(black_box(&pcap[..])).unwrap() {
                d.handle_packet(&p.unwrap());
                while d.poll_item().is_some() {
                    n += 1;
                }
            }
            n
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
