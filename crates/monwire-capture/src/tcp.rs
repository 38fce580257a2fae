//! TCP reassembly: each connection's two byte streams, in order, from segments as a capture
//! holds them (retransmitted, overlapping, out of order).
//!
//! [`Stream`] is the sans-IO state machine for one direction; [`Connections`] keeps a bounded
//! table of connections and routes segments to their streams. Neither does IO or reads a
//! clock: times are the packets' own.
//!
//! # Bounds
//!
//! A stream holds at most [`Limits::max_pending`] bytes of out-of-order data. When a segment
//! would exceed it, the stream gives up on the missing bytes: it reports a
//! [`StreamEvent::Gap`] and goes on from the earliest held segment. At most
//! [`Limits::max_connections`] connections are tracked; segments of further ones are
//! counted in [`Connections::untracked`] and dropped.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::net::SocketAddr;
use std::time::SystemTime;

use crate::link::TcpFlags;

/// Reassembly limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Out-of-order bytes held per direction (default 4 MiB).
    pub max_pending: usize,
    /// Connections tracked at once (default 4096).
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_pending: 4 << 20,
            max_connections: 4096,
        }
    }
}

impl Limits {
    /// Sets [`max_pending`](Limits::max_pending).
    #[must_use]
    pub fn with_max_pending(mut self, n: usize) -> Limits {
        self.max_pending = n;
        self
    }

    /// Sets [`max_connections`](Limits::max_connections).
    #[must_use]
    pub fn with_max_connections(mut self, n: usize) -> Limits {
        self.max_connections = n;
        self
    }
}

/// What a [`Stream`] yields, in stream order.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StreamEvent {
    /// The next bytes of the stream.
    Data(Vec<u8>),
    /// Bytes that were never captured (or given up on): the stream goes on after them.
    Gap(u64),
    /// The sender closed (FIN) or reset (RST) its side, or the capture ended.
    End,
}

/// One direction of a connection: segments in, ordered bytes out.
#[derive(Clone, Debug)]
pub struct Stream {
    /// The sequence number of stream offset 0 (`None` until the first segment).
    base: Option<u32>,
    /// Bytes delivered so far (the next expected stream offset).
    delivered: u64,
    /// Held out-of-order data by stream offset.
    pending: BTreeMap<u64, Vec<u8>>,
    pending_bytes: usize,
    /// The stream offset of the FIN, once seen.
    fin_at: Option<u64>,
    ended: bool,
    max_pending: usize,
    out: VecDeque<StreamEvent>,
}

impl Stream {
    /// A stream that holds at most `max_pending` out-of-order bytes.
    pub fn new(max_pending: usize) -> Stream {
        Stream {
            base: None,
            delivered: 0,
            pending: BTreeMap::new(),
            pending_bytes: 0,
            fin_at: None,
            ended: false,
            max_pending,
            out: VecDeque::new(),
        }
    }

    /// Whether the stream has ended.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// Bytes delivered so far.
    pub fn delivered(&self) -> u64 {
        self.delivered
    }

    /// Feeds one segment. Then drain [`poll_event`](Stream::poll_event).
    pub fn handle_segment(&mut self, seq: u32, flags: TcpFlags, payload: &[u8]) {
        if self.ended {
            return;
        }
        let data_seq = if flags.syn { seq.wrapping_add(1) } else { seq };
        let base = *self.base.get_or_insert(data_seq);
        if flags.rst {
            self.finish();
            return;
        }
        // The segment's stream offset, from its distance to the next expected byte (which
        // survives sequence wrap-around: TCP windows are far below 2^31).
        let next_seq = base.wrapping_add(self.delivered as u32);
        let rel = i64::from(data_seq.wrapping_sub(next_seq) as i32);
        let start = self.delivered as i64 + rel;
        let len = payload.len() as i64;
        if flags.fin {
            let fin = start + len;
            if fin >= 0 {
                self.fin_at.get_or_insert(fin as u64);
            }
        }
        let end = start + len;
        if len > 0 && end > self.delivered as i64 {
            // Trim what was delivered already (a retransmission or an overlap).
            let skip = (self.delivered as i64 - start).max(0) as usize;
            let data = payload.get(skip..).unwrap_or_default();
            let start = (start.max(self.delivered as i64)) as u64;
            if start == self.delivered {
                self.deliver(data.to_vec());
                self.drain_pending();
            } else {
                self.hold(start, data);
            }
        }
        self.check_fin();
    }

    fn deliver(&mut self, data: Vec<u8>) {
        if data.is_empty() {
            return;
        }
        self.delivered += data.len() as u64;
        self.out.push_back(StreamEvent::Data(data));
    }

    fn hold(&mut self, start: u64, data: &[u8]) {
        while self.pending_bytes + data.len() > self.max_pending {
            // Give up on the hole before the earliest held segment (or this one).
            let first = self
                .pending
                .keys()
                .next()
                .copied()
                .unwrap_or(start)
                .min(start);
            if first <= self.delivered {
                break;
            }
            self.out.push_back(StreamEvent::Gap(first - self.delivered));
            self.delivered = first;
            self.drain_pending();
            if start <= self.delivered {
                let skip = usize::try_from(self.delivered - start).unwrap_or(usize::MAX);
                let rest = data.get(skip..).unwrap_or_default().to_vec();
                self.deliver(rest);
                self.drain_pending();
                return;
            }
        }
        if data.len() > self.max_pending {
            return;
        }
        let keep = match self.pending.get(&start) {
            Some(held) => held.len() < data.len(),
            None => true,
        };
        if keep {
            if let Some(old) = self.pending.insert(start, data.to_vec()) {
                self.pending_bytes -= old.len();
            }
            self.pending_bytes += data.len();
        }
    }

    fn drain_pending(&mut self) {
        while let Some(entry) = self.pending.first_entry() {
            let start = *entry.key();
            if start > self.delivered {
                break;
            }
            let data = entry.remove();
            self.pending_bytes -= data.len();
            let skip = usize::try_from(self.delivered - start).unwrap_or(usize::MAX);
            if let Some(rest) = data.get(skip..) {
                self.deliver(rest.to_vec());
            }
        }
    }

    fn check_fin(&mut self) {
        if let Some(fin) = self.fin_at
            && self.delivered >= fin
        {
            self.finish_clean();
        }
    }

    fn finish_clean(&mut self) {
        if !self.ended {
            self.ended = true;
            self.pending.clear();
            self.pending_bytes = 0;
            self.out.push_back(StreamEvent::End);
        }
    }

    /// Ends the stream (RST, or the end of the capture): held data after holes is delivered
    /// with a [`StreamEvent::Gap`] before each hole.
    pub fn finish(&mut self) {
        if self.ended {
            return;
        }
        while let Some(&first) = self.pending.keys().next() {
            if first > self.delivered {
                self.out.push_back(StreamEvent::Gap(first - self.delivered));
                self.delivered = first;
            }
            self.drain_pending();
        }
        self.finish_clean();
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<StreamEvent> {
        self.out.pop_front()
    }
}

/// Which end of a connection sent something.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// The end that opened the connection (sent the SYN), or that sent first when the capture
    /// began after the handshake.
    Client,
    /// The other end.
    Server,
}

/// A connection's identity in a capture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConnectionId {
    /// Numbered from 1 in the order connections appear.
    pub number: u64,
    /// The client's address.
    pub client: SocketAddr,
    /// The server's address.
    pub server: SocketAddr,
}

/// What [`Connections`] yields.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Output {
    /// The packet time that produced it.
    pub time: SystemTime,
    /// The connection.
    pub connection: ConnectionId,
    /// Who sent the bytes.
    pub from: Side,
    /// What happened.
    pub event: StreamEvent,
}

impl Output {
    /// An output (for feeding [`ws::Websockets`](crate::ws::Websockets) from elsewhere).
    pub fn new(
        time: SystemTime,
        connection: ConnectionId,
        from: Side,
        event: StreamEvent,
    ) -> Output {
        Output {
            time,
            connection,
            from,
            event,
        }
    }
}

#[derive(Debug)]
struct Conn {
    id: ConnectionId,
    to_server: Stream,
    to_client: Stream,
}

fn key(a: SocketAddr, b: SocketAddr) -> (SocketAddr, SocketAddr) {
    if a <= b { (a, b) } else { (b, a) }
}

/// Every connection of a capture, reassembled.
#[derive(Debug)]
pub struct Connections {
    limits: Limits,
    table: HashMap<(SocketAddr, SocketAddr), Conn>,
    next_number: u64,
    untracked: u64,
    out: VecDeque<Output>,
}

impl Default for Connections {
    fn default() -> Connections {
        Connections::new(Limits::default())
    }
}

impl Connections {
    /// An empty table.
    pub fn new(limits: Limits) -> Connections {
        Connections {
            limits,
            table: HashMap::new(),
            next_number: 0,
            untracked: 0,
            out: VecDeque::new(),
        }
    }

    /// Segments dropped because the table was full.
    pub fn untracked(&self) -> u64 {
        self.untracked
    }

    /// Connections being tracked now.
    pub fn len(&self) -> usize {
        self.table.len()
    }

    /// Whether no connection is tracked.
    pub fn is_empty(&self) -> bool {
        self.table.is_empty()
    }

    /// Feeds one TCP segment. Then drain [`poll_output`](Connections::poll_output).
    pub fn handle_segment(
        &mut self,
        time: SystemTime,
        src: SocketAddr,
        dst: SocketAddr,
        seq: u32,
        flags: TcpFlags,
        payload: &[u8],
    ) {
        let k = key(src, dst);
        let opening = flags.syn && !flags.ack;
        // A new SYN on a finished connection's addresses is a new connection.
        if opening
            && let Some(c) = self.table.get(&k)
            && (c.to_server.is_ended() || c.to_server.delivered() > 0 || c.id.client != src)
        {
            self.close(time, k);
        }
        if !self.table.contains_key(&k) {
            // A bare ACK, FIN or RST of a connection that ended (or began before the capture)
            // opens nothing.
            if !flags.syn && payload.is_empty() {
                return;
            }
            if self.table.len() >= self.limits.max_connections {
                self.untracked += 1;
                return;
            }
            // Without the SYN, the client is whoever sent first; a SYN-ACK names its sender
            // the server.
            let (client, server) = if flags.syn && flags.ack {
                (dst, src)
            } else {
                (src, dst)
            };
            self.next_number += 1;
            let id = ConnectionId {
                number: self.next_number,
                client,
                server,
            };
            self.table.insert(
                k,
                Conn {
                    id,
                    to_server: Stream::new(self.limits.max_pending),
                    to_client: Stream::new(self.limits.max_pending),
                },
            );
        }
        let Some(conn) = self.table.get_mut(&k) else {
            return;
        };
        let from = if src == conn.id.client {
            Side::Client
        } else {
            Side::Server
        };
        let stream = match from {
            Side::Client => &mut conn.to_server,
            Side::Server => &mut conn.to_client,
        };
        stream.handle_segment(seq, flags, payload);
        if flags.rst {
            // A reset ends both directions.
            conn.to_server.finish();
            conn.to_client.finish();
        }
        let done = conn.to_server.is_ended() && conn.to_client.is_ended();
        Self::drain(&mut self.out, time, conn);
        if done {
            self.table.remove(&k);
        }
    }

    fn drain(out: &mut VecDeque<Output>, time: SystemTime, conn: &mut Conn) {
        for (from, stream) in [
            (Side::Client, &mut conn.to_server),
            (Side::Server, &mut conn.to_client),
        ] {
            while let Some(event) = stream.poll_event() {
                out.push_back(Output {
                    time,
                    connection: conn.id,
                    from,
                    event,
                });
            }
        }
    }

    fn close(&mut self, time: SystemTime, k: (SocketAddr, SocketAddr)) {
        if let Some(mut conn) = self.table.remove(&k) {
            conn.to_server.finish();
            conn.to_client.finish();
            Self::drain(&mut self.out, time, &mut conn);
        }
    }

    /// The capture ended at `time`: every open stream is finished (see [`Stream::finish`]),
    /// in connection order.
    pub fn finish(&mut self, time: SystemTime) {
        let mut keys: Vec<_> = self.table.iter().map(|(k, c)| (c.id.number, *k)).collect();
        keys.sort();
        for (_, k) in keys {
            self.close(time, k);
        }
    }

    /// The next output.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.out.pop_front()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(s: &mut Stream) -> (Vec<u8>, Vec<StreamEvent>) {
        let mut bytes = Vec::new();
        let mut other = Vec::new();
        while let Some(e) = s.poll_event() {
            match e {
                StreamEvent::Data(d) => bytes.extend(d),
                e => other.push(e),
            }
        }
        (bytes, other)
    }

    const NONE: TcpFlags = TcpFlags {
        syn: false,
        ack: true,
        fin: false,
        rst: false,
    };

    #[test]
    fn out_of_order_and_retransmitted_segments_give_the_stream_once_in_order() {
        let mut s = Stream::new(1 << 20);
        let isn = u32::MAX - 3; // wraps inside the stream
        s.handle_segment(isn, TcpFlags { syn: true, ..NONE }, b"");
        s.handle_segment(isn.wrapping_add(6), NONE, b"fgh");
        s.handle_segment(isn.wrapping_add(1), NONE, b"abc");
        s.handle_segment(isn.wrapping_add(1), NONE, b"abc"); // retransmission
        s.handle_segment(isn.wrapping_add(3), NONE, b"cde"); // overlap
        s.handle_segment(isn.wrapping_add(9), TcpFlags { fin: true, ..NONE }, b"ij");
        s.handle_segment(isn.wrapping_add(9), NONE, b"ij"); // after the end: ignored
        let (bytes, other) = data(&mut s);
        assert_eq!(bytes, b"abcdefghij");
        assert_eq!(other, vec![StreamEvent::End]);
    }

    #[test]
    fn a_capture_that_starts_mid_stream_uses_the_first_segment() {
        let mut s = Stream::new(1 << 20);
        s.handle_segment(1000, NONE, b"xy");
        s.handle_segment(1002, NONE, b"z");
        assert_eq!(data(&mut s).0, b"xyz");
    }

    #[test]
    fn holes_beyond_the_bound_become_gaps_and_memory_stays_bounded() {
        let mut s = Stream::new(8);
        s.handle_segment(0, NONE, b"ab");
        s.handle_segment(10, NONE, b"0123"); // hole 2..10
        s.handle_segment(14, NONE, b"4567");
        s.handle_segment(18, NONE, b"89"); // exceeds 8 held bytes: give up the hole
        assert!(s.pending_bytes <= 8);
        let (bytes, other) = data(&mut s);
        assert_eq!(bytes, b"ab0123456789");
        assert_eq!(other, vec![StreamEvent::Gap(8)]);
        s.handle_segment(30, NONE, b"tail");
        s.finish();
        let (bytes, other) = data(&mut s);
        assert_eq!(bytes, b"tail");
        assert_eq!(other, vec![StreamEvent::Gap(10), StreamEvent::End]);
    }

    #[test]
    fn connections_name_client_and_server_and_end_on_fin_both_ways() {
        let c: SocketAddr = "127.0.0.1:40000".parse().unwrap();
        let s: SocketAddr = "127.0.0.1:4111".parse().unwrap();
        let t = SystemTime::UNIX_EPOCH;
        let mut conns = Connections::default();
        let syn = TcpFlags {
            syn: true,
            ack: false,
            ..NONE
        };
        conns.handle_segment(t, c, s, 100, syn, b"");
        conns.handle_segment(t, s, c, 500, TcpFlags { syn: true, ..NONE }, b"");
        conns.handle_segment(t, c, s, 101, NONE, b"hello");
        conns.handle_segment(t, s, c, 501, NONE, b"hi");
        conns.handle_segment(t, c, s, 106, TcpFlags { fin: true, ..NONE }, b"");
        conns.handle_segment(t, s, c, 503, TcpFlags { fin: true, ..NONE }, b"");
        let outs: Vec<Output> = std::iter::from_fn(|| conns.poll_output()).collect();
        let got: Vec<(Side, StreamEvent)> =
            outs.iter().map(|o| (o.from, o.event.clone())).collect();
        assert_eq!(
            got,
            vec![
                (Side::Client, StreamEvent::Data(b"hello".to_vec())),
                (Side::Server, StreamEvent::Data(b"hi".to_vec())),
                (Side::Client, StreamEvent::End),
                (Side::Server, StreamEvent::End),
            ]
        );
        assert!(
            outs.iter()
                .all(|o| o.connection.client == c && o.connection.server == s)
        );
        assert!(conns.is_empty());
    }

    #[test]
    fn the_table_is_bounded() {
        let mut conns = Connections::new(Limits::default().with_max_connections(2));
        let t = SystemTime::UNIX_EPOCH;
        let s: SocketAddr = "127.0.0.1:1".parse().unwrap();
        for port in 2..6 {
            let c = SocketAddr::from(([127, 0, 0, 1], port));
            conns.handle_segment(t, c, s, 0, NONE, b"x");
        }
        assert_eq!(conns.len(), 2);
        assert_eq!(conns.untracked(), 2);
    }
}
