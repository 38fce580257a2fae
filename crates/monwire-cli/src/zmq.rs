//! `monwire watch zmq` and `monwire decode zmq`.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::{Args, ValueEnum};
use monwire_event::Event;
use monwire_zmq::codec::{ByteOrder, Codec};
use monwire_zmq::event::to_event_into;
use monwire_zmq::zmq::{AttachOptions, Monitor, TryRecv};
use monwire_zmq::{EventMask, V1MessageRef};

use crate::output::note;
use crate::parallel::{self, Direct, Emit};
use crate::pipeline::Pipeline;
use crate::record::Stamp;
use crate::{Failure, Run, Status, capture, diag};

/// ZeroMQ socket types `watch zmq` can open.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum SocketKind {
    /// DEALER
    Dealer,
    /// ROUTER
    Router,
    /// PUB
    Pub,
    /// SUB (subscribed to everything)
    Sub,
    /// REQ
    Req,
    /// REP
    Rep,
    /// PUSH
    Push,
    /// PULL
    Pull,
    /// PAIR
    Pair,
}

impl SocketKind {
    fn zmq(self) -> zmq::SocketType {
        match self {
            SocketKind::Dealer => zmq::DEALER,
            SocketKind::Router => zmq::ROUTER,
            SocketKind::Pub => zmq::PUB,
            SocketKind::Sub => zmq::SUB,
            SocketKind::Req => zmq::REQ,
            SocketKind::Rep => zmq::REP,
            SocketKind::Push => zmq::PUSH,
            SocketKind::Pull => zmq::PULL,
            SocketKind::Pair => zmq::PAIR,
        }
    }
}

/// `monwire watch zmq`: open a socket of a type, attach a monitor, bind or connect it, and
/// print its monitor events live. Messages the socket receives are read and discarded.
#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("endpoint").required(true).multiple(true))]
pub(crate) struct WatchArgs {
    /// Connect the socket to ENDPOINT (e.g. tcp://127.0.0.1:5555); may repeat.
    #[arg(long, value_name = "ENDPOINT", group = "endpoint")]
    connect: Vec<String>,
    /// Bind the socket to ENDPOINT (e.g. tcp://127.0.0.1:5555 or tcp://*:*); may repeat.
    #[arg(long, value_name = "ENDPOINT", group = "endpoint")]
    bind: Vec<String>,
    /// The socket type.
    #[arg(long = "type", value_enum, default_value = "dealer")]
    socket_type: SocketKind,
    /// Events to watch: `all`, a number (0xFFFF), or names joined by `,`
    /// (connected,disconnected).
    #[arg(long, default_value = "all", value_parser = parse_mask)]
    events: EventMask,
    /// Exit after this many events.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// Use an unbounded monitor pipe (never stalls the socket, memory grows while unread).
    #[arg(long)]
    unbounded: bool,
    /// Use a v2 monitor (local and remote endpoints, PIPES_STATS). It needs libzmq's DRAFT API
    /// (`zmq_socket_monitor_versioned`), which the libzmq built into monwire does not have:
    /// the run then ends with a line that says so.
    #[arg(long)]
    v2: bool,
}

fn parse_mask(text: &str) -> Result<EventMask, String> {
    let mask = EventMask::parse(text)
        .ok_or_else(|| format!("{text:?} is not `all`, a number, or event names"))?;
    if !mask.fits_v1() {
        return Err(format!(
            "0x{:x} has bits above 0xFFFF, which v1 monitors do not take",
            mask.bits()
        ));
    }
    Ok(mask)
}

/// The event of `msg` written over `event` (its source set once by the caller: the watch
/// reuses one event, so a message costs no allocation), observed at `at`: the time its record
/// was written when the watch records (so a replay prints the same times), else now.
fn observed<'e>(msg: &V1MessageRef<'_>, event: &'e mut Event, at: Option<&Stamp>) -> &'e Event {
    to_event_into(msg, event);
    event.observed = Some(at.map_or_else(SystemTime::now, Stamp::get));
    event
}

/// The event a zmq source refills for every message.
fn empty_event() -> Event {
    Event::new(monwire_event::Protocol::Zmq, monwire_event::Kind::Other, "")
}

/// The longest `watch zmq` waits between two looks at the shutdown token.
const TICK: Duration = Duration::from_millis(100);

/// Runs `watch zmq`, delivering events to `out`, until `--count` events, the end of the
/// monitor, or a signal (checked before every event and at least every 100 ms; zmq has no
/// goodbye to send: the monitor is stopped and drained, its last events printed, and the
/// socket closed with linger 0, so the context ends at once).
///
/// The read loop takes every monitor message that is ready through the lending read (no copy
/// until the event is built), discards whatever data the socket received, flushes the output,
/// and only then waits for the monitor or the socket, at most [`TICK`].
pub(crate) fn watch(args: &WatchArgs, out: &mut Pipeline) -> Run {
    let rt = |op: &str, e: &dyn std::fmt::Display| Failure::Runtime(format!("zmq: {op}: {e}"));
    if args.v2 {
        return Err(Failure::Runtime(v2_unavailable()));
    }
    let ctx = zmq::Context::new();
    let mut socket = ctx
        .socket(args.socket_type.zmq())
        .map_err(|e| rt("creating the socket", &e))?;
    // Nothing is sent on it; never let unsent data hold the context at exit.
    socket.set_linger(0).map_err(|e| rt("setting LINGER", &e))?;
    if matches!(args.socket_type, SocketKind::Sub) {
        socket
            .set_subscribe(b"")
            .map_err(|e| rt("subscribing", &e))?;
    }
    let options = AttachOptions::new().unbounded(args.unbounded);
    let mut monitor = Monitor::attach_with(&ctx, &socket, args.events, options)
        .map_err(|e| rt("attaching the monitor", &e))?;
    let kind = format!("{:?}", args.socket_type).to_lowercase();
    let mut source = kind.clone();
    for ep in &args.bind {
        socket
            .bind(ep)
            .map_err(|e| rt(&format!("binding {ep}"), &e))?;
        let last = socket
            .get_last_endpoint()
            .ok()
            .and_then(|r| r.ok())
            .unwrap_or_else(|| ep.clone());
        note(format!("{kind} socket bound to {last}"));
        source = format!("{kind} {last}");
    }
    for ep in &args.connect {
        socket
            .connect(ep)
            .map_err(|e| rt(&format!("connecting to {ep}"), &e))?;
        note(format!("{kind} socket connecting to {ep}"));
        source = format!("{kind} {ep}");
    }
    let mut stamp = None;
    if let Some(rec) = crate::record::Recorder::open(&crate::record::header::zmq(), out)? {
        let s = Stamp::default();
        monitor.set_tap(Some(rec.zmq_tap(source.clone(), s.clone())));
        stamp = Some(s);
    }
    let mut seen = 0u64;
    let mut data = zmq::Message::new();
    let mut event = empty_event().with_source(source);
    loop {
        // Everything the monitor has ready.
        loop {
            if out.shutdown().is_requested() {
                // Stop the monitor and print what it still had (its MONITOR_STOPPED too).
                if let Err(e) = monitor.stop(&mut socket) {
                    diag::note("zmq", format!("stopping the monitor: {e}"));
                }
                loop {
                    match monitor.recv_ref() {
                        Ok(Some(m)) => {
                            let _ = out.event(observed(&m, &mut event, None));
                        }
                        Ok(None) => break,
                        Err(e) => diag::note("zmq", e),
                    }
                }
                return Ok(Status::Ok);
            }
            if args.count.is_some_and(|n| seen >= n) {
                return end_quietly(&mut monitor, &mut socket);
            }
            match monitor.try_recv_ref() {
                Ok(TryRecv::Message(m)) => {
                    seen += 1;
                    if out
                        .event(observed(&m, &mut event, stamp.as_ref()))
                        .is_break()
                    {
                        return end_quietly(&mut monitor, &mut socket);
                    }
                }
                Ok(TryRecv::Empty) => break,
                Ok(TryRecv::Ended) => return Ok(Status::Ok),
                Err(e) => diag::note("zmq", e),
            }
        }
        // Read and discard data so peers are not held up by our queue.
        while socket.recv(&mut data, zmq::DONTWAIT).is_ok() {}
        // Nothing ready: flush, then wait for the monitor or the socket.
        out.idle();
        let Some(reader) = monitor.reader() else {
            return Ok(Status::Ok);
        };
        let mut items = [
            reader.as_poll_item(zmq::POLLIN),
            socket.as_poll_item(zmq::POLLIN),
        ];
        let ms = i64::try_from(TICK.as_millis()).unwrap_or(100);
        match zmq::poll(&mut items, ms) {
            Ok(_) | Err(zmq::Error::EINTR) => {}
            Err(e) => return Err(rt("waiting for events", &e)),
        }
    }
}

/// Why `--v2` cannot run in this build, in one line.
fn v2_unavailable() -> String {
    let (major, minor, patch) = zmq::version();
    let why = if zmq::has("draft").unwrap_or(false) {
        "has the DRAFT API, but the zmq crate binds no zmq_socket_monitor_versioned"
    } else {
        "was built without the DRAFT API (no zmq_socket_monitor_versioned)"
    };
    format!(
        "zmq: --v2: this monwire's libzmq {major}.{minor}.{patch} {why}; watch zmq without --v2 \
         uses the v1 monitor (v2 captures still decode: monwire decode zmq --monitor-version v2)"
    )
}

/// Ends a run that stops before the monitor's end (`--count`, stdout closed): the monitor is
/// stopped (its remaining events are not printed, nor recorded) and the socket closed.
fn end_quietly(monitor: &mut Monitor, socket: &mut zmq::Socket) -> Run {
    // A recording holds what the watch passed on: what the stop still reads is not part of it.
    monitor.set_tap(None);
    if let Err(e) = monitor.stop(socket) {
        diag::note("zmq", format!("stopping the monitor: {e}"));
    }
    Ok(Status::Ok)
}

/// The capture layout `decode zmq` reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Layout {
    /// `.hex` files: one frame per line, the whole file one message; others: `lines`.
    Auto,
    /// One message per line: frames as hex separated by spaces, `""` for an empty frame,
    /// `#` starts a comment line.
    Lines,
    /// One frame per line (an empty line is an empty frame); the whole input is one message.
    Frames,
}

/// The monitor format version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Version {
    /// v2 for four frames or more, v1 otherwise.
    Auto,
    /// Two frames (`zmq_socket_monitor`).
    V1,
    /// `n + 4` frames (`zmq_socket_monitor_versioned`, DRAFT).
    V2,
}

/// Byte orders for `--byte-order`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Order {
    /// This host's order.
    Native,
    /// Little-endian (x86_64, aarch64).
    Little,
    /// Big-endian.
    Big,
}

/// `monwire decode zmq`: decode a capture of monitor messages and print one event per
/// message.
///
/// Capture format (`--layout lines`, the default): one message per line, its frames as hex
/// separated by spaces, `""` for an empty frame; blank lines and lines starting with `#` are
/// skipped. A `.hex` golden-vector file (one frame per line, the file one message) is read with
/// `--layout frames`, chosen automatically by the extension. A bad message is reported on
/// stderr with its line number and the run goes on; the exit code is then 1.
#[derive(Args, Debug)]
pub(crate) struct DecodeArgs {
    /// The capture file (also a `--record` recording); `-` or nothing for stdin.
    pub(crate) file: Option<PathBuf>,
    /// The capture layout.
    #[arg(long, value_enum, default_value = "auto")]
    layout: Layout,
    /// The monitor format version (not the output format: that is `--format text|json`).
    #[arg(long, value_enum, default_value = "auto", value_name = "VERSION")]
    monitor_version: Version,
    /// The byte order of the integers in the capture.
    #[arg(long, value_enum, default_value = "native")]
    byte_order: Order,
}

fn unhex(token: &str) -> Result<Vec<u8>, String> {
    let mut frame = Vec::new();
    unhex_frame(token, &mut frame)?;
    Ok(frame)
}

/// One frame's hex (or `""` for an empty frame) into `frame`.
fn unhex_frame(token: &str, frame: &mut Vec<u8>) -> Result<(), String> {
    frame.clear();
    if token == "\"\"" {
        return Ok(());
    }
    capture::unhex_into(token, frame).map_err(|e| format!("frame {token:.40}: {e}"))
}

/// Decodes one message's frames and prints its event, refilled into `event` (no allocation
/// per message); `Err` is the message for stderr.
fn decode_one(
    codec: &Codec,
    version: Version,
    frames: &[Vec<u8>],
    event: &mut Event,
    out: &mut dyn Emit,
) -> Result<ControlFlow<()>, String> {
    match version {
        Version::Auto => to_event_into(
            &codec.decode(frames).map_err(|e| match frames.len() {
                2 => format!("v1: {e}"),
                n if n >= 4 => format!("v2: {e}"),
                _ => e.to_string(),
            })?,
            event,
        ),
        Version::V1 => to_event_into(
            &codec.decode_v1(frames).map_err(|e| format!("v1: {e}"))?,
            event,
        ),
        Version::V2 => to_event_into(
            &codec.decode_v2(frames).map_err(|e| format!("v2: {e}"))?,
            event,
        ),
    }
    Ok(out.event(event))
}

/// Runs `decode zmq`.
pub(crate) fn decode(args: &DecodeArgs, out: &mut Pipeline) -> Run {
    let codec = Codec::new().with_byte_order(match args.byte_order {
        Order::Native => ByteOrder::Native,
        Order::Little => ByteOrder::Little,
        Order::Big => ByteOrder::Big,
    });
    let what = capture::name(args.file.as_deref());
    let input = capture::open(args.file.as_deref())?;
    let layout = match args.layout {
        Layout::Auto
            if args
                .file
                .as_ref()
                .is_some_and(|p| p.extension().is_some_and(|x| x == "hex")) =>
        {
            Layout::Frames
        }
        Layout::Auto => Layout::Lines,
        other => other,
    };
    if layout == Layout::Frames {
        let text = capture::read_all(input, &what)?;
        let mut frames = Vec::new();
        let mut status = Status::Ok;
        // One frame per line, as `str::lines` splits them (no empty frame after the last `\n`).
        let body = text.strip_suffix(b"\n").unwrap_or(&text);
        for (i, line) in body.split(|&b| b == b'\n').enumerate() {
            if body.is_empty() {
                break;
            }
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let Ok(line) = std::str::from_utf8(line) else {
                diag::input(&what, i + 1, None, "not valid UTF-8");
                status = Status::BadInput;
                continue;
            };
            match unhex(line.trim()) {
                Ok(f) => frames.push(f),
                Err(e) => {
                    diag::input(&what, i + 1, None, e);
                    status = Status::BadInput;
                }
            }
        }
        if status == Status::BadInput {
            return Ok(status);
        }
        let mut event = empty_event();
        let mut direct = Direct { out, bad: false };
        if let Err(e) = decode_one(
            &codec,
            args.monitor_version,
            &frames,
            &mut event,
            &mut direct,
        ) {
            diag::note(&what, e);
            status = Status::BadInput;
        }
        return Ok(status);
    }
    let version = args.monitor_version;
    let name: std::sync::Arc<str> = what.as_str().into();
    // The frame buffers and the event are reused from line to line (each worker has its own).
    let mut frames: Vec<Vec<u8>> = Vec::new();
    let mut event = empty_event();
    let decode_line = move |n: usize, line: &str, out: &mut dyn Emit| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return ControlFlow::Continue(());
        }
        let mut n_frames = 0;
        let mut parsed = Ok(());
        for token in line.split_whitespace() {
            if frames.len() == n_frames {
                frames.push(Vec::new());
            }
            if let Err(e) = unhex_frame(token, &mut frames[n_frames]) {
                parsed = Err(e);
                break;
            }
            n_frames += 1;
        }
        match parsed
            .and_then(|()| decode_one(&codec, version, &frames[..n_frames], &mut event, out))
        {
            Ok(flow) => flow,
            Err(e) => {
                out.note(diag::input_line(&name, n, None, e));
                out.bad_input();
                ControlFlow::Continue(())
            }
        }
    };
    parallel::decode_lines(input, &what, out, decode_line)
}
