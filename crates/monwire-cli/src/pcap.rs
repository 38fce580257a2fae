//! `decode nsm|galaxy|sysadm CAPTURE.pcap`: packet captures as `tcpdump` writes them, and the
//! dispatch of `decode` to recordings and captures by their magic numbers.
//!
//! - NSM: every UDP datagram, both directions, on every port or `--port`; a datagram that is
//!   not OSC at all (it starts with neither `/` nor `#bundle`) is counted, not decoded.
//! - Galaxy: each TCP connection reassembled per direction. The Hub → GUI direction of a Hub
//!   that connected to its GUI (`hub -gui HOST:PORT`, what `watch galaxy --listen` serves) runs
//!   through the same GUI-server session as `watch galaxy`, so it gives the watcher's events;
//!   every other direction gives one event per message (as `decode galaxy` does), with
//!   `galaxy.from` telling who sent it.
//! - SysAdm: `ws://` connections: the HTTP upgrade, then websocket messages (masking and
//!   fragments undone by tungstenite). Server → client events read as `watch sysadm` prints
//!   them; requests and replies as `decode sysadm` prints them (credentials and tokens
//!   redacted). `wss://` connections are reported as encrypted and skipped.

use std::collections::HashMap;
use std::io::BufReader;
use std::path::Path;

use clap::Args;
use monwire_capture::dissect::{Dissector, Item, Selection};
use monwire_capture::pcap::PacketReader;
use monwire_capture::tcp::{Side, StreamEvent};
use monwire_capture::ws::{Websockets, WsEvent};
use monwire_capture::{Kind, detect};
use monwire_event::Event;
use monwire_galaxy::codec::{Codec, StreamDecoder};
use monwire_galaxy::event::gui_event_to_event;
use monwire_galaxy::session::{GuiServer, sample_info_frame};

use crate::diag::{self, Throttle};
use crate::pipeline::Pipeline;
use crate::{DecodeCmd, Failure, Run, Status};

/// Options of `decode` for packet captures.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct PcapArgs {
    /// In a pcap/pcapng capture, only packets from or to these ports (comma-separated;
    /// default: every port).
    #[arg(long, value_delimiter = ',', value_name = "PORT")]
    pub(crate) port: Vec<u16>,
}

/// `decode` of a recording or a packet capture, when FILE is one (by its first bytes);
/// `None` to let the protocol's own decoder read it.
pub(crate) fn dispatch(cmd: &DecodeCmd, out: &mut Pipeline) -> Option<Run> {
    let (protocol, file, ports) = match cmd {
        DecodeCmd::Zmq(a) => ("zmq", a.file.as_deref(), &[][..]),
        DecodeCmd::Nsm(a) => ("nsm", a.file.as_deref(), &a.pcap.port[..]),
        DecodeCmd::Galaxy(a) => ("galaxy", a.file.as_deref(), &a.pcap.port[..]),
        DecodeCmd::Sysadm(a) => ("sysadm", a.file.as_deref(), &a.pcap.port[..]),
    };
    let path = file.filter(|p| *p != Path::new("-"))?;
    let first = crate::record::first_bytes(path)?;
    let what = path.display().to_string();
    let open = || std::fs::File::open(path).map_err(|e| Failure::Runtime(format!("{what}: {e}")));
    match detect(&first)? {
        Kind::Recording => Some(open().and_then(|f| {
            crate::record::decode(protocol, &what, Box::new(BufReader::new(f)), out)
        })),
        Kind::Pcap | Kind::PcapNg => {
            Some(open().and_then(|f| decode(protocol, &what, f, ports, out)))
        }
    }
}

/// Decodes a packet capture of `protocol`.
fn decode(
    protocol: &str,
    what: &str,
    file: std::fs::File,
    ports: &[u16],
    out: &mut Pipeline,
) -> Run {
    let mut proto: Box<dyn Protocol> = match protocol {
        "nsm" => Box::new(Nsm::default()),
        "galaxy" => Box::new(Galaxy::default()),
        "sysadm" => Box::new(Sysadm::default()),
        _ => {
            return Err(Failure::Usage(format!(
                "{what}: ZeroMQ monitor messages travel over inproc:// and are in no packet \
                 capture; record them with `monwire watch zmq … --record FILE`"
            )));
        }
    };
    let selection = if protocol == "nsm" {
        Selection::udp()
    } else {
        Selection::tcp()
    }
    .with_ports(ports.iter().copied());
    let reader = PacketReader::new(BufReader::new(file))
        .map_err(|e| Failure::Runtime(format!("{what}: {e}")))?;
    let mut dissector = Dissector::new(selection);
    let mut status = Status::Ok;
    let mut events = Vec::new();
    let mut skipped = 0u64;
    let mut throttle = Throttle::new(what);
    let mut deliver = |dissector: &mut Dissector,
                       proto: &mut Box<dyn Protocol>,
                       out: &mut Pipeline,
                       throttle: &mut Throttle,
                       status: &mut Status|
     -> bool {
        while let Some(item) = dissector.poll_item() {
            match item {
                Item::Skipped { .. } => skipped += 1,
                item => {
                    if let Err(e) = proto.item(&item, &mut events) {
                        throttle.report("skipped:", e);
                        *status = Status::BadInput;
                    }
                    for e in events.drain(..) {
                        if out.event(&e).is_break() {
                            return false;
                        }
                    }
                }
            }
        }
        true
    };
    for packet in reader {
        match packet {
            Ok(p) => {
                dissector.handle_packet(&p);
                if !deliver(&mut dissector, &mut proto, out, &mut throttle, &mut status) {
                    return Ok(status);
                }
            }
            Err(e) => {
                diag::note(what, e);
                status = Status::BadInput;
            }
        }
    }
    dissector.finish();
    deliver(&mut dissector, &mut proto, out, &mut throttle, &mut status);
    throttle.finish();
    if skipped > 0 {
        diag::note(
            what,
            format!("{skipped} packets skipped (truncated, IP fragments, or an unknown link type)"),
        );
    }
    if dissector.connections().untracked() > 0 {
        diag::note(
            what,
            format!(
                "{} TCP segments of connections beyond the table's bound were skipped",
                dissector.connections().untracked()
            ),
        );
    }
    proto.summary(what);
    Ok(status)
}

/// One protocol's view of the capture's items.
trait Protocol {
    /// Handles one item; `Err` is a stderr line.
    fn item(&mut self, item: &Item, out: &mut Vec<Event>) -> Result<(), String>;
    /// Notes at the end.
    fn summary(&self, _what: &str) {}
}

#[derive(Default)]
struct Nsm {
    not_osc: u64,
    limits: monwire_nsm::codec::Limits,
}

impl Protocol for Nsm {
    fn item(&mut self, item: &Item, out: &mut Vec<Event>) -> Result<(), String> {
        let Item::Datagram(d) = item else {
            return Ok(());
        };
        if !(d.payload.starts_with(b"/") || d.payload.starts_with(b"#bundle\0")) {
            self.not_osc += 1;
            return Ok(());
        }
        let messages = monwire_nsm::codec::decode_datagram(&d.payload, &self.limits)
            .map_err(|e| format!("packet {} ({} -> {}): {e}", d.number, d.src, d.dst))?;
        let source = format!("osc.udp://{}/", d.src);
        for m in &messages {
            out.push(
                monwire_nsm::event::to_event(m)
                    .with_source(source.clone())
                    .with_observed(d.time),
            );
        }
        Ok(())
    }

    fn summary(&self, what: &str) {
        if self.not_osc > 0 {
            diag::note(
                what,
                format!(
                    "{} UDP datagrams were not OSC (use --port to pick the NSM ports)",
                    self.not_osc
                ),
            );
        }
    }
}

/// One direction of a Galaxy connection.
enum GalaxyDir {
    /// Not yet known: both readings run until the first message decides.
    Undecided(GuiServer, StreamDecoder),
    /// The Hub's side of `-gui HOST:PORT`: the GUI-server session.
    Hub(GuiServer),
    /// One event per message.
    Plain(StreamDecoder),
    /// Given up (a gap or a decode error).
    Done,
}

#[derive(Default)]
struct Galaxy {
    dirs: HashMap<(u64, Side), GalaxyDir>,
}

fn plain_events(
    dec: &mut StreamDecoder,
    from: &str,
    sender: &str,
    time: std::time::SystemTime,
    out: &mut Vec<Event>,
) -> Result<(), String> {
    loop {
        let at = dec.offset();
        match dec.next_message() {
            Ok(Some(msg)) => {
                let e = match msg.as_frame() {
                    Some(f) => monwire_galaxy::event::to_event(f)
                        .with_attr("galaxy.msg_type", msg.msg_type.code()),
                    None => Event::new(
                        monwire_event::Protocol::Galaxy,
                        monwire_event::Kind::Other,
                        msg.msg_type.name(),
                    ),
                };
                out.push(
                    e.with_attr("galaxy.from", from)
                        .with_source(sender.to_owned())
                        .with_observed(time),
                );
            }
            Ok(None) => return Ok(()),
            Err(e) => return Err(format!("message at byte {at}: {e}")),
        }
    }
}

fn hub_events(s: &mut GuiServer, hub: &str, time: std::time::SystemTime, out: &mut Vec<Event>) {
    while s.poll_transmit().is_some() {}
    while let Some(ev) = s.poll_event() {
        out.push(
            gui_event_to_event(&ev)
                .with_source(hub.to_owned())
                .with_observed(time),
        );
    }
}

impl Protocol for Galaxy {
    fn item(&mut self, item: &Item, out: &mut Vec<Event>) -> Result<(), String> {
        let Item::Tcp(o) = item else {
            return Ok(());
        };
        let c = o.connection;
        let sender = match o.from {
            Side::Client => c.client,
            Side::Server => c.server,
        }
        .to_string();
        let where_ = format!("connection {} ({} -> {})", c.number, c.client, c.server);
        let dir = self
            .dirs
            .entry((c.number, o.from))
            .or_insert_with(|| match o.from {
                Side::Client => GalaxyDir::Undecided(
                    GuiServer::new(Codec::default(), sample_info_frame()),
                    StreamDecoder::new(Codec::default()),
                ),
                Side::Server => GalaxyDir::Plain(StreamDecoder::new(Codec::default())),
            });
        let from = match o.from {
            Side::Client => "client",
            Side::Server => "server",
        };
        let data = match &o.event {
            StreamEvent::Data(d) => d,
            StreamEvent::Gap(n) => {
                if !matches!(dir, GalaxyDir::Done) {
                    *dir = GalaxyDir::Done;
                    return Err(format!(
                        "{where_}: {n} bytes from the {from} were not captured; the rest of \
                         that direction is skipped"
                    ));
                }
                return Ok(());
            }
            _ => {
                // The end of this direction.
                self.dirs.remove(&(c.number, o.from));
                return Ok(());
            }
        };
        let result = match dir {
            GalaxyDir::Undecided(server, plain) => {
                plain.push(data);
                let r = server.handle_input(data);
                let mut first = Vec::new();
                hub_events(server, &sender, o.time, &mut first);
                let hub = r.is_ok() && first.first().is_some_and(|e| e.name == "handshake");
                if hub {
                    out.extend(first);
                    let GalaxyDir::Undecided(server, _) = std::mem::replace(dir, GalaxyDir::Done)
                    else {
                        return Ok(());
                    };
                    *dir = GalaxyDir::Hub(server);
                    Ok(())
                } else if r.is_err() || !first.is_empty() {
                    // Not a Hub's handshake: read it message by message.
                    let GalaxyDir::Undecided(_, mut plain) =
                        std::mem::replace(dir, GalaxyDir::Done)
                    else {
                        return Ok(());
                    };
                    let r = plain_events(&mut plain, from, &sender, o.time, out);
                    *dir = GalaxyDir::Plain(plain);
                    r
                } else {
                    Ok(())
                }
            }
            GalaxyDir::Hub(server) => {
                let r = server.handle_input(data).map_err(|e| e.to_string());
                hub_events(server, &sender, o.time, out);
                r
            }
            GalaxyDir::Plain(plain) => {
                plain.push(data);
                plain_events(plain, from, &sender, o.time, out)
            }
            GalaxyDir::Done => Ok(()),
        };
        if let Err(e) = result {
            *dir = GalaxyDir::Done;
            return Err(format!("{where_}: from the {from}: {e}"));
        }
        Ok(())
    }
}

#[derive(Default)]
struct Sysadm {
    ws: Websockets,
    paths: HashMap<u64, String>,
    limits: monwire_sysadm::codec::Limits,
}

impl Protocol for Sysadm {
    fn item(&mut self, item: &Item, out: &mut Vec<Event>) -> Result<(), String> {
        let Item::Tcp(o) = item else {
            return Ok(());
        };
        self.ws.handle(o);
        let mut errors = Vec::new();
        while let Some(w) = self.ws.poll_output() {
            let c = w.connection;
            let where_ = format!("connection {} ({} -> {})", c.number, c.client, c.server);
            let text = match &w.event {
                WsEvent::Upgraded { what } => {
                    if w.from == Side::Client {
                        let path = what.split_once(' ').map_or("/", |(_, p)| p);
                        self.paths
                            .insert(c.number, format!("ws://{}{path}", c.server));
                    }
                    continue;
                }
                WsEvent::Text(t) => t.as_bytes(),
                WsEvent::Binary(b) => b.as_slice(),
                WsEvent::Closed => {
                    if w.from == Side::Server {
                        self.paths.remove(&c.number);
                    }
                    continue;
                }
                WsEvent::Encrypted => {
                    diag::note(
                        "sysadm",
                        format!("{where_}: TLS (wss://): encrypted, skipped"),
                    );
                    continue;
                }
                WsEvent::Unreadable(why) => {
                    errors.push(format!("{where_}: {why}"));
                    continue;
                }
                _ => continue,
            };
            let source = self
                .paths
                .get(&c.number)
                .cloned()
                .unwrap_or_else(|| format!("ws://{}/", c.server));
            match monwire_sysadm::codec::decode(text, &self.limits) {
                Ok(m) => {
                    let e = if w.from == Side::Server
                        && matches!(m.body, monwire_sysadm::message::Body::Event(_))
                    {
                        crate::sysadm::client_event(
                            monwire_sysadm::session::ClientEvent::Event(m),
                            &source,
                        )
                    } else {
                        crate::sysadm::message_event(&m).with_source(source)
                    };
                    out.push(e.with_observed(w.time));
                }
                Err(e) => errors.push(format!(
                    "{where_}: a message from the {}: {e}",
                    match w.from {
                        Side::Client => "client",
                        Side::Server => "server",
                    }
                )),
            }
        }
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }
}
