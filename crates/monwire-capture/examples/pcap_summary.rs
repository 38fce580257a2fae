//! Through the file reader: list what a pcap/pcapng file holds, as `tcpdump -w` wrote it:
//! every UDP datagram, every reassembled TCP chunk per connection and direction, and the
//! websocket messages of `ws://` connections.
//!
//! `cargo run -p monwire-capture --example pcap_summary -- tests/vectors/capture/sysadm-ws-lo.pcap`

use std::fs::File;
use std::io::BufReader;

use monwire_capture::dissect::{Dissector, Item, Selection};
use monwire_capture::pcap::PacketReader;
use monwire_capture::tcp::StreamEvent;
use monwire_capture::ws::{Websockets, WsEvent};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: pcap_summary FILE.pcap");
        std::process::exit(2);
    };
    let reader = PacketReader::new(BufReader::new(File::open(&path)?))?;
    let mut dissector = Dissector::new(Selection::all());
    let mut websockets = Websockets::default();
    let mut show = |dissector: &mut Dissector| {
        while let Some(item) = dissector.poll_item() {
            match &item {
                Item::Datagram(d) => {
                    println!(
                        "#{} udp {} -> {}: {} bytes",
                        d.number,
                        d.src,
                        d.dst,
                        d.payload.len()
                    )
                }
                Item::Tcp(o) => {
                    let c = o.connection;
                    match &o.event {
                        StreamEvent::Data(b) => println!(
                            "tcp {} ({} <-> {}) {:?}: {} bytes",
                            c.number,
                            c.client,
                            c.server,
                            o.from,
                            b.len()
                        ),
                        other => println!("tcp {} {:?}: {other:?}", c.number, o.from),
                    }
                    websockets.handle(o);
                    while let Some(w) = websockets.poll_output() {
                        match w.event {
                            // Only the size: a message may hold a password.
                            WsEvent::Text(t) => {
                                println!("  ws text from {:?}: {} bytes", w.from, t.len())
                            }
                            other => println!("  ws {:?}: {other:?}", w.from),
                        }
                    }
                }
                Item::Skipped { number, why } => println!("#{number} skipped: {why}"),
                _ => {}
            }
        }
    };
    for packet in reader {
        dissector.handle_packet(&packet?);
        show(&mut dissector);
    }
    dissector.finish();
    show(&mut dissector);
    Ok(())
}
