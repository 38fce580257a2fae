//! Live monitors on a real libzmq (the `zmq` crate's vendored 4.3.4) over 127.0.0.1: each v1
//! event is provoked for real and checked by code, order and endpoint (never by fd numbers or
//! timing); `stop`, socket close, mask filtering and the v1-only mask are checked; and the
//! teardown paths (closing the monitored socket, dropping an unstopped `Monitor` or
//! `MonitorStream`, the unbounded reader) are shown not to stall the context.
//!
//! No check depends on how fast the machine is. Every wait is for a condition, bounded by a
//! generous deadline ([`WAIT`]) that only a broken implementation reaches. A "nothing stalled"
//! check is made only after something proves that the events which would stall were sent: a
//! count of TCP connections that each needed the I/O thread to have sent the previous
//! connection's events first, a `bind()` that returns only once its `LISTENING` was taken, or a
//! pipe that goes away only after its `DISCONNECTED` was sent.
#![cfg(feature = "zmq")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::net::TcpStream;
use std::ops::Deref;
use std::time::Duration;

use monwire_zmq::tokio::{MonitorStream, stop_monitor};
use monwire_zmq::zmq::{AttachOptions, Monitor, MonitorError, TryRecv};
use monwire_zmq::{EndReason, EventCode, EventMask, MonitorEvent, ProtocolError, V1Message};

/// How long any single wait may take before the test fails: generous, so a loaded machine
/// never reaches it; only a stall does.
const WAIT: Duration = Duration::from_secs(30);

/// Monitor messages the default (bounded) monitor pipe holds before the sender blocks: the
/// monitor socket's SNDHWM plus the reader's RCVHWM.
const PIPE: usize = 2000;

/// Serializes the tests that leave a drain thread behind, so each can wait for its own to end.
static DRAIN_TESTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A context that is not terminated when the test panics: a stalled I/O thread would make
/// `zmq_ctx_term` hang, turning a failure into a hang.
struct Ctx(Option<zmq::Context>);

impl Ctx {
    fn new() -> Ctx {
        Ctx(Some(zmq::Context::new()))
    }
}

impl Deref for Ctx {
    type Target = zmq::Context;
    fn deref(&self) -> &zmq::Context {
        self.0.as_ref().expect("context present until drop")
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        if std::thread::panicking() {
            std::mem::forget(self.0.take());
        }
    }
}

fn socket(ctx: &zmq::Context, kind: zmq::SocketType) -> zmq::Socket {
    let s = ctx.socket(kind).expect("socket");
    s.set_linger(0).expect("linger");
    s.set_rcvtimeo(i32::try_from(WAIT.as_millis()).expect("ms"))
        .expect("rcvtimeo");
    s.set_sndtimeo(i32::try_from(WAIT.as_millis()).expect("ms"))
        .expect("sndtimeo");
    s
}

/// Binds `s` to an ephemeral loopback port and returns the bound endpoint.
fn bind_any(s: &zmq::Socket) -> String {
    s.bind("tcp://127.0.0.1:*").expect("bind");
    s.get_last_endpoint()
        .expect("last_endpoint")
        .expect("utf-8 endpoint")
}

/// The next message, failing the test if none comes within [`WAIT`] or the stream ended.
fn next(m: &mut Monitor) -> V1Message {
    match m.recv_timeout(WAIT).expect("monitor recv") {
        TryRecv::Message(msg) => msg,
        TryRecv::Empty => panic!("no monitor message within {WAIT:?}"),
        TryRecv::Ended => panic!("monitor stream ended early"),
    }
}

/// Reads messages until one with `code` arrives; returns everything read, that one last.
fn until(m: &mut Monitor, code: EventCode) -> Vec<V1Message> {
    let mut seen = Vec::new();
    loop {
        let msg = next(m);
        let done = msg.event.code() == code;
        seen.push(msg);
        if done {
            return seen;
        }
        assert!(seen.len() < 1000, "{code:?} never came: {seen:?}");
    }
}

/// Reads to the end of the stream (bounded) and returns what was read.
fn to_end(m: &mut Monitor) -> Vec<V1Message> {
    let mut seen = Vec::new();
    loop {
        match m.recv_timeout(WAIT).expect("monitor recv") {
            TryRecv::Message(msg) => seen.push(msg),
            TryRecv::Ended => return seen,
            TryRecv::Empty => panic!("stream did not end within {WAIT:?}; read {seen:?}"),
        }
    }
}

fn codes(msgs: &[V1Message]) -> Vec<EventCode> {
    msgs.iter().map(|m| m.event.code()).collect()
}

/// Whether two fresh sockets of `ctx` exchange a message over loopback TCP within [`WAIT`].
/// Their connect, handshake and delivery all need the context's I/O thread, so a stalled
/// monitor send shows up here as `false`.
fn other_sockets_talk(ctx: &zmq::Context) -> bool {
    let a = socket(ctx, zmq::PAIR);
    let b = socket(ctx, zmq::PAIR);
    let ep = bind_any(&a);
    b.connect(&ep).expect("connect");
    b.send("ping", zmq::DONTWAIT).ok();
    let ms = i64::try_from(WAIT.as_millis()).expect("ms");
    matches!(a.poll(zmq::POLLIN, ms), Ok(n) if n > 0)
        && a.recv_bytes(zmq::DONTWAIT).is_ok_and(|m| m == b"ping")
}

/// Waits until `cond` holds, polling every few milliseconds; fails the test at [`WAIT`].
fn wait_for(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + WAIT;
    while !cond() {
        assert!(
            std::time::Instant::now() < deadline,
            "{what}: not within {WAIT:?}"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// A loopback TCP listener that accepts and closes connections, as a peer a socket keeps
/// reconnecting to.
struct Storm {
    listener: std::net::TcpListener,
    accepted: usize,
}

impl Storm {
    fn new() -> Storm {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
        listener.set_nonblocking(true).expect("nonblocking");
        Storm {
            listener,
            accepted: 0,
        }
    }

    fn endpoint(&self) -> String {
        format!("tcp://{}", self.listener.local_addr().expect("addr"))
    }

    /// A DEALER of `ctx` that reconnects every millisecond to this listener, with `attach`
    /// called before it connects.
    fn client<T>(
        &self,
        ctx: &zmq::Context,
        attach: impl FnOnce(&zmq::Socket) -> T,
    ) -> (zmq::Socket, T) {
        let s = socket(ctx, zmq::DEALER);
        s.set_reconnect_ivl(1).expect("reconnect_ivl");
        let attached = attach(&s);
        s.connect(&self.endpoint()).expect("connect");
        (s, attached)
    }

    /// Accepts (and closes) connections until `n` have come, failing the test at [`WAIT`].
    ///
    /// Each connection is made by the I/O thread only after it sent the monitor events of the
    /// previous one (connected, disconnected, connect retried: at least 3), so `n` connections
    /// prove at least `3 * (n - 1)` events were taken off the monitor pipe or queued without
    /// blocking.
    fn accept(&mut self, n: usize) {
        let deadline = std::time::Instant::now() + WAIT;
        while self.accepted < n {
            match self.listener.accept() {
                Ok((conn, _)) => {
                    drop(conn);
                    self.accepted += 1;
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    assert!(
                        std::time::Instant::now() < deadline,
                        "only {} of {n} reconnects within {WAIT:?}: the I/O thread stalled",
                        self.accepted
                    );
                    std::thread::sleep(Duration::from_millis(1));
                }
                Err(e) => panic!("accept: {e}"),
            }
        }
    }
}

/// Connections a storm must reach to prove more events went by than the bounded pipe holds.
const STORM: usize = PIPE / 3 + 300;

/// The drain threads of dropped monitors alive in this process (their names, as the kernel
/// keeps them: cut to 15 bytes).
#[cfg(target_os = "linux")]
fn drain_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task")
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("monwire-zmq-dra"))
        .count()
}

#[test]
fn connect_accept_handshake_disconnect_in_order_with_endpoints() {
    let ctx = Ctx::new();
    let mut server = socket(&ctx, zmq::DEALER);
    let mut server_mon = Monitor::attach(&ctx, &server, EventMask::ALL_V1).expect("attach");
    let ep = bind_any(&server);

    let first = next(&mut server_mon);
    assert!(
        matches!(first.event, MonitorEvent::Listening { .. }),
        "{first:?}"
    );
    assert_eq!(first.endpoint, ep.as_bytes());

    let client = socket(&ctx, zmq::DEALER);
    let mut client_mon = Monitor::attach(&ctx, &client, EventMask::ALL_V1).expect("attach");
    client.connect(&ep).expect("connect");
    client.send("hello", 0).expect("send");
    assert_eq!(server.recv_bytes(0).expect("server recv"), b"hello");

    // Connect side: CONNECT_DELAYED (EINPROGRESS), CONNECTED, HANDSHAKE_SUCCEEDED, each with
    // the address connected to.
    let c: Vec<V1Message> = (0..3).map(|_| next(&mut client_mon)).collect();
    assert_eq!(
        codes(&c),
        [
            EventCode::CONNECT_DELAYED,
            EventCode::CONNECTED,
            EventCode::HANDSHAKE_SUCCEEDED
        ]
    );
    assert!(c.iter().all(|m| m.endpoint == ep.as_bytes()), "{c:?}");
    #[cfg(target_os = "linux")]
    assert!(
        matches!(c[0].event, MonitorEvent::ConnectDelayed { errno } if errno.0 == 115),
        "{c:?}"
    );
    assert_eq!(c[2].event, MonitorEvent::HandshakeSucceeded);

    // Bind side: ACCEPTED, HANDSHAKE_SUCCEEDED, with the bound address.
    let s: Vec<V1Message> = (0..2).map(|_| next(&mut server_mon)).collect();
    assert_eq!(
        codes(&s),
        [EventCode::ACCEPTED, EventCode::HANDSHAKE_SUCCEEDED]
    );
    assert!(s.iter().all(|m| m.endpoint == ep.as_bytes()), "{s:?}");

    // The client goes away: the server reports DISCONNECTED on the bound address.
    drop(client);
    let d = next(&mut server_mon);
    assert!(
        matches!(d.event, MonitorEvent::Disconnected { .. }),
        "{d:?}"
    );
    assert_eq!(d.endpoint, ep.as_bytes());

    // Closing the client socket ends its monitor: it produced nothing more of its own.
    let rest = to_end(&mut client_mon);
    assert_eq!(codes(&rest), [EventCode::MONITOR_STOPPED], "{rest:?}");
    assert_eq!(rest[0].endpoint, b"");
    assert_eq!(client_mon.end_reason(), Some(EndReason::MonitorStopped));

    // stop: MONITOR_STOPPED, then the end; a second stop is a no-op.
    server_mon.stop(&mut server).expect("stop");
    assert!(server_mon.is_ended());
    let rest = to_end(&mut server_mon);
    assert_eq!(codes(&rest), [EventCode::MONITOR_STOPPED], "{rest:?}");
    assert_eq!(rest[0].event, MonitorEvent::MonitorStopped);
    server_mon.stop(&mut server).expect("second stop");
    assert_eq!(server_mon.try_recv().expect("try_recv"), TryRecv::Ended);
    assert!(server_mon.next().is_none());
    assert!(other_sockets_talk(&ctx));
}

#[test]
fn connect_to_closed_port_retries_delayed_closed_retried() {
    let ctx = Ctx::new();
    let mut s = socket(&ctx, zmq::DEALER);
    s.set_reconnect_ivl(50).expect("reconnect_ivl");
    let mut mon = Monitor::attach(&ctx, &s, EventMask::ALL_V1).expect("attach");
    let ep = "tcp://127.0.0.1:1";
    s.connect(ep).expect("connect");

    // Two full rounds of CONNECT_DELAYED -> CLOSED -> CONNECT_RETRIED.
    let seen: Vec<V1Message> = (0..6).map(|_| next(&mut mon)).collect();
    let round = [
        EventCode::CONNECT_DELAYED,
        EventCode::CLOSED,
        EventCode::CONNECT_RETRIED,
    ];
    assert_eq!(codes(&seen), [round, round].concat(), "{seen:?}");
    assert!(seen.iter().all(|m| m.endpoint == ep.as_bytes()), "{seen:?}");
    for m in &seen {
        if let MonitorEvent::ConnectRetried { interval_ms } = m.event {
            // RECONNECT_IVL plus jitter in [0, RECONNECT_IVL).
            assert!((50..100).contains(&interval_ms), "{m:?}");
        }
    }

    mon.stop(&mut s).expect("stop");
    let rest = to_end(&mut mon);
    assert_eq!(
        rest.last().map(|m| m.event.code()),
        Some(EventCode::MONITOR_STOPPED)
    );
    // Only further retry rounds may come before the end.
    assert!(
        rest[..rest.len() - 1]
            .iter()
            .all(|m| round.contains(&m.event.code()) && m.endpoint == ep.as_bytes()),
        "{rest:?}"
    );
}

#[test]
fn bind_to_bound_port_gives_closed_then_bind_failed_without_scheme() {
    let ctx = Ctx::new();
    let first = socket(&ctx, zmq::DEALER);
    let ep = bind_any(&first);
    let mut second = socket(&ctx, zmq::DEALER);
    let mut mon = Monitor::attach(&ctx, &second, EventMask::ALL_V1).expect("attach");
    assert_eq!(second.bind(&ep), Err(zmq::Error::EADDRINUSE));

    let closed = next(&mut mon);
    assert!(
        matches!(closed.event, MonitorEvent::Closed { .. }),
        "{closed:?}"
    );
    assert_eq!(closed.endpoint, b"");
    let failed = next(&mut mon);
    assert_eq!(failed.event.code(), EventCode::BIND_FAILED);
    #[cfg(target_os = "linux")]
    assert!(
        matches!(failed.event, MonitorEvent::BindFailed { errno } if errno.0 == 98),
        "{failed:?}"
    );
    let no_scheme = ep.strip_prefix("tcp://").expect("tcp endpoint");
    assert_eq!(failed.endpoint, no_scheme.as_bytes());

    mon.stop(&mut second).expect("stop");
    assert_eq!(codes(&to_end(&mut mon)), [EventCode::MONITOR_STOPPED]);
}

/// The ZMTP 3.0 greeting with a mechanism libzmq does not know.
fn bogus_greeting() -> [u8; 64] {
    let mut g = [0u8; 64];
    g[0] = 0xff;
    g[9] = 0x7f;
    g[10] = 3;
    g[11] = 0;
    g[12..17].copy_from_slice(b"BOGUS");
    // as-server byte (32) and filler (33..64) stay zero.
    g
}

#[test]
fn bogus_mechanism_gives_handshake_failed_protocol_mismatch() {
    let ctx = Ctx::new();
    let mut server = socket(&ctx, zmq::DEALER);
    let mut mon = Monitor::attach(&ctx, &server, EventMask::ALL_V1).expect("attach");
    let ep = bind_any(&server);
    assert_eq!(next(&mut mon).event.code(), EventCode::LISTENING);

    let addr = ep.strip_prefix("tcp://").expect("tcp endpoint");
    let mut raw = TcpStream::connect(addr).expect("raw connect");
    raw.write_all(&bogus_greeting()).expect("write greeting");

    let seen = until(&mut mon, EventCode::DISCONNECTED);
    assert_eq!(
        codes(&seen),
        [
            EventCode::ACCEPTED,
            EventCode::HANDSHAKE_FAILED_PROTOCOL,
            EventCode::DISCONNECTED
        ],
        "{seen:?}"
    );
    assert_eq!(
        seen[1].event,
        MonitorEvent::HandshakeFailedProtocol(ProtocolError::ZmtpMechanismMismatch)
    );
    assert!(seen.iter().all(|m| m.endpoint == ep.as_bytes()), "{seen:?}");
    drop(raw);
    mon.stop(&mut server).expect("stop");
    assert_eq!(
        to_end(&mut mon).last().map(|m| m.event.code()),
        Some(EventCode::MONITOR_STOPPED)
    );
}

#[test]
fn raw_connect_then_close_gives_handshake_failed_no_detail() {
    let ctx = Ctx::new();
    let mut server = socket(&ctx, zmq::DEALER);
    let mut mon = Monitor::attach(&ctx, &server, EventMask::ALL_V1).expect("attach");
    let ep = bind_any(&server);
    assert_eq!(next(&mut mon).event.code(), EventCode::LISTENING);

    let addr = ep.strip_prefix("tcp://").expect("tcp endpoint");
    drop(TcpStream::connect(addr).expect("raw connect"));

    let seen = until(&mut mon, EventCode::HANDSHAKE_FAILED_NO_DETAIL);
    assert_eq!(
        codes(&seen),
        [EventCode::ACCEPTED, EventCode::HANDSHAKE_FAILED_NO_DETAIL],
        "{seen:?}"
    );
    assert!(
        matches!(seen[1].event, MonitorEvent::HandshakeFailedNoDetail { errno } if errno.0 != 0),
        "{seen:?}"
    );
    assert!(seen.iter().all(|m| m.endpoint == ep.as_bytes()), "{seen:?}");
    mon.stop(&mut server).expect("stop");
    let rest = to_end(&mut mon);
    assert_eq!(
        rest.last().map(|m| m.event.code()),
        Some(EventCode::MONITOR_STOPPED)
    );
}

#[test]
fn closing_the_monitored_socket_ends_the_stream_and_stalls_nothing() {
    let ctx = Ctx::new();
    let server = socket(&ctx, zmq::DEALER);
    let mut mon = Monitor::attach(&ctx, &server, EventMask::ALL_V1).expect("attach");
    let ep = bind_any(&server);
    let client = socket(&ctx, zmq::DEALER);
    client.connect(&ep).expect("connect");
    client.send("x", 0).expect("send");
    assert_eq!(server.recv_bytes(0).expect("recv"), b"x");

    // Close the monitored socket without reading the monitor at all.
    drop(server);
    assert!(
        other_sockets_talk(&ctx),
        "closing the monitored socket stalled the context"
    );

    // The stream holds the socket's own events, then its listener's CLOSED, then the end.
    let seen = to_end(&mut mon);
    let c = codes(&seen);
    assert_eq!(c.first(), Some(&EventCode::LISTENING), "{seen:?}");
    assert_eq!(c.last(), Some(&EventCode::MONITOR_STOPPED), "{seen:?}");
    let closed = c.iter().position(|&x| x == EventCode::CLOSED);
    assert!(
        closed.is_some_and(|i| i + 2 == c.len()),
        "CLOSED right before MONITOR_STOPPED: {seen:?}"
    );
    assert_eq!(mon.end_reason(), Some(EndReason::MonitorStopped));
    assert!(mon.next().is_none());
    drop(client);
}

#[test]
fn dropping_an_unstopped_monitor_stalls_nothing() {
    let _one = DRAIN_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    let ctx = Ctx::new();
    let server = socket(&ctx, zmq::DEALER);
    let mon = Monitor::attach(&ctx, &server, EventMask::ALL_V1).expect("attach");
    let ep = bind_any(&server);
    let client = socket(&ctx, zmq::DEALER);
    client.connect(&ep).expect("connect");
    client.send("x", 0).expect("send");
    assert_eq!(server.recv_bytes(0).expect("recv"), b"x");
    let drains_before = drain_threads_now();

    // Drop the monitor while it is armed and unread.
    drop(mon);

    // 1. An event sent by this very thread: bind() sends LISTENING itself, blocking while the
    //    monitor cannot take it. Run it on a helper thread so a stall fails the test instead
    //    of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let ep2 = bind_any(&server);
        let _ = tx.send((server, ep2));
    });
    let (server, _ep2) = rx
        .recv_timeout(WAIT)
        .expect("bind() after dropping the monitor did not return: LISTENING stalled");

    // 2. An event sent by the I/O thread: when the client goes, the server's engine sends
    //    DISCONNECTED and only then ends the pipe, which is when the server stops being
    //    writable.
    assert!(
        server.get_events().expect("events").contains(zmq::POLLOUT),
        "the server has a peer to write to"
    );
    drop(client);
    wait_for("the server's pipe to end after DISCONNECTED", || {
        !server.get_events().expect("events").contains(zmq::POLLOUT)
    });
    assert!(
        other_sockets_talk(&ctx),
        "events after dropping the monitor stalled the context"
    );

    // 3. Closing the socket: the reaper sends CLOSED and MONITOR_STOPPED, and the drain
    //    thread ends once it has read MONITOR_STOPPED. With nobody draining, this is where the
    //    context stalls (the reaper blocks, and the context's other sockets can no longer be
    //    closed): a Drop that only closed the reader failed here, not at 1 or 2, when this
    //    test was run against it.
    drop(server);
    #[cfg(target_os = "linux")]
    wait_for("the drain thread to read MONITOR_STOPPED and end", || {
        drain_threads() == drains_before
    });
    assert!(
        other_sockets_talk(&ctx),
        "closing the socket after dropping its monitor stalled the context"
    );
}

/// [`drain_threads`] where it can be counted, else 0.
fn drain_threads_now() -> usize {
    #[cfg(target_os = "linux")]
    return drain_threads();
    #[cfg(not(target_os = "linux"))]
    0
}

#[test]
fn dropping_an_unstopped_monitor_of_a_live_socket_stalls_nothing() {
    let _one = DRAIN_TESTS.lock().unwrap_or_else(|e| e.into_inner());
    let ctx = Ctx::new();
    let mut storm = Storm::new();
    let (s, mon) = storm.client(&ctx, |s| {
        Monitor::attach(&ctx, s, EventMask::ALL_V1).expect("attach")
    });
    // The reconnect storm keeps the I/O thread sending events after the drop: more than the
    // pipe holds once the storm has reached STORM connections.
    drop(mon);
    storm.accept(STORM);
    assert!(
        other_sockets_talk(&ctx),
        "a retry storm after dropping the monitor stalled the context"
    );
    drop(s);
    assert!(other_sockets_talk(&ctx));
}

#[test]
fn unbounded_reader_never_stalls_an_unread_monitor() {
    let ctx = Ctx::new();
    let mut storm = Storm::new();
    let options = AttachOptions::new().unbounded(true);
    let (mut s, mut mon) = storm.client(&ctx, |s| {
        Monitor::attach_with(&ctx, s, EventMask::ALL_V1, options).expect("attach")
    });
    assert_eq!(mon.reader().expect("reader").get_rcvhwm().expect("hwm"), 0);

    // Nobody reads while the storm runs past what a bounded pipe holds.
    storm.accept(STORM);
    mon.stop(&mut s).expect("stop");
    let seen = to_end(&mut mon);
    assert!(
        seen.len() > PIPE,
        "{} events queued, no more than a bounded pipe holds",
        seen.len()
    );
    assert_eq!(
        seen.last().map(|m| m.event.code()),
        Some(EventCode::MONITOR_STOPPED)
    );
    let connected = seen
        .iter()
        .filter(|m| m.event.code() == EventCode::CONNECTED)
        .count();
    assert!(
        connected >= STORM,
        "{connected} CONNECTED for {STORM} accepted connections"
    );
    let ep = storm.endpoint();
    assert!(
        seen[..seen.len() - 1]
            .iter()
            .all(|m| m.endpoint == ep.as_bytes()),
        "every event names the storm's endpoint"
    );

    // The default reader is bounded.
    let t = socket(&ctx, zmq::DEALER);
    let bounded = Monitor::attach(&ctx, &t, EventMask::ALL_V1).expect("attach");
    assert_eq!(
        bounded.reader().expect("reader").get_rcvhwm().expect("hwm"),
        1000
    );
}

#[test]
fn lending_reads_see_the_same_stream_and_the_queue_stop_left() {
    let ctx = Ctx::new();
    let mut server = socket(&ctx, zmq::DEALER);
    let mut mon = Monitor::attach(&ctx, &server, EventMask::ALL_V1).expect("attach");
    let ep = bind_any(&server);
    let first = match mon.recv_ref_timeout(WAIT).expect("recv_ref") {
        TryRecv::Message(m) => m.to_owned(),
        other => panic!("{other:?}"),
    };
    assert!(
        matches!(first.event, MonitorEvent::Listening { .. }),
        "{first:?}"
    );
    assert_eq!(first.endpoint, ep.as_bytes());
    assert_eq!(mon.try_recv_ref().expect("try_recv_ref"), TryRecv::Empty);

    let client = socket(&ctx, zmq::DEALER);
    client.connect(&ep).expect("connect");
    client.send("x", 0).expect("send");
    assert_eq!(server.recv_bytes(0).expect("recv"), b"x");
    // ACCEPTED and HANDSHAKE_SUCCEEDED were sent before "x" arrived; stop() drains them into
    // its queue, and the lending reads hand them out from there, then MONITOR_STOPPED.
    mon.stop(&mut server).expect("stop");
    let mut codes = Vec::new();
    while let Some(m) = mon.recv_ref().expect("recv_ref") {
        assert!(
            m.endpoint == ep.as_bytes() || m.event == MonitorEvent::MonitorStopped,
            "{m}"
        );
        codes.push(m.event.code());
    }
    assert_eq!(
        &codes[..2],
        [EventCode::ACCEPTED, EventCode::HANDSHAKE_SUCCEEDED],
        "{codes:?}"
    );
    assert_eq!(codes.last(), Some(&EventCode::MONITOR_STOPPED), "{codes:?}");
    assert_eq!(mon.try_recv_ref().expect("try_recv_ref"), TryRecv::Ended);
    drop(client);
}

#[test]
fn mask_delivers_only_asked_events_and_hidden_monitor_stopped_still_ends() {
    let ctx = Ctx::new();
    let mut server = socket(&ctx, zmq::DEALER);
    let wanted = EventCode::LISTENING | EventCode::ACCEPTED;
    let mut mon = Monitor::attach(&ctx, &server, wanted).expect("attach");
    let ep = bind_any(&server);
    let client = socket(&ctx, zmq::DEALER);
    client.connect(&ep).expect("connect");
    client.send("x", 0).expect("send");
    assert_eq!(server.recv_bytes(0).expect("recv"), b"x");
    drop(client);

    // HANDSHAKE_SUCCEEDED (sent before the message was delivered), possibly DISCONNECTED,
    // and MONITOR_STOPPED are all filtered out; the stream still ends.
    mon.stop(&mut server).expect("stop");
    let seen = to_end(&mut mon);
    assert_eq!(
        codes(&seen),
        [EventCode::LISTENING, EventCode::ACCEPTED],
        "{seen:?}"
    );
    assert!(seen.iter().all(|m| m.endpoint == ep.as_bytes()));
    assert_eq!(mon.end_reason(), Some(EndReason::MonitorStopped));
}

#[test]
fn masks_beyond_v1_are_refused() {
    let ctx = Ctx::new();
    let s = socket(&ctx, zmq::DEALER);
    let err = Monitor::attach(&ctx, &s, EventMask::from_bits(0x10000)).expect_err("v2 bit");
    assert!(matches!(err, MonitorError::MaskNotV1(0x10000)), "{err:?}");
    let err = Monitor::attach(&ctx, &s, EventMask::ALL_V2).expect_err("v2 mask");
    assert!(matches!(err, MonitorError::MaskNotV1(0x1FFFF)), "{err:?}");
    // Nothing was armed: the socket binds without a reader (LISTENING would block otherwise).
    bind_any(&s);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn monitor_stream_sees_listening_then_ends_after_stop_monitor() {
    let ctx = Ctx::new();
    let mut s = socket(&ctx, zmq::DEALER);
    let mon = Monitor::attach(&ctx, &s, EventMask::ALL_V1).expect("attach");
    let mut stream = MonitorStream::new(mon, 16).expect("stream");
    let ep = bind_any(&s);

    let first = tokio::time::timeout(WAIT, stream.recv())
        .await
        .expect("LISTENING in time")
        .expect("stream open")
        .expect("decoded");
    assert!(
        matches!(first.event, MonitorEvent::Listening { .. }),
        "{first:?}"
    );
    assert_eq!(first.endpoint, ep.as_bytes());

    stop_monitor(&mut s).expect("stop_monitor");
    let stopped = tokio::time::timeout(WAIT, stream.recv())
        .await
        .expect("MONITOR_STOPPED in time")
        .expect("stream open")
        .expect("decoded");
    assert_eq!(stopped.event, MonitorEvent::MonitorStopped);
    let end = tokio::time::timeout(WAIT, stream.recv())
        .await
        .expect("end in time");
    assert!(end.is_none(), "{end:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_monitor_stream_keeps_draining() {
    let ctx = Ctx::new();
    let mut storm = Storm::new();
    let (s, mon) = storm.client(&ctx, |s| {
        Monitor::attach(&ctx, s, EventMask::ALL_V1).expect("attach")
    });
    let stream = MonitorStream::new(mon, 16).expect("stream");
    drop(stream);
    // The reading thread keeps reading after the stream is gone: the storm gets past what the
    // pipe and the channel hold.
    let storm = tokio::task::spawn_blocking(move || {
        storm.accept(STORM);
        storm
    })
    .await
    .expect("storm");
    assert!(
        other_sockets_talk(&ctx),
        "a dropped MonitorStream stalled the context"
    );
    drop((s, storm));
}
