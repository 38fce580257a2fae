//! The Hub → GUI status messages as typed values.
//!
//! [`StatusMessage::from_frame`] types a frame when it has exactly the shape the Hub sends (the
//! key order of `hub_report_status.c`); anything else (an unknown name, an extra or reordered
//! key, a value of another type) stays [`StatusMessage::Other`]. Either way
//! [`StatusMessage::to_frame`] gives back the identical frame, so typing is lossless.
//!
//! Wire facts that differ from the GC 4.0 documentation (the wire wins): `:provider_id` is a
//! string (`"[0]"`), `token_status :tidx` is an int, `session_status :session_id` appears for
//! every action, and `session_alarm_status :session_id` carries the alarm key (a Hub bug).

use std::fmt;

use crate::message::{Frame, MsgType, Object, lossy};

macro_rules! action {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $c:literal),* $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vm])* $v,)*
            /// A value this version does not know.
            Other(i32),
        }
        impl $name {
            /// The wire value.
            pub const fn code(self) -> i32 {
                match self { $($name::$v => $c,)* $name::Other(c) => c }
            }
            /// The action of a wire value.
            pub const fn from_code(c: i32) -> $name {
                match c { $($c => $name::$v,)* c => $name::Other(c) }
            }
        }
    };
}

action!(
    /// `session_status :action`.
    SessionAction { /** 0 `GAL_HUB_SESSION_SETTINGS`. */ Settings = 0, /** 1 `GAL_HUB_SESSION_CREATED`. */ Created = 1, /** 2 `GAL_HUB_SESSION_DESTROYED`. */ Destroyed = 2, /** 3 `GAL_HUB_SESSION_HISTORY`. */ History = 3 }
);
action!(
    /// `session_lock_status :action`.
    LockAction { /** 0 `GAL_HUB_SESSION_LOCK_STATUS`. */ Status = 0, /** 1 `GAL_HUB_SESSION_LOCK_SET`. */ Set = 1, /** 2 `GAL_HUB_SESSION_LOCK_RELEASED`. */ Released = 2 }
);
action!(
    /// `session_alarm_status :action`.
    AlarmAction { /** 0 `GAL_HUB_SESSION_ALARM_STATUS`. */ Status = 0, /** 1 `GAL_HUB_SESSION_ALARM_ENABLED`. */ Enabled = 1, /** 2 `GAL_HUB_SESSION_ALARM_DISABLED`. */ Disabled = 2, /** 3 `GAL_HUB_SESSION_ALARM_RESET`. */ Reset = 3, /** 4 `GAL_HUB_SESSION_ALARM_EXPIRED`. */ Expired = 4 }
);
action!(
    /// `token_status :action`.
    TokenAction { /** 0 `GAL_HUB_TOKEN_STATUS`. */ Status = 0, /** 1 `GAL_HUB_TOKEN_CREATED`. */ Created = 1, /** 2 `GAL_HUB_TOKEN_DESTROYED`. */ Destroyed = 2 }
);
action!(
    /// `listener_status :action`.
    ListenerAction { /** 0 `GAL_HUB_LISTENER_INITIALIZED`. */ Initialized = 0, /** 1 `GAL_HUB_LISTENER_INITIALIZATION_ERROR`. */ InitializationError = 1 }
);
action!(
    /// `message_queue_status :action`.
    QueueAction { /** 0 `GAL_HUB_MESSAGE_QUEUE_CONTENTS`. */ Contents = 0 }
);

/// `:lock_type` flag: the server reads only from the session.
pub const SERVER_READS_ONLY_FROM_SESSION: i32 = 1;
/// `:lock_type` flag: the session writes only to the server.
pub const SESSION_WRITES_ONLY_TO_SERVER: i32 = 2;
/// `:lock_type` flag: the server writes only to the session.
pub const SERVER_WRITES_ONLY_TO_SESSION: i32 = 4;
/// `:lock_type` flag: the lock is permanent.
pub const PERMANENT_LOCK: i32 = 8;

/// One provider in `provider_status :provider_list`: a first announcement (the provider's
/// properties frame, named by its id, with `:init 1`) or an update (`{c provider :provider_id
/// "[0]" :connected 0 }`). Kept as its frame.
#[derive(Clone, Debug, PartialEq)]
pub struct Provider(pub Frame);

impl Provider {
    /// `:provider_id` (a string such as `"[0]"`).
    pub fn provider_id(&self) -> Option<&[u8]> {
        self.0.get_string(":provider_id")
    }
    /// `:connected` as a boolean.
    pub fn connected(&self) -> Option<bool> {
        self.0.get_int(":connected").map(|v| v != 0)
    }
    /// Whether this is a first announcement (`:init 1`).
    pub fn init(&self) -> bool {
        self.0.get_int(":init").is_some_and(|v| v != 0)
    }
    /// `:screen_name`.
    pub fn screen_name(&self) -> Option<&[u8]> {
        self.0.get_string(":screen_name")
    }
}

/// A `( "label" {frame} )` pair of `add_menu_items`.
#[derive(Clone, Debug, PartialEq)]
pub struct MenuItem {
    /// The label.
    pub label: Vec<u8>,
    /// The frame to send as a new message when the item is picked.
    pub frame: Frame,
}

/// A `( "<provider_id>" "<session_id>" )` pair of `session_lock_status`.
pub type LockPair = (Vec<u8>, Vec<u8>);

/// A Hub → GUI message, typed.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum StatusMessage {
    /// `provider_status`.
    ProviderStatus {
        /// `:provider_list`.
        providers: Vec<Provider>,
    },
    /// `add_menu_items` (from a Hub program's `hub_gui_notify`).
    AddMenuItems {
        /// `:menu_items`.
        items: Vec<MenuItem>,
    },
    /// `new_service_type`.
    NewServiceType {
        /// `:name`.
        name: Vec<u8>,
        /// `:port`, the Hub listener's port.
        port: i32,
    },
    /// `message_event`: a message passed between the Hub and a provider.
    MessageEvent {
        /// `:provider_id` (a string on the wire; the docs say int).
        provider_id: Vec<u8>,
        /// `:msg`, the whole message frame.
        msg: Frame,
        /// `:msg_type` (a [`MsgType`] code).
        msg_type: i32,
        /// `:destination`: `"server"` (Hub → server) or `"hub"`.
        destination: Vec<u8>,
    },
    /// `session_status`.
    SessionStatus {
        /// `:action`.
        action: SessionAction,
        /// `:debug 1`: an answer to a debug command.
        debug: bool,
        /// `:session_id`.
        session_id: Option<Vec<u8>>,
        /// `:settings` (action 0), named by the session id.
        settings: Option<Frame>,
        /// `:history` (action 3).
        history: Option<Object>,
    },
    /// `session_lock_status` (`:debug` comes first on the wire).
    SessionLockStatus {
        /// `:debug 1`.
        debug: bool,
        /// `:action`.
        action: LockAction,
        /// `:providers_sessions`.
        providers_sessions: Option<Vec<LockPair>>,
        /// `:providers_sessions_readers`.
        readers: Option<Vec<LockPair>>,
        /// `:providers_sessions_writers`.
        writers: Option<Vec<LockPair>>,
        /// `:lock_type` (actions 1 and 2), a set of flags.
        lock_type: Option<i32>,
        /// `:session_id` (actions 1 and 2).
        session_id: Option<Vec<u8>>,
    },
    /// `session_alarm_status` (verbosity ≥ 4).
    SessionAlarmStatus {
        /// `:action`.
        action: AlarmAction,
        /// `:alarm_key`.
        alarm_key: Vec<u8>,
        /// `:session_id` (the Hub puts the alarm key here).
        session_id: Option<Vec<u8>>,
        /// `:expiration_secs`.
        expiration_secs: Option<i32>,
        /// `:remaining_secs`.
        remaining_secs: Option<i32>,
    },
    /// `token_status`.
    TokenStatus {
        /// `:action`.
        action: TokenAction,
        /// `:debug 1`.
        debug: bool,
        /// `:state` (action 0).
        state: Option<Frame>,
        /// `:tidx` (actions 1, 2; an int on the wire, the docs say string).
        tidx: Option<i32>,
    },
    /// `listener_status`.
    ListenerStatus {
        /// `:action`.
        action: ListenerAction,
        /// `:port` (when > 0).
        port: Option<i32>,
        /// `:reused` (0 or 1, with `:port`).
        reused: Option<i32>,
    },
    /// `message_queue_status`.
    MessageQueueStatus {
        /// `:action`.
        action: QueueAction,
        /// `:queue`, the queued token ids (an INT_32 array).
        queue: Vec<i32>,
    },
    /// `hub_debug_prompt`: the Hub blocks until it is answered.
    HubDebugPrompt {
        /// The `:hub_opaque_data` admin frame (`:reply_requested 1 :server_tidx N`).
        admin: Frame,
    },
    /// `hub_debug_info`.
    HubDebugInfo {
        /// `:type` (`"global_settings"`, `"current_message"`, `"server_settings"`).
        info_type: Option<Vec<u8>>,
        /// `:frame`.
        frame: Option<Frame>,
        /// `:msg`.
        msg: Option<Vec<u8>>,
        /// `:hub_opaque_data`, an empty admin frame.
        admin: Option<Frame>,
    },
    /// Any other frame (unknown names, `hub_gui_notify` frames, unusual shapes), kept whole.
    Other(Frame),
}

fn int(f: &Frame, k: &str) -> Option<i32> {
    f.get_int(k)
}
fn string(f: &Frame, k: &str) -> Option<Vec<u8>> {
    f.get_string(k).map(<[u8]>::to_vec)
}
fn frame(f: &Frame, k: &str) -> Option<Frame> {
    f.get_frame(k).cloned()
}
fn flag(f: &Frame, k: &str) -> bool {
    f.get_int(k) == Some(1)
}
fn pairs(f: &Frame, k: &str) -> Option<Vec<LockPair>> {
    let list = f.get_list(k)?;
    let mut out = Vec::with_capacity(list.len());
    for item in list {
        match item {
            Object::List(p) => match &**p {
                [Object::String(a), Object::String(b)] => out.push((a.to_vec(), b.to_vec())),
                _ => return None,
            },
            _ => return None,
        }
    }
    Some(out)
}
fn pairs_obj(v: &[LockPair]) -> Object {
    Object::List(
        v.iter()
            .map(|(a, b)| Object::from(vec![Object::from(&a[..]), Object::from(&b[..])]))
            .collect(),
    )
}
fn opt<T>(f: &mut Frame, k: &str, v: Option<T>, conv: impl FnOnce(T) -> Object) {
    if let Some(v) = v {
        f.set(k, conv(v));
    }
}

/// Up to seven keys, the rest `None`.
fn kk(keys: &[&'static str]) -> [Option<&'static str>; 7] {
    let mut k = [None; 7];
    for (slot, key) in k.iter_mut().zip(keys) {
        *slot = Some(*key);
    }
    k
}

impl StatusMessage {
    /// The frame's name (`provider_status`, …); for `Other`, the frame's own name.
    pub fn name(&self) -> &[u8] {
        match self {
            StatusMessage::ProviderStatus { .. } => b"provider_status",
            StatusMessage::AddMenuItems { .. } => b"add_menu_items",
            StatusMessage::NewServiceType { .. } => b"new_service_type",
            StatusMessage::MessageEvent { .. } => b"message_event",
            StatusMessage::SessionStatus { .. } => b"session_status",
            StatusMessage::SessionLockStatus { .. } => b"session_lock_status",
            StatusMessage::SessionAlarmStatus { .. } => b"session_alarm_status",
            StatusMessage::TokenStatus { .. } => b"token_status",
            StatusMessage::ListenerStatus { .. } => b"listener_status",
            StatusMessage::MessageQueueStatus { .. } => b"message_queue_status",
            StatusMessage::HubDebugPrompt { .. } => b"hub_debug_prompt",
            StatusMessage::HubDebugInfo { .. } => b"hub_debug_info",
            StatusMessage::Other(f) => f.name_bytes(),
        }
    }

    /// Types a frame; a frame that is not exactly one of the Hub's shapes is `Other`.
    pub fn from_frame(f: Frame) -> StatusMessage {
        match Self::typed_exact(&f) {
            Some(t) => t,
            None => StatusMessage::Other(f),
        }
    }

    /// The typed message when `f` is exactly one of the Hub's shapes (what
    /// [`to_frame`](Self::to_frame) gives back `f` for), without building that frame: the
    /// values come from `f` itself, so the property keys in order (and no predicates) decide.
    pub(crate) fn typed_exact(f: &Frame) -> Option<StatusMessage> {
        let t = Self::typed(f)?;
        let exact = f.preds().is_empty() && f.props().map(|(k, _)| k).eq(t.keys());
        debug_assert_eq!(exact, t.to_frame() == *f, "the shape check disagrees: {f}");
        exact.then_some(t)
    }

    /// The property keys [`to_frame`](Self::to_frame) writes, in its order (`Other` excluded).
    fn keys(&self) -> impl Iterator<Item = &'static [u8]> {
        let mut k: [Option<&'static str>; 7] = [None; 7];
        let some = |b: bool, key: &'static str| b.then_some(key);
        match self {
            StatusMessage::ProviderStatus { .. } => k[0] = Some(":provider_list"),
            StatusMessage::AddMenuItems { .. } => k[0] = Some(":menu_items"),
            StatusMessage::NewServiceType { .. } => k = kk(&[":name", ":port"]),
            StatusMessage::MessageEvent { .. } => {
                k = kk(&[":provider_id", ":msg", ":msg_type", ":destination"]);
            }
            StatusMessage::SessionStatus {
                debug,
                session_id,
                settings,
                history,
                ..
            } => {
                k = [
                    Some(":action"),
                    some(*debug, ":debug"),
                    some(session_id.is_some(), ":session_id"),
                    some(settings.is_some(), ":settings"),
                    some(history.is_some(), ":history"),
                    None,
                    None,
                ];
            }
            StatusMessage::SessionLockStatus {
                debug,
                providers_sessions,
                readers,
                writers,
                lock_type,
                session_id,
                ..
            } => {
                k = [
                    some(*debug, ":debug"),
                    Some(":action"),
                    some(providers_sessions.is_some(), ":providers_sessions"),
                    some(readers.is_some(), ":providers_sessions_readers"),
                    some(writers.is_some(), ":providers_sessions_writers"),
                    some(lock_type.is_some(), ":lock_type"),
                    some(session_id.is_some(), ":session_id"),
                ];
            }
            StatusMessage::SessionAlarmStatus {
                session_id,
                expiration_secs,
                remaining_secs,
                ..
            } => {
                k = [
                    Some(":action"),
                    Some(":alarm_key"),
                    some(session_id.is_some(), ":session_id"),
                    some(expiration_secs.is_some(), ":expiration_secs"),
                    some(remaining_secs.is_some(), ":remaining_secs"),
                    None,
                    None,
                ];
            }
            StatusMessage::TokenStatus {
                debug, state, tidx, ..
            } => {
                k = [
                    Some(":action"),
                    some(*debug, ":debug"),
                    some(state.is_some(), ":state"),
                    some(tidx.is_some(), ":tidx"),
                    None,
                    None,
                    None,
                ];
            }
            StatusMessage::ListenerStatus { port, reused, .. } => {
                k = [
                    Some(":action"),
                    some(port.is_some(), ":port"),
                    some(reused.is_some(), ":reused"),
                    None,
                    None,
                    None,
                    None,
                ];
            }
            StatusMessage::MessageQueueStatus { .. } => k = kk(&[":action", ":queue"]),
            StatusMessage::HubDebugPrompt { .. } => k[0] = Some(":hub_opaque_data"),
            StatusMessage::HubDebugInfo {
                info_type,
                frame,
                msg,
                admin,
            } => {
                k = [
                    some(info_type.is_some(), ":type"),
                    some(frame.is_some(), ":frame"),
                    some(msg.is_some(), ":msg"),
                    some(admin.is_some(), ":hub_opaque_data"),
                    None,
                    None,
                    None,
                ];
            }
            StatusMessage::Other(_) => {}
        }
        k.into_iter().flatten().map(str::as_bytes)
    }

    fn typed(f: &Frame) -> Option<StatusMessage> {
        if f.ftype != crate::message::FrameType::Clause {
            return None;
        }
        let name = f.name.as_deref()?;
        Some(match name {
            b"provider_status" => StatusMessage::ProviderStatus {
                providers: f
                    .get_list(":provider_list")?
                    .iter()
                    .map(|o| o.as_frame().cloned().map(Provider))
                    .collect::<Option<_>>()?,
            },
            b"add_menu_items" => StatusMessage::AddMenuItems {
                items: f
                    .get_list(":menu_items")?
                    .iter()
                    .map(|o| match o {
                        Object::List(p) => match &**p {
                            [Object::String(l), Object::Frame(fr)] => Some(MenuItem {
                                label: l.to_vec(),
                                frame: Frame::clone(fr),
                            }),
                            _ => None,
                        },
                        _ => None,
                    })
                    .collect::<Option<_>>()?,
            },
            b"new_service_type" => StatusMessage::NewServiceType {
                name: string(f, ":name")?,
                port: int(f, ":port")?,
            },
            b"message_event" => StatusMessage::MessageEvent {
                provider_id: string(f, ":provider_id")?,
                msg: frame(f, ":msg")?,
                msg_type: int(f, ":msg_type")?,
                destination: string(f, ":destination")?,
            },
            b"session_status" => StatusMessage::SessionStatus {
                action: SessionAction::from_code(int(f, ":action")?),
                debug: flag(f, ":debug"),
                session_id: string(f, ":session_id"),
                settings: frame(f, ":settings"),
                history: f.get(":history").cloned(),
            },
            b"session_lock_status" => StatusMessage::SessionLockStatus {
                debug: flag(f, ":debug"),
                action: LockAction::from_code(int(f, ":action")?),
                providers_sessions: pairs(f, ":providers_sessions"),
                readers: pairs(f, ":providers_sessions_readers"),
                writers: pairs(f, ":providers_sessions_writers"),
                lock_type: int(f, ":lock_type"),
                session_id: string(f, ":session_id"),
            },
            b"session_alarm_status" => StatusMessage::SessionAlarmStatus {
                action: AlarmAction::from_code(int(f, ":action")?),
                alarm_key: string(f, ":alarm_key")?,
                session_id: string(f, ":session_id"),
                expiration_secs: int(f, ":expiration_secs"),
                remaining_secs: int(f, ":remaining_secs"),
            },
            b"token_status" => StatusMessage::TokenStatus {
                action: TokenAction::from_code(int(f, ":action")?),
                debug: flag(f, ":debug"),
                state: frame(f, ":state"),
                tidx: int(f, ":tidx"),
            },
            b"listener_status" => StatusMessage::ListenerStatus {
                action: ListenerAction::from_code(int(f, ":action")?),
                port: int(f, ":port"),
                reused: int(f, ":reused"),
            },
            b"message_queue_status" => StatusMessage::MessageQueueStatus {
                action: QueueAction::from_code(int(f, ":action")?),
                queue: match f.get(":queue")? {
                    Object::Int32(v) => v.to_vec(),
                    _ => return None,
                },
            },
            b"hub_debug_prompt" => StatusMessage::HubDebugPrompt {
                admin: frame(f, ":hub_opaque_data")?,
            },
            b"hub_debug_info" => StatusMessage::HubDebugInfo {
                info_type: string(f, ":type"),
                frame: frame(f, ":frame"),
                msg: string(f, ":msg"),
                admin: frame(f, ":hub_opaque_data"),
            },
            _ => return None,
        })
    }

    /// The frame the Hub sends for this message, keys in the Hub's order.
    pub fn to_frame(&self) -> Frame {
        let mut f = Frame::clause(self.name().to_vec());
        match self {
            StatusMessage::ProviderStatus { providers } => f.set(
                ":provider_list",
                Object::List(
                    providers
                        .iter()
                        .map(|p| Object::from(p.0.clone()))
                        .collect(),
                ),
            ),
            StatusMessage::AddMenuItems { items } => f.set(
                ":menu_items",
                Object::List(
                    items
                        .iter()
                        .map(|i| {
                            Object::from(vec![
                                Object::from(&i.label[..]),
                                Object::from(i.frame.clone()),
                            ])
                        })
                        .collect(),
                ),
            ),
            StatusMessage::NewServiceType { name, port } => {
                f.set(":name", Object::from(&name[..]));
                f.set(":port", *port);
            }
            StatusMessage::MessageEvent {
                provider_id,
                msg,
                msg_type,
                destination,
            } => {
                f.set(":provider_id", Object::from(&provider_id[..]));
                f.set(":msg", msg.clone());
                f.set(":msg_type", *msg_type);
                f.set(":destination", Object::from(&destination[..]));
            }
            StatusMessage::SessionStatus {
                action,
                debug,
                session_id,
                settings,
                history,
            } => {
                f.set(":action", action.code());
                if *debug {
                    f.set(":debug", 1);
                }
                opt(&mut f, ":session_id", session_id.as_deref(), Object::from);
                opt(&mut f, ":settings", settings.clone(), Object::from);
                opt(&mut f, ":history", history.clone(), |h| h);
            }
            StatusMessage::SessionLockStatus {
                debug,
                action,
                providers_sessions,
                readers,
                writers,
                lock_type,
                session_id,
            } => {
                if *debug {
                    f.set(":debug", 1);
                }
                f.set(":action", action.code());
                opt(
                    &mut f,
                    ":providers_sessions",
                    providers_sessions.as_deref(),
                    pairs_obj,
                );
                opt(
                    &mut f,
                    ":providers_sessions_readers",
                    readers.as_deref(),
                    pairs_obj,
                );
                opt(
                    &mut f,
                    ":providers_sessions_writers",
                    writers.as_deref(),
                    pairs_obj,
                );
                opt(&mut f, ":lock_type", *lock_type, Object::Int);
                opt(&mut f, ":session_id", session_id.as_deref(), Object::from);
            }
            StatusMessage::SessionAlarmStatus {
                action,
                alarm_key,
                session_id,
                expiration_secs,
                remaining_secs,
            } => {
                f.set(":action", action.code());
                f.set(":alarm_key", Object::from(&alarm_key[..]));
                opt(&mut f, ":session_id", session_id.as_deref(), Object::from);
                opt(&mut f, ":expiration_secs", *expiration_secs, Object::Int);
                opt(&mut f, ":remaining_secs", *remaining_secs, Object::Int);
            }
            StatusMessage::TokenStatus {
                action,
                debug,
                state,
                tidx,
            } => {
                f.set(":action", action.code());
                if *debug {
                    f.set(":debug", 1);
                }
                opt(&mut f, ":state", state.clone(), Object::from);
                opt(&mut f, ":tidx", *tidx, Object::Int);
            }
            StatusMessage::ListenerStatus {
                action,
                port,
                reused,
            } => {
                f.set(":action", action.code());
                opt(&mut f, ":port", *port, Object::Int);
                opt(&mut f, ":reused", *reused, Object::Int);
            }
            StatusMessage::MessageQueueStatus { action, queue } => {
                f.set(":action", action.code());
                f.set(":queue", Object::Int32(queue.as_slice().into()));
            }
            StatusMessage::HubDebugPrompt { admin } => f.set(":hub_opaque_data", admin.clone()),
            StatusMessage::HubDebugInfo {
                info_type,
                frame,
                msg,
                admin,
            } => {
                opt(&mut f, ":type", info_type.as_deref(), Object::from);
                opt(&mut f, ":frame", frame.clone(), Object::from);
                opt(&mut f, ":msg", msg.as_deref(), Object::from);
                opt(&mut f, ":hub_opaque_data", admin.clone(), Object::from);
            }
            StatusMessage::Other(frame) => return frame.clone(),
        }
        f
    }
}

/// One short line for people: "provider \[0\] connected", "session Default started",
/// "token 5 destroyed", a debug info's own text. [`Event::summary`](monwire_event::Event) is
/// this line.
impl fmt::Display for StatusMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = lossy;
        let opt = |v: &Option<Vec<u8>>| v.as_deref().map(lossy);
        let debug = |f: &mut fmt::Formatter<'_>, d: bool| {
            if d { f.write_str(" (debug)") } else { Ok(()) }
        };
        match self {
            StatusMessage::ProviderStatus { providers } => match providers.as_slice() {
                [p] => {
                    let id = p.provider_id().map(l).unwrap_or_else(|| "?".into());
                    write!(f, "provider {id}")?;
                    if let Some(name) = p.screen_name() {
                        write!(f, " ({})", l(name))?;
                    }
                    match (p.connected(), p.init()) {
                        (Some(true), _) => f.write_str(" connected"),
                        (Some(false), _) => f.write_str(" disconnected"),
                        (None, true) => f.write_str(" announced"),
                        (None, false) => f.write_str(" status"),
                    }
                }
                ps => write!(f, "{} providers", ps.len()),
            },
            StatusMessage::AddMenuItems { items } => match items.as_slice() {
                [one] => write!(f, "menu item {:?} added", l(&one.label)),
                items => write!(f, "{} menu items added", items.len()),
            },
            StatusMessage::NewServiceType { name, port } => {
                write!(f, "service type {} on port {port}", l(name))
            }
            StatusMessage::MessageEvent {
                provider_id,
                msg,
                msg_type,
                destination,
            } => {
                let t = MsgType::from_code(*msg_type)
                    .map(|t| t.name().to_ascii_lowercase())
                    .unwrap_or_else(|| format!("type {msg_type}"));
                let dir = if destination.as_slice() == b"hub" {
                    "from"
                } else {
                    "to"
                };
                write!(
                    f,
                    "{t} {} {dir} provider {}",
                    l(msg.name_bytes()),
                    l(provider_id)
                )
            }
            StatusMessage::SessionStatus {
                action,
                debug: d,
                session_id,
                ..
            } => {
                let id = opt(session_id).unwrap_or_else(|| "?".into());
                match action {
                    SessionAction::Created => write!(f, "session {id} started"),
                    SessionAction::Destroyed => write!(f, "session {id} ended"),
                    SessionAction::Settings => write!(f, "session {id} settings"),
                    SessionAction::History => write!(f, "session {id} history"),
                    SessionAction::Other(c) => write!(f, "session {id} action {c}"),
                }?;
                debug(f, *d)
            }
            StatusMessage::SessionLockStatus {
                debug: d,
                action,
                providers_sessions,
                lock_type,
                session_id,
                ..
            } => {
                let id = opt(session_id).unwrap_or_else(|| "?".into());
                match action {
                    LockAction::Status => write!(
                        f,
                        "{} session locks",
                        providers_sessions.as_ref().map_or(0, Vec::len)
                    ),
                    LockAction::Set => write!(f, "lock set on session {id}"),
                    LockAction::Released => write!(f, "lock released on session {id}"),
                    LockAction::Other(c) => write!(f, "session {id} lock action {c}"),
                }?;
                if let Some(t) = lock_type {
                    write!(f, " (type {t})")?;
                }
                debug(f, *d)
            }
            StatusMessage::SessionAlarmStatus {
                action,
                alarm_key,
                expiration_secs,
                remaining_secs,
                ..
            } => {
                let k = l(alarm_key);
                match action {
                    AlarmAction::Status => write!(f, "alarm {k} status"),
                    AlarmAction::Enabled => write!(f, "alarm {k} enabled"),
                    AlarmAction::Disabled => write!(f, "alarm {k} disabled"),
                    AlarmAction::Reset => write!(f, "alarm {k} reset"),
                    AlarmAction::Expired => write!(f, "alarm {k} expired"),
                    AlarmAction::Other(c) => write!(f, "alarm {k} action {c}"),
                }?;
                match (remaining_secs, expiration_secs) {
                    (Some(r), _) => write!(f, ", {r} s left"),
                    (None, Some(e)) => write!(f, ", {e} s"),
                    _ => Ok(()),
                }
            }
            StatusMessage::TokenStatus {
                action,
                debug: d,
                tidx,
                ..
            } => {
                let t = tidx.map_or_else(|| "?".to_owned(), |t| t.to_string());
                match action {
                    TokenAction::Status => f.write_str("token state"),
                    TokenAction::Created => write!(f, "token {t} created"),
                    TokenAction::Destroyed => write!(f, "token {t} destroyed"),
                    TokenAction::Other(c) => write!(f, "token {t} action {c}"),
                }?;
                debug(f, *d)
            }
            StatusMessage::ListenerStatus {
                action,
                port,
                reused,
            } => {
                let p = port.map_or_else(|| "?".to_owned(), |p| p.to_string());
                match action {
                    ListenerAction::Initialized => write!(f, "listening on port {p}")?,
                    ListenerAction::InitializationError => {
                        return write!(f, "listener on port {p} failed to start");
                    }
                    ListenerAction::Other(c) => write!(f, "listener on port {p} action {c}")?,
                }
                if *reused == Some(1) {
                    f.write_str(" (reused)")?;
                }
                Ok(())
            }
            StatusMessage::MessageQueueStatus { queue, .. } => match queue.len() {
                1 => f.write_str("1 message queued"),
                n => write!(f, "{n} messages queued"),
            },
            StatusMessage::HubDebugPrompt { admin } => match admin.get_int(":server_tidx") {
                Some(t) => write!(f, "the Hub waits at a debug prompt (token {t})"),
                None => f.write_str("the Hub waits at a debug prompt"),
            },
            StatusMessage::HubDebugInfo { info_type, msg, .. } => match (msg, info_type) {
                (Some(m), _) => f.write_str(lossy(m).trim_end()),
                (None, Some(t)) => write!(f, "debug info {}", l(t)),
                (None, None) => f.write_str("debug info"),
            },
            StatusMessage::Other(fr) => OtherLine(fr).fmt(f),
        }
    }
}

/// The summary line of a frame that is no Hub status shape, borrowed ([`StatusMessage::Other`]
/// prints this).
pub(crate) struct OtherLine<'a>(pub(crate) &'a Frame);

impl fmt::Display for OtherLine<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let l = lossy;
        let fr = self.0;
        {
            {
                let name = l(fr.name_bytes());
                if fr.is_named("handshake") {
                    match fr.get_int(":conn_type") {
                        Some(t) => write!(f, "Hub handshake (connection type {t})"),
                        None => f.write_str("Hub handshake"),
                    }
                } else if fr.is_named("reinitialize") {
                    f.write_str("the Hub (re)initializes this GUI")
                } else if let Some(text) = fr
                    .get_string(":err_description")
                    .or_else(|| fr.get_string(":msg"))
                {
                    write!(f, "{name}: {}", l(text).trim_end())
                } else if name.is_empty() {
                    write!(f, "unnamed frame of {} keys", fr.len())
                } else {
                    f.write_str(&name)
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::text::read_frame;

    fn typed(text: &str) -> StatusMessage {
        StatusMessage::from_frame(read_frame(text.as_bytes()).unwrap())
    }

    #[test]
    fn hub_shapes_type_and_rebuild_identically() {
        let cases = [
            "{c provider_status :provider_list ( {c provider :provider_id \"[0]\" :connected 1 } ) }",
            "{c session_status :action 1 :session_id \"Default\" }",
            "{c session_lock_status :debug 1 :action 0 }",
            "{c token_status :action 2 :tidx 1 }",
            "{c listener_status :action 0 :port 1234 :reused 0 }",
            "{c new_service_type :name \"parser\" :port 1234 }",
            "{c hub_debug_prompt :hub_opaque_data {c admin_info :reply_requested 1 :server_tidx 3 } }",
            "{c session_alarm_status :action 3 :alarm_key \"k\" :session_id \"k\" :expiration_secs 5 }",
            "{c add_menu_items :menu_items ( ( \"Quit\" {c quit } ) ) }",
        ];
        for text in cases {
            let m = typed(text);
            assert!(!matches!(m, StatusMessage::Other(_)), "{text}");
            assert_eq!(m.to_frame(), read_frame(text.as_bytes()).unwrap());
        }
        match typed(cases[0]) {
            StatusMessage::ProviderStatus { providers } => {
                assert_eq!(providers[0].provider_id(), Some(&b"[0]"[..]));
                assert_eq!(providers[0].connected(), Some(true));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unusual_shapes_stay_frames() {
        // Keys out of the Hub's order, wrong types, unknown names.
        for text in [
            "{c token_status :tidx 1 :action 2 }",
            "{c token_status :action \"2\" }",
            "{c session_lock_status :action 0 :debug 1 }",
            "{c hub_gui_custom :x 1 }",
        ] {
            let f = read_frame(text.as_bytes()).unwrap();
            assert_eq!(
                StatusMessage::from_frame(f.clone()),
                StatusMessage::Other(f)
            );
        }
    }
}
