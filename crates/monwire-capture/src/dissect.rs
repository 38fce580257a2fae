//! From captured packets to UDP datagrams and reassembled TCP streams, in capture order.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::SystemTime;

use crate::link::{self, Skip, Transport};
use crate::pcap::Packet;
use crate::tcp::{self, Connections};

/// Which packets to look at.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Selection {
    /// Only packets with one of these ports as source or destination (empty: every port).
    pub ports: Vec<u16>,
    /// Look at UDP.
    pub udp: bool,
    /// Look at TCP.
    pub tcp: bool,
}

impl Selection {
    /// UDP only, every port.
    pub fn udp() -> Selection {
        Selection {
            ports: Vec::new(),
            udp: true,
            tcp: false,
        }
    }

    /// TCP only, every port.
    pub fn tcp() -> Selection {
        Selection {
            ports: Vec::new(),
            udp: false,
            tcp: true,
        }
    }

    /// UDP and TCP, every port.
    pub fn all() -> Selection {
        Selection {
            ports: Vec::new(),
            udp: true,
            tcp: true,
        }
    }

    /// Only these ports.
    #[must_use]
    pub fn with_ports(mut self, ports: impl IntoIterator<Item = u16>) -> Selection {
        self.ports = ports.into_iter().collect();
        self
    }

    fn port_ok(&self, a: &SocketAddr, b: &SocketAddr) -> bool {
        self.ports.is_empty() || self.ports.contains(&a.port()) || self.ports.contains(&b.port())
    }
}

/// One UDP datagram.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Datagram {
    /// The packet number.
    pub number: u64,
    /// The capture time.
    pub time: SystemTime,
    /// Sender.
    pub src: SocketAddr,
    /// Receiver.
    pub dst: SocketAddr,
    /// The UDP payload.
    pub payload: Vec<u8>,
}

/// What a [`Dissector`] yields.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Item {
    /// A UDP datagram.
    Datagram(Datagram),
    /// Reassembled TCP data, a gap or an end.
    Tcp(tcp::Output),
    /// A packet that was not looked at for a reason worth reporting (malformed, a fragment,
    /// a link type this crate does not slice). Packets outside the [`Selection`] are not
    /// reported.
    Skipped {
        /// The packet number.
        number: u64,
        /// Why.
        why: Skip,
    },
}

/// Packets in, datagrams and stream data out (sans-IO: feed it with
/// [`handle_packet`](Dissector::handle_packet), drain [`poll_item`](Dissector::poll_item),
/// and call [`finish`](Dissector::finish) at the end of the capture).
#[derive(Debug)]
pub struct Dissector {
    selection: Selection,
    tcp: Connections,
    out: VecDeque<Item>,
    last_time: SystemTime,
}

impl Dissector {
    /// A dissector for `selection` with default TCP limits.
    pub fn new(selection: Selection) -> Dissector {
        Dissector::with_limits(selection, tcp::Limits::default())
    }

    /// A dissector with TCP limits.
    pub fn with_limits(selection: Selection, limits: tcp::Limits) -> Dissector {
        Dissector {
            selection,
            tcp: Connections::new(limits),
            out: VecDeque::new(),
            last_time: SystemTime::UNIX_EPOCH,
        }
    }

    /// The TCP table (for its counters).
    pub fn connections(&self) -> &Connections {
        &self.tcp
    }

    /// Feeds one packet.
    pub fn handle_packet(&mut self, p: &Packet) {
        self.last_time = self.last_time.max(p.time);
        let t = match link::slice(p.linktype, &p.data) {
            Ok(t) => t,
            Err(Skip::NotUdpOrTcp) => return,
            Err(why) => {
                self.out.push_back(Item::Skipped {
                    number: p.number,
                    why,
                });
                return;
            }
        };
        match t {
            Transport::Udp { src, dst, payload } => {
                if self.selection.udp && self.selection.port_ok(&src, &dst) {
                    self.out.push_back(Item::Datagram(Datagram {
                        number: p.number,
                        time: p.time,
                        src,
                        dst,
                        payload: payload.to_vec(),
                    }));
                }
            }
            Transport::Tcp {
                src,
                dst,
                seq,
                flags,
                payload,
            } => {
                if self.selection.tcp && self.selection.port_ok(&src, &dst) {
                    self.tcp
                        .handle_segment(p.time, src, dst, seq, flags, payload);
                    while let Some(o) = self.tcp.poll_output() {
                        self.out.push_back(Item::Tcp(o));
                    }
                }
            }
        }
    }

    /// The capture ended: every open TCP stream is finished.
    pub fn finish(&mut self) {
        self.tcp.finish(self.last_time);
        while let Some(o) = self.tcp.poll_output() {
            self.out.push_back(Item::Tcp(o));
        }
    }

    /// The next item.
    pub fn poll_item(&mut self) -> Option<Item> {
        self.out.pop_front()
    }
}
