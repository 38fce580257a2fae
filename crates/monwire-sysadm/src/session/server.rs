//! The server session.

use std::collections::hash_map::RandomState;
use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use monwire_event::{Event, Kind};
use serde_json::Value;

use crate::codec::{Limits, decode, encode_text};
use crate::error::{EncodeError, StateError};
use crate::event::{BRIDGED_PREFIX, session, session_event};
use crate::message::{
    Body, Dispatcher, ErrorCode, EventBody, JobState, Message, Object, PeerIdentity, PeerType,
    Reply, SubscriptionVerb, TokenGrant, names, ns,
};

/// Checks a username and password.
pub trait Verifier: Send {
    /// Whether `username` may log in with `password`.
    fn verify(&mut self, username: &str, password: &str) -> bool;
}

/// A verifier that accepts any username/password (loopback tests, demos).
#[derive(Clone, Copy, Debug, Default)]
pub struct AllowAll;

impl Verifier for AllowAll {
    fn verify(&mut self, _: &str, _: &str) -> bool {
        true
    }
}

/// A verifier for one user. `Debug` hides the password.
#[derive(Clone)]
pub struct StaticUser {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
}

impl fmt::Debug for StaticUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticUser")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

impl Verifier for StaticUser {
    fn verify(&mut self, username: &str, password: &str) -> bool {
        // Compare without an early exit on the first differing byte.
        let eq = |a: &str, b: &str| {
            a.len() == b.len()
                && a.bytes()
                    .zip(b.bytes())
                    .fold(0u8, |acc, (x, y)| acc | (x ^ y))
                    == 0
        };
        eq(username, &self.username) & eq(password, &self.password)
    }
}

/// Server settings.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The host name in identify replies.
    pub hostname: String,
    /// Decode/encode limits.
    pub limits: Limits,
    /// Token lifetime after last use (900 s, sliding, as SysAdm).
    pub token_lifetime: Duration,
    /// Close connections not authenticated this long after connecting (30 s).
    pub auth_deadline: Duration,
    /// Close connections that sent nothing for this long (30 min).
    pub idle_timeout: Duration,
    /// Per-connection queue bound, in frames (replies and events). Default 1024.
    pub queue_capacity: usize,
    /// Accept subscriptions to `monwire-*` bridged event names (a monwire extension).
    pub accept_bridged_names: bool,
    /// Stop delivering events after `auth_clear` (SysAdm keeps delivering; default true).
    pub stop_on_auth_clear: bool,
    /// The failed-login guard (SysAdm's: 5 failures, 10 min, 60 min, loopback exempt).
    pub login_guard: LoginGuard,
    /// Let a user on a loopback address who logged in with a password (or used the token of
    /// such a login) within [`token_lifetime`](ServerConfig::token_lifetime) log in again with
    /// an empty password. The reference Qt client does this after a reconnect (it keeps no
    /// password for a localhost user); the real server lets every local user in without a
    /// password. Default true.
    pub loopback_relogin: bool,
    /// The tokio adapter's deadline for the TLS handshake and for the websocket upgrade, each
    /// (10 s).
    pub handshake_timeout: Duration,
    /// The tokio adapter's deadline for each write to a connection; a connection that does not
    /// take a frame in this time is closed (10 s).
    pub write_timeout: Duration,
    /// Public keys that may log in with `auth_ssl`, each as its user (from configuration;
    /// users add more at run time with `rpc/settings` `register_ssl_cert`).
    #[cfg(feature = "ssl-auth")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ssl-auth")))]
    pub authorized_keys: Vec<AuthorizedKey>,
    /// How long an `auth_ssl` test string may be answered (30 s, as SysAdm).
    #[cfg(feature = "ssl-auth")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ssl-auth")))]
    pub challenge_lifetime: Duration,
    /// At most this many keys are registered at once (1024); `register_ssl_cert` beyond it
    /// gets a 403.
    #[cfg(feature = "ssl-auth")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ssl-auth")))]
    pub max_registered_keys: usize,
}

/// A public key that logs in as `user` (feature `ssl-auth`).
#[cfg(feature = "ssl-auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "ssl-auth")))]
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthorizedKey {
    /// Who logs in with it.
    pub user: String,
    /// The key.
    pub key: crate::ssl::PublicKey,
    /// A name for it (shown by `list_ssl_certs`).
    pub nickname: String,
    /// An e-mail address (shown by `list_ssl_certs`).
    pub email: String,
}

#[cfg(feature = "ssl-auth")]
impl AuthorizedKey {
    /// `key` logging in as `user`, without nickname or e-mail.
    pub fn new(user: impl Into<String>, key: crate::ssl::PublicKey) -> AuthorizedKey {
        AuthorizedKey {
            user: user.into(),
            key,
            nickname: String::new(),
            email: String::new(),
        }
    }
}

/// A registered key and the `pub_key` text it is known by (`list_ssl_certs`,
/// `revoke_ssl_cert`).
#[cfg(feature = "ssl-auth")]
struct Registered {
    registration: String,
    entry: AuthorizedKey,
}

/// The failed-login guard: after [`max_failures`](LoginGuard::max_failures) failed `auth` or
/// `auth_ssl` attempts from one IP address, each within [`window`](LoginGuard::window) of the
/// one before (the count starts again after a quiet window), new connections from that
/// address are closed at once for [`block`](LoginGuard::block). A successful login clears the
/// count. Loopback addresses are exempt when [`exempt_loopback`](LoginGuard::exempt_loopback)
/// is set, as in SysAdm.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LoginGuard {
    /// Failures that trigger the block (5; 0 turns the guard off).
    pub max_failures: u32,
    /// Quiet time after which the count starts again (10 min).
    pub window: Duration,
    /// How long the address stays blocked (60 min).
    pub block: Duration,
    /// Never block loopback addresses (true).
    pub exempt_loopback: bool,
}

impl Default for LoginGuard {
    fn default() -> Self {
        LoginGuard {
            max_failures: 5,
            window: Duration::from_secs(10 * 60),
            block: Duration::from_secs(60 * 60),
            exempt_loopback: true,
        }
    }
}

/// At most this many addresses are tracked by the login guard (an attacker with many
/// addresses cannot grow the table beyond it; expired entries are forgotten first).
const MAX_TRACKED_ADDRESSES: usize = 65_536;

struct Failures {
    count: u32,
    last: Instant,
    blocked_until: Option<Instant>,
}

fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            hostname: "monwire".to_owned(),
            limits: Limits::default(),
            token_lifetime: Duration::from_secs(900),
            auth_deadline: Duration::from_secs(30),
            idle_timeout: Duration::from_secs(30 * 60),
            queue_capacity: 1024,
            accept_bridged_names: true,
            stop_on_auth_clear: true,
            login_guard: LoginGuard::default(),
            loopback_relogin: true,
            handshake_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            #[cfg(feature = "ssl-auth")]
            authorized_keys: Vec::new(),
            #[cfg(feature = "ssl-auth")]
            challenge_lifetime: crate::ssl::CHALLENGE_LIFETIME,
            #[cfg(feature = "ssl-auth")]
            max_registered_keys: 1024,
        }
    }
}

/// A connection handle.
pub type ConnId = u64;

/// What to do on a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outgoing {
    /// Send this text frame (shared between subscribers: one encoding per published event).
    Text(Arc<str>),
    /// Close the connection (code 1000).
    Close,
}

/// What the server did when a subscriber's queue was full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OverflowAction {
    /// The oldest queued incremental dispatcher update (state `pending`/`running`) was dropped.
    DroppedIncremental,
    /// Nothing droppable: the queue was emptied and the connection is closed (the client
    /// reconnects, resubscribes and gets the cached state again).
    Closed,
}

impl OverflowAction {
    fn as_str(self) -> &'static str {
        match self {
            OverflowAction::DroppedIncremental => "dropped_incremental",
            OverflowAction::Closed => "closed",
        }
    }
}

struct Queued {
    out: Outgoing,
    droppable: bool,
}

struct Conn {
    connected_at: Instant,
    last_received: Instant,
    token: Option<String>,
    ever_authed: bool,
    subscriptions: Vec<String>,
    queue: VecDeque<Queued>,
    closing: bool,
    label: String,
    ip: Option<IpAddr>,
    /// The outstanding `auth_ssl` test string and when it was issued.
    #[cfg(feature = "ssl-auth")]
    challenge: Option<(String, Instant)>,
}

struct TokenInfo {
    user: String,
    last_used: Instant,
}

/// The sans-IO SysAdm-compatible event server (see the [module docs](super) for the run loop).
///
/// Call [`accept`](Server::accept) for each new websocket, [`handle_text`](Server::handle_text)
/// for each received frame, [`handle_closed`](Server::handle_closed) when one goes away, and
/// [`publish`](Server::publish) for each event. Then drain
/// [`poll_transmit`](Server::poll_transmit) for every connection and
/// [`poll_event`](Server::poll_event), and call [`handle_timeout`](Server::handle_timeout) at
/// [`poll_timeout`](Server::poll_timeout).
///
/// # Overflow policy
///
/// Each connection's queue holds at most
/// [`queue_capacity`](ServerConfig::queue_capacity) frames. Publishing never blocks. When an
/// event finds a subscriber's queue full, the oldest queued *incremental* dispatcher update
/// (a `pending`/`running` dispatcher event, superseded by the job's later events) is dropped;
/// if there is none, the queue is emptied and the connection is closed, since a client that
/// reconnects resubscribes and receives the cached `system-state`/`life-preserver` again.
/// Either way an [`OVERFLOW`](crate::event::session::OVERFLOW) session event reports it, with
/// `sysadm.action` and the running `sysadm.dropped` count.
pub struct Server {
    config: ServerConfig,
    verifier: Box<dyn Verifier>,
    conns: HashMap<ConnId, Conn>,
    tokens: HashMap<String, TokenInfo>,
    cache: HashMap<String, Arc<str>>,
    next_conn: ConnId,
    events: VecDeque<Event>,
    dropped: u64,
    random: RandomState,
    counter: u64,
    failures: HashMap<IpAddr, Failures>,
    password_logins: HashMap<String, Instant>,
    #[cfg(feature = "ssl-auth")]
    keys: Vec<Registered>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("config", &self.config)
            .field("connections", &self.conns.len())
            .field("tokens", &self.tokens.len())
            .finish_non_exhaustive()
    }
}

const TOKEN_CHARS: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

impl Server {
    /// A server checking passwords with `verifier`.
    pub fn new(config: ServerConfig, verifier: impl Verifier + 'static) -> Server {
        Server::new_boxed(config, Box::new(verifier))
    }

    /// A server checking passwords with a boxed `verifier`.
    pub fn new_boxed(config: ServerConfig, verifier: Box<dyn Verifier>) -> Server {
        #[cfg(feature = "ssl-auth")]
        let keys = config
            .authorized_keys
            .iter()
            .map(|k| Registered {
                registration: k.key.registration(),
                entry: k.clone(),
            })
            .collect();
        Server {
            #[cfg(feature = "ssl-auth")]
            keys,
            config,
            verifier,
            conns: HashMap::new(),
            tokens: HashMap::new(),
            cache: HashMap::new(),
            next_conn: 0,
            events: VecDeque::new(),
            dropped: 0,
            random: RandomState::new(),
            counter: 0,
            failures: HashMap::new(),
            password_logins: HashMap::new(),
        }
    }

    /// The settings.
    pub fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// Remembers that `user` logged in with a password at `at`, as if it had happened on this
    /// server: within the token lifetime of `at` a loopback re-login with an empty password is
    /// accepted (see [`ServerConfig::loopback_relogin`]). For a server that restarts and
    /// restores what it wrote down from its `authenticated` events (`sysadm.method` =
    /// `password`, `sysadm.user`).
    pub fn remember_password_login(&mut self, user: &str, at: Instant) {
        let entry = self.password_logins.entry(user.to_owned()).or_insert(at);
        if *entry < at {
            *entry = at;
        }
    }

    /// Whether the login guard blocks new connections from `ip` now (see [`LoginGuard`]).
    /// The adapter asks this when a TCP connection arrives and closes it at once when true.
    pub fn is_blocked(&self, now: Instant, ip: IpAddr) -> bool {
        self.failures
            .get(&ip)
            .and_then(|f| f.blocked_until)
            .is_some_and(|until| now < until)
    }

    /// Reports a connection refused by the login guard (an `overflow`-style `failed` event
    /// named `blocked`).
    pub fn note_blocked(&mut self, peer: &str) {
        let what = format!("{peer}: connection closed, address blocked after failed logins");
        let e = session_event(Kind::Failed, "blocked", peer, what)
            .with_severity(monwire_event::Severity::Warn);
        self.events.push_back(e);
    }

    fn guarded(&self, ip: Option<IpAddr>) -> Option<IpAddr> {
        let g = &self.config.login_guard;
        let ip = ip?;
        (g.max_failures > 0 && !(g.exempt_loopback && is_loopback(ip))).then_some(ip)
    }

    fn login_failed(&mut self, now: Instant, ip: Option<IpAddr>, label: &str, conn: ConnId) {
        let Some(ip) = self.guarded(ip) else { return };
        let g = self.config.login_guard;
        if !self.failures.contains_key(&ip) && self.failures.len() >= MAX_TRACKED_ADDRESSES {
            self.forget_failures(now);
            if self.failures.len() >= MAX_TRACKED_ADDRESSES {
                return;
            }
        }
        let f = self.failures.entry(ip).or_insert(Failures {
            count: 0,
            last: now,
            blocked_until: None,
        });
        if now.saturating_duration_since(f.last) >= g.window {
            f.count = 0;
        }
        f.count += 1;
        f.last = now;
        if f.count >= g.max_failures && f.blocked_until.is_none_or(|u| u <= now) {
            f.blocked_until = Some(now + g.block);
            let what = format!(
                "{ip}: blocked for {} after {} failed logins",
                crate::session::human_delay(g.block),
                f.count
            );
            self.session(Kind::Failed, "blocked", label, conn, what, |e| {
                e.with_severity(monwire_event::Severity::Warn)
                    .with_attr("sysadm.address", ip.to_string())
            });
        }
    }

    fn forget_failures(&mut self, now: Instant) {
        let window = self.config.login_guard.window;
        self.failures.retain(|_, f| {
            f.blocked_until.is_some_and(|u| now < u)
                || now.saturating_duration_since(f.last) < window
        });
    }

    /// A new connection from `peer` (a label for events; when it is a socket address, its IP
    /// is what the login guard and the loopback re-login look at).
    pub fn accept(&mut self, now: Instant, peer: &str) -> ConnId {
        self.next_conn += 1;
        let id = self.next_conn;
        self.conns.insert(
            id,
            Conn {
                connected_at: now,
                last_received: now,
                token: None,
                ever_authed: false,
                subscriptions: Vec::new(),
                queue: VecDeque::new(),
                closing: false,
                label: peer.to_owned(),
                ip: peer.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()),
                #[cfg(feature = "ssl-auth")]
                challenge: None,
            },
        );
        let what = format!("{peer} connected");
        self.session(Kind::Connected, session::CONNECTED, peer, id, what, |e| e);
        id
    }

    /// The connection went away (or the adapter closed it).
    pub fn handle_closed(&mut self, conn: ConnId) {
        self.handle_closed_by_peer(conn, None);
    }

    /// The connection went away; `close` is the code of the peer's close frame when it sent
    /// one (reported as `sysadm.close_code`).
    pub fn handle_closed_by_peer(&mut self, conn: ConnId, close: Option<u16>) {
        if let Some(c) = self.conns.remove(&conn) {
            let what = match close {
                Some(code) => format!("{} disconnected (close {code})", c.label),
                None => format!("{} disconnected", c.label),
            };
            self.session(
                Kind::Disconnected,
                session::DISCONNECTED,
                &c.label,
                conn,
                what,
                |e| match close {
                    Some(code) => e.with_attr("sysadm.close_code", u64::from(code)),
                    None => e,
                },
            );
        }
    }

    /// Number of open connections.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// The longest queue of any connection.
    pub fn max_queued(&self) -> usize {
        self.conns
            .values()
            .map(|c| c.queue.len())
            .max()
            .unwrap_or(0)
    }

    /// Frames queued for `conn`.
    pub fn queued(&self, conn: ConnId) -> usize {
        self.conns.get(&conn).map_or(0, |c| c.queue.len())
    }

    fn session(
        &mut self,
        kind: Kind,
        name: &str,
        label: &str,
        conn: ConnId,
        summary: String,
        f: impl FnOnce(Event) -> Event,
    ) {
        let e = f(session_event(kind, name, label, summary).with_attr("sysadm.conn", conn));
        self.events.push_back(e);
    }

    fn new_token(&mut self) -> String {
        let mut out = String::with_capacity(20);
        while out.len() < 20 {
            self.counter += 1;
            let mut h = self.random.build_hasher();
            h.write_u64(self.counter);
            let mut bits = h.finish();
            for _ in 0..10 {
                if out.len() == 20 {
                    break;
                }
                let i = usize::try_from(bits % 62).unwrap_or(0);
                out.push(char::from(TOKEN_CHARS.get(i).copied().unwrap_or(b'A')));
                bits /= 62;
            }
        }
        out
    }

    fn push(&mut self, conn: ConnId, text: String) {
        if let Some(c) = self.conns.get_mut(&conn)
            && !c.closing
        {
            c.queue.push_back(Queued {
                out: Outgoing::Text(text.into()),
                droppable: false,
            });
        }
    }

    fn reply(&mut self, conn: ConnId, msg: &Message) {
        if let Ok(text) = encode_text(msg, &self.config.limits) {
            self.push(conn, text);
        }
    }

    fn error(&mut self, conn: ConnId, id: &str, code: ErrorCode) {
        self.reply(conn, &Message::error(id, code));
    }

    fn token_valid(&mut self, conn: ConnId, now: Instant) -> bool {
        let Some(token) = self.conns.get(&conn).and_then(|c| c.token.clone()) else {
            return false;
        };
        let lifetime = self.config.token_lifetime;
        match self.tokens.get_mut(&token) {
            Some(t) if now.saturating_duration_since(t.last_used) < lifetime => {
                t.last_used = now;
                if let Some(seen) = self.password_logins.get_mut(&t.user) {
                    *seen = now;
                }
                true
            }
            _ => {
                self.tokens.remove(&token);
                if let Some(c) = self.conns.get_mut(&conn) {
                    c.token = None;
                }
                false
            }
        }
    }

    fn subscribable(&self, name: &str) -> bool {
        names::SUBSCRIBABLE.contains(&name)
            || (self.config.accept_bridged_names
                && name.starts_with(BRIDGED_PREFIX)
                && name.len() > BRIDGED_PREFIX.len())
    }

    /// One received text (or binary) frame on `conn`.
    pub fn handle_text(&mut self, now: Instant, conn: ConnId, bytes: &[u8]) {
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        c.last_received = now;
        let msg = match decode(bytes, &self.config.limits) {
            Ok(m) => m,
            Err(_) => return self.error(conn, "", ErrorCode::BadRequest),
        };
        let args = match msg.args() {
            Some(a) => a,
            // SysAdm reads the whole object as the arguments when `args` is missing.
            None => Value::Object(msg.to_object()),
        };
        let Message {
            namespace,
            name,
            id,
            ..
        } = msg;
        let rpc = namespace.eq_ignore_ascii_case(ns::RPC);
        if rpc && name.starts_with("auth") {
            return self.handle_auth(now, conn, &namespace, &name, &id, args);
        }
        if rpc && name == "identify" {
            let reply = Reply::Identify(PeerIdentity {
                hostname: self.config.hostname.clone(),
                peer_type: PeerType::Server,
                extra: Object::new(),
            });
            return self.reply(conn, &Message::reply(&namespace, &name, &id, reply));
        }
        if !self.token_valid(conn, now) {
            return self.error(conn, &id, ErrorCode::Unauthorized);
        }
        if namespace.eq_ignore_ascii_case(ns::EVENTS) {
            return self.handle_events(conn, &namespace, &name, &id, args);
        }
        #[cfg(feature = "ssl-auth")]
        if rpc && name == "settings" {
            let user = self
                .conns
                .get(&conn)
                .and_then(|c| c.token.as_ref())
                .and_then(|t| self.tokens.get(t))
                .map(|t| t.user.clone())
                .unwrap_or_default();
            return self.handle_settings(conn, &user, &namespace, &name, &id, args);
        }
        if rpc && name == "query" {
            let mut m = Object::new();
            for api in [
                "events/subscribe",
                "events/unsubscribe",
                "rpc/identify",
                "rpc/query",
            ] {
                m.insert(api.to_owned(), Value::from("read"));
            }
            #[cfg(feature = "ssl-auth")]
            m.insert("rpc/settings".to_owned(), Value::from("read/write"));
            return self.reply(
                conn,
                &Message::reply(&namespace, &name, &id, Reply::Other(Value::Object(m))),
            );
        }
        self.error(conn, &id, ErrorCode::NotFound)
    }

    fn handle_auth(
        &mut self,
        now: Instant,
        conn: ConnId,
        namespace: &str,
        name: &str,
        id: &str,
        args: Value,
    ) {
        // Any auth request first revokes the connection's current token.
        if let Some(old) = self.conns.get_mut(&conn).and_then(|c| c.token.take()) {
            self.tokens.remove(&old);
        }
        let (label, ip) = self
            .conns
            .get(&conn)
            .map(|c| (c.label.clone(), c.ip))
            .unwrap_or_default();
        let lifetime = self.config.token_lifetime;
        let mut method = "token";
        let user = match (name, &args) {
            ("auth_clear", _) => {
                if self.config.stop_on_auth_clear
                    && let Some(c) = self.conns.get_mut(&conn)
                {
                    c.subscriptions.clear();
                }
                return;
            }
            ("auth", Value::Object(m)) => {
                let u = m.get("username").and_then(Value::as_str);
                let p = m.get("password").and_then(Value::as_str);
                match (u, p) {
                    (Some(u), Some(""))
                        if self.config.loopback_relogin
                            && ip.is_some_and(is_loopback)
                            && self
                                .password_logins
                                .get(u)
                                .is_some_and(|t| now.saturating_duration_since(*t) < lifetime) =>
                    {
                        method = "loopback_relogin";
                        Some(u.to_owned())
                    }
                    (Some(u), Some(p)) if self.verifier.verify(u, p) => {
                        self.password_logins.insert(u.to_owned(), now);
                        method = "password";
                        Some(u.to_owned())
                    }
                    _ => None,
                }
            }
            ("auth_token", Value::Object(m)) => {
                match m
                    .get("token")
                    .and_then(Value::as_str)
                    .and_then(|t| self.tokens.get(t).map(|i| (t, i)))
                {
                    Some((_, info)) if now.saturating_duration_since(info.last_used) < lifetime => {
                        Some(info.user.clone())
                    }
                    _ => None,
                }
            }
            #[cfg(feature = "ssl-auth")]
            ("auth_ssl", _) => {
                let answer = match &args {
                    Value::Object(m) if m.contains_key("encrypted_string") => {
                        // The real server reads a non-string value as its text form.
                        Some(match m.get("encrypted_string") {
                            Some(Value::String(s)) => s.clone(),
                            Some(other) => other.to_string(),
                            None => String::new(),
                        })
                    }
                    _ => None,
                };
                let Some(answer) = answer else {
                    // Stage 1 (`""`, or any args without `encrypted_string`).
                    return self.issue_challenge(now, conn, namespace, name, id);
                };
                method = "certificate";
                self.check_challenge(now, conn, &answer)
            }
            // auth_ssl (certificate challenge) without feature `ssl-auth`: 401.
            _ => None,
        };
        let Some(user) = user else {
            // A lapsed token is normal (a server restart); a wrong password or key is not.
            if name != "auth_token" {
                self.login_failed(now, ip, &label, conn);
            }
            let what = format!("{label}: {name} refused");
            self.session(
                Kind::Failed,
                session::AUTH_FAILED,
                &label,
                conn,
                what,
                |e| e.with_attr("sysadm.request", name),
            );
            return self.error(conn, id, ErrorCode::Unauthorized);
        };
        let token = if name == "auth_token" {
            // Renew and bind the presented token.
            let t = match &args {
                Value::Object(m) => m
                    .get("token")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned(),
                _ => String::new(),
            };
            if let Some(info) = self.tokens.get_mut(&t) {
                info.last_used = now;
            }
            t
        } else {
            let t = self.new_token();
            self.tokens.insert(
                t.clone(),
                TokenInfo {
                    user: user.clone(),
                    last_used: now,
                },
            );
            t
        };
        if let Some(c) = self.conns.get_mut(&conn) {
            c.token = Some(token.clone());
            c.ever_authed = true;
        }
        if let Some(ip) = ip {
            self.failures.remove(&ip);
        }
        let what = format!("{label} logged in as {user}");
        self.session(
            Kind::Authenticated,
            session::AUTHENTICATED,
            &label,
            conn,
            what,
            |e| {
                e.with_attr("sysadm.user", user)
                    .with_attr("sysadm.method", method)
            },
        );
        let reply = Reply::Token(TokenGrant {
            token,
            lifetime: 0.into(),
        });
        self.reply(conn, &Message::reply(namespace, name, id, reply));
    }

    #[cfg(feature = "ssl-auth")]
    fn issue_challenge(
        &mut self,
        now: Instant,
        conn: ConnId,
        namespace: &str,
        name: &str,
        id: &str,
    ) {
        let Ok(test_string) = crate::ssl::new_challenge() else {
            // No randomness, no challenge.
            return self.error(conn, id, ErrorCode::Unauthorized);
        };
        if let Some(c) = self.conns.get_mut(&conn) {
            c.challenge = Some((test_string.clone(), now));
        }
        let reply = Reply::Challenge {
            test_string,
            new_ssl_key: None,
            extra: Object::new(),
        };
        self.reply(conn, &Message::reply(namespace, name, id, reply));
    }

    /// Stage 2: the user of the first registered key that signed this connection's
    /// outstanding, unexpired test string. The test string is used up either way.
    #[cfg(feature = "ssl-auth")]
    fn check_challenge(&mut self, now: Instant, conn: ConnId, answer: &str) -> Option<String> {
        let (test_string, issued) = self.conns.get_mut(&conn)?.challenge.take()?;
        if now.saturating_duration_since(issued) >= self.config.challenge_lifetime {
            return None;
        }
        self.keys
            .iter()
            .find(|k| k.entry.key.verify_challenge(&test_string, answer))
            .map(|k| k.entry.user.clone())
    }

    /// Registers `key` for `user` as if `register_ssl_cert` had (replacing the nickname and
    /// e-mail of a key already registered for that user). Returns false when
    /// [`max_registered_keys`](ServerConfig::max_registered_keys) are already registered.
    #[cfg(feature = "ssl-auth")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ssl-auth")))]
    pub fn register_key(&mut self, key: AuthorizedKey) -> bool {
        let registration = key.key.registration();
        if let Some(k) = self
            .keys
            .iter_mut()
            .find(|k| k.entry.user == key.user && k.entry.key == key.key)
        {
            k.entry = key;
            return true;
        }
        if self.keys.len() >= self.config.max_registered_keys {
            return false;
        }
        self.keys.push(Registered {
            registration,
            entry: key,
        });
        true
    }

    /// The keys that may log in now (configured and registered).
    #[cfg(feature = "ssl-auth")]
    #[cfg_attr(docsrs, doc(cfg(feature = "ssl-auth")))]
    pub fn authorized_keys(&self) -> impl Iterator<Item = &AuthorizedKey> {
        self.keys.iter().map(|k| &k.entry)
    }

    /// `rpc/settings` from a logged-in `user`, as the real server answers it
    /// (`WebBackend.cpp`): `register_ssl_cert` and `revoke_ssl_cert` reply `{}`,
    /// `list_ssl_certs` the user's keys; anything else, a key that does not parse, or another
    /// user's key is a 400.
    #[cfg(feature = "ssl-auth")]
    fn handle_settings(
        &mut self,
        conn: ConnId,
        user: &str,
        namespace: &str,
        name: &str,
        id: &str,
        args: Value,
    ) {
        use crate::message::{Request, Settings};
        let label = self
            .conns
            .get(&conn)
            .map(|c| c.label.clone())
            .unwrap_or_default();
        let settings = match Request::from_args(namespace, name, args) {
            Request::Settings(s) => s,
            _ => return self.error(conn, id, ErrorCode::BadRequest),
        };
        let out = match settings {
            Settings::RegisterSslCert(r) => {
                let Ok(key) = crate::ssl::PublicKey::from_registration(&r.pub_key) else {
                    return self.error(conn, id, ErrorCode::BadRequest);
                };
                let bits = key.bits();
                let entry = AuthorizedKey {
                    user: user.to_owned(),
                    key,
                    nickname: r.nickname.unwrap_or_default(),
                    email: r.email.unwrap_or_default(),
                };
                let nickname = entry.nickname.clone();
                if !self.register_key(entry) {
                    return self.error(conn, id, ErrorCode::Forbidden);
                }
                let what = format!("{label}: {user} registered a {bits}-bit key {nickname:?}");
                self.session(
                    Kind::Updated,
                    session::KEY_REGISTERED,
                    &label,
                    conn,
                    what,
                    |e| {
                        e.with_attr("sysadm.user", user.to_owned())
                            .with_attr("sysadm.nickname", nickname)
                    },
                );
                Object::new()
            }
            Settings::ListSslCerts(_) => {
                let mut mine = Object::new();
                for k in self.keys.iter().filter(|k| k.entry.user == user) {
                    let info = format!("Nickname: {}\nEmail: {}", k.entry.nickname, k.entry.email);
                    mine.insert(k.registration.clone(), Value::String(info));
                }
                let mut out = Object::new();
                if !mine.is_empty() {
                    out.insert(user.to_owned(), Value::Object(mine));
                }
                out
            }
            Settings::RevokeSslCert {
                pub_key,
                user: whose,
                ..
            } => {
                let whose = whose
                    .filter(|w| !w.is_empty())
                    .unwrap_or_else(|| user.to_owned());
                // Only one's own keys (the real server lets full-access users revoke others').
                let found = self
                    .keys
                    .iter()
                    .position(|k| k.entry.user == whose && k.registration == pub_key);
                match found {
                    Some(i) if whose == user => {
                        self.keys.remove(i);
                        let what = format!("{label}: {user} revoked a key");
                        self.session(
                            Kind::Updated,
                            session::KEY_REVOKED,
                            &label,
                            conn,
                            what,
                            |e| e.with_attr("sysadm.user", user.to_owned()),
                        );
                        Object::new()
                    }
                    _ => return self.error(conn, id, ErrorCode::BadRequest),
                }
            }
            _ => return self.error(conn, id, ErrorCode::BadRequest),
        };
        let reply = Reply::RpcOther(crate::message::Redacted(Value::Object(out)));
        self.reply(conn, &Message::reply(namespace, name, id, reply));
    }

    fn handle_events(&mut self, conn: ConnId, namespace: &str, name: &str, id: &str, args: Value) {
        let verb = match name {
            "subscribe" => SubscriptionVerb::Subscribe,
            "unsubscribe" => SubscriptionVerb::Unsubscribe,
            _ => return self.error(conn, id, ErrorCode::BadRequest),
        };
        let requested: Vec<String> = match args {
            Value::String(s) => vec![s],
            Value::Array(items) if !items.is_empty() => items
                .into_iter()
                .map(|v| match v {
                    Value::String(s) => s,
                    other => other.to_string(),
                })
                .collect(),
            _ => return self.error(conn, id, ErrorCode::BadRequest),
        };
        let mut last = None;
        let mut replay = Vec::new();
        for n in requested {
            if !self.subscribable(&n) {
                continue;
            }
            let Some(c) = self.conns.get_mut(&conn) else {
                return;
            };
            match verb {
                SubscriptionVerb::Subscribe => {
                    if !c.subscriptions.contains(&n) {
                        c.subscriptions.push(n.clone());
                        if let Some(cached) = self.cache.get(&n) {
                            replay.push(cached.clone());
                        }
                    }
                }
                SubscriptionVerb::Unsubscribe => c.subscriptions.retain(|s| *s != n),
            }
            last = Some(n);
        }
        // Cached events go out before the reply, as SysAdm does.
        for text in replay {
            if let Some(c) = self.conns.get_mut(&conn) {
                c.queue.push_back(Queued {
                    out: Outgoing::Text(text),
                    droppable: false,
                });
            }
        }
        let subs: Vec<monwire_event::Value> = self
            .conns
            .get(&conn)
            .map(|c| c.subscriptions.iter().map(|s| s.as_str().into()).collect())
            .unwrap_or_default();
        let label = self
            .conns
            .get(&conn)
            .map(|c| c.label.clone())
            .unwrap_or_default();
        let what = format!(
            "{label} subscribed to {}",
            if subs.is_empty() {
                "nothing".to_owned()
            } else {
                subs.iter()
                    .map(|v| v.as_str().unwrap_or_default())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        );
        self.session(
            Kind::Updated,
            session::SUBSCRIBED,
            &label,
            conn,
            what,
            |e| e.with_attr("sysadm.subscriptions", subs),
        );
        let reply = Reply::Subscription(last.map(|n| (verb, n)));
        self.reply(conn, &Message::reply(namespace, name, id, reply));
    }

    /// Publishes an event message to every connection subscribed to its name; remembers the
    /// latest `system-state` and `life-preserver` for replay on subscribe. The message is
    /// encoded once. Returns how many connections it was queued for.
    pub fn publish(&mut self, message: &Message) -> Result<usize, EncodeError> {
        let text: Arc<str> = encode_text(message, &self.config.limits)?.into();
        let name = message.name.as_str();
        if name == names::SYSTEM_STATE || name == names::LIFE_PRESERVER {
            self.cache.insert(name.to_owned(), text.clone());
        }
        let droppable = matches!(
            &message.body,
            Body::Event(EventBody::Dispatcher(d)) if matches!(d.state(), Some(JobState::Pending | JobState::Running))
                && !matches!(d, Dispatcher::Job(l) if l.cmd_list.is_none())
        );
        let cap = self.config.queue_capacity.max(1);
        let mut delivered = 0;
        let mut overflows = Vec::new();
        for (&id, c) in self.conns.iter_mut() {
            if c.closing || !c.subscriptions.iter().any(|s| s == name) {
                continue;
            }
            if c.queue.len() >= cap {
                let action = match c.queue.iter().position(|q| q.droppable) {
                    Some(i) => {
                        c.queue.remove(i);
                        OverflowAction::DroppedIncremental
                    }
                    None => {
                        self.dropped += c.queue.len() as u64 + 1;
                        c.queue.clear();
                        c.queue.push_back(Queued {
                            out: Outgoing::Close,
                            droppable: false,
                        });
                        c.closing = true;
                        OverflowAction::Closed
                    }
                };
                if action == OverflowAction::DroppedIncremental {
                    self.dropped += 1;
                }
                overflows.push((id, c.label.clone(), action));
                if action == OverflowAction::Closed {
                    continue;
                }
            }
            c.queue.push_back(Queued {
                out: Outgoing::Text(text.clone()),
                droppable,
            });
            delivered += 1;
        }
        for (id, label, action) in overflows {
            let dropped = self.dropped;
            let what = match action {
                OverflowAction::DroppedIncremental => {
                    format!("{label}: queue full, dropped an incremental dispatcher update")
                }
                OverflowAction::Closed => format!("{label}: queue full, connection closed"),
            };
            self.session(Kind::Failed, session::OVERFLOW, &label, id, what, |e| {
                e.with_severity(monwire_event::Severity::Warn)
                    .with_attr("sysadm.action", action.as_str())
                    .with_attr("sysadm.dropped", dropped)
            });
        }
        Ok(delivered)
    }

    /// Connections with frames waiting.
    pub fn ready_connections(&self) -> Vec<ConnId> {
        self.conns
            .iter()
            .filter(|(_, c)| !c.queue.is_empty())
            .map(|(&id, _)| id)
            .collect()
    }

    /// The next frame (or close) for `conn`.
    pub fn poll_transmit(&mut self, conn: ConnId) -> Option<Outgoing> {
        self.conns.get_mut(&conn)?.queue.pop_front().map(|q| q.out)
    }

    /// The next session event.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The earliest deadline (auth deadline or idle timeout of some connection).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.conns
            .values()
            .filter(|c| !c.closing)
            .map(|c| {
                let idle = c.last_received + self.config.idle_timeout;
                if c.ever_authed {
                    idle
                } else {
                    idle.min(c.connected_at + self.config.auth_deadline)
                }
            })
            .min()
    }

    /// Closes connections past their deadline (they get [`Outgoing::Close`]) and forgets
    /// expired tokens.
    pub fn handle_timeout(&mut self, now: Instant) {
        let auth_deadline = self.config.auth_deadline;
        let idle = self.config.idle_timeout;
        let mut closed = Vec::new();
        for (&id, c) in self.conns.iter_mut() {
            if c.closing {
                continue;
            }
            let late_auth = !c.ever_authed && now >= c.connected_at + auth_deadline;
            let late_idle = now >= c.last_received + idle;
            if late_auth || late_idle {
                c.queue.clear();
                c.queue.push_back(Queued {
                    out: Outgoing::Close,
                    droppable: false,
                });
                c.closing = true;
                closed.push((
                    id,
                    c.label.clone(),
                    if late_auth { "auth_deadline" } else { "idle" },
                ));
            }
        }
        for (id, label, why) in closed {
            let what = match why {
                "auth_deadline" => format!("{label} closed: not logged in in time"),
                _ => format!("{label} closed: idle"),
            };
            self.session(Kind::Closed, session::DISCONNECTED, &label, id, what, |e| {
                e.with_attr("sysadm.reason", why)
            });
        }
        let lifetime = self.config.token_lifetime;
        self.tokens
            .retain(|_, t| now.saturating_duration_since(t.last_used) < lifetime);
        self.password_logins
            .retain(|_, t| now.saturating_duration_since(*t) < lifetime);
        self.forget_failures(now);
    }

    /// Whether `conn` is being closed (its queue overflowed or a deadline passed): the adapter
    /// stops any write in progress on it and drops the socket.
    pub fn is_closing(&self, conn: ConnId) -> bool {
        self.conns.get(&conn).is_none_or(|c| c.closing)
    }

    /// Whether `conn` exists.
    pub fn check(&self, conn: ConnId) -> Result<(), StateError> {
        if self.conns.contains_key(&conn) {
            Ok(())
        } else {
            Err(StateError::UnknownConnection(conn))
        }
    }
}
