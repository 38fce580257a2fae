//! The tokio adapter (feature `tokio`): client and server over `ws://` and `wss://`.
//!
//! This module only moves frames and timers; every decision is made by the sans-IO
//! [`Client`] and [`Server`].
//!
//! # Certificates
//!
//! The real SysAdm server makes a new self-signed certificate at every start, so no public CA
//! vouches for it. [`ClientTls::Verify`] (the default) checks the server's certificate against
//! the system CA bundle (`/etc/ssl/certs/ca-certificates.crt` and the like, when present) plus
//! an optional CA/certificate file you trust (`--ca FILE`; a self-signed server certificate can
//! be its own CA). [`ClientTls::InsecureAcceptAnyCertificate`] accepts **any** certificate for
//! any name: the connection is encrypted but the server is not authenticated, so anyone on the
//! path can impersonate it and read the password. Use it only for a SysAdm server you cannot
//! get the certificate of, on a network you trust.
//!
//! # Credentials
//!
//! Passwords and tokens never appear in `Debug` output or logs. Over plain `ws://` the client
//! refuses to send credentials to a host that is not loopback unless
//! [`ClientOptions::allow_plain_credentials`] is set.

use std::collections::HashMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Error as WsError;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::event::bridged_message;
use crate::message::Message;
use crate::session::{
    Client, ClientConfig, ClientEvent, ClientTransmit, ConnId, Outgoing, Server, ServerConfig,
    Verifier,
};

/// Adapter errors (configuration, IO, TLS).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The URL is not `ws://host[:port][/path]` or `wss://…`.
    #[error("bad URL {0:?}: expected ws://HOST[:PORT] or wss://HOST[:PORT]")]
    BadUrl(String),
    /// Credentials would go over plain ws:// to a non-loopback host.
    #[error(
        "refusing to send credentials over plain ws:// to non-loopback host {0}; use wss:// or force it"
    )]
    PlainCredentials(String),
    /// A certificate, key or CA file could not be read.
    #[error("{path}: {what}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        what: String,
    },
    /// TLS setup failed.
    #[error("TLS: {0}")]
    Tls(String),
    /// An IO error.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A websocket error.
    #[error("websocket: {0}")]
    Ws(String),
    /// The server's certificate is not trusted (the client stops: retrying cannot help).
    #[error("{url}: the server's certificate is not trusted ({reason})")]
    Certificate {
        /// The server.
        url: String,
        /// What rustls said.
        reason: String,
    },
    /// The client session stopped for good.
    #[error(transparent)]
    Client(#[from] crate::error::ClientFailure),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

// ---------------------------------------------------------------------------------------------
// URLs

/// A parsed `ws://` or `wss://` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsUrl {
    /// `wss`?
    pub secure: bool,
    /// Host name or address (IPv6 without brackets).
    pub host: String,
    /// Port (default 12150, SysAdm's).
    pub port: u16,
    /// Path (default `/`).
    pub path: String,
}

impl WsUrl {
    /// SysAdm's default port.
    pub const DEFAULT_PORT: u16 = 12150;

    /// Parses `ws[s]://host[:port][/path]`.
    pub fn parse(url: &str) -> Result<WsUrl, Error> {
        let bad = || Error::BadUrl(url.to_owned());
        let (secure, rest) = if let Some(r) = url.strip_prefix("wss://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("ws://") {
            (false, r)
        } else {
            return Err(bad());
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (
                rest.get(..i).unwrap_or_default(),
                rest.get(i..).unwrap_or("/"),
            ),
            None => (rest, "/"),
        };
        let (host, port) = if let Some(r) = authority.strip_prefix('[') {
            let end = r.find(']').ok_or_else(bad)?;
            let host = r.get(..end).unwrap_or_default();
            let after = r.get(end + 1..).unwrap_or_default();
            let port = match after.strip_prefix(':') {
                Some(p) => p.parse().map_err(|_| bad())?,
                None if after.is_empty() => Self::DEFAULT_PORT,
                None => return Err(bad()),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) => (h, p.parse().map_err(|_| bad())?),
                None => (authority, Self::DEFAULT_PORT),
            }
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok(WsUrl {
            secure,
            host: host.to_owned(),
            port,
            path: path.to_owned(),
        })
    }

    /// Whether the host is loopback (`localhost`, 127.0.0.0/8, `::1`).
    pub fn is_loopback(&self) -> bool {
        self.host.eq_ignore_ascii_case("localhost")
            || self
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    fn request_url(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        format!(
            "{}://{}:{}{}",
            if self.secure { "wss" } else { "ws" },
            host,
            self.port,
            self.path
        )
    }
}

impl fmt::Display for WsUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.request_url())
    }
}

// ---------------------------------------------------------------------------------------------
// Client

/// How the client checks the server's certificate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ClientTls {
    /// Verify against the system CA bundle and, if given, this CA (or self-signed
    /// certificate) PEM file.
    Verify {
        /// An extra CA/certificate PEM file to trust.
        ca_file: Option<PathBuf>,
    },
    /// Verify against the system CA bundle only.
    #[default]
    System,
    /// Accept **any** certificate for any name: encrypted but unauthenticated (see the module
    /// docs). Handshake signatures are still checked.
    InsecureAcceptAnyCertificate,
}

/// What to connect to and how.
#[derive(Clone)]
pub struct ClientOptions {
    /// The server URL.
    pub url: WsUrl,
    /// The session settings (credentials, subscriptions, timers).
    pub config: ClientConfig,
    /// Certificate checking for `wss://`.
    pub tls: ClientTls,
    /// Allow credentials over plain `ws://` to a non-loopback host.
    pub allow_plain_credentials: bool,
    /// Bound of the event channel to the application (default 1024).
    pub channel: usize,
    /// Sees every connection opened and closed and every message received, as it came (for
    /// recordings). It runs on the client's task: keep it short.
    pub tap: Option<ClientTap>,
}

/// What a [`ClientTap`] sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Tapped<'a> {
    /// The websocket opened (the upgrade succeeded).
    Open,
    /// A text message received.
    Text(&'a str),
    /// A binary message received.
    Binary(&'a [u8]),
    /// The websocket closed or failed.
    Close,
}

/// A function that sees what a client receives, before the session handles it.
pub type ClientTap = Arc<dyn Fn(Tapped<'_>) + Send + Sync>;

impl fmt::Debug for ClientOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientOptions")
            .field("url", &self.url.to_string())
            .field("config", &self.config)
            .field("tls", &self.tls)
            .field("allow_plain_credentials", &self.allow_plain_credentials)
            .finish()
    }
}

impl ClientOptions {
    /// Options for `url` with default settings.
    pub fn new(url: &str) -> Result<ClientOptions, Error> {
        Ok(ClientOptions {
            url: WsUrl::parse(url)?,
            config: ClientConfig::default(),
            tls: ClientTls::default(),
            allow_plain_credentials: false,
            channel: 1024,
            tap: None,
        })
    }
}

#[derive(Debug)]
struct AcceptAny(Arc<rustls::crypto::CryptoProvider>);

impl rustls::client::danger::ServerCertVerifier for AcceptAny {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Ok(rustls::client::danger::ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

const SYSTEM_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
    "/usr/local/share/certs/ca-root-nss.crt",
];

fn read_certs(path: &std::path::Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let pem = |what: String| Error::Pem {
        path: path.to_owned(),
        what,
    };
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem(e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| pem(e.to_string()))?;
    if certs.is_empty() {
        return Err(pem("no certificates in file".into()));
    }
    Ok(certs)
}

/// The rustls client configuration for `tls`.
pub fn client_tls_config(tls: &ClientTls) -> Result<Arc<rustls::ClientConfig>, Error> {
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?;
    let config = match tls {
        ClientTls::InsecureAcceptAnyCertificate => builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAny(provider)))
            .with_no_client_auth(),
        ClientTls::System | ClientTls::Verify { .. } => {
            let mut roots = rustls::RootCertStore::empty();
            if let Some(bundle) = SYSTEM_BUNDLES
                .iter()
                .map(std::path::Path::new)
                .find(|p| p.exists())
                && let Ok(certs) = read_certs(bundle)
            {
                roots.add_parsable_certificates(certs);
            }
            if let ClientTls::Verify {
                ca_file: Some(path),
            } = tls
            {
                for cert in read_certs(path)? {
                    roots.add(cert).map_err(|e| Error::Pem {
                        path: path.clone(),
                        what: e.to_string(),
                    })?;
                }
            }
            builder.with_root_certificates(roots).with_no_client_auth()
        }
    };
    Ok(Arc::new(config))
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

fn ws_config(limits: &crate::codec::Limits) -> WebSocketConfig {
    // A small read buffer: tungstenite's default (128 KiB) is allocated up front for every
    // connection, which would dominate the memory of an idle subscriber.
    WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .max_message_size(Some(limits.max_message_len))
        .max_frame_size(Some(limits.max_message_len))
}

/// The deadline of the TCP connect, the TLS handshake and the websocket upgrade, each.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The deadline of one websocket write (a frame, a flush or a close).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a connection attempt failed: worth another try later, or not.
enum OpenError {
    /// Unreachable, refused, timed out: try again.
    Retry(String),
    /// The certificate is not trusted.
    Certificate(String),
    /// The TLS or websocket handshake failed: the server is not what we expect.
    Handshake(String),
}

async fn with_deadline<T, E: fmt::Display>(
    what: &str,
    f: impl std::future::Future<Output = Result<T, E>>,
) -> Result<Result<T, E>, OpenError> {
    tokio::time::timeout(HANDSHAKE_TIMEOUT, f)
        .await
        .map_err(|_| {
            OpenError::Retry(format!(
                "{what} timed out after {} s",
                HANDSHAKE_TIMEOUT.as_secs()
            ))
        })
}

async fn open(
    opts: &ClientOptions,
    tls: &Option<Arc<rustls::ClientConfig>>,
) -> Result<WebSocketStream<Box<dyn Io>>, OpenError> {
    let tcp = with_deadline(
        "TCP connect",
        TcpStream::connect((opts.url.host.as_str(), opts.url.port)),
    )
    .await?
    .map_err(|e| OpenError::Retry(e.to_string()))?;
    let _ = tcp.set_nodelay(true);
    let stream: Box<dyn Io> = match tls {
        Some(cfg) => {
            let name = ServerName::try_from(opts.url.host.clone())
                .map_err(|e| OpenError::Handshake(format!("TLS: {e}")))?;
            let conn = with_deadline(
                "TLS handshake",
                tokio_rustls::TlsConnector::from(cfg.clone()).connect(name, tcp),
            )
            .await?
            .map_err(|e| {
                let inner = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
                match inner {
                    Some(rustls::Error::InvalidCertificate(why)) => {
                        OpenError::Certificate(format!("{why:?}"))
                    }
                    Some(other) => OpenError::Handshake(format!("TLS handshake failed: {other}")),
                    None => OpenError::Handshake(format!("TLS handshake failed: {e}")),
                }
            })?;
            Box::new(conn)
        }
        None => Box::new(tcp),
    };
    let (ws, _) = with_deadline(
        "websocket upgrade",
        tokio_tungstenite::client_async_with_config(
            opts.url.request_url(),
            stream,
            Some(ws_config(&opts.config.limits)),
        ),
    )
    .await?
    .map_err(|e| OpenError::Handshake(format!("websocket upgrade failed: {e}")))?;
    Ok(ws)
}

/// The client's goodbye: close code 1000 (normal closure).
fn normal_close() -> CloseFrame {
    CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    }
}

/// A running client: receive its events, close it.
#[derive(Debug)]
pub struct ClientHandle {
    events: mpsc::Receiver<ClientEvent>,
    close: Arc<Notify>,
    task: tokio::task::JoinHandle<Result<(), Error>>,
}

impl ClientHandle {
    /// The next event (wire events and session events); `None` once the client has stopped
    /// (then [`join`](ClientHandle::join) says why).
    pub async fn next(&mut self) -> Option<ClientEvent> {
        self.events.recv().await
    }

    /// Closes the connection for good (with a websocket close frame); [`next`](ClientHandle::next)
    /// then drains and ends.
    pub fn close(&self) {
        self.close.notify_one();
    }

    /// Waits for the client task to end: `Ok` after [`close`](ClientHandle::close), the error
    /// that ended it otherwise ([`Error::Client`], [`Error::Certificate`]).
    pub async fn join(self) -> Result<(), Error> {
        drop(self.events);
        match self.task.await {
            Ok(r) => r,
            Err(e) => Err(Error::Ws(format!("client task: {e}"))),
        }
    }
}

/// Starts a client that connects, authenticates, subscribes and reconnects on its own.
///
/// It reconnects (with back-off, reporting each attempt as a `reconnecting` event) while the
/// server cannot be reached, and after a connection that had logged in is lost. It stops for
/// good, and [`ClientHandle::join`] returns the reason, when the login is refused, a request
/// needs a login it does not have, the server's certificate is not trusted, or the TLS or
/// websocket handshake fails before the first login.
pub fn spawn_client(opts: ClientOptions) -> Result<ClientHandle, Error> {
    if !opts.url.secure
        && !opts.url.is_loopback()
        && opts.config.credentials.is_some()
        && !opts.allow_plain_credentials
    {
        return Err(Error::PlainCredentials(opts.url.host.clone()));
    }
    let tls = if opts.url.secure {
        Some(client_tls_config(&opts.tls)?)
    } else {
        None
    };
    let (tx, rx) = mpsc::channel(opts.channel.max(1));
    let close = Arc::new(Notify::new());
    let task = tokio::spawn(client_loop(opts, tls, tx, close.clone()));
    Ok(ClientHandle {
        events: rx,
        close,
        task,
    })
}

async fn drain_client(client: &mut Client, tx: &mpsc::Sender<ClientEvent>) -> bool {
    while let Some(ev) = client.poll_event() {
        if tx.send(ev).await.is_err() {
            return false;
        }
    }
    true
}

async fn client_loop(
    opts: ClientOptions,
    tls: Option<Arc<rustls::ClientConfig>>,
    tx: mpsc::Sender<ClientEvent>,
    close: Arc<Notify>,
) -> Result<(), Error> {
    let mut client = Client::new(opts.config.clone(), opts.url.to_string());
    let mut fatal = None;
    loop {
        if client.is_closed() {
            break;
        }
        let now = Instant::now();
        if !client.wants_connect(now) {
            let until = client
                .poll_timeout()
                .unwrap_or(now + Duration::from_secs(1));
            tokio::select! {
                _ = tokio::time::sleep_until(until.into()) => {}
                _ = close.notified() => { client.close(); }
            }
            continue;
        }
        let opened = tokio::select! {
            o = open(&opts, &tls) => Some(o),
            _ = close.notified() => None,
        };
        match opened {
            None => client.close(),
            Some(Ok(mut ws)) => {
                let tap = opts.tap.as_ref();
                if let Some(tap) = tap {
                    tap(Tapped::Open);
                }
                client.handle_connected(Instant::now());
                run_client_connection(&mut client, &mut ws, &tx, &close, tap).await;
                if let Some(tap) = tap {
                    tap(Tapped::Close);
                }
                if client.is_closed() {
                    let _ =
                        tokio::time::timeout(WRITE_TIMEOUT, ws.close(Some(normal_close()))).await;
                    break;
                }
                client.handle_disconnected(Instant::now());
            }
            Some(Err(OpenError::Retry(why))) => client.handle_connect_failed(Instant::now(), &why),
            Some(Err(OpenError::Certificate(why))) if !client.has_logged_in() => {
                fatal = Some(Error::Certificate {
                    url: opts.url.to_string(),
                    reason: why,
                });
                client.close();
            }
            Some(Err(OpenError::Handshake(why))) if !client.has_logged_in() => {
                client.fail(crate::error::ClientFailure::Handshake(why));
            }
            // After a login, a server that restarts may come back badly for a while.
            Some(Err(OpenError::Certificate(why) | OpenError::Handshake(why))) => {
                client.handle_connect_failed(Instant::now(), &why)
            }
        }
        if !drain_client(&mut client, &tx).await {
            break;
        }
    }
    let _ = drain_client(&mut client, &tx).await;
    if let Some(e) = fatal {
        return Err(e);
    }
    match client.failure() {
        Some(f) => Err(Error::Client(f.clone())),
        None => Ok(()),
    }
}

/// Runs one connection until it is lost, the client closes it, or the application goes away.
async fn run_client_connection(
    client: &mut Client,
    ws: &mut WebSocketStream<Box<dyn Io>>,
    tx: &mpsc::Sender<ClientEvent>,
    close: &Notify,
    tap: Option<&ClientTap>,
) {
    loop {
        while let Some(t) = client.poll_transmit() {
            match t {
                ClientTransmit::Text(text) => {
                    let sent =
                        tokio::time::timeout(WRITE_TIMEOUT, ws.send(WsMessage::text(text))).await;
                    if !matches!(sent, Ok(Ok(()))) {
                        return;
                    }
                }
                ClientTransmit::Close => {
                    let _ =
                        tokio::time::timeout(WRITE_TIMEOUT, ws.close(Some(normal_close()))).await;
                    return;
                }
            }
        }
        if !drain_client(client, tx).await {
            client.close();
            return;
        }
        if client.is_closed() {
            return;
        }
        let until = client
            .poll_timeout()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            frame = ws.next() => match frame {
                Some(Ok(WsMessage::Text(t))) => {
                    if let Some(tap) = tap {
                        tap(Tapped::Text(t.as_str()));
                    }
                    client.handle_text(Instant::now(), t.as_bytes());
                }
                Some(Ok(WsMessage::Binary(b))) => {
                    if let Some(tap) = tap {
                        tap(Tapped::Binary(&b));
                    }
                    client.handle_text(Instant::now(), &b);
                }
                Some(Ok(WsMessage::Close(frame))) => {
                    if let Some(f) = frame {
                        client.handle_peer_close(u16::from(f.code), &f.reason);
                    }
                    return;
                }
                None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
            _ = tokio::time::sleep_until(until.into()) => client.handle_timeout(Instant::now()),
            _ = close.notified() => client.close(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Server

/// The server's certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ServerTls {
    /// Plain `ws://` (only for loopback unless you know better).
    Plain,
    /// `wss://` with this certificate chain and private key (PEM files).
    Files {
        /// Certificate chain PEM.
        cert: PathBuf,
        /// Private key PEM (PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
    /// `wss://` with a self-signed certificate generated at start for these names (like the
    /// real server). Its PEM is available from [`ServerHandle::certificate_pem`].
    SelfSigned {
        /// Subject alternative names (`localhost`, `127.0.0.1`).
        names: Vec<String>,
    },
}

/// Server options.
pub struct ServerOptions {
    /// Where to listen.
    pub listen: SocketAddr,
    /// TLS.
    pub tls: ServerTls,
    /// Session settings.
    pub config: ServerConfig,
    /// The password verifier.
    pub verifier: Box<dyn Verifier>,
}

impl fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerOptions")
            .field("listen", &self.listen)
            .field("tls", &self.tls)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

struct Shared {
    shutdown: tokio::sync::watch::Sender<bool>,
    server: Mutex<Server>,
    notify: Mutex<HashMap<ConnId, Arc<Notify>>>,
    events: mpsc::Sender<monwire_event::Event>,
}

impl Shared {
    fn server(&self) -> MutexGuard<'_, Server> {
        self.server.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn notify_ready(&self, ready: &[ConnId]) {
        let map = self.notify.lock().unwrap_or_else(|p| p.into_inner());
        for id in ready {
            if let Some(n) = map.get(id) {
                n.notify_one();
            }
        }
    }

    fn forward_events(&self, server: &mut Server) {
        while let Some(e) = server.poll_event() {
            // Session events are informational: dropped when the application does not keep up.
            let _ = self.events.try_send(e);
        }
    }
}

/// A running server.
#[derive(Clone)]
pub struct ServerHandle {
    shared: Arc<Shared>,
    local: SocketAddr,
    cert_pem: Option<String>,
    secure: bool,
}

impl fmt::Debug for ServerHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerHandle")
            .field("local", &self.local)
            .field("secure", &self.secure)
            .finish()
    }
}

impl ServerHandle {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// The URL clients use (`wss://127.0.0.1:port` or `ws://…`).
    pub fn url(&self) -> String {
        format!(
            "{}://{}",
            if self.secure { "wss" } else { "ws" },
            self.local
        )
    }

    /// The generated self-signed certificate (PEM), to give clients as `--ca`.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.cert_pem.as_deref()
    }

    /// Publishes an event message to its subscribers (never blocks on slow subscribers).
    pub fn publish(&self, message: &Message) -> Result<usize, crate::error::EncodeError> {
        let (n, ready) = {
            let mut server = self.shared.server();
            let n = server.publish(message)?;
            self.shared.forward_events(&mut server);
            (n, server.ready_connections())
        };
        self.shared.notify_ready(&ready);
        Ok(n)
    }

    /// Publishes any protocol's event: SysAdm events as themselves, others as
    /// `monwire-<protocol>` with the event JSON as `args` (see [`crate::event`]).
    pub fn publish_event(
        &self,
        event: &monwire_event::Event,
    ) -> Result<usize, crate::error::FromEventError> {
        let msg = bridged_message(event)?;
        self.publish(&msg)
            .map_err(|e| crate::error::FromEventError::Unserializable(e.to_string()))
    }

    /// Number of open connections.
    pub fn connections(&self) -> usize {
        self.shared.server().connections()
    }

    /// Remembers a password login of `user` that happened `ago` (see
    /// [`Server::remember_password_login`]).
    pub fn remember_password_login(&self, user: &str, ago: Duration) {
        let at = Instant::now().checked_sub(ago).unwrap_or_else(Instant::now);
        self.shared.server().remember_password_login(user, at);
    }

    /// The longest per-connection queue right now, in frames (bounded by
    /// [`ServerConfig::queue_capacity`]).
    pub fn max_queued(&self) -> usize {
        self.shared.server().max_queued()
    }

    /// Stops accepting and closes every connection (each gets a websocket close frame, 1001
    /// "going away"); returns at once.
    pub fn shutdown(&self) {
        let _ = self.shared.shutdown.send(true);
    }

    /// [`shutdown`](ServerHandle::shutdown), then waits (at most `timeout`) until every
    /// connection has sent its close frame and is gone. `true` when all are gone.
    pub async fn shutdown_gracefully(&self, timeout: Duration) -> bool {
        self.shutdown();
        let deadline = tokio::time::Instant::now() + timeout;
        while self.connections() > 0 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// [`shutdown_gracefully`](ServerHandle::shutdown_gracefully) for code outside the
    /// runtime (the runtime must keep running on other threads).
    pub fn shutdown_gracefully_blocking(&self, timeout: Duration) -> bool {
        self.shutdown();
        let deadline = Instant::now() + timeout;
        while self.connections() > 0 {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }
}

/// Binds and starts a server. Returns the handle and the receiver of session events.
pub async fn spawn_server(
    opts: ServerOptions,
) -> Result<(ServerHandle, mpsc::Receiver<monwire_event::Event>), Error> {
    let (acceptor, cert_pem) = match &opts.tls {
        ServerTls::Plain => (None, None),
        ServerTls::Files { cert, key } => {
            let certs = read_certs(cert)?;
            let key = PrivateKeyDer::from_pem_file(key).map_err(|e| Error::Pem {
                path: key.clone(),
                what: e.to_string(),
            })?;
            (Some(server_tls(certs, key)?), None)
        }
        ServerTls::SelfSigned { names } => {
            let ck = rcgen::generate_simple_self_signed(names.clone())
                .map_err(|e| Error::Tls(e.to_string()))?;
            let pem = ck.cert.pem();
            let key = PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
            (
                Some(server_tls(vec![ck.cert.der().clone()], key)?),
                Some(pem),
            )
        }
    };
    let listener = TcpListener::bind(opts.listen).await?;
    let local = listener.local_addr()?;
    let (tx, rx) = mpsc::channel(4096);
    let limits = opts.config.limits;
    let handshake_timeout = opts.config.handshake_timeout;
    let write_timeout = opts.config.write_timeout;
    let (shutdown, _) = tokio::sync::watch::channel(false);
    let shared = Arc::new(Shared {
        shutdown,
        server: Mutex::new(Server::new_boxed(opts.config, opts.verifier)),
        notify: Mutex::new(HashMap::new()),
        events: tx,
    });
    let handle = ServerHandle {
        shared: shared.clone(),
        local,
        cert_pem,
        secure: acceptor.is_some(),
    };
    // Timers: deadlines are checked once a second.
    let weak = Arc::downgrade(&shared);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            let Some(shared) = weak.upgrade() else { break };
            let ready = {
                let mut s = shared.server();
                s.handle_timeout(Instant::now());
                shared.forward_events(&mut s);
                s.ready_connections()
            };
            shared.notify_ready(&ready);
        }
    });
    let weak = Arc::downgrade(&shared);
    let mut stop = shared.shutdown.subscribe();
    tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                a = listener.accept() => a,
                _ = stop.changed() => break,
            };
            let Ok((tcp, peer)) = accepted else { continue };
            let Some(shared) = weak.upgrade() else { break };
            {
                let mut s = shared.server();
                if s.is_blocked(Instant::now(), peer.ip()) {
                    // The login guard: closed at once, before any handshake.
                    drop(tcp);
                    s.note_blocked(&peer.to_string());
                    shared.forward_events(&mut s);
                    continue;
                }
            }
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let _ = tcp.set_nodelay(true);
                let stream: Box<dyn Io> = match acceptor {
                    Some(a) => match tokio::time::timeout(handshake_timeout, a.accept(tcp)).await {
                        Ok(Ok(s)) => Box::new(s),
                        // A failed or late TLS handshake: the socket is dropped (closed).
                        _ => return,
                    },
                    None => Box::new(tcp),
                };
                let upgrade =
                    tokio_tungstenite::accept_async_with_config(stream, Some(ws_config(&limits)));
                let Ok(Ok(ws)) = tokio::time::timeout(handshake_timeout, upgrade).await else {
                    return;
                };
                serve_connection(shared, ws, peer, write_timeout).await;
            });
        }
    });
    Ok((handle, rx))
}

fn server_tls(
    certs: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<tokio_rustls::TlsAcceptor, Error> {
    let cfg = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| Error::Tls(e.to_string()))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(cfg)))
}

/// How long a closing connection may take to send its close frame before the socket is
/// dropped anyway.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(1);

/// Runs `io` (a write) until it ends, its deadline passes, or the server marks `id` closing
/// (its queue overflowed): `true` only when the write completed.
async fn guarded<E>(
    io: impl std::future::Future<Output = Result<(), E>>,
    shared: &Shared,
    id: ConnId,
    notify: &Notify,
    deadline: Duration,
) -> bool {
    tokio::pin!(io);
    let timer = tokio::time::sleep(deadline);
    tokio::pin!(timer);
    loop {
        tokio::select! {
            r = &mut io => return r.is_ok(),
            _ = &mut timer => return false,
            _ = notify.notified() => {
                if shared.server().is_closing(id) {
                    return false;
                }
            }
        }
    }
}

async fn close_with(ws: &mut WebSocketStream<Box<dyn Io>>, frame: Option<CloseFrame>) {
    let _ = tokio::time::timeout(CLOSE_TIMEOUT, ws.close(frame)).await;
}

async fn serve_connection(
    shared: Arc<Shared>,
    mut ws: WebSocketStream<Box<dyn Io>>,
    peer: SocketAddr,
    write_timeout: Duration,
) {
    let notify = Arc::new(Notify::new());
    let id = {
        let mut s = shared.server();
        let id = s.accept(Instant::now(), &peer.to_string());
        shared.forward_events(&mut s);
        id
    };
    shared
        .notify
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(id, notify.clone());
    let mut stop = shared.shutdown.subscribe();
    let mut peer_close = None;
    'conn: loop {
        // Flush what is queued, a batch at a time, without holding the lock across awaits.
        // Every write has a deadline, and a connection the server closes (overflow) stops
        // writing at once: its socket is dropped, not left in a flush.
        loop {
            let batch: Vec<Outgoing> = {
                let mut s = shared.server();
                std::iter::from_fn(|| s.poll_transmit(id))
                    .take(64)
                    .collect()
            };
            if batch.is_empty() {
                break;
            }
            for out in batch {
                match out {
                    Outgoing::Text(t) => {
                        let feed = ws.feed(WsMessage::text(&*t));
                        if !guarded(feed, &shared, id, &notify, write_timeout).await {
                            break 'conn;
                        }
                    }
                    Outgoing::Close => {
                        close_with(&mut ws, None).await;
                        break 'conn;
                    }
                }
            }
            if !guarded(ws.flush(), &shared, id, &notify, write_timeout).await {
                break 'conn;
            }
        }
        tokio::select! {
            frame = ws.next() => {
                // The payload as tungstenite hands it over: no copy.
                let bytes: tokio_tungstenite::tungstenite::Bytes = match frame {
                    Some(Ok(WsMessage::Text(t))) => t.into(),
                    Some(Ok(WsMessage::Binary(b))) => b,
                    Some(Err(WsError::Capacity(e))) => {
                        // RFC 6455 7.4.1: 1009, the message is too big to process.
                        let frame = CloseFrame {
                            code: CloseCode::Size,
                            reason: e.to_string().chars().take(100).collect::<String>().into(),
                        };
                        close_with(&mut ws, Some(frame)).await;
                        break 'conn;
                    }
                    Some(Ok(WsMessage::Close(frame))) => {
                        peer_close = Some(frame.map_or(1005, |f| u16::from(f.code)));
                        break 'conn;
                    }
                    None | Some(Err(_)) => break 'conn,
                    Some(Ok(_)) => continue 'conn,
                };
                let mut s = shared.server();
                s.handle_text(Instant::now(), id, &bytes);
                shared.forward_events(&mut s);
            }
            _ = notify.notified() => {}
            _ = stop.changed() => {
                close_with(&mut ws, Some(CloseFrame {
                    code: CloseCode::Away,
                    reason: "server shutting down".into(),
                })).await;
                break 'conn;
            }
        }
    }
    drop(ws);
    shared
        .notify
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&id);
    let mut s = shared.server();
    s.handle_closed_by_peer(id, peer_close);
    shared.forward_events(&mut s);
}
