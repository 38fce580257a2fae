//! `monwire watch <protocol> … --record FILE`, then `monwire decode <protocol> FILE --json`,
//! for all four protocols against real peers over loopback: the replay prints the watcher's
//! events (same order, kinds, names, subjects, sources, attributes and summaries), each
//! observed at a time that the recording holds, and the recording is in the documented format.

mod capture_common;

use std::collections::HashSet;
use std::process::Command;
use std::time::Duration;

use capture_common::{Proc, decode, events, key, monwire, observed, record_times, temp_dir};
use serde_json::Value;

const T: Duration = Duration::from_secs(20);

/// The replay's events equal the watcher's, and each is observed at a recorded time.
fn assert_same(watched: &[Value], replayed: &[Value], file: &std::path::Path) {
    assert!(!watched.is_empty(), "the watcher printed nothing");
    let w: Vec<Value> = watched.iter().map(key).collect();
    let r: Vec<Value> = replayed.iter().map(key).collect();
    assert_eq!(w, r, "replayed events differ from the watched ones");
    let times: HashSet<u128> = record_times(file).into_iter().collect();
    for e in replayed {
        assert!(
            times.contains(&observed(e)),
            "observed time of {e} is not a recorded time"
        );
    }
}

fn header(file: &std::path::Path) -> String {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn zmq_watch_record_then_decode_gives_the_same_events() {
    let dir = temp_dir("record-zmq");
    let file = dir.join("zmq.rec");
    let mut cmd = monwire();
    cmd.args([
        "watch",
        "zmq",
        "--bind",
        "tcp://127.0.0.1:*",
        "--count",
        "4",
        "--json",
    ])
    .arg("--record")
    .arg(&file);
    let mut watch = Proc::spawn(cmd);
    let line = watch.stderr_line("bound to", T);
    let endpoint = line.rsplit(' ').next().unwrap().to_owned();
    // A real libzmq peer connects, completes the ZMTP handshake, and goes away: LISTENING,
    // ACCEPTED, HANDSHAKE_SUCCEEDED, DISCONNECTED.
    let ctx = zmq::Context::new();
    let peer = ctx.socket(zmq::DEALER).unwrap();
    peer.set_linger(0).unwrap();
    peer.connect(&endpoint).unwrap();
    peer.send("hello", 0).unwrap();
    let mut lines = watch.stdout_until(T, |l| l.contains("HANDSHAKE_SUCCEEDED"));
    drop(peer);
    lines.extend(watch.stdout_until(T, |l| l.contains("DISCONNECTED")));
    let (exited, code) = watch.wait_or_kill(T);
    assert!(
        exited && code == Some(0),
        "watch zmq did not end after --count 4"
    );
    let watched = events(&lines);
    assert!(header(&file).starts_with("monwire-capture 1 zmq byte_order="));
    let (replayed, stderr, code) = decode("zmq", &file, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_same(&watched, &replayed, &file);
    // The watch stamps each event with the time its record was written: the replay prints
    // the very observed times the watch printed.
    let times = |evs: &[Value]| evs.iter().map(observed).collect::<Vec<u128>>();
    assert_eq!(times(&watched), times(&replayed));
    let names: Vec<&str> = replayed
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "LISTENING",
            "ACCEPTED",
            "HANDSHAKE_SUCCEEDED",
            "DISCONNECTED"
        ]
    );
}

#[test]
fn nsm_watch_record_then_decode_gives_the_same_events() {
    let dir = temp_dir("record-nsm");
    let file = dir.join("nsm.rec");
    let mut serve = Proc::spawn({
        let mut c = monwire();
        c.args(["serve", "nsm", "--port", "0", "--linger", "5", "--json"]);
        c
    });
    let line = serve.stderr_line("osc.udp://", T);
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("osc.udp://"))
        .unwrap()
        .trim_end_matches(';')
        .to_owned();
    // The built-in script gives 13 events before its last wait: the state list (3), then the
    // synth's and the DAW's start, ready and save events.
    let out = monwire()
        .args([
            "watch", "nsm", "--url", &url, "--count", "13", "--json", "--record",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let watched = events(&lines);
    assert_eq!(watched.len(), 13);
    assert_eq!(header(&file), "monwire-capture 1 nsm role=external");
    let (replayed, stderr, code) = decode("nsm", &file, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_same(&watched, &replayed, &file);
}

#[test]
fn galaxy_watch_record_then_decode_gives_the_same_events() {
    let dir = temp_dir("record-galaxy");
    let file = dir.join("galaxy.rec");
    let mut cmd = monwire();
    cmd.args([
        "watch",
        "galaxy",
        "--listen",
        "127.0.0.1:0",
        "--json",
        "--record",
    ])
    .arg(&file);
    let mut watch = Proc::spawn(cmd);
    let line = watch.stderr_line("waiting for the Hub on", T);
    let addr = line.rsplit(' ').next().unwrap().to_owned();
    let served = monwire()
        .args(["serve", "galaxy", "--gui", &addr])
        .output()
        .unwrap();
    assert!(
        served.status.success(),
        "{}",
        String::from_utf8_lossy(&served.stderr)
    );
    let lines = watch.stdout_until(T, |l| l.contains("\"disconnect\""));
    // The watcher writes the connection's `close` record once the Hub has gone.
    assert!(
        capture_common::eventually(T, || std::fs::read_to_string(&file)
            .is_ok_and(|t| t.contains(" in close "))),
        "the recording never got its close record"
    );
    drop(watch);
    let watched = events(&lines);
    assert_eq!(header(&file), "monwire-capture 1 galaxy role=server");
    let (replayed, stderr, code) = decode("galaxy", &file, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_same(&watched, &replayed, &file);
    assert_eq!(replayed.first().unwrap()["name"], "handshake");
}

#[test]
fn sysadm_watch_record_then_decode_gives_the_same_events_and_no_password() {
    let dir = temp_dir("record-sysadm");
    let file = dir.join("sysadm.rec");
    let password = "pw-Never-Recorded-7";
    let mut serve = Proc::spawn({
        let mut c = monwire();
        c.args([
            "serve",
            "sysadm",
            "--listen",
            "127.0.0.1:0",
            "--plain",
            "--user",
            "alice",
            "--interval",
            "200",
            "--count",
            "50",
            "--json",
        ])
        .env("MONWIRE_SYSADM_PASSWORD", password);
        c
    });
    let line = serve.stderr_line("serving ws://", T);
    let url = line.rsplit(' ').next().unwrap().to_owned();
    let out = Command::new(capture_common::monwire_bin())
        .args([
            "watch", "sysadm", &url, "--user", "alice", "--count", "6", "--json",
        ])
        .arg("--record")
        .arg(&file)
        .env("MONWIRE_SYSADM_PASSWORD", password)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let watched = events(&lines);
    let names: Vec<&str> = watched
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.first(), Some(&"connected"), "{names:?}");
    assert!(names.contains(&"authenticated"), "{names:?}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("monwire-capture 1 sysadm url=ws://127.0.0.1:"));
    let hex: String = password.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(
        !text.contains(password) && !text.contains(&hex),
        "the password was recorded"
    );
    let (replayed, stderr, code) = decode("sysadm", &file, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    // The watcher stops after its 6th SysAdm event and closes; messages that were already on
    // their way were recorded (they came off the wire) and replay after the watcher's last
    // event, so the watcher's events are the replay's first ones.
    assert!(replayed.len() >= watched.len());
    assert_same(&watched, &replayed[..watched.len()], &file);
}
