//! The client session.

use std::collections::HashMap;
use std::fmt;
use std::time::{Duration, Instant};

use monwire_event::{Event, Kind};

use crate::codec::{Limits, decode, encode_text};
use crate::error::ClientFailure;
use crate::event::{session, session_event};
use crate::message::{Body, EventBody, Message, PeerType, Reply, Targets, names};

/// Client settings.
#[derive(Clone)]
pub struct ClientConfig {
    /// Username and password for `rpc/auth` (`None`: no password auth). Never shown by `Debug`.
    pub credentials: Option<(String, String)>,
    /// Event types to subscribe to, re-sent on every connection.
    pub subscriptions: Vec<String>,
    /// Send a keepalive (`rpc/identify` + `rpc/query`) after this long without sending (90 s,
    /// as the reference client).
    pub keepalive: Duration,
    /// First reconnect delay (1 s); doubles up to [`reconnect_max`](ClientConfig::reconnect_max).
    pub reconnect_min: Duration,
    /// Longest reconnect delay (60 s, the reference client's fixed delay).
    pub reconnect_max: Duration,
    /// How long a token stays usable after its last use (900 s, sliding).
    pub token_lifetime: Duration,
    /// How long to wait for the reply to identify, auth or subscribe (30 s). Before the first
    /// login a late reply ends the client ([`ClientFailure::NoReply`]); after it, the
    /// connection is dropped and made again.
    pub reply_timeout: Duration,
    /// Accept a `bridge` peer as well as a `server`.
    pub accept_bridge: bool,
    /// Decode/encode limits.
    pub limits: Limits,
    /// The private key for the certificate login (`auth_ssl`), used when there is no live
    /// token and no [`credentials`](ClientConfig::credentials): also after a reconnect, as
    /// the reference client does. Never shown by `Debug`.
    #[cfg(feature = "ssl-auth")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ssl-auth")))]
    pub signing_key: Option<crate::ssl::SigningKey>,
    /// After the first password login, register [`signing_key`](ClientConfig::signing_key)'s
    /// public half with the server (see [`Client::register_key`]; nickname `monwire`), so
    /// that later runs can log in with the key alone.
    #[cfg(feature = "ssl-auth")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ssl-auth")))]
    pub register_key: bool,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .field("password", &self.credentials.as_ref().map(|_| "<redacted>"))
            .field("subscriptions", &self.subscriptions)
            .field("keepalive", &self.keepalive)
            .field("reconnect_min", &self.reconnect_min)
            .field("reconnect_max", &self.reconnect_max)
            .field("accept_bridge", &self.accept_bridge)
            .field("signing_key", &self.has_key().then_some("<redacted>"))
            .finish()
    }
}

impl ClientConfig {
    /// Whether a key for the certificate login is configured.
    pub fn has_key(&self) -> bool {
        #[cfg(feature = "ssl-auth")]
        return self.signing_key.is_some();
        #[cfg(not(feature = "ssl-auth"))]
        false
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            credentials: None,
            subscriptions: names::SUBSCRIBABLE
                .iter()
                .map(|s| (*s).to_owned())
                .collect(),
            keepalive: Duration::from_secs(90),
            reconnect_min: Duration::from_secs(1),
            reconnect_max: Duration::from_secs(60),
            token_lifetime: Duration::from_secs(900),
            reply_timeout: Duration::from_secs(30),
            accept_bridge: false,
            limits: Limits::default(),
            #[cfg(feature = "ssl-auth")]
            signing_key: None,
            #[cfg(feature = "ssl-auth")]
            register_key: false,
        }
    }
}

/// What the client reports.
// Wire events are the common case; boxing them would cost an allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum ClientEvent {
    /// A SysAdm event message (typed; map it with [`crate::event::to_event`]).
    Event(Message),
    /// Something happened to the session (see [`crate::event::session`]).
    Session(Event),
}

/// What the client wants sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientTransmit {
    /// A text frame.
    Text(String),
    /// Close the connection (code 1000). When the client [is closed](Client::is_closed) that is
    /// the end; otherwise call [`Client::handle_disconnected`] once it is closed, and the client
    /// reconnects.
    Close,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Pending {
    Identify,
    AuthPassword,
    AuthToken,
    AuthSslChallenge,
    #[cfg_attr(not(feature = "ssl-auth"), allow(dead_code))]
    AuthSslResponse,
    Subscribe(String),
    Unsubscribe(String),
    Keepalive,
    #[cfg_attr(not(feature = "ssl-auth"), allow(dead_code))]
    RegisterKey,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// No connection; connect at `retry_at` (`None`: now).
    Disconnected,
    Identifying,
    Authenticating,
    Ready,
    /// Closed for good (user close or fatal auth failure).
    Closed,
}

/// The sans-IO SysAdm client (see the [module docs](super) for the run loop).
///
/// Life cycle: [`wants_connect`](Client::wants_connect) says when to open the websocket;
/// after it opens call [`handle_connected`](Client::handle_connected), feed every received
/// text frame to [`handle_text`](Client::handle_text), and call
/// [`handle_disconnected`](Client::handle_disconnected) when it closes or fails to open. The
/// client identifies, authenticates (token first when it holds a live one, then password, then
/// the certificate login with `ClientConfig::signing_key`, feature `ssl-auth`),
/// subscribes to every configured type, keeps the connection alive, and after a loss schedules
/// a reconnect with exponential back-off and resubscribes.
pub struct Client {
    config: ClientConfig,
    state: State,
    retry_at: Option<Instant>,
    backoff: Duration,
    next_id: u64,
    pending: HashMap<String, Pending>,
    token: Option<(String, Instant)>,
    last_sent: Option<Instant>,
    transmit: std::collections::VecDeque<ClientTransmit>,
    events: std::collections::VecDeque<ClientEvent>,
    connections: u64,
    peer: String,
    logged_in_once: bool,
    failure: Option<ClientFailure>,
    peer_close: Option<(u16, String)>,
    reply_due: Option<(Instant, &'static str)>,
    #[cfg(feature = "ssl-auth")]
    key_registered: bool,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("config", &self.config)
            .field("state", &self.state)
            .field("has_token", &self.token.is_some())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client that wants to connect right away; `peer` names the server in events.
    pub fn new(config: ClientConfig, peer: impl Into<String>) -> Client {
        Client {
            backoff: config.reconnect_min,
            config,
            state: State::Disconnected,
            retry_at: None,
            next_id: 0,
            pending: HashMap::new(),
            token: None,
            last_sent: None,
            transmit: Default::default(),
            events: Default::default(),
            connections: 0,
            peer: peer.into(),
            logged_in_once: false,
            failure: None,
            peer_close: None,
            reply_due: None,
            #[cfg(feature = "ssl-auth")]
            key_registered: false,
        }
    }

    /// Whether the adapter should open a connection now.
    pub fn wants_connect(&self, now: Instant) -> bool {
        self.state == State::Disconnected && self.retry_at.is_none_or(|t| now >= t)
    }

    /// Whether the session is closed for good.
    pub fn is_closed(&self) -> bool {
        self.state == State::Closed
    }

    /// Why the session closed for good, when it was not [`close`](Client::close)d by the user.
    pub fn failure(&self) -> Option<&ClientFailure> {
        self.failure.as_ref()
    }

    /// Whether a login (or, without credentials, identify) has ever completed. Until then a
    /// lost connection ends the client; after it, the client reconnects.
    pub fn has_logged_in(&self) -> bool {
        self.logged_in_once
    }

    /// Ends the session for good with `failure` (reported as an `auth_failed` event).
    pub fn fail(&mut self, failure: ClientFailure) {
        if self.state == State::Closed {
            return;
        }
        let what = failure.to_string();
        self.session(Kind::Failed, session::AUTH_FAILED, what.clone(), |e| {
            e.with_severity(monwire_event::Severity::Error)
                .with_attr("sysadm.error", what)
        });
        self.failure = Some(failure);
        self.close();
    }

    /// Whether identify, auth and the subscribe requests are done.
    pub fn is_ready(&self) -> bool {
        self.state == State::Ready
    }

    /// The subscribed (desired) event types.
    pub fn subscriptions(&self) -> &[String] {
        &self.config.subscriptions
    }

    fn id(&mut self, what: &str) -> String {
        self.next_id += 1;
        format!("monwire-{what}-{}", self.next_id)
    }

    fn send(&mut self, now: Instant, msg: &Message, pending: Option<Pending>) {
        match encode_text(msg, &self.config.limits) {
            Ok(text) => {
                if let Some(p) = pending {
                    self.pending.insert(msg.id.clone(), p);
                }
                self.transmit.push_back(ClientTransmit::Text(text));
                self.last_sent = Some(now);
            }
            Err(e) => {
                let what = format!("cannot encode a request: {e}");
                self.session(Kind::Failed, session::DECODE_ERROR, what, |ev| {
                    ev.with_attr("sysadm.error", e.to_string())
                })
            }
        }
    }

    fn session(&mut self, kind: Kind, name: &str, summary: String, f: impl FnOnce(Event) -> Event) {
        let ev = f(session_event(kind, name, &self.peer, summary));
        self.events.push_back(ClientEvent::Session(ev));
    }

    /// The websocket is open: starts identify.
    pub fn handle_connected(&mut self, now: Instant) {
        if self.state == State::Closed {
            return;
        }
        self.connections += 1;
        self.state = State::Identifying;
        self.reply_due = Some((now + self.config.reply_timeout, "identify"));
        self.pending.clear();
        let n = self.connections;
        let what = format!("connected to {}", self.peer);
        self.session(Kind::Connected, session::CONNECTED, what, |e| {
            e.with_attr("sysadm.connection", n)
        });
        let id = self.id("identify");
        self.send(now, &Message::identify(&id), Some(Pending::Identify));
    }

    /// The websocket closed. After a login this schedules a reconnect (with back-off);
    /// before the first login completed it ends the client
    /// ([`ClientFailure::ClosedBeforeLogin`]).
    pub fn handle_disconnected(&mut self, now: Instant) {
        self.pending.clear();
        self.transmit.clear();
        self.reply_due = None;
        if self.state == State::Closed {
            return;
        }
        let was_connected = self.state != State::Disconnected;
        if was_connected && !self.logged_in_once {
            self.state = State::Disconnected;
            return self.fail(ClientFailure::ClosedBeforeLogin);
        }
        self.state = State::Disconnected;
        if was_connected {
            let close = self.peer_close.take();
            let what = match &close {
                Some((code, reason)) if reason.is_empty() => {
                    format!("connection to {} closed by the server ({code})", self.peer)
                }
                Some((code, reason)) => format!(
                    "connection to {} closed by the server ({code}: {reason})",
                    self.peer
                ),
                None => format!("connection to {} lost", self.peer),
            };
            self.session(Kind::Disconnected, session::DISCONNECTED, what, |e| {
                let e = e.with_severity(monwire_event::Severity::Warn);
                match close {
                    Some((code, _)) => e.with_attr("sysadm.close_code", u64::from(code)),
                    None => e,
                }
            });
        }
        self.schedule_retry(now, None);
    }

    /// The server sent a websocket close frame with `code` and `reason`; call
    /// [`handle_disconnected`](Client::handle_disconnected) next, which reports them.
    pub fn handle_peer_close(&mut self, code: u16, reason: &str) {
        self.peer_close = Some((code, reason.chars().take(123).collect()));
    }

    /// The websocket could not be opened (the server is unreachable, refused the connection,
    /// or timed out): schedules another attempt with back-off and reports it (one
    /// `reconnecting` event with `sysadm.error` and `sysadm.delay_ms`).
    pub fn handle_connect_failed(&mut self, now: Instant, error: &str) {
        self.pending.clear();
        self.transmit.clear();
        self.reply_due = None;
        if self.state == State::Closed {
            return;
        }
        self.state = State::Disconnected;
        self.schedule_retry(now, Some(error));
    }

    fn schedule_retry(&mut self, now: Instant, error: Option<&str>) {
        let delay = self.backoff;
        self.backoff = (self.backoff * 2).min(self.config.reconnect_max);
        self.retry_at = Some(now + delay);
        let when = crate::session::human_delay(delay);
        let what = match error {
            Some(err) => format!("cannot connect to {}: {err}; retrying in {when}", self.peer),
            None => format!("reconnecting to {} in {when}", self.peer),
        };
        let error = error.map(str::to_owned);
        self.session(Kind::Connecting, session::RECONNECTING, what, |e| {
            let e = e.with_severity(monwire_event::Severity::Warn).with_attr(
                "sysadm.delay_ms",
                u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            );
            match error {
                Some(err) => e.with_attr("sysadm.error", err),
                None => e,
            }
        });
    }

    /// Closes for good (no reconnect).
    pub fn close(&mut self) {
        if self.state != State::Closed && self.state != State::Disconnected {
            self.transmit.push_back(ClientTransmit::Close);
        }
        self.state = State::Closed;
    }

    /// Subscribes to more event types (now if ready, and on every later connection).
    pub fn subscribe(&mut self, now: Instant, name: &str) {
        if !self.config.subscriptions.iter().any(|s| s == name) {
            self.config.subscriptions.push(name.to_owned());
        }
        if self.state == State::Ready {
            self.send_subscribe(now, name);
        }
    }

    /// Unsubscribes.
    pub fn unsubscribe(&mut self, now: Instant, name: &str) {
        self.config.subscriptions.retain(|s| s != name);
        if self.state == State::Ready {
            let id = self.id("event");
            self.send(
                now,
                &Message::unsubscribe(&id, Targets::One(name.to_owned())),
                Some(Pending::Unsubscribe(name.to_owned())),
            );
        }
    }

    /// Registers the configured key's public half with the server (`rpc/settings`
    /// `register_ssl_cert`, as the reference client's "register certificate"), so that later
    /// logins can use it. Needs a login ([`is_ready`](Client::is_ready) after a password or
    /// token login); returns false when not ready or no key is configured. The outcome is a
    /// `key_registered` session event (`failed` when refused).
    #[cfg(feature = "ssl-auth")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ssl-auth")))]
    pub fn register_key(&mut self, now: Instant, nickname: &str, email: &str) -> bool {
        let Some(key) = &self.config.signing_key else {
            return false;
        };
        if self.state != State::Ready || self.token.is_none() {
            return false;
        }
        let pub_key = key.public_key().registration();
        let id = self.id("cert-register");
        self.send(
            now,
            &Message::register_ssl_cert(&id, &pub_key, nickname, email),
            Some(Pending::RegisterKey),
        );
        self.touch_token(now);
        true
    }

    fn send_subscribe(&mut self, now: Instant, name: &str) {
        let id = self.id("event");
        self.send(
            now,
            &Message::subscribe(&id, Targets::One(name.to_owned())),
            Some(Pending::Subscribe(name.to_owned())),
        );
        self.touch_token(now);
    }

    fn touch_token(&mut self, now: Instant) {
        if let Some((_, used)) = &mut self.token {
            *used = now;
        }
    }

    fn authenticate(&mut self, now: Instant) {
        let live = self
            .token
            .as_ref()
            .filter(|(_, used)| now.saturating_duration_since(*used) < self.config.token_lifetime)
            .map(|(t, _)| t.clone());
        let id = self.id("auth");
        self.reply_due = Some((now + self.config.reply_timeout, "auth"));
        if let Some(token) = live {
            self.state = State::Authenticating;
            self.send(
                now,
                &Message::auth_token(&id, &token),
                Some(Pending::AuthToken),
            );
        } else if let Some((u, p)) = self.config.credentials.clone() {
            self.token = None;
            self.state = State::Authenticating;
            self.send(
                now,
                &Message::auth(&id, &u, &p),
                Some(Pending::AuthPassword),
            );
        } else if self.config.has_key() {
            self.token = None;
            self.state = State::Authenticating;
            self.send(
                now,
                &Message::auth_ssl_challenge(&id),
                Some(Pending::AuthSslChallenge),
            );
        } else {
            self.token = None;
            self.ready(now);
        }
    }

    /// Stage 2 of the certificate login: sign the test string and send it.
    fn answer_challenge(&mut self, now: Instant, test_string: &str) {
        #[cfg(feature = "ssl-auth")]
        if let Some(key) = &self.config.signing_key {
            match key.sign_challenge(test_string) {
                Ok(signature) => {
                    let id = self.id("auth");
                    self.reply_due = Some((now + self.config.reply_timeout, "auth"));
                    self.send(
                        now,
                        &Message::auth_ssl_response(&id, &signature),
                        Some(Pending::AuthSslResponse),
                    );
                }
                Err(e) => self.fail(ClientFailure::Signing(e.to_string())),
            }
            return;
        }
        let _ = (now, test_string);
        self.fail(ClientFailure::Signing("no key".into()));
    }

    fn ready(&mut self, now: Instant) {
        self.state = State::Ready;
        self.reply_due = None;
        self.logged_in_once = true;
        self.backoff = self.config.reconnect_min;
        for name in self.config.subscriptions.clone() {
            self.send_subscribe(now, &name);
        }
    }

    /// One received text (or binary) frame.
    pub fn handle_text(&mut self, now: Instant, bytes: &[u8]) {
        let msg = match decode(bytes, &self.config.limits) {
            Ok(m) => m,
            Err(e) => {
                let what = format!("undecodable frame: {e}");
                self.session(Kind::Failed, session::DECODE_ERROR, what, |ev| {
                    ev.with_attr("sysadm.error", e.to_string())
                });
                return;
            }
        };
        if let Body::Event(_) = &msg.body {
            self.events.push_back(ClientEvent::Event(msg));
            return;
        }
        let Some(pending) = self.pending.remove(&msg.id) else {
            // A request from a bridge, or a reply we did not ask for: nothing to do.
            return;
        };
        match (pending, &msg.body) {
            (Pending::Identify, Body::Reply(Reply::Identify(p))) => {
                let ok = p.peer_type == PeerType::Server
                    || (self.config.accept_bridge && p.peer_type == PeerType::Bridge);
                if !ok {
                    let t = p.peer_type.as_str().to_owned();
                    self.fail(ClientFailure::NotAServer(t));
                } else if self.state == State::Identifying {
                    self.authenticate(now);
                }
            }
            (Pending::AuthSslChallenge, Body::Reply(Reply::Challenge { test_string, .. })) => {
                let test_string = test_string.clone();
                self.answer_challenge(now, &test_string);
            }
            (
                p @ (Pending::AuthPassword | Pending::AuthToken | Pending::AuthSslResponse),
                Body::Reply(Reply::Token(t)),
            ) => {
                self.token = Some((t.token.clone(), now));
                let method = match p {
                    Pending::AuthPassword => "password",
                    Pending::AuthSslResponse => "certificate",
                    _ => "token",
                };
                let what = format!("logged in to {} ({method})", self.peer);
                self.session(Kind::Authenticated, session::AUTHENTICATED, what, |e| {
                    e.with_attr("sysadm.method", method)
                });
                self.logged_in_once = true;
                self.ready(now);
                #[cfg(feature = "ssl-auth")]
                if p == Pending::AuthPassword && self.config.register_key && !self.key_registered {
                    self.key_registered = self.register_key(now, "monwire", "");
                }
            }
            (Pending::AuthSslChallenge | Pending::AuthSslResponse, other) => {
                let why = match other {
                    Body::Error(e) => e.describe(),
                    _ => "unexpected reply".to_owned(),
                };
                self.fail(ClientFailure::KeyRefused(why));
            }
            (Pending::AuthToken, Body::Error(_)) => {
                // The token lapsed: fall back to the password.
                self.token = None;
                self.authenticate(now);
            }
            (Pending::AuthPassword, other) => {
                let why = match other {
                    Body::Error(e) => e.describe(),
                    _ => "unexpected reply".to_owned(),
                };
                self.fail(ClientFailure::LoginRefused(why));
            }
            (
                Pending::Subscribe(name) | Pending::Unsubscribe(name),
                Body::Reply(Reply::Subscription(r)),
            ) => {
                let confirmed = r.as_ref().map(|(_, n)| n.clone()).unwrap_or_default();
                let subs: Vec<monwire_event::Value> = self
                    .config
                    .subscriptions
                    .iter()
                    .map(|s| s.as_str().into())
                    .collect();
                let what = if confirmed.is_empty() {
                    format!("{name}: not an event name this server knows")
                } else {
                    format!("subscription to {confirmed} updated")
                };
                self.session(Kind::Updated, session::SUBSCRIBED, what, |e| {
                    e.with_attr("sysadm.requested", name)
                        .with_attr("sysadm.confirmed", confirmed)
                        .with_attr("sysadm.subscriptions", subs)
                });
            }
            (Pending::RegisterKey, body) => {
                let (kind, what) = match body {
                    Body::Error(e) => (
                        Kind::Failed,
                        format!(
                            "{} refused the key registration: {}",
                            self.peer,
                            e.describe()
                        ),
                    ),
                    _ => (Kind::Updated, format!("key registered with {}", self.peer)),
                };
                self.session(kind, session::KEY_REGISTERED, what, |e| e);
            }
            (Pending::Subscribe(_), Body::Error(err))
                if err.code() == Some(401)
                    && self.config.credentials.is_none()
                    && !self.config.has_key() =>
            {
                self.fail(ClientFailure::LoginRequired(err.describe()));
            }
            (Pending::Subscribe(name) | Pending::Unsubscribe(name), Body::Error(err)) => {
                let why = err.describe();
                let what = format!("subscription to {name} refused: {why}");
                self.session(Kind::Failed, session::SUBSCRIBED, what, |e| {
                    e.with_attr("sysadm.requested", name)
                        .with_attr("sysadm.error", why)
                });
            }
            _ => {}
        }
    }

    /// Call when [`poll_timeout`](Client::poll_timeout) passes: sends the keepalive, and
    /// gives up on a reply that is late (see [`ClientConfig::reply_timeout`]).
    pub fn handle_timeout(&mut self, now: Instant) {
        if let Some((due, what)) = self.reply_due
            && now >= due
            && matches!(self.state, State::Identifying | State::Authenticating)
        {
            self.reply_due = None;
            if self.logged_in_once {
                // Drop this connection; the adapter reports it closed and a new one is made.
                self.transmit.push_back(ClientTransmit::Close);
            } else {
                let seconds = self.config.reply_timeout.as_secs();
                self.fail(ClientFailure::NoReply { what, seconds });
            }
            return;
        }
        if self.state == State::Ready
            && self
                .last_sent
                .is_none_or(|t| now.saturating_duration_since(t) >= self.config.keepalive)
        {
            let id = self.id("identify");
            self.send(now, &Message::identify(&id), Some(Pending::Keepalive));
            if self.token.is_some() {
                let id = self.id("ping");
                self.send(now, &Message::query(&id), Some(Pending::Keepalive));
                self.touch_token(now);
            }
        }
    }

    /// When to call [`handle_timeout`](Client::handle_timeout) (keepalive), or when to
    /// reconnect (then [`wants_connect`](Client::wants_connect) is true).
    pub fn poll_timeout(&self) -> Option<Instant> {
        match self.state {
            State::Disconnected => self.retry_at,
            State::Ready => self.last_sent.map(|t| t + self.config.keepalive),
            State::Identifying | State::Authenticating => self.reply_due.map(|(t, _)| t),
            State::Closed => None,
        }
    }

    /// The next frame to send.
    pub fn poll_transmit(&mut self) -> Option<ClientTransmit> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<ClientEvent> {
        self.events.pop_front()
    }
}

/// A typed event body of a [`ClientEvent::Event`].
impl ClientEvent {
    /// The typed body when this is a wire event.
    pub fn event_body(&self) -> Option<&EventBody> {
        match self {
            ClientEvent::Event(m) => m.as_event(),
            ClientEvent::Session(_) => None,
        }
    }
}
