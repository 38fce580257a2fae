//! From a captured frame to its UDP datagram or TCP segment, with [`etherparse`] slicing the
//! layers.

use std::net::{IpAddr, SocketAddr};

use etherparse::{EtherType, NetSlice, SlicedPacket, TransportSlice};

use crate::pcap::linktype;

/// The TCP flags reassembly looks at.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags {
    /// SYN.
    pub syn: bool,
    /// ACK.
    pub ack: bool,
    /// FIN.
    pub fin: bool,
    /// RST.
    pub rst: bool,
}

/// What a frame carried, as far as this crate cares.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport<'a> {
    /// A UDP datagram.
    Udp {
        /// Sender.
        src: SocketAddr,
        /// Receiver.
        dst: SocketAddr,
        /// The UDP payload.
        payload: &'a [u8],
    },
    /// A TCP segment.
    Tcp {
        /// Sender.
        src: SocketAddr,
        /// Receiver.
        dst: SocketAddr,
        /// Sequence number.
        seq: u32,
        /// Flags.
        flags: TcpFlags,
        /// The segment's data.
        payload: &'a [u8],
    },
}

/// Why a frame gave no datagram or segment.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Skip {
    /// A link type this crate does not slice.
    #[error("link type {0} is not supported")]
    Linktype(i32),
    /// Not IP, or IP without UDP or TCP (ARP, ICMP, …).
    #[error("not UDP or TCP over IP")]
    NotUdpOrTcp,
    /// An IP fragment (not reassembled).
    #[error("an IP fragment (fragments are not reassembled)")]
    Fragment,
    /// The frame is cut short or malformed.
    #[error("malformed or truncated frame: {0}")]
    Malformed(String),
}

/// Slices one frame of link type `linktype`.
pub fn slice(linktype: i32, data: &[u8]) -> Result<Transport<'_>, Skip> {
    let bad = |e: etherparse::err::packet::SliceError| Skip::Malformed(e.to_string());
    let sliced = match linktype {
        linktype::ETHERNET => SlicedPacket::from_ethernet(data).map_err(bad)?,
        linktype::LINUX_SLL => SlicedPacket::from_linux_sll(data).map_err(bad)?,
        linktype::RAW | 12 | 14 | linktype::IPV4 | linktype::IPV6 => {
            SlicedPacket::from_ip(data).map_err(bad)?
        }
        linktype::NULL | linktype::LOOP => {
            let family = data
                .get(..4)
                .ok_or_else(|| Skip::Malformed("short loopback header".into()))?;
            let family = [family[0], family[1], family[2], family[3]];
            // NULL is in the writer's byte order; LOOP is big-endian. Families: 2 = IPv4,
            // 24/28/30 = IPv6 on the BSDs and macOS.
            let le = u32::from_le_bytes(family);
            let be = u32::from_be_bytes(family);
            let ip = [le, be].iter().any(|f| matches!(f, 2 | 24 | 28 | 30));
            if !ip {
                return Err(Skip::NotUdpOrTcp);
            }
            SlicedPacket::from_ip(data.get(4..).unwrap_or_default()).map_err(bad)?
        }
        linktype::LINUX_SLL2 => {
            // SLL2: protocol type (2, BE), reserved (2), interface index (4), ARPHRD (2),
            // packet type (1), address length (1), address (8): 20 bytes.
            let proto = data
                .get(..2)
                .filter(|_| data.len() >= 20)
                .ok_or_else(|| Skip::Malformed("short SLL2 header".into()))?;
            let proto = u16::from_be_bytes([proto[0], proto[1]]);
            SlicedPacket::from_ether_type(EtherType(proto), data.get(20..).unwrap_or_default())
                .map_err(bad)?
        }
        other => return Err(Skip::Linktype(other)),
    };
    let (src_ip, dst_ip, fragmented) = match &sliced.net {
        Some(NetSlice::Ipv4(v4)) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
            v4.is_payload_fragmented(),
        ),
        Some(NetSlice::Ipv6(v6)) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
            v6.is_payload_fragmented(),
        ),
        _ => return Err(Skip::NotUdpOrTcp),
    };
    if fragmented {
        return Err(Skip::Fragment);
    }
    match sliced.transport {
        Some(TransportSlice::Udp(u)) => Ok(Transport::Udp {
            src: SocketAddr::new(src_ip, u.source_port()),
            dst: SocketAddr::new(dst_ip, u.destination_port()),
            payload: u.payload(),
        }),
        Some(TransportSlice::Tcp(t)) => Ok(Transport::Tcp {
            src: SocketAddr::new(src_ip, t.source_port()),
            dst: SocketAddr::new(dst_ip, t.destination_port()),
            seq: t.sequence_number(),
            flags: TcpFlags {
                syn: t.syn(),
                ack: t.ack(),
                fin: t.fin(),
                rst: t.rst(),
            },
            payload: t.payload(),
        }),
        _ => Err(Skip::NotUdpOrTcp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::PacketBuilder;

    fn udp_ip() -> Vec<u8> {
        let b = PacketBuilder::ipv4([127, 0, 0, 1], [127, 0, 0, 2], 64).udp(1000, 2000);
        let mut out = Vec::new();
        b.write(&mut out, b"hello").unwrap();
        out
    }

    #[test]
    fn every_loopback_link_type_gives_the_same_datagram() {
        let ip = udp_ip();
        let mut eth = vec![0u8; 12];
        eth.extend_from_slice(&[0x08, 0x00]);
        eth.extend_from_slice(&ip);
        let mut sll = vec![0, 0, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x00];
        sll.extend_from_slice(&ip);
        let mut sll2 = vec![
            0x08, 0x00, 0, 0, 0, 0, 0, 1, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0,
        ];
        sll2.extend_from_slice(&ip);
        let mut null = 2u32.to_le_bytes().to_vec();
        null.extend_from_slice(&ip);
        let want = Transport::Udp {
            src: "127.0.0.1:1000".parse().unwrap(),
            dst: "127.0.0.2:2000".parse().unwrap(),
            payload: b"hello",
        };
        for (lt, frame) in [
            (linktype::ETHERNET, &eth),
            (linktype::LINUX_SLL, &sll),
            (linktype::LINUX_SLL2, &sll2),
            (linktype::NULL, &null),
            (linktype::RAW, &ip),
        ] {
            assert_eq!(slice(lt, frame), Ok(want.clone()), "link type {lt}");
        }
        assert_eq!(slice(999, &ip), Err(Skip::Linktype(999)));
        assert!(matches!(
            slice(linktype::LINUX_SLL2, &sll2[..10]),
            Err(Skip::Malformed(_))
        ));
        assert!(matches!(
            slice(linktype::ETHERNET, &eth[..20]),
            Err(Skip::Malformed(_))
        ));
    }
}
