//! `monwire decode` throughput: a 1,000,000-event capture of each protocol, decoded into a pipe
//! (JSON Lines, the default off a terminal), with the reading end counting bytes as `wc -c`
//! does. Beside it, in the same run, the naive 8-line Python loop of issue 12 over the same zmq
//! capture (hex frames → `struct.unpack` → `json.dumps`, one `print` per event), when `python3`
//! is there.
//!
//! The binary measured is the release build: `cargo build --release -p monwire-cli` first (or
//! point `MONWIRE_BIN` at one). Without it the bench says so and measures nothing. The captures
//! are made from the golden vectors under `tests/vectors/` (cycled) in a temporary directory,
//! one at a time (up to 320 MB for SysAdm), each removed after its measurements.
//! `monwire_json_pipe` and `monwire_text_pipe` run as a user would (on every core: one worker
//! per core); `monwire_json_pipe_one_thread` is the same decode on one thread.
//! Goals (issue 12): ≥ 2 M events/s for zmq and NSM, ≥ 1 M events/s for Galaxy and SysAdm.
// Bench code: a panic is a failed bench.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use monwire_tests::vectors::capture_lines;

const EVENTS: usize = 1_000_000;

fn binary() -> Option<PathBuf> {
    let bin = std::env::var_os("MONWIRE_BIN").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/release/monwire"),
        PathBuf::from,
    );
    bin.exists().then_some(bin)
}

/// Writes `EVENTS` lines cycling through `lines` to `path`.
fn cycle_lines(path: &Path, lines: &[String]) {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for i in 0..EVENTS {
        writeln!(f, "{}", lines[i % lines.len()]).unwrap();
    }
    f.flush().unwrap();
}

/// Writes the capture of `protocol` (`EVENTS` events; Galaxy: at least that many) into `dir`.
fn capture(protocol: &str, dir: &Path) -> PathBuf {
    match protocol {
        "zmq" | "nsm" | "sysadm" => {
            let path = dir.join(format!("{protocol}.txt"));
            cycle_lines(&path, &capture_lines(protocol));
            path
        }
        _ => {
            // cap.hub2gui holds 14 messages; repeat it for at least EVENTS of them.
            let galaxy = monwire_tests::vectors::read("galaxy", "cap.hub2gui");
            let path = dir.join("galaxy.bin");
            let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
            for _ in 0..EVENTS.div_ceil(14) {
                f.write_all(&galaxy).unwrap();
            }
            f.flush().unwrap();
            path
        }
    }
}

/// Runs `cmd` with its stdout into a pipe that this process drains; returns the time taken
/// and the bytes read.
fn run_into_pipe(mut cmd: Command) -> (Duration, u64) {
    let start = Instant::now();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        match out.read(&mut buf).unwrap() {
            0 => break,
            n => total += n as u64,
        }
    }
    let status = child.wait().unwrap();
    assert!(status.success(), "{cmd:?}: {status}");
    (start.elapsed(), total)
}

/// The naive Python loop of issue 12 over a zmq capture (8 lines in the loop's file).
const PYTHON_ZMQ: &str = r#"import sys, json, struct
for line in open(sys.argv[1]):
    frames = [b"" if f == "\"\"" else bytes.fromhex(f) for f in line.split()]
    if len(frames) != 2: continue
    event, value = struct.unpack("<HI", frames[0])
    endpoint = frames[1].decode()
    print(json.dumps({"protocol": "zmq", "code": event, "value": value, "endpoint": endpoint}))
"#;

fn cli(c: &mut Criterion) {
    let Some(bin) = binary() else {
        eprintln!(
            "cli bench: no release binary; run `cargo build --release -p monwire-cli` \
             or set MONWIRE_BIN"
        );
        return;
    };
    let dir = std::env::temp_dir().join(format!("monwire-cli-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let python = Command::new("python3").arg("--version").output().is_ok();
    let script = dir.join("naive.py");
    std::fs::write(&script, PYTHON_ZMQ).unwrap();
    // One capture at a time (the four take about 650 MB together), removed after its group.
    for protocol in ["zmq", "nsm", "galaxy", "sysadm"] {
        let path = &capture(protocol, &dir);
        let mut g = c.benchmark_group(format!("cli_decode/{protocol}"));
        g.sample_size(10)
            .measurement_time(Duration::from_secs(20))
            .warm_up_time(Duration::from_millis(100));
        g.throughput(Throughput::Elements(EVENTS as u64));
        g.bench_function("monwire_json_pipe", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut cmd = Command::new(&bin);
                    cmd.args(["decode", protocol]).arg(path);
                    total += run_into_pipe(cmd).0;
                }
                total
            })
        });
        // The same on one thread (`--threads 1`): the codec, the event and the writer alone.
        g.bench_function("monwire_json_pipe_one_thread", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut cmd = Command::new(&bin);
                    cmd.args(["decode", "--threads", "1", protocol]).arg(path);
                    total += run_into_pipe(cmd).0;
                }
                total
            })
        });
        g.bench_function("monwire_text_pipe", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let mut cmd = Command::new(&bin);
                    cmd.args(["decode", protocol, "--format", "text"]).arg(path);
                    total += run_into_pipe(cmd).0;
                }
                total
            })
        });
        if protocol == "zmq" && python {
            g.bench_function("naive_python_loop", |b| {
                b.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    for _ in 0..iters {
                        let mut cmd = Command::new("python3");
                        cmd.arg(&script).arg(path);
                        total += run_into_pipe(cmd).0;
                    }
                    total
                })
            });
        }
        g.finish();
        let _ = std::fs::remove_file(path);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, cli);
criterion_main!(benches);
