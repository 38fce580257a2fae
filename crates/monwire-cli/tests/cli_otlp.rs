//! `--otlp` with the real binary and a real collector (rotel): `monwire demo --otlp URL` and
//! `monwire decode zmq F --otlp URL` (HTTP/protobuf, HTTP/JSON, gRPC) deliver every event they
//! print, each record checked field by field against the JSON line printed for it; the
//! counters line says how many the collector accepted; a collector that is not there makes
//! the run fail with one clear line after its flush deadline; SIGINT during `watch` still
//! flushes and reports, and exits 130.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use monwire_event::Event;
use monwire_otlp::map;
use monwire_tests::otlp::{Record, Rotel, check_record, rotel_or_skip};

fn monwire(args: &[&str]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_monwire"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Bounded: a run that hangs is killed and fails the test.
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("monwire {args:?} did not end within 120 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

fn vector(path: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors")
        .join(path)
        .display()
        .to_string()
}

/// The JSON Lines the run printed, as events.
fn printed(out: &Output) -> Vec<Event> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect()
}

/// Every printed event arrived, in order within its scope, field by field.
fn assert_delivered(rotel: &Rotel, events: &[Event], what: &str) {
    assert!(!events.is_empty(), "{what}: nothing printed");
    let records = rotel.wait_records(events.len(), Duration::from_secs(30));
    assert_eq!(
        records.len(),
        events.len(),
        "{what}: rotel printed\n{}",
        rotel.output()
    );
    let mut got: BTreeMap<String, Vec<&Record>> = BTreeMap::new();
    for r in &records {
        got.entry(r.scope.split(' ').next().unwrap().to_owned())
            .or_default()
            .push(r);
    }
    let mut want: BTreeMap<String, Vec<&Event>> = BTreeMap::new();
    for e in events {
        want.entry(map::scope_name(&e.protocol).to_owned())
            .or_default()
            .push(e);
    }
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{what}"
    );
    for (scope, evs) in &want {
        for (r, e) in got[scope].iter().zip(evs) {
            check_record(r, e, what);
        }
        assert!(
            got[scope]
                .iter()
                .all(|r| r.resource.iter().any(|a| a == "service.name: Str(monwire)")),
            "{what}: default service.name"
        );
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn demo_with_otlp_delivers_every_event_and_says_how_many_the_collector_accepted() {
    let Some(bin) = rotel_or_skip() else { return };
    let rotel = Rotel::start(bin);
    let out = monwire(&["demo", "--json", "--otlp", &rotel.http_url()]);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let events = printed(&out);
    assert_delivered(&rotel, &events, "demo");
    for p in ["zmq", "nsm", "galaxy", "sysadm"] {
        assert!(
            events.iter().any(|e| e.protocol.family().as_str() == p),
            "no {p} event in the demo"
        );
    }
    let n = events.len();
    assert!(
        err.contains(&format!(
            "accepted {n} of {n} records (retried 0, dropped 0, rejected 0)"
        )),
        "{err}"
    );
}

#[test]
fn demo_with_otlp_and_quiet_prints_no_events_but_still_exports() {
    let Some(bin) = rotel_or_skip() else { return };
    let rotel = Rotel::start(bin);
    let out = monwire(&["demo", "-q", "--otlp", &rotel.http_url(), "--only", "zmq"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "-q prints no events");
    let records = rotel.wait_records(1, Duration::from_secs(30));
    assert!(!records.is_empty());
    assert!(
        stderr(&out).contains(&format!(
            "accepted {} of {} records",
            records.len(),
            records.len()
        )),
        "{}",
        stderr(&out)
    );
}

fn decode_over(protocol: &str) {
    let Some(bin) = rotel_or_skip() else { return };
    let rotel = Rotel::start(bin);
    let url = if protocol == "grpc" {
        rotel.grpc_url()
    } else {
        rotel.http_url()
    };
    let mut all = Vec::new();
    for f in ["zmq/v1-libzmq-4.3.4.txt", "zmq/v2-libzmq-4.3.4.txt"] {
        let mut args = vec!["decode", "zmq"];
        let file = vector(f);
        args.push(&file);
        if f.starts_with("zmq/v2") {
            args.extend(["--monitor-version", "v2"]);
        }
        args.extend(["--json", "--otlp", &url, "--otlp-protocol", protocol]);
        let out = monwire(&args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        let evs = printed(&out);
        assert!(
            stderr(&out).contains(&format!("accepted {0} of {0} records", evs.len())),
            "{}",
            stderr(&out)
        );
        all.extend(evs);
    }
    assert_delivered(&rotel, &all, protocol);
}

#[test]
fn decode_zmq_with_otlp_delivers_every_event_over_http_protobuf() {
    decode_over("http/protobuf");
}

#[test]
fn decode_zmq_with_otlp_delivers_every_event_over_http_json() {
    decode_over("http/json");
}

#[test]
fn decode_zmq_with_otlp_delivers_every_event_over_grpc() {
    decode_over("grpc");
}

#[test]
fn a_missing_collector_fails_the_run_with_one_clear_line_after_the_flush_deadline() {
    // A port nothing listens on: bound by us, then closed.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let t = Instant::now();
    let out = monwire(&[
        "decode",
        "zmq",
        &vector("zmq/v1-libzmq-4.3.4.txt"),
        "-q",
        "--otlp",
        &url,
    ]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("monwire: otlp: cannot reach"),
        "the first failure is said: {err}"
    );
    assert!(err.contains("retrying"), "{err}");
    assert!(err.contains("accepted 0 of"), "{err}");
    assert!(err.contains("records were not delivered to"), "{err}");
    // The flush deadline is 5 s; the run does not hang past it (generous bound).
    assert!(t.elapsed() < Duration::from_secs(60));
}

#[test]
fn bad_otlp_flags_are_usage_errors() {
    let out = monwire(&["demo", "--otlp", "localhost:4318"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("otlp"), "{}", stderr(&out));
    let out = monwire(&["demo", "--otlp", "--otlp-protocol", "udp"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sigint_during_watch_still_flushes_to_the_collector_and_exits_130() {
    let Some(bin) = rotel_or_skip() else { return };
    let rotel = Rotel::start(bin);
    let mut child = Command::new(env!("CARGO_BIN_EXE_monwire"))
        .args([
            "watch",
            "zmq",
            "--bind",
            "tcp://127.0.0.1:*",
            "--json",
            "--otlp",
            &rotel.http_url(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait (bounded) for the LISTENING event on stdout, so the exporter has something.
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for l in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(l);
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("a first event");
    assert!(first.contains("LISTENING"), "{first}");
    let ok = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let deadline = Instant::now() + Duration::from_secs(30);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "watch did not stop after SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    let mut events: Vec<Event> = vec![serde_json::from_str(&first).unwrap()];
    events.extend(
        rx.try_iter()
            .map(|l| serde_json::from_str::<Event>(&l).unwrap()),
    );
    let n = events.len();
    assert!(
        err.contains(&format!("accepted {n} of {n} records")),
        "{err}"
    );
    assert_delivered(&rotel, &events, "watch + SIGINT");
}
