//! `monwire watch nsm` against `monwire serve nsm` on loopback prints every scripted event, in
//! order, after the session's state list; the server exits 0 once its monitor has quit; a bad
//! script is a usage error (exit 2) naming the line.

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
/// line. Before, every `.hex` vector was rejected line by line.
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
    let input = format!(
        "# two datagrams and a bad line\n{}\nzz\n{}\n",
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
    assert_eq!(names, ["started", "monitor_quit"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("<stdin>:3: "), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}
