//! The 37 golden ZeroMQ monitor messages captured from real libzmq (4.3.4 vendored, 4.3.5 from
//! pyzmq, 4.3.4 with DRAFT for v2), each decoded and checked field by field against
//! `tests/vectors/zmq/README.md`, mapped through `monwire_event::Event` and back, re-encoded and
//! compared byte for byte; and the two capture files in the `monwire decode zmq` format.
#![cfg(feature = "zmq")]

use monwire_event::Kind;
use monwire_tests::vectors;
use monwire_zmq::codec::{ByteOrder, Codec};
use monwire_zmq::event::{from_event, to_event};
use monwire_zmq::{Errno, MonitorEvent as E, ProtocolError, ZapStatus};

const LE: Codec = Codec::new().with_byte_order(ByteOrder::Little);
const S434: &str = "tcp://127.0.0.1:38317";
const SERVER: &str = "tcp://127.0.0.1:46187";
const CLIENT: &str = "tcp://127.0.0.1:37072";

/// One frame per line, every line ending in `\n`.
fn frames(bytes: &[u8]) -> Vec<Vec<u8>> {
    let text = std::str::from_utf8(bytes).unwrap();
    assert!(text.ends_with('\n'), "every frame line ends with \\n");
    text.lines().map(vectors::unhex).collect()
}

fn v1_expected() -> Vec<(&'static str, E, &'static str)> {
    vec![
        ("v1-listening-tcp", E::Listening { fd: 18 }, S434),
        ("v1-accepted-tcp", E::Accepted { fd: 26 }, S434),
        ("v1-handshake_succeeded-server", E::HandshakeSucceeded, S434),
        (
            "v1-connect_delayed-einprogress",
            E::ConnectDelayed { errno: Errno(115) },
            S434,
        ),
        ("v1-connected-tcp", E::Connected { fd: 25 }, S434),
        ("v1-monitor_stopped-socket_closed", E::MonitorStopped, ""),
        (
            "v1-disconnected-peer_closed",
            E::Disconnected { fd: 26 },
            S434,
        ),
        ("v1-closed-failed_bind_listener", E::Closed { fd: 27 }, ""),
        (
            "v1-bind_failed-eaddrinuse",
            E::BindFailed { errno: Errno(98) },
            "127.0.0.1:38317",
        ),
        (
            "v1-handshake_failed_protocol-mechanism_mismatch",
            E::HandshakeFailedProtocol(ProtocolError::ZmtpMechanismMismatch),
            S434,
        ),
        (
            "v1-handshake_failed_no_detail-epipe",
            E::HandshakeFailedNoDetail { errno: Errno(32) },
            S434,
        ),
        (
            "v1-handshake_failed_no_detail-handshake_timeout",
            E::HandshakeFailedNoDetail { errno: Errno(11) },
            "tcp://127.0.0.1:34379",
        ),
        (
            "v1-closed-listener",
            E::Closed { fd: 25 },
            "tcp://127.0.0.1:34379",
        ),
        (
            "v1-connect_retried-ivl50",
            E::ConnectRetried { interval_ms: 83 },
            "tcp://127.0.0.1:1",
        ),
        (
            "v1-closed-connecter",
            E::Closed { fd: 23 },
            "tcp://127.0.0.1:1",
        ),
        (
            "v1-handshake_failed_auth-zap400",
            E::HandshakeFailedAuth {
                status: ZapStatus::DENIED,
            },
            "tcp://127.0.0.1:45685",
        ),
        (
            "v1-listening-ipc",
            E::Listening { fd: 25 },
            "ipc://monwire-vec.ipc",
        ),
        (
            "v1-accept_failed-emfile",
            E::AcceptFailed { errno: Errno(24) },
            "tcp://127.0.0.1:46231",
        ),
        (
            "v1-close_failed-enoent",
            E::CloseFailed { errno: Errno(2) },
            "ipc://tmpQmLZRO/socket",
        ),
        (
            "v1-listening-tcp_435",
            E::Listening { fd: 12 },
            "tcp://127.0.0.1:44675",
        ),
        (
            "v1-handshake_failed_protocol-mechanism_mismatch_435",
            E::HandshakeFailedProtocol(ProtocolError::ZmtpMechanismMismatch),
            "tcp://127.0.0.1:44675",
        ),
        (
            "v1-handshake_failed_auth-zap400_435",
            E::HandshakeFailedAuth {
                status: ZapStatus::DENIED,
            },
            "tcp://127.0.0.1:45821",
        ),
    ]
}

fn v2_expected() -> Vec<(&'static str, E, &'static str, &'static str)> {
    vec![
        ("v2-listening-tcp", E::Listening { fd: 20 }, SERVER, ""),
        ("v2-accepted-tcp", E::Accepted { fd: 26 }, SERVER, CLIENT),
        (
            "v2-handshake_succeeded-server",
            E::HandshakeSucceeded,
            SERVER,
            CLIENT,
        ),
        (
            "v2-handshake_succeeded-client",
            E::HandshakeSucceeded,
            CLIENT,
            SERVER,
        ),
        (
            "v2-connect_delayed-einprogress",
            E::ConnectDelayed { errno: Errno(115) },
            "",
            SERVER,
        ),
        ("v2-connected-tcp", E::Connected { fd: 25 }, CLIENT, SERVER),
        (
            "v2-pipes_stats-server",
            E::PipesStats {
                egress: 0,
                ingress: 2,
            },
            SERVER,
            CLIENT,
        ),
        (
            "v2-pipes_stats-client",
            E::PipesStats {
                egress: 2,
                ingress: 0,
            },
            "",
            SERVER,
        ),
        (
            "v2-closed-failed_bind_listener",
            E::Closed { fd: 33 },
            "",
            "",
        ),
        (
            "v2-bind_failed-eaddrinuse",
            E::BindFailed { errno: Errno(98) },
            "127.0.0.1:46187",
            "",
        ),
        (
            "v2-handshake_failed_protocol-mechanism_mismatch",
            E::HandshakeFailedProtocol(ProtocolError::ZmtpMechanismMismatch),
            SERVER,
            "tcp://127.0.0.1:37074",
        ),
        (
            "v2-connect_retried-ivl50",
            E::ConnectRetried { interval_ms: 83 },
            "",
            "tcp://127.0.0.1:1",
        ),
        (
            "v2-closed-connecter",
            E::Closed { fd: 35 },
            "",
            "tcp://127.0.0.1:1",
        ),
        (
            "v2-disconnected-peer_closed",
            E::Disconnected { fd: 26 },
            SERVER,
            CLIENT,
        ),
        (
            "v2-monitor_stopped-explicit_stop",
            E::MonitorStopped,
            "",
            "",
        ),
    ]
}

#[test]
fn every_vector_file_is_covered() {
    let mut named: Vec<String> = v1_expected()
        .iter()
        .map(|v| format!("{}.hex", v.0))
        .chain(v2_expected().iter().map(|v| format!("{}.hex", v.0)))
        .collect();
    named.sort();
    let on_disk: Vec<String> = vectors::files("zmq", ".hex")
        .into_iter()
        .map(|f| f.0)
        .collect();
    assert_eq!(named, on_disk);
    assert_eq!(on_disk.len(), 37);
}

#[test]
fn v1_vectors_decode_field_by_field_and_re_encode_byte_for_byte() {
    for (name, event, endpoint) in v1_expected() {
        let bytes = vectors::read("zmq", &format!("{name}.hex"));
        let frames = frames(&bytes);
        let msg = LE
            .decode_v1(&frames)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(msg.event, event, "{name}");
        assert_eq!(msg.endpoint_str().unwrap(), endpoint, "{name}");
        assert_eq!(LE.encode_v1(&msg).unwrap().to_vec(), frames, "{name}");

        let ev = to_event(&msg);
        assert_eq!(ev.name, event.code().name().unwrap(), "{name}");
        assert_eq!(ev.subject, endpoint, "{name}");
        let back = from_event(&ev).unwrap();
        assert_eq!(LE.encode(&back.view()).unwrap(), frames, "{name}");
        let json = serde_json::to_string(&ev).unwrap();
        let ev2: monwire_event::Event = serde_json::from_str(&json).unwrap();
        assert_eq!(ev2, ev, "{name}");
    }
}

#[test]
fn v2_vectors_decode_field_by_field_and_re_encode_byte_for_byte() {
    for (name, event, local, remote) in v2_expected() {
        let bytes = vectors::read("zmq", &format!("{name}.hex"));
        let frames = frames(&bytes);
        let msg = LE
            .decode_v2(&frames)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(msg.event, event, "{name}");
        assert_eq!(msg.local, local.as_bytes(), "{name}");
        assert_eq!(msg.remote, remote.as_bytes(), "{name}");
        assert_eq!(LE.encode_v2(&msg), frames, "{name}");
        let back = from_event(&to_event(&msg)).unwrap();
        assert_eq!(LE.encode(&back.view()).unwrap(), frames, "{name}");
    }
}

#[test]
fn normalized_kinds_of_the_vectors() {
    let kind = |name: &str| {
        let frames = frames(&vectors::read("zmq", &format!("{name}.hex")));
        to_event(&LE.decode_v1(&frames).unwrap()).kind
    };
    assert_eq!(kind("v1-connected-tcp"), Kind::Connected);
    assert_eq!(kind("v1-accepted-tcp"), Kind::Connected);
    assert_eq!(kind("v1-listening-tcp"), Kind::Listening);
    assert_eq!(kind("v1-disconnected-peer_closed"), Kind::Disconnected);
    assert_eq!(kind("v1-bind_failed-eaddrinuse"), Kind::Failed);
    assert_eq!(kind("v1-handshake_succeeded-server"), Kind::Ready);
    assert_eq!(kind("v1-monitor_stopped-socket_closed"), Kind::EndOfStream);
}

/// The `monwire decode zmq` capture files: one message per line, `""` for an empty frame.
fn capture_lines(name: &str) -> Vec<Vec<Vec<u8>>> {
    let bytes = vectors::read("zmq", name);
    std::str::from_utf8(&bytes)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            l.split_whitespace()
                .map(|t| {
                    if t == "\"\"" {
                        Vec::new()
                    } else {
                        vectors::unhex(t)
                    }
                })
                .collect()
        })
        .collect()
}

#[test]
fn capture_files_decode_and_round_trip() {
    let v1 = capture_lines("v1-libzmq-4.3.4.txt");
    assert!(v1.len() >= 10, "v1 capture has {} messages", v1.len());
    for frames in &v1 {
        let msg = LE.decode_v1(frames).unwrap();
        assert!(!matches!(msg.event, E::Unknown { .. }), "{msg:?}");
        assert_eq!(LE.encode_v1(&msg).unwrap().to_vec(), *frames);
    }
    let first = LE.decode_v1(&v1[0]).unwrap();
    assert_eq!(first.event, E::Listening { fd: 24 });
    let v2 = capture_lines("v2-libzmq-4.3.4.txt");
    assert!(!v2.is_empty());
    for frames in &v2 {
        let msg = LE.decode_v2(frames).unwrap();
        assert_eq!(LE.encode_v2(&msg), *frames);
    }
}
