//! The binary's shared output options and filters, on every printing command.
//!
//! Each filter test compares the filtered run with the unfiltered one of the same input: the
//! filtered events are exactly the unfiltered ones that satisfy the condition, in the same
//! order, and there is at least one of them and at least one left out (so a filter that keeps
//! everything or nothing fails). Live commands (watch, serve, bridge) are driven against our
//! own peers over loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use monwire_event::{Event, Kind, Protocol, Severity};
use monwire_tests::process::line_channel;

fn monwire() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_monwire"));
    c.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
    c
}

fn vector(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors")
        .join(path)
}

fn events(out: &Output) -> Vec<Event> {
    String::from_utf8(out.stdout.clone())
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn run(args: &[&str]) -> Output {
    let out = monwire().args(args).stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "monwire {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `filtered` is exactly the events of `all` that `keep` holds for, some kept, some not.
fn assert_filtered(all: &[Event], filtered: &[Event], keep: impl Fn(&Event) -> bool) {
    let expected: Vec<&Event> = all.iter().filter(|e| keep(e)).collect();
    assert!(
        !expected.is_empty(),
        "the input has events the filter keeps"
    );
    assert!(
        expected.len() < all.len(),
        "the input has events the filter drops"
    );
    assert!(filtered.iter().all(&keep), "every kept event passes");
    // Times and ports differ between two live runs; the sequence of what happened does not.
    let what = |e: &&Event| (e.protocol.clone(), e.kind, e.name.clone());
    let got: Vec<_> = filtered.iter().map(|e| what(&e)).collect();
    let want: Vec<_> = expected.iter().map(what).collect();
    assert_eq!(got, want);
}

const ZMQ_CAPTURE: &str = "zmq/v1-libzmq-4.3.4.txt";

#[test]
fn decode_filters_by_kind_severity_protocol_and_subject() {
    let path = vector(ZMQ_CAPTURE);
    let path = path.to_str().unwrap();
    let all = events(&run(&["decode", "zmq", path, "--json"]));
    let f = events(&run(&[
        "decode",
        "zmq",
        path,
        "--json",
        "--kind",
        "connected,disconnected",
    ]));
    assert_filtered(&all, &f, |e| {
        matches!(e.kind, Kind::Connected | Kind::Disconnected)
    });
    // The options go before the subcommand as well.
    let f = events(&run(&[
        "--min-severity",
        "warn",
        "--json",
        "decode",
        "zmq",
        path,
    ]));
    assert_filtered(&all, &f, |e| e.severity >= Severity::Warn);
    let f = events(&run(&[
        "decode",
        "zmq",
        path,
        "--json",
        "--subject",
        "tcp://*:38795",
    ]));
    assert!(f.is_empty() || f.iter().all(|e| e.subject.ends_with(":38795")));
    let subject = all[0].subject.clone();
    let f = events(&run(&[
        "decode",
        "zmq",
        path,
        "--json",
        "--subject",
        &subject,
    ]));
    assert_filtered(&all, &f, |e| e.subject == subject);
    let f = events(&run(&[
        "decode",
        "zmq",
        path,
        "--json",
        "--protocol",
        "nsm",
    ]));
    assert!(f.is_empty(), "zmq events are not nsm ones");
}

#[test]
fn demo_protocol_nsm_keeps_the_ray_dialect_and_min_severity_holds() {
    let all = events(&run(&["demo", "--json"]));
    let f = events(&run(&["demo", "--json", "--protocol", "nsm"]));
    assert!(f.iter().any(|e| e.protocol == Protocol::Ray), "{f:?}");
    assert_filtered(&all, &f, |e| e.protocol.matches(&Protocol::Nsm));
    let f = events(&run(&["demo", "--json", "--min-severity", "warn"]));
    assert_filtered(&all, &f, |e| e.severity >= Severity::Warn);
}

#[test]
fn bad_filter_values_are_usage_errors() {
    for args in [
        ["--kind", "bogus"],
        ["--min-severity", "loud"],
        ["--protocol", "http"],
    ] {
        let out = monwire()
            .args(["decode", "zmq"])
            .arg(vector(ZMQ_CAPTURE))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(args[1]), "names the bad value: {err}");
    }
}

#[test]
fn text_output_in_a_pipe_is_one_readable_line_per_event() {
    let path = vector(ZMQ_CAPTURE);
    let json = events(&run(&["decode", "zmq", path.to_str().unwrap(), "--json"]));
    let out = run(&[
        "decode",
        "zmq",
        path.to_str().unwrap(),
        "--format",
        "text",
        "--utc",
    ]);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), json.len());
    for (line, e) in lines.iter().zip(&json) {
        // A capture carries no time: the time column says so.
        assert!(line.starts_with("--:--:--.--- "), "{line}");
        let words: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(words[1], e.severity.as_str(), "{line}");
        assert_eq!(words[2], "zmq", "{line}");
        assert!(line.contains(&*e.summary_text()), "the summary: {line}");
        assert!(!line.contains("{\""), "no JSON: {line}");
        assert!(!line.contains('\x1b'), "no colour in a pipe: {line}");
    }
    // -v shows what the compact line leaves out.
    let out = run(&[
        "decode",
        "zmq",
        path.to_str().unwrap(),
        "--format",
        "text",
        "-v",
    ]);
    let verbose = String::from_utf8(out.stdout).unwrap();
    assert!(verbose.contains("zmq.endpoint="), "{verbose}");
    // -q prints nothing.
    let out = run(&["decode", "zmq", path.to_str().unwrap(), "-q"]);
    assert!(out.stdout.is_empty());
}

#[test]
fn a_line_that_is_not_utf8_is_reported_with_its_number_and_the_run_goes_on() {
    let dir = std::env::temp_dir().join(format!("monwire-cli-utf8-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = std::fs::read_to_string(vector(ZMQ_CAPTURE)).unwrap();
    let good: Vec<&str> = good
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .take(2)
        .collect();
    let sysadm = std::fs::read_to_string(vector("sysadm/event-dispatcher-pkg-finished.json"))
        .unwrap()
        .replace('\n', "");
    let nsm = std::fs::read_to_string(vector("nsm/ray-client-event-okr-ready.hex"))
        .unwrap()
        .split_whitespace()
        .collect::<String>();
    for (protocol, line) in [
        ("zmq", good[0]),
        ("sysadm", sysadm.as_str()),
        ("nsm", nsm.as_str()),
    ] {
        let path = dir.join(format!("{protocol}.txt"));
        let mut f = std::fs::File::create(&path).unwrap();
        writeln!(f, "{line}").unwrap();
        f.write_all(b"ab\xff\xfecd\n").unwrap();
        writeln!(f, "{line}").unwrap();
        drop(f);
        let out = monwire()
            .args(["decode", protocol, "--json"])
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{protocol}: bad input seen");
        let err = String::from_utf8(out.stderr.clone()).unwrap();
        let want = format!("{}:2:3: not valid UTF-8", path.display());
        assert!(err.contains(&want), "{protocol}: {err}");
        assert_eq!(err.lines().count(), 1, "{protocol}: one line: {err}");
        assert_eq!(events(&out).len(), 2, "{protocol}: both good lines decoded");
    }
}

/// Kills the child when the test ends early.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn wait(child: &mut Child) -> std::process::ExitStatus {
    monwire_tests::process::wait_exit(child, Duration::from_secs(60))
}

fn read_all(r: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut s = String::new();
        let _ = BufReader::new(r).read_to_string(&mut s);
        s
    })
}

/// One `serve nsm` (built-in script) and one `watch nsm` against it, both with `filter`;
/// returns what each printed (JSON Lines). The server lingers 2 s after its script, then
/// exits; the watcher is then stopped with SIGTERM (and must exit 0).
fn serve_and_watch_nsm(filter: &[&str]) -> (Vec<Event>, Vec<Event>) {
    let mut server = KillOnDrop(
        monwire()
            .args(["serve", "nsm", "--port", "0", "--linger", "2", "--json"])
            .args(filter)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = BufReader::new(server.0.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("osc.udp://"))
        .unwrap_or_else(|| panic!("no url in {first:?}"))
        .trim_end_matches(';')
        .to_owned();
    let server_err = read_all(stderr);
    let server_out = read_all(server.0.stdout.take().unwrap());
    let mut watcher = KillOnDrop(
        monwire()
            .args(["watch", "nsm", "--url", &url, "--json"])
            .args(filter)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let watch_out = read_all(watcher.0.stdout.take().unwrap());
    let watch_err = read_all(watcher.0.stderr.take().unwrap());
    let status = wait(&mut server.0);
    assert!(status.success(), "serve: {}", server_err.join().unwrap());
    let ok = Command::new("kill")
        .args(["-TERM", &watcher.0.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
    let status = wait(&mut watcher.0);
    assert_eq!(
        status.code(),
        Some(0),
        "watch: {}",
        watch_err.join().unwrap()
    );
    let parse = |text: String| -> Vec<Event> {
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    };
    (
        parse(server_out.join().unwrap()),
        parse(watch_out.join().unwrap()),
    )
}

/// `serve nsm` and `watch nsm` (live, over loopback) both honour the filters.
#[test]
fn serve_and_watch_filter_live_events() {
    let (served_all, watched_all) = serve_and_watch_nsm(&[]);
    let (served, watched) = serve_and_watch_nsm(&["--kind", "started,ready"]);
    let keep = |e: &Event| matches!(e.kind, Kind::Started | Kind::Ready);
    assert_filtered(&served_all, &served, keep);
    assert_filtered(&watched_all, &watched, keep);
}

/// Reads lines from `rx` until one satisfies `hit`, bounded; returns the lines seen.
fn await_line(
    rx: &std::sync::mpsc::Receiver<String>,
    seen: &mut Vec<String>,
    hit: impl Fn(&str) -> bool,
) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Ok(l) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push(l.clone());
            if hit(&l) {
                return l;
            }
        }
    }
    panic!("no such line; saw {seen:#?}");
}

/// `bridge --kind disconnected zmq …`: only the zmq socket's DISCONNECTED events reach the
/// SysAdm feed (a `watch sysadm` subscribed to `monwire-zmq` gets them, unwrapped) and the
/// bridge's stdout; the ACCEPTED and HANDSHAKE_SUCCEEDED before them are dropped by the filter
/// (the feed is ordered, so without the filter they would have arrived first).
#[test]
fn bridge_filters_what_it_republishes() {
    let mut bridge = KillOnDrop(
        monwire()
            .args(["bridge", "--listen", "127.0.0.1:0", "--plain", "--json"])
            .args(["--kind", "disconnected"])
            .args(["zmq", "--bind", "tcp://127.0.0.1:*"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let bridge_out = line_channel(bridge.0.stdout.take().unwrap());
    let bridge_err = line_channel(bridge.0.stderr.take().unwrap());
    let mut seen = Vec::new();
    let ws = await_line(&bridge_err, &mut seen, |l| l.contains("serving ws://"));
    let ws = ws.split_whitespace().last().unwrap().to_owned();
    let zmq_ep = await_line(&bridge_err, &mut seen, |l| l.contains("socket bound to"));
    let zmq_ep = zmq_ep.split_whitespace().last().unwrap().to_owned();

    let mut watcher = KillOnDrop(
        monwire()
            .args(["watch", "sysadm", &ws, "--user", "u", "--json"])
            .args(["--subscribe", "monwire-zmq"])
            .env("MONWIRE_SYSADM_PASSWORD", "p")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let watch_out = line_channel(watcher.0.stdout.take().unwrap());
    let mut watched = Vec::new();
    await_line(&watch_out, &mut watched, |l| l.contains("\"subscribed\""));

    // A peer connects (ACCEPTED, HANDSHAKE_SUCCEEDED) and goes (DISCONNECTED).
    let ctx = zmq::Context::new();
    let peer = ctx.socket(zmq::DEALER).unwrap();
    peer.set_linger(0).unwrap();
    let mut mon =
        monwire_zmq::zmq::Monitor::attach(&ctx, &peer, monwire_zmq::EventMask::ALL_V1).unwrap();
    peer.connect(&zmq_ep).unwrap();
    // Close only once the handshake is done, so the bridge's socket saw the whole connection.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        assert!(
            Instant::now() < deadline,
            "the peer's handshake never finished"
        );
        if let monwire_zmq::zmq::TryRecv::Message(m) =
            mon.recv_timeout(Duration::from_millis(100)).unwrap()
            && m.event.code() == monwire_zmq::EventCode::HANDSHAKE_SUCCEEDED
        {
            break;
        }
    }
    drop(mon);
    drop(peer);

    let disconnected = |l: &str| l.contains("\"DISCONNECTED\"");
    let mut printed = Vec::new();
    await_line(&bridge_out, &mut printed, disconnected);
    await_line(&watch_out, &mut watched, disconnected);
    let zmq_events: Vec<Event> = watched
        .iter()
        .map(|l| serde_json::from_str::<Event>(l).unwrap())
        .filter(|e| e.protocol == Protocol::Zmq)
        .collect();
    assert!(!zmq_events.is_empty());
    for e in &zmq_events {
        assert_eq!(
            e.kind,
            Kind::Disconnected,
            "only what the filter keeps: {e:?}"
        );
    }
    for l in &printed {
        let e: Event = serde_json::from_str(l).unwrap();
        assert_eq!(
            e.kind,
            Kind::Disconnected,
            "stdout is filtered alike: {e:?}"
        );
    }
    for child in [&mut bridge.0, &mut watcher.0] {
        let ok = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok);
        assert_eq!(wait(child).code(), Some(0), "SIGTERM ends both with 0");
    }
}

/// Every string inside `v` (at any depth) that is JSON text of a structure: an object, or an
/// array of strings or structures. (Galaxy provider ids are `[0]` on the real Hub's wire: an
/// array of one number is the protocol's own text, not serialized structure.)
fn json_text_in(v: &monwire_event::Value, at: &str, found: &mut Vec<String>) {
    use monwire_event::Value;
    match v {
        Value::Str(s) => {
            let t = s.trim_start();
            if (t.starts_with('{') || t.starts_with('['))
                && serde_json::from_str::<serde_json::Value>(s).is_ok_and(|j| {
                    j.is_object()
                        || j.as_array().is_some_and(|a| {
                            a.iter()
                                .any(|x| x.is_string() || x.is_object() || x.is_array())
                        })
                })
            {
                found.push(format!("{at} = {s:?}"));
            }
        }
        Value::List(items) => {
            for (i, item) in items.iter().enumerate() {
                json_text_in(item, &format!("{at}[{i}]"), found);
            }
        }
        Value::Map(m) => {
            for (k, item) in m.iter() {
                json_text_in(item, &format!("{at}.{k}"), found);
            }
        }
        _ => {}
    }
}

#[test]
fn demo_json_has_structured_sysadm_args_and_galaxy_frames_and_no_json_text() {
    let all = events(&run(&["demo", "--format", "json"]));
    let mut found = Vec::new();
    for e in &all {
        for (k, v) in e.attributes.iter() {
            json_text_in(v, &format!("{} {}: {k}", e.protocol, e.name), &mut found);
        }
    }
    assert!(found.is_empty(), "attributes holding JSON text: {found:#?}");
    let dispatcher: Vec<&Event> = all
        .iter()
        .filter(|e| e.protocol == Protocol::SysAdm && e.name == "dispatcher")
        .collect();
    assert!(
        !dispatcher.is_empty(),
        "the demo's SysAdm part sends dispatcher events"
    );
    for e in dispatcher {
        assert!(
            e.attr("sysadm.args").and_then(|v| v.as_map()).is_some(),
            "sysadm.args is a map: {e:?}"
        );
    }
    let galaxy: Vec<&Event> = all
        .iter()
        .filter(|e| e.protocol == Protocol::Galaxy && e.attr("galaxy.frame").is_some())
        .collect();
    assert!(
        galaxy.len() >= 10,
        "the demo's Galaxy frames: {}",
        galaxy.len()
    );
    for e in galaxy {
        let frame = e.attr("galaxy.frame").and_then(|v| v.as_map()).unwrap();
        assert!(frame.get("type").is_some(), "a typed frame: {e:?}");
        assert!(e.attr("galaxy.xdr").is_none() && e.attr("galaxy.pr").is_none());
    }
}

/// A decode into a pipe grows the pipe to 1 MiB (Linux), so that its 256 KiB writes need not
/// wait for the reader one by one; the output is the same as into a file.
#[cfg(target_os = "linux")]
#[test]
fn stdout_pipe_is_grown_to_one_mebibyte() {
    let max: usize = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let path = vector(ZMQ_CAPTURE);
    // Our own pipe, so that its size is read before the child can touch it.
    let (read, write) = rustix::pipe::pipe().unwrap();
    let before = rustix::pipe::fcntl_getpipe_size(&read).unwrap();
    let mut child = monwire()
        .args(["decode", "zmq", path.to_str().unwrap()])
        .stdin(Stdio::null())
        .stdout(Stdio::from(write))
        .spawn()
        .unwrap();
    let mut stdout = std::fs::File::from(read);
    let mut piped = Vec::new();
    stdout.read_to_end(&mut piped).unwrap();
    assert!(wait(&mut child).success());
    let after = rustix::pipe::fcntl_getpipe_size(&stdout).unwrap();
    if max >= 1 << 20 && before < 1 << 20 {
        assert_eq!(after, 1 << 20, "grown from {before}");
    } else {
        assert!(after >= before, "never shrunk: {before} → {after}");
    }
    assert_eq!(
        piped,
        run(&["decode", "zmq", path.to_str().unwrap()]).stdout
    );
}
