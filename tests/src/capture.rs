//! Bodies of the `capture_*` fuzz targets, shared with the stable corpus replay
//! (`tests/tests/capture_corpus.rs`).

use monwire_capture::dissect::{Dissector, Item, Selection};
use monwire_capture::link::{self, Transport};
use monwire_capture::pcap::{self, PacketReader};
use monwire_capture::record::{
    self, Reader, encode_header, encode_record, parse_header, parse_record,
};
use monwire_capture::tcp::{self, StreamEvent};
use monwire_capture::ws::{self, Websockets};

/// Limits small enough that a fuzz input reaches them.
pub fn record_limits() -> record::Limits {
    record::Limits::default().with_max_line(1 << 16)
}

/// A recording read line by line; every record (and the header) that reads encodes back to a
/// line that reads as the same record.
pub fn record_round_trip(data: &[u8]) {
    let limits = record_limits();
    let Ok(reader) = Reader::with_limits(data, limits) else {
        return;
    };
    let mut line = Vec::new();
    encode_header(reader.header(), &mut line);
    assert_eq!(&parse_header(&line).unwrap(), reader.header(), "header");
    let mut n = 0;
    for rec in reader {
        n += 1;
        assert!(n <= data.len() + 1, "more records than lines");
        let Ok(rec) = rec else { continue };
        line.clear();
        encode_record(&rec.as_ref(), &mut line);
        let back = parse_record(&line, 2, &limits)
            .unwrap_or_else(|e| panic!("re-encoded record does not read: {e}"))
            .unwrap();
        assert_eq!(back, rec);
    }
}

/// What [`pcap_dissect`] saw, for tests that check more.
#[derive(Debug, Default)]
pub struct Dissected {
    /// Packets read.
    pub packets: usize,
    /// UDP datagrams given out.
    pub datagrams: usize,
    /// TCP payload bytes fed in.
    pub tcp_in: u64,
    /// Reassembled bytes given out.
    pub tcp_out: u64,
    /// Websocket outputs.
    pub ws: Vec<ws::WsEvent>,
}

/// A pcap/pcapng file through the whole reader: packets, link layers, UDP, TCP reassembly
/// (both directions) and websocket framing, with small limits. Checks that reassembly never
/// gives out more bytes than came in, never an empty chunk or gap, and that everything ends.
pub fn pcap_dissect(data: &[u8]) -> Dissected {
    let mut seen = Dissected::default();
    let limits = pcap::Limits::default().with_max_block(1 << 16);
    let Ok(reader) = PacketReader::with_limits(data, limits) else {
        return seen;
    };
    let tcp_limits = tcp::Limits::default()
        .with_max_pending(1 << 12)
        .with_max_connections(16);
    let mut dissector = Dissector::with_limits(Selection::all(), tcp_limits);
    let mut websockets = Websockets::new(
        ws::Limits::default()
            .with_max_head(1024)
            .with_max_message(1 << 14),
    );
    let mut drain = |d: &mut Dissector, seen: &mut Dissected| {
        while let Some(item) = d.poll_item() {
            match &item {
                Item::Datagram(_) => seen.datagrams += 1,
                Item::Tcp(o) => {
                    match &o.event {
                        StreamEvent::Data(b) => {
                            assert!(!b.is_empty(), "an empty chunk");
                            seen.tcp_out += b.len() as u64;
                        }
                        StreamEvent::Gap(n) => assert!(*n > 0, "an empty gap"),
                        _ => {}
                    }
                    websockets.handle(o);
                    while let Some(w) = websockets.poll_output() {
                        seen.ws.push(w.event);
                    }
                }
                _ => {}
            }
        }
    };
    for packet in reader {
        let Ok(p) = packet else { break };
        seen.packets += 1;
        if let Ok(Transport::Tcp { payload, .. }) = link::slice(p.linktype, &p.data) {
            seen.tcp_in += payload.len() as u64;
        }
        dissector.handle_packet(&p);
        drain(&mut dissector, &mut seen);
        assert!(
            seen.tcp_out <= seen.tcp_in,
            "reassembly gave out {} bytes of {} fed",
            seen.tcp_out,
            seen.tcp_in
        );
    }
    dissector.finish();
    drain(&mut dissector, &mut seen);
    assert!(seen.tcp_out <= seen.tcp_in);
    assert!(
        dissector.connections().is_empty(),
        "connections left after finish"
    );
    seen
}
