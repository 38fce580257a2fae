//! A live v2 monitor on a DRAFT libzmq (4.3.4, built by this crate): every v2 event the golden
//! vectors hold is provoked again, here, over loopback TCP, and decoded by `monwire-zmq`'s
//! codec to the same typed values as its golden vector (`tests/vectors/zmq/v2-*.hex`):
//! `PIPES_STATS` on both sides (egress and ingress counts exact), and the events that carry a
//! local and a remote endpoint, each endpoint checked against the address this run used.
//! File descriptors differ from run to run: they are checked to be the same descriptor across
//! events (the connection's fd in ACCEPTED is the one in DISCONNECTED), not against the file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_zmq::codec::Codec;
use monwire_zmq::{Errno, MonitorEvent as E, V2Message};
use monwire_zmq_draft::{Context, DEALER, PAIR, Socket, has_draft};

/// Receive timeout for every read: generous; only a missing event reaches it.
const TIMEOUT_MS: i32 = 30_000;

/// Arms a v2 monitor for every event (`ZMQ_EVENT_ALL_V2`) and connects its PAIR reader.
fn monitor(ctx: &Context, s: &Socket, name: &str) -> Socket {
    let ep = format!("inproc://monwire-draft-{name}");
    s.monitor_versioned(&ep, 0x1FFFF, 2, PAIR)
        .expect("zmq_socket_monitor_versioned");
    let reader = ctx.socket(PAIR, TIMEOUT_MS).expect("reader");
    reader.connect(&ep).expect("connect reader");
    reader
}

/// The next v2 message on `reader`, decoded.
fn next(reader: &Socket) -> V2Message {
    let frames = reader
        .recv_multipart()
        .expect("a monitor message within the timeout");
    decode(frames)
}

/// The `PIPES_STATS` answer to `zmq_socket_monitor_pipes_stats(s)`: the request goes to the
/// socket's pipes and the answer comes back as a command that `s` processes when it is used,
/// so read `ZMQ_EVENTS` on it until the monitor has the event (bounded by the timeout).
fn stats(s: &Socket, reader: &Socket) -> V2Message {
    s.pipes_stats().expect("zmq_socket_monitor_pipes_stats");
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(TIMEOUT_MS as u64);
    loop {
        s.events().expect("ZMQ_EVENTS");
        if let Some(frames) = reader.try_recv_multipart().expect("monitor recv") {
            return decode(frames);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no PIPES_STATS within the timeout"
        );
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
}

fn decode(frames: Vec<Vec<u8>>) -> V2Message {
    let msg = Codec::new()
        .decode_v2(&frames)
        .unwrap_or_else(|e| panic!("{e}: {frames:?}"));
    let back = Codec::new().encode_v2(&msg);
    assert_eq!(back, frames, "re-encodes byte for byte");
    msg.to_owned()
}

fn s(m: &[u8]) -> &str {
    std::str::from_utf8(m).unwrap()
}

#[test]
fn the_linked_libzmq_has_the_draft_api() {
    assert!(has_draft(), "zmq_has(\"draft\") is false");
}

#[test]
fn live_v2_events_decode_as_the_golden_vectors() {
    let ctx = Context::new();
    let server = ctx.socket(DEALER, TIMEOUT_MS).unwrap();
    let smon = monitor(&ctx, &server, "server");
    server.bind("tcp://127.0.0.1:*").unwrap();
    let sep = server.last_endpoint().unwrap();

    // v2-listening-tcp: LISTENING [fd]; local = the bound endpoint; remote empty.
    let m = next(&smon);
    assert!(matches!(m.event, E::Listening { .. }), "{m:?}");
    assert_eq!((s(&m.local), s(&m.remote)), (sep.as_str(), ""));

    let client = ctx.socket(DEALER, TIMEOUT_MS).unwrap();
    let cmon = monitor(&ctx, &client, "client");
    client.connect(&sep).unwrap();

    // v2-connect_delayed-einprogress: [115]; local EMPTY; remote = the server.
    let m = next(&cmon);
    assert_eq!(m.event, E::ConnectDelayed { errno: Errno(115) }, "{m:?}");
    assert_eq!((s(&m.local), s(&m.remote)), ("", sep.as_str()));
    // v2-connected-tcp: CONNECTED [fd]; local = the client's own address; remote = the server.
    let m = next(&cmon);
    let E::Connected { fd: client_fd } = m.event else {
        panic!("{m:?}")
    };
    let cep = s(&m.local).to_owned();
    assert!(cep.starts_with("tcp://127.0.0.1:") && cep != sep, "{cep}");
    assert_eq!(s(&m.remote), sep);
    // v2-handshake_succeeded-client: [0]; client; server.
    let m = next(&cmon);
    assert_eq!(m.event, E::HandshakeSucceeded);
    assert_eq!((s(&m.local), s(&m.remote)), (cep.as_str(), sep.as_str()));

    // v2-accepted-tcp: ACCEPTED [fd]; server; client.
    let m = next(&smon);
    let E::Accepted { fd: server_fd } = m.event else {
        panic!("{m:?}")
    };
    assert_eq!((s(&m.local), s(&m.remote)), (sep.as_str(), cep.as_str()));
    // v2-handshake_succeeded-server: [0]; server; client.
    let m = next(&smon);
    assert_eq!(m.event, E::HandshakeSucceeded);
    assert_eq!((s(&m.local), s(&m.remote)), (sep.as_str(), cep.as_str()));

    // The client sends two messages and the server reads both: then each side's pipe has
    // seen two messages go by, which is what the golden PIPES_STATS counts hold.
    client.send(b"one", 0).unwrap();
    client.send(b"two", 0).unwrap();
    assert_eq!(server.recv_multipart().unwrap(), [b"one".to_vec()]);
    assert_eq!(server.recv_multipart().unwrap(), [b"two".to_vec()]);

    // v2-pipes_stats-server: [egress 0, ingress 2]; server; client (6 frames).
    let m = stats(&server, &smon);
    assert_eq!(
        m.event,
        E::PipesStats {
            egress: 0,
            ingress: 2
        },
        "{m:?}"
    );
    assert_eq!((s(&m.local), s(&m.remote)), (sep.as_str(), cep.as_str()));
    // v2-pipes_stats-client: [egress 2, ingress 0]; local EMPTY; remote = the server.
    let m = stats(&client, &cmon);
    assert_eq!(
        m.event,
        E::PipesStats {
            egress: 2,
            ingress: 0
        },
        "{m:?}"
    );
    assert_eq!((s(&m.local), s(&m.remote)), ("", sep.as_str()));

    // v2-disconnected-peer_closed: DISCONNECTED [the accepted fd]; server; client.
    drop(client);
    let m = next(&smon);
    assert_eq!(m.event, E::Disconnected { fd: server_fd }, "{m:?}");
    assert_eq!((s(&m.local), s(&m.remote)), (sep.as_str(), cep.as_str()));
    // The client's monitor ends with MONITOR_STOPPED (after whatever the close reported).
    loop {
        let m = next(&cmon);
        if m.event == E::MonitorStopped {
            break;
        }
        assert!(
            matches!(m.event, E::Closed { fd } | E::Disconnected { fd } if fd == client_fd),
            "{m:?}"
        );
    }

    // v2-monitor_stopped-explicit_stop: MONITOR_STOPPED [0]; empty; empty.
    server.stop_monitor().unwrap();
    let m = next(&smon);
    assert_eq!(m, V2Message::new(E::MonitorStopped, "", ""));
    drop((cmon, smon, server));
}

#[test]
fn a_failed_bind_and_a_retried_connect_decode_as_the_golden_vectors() {
    let ctx = Context::new();
    let first = ctx.socket(DEALER, TIMEOUT_MS).unwrap();
    first.bind("tcp://127.0.0.1:*").unwrap();
    let ep = first.last_endpoint().unwrap();
    let second = ctx.socket(DEALER, TIMEOUT_MS).unwrap();
    let mon = monitor(&ctx, &second, "second");
    assert_eq!(second.bind(&ep).unwrap_err().0, 98, "EADDRINUSE");
    // v2-closed-failed_bind_listener: CLOSED [fd]; empty; empty.
    let m = next(&mon);
    assert!(matches!(m.event, E::Closed { .. }), "{m:?}");
    assert_eq!((s(&m.local), s(&m.remote)), ("", ""));
    // v2-bind_failed-eaddrinuse: [98]; the address without its scheme; empty.
    let m = next(&mon);
    assert_eq!(m.event, E::BindFailed { errno: Errno(98) });
    assert_eq!(
        (s(&m.local), s(&m.remote)),
        (ep.strip_prefix("tcp://").unwrap(), "")
    );
    second.stop_monitor().unwrap();
    assert_eq!(next(&mon).event, E::MonitorStopped);
    drop((mon, second, first));

    // A connect to a closed port with RECONNECT_IVL 50: CONNECT_DELAYED, then
    // v2-closed-connecter (CLOSED [fd]; empty; the port) and v2-connect_retried-ivl50
    // (CONNECT_RETRIED [50 + jitter in 0..50]; empty; the port).
    let sock = ctx.socket(DEALER, TIMEOUT_MS).unwrap();
    sock.set_reconnect_ivl(50).unwrap();
    let mon = monitor(&ctx, &sock, "retry");
    let port1 = "tcp://127.0.0.1:1";
    sock.connect(port1).unwrap();
    let m = next(&mon);
    assert_eq!(m.event, E::ConnectDelayed { errno: Errno(115) }, "{m:?}");
    let m = next(&mon);
    assert!(matches!(m.event, E::Closed { .. }), "{m:?}");
    assert_eq!((s(&m.local), s(&m.remote)), ("", port1));
    let m = next(&mon);
    assert!(
        matches!(m.event, E::ConnectRetried { interval_ms } if (50..100).contains(&interval_ms)),
        "{m:?}"
    );
    assert_eq!((s(&m.local), s(&m.remote)), ("", port1));
    sock.stop_monitor().unwrap();
    loop {
        if next(&mon).event == E::MonitorStopped {
            break;
        }
    }
    drop((mon, sock));
}
