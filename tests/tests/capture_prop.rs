//! Properties of the capture readers, over generated inputs:
//!
//! - recordings: any records written by `Writer` read back identical, line by line;
//! - TCP reassembly: a byte stream cut into segments, delivered out of order, with
//!   retransmissions and overlaps, and a sequence number that wraps, comes out whole, once,
//!   in order, then ends;
//! - websockets: text messages framed by a client (masked, fragmented, with pings between the
//!   fragments) and by a server, cut into arbitrary TCP chunks, come out as the same texts.
#![cfg(feature = "capture")]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use monwire_capture::link::TcpFlags;
use monwire_capture::record::{Direction, Header, Payload, Reader, Record, Writer};
use monwire_capture::tcp::{ConnectionId, Output, Side, Stream, StreamEvent};
use monwire_capture::ws::{Websockets, WsEvent};
use proptest::prelude::*;

fn time() -> impl Strategy<Value = SystemTime> {
    (0u64..1 << 40, 0u32..1_000_000_000).prop_map(|(s, n)| UNIX_EPOCH + Duration::new(s, n))
}

fn bytes() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..64)
}

fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        prop::collection::vec(bytes(), 1..6).prop_map(Payload::Frames),
        bytes().prop_map(Payload::Datagram),
        bytes().prop_map(Payload::Bytes),
        ".{0,40}".prop_map(Payload::Text),
        Just(Payload::Open),
        Just(Payload::Close),
    ]
}

fn record() -> impl Strategy<Value = Record> {
    (
        time(),
        prop_oneof![Just(Direction::In), Just(Direction::Out)],
        prop::option::of(".{0,20}"),
        payload(),
    )
        .prop_map(|(t, d, peer, p)| {
            let r = Record::new(t, d, p);
            match peer {
                Some(peer) => r.with_peer(peer),
                None => r,
            }
        })
}

proptest! {
    #[test]
    fn recordings_read_back_what_was_written(
        protocol in ".{0,12}",
        settings in prop::collection::vec((".{0,8}", ".{0,12}"), 0..4),
        records in prop::collection::vec(record(), 0..20),
    ) {
        let mut header = Header::new(protocol);
        for (k, v) in settings {
            header = header.with(k, v);
        }
        let mut w = Writer::new(Vec::new(), &header).unwrap();
        for r in &records {
            w.write(r).unwrap();
        }
        let bytes = w.into_inner().unwrap();
        // One line per record, printable ASCII only: the format survives any text tool.
        prop_assert_eq!(bytes.iter().filter(|&&b| b == b'\n').count(), records.len() + 1);
        prop_assert!(bytes.iter().all(|&b| b == b'\n' || (0x20..0x7f).contains(&b)));
        let mut r = Reader::new(&bytes[..]).unwrap();
        prop_assert_eq!(r.header(), &header);
        let back: Vec<Record> = r.by_ref().map(Result::unwrap).collect();
        prop_assert_eq!(back, records);
    }

    #[test]
    fn tcp_segments_in_any_order_with_retransmissions_reassemble_to_the_stream(
        stream in prop::collection::vec(any::<u8>(), 1..600),
        cuts in prop::collection::vec(1usize..80, 1..40),
        order in prop::collection::vec(any::<prop::sample::Index>(), 0..60),
        isn in any::<u32>(),
    ) {
        // Segments: consecutive cuts, plus overlapping retransmissions of random spans.
        let mut segs: Vec<(usize, usize)> = Vec::new();
        let mut at = 0;
        for c in cuts.iter().cycle() {
            if at >= stream.len() {
                break;
            }
            let end = (at + c).min(stream.len());
            segs.push((at, end));
            at = end;
        }
        let originals = segs.len();
        for (i, ix) in order.iter().enumerate() {
            let (a, b) = segs[ix.index(originals)];
            let extra = (i % 7).min(stream.len() - b);
            segs.push((a.saturating_sub(i % 5), b + extra));
        }
        // Shuffle deterministically from the indices.
        for (i, ix) in order.iter().enumerate() {
            let j = ix.index(segs.len());
            let k = i % segs.len();
            segs.swap(k, j);
        }
        let ack = TcpFlags { ack: true, ..TcpFlags::default() };
        let mut s = Stream::new(1 << 20);
        s.handle_segment(isn, TcpFlags { syn: true, ..TcpFlags::default() }, b"");
        let last = stream.len();
        for &(a, b) in &segs {
            let seq = isn.wrapping_add(1).wrapping_add(a as u32);
            let flags = TcpFlags { fin: b == last, ..ack };
            s.handle_segment(seq, flags, &stream[a..b]);
        }
        let mut out = Vec::new();
        let mut ends = 0;
        while let Some(e) = s.poll_event() {
            match e {
                StreamEvent::Data(d) => {
                    prop_assert_eq!(ends, 0, "data after the end");
                    out.extend(d);
                }
                StreamEvent::End => ends += 1,
                StreamEvent::Gap(n) => prop_assert!(false, "a gap of {} with no loss", n),
                _ => {}
            }
        }
        prop_assert_eq!(out, stream);
        prop_assert_eq!(ends, 1);
    }

    #[test]
    fn websocket_texts_come_out_whatever_the_framing_and_the_tcp_cuts(
        texts in prop::collection::vec(".{0,60}", 1..6),
        from_client in any::<bool>(),
        mask in any::<[u8; 4]>(),
        fragment in 1usize..20,
        cut in 1usize..50,
    ) {
        let masked = from_client.then_some(mask);
        let mut wire = if from_client {
            b"GET /p HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".to_vec()
        } else {
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n".to_vec()
        };
        for t in &texts {
            let bytes = t.as_bytes();
            let chunks: Vec<&[u8]> = if bytes.is_empty() {
                vec![b""]
            } else {
                bytes.chunks(fragment).collect()
            };
            for (i, c) in chunks.iter().enumerate() {
                let opcode = if i == 0 { 1 } else { 0 };
                wire.extend(frame(i + 1 == chunks.len(), opcode, masked, c));
                if i == 0 && chunks.len() > 1 {
                    wire.extend(frame(true, 9, masked, b"ping"));
                }
            }
        }
        let side = if from_client { Side::Client } else { Side::Server };
        let conn = ConnectionId {
            number: 1,
            client: "127.0.0.1:1".parse().unwrap(),
            server: "127.0.0.1:2".parse().unwrap(),
        };
        let mut ws = Websockets::default();
        let mut got = Vec::new();
        for chunk in wire.chunks(cut) {
            ws.handle(&Output::new(UNIX_EPOCH, conn, side, StreamEvent::Data(chunk.to_vec())));
            while let Some(o) = ws.poll_output() {
                match o.event {
                    WsEvent::Text(t) => got.push(t),
                    WsEvent::Upgraded { .. } => {}
                    other => prop_assert!(false, "unexpected {:?}", other),
                }
            }
        }
        prop_assert_eq!(got, texts);
    }
}

/// A frame as RFC 6455 §5.2 lays it out, with the 16-bit length form when needed.
fn frame(fin: bool, opcode: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![(u8::from(fin) << 7) | opcode];
    let m = u8::from(mask.is_some()) << 7;
    if payload.len() < 126 {
        f.push(m | payload.len() as u8);
    } else {
        f.push(m | 126);
        f.extend((payload.len() as u16).to_be_bytes());
    }
    match mask {
        Some(k) => {
            f.extend_from_slice(&k);
            f.extend(payload.iter().enumerate().map(|(i, b)| b ^ k[i % 4]));
        }
        None => f.extend_from_slice(payload),
    }
    f
}
