//! The `monwire` binary's SysAdm commands, run as real processes over loopback:
//! `watch sysadm` against `serve sysadm` (events, and every way the client can fail: a wrong
//! password, a 401 on subscribe, an untrusted certificate, an unreachable server, and a server
//! restart after login), `decode sysadm` (events, requests with their secrets redacted, bad
//! lines), and `bridge`.
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn monwire() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_monwire"));
    c.env_remove("MONWIRE_SYSADM_PASSWORD").env("NO_COLOR", "1");
    c
}

/// A child process whose stdout and stderr lines arrive on channels (so every read has a
/// deadline), killed when the test ends.
struct Proc {
    child: Child,
    out: mpsc::Receiver<String>,
    err: mpsc::Receiver<String>,
    stdin: Option<ChildStdin>,
}

fn lines(r: impl Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
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

impl Proc {
    fn spawn(cmd: &mut Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = lines(child.stdout.take().unwrap());
        let err = lines(child.stderr.take().unwrap());
        let stdin = child.stdin.take();
        Proc {
            child,
            out,
            err,
            stdin,
        }
    }

    /// The next line of `which` that satisfies `pred`, within `secs`; the lines passed over
    /// are returned too (for messages).
    fn wait_line(
        rx: &mpsc::Receiver<String>,
        secs: u64,
        pred: impl Fn(&str) -> bool,
    ) -> Result<String, Vec<String>> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(left) {
                Ok(line) if pred(&line) => return Ok(line),
                Ok(line) => seen.push(line),
                Err(_) => return Err(seen),
            }
        }
    }

    fn err_line(&self, secs: u64, pred: impl Fn(&str) -> bool) -> String {
        Proc::wait_line(&self.err, secs, pred)
            .unwrap_or_else(|seen| panic!("no such stderr line; saw {seen:#?}"))
    }

    fn out_line(&self, secs: u64, pred: impl Fn(&str) -> bool) -> String {
        Proc::wait_line(&self.out, secs, pred)
            .unwrap_or_else(|seen| panic!("no such stdout line; saw {seen:#?}"))
    }

    /// Waits at most `secs` for the exit.
    fn wait(&mut self, secs: u64) -> Option<ExitStatus> {
        let deadline = Instant::now() + Duration::from_secs(secs);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Every stderr line written so far (after the exit: all of them).
    fn rest_of_stderr(&self) -> Vec<String> {
        let mut v = Vec::new();
        while let Ok(l) = self.err.recv_timeout(Duration::from_millis(200)) {
            v.push(l);
        }
        v
    }

    fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .args([&format!("-{sig}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success();
        assert!(ok, "kill -{sig}");
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `serve sysadm` on a system-chosen loopback port; returns it with its URL (from its first
/// stderr line).
fn serve(extra: &[&str], password: Option<&str>) -> (Proc, String) {
    let mut cmd = monwire();
    cmd.args([
        "serve",
        "sysadm",
        "--listen",
        "127.0.0.1:0",
        "--interval",
        "200",
    ])
    .args(extra);
    if let Some(p) = password {
        cmd.env("MONWIRE_SYSADM_PASSWORD", p);
    }
    let p = Proc::spawn(&mut cmd);
    let line = p.err_line(20, |l| l.contains("serving "));
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("ws://") || w.starts_with("wss://"))
        .unwrap()
        .to_owned();
    (p, url)
}

fn watch(url: &str, extra: &[&str], password: Option<&str>) -> Proc {
    let mut cmd = monwire();
    cmd.args(["watch", "sysadm", url, "--json"]).args(extra);
    if let Some(p) = password {
        cmd.env("MONWIRE_SYSADM_PASSWORD", p);
    }
    Proc::spawn(&mut cmd)
}

fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"))
}

/// Today's code exited 0 on a refused password: now one stderr line and exit 1.
#[test]
fn wrong_password_is_one_error_line_and_exit_1() {
    let (_srv, url) = serve(&["--plain", "--user", "alice"], Some("right"));
    let mut w = watch(&url, &["--user", "alice"], Some("wrong"));
    let status = w.wait(20).expect("watch ends by itself");
    assert_eq!(status.code(), Some(1));
    let err = w.rest_of_stderr();
    assert_eq!(err.len(), 1, "{err:#?}");
    assert!(err[0].starts_with("monwire: sysadm: "), "{err:#?}");
    assert!(
        err[0].contains("login refused: 401 Unauthorized"),
        "{err:#?}"
    );
}

/// Today's code hung forever without `--user` against a server that requires a login.
#[test]
fn unauthorized_subscribe_is_one_error_line_and_exit_1() {
    let (_srv, url) = serve(&["--plain", "--user", "alice"], Some("right"));
    let mut w = watch(&url, &[], None);
    let status = w.wait(20).expect("watch ends by itself");
    assert_eq!(status.code(), Some(1));
    let err = w.rest_of_stderr();
    assert_eq!(err.len(), 1, "{err:#?}");
    assert!(err[0].contains("requires a login"), "{err:#?}");
    assert!(err[0].contains("--user"), "{err:#?}");
}

/// Today's code retried forever (at INFO) against a self-signed certificate it does not trust.
#[test]
fn untrusted_certificate_is_one_error_line_with_a_hint_and_exit_1() {
    let (_srv, url) = serve(&[], None);
    assert!(url.starts_with("wss://"));
    let mut w = watch(&url, &[], None);
    let status = w.wait(20).expect("watch ends by itself");
    assert_eq!(status.code(), Some(1));
    let err = w.rest_of_stderr();
    assert_eq!(err.len(), 1, "{err:#?}");
    assert!(err[0].contains("certificate is not trusted"), "{err:#?}");
    assert!(
        err[0].contains("--ca") && err[0].contains("--insecure"),
        "{err:#?}"
    );
}

/// The same server with its certificate given as `--ca`: events arrive.
#[test]
fn trusted_certificate_gets_events() {
    let dir = std::env::temp_dir().join(format!("monwire-cli-sysadm-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let pem = dir.join("server.pem");
    let (_srv, url) = serve(&["--cert-out", pem.to_str().unwrap()], None);
    // The server names its certificate `localhost` and the listening address.
    let w = watch(
        &url,
        &[
            "--ca",
            pem.to_str().unwrap(),
            "--count",
            "5",
            "--user",
            "demo",
        ],
        Some("demo"),
    );
    let line = w.out_line(20, |l| l.contains("\"name\":\"system-state\""));
    let e = json(&line);
    assert_eq!(e["protocol"], "sysadm");
    assert_eq!(e["attributes"]["sysadm.args"]["hostname"], "monwire-demo");
}

/// A server that is not there: a stderr line per attempt, each with the error and the delay,
/// and the watcher keeps trying.
#[test]
fn unreachable_server_prints_each_retry_with_its_delay() {
    // A port with nothing listening: bound by the system, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut w = watch(&format!("ws://127.0.0.1:{port}"), &[], None);
    let first = w.err_line(20, |l| l.contains("retrying in"));
    let second = w.err_line(20, |l| l.contains("retrying in"));
    assert!(
        first.starts_with("monwire: sysadm: cannot connect to"),
        "{first}"
    );
    assert!(first.ends_with("retrying in 1 s"), "{first}");
    assert!(second.ends_with("retrying in 2 s"), "{second}");
    assert!(w.wait(0).is_none(), "still trying");
}

/// After a login, a lost server is waited for and watched again when it is back (on the same
/// port).
#[test]
fn server_restart_after_login_reconnects() {
    let (srv, url) = serve(&["--plain"], None);
    let w = watch(&url, &["--user", "demo"], Some("demo"));
    w.out_line(20, |l| l.contains("\"name\":\"system-state\""));
    let addr = url
        .trim_start_matches("ws://")
        .trim_end_matches('/')
        .to_owned();
    drop(srv);
    w.err_line(20, |l| {
        l.contains("reconnecting to") || l.contains("retrying in")
    });
    // Bring a server back on the same address (the port may take a moment to be free).
    let mut back = None;
    for _ in 0..50 {
        let mut cmd = monwire();
        cmd.args([
            "serve",
            "sysadm",
            "--plain",
            "--interval",
            "200",
            "--listen",
            &addr,
        ]);
        let p = Proc::spawn(&mut cmd);
        if Proc::wait_line(&p.err, 10, |l| l.contains("serving ")).is_ok() {
            back = Some(p);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _back = back.expect("the server came back on its port");
    // Drain what arrived before the restart, then see a new event.
    while w.out.try_recv().is_ok() {}
    w.out_line(60, |l| l.contains("\"name\":\"system-state\""));
}

/// `decode sysadm` prints every message, redacts secrets in `--json`, reports a bad line with
/// its number on stderr and exits 1.
#[test]
fn decode_sysadm_redacts_and_reports_bad_lines() {
    let input = concat!(
        r#"{"args":{"class":"snapshot","message":"New snapshot of tank","priority":"1 - Information"},"id":"","name":"life-preserver","namespace":"events"}"#,
        "\n",
        r#"{"args":{"password":"QZSECRET1","username":"alice"},"id":"a","name":"auth","namespace":"rpc"}"#,
        "\n",
        r#"{"args":["alice","QZSECRET2"],"id":"b","name":"auth","namespace":"rpc"}"#,
        "\n",
        r#"{"args":{"token":"QZSECRET3"},"id":"c","name":"auth_token","namespace":"rpc"}"#,
        "\n",
        r#"{"args":["QZSECRET4",0],"id":"c","name":"response","namespace":"rpc"}"#,
        "\n",
        "not json\n",
        "\n",
        r#"{"args":{"subscribe":"dispatcher"},"id":"s","name":"response","namespace":"events"}"#,
        "\n",
    );
    for format in [&["--json"][..], &[][..]] {
        let mut p = Proc::spawn(monwire().args(["decode", "sysadm", "-"]).args(format));
        p.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        let status = p.wait(20).expect("decode ends");
        assert_eq!(status.code(), Some(1), "a bad line is exit 1");
        let out: Vec<String> = p.out.try_iter().collect();
        let err = p.rest_of_stderr();
        assert_eq!(out.len(), 6, "{out:#?}");
        for l in &out {
            assert!(!l.contains("QZSECRET"), "secret in {l}");
        }
        assert_eq!(err.len(), 1, "{err:#?}");
        assert!(err[0].starts_with("<stdin>:6:"), "{err:#?}");
        if format.is_empty() {
            continue;
        }
        let e: Vec<serde_json::Value> = out.iter().map(|l| json(l)).collect();
        assert_eq!(e[0]["kind"], "saved");
        assert_eq!(e[0]["summary"], "snapshot: New snapshot of tank");
        assert_eq!(e[0]["attributes"]["sysadm.args"]["class"], "snapshot");
        assert_eq!(e[1]["attributes"]["sysadm.args"]["username"], "alice");
        assert_eq!(e[1]["attributes"]["sysadm.redacted"], true);
        assert_eq!(e[5]["attributes"]["sysadm.message"], "reply");
        assert_eq!(e[5]["attributes"]["sysadm.args"]["subscribe"], "dispatcher");
    }
}

/// Waits for the exit after a signal and says how long it took.
fn stopped_by(p: &mut Proc, sig: &str) -> (ExitStatus, Duration) {
    let t = Instant::now();
    p.signal(sig);
    let status = p.wait(10).expect("the signal ends the run");
    (status, t.elapsed())
}

/// `watch sysadm` on SIGTERM and SIGINT: a websocket close frame (1000) reaches the server,
/// then exit 0 (SIGTERM) or 130 (SIGINT). Before, a signal killed it without a goodbye.
#[test]
fn watch_sends_a_close_frame_on_sigterm_and_sigint() {
    for (sig, code) in [("TERM", 0), ("INT", 130)] {
        let (srv, url) = serve(&["--plain"], None);
        let mut w = watch(&url, &["--user", "demo"], Some("demo"));
        w.out_line(20, |l| l.contains("\"name\":\"system-state\""));
        let (status, took) = stopped_by(&mut w, sig);
        assert_eq!(status.code(), Some(code), "SIG{sig}");
        eprintln!("watch sysadm stopped by SIG{sig} in {took:?}");
        srv.err_line(20, |l| l.contains("disconnected (close 1000)"));
    }
}

/// `serve sysadm` and `bridge` on SIGTERM: every subscriber gets a close frame (1001, going
/// away) before the exit, which is 0.
#[test]
fn serve_and_bridge_send_close_frames_on_sigterm() {
    let (mut srv, url) = serve(&["--plain"], None);
    let w = watch(&url, &["--user", "demo"], Some("demo"));
    w.out_line(20, |l| l.contains("\"name\":\"system-state\""));
    let (status, took) = stopped_by(&mut srv, "TERM");
    assert_eq!(status.code(), Some(0));
    eprintln!("serve sysadm stopped by SIGTERM in {took:?}");
    let line = w.out_line(20, |l| l.contains("\"name\":\"disconnected\""));
    assert_eq!(
        json(&line)["attributes"]["sysadm.close_code"],
        1001,
        "{line}"
    );

    let mut bridge = Proc::spawn(monwire().args([
        "bridge",
        "--listen",
        "127.0.0.1:0",
        "--plain",
        "zmq",
        "--bind",
        "tcp://127.0.0.1:*",
    ]));
    let line = bridge.err_line(20, |l| l.contains("serving "));
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("ws://"))
        .unwrap()
        .to_owned();
    let w = watch(
        &url,
        &["--user", "demo", "--subscribe", "monwire-zmq"],
        Some("demo"),
    );
    w.out_line(20, |l| l.contains("\"name\":\"subscribed\""));
    let (status, took) = stopped_by(&mut bridge, "TERM");
    assert_eq!(status.code(), Some(0));
    eprintln!("bridge stopped by SIGTERM in {took:?}");
    let line = w.out_line(20, |l| l.contains("\"name\":\"disconnected\""));
    assert_eq!(
        json(&line)["attributes"]["sysadm.close_code"],
        1001,
        "{line}"
    );
}

/// The reference Qt client's re-login after a server restart: `auth` with an empty password
/// for a localhost user. With `--login-state`, a server started again accepts it from loopback
/// for a user who logged in with a password within the token lifetime; a server without that
/// memory refuses it (exit 1 for our watcher).
#[test]
fn loopback_relogin_survives_a_server_restart_with_login_state() {
    let dir = std::env::temp_dir().join(format!("monwire-cli-sysadm-state-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let state = dir.join("logins");
    let _ = std::fs::remove_file(&state);
    let state_arg = state.to_str().unwrap();
    let args = ["--plain", "--user", "alice", "--login-state", state_arg];
    let (mut srv, url) = serve(&args, Some("right"));
    let w = watch(&url, &["--user", "alice"], Some("right"));
    w.out_line(20, |l| l.contains("\"name\":\"system-state\""));
    drop(w);
    let _ = stopped_by(&mut srv, "TERM");
    let text = std::fs::read_to_string(&state).unwrap();
    assert!(text.starts_with("alice\t"), "{text}");
    assert!(!text.contains("right"), "no password in the state file");

    // Started again (a new port, the same state): the empty password is accepted.
    let (_srv, url) = serve(&args, Some("right"));
    let w = watch(&url, &["--user", "alice"], Some(""));
    w.out_line(20, |l| l.contains("\"name\":\"system-state\""));

    // Without the state, a fresh server refuses it.
    let (_srv, url) = serve(&["--plain", "--user", "alice"], Some("right"));
    let mut w = watch(&url, &["--user", "alice"], Some(""));
    assert_eq!(w.wait(20).and_then(|s| s.code()), Some(1));
}
