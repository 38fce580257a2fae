//! The `monwire` binary as a user runs it: `decode zmq` on the golden captures (every event
//! checked against its documented value, in JSON and in the text view), its `--byte-order`,
//! `--layout` and `--monitor-version` options, error reporting and exit codes, usage errors,
//! `demo`, and `watch zmq` live: `--count`, and SIGINT/SIGTERM in the middle of a reconnect
//! storm.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

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

const EP: &str = "tcp://127.0.0.1:38795";
const P1: &str = "tcp://127.0.0.1:1";

/// The 19 messages of `v1-libzmq-4.3.4.txt` as `decode zmq` must print them: name, subject,
/// severity, the typed attribute and its value, and the summary (the README and the file's
/// comments say what each message is).
#[allow(clippy::type_complexity)]
fn capture_expected() -> Vec<(
    &'static str,
    &'static str,
    &'static str,
    Option<(&'static str, u64)>,
    String,
)> {
    let e = |name, subject: &'static str, sev, attr, what: &str| {
        let summary = if subject.is_empty() {
            what.to_owned()
        } else {
            format!("{subject} {what}")
        };
        (name, subject, sev, attr, summary)
    };
    vec![
        e(
            "LISTENING",
            EP,
            "INFO",
            Some(("zmq.fd", 24)),
            "listening, fd 24",
        ),
        e(
            "ACCEPTED",
            EP,
            "INFO",
            Some(("zmq.fd", 26)),
            "accepted, fd 26",
        ),
        e(
            "HANDSHAKE_SUCCEEDED",
            EP,
            "INFO",
            None,
            "handshake succeeded",
        ),
        e(
            "CONNECT_DELAYED",
            EP,
            "DEBUG",
            Some(("zmq.errno", 115)),
            "connect delayed, errno 115 EINPROGRESS",
        ),
        e(
            "CONNECTED",
            EP,
            "INFO",
            Some(("zmq.fd", 25)),
            "connected, fd 25",
        ),
        e(
            "HANDSHAKE_SUCCEEDED",
            EP,
            "INFO",
            None,
            "handshake succeeded",
        ),
        e("CLOSED", "", "DEBUG", Some(("zmq.fd", 33)), "closed, fd 33"),
        e(
            "BIND_FAILED",
            "127.0.0.1:38795",
            "ERROR",
            Some(("zmq.errno", 98)),
            "bind failed, errno 98 EADDRINUSE",
        ),
        e("MONITOR_STOPPED", "", "INFO", None, "monitor stopped"),
        e(
            "ACCEPTED",
            EP,
            "INFO",
            Some(("zmq.fd", 28)),
            "accepted, fd 28",
        ),
        e(
            "HANDSHAKE_FAILED_PROTOCOL",
            EP,
            "WARN",
            Some(("zmq.protocol_error_code", 0x1100_0002)),
            "handshake failed: ZMTP_MECHANISM_MISMATCH",
        ),
        e(
            "DISCONNECTED",
            EP,
            "INFO",
            Some(("zmq.fd", 28)),
            "disconnected, fd 28",
        ),
        e(
            "CONNECT_DELAYED",
            P1,
            "DEBUG",
            Some(("zmq.errno", 115)),
            "connect delayed, errno 115 EINPROGRESS",
        ),
        e("CLOSED", P1, "DEBUG", Some(("zmq.fd", 35)), "closed, fd 35"),
        e(
            "CONNECT_RETRIED",
            P1,
            "DEBUG",
            Some(("zmq.interval_ms", 83)),
            "connect retried, next in 83 ms",
        ),
        e("MONITOR_STOPPED", "", "INFO", None, "monitor stopped"),
        e(
            "DISCONNECTED",
            EP,
            "INFO",
            Some(("zmq.fd", 26)),
            "disconnected, fd 26",
        ),
        e("CLOSED", EP, "DEBUG", Some(("zmq.fd", 24)), "closed, fd 24"),
        e("MONITOR_STOPPED", "", "INFO", None, "monitor stopped"),
    ]
}

/// The frames of each message line of a capture file (comments and blank lines skipped).
fn capture_frames(text: &str) -> Vec<Vec<Vec<u8>>> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.split(' ')
                .map(|t| {
                    if t == "\"\"" {
                        return Vec::new();
                    }
                    (0..t.len())
                        .step_by(2)
                        .map(|i| u8::from_str_radix(&t[i..i + 2], 16).unwrap())
                        .collect()
                })
                .collect()
        })
        .collect()
}

fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{:?}: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json_events(stdout: &str) -> Vec<monwire_event::Event> {
    stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

#[test]
fn decode_zmq_capture_prints_every_documented_event_losslessly() {
    let path = vector("v1-libzmq-4.3.4.txt");
    let frames = capture_frames(&std::fs::read_to_string(&path).unwrap());
    let events = json_events(&run_ok(
        monwire()
            .args(["decode", "zmq", "--format", "json"])
            .arg(&path),
    ));
    let expected = capture_expected();
    assert_eq!(events.len(), 19);
    assert_eq!(frames.len(), 19);
    let codec = monwire_zmq::Codec::new().with_byte_order(monwire_zmq::ByteOrder::Little);
    for (i, ((e, want), frames)) in events.iter().zip(&expected).zip(&frames).enumerate() {
        let (name, subject, severity, attr, summary) = want;
        let at = format!("event {}", i + 1);
        assert_eq!(e.protocol.as_str(), "zmq", "{at}");
        assert_eq!(e.name, *name, "{at}");
        assert_eq!(e.subject, *subject, "{at}");
        assert_eq!(e.severity.as_str(), *severity, "{at}");
        assert_eq!(e.summary.as_deref(), Some(summary.as_str()), "{at}");
        if let Some((key, value)) = attr {
            assert_eq!(
                e.attr(key).and_then(|v| v.as_u64()),
                Some(*value),
                "{at}: {key}"
            );
        }
        // What the CLI printed holds the whole message: it encodes back to the line's bytes.
        let back = monwire_zmq::event::from_event(e).unwrap_or_else(|err| panic!("{at}: {err}"));
        assert_eq!(codec.encode(&back.view()).unwrap(), *frames, "{at}");
    }
}

#[test]
fn decode_zmq_text_view_is_the_summary_once_with_no_attributes() {
    let stdout = run_ok(
        monwire()
            .args(["decode", "zmq", "--format", "text", "--color", "never"])
            .arg(vector("v1-libzmq-4.3.4.txt")),
    );
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 19, "{stdout}");
    for (line, (_, subject, severity, _, summary)) in lines.iter().zip(capture_expected()) {
        assert!(
            line.ends_with(&format!(" {summary}")),
            "{line:?} does not end with {summary:?}"
        );
        assert!(line.contains(&format!(" {severity} ")), "{line:?}");
        assert!(
            !line.contains("zmq."),
            "attributes the summary states are hidden: {line:?}"
        );
        if !subject.is_empty() {
            assert_eq!(
                line.matches(subject).count(),
                1,
                "the endpoint once: {line:?}"
            );
        }
    }
    // -v shows every attribute again.
    let verbose = run_ok(
        monwire()
            .args([
                "decode", "zmq", "--format", "text", "--color", "never", "-v",
            ])
            .arg(vector("v1-libzmq-4.3.4.txt")),
    );
    let first = verbose.lines().next().unwrap();
    for kv in [
        "zmq.version=1",
        "zmq.code=8",
        "zmq.fd=24",
        "zmq.endpoint=tcp://127.0.0.1:38795",
    ] {
        assert!(first.contains(kv), "{first:?} lacks {kv}");
    }
}

/// Runs `decode zmq ARGS -` on `input` and returns (exit code, stdout events, stderr).
fn decode_stdin(args: &[&str], input: &[u8]) -> (Option<i32>, Vec<monwire_event::Event>, String) {
    let mut child = monwire()
        .args(["decode", "zmq", "--format", "json"])
        .args(args)
        .arg("-")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    (
        out.status.code(),
        json_events(&stdout),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn decode_zmq_byte_order_reads_the_integers_as_told() {
    // LISTENING fd 24 as a big-endian host writes it.
    let big = b"000800000018 7463703a2f2f61\n";
    let (code, ev, err) = decode_stdin(&["--byte-order", "big"], big);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].name, "LISTENING");
    assert_eq!(ev[0].attr("zmq.fd").and_then(|v| v.as_u64()), Some(24));
    // The same bytes read little-endian: code 0x0800, value 0x18000000.
    let (_, ev, _) = decode_stdin(&["--byte-order", "little"], big);
    assert_eq!(ev[0].name, "HANDSHAKE_FAILED_NO_DETAIL");
    assert_eq!(
        ev[0].attr("zmq.errno").and_then(|v| v.as_u64()),
        Some(0x1800_0000)
    );
    // Native is this host's order.
    let (_, ev, _) = decode_stdin(&["--byte-order", "native"], big);
    let native_name = if cfg!(target_endian = "little") {
        "HANDSHAKE_FAILED_NO_DETAIL"
    } else {
        "LISTENING"
    };
    assert_eq!(ev[0].name, native_name);
    // v2 words too: PIPES_STATS egress 1, ingress 2, big-endian.
    let v2 = b"0000000000010000 0000000000000002 0000000000000001 0000000000000002 \"\" 7463703a2f2f61\n";
    let (code, ev, err) = decode_stdin(&["--byte-order", "big"], v2);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(ev[0].name, "PIPES_STATS");
    assert_eq!(ev[0].attr("zmq.egress").and_then(|v| v.as_u64()), Some(1));
    assert_eq!(ev[0].attr("zmq.ingress").and_then(|v| v.as_u64()), Some(2));
}

#[test]
fn decode_zmq_layout_frames_and_lines() {
    let hex = std::fs::read(vector("v2-accepted-tcp.hex")).unwrap();
    // On stdin there is no extension to go by: `--layout frames` reads the file as one message.
    let (code, ev, err) = decode_stdin(&["--layout", "frames", "--byte-order", "little"], &hex);
    assert_eq!(code, Some(0), "{err}");
    assert_eq!(ev.len(), 1);
    assert_eq!(ev[0].name, "ACCEPTED");
    assert_eq!(
        ev[0].attr("zmq.remote").and_then(|v| v.as_str()),
        Some("tcp://127.0.0.1:37072")
    );
    // The default for stdin is `lines`: each of the five lines is a one-frame message, none of
    // which is v1 or v2; each is reported with its line number.
    let (code, ev, err) = decode_stdin(&["--byte-order", "little"], &hex);
    assert_eq!(code, Some(1));
    assert!(ev.is_empty());
    for n in 1..=5 {
        assert!(
            err.contains(&format!("<stdin>:{n}:")),
            "line {n} not reported: {err}"
        );
    }
    assert!(
        err.contains("v1 or v2 message needs 2 (v1) or at least 4 (v2) frames, found 1"),
        "{err}"
    );
    // A .hex path is read as frames by its extension, and `--layout lines` overrides it.
    let out = monwire()
        .args(["decode", "zmq", "--format", "json", "--layout", "lines"])
        .arg(vector("v2-accepted-tcp.hex"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn decode_zmq_monitor_version_forces_the_format() {
    let v1 = b"080018000000 7463703a2f2f61\n";
    let v2 = std::fs::read_to_string(vector("v2-libzmq-4.3.4.txt")).unwrap();
    let v2_line = v2.lines().find(|l| !l.starts_with('#')).unwrap().to_owned() + "\n";
    for (args, input, ok, name_or_err) in [
        (
            &["--monitor-version", "auto"][..],
            &v1[..],
            true,
            "LISTENING",
        ),
        (&["--monitor-version", "v1"], &v1[..], true, "LISTENING"),
        (
            &["--monitor-version", "v2"],
            &v1[..],
            false,
            "v2: v2 message needs at least 4 frames, found 2",
        ),
        (
            &["--monitor-version", "auto"],
            v2_line.as_bytes(),
            true,
            "ACCEPTED",
        ),
        (
            &["--monitor-version", "v2"],
            v2_line.as_bytes(),
            true,
            "ACCEPTED",
        ),
        (
            &["--monitor-version", "v1"],
            v2_line.as_bytes(),
            false,
            "v1: v1 message needs exactly 2 frames, found 5",
        ),
    ] {
        let (code, ev, err) = decode_stdin(&[args, &["--byte-order", "little"]].concat(), input);
        if ok {
            assert_eq!(code, Some(0), "{args:?}: {err}");
            assert_eq!(ev.len(), 1, "{args:?}");
            assert_eq!(ev[0].name, name_or_err, "{args:?}");
            let version = if input == &v1[..] { 1 } else { 2 };
            assert_eq!(
                ev[0].attr("zmq.version").and_then(|v| v.as_u64()),
                Some(version)
            );
        } else {
            assert_eq!(code, Some(1), "{args:?}");
            assert!(ev.is_empty(), "{args:?}");
            assert!(
                err.contains(&format!("<stdin>:1: {name_or_err}")),
                "{args:?}: {err}"
            );
        }
    }
    // A version that does not exist is a usage error.
    let out = monwire()
        .args(["decode", "zmq", "--monitor-version", "v3", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
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

/// Patience for every wait on the live binary: generous, so only a hang reaches it.
const PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);

/// SIGTERM and SIGINT in the middle of a reconnect storm (the peer accepts and closes every
/// connection, so events keep coming): the run stops through its own path, not the 2 s
/// watchdog; its last line is `MONITOR_STOPPED`, so the monitor was stopped and read to its
/// end; every event that happened was printed (libzmq never drops monitor events, so each
/// connection the peer accepted has its `CONNECTED`, bar at most the one in flight when the
/// socket closed); and the exit code is 0 or 130. `cli_signals.rs` covers an idle bound socket.
#[test]
fn watch_zmq_stops_on_a_signal_mid_storm_and_loses_no_event() {
    use std::io::BufRead;
    use std::time::Instant;
    for (signal, code) in [("-TERM", 0), ("-INT", 130)] {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let ep = format!("tcp://{}", listener.local_addr().unwrap());
        let mut child = monwire()
            .args(["watch", "zmq", "--connect", &ep, "--format", "json"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = std::thread::spawn(move || {
            std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
                .collect::<Vec<String>>()
        });
        let mut accepted = 0usize;
        let accept_all = || {
            let mut n = 0;
            while let Ok((conn, _)) = listener.accept() {
                drop(conn);
                n += 1;
            }
            n
        };
        let deadline = Instant::now() + PATIENCE;
        while accepted < 3 {
            assert!(
                Instant::now() < deadline,
                "watch zmq never reconnected 3 times"
            );
            accepted += accept_all();
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let ok = Command::new("kill")
            .args([signal, &child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {signal}");
        let status = loop {
            if let Some(s) = child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("watch zmq did not exit after {signal}");
            }
            accepted += accept_all();
            std::thread::sleep(std::time::Duration::from_millis(5));
        };
        accepted += accept_all();
        let mut stderr = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
        let out = lines.join().unwrap();
        assert_eq!(status.code(), Some(code), "{signal}: {stderr}");
        assert!(
            !stderr.contains("did not stop within"),
            "{signal}: watchdog: {stderr}"
        );
        let events = json_events(&out.join("\n"));
        assert_eq!(
            events.last().map(|e| e.name.as_str()),
            Some("MONITOR_STOPPED"),
            "{signal}: {out:#?}"
        );
        let connected = events.iter().filter(|e| e.name == "CONNECTED").count();
        assert!(
            connected + 1 >= accepted && connected <= accepted,
            "{signal}: {connected} CONNECTED printed for {accepted} accepted connections"
        );
        assert!(
            events
                .iter()
                .all(|e| e.name == "MONITOR_STOPPED" || e.subject == ep)
        );
    }
}
