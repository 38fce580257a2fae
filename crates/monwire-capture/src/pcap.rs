//! pcap and pcapng files as `tcpdump` writes them, read with [`pcap_parser`], one packet at a
//! time from any [`Read`].
//!
//! Both layouts, both byte orders, micro- and nanosecond legacy files, and pcapng interfaces
//! with their own link types and time resolutions are handled. Memory is one read buffer that
//! grows to fit the largest block, up to [`Limits::max_block`].

use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use pcap_parser::pcapng::Block;
use pcap_parser::traits::PcapReaderIterator;
use pcap_parser::{Linktype, PcapBlockOwned, PcapError};

/// Link-layer types (the pcap `LINKTYPE_*` numbers) this crate slices.
pub mod linktype {
    /// BSD loopback: a 4-byte address family in the writer's byte order.
    pub const NULL: i32 = 0;
    /// Ethernet II (what `tcpdump -i lo` writes on Linux).
    pub const ETHERNET: i32 = 1;
    /// Raw IP (101; 12 and 14 on some systems).
    pub const RAW: i32 = 101;
    /// OpenBSD loopback: a 4-byte big-endian address family.
    pub const LOOP: i32 = 108;
    /// Linux cooked capture v1 (`tcpdump -i any` before libpcap 1.10).
    pub const LINUX_SLL: i32 = 113;
    /// Raw IPv4.
    pub const IPV4: i32 = 228;
    /// Raw IPv6.
    pub const IPV6: i32 = 229;
    /// Linux cooked capture v2 (`tcpdump -i any` with libpcap 1.10 and later).
    pub const LINUX_SLL2: i32 = 276;
}

/// Which file layout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layout {
    /// The classic libpcap format.
    Pcap,
    /// pcapng.
    PcapNg,
}

/// The layout a file has, from its first four bytes (its magic number).
pub fn detect(first: &[u8]) -> Option<Layout> {
    match first.get(..4)? {
        [0xa1, 0xb2, 0xc3, 0xd4]
        | [0xd4, 0xc3, 0xb2, 0xa1]
        | [0xa1, 0xb2, 0x3c, 0x4d]
        | [0x4d, 0x3c, 0xb2, 0xa1] => Some(Layout::Pcap),
        [0x0a, 0x0d, 0x0d, 0x0a] => Some(Layout::PcapNg),
        _ => None,
    }
}

/// Reading limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The largest block (packet record) accepted, in bytes (default 1 MiB; `tcpdump`'s
    /// snap length is 256 KiB).
    pub max_block: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits { max_block: 1 << 20 }
    }
}

impl Limits {
    /// Sets [`max_block`](Limits::max_block).
    #[must_use]
    pub fn with_max_block(mut self, n: usize) -> Limits {
        self.max_block = n;
        self
    }
}

/// A file that could not be read on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Neither a pcap nor a pcapng magic number.
    #[error("not a pcap or pcapng file")]
    NotPcap,
    /// A block larger than [`Limits::max_block`].
    #[error("a block at byte {offset} is larger than {limit} bytes")]
    BlockTooLarge {
        /// Where the block starts.
        offset: u64,
        /// The limit.
        limit: usize,
    },
    /// The file ends inside a block.
    #[error("the file ends inside the block at byte {offset}")]
    Truncated {
        /// Where the block starts.
        offset: u64,
    },
    /// A block that does not parse.
    #[error("malformed block at byte {offset}: {what}")]
    Malformed {
        /// Where the block starts.
        offset: u64,
        /// What the parser said.
        what: String,
    },
    /// Reading failed.
    #[error("read error at byte {offset}")]
    Read {
        /// How far the file was read.
        offset: u64,
    },
}

/// One captured packet.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Packet {
    /// 1-based packet number, as `tcpdump -r` and Wireshark count.
    pub number: u64,
    /// The capture time.
    pub time: SystemTime,
    /// The link-layer type (see [`linktype`]).
    pub linktype: i32,
    /// The captured bytes, from the link-layer header on.
    pub data: Vec<u8>,
    /// The packet's length on the wire (more than `data.len()` when the snap length cut it).
    pub original_len: u32,
}

#[derive(Clone, Copy, Debug)]
struct Interface {
    linktype: i32,
    /// Units per second.
    resolution: u64,
    /// Seconds added to every time.
    offset: i64,
}

/// Reads packets from a pcap or pcapng file.
pub struct PacketReader<'r> {
    inner: Box<dyn PcapReaderIterator + Send + 'r>,
    layout: Layout,
    limits: Limits,
    capacity: usize,
    state: State,
    failed: bool,
}

#[derive(Debug, Default)]
struct State {
    /// Legacy files: the one link type and whether times are in nanoseconds.
    legacy: Option<(i32, bool)>,
    interfaces: Vec<Interface>,
    number: u64,
}

impl std::fmt::Debug for PacketReader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketReader")
            .field("layout", &self.layout)
            .field("packets", &self.state.number)
            .finish_non_exhaustive()
    }
}

fn at(secs: i128, frac: u128, resolution: u64) -> SystemTime {
    let nanos = frac
        .saturating_mul(1_000_000_000)
        .checked_div(u128::from(resolution))
        .unwrap_or(0);
    let nanos = u32::try_from(nanos.min(999_999_999)).unwrap_or(0);
    let secs = u64::try_from(secs.max(0)).unwrap_or(u64::MAX);
    UNIX_EPOCH
        .checked_add(Duration::new(secs, nanos))
        .unwrap_or(UNIX_EPOCH)
}

impl<'r> PacketReader<'r> {
    /// Starts reading `input` (its layout is detected from the magic number).
    pub fn new<R: Read + Send + 'r>(input: R) -> Result<PacketReader<'r>, Error> {
        PacketReader::with_limits(input, Limits::default())
    }

    /// Starts reading with limits.
    pub fn with_limits<R: Read + Send + 'r>(
        input: R,
        limits: Limits,
    ) -> Result<PacketReader<'r>, Error> {
        let capacity = (64 << 10).min(limits.max_block.max(4096));
        let mut inner = pcap_parser::create_reader(capacity, input).map_err(|_| Error::NotPcap)?;
        let layout = match inner.next() {
            Ok((_, PcapBlockOwned::LegacyHeader(_))) => Layout::Pcap,
            Ok((_, PcapBlockOwned::NG(_))) => Layout::PcapNg,
            _ => return Err(Error::NotPcap),
        };
        // The first block is read again by `next_packet`, which keeps one code path.
        Ok(PacketReader {
            inner,
            layout,
            limits,
            capacity,
            state: State::default(),
            failed: false,
        })
    }

    /// The layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The next packet; `None` at the end, and after an error.
    pub fn next_packet(&mut self) -> Option<Result<Packet, Error>> {
        // A block type that carries no packet is skipped; the loop ends with the file.
        while !self.failed {
            let offset = self.inner.consumed() as u64;
            let (used, packet) = match self.inner.next() {
                Ok((used, block)) => (used, self.state.block(block, offset)),
                Err(PcapError::Eof) => return None,
                Err(PcapError::Incomplete(_)) => {
                    if self.inner.refill().is_err() {
                        return self.fail(Error::Read { offset });
                    }
                    continue;
                }
                Err(PcapError::BufferTooSmall) => {
                    if self.capacity >= self.limits.max_block {
                        return self.fail(Error::BlockTooLarge {
                            offset,
                            limit: self.limits.max_block,
                        });
                    }
                    self.capacity = (self.capacity * 2).min(self.limits.max_block);
                    if !self.inner.grow(self.capacity) || self.inner.refill().is_err() {
                        return self.fail(Error::Read { offset });
                    }
                    continue;
                }
                Err(PcapError::UnexpectedEof) => return self.fail(Error::Truncated { offset }),
                Err(PcapError::ReadError) => return self.fail(Error::Read { offset }),
                Err(e) => {
                    let what = e.to_string();
                    return self.fail(Error::Malformed { offset, what });
                }
            };
            self.inner.consume(used);
            match packet {
                Ok(Some(p)) => return Some(Ok(p)),
                Ok(None) => {}
                Err(e) => return self.fail(e),
            }
        }
        None
    }

    fn fail(&mut self, e: Error) -> Option<Result<Packet, Error>> {
        self.failed = true;
        Some(Err(e))
    }
}

impl State {
    fn block(&mut self, block: PcapBlockOwned<'_>, offset: u64) -> Result<Option<Packet>, Error> {
        match block {
            PcapBlockOwned::LegacyHeader(h) => {
                self.legacy = Some((h.network.0, h.is_nanosecond_precision()));
                Ok(None)
            }
            PcapBlockOwned::Legacy(b) => {
                let (linktype, nanos) = self.legacy.unwrap_or((linktype::ETHERNET, false));
                let resolution = if nanos { 1_000_000_000 } else { 1_000_000 };
                let caplen = usize::try_from(b.caplen).unwrap_or(usize::MAX);
                let data = b.data.get(..caplen).unwrap_or(b.data);
                self.number += 1;
                Ok(Some(Packet {
                    number: self.number,
                    time: at(b.ts_sec.into(), b.ts_usec.into(), resolution),
                    linktype,
                    data: data.to_vec(),
                    original_len: b.origlen,
                }))
            }
            PcapBlockOwned::NG(Block::SectionHeader(_)) => {
                // A new section restarts the interface numbering.
                self.interfaces.clear();
                Ok(None)
            }
            PcapBlockOwned::NG(Block::InterfaceDescription(idb)) => {
                let Linktype(linktype) = idb.linktype;
                self.interfaces.push(Interface {
                    linktype,
                    // An invalid resolution falls back to the default (microseconds).
                    resolution: idb.ts_resolution().unwrap_or(1_000_000),
                    offset: idb.ts_offset(),
                });
                Ok(None)
            }
            PcapBlockOwned::NG(Block::EnhancedPacket(epb)) => {
                let iface = usize::try_from(epb.if_id)
                    .ok()
                    .and_then(|i| self.interfaces.get(i).copied());
                let Some(iface) = iface else {
                    return Err(Error::Malformed {
                        offset,
                        what: format!("packet on undeclared interface {}", epb.if_id),
                    });
                };
                let ts = (u128::from(epb.ts_high) << 32) | u128::from(epb.ts_low);
                let res = u128::from(iface.resolution.max(1));
                let secs = i128::try_from(ts / res)
                    .unwrap_or(i128::MAX)
                    .saturating_add(i128::from(iface.offset));
                let caplen = usize::try_from(epb.caplen).unwrap_or(usize::MAX);
                let data = epb.data.get(..caplen).unwrap_or(epb.data);
                self.number += 1;
                Ok(Some(Packet {
                    number: self.number,
                    time: at(secs, ts % res, iface.resolution.max(1)),
                    linktype: iface.linktype,
                    data: data.to_vec(),
                    original_len: epb.origlen,
                }))
            }
            PcapBlockOwned::NG(Block::SimplePacket(spb)) => {
                let Some(iface) = self.interfaces.first().copied() else {
                    return Err(Error::Malformed {
                        offset,
                        what: "simple packet before any interface".to_owned(),
                    });
                };
                self.number += 1;
                let len = usize::try_from(spb.origlen).unwrap_or(usize::MAX);
                let data = spb.data.get(..len).unwrap_or(spb.data);
                Ok(Some(Packet {
                    number: self.number,
                    // Simple packets carry no time.
                    time: UNIX_EPOCH,
                    linktype: iface.linktype,
                    data: data.to_vec(),
                    original_len: spb.origlen,
                }))
            }
            PcapBlockOwned::NG(_) => Ok(None),
        }
    }
}

impl Iterator for PacketReader<'_> {
    type Item = Result<Packet, Error>;
    fn next(&mut self) -> Option<Self::Item> {
        self.next_packet()
    }
}
