//! The `monwire` binary's Galaxy commands, run as processes over loopback TCP:
//!
//! - `watch galaxy --listen` against `serve galaxy`: every scripted status message arrives, in
//!   order, and the debug prompt is answered;
//! - the watcher outlives its Hub: a restarted Hub is watched again (`--once` exits instead), a
//!   silent connection neither blocks a real Hub nor stays open past the handshake deadline, and
//!   a Hub that closes without DISCONNECT still ends its stream with an event;
//! - `watch galaxy --connect` against a Hub listener replaying the real Hub's bytes;
//! - `decode galaxy` of the golden captures: events, outline text equal to what the C GUI logged,
//!   and a byte-exact raw round trip.
//!
//! Ports: the watcher binds port 0 and reports the address on stderr; the tests read it there.
//! Every wait is bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // test helpers fail loudly

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(20);

fn monwire() -> Command {
    Command::new(env!("CARGO_BIN_EXE_monwire"))
}

fn vector(name: &str) -> Vec<u8> {
    std::fs::read(vector_path(name)).unwrap()
}

fn vector_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/vectors/galaxy")
        .join(name)
}

/// A running `watch galaxy`: its JSON events and its stderr lines, each read by a thread.
struct Watcher {
    child: Child,
    events: mpsc::Receiver<monwire_event::Event>,
    stderr: mpsc::Receiver<String>,
    addr: String,
}

impl Watcher {
    fn listen(extra: &[&str]) -> Watcher {
        let mut child = monwire()
            .args(["watch", "galaxy", "--json", "--listen", "127.0.0.1:0"])
            .args(extra)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let (etx, events) = mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let e: monwire_event::Event = serde_json::from_str(&line)
                    .unwrap_or_else(|e| panic!("not an event: {line}: {e}"));
                if etx.send(e).is_err() {
                    break;
                }
            }
        });
        let (stx, stderr) = mpsc::channel();
        let err = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines() {
                let Ok(line) = line else { break };
                if stx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut w = Watcher {
            child,
            events,
            stderr,
            addr: String::new(),
        };
        let line = w.stderr_until("waiting for the Hub on ");
        w.addr = line.rsplit(' ').next().unwrap().trim().to_owned();
        w
    }

    /// The next stderr line containing `needle` (bounded).
    fn stderr_until(&self, needle: &str) -> String {
        loop {
            match self.stderr.recv_timeout(WAIT) {
                Ok(l) if l.contains(needle) => return l,
                Ok(_) => {}
                Err(e) => panic!("no stderr line with {needle:?}: {e}"),
            }
        }
    }

    /// Event names up to and including the first end-of-stream event.
    fn names_until_end(&self) -> Vec<String> {
        let mut names = Vec::new();
        loop {
            let e = self.events.recv_timeout(WAIT).expect("an event in time");
            names.push(e.name.clone());
            if e.kind == monwire_event::Kind::EndOfStream {
                return names;
            }
        }
    }

    fn serve(&self) -> std::process::Output {
        let out = monwire()
            .args(["serve", "galaxy", "--gui", &self.addr])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "serve galaxy: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SCRIPTED: [&str; 15] = [
    "handshake",
    "reinitialize",
    "provider_status",
    "new_service_type",
    "listener_status",
    "session_status",
    "token_status",
    "token_status",
    "message_event",
    "message_queue_status",
    "session_lock_status",
    "provider_status",
    "token_status",
    "hub_debug_prompt",
    "disconnect",
];

#[test]
fn watch_galaxy_against_serve_galaxy_prints_every_scripted_message() {
    let w = Watcher::listen(&[]);
    let served = w.serve();
    assert_eq!(w.names_until_end(), SCRIPTED);
    let stderr = String::from_utf8_lossy(&served.stderr);
    assert!(stderr.contains("debug answer"), "{stderr}");
}

#[test]
fn a_restarted_hub_is_watched_again_and_once_exits_after_the_first() {
    let w = Watcher::listen(&[]);
    w.serve();
    assert_eq!(w.names_until_end(), SCRIPTED);
    w.stderr_until("waiting for the next one");
    // The same watcher, a new Hub: everything again.
    w.serve();
    assert_eq!(w.names_until_end(), SCRIPTED);

    let mut once = Watcher::listen(&["--once"]);
    once.serve();
    assert_eq!(once.names_until_end(), SCRIPTED);
    let status = wait_exit(&mut once.child);
    assert!(status.success(), "--once exits 0 after its Hub: {status}");
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    for _ in 0..(WAIT.as_millis() / 50) {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("the process did not exit in {WAIT:?}");
}

#[test]
fn a_silent_connection_does_not_block_the_hub_and_is_dropped_after_the_deadline() {
    let w = Watcher::listen(&[]);
    // A connection that never says anything (a port scanner, a stuck client), first in line.
    let mut idle = TcpStream::connect(&w.addr).unwrap();
    // The real Hub connects after it and is served at once, not after the deadline.
    w.serve();
    assert_eq!(w.names_until_end(), SCRIPTED);
    // The silent one is dropped after 10 s: its socket is closed from the watcher's side.
    idle.set_read_timeout(Some(WAIT)).unwrap();
    let mut buf = [0u8; 16];
    let n = idle
        .read(&mut buf)
        .expect("closed by the watcher before the test's bound");
    assert_eq!(
        n, 0,
        "the watcher sent bytes to a connection that sent no handshake"
    );
    let line = w.stderr_until("dropped");
    assert!(line.contains("no handshake within 10s"), "{line}");
}

#[test]
fn a_hub_that_closes_without_disconnect_still_ends_its_stream() {
    let w = Watcher::listen(&[]);
    let hub2gui = vector("cap.hub2gui");
    let gui2hub = vector("cap.gui2hub");
    let mut hub = TcpStream::connect(&w.addr).unwrap();
    hub.set_read_timeout(Some(WAIT)).unwrap();
    // The real Hub's handshake, then its reinitialize; the watcher answers each as the C GUI did.
    hub.write_all(&hub2gui[..96]).unwrap();
    let mut reply = vec![0u8; 1120];
    hub.read_exact(&mut reply).unwrap();
    assert_eq!(reply, gui2hub[..1120]);
    hub.write_all(&hub2gui[96..328]).unwrap();
    let mut echo = vec![0u8; 232];
    hub.read_exact(&mut echo).unwrap();
    // Then the connection just closes (a killed Hub).
    drop(hub);
    let names = w.names_until_end();
    assert_eq!(names, ["handshake", "reinitialize", "closed"]);
    // And the watcher waits for the next Hub.
    w.stderr_until("waiting for the next one");
}

#[test]
fn watch_galaxy_connect_reads_a_hub_listener() {
    // A Hub listener (`-gui "<listener>:PORT"`) replaying the real Hub's side of `cap4`.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let hub = std::thread::spawn(move || {
        let hub2gui = vector("cap4.hub2gui");
        let (mut s, _) = listener.accept().unwrap();
        s.set_read_timeout(Some(WAIT)).unwrap();
        let mut announce = vec![0u8; 1120];
        s.read_exact(&mut announce).unwrap();
        s.write_all(&hub2gui[..1320]).unwrap();
        let mut echo = vec![0u8; 200];
        s.read_exact(&mut echo).unwrap();
        s.write_all(&hub2gui[1320..]).unwrap();
        // The Hub's goodbye: DISCONNECT, then close.
        s.write_all(&[0, 0, 0, 7, 0, 0, 0, 0]).unwrap();
        (announce, echo)
    });
    let out = monwire()
        .args(["watch", "galaxy", "--json", "--connect"])
        .arg(addr.to_string())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (announce, echo) = hub.join().unwrap();
    let gui2hub = vector("cap4.gui2hub");
    assert_eq!(announce, gui2hub[..1120], "our announcement is the C GUI's");
    assert_eq!(echo, gui2hub[1120..], "our echo is the C GUI's");
    let events: Vec<monwire_event::Event> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let names: Vec<&str> = events.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(
        names.first(),
        Some(&"__gui__"),
        "the Hub's acceptance: {names:?}"
    );
    assert_eq!(events[0].kind, monwire_event::Kind::Ready);
    assert_eq!(names[1], "reinitialize");
    assert_eq!(names.len(), 2 + 5 + 1, "{names:?}");
    assert_eq!(names.last(), Some(&"disconnect"));
    for e in &events[..7] {
        assert!(
            e.attr("galaxy.frame").is_some_and(|v| v.as_map().is_some()),
            "every frame event carries its structured frame: {e:?}"
        );
    }
}

#[test]
fn decode_galaxy_outline_prints_what_the_c_gui_logged() {
    let out = monwire()
        .args(["decode", "galaxy", "--print", "outline"])
        .arg(vector_path("cap.hub2gui"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The shared splitter: from a line starting with `{` to where the braces balance.
    let printed = monwire_tests::galaxy::frame_blocks(&out.stdout);
    let mut logged = monwire_tests::galaxy::frame_blocks(&vector("gui.out"));
    // gui.out also holds the GUI's own echo (second block); the Hub's handshake is not logged.
    logged.remove(1);
    assert_eq!(printed.len(), 14, "every Hub message");
    assert_eq!(printed[1..], logged[..]);
}

#[test]
fn decode_galaxy_gives_events_and_a_byte_exact_raw_stream() {
    for cap in ["cap.hub2gui", "cap.gui2hub", "cap4.hub2gui", "cap4.gui2hub"] {
        let out = monwire()
            .args(["decode", "galaxy", "--print", "raw"])
            .arg(vector_path(cap))
            .output()
            .unwrap();
        assert!(out.status.success(), "{cap}");
        assert_eq!(out.stdout, vector(cap), "{cap}: raw output is the capture");
    }
    let mut child = monwire()
        .args(["decode", "galaxy", "--print", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(&vector("cap.hub2gui"))
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let events: Vec<monwire_event::Event> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(events.len(), 14);
    assert_eq!(events[0].name, "handshake");
    assert_eq!(events[1].name, "reinitialize");
    assert!(events.iter().all(|e| e.summary.is_some()));
    // The structured frame reads back to the same frame: the first message's PR text.
    let frame = monwire_galaxy_frame(&events[0]);
    assert_eq!(frame, "{c handshake :conn_type 1 :protocol_version 1 }");
    // A truncated capture is one clear stderr line and exit 1.
    let mut cut = vector("cap.hub2gui");
    cut.truncate(100);
    let path = std::env::temp_dir().join(format!("monwire-galaxy-cut-{}", std::process::id()));
    std::fs::write(&path, &cut).unwrap();
    let out = monwire()
        .args(["decode", "galaxy"])
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("truncated message at byte 96"), "{stderr}");
}

/// The handshake's structured frame, printed back as PR text by hand (keys in order).
fn monwire_galaxy_frame(e: &monwire_event::Event) -> String {
    let f = e.attr("galaxy.frame").unwrap().as_map().unwrap();
    let mut s = format!(
        "{{{} {}",
        f.get("type").unwrap().as_str().unwrap(),
        f.get("name").unwrap().as_str().unwrap()
    );
    for (k, v) in f.get("keys").unwrap().as_map().unwrap().iter() {
        s.push_str(&format!(" {k} {}", v.as_i64().unwrap()));
    }
    s.push_str(" }");
    s
}

/// Far above the 2 s the run has: a stop that takes this long never stopped by itself.
const STOP_BOUND: Duration = Duration::from_secs(10);

fn signal(child: &Child, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &child.id().to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok, "kill -{sig}");
}

/// Waits for the exit and returns the status and how long it took after the signal.
fn exit_after(child: &mut Child) -> (std::process::ExitStatus, Duration) {
    let start = std::time::Instant::now();
    let status = wait_exit(child);
    (status, start.elapsed())
}

/// A raw Hub over TCP that has done the handshake and reinitialize with the watcher.
fn raw_hub(addr: &str) -> TcpStream {
    let hub2gui = vector("cap.hub2gui");
    let mut hub = TcpStream::connect(addr).unwrap();
    hub.set_read_timeout(Some(WAIT)).unwrap();
    hub.write_all(&hub2gui[..96]).unwrap();
    let mut reply = vec![0u8; 1120];
    hub.read_exact(&mut reply).unwrap();
    hub.write_all(&hub2gui[96..328]).unwrap();
    let mut echo = vec![0u8; 232];
    hub.read_exact(&mut echo).unwrap();
    hub
}

#[test]
fn sigterm_and_sigint_stop_watch_galaxy_closing_the_hub_connection() {
    for (sig, code) in [("TERM", 0), ("INT", 130)] {
        let mut w = Watcher::listen(&[]);
        let mut hub = raw_hub(&w.addr);
        for want in ["handshake", "reinitialize"] {
            let e = w.events.recv_timeout(WAIT).expect("an event in time");
            assert_eq!(e.name, want);
        }
        signal(&w.child, sig);
        let (status, took) = exit_after(&mut w.child);
        assert_eq!(
            status.code(),
            Some(code),
            "SIGTERM exits 0, SIGINT 130: {sig}"
        );
        // The grace time is 2 s (after it the process is ended anyway); the bound only leaves a
        // loaded machine room, the figure is printed.
        eprintln!("watch galaxy, SIG{sig}: exit {code} after {took:?}");
        assert!(took < STOP_BOUND, "SIG{sig}: exited after {took:?}");
        // The goodbye: the watcher closed its side, so the Hub reads end of stream.
        let mut buf = [0u8; 16];
        assert_eq!(
            hub.read(&mut buf).unwrap(),
            0,
            "SIG{sig}: the Hub connection is closed"
        );
        w.stderr_until("closing the connection to the Hub");
    }
}

#[test]
fn a_signal_while_waiting_for_a_hub_ends_watch_galaxy_at_once() {
    let mut w = Watcher::listen(&[]);
    signal(&w.child, "INT");
    let (status, took) = exit_after(&mut w.child);
    assert_eq!(status.code(), Some(130));
    eprintln!("watch galaxy waiting, SIGINT: exit 130 after {took:?}");
    assert!(took < STOP_BOUND, "exited after {took:?}");
}

#[test]
fn sigterm_stops_serve_galaxy_with_a_disconnect() {
    let w = Watcher::listen(&[]);
    let script = std::env::temp_dir().join(format!("monwire-galaxy-{}.script", std::process::id()));
    std::fs::write(
        &script,
        "{c session_status :action 1 :session_id \"Default\" }\nsleep 60000\n{c token_status :action 1 :tidx 9 }\n",
    )
    .unwrap();
    let mut serve = monwire()
        .args(["serve", "galaxy", "--gui", &w.addr, "--script"])
        .arg(&script)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for want in ["handshake", "reinitialize", "session_status"] {
        let e = w.events.recv_timeout(WAIT).expect("an event in time");
        assert_eq!(e.name, want);
    }
    // serve is now in its 60 s pause.
    signal(&serve, "TERM");
    let (status, took) = exit_after(&mut serve);
    let _ = std::fs::remove_file(&script);
    assert_eq!(status.code(), Some(0), "SIGTERM exits 0");
    eprintln!("serve galaxy, SIGTERM: exit 0 after {took:?}");
    assert!(took < STOP_BOUND, "exited after {took:?}");
    // The Hub's goodbye reached the GUI: DISCONNECT, not a bare close, and nothing after it.
    let e = w.events.recv_timeout(WAIT).expect("the end of the stream");
    assert_eq!(
        (e.kind, e.name.as_str()),
        (monwire_event::Kind::EndOfStream, "disconnect")
    );
    let mut err = String::new();
    serve
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert!(err.contains("sending DISCONNECT"), "{err}");
}
