//! A second, independent libzmq: pyzmq's own libzmq (4.3.5) monitors a DEALER server with
//! `socket.monitor(...)` while a client connects, sends and closes. The script prints the raw
//! v1 monitor frames in the `monwire decode zmq` capture format (one message per line, frames
//! as hex, `#` comments), and this test decodes every line with `monwire_zmq::codec` (native
//! byte order) and checks the typed events, their order, their endpoint (the one pyzmq bound)
//! and their values against pyzmq's own parse of the same frames.
#![cfg(feature = "zmq")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;

use monwire_zmq::codec;
use monwire_zmq::{EventCode, MonitorEvent};

/// Monitors LISTENING, ACCEPTED, HANDSHAKE_SUCCEEDED and DISCONNECTED on a DEALER server.
/// Prints `# endpoint <bound>`, then per message `# pyzmq <code> <value> <endpoint>` (pyzmq's
/// own parse) and the frames. Every wait is bounded (exit 2 on timeout).
const SCRIPT: &str = r##"
import sys, zmq
from zmq.utils.monitor import parse_monitor_message

WAIT_MS = 5000
ctx = zmq.Context()
srv = ctx.socket(zmq.DEALER)
srv.linger = 0
events = (zmq.EVENT_LISTENING | zmq.EVENT_ACCEPTED
          | zmq.EVENT_HANDSHAKE_SUCCEEDED | zmq.EVENT_DISCONNECTED)
addr = "inproc://monwire-pyzmq-test"
srv.monitor(addr, events)
mon = ctx.socket(zmq.PAIR)
mon.linger = 0
mon.connect(addr)

srv.bind("tcp://127.0.0.1:*")
ep = srv.getsockopt_string(zmq.LAST_ENDPOINT)
print("# endpoint", ep)
print("# libzmq", zmq.zmq_version())

cli = ctx.socket(zmq.DEALER)
cli.linger = 0
cli.connect(ep)
cli.send(b"hello")
if not srv.poll(WAIT_MS):
    sys.exit("server got no message")
assert srv.recv() == b"hello"
cli.close()

def hexframe(f):
    return f.hex() if f else '""'

while True:
    if not mon.poll(WAIT_MS):
        sys.stdout.flush()
        print("timeout waiting for monitor events", file=sys.stderr)
        sys.exit(2)
    frames = mon.recv_multipart()
    p = parse_monitor_message(frames)
    print("# pyzmq", int(p["event"]), int(p["value"]), p["endpoint"].decode())
    print(" ".join(hexframe(f) for f in frames))
    if int(p["event"]) == zmq.EVENT_DISCONNECTED:
        break

srv.disable_monitor()
mon.close()
srv.close()
ctx.term()
"##;

fn unhex(token: &str) -> Vec<u8> {
    if token == "\"\"" {
        return Vec::new();
    }
    assert!(token.len().is_multiple_of(2), "odd hex {token:?}");
    (0..token.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&token[i..i + 2], 16).expect("hex digit"))
        .collect()
}

#[test]
fn pyzmq_monitor_frames_decode_to_the_events_pyzmq_saw() {
    if !monwire_tests::peers::python_module("zmq") {
        return;
    }
    let out = Command::new(monwire_tests::peers::python())
        .args(["-c", SCRIPT])
        .output()
        .expect("run python");
    let stdout = String::from_utf8(out.stdout).expect("utf-8 stdout");
    assert!(
        out.status.success(),
        "pyzmq script failed: {}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );

    let mut endpoint = None;
    let mut pyzmq_parse: Option<(u64, u64, String)> = None;
    let mut decoded = Vec::new();
    for line in stdout.lines() {
        if let Some(ep) = line.strip_prefix("# endpoint ") {
            endpoint = Some(ep.to_owned());
        } else if let Some(rest) = line.strip_prefix("# pyzmq ") {
            let mut parts = rest.splitn(3, ' ');
            let code = parts.next().and_then(|s| s.parse().ok()).expect("code");
            let value = parts.next().and_then(|s| s.parse().ok()).expect("value");
            let ep = parts.next().unwrap_or("").to_owned();
            pyzmq_parse = Some((code, value, ep));
        } else if !line.starts_with('#') && !line.trim().is_empty() {
            let frames: Vec<Vec<u8>> = line.split_whitespace().map(unhex).collect();
            let msg = codec::decode_v1(&frames)
                .unwrap_or_else(|e| panic!("decoding {line:?}: {e}"))
                .to_owned();
            // Our decode agrees with pyzmq's parse of the same frames.
            let (code, value, ep) = pyzmq_parse.take().expect("a pyzmq parse before each line");
            assert_eq!(msg.event.code(), EventCode(code), "{line}");
            assert_eq!(msg.event.values().as_slice(), [value], "{line}");
            assert_eq!(msg.endpoint_lossy(), ep, "{line}");
            // And re-encodes to the bytes libzmq sent.
            assert_eq!(
                codec::encode_v1(&msg.view()).expect("encode").to_vec(),
                frames,
                "{line}"
            );
            decoded.push(msg);
        }
    }

    let endpoint = endpoint.expect("the script printed its bound endpoint");
    assert!(endpoint.starts_with("tcp://127.0.0.1:"), "{endpoint}");
    let codes: Vec<EventCode> = decoded.iter().map(|m| m.event.code()).collect();
    assert_eq!(
        codes,
        [
            EventCode::LISTENING,
            EventCode::ACCEPTED,
            EventCode::HANDSHAKE_SUCCEEDED,
            EventCode::DISCONNECTED
        ],
        "{stdout}"
    );
    assert!(
        decoded.iter().all(|m| m.endpoint == endpoint.as_bytes()),
        "every event carries the bound endpoint {endpoint}: {decoded:?}"
    );
    let (MonitorEvent::Listening { fd: listener }, MonitorEvent::Accepted { fd: accepted }) =
        (&decoded[0].event, &decoded[1].event)
    else {
        panic!("typed LISTENING/ACCEPTED: {decoded:?}");
    };
    assert_ne!(listener, accepted, "the accepted connection has its own fd");
    assert_eq!(decoded[2].event, MonitorEvent::HandshakeSucceeded);
    assert_eq!(
        decoded[3].event,
        MonitorEvent::Disconnected { fd: *accepted },
        "DISCONNECTED names the accepted connection"
    );
}
