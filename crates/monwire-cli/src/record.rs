//! `watch … --record FILE` and `decode <protocol> RECORDING`.
//!
//! A live source hands what it reads off the wire to a [`Recorder`] (a tap inside the
//! protocol's driver, before decoding), which writes it in the `monwire-capture 1` format
//! (see `monwire_capture::record`). `decode` replays a recording through the same sans-IO
//! session the watcher ran, so it prints the same events in the same order, each observed at
//! its recorded time.
//!
//! The file is written by its own thread ([`monwire_cli::recording::RecordWriter`]): a tap
//! only packs what it read onto a queue; the thread encodes and writes it, when 32 KiB are
//! queued, when the source waits, every 200 ms while records arrive, and at the end of the
//! run. A write error stops the recording with one stderr line; the watch goes on.

use std::fs::File;
use std::io::BufRead;
use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use monwire_capture::record::{
    Direction, FramesRef, Header, PayloadRef, Reader, Record, RecordRef,
};
use monwire_cli::recording::RecordWriter;
use monwire_event::Event;

use crate::diag;
use crate::pipeline::{Pipeline, Sink};
use crate::{Failure, Run, Status};

/// Where `--record` asked the recording to go (set once by `main`).
static PATH: OnceLock<PathBuf> = OnceLock::new();

/// Remembers the `--record` path for the source that runs next.
pub(crate) fn set_path(path: PathBuf) {
    let _ = PATH.set(path);
}

struct Inner {
    writer: RecordWriter,
    /// Galaxy: the connection whose `open` was written last.
    open_peer: Mutex<Option<String>>,
}

/// A recording being written; clones share the file. The taps of the live sources hold one.
#[derive(Clone)]
pub(crate) struct Recorder {
    inner: Arc<Inner>,
}

/// The time of the last record a zmq tap wrote, in nanoseconds since 1970, for the watch to
/// stamp the event with: the replay then shows the very observed times the watch printed.
#[derive(Clone, Default)]
pub(crate) struct Stamp(Arc<AtomicU64>);

impl Stamp {
    fn set(&self, t: SystemTime) {
        let nanos = t
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX));
        self.0.store(nanos, Ordering::Relaxed);
    }

    /// The time of the last record written.
    pub(crate) fn get(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }
}

impl Recorder {
    /// Opens the `--record` file, if one was asked for, writes `header`, and adds the
    /// recording to `out`'s sinks (so that it is flushed when the source waits and finished
    /// when the run ends).
    pub(crate) fn open(header: &Header, out: &mut Pipeline) -> Result<Option<Recorder>, Failure> {
        let Some(path) = PATH.get() else {
            return Ok(None);
        };
        let what = path.display().to_string();
        let file = File::create(path).map_err(|e| Failure::Runtime(format!("{what}: {e}")))?;
        let name = what.clone();
        let writer = RecordWriter::new(file, header, move |e| {
            diag::note("record", format!("{name}: {e}"));
        })
        .map_err(|e| Failure::Runtime(format!("{what}: {e}")))?;
        let rec = Recorder {
            inner: Arc::new(Inner {
                writer,
                open_peer: Mutex::new(None),
            }),
        };
        out.add_sink(Box::new(RecordSink(rec.clone())));
        Ok(Some(rec))
    }

    fn write_at(
        &self,
        time: SystemTime,
        direction: Direction,
        peer: Option<&str>,
        payload: PayloadRef<'_>,
    ) {
        self.inner.writer.write(&RecordRef {
            time,
            direction,
            peer,
            payload,
        });
    }

    /// Writes one record stamped now.
    pub(crate) fn write(&self, direction: Direction, peer: Option<&str>, payload: PayloadRef<'_>) {
        self.write_at(SystemTime::now(), direction, peer, payload);
    }

    /// The tap of `watch zmq`: every monitor message's frames, `peer` the watched socket;
    /// `stamp` gets each record's time.
    pub(crate) fn zmq_tap(&self, peer: String, stamp: Stamp) -> monwire_zmq::zmq::Tap {
        let rec = self.clone();
        Box::new(move |frames: &[&[u8]]| {
            let now = SystemTime::now();
            stamp.set(now);
            rec.write_at(
                now,
                Direction::In,
                Some(&peer),
                PayloadRef::Frames(FramesRef::Slices(frames)),
            );
        })
    }

    /// The tap of `watch nsm`: every datagram from the server, with its sender.
    pub(crate) fn nsm_tap(&self) -> monwire_nsm::tokio::Tap {
        let rec = self.clone();
        Arc::new(move |from: SocketAddr, datagram: &[u8]| {
            rec.write(
                Direction::In,
                Some(&from.to_string()),
                PayloadRef::Datagram(datagram),
            );
        })
    }

    /// The tap of `watch galaxy`: every chunk read from the Hub. The first chunk of a
    /// connection is preceded by its `open` record; [`galaxy_closed`](Self::galaxy_closed)
    /// writes the `close`.
    pub(crate) fn galaxy_tap(&self) -> monwire_galaxy::tokio::Tap {
        let rec = self.clone();
        monwire_galaxy::tokio::Tap(Arc::new(move |from: SocketAddr, chunk: &[u8]| {
            let peer = from.to_string();
            let now = SystemTime::now();
            let mut open = rec
                .inner
                .open_peer
                .lock()
                .unwrap_or_else(|p| p.into_inner());
            if open.as_deref() != Some(peer.as_str()) {
                *open = Some(peer.clone());
                rec.write_at(now, Direction::In, Some(&peer), PayloadRef::Open);
            }
            rec.write_at(now, Direction::In, Some(&peer), PayloadRef::Bytes(chunk));
        }))
    }

    /// Writes the `close` of the Galaxy connection with `peer`.
    pub(crate) fn galaxy_closed(&self, peer: SocketAddr) {
        let peer = peer.to_string();
        let mut open = self
            .inner
            .open_peer
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if open.as_deref() == Some(peer.as_str()) {
            *open = None;
            self.write(Direction::In, Some(&peer), PayloadRef::Close);
        }
    }

    /// The tap of `watch sysadm`: connections opened and closed, and every message received.
    /// What the client sends is not recorded (it holds the password).
    pub(crate) fn sysadm_tap(&self, peer: String) -> monwire_sysadm::tokio::ClientTap {
        use monwire_sysadm::tokio::Tapped;
        let rec = self.clone();
        Arc::new(move |t: Tapped<'_>| {
            let payload = match t {
                Tapped::Open => PayloadRef::Open,
                Tapped::Text(s) => PayloadRef::Text(s),
                Tapped::Binary(b) => PayloadRef::Bytes(b),
                Tapped::Close => PayloadRef::Close,
                _ => return,
            };
            rec.write(Direction::In, Some(&peer), payload);
        })
    }
}

/// The recording as a pipeline sink: it takes no events (it records bytes, in the source's
/// tap), it only flushes with the others, and is finished (everything written) at the end.
struct RecordSink(Recorder);

impl Sink for RecordSink {
    fn event(&mut self, _: &Event) -> ControlFlow<()> {
        ControlFlow::Continue(())
    }

    fn flush(&mut self) {
        self.0.inner.writer.flush();
    }

    fn finish(&mut self) -> Result<(), Failure> {
        self.0.inner.writer.finish();
        Ok(())
    }

    fn name(&self) -> &str {
        "record"
    }
}

// ---------------------------------------------------------------------------------------------
// Reading recordings back

/// The header a watch writes, per protocol (in one place, so that the reader agrees).
pub(crate) mod header {
    use monwire_capture::record::Header;

    /// `watch zmq`: the monitor frames' byte order is this host's.
    pub(crate) fn zmq() -> Header {
        let order = if cfg!(target_endian = "big") {
            "big"
        } else {
            "little"
        };
        Header::new("zmq").with("byte_order", order)
    }

    /// `watch nsm`, as an external monitor or an NSM `:monitor:` client.
    pub(crate) fn nsm(as_client: bool) -> Header {
        Header::new("nsm").with("role", if as_client { "client" } else { "external" })
    }

    /// `watch galaxy`: the GUI server (`--listen`) or client (`--connect`) role.
    pub(crate) fn galaxy(client: bool) -> Header {
        Header::new("galaxy").with("role", if client { "client" } else { "server" })
    }

    /// `watch sysadm`: whether a password login was made, and the subscriptions (the session
    /// replays the same requests).
    pub(crate) fn sysadm(url: &str, password: bool, subscriptions: &[String]) -> Header {
        Header::new("sysadm")
            .with("url", url)
            .with("auth", if password { "password" } else { "none" })
            .with("subscribe", subscriptions.join(","))
    }
}

/// Replays a recording of `protocol` from `input` and prints its events.
pub(crate) fn decode(
    protocol: &str,
    what: &str,
    input: Box<dyn BufRead>,
    out: &mut Pipeline,
) -> Run {
    let mut reader = Reader::new(input)
        .map_err(|e| Failure::Runtime(format!("{what}:{}: {}", e.line, e.kind)))?;
    let recorded = reader.header().protocol.clone();
    if recorded != protocol {
        return Err(Failure::Usage(format!(
            "{what}: a recording of {recorded}, not {protocol} (use `monwire decode {recorded}`)"
        )));
    }
    let mut replay: Box<dyn Replay> = match protocol {
        "zmq" => Box::new(replay::Zmq::new(reader.header())),
        "nsm" => Box::new(replay::Nsm::new(reader.header())),
        "galaxy" => Box::new(replay::Galaxy::new(reader.header())),
        "sysadm" => Box::new(replay::Sysadm::new(reader.header())),
        other => {
            return Err(Failure::Usage(format!(
                "{what}: recordings of {other} cannot be read"
            )));
        }
    };
    let mut status = Status::Ok;
    let mut events = Vec::new();
    while let Some(rec) = reader.next_record() {
        match rec {
            Ok(rec) => {
                if let Err(e) = replay.record(&rec, &mut events) {
                    diag::input(what, line_no(reader.line()), None, e);
                    status = Status::BadInput;
                }
                for e in events.drain(..) {
                    if out.event(&e).is_break() {
                        return Ok(status);
                    }
                }
            }
            Err(e) => {
                diag::input(what, line_no(e.line), Some(e.column), e.kind);
                status = Status::BadInput;
            }
        }
    }
    Ok(status)
}

fn line_no(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

/// Peeks at the first bytes of a file.
pub(crate) fn first_bytes(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut f = File::open(path).ok()?;
    let mut buf = vec![0u8; 16];
    let mut n = 0;
    while n < buf.len() {
        match f.read(buf.get_mut(n..)?) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(_) => return None,
        }
    }
    buf.truncate(n);
    Some(buf)
}

/// One protocol's replay: records in, events out.
trait Replay {
    /// Handles one record; `Err` is the stderr message for it.
    fn record(&mut self, rec: &Record, out: &mut Vec<Event>) -> Result<(), String>;
}

mod replay {
    use std::time::{Duration, Instant, SystemTime};

    use monwire_capture::record::{Direction, Header, Payload, Record};
    use monwire_event::Event;
    use monwire_galaxy::codec::Codec as GalaxyCodec;
    use monwire_galaxy::event::gui_event_to_event;
    use monwire_galaxy::session::{GuiClient, GuiServer, sample_info_frame};
    use monwire_nsm::session::{ClientConfig, ExternalMonitor, MonitorClient, MonitorEvent};
    use monwire_sysadm::session::{Client, ClientConfig as SysadmConfig};
    use monwire_zmq::codec::{ByteOrder, Codec};
    use monwire_zmq::event::to_event;

    use super::Replay;

    /// Monotonic instants for the sessions, at the recorded distances from the first record.
    struct Clock {
        base: Option<(SystemTime, Instant)>,
    }

    impl Clock {
        fn new() -> Clock {
            Clock { base: None }
        }
        fn at(&mut self, t: SystemTime) -> Instant {
            let (t0, i0) = *self.base.get_or_insert((t, Instant::now()));
            i0 + t.duration_since(t0).unwrap_or(Duration::ZERO)
        }
    }

    pub(super) struct Zmq {
        codec: Codec,
    }

    impl Zmq {
        pub(super) fn new(h: &Header) -> Zmq {
            let order = match h.get("byte_order") {
                Some("big") => ByteOrder::Big,
                Some("little") => ByteOrder::Little,
                _ => ByteOrder::Native,
            };
            Zmq {
                codec: Codec::new().with_byte_order(order),
            }
        }
    }

    impl Replay for Zmq {
        fn record(&mut self, rec: &Record, out: &mut Vec<Event>) -> Result<(), String> {
            let Payload::Frames(frames) = &rec.payload else {
                return Err(format!(
                    "a {} record in a zmq recording",
                    rec.payload.kind()
                ));
            };
            let m = self.codec.decode(frames).map_err(|e| e.to_string())?;
            let mut e = to_event(&m);
            e.source = rec.peer.clone();
            out.push(e.with_observed(rec.time));
            Ok(())
        }
    }

    enum NsmRole {
        External(ExternalMonitor),
        Client(MonitorClient),
    }

    pub(super) struct Nsm {
        role: NsmRole,
        clock: Clock,
        started: bool,
        limits: monwire_nsm::codec::Limits,
    }

    impl Nsm {
        pub(super) fn new(h: &Header) -> Nsm {
            let role = if h.get("role") == Some("client") {
                NsmRole::Client(MonitorClient::new(ClientConfig::new(
                    "monwire", "monwire", 0,
                )))
            } else {
                NsmRole::External(ExternalMonitor::new(Duration::from_secs(3600)))
            };
            Nsm {
                role,
                clock: Clock::new(),
                started: false,
                limits: Default::default(),
            }
        }
    }

    impl Replay for Nsm {
        fn record(&mut self, rec: &Record, out: &mut Vec<Event>) -> Result<(), String> {
            let Payload::Datagram(d) = &rec.payload else {
                return Err(format!(
                    "a {} record in an nsm recording",
                    rec.payload.kind()
                ));
            };
            if rec.direction != Direction::In {
                return Ok(());
            }
            let now = self.clock.at(rec.time);
            if !self.started {
                self.started = true;
                match &mut self.role {
                    NsmRole::External(m) => m.start(now),
                    NsmRole::Client(m) => m.start(now),
                }
            }
            let messages = monwire_nsm::codec::decode_datagram(d, &self.limits)
                .map_err(|e| format!("skipped a malformed datagram: {e}"))?;
            let source = format!("osc.udp://{}/", rec.peer.as_deref().unwrap_or("-"));
            for m in messages {
                match &mut self.role {
                    NsmRole::External(s) => s.handle_message(m, now),
                    NsmRole::Client(s) => s.handle_message(m, now),
                }
            }
            loop {
                let ev = match &mut self.role {
                    NsmRole::External(s) => {
                        while s.poll_transmit().is_some() {}
                        s.poll_event()
                    }
                    NsmRole::Client(s) => {
                        while s.poll_transmit().is_some() {}
                        s.poll_event()
                    }
                };
                let Some(ev) = ev else { break };
                if let MonitorEvent::Monitor(m) = ev {
                    out.push(
                        monwire_nsm::event::to_event(&m)
                            .with_source(source.clone())
                            .with_observed(rec.time),
                    );
                }
            }
            Ok(())
        }
    }

    enum GuiRole {
        Server(GuiServer),
        Client(GuiClient),
    }

    pub(super) struct Galaxy {
        client: bool,
        session: Option<(GuiRole, String)>,
    }

    impl Galaxy {
        pub(super) fn new(h: &Header) -> Galaxy {
            Galaxy {
                client: h.get("role") == Some("client"),
                session: None,
            }
        }

        fn open(&mut self, peer: String) -> Result<(), String> {
            let codec = GalaxyCodec::default();
            let role = if self.client {
                GuiRole::Client(
                    GuiClient::new(codec, sample_info_frame()).map_err(|e| e.to_string())?,
                )
            } else {
                GuiRole::Server(GuiServer::new(codec, sample_info_frame()))
            };
            self.session = Some((role, peer));
            Ok(())
        }
    }

    impl Replay for Galaxy {
        fn record(&mut self, rec: &Record, out: &mut Vec<Event>) -> Result<(), String> {
            match &rec.payload {
                Payload::Open => self.open(rec.peer.clone().unwrap_or_default()),
                Payload::Close => {
                    self.session = None;
                    Ok(())
                }
                Payload::Bytes(b) if rec.direction == Direction::In => {
                    if self.session.is_none() {
                        // A recording cut before its `open`: start here.
                        self.open(rec.peer.clone().unwrap_or_default())?;
                    }
                    let Some((role, peer)) = self.session.as_mut() else {
                        return Ok(());
                    };
                    let r = match role {
                        GuiRole::Server(s) => s.handle_input(b),
                        GuiRole::Client(s) => s.handle_input(b),
                    };
                    loop {
                        let ev = match role {
                            GuiRole::Server(s) => {
                                while s.poll_transmit().is_some() {}
                                s.poll_event()
                            }
                            GuiRole::Client(s) => {
                                while s.poll_transmit().is_some() {}
                                s.poll_event()
                            }
                        };
                        let Some(ev) = ev else { break };
                        out.push(
                            gui_event_to_event(&ev)
                                .with_source(peer.clone())
                                .with_observed(rec.time),
                        );
                    }
                    if let Err(e) = r {
                        self.session = None;
                        return Err(format!("the connection's session failed: {e}"));
                    }
                    Ok(())
                }
                Payload::Bytes(_) => Ok(()),
                other => Err(format!("a {} record in a galaxy recording", other.kind())),
            }
        }
    }

    pub(super) struct Sysadm {
        client: Client,
        clock: Clock,
        source: String,
    }

    impl Sysadm {
        pub(super) fn new(h: &Header) -> Sysadm {
            let subscriptions = h
                .get("subscribe")
                .unwrap_or_default()
                .split(',')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            let config = SysadmConfig {
                // The password is never recorded; the replayed session needs only to know
                // that one was sent.
                credentials: (h.get("auth") == Some("password"))
                    .then(|| ("recorded".to_owned(), String::new())),
                subscriptions,
                ..Default::default()
            };
            let url = h.get("url").unwrap_or_default().to_owned();
            Sysadm {
                client: Client::new(config, url.clone()),
                clock: Clock::new(),
                source: url,
            }
        }
    }

    impl Replay for Sysadm {
        fn record(&mut self, rec: &Record, out: &mut Vec<Event>) -> Result<(), String> {
            let now = self.clock.at(rec.time);
            match &rec.payload {
                Payload::Open => self.client.handle_connected(now),
                Payload::Close => self.client.handle_disconnected(now),
                Payload::Text(t) if rec.direction == Direction::In => {
                    self.client.handle_text(now, t.as_bytes());
                }
                Payload::Bytes(b) if rec.direction == Direction::In => {
                    self.client.handle_text(now, b);
                }
                Payload::Text(_) | Payload::Bytes(_) => {}
                other => return Err(format!("a {} record in a sysadm recording", other.kind())),
            }
            while self.client.poll_transmit().is_some() {}
            while let Some(ev) = self.client.poll_event() {
                out.push(crate::sysadm::client_event(ev, &self.source).with_observed(rec.time));
            }
            Ok(())
        }
    }
}
