//! The typed wire messages: the monitor API of both path families and the part of the NSM base
//! protocol a monitor speaks.

use std::fmt;

/// Which of the two path families a monitor message travels on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// `/nsm/client/monitor/…`: `:monitor:` session clients, and every reset answer.
    Nsm,
    /// `/ray/monitor/…`: RaySession external monitors.
    Ray,
}

impl Family {
    /// The path prefix, with its trailing slash.
    pub const fn prefix(self) -> &'static str {
        match self {
            Family::Nsm => "/nsm/client/monitor/",
            Family::Ray => "/ray/monitor/",
        }
    }
}

/// A `client_event` event string, split at its first `:`.
///
/// Decoding never fails: a known name with the expected argument shape becomes a typed variant,
/// anything else is kept as it came in [`ClientEvent::Other`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ClientEvent {
    /// `start_request`: the daemon is about to launch the process.
    StartRequest,
    /// `started`: the OS process started.
    Started,
    /// `joined`: a process the daemon did not launch announced.
    Joined,
    /// `ready`: the client answered `/nsm/client/open` with `/reply`.
    Ready,
    /// `open_error`: the client answered open with `/error`.
    OpenError,
    /// `save_request`: a save was requested.
    SaveRequest,
    /// `saved`: the client answered save with `/reply`.
    Saved,
    /// `save_error`: the client answered save with `/error`.
    SaveError,
    /// `stop_request`: a stop was requested.
    StopRequest,
    /// `stopped_by_server`: the process ended after a stop request.
    StoppedByServer,
    /// `stopped_by_itself`: the process ended without a stop request.
    StoppedByItself,
    /// `removed`: the client was removed from the trash for good.
    Removed,
    /// `switched_to:<new_id>`: reused by a newly loaded session.
    SwitchedTo(String),
    /// `id_changed_to:<new_id>`: the client id changed.
    IdChangedTo(String),
    /// `new_alternative:<id>` (RaySession branch `yaml_equiv`).
    NewAlternative(String),
    /// Anything else, exactly as it came.
    Other(String),
}

const PLAIN_EVENTS: [(&str, ClientEvent); 12] = [
    ("start_request", ClientEvent::StartRequest),
    ("started", ClientEvent::Started),
    ("joined", ClientEvent::Joined),
    ("ready", ClientEvent::Ready),
    ("open_error", ClientEvent::OpenError),
    ("save_request", ClientEvent::SaveRequest),
    ("saved", ClientEvent::Saved),
    ("save_error", ClientEvent::SaveError),
    ("stop_request", ClientEvent::StopRequest),
    ("stopped_by_server", ClientEvent::StoppedByServer),
    ("stopped_by_itself", ClientEvent::StoppedByItself),
    ("removed", ClientEvent::Removed),
];

impl ClientEvent {
    /// Parses an event string. Never fails.
    pub fn parse(text: &str) -> ClientEvent {
        if let Some((_, e)) = PLAIN_EVENTS.iter().find(|(n, _)| *n == text) {
            return e.clone();
        }
        match text.split_once(':') {
            Some(("switched_to", id)) => ClientEvent::SwitchedTo(id.to_owned()),
            Some(("id_changed_to", id)) => ClientEvent::IdChangedTo(id.to_owned()),
            Some(("new_alternative", id)) => ClientEvent::NewAlternative(id.to_owned()),
            _ => ClientEvent::Other(text.to_owned()),
        }
    }

    /// The name before any `:` (`"switched_to"`), or the whole text of an [`Other`](ClientEvent::Other).
    pub fn name(&self) -> &str {
        match self {
            ClientEvent::SwitchedTo(_) => "switched_to",
            ClientEvent::IdChangedTo(_) => "id_changed_to",
            ClientEvent::NewAlternative(_) => "new_alternative",
            ClientEvent::Other(s) => s,
            plain => PLAIN_EVENTS
                .iter()
                .find(|(_, e)| e == plain)
                .map_or("", |(n, _)| n),
        }
    }

    /// The event string as it goes on the wire.
    pub fn to_wire(&self) -> String {
        match self {
            ClientEvent::SwitchedTo(id)
            | ClientEvent::IdChangedTo(id)
            | ClientEvent::NewAlternative(id) => format!("{}:{id}", self.name()),
            other => other.name().to_owned(),
        }
    }
}

impl fmt::Display for ClientEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_wire())
    }
}

/// One NSM capability.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Capability {
    /// `switch` (client).
    Switch,
    /// `dirty` (client).
    Dirty,
    /// `progress` (client).
    Progress,
    /// `message` (client).
    Message,
    /// `optional-gui` (client and server).
    OptionalGui,
    /// `monitor` (RaySession, client and server).
    Monitor,
    /// `server-control` (server).
    ServerControl,
    /// `broadcast` (server).
    Broadcast,
    /// Any other name, kept as it came (never empty, never containing `:` when decoded).
    Other(String),
}

impl Capability {
    /// The capability with this name.
    pub fn from_name(name: &str) -> Capability {
        match name {
            "switch" => Capability::Switch,
            "dirty" => Capability::Dirty,
            "progress" => Capability::Progress,
            "message" => Capability::Message,
            "optional-gui" => Capability::OptionalGui,
            "monitor" => Capability::Monitor,
            "server-control" => Capability::ServerControl,
            "broadcast" => Capability::Broadcast,
            other => Capability::Other(other.to_owned()),
        }
    }

    /// Its name, without colons.
    pub fn name(&self) -> &str {
        match self {
            Capability::Switch => "switch",
            Capability::Dirty => "dirty",
            Capability::Progress => "progress",
            Capability::Message => "message",
            Capability::OptionalGui => "optional-gui",
            Capability::Monitor => "monitor",
            Capability::ServerControl => "server-control",
            Capability::Broadcast => "broadcast",
            Capability::Other(s) => s,
        }
    }
}

/// A set of capabilities, in first-seen order, each once.
///
/// Parsed by splitting on `:` and dropping empty items; unknown names are kept. Written in the
/// colon form with a leading and a trailing colon (`":switch:monitor:"`; the empty set is `""`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Capabilities(Vec<Capability>);

impl Capabilities {
    /// The empty set.
    pub fn new() -> Capabilities {
        Capabilities(Vec::new())
    }

    /// Parses the colon form (lenient: colons at either end are optional).
    pub fn parse(text: &str) -> Capabilities {
        let mut caps = Capabilities::new();
        for item in text.split(':').filter(|s| !s.is_empty()) {
            caps.insert(Capability::from_name(item));
        }
        caps
    }

    /// Adds one; returns false if it was there already.
    pub fn insert(&mut self, cap: Capability) -> bool {
        if self.0.contains(&cap) {
            false
        } else {
            self.0.push(cap);
            true
        }
    }

    /// Builder form of [`insert`](Capabilities::insert).
    pub fn with(mut self, cap: Capability) -> Capabilities {
        self.insert(cap);
        self
    }

    /// Whether the set holds `cap`.
    pub fn contains(&self, cap: &Capability) -> bool {
        self.0.contains(cap)
    }

    /// The capabilities in order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = &Capability> {
        self.0.iter()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The colon form: `":a:b:"`, or `""` for the empty set.
    pub fn to_wire(&self) -> String {
        if self.0.is_empty() {
            return String::new();
        }
        let mut s = String::from(":");
        for c in &self.0 {
            s.push_str(c.name());
            s.push(':');
        }
        s
    }
}

impl FromIterator<Capability> for Capabilities {
    fn from_iter<I: IntoIterator<Item = Capability>>(iter: I) -> Capabilities {
        let mut caps = Capabilities::new();
        for c in iter {
            caps.insert(c);
        }
        caps
    }
}

impl fmt::Display for Capabilities {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_wire())
    }
}

/// An NSM / RaySession error code: the known names, or the number as it came.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorCode {
    /// 0
    Ok,
    /// -1
    General,
    /// -2
    IncompatibleApi,
    /// -3
    Blacklisted,
    /// -4
    LaunchFailed,
    /// -5
    NoSuchFile,
    /// -6
    NoSessionOpen,
    /// -7
    UnsavedChanges,
    /// -8
    NotNow,
    /// -9
    BadProject,
    /// -10 (RaySession also uses it for "No such client.")
    CreateFailed,
    /// -11
    SessionLocked,
    /// -12
    OperationPending,
    /// -13 (RaySession)
    CopyRunning,
    /// -14 (RaySession)
    NetRootRunning,
    /// -15 (RaySession)
    SubprocessUnterminated,
    /// -16 (RaySession)
    SubprocessCrash,
    /// -17 (RaySession)
    SubprocessExitcode,
    /// -18 (RaySession): unknown OSC message
    UnknownMessage,
    /// -19 (RaySession)
    AbortOrdered,
    /// -20 (RaySession)
    CopyAborted,
    /// -21 (RaySession)
    SessionInSessionDir,
    /// Any other value.
    Other(i32),
}

const CODE_NAMES: [&str; 22] = [
    "OK",
    "GENERAL_ERROR",
    "INCOMPATIBLE_API",
    "BLACKLISTED",
    "LAUNCH_FAILED",
    "NO_SUCH_FILE",
    "NO_SESSION_OPEN",
    "UNSAVED_CHANGES",
    "NOT_NOW",
    "BAD_PROJECT",
    "CREATE_FAILED",
    "SESSION_LOCKED",
    "OPERATION_PENDING",
    "COPY_RUNNING",
    "NET_ROOT_RUNNING",
    "SUBPROCESS_UNTERMINATED",
    "SUBPROCESS_CRASH",
    "SUBPROCESS_EXITCODE",
    "UNKNOWN_MESSAGE",
    "ABORT_ORDERED",
    "COPY_ABORTED",
    "SESSION_IN_SESSION_DIR",
];

const CODES: [ErrorCode; 22] = [
    ErrorCode::Ok,
    ErrorCode::General,
    ErrorCode::IncompatibleApi,
    ErrorCode::Blacklisted,
    ErrorCode::LaunchFailed,
    ErrorCode::NoSuchFile,
    ErrorCode::NoSessionOpen,
    ErrorCode::UnsavedChanges,
    ErrorCode::NotNow,
    ErrorCode::BadProject,
    ErrorCode::CreateFailed,
    ErrorCode::SessionLocked,
    ErrorCode::OperationPending,
    ErrorCode::CopyRunning,
    ErrorCode::NetRootRunning,
    ErrorCode::SubprocessUnterminated,
    ErrorCode::SubprocessCrash,
    ErrorCode::SubprocessExitcode,
    ErrorCode::UnknownMessage,
    ErrorCode::AbortOrdered,
    ErrorCode::CopyAborted,
    ErrorCode::SessionInSessionDir,
];

impl ErrorCode {
    /// The code for a wire value (known values always map to their name).
    pub fn from_i32(v: i32) -> ErrorCode {
        if (-21..=0).contains(&v) {
            let idx = v.unsigned_abs() as usize;
            if let Some(c) = CODES.get(idx) {
                return *c;
            }
        }
        ErrorCode::Other(v)
    }

    /// The name NSM and RaySession give a known code (`"UNKNOWN_MESSAGE"`), `None` for
    /// [`Other`](ErrorCode::Other).
    pub fn name(self) -> Option<&'static str> {
        match self {
            ErrorCode::Other(_) => None,
            known => CODE_NAMES
                .get(known.to_i32().unsigned_abs() as usize)
                .copied(),
        }
    }

    /// The wire value.
    pub fn to_i32(self) -> i32 {
        match self {
            ErrorCode::Other(v) => v,
            known => CODES
                .iter()
                .position(|c| *c == known)
                .map_or(0, |i| -(i as i32)),
        }
    }
}

impl fmt::Display for ErrorCode {
    /// `UNKNOWN_MESSAGE (-18)` for a known code, the number alone otherwise.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} ({})", self.to_i32()),
            None => write!(f, "{}", self.to_i32()),
        }
    }
}

/// One message of the monitor API or of the NSM base protocol a monitor speaks.
///
/// `started` fields keep the wire `i32` (0 or 1 from a real daemon) so that every message
/// re-encodes byte for byte.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Message {
    /// `<family>client_state ,ssi client_id jack_client_name is_started`: one list entry.
    ClientState {
        /// Path family.
        family: Family,
        /// Client id.
        client_id: String,
        /// JACK client name (opaque).
        jack_name: String,
        /// 1 if the process runs.
        started: i32,
    },
    /// `<family>client_state ,ssi "" "" N`: the end of a list of N entries.
    ClientStateEnd {
        /// Path family.
        family: Family,
        /// How many entries the server sent.
        count: i32,
    },
    /// `<family>client_state ,si client_id is_started`: the v0.12–0.13 form, no end marker.
    ClientStateLegacy {
        /// Path family.
        family: Family,
        /// Client id.
        client_id: String,
        /// 1 if the process runs.
        started: i32,
    },
    /// `<family>client_event ,ss client_id event`.
    ClientEvent {
        /// Path family.
        family: Family,
        /// Client id before the change the event reports.
        client_id: String,
        /// The event.
        event: ClientEvent,
    },
    /// `<family>client_updated ,ssi client_id jack_client_name is_started`.
    ClientUpdated {
        /// Path family.
        family: Family,
        /// Client id.
        client_id: String,
        /// JACK client name.
        jack_name: String,
        /// 1 if the process runs.
        started: i32,
    },
    /// `/ray/server/monitor_announce ,`.
    MonitorAnnounce,
    /// `/ray/server/monitor_quit ,`.
    MonitorQuit,
    /// `/nsm/server/monitor_reset ,`.
    MonitorReset,
    /// `/reply ,s…`: the answered path, then any number of strings.
    Reply {
        /// The path answered (argument 0).
        path: String,
        /// The strings after it.
        args: Vec<String>,
    },
    /// `/error ,sis path code message`.
    Error {
        /// The path answered.
        path: String,
        /// The code.
        code: ErrorCode,
        /// The message.
        message: String,
    },
    /// `/minor_error ,sis path code message` (RaySession).
    MinorError {
        /// The path answered.
        path: String,
        /// The code.
        code: ErrorCode,
        /// The message.
        message: String,
    },
    /// `/nsm/server/announce ,sssiii`.
    Announce {
        /// Application name.
        app_name: String,
        /// Client capabilities.
        capabilities: Capabilities,
        /// Executable name.
        executable: String,
        /// API major version (1).
        api_major: i32,
        /// API minor version.
        api_minor: i32,
        /// Process id.
        pid: i32,
    },
    /// `/nsm/client/open ,sss instance_path display_name client_id`.
    Open {
        /// Where the client keeps its state (opaque).
        instance_path: String,
        /// Session name.
        display_name: String,
        /// Client id (RaySession puts the JACK client name here).
        client_id: String,
    },
    /// `/nsm/client/save ,`.
    Save,
    /// `/nsm/client/session_is_loaded ,`.
    SessionIsLoaded,
    /// `/osc/ping ,`: RaySession answers it with `/reply ,s "/osc/ping"`, registered or not,
    /// which makes it the liveness probe of [`ExternalMonitor`](crate::session::ExternalMonitor).
    Ping,
}

/// `/nsm/server/announce`, the path an announce reply answers.
pub const ANNOUNCE_PATH: &str = "/nsm/server/announce";
/// `/ray/server/monitor_announce`.
pub const MONITOR_ANNOUNCE_PATH: &str = "/ray/server/monitor_announce";
/// `/ray/server/monitor_quit`.
pub const MONITOR_QUIT_PATH: &str = "/ray/server/monitor_quit";
/// `/nsm/server/monitor_reset`.
pub const MONITOR_RESET_PATH: &str = "/nsm/server/monitor_reset";
/// `/nsm/client/open`.
pub const OPEN_PATH: &str = "/nsm/client/open";
/// `/nsm/client/save`.
pub const SAVE_PATH: &str = "/nsm/client/save";
/// `/nsm/client/session_is_loaded`.
pub const SESSION_IS_LOADED_PATH: &str = "/nsm/client/session_is_loaded";
/// `/osc/ping`.
pub const PING_PATH: &str = "/osc/ping";

impl Message {
    /// The OSC path the message travels on.
    pub fn path(&self) -> String {
        match self {
            Message::ClientState { family, .. }
            | Message::ClientStateEnd { family, .. }
            | Message::ClientStateLegacy { family, .. } => {
                format!("{}client_state", family.prefix())
            }
            Message::ClientEvent { family, .. } => format!("{}client_event", family.prefix()),
            Message::ClientUpdated { family, .. } => format!("{}client_updated", family.prefix()),
            Message::MonitorAnnounce => MONITOR_ANNOUNCE_PATH.to_owned(),
            Message::MonitorQuit => MONITOR_QUIT_PATH.to_owned(),
            Message::MonitorReset => MONITOR_RESET_PATH.to_owned(),
            Message::Reply { .. } => "/reply".to_owned(),
            Message::Error { .. } => "/error".to_owned(),
            Message::MinorError { .. } => "/minor_error".to_owned(),
            Message::Announce { .. } => ANNOUNCE_PATH.to_owned(),
            Message::Open { .. } => OPEN_PATH.to_owned(),
            Message::Save => SAVE_PATH.to_owned(),
            Message::SessionIsLoaded => SESSION_IS_LOADED_PATH.to_owned(),
            Message::Ping => PING_PATH.to_owned(),
        }
    }

    /// The monitor family of a monitor message (`client_state`, `client_event`,
    /// `client_updated`), `None` for the others.
    pub fn family(&self) -> Option<Family> {
        match self {
            Message::ClientState { family, .. }
            | Message::ClientStateEnd { family, .. }
            | Message::ClientStateLegacy { family, .. }
            | Message::ClientEvent { family, .. }
            | Message::ClientUpdated { family, .. } => Some(*family),
            _ => None,
        }
    }

    /// `/reply path msg`.
    pub fn reply(path: impl Into<String>, message: impl Into<String>) -> Message {
        Message::Reply {
            path: path.into(),
            args: vec![message.into()],
        }
    }

    /// For an announce reply (`/reply "/nsm/server/announce" message name capabilities`): the
    /// server's name and capabilities.
    pub fn announce_reply(&self) -> Option<(&str, &str, Capabilities)> {
        match self {
            Message::Reply { path, args } if path == ANNOUNCE_PATH => match args.as_slice() {
                [msg, name, caps, ..] => Some((msg, name, Capabilities::parse(caps))),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Writes `s` quoted, with control characters, quotes and backslashes escaped, so that a
/// hostile string cannot break the line or the terminal.
fn quoted(f: &mut fmt::Formatter<'_>, s: &str) -> fmt::Result {
    f.write_str("\"")?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            c if c.is_control() => write!(f, "\\u{{{:x}}}", u32::from(c))?,
            c => write!(f, "{c}")?,
        }
    }
    f.write_str("\"")
}

impl fmt::Display for Message {
    /// The message as `oscdump` prints it, on one line: the path, the type tags, then the
    /// arguments, strings quoted and escaped (`/ray/monitor/client_event ss "okr" "ready"`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        enum A<'a> {
            S(&'a str),
            I(i32),
        }
        let wire_event;
        let caps;
        let args: Vec<A<'_>> = match self {
            Message::ClientState {
                client_id,
                jack_name,
                started,
                ..
            }
            | Message::ClientUpdated {
                client_id,
                jack_name,
                started,
                ..
            } => vec![A::S(client_id), A::S(jack_name), A::I(*started)],
            Message::ClientStateEnd { count, .. } => vec![A::S(""), A::S(""), A::I(*count)],
            Message::ClientStateLegacy {
                client_id, started, ..
            } => vec![A::S(client_id), A::I(*started)],
            Message::ClientEvent {
                client_id, event, ..
            } => {
                wire_event = event.to_wire();
                vec![A::S(client_id), A::S(&wire_event)]
            }
            Message::MonitorAnnounce
            | Message::MonitorQuit
            | Message::MonitorReset
            | Message::Save
            | Message::SessionIsLoaded
            | Message::Ping => Vec::new(),
            Message::Reply { path, args } => std::iter::once(A::S(path))
                .chain(args.iter().map(|a| A::S(a)))
                .collect(),
            Message::Error {
                path,
                code,
                message,
            }
            | Message::MinorError {
                path,
                code,
                message,
            } => vec![A::S(path), A::I(code.to_i32()), A::S(message)],
            Message::Announce {
                app_name,
                capabilities,
                executable,
                api_major,
                api_minor,
                pid,
            } => {
                caps = capabilities.to_wire();
                vec![
                    A::S(app_name),
                    A::S(&caps),
                    A::S(executable),
                    A::I(*api_major),
                    A::I(*api_minor),
                    A::I(*pid),
                ]
            }
            Message::Open {
                instance_path,
                display_name,
                client_id,
            } => vec![A::S(instance_path), A::S(display_name), A::S(client_id)],
        };
        f.write_str(&self.path())?;
        f.write_str(" ")?;
        for a in &args {
            f.write_str(match a {
                A::S(_) => "s",
                A::I(_) => "i",
            })?;
        }
        for a in &args {
            match a {
                A::S(s) => {
                    f.write_str(" ")?;
                    quoted(f, s)?;
                }
                A::I(i) => write!(f, " {i}")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Family::Nsm => "nsm",
            Family::Ray => "ray",
        })
    }
}
