//! The `monwire` binary's NSM commands, as real processes over loopback UDP: `watch nsm` against
//! `serve nsm` prints every scripted event in order; `decode nsm` reads the golden vectors;
//! signals end `watch`/`serve` with the protocol's goodbye and the right exit code; the external
//! monitor keeps announcing, notices a lost daemon and registers again; the `:monitor:switch:`
//! client survives a switch; `monwire-nsm-monitor` keeps its output across relaunches; a flood
//! of malformed datagrams gives a bounded stderr.

// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

fn monwire() -> Command {
    Command::new(env!("CARGO_BIN_EXE_monwire"))
}

/// Waits at most `secs` for `child`; kills it and returns `None` when it is still running.
fn wait_bounded(child: &mut Child, secs: u64) -> Option<ExitStatus> {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => {}
            Err(_) => break,
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Kills the child when the test ends early (a failed assertion must not leave a server behind).
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn script_file(name: &str, text: &str) -> std::io::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("monwire-cli-nsm-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    Ok(path)
}

const SCRIPT: &str = "\
# a tiny session
session test
client alpha alpha_jack
client beta beta_jack
event alpha start_request
event alpha started
announced alpha
wait 50
event beta switched_to:gamma
event alpha stopped_by_itself
client delta delta_jack
";

#[test]
fn watch_nsm_prints_every_scripted_event_in_order() {
    let script = script_file("session.txt", SCRIPT).unwrap();
    let mut guard = KillOnDrop(
        monwire()
            .args(["serve", "nsm", "--port", "0", "--linger", "10", "--script"])
            .arg(&script)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let server = &mut guard.0;
    // The first stderr line names the bound address (the port was chosen by the system).
    let mut stderr = BufReader::new(server.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    let url = first
        .split_whitespace()
        .find(|w| w.starts_with("osc.udp://"))
        .map(|w| w.trim_end_matches(';').to_owned())
        .unwrap_or_else(|| panic!("no URL in {first:?}"));

    let expected: [(&str, &str); 9] = [
        ("client_state", "alpha"),
        ("client_state", "beta"),
        ("client_state", ""),
        ("start_request", "alpha"),
        ("started", "alpha"),
        ("client_updated", "alpha"),
        ("switched_to:gamma", "beta"),
        ("stopped_by_itself", "alpha"),
        ("client_updated", "delta"),
    ];
    let mut watch = monwire()
        .args(["watch", "nsm", "--json", "--url", &url, "--count"])
        .arg(expected.len().to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_bounded(&mut watch, 20);
    let mut out = String::new();
    watch
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let mut err = String::new();
    watch
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let server_status = wait_bounded(server, 15);
    let mut server_err = first.clone();
    stderr.read_to_string(&mut server_err).unwrap();
    assert!(
        status.is_some_and(|s| s.success()),
        "watch: {status:?}\n{err}\nserver:\n{server_err}"
    );

    let events: Vec<monwire_event::Event> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<(&str, &str)> = events
        .iter()
        .map(|e| (e.name.as_str(), e.subject.as_str()))
        .collect();
    assert_eq!(got, expected, "server:\n{server_err}");
    assert_eq!(
        events[0].attr("ray.jack_name").and_then(|v| v.as_str()),
        Some("alpha_jack")
    );
    assert_eq!(
        events[2].attr("ray.count").and_then(|v| v.as_i64()),
        Some(2)
    );
    assert_eq!(
        events[5].attr("ray.started").and_then(|v| v.as_i64()),
        Some(1)
    );
    assert_eq!(
        events[8].attr("ray.started").and_then(|v| v.as_i64()),
        Some(0)
    );

    // The watcher quit; the script is done: the server exits 0 on its own.
    assert!(
        server_status.is_some_and(|s| s.success()),
        "serve: {server_status:?}\n{server_err}"
    );
    assert!(server_err.contains("quit"), "{server_err}");
    // What it sent is on its stdout, as events: the same messages the watcher printed.
    let mut sent = String::new();
    server
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut sent)
        .unwrap();
    let sent: Vec<monwire_event::Event> = sent
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let sent_monitor: Vec<(&str, &str)> = sent
        .iter()
        .filter(|e| {
            e.attr("ray.path")
                .is_some_and(|p| p.as_str() != Some("/reply"))
        })
        .map(|e| (e.name.as_str(), e.subject.as_str()))
        .collect();
    assert_eq!(sent_monitor, expected);
}

#[test]
fn a_bad_script_is_a_usage_error_naming_the_line() {
    let script = script_file("bad.txt", "client a A\nevent a\n").unwrap();
    let mut server = monwire()
        .args(["serve", "nsm", "--port", "0", "--script"])
        .arg(&script)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = wait_bounded(&mut server, 10);
    let mut err = String::new();
    server
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.and_then(|s| s.code()), Some(2), "{err}");
    assert!(
        err.contains("bad.txt: line 2: expected `event ID EVENT`"),
        "{err}"
    );
}

/// `decode nsm` reads the project's own golden vectors (`.hex`, one datagram spread over
/// several lines), as `decode zmq --layout` does; `--layout lines` still reads one datagram per
/// line (a bundle's messages in order). Before, every `.hex` vector was rejected line by line.
#[test]
fn decode_nsm_reads_the_golden_hex_vectors_and_line_captures() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/vectors/nsm");
    let cases = [
        (
            "ray-client-event-okr-ready.hex",
            "ray",
            "ready",
            "okr",
            "client okr ready",
        ),
        (
            "nsm-client-state-end-1.hex",
            "nsm",
            "client_state",
            "",
            "state list ends: 1 client",
        ),
        (
            "nsm-client-open.hex",
            "nsm",
            "open",
            "RawMon.rawmon",
            "open session raw2 as RawMon.rawmon",
        ),
    ];
    for (file, protocol, name, subject, summary) in cases {
        let out = monwire()
            .args(["decode", "nsm", "--json"])
            .arg(format!("{dir}/{file}"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{file}: {stderr}");
        let events: Vec<monwire_event::Event> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(events.len(), 1, "{file}");
        let e = &events[0];
        assert_eq!(
            (e.protocol.as_str(), e.name.as_str(), e.subject.as_str()),
            (protocol, name, subject),
            "{file}"
        );
        assert_eq!(e.summary.as_deref(), Some(summary), "{file}");
    }
    // The same bytes, one datagram per line, through stdin; a bad line is reported with its
    // number, the run goes on, and the exit code is 1.
    let hex = |f: &str| -> String {
        std::fs::read_to_string(format!("{dir}/{f}"))
            .unwrap()
            .split_whitespace()
            .collect()
    };
    // A bundle of two messages: each element is its length (4 bytes, big-endian) and its bytes.
    let mut bundle = String::from("2362756e646c65000000000000000001");
    for f in ["ray-client-event-okr-ready.hex", "ray-monitor-announce.hex"] {
        let h = hex(f);
        bundle.push_str(&format!("{:08x}{h}", h.len() / 2));
    }
    let input = format!(
        "# two datagrams, a bad line, a bundle\n{}\nzz\n{bundle}\n{}\n",
        hex("ray-client-event-okr-started.hex"),
        hex("ray-monitor-quit.hex")
    );
    let mut child = monwire()
        .args(["decode", "nsm", "--json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            serde_json::from_str::<monwire_event::Event>(l)
                .unwrap()
                .name
        })
        .collect();
    assert_eq!(
        names,
        ["started", "ready", "monitor_announce", "monitor_quit"]
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("<stdin>:3: "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

// ---------------------------------------------------------------------------------------------
// Lifecycle: real `monwire` processes, real signals, and a UDP peer playing the daemon.

mod peer {
    use std::io::{BufRead, BufReader, Read};
    use std::net::{SocketAddr, UdpSocket};
    use std::process::Child;
    use std::sync::mpsc;
    use std::time::{Duration, Instant};

    use monwire_nsm::{Family, Message, codec};

    /// Lines of a child's pipe, read on a thread, waited for with a bound.
    pub(crate) struct Lines {
        rx: mpsc::Receiver<String>,
        pub(crate) seen: Vec<String>,
    }

    pub(crate) fn lines(r: impl Read + Send + 'static) -> Lines {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(r).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Lines {
            rx,
            seen: Vec::new(),
        }
    }

    impl Lines {
        /// The first new line that satisfies `pred`, within `secs`.
        pub(crate) fn wait_for(
            &mut self,
            secs: u64,
            pred: impl Fn(&str) -> bool,
        ) -> Option<String> {
            let deadline = Instant::now() + Duration::from_secs(secs);
            loop {
                let left = deadline.checked_duration_since(Instant::now())?;
                let line = self.rx.recv_timeout(left).ok()?;
                self.seen.push(line.clone());
                if pred(&line) {
                    return Some(line);
                }
            }
        }

        /// Every line until the pipe closes (bounded by `secs`).
        pub(crate) fn rest(&mut self, secs: u64) -> &[String] {
            let deadline = Instant::now() + Duration::from_secs(secs);
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                match self.rx.recv_timeout(left) {
                    Ok(line) => self.seen.push(line),
                    Err(_) => break,
                }
            }
            &self.seen
        }
    }

    /// A UDP socket on loopback playing the NSM/Ray daemon.
    pub(crate) struct Daemon {
        pub(crate) sock: UdpSocket,
    }

    impl Daemon {
        pub(crate) fn bind() -> Daemon {
            Daemon::on(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap()
        }

        pub(crate) fn on(addr: SocketAddr) -> std::io::Result<Daemon> {
            let sock = UdpSocket::bind(addr)?;
            sock.set_read_timeout(Some(Duration::from_millis(100)))?;
            Ok(Daemon { sock })
        }

        pub(crate) fn url(&self) -> String {
            format!("osc.udp://{}/", self.sock.local_addr().unwrap())
        }

        /// The next message that satisfies `pred` within `secs` (others are dropped).
        pub(crate) fn recv_until(
            &self,
            secs: u64,
            pred: impl Fn(&Message) -> bool,
        ) -> Option<(Message, SocketAddr)> {
            let deadline = Instant::now() + Duration::from_secs(secs);
            let mut buf = vec![0u8; 65_536];
            while Instant::now() < deadline {
                let Ok((n, from)) = self.sock.recv_from(&mut buf) else {
                    continue;
                };
                if let Ok(m) = codec::decode(&buf[..n])
                    && pred(&m)
                {
                    return Some((m, from));
                }
            }
            None
        }

        pub(crate) fn send(&self, to: SocketAddr, m: &Message) {
            self.sock.send_to(&codec::encode(m).unwrap(), to).unwrap();
        }

        /// Answers an external monitor's announce as ray-daemon does: the list, then the reply.
        pub(crate) fn register_external(&self, secs: u64, clients: &[&str]) -> Option<SocketAddr> {
            let (_, from) = self.recv_until(secs, |m| *m == Message::MonitorAnnounce)?;
            for c in clients {
                self.send(
                    from,
                    &Message::ClientState {
                        family: Family::Ray,
                        client_id: (*c).into(),
                        jack_name: format!("{c}_jack"),
                        started: 1,
                    },
                );
            }
            self.send(
                from,
                &Message::ClientStateEnd {
                    family: Family::Ray,
                    count: clients.len() as i32,
                },
            );
            self.send(
                from,
                &Message::reply("/ray/server/monitor_announce", "announced"),
            );
            Some(from)
        }
    }

    /// Sends a real signal (`TERM`, `INT`) to the child with `kill`.
    pub(crate) fn signal(child: &Child, sig: &str) {
        let ok = std::process::Command::new("kill")
            .args(["-s", sig, &child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -s {sig}");
    }
}

use peer::{Daemon, lines, signal};

fn event_names(lines: &[String]) -> Vec<(String, String)> {
    lines
        .iter()
        .filter_map(|l| serde_json::from_str::<monwire_event::Event>(l).ok())
        .map(|e| (e.name, e.subject))
        .collect()
}

/// SIGTERM and SIGINT end `watch nsm` with `/ray/server/monitor_quit` sent to the daemon, then
/// exit 0 (SIGTERM) or 130 (SIGINT). Before, a signal killed it with nothing sent, and the
/// daemon kept sending to a dead port.
#[test]
fn watch_nsm_sends_monitor_quit_on_sigterm_and_sigint() {
    for (sig, code) in [("TERM", 0), ("INT", 130)] {
        let daemon = Daemon::bind();
        let mut guard = KillOnDrop(
            monwire()
                .args(["watch", "nsm", "--json", "--url", &daemon.url()])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut out = lines(guard.0.stdout.take().unwrap());
        let mut err = lines(guard.0.stderr.take().unwrap());
        let monitor = daemon.register_external(10, &["synth"]).expect("announce");
        // The list's terminator is printed: the watcher is live.
        out.wait_for(10, |l| {
            l.contains("\"count\"") || l.contains("\"ray.count\"")
        })
        .expect("the state list");
        err.wait_for(10, |l| l.contains("registered"))
            .expect("registered");
        let t0 = Instant::now();
        signal(&guard.0, sig);
        let (_, from) = daemon
            .recv_until(10, |m| *m == monwire_nsm::Message::MonitorQuit)
            .unwrap_or_else(|| panic!("SIG{sig}: no monitor_quit came"));
        assert_eq!(from, monitor, "the quit comes from the registered socket");
        daemon.send(
            from,
            &monwire_nsm::Message::reply("/ray/server/monitor_quit", "monitor exit"),
        );
        let status = wait_bounded(&mut guard.0, 10);
        let took = t0.elapsed();
        assert_eq!(
            status.and_then(|s| s.code()),
            Some(code),
            "SIG{sig}: {:?}",
            err.rest(1)
        );
        eprintln!("SIG{sig}: goodbye sent and exit {code} {took:?} after the signal");
    }
}

/// With a daemon that never confirms the quit (it died, or ignores us), a signal still ends the
/// watch: it waits at most its grace time for "monitor exit".
#[test]
fn watch_nsm_stops_on_sigterm_even_when_the_quit_is_never_answered() {
    let daemon = Daemon::bind();
    let mut guard = KillOnDrop(
        monwire()
            .args(["watch", "nsm", "--json", "--url", &daemon.url()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut err = lines(guard.0.stderr.take().unwrap());
    daemon.register_external(10, &[]).expect("announce");
    err.wait_for(10, |l| l.contains("registered"))
        .expect("registered");
    signal(&guard.0, "TERM");
    assert!(
        daemon
            .recv_until(10, |m| *m == monwire_nsm::Message::MonitorQuit)
            .is_some()
    );
    let status = wait_bounded(&mut guard.0, 10);
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{:?}", err.rest(1));
}

/// A daemon that is not up yet: the watcher keeps announcing with backoff (a stderr line each
/// time) and registers once the daemon answers, 2.5 s later. Before, it announced once and gave
/// up after 5 s with exit 1.
#[test]
fn watch_nsm_keeps_announcing_until_the_daemon_answers() {
    let daemon = Daemon::bind();
    let mut guard = KillOnDrop(
        monwire()
            .args([
                "watch",
                "nsm",
                "--json",
                "--url",
                &daemon.url(),
                "--count",
                "2",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut out = lines(guard.0.stdout.take().unwrap());
    let mut err = lines(guard.0.stderr.take().unwrap());
    // "Not up yet": everything that arrives in the first 2.5 s is dropped unanswered.
    let t0 = Instant::now();
    let _ = daemon.recv_until(3, |_| t0.elapsed() > Duration::from_millis(2500));
    err.wait_for(10, |l| l.contains("announced again (attempt 2)"))
        .expect("a stderr line for the retry");
    // Now the daemon answers the next announce (the 3rd, about 3 s in), and much later ones too.
    let monitor = daemon
        .register_external(40, &["late"])
        .expect("a re-announce");
    let _ = out.wait_for(10, |l| l.contains("\"late\""));
    let _ = daemon.recv_until(10, |m| *m == monwire_nsm::Message::MonitorQuit);
    daemon.send(
        monitor,
        &monwire_nsm::Message::reply("/ray/server/monitor_quit", "monitor exit"),
    );
    let status = wait_bounded(&mut guard.0, 10);
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{:?}", err.rest(1));
    assert_eq!(
        event_names(out.rest(1)),
        [
            ("client_state".to_owned(), "late".to_owned()),
            ("client_state".to_owned(), String::new())
        ]
    );
}

/// `--timeout` bounds the announcing when it is given: no answer, exit 1 with one clear line.
#[test]
fn watch_nsm_timeout_bounds_the_announcing_when_given() {
    let daemon = Daemon::bind();
    let out = monwire()
        .args([
            "watch",
            "nsm",
            "--json",
            "--url",
            &daemon.url(),
            "--timeout",
            "2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut guard = KillOnDrop(out);
    let status = wait_bounded(&mut guard.0, 15);
    let mut err = String::new();
    guard
        .0
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.and_then(|s| s.code()), Some(1), "{err}");
    assert!(
        err.lines()
            .last()
            .is_some_and(|l| l.ends_with("no answer to /ray/server/monitor_announce")),
        "{err}"
    );
}

/// The daemon goes away (its port closes) and comes back on the same port: the watcher prints a
/// `disconnected` event, announces again, prints the new state list and a `reconnected` event.
/// Before, it hung silently forever once the daemon died.
#[test]
fn watch_nsm_reports_a_lost_daemon_and_registers_again_when_it_is_back() {
    let daemon = Daemon::bind();
    let addr = daemon.sock.local_addr().unwrap();
    let mut guard = KillOnDrop(
        monwire()
            .args([
                "watch",
                "nsm",
                "--json",
                "--probe",
                "1",
                "--url",
                &daemon.url(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut out = lines(guard.0.stdout.take().unwrap());
    let mut err = lines(guard.0.stderr.take().unwrap());
    daemon.register_external(10, &["before"]).expect("announce");
    out.wait_for(10, |l| l.contains("\"before\""))
        .expect("first list");
    // The daemon dies: its port closes. The next probe meets ICMP port unreachable.
    drop(daemon);
    let lost = out
        .wait_for(20, |l| l.contains("\"disconnected\""))
        .expect("a disconnected event");
    assert!(lost.contains("unreachable"), "{lost}");
    err.wait_for(5, |l| l.contains("lost the server"))
        .expect("a stderr line");
    // It comes back on the same port (bounded retries, in case the port is briefly taken).
    let mut back = None;
    for _ in 0..50 {
        if let Ok(d) = Daemon::on(addr) {
            back = Some(d);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let daemon = back.expect("rebind the daemon's port");
    let monitor = daemon
        .register_external(40, &["after"])
        .expect("re-announce");
    out.wait_for(10, |l| l.contains("\"reconnected\""))
        .expect("a reconnected event");
    signal(&guard.0, "TERM");
    let _ = daemon.recv_until(10, |m| *m == monwire_nsm::Message::MonitorQuit);
    daemon.send(
        monitor,
        &monwire_nsm::Message::reply("/ray/server/monitor_quit", "monitor exit"),
    );
    let status = wait_bounded(&mut guard.0, 10);
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{:?}", err.rest(1));
    let names = event_names(out.rest(1));
    let s = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        names,
        [
            s("client_state", "before"),
            s("client_state", ""),
            s("disconnected", ""),
            s("client_state", "after"),
            s("client_state", ""),
            s("reconnected", ""),
        ]
    );
}

/// Plays RaySession's side of an NSM announce from a `:monitor:` client: the reply, the list
/// (the client itself left out), then `/nsm/client/open`. Returns the client's address and its
/// announce.
fn accept_nsm_client(
    daemon: &Daemon,
    session: &str,
    instance: &str,
    clients: &[&str],
) -> (std::net::SocketAddr, monwire_nsm::Message) {
    use monwire_nsm::Message;
    let (announce, from) = daemon
        .recv_until(10, |m| matches!(m, Message::Announce { .. }))
        .expect("an NSM announce");
    daemon.send(
        from,
        &Message::Reply {
            path: "/nsm/server/announce".into(),
            args: vec![
                "Well hello, stranger. Welcome to the party.".into(),
                "RaySession".into(),
                ":server-control:broadcast:optional-gui:monitor:".into(),
            ],
        },
    );
    send_nsm_list(daemon, from, clients);
    daemon.send(
        from,
        &Message::Open {
            instance_path: instance.into(),
            display_name: session.into(),
            client_id: "monwire.monwire".into(),
        },
    );
    (from, announce)
}

fn send_nsm_list(daemon: &Daemon, to: std::net::SocketAddr, clients: &[&str]) {
    use monwire_nsm::{Family, Message};
    for c in clients {
        daemon.send(
            to,
            &Message::ClientState {
                family: Family::Nsm,
                client_id: (*c).into(),
                jack_name: format!("{c}_jack"),
                started: 1,
            },
        );
    }
    daemon.send(
        to,
        &Message::ClientStateEnd {
            family: Family::Nsm,
            count: clients.len() as i32,
        },
    );
}

/// `watch nsm --as-client` announces `:monitor:switch:`, answers open, and survives a session
/// switch in place: a second `/nsm/client/open` is answered too, and the re-sent list is
/// printed, as ray-daemon's own `:monitor:switch:` clients do. Before, it announced without
/// `:switch:`, so every switch made the daemon kill and relaunch it. SIGTERM then ends it with
/// exit 0 (an NSM client's goodbye is its exit).
#[test]
fn watch_nsm_as_client_announces_switch_and_survives_a_switch() {
    use monwire_nsm::{Capability, Message};
    let daemon = Daemon::bind();
    let mut guard = KillOnDrop(
        monwire()
            .args([
                "watch",
                "nsm",
                "--json",
                "--as-client",
                "--url",
                &daemon.url(),
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut out = lines(guard.0.stdout.take().unwrap());
    let mut err = lines(guard.0.stderr.take().unwrap());
    let (client, announce) = accept_nsm_client(&daemon, "one", "/tmp/one/one.monwire", &["a"]);
    let Message::Announce {
        capabilities, pid, ..
    } = &announce
    else {
        unreachable!()
    };
    assert!(capabilities.contains(&Capability::Monitor), "{announce}");
    assert!(capabilities.contains(&Capability::Switch), "{announce}");
    assert_eq!(*pid, guard.0.id() as i32, "the daemon watches this pid");
    let is_open_reply =
        |m: &Message| matches!(m, Message::Reply { path, .. } if path == "/nsm/client/open");
    daemon.recv_until(10, is_open_reply).expect("open answered");
    // The switch: a new open, then the new session's list.
    daemon.send(
        client,
        &Message::Open {
            instance_path: "/tmp/two/two.monwire".into(),
            display_name: "two".into(),
            client_id: "monwire.monwire".into(),
        },
    );
    send_nsm_list(&daemon, client, &["b", "c"]);
    daemon
        .recv_until(10, is_open_reply)
        .expect("the second open answered");
    out.wait_for(10, |l| l.contains("\"nsm.count\":2"))
        .expect("the re-sent list");
    err.wait_for(5, |l| l.contains("opened session two"))
        .expect("the switch on stderr");
    assert!(guard.0.try_wait().unwrap().is_none(), "still running");
    signal(&guard.0, "TERM");
    let status = wait_bounded(&mut guard.0, 10);
    assert_eq!(status.and_then(|s| s.code()), Some(0), "{:?}", err.rest(1));
    let s = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        event_names(out.rest(1)),
        [
            s("client_state", "a"),
            s("client_state", ""),
            s("client_state", "b"),
            s("client_state", "c"),
            s("client_state", ""),
        ]
    );
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("monwire-cli-nsm-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `monwire-nsm-monitor` is what a session keeps: launched by the daemon with no arguments (only
/// `NSM_URL`), it announces the executable `monwire-nsm-monitor` (what the daemon relaunches),
/// records where its events go in `<instance>/monwire.conf` at the first open, and a later
/// launch with no arguments writes to the same file. Before, a hand-joined `monwire` was
/// relaunched as `monwire` with no arguments, which fails (`/error -4 "Failed to launch
/// process"`).
#[test]
fn monwire_nsm_monitor_keeps_its_output_across_relaunches_with_no_arguments() {
    use monwire_nsm::Message;
    let dir = temp_dir("relaunch");
    let instance = dir.join("sess/sess.monwire");
    let chosen = dir.join("chosen-events.jsonl");
    let run = |args: &[&std::ffi::OsStr], clients: &[&str]| {
        let daemon = Daemon::bind();
        let mut guard = KillOnDrop(
            Command::new(env!("CARGO_BIN_EXE_monwire-nsm-monitor"))
                .args(args)
                .env("NSM_URL", daemon.url())
                .env_remove("MONWIRE_NSM_OUTPUT")
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut err = lines(guard.0.stderr.take().unwrap());
        let (_, announce) = accept_nsm_client(&daemon, "sess", instance.to_str().unwrap(), clients);
        let Message::Announce {
            executable, pid, ..
        } = &announce
        else {
            unreachable!()
        };
        assert_eq!(executable, "monwire-nsm-monitor");
        assert_eq!(
            *pid,
            guard.0.id() as i32,
            "exec keeps the pid the daemon watches"
        );
        err.wait_for(10, |l| l.contains("writing events to"))
            .expect("the output opened");
        // The list came before the open: it is written once the file is known.
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            let text = std::fs::read_to_string(&chosen).unwrap_or_default();
            if clients.iter().all(|c| text.contains(&format!("\"{c}\""))) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        signal(&guard.0, "TERM");
        let status = wait_bounded(&mut guard.0, 10);
        assert_eq!(status.and_then(|s| s.code()), Some(0), "{:?}", err.rest(1));
    };
    // Setup, once, by hand: choose the file.
    run(&["--output".as_ref(), chosen.as_os_str()], &["first"]);
    let conf = std::fs::read_to_string(instance.join("monwire.conf")).unwrap();
    assert!(
        conf.contains(&format!("output = {}", chosen.display())),
        "{conf}"
    );
    // The daemon's relaunch: no arguments at all.
    run(&[], &["second"]);
    let events: Vec<monwire_event::Event> = std::fs::read_to_string(&chosen)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let subjects: Vec<&str> = events.iter().map(|e| e.subject.as_str()).collect();
    assert_eq!(subjects, ["first", "", "second", ""]);
}

/// A flood of malformed datagrams (60 KB unknown paths, and garbage) gives a bounded stderr: at
/// most one line per second per cause, each with a count, each at most 200 characters. Before,
/// every datagram printed a line with its whole path: 6,328 lines of up to 60 KB.
#[test]
fn a_malformed_flood_gives_a_bounded_stderr() {
    let daemon = Daemon::bind();
    let mut guard = KillOnDrop(
        monwire()
            .args(["watch", "nsm", "--json", "--url", &daemon.url()])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut err = lines(guard.0.stderr.take().unwrap());
    let monitor = daemon.register_external(10, &[]).expect("announce");
    err.wait_for(10, |l| l.contains("registered"))
        .expect("registered");
    let long_path = format!("/{}", "x".repeat(60_000));
    let unknown = monwire_nsm::codec::encode(&monwire_nsm::Message::Reply {
        path: String::new(),
        args: vec![],
    })
    .unwrap();
    // A well-formed OSC message on an unknown 60 KB path, and bytes that are not OSC at all.
    let mut big = long_path.into_bytes();
    big.extend_from_slice(&[0; 4][..4 - big.len() % 4]);
    big.extend_from_slice(b",\0\0\0");
    let t0 = Instant::now();
    let sent = 2_000;
    for i in 0..sent {
        let d: &[u8] = if i % 2 == 0 { &big } else { b"garbage!" };
        let _ = daemon.sock.send_to(d, monitor);
        if i % 100 == 0 {
            let _ = daemon.sock.send_to(&unknown[..8], monitor);
        }
    }
    let flood = t0.elapsed();
    // Let the reporter write its counts, then stop.
    std::thread::sleep(Duration::from_millis(1200));
    signal(&guard.0, "TERM");
    let _ = daemon.recv_until(10, |m| *m == monwire_nsm::Message::MonitorQuit);
    let status = wait_bounded(&mut guard.0, 10);
    let total = t0.elapsed();
    let all = err.rest(2).to_vec();
    eprintln!("{}", all.join("\n"));
    let malformed: Vec<&String> = all.iter().filter(|l| l.contains("malformed")).collect();
    let secs = total.as_secs() + 2;
    assert!(
        malformed.len() as u64 <= 3 * secs,
        "{} lines in {total:?} (flood {flood:?}):\n{all:#?}",
        malformed.len()
    );
    assert!(!malformed.is_empty());
    for l in &all {
        assert!(l.chars().count() <= 200, "{} chars: {l}", l.chars().count());
    }
    assert!(
        malformed
            .iter()
            .any(|l| l.contains(" more in ") || l.contains(" more not shown")),
        "the suppressed datagrams are counted: {malformed:#?}"
    );
    // A run SIGTERM stopped exits 0, bad input or not (the NSM server's way of saying quit).
    assert_eq!(status.and_then(|s| s.code()), Some(0));
}

/// SIGTERM and SIGINT end `serve nsm` as ray-daemon ends: the session is closed, every running
/// client stopped in reverse order (`stop_request`, `stopped_by_server` to every monitor), then
/// exit 0 or 130. Before, a signal killed it silently.
#[test]
fn serve_nsm_closes_the_session_on_sigterm_and_sigint() {
    use monwire_nsm::{ClientEvent, Message};
    let script = script_file(
        "signal.txt",
        "session s\nclient a A\nclient b B\nevent a started\nevent b started\nwait 60000\n",
    )
    .unwrap();
    for (sig, code) in [("TERM", 0), ("INT", 130)] {
        let mut guard = KillOnDrop(
            monwire()
                .args(["serve", "nsm", "--port", "0", "--json", "--script"])
                .arg(&script)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut err = lines(guard.0.stderr.take().unwrap());
        let first = err.wait_for(10, |l| l.contains("osc.udp://")).unwrap();
        let url = first
            .split_whitespace()
            .find(|w| w.starts_with("osc.udp://"))
            .map(|w| w.trim_end_matches(';').to_owned())
            .unwrap();
        let addr = monwire_nsm::tokio::parse_url(&url).unwrap();
        let server: std::net::SocketAddr = format!("{}:{}", addr.0, addr.1).parse().unwrap();
        let monitor = Daemon::bind();
        monitor.send(server, &Message::MonitorAnnounce);
        let started_b = |m: &Message| matches!(m, Message::ClientEvent { client_id, event: ClientEvent::Started, .. } if client_id == "b");
        monitor.recv_until(10, started_b).expect("b started");
        let t0 = Instant::now();
        signal(&guard.0, sig);
        let mut got = Vec::new();
        while got.len() < 4 {
            let Some((
                Message::ClientEvent {
                    client_id, event, ..
                },
                _,
            )) = monitor.recv_until(10, |m| matches!(m, Message::ClientEvent { .. }))
            else {
                break;
            };
            got.push((client_id, event));
        }
        assert_eq!(
            got,
            [
                ("b".to_owned(), ClientEvent::StopRequest),
                ("b".to_owned(), ClientEvent::StoppedByServer),
                ("a".to_owned(), ClientEvent::StopRequest),
                ("a".to_owned(), ClientEvent::StoppedByServer),
            ],
            "SIG{sig}"
        );
        let status = wait_bounded(&mut guard.0, 10);
        assert_eq!(
            status.and_then(|s| s.code()),
            Some(code),
            "SIG{sig}: {:?}",
            err.rest(1)
        );
        eprintln!(
            "serve SIG{sig}: session closed, exit {code} {:?} after",
            t0.elapsed()
        );
    }
}

/// Without `--url`, `watch nsm` takes `$NSM_URL` (as every NSM client does); unset, it is a usage
/// error naming the variable.
#[test]
fn watch_nsm_takes_nsm_url_from_the_environment() {
    let out = monwire()
        .args(["watch", "nsm", "--json"])
        .env_remove("NSM_URL")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        err.trim(),
        "monwire: nsm: server address: NSM_URL is not set"
    );

    let daemon = Daemon::bind();
    let mut guard = KillOnDrop(
        monwire()
            .args(["watch", "nsm", "--json", "--count", "1"])
            .env("NSM_URL", daemon.url())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let monitor = daemon
        .register_external(10, &[])
        .expect("announce via NSM_URL");
    let _ = daemon.recv_until(10, |m| *m == monwire_nsm::Message::MonitorQuit);
    daemon.send(
        monitor,
        &monwire_nsm::Message::reply("/ray/server/monitor_quit", "monitor exit"),
    );
    let status = wait_bounded(&mut guard.0, 10);
    assert_eq!(status.and_then(|s| s.code()), Some(0));
}
