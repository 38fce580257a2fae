//! Galaxy: decoding the captured Hub stream (messages/s and MB/s), PR printing and text parsing.
// A benchmark that cannot read its input should stop loudly.
#![allow(clippy::expect_used)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use monwire_galaxy::codec::Codec;
use monwire_galaxy::message::Frame;
use monwire_galaxy::text::{pr_frame, read_frame};

fn capture() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/vectors/galaxy/cap.hub2gui"
    );
    std::fs::read(path).expect("the capture")
}

fn frames(stream: &[u8]) -> Vec<Frame> {
    let codec = Codec::default();
    let mut out = Vec::new();
    let mut at = 0;
    while let Ok(Some((m, used))) = codec.decode(&stream[at..]) {
        out.extend(m.into_frame());
        at += used;
    }
    out
}

fn bench(c: &mut Criterion) {
    let one = capture();
    let copies = 100;
    let stream = one.repeat(copies);
    let messages = frames(&one).len() * copies;
    let codec = Codec::default();

    let mut g = c.benchmark_group("galaxy_decode");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(messages as u64));
    g.bench_function("hub_stream_messages", |b| {
        b.iter(|| {
            let mut at = 0;
            let mut n = 0;
            while let Ok(Some((m, used))) = codec.decode(black_box(&stream[at..])) {
                black_box(m);
                at += used;
                n += 1;
            }
            assert_eq!(n, messages);
        })
    });
    g.throughput(Throughput::Bytes(stream.len() as u64));
    g.bench_function("hub_stream_bytes", |b| {
        b.iter(|| {
            let mut at = 0;
            while let Ok(Some((m, used))) = codec.decode(black_box(&stream[at..])) {
                black_box(m);
                at += used;
            }
        })
    });
    g.finish();

    let fs = frames(&one);
    let text: Vec<Vec<u8>> = fs.iter().map(pr_frame).collect();
    let text_bytes: usize = text.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("galaxy_text");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Bytes(text_bytes as u64));
    g.bench_function("pr_print", |b| {
        b.iter(|| {
            for f in &fs {
                black_box(pr_frame(black_box(f)));
            }
        })
    });
    // Baseline in the same run: serde_json reading the same frames in their structured JSON
    // form (about twice the bytes) into `serde_json::Value`; its rate is per byte of PR text too,
    // so the two figures compare work per frame.
    let json: Vec<String> = fs
        .iter()
        .map(|f| serde_json::to_string(&monwire_galaxy::event::frame_to_value(f)).expect("JSON"))
        .collect();
    g.bench_function("baseline_serde_json_value_same_frames", |b| {
        b.iter(|| {
            for t in &json {
                black_box(serde_json::from_str::<serde_json::Value>(black_box(t)).ok());
            }
        })
    });
    g.bench_function("pr_parse", |b| {
        b.iter(|| {
            for t in &text {
                black_box(read_frame(black_box(t)));
            }
        })
    });
    g.finish();

    // Issue 12: the per-event cost of `monwire decode galaxy` beside its decode: one Hub frame
    // to its event (typed, summary, structured `galaxy.frame`), and the same frames' decode.
    let mut g = c.benchmark_group("galaxy_event");
    g.warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Elements(fs.len() as u64));
    g.bench_function("to_event_hub_frames", |b| {
        b.iter(|| {
            for f in &fs {
                black_box(monwire_galaxy::event::to_event(black_box(f)));
            }
        })
    });
    g.bench_function("baseline_decode_same_messages", |b| {
        b.iter(|| {
            let mut at = 0;
            while let Ok(Some((m, used))) = codec.decode(black_box(&one[at..])) {
                black_box(m);
                at += used;
            }
        })
    });
    g.finish();

    // Issue 10 §2: a 1 MB frame of 100,000 keys, read from text and decoded from XDR (linear
    // now; the text reader took 21 s before).
    let mut big = b"{c many".to_vec();
    for i in 0..100_000 {
        big.extend_from_slice(format!(" :key{i} \"v{i}\"").as_bytes());
    }
    big.extend_from_slice(b" }");
    let frame = read_frame(&big).expect("reads");
    let xdr = codec
        .encode_object(&monwire_galaxy::Object::from(frame))
        .expect("encodes");
    let mut g = c.benchmark_group("galaxy_keys");
    g.sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    g.throughput(Throughput::Bytes(big.len() as u64));
    g.bench_function("text_100k_keys", |b| {
        b.iter(|| black_box(read_frame(black_box(&big))))
    });
    g.throughput(Throughput::Bytes(xdr.len() as u64));
    g.bench_function("xdr_100k_keys", |b| {
        b.iter(|| black_box(codec.decode_object(black_box(&xdr))))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
