//! Helpers of the capture tests: the `monwire` binary, child processes that never outlive a
//! test, bounded waits on their output, `tcpdump`, and the event comparison.
#![allow(dead_code)] // each test file uses a part

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The `monwire` binary: `$MONWIRE_BIN`, else the one cargo built beside this test (built
/// first when this test runs alone).
pub fn monwire_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(p) = std::env::var_os("MONWIRE_BIN") {
            return PathBuf::from(p);
        }
        let exe = std::env::current_exe().unwrap();
        // target/<profile>/deps/<test> -> target/<profile>/monwire
        let dir = exe.parent().unwrap().parent().unwrap();
        let bin = dir.join("monwire");
        if !bin.exists() {
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let ok = Command::new(cargo)
                .args(["build", "-p", "monwire-cli", "--bin", "monwire"])
                .status()
                .unwrap();
            assert!(ok.success(), "building the monwire binary failed");
        }
        bin
    })
    .clone()
}

/// A command running `monwire`.
pub fn monwire() -> Command {
    Command::new(monwire_bin())
}

/// A child process killed when dropped, with its stdout and stderr read by threads into
/// channels of lines.
pub struct Proc {
    pub child: Child,
    pub out: Receiver<String>,
    pub err: Receiver<String>,
    pub err_seen: Vec<String>,
}

fn lines(r: impl Read + Send + 'static) -> Receiver<String> {
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
    /// Spawns `cmd` with piped stdout and stderr.
    pub fn spawn(mut cmd: Command) -> Proc {
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let out = lines(child.stdout.take().unwrap());
        let err = lines(child.stderr.take().unwrap());
        Proc {
            child,
            out,
            err,
            err_seen: Vec::new(),
        }
    }

    /// Waits (at most `within`) for a stderr line containing `needle`; returns it.
    pub fn stderr_line(&mut self, needle: &str, within: Duration) -> String {
        let deadline = Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.err.recv_timeout(left) {
                Ok(line) => {
                    self.err_seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!(
                    "no stderr line with {needle:?} within {within:?}; stderr so far: {:#?}",
                    self.err_seen
                ),
            }
        }
    }

    /// Reads stdout lines until `done(line)` says so or the stream ends, at most `within`.
    pub fn stdout_until(
        &mut self,
        within: Duration,
        mut done: impl FnMut(&str) -> bool,
    ) -> Vec<String> {
        let deadline = Instant::now() + within;
        let mut got = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.out.recv_timeout(left) {
                Ok(line) => {
                    let stop = done(&line);
                    got.push(line);
                    if stop {
                        return got;
                    }
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => return got,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    panic!("stdout did not finish within {within:?}; got {got:#?}")
                }
            }
        }
    }

    /// Waits at most `within` for the process to exit by itself; kills it after that.
    /// Returns whether it exited by itself, with its status code.
    pub fn wait_or_kill(&mut self, within: Duration) -> (bool, Option<i32>) {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if let Some(s) = self.child.try_wait().unwrap() {
                return (true, s.code());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let s = self.child.wait().unwrap();
        (false, s.code())
    }

    /// Sends `signal` (by number) to the process.
    pub fn signal(&self, signal: i32) {
        let _ = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh directory for one test's files, removed when the test ends.
pub struct TempDir(PathBuf);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Makes a [`TempDir`] named after the test and this process.
pub fn temp_dir(name: &str) -> TempDir {
    let dir = std::env::temp_dir().join(format!("monwire-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    TempDir(dir)
}

/// Parses JSON Lines of events.
pub fn events(lines: &[String]) -> Vec<Value> {
    lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

/// What must agree between a watcher's event and its replay: everything but the observed time.
pub fn key(e: &Value) -> Value {
    let mut e = e.clone();
    if let Some(m) = e.as_object_mut() {
        m.remove("observed_unix_nano");
    }
    e
}

/// Runs `monwire decode PROTOCOL FILE --json`; returns its events, stderr and exit code.
pub fn decode(protocol: &str, file: &Path, extra: &[&str]) -> (Vec<Value>, String, Option<i32>) {
    let out = monwire()
        .args(["decode", protocol])
        .arg(file)
        .args(extra)
        .arg("--json")
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<String> = stdout.lines().map(str::to_owned).collect();
    (
        events(&lines),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// The recorded times (nanoseconds since 1970) of a recording's records.
pub fn record_times(file: &Path) -> Vec<u128> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|l| l.split(' ').next())
        .filter_map(|t| {
            let (s, n) = t.split_once('.')?;
            Some(s.parse::<u128>().ok()? * 1_000_000_000 + n.parse::<u128>().ok()?)
        })
        .collect()
}

/// The observed time of an event, in nanoseconds.
pub fn observed(e: &Value) -> u128 {
    e["observed_unix_nano"]
        .as_u64()
        .map(u128::from)
        .or_else(|| {
            e["observed_unix_nano"]
                .as_str()
                .and_then(|s| s.parse().ok())
        })
        .unwrap_or_else(|| panic!("no observed time: {e}"))
}

/// A `tcpdump` capture running until stopped.
pub struct Tcpdump {
    proc: Proc,
    pub file: PathBuf,
}

/// Whether `tcpdump` runs here; reports a skip (or fails, when peers are required) when not.
pub fn have_tcpdump() -> bool {
    let ok = Command::new("tcpdump")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        monwire_tests::peers::unavailable("tcpdump", "not found on PATH (Debian package tcpdump)");
    }
    ok
}

impl Tcpdump {
    /// Starts capturing on `interface` with `filter` into `file`, and waits (bounded) until
    /// it listens. Packets are written as they come (`-U`).
    pub fn start(interface: &str, filter: &str, file: &Path) -> Tcpdump {
        let mut cmd = Command::new("tcpdump");
        cmd.args(["-i", interface, "-U", "-n", "-Z", "root", "-w"])
            .arg(file)
            .arg(filter);
        let mut proc = Proc::spawn(cmd);
        proc.stderr_line("listening on", Duration::from_secs(10));
        Tcpdump {
            proc,
            file: file.to_owned(),
        }
    }

    /// Stops it (SIGINT, so it writes out what it holds) and waits, bounded.
    pub fn stop(mut self) {
        self.proc.signal(2);
        let (by_itself, _) = self.proc.wait_or_kill(Duration::from_secs(5));
        assert!(by_itself, "tcpdump did not stop on SIGINT");
    }
}

/// Polls `check` every 50 ms until it holds, at most `within`.
pub fn eventually(within: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if check() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
