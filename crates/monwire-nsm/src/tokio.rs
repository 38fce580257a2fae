//! The tokio UDP drivers (feature `tokio`): thin loops that move datagrams and timers for the
//! sans-IO roles in [`session`](crate::session). Every decision lives in the core.
//!
//! - [`Monitor`]: runs an [`ExternalMonitor`] or a [`MonitorClient`] in a task and yields a
//!   [`Stream`] of [`DriverEvent`]s (each convertible to a [`monwire_event::Event`]).
//! - [`UdpServer`]: a [`MonitorServer`] on a UDP socket.
//!
//! A [`Monitor`]'s socket is connected to the server: datagrams from any other address never
//! reach it, and an ICMP port unreachable answer (the server's port is closed) comes back as
//! `ECONNREFUSED`, which the driver hands to the role as a loss of the server. A malformed
//! datagram is reported as [`DriverEvent::Malformed`] and skipped.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant, SystemTime};

use futures_core::Stream;
use tokio::net::UdpSocket;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::codec::{self, Limits};
use crate::error::DecodeError;
use crate::message::Message;
use crate::session::{
    ClientConfig, ExternalConfig, ExternalMonitor, MonitorClient, MonitorEvent, MonitorServer,
};

/// Parses an `osc.udp://host:port/` URL into host and port (no resolution).
pub fn parse_url(url: &str) -> Option<(String, u16)> {
    let rest = url.strip_prefix("osc.udp://")?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let (host, port) = rest.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.is_empty() {
        return None;
    }
    Some((host.to_owned(), port.parse().ok()?))
}

/// Resolves an `osc.udp://host:port/` URL (host names included), preferring IPv4 like liblo.
pub async fn resolve_url(url: &str) -> io::Result<SocketAddr> {
    let (host, port) = parse_url(url).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{url:?} is not osc.udp://host:port/"),
        )
    })?;
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await?
        .collect();
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("{host} did not resolve")))
}

/// The server address from the `NSM_URL` environment variable.
pub async fn nsm_url() -> io::Result<SocketAddr> {
    let value = std::env::var("NSM_URL").ok();
    nsm_url_from(value.as_deref()).await
}

/// [`nsm_url`] for a given value of `NSM_URL` (`None`: unset): `NotFound` when unset, else
/// [`resolve_url`].
pub async fn nsm_url_from(value: Option<&str>) -> io::Result<SocketAddr> {
    let url = value.ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "NSM_URL is not set"))?;
    resolve_url(url).await
}

/// A function that sees every datagram a [`Monitor`] receives from its server, with the
/// sender, before it is decoded (for recordings). It runs on the driver's task: keep it short.
pub type Tap = std::sync::Arc<dyn Fn(SocketAddr, &[u8]) + Send + Sync>;

/// What a [`Monitor`] yields.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum DriverEvent {
    /// An event of the session core.
    Monitor {
        /// The event.
        event: MonitorEvent,
        /// When the driver saw it.
        observed: SystemTime,
    },
    /// A datagram from the server that did not decode; it was skipped.
    Malformed {
        /// Its sender.
        from: SocketAddr,
        /// Why.
        error: DecodeError,
    },
}

impl DriverEvent {
    /// The monitor message inside, or the loss or return of the server, as a
    /// [`monwire_event::Event`] stamped with source and observed time; `None` for the other
    /// events.
    pub fn to_event(&self, server: SocketAddr) -> Option<monwire_event::Event> {
        let DriverEvent::Monitor { event, observed } = self else {
            return None;
        };
        let e = match event {
            MonitorEvent::Monitor(m) => crate::event::to_event(m),
            MonitorEvent::Disconnected { reason } => crate::event::disconnected(*reason),
            MonitorEvent::Reconnected => crate::event::reconnected(),
            _ => return None,
        };
        Some(
            e.with_source(format!("osc.udp://{server}/"))
                .with_observed(*observed),
        )
    }
}

impl std::fmt::Display for DriverEvent {
    /// One short line: the session event's own line, or what was wrong with a datagram.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DriverEvent::Monitor { event, .. } => write!(f, "{event}"),
            DriverEvent::Malformed { from, error } => {
                write!(f, "malformed datagram from {from}: {error}")
            }
        }
    }
}

/// The interface the driver needs from a consumer role.
trait Role: Send + 'static {
    fn start(&mut self, now: Instant);
    fn handle_message(&mut self, msg: Message, now: Instant);
    fn handle_timeout(&mut self, now: Instant);
    fn poll_transmit(&mut self) -> Option<Message>;
    fn poll_event(&mut self) -> Option<MonitorEvent>;
    fn poll_timeout(&self) -> Option<Instant>;
    fn command(&mut self, cmd: Command, now: Instant);
    fn handle_unreachable(&mut self, _now: Instant) {}
}

/// A request to the running role.
#[derive(Clone, Copy, Debug)]
enum Command {
    Reset,
    Quit,
}

impl Role for ExternalMonitor {
    fn start(&mut self, now: Instant) {
        ExternalMonitor::start(self, now)
    }
    fn handle_message(&mut self, msg: Message, now: Instant) {
        ExternalMonitor::handle_message(self, msg, now)
    }
    fn handle_timeout(&mut self, now: Instant) {
        ExternalMonitor::handle_timeout(self, now)
    }
    fn poll_transmit(&mut self) -> Option<Message> {
        ExternalMonitor::poll_transmit(self)
    }
    fn poll_event(&mut self) -> Option<MonitorEvent> {
        ExternalMonitor::poll_event(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        ExternalMonitor::poll_timeout(self)
    }
    fn handle_unreachable(&mut self, now: Instant) {
        ExternalMonitor::handle_unreachable(self, now)
    }
    fn command(&mut self, cmd: Command, now: Instant) {
        // A refused request (already closed) needs no answer: the stream has ended or will.
        let _ = match cmd {
            Command::Reset => self.reset(),
            Command::Quit => self.quit(now),
        };
    }
}

impl Role for MonitorClient {
    fn start(&mut self, now: Instant) {
        MonitorClient::start(self, now)
    }
    fn handle_message(&mut self, msg: Message, now: Instant) {
        MonitorClient::handle_message(self, msg, now)
    }
    fn handle_timeout(&mut self, now: Instant) {
        MonitorClient::handle_timeout(self, now)
    }
    fn poll_transmit(&mut self) -> Option<Message> {
        MonitorClient::poll_transmit(self)
    }
    fn poll_event(&mut self) -> Option<MonitorEvent> {
        MonitorClient::poll_event(self)
    }
    fn poll_timeout(&self) -> Option<Instant> {
        MonitorClient::poll_timeout(self)
    }
    fn command(&mut self, cmd: Command, _now: Instant) {
        // Reset is refused without `:monitor:`; an NSM client has no quit (it just exits).
        if let Command::Reset = cmd {
            let _ = self.reset();
        }
    }
}

/// A running consumer role: a task owning the UDP socket, and a [`Stream`] of its events.
///
/// The stream ends when the role closes (after quit) or the socket fails.
#[derive(Debug)]
pub struct Monitor {
    events: mpsc::Receiver<DriverEvent>,
    commands: mpsc::UnboundedSender<Command>,
    server: SocketAddr,
    local: SocketAddr,
    task: JoinHandle<io::Result<()>>,
}

impl Monitor {
    /// Starts a RaySession external monitor of `server` from a new socket on `bind`, giving up
    /// when the server has not answered within `timeout` (see [`ExternalMonitor::new`]).
    pub async fn external(
        bind: SocketAddr,
        server: SocketAddr,
        timeout: Duration,
    ) -> io::Result<Monitor> {
        Monitor::spawn(ExternalMonitor::new(timeout), bind, server, None).await
    }

    /// [`external_with`](Monitor::external_with) with a [`Tap`] that sees every datagram from
    /// the server.
    pub async fn external_tapped(
        bind: SocketAddr,
        server: SocketAddr,
        config: ExternalConfig,
        tap: Tap,
    ) -> io::Result<Monitor> {
        Monitor::spawn(
            ExternalMonitor::with_config(config),
            bind,
            server,
            Some(tap),
        )
        .await
    }

    /// [`nsm_client`](Monitor::nsm_client) with a [`Tap`] that sees every datagram from the
    /// server.
    pub async fn nsm_client_tapped(
        config: ClientConfig,
        bind: SocketAddr,
        server: SocketAddr,
        tap: Tap,
    ) -> io::Result<Monitor> {
        Monitor::spawn(MonitorClient::new(config), bind, server, Some(tap)).await
    }

    /// Starts a RaySession external monitor with this timing: it keeps announcing with backoff
    /// while the server is not up, probes it once registered, and announces again after a loss
    /// (see [`ExternalMonitor`]).
    pub async fn external_with(
        bind: SocketAddr,
        server: SocketAddr,
        config: ExternalConfig,
    ) -> io::Result<Monitor> {
        Monitor::spawn(ExternalMonitor::with_config(config), bind, server, None).await
    }

    /// Starts an NSM `:monitor:` client of `server` from a new socket on `bind`.
    pub async fn nsm_client(
        config: ClientConfig,
        bind: SocketAddr,
        server: SocketAddr,
    ) -> io::Result<Monitor> {
        Monitor::spawn(MonitorClient::new(config), bind, server, None).await
    }

    async fn spawn<R: Role>(
        role: R,
        bind: SocketAddr,
        server: SocketAddr,
        tap: Option<Tap>,
    ) -> io::Result<Monitor> {
        let socket = UdpSocket::bind(bind).await?;
        // Connected: the kernel drops datagrams from anyone else, and an ICMP port unreachable
        // answer to what we send comes back as `ECONNREFUSED`, which is how a closed server port
        // is seen at once.
        socket.connect(server).await?;
        let local = socket.local_addr()?;
        let (tx, events) = mpsc::channel(256);
        let (commands, cmd_rx) = mpsc::unbounded_channel();
        let task = tokio::spawn(run(role, socket, server, tx, cmd_rx, tap));
        Ok(Monitor {
            events,
            commands,
            server,
            local,
            task,
        })
    }

    /// The server's address.
    pub fn server(&self) -> SocketAddr {
        self.server
    }

    /// Our socket's address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Asks for the list again.
    pub fn reset(&self) {
        let _ = self.commands.send(Command::Reset);
    }

    /// Unregisters (external monitor); the stream ends after `Closed`.
    pub fn quit(&self) {
        let _ = self.commands.send(Command::Quit);
    }

    /// The next event; `None` once the role closed.
    pub async fn recv(&mut self) -> Option<DriverEvent> {
        self.events.recv().await
    }

    /// Stops the task at once (no quit is sent).
    pub fn abort(&self) {
        self.task.abort();
    }
}

impl Stream for Monitor {
    type Item = DriverEvent;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<DriverEvent>> {
        self.events.poll_recv(cx)
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn refused(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::ConnectionRefused
}

async fn run<R: Role>(
    mut role: R,
    socket: UdpSocket,
    server: SocketAddr,
    tx: mpsc::Sender<DriverEvent>,
    mut commands: mpsc::UnboundedReceiver<Command>,
    tap: Option<Tap>,
) -> io::Result<()> {
    let limits = Limits::default();
    let mut buf = vec![0u8; 65_536];
    role.start(Instant::now());
    let mut commands_open = true;
    loop {
        while let Some(msg) = role.poll_transmit() {
            let bytes =
                codec::encode(&msg).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            match socket.send(&bytes).await {
                Ok(_) => {}
                // An ICMP error from an earlier datagram, reported on this send.
                Err(e) if refused(&e) => role.handle_unreachable(Instant::now()),
                Err(e) => return Err(e),
            }
        }
        while let Some(event) = role.poll_event() {
            let closed = matches!(event, MonitorEvent::Closed { .. });
            let item = DriverEvent::Monitor {
                event,
                observed: SystemTime::now(),
            };
            if tx.send(item).await.is_err() || closed {
                return Ok(());
            }
        }
        let deadline = role.poll_timeout();
        tokio::select! {
            r = socket.recv(&mut buf) => {
                let n = match r {
                    Ok(n) => n,
                    Err(e) if refused(&e) => {
                        role.handle_unreachable(Instant::now());
                        continue;
                    }
                    Err(e) => return Err(e),
                };
                let datagram = buf.get(..n).unwrap_or_default();
                if let Some(tap) = &tap {
                    tap(server, datagram);
                }
                match codec::decode_datagram(datagram, &limits) {
                    Ok(messages) => {
                        let now = Instant::now();
                        for m in messages {
                            role.handle_message(m, now);
                        }
                    }
                    Err(error) => {
                        let from = server;
                        if tx.send(DriverEvent::Malformed { from, error }).await.is_err() {
                            return Ok(());
                        }
                    }
                }
            }
            () = sleep_until(deadline) => role.handle_timeout(Instant::now()),
            cmd = commands.recv(), if commands_open => match cmd {
                Some(cmd) => role.command(cmd, Instant::now()),
                None => commands_open = false,
            },
        }
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d.into()).await,
        None => std::future::pending().await,
    }
}

/// What [`UdpServer::recv`] received.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ServerInput {
    /// Messages (one, or a bundle's), already handled and answered.
    Messages {
        /// The sender.
        from: SocketAddr,
        /// What it sent.
        messages: Vec<Message>,
    },
    /// A datagram that did not decode. A well-formed but unaccepted message was answered with
    /// `/minor_error … -18` as ray-daemon does; anything else (no type tags, bad OSC) was
    /// dropped silently.
    Malformed {
        /// The sender.
        from: SocketAddr,
        /// Why.
        error: DecodeError,
    },
}

/// A [`MonitorServer`] on a UDP socket.
///
/// Change the session through [`core`](UdpServer::core), then [`flush`](UdpServer::flush) to
/// send what it queued; [`recv`](UdpServer::recv) handles one incoming datagram and flushes.
#[derive(Debug)]
pub struct UdpServer {
    socket: UdpSocket,
    core: MonitorServer<SocketAddr>,
    limits: Limits,
    buf: Vec<u8>,
}

impl UdpServer {
    /// Binds a server with an empty session on `addr`.
    pub async fn bind(addr: SocketAddr) -> io::Result<UdpServer> {
        Ok(UdpServer {
            socket: UdpSocket::bind(addr).await?,
            core: MonitorServer::new(),
            limits: Limits::default(),
            buf: vec![0u8; 65_536],
        })
    }

    /// Our address.
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.socket.local_addr()
    }

    /// Our `osc.udp://host:port/` URL (what `NSM_URL` would hold).
    pub fn url(&self) -> io::Result<String> {
        Ok(format!("osc.udp://{}/", self.local_addr()?))
    }

    /// The sans-IO server, to feed the session's happenings.
    pub fn core(&mut self) -> &mut MonitorServer<SocketAddr> {
        &mut self.core
    }

    /// Sends every datagram the core queued.
    pub async fn flush(&mut self) -> io::Result<()> {
        while let Some((to, msg)) = self.core.poll_transmit() {
            let bytes =
                codec::encode(&msg).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
            self.socket.send_to(&bytes, to).await?;
        }
        Ok(())
    }

    /// Receives one datagram, lets the core answer it, and sends the answers.
    pub async fn recv(&mut self) -> io::Result<ServerInput> {
        let (n, from) = self.socket.recv_from(&mut self.buf).await?;
        let datagram = self.buf.get(..n).unwrap_or_default();
        let input = match codec::decode_datagram(datagram, &self.limits) {
            Ok(messages) => {
                for m in &messages {
                    self.core.handle_message(from, m.clone());
                }
                ServerInput::Messages { from, messages }
            }
            Err(error) => {
                if let Some((path, tags)) = error.unaccepted_message() {
                    self.core.handle_unknown(from, path, tags);
                }
                ServerInput::Malformed { from, error }
            }
        };
        self.flush().await?;
        Ok(input)
    }
}
