//! Codec only, no libzmq: decode monitor messages from their frames, print them, map them into
//! the shared event model, and encode them back byte for byte.
//!
//! ```text
//! cargo run -p monwire-zmq --example zmq_decode
//! cargo run -p monwire-zmq --example zmq_decode -- 080012000000 7463703a2f2f3132372e302e302e313a35353535
//! ```
//!
//! With arguments, they are one message's frames as hex (`""` for an empty frame), in
//! little-endian order; without, three messages captured from real libzmq are decoded.

use monwire_zmq::codec::{ByteOrder, Codec};
use monwire_zmq::event::{from_event, summary_keys, to_event};

fn unhex(token: &str) -> Result<Vec<u8>, String> {
    if token == "\"\"" {
        return Ok(Vec::new());
    }
    if !token.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits: {token}"));
    }
    (0..token.len())
        .step_by(2)
        .map(|i| {
            token
                .get(i..i + 2)
                .and_then(|pair| u8::from_str_radix(pair, 16).ok())
                .ok_or_else(|| format!("not hex: {token}"))
        })
        .collect()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let messages: Vec<Vec<Vec<u8>>> = if args.is_empty() {
        vec![
            // LISTENING fd 18 (libzmq 4.3.4, x86_64).
            vec![unhex("080012000000")?, b"tcp://127.0.0.1:38317".to_vec()],
            // HANDSHAKE_FAILED_PROTOCOL, ZMTP_MECHANISM_MISMATCH: a peer offered another
            // security mechanism.
            vec![unhex("002002000011")?, b"tcp://127.0.0.1:38317".to_vec()],
            // v2 PIPES_STATS (DRAFT build): egress 0, ingress 2, local and remote endpoints.
            vec![
                unhex("0000010000000000")?,
                unhex("0200000000000000")?,
                unhex("0000000000000000")?,
                unhex("0200000000000000")?,
                b"tcp://127.0.0.1:46187".to_vec(),
                b"tcp://127.0.0.1:37072".to_vec(),
            ],
        ]
    } else {
        vec![args.iter().map(|a| unhex(a)).collect::<Result<_, _>>()?]
    };

    let codec = Codec::new().with_byte_order(ByteOrder::Little);
    for frames in &messages {
        // Either version, told apart by the frame count; the endpoints are borrowed.
        let msg = codec.decode(frames)?;
        println!("v{}: {msg}", msg.version());

        // The shared event: normalized kind and severity, the protocol's own name, a summary,
        // and namespaced attributes (of which the summary already states these keys).
        let event = to_event(&msg);
        println!(
            "    kind {}, severity {}, name {}",
            event.kind.as_str(),
            event.severity.as_str(),
            event.name
        );
        let stated = summary_keys(&event);
        for (key, value) in event.attributes.iter() {
            let note = if stated.contains(&key) {
                ""
            } else {
                "  (not in the summary)"
            };
            println!("    {key} = {value}{note}");
        }

        // And back: the event holds everything needed to rebuild the exact frames.
        let back = from_event(&event)?;
        assert_eq!(codec.encode(&back.view())?, *frames);
    }
    Ok(())
}
