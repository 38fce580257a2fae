//! The `monwire` binary as a user runs it: `decode zmq` on the golden captures, its error
//! reporting and exit codes, usage errors, and `demo`.

use std::io::Write;
use std::process::{Command, Stdio};

fn monwire() -> Command {
    Command::new(env!("CARGO_BIN_EXE_monwire"))
}

fn vector(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors/zmq")
        .join(name)
}

#[test]
fn decode_zmq_capture_prints_one_json_event_per_message() {
    let path = vector("v1-libzmq-4.3.4.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let messages = text
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .count();
    let out = monwire()
        .arg("decode")
        .arg("zmq")
        .arg(&path)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let events: Vec<monwire_event::Event> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), messages);
    assert_eq!(events[0].name, "LISTENING");
    assert_eq!(events[0].attr("zmq.fd").and_then(|v| v.as_u64()), Some(24));
}

#[test]
fn decode_zmq_hex_vector_is_one_message() {
    let out = monwire()
        .args(["decode", "zmq", "--json"])
        .arg(vector("v2-pipes_stats-server.hex"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(stdout.lines().count(), 1);
    let e: monwire_event::Event = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(e.name, "PIPES_STATS");
    assert_eq!(e.attr("zmq.ingress").and_then(|v| v.as_u64()), Some(2));
}

#[test]
fn bad_lines_are_reported_with_their_number_and_the_run_goes_on() {
    let mut child = monwire()
        .args(["decode", "zmq", "-", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"# comment\n0800120000 7463703a2f2f61\nzz 00\n080012000000 7463703a2f2f61\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(stderr.contains("<stdin>:2: v1:"), "{stderr}");
    assert!(
        stderr.contains("frame must be 6 bytes, found 5"),
        "{stderr}"
    );
    assert!(stderr.contains("<stdin>:3:"), "{stderr}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "the good line after the bad ones is decoded"
    );
    assert!(stdout.contains("\"subject\":\"tcp://a\""));
}

#[test]
fn usage_errors_exit_2_and_missing_files_exit_1() {
    let out = monwire().args(["watch", "zmq"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = monwire()
        .args([
            "watch",
            "zmq",
            "--bind",
            "tcp://127.0.0.1:1",
            "--events",
            "bogus",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = monwire()
        .args(["decode", "zmq", "/no/such/file"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).starts_with("monwire: /no/such/file:"));
    let out = monwire().arg("--help").output().unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn demo_runs_every_part_and_exits_0() {
    let out = monwire().args(["demo", "--json"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let events: Vec<monwire_event::Event> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for name in [
        "LISTENING",
        "HANDSHAKE_SUCCEEDED",
        "HANDSHAKE_FAILED_PROTOCOL",
        "DISCONNECTED",
        "MONITOR_STOPPED",
    ] {
        assert!(
            events.iter().any(|e| e.name == name),
            "demo printed no {name}"
        );
    }
    for protocol in ["zmq", "sysadm", "ray", "galaxy"] {
        assert!(
            events.iter().any(|e| e.protocol.as_str() == protocol),
            "demo printed no {protocol} event"
        );
    }
}

#[test]
fn watch_zmq_prints_live_events_and_stops_after_count() {
    let out = monwire()
        .args([
            "watch",
            "zmq",
            "--bind",
            "tcp://127.0.0.1:*",
            "--count",
            "1",
            "--json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let e: monwire_event::Event =
        serde_json::from_str(String::from_utf8(out.stdout).unwrap().trim()).unwrap();
    assert_eq!(e.name, "LISTENING");
    assert!(e.observed.is_some());
}
