//! The CLI's output path, per event: the JSON line (`monwire_cli::view::write_json_line`)
//! beside `serde_json::to_string` of the same event, and the text line
//! (`monwire_cli::view::TextView::write_line`, as on a 120-column terminal with colour)
//! beside `Event`'s own `Display` through `to_string`. The events are real: decoded from the
//! golden vectors of zmq, NSM (RaySession) and SysAdm, stamped with an observed time.
//! Goals (issue 12): JSON ≤ 250 ns per event, text ≤ 500 ns per event.
// Bench code: a panic is a failed bench.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, SystemTime};

use criterion::{Criterion, criterion_group, criterion_main};
use monwire_cli::view::{TextStyle, TextView, write_json_line};
use monwire_event::Event;

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

fn events() -> Vec<(&'static str, Event)> {
    let now = SystemTime::now();
    let zmq_line = "200046000000 7463703a2f2f3132372e302e302e313a3338373935";
    let frames: Vec<Vec<u8>> = zmq_line.split(' ').map(unhex).collect();
    let zmq = monwire_zmq::event::to_event(&monwire_zmq::codec::decode(&frames).unwrap());
    let ray =
        std::fs::read_to_string(vectors().join("nsm/ray-client-event-okr-ready.hex")).unwrap();
    let ray = monwire_nsm::event::to_event(&monwire_nsm::codec::decode(&unhex(&ray)).unwrap());
    let job =
        std::fs::read(vectors().join("sysadm/event-dispatcher-pkg-running-output.json")).unwrap();
    let limits = monwire_sysadm::codec::Limits::default();
    let job =
        monwire_sysadm::event::to_event(&monwire_sysadm::codec::decode(&job, &limits).unwrap());
    let state = std::fs::read(vectors().join("sysadm/event-system-state.json")).unwrap();
    let state =
        monwire_sysadm::event::to_event(&monwire_sysadm::codec::decode(&state, &limits).unwrap());
    [
        ("zmq_accepted", zmq),
        ("ray_ready", ray),
        ("sysadm_job_running", job),
        ("sysadm_system_state", state),
    ]
    .into_iter()
    .map(|(n, e)| (n, e.with_observed(now)))
    .collect()
}

fn output(c: &mut Criterion) {
    let view = TextView::new(TextStyle {
        color: true,
        utc: false,
        verbose: false,
        width: Some(120),
    });
    for (name, e) in events() {
        let mut g = c.benchmark_group(format!("output/{name}"));
        g.measurement_time(Duration::from_secs(2))
            .warm_up_time(Duration::from_millis(500));
        let mut buf = Vec::with_capacity(4096);
        g.bench_function("json_line", |b| {
            b.iter(|| {
                buf.clear();
                write_json_line(black_box(&e), &mut buf).unwrap();
                black_box(buf.len())
            })
        });
        g.bench_function("serde_json_to_string", |b| {
            b.iter(|| serde_json::to_string(black_box(&e)).unwrap())
        });
        let mut line = String::with_capacity(4096);
        g.bench_function("text_line", |b| {
            b.iter(|| {
                line.clear();
                view.write_line(black_box(&e), &mut line);
                black_box(line.len())
            })
        });
        g.bench_function("event_display_to_string", |b| {
            b.iter(|| black_box(&e).to_string())
        });
        g.finish();
    }
}

criterion_group!(benches, output);
criterion_main!(benches);
