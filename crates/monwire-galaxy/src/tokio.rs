//! Tokio TCP drivers for the three roles (feature `tokio`).
//!
//! The drivers only move bytes; every decision is the sans-IO [`session`](crate::session)'s.
//!
//! - [`accept_hub`]: the GUI server role. Accepts the Hub's connection (`-gui host:port`) and
//!   runs a [`GuiServer`] on it in a spawned task.
//! - [`connect_to_hub`]: the GUI client role (`-gui "<listener>:port"`), a [`GuiClient`] in a
//!   spawned task.
//! - [`HubConnection`]: the Hub side, driven inline by its async methods.
//!
//! # A GUI never stalls the Hub
//!
//! The Hub blocks while a write to its GUI is pending, so the GUI drivers read the socket
//! continuously in their own task, whatever the consumer does. Events go to the consumer through
//! a channel of [`GuiConfig::event_capacity`] events (default 1024). When it is full, a status
//! event is **dropped** and counted ([`GuiConnection::dropped_events`]), and reading goes on. The
//! one exception is `hub_debug_prompt`: it is never dropped; the driver waits for room, which
//! costs nothing because the Hub itself sends nothing until the prompt is answered. With
//! [`GuiConfig::debug_cmd`] set, prompts are answered by the driver at once.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, ToSocketAddrs};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::codec::Codec;
use crate::error::SessionError;
use crate::message::{Frame, Object};
use crate::script::Step;
use crate::session::{GuiClient, GuiEvent, GuiServer, HubEvent, HubSide, sample_info_frame};
use crate::status::StatusMessage;

/// An adapter failure: the socket or the protocol.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The socket failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The peer broke the protocol, or refused us.
    #[error(transparent)]
    Session(#[from] SessionError),
    /// The connection closed before the exchange finished.
    #[error("the connection closed")]
    Closed,
    /// No handshake arrived in time ([`GuiListener`]).
    #[error("no handshake within {0:?}")]
    HandshakeTimeout(Duration),
}

/// Settings of the GUI drivers.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct GuiConfig {
    /// The XDR codec.
    pub codec: Codec,
    /// Our server information frame (default: the C sample GUI's).
    pub info: Frame,
    /// Events buffered for a slow consumer before status events are dropped (default 1024).
    pub event_capacity: usize,
    /// Answer every `hub_debug_prompt` with this command at once (the event is still delivered).
    pub debug_cmd: Option<Vec<u8>>,
    /// Sees every chunk read from the Hub, as it came (for recordings).
    pub tap: Option<Tap>,
}

/// A function that sees every chunk of bytes a GUI driver reads from the Hub, with the Hub's
/// address, before the session decodes it. It runs on the driver's task: keep it short.
#[derive(Clone)]
pub struct Tap(pub Arc<TapFn>);

/// The function inside a [`Tap`]: the Hub's address and the chunk.
pub type TapFn = dyn Fn(SocketAddr, &[u8]) + Send + Sync;

impl std::fmt::Debug for Tap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tap")
    }
}

impl Default for GuiConfig {
    fn default() -> Self {
        GuiConfig {
            codec: Codec::default(),
            info: sample_info_frame(),
            event_capacity: 1024,
            debug_cmd: None,
            tap: None,
        }
    }
}

impl GuiConfig {
    /// Sets [`debug_cmd`](GuiConfig::debug_cmd).
    #[must_use]
    pub fn with_debug_cmd(mut self, cmd: impl Into<Vec<u8>>) -> GuiConfig {
        self.debug_cmd = Some(cmd.into());
        self
    }

    /// Sets [`tap`](GuiConfig::tap).
    #[must_use]
    pub fn with_tap(mut self, tap: Tap) -> GuiConfig {
        self.tap = Some(tap);
        self
    }

    /// Sets [`event_capacity`](GuiConfig::event_capacity) (at least 1).
    #[must_use]
    pub fn with_event_capacity(mut self, n: usize) -> GuiConfig {
        self.event_capacity = n.max(1);
        self
    }

    /// Sets [`info`](GuiConfig::info).
    #[must_use]
    pub fn with_info(mut self, info: Frame) -> GuiConfig {
        self.info = info;
        self
    }
}

enum Cmd {
    Debug(Vec<u8>),
    Menu(Frame),
}

/// A running GUI connection (either role): events out, debug answers and menu picks in.
#[derive(Debug)]
pub struct GuiConnection {
    first: Option<GuiEvent>,
    events: mpsc::Receiver<GuiEvent>,
    cmds: mpsc::UnboundedSender<Cmd>,
    dropped: Arc<AtomicU64>,
    task: JoinHandle<Result<(), Error>>,
    peer: SocketAddr,
}

impl std::fmt::Debug for Cmd {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cmd")
    }
}

impl GuiConnection {
    /// The next event; `None` once the connection has ended (then see
    /// [`finish`](GuiConnection::finish) for why).
    pub async fn next_event(&mut self) -> Option<GuiEvent> {
        if let Some(e) = self.first.take() {
            return Some(e);
        }
        self.events.recv().await
    }

    /// Ends the connection from our side: the driver stops and the socket is shut down (a GUI
    /// has no goodbye message; the Hub sees the connection close and carries on without a
    /// GUI). Returns once the socket is closed.
    pub async fn close(self) {
        self.task.abort();
        let _ = self.task.await;
    }

    /// Answers the waiting `hub_debug_prompt` (see [`GuiServer::answer_debug_prompt`]).
    pub fn answer_debug_prompt(&self, cmd: impl Into<Vec<u8>>) -> Result<(), Error> {
        self.cmds
            .send(Cmd::Debug(cmd.into()))
            .map_err(|_| Error::Closed)
    }

    /// Sends a menu pick as a new message (see [`GuiServer::send_menu_pick`]).
    pub fn send_menu_pick(&self, frame: Frame) -> Result<(), Error> {
        self.cmds.send(Cmd::Menu(frame)).map_err(|_| Error::Closed)
    }

    /// How many status events were dropped because the consumer was slow.
    pub fn dropped_events(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// The Hub's address.
    pub fn peer(&self) -> SocketAddr {
        self.peer
    }

    /// Stops reading events and waits for the driver: `Ok` when the Hub closed the connection
    /// cleanly, else the error that ended it. Dropping the receiver first ends a live
    /// connection.
    pub async fn finish(self) -> Result<(), Error> {
        drop(self.events);
        drop(self.cmds);
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(Error::Io(std::io::Error::other(e))),
        }
    }
}

trait GuiDrive: Send + 'static {
    fn input(&mut self, b: &[u8]) -> Result<(), SessionError>;
    fn transmit(&mut self) -> Option<Vec<u8>>;
    fn event(&mut self) -> Option<GuiEvent>;
    fn debug(&mut self, cmd: &[u8]) -> Result<(), SessionError>;
    fn menu(&mut self, f: Frame) -> Result<(), SessionError>;
    fn closed(&self) -> bool;
    fn eof(&mut self);
}

macro_rules! drive_impl {
    ($t:ty) => {
        impl GuiDrive for $t {
            fn input(&mut self, b: &[u8]) -> Result<(), SessionError> {
                self.handle_input(b)
            }
            fn transmit(&mut self) -> Option<Vec<u8>> {
                self.poll_transmit()
            }
            fn event(&mut self) -> Option<GuiEvent> {
                self.poll_event()
            }
            fn debug(&mut self, cmd: &[u8]) -> Result<(), SessionError> {
                self.answer_debug_prompt(cmd)
            }
            fn menu(&mut self, f: Frame) -> Result<(), SessionError> {
                self.send_menu_pick(f)
            }
            fn closed(&self) -> bool {
                self.is_closed()
            }
            fn eof(&mut self) {
                self.handle_eof()
            }
        }
    };
}
drive_impl!(GuiServer);
drive_impl!(GuiClient);

/// Accepts one Hub connection on `listener` and runs the GUI server role on it.
pub async fn accept_hub(listener: &TcpListener, config: GuiConfig) -> Result<GuiConnection, Error> {
    let (stream, peer) = listener.accept().await?;
    let session = GuiServer::new(config.codec, config.info.clone());
    Ok(spawn_gui(stream, peer, session, config))
}

/// How long a connection may take to send its handshake before [`GuiListener`] drops it.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// What [`GuiListener::next`] gives.
#[derive(Debug)]
#[non_exhaustive]
pub enum Incoming {
    /// A Hub connected and sent its handshake (the first event of the connection).
    Hub(GuiConnection),
    /// A connection was dropped before it finished the handshake (it sent nothing in time,
    /// closed, or sent something else); the listener goes on.
    Dropped {
        /// Who connected.
        peer: SocketAddr,
        /// Why it was dropped.
        reason: Error,
    },
}

/// The GUI server role for a monitor that outlives its Hubs: keeps accepting, runs each
/// connection's handshake on its own with a deadline ([`HANDSHAKE_TIMEOUT`] by default), and
/// gives the connections that finished it. A connection that stays silent, or a port scanner,
/// never holds up a real Hub, and a restarted Hub is accepted like the first one.
#[derive(Debug)]
pub struct GuiListener {
    listener: TcpListener,
    config: GuiConfig,
    timeout: Duration,
    pending: tokio::task::JoinSet<Incoming>,
}

impl GuiListener {
    /// Accepts Hubs on `listener`, running each with `config`.
    pub fn new(listener: TcpListener, config: GuiConfig) -> GuiListener {
        GuiListener {
            listener,
            config,
            timeout: HANDSHAKE_TIMEOUT,
            pending: tokio::task::JoinSet::new(),
        }
    }

    /// Sets the handshake deadline.
    #[must_use]
    pub fn with_handshake_timeout(mut self, timeout: Duration) -> GuiListener {
        self.timeout = timeout;
        self
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// The next Hub that finished its handshake, or the next connection dropped before it did.
    /// An error only when accepting fails.
    pub async fn next(&mut self) -> std::io::Result<Incoming> {
        loop {
            tokio::select! {
                r = self.listener.accept() => {
                    let (stream, peer) = r?;
                    let config = self.config.clone();
                    let timeout = self.timeout;
                    self.pending.spawn(handshake(stream, peer, config, timeout));
                }
                Some(done) = self.pending.join_next(), if !self.pending.is_empty() => {
                    if let Ok(incoming) = done {
                        return Ok(incoming);
                    }
                }
            }
        }
    }
}

async fn handshake(
    stream: TcpStream,
    peer: SocketAddr,
    config: GuiConfig,
    timeout: Duration,
) -> Incoming {
    let session = GuiServer::new(config.codec, config.info.clone());
    let mut conn = spawn_gui(stream, peer, session, config);
    match tokio::time::timeout(timeout, conn.events.recv()).await {
        Ok(Some(first @ GuiEvent::Handshake { .. })) => {
            conn.first = Some(first);
            Incoming::Hub(conn)
        }
        Ok(Some(_)) | Ok(None) => {
            // Closed, or not a handshake: the driver has ended or ends with the error.
            conn.task.abort();
            let reason = match conn.task.await {
                Ok(Err(e)) => e,
                _ => Error::Closed,
            };
            Incoming::Dropped { peer, reason }
        }
        Err(_) => {
            conn.task.abort();
            let _ = conn.task.await;
            Incoming::Dropped {
                peer,
                reason: Error::HandshakeTimeout(timeout),
            }
        }
    }
}

/// Connects to a Hub listener (`-gui "<listener>:port"`) and runs the GUI client role.
pub async fn connect_to_hub(
    addr: impl ToSocketAddrs,
    config: GuiConfig,
) -> Result<GuiConnection, Error> {
    let stream = TcpStream::connect(addr).await?;
    let peer = stream.peer_addr()?;
    let session = GuiClient::new(config.codec, config.info.clone())?;
    Ok(spawn_gui(stream, peer, session, config))
}

fn spawn_gui<S: GuiDrive>(
    stream: TcpStream,
    peer: SocketAddr,
    session: S,
    config: GuiConfig,
) -> GuiConnection {
    let (etx, erx) = mpsc::channel(config.event_capacity.max(1));
    let (ctx, crx) = mpsc::unbounded_channel();
    let dropped = Arc::new(AtomicU64::new(0));
    let task = tokio::spawn(drive_gui(
        stream,
        session,
        etx,
        crx,
        dropped.clone(),
        config.debug_cmd,
        config.tap.map(|t| (t, peer)),
    ));
    GuiConnection {
        first: None,
        events: erx,
        cmds: ctx,
        dropped,
        task,
        peer,
    }
}

async fn drive_gui<S: GuiDrive>(
    mut stream: TcpStream,
    mut session: S,
    events: mpsc::Sender<GuiEvent>,
    mut cmds: mpsc::UnboundedReceiver<Cmd>,
    dropped: Arc<AtomicU64>,
    auto_debug: Option<Vec<u8>>,
    tap: Option<(Tap, SocketAddr)>,
) -> Result<(), Error> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut cmds_open = true;
    loop {
        while let Some(bytes) = session.transmit() {
            stream.write_all(&bytes).await?;
        }
        while let Some(ev) = session.event() {
            if matches!(ev, GuiEvent::Closed | GuiEvent::ConnectionLost) {
                // The end of the stream is never dropped either: it is the last event.
                let _ = events.send(ev).await;
                continue;
            }
            let is_prompt = matches!(ev, GuiEvent::Status(StatusMessage::HubDebugPrompt { .. }));
            if is_prompt {
                if let Some(cmd) = &auto_debug {
                    session.debug(cmd)?;
                    while let Some(bytes) = session.transmit() {
                        stream.write_all(&bytes).await?;
                    }
                }
                // Never dropped: the Hub waits for the answer and sends nothing meanwhile.
                if events.send(ev).await.is_err() {
                    return Ok(());
                }
                continue;
            }
            match events.try_send(ev) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(_)) => {
                    dropped.fetch_add(1, Ordering::Relaxed);
                }
                Err(mpsc::error::TrySendError::Closed(_)) => return Ok(()),
            }
        }
        if session.closed() {
            return Ok(());
        }
        tokio::select! {
            r = stream.read(&mut buf) => match r {
                Ok(0) => session.eof(),
                Ok(n) => {
                    let chunk = buf.get(..n).unwrap_or_default();
                    if let Some((Tap(tap), peer)) = &tap {
                        tap(*peer, chunk);
                    }
                    session.input(chunk)?;
                }
                Err(e) => {
                    session.eof();
                    while let Some(ev) = session.event() {
                        let _ = events.send(ev).await;
                    }
                    return Err(e.into());
                }
            },
            c = cmds.recv(), if cmds_open => match c {
                Some(Cmd::Debug(cmd)) => session.debug(&cmd)?,
                Some(Cmd::Menu(f)) => session.menu(f)?,
                None => cmds_open = false,
            },
        }
    }
}

/// The Hub side over TCP, driven inline: each method reads and writes until its step is done.
#[derive(Debug)]
pub struct HubConnection {
    stream: TcpStream,
    session: HubSide,
    pending: VecDeque<HubEvent>,
    gui_info: Option<Frame>,
    buf: Vec<u8>,
}

impl HubConnection {
    /// Connects to a GUI server (`-gui host:port`) and performs the handshake and
    /// `reinitialize`. `init` is the Hub's initial state (see
    /// [`default_hub_init`](crate::session::default_hub_init)).
    pub async fn connect(
        addr: impl ToSocketAddrs,
        codec: Codec,
        init: Vec<(Vec<u8>, Object)>,
    ) -> Result<HubConnection, Error> {
        let stream = TcpStream::connect(addr).await?;
        let session = HubSide::connecting(codec, init)?;
        HubConnection::start(stream, session).await
    }

    /// Accepts one GUI client on `listener` (`-gui "<listener>:port"`) and performs the
    /// announcement exchange and `reinitialize`.
    pub async fn accept(
        listener: &TcpListener,
        codec: Codec,
        init: Vec<(Vec<u8>, Object)>,
    ) -> Result<HubConnection, Error> {
        let (stream, _) = listener.accept().await?;
        HubConnection::start(stream, HubSide::listening(codec, init)).await
    }

    async fn start(stream: TcpStream, session: HubSide) -> Result<HubConnection, Error> {
        let mut c = HubConnection {
            stream,
            session,
            pending: VecDeque::new(),
            gui_info: None,
            buf: vec![0u8; 64 * 1024],
        };
        loop {
            match c.read_event().await? {
                HubEvent::GuiInfo(f) => c.gui_info = Some(f),
                HubEvent::Ready => return Ok(c),
                other => c.pending.push_back(other),
            }
        }
    }

    async fn flush(&mut self) -> Result<(), Error> {
        while let Some(b) = self.session.poll_transmit() {
            self.stream.write_all(&b).await?;
        }
        Ok(())
    }

    async fn read_event(&mut self) -> Result<HubEvent, Error> {
        loop {
            self.flush().await?;
            if let Some(e) = self.session.poll_event() {
                return Ok(e);
            }
            if self.session.is_closed() {
                return Err(Error::Closed);
            }
            let n = self.stream.read(&mut self.buf).await?;
            if n == 0 {
                return Err(Error::Closed);
            }
            let data = self.buf.get(..n).unwrap_or_default().to_vec();
            self.session.handle_input(&data)?;
        }
    }

    /// The GUI's server information frame.
    pub fn gui_info(&self) -> Option<&Frame> {
        self.gui_info.as_ref()
    }

    /// Sends a status message.
    pub async fn send_status(&mut self, msg: &StatusMessage) -> Result<(), Error> {
        self.session.send_status(msg)?;
        self.flush().await
    }

    /// Sends any frame as a status message.
    pub async fn send_frame(&mut self, frame: Frame) -> Result<(), Error> {
        self.session.send_frame(frame)?;
        self.flush().await
    }

    /// Sends `hub_debug_prompt` and waits, like the Hub, for the matching answer; returns its
    /// `:debug_cmd`. Other events meanwhile are kept for [`next_event`](HubConnection::next_event).
    pub async fn debug_prompt(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let tidx = self.session.send_debug_prompt()?;
        loop {
            match self.read_event().await? {
                HubEvent::DebugCommand { tidx: t, cmd, .. } if t == tidx => return Ok(cmd),
                other => self.pending.push_back(other),
            }
        }
    }

    /// The next thing the GUI did (menu picks, stray replies, its disconnect).
    pub async fn next_event(&mut self) -> Result<HubEvent, Error> {
        if let Some(e) = self.pending.pop_front() {
            return Ok(e);
        }
        self.read_event().await
    }

    /// Plays a [script](crate::script): sends its frames, pauses, and runs its debug prompts
    /// (waiting for each answer). Returns the answers, in order.
    pub async fn play(&mut self, steps: &[Step]) -> Result<Vec<Option<Vec<u8>>>, Error> {
        let mut answers = Vec::new();
        for step in steps {
            match step {
                Step::Send(f) => self.send_frame(f.clone()).await?,
                Step::Prompt => answers.push(self.debug_prompt().await?),
                Step::Sleep(d) => tokio::time::sleep(*d).await,
            }
        }
        Ok(answers)
    }

    /// Sends DISCONNECT and closes the connection.
    pub async fn close(mut self) -> Result<(), Error> {
        self.session.disconnect()?;
        self.flush().await?;
        self.stream.shutdown().await?;
        Ok(())
    }
}

/// Why [`MessageCodec`] failed: the transport, or the bytes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodecError {
    /// The transport failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// The stream does not decode (offsets count from the first byte the codec saw; a Galaxy
    /// stream cannot resynchronise after this).
    #[error(transparent)]
    Decode(#[from] crate::error::DecodeError),
    /// A message cannot be encoded.
    #[error(transparent)]
    Encode(#[from] crate::error::EncodeError),
}

/// The Galaxy message framing as a [`tokio_util::codec`] codec, so
/// [`FramedRead`](tokio_util::codec::FramedRead) and
/// [`FramedWrite`](tokio_util::codec::FramedWrite) carry [`Message`](crate::message::Message)s
/// over any `AsyncRead`/`AsyncWrite`, as for every tokio codec.
///
/// Decoding is [`Codec::decode`] on the read buffer: a partial message consumes nothing and
/// reserves room for the rest of it (bounded by [`Limits::max_message_size`]), a whole one is
/// split off. At end of stream, leftover bytes of a partial message are an error
/// ([`DecodeErrorKind::Truncated`](crate::error::DecodeErrorKind)).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use futures_util::{SinkExt, StreamExt};
/// use monwire_galaxy::message::{Frame, Message, MsgType};
/// use monwire_galaxy::tokio::MessageCodec;
/// use tokio_util::codec::{FramedRead, FramedWrite};
///
/// let (a, b) = tokio::io::duplex(64);
/// let mut tx = FramedWrite::new(a, MessageCodec::default());
/// let mut rx = FramedRead::new(b, MessageCodec::default());
/// let msg = Message::frame(MsgType::Message, Frame::clause("reinitialize").with(":initialize", 1));
/// tx.send(msg.clone()).await.unwrap();
/// assert_eq!(rx.next().await.unwrap().unwrap(), msg);
/// # }
/// ```
///
/// [`Limits::max_message_size`]: crate::codec::Limits::max_message_size
#[derive(Clone, Debug, Default)]
pub struct MessageCodec {
    codec: Codec,
    consumed: u64,
}

impl MessageCodec {
    /// A codec with these limits and INT_64 width.
    pub fn new(codec: Codec) -> MessageCodec {
        MessageCodec { codec, consumed: 0 }
    }

    /// Stream offset of the first byte not yet decoded.
    pub fn offset(&self) -> u64 {
        self.consumed
    }
}

impl tokio_util::codec::Decoder for MessageCodec {
    type Item = crate::message::Message;
    type Error = CodecError;

    fn decode(&mut self, src: &mut bytes::BytesMut) -> Result<Option<Self::Item>, CodecError> {
        match self.codec.decode(src) {
            Ok(Some((m, used))) => {
                let _ = src.split_to(used);
                self.consumed += used as u64;
                Ok(Some(m))
            }
            Ok(None) => {
                // Room for the rest of the announced body (already checked against the limit).
                if let Some(size) = src.get(4..8) {
                    let size = u32::from_be_bytes([size[0], size[1], size[2], size[3]]) as usize;
                    src.reserve((8 + size).saturating_sub(src.len()));
                }
                Ok(None)
            }
            Err(e) => Err(e.shifted(self.consumed).into()),
        }
    }

    fn decode_eof(&mut self, src: &mut bytes::BytesMut) -> Result<Option<Self::Item>, CodecError> {
        match self.decode(src)? {
            Some(m) => Ok(Some(m)),
            None if src.is_empty() => Ok(None),
            None => Err(self.codec.decode_exact(src).map_or_else(
                |e| CodecError::Decode(e.shifted(self.consumed)),
                |_| CodecError::Io(std::io::ErrorKind::UnexpectedEof.into()),
            )),
        }
    }
}

impl tokio_util::codec::Encoder<crate::message::Message> for MessageCodec {
    type Error = CodecError;

    fn encode(
        &mut self,
        item: crate::message::Message,
        dst: &mut bytes::BytesMut,
    ) -> Result<(), CodecError> {
        tokio_util::codec::Encoder::<&crate::message::Message>::encode(self, &item, dst)
    }
}

impl tokio_util::codec::Encoder<&crate::message::Message> for MessageCodec {
    type Error = CodecError;

    fn encode(
        &mut self,
        item: &crate::message::Message,
        dst: &mut bytes::BytesMut,
    ) -> Result<(), CodecError> {
        let mut out = Vec::new();
        self.codec.encode_into(item, &mut out)?;
        dst.extend_from_slice(&out);
        Ok(())
    }
}
