//! Sans-IO state machines for the three roles of the Hub GUI protocol.
//!
//! - [`GuiServer`]: the Hub connects to us (`-gui host:port`). Answers the `handshake` with our
//!   server information frame, echoes `reinitialize`, then types every status message.
//! - [`GuiClient`]: we connect to a Hub listener (`-gui "<listener>:port"`). Announces the
//!   information frame as a new message, takes the Hub's echo (or its refusal), echoes
//!   `reinitialize`, then the same stream.
//! - [`HubSide`]: the Hub's half of both exchanges plus a status sender, to play a Hub without
//!   the C one.
//!
//! No sockets and no clock: bytes go in through `handle_input`, bytes to write come out of
//! `poll_transmit`, and what happened comes out of `poll_event`. Nothing here waits on time.
//!
//! # Run loop
//!
//! After any input (`handle_input`) and after any call that sends (`answer_debug_prompt`,
//! `send_menu_pick`, `send_status`, `send_debug_prompt`), drain `poll_transmit` until it returns
//! `None` and write everything it gave, in order; then drain `poll_event` until it returns
//! `None`. Then wait for more input. A session that returned an error, or whose
//! [`is_closed`](GuiServer::is_closed) is true, accepts nothing more: flush `poll_transmit`
//! (it may hold an ERROR reply) and close the connection.
//!
//! # Replies
//!
//! A GUI answers only the `handshake` (server role), `reinitialize`, `hub_debug_prompt` (through
//! [`answer_debug_prompt`](GuiServer::answer_debug_prompt)) and any other frame whose
//! `:hub_opaque_data` carries `:reply_requested` (echoed the way the C server stub does: the
//! frame with its admin frame moved to the end). Status messages are never answered: the Hub
//! would log `Didn't find token`.

use std::collections::VecDeque;

use crate::codec::{Codec, StreamDecoder};
use crate::error::SessionError;
use crate::message::{Frame, Message, MsgType, Object, lossy};
use crate::status::StatusMessage;

/// The 13 operations the C `sample_hub_gui` declares, in its order.
pub const SAMPLE_GUI_OPS: [&str; 13] = [
    "reinitialize",
    "provider_status",
    "add_menu_items",
    "new_service_type",
    "message_event",
    "session_status",
    "session_lock_status",
    "session_alarm_status",
    "token_status",
    "listener_status",
    "message_queue_status",
    "hub_debug_prompt",
    "hub_debug_info",
];

/// The longest `:debug_cmd` sent: the Hub copies it into a 256-byte buffer.
pub const MAX_DEBUG_CMD: usize = 255;

/// The server information frame the C `sample_hub_gui` sends (1112 bytes of XDR): one
/// `( "op" (  ) 2 6 (  ) 2 )` signature per operation of [`SAMPLE_GUI_OPS`]. Sending it makes
/// our replies byte-identical to the C GUI's.
pub fn sample_info_frame() -> Frame {
    let sig = |op: &str| {
        Object::from(vec![
            Object::from(op),
            Object::List(Box::default()),
            Object::Int(2),
            Object::Int(6),
            Object::List(Box::default()),
            Object::Int(2),
        ])
    };
    Frame::clause("__gui__")
        .with(
            ":signatures",
            Object::List(SAMPLE_GUI_OPS.iter().map(|op| sig(op)).collect()),
        )
        .with(":properties", Frame::clause("server_properties"))
        .with(":extra_service_types", Object::List(Box::default()))
        .with(":protocol_version", 1)
}

/// The smallest information frame the Hub accepts.
pub fn minimal_info_frame() -> Frame {
    Frame::clause("__gui__")
        .with(":signatures", Object::List(Box::default()))
        .with(":properties", Frame::clause("server_properties"))
        .with(":extra_service_types", Object::List(Box::default()))
        .with(":protocol_version", 1)
}

/// The C server stub's echo: the frame with its `:hub_opaque_data` moved to the end.
pub fn echo_reply(frame: &Frame) -> Frame {
    let mut f = frame.clone();
    if let Some(admin) = f.remove(":hub_opaque_data") {
        f.set(":hub_opaque_data", admin);
    }
    f
}

fn system_error(errno: i32, text: &str) -> Frame {
    Frame::clause("system_error")
        .with(":errno", errno)
        .with(":err_description", text)
}

fn refused(f: &Frame) -> SessionError {
    SessionError::Refused {
        errno: f.get_int(":errno").unwrap_or(-1),
        description: lossy(f.get_string(":err_description").unwrap_or_default()),
    }
}

fn reply_requested(f: &Frame) -> bool {
    f.get_frame(":hub_opaque_data")
        .and_then(|a| a.get_int(":reply_requested"))
        .is_some_and(|v| v != 0)
}

/// What a GUI session saw.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum GuiEvent {
    /// Server role: the Hub's `handshake` (answered already when `conn_type` is 1; otherwise an
    /// ERROR was queued and the session is closed).
    Handshake {
        /// `:conn_type` (1 = connection listener).
        conn_type: i32,
        /// The handshake frame as the Hub sent it.
        frame: Frame,
    },
    /// Client role: the Hub accepted our information frame and echoed it.
    Accepted {
        /// The Hub's echo.
        echo: Frame,
    },
    /// The Hub's `reinitialize` (already echoed).
    Reinitialize(Frame),
    /// A status message. A [`StatusMessage::HubDebugPrompt`] must be answered with
    /// [`GuiServer::answer_debug_prompt`]: the Hub blocks until it is.
    Status(StatusMessage),
    /// A frame that requested a reply and was echoed (not a status message).
    Echoed(Frame),
    /// A message of another type than MESSAGE while running (the Hub sends none; kept).
    Stray(Message),
    /// The Hub sent DISCONNECT.
    Closed,
    /// The connection ended without a DISCONNECT ([`GuiServer::handle_eof`]).
    ConnectionLost,
}

/// One short line, the same as the event summary (see [`crate::event::gui_event_to_event`]).
impl std::fmt::Display for GuiEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let e = crate::event::gui_event_to_event(self);
        f.write_str(&e.summary_text())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum GuiState {
    AwaitHandshake,
    AwaitEcho,
    AwaitReinit,
    Running,
    Closed,
}

impl GuiState {
    fn name(self) -> &'static str {
        match self {
            GuiState::AwaitHandshake => "awaiting the handshake",
            GuiState::AwaitEcho => "awaiting the Hub's echo",
            GuiState::AwaitReinit => "awaiting reinitialize",
            GuiState::Running => "running",
            GuiState::Closed => "closed",
        }
    }
}

#[derive(Debug)]
struct Core {
    codec: Codec,
    dec: StreamDecoder,
    out: Vec<u8>,
    events: VecDeque<GuiEvent>,
    info: Frame,
    prompt: Option<Frame>,
    state: GuiState,
}

impl Core {
    fn new(codec: Codec, info: Frame, state: GuiState) -> Core {
        Core {
            codec,
            dec: StreamDecoder::new(codec),
            out: Vec::new(),
            events: VecDeque::new(),
            info,
            prompt: None,
            state,
        }
    }

    fn send(&mut self, t: MsgType, f: Frame) -> Result<(), SessionError> {
        self.codec
            .encode_into(&Message::frame(t, f), &mut self.out)?;
        Ok(())
    }

    fn handle_input(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
        if self.state == GuiState::Closed {
            return Err(SessionError::State("the session is closed"));
        }
        self.dec.push(bytes);
        loop {
            let m = match self.dec.next_message() {
                Ok(Some(m)) => m,
                Ok(None) => return Ok(()),
                Err(e) => {
                    self.state = GuiState::Closed;
                    return Err(e.into());
                }
            };
            if let Err(e) = self.handle(m) {
                self.state = GuiState::Closed;
                return Err(e);
            }
            if self.state == GuiState::Closed {
                return Ok(());
            }
        }
    }

    fn handle_eof(&mut self) {
        if self.state != GuiState::Closed {
            self.state = GuiState::Closed;
            self.events.push_back(GuiEvent::ConnectionLost);
        }
    }

    fn unexpected(&self, m: &Message) -> SessionError {
        SessionError::Unexpected {
            msg_type: m.msg_type,
            name: m
                .as_frame()
                .map(|f| lossy(f.name_bytes()))
                .unwrap_or_default(),
            state: self.state.name(),
        }
    }

    fn handle(&mut self, m: Message) -> Result<(), SessionError> {
        if m.msg_type == MsgType::Disconnect {
            self.state = GuiState::Closed;
            self.events.push_back(GuiEvent::Closed);
            return Ok(());
        }
        if m.as_frame().is_none() {
            return Err(self.unexpected(&m));
        }
        match self.state {
            GuiState::AwaitHandshake => {
                let f = match m.as_frame() {
                    Some(f) if m.msg_type == MsgType::Message && f.is_named("handshake") => f,
                    _ => return Err(self.unexpected(&m)),
                };
                let conn_type = f.get_int(":conn_type").unwrap_or(-1);
                if conn_type == 1 {
                    let info = self.info.clone();
                    self.send(MsgType::Reply, info)?;
                    self.state = GuiState::AwaitReinit;
                } else {
                    let text = if conn_type == 2 {
                        "no match for broker"
                    } else {
                        "unsupported connection type"
                    };
                    self.send(MsgType::Error, system_error(6, text))?;
                    self.state = GuiState::Closed;
                }
                let frame = f.clone();
                self.events
                    .push_back(GuiEvent::Handshake { conn_type, frame });
            }
            GuiState::AwaitEcho => match m.msg_type {
                MsgType::Reply => {
                    let echo = m.into_frame().unwrap_or_else(|| Frame::clause(""));
                    self.events.push_back(GuiEvent::Accepted { echo });
                    self.state = GuiState::AwaitReinit;
                }
                MsgType::Error => {
                    let f = m.into_frame().unwrap_or_else(|| Frame::clause(""));
                    self.state = GuiState::Closed;
                    return Err(refused(&f));
                }
                _ => return Err(self.unexpected(&m)),
            },
            GuiState::AwaitReinit | GuiState::Running => self.running(m)?,
            GuiState::Closed => return Err(self.unexpected(&m)),
        }
        Ok(())
    }

    fn running(&mut self, m: Message) -> Result<(), SessionError> {
        if m.msg_type != MsgType::Message {
            self.events.push_back(GuiEvent::Stray(m));
            return Ok(());
        }
        let Some(f) = m.into_frame() else {
            return Ok(());
        };
        if f.is_named("reinitialize") {
            self.send(MsgType::Reply, echo_reply(&f))?;
            self.state = GuiState::Running;
            self.events.push_back(GuiEvent::Reinitialize(f));
            return Ok(());
        }
        if f.is_named("hub_debug_prompt") {
            self.prompt = Some(
                f.get_frame(":hub_opaque_data")
                    .cloned()
                    .unwrap_or_else(|| Frame::clause("admin_info")),
            );
            self.events
                .push_back(GuiEvent::Status(StatusMessage::from_frame(f)));
            return Ok(());
        }
        let status = StatusMessage::from_frame(f);
        if let StatusMessage::Other(f) = &status
            && reply_requested(f)
        {
            self.send(MsgType::Reply, echo_reply(f))?;
            self.events.push_back(GuiEvent::Echoed(f.clone()));
            return Ok(());
        }
        self.events.push_back(GuiEvent::Status(status));
        Ok(())
    }

    fn answer_debug_prompt(&mut self, cmd: &[u8]) -> Result<(), SessionError> {
        let admin = self
            .prompt
            .take()
            .ok_or(SessionError::State("no hub_debug_prompt is waiting"))?;
        let cmd = cmd.get(..MAX_DEBUG_CMD).unwrap_or(cmd).to_vec();
        let f = Frame::clause("hub_debug_cmd")
            .with(":debug_cmd", Object::String(cmd.into()))
            .with(":hub_opaque_data", admin);
        self.send(MsgType::Reply, f)
    }

    fn send_menu_pick(&mut self, mut frame: Frame) -> Result<(), SessionError> {
        if self.state != GuiState::Running {
            return Err(SessionError::State("not running yet"));
        }
        if frame.get_frame(":hub_opaque_data").is_none() {
            frame.set(":hub_opaque_data", Frame::clause("admin_info"));
        }
        self.send(MsgType::Message, frame)
    }

    fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if self.out.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.out))
        }
    }
}

macro_rules! gui_methods {
    () => {
        /// Feeds bytes read from the connection (any split). See the module's run loop.
        pub fn handle_input(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
            self.0.handle_input(bytes)
        }

        /// Bytes to write to the connection, all queued so far; `None` when there are none.
        pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
            self.0.poll_transmit()
        }

        /// The connection ended (the peer closed it, or it was dropped). Unless the session has
        /// already ended, it closes and queues [`GuiEvent::ConnectionLost`], so every
        /// connection ends with exactly one end-of-stream event.
        pub fn handle_eof(&mut self) {
            self.0.handle_eof()
        }

        /// The next thing that happened; `None` when there is none.
        pub fn poll_event(&mut self) -> Option<GuiEvent> {
            self.0.events.pop_front()
        }

        /// Answers the waiting `hub_debug_prompt` with REPLY `{c hub_debug_cmd :debug_cmd "cmd"
        /// :hub_opaque_data <the prompt's admin frame> }`. Only the first byte matters to the
        /// Hub (`c` continue, `s` sessions, `t` tokens, …); longer than [`MAX_DEBUG_CMD`] bytes
        /// is cut. An error when no prompt is waiting.
        pub fn answer_debug_prompt(&mut self, cmd: &[u8]) -> Result<(), SessionError> {
            self.0.answer_debug_prompt(cmd)
        }

        /// Whether a `hub_debug_prompt` is waiting for its answer.
        pub fn prompt_pending(&self) -> bool {
            self.0.prompt.is_some()
        }

        /// Sends a menu pick (an `add_menu_items` frame) as a new message, adding an empty
        /// `:hub_opaque_data {c admin_info }` when it has none.
        pub fn send_menu_pick(&mut self, frame: Frame) -> Result<(), SessionError> {
            self.0.send_menu_pick(frame)
        }

        /// Whether the handshake and `reinitialize` are done.
        pub fn is_running(&self) -> bool {
            self.0.state == GuiState::Running
        }

        /// Whether the session has ended (DISCONNECT, refusal, error).
        pub fn is_closed(&self) -> bool {
            self.0.state == GuiState::Closed
        }
    };
}

/// The GUI as a TCP server: the Hub connects to it (`-gui host:port`).
#[derive(Debug)]
pub struct GuiServer(Core);

impl GuiServer {
    /// A session that sends `info` as its server information frame (see
    /// [`sample_info_frame`], [`minimal_info_frame`]).
    pub fn new(codec: Codec, info: Frame) -> GuiServer {
        GuiServer(Core::new(codec, info, GuiState::AwaitHandshake))
    }

    gui_methods!();
}

impl Default for GuiServer {
    /// The C sample GUI's information frame and the default codec.
    fn default() -> Self {
        GuiServer::new(Codec::default(), sample_info_frame())
    }
}

/// The GUI as a TCP client of a Hub listener (`-gui "<listener>:port"`).
#[derive(Debug)]
pub struct GuiClient(Core);

impl GuiClient {
    /// A session that announces `info` (its name must be `__gui__`, or its
    /// `:extra_service_types` must list `__gui__`). The announcement is queued at once: drain
    /// [`poll_transmit`](GuiClient::poll_transmit) after connecting.
    pub fn new(codec: Codec, info: Frame) -> Result<GuiClient, SessionError> {
        let mut core = Core::new(codec, info.clone(), GuiState::AwaitEcho);
        core.send(MsgType::Message, info)?;
        Ok(GuiClient(core))
    }

    gui_methods!();
}

/// What a [`HubSide`] saw from the GUI.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum HubEvent {
    /// The GUI's server information frame (its REPLY to the handshake, or its announcement).
    GuiInfo(Frame),
    /// The GUI echoed `reinitialize`: status messages may flow.
    Ready,
    /// The answer to a `hub_debug_prompt`.
    DebugCommand {
        /// The prompt's `:server_tidx`.
        tidx: i32,
        /// `:debug_cmd`, if present (the Hub uses its first byte).
        cmd: Option<Vec<u8>>,
        /// The whole reply frame.
        frame: Frame,
    },
    /// A new message from the GUI (a menu pick).
    NewMessage(Frame),
    /// A reply that matches nothing (the Hub logs `Didn't find token`).
    StrayReply(Message),
    /// The GUI sent DISCONNECT.
    Closed,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum HubState {
    AwaitInfo,
    AwaitAnnounce,
    AwaitEcho,
    Running,
    Closed,
}

/// The Hub's initial state frame keys, as `reinitialize` carries them: the Hub default
/// `:initialize 1 :domain "Unspecified" :user_id "sls"` (what the captures hold).
pub fn default_hub_init() -> Vec<(Vec<u8>, Object)> {
    vec![
        (b":initialize".to_vec(), Object::Int(1)),
        (b":domain".to_vec(), Object::from("Unspecified")),
        (b":user_id".to_vec(), Object::from("sls")),
    ]
}

/// The Hub's side of the GUI link: handshake or listener exchange, `reinitialize`, then status
/// messages and debug prompts.
#[derive(Debug)]
pub struct HubSide {
    codec: Codec,
    dec: StreamDecoder,
    out: Vec<u8>,
    events: VecDeque<HubEvent>,
    init: Vec<(Vec<u8>, Object)>,
    state: HubState,
    listener_mode: bool,
    next_tidx: i32,
    pending_prompt: Option<i32>,
    gui_session: Option<Vec<u8>>,
}

impl HubSide {
    fn base(codec: Codec, init: Vec<(Vec<u8>, Object)>, state: HubState, listener: bool) -> Self {
        HubSide {
            codec,
            dec: StreamDecoder::new(codec),
            out: Vec::new(),
            events: VecDeque::new(),
            init,
            state,
            listener_mode: listener,
            next_tidx: 1,
            pending_prompt: None,
            gui_session: None,
        }
    }

    /// The Hub as TCP client of a GUI server (`-gui host:port`): queues the `handshake` at once.
    pub fn connecting(codec: Codec, init: Vec<(Vec<u8>, Object)>) -> Result<HubSide, SessionError> {
        let mut h = HubSide::base(codec, init, HubState::AwaitInfo, false);
        let hs = Frame::clause("handshake")
            .with(":conn_type", 1)
            .with(":protocol_version", 1);
        h.send(MsgType::Message, hs)?;
        Ok(h)
    }

    /// The Hub listening for a GUI client (`-gui "<listener>:port"`): waits for its announcement.
    pub fn listening(codec: Codec, init: Vec<(Vec<u8>, Object)>) -> HubSide {
        HubSide::base(codec, init, HubState::AwaitAnnounce, true)
    }

    fn send(&mut self, t: MsgType, f: Frame) -> Result<(), SessionError> {
        self.codec
            .encode_into(&Message::frame(t, f), &mut self.out)?;
        Ok(())
    }

    fn reinitialize(&self) -> Frame {
        let mut f = Frame::clause("reinitialize");
        for (k, v) in &self.init {
            f.set(k.clone(), v.clone());
        }
        if !self.listener_mode {
            f.set(":server_type", "__gui__");
        }
        let mut admin = Frame::clause("admin_info").with(":reply_requested", 1);
        if let Some(s) = &self.gui_session {
            admin.set(":session_id", Object::from(&s[..]));
        }
        f.set(":hub_opaque_data", admin);
        f
    }

    /// Feeds bytes read from the GUI. See the module's run loop.
    pub fn handle_input(&mut self, bytes: &[u8]) -> Result<(), SessionError> {
        if self.state == HubState::Closed {
            return Err(SessionError::State("the session is closed"));
        }
        self.dec.push(bytes);
        loop {
            let m = match self.dec.next_message() {
                Ok(Some(m)) => m,
                Ok(None) => return Ok(()),
                Err(e) => {
                    self.state = HubState::Closed;
                    return Err(e.into());
                }
            };
            if let Err(e) = self.handle(m) {
                self.state = HubState::Closed;
                return Err(e);
            }
            if self.state == HubState::Closed {
                return Ok(());
            }
        }
    }

    fn unexpected(&self, m: &Message, state: &'static str) -> SessionError {
        SessionError::Unexpected {
            msg_type: m.msg_type,
            name: m
                .as_frame()
                .map(|f| lossy(f.name_bytes()))
                .unwrap_or_default(),
            state,
        }
    }

    fn handle(&mut self, m: Message) -> Result<(), SessionError> {
        if m.msg_type == MsgType::Disconnect {
            self.state = HubState::Closed;
            self.events.push_back(HubEvent::Closed);
            return Ok(());
        }
        let Some(f) = m.as_frame().cloned() else {
            return Err(self.unexpected(&m, "running"));
        };
        match self.state {
            HubState::AwaitInfo => match m.msg_type {
                MsgType::Reply => {
                    self.events.push_back(HubEvent::GuiInfo(f));
                    let r = self.reinitialize();
                    self.send(MsgType::Message, r)?;
                    self.state = HubState::AwaitEcho;
                }
                MsgType::Error => return Err(refused(&f)),
                _ => return Err(self.unexpected(&m, "awaiting the GUI's information frame")),
            },
            HubState::AwaitAnnounce => {
                let named = f.is_named("__gui__")
                    || f.get_list(":extra_service_types").is_some_and(|l| {
                        l.iter()
                            .any(|o| matches!(o, Object::String(s) if **s == *b"__gui__"))
                    });
                if m.msg_type != MsgType::Message {
                    return Err(self.unexpected(&m, "awaiting the GUI's announcement"));
                }
                if !named {
                    self.send(
                        MsgType::Error,
                        system_error(6, "Hub listener isn't listening for named server"),
                    )?;
                    self.state = HubState::Closed;
                    return Ok(());
                }
                let mut echo = f.clone();
                echo.set(":protocol_version", 1);
                self.gui_session = f.get_string(":session_id").map(<[u8]>::to_vec);
                self.send(MsgType::Reply, echo)?;
                self.events.push_back(HubEvent::GuiInfo(f));
                let r = self.reinitialize();
                self.send(MsgType::Message, r)?;
                self.state = HubState::AwaitEcho;
            }
            HubState::AwaitEcho => match m.msg_type {
                MsgType::Error => return Err(refused(&f)),
                t if t.is_reply() => {
                    self.state = HubState::Running;
                    self.events.push_back(HubEvent::Ready);
                }
                _ => return Err(self.unexpected(&m, "awaiting the reinitialize echo")),
            },
            HubState::Running => {
                if m.msg_type == MsgType::Message {
                    self.events.push_back(HubEvent::NewMessage(f));
                    return Ok(());
                }
                let tidx = f
                    .get_frame(":hub_opaque_data")
                    .and_then(|a| a.get_int(":server_tidx"));
                match (self.pending_prompt, tidx) {
                    (Some(p), Some(t)) if p == t && m.msg_type.is_reply() => {
                        self.pending_prompt = None;
                        let cmd = f.get_string(":debug_cmd").map(<[u8]>::to_vec);
                        self.events.push_back(HubEvent::DebugCommand {
                            tidx: t,
                            cmd,
                            frame: f,
                        });
                    }
                    _ => self.events.push_back(HubEvent::StrayReply(m)),
                }
            }
            HubState::Closed => return Err(self.unexpected(&m, "closed")),
        }
        Ok(())
    }

    /// Sends a status message (type MESSAGE, no admin data). Only once [`HubEvent::Ready`].
    pub fn send_status(&mut self, msg: &StatusMessage) -> Result<(), SessionError> {
        self.send_frame(msg.to_frame())
    }

    /// Sends any frame as a status message (what the Builtin `hub_gui_notify` does).
    pub fn send_frame(&mut self, frame: Frame) -> Result<(), SessionError> {
        if self.state != HubState::Running {
            return Err(SessionError::State("the GUI is not ready"));
        }
        self.send(MsgType::Message, frame)
    }

    /// Sends `hub_debug_prompt` with the next `:server_tidx` (from 1) and returns it; the answer
    /// arrives as [`HubEvent::DebugCommand`]. One prompt at a time, as the Hub blocks on it.
    pub fn send_debug_prompt(&mut self) -> Result<i32, SessionError> {
        if self.pending_prompt.is_some() {
            return Err(SessionError::State("a debug prompt is already waiting"));
        }
        let tidx = self.next_tidx;
        let admin = Frame::clause("admin_info")
            .with(":reply_requested", 1)
            .with(":server_tidx", tidx);
        self.send_frame(Frame::clause("hub_debug_prompt").with(":hub_opaque_data", admin))?;
        self.next_tidx = self.next_tidx.wrapping_add(1).max(1);
        self.pending_prompt = Some(tidx);
        Ok(tidx)
    }

    /// Sends DISCONNECT and closes the session.
    pub fn disconnect(&mut self) -> Result<(), SessionError> {
        self.codec.encode_into(
            &Message {
                msg_type: MsgType::Disconnect,
                body: None,
            },
            &mut self.out,
        )?;
        self.state = HubState::Closed;
        Ok(())
    }

    /// Bytes to write to the GUI; `None` when there are none.
    pub fn poll_transmit(&mut self) -> Option<Vec<u8>> {
        if self.out.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.out))
        }
    }

    /// The next thing the GUI did; `None` when there is none.
    pub fn poll_event(&mut self) -> Option<HubEvent> {
        self.events.pop_front()
    }

    /// Whether status messages may be sent.
    pub fn is_running(&self) -> bool {
        self.state == HubState::Running
    }

    /// Whether a debug prompt waits for its answer.
    pub fn prompt_pending(&self) -> bool {
        self.pending_prompt.is_some()
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        self.state == HubState::Closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::TokenAction;

    fn pump_hub_gui(hub: &mut HubSide, gui: &mut GuiServer) {
        for _ in 0..8 {
            if let Some(b) = hub.poll_transmit() {
                gui.handle_input(&b).unwrap();
            }
            if let Some(b) = gui.poll_transmit() {
                hub.handle_input(&b).unwrap();
            }
        }
    }

    #[test]
    fn hub_side_and_gui_server_in_memory() {
        let mut hub = HubSide::connecting(Codec::default(), default_hub_init()).unwrap();
        let mut gui = GuiServer::default();
        pump_hub_gui(&mut hub, &mut gui);
        assert!(hub.is_running() && gui.is_running());
        assert_eq!(
            hub.poll_event(),
            Some(HubEvent::GuiInfo(sample_info_frame()))
        );
        assert_eq!(hub.poll_event(), Some(HubEvent::Ready));
        let status = StatusMessage::TokenStatus {
            action: TokenAction::Destroyed,
            debug: false,
            state: None,
            tidx: Some(1),
        };
        hub.send_status(&status).unwrap();
        let tidx = hub.send_debug_prompt().unwrap();
        pump_hub_gui(&mut hub, &mut gui);
        assert!(matches!(
            gui.poll_event(),
            Some(GuiEvent::Handshake { conn_type: 1, .. })
        ));
        assert!(matches!(gui.poll_event(), Some(GuiEvent::Reinitialize(_))));
        assert_eq!(gui.poll_event(), Some(GuiEvent::Status(status)));
        assert!(matches!(
            gui.poll_event(),
            Some(GuiEvent::Status(StatusMessage::HubDebugPrompt { .. }))
        ));
        gui.answer_debug_prompt(b"s\n").unwrap();
        pump_hub_gui(&mut hub, &mut gui);
        match hub.poll_event() {
            Some(HubEvent::DebugCommand {
                tidx: t,
                cmd,
                frame,
            }) => {
                assert_eq!(t, tidx);
                assert_eq!(cmd.as_deref(), Some(&b"s\n"[..]));
                assert!(frame.is_named("hub_debug_cmd"));
            }
            other => panic!("{other:?}"),
        }
        assert!(gui.answer_debug_prompt(b"c").is_err());
    }

    #[test]
    fn listener_mode_refuses_a_wrong_name() {
        let mut hub = HubSide::listening(Codec::default(), default_hub_init());
        let mut gui = GuiClient::new(Codec::default(), Frame::clause("not_gui")).unwrap();
        hub.handle_input(&gui.poll_transmit().unwrap()).unwrap();
        assert!(hub.is_closed());
        let err = gui.handle_input(&hub.poll_transmit().unwrap()).unwrap_err();
        assert!(
            matches!(err, SessionError::Refused { errno: 6, .. }),
            "{err}"
        );
    }
}
