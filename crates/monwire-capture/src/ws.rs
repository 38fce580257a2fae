//! Websocket messages from the two reassembled byte streams of a `ws://` connection.
//!
//! Each direction first carries its HTTP/1.1 upgrade (the client's `GET` with
//! `Upgrade: websocket`, the server's `101 Switching Protocols`), parsed with [`httparse`];
//! then its frames go through [`tungstenite`]'s own frame codec ([`WebSocketContext`], in the
//! server role for the client's masked frames and the client role for the server's), which
//! unmasks, joins fragments, checks UTF-8 and answers nothing that reaches the wire. A
//! connection whose client starts with a TLS record is reported as encrypted and skipped.

use std::collections::{HashMap, VecDeque};
use std::io::{self, Read, Write};
use std::time::SystemTime;

use tungstenite::Message;
use tungstenite::protocol::{Role, WebSocketConfig, WebSocketContext};

use crate::tcp::{ConnectionId, Output as TcpOutput, Side, StreamEvent};

/// Websocket limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// The longest HTTP upgrade head (default 16 KiB).
    pub max_head: usize,
    /// The largest message (default 16 MiB).
    pub max_message: usize,
    /// The largest frame (default 16 MiB).
    pub max_frame: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_head: 16 << 10,
            max_message: 16 << 20,
            max_frame: 16 << 20,
        }
    }
}

impl Limits {
    /// Sets [`max_head`](Limits::max_head).
    #[must_use]
    pub fn with_max_head(mut self, n: usize) -> Limits {
        self.max_head = n;
        self
    }

    /// Sets [`max_message`](Limits::max_message) and [`max_frame`](Limits::max_frame).
    #[must_use]
    pub fn with_max_message(mut self, n: usize) -> Limits {
        self.max_message = n;
        self.max_frame = n;
        self
    }
}

/// What [`Websockets`] yields.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WsEvent {
    /// The upgrade request (client) or its acceptance (server) was seen.
    Upgraded {
        /// The request target (`GET` path) for the client; the status line for the server.
        what: String,
    },
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Vec<u8>),
    /// A close frame, or the end of the byte stream.
    Closed,
    /// The connection is TLS (`wss://`): nothing in it can be read.
    Encrypted,
    /// This direction cannot be read further (not a websocket, a gap, a protocol error).
    Unreadable(String),
}

/// One websocket output.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Output {
    /// The packet time that completed it.
    pub time: SystemTime,
    /// The connection.
    pub connection: ConnectionId,
    /// Who sent it.
    pub from: Side,
    /// What happened.
    pub event: WsEvent,
}

/// Bytes waiting for tungstenite: reads drain them, then say `WouldBlock`; writes (pongs and
/// close replies tungstenite makes) go nowhere, since a capture is only read.
#[derive(Debug, Default)]
struct Pipe {
    buf: VecDeque<u8>,
}

impl Read for Pipe {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.buf.is_empty() {
            return Err(io::ErrorKind::WouldBlock.into());
        }
        self.buf.read(out)
    }
}

impl Write for Pipe {
    fn write(&mut self, b: &[u8]) -> io::Result<usize> {
        Ok(b.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

enum Phase {
    Head(Vec<u8>),
    Frames(Box<WebSocketContext>, Pipe),
    Done,
}

struct Direction {
    phase: Phase,
}

struct Conn {
    client: Direction,
    server: Direction,
}

/// Every websocket connection of a capture: feed it the [`tcp`](crate::tcp) outputs.
pub struct Websockets {
    limits: Limits,
    conns: HashMap<u64, Conn>,
    out: VecDeque<Output>,
}

impl std::fmt::Debug for Websockets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Websockets")
            .field("connections", &self.conns.len())
            .finish_non_exhaustive()
    }
}

impl Default for Websockets {
    fn default() -> Websockets {
        Websockets::new(Limits::default())
    }
}

fn head_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4)
}

/// Looks at a complete upgrade head; `Ok(what)` when it is a websocket upgrade.
fn parse_head(from: Side, head: &[u8]) -> Result<String, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let upgrade_ws = |headers: &[httparse::Header<'_>]| {
        headers.iter().any(|h| {
            h.name.eq_ignore_ascii_case("upgrade")
                && std::str::from_utf8(h.value)
                    .is_ok_and(|v| v.trim().eq_ignore_ascii_case("websocket"))
        })
    };
    match from {
        Side::Client => {
            let mut req = httparse::Request::new(&mut headers);
            match req.parse(head) {
                Ok(httparse::Status::Complete(_)) if upgrade_ws(req.headers) => Ok(format!(
                    "{} {}",
                    req.method.unwrap_or("?"),
                    req.path.unwrap_or("?")
                )),
                Ok(httparse::Status::Complete(_)) => {
                    Err("an HTTP request without `Upgrade: websocket`".to_owned())
                }
                Ok(httparse::Status::Partial) => Err("an incomplete HTTP request".to_owned()),
                Err(e) => Err(format!("not an HTTP upgrade request: {e}")),
            }
        }
        Side::Server => {
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(head) {
                Ok(httparse::Status::Complete(_)) if resp.code == Some(101) => Ok(format!(
                    "{} {}",
                    resp.code.unwrap_or(0),
                    resp.reason.unwrap_or("")
                )),
                Ok(httparse::Status::Complete(_)) => Err(format!(
                    "the server refused the upgrade: {} {}",
                    resp.code.unwrap_or(0),
                    resp.reason.unwrap_or("")
                )),
                Ok(httparse::Status::Partial) => Err("an incomplete HTTP response".to_owned()),
                Err(e) => Err(format!("not an HTTP upgrade response: {e}")),
            }
        }
    }
}

impl Websockets {
    /// An empty tracker.
    pub fn new(limits: Limits) -> Websockets {
        Websockets {
            limits,
            conns: HashMap::new(),
            out: VecDeque::new(),
        }
    }

    fn config(&self) -> WebSocketConfig {
        WebSocketConfig::default()
            .read_buffer_size(4096)
            .max_message_size(Some(self.limits.max_message))
            .max_frame_size(Some(self.limits.max_frame))
    }

    /// Feeds one output of [`tcp::Connections`](crate::tcp::Connections).
    pub fn handle(&mut self, tcp: &TcpOutput) {
        let config = self.config();
        let max_head = self.limits.max_head;
        let number = tcp.connection.number;
        let conn = if matches!(tcp.event, StreamEvent::Data(_)) {
            self.conns.entry(number).or_insert_with(|| Conn {
                client: Direction {
                    phase: Phase::Head(Vec::new()),
                },
                server: Direction {
                    phase: Phase::Head(Vec::new()),
                },
            })
        } else {
            // An end or a gap of a connection that never carried data (or is forgotten
            // already) says nothing.
            match self.conns.get_mut(&number) {
                Some(c) => c,
                None => return,
            }
        };
        let dir = match tcp.from {
            Side::Client => &mut conn.client,
            Side::Server => &mut conn.server,
        };
        let mut emit = |event| {
            self.out.push_back(Output {
                time: tcp.time,
                connection: tcp.connection,
                from: tcp.from,
                event,
            });
        };
        let data = match &tcp.event {
            StreamEvent::Data(d) => d.as_slice(),
            StreamEvent::Gap(n) => {
                if !matches!(dir.phase, Phase::Done) {
                    dir.phase = Phase::Done;
                    emit(WsEvent::Unreadable(format!("{n} bytes were not captured")));
                }
                return;
            }
            StreamEvent::End => {
                if !matches!(dir.phase, Phase::Done) {
                    dir.phase = Phase::Done;
                    emit(WsEvent::Closed);
                }
                let both = matches!(conn.client.phase, Phase::Done)
                    && matches!(conn.server.phase, Phase::Done);
                if both {
                    self.conns.remove(&tcp.connection.number);
                }
                return;
            }
        };
        let mut data = data;
        if let Phase::Head(buf) = &mut dir.phase {
            if buf.is_empty() && tcp.from == Side::Client && data.first() == Some(&0x16) {
                // A TLS handshake record: wss://.
                conn.client.phase = Phase::Done;
                conn.server.phase = Phase::Done;
                emit(WsEvent::Encrypted);
                return;
            }
            let before = buf.len();
            let room = (max_head + 4).saturating_sub(before);
            buf.extend_from_slice(data.get(..data.len().min(room)).unwrap_or(data));
            let Some(end) = head_end(buf) else {
                if buf.len() > max_head {
                    dir.phase = Phase::Done;
                    emit(WsEvent::Unreadable(format!(
                        "no end of the HTTP head within {max_head} bytes"
                    )));
                }
                return;
            };
            match parse_head(tcp.from, buf.get(..end).unwrap_or_default()) {
                Ok(what) => {
                    emit(WsEvent::Upgraded { what });
                    // What followed the head in this chunk is the first frame data.
                    data = data.get(end.saturating_sub(before)..).unwrap_or_default();
                    let role = match tcp.from {
                        Side::Client => Role::Server,
                        Side::Server => Role::Client,
                    };
                    dir.phase = Phase::Frames(
                        Box::new(WebSocketContext::new(role, Some(config))),
                        Pipe::default(),
                    );
                }
                Err(why) => {
                    dir.phase = Phase::Done;
                    emit(WsEvent::Unreadable(why));
                    return;
                }
            }
        }
        if let Phase::Frames(ctx, pipe) = &mut dir.phase {
            pipe.buf.extend(data);
            loop {
                match ctx.read(pipe) {
                    Ok(Message::Text(t)) => emit(WsEvent::Text(t.as_str().to_owned())),
                    Ok(Message::Binary(b)) => emit(WsEvent::Binary(b.to_vec())),
                    Ok(Message::Close(_)) => {
                        emit(WsEvent::Closed);
                        dir.phase = Phase::Done;
                        break;
                    }
                    Ok(_) => {}
                    Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => {
                        break;
                    }
                    Err(
                        tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed,
                    ) => {
                        emit(WsEvent::Closed);
                        dir.phase = Phase::Done;
                        break;
                    }
                    Err(e) => {
                        emit(WsEvent::Unreadable(format!("websocket: {e}")));
                        dir.phase = Phase::Done;
                        break;
                    }
                }
            }
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

    fn conn() -> ConnectionId {
        ConnectionId {
            number: 1,
            client: "127.0.0.1:40000".parse().unwrap(),
            server: "127.0.0.1:12150".parse().unwrap(),
        }
    }

    fn feed(ws: &mut Websockets, from: Side, bytes: &[u8]) {
        ws.handle(&TcpOutput {
            time: SystemTime::UNIX_EPOCH,
            connection: conn(),
            from,
            event: StreamEvent::Data(bytes.to_vec()),
        });
    }

    /// A frame as RFC 6455 §5.2 lays it out (payloads under 126 bytes).
    fn frame(fin: bool, opcode: u8, mask: Option<[u8; 4]>, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![(u8::from(fin) << 7) | opcode];
        f.push((u8::from(mask.is_some()) << 7) | payload.len() as u8);
        match mask {
            Some(m) => {
                f.extend_from_slice(&m);
                f.extend(payload.iter().enumerate().map(|(i, b)| b ^ m[i % 4]));
            }
            None => f.extend_from_slice(payload),
        }
        f
    }

    fn events(ws: &mut Websockets) -> Vec<(Side, WsEvent)> {
        std::iter::from_fn(|| ws.poll_output())
            .map(|o| (o.from, o.event))
            .collect()
    }

    #[test]
    fn upgrade_then_masked_fragmented_and_plain_messages_split_anywhere() {
        let mut client =
            b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
            Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
                .to_vec();
        let m = Some([1, 2, 3, 4]);
        client.extend(frame(false, 1, m, b"{\"na"));
        client.extend(frame(true, 9, m, b"ping")); // a control frame between fragments
        client.extend(frame(true, 0, m, b"me\":1}"));
        client.extend(frame(true, 8, m, &[3, 232]));
        let mut server = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\
            Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
            .to_vec();
        server.extend(frame(true, 1, None, "é".as_bytes()));
        server.extend(frame(true, 2, None, &[0, 1]));
        // Every split point gives the same messages.
        for cut in [1, 7, client.len() - 3] {
            let mut ws = Websockets::default();
            let (a, b) = client.split_at(cut.min(client.len()));
            feed(&mut ws, Side::Client, a);
            feed(&mut ws, Side::Server, &server[..5]);
            feed(&mut ws, Side::Client, b);
            feed(&mut ws, Side::Server, &server[5..]);
            let got = events(&mut ws);
            let client_side: Vec<&WsEvent> = got
                .iter()
                .filter(|(s, _)| *s == Side::Client)
                .map(|(_, e)| e)
                .collect();
            assert_eq!(
                client_side,
                vec![
                    &WsEvent::Upgraded {
                        what: "GET /ws".into()
                    },
                    &WsEvent::Text("{\"name\":1}".into()),
                    &WsEvent::Closed,
                ],
                "cut at {cut}"
            );
            let server_side: Vec<&WsEvent> = got
                .iter()
                .filter(|(s, _)| *s == Side::Server)
                .map(|(_, e)| e)
                .collect();
            assert_eq!(
                server_side,
                vec![
                    &WsEvent::Upgraded {
                        what: "101 Switching Protocols".into()
                    },
                    &WsEvent::Text("é".into()),
                    &WsEvent::Binary(vec![0, 1]),
                ]
            );
        }
    }

    #[test]
    fn tls_is_reported_once_and_unmasked_client_frames_are_refused() {
        let mut ws = Websockets::default();
        feed(&mut ws, Side::Client, &[0x16, 3, 1, 0, 5]);
        feed(&mut ws, Side::Server, &[0x16, 3, 3, 0, 5]);
        assert_eq!(events(&mut ws), vec![(Side::Client, WsEvent::Encrypted)]);

        let mut ws = Websockets::default();
        let mut client = b"GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n".to_vec();
        client.extend(frame(true, 1, None, b"x"));
        feed(&mut ws, Side::Client, &client);
        let got = events(&mut ws);
        assert!(
            matches!(got.last(), Some((_, WsEvent::Unreadable(_)))),
            "{got:?}"
        );

        let mut ws = Websockets::default();
        feed(&mut ws, Side::Client, b"POST / HTTP/1.1\r\nHost: x\r\n\r\n");
        assert!(matches!(
            events(&mut ws).as_slice(),
            [(_, WsEvent::Unreadable(_))]
        ));
    }
}
