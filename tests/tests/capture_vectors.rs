//! Golden captures in `tests/vectors/capture/`, made by Debian's `tcpdump` 4.99 (libpcap
//! 1.10) on loopback while our watch/serve pairs ran, and recordings made by
//! `watch … --record`:
//!
//! - `nsm-lo.pcap` (`-i lo`, Ethernet), `nsm-any-sll2.pcap` (`-i any`, Linux cooked v2) and
//!   `nsm-lo.pcapng` (the `lo` packets rewritten as pcapng with nanosecond times) hold the
//!   same datagrams;
//! - `galaxy-lo-reordered.pcap` is `galaxy-lo.pcap` with its data segments swapped in pairs
//!   and some sent twice: reassembly gives the same two byte streams;
//! - `sysadm-ws-lo.pcap` is a `ws://` session with a password login; `sysadm-wss-lo.pcap`
//!   the same over TLS.
#![cfg(feature = "capture")]

mod capture_common;

use std::collections::BTreeMap;
use std::time::SystemTime;

use monwire_capture::dissect::{Dissector, Item, Selection};
use monwire_capture::pcap::{Layout, PacketReader, linktype};
use monwire_capture::tcp::{Side, StreamEvent};
use monwire_capture::ws::{Websockets, WsEvent};
use monwire_capture::{Kind, detect};
use monwire_tests::vectors;

fn items(name: &str, selection: Selection) -> (Vec<Item>, Vec<i32>) {
    let bytes = vectors::read("capture", name);
    let mut d = Dissector::new(selection);
    let mut linktypes = Vec::new();
    let mut out = Vec::new();
    for p in PacketReader::new(&bytes[..]).unwrap() {
        let p = p.unwrap();
        linktypes.push(p.linktype);
        d.handle_packet(&p);
        out.extend(std::iter::from_fn(|| d.poll_item()));
    }
    d.finish();
    out.extend(std::iter::from_fn(|| d.poll_item()));
    (out, linktypes)
}

type Datagram = (SystemTime, String, String, Vec<u8>);

fn datagrams(name: &str) -> (Vec<Datagram>, Vec<i32>) {
    let (items, lt) = items(name, Selection::udp());
    let d = items
        .into_iter()
        .filter_map(|i| match i {
            Item::Datagram(d) => Some((d.time, d.src.to_string(), d.dst.to_string(), d.payload)),
            _ => None,
        })
        .collect();
    (d, lt)
}

#[test]
fn magic_numbers_tell_the_kinds_apart() {
    for (name, kind) in [
        ("nsm-lo.pcap", Kind::Pcap),
        ("nsm-lo.pcapng", Kind::PcapNg),
        ("nsm.rec", Kind::Recording),
        ("zmq.rec", Kind::Recording),
    ] {
        assert_eq!(
            detect(&vectors::read("capture", name)),
            Some(kind),
            "{name}"
        );
    }
    assert_eq!(detect(b"/ray/monitor"), None);
    let ng = vectors::read("capture", "nsm-lo.pcapng");
    assert_eq!(PacketReader::new(&ng[..]).unwrap().layout(), Layout::PcapNg);
}

#[test]
fn nsm_datagrams_agree_across_ethernet_cooked_v2_and_pcapng() {
    let (lo, lt_lo) = datagrams("nsm-lo.pcap");
    let (any, lt_any) = datagrams("nsm-any-sll2.pcap");
    let (ng, lt_ng) = datagrams("nsm-lo.pcapng");
    assert!(lt_lo.iter().all(|&l| l == linktype::ETHERNET));
    assert!(lt_any.iter().all(|&l| l == linktype::LINUX_SLL2));
    assert!(lt_ng.iter().all(|&l| l == linktype::ETHERNET));
    assert!(lo.len() >= 15, "{} datagrams", lo.len());
    assert!(
        lo.iter().all(|(_, _, _, p)| p.starts_with(b"/")),
        "not all OSC"
    );
    // Same datagrams in both directions (the -i any capture was taken at the same time, of
    // the same traffic), and the pcapng copy has the same times to the microsecond.
    let strip = |v: &[Datagram]| -> Vec<(String, String, Vec<u8>)> {
        v.iter()
            .map(|(_, s, d, p)| (s.clone(), d.clone(), p.clone()))
            .collect()
    };
    assert_eq!(strip(&lo), strip(&any));
    assert_eq!(lo, ng);
    let senders: std::collections::HashSet<&str> = lo.iter().map(|d| d.1.as_str()).collect();
    assert_eq!(senders.len(), 2, "both directions");
}

fn streams(name: &str) -> BTreeMap<(u64, bool), Vec<u8>> {
    let (items, _) = items(name, Selection::tcp());
    let mut out: BTreeMap<(u64, bool), Vec<u8>> = BTreeMap::new();
    let mut ends = 0;
    for i in items {
        if let Item::Tcp(o) = i {
            let k = (o.connection.number, o.from == Side::Client);
            match o.event {
                StreamEvent::Data(d) => out.entry(k).or_default().extend(d),
                StreamEvent::Gap(n) => panic!("{name}: a gap of {n} bytes"),
                _ => ends += 1,
            }
        }
    }
    assert_eq!(
        ends,
        2 * out
            .keys()
            .map(|k| k.0)
            .collect::<std::collections::HashSet<_>>()
            .len()
    );
    out
}

#[test]
fn galaxy_reordered_and_retransmitted_segments_reassemble_to_the_same_streams() {
    let straight = streams("galaxy-lo.pcap");
    let shuffled = streams("galaxy-lo-reordered.pcap");
    assert_eq!(straight.len(), 2, "one connection, two directions");
    assert_eq!(straight, shuffled);
    // The Hub's side starts with the handshake message (type 1, then the frame's name).
    let hub = straight.get(&(1, true)).unwrap();
    assert!(hub.windows(9).any(|w| w == b"handshake"));
}

#[test]
fn galaxy_reordered_capture_decodes_to_the_same_events() {
    let dir = vectors::dir("capture");
    let (a, err_a, code_a) = capture_common::decode("galaxy", &dir.join("galaxy-lo.pcap"), &[]);
    let (b, err_b, code_b) =
        capture_common::decode("galaxy", &dir.join("galaxy-lo-reordered.pcap"), &[]);
    assert_eq!((code_a, code_b), (Some(0), Some(0)), "{err_a}{err_b}");
    assert!(a.len() >= 15);
    // Per direction the events are the same, in the same order (how the two directions
    // interleave follows the packets, which were reordered).
    let side = |v: &[serde_json::Value], gui: bool| -> Vec<serde_json::Value> {
        v.iter()
            .filter(|e| e["attributes"].get("galaxy.from").is_some() == gui)
            .map(capture_common::key)
            .collect()
    };
    assert_eq!(side(&a, false), side(&b, false));
    assert_eq!(side(&a, true), side(&b, true));
    assert_eq!(a.first().unwrap()["name"], "handshake");
}

#[test]
fn sysadm_ws_capture_gives_every_message_and_wss_nothing() {
    let (ws_items, _) = items("sysadm-ws-lo.pcap", Selection::tcp());
    let mut ws = Websockets::default();
    let mut texts = Vec::new();
    for i in &ws_items {
        if let Item::Tcp(o) = i {
            ws.handle(o);
            while let Some(w) = ws.poll_output() {
                match w.event {
                    WsEvent::Text(t) => texts.push((w.from, t)),
                    WsEvent::Unreadable(why) => panic!("{why}"),
                    _ => {}
                }
            }
        }
    }
    // The client's masked requests (identify, auth, subscribes) and the server's replies and
    // events, all JSON objects.
    assert!(
        texts
            .iter()
            .any(|(s, t)| *s == Side::Client && t.contains("\"auth\""))
    );
    assert!(texts.iter().filter(|(s, _)| *s == Side::Server).count() >= 8);
    assert!(texts.iter().all(|(_, t)| t.starts_with('{')));

    let (wss_items, _) = items("sysadm-wss-lo.pcap", Selection::tcp());
    let mut ws = Websockets::default();
    let mut events = Vec::new();
    for i in &wss_items {
        if let Item::Tcp(o) = i {
            ws.handle(o);
            events.extend(std::iter::from_fn(|| ws.poll_output()).map(|w| w.event));
        }
    }
    assert_eq!(events, vec![WsEvent::Encrypted]);
}

#[test]
fn recordings_replay_through_the_cli() {
    let dir = vectors::dir("capture");
    for (file, protocol, first) in [
        ("zmq.rec", "zmq", "LISTENING"),
        ("nsm.rec", "nsm", "client_state"),
        ("galaxy.rec", "galaxy", "handshake"),
        ("sysadm.rec", "sysadm", "connected"),
    ] {
        let (events, stderr, code) = capture_common::decode(protocol, &dir.join(file), &[]);
        assert_eq!(code, Some(0), "{file}: {stderr}");
        assert_eq!(events.first().unwrap()["name"], first, "{file}");
    }
    // A recording names its protocol: decoding it as another one is a usage error.
    let (_, stderr, code) = capture_common::decode("galaxy", &dir.join("nsm.rec"), &[]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("a recording of nsm"), "{stderr}");
}
