//! SIGINT and SIGTERM, sent for real (with `kill`) to the real binary, stop a long run
//! cleanly: the source's own stop path runs (for `watch zmq`, the monitor is stopped and its
//! last event, `MONITOR_STOPPED`, is printed), the output is flushed, and the exit code is 0
//! for SIGTERM and 130 for SIGINT. A run that only ended through the 2 s watchdog says so on
//! stderr ("did not stop within"), which these tests reject: they prove the clean path, not
//! the safety net.
//!
//! No assertion is on a duration: every wait is bounded (generously, for a loaded machine),
//! and a bound that runs out fails with what was seen.
#![allow(clippy::unwrap_used, clippy::panic)] // tests fail loudly

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

const PATIENCE: Duration = Duration::from_secs(30);

struct Run {
    child: Child,
    stdout: Receiver<String>,
    stderr: Receiver<String>,
    seen_err: Vec<String>,
    seen_out: Vec<String>,
}

fn lines(r: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn start(args: &[&str]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_monwire"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = lines(child.stdout.take().unwrap());
    let stderr = lines(child.stderr.take().unwrap());
    Run {
        child,
        stdout,
        stderr,
        seen_err: Vec::new(),
        seen_out: Vec::new(),
    }
}

impl Run {
    /// Waits (bounded) until a stderr line contains `what`.
    fn await_stderr(&mut self, what: &str) {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Ok(l) = self.stderr.recv_timeout(Duration::from_millis(100)) {
                let hit = l.contains(what);
                self.seen_err.push(l);
                if hit {
                    return;
                }
            }
        }
        panic!("no stderr line with {what:?}; saw {:#?}", self.seen_err);
    }

    /// Waits (bounded) until a stdout line contains `what`.
    fn await_stdout(&mut self, what: &str) {
        let deadline = Instant::now() + PATIENCE;
        while Instant::now() < deadline {
            if let Ok(l) = self.stdout.recv_timeout(Duration::from_millis(100)) {
                let hit = l.contains(what);
                self.seen_out.push(l);
                if hit {
                    return;
                }
            }
        }
        panic!("no stdout line with {what:?}; saw {:#?}", self.seen_out);
    }

    fn kill(&self, signal: &str) {
        let ok = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill {signal} failed");
    }

    /// Waits (bounded) for the exit; returns the code and all remaining output.
    fn finish(mut self) -> (Option<i32>, Vec<String>, Vec<String>) {
        let deadline = Instant::now() + PATIENCE;
        let status = loop {
            if let Some(s) = self.child.try_wait().unwrap() {
                break s;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("monwire did not exit; stderr {:#?}", self.seen_err);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The pipes close at exit: drain them (the reader threads end on EOF).
        self.seen_out.extend(self.stdout.iter());
        self.seen_err.extend(self.stderr.iter());
        (status.code(), self.seen_out, self.seen_err)
    }
}

fn watch_zmq_stops_on(signal: &str, code: i32) {
    let mut run = start(&[
        "watch",
        "zmq",
        "--bind",
        "tcp://127.0.0.1:*",
        "--format",
        "json",
    ]);
    run.await_stderr("socket bound to");
    // The LISTENING event was printed (and flushed while the source waited).
    run.await_stdout("LISTENING");
    run.kill(signal);
    let (got, out, err) = run.finish();
    assert_eq!(got, Some(code), "exit code after {signal}; stderr {err:#?}");
    assert!(
        out.iter().any(|l| l.contains("MONITOR_STOPPED")),
        "the stop path prints the monitor's last event: {out:#?}"
    );
    for l in &out {
        let _: monwire_event::Event = serde_json::from_str(l)
            .unwrap_or_else(|e| panic!("stdout line is not a whole event ({e}): {l:?}"));
    }
    assert!(
        !err.iter().any(|l| l.contains("did not stop within")),
        "stopped only by the watchdog: {err:#?}"
    );
}

#[test]
fn watch_zmq_exits_0_on_sigterm_after_stopping_its_monitor() {
    watch_zmq_stops_on("-TERM", 0);
}

#[test]
fn watch_zmq_exits_130_on_sigint_after_stopping_its_monitor() {
    watch_zmq_stops_on("-INT", 130);
}

fn demo_stops_on(signal: &str, code: i32, name: &str) {
    // `--repeat 0` plays until interrupted, so the signal always lands mid-run.
    let mut run = start(&["demo", "--repeat", "0", "--only", "zmq", "--format", "json"]);
    run.await_stdout("LISTENING");
    run.kill(signal);
    let (got, out, err) = run.finish();
    assert_eq!(got, Some(code), "exit code after {signal}; stderr {err:#?}");
    assert!(
        err.iter()
            .any(|l| l == &format!("monwire: demo: stopped by {name}")),
        "{err:#?}"
    );
    assert!(
        !err.iter().any(|l| l.contains("did not stop within")),
        "stopped only by the watchdog: {err:#?}"
    );
    assert!(!err.iter().any(|l| l.contains("demo: done")), "{err:#?}");
    for l in &out {
        let _: monwire_event::Event = serde_json::from_str(l)
            .unwrap_or_else(|e| panic!("stdout line is not a whole event ({e}): {l:?}"));
    }
}

#[test]
fn demo_exits_130_on_sigint() {
    demo_stops_on("-INT", 130, "SIGINT");
}

#[test]
fn demo_exits_0_on_sigterm() {
    demo_stops_on("-TERM", 0, "SIGTERM");
}

#[test]
fn a_second_signal_ends_the_run_at_once() {
    // `watch nsm` against a port nobody answers on waits for an answer; two SIGINTs end it
    // at once with 130, whatever the source was doing.
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let url = format!("osc.udp://{}/", sock.local_addr().unwrap());
    let run = start(&["watch", "nsm", "--url", &url, "--timeout", "60"]);
    // Give the signal handlers a moment to be in place: they are installed before the
    // source starts, and the source's first datagram proves it started.
    let mut buf = [0u8; 1024];
    sock.set_read_timeout(Some(PATIENCE)).unwrap();
    sock.recv_from(&mut buf).expect("the monitor announces");
    run.kill("-INT");
    run.kill("-INT");
    let (got, _out, err) = run.finish();
    assert_eq!(got, Some(130), "{err:#?}");
}
