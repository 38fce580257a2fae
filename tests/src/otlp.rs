//! OTLP test helpers: a real collector (rotel) as a child process whose debug log is parsed
//! back into records, the rendering rotel uses for attribute values, and the golden events of
//! all four protocols.

use std::io::{BufRead, BufReader, Read};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use monwire_otlp::opentelemetry_proto::tonic::common::v1::{AnyValue, any_value::Value as V};

use crate::peers;

/// Where the `rotel-agent` binary is: `$MONWIRE_ROTEL` (set by `.ci/run`), else `rotel-agent`
/// on `PATH`, else beside `$MONWIRE_PYTHON`'s site-packages (the wheel puts it in
/// `site-packages/rotel/rotel-agent`). `None` when none runs.
pub fn rotel_binary() -> Option<PathBuf> {
    let runs = |p: &PathBuf| {
        Command::new(p)
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if let Some(p) = std::env::var_os("MONWIRE_ROTEL").map(PathBuf::from) {
        return runs(&p).then_some(p);
    }
    let on_path = PathBuf::from("rotel-agent");
    if runs(&on_path) {
        return Some(on_path);
    }
    let out = Command::new(peers::python())
        .args([
            "-c",
            "import rotel, os; print(os.path.join(os.path.dirname(rotel.__file__), 'rotel-agent'))",
        ])
        .output()
        .ok()?;
    let p = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    runs(&p).then_some(p)
}

/// The rotel binary, or `None` after reporting it through [`peers::unavailable`] (the caller
/// returns: a skip, or a failure when peers are required).
pub fn rotel_or_skip() -> Option<PathBuf> {
    let b = rotel_binary();
    if b.is_none() {
        peers::unavailable(
            "rotel (PyPI package rotel, binary rotel-agent)",
            "set MONWIRE_ROTEL, put rotel-agent on PATH, or pip install rotel into $MONWIRE_PYTHON's venv",
        );
    }
    b
}

/// A running rotel collector that accepts OTLP on loopback (HTTP and gRPC), exports to a black
/// hole, and prints every record it accepted, which [`Rotel::records`] parses.
pub struct Rotel {
    binary: PathBuf,
    child: Option<Child>,
    http: SocketAddr,
    grpc: SocketAddr,
    output: Arc<Mutex<String>>,
    pid_file: PathBuf,
    debug_log: bool,
}

static INSTANCE: AtomicUsize = AtomicUsize::new(0);

/// Two loopback ports the kernel just handed out. Rotel cannot bind port 0, so these are
/// released before rotel binds them; a race with another binder is caught by [`Rotel::start`],
/// which then tries new ports (a bounded number of times).
fn two_ports() -> (SocketAddr, SocketAddr) {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    (a.local_addr().unwrap(), b.local_addr().unwrap())
}

impl Rotel {
    /// Start rotel with its detailed debug log, on fresh ports. Panics if it does not come up
    /// after 5 attempts of 15 s each.
    pub fn start(binary: PathBuf) -> Rotel {
        Rotel::start_with(binary, true)
    }

    /// [`Rotel::start`]; `debug_log` off makes rotel print nothing per record (the benchmarks).
    pub fn start_with(binary: PathBuf, debug_log: bool) -> Rotel {
        let n = INSTANCE.fetch_add(1, Ordering::Relaxed);
        let pid_file =
            std::env::temp_dir().join(format!("monwire-rotel-{}-{n}.pid", std::process::id()));
        let mut last = String::new();
        for _ in 0..5 {
            let (http, grpc) = two_ports();
            let mut r = Rotel {
                binary: binary.clone(),
                child: None,
                http,
                grpc,
                output: Arc::new(Mutex::new(String::new())),
                pid_file: pid_file.clone(),
                debug_log,
            };
            match r.spawn() {
                Ok(()) => return r,
                Err(e) => last = e,
            }
        }
        panic!("rotel did not start in 5 attempts: {last}");
    }

    /// A collector on fresh ports that is not started yet: point an exporter at it first, then
    /// [`Rotel::restart`] it (the exporter-before-collector case).
    pub fn unstarted(binary: PathBuf) -> Rotel {
        let n = INSTANCE.fetch_add(1, Ordering::Relaxed);
        let (http, grpc) = two_ports();
        Rotel {
            binary,
            child: None,
            http,
            grpc,
            output: Arc::new(Mutex::new(String::new())),
            pid_file: std::env::temp_dir()
                .join(format!("monwire-rotel-{}-{n}.pid", std::process::id())),
            debug_log: true,
        }
    }

    /// Kill the collector (SIGKILL: a crash, not a goodbye), keeping its ports and output.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Start it (again) on its ports (after [`Rotel::kill`] or [`Rotel::unstarted`]). Retries for up to 15 s while
    /// the ports are not free yet.
    pub fn restart(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            match self.spawn() {
                Ok(()) => return,
                Err(e) if Instant::now() > deadline => panic!("rotel did not restart: {e}"),
                Err(_) => std::thread::sleep(Duration::from_millis(100)),
            }
        }
    }

    fn spawn(&mut self) -> Result<(), String> {
        let mut cmd = Command::new(&self.binary);
        cmd.arg("start")
            .arg("--otlp-http-endpoint")
            .arg(self.http.to_string())
            .arg("--otlp-grpc-endpoint")
            .arg(self.grpc.to_string())
            .args(["--exporter", "blackhole"])
            .arg("--pid-file")
            .arg(&self.pid_file)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if self.debug_log {
            cmd.args(["--debug-log", "logs", "--debug-log-verbosity", "detailed"]);
        }
        let mut child = cmd.spawn().map_err(|e| format!("spawn: {e}"))?;
        for pipe in [
            child
                .stdout
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
            child
                .stderr
                .take()
                .map(|p| Box::new(p) as Box<dyn Read + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let out = self.output.clone();
            std::thread::spawn(move || {
                let mut r = BufReader::new(pipe);
                let mut line = String::new();
                while r.read_line(&mut line).is_ok_and(|n| n > 0) {
                    out.lock().unwrap().push_str(&strip_ansi(&line));
                    line.clear();
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("rotel exited ({status}): {}", self.output()));
            }
            let up =
                |a: &SocketAddr| TcpStream::connect_timeout(a, Duration::from_millis(200)).is_ok();
            if up(&self.http) && up(&self.grpc) {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err("not listening after 15 s".to_owned());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `http://127.0.0.1:P`, the OTLP/HTTP base URL.
    pub fn http_url(&self) -> String {
        format!("http://{}", self.http)
    }

    /// `http://127.0.0.1:Q`, the OTLP/gRPC URL.
    pub fn grpc_url(&self) -> String {
        format!("http://{}", self.grpc)
    }

    /// Everything rotel printed so far (colours stripped).
    pub fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// The records rotel printed so far, in order.
    pub fn records(&self) -> Vec<Record> {
        parse_records(&self.output())
    }

    /// Wait (at most `within`) until rotel printed at least `n` records; returns them.
    pub fn wait_records(&self, n: usize, within: Duration) -> Vec<Record> {
        let deadline = Instant::now() + within;
        loop {
            let r = self.records();
            if r.len() >= n || Instant::now() > deadline {
                return r;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Rotel {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_file(&self.pid_file);
    }
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ … final byte in @..~
            if chars.next() == Some('[') {
                for d in chars.by_ref() {
                    if ('@'..='~').contains(&d) {
                        break;
                    }
                }
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// One log record as rotel's detailed debug log shows it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Record {
    /// The resource attribute lines (`service.name: Str(monwire)`).
    pub resource: Vec<String>,
    /// `InstrumentationScope <name> <version>`: name and version.
    pub scope: String,
    /// `Timestamp:`
    pub time: u64,
    /// `ObservedTimestamp:`
    pub observed: u64,
    /// `SeverityText:`
    pub severity_text: String,
    /// The number in `SeverityNumber: SEVERITY_NUMBER_INFO(9)`.
    pub severity_number: i32,
    /// `EventName:`
    pub event_name: String,
    /// The whole text of the record, from `LogRecord #` to before the next one.
    pub text: String,
}

/// Parse rotel's detailed debug log.
pub fn parse_records(out: &str) -> Vec<Record> {
    let mut records = Vec::new();
    let mut resource: Vec<String> = Vec::new();
    let mut in_resource = false;
    let mut scope = String::new();
    let mut cur: Option<Record> = None;
    for line in out.split_inclusive('\n') {
        let t = line.trim_end_matches('\n');
        if t.starts_with("ResourceLog #") {
            records.extend(cur.take());
            resource.clear();
            in_resource = true;
            continue;
        }
        if t.starts_with("ScopeLogs #") {
            records.extend(cur.take());
            in_resource = false;
            continue;
        }
        if let Some(s) = t.strip_prefix("InstrumentationScope ") {
            scope = s.trim().to_owned();
            continue;
        }
        if in_resource {
            if let Some(a) = t.trim_start().strip_prefix("-> ") {
                resource.push(a.to_owned());
            }
            continue;
        }
        if t.starts_with("LogRecord #") {
            records.extend(cur.take());
            cur = Some(Record {
                resource: resource.clone(),
                scope: scope.clone(),
                ..Record::default()
            });
            continue;
        }
        let Some(r) = cur.as_mut() else { continue };
        r.text.push_str(line);
        if let Some(v) = t.strip_prefix("Timestamp: ") {
            r.time = v.trim().parse().unwrap_or(0);
        } else if let Some(v) = t.strip_prefix("ObservedTimestamp: ") {
            r.observed = v.trim().parse().unwrap_or(0);
        } else if let Some(v) = t.strip_prefix("SeverityText: ") {
            r.severity_text = v.to_owned();
        } else if let Some(v) = t.strip_prefix("SeverityNumber: ") {
            r.severity_number = v
                .rsplit_once('(')
                .and_then(|(_, n)| n.trim_end_matches(')').parse().ok())
                .unwrap_or(-1);
        } else if let Some(v) = t.strip_prefix("EventName: ") {
            r.event_name = v.to_owned();
        }
    }
    records.extend(cur);
    records
}

/// How rotel's debug log renders an `AnyValue` (`Str(x)`, `Int(7)`, `Double(1.5)`,
/// `Bool(true)`, `Bytes([0, 1])`, `Slice(a, b)`, `Map(k:v, k:v)`), so a test can look for the
/// exact typed value it sent.
pub fn render(v: &AnyValue) -> String {
    match &v.value {
        Some(V::StringValue(s)) => format!("Str({s})"),
        Some(V::IntValue(i)) => format!("Int({i})"),
        Some(V::DoubleValue(f)) => format!("Double({f})"),
        Some(V::BoolValue(b)) => format!("Bool({b})"),
        Some(V::BytesValue(b)) => format!("Bytes({b:?})"),
        Some(V::ArrayValue(a)) => format!(
            "Slice({})",
            a.values.iter().map(render).collect::<Vec<_>>().join(", ")
        ),
        Some(V::KvlistValue(m)) => format!(
            "Map({})",
            m.values
                .iter()
                .map(|kv| format!(
                    "{}:{}",
                    kv.key,
                    kv.value.as_ref().map(render).unwrap_or_default()
                ))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => String::new(),
    }
}

/// Check one record rotel printed against the event it came from, field by field, as the
/// mapping table says: scope, event name, severity text and number, wire and observed times,
/// body, and every attribute with its type (an event without `observed` must have been stamped). Panics with both sides on a difference.
pub fn check_record(record: &Record, event: &monwire_event::Event, what: &str) {
    use monwire_otlp::map;
    let expected = map::to_log_record(event.clone());
    let ctx = || {
        format!(
            "{what}: {}\n--- rotel printed:\n{}",
            event.name, record.text
        )
    };
    assert_eq!(
        record.scope,
        format!(
            "{} {}",
            map::scope_name(&event.protocol),
            map::MONWIRE_VERSION
        ),
        "{}",
        ctx()
    );
    assert_eq!(record.event_name, expected.event_name, "{}", ctx());
    assert_eq!(record.severity_text, event.severity.as_str(), "{}", ctx());
    assert_eq!(
        record.severity_number,
        i32::from(event.severity.number()),
        "{}",
        ctx()
    );
    assert_eq!(record.time, map::unix_nanos(event.time), "{}", ctx());
    // An event without an observed time (a decoded capture) is stamped by the exporter.
    if event.observed.is_some() {
        assert_eq!(
            record.observed,
            map::unix_nanos(event.observed),
            "{}",
            ctx()
        );
    }
    assert!(record.observed > 0, "{}", ctx());
    let body = format!("Body: {}\n", render(expected.body.as_ref().unwrap()));
    assert!(
        record.text.contains(&body),
        "body {body:?} missing: {}",
        ctx()
    );
    for kv in &expected.attributes {
        let line = format!("-> {}: {}\n", kv.key, render(kv.value.as_ref().unwrap()));
        assert!(
            record.text.contains(&line),
            "attribute line {line:?} missing: {}",
            ctx()
        );
    }
}

/// The golden events of all four protocols, decoded from `tests/vectors/`: every ZeroMQ v1 and
/// v2 vector, every NSM/Ray datagram, every Galaxy frame of the four captures, and every SysAdm
/// message (plain and routed). Panics if a vector does not decode (the vector tests say why).
#[cfg(all(
    feature = "zmq",
    feature = "nsm",
    feature = "galaxy",
    feature = "sysadm"
))]
pub fn golden_events() -> Vec<monwire_event::Event> {
    let mut out = Vec::new();
    let zmq = crate::zmq::codec();
    for (name, frames) in crate::zmq::vectors("v1-") {
        let m = zmq
            .decode_v1(&frames)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push(monwire_zmq::event::to_event(&m));
    }
    for (name, frames) in crate::zmq::vectors("v2-") {
        let m = zmq
            .decode_v2(&frames)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push(monwire_zmq::event::to_event(&m));
    }
    for (name, bytes) in crate::vectors::files("nsm", ".hex") {
        let data = crate::vectors::unhex(std::str::from_utf8(&bytes).unwrap());
        let m = monwire_nsm::codec::decode(&data).unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push(monwire_nsm::event::to_event(&m));
    }
    for cap in ["cap.hub2gui", "cap.gui2hub", "cap4.hub2gui", "cap4.gui2hub"] {
        for (_, _, m) in crate::galaxy::messages(&crate::vectors::read("galaxy", cap)) {
            if let Some(f) = m.as_frame() {
                out.push(monwire_galaxy::event::to_event(f));
            }
        }
    }
    let limits = monwire_sysadm::codec::Limits::default();
    for (name, bytes) in crate::vectors::files("sysadm", ".json") {
        let m = monwire_sysadm::codec::decode(&bytes, &limits)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push(monwire_sysadm::event::to_event(&m));
    }
    for (name, bytes) in crate::vectors::files("sysadm", ".txt") {
        let Ok(routed) = monwire_sysadm::codec::decode_routed(&bytes, &limits) else {
            continue;
        };
        let m = routed
            .message(&limits)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        out.push(monwire_sysadm::event::to_event(&m));
    }
    out
}
