//! Captures of monitoring traffic for monwire: recordings and packet captures.
//!
//! Two ways to keep what a monitor saw, and read it back later into the same events:
//!
//! - **Recordings** ([`record`]): what a live monwire source read off the wire, as it came, with
//!   each message's arrival time, in a small line-oriented text format (`monwire-capture 1`):
//!   ZeroMQ monitor messages as their frames, NSM datagrams with their peer, Galaxy TCP chunks
//!   and SysAdm websocket texts with their direction. The format is defined in [`record`].
//! - **Packet captures** ([`pcap`], [`link`], [`tcp`], [`ws`], [`dissect`]): pcap and pcapng
//!   files as `tcpdump` writes them (read with [`pcap_parser`]), frames sliced with
//!   [`etherparse`] (Ethernet, Linux cooked v1 and v2, BSD loopback, raw IP), UDP datagrams as
//!   they are, TCP reassembled per connection and direction (retransmissions, overlaps, out of
//!   order, bounded memory), and websocket messages out of `ws://` streams through
//!   [`tungstenite`]'s frame codec.
//!
//! Everything here is sans-IO except the readers over [`std::io::Read`]: packets or lines go
//! in, items come out, no sockets, no clock. Which protocol the bytes hold is the caller's
//! business (the `monwire` CLI hands them to the protocol crates).
//!
//! [`detect`] tells the kind of a file from its first bytes.
//!
//! # Feature flags
//!
//! None: the crate always has both readers.
//!
//! # Example
//!
//! A pcap file in memory holding one UDP datagram on loopback, read back:
//!
//! ```
//! use monwire_capture::dissect::{Dissector, Item, Selection};
//! use monwire_capture::pcap::PacketReader;
//! use monwire_capture::{Kind, detect};
//!
//! // A classic pcap header (LINKTYPE_RAW), then one record: IPv4 + UDP 1000 -> 2000, "hi".
//! let mut file = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0];
//! file.extend_from_slice(&[0xff, 0xff, 0, 0, 101, 0, 0, 0]);
//! let ip = [
//!     0x45, 0, 0, 30, 0, 0, 0x40, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1,
//!     0x03, 0xe8, 0x07, 0xd0, 0, 10, 0, 0, b'h', b'i',
//! ];
//! file.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, 0]); // 1 s, 0 µs
//! file.extend_from_slice(&(ip.len() as u32).to_le_bytes());
//! file.extend_from_slice(&(ip.len() as u32).to_le_bytes());
//! file.extend_from_slice(&ip);
//!
//! assert_eq!(detect(&file), Some(Kind::Pcap));
//! let mut dissector = Dissector::new(Selection::udp());
//! for packet in PacketReader::new(&file[..])? {
//!     dissector.handle_packet(&packet?);
//! }
//! dissector.finish();
//! match dissector.poll_item() {
//!     Some(Item::Datagram(d)) => {
//!         assert_eq!(d.payload, b"hi");
//!         assert_eq!(d.dst.port(), 2000);
//!     }
//!     other => panic!("{other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod dissect;
pub mod link;
pub mod pcap;
pub mod record;
pub mod tcp;
pub mod ws;

/// What kind of capture a file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A monwire recording (`monwire-capture …` first line).
    Recording,
    /// A classic pcap file.
    Pcap,
    /// A pcapng file.
    PcapNg,
}

/// The kind of a capture from its first bytes (at least 16 are needed for a recording, 4 for
/// pcap); `None` for anything else.
pub fn detect(first: &[u8]) -> Option<Kind> {
    if first.starts_with(record::MAGIC) {
        return Some(Kind::Recording);
    }
    match pcap::detect(first)? {
        pcap::Layout::Pcap => Some(Kind::Pcap),
        pcap::Layout::PcapNg => Some(Kind::PcapNg),
    }
}
