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

/// The `monwire decode zmq` capture files: one message per line, `""` for an empty frame, `#`
/// comments. Returns each message with the comment line right above it.
fn capture_lines(name: &str) -> Vec<(String, Vec<Vec<u8>>)> {
    let bytes = vectors::read("zmq", name);
    let mut comment = String::new();
    let mut out = Vec::new();
    for line in std::str::from_utf8(&bytes).unwrap().lines() {
        if let Some(c) = line.strip_prefix('#') {
            comment = c.trim().to_owned();
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let frames = line
            .split(' ')
            .map(|t| {
                if t == "\"\"" {
                    Vec::new()
                } else {
                    vectors::unhex(t)
                }
            })
            .collect();
        out.push((std::mem::take(&mut comment), frames));
    }
    out
}

const C434: &str = "tcp://127.0.0.1:38795";
const PORT1: &str = "tcp://127.0.0.1:1";

/// The 19 messages of `v1-libzmq-4.3.4.txt`, in order, as its comments and the README name
/// them. (v1 decoding is total and lossless for any 6-byte head, so a re-encode check alone
/// would pass for any file; these values are what the file must hold.)
fn v1_capture_expected() -> Vec<(E, &'static str)> {
    vec![
        (E::Listening { fd: 24 }, C434),
        (E::Accepted { fd: 26 }, C434),
        (E::HandshakeSucceeded, C434),
        (E::ConnectDelayed { errno: Errno(115) }, C434),
        (E::Connected { fd: 25 }, C434),
        (E::HandshakeSucceeded, C434),
        (E::Closed { fd: 33 }, ""),
        (E::BindFailed { errno: Errno(98) }, "127.0.0.1:38795"),
        (E::MonitorStopped, ""),
        (E::Accepted { fd: 28 }, C434),
        (
            E::HandshakeFailedProtocol(ProtocolError::ZmtpMechanismMismatch),
            C434,
        ),
        (E::Disconnected { fd: 28 }, C434),
        (E::ConnectDelayed { errno: Errno(115) }, PORT1),
        (E::Closed { fd: 35 }, PORT1),
        (E::ConnectRetried { interval_ms: 83 }, PORT1),
        (E::MonitorStopped, ""),
        (E::Disconnected { fd: 26 }, C434),
        (E::Closed { fd: 24 }, C434),
        (E::MonitorStopped, ""),
    ]
}

/// The value a capture comment states for an event: the fd, errno, delay or code it names.
fn stated_value(e: &E) -> Option<String> {
    match e {
        E::Listening { fd }
        | E::Accepted { fd }
        | E::Connected { fd }
        | E::Closed { fd }
        | E::Disconnected { fd } => Some(format!("fd {fd}")),
        E::ConnectDelayed { errno } | E::BindFailed { errno } => Some(format!(" {}", errno.0)),
        E::ConnectRetried { interval_ms } => Some(format!("{interval_ms} ms")),
        E::HandshakeFailedProtocol(p) => Some(format!("0x{:08x}", p.code())),
        _ => None,
    }
}

#[test]
fn v1_capture_file_holds_exactly_the_19_documented_messages() {
    let lines = capture_lines("v1-libzmq-4.3.4.txt");
    let expected = v1_capture_expected();
    assert_eq!(lines.len(), 19, "the README counts 19 messages");
    assert_eq!(expected.len(), 19);
    for (i, ((comment, frames), (event, endpoint))) in lines.iter().zip(&expected).enumerate() {
        let at = format!("message {} ({comment})", i + 1);
        let msg = LE.decode_v1(frames).unwrap_or_else(|e| panic!("{at}: {e}"));
        assert_eq!(&msg.event, event, "{at}");
        assert_eq!(msg.endpoint_str().unwrap(), *endpoint, "{at}");
        // The comment names the event and its value, so the file and this list agree.
        let name = event.code().name().unwrap();
        assert!(comment.contains(name), "{at}: comment does not name {name}");
        if let Some(v) = stated_value(event) {
            assert!(comment.contains(&v), "{at}: comment does not state {v:?}");
        }
        assert_eq!(LE.encode_v1(&msg).unwrap().to_vec(), *frames, "{at}");
    }
    // Three monitors ended in that run (second socket, client, server): three stops.
    let stops = lines
        .iter()
        .filter(|(_, f)| LE.decode_v1(f).unwrap().event == E::MonitorStopped)
        .count();
    assert_eq!(stops, 3);
}

#[test]
fn v2_capture_file_is_the_15_v2_vectors_in_file_name_order() {
    let lines = capture_lines("v2-libzmq-4.3.4.txt");
    let files = monwire_tests::zmq::vectors("v2-");
    assert_eq!(lines.len(), 15);
    assert_eq!(files.len(), 15);
    let expected = v2_expected();
    for ((comment, frames), (file, file_frames)) in lines.iter().zip(&files) {
        assert_eq!(
            comment, file,
            "the comment names the file of the line below it"
        );
        assert_eq!(
            frames, file_frames,
            "{file}: the line is not the file's bytes"
        );
        let stem = file.strip_suffix(".hex").unwrap();
        let (_, event, local, remote) = expected.iter().find(|v| v.0 == stem).unwrap();
        let msg = LE.decode_v2(frames).unwrap();
        assert_eq!(&msg.event, event, "{file}");
        assert_eq!(msg.local, local.as_bytes(), "{file}");
        assert_eq!(msg.remote, remote.as_bytes(), "{file}");
    }
}
