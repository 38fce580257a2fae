//! The wire-level types: the message envelope, typed requests, replies, errors and events.
//!
//! Every SysAdm message is one JSON object `{"args":…,"id":…,"name":…,"namespace":…}`. A
//! [`Message`] keeps the three envelope strings as written, a typed [`Body`] for `args`, and any
//! other top-level keys in [`extra`](Message::extra). Typed bodies keep every key they do not
//! model (unknown event names, unknown keys, dynamic dispatcher keys) so a decoded message
//! re-encodes to the same JSON value.
//!
//! How a frame is classified (the real client's rules, §2 of the spec):
//!
//! 1. `namespace == "error"` or `name == "error"` → [`Body::Error`];
//! 2. `name == "response"` → [`Body::Reply`];
//! 3. `namespace == "events"` and `name` is neither `subscribe` nor `unsubscribe` → [`Body::Event`];
//! 4. `id == ""` and `args` has the shape of a reply (identify, token, challenge, subscription)
//!    while not being a valid request of that name → [`Body::Reply`] (the server names replies
//!    to id-less requests after the request);
//! 5. anything else → [`Body::Request`];
//! 6. no `args` key at all → [`Body::NoArgs`] (the real server then reads the whole object as
//!    the arguments).

use std::fmt;

use serde_json::{Map, Number, Value};

use crate::json::{put_str, str_list, take_obj, take_str, take_str_list};

/// A JSON object.
pub type Object = Map<String, Value>;

/// One SysAdm message (request, reply, error or event).
///
/// `Debug` and `Display` never show a secret: the `args` and extra keys of every message that
/// [carries one](Message::carries_secret) are redacted, whatever their shape.
#[derive(Clone, PartialEq)]
pub struct Message {
    /// `namespace` as written (`rpc`, `events`, `error`, …).
    pub namespace: String,
    /// `name` as written (a verb, `response`, `error` or an event name).
    pub name: String,
    /// `id` as written (`""` for events and for replies to id-less requests).
    ///
    /// An absent `id` decodes as `""` (as the server reads it) and is always written, so
    /// `{"name":…,"namespace":…}` re-encodes with `"id":""` added: the only key a decode/encode
    /// round trip adds.
    pub id: String,
    /// `args`, typed.
    pub body: Body,
    /// Top-level keys other than `namespace`, `name`, `id`, `args` (none in real traffic).
    pub extra: Object,
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Message");
        d.field("namespace", &self.namespace)
            .field("name", &self.name)
            .field("id", &self.id);
        if self.carries_secret() {
            d.field("body", &REDACTED)
                .field("extra_keys", &self.extra.len());
        } else {
            d.field("body", &self.body).field("extra", &self.extra);
        }
        d.finish()
    }
}

impl fmt::Display for Message {
    /// One short line: what the message is and what it says (its summary; secrets redacted).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::event::summary(self))
    }
}

/// What `Debug`, `Display` and events show instead of a secret.
pub const REDACTED: &str = "<redacted>";

/// A value that never shows in `Debug` or `Display` (it prints `<redacted>`).
///
/// It wraps the arguments of authentication messages whose shape is not the expected one: they
/// may still hold a password or token, so they are hidden by the message's name, not its shape.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redacted<T>(pub T);

impl<T> Redacted<T> {
    /// The value itself (handle with care).
    pub fn expose(&self) -> &T {
        &self.0
    }

    /// The value itself.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

impl<T> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(REDACTED)
    }
}

/// Whether a request `namespace/name` is an authentication request: `rpc` (any case) and a name
/// that starts with `auth` (as the real server decides).
pub fn is_auth_request(namespace: &str, name: &str) -> bool {
    namespace.eq_ignore_ascii_case(ns::RPC)
        && name
            .get(..4)
            .is_some_and(|p| p.eq_ignore_ascii_case("auth"))
}

/// Whether a request `namespace/name` is `rpc/settings` (namespace any case, as the server
/// reads it): certificate registration, listing and revocation, whose arguments hold key
/// material and are redacted like passwords.
pub fn is_settings_request(namespace: &str, name: &str) -> bool {
    namespace.eq_ignore_ascii_case(ns::RPC) && name == "settings"
}

/// The typed `args` of a [`Message`].
// Events are the common case on the wire; boxing them would cost an allocation per event.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq)]
pub enum Body {
    /// A request (client → server, or bridge → peer).
    Request(Request),
    /// A successful reply.
    Reply(Reply),
    /// An error reply.
    Error(ErrorBody),
    /// An event (`namespace` `events`).
    Event(EventBody),
    /// The message had no `args` key.
    NoArgs,
}

/// The namespaces SysAdm uses.
pub mod ns {
    /// `rpc`: identify, auth*, query.
    pub const RPC: &str = "rpc";
    /// `events`: subscribe, unsubscribe and the events themselves.
    pub const EVENTS: &str = "events";
    /// `error`: error replies.
    pub const ERROR: &str = "error";
}

/// The event names a SysAdm server emits, plus the bridge's own.
pub mod names {
    /// Dispatcher (job) events.
    pub const DISPATCHER: &str = "dispatcher";
    /// Life-preserver (snapshot/replication) events.
    pub const LIFE_PRESERVER: &str = "life-preserver";
    /// The periodic health check.
    pub const SYSTEM_STATE: &str = "system-state";
    /// The bridge's list of reachable peers.
    pub const BRIDGE: &str = "bridge";
    /// The three names a server accepts in `subscribe`.
    pub const SUBSCRIBABLE: [&str; 3] = [DISPATCHER, LIFE_PRESERVER, SYSTEM_STATE];
}

impl Message {
    fn new(namespace: &str, name: &str, id: &str, body: Body) -> Message {
        Message {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            id: id.to_owned(),
            body,
            extra: Object::new(),
        }
    }

    /// A request in `namespace` named `name` with `id`.
    pub fn request(namespace: &str, name: &str, id: &str, request: Request) -> Message {
        Message::new(namespace, name, id, Body::Request(request))
    }

    /// `rpc/identify` with `args` `""`.
    pub fn identify(id: &str) -> Message {
        Message::request(ns::RPC, "identify", id, Request::Identify(Value::from("")))
    }

    /// `rpc/auth` with a username and password.
    pub fn auth(id: &str, username: &str, password: &str) -> Message {
        Message::request(
            ns::RPC,
            "auth",
            id,
            Request::Auth(Credentials {
                username: username.to_owned(),
                password: password.to_owned(),
                extra: Object::new(),
            }),
        )
    }

    /// `rpc/auth_token`.
    pub fn auth_token(id: &str, token: &str) -> Message {
        Message::request(
            ns::RPC,
            "auth_token",
            id,
            Request::AuthToken {
                token: token.to_owned(),
                extra: Object::new(),
            },
        )
    }

    /// `rpc/auth_clear` with `args` `""`.
    pub fn auth_clear(id: &str) -> Message {
        Message::request(
            ns::RPC,
            "auth_clear",
            id,
            Request::AuthClear(Value::from("")),
        )
    }

    /// `rpc/auth_ssl` stage 1: `args` `""` (what the reference client sends); the reply is a
    /// [`Reply::Challenge`].
    pub fn auth_ssl_challenge(id: &str) -> Message {
        Message::request(
            ns::RPC,
            "auth_ssl",
            id,
            Request::AuthSsl(AuthSsl::Challenge),
        )
    }

    /// `rpc/auth_ssl` stage 2: `{"encrypted_string": <base64 signature of the test string>}`;
    /// the reply is a [`Reply::Token`] or the 401 error.
    pub fn auth_ssl_response(id: &str, encrypted_string: &str) -> Message {
        Message::request(
            ns::RPC,
            "auth_ssl",
            id,
            Request::AuthSsl(AuthSsl::Response {
                encrypted_string: encrypted_string.to_owned(),
                extra: Object::new(),
            }),
        )
    }

    /// `rpc/settings` `register_ssl_cert`, as the reference client sends it: `pub_key` is the
    /// base64 of the PEM public key, `nickname` and `email` describe it.
    pub fn register_ssl_cert(id: &str, pub_key: &str, nickname: &str, email: &str) -> Message {
        Message::settings(
            id,
            Settings::RegisterSslCert(CertRegistration {
                pub_key: pub_key.to_owned(),
                nickname: Some(nickname.to_owned()),
                email: Some(email.to_owned()),
                extra: Object::new(),
            }),
        )
    }

    /// An `rpc/settings` request.
    pub fn settings(id: &str, settings: Settings) -> Message {
        Message::request(ns::RPC, "settings", id, Request::Settings(settings))
    }

    /// `rpc/query` with `args` `""` (the reference client's keepalive).
    pub fn query(id: &str) -> Message {
        Message::request(ns::RPC, "query", id, Request::Query(Value::from("")))
    }

    /// `events/subscribe`.
    pub fn subscribe(id: &str, targets: Targets) -> Message {
        Message::request(ns::EVENTS, "subscribe", id, Request::Subscribe(targets))
    }

    /// `events/unsubscribe`.
    pub fn unsubscribe(id: &str, targets: Targets) -> Message {
        Message::request(ns::EVENTS, "unsubscribe", id, Request::Unsubscribe(targets))
    }

    /// A reply to a request in `namespace` named `request_name` with `id`, named as the server
    /// names it: `response` when `id` is non-empty, else the request's own name.
    pub fn reply(namespace: &str, request_name: &str, id: &str, reply: Reply) -> Message {
        let name = if id.is_empty() {
            request_name
        } else {
            "response"
        };
        Message::new(namespace, name, id, Body::Reply(reply))
    }

    /// The server's error reply: namespace and name `error`, `code` a string.
    pub fn error(id: &str, code: ErrorCode) -> Message {
        Message::new(
            ns::ERROR,
            ns::ERROR,
            id,
            Body::Error(ErrorBody::Standard {
                code: code.code().to_owned(),
                message: code.message().to_owned(),
                extra: Object::new(),
            }),
        )
    }

    /// An event: namespace `events`, `id` `""`, name from the payload.
    pub fn event(event: EventBody) -> Message {
        let name = event.name().to_owned();
        Message {
            namespace: ns::EVENTS.to_owned(),
            name,
            id: String::new(),
            body: Body::Event(event),
            extra: Object::new(),
        }
    }

    /// Whether this message may carry a password, token, signature or key, decided by its
    /// names (never by the shape of its `args`): an `rpc/auth*` or `rpc/settings` request (or
    /// the id-less reply the server names after it), and every reply in the `rpc` namespace except the identify and
    /// challenge replies (a `response` does not say which request it answers, and an `auth`
    /// reply carries the token). `Debug`, `Display` and [`crate::event::to_event`] redact the
    /// `args` and extra keys of these.
    pub fn carries_secret(&self) -> bool {
        if is_auth_request(&self.namespace, &self.name)
            || is_settings_request(&self.namespace, &self.name)
        {
            return true;
        }
        self.namespace.eq_ignore_ascii_case(ns::RPC)
            && match &self.body {
                Body::Reply(Reply::Identify(_) | Reply::Challenge { .. }) => false,
                Body::Reply(_) => true,
                Body::Request(Request::AuthOther(_)) => true,
                _ => self.name == "response",
            }
    }

    /// The event payload, if this is an event.
    pub fn as_event(&self) -> Option<&EventBody> {
        match &self.body {
            Body::Event(e) => Some(e),
            _ => None,
        }
    }

    /// The `args` value as it goes on the wire (`None` for [`Body::NoArgs`]).
    pub fn args(&self) -> Option<Value> {
        match &self.body {
            Body::Request(r) => Some(r.to_args()),
            Body::Reply(r) => Some(r.to_args()),
            Body::Error(e) => Some(e.to_args()),
            Body::Event(e) => Some(e.to_args()),
            Body::NoArgs => None,
        }
    }

    /// The whole message as a JSON object (for the writer, or for callers that want a value).
    pub fn to_object(&self) -> Object {
        let mut m = self.extra.clone();
        if let Some(args) = self.args() {
            m.insert("args".to_owned(), args);
        }
        m.insert("id".to_owned(), Value::String(self.id.clone()));
        m.insert("name".to_owned(), Value::String(self.name.clone()));
        m.insert(
            "namespace".to_owned(),
            Value::String(self.namespace.clone()),
        );
        m
    }

    /// Classifies and types a message from its envelope parts (see the module docs).
    pub fn from_parts(
        namespace: String,
        name: String,
        id: String,
        args: Option<Value>,
        extra: Object,
    ) -> Message {
        let body = match args {
            None => Body::NoArgs,
            Some(args) => classify(&namespace, &name, &id, args),
        };
        Message {
            namespace,
            name,
            id,
            body,
            extra,
        }
    }
}

fn classify(namespace: &str, name: &str, id: &str, args: Value) -> Body {
    if namespace == ns::ERROR || name == "error" {
        return Body::Error(ErrorBody::from_args(args));
    }
    if name == "response" {
        return Body::Reply(Reply::from_args(namespace, args));
    }
    if namespace == ns::EVENTS && name != "subscribe" && name != "unsubscribe" {
        return Body::Event(EventBody::from_args(name, args));
    }
    match Request::from_args(namespace, name, args) {
        Request::Other(args) if id.is_empty() => match Reply::from_args(namespace, args) {
            Reply::Other(args) => Body::Request(Request::Other(args)),
            Reply::RpcOther(Redacted(args)) => Body::Request(Request::Other(args)),
            typed => Body::Reply(typed),
        },
        Request::AuthOther(Redacted(args)) if id.is_empty() => {
            match Reply::from_args(namespace, args) {
                Reply::Other(args) | Reply::RpcOther(Redacted(args)) => {
                    Body::Request(Request::AuthOther(Redacted(args)))
                }
                typed => Body::Reply(typed),
            }
        }
        request => Body::Request(request),
    }
}

// ---------------------------------------------------------------------------------------------
// Requests

/// A typed request. The namespace is matched case-insensitively (as the server does), names
/// exactly; arguments of an unexpected shape give [`Request::Other`], or
/// [`Request::AuthOther`] for an authentication request.
///
/// `Debug` never shows a password, token or signature, whatever the shape of the arguments.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum Request {
    /// `rpc/identify` (args ignored, normally `""`).
    Identify(Value),
    /// `rpc/auth` with username and password.
    Auth(Credentials),
    /// `rpc/auth_token`.
    AuthToken {
        /// The token from an earlier successful auth.
        token: String,
        /// Other keys of `args`.
        extra: Object,
    },
    /// `rpc/auth_ssl`, either stage.
    AuthSsl(AuthSsl),
    /// `rpc/auth_clear` (args ignored; the server sends no reply).
    AuthClear(Value),
    /// `rpc/query` (args ignored, normally `""`).
    Query(Value),
    /// `events/subscribe`.
    Subscribe(Targets),
    /// `events/unsubscribe`.
    Unsubscribe(Targets),
    /// `rpc/settings`: certificate registration, listing, revocation (redacted in `Debug`).
    Settings(Settings),
    /// An `rpc/auth*` request whose args have another shape (or another `auth…` name): it
    /// may still hold a secret, so it is kept [`Redacted`].
    AuthOther(Redacted<Value>),
    /// Any other request, or a known one whose args have another shape.
    Other(Value),
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Identify(v) => f.debug_tuple("Identify").field(v).finish(),
            Request::Auth(c) => f.debug_tuple("Auth").field(c).finish(),
            Request::AuthToken { extra, .. } => f
                .debug_struct("AuthToken")
                .field("token", &REDACTED)
                .field("extra_keys", &extra.len())
                .finish(),
            Request::AuthSsl(a) => f.debug_tuple("AuthSsl").field(a).finish(),
            Request::AuthClear(_) => f.debug_tuple("AuthClear").field(&REDACTED).finish(),
            Request::Query(v) => f.debug_tuple("Query").field(v).finish(),
            Request::Subscribe(t) => f.debug_tuple("Subscribe").field(t).finish(),
            Request::Unsubscribe(t) => f.debug_tuple("Unsubscribe").field(t).finish(),
            Request::Settings(s) => f.debug_tuple("Settings").field(s).finish(),
            Request::AuthOther(r) => f.debug_tuple("AuthOther").field(r).finish(),
            Request::Other(v) => f.debug_tuple("Other").field(v).finish(),
        }
    }
}

/// Username and password of `rpc/auth`. `Debug` never shows the password.
#[derive(Clone, PartialEq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password (redacted in `Debug`).
    pub password: String,
    /// Other keys of `args`.
    pub extra: Object,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .field("password", &REDACTED)
            .field("extra_keys", &self.extra.len())
            .finish()
    }
}

/// The two stages of `rpc/auth_ssl`. `Debug` hides every value (it is an authentication
/// request).
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum AuthSsl {
    /// Stage 1: ask for a challenge (`args` `""`).
    Challenge,
    /// Stage 1 through a bridge: ask for a challenge for the key with this MD5.
    ChallengeForKey {
        /// Base64 MD5 of the client's PEM public key.
        md5_key: String,
        /// Other keys of `args`.
        extra: Object,
    },
    /// Stage 2: the signed challenge.
    Response {
        /// Base64 of the RSA PKCS#1 v1.5 private-key block over the test string.
        encrypted_string: String,
        /// Other keys of `args`.
        extra: Object,
    },
}

impl fmt::Debug for AuthSsl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthSsl::Challenge => f.write_str("Challenge"),
            AuthSsl::ChallengeForKey { extra, .. } => f
                .debug_struct("ChallengeForKey")
                .field("md5_key", &REDACTED)
                .field("extra_keys", &extra.len())
                .finish(),
            AuthSsl::Response { extra, .. } => f
                .debug_struct("Response")
                .field("encrypted_string", &REDACTED)
                .field("extra_keys", &extra.len())
                .finish(),
        }
    }
}

/// The `args` of `rpc/settings`, typed by `action` as the real server reads them
/// (`WebBackend.cpp`, `EvaluateSysadmSettingsRequest`). `Debug` hides every key (`pub_key` is
/// key material) and shows only the action.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum Settings {
    /// `register_ssl_cert`: register a public key for the logged-in user's `auth_ssl` logins.
    RegisterSslCert(CertRegistration),
    /// `list_ssl_certs`: the user's registered keys (other keys of `args` kept).
    ListSslCerts(Object),
    /// `list_ssl_checksums`: base64 MD5 of every registered PEM key (what a bridge asks).
    ListSslChecksums(Object),
    /// `revoke_ssl_cert`: forget a registered key.
    RevokeSslCert {
        /// The key as registered (base64 of the PEM public key).
        pub_key: String,
        /// Whose key (default: the logged-in user).
        user: Option<String>,
        /// Other keys of `args`.
        extra: Object,
    },
    /// Any other `args` (another action, or a known one of another shape), kept
    /// [`Redacted`].
    Other(Redacted<Value>),
}

impl Settings {
    /// The `action` as written, for the known actions.
    pub fn action(&self) -> Option<&'static str> {
        Some(match self {
            Settings::RegisterSslCert(_) => "register_ssl_cert",
            Settings::ListSslCerts(_) => "list_ssl_certs",
            Settings::ListSslChecksums(_) => "list_ssl_checksums",
            Settings::RevokeSslCert { .. } => "revoke_ssl_cert",
            Settings::Other(_) => return None,
        })
    }

    fn from_args(args: Value) -> Settings {
        let Value::Object(mut m) = args else {
            return Settings::Other(Redacted(args));
        };
        let action = m.get("action").and_then(Value::as_str).unwrap_or_default();
        match action {
            "register_ssl_cert" if m.get("pub_key").is_some_and(Value::is_string) => {
                m.remove("action");
                let pub_key = take_str(&mut m, "pub_key").unwrap_or_default();
                let nickname = take_str(&mut m, "nickname");
                let email = take_str(&mut m, "email");
                Settings::RegisterSslCert(CertRegistration {
                    pub_key,
                    nickname,
                    email,
                    extra: m,
                })
            }
            "revoke_ssl_cert" if m.get("pub_key").is_some_and(Value::is_string) => {
                m.remove("action");
                let pub_key = take_str(&mut m, "pub_key").unwrap_or_default();
                let user = take_str(&mut m, "user");
                Settings::RevokeSslCert {
                    pub_key,
                    user,
                    extra: m,
                }
            }
            "list_ssl_certs" => {
                m.remove("action");
                Settings::ListSslCerts(m)
            }
            "list_ssl_checksums" => {
                m.remove("action");
                Settings::ListSslChecksums(m)
            }
            _ => Settings::Other(Redacted(Value::Object(m))),
        }
    }

    fn to_args(&self) -> Value {
        let (mut m, action) = match self {
            Settings::Other(v) => return v.0.clone(),
            Settings::RegisterSslCert(r) => {
                let mut m = r.extra.clone();
                m.insert("pub_key".into(), Value::String(r.pub_key.clone()));
                put_str(&mut m, "nickname", &r.nickname);
                put_str(&mut m, "email", &r.email);
                (m, "register_ssl_cert")
            }
            Settings::ListSslCerts(extra) => (extra.clone(), "list_ssl_certs"),
            Settings::ListSslChecksums(extra) => (extra.clone(), "list_ssl_checksums"),
            Settings::RevokeSslCert {
                pub_key,
                user,
                extra,
            } => {
                let mut m = extra.clone();
                m.insert("pub_key".into(), Value::String(pub_key.clone()));
                put_str(&mut m, "user", user);
                (m, "revoke_ssl_cert")
            }
        };
        m.insert("action".into(), Value::from(action));
        Value::Object(m)
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.action() {
            Some(action) => f
                .debug_struct("Settings")
                .field("action", &action)
                .finish_non_exhaustive(),
            None => f.debug_tuple("Settings").field(&REDACTED).finish(),
        }
    }
}

/// The arguments of `register_ssl_cert`. `Debug` hides the key.
#[derive(Clone, PartialEq)]
pub struct CertRegistration {
    /// Base64 of the PEM public key (`-----BEGIN PUBLIC KEY-----`, as OpenSSL's
    /// `PEM_read_bio_RSA_PUBKEY` reads it on the server).
    pub pub_key: String,
    /// A name for the key (the reference client sends its certificate's common name).
    pub nickname: Option<String>,
    /// An e-mail address (the reference client sends its certificate's).
    pub email: Option<String>,
    /// Other keys of `args`.
    pub extra: Object,
}

impl fmt::Debug for CertRegistration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertRegistration")
            .field("pub_key", &REDACTED)
            .finish_non_exhaustive()
    }
}

/// The `args` of `subscribe`/`unsubscribe`: one name or a list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Targets {
    /// A single name (what the reference client sends).
    One(String),
    /// A list of names (the API docs' form).
    Many(Vec<String>),
}

impl Targets {
    /// The names, in order.
    pub fn names(&self) -> Vec<&str> {
        match self {
            Targets::One(s) => vec![s.as_str()],
            Targets::Many(v) => v.iter().map(String::as_str).collect(),
        }
    }
}

impl Request {
    /// Types `args` of a request `namespace/name`.
    pub fn from_args(namespace: &str, name: &str, args: Value) -> Request {
        if namespace.eq_ignore_ascii_case(ns::RPC) {
            match name {
                "identify" => return Request::Identify(args),
                "auth_clear" => return Request::AuthClear(args),
                "query" => return Request::Query(args),
                "auth" => {
                    if let Value::Object(mut m) = args {
                        if matches!(m.get("username"), Some(Value::String(_)))
                            && matches!(m.get("password"), Some(Value::String(_)))
                        {
                            let username = take_str(&mut m, "username").unwrap_or_default();
                            let password = take_str(&mut m, "password").unwrap_or_default();
                            return Request::Auth(Credentials {
                                username,
                                password,
                                extra: m,
                            });
                        }
                        return Request::AuthOther(Redacted(Value::Object(m)));
                    }
                    return Request::AuthOther(Redacted(args));
                }
                "auth_token" => {
                    if let Value::Object(mut m) = args {
                        if let Some(token) = take_str(&mut m, "token") {
                            return Request::AuthToken { token, extra: m };
                        }
                        return Request::AuthOther(Redacted(Value::Object(m)));
                    }
                    return Request::AuthOther(Redacted(args));
                }
                "auth_ssl" => {
                    return match args {
                        Value::String(s) if s.is_empty() => Request::AuthSsl(AuthSsl::Challenge),
                        Value::Object(mut m) => {
                            if m.contains_key("encrypted_string") {
                                if let Some(e) = take_str(&mut m, "encrypted_string") {
                                    return Request::AuthSsl(AuthSsl::Response {
                                        encrypted_string: e,
                                        extra: m,
                                    });
                                }
                            } else if let Some(k) = take_str(&mut m, "md5_key") {
                                return Request::AuthSsl(AuthSsl::ChallengeForKey {
                                    md5_key: k,
                                    extra: m,
                                });
                            }
                            Request::AuthOther(Redacted(Value::Object(m)))
                        }
                        other => Request::AuthOther(Redacted(other)),
                    };
                }
                "settings" => return Request::Settings(Settings::from_args(args)),
                _ if is_auth_request(namespace, name) => {
                    return Request::AuthOther(Redacted(args));
                }
                _ => return Request::Other(args),
            }
        }
        if namespace.eq_ignore_ascii_case(ns::EVENTS)
            && (name == "subscribe" || name == "unsubscribe")
        {
            let targets = match args {
                Value::String(s) => Targets::One(s),
                Value::Array(items) if items.iter().all(Value::is_string) => Targets::Many(
                    items
                        .into_iter()
                        .filter_map(|v| match v {
                            Value::String(s) => Some(s),
                            _ => None,
                        })
                        .collect(),
                ),
                other => return Request::Other(other),
            };
            return if name == "subscribe" {
                Request::Subscribe(targets)
            } else {
                Request::Unsubscribe(targets)
            };
        }
        Request::Other(args)
    }

    /// The `args` value.
    pub fn to_args(&self) -> Value {
        match self {
            Request::Identify(v)
            | Request::AuthClear(v)
            | Request::Query(v)
            | Request::Other(v) => v.clone(),
            Request::AuthOther(v) => v.0.clone(),
            Request::Settings(s) => s.to_args(),
            Request::Auth(c) => {
                let mut m = c.extra.clone();
                m.insert("password".into(), Value::String(c.password.clone()));
                m.insert("username".into(), Value::String(c.username.clone()));
                Value::Object(m)
            }
            Request::AuthToken { token, extra } => {
                let mut m = extra.clone();
                m.insert("token".into(), Value::String(token.clone()));
                Value::Object(m)
            }
            Request::AuthSsl(AuthSsl::Challenge) => Value::from(""),
            Request::AuthSsl(AuthSsl::ChallengeForKey { md5_key, extra }) => {
                let mut m = extra.clone();
                m.insert("md5_key".into(), Value::String(md5_key.clone()));
                Value::Object(m)
            }
            Request::AuthSsl(AuthSsl::Response {
                encrypted_string,
                extra,
            }) => {
                let mut m = extra.clone();
                m.insert(
                    "encrypted_string".into(),
                    Value::String(encrypted_string.clone()),
                );
                Value::Object(m)
            }
            Request::Subscribe(t) | Request::Unsubscribe(t) => match t {
                Targets::One(s) => Value::String(s.clone()),
                Targets::Many(v) => str_list(v),
            },
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Replies

/// A typed successful reply, recognized by the shape of its `args`.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum Reply {
    /// Identify reply: `{"hostname":…,"type":…}`.
    Identify(PeerIdentity),
    /// Auth success: `["<token>", <n>]` (the real server always sends `0`).
    Token(TokenGrant),
    /// `auth_ssl` stage 1: `{"test_string":…}` (plus `new_ssl_key` through a bridge).
    Challenge {
        /// The 20-character string to sign.
        test_string: String,
        /// Present through a bridge.
        new_ssl_key: Option<String>,
        /// Other keys.
        extra: Object,
    },
    /// `events` subscribe/unsubscribe reply: one key (the verb) with the last valid name, or
    /// `{}` when no name was valid.
    Subscription(Option<(SubscriptionVerb, String)>),
    /// Any other reply in the `rpc` namespace. A `response` does not say which request it
    /// answers, so it cannot be told apart from an `auth` reply of another shape: it is kept
    /// [`Redacted`].
    RpcOther(Redacted<Value>),
    /// Any other reply `args`.
    Other(Value),
}

/// Which verb a subscription reply answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SubscriptionVerb {
    /// `subscribe`.
    Subscribe,
    /// `unsubscribe`.
    Unsubscribe,
}

impl SubscriptionVerb {
    /// The verb as written.
    pub fn as_str(self) -> &'static str {
        match self {
            SubscriptionVerb::Subscribe => "subscribe",
            SubscriptionVerb::Unsubscribe => "unsubscribe",
        }
    }
}

/// The identify reply.
#[derive(Clone, Debug, PartialEq)]
pub struct PeerIdentity {
    /// The peer's host name.
    pub hostname: String,
    /// `server`, `bridge` or `client`.
    pub peer_type: PeerType,
    /// Other keys.
    pub extra: Object,
}

/// What kind of peer answered identify.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerType {
    /// A SysAdm server.
    Server,
    /// A SysAdm bridge.
    Bridge,
    /// A SysAdm client (answering a bridge).
    Client,
    /// Anything else, as written.
    Other(String),
}

impl PeerType {
    /// The type as written.
    pub fn as_str(&self) -> &str {
        match self {
            PeerType::Server => "server",
            PeerType::Bridge => "bridge",
            PeerType::Client => "client",
            PeerType::Other(s) => s,
        }
    }

    fn from_text(s: String) -> PeerType {
        match s.as_str() {
            "server" => PeerType::Server,
            "bridge" => PeerType::Bridge,
            "client" => PeerType::Client,
            _ => PeerType::Other(s),
        }
    }
}

/// A successful auth: the token and the second array element. `Debug` hides the token.
#[derive(Clone, PartialEq)]
pub struct TokenGrant {
    /// The token (20 characters from a server, 40 from a bridge).
    pub token: String,
    /// The second element, documented as seconds valid; the real server always sends `0`.
    pub lifetime: Number,
}

impl fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenGrant")
            .field("token", &"<redacted>")
            .field("lifetime", &self.lifetime)
            .finish()
    }
}

impl Reply {
    /// Types reply `args` by their shape (`namespace` decides subscription replies).
    pub fn from_args(namespace: &str, args: Value) -> Reply {
        match args {
            Value::Array(mut items)
                if items.len() == 2
                    && matches!(items.first(), Some(Value::String(_)))
                    && matches!(items.get(1), Some(Value::Number(_))) =>
            {
                let lifetime = match items.pop() {
                    Some(Value::Number(n)) => n,
                    _ => Number::from(0),
                };
                let token = match items.pop() {
                    Some(Value::String(s)) => s,
                    _ => String::new(),
                };
                Reply::Token(TokenGrant { token, lifetime })
            }
            Value::Object(mut m) => {
                if namespace.eq_ignore_ascii_case(ns::EVENTS) && m.len() <= 1 {
                    if m.is_empty() {
                        return Reply::Subscription(None);
                    }
                    for verb in [SubscriptionVerb::Subscribe, SubscriptionVerb::Unsubscribe] {
                        if let Some(name) = take_str(&mut m, verb.as_str()) {
                            return Reply::Subscription(Some((verb, name)));
                        }
                    }
                    return Reply::Other(Value::Object(m));
                }
                if matches!(m.get("hostname"), Some(Value::String(_)))
                    && matches!(m.get("type"), Some(Value::String(_)))
                {
                    let hostname = take_str(&mut m, "hostname").unwrap_or_default();
                    let t = take_str(&mut m, "type").unwrap_or_default();
                    return Reply::Identify(PeerIdentity {
                        hostname,
                        peer_type: PeerType::from_text(t),
                        extra: m,
                    });
                }
                if let Some(test_string) = take_str(&mut m, "test_string") {
                    if m.get("new_ssl_key").is_none_or(Value::is_string) {
                        let new_ssl_key = take_str(&mut m, "new_ssl_key");
                        return Reply::Challenge {
                            test_string,
                            new_ssl_key,
                            extra: m,
                        };
                    }
                    m.insert("test_string".into(), Value::String(test_string));
                }
                Reply::other(namespace, Value::Object(m))
            }
            other => Reply::other(namespace, other),
        }
    }

    fn other(namespace: &str, args: Value) -> Reply {
        if namespace.eq_ignore_ascii_case(ns::RPC) {
            Reply::RpcOther(Redacted(args))
        } else {
            Reply::Other(args)
        }
    }

    /// The `args` value.
    pub fn to_args(&self) -> Value {
        match self {
            Reply::Identify(p) => {
                let mut m = p.extra.clone();
                m.insert("hostname".into(), Value::String(p.hostname.clone()));
                m.insert(
                    "type".into(),
                    Value::String(p.peer_type.as_str().to_owned()),
                );
                Value::Object(m)
            }
            Reply::Token(t) => Value::Array(vec![
                Value::String(t.token.clone()),
                Value::Number(t.lifetime.clone()),
            ]),
            Reply::Challenge {
                test_string,
                new_ssl_key,
                extra,
            } => {
                let mut m = extra.clone();
                m.insert("test_string".into(), Value::String(test_string.clone()));
                put_str(&mut m, "new_ssl_key", new_ssl_key);
                Value::Object(m)
            }
            Reply::Subscription(s) => {
                let mut m = Object::new();
                if let Some((verb, name)) = s {
                    m.insert(verb.as_str().to_owned(), Value::String(name.clone()));
                }
                Value::Object(m)
            }
            Reply::Other(v) => v.clone(),
            Reply::RpcOther(v) => v.0.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

/// The error codes the server uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCode {
    /// `"400"` `Bad Request`.
    BadRequest,
    /// `"401"` `Unauthorized`.
    Unauthorized,
    /// `"403"` `Forbidden`.
    Forbidden,
    /// `"404"` `Not Found`.
    NotFound,
}

impl ErrorCode {
    /// The code as the server writes it (a string).
    pub fn code(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "400",
            ErrorCode::Unauthorized => "401",
            ErrorCode::Forbidden => "403",
            ErrorCode::NotFound => "404",
        }
    }

    /// The message text the server writes.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "Bad Request",
            ErrorCode::Unauthorized => "Unauthorized",
            ErrorCode::Forbidden => "Forbidden",
            ErrorCode::NotFound => "Not Found",
        }
    }
}

/// The `args` of an error reply.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ErrorBody {
    /// The server's shape: `{"code":"401","message":"Unauthorized"}`.
    Standard {
        /// The code, a string as on the wire.
        code: String,
        /// The message text.
        message: String,
        /// Other keys.
        extra: Object,
    },
    /// Anything else, such as the bridge's `"unauthorized"` string.
    Other(Value),
}

impl ErrorBody {
    /// Types error `args`.
    pub fn from_args(args: Value) -> ErrorBody {
        match args {
            Value::Object(mut m)
                if matches!(m.get("code"), Some(Value::String(_)))
                    && matches!(m.get("message"), Some(Value::String(_))) =>
            {
                let code = take_str(&mut m, "code").unwrap_or_default();
                let message = take_str(&mut m, "message").unwrap_or_default();
                ErrorBody::Standard {
                    code,
                    message,
                    extra: m,
                }
            }
            other => ErrorBody::Other(other),
        }
    }

    /// The numeric code, when it is a decimal string.
    pub fn code(&self) -> Option<u16> {
        match self {
            ErrorBody::Standard { code, .. } => code.parse().ok(),
            ErrorBody::Other(_) => None,
        }
    }

    /// A one-line description.
    pub fn describe(&self) -> String {
        match self {
            ErrorBody::Standard { code, message, .. } => format!("{code} {message}"),
            ErrorBody::Other(v) => crate::json::snippet(v),
        }
    }

    /// The `args` value.
    pub fn to_args(&self) -> Value {
        match self {
            ErrorBody::Standard {
                code,
                message,
                extra,
            } => {
                let mut m = extra.clone();
                m.insert("code".into(), Value::String(code.clone()));
                m.insert("message".into(), Value::String(message.clone()));
                Value::Object(m)
            }
            ErrorBody::Other(v) => v.clone(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Events

/// A typed event payload.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum EventBody {
    /// `dispatcher`.
    Dispatcher(Dispatcher),
    /// `life-preserver`.
    LifePreserver(LifePreserver),
    /// `system-state`.
    SystemState(SystemState),
    /// `bridge`.
    Bridge(BridgeAnnouncement),
    /// Any other event name (or a known name whose `args` is not an object), kept as is.
    Unknown {
        /// The event name.
        name: String,
        /// The `args`.
        args: Value,
    },
}

impl EventBody {
    /// The event name.
    pub fn name(&self) -> &str {
        match self {
            EventBody::Dispatcher(_) => names::DISPATCHER,
            EventBody::LifePreserver(_) => names::LIFE_PRESERVER,
            EventBody::SystemState(_) => names::SYSTEM_STATE,
            EventBody::Bridge(_) => names::BRIDGE,
            EventBody::Unknown { name, .. } => name,
        }
    }

    /// Types the `args` of event `name`.
    pub fn from_args(name: &str, args: Value) -> EventBody {
        let Value::Object(m) = args else {
            return EventBody::Unknown {
                name: name.to_owned(),
                args,
            };
        };
        match name {
            names::DISPATCHER => EventBody::Dispatcher(Dispatcher::from_object(m)),
            names::LIFE_PRESERVER => EventBody::LifePreserver(LifePreserver::from_object(m)),
            names::SYSTEM_STATE => EventBody::SystemState(SystemState::from_object(m)),
            names::BRIDGE => EventBody::Bridge(BridgeAnnouncement::from_object(m)),
            _ => EventBody::Unknown {
                name: name.to_owned(),
                args: Value::Object(m),
            },
        }
    }

    /// The `args` value.
    pub fn to_args(&self) -> Value {
        match self {
            EventBody::Dispatcher(d) => Value::Object(d.to_object()),
            EventBody::LifePreserver(l) => Value::Object(l.to_object()),
            EventBody::SystemState(s) => Value::Object(s.to_object()),
            EventBody::Bridge(b) => Value::Object(b.to_object()),
            EventBody::Unknown { args, .. } => args.clone(),
        }
    }
}

/// A SysAdm priority string, `"<n> - <Level>"` (`"1 - Information"`, `"9 - Urgent"`).
///
/// The raw text is kept; [`level`](Priority::level) and [`text`](Priority::text) parse it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Priority(pub String);

impl Priority {
    /// The priority of level `n` with SysAdm's text (`0-2 Information`, `3-5 Warning`,
    /// `6-8 Critical`, `9-10 Urgent`).
    pub fn from_level(n: u8) -> Priority {
        Priority(format!("{n} - {}", Priority::level_text(n)))
    }

    /// SysAdm's text for level `n`.
    pub fn level_text(n: u8) -> &'static str {
        match n {
            0..=2 => "Information",
            3..=5 => "Warning",
            6..=8 => "Critical",
            _ => "Urgent",
        }
    }

    /// The number before ` - `, if it is one.
    pub fn level(&self) -> Option<u8> {
        let (n, _) = self.0.split_once(" - ")?;
        n.trim().parse().ok()
    }

    /// The text after ` - ` (or the whole string when there is no ` - `).
    pub fn text(&self) -> &str {
        match self.0.split_once(" - ") {
            Some((_, t)) => t,
            None => &self.0,
        }
    }
}

/// A dispatcher job state.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum JobState {
    /// Queued.
    Pending,
    /// Running.
    Running,
    /// Done.
    Finished,
    /// Anything else, as written.
    Other(String),
}

impl JobState {
    /// The state as written.
    pub fn as_str(&self) -> &str {
        match self {
            JobState::Pending => "pending",
            JobState::Running => "running",
            JobState::Finished => "finished",
            JobState::Other(s) => s,
        }
    }

    /// Parses the wire text.
    pub fn from_text(s: String) -> JobState {
        match s.as_str() {
            "pending" => JobState::Pending,
            "running" => JobState::Running,
            "finished" => JobState::Finished,
            _ => JobState::Other(s),
        }
    }
}

/// A `dispatcher` event: a plain job's log (or start notice), or a class event.
#[derive(Clone, Debug, PartialEq)]
pub enum Dispatcher {
    /// A plain job: `{process_id, state:"running"}` at start, the raw log object at the end.
    Job(ProcessLog),
    /// A class event (`args` has `event_system`): state, `process_details`, extras.
    Class(ClassEvent),
}

impl Dispatcher {
    fn from_object(m: Object) -> Dispatcher {
        if matches!(m.get("event_system"), Some(Value::String(_))) {
            Dispatcher::Class(ClassEvent::from_object(m))
        } else {
            Dispatcher::Job(ProcessLog::from_object(m))
        }
    }

    fn to_object(&self) -> Object {
        match self {
            Dispatcher::Job(l) => l.to_object(),
            Dispatcher::Class(c) => c.to_object(),
        }
    }

    /// The job's log: the job itself, or a class event's `process_details`.
    pub fn log(&self) -> Option<&ProcessLog> {
        match self {
            Dispatcher::Job(l) => Some(l),
            Dispatcher::Class(c) => c.process_details.as_ref(),
        }
    }

    /// The job state (a class event's own `state`, else the log's).
    pub fn state(&self) -> Option<&JobState> {
        match self {
            Dispatcher::Job(l) => l.state.as_ref(),
            Dispatcher::Class(c) => c
                .state
                .as_ref()
                .or_else(|| c.process_details.as_ref()?.state.as_ref()),
        }
    }
}

/// A dispatcher job's log object: an open string map with known keys typed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProcessLog {
    /// `process_id`: the job id.
    pub process_id: Option<String>,
    /// `state`.
    pub state: Option<JobState>,
    /// `cmd_list`.
    pub cmd_list: Option<Vec<String>>,
    /// `current_cmd` (while running).
    pub current_cmd: Option<String>,
    /// `time_started` (local time, no zone).
    pub time_started: Option<String>,
    /// `time_finished`.
    pub time_finished: Option<String>,
    /// `<command>` → output, for keys naming a command of `cmd_list` (in `cmd_list` order).
    pub outputs: Vec<(String, String)>,
    /// `return_codes/<command>` → exit code text (`"0"`, `"-1"`), command without the prefix.
    pub return_codes: Vec<(String, String)>,
    /// Every other key (including the empty key of pending re-announcements).
    pub extra: Object,
}

pub(crate) const RC_PREFIX: &str = "return_codes/";

impl ProcessLog {
    /// Types a log object.
    pub fn from_object(mut m: Object) -> ProcessLog {
        let process_id = take_str(&mut m, "process_id");
        let state = take_str(&mut m, "state").map(JobState::from_text);
        let cmd_list = take_str_list(&mut m, "cmd_list");
        let current_cmd = take_str(&mut m, "current_cmd");
        let time_started = take_str(&mut m, "time_started");
        let time_finished = take_str(&mut m, "time_finished");
        let mut outputs = Vec::new();
        if let Some(cmds) = &cmd_list {
            for cmd in cmds {
                if outputs.iter().any(|(c, _)| c == cmd) {
                    continue;
                }
                if let Some(out) = take_str(&mut m, cmd) {
                    outputs.push((cmd.clone(), out));
                }
            }
        }
        let mut return_codes = Vec::new();
        let rc_keys: Vec<String> = m
            .iter()
            .filter(|(k, v)| k.starts_with(RC_PREFIX) && v.is_string())
            .map(|(k, _)| k.clone())
            .collect();
        for key in rc_keys {
            if let Some(code) = take_str(&mut m, &key) {
                let cmd = key.get(RC_PREFIX.len()..).unwrap_or_default().to_owned();
                return_codes.push((cmd, code));
            }
        }
        ProcessLog {
            process_id,
            state,
            cmd_list,
            current_cmd,
            time_started,
            time_finished,
            outputs,
            return_codes,
            extra: m,
        }
    }

    /// The log object.
    pub fn to_object(&self) -> Object {
        let mut m = self.extra.clone();
        put_str(&mut m, "process_id", &self.process_id);
        if let Some(s) = &self.state {
            m.insert("state".into(), Value::String(s.as_str().to_owned()));
        }
        if let Some(c) = &self.cmd_list {
            m.insert("cmd_list".into(), str_list(c));
        }
        put_str(&mut m, "current_cmd", &self.current_cmd);
        put_str(&mut m, "time_started", &self.time_started);
        put_str(&mut m, "time_finished", &self.time_finished);
        for (cmd, out) in &self.outputs {
            m.insert(cmd.clone(), Value::String(out.clone()));
        }
        for (cmd, code) in &self.return_codes {
            m.insert(format!("{RC_PREFIX}{cmd}"), Value::String(code.clone()));
        }
        m
    }

    /// The exit code of `cmd`, parsed.
    pub fn return_code(&self, cmd: &str) -> Option<i64> {
        self.return_codes
            .iter()
            .find(|(c, _)| c == cmd)
            .and_then(|(_, code)| code.trim().parse().ok())
    }

    /// The output of `cmd`.
    pub fn output(&self, cmd: &str) -> Option<&str> {
        self.outputs
            .iter()
            .find(|(c, _)| c == cmd)
            .map(|(_, o)| o.as_str())
    }

    /// Whether any command failed (a non-`0` return code).
    pub fn failed(&self) -> bool {
        self.return_codes.iter().any(|(_, c)| c.trim() != "0")
    }
}

/// A dispatcher class event (`sysadm/pkg`, `sysadm/update`, `sysadm/sourcectl`, `sysadm/iohyve`).
#[derive(Clone, Debug, PartialEq)]
pub struct ClassEvent {
    /// `event_system`.
    pub event_system: String,
    /// `state`.
    pub state: Option<JobState>,
    /// `process_details`: the job's log object.
    pub process_details: Option<ProcessLog>,
    /// The extras (`action`, `pkg_log`, `update_log`, `updates_available`, `vulnerable_pkgs`,
    /// `filename`, `percent_done`, …) and any unknown key.
    pub extras: Object,
}

impl ClassEvent {
    fn from_object(mut m: Object) -> ClassEvent {
        let event_system = take_str(&mut m, "event_system").unwrap_or_default();
        let state = take_str(&mut m, "state").map(JobState::from_text);
        let process_details = take_obj(&mut m, "process_details").map(ProcessLog::from_object);
        ClassEvent {
            event_system,
            state,
            process_details,
            extras: m,
        }
    }

    fn to_object(&self) -> Object {
        let mut m = self.extras.clone();
        m.insert(
            "event_system".into(),
            Value::String(self.event_system.clone()),
        );
        if let Some(s) = &self.state {
            m.insert("state".into(), Value::String(s.as_str().to_owned()));
        }
        if let Some(p) = &self.process_details {
            m.insert("process_details".into(), Value::Object(p.to_object()));
        }
        m
    }

    /// A string extra.
    pub fn extra_str(&self, key: &str) -> Option<&str> {
        self.extras.get(key).and_then(Value::as_str)
    }

    /// `action` (`pkg_install`, …).
    pub fn action(&self) -> Option<&str> {
        self.extra_str("action")
    }

    /// The class log extra (`pkg_log` or `update_log`).
    pub fn class_log(&self) -> Option<&str> {
        self.extra_str("pkg_log")
            .or_else(|| self.extra_str("update_log"))
    }

    /// `updates_available` (`"true"`/`"false"`), parsed.
    pub fn updates_available(&self) -> Option<bool> {
        match self.extra_str("updates_available")? {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }
}

/// The life-preserver class.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum LpClass {
    /// A snapshot was created.
    Snapshot,
    /// Replication progress, start, end or failure.
    Replication,
    /// Anything else, as written.
    Other(String),
}

impl LpClass {
    /// The class as written.
    pub fn as_str(&self) -> &str {
        match self {
            LpClass::Snapshot => "snapshot",
            LpClass::Replication => "replication",
            LpClass::Other(s) => s,
        }
    }

    pub(crate) fn from_text(s: String) -> LpClass {
        match s.as_str() {
            "snapshot" => LpClass::Snapshot,
            "replication" => LpClass::Replication,
            _ => LpClass::Other(s),
        }
    }
}

/// A `life-preserver` event.
#[derive(Clone, Debug, PartialEq)]
pub struct LifePreserver {
    /// `class`.
    pub class: Option<LpClass>,
    /// `message`.
    pub message: Option<String>,
    /// `priority`.
    pub priority: Option<Priority>,
    /// Other keys.
    pub extra: Object,
}

impl LifePreserver {
    fn from_object(mut m: Object) -> LifePreserver {
        LifePreserver {
            class: take_str(&mut m, "class").map(LpClass::from_text),
            message: take_str(&mut m, "message"),
            priority: take_str(&mut m, "priority").map(Priority),
            extra: m,
        }
    }

    fn to_object(&self) -> Object {
        let mut m = self.extra.clone();
        if let Some(c) = &self.class {
            m.insert("class".into(), Value::String(c.as_str().to_owned()));
        }
        put_str(&mut m, "message", &self.message);
        if let Some(p) = &self.priority {
            m.insert("priority".into(), Value::String(p.0.clone()));
        }
        m
    }
}

/// One pool of `system-state` `zpools`: raw `zpool list` strings.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Zpool {
    /// `alloc` (`"13.1G"`).
    pub alloc: Option<String>,
    /// `altroot` (`"-"`).
    pub altroot: Option<String>,
    /// `capacity` (`"12%"`).
    pub capacity: Option<String>,
    /// `dedup` (`"1.00x"`).
    pub dedup: Option<String>,
    /// `expandsz` (`"-"`).
    pub expandsz: Option<String>,
    /// `frag` (`"6%"`).
    pub frag: Option<String>,
    /// `free` (`"93.9G"`).
    pub free: Option<String>,
    /// `health` (`"ONLINE"`, `"DEGRADED"`, …).
    pub health: Option<String>,
    /// `size` (`"107G"`).
    pub size: Option<String>,
    /// Other keys.
    pub extra: Object,
}

const ZPOOL_KEYS: [&str; 9] = [
    "alloc", "altroot", "capacity", "dedup", "expandsz", "frag", "free", "health", "size",
];

impl Zpool {
    fn fields_mut(&mut self) -> [&mut Option<String>; 9] {
        [
            &mut self.alloc,
            &mut self.altroot,
            &mut self.capacity,
            &mut self.dedup,
            &mut self.expandsz,
            &mut self.frag,
            &mut self.free,
            &mut self.health,
            &mut self.size,
        ]
    }

    fn fields(&self) -> [&Option<String>; 9] {
        [
            &self.alloc,
            &self.altroot,
            &self.capacity,
            &self.dedup,
            &self.expandsz,
            &self.frag,
            &self.free,
            &self.health,
            &self.size,
        ]
    }

    fn from_object(mut m: Object) -> Zpool {
        let mut z = Zpool::default();
        for (slot, key) in z.fields_mut().into_iter().zip(ZPOOL_KEYS) {
            *slot = take_str(&mut m, key);
        }
        z.extra = m;
        z
    }

    fn to_object(&self) -> Object {
        let mut m = self.extra.clone();
        for (slot, key) in self.fields().into_iter().zip(ZPOOL_KEYS) {
            put_str(&mut m, key, slot);
        }
        m
    }

    /// `capacity` as a percentage.
    pub fn capacity_percent(&self) -> Option<u8> {
        self.capacity.as_deref()?.trim_end_matches('%').parse().ok()
    }
}

/// A `system-state` event.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SystemState {
    /// `hostname`.
    pub hostname: Option<String>,
    /// `hostnamechanged` (`"true"` when present).
    pub hostname_changed: Option<String>,
    /// `zpools`: pool name → pool, in key order. `None` when absent.
    pub zpools: Option<Vec<(String, Zpool)>>,
    /// `updates` (shape varies with the updater), kept as an object.
    pub updates: Option<Object>,
    /// Overall `priority`.
    pub priority: Option<Priority>,
    /// Other keys.
    pub extra: Object,
}

impl SystemState {
    fn from_object(mut m: Object) -> SystemState {
        let hostname = take_str(&mut m, "hostname");
        let hostname_changed = take_str(&mut m, "hostnamechanged");
        let priority = take_str(&mut m, "priority").map(Priority);
        let updates = take_obj(&mut m, "updates");
        let zpools = match m.get("zpools") {
            Some(Value::Object(pools)) if pools.values().all(Value::is_object) => {
                take_obj(&mut m, "zpools").map(|pools| {
                    pools
                        .into_iter()
                        .filter_map(|(name, v)| match v {
                            Value::Object(p) => Some((name, Zpool::from_object(p))),
                            _ => None,
                        })
                        .collect()
                })
            }
            _ => None,
        };
        SystemState {
            hostname,
            hostname_changed,
            zpools,
            updates,
            priority,
            extra: m,
        }
    }

    fn to_object(&self) -> Object {
        let mut m = self.extra.clone();
        put_str(&mut m, "hostname", &self.hostname);
        put_str(&mut m, "hostnamechanged", &self.hostname_changed);
        if let Some(pools) = &self.zpools {
            let mut pm = Object::new();
            for (name, pool) in pools {
                pm.insert(name.clone(), Value::Object(pool.to_object()));
            }
            m.insert("zpools".into(), Value::Object(pm));
        }
        if let Some(u) = &self.updates {
            m.insert("updates".into(), Value::Object(u.clone()));
        }
        if let Some(p) = &self.priority {
            m.insert("priority".into(), Value::String(p.0.clone()));
        }
        m
    }

    /// `updates.status`, if any.
    pub fn update_status(&self) -> Option<&str> {
        self.updates.as_ref()?.get("status")?.as_str()
    }
}

/// The bridge's `bridge` event.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BridgeAnnouncement {
    /// `available_connections`: the complete set of reachable peer ids (`::{uuid}`).
    pub available_connections: Option<Vec<String>>,
    /// Other keys.
    pub extra: Object,
}

impl BridgeAnnouncement {
    fn from_object(mut m: Object) -> BridgeAnnouncement {
        BridgeAnnouncement {
            available_connections: take_str_list(&mut m, "available_connections"),
            extra: m,
        }
    }

    fn to_object(&self) -> Object {
        let mut m = self.extra.clone();
        if let Some(c) = &self.available_connections {
            m.insert("available_connections".into(), str_list(c));
        }
        m
    }
}

impl fmt::Display for EventBody {
    /// One short line (the event's summary).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&crate::event::event_summary(self))
    }
}

impl fmt::Display for ErrorBody {
    /// `401 Unauthorized`, or a short rendering of a non-standard error.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

impl fmt::Display for Targets {
    /// The names, comma-separated.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.names().join(", "))
    }
}

impl fmt::Display for Request {
    /// What kind of request it is; never its secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Request::Identify(_) => f.write_str("identify"),
            Request::Auth(c) => write!(f, "auth as {} (password redacted)", c.username),
            Request::AuthToken { .. } => f.write_str("auth_token (token redacted)"),
            Request::AuthSsl(AuthSsl::Challenge | AuthSsl::ChallengeForKey { .. }) => {
                f.write_str("auth_ssl challenge request")
            }
            Request::AuthSsl(AuthSsl::Response { .. }) => {
                f.write_str("auth_ssl response (signature redacted)")
            }
            Request::AuthClear(_) => f.write_str("auth_clear"),
            Request::Query(_) => f.write_str("query"),
            Request::Subscribe(t) => write!(f, "subscribe {t}"),
            Request::Unsubscribe(t) => write!(f, "unsubscribe {t}"),
            Request::Settings(s) => match s.action() {
                Some(action) => write!(f, "settings {action} (arguments redacted)"),
                None => f.write_str("settings (arguments redacted)"),
            },
            Request::AuthOther(_) => f.write_str("authentication request (redacted)"),
            Request::Other(_) => f.write_str("request"),
        }
    }
}

impl fmt::Display for Reply {
    /// What kind of reply it is; never a token.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Identify(p) => write!(f, "identify: {} {}", p.peer_type.as_str(), p.hostname),
            Reply::Token(_) => f.write_str("token (redacted)"),
            Reply::Challenge { .. } => f.write_str("auth_ssl challenge"),
            Reply::Subscription(Some((verb, name))) => write!(f, "{} {name}", verb.as_str()),
            Reply::Subscription(None) => f.write_str("subscription: no known event name"),
            Reply::RpcOther(_) => f.write_str("rpc reply (redacted)"),
            Reply::Other(_) => f.write_str("reply"),
        }
    }
}
