//! Sans-IO state machines: messages in, messages and events out. No sockets, no clock: time is
//! passed in as [`Instant`] arguments.
//!
//! - [`ExternalMonitor`]: a RaySession external monitor (`/ray/server/monitor_announce`).
//! - [`MonitorClient`]: an NSM client announcing `:monitor:`.
//! - [`MonitorServer`]: the producer role, emitting exactly the sequences ray-daemon 0.18 emits.
//!
//! Both consumer roles keep a [`Model`]: the current clients with JACK name and started state.
//!
//! # Run loop
//!
//! After any input (`start`, `handle_message`, `handle_timeout`, a request such as `quit`),
//! drain every `poll_*` until it returns `None`: send each message
//! [`poll_transmit`](ExternalMonitor::poll_transmit) yields to the server, act on each event
//! [`poll_event`](ExternalMonitor::poll_event) yields. Then sleep until the datagram arrives or
//! the instant [`poll_timeout`](ExternalMonitor::poll_timeout) names, and call
//! `handle_timeout` when it passes. The machines never read a clock themselves, so a test can
//! drive them with any instants it likes.

use std::collections::VecDeque;
use std::fmt::Debug;
use std::time::{Duration, Instant};

use crate::error::StateError;
use crate::message::{
    ANNOUNCE_PATH, Capabilities, Capability, ClientEvent, ErrorCode, Family, MONITOR_ANNOUNCE_PATH,
    MONITOR_QUIT_PATH, MONITOR_RESET_PATH, Message, OPEN_PATH, PING_PATH, SAVE_PATH,
};

/// One client as a monitor sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientInfo {
    /// Client id.
    pub client_id: String,
    /// JACK client name (empty when only the `,si` form or an event named it).
    pub jack_name: String,
    /// Whether its process runs.
    pub started: bool,
}

/// The model a consumer role keeps: the session's clients, replaced as a whole by every
/// complete state list, updated by events and `client_updated`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Model {
    clients: Vec<ClientInfo>,
    pending: Option<Vec<ClientInfo>>,
    lists: u64,
}

/// What applying a message to the [`Model`] revealed.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Applied {
    Nothing,
    ListComplete(usize),
    Mismatch { received: usize, announced: i32 },
}

impl Model {
    /// The clients, in list order.
    pub fn clients(&self) -> &[ClientInfo] {
        &self.clients
    }

    /// One client by id.
    pub fn get(&self, client_id: &str) -> Option<&ClientInfo> {
        self.clients.iter().find(|c| c.client_id == client_id)
    }

    /// How many complete lists were applied.
    pub fn lists_received(&self) -> u64 {
        self.lists
    }

    /// Whether a list is being collected.
    pub fn collecting(&self) -> bool {
        self.pending.is_some()
    }

    fn upsert(&mut self, id: &str, jack: Option<&str>, started: Option<bool>) {
        let entry = match self.clients.iter_mut().find(|c| c.client_id == id) {
            Some(c) => c,
            None => {
                self.clients.push(ClientInfo {
                    client_id: id.to_owned(),
                    jack_name: String::new(),
                    started: false,
                });
                let Some(c) = self.clients.last_mut() else {
                    return;
                };
                c
            }
        };
        if let Some(j) = jack {
            j.clone_into(&mut entry.jack_name);
        }
        if let Some(s) = started {
            entry.started = s;
        }
    }

    fn set_started(&mut self, id: &str, started: bool) {
        if let Some(c) = self.clients.iter_mut().find(|c| c.client_id == id) {
            c.started = started;
        }
    }

    fn apply(&mut self, msg: &Message) -> Applied {
        match msg {
            Message::ClientState {
                client_id,
                jack_name,
                started,
                ..
            } => {
                self.pending.get_or_insert_with(Vec::new).push(ClientInfo {
                    client_id: client_id.clone(),
                    jack_name: jack_name.clone(),
                    started: *started != 0,
                });
                Applied::Nothing
            }
            Message::ClientStateEnd { count, .. } => {
                let list = self.pending.take().unwrap_or_default();
                let received = list.len();
                self.clients = list;
                self.lists += 1;
                if i64::try_from(received).ok() == Some(i64::from(*count)) {
                    Applied::ListComplete(received)
                } else {
                    Applied::Mismatch {
                        received,
                        announced: *count,
                    }
                }
            }
            Message::ClientStateLegacy {
                client_id, started, ..
            } => {
                // The old form has no terminator: each entry updates the model directly.
                self.upsert(client_id, None, Some(*started != 0));
                Applied::Nothing
            }
            Message::ClientUpdated {
                client_id,
                jack_name,
                started,
                ..
            } => {
                self.upsert(client_id, Some(jack_name), Some(*started != 0));
                Applied::Nothing
            }
            Message::ClientEvent {
                client_id, event, ..
            } => {
                match event {
                    ClientEvent::Started | ClientEvent::Joined => self.set_started(client_id, true),
                    ClientEvent::StoppedByServer | ClientEvent::StoppedByItself => {
                        self.set_started(client_id, false)
                    }
                    ClientEvent::Removed => self.clients.retain(|c| &c.client_id != client_id),
                    ClientEvent::IdChangedTo(new) | ClientEvent::SwitchedTo(new) => {
                        if let Some(c) = self.clients.iter_mut().find(|c| &c.client_id == client_id)
                        {
                            new.clone_into(&mut c.client_id);
                        }
                    }
                    _ => {}
                }
                Applied::Nothing
            }
            _ => Applied::Nothing,
        }
    }
}

/// What a consumer role reports.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MonitorEvent {
    /// The server accepted us. For an NSM client: the server's name and capabilities.
    Registered {
        /// Server name (NSM announce reply only).
        server_name: Option<String>,
        /// Server capabilities (NSM announce reply only).
        capabilities: Option<Capabilities>,
    },
    /// An NSM server that lacks `:monitor:`: we stay a plain NSM client and never send reset.
    MonitorUnsupported {
        /// The capabilities it announced.
        capabilities: Capabilities,
    },
    /// The server refused our NSM announce.
    AnnounceFailed {
        /// Its code.
        code: ErrorCode,
        /// Its message.
        message: String,
    },
    /// A monitor message, as received (`client_state`, `client_event`, `client_updated`).
    Monitor(Message),
    /// A state list ended and its count matched.
    ListComplete {
        /// Entries in it.
        entries: usize,
    },
    /// A state list ended with a count other than the entries received (reported, not fatal;
    /// never answered with a reset, to avoid a message storm).
    CountMismatch {
        /// Entries received.
        received: usize,
        /// The count the terminator carried.
        announced: i32,
    },
    /// `/nsm/client/open` (already answered with `/reply`).
    Open {
        /// Instance path.
        instance_path: String,
        /// Session name.
        display_name: String,
        /// Client id (RaySession: the JACK client name).
        client_id: String,
    },
    /// `/nsm/client/save` (already answered with `/reply`).
    Save,
    /// `/nsm/client/session_is_loaded`.
    SessionIsLoaded,
    /// `/error` or `/minor_error` from the server.
    ServerError {
        /// The path it answers.
        path: String,
        /// Its code.
        code: ErrorCode,
        /// Its message.
        message: String,
        /// `/minor_error` rather than `/error`.
        minor: bool,
    },
    /// No answer came in time.
    TimedOut {
        /// What we were waiting for (`"/ray/server/monitor_announce"`, …).
        waiting_for: &'static str,
    },
    /// The server did not answer the announce in time; it was sent again (external monitor).
    Retrying {
        /// The number of the announce just sent (2 for the first retry).
        attempt: u32,
        /// How long until the next one if this one is not answered either.
        next_in: Duration,
        /// Whether the server's port was seen closed (ICMP port unreachable) since the last
        /// attempt, rather than merely silent.
        refused: bool,
    },
    /// The server went away (external monitor, once registered). The monitor announces again
    /// with backoff, and reports [`Reconnected`](MonitorEvent::Reconnected) when it is back.
    Disconnected {
        /// How the loss was seen.
        reason: Loss,
    },
    /// Registered again after a [`Disconnected`](MonitorEvent::Disconnected); the server's new
    /// state list came just before.
    Reconnected,
    /// The monitor is closed: after `"monitor exit"` (`confirmed`) or after the quit timeout.
    Closed {
        /// Whether the server confirmed the quit.
        confirmed: bool,
    },
}

impl std::fmt::Display for MonitorEvent {
    /// One short line for a person (`"registered with RaySession"`, `"state list complete: 2
    /// clients"`); a monitor message shows as its [summary](crate::event::summary).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MonitorEvent::Registered {
                server_name: Some(name),
                capabilities: Some(caps),
            } => write!(f, "registered with {name} (capabilities {caps})"),
            MonitorEvent::Registered {
                server_name: Some(name),
                capabilities: None,
            } => write!(f, "registered with {name}"),
            MonitorEvent::Registered { .. } => f.write_str("registered"),
            MonitorEvent::MonitorUnsupported { capabilities } => write!(
                f,
                "the server lacks :monitor: (capabilities {capabilities}); staying a plain NSM client"
            ),
            MonitorEvent::AnnounceFailed { code, message } => {
                write!(f, "announce refused: {message} ({code})")
            }
            MonitorEvent::Monitor(m) => f.write_str(&crate::event::summary(m)),
            MonitorEvent::ListComplete { entries: 1 } => {
                f.write_str("state list complete: 1 client")
            }
            MonitorEvent::ListComplete { entries } => {
                write!(f, "state list complete: {entries} clients")
            }
            MonitorEvent::CountMismatch {
                received,
                announced,
            } => write!(
                f,
                "state list had {received} entries but announced {announced}"
            ),
            MonitorEvent::Open {
                display_name,
                client_id,
                ..
            } => write!(f, "opened session {display_name} as {client_id}"),
            MonitorEvent::Save => f.write_str("save requested (answered)"),
            MonitorEvent::SessionIsLoaded => f.write_str("session loaded"),
            MonitorEvent::ServerError {
                path,
                code,
                message,
                minor,
            } => write!(
                f,
                "{}error on {path}: {message} ({code})",
                if *minor { "minor " } else { "" }
            ),
            MonitorEvent::TimedOut { waiting_for } => write!(f, "no answer to {waiting_for}"),
            MonitorEvent::Retrying {
                attempt,
                next_in,
                refused,
            } => write!(
                f,
                "{}; announced again (attempt {attempt}), next try in {} s",
                if *refused {
                    "the server's port is closed"
                } else {
                    "no answer to /ray/server/monitor_announce"
                },
                next_in.as_secs_f32()
            ),
            MonitorEvent::Disconnected { reason } => {
                write!(
                    f,
                    "lost the server ({reason}); announcing again until it is back"
                )
            }
            MonitorEvent::Reconnected => f.write_str("the server is back; registered again"),
            MonitorEvent::Closed { confirmed: true } => {
                f.write_str("closed (the server confirmed the quit)")
            }
            MonitorEvent::Closed { confirmed: false } => {
                f.write_str("closed (the server did not confirm the quit)")
            }
        }
    }
}

#[derive(Debug, Default)]
struct Io {
    transmit: VecDeque<Message>,
    events: VecDeque<MonitorEvent>,
    model: Model,
}

impl Io {
    /// Applies a monitor message to the model and reports it; returns false for other messages.
    fn monitor(&mut self, msg: Message) -> bool {
        if msg.family().is_none() {
            return false;
        }
        let applied = self.model.apply(&msg);
        self.events.push_back(MonitorEvent::Monitor(msg));
        match applied {
            Applied::Nothing => {}
            Applied::ListComplete(entries) => self
                .events
                .push_back(MonitorEvent::ListComplete { entries }),
            Applied::Mismatch {
                received,
                announced,
            } => self.events.push_back(MonitorEvent::CountMismatch {
                received,
                announced,
            }),
        }
        true
    }

    fn server_error(&mut self, msg: &Message) -> bool {
        match msg {
            Message::Error {
                path,
                code,
                message,
            }
            | Message::MinorError {
                path,
                code,
                message,
            } => {
                self.events.push_back(MonitorEvent::ServerError {
                    path: path.clone(),
                    code: *code,
                    message: message.clone(),
                    minor: matches!(msg, Message::MinorError { .. }),
                });
                true
            }
            _ => false,
        }
    }
}

/// Where an [`ExternalMonitor`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExternalPhase {
    /// Not started.
    Idle,
    /// Announce sent, waiting for `"announced"` (announcing again with backoff).
    Announcing,
    /// Registered.
    Live,
    /// Quit sent, waiting for `"monitor exit"`.
    Quitting,
    /// Done.
    Closed,
}

/// How the loss of the server was seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Loss {
    /// The transport said the server's port is closed: on a connected UDP socket, an ICMP port
    /// unreachable answer to our last datagram (`ECONNREFUSED`).
    Unreachable,
    /// Nothing came back, not even the answer to an `/osc/ping` probe, within the probe
    /// timeout.
    Silent,
}

impl std::fmt::Display for Loss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Loss::Unreachable => "its port is closed",
            Loss::Silent => "no answer to /osc/ping",
        })
    }
}

/// The timing of an [`ExternalMonitor`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ExternalConfig {
    /// Give up (report [`TimedOut`](MonitorEvent::TimedOut) and close) when the server has not
    /// answered the announce this long after [`start`](ExternalMonitor::start), or after a loss.
    /// `None` (the default): keep announcing until it answers.
    pub give_up_after: Option<Duration>,
    /// The wait after the first announce (default 1 s); it doubles after each unanswered one…
    pub first_retry: Duration,
    /// …up to this (default 30 s).
    pub max_retry: Duration,
    /// Once registered, send `/osc/ping` after this long without any datagram from the server
    /// (default 5 s; `None`: never probe, and only [`handle_unreachable`](ExternalMonitor::handle_unreachable)
    /// detects a loss).
    pub probe_every: Option<Duration>,
    /// How long a probe may go unanswered before the server counts as lost (default 3 s).
    pub probe_timeout: Duration,
    /// How long [`quit`](ExternalMonitor::quit) waits for `"monitor exit"` (default 1 s).
    pub quit_timeout: Duration,
}

impl Default for ExternalConfig {
    fn default() -> ExternalConfig {
        ExternalConfig {
            give_up_after: None,
            first_retry: Duration::from_secs(1),
            max_retry: Duration::from_secs(30),
            probe_every: Some(Duration::from_secs(5)),
            probe_timeout: Duration::from_secs(3),
            quit_timeout: Duration::from_secs(1),
        }
    }
}

impl ExternalConfig {
    /// Sets [`give_up_after`](ExternalConfig::give_up_after).
    #[must_use]
    pub fn with_give_up_after(mut self, d: Option<Duration>) -> ExternalConfig {
        self.give_up_after = d;
        self
    }

    /// Sets [`probe_every`](ExternalConfig::probe_every).
    #[must_use]
    pub fn with_probe_every(mut self, d: Option<Duration>) -> ExternalConfig {
        self.probe_every = d;
        self
    }

    /// Sets [`first_retry`](ExternalConfig::first_retry) and
    /// [`max_retry`](ExternalConfig::max_retry).
    #[must_use]
    pub fn with_retry(mut self, first: Duration, max: Duration) -> ExternalConfig {
        self.first_retry = first;
        self.max_retry = max.max(first);
        self
    }

    /// Sets [`quit_timeout`](ExternalConfig::quit_timeout).
    #[must_use]
    pub fn with_quit_timeout(mut self, d: Duration) -> ExternalConfig {
        self.quit_timeout = d;
        self
    }
}

/// A RaySession external monitor.
///
/// At [`start`](ExternalMonitor::start) it sends `monitor_quit` then `monitor_announce` (the
/// daemon does not de-duplicate, so a stale registration from the same port is cleared first;
/// the quit's answer, or its silence, is ignored). The list arrives before the announce reply.
/// Unanswered, it announces again after 1, 2, 4 … 30 s ([`Retrying`](MonitorEvent::Retrying)),
/// until the server answers or [`ExternalConfig::give_up_after`] passes.
///
/// Once registered it watches the server: after [`ExternalConfig::probe_every`] without any
/// datagram it sends `/osc/ping` (which ray-daemon answers with `/reply "/osc/ping"` whether or
/// not the sender is registered), and counts the server as lost when nothing comes back within
/// [`ExternalConfig::probe_timeout`], or at once when the driver reports the port closed
/// ([`handle_unreachable`](ExternalMonitor::handle_unreachable)). A loss is reported as
/// [`Disconnected`](MonitorEvent::Disconnected); then it announces again with the same backoff,
/// and the server's new list is followed by [`Reconnected`](MonitorEvent::Reconnected).
///
/// [`quit`](ExternalMonitor::quit) waits for `"monitor exit"` with a timeout, because an
/// unregistered monitor gets no answer at all.
///
/// ```
/// use std::time::{Duration, Instant};
/// use monwire_nsm::Message;
/// use monwire_nsm::session::{ExternalMonitor, MonitorEvent};
///
/// let now = Instant::now();
/// let mut mon = ExternalMonitor::new(Duration::from_secs(2));
/// mon.start(now);
/// assert_eq!(mon.poll_transmit(), Some(Message::MonitorQuit));
/// assert_eq!(mon.poll_transmit(), Some(Message::MonitorAnnounce));
/// mon.handle_message(Message::reply("/ray/server/monitor_announce", "announced"), now);
/// assert!(matches!(mon.poll_event(), Some(MonitorEvent::Registered { .. })));
/// ```
#[derive(Debug)]
pub struct ExternalMonitor {
    io: Io,
    phase: ExternalPhase,
    config: ExternalConfig,
    deadline: Option<Instant>,
    /// When the current wait for the server began (start, or the last loss).
    waiting_since: Option<Instant>,
    /// The wait before the next announce.
    retry: Duration,
    attempt: u32,
    refused: bool,
    last_heard: Option<Instant>,
    probe_sent: Option<Instant>,
    lost: bool,
}

impl ExternalMonitor {
    /// A monitor that gives up announcing, and waits for the quit's answer, after `timeout`.
    pub fn new(timeout: Duration) -> ExternalMonitor {
        ExternalMonitor::with_config(
            ExternalConfig::default()
                .with_give_up_after(Some(timeout))
                .with_quit_timeout(timeout),
        )
    }

    /// A monitor with this timing.
    pub fn with_config(config: ExternalConfig) -> ExternalMonitor {
        ExternalMonitor {
            io: Io::default(),
            phase: ExternalPhase::Idle,
            config,
            deadline: None,
            waiting_since: None,
            retry: config.first_retry,
            attempt: 0,
            refused: false,
            last_heard: None,
            probe_sent: None,
            lost: false,
        }
    }

    /// The timing in force.
    pub fn config(&self) -> &ExternalConfig {
        &self.config
    }

    /// Queues quit-then-announce. Call once.
    pub fn start(&mut self, now: Instant) {
        self.begin_announcing(now);
    }

    fn begin_announcing(&mut self, now: Instant) {
        self.phase = ExternalPhase::Announcing;
        self.waiting_since = Some(now);
        self.retry = self.config.first_retry;
        self.attempt = 0;
        self.announce(now);
    }

    fn announce(&mut self, now: Instant) {
        self.io.transmit.push_back(Message::MonitorQuit);
        self.io.transmit.push_back(Message::MonitorAnnounce);
        self.attempt = self.attempt.saturating_add(1);
        self.refused = false;
        let mut at = now + self.retry;
        if let (Some(give_up), Some(since)) = (self.config.give_up_after, self.waiting_since) {
            at = at.min(since + give_up);
        }
        self.deadline = Some(at);
    }

    /// Asks for the list again. The answer comes on the `/nsm/client/monitor/` family.
    pub fn reset(&mut self) -> Result<(), StateError> {
        if self.phase == ExternalPhase::Closed {
            return Err(StateError::Closed);
        }
        self.io.transmit.push_back(Message::MonitorReset);
        Ok(())
    }

    /// Unregisters: sends `monitor_quit` and waits for `"monitor exit"` until
    /// `now + quit_timeout`.
    pub fn quit(&mut self, now: Instant) -> Result<(), StateError> {
        match self.phase {
            ExternalPhase::Closed | ExternalPhase::Quitting => return Err(StateError::Closed),
            ExternalPhase::Idle => return Err(StateError::NotRegistered),
            _ => {}
        }
        self.io.transmit.push_back(Message::MonitorQuit);
        self.phase = ExternalPhase::Quitting;
        self.deadline = Some(now + self.config.quit_timeout);
        Ok(())
    }

    /// Feeds one message from the server.
    pub fn handle_message(&mut self, msg: Message, now: Instant) {
        if self.phase == ExternalPhase::Closed {
            return;
        }
        self.last_heard = Some(now);
        self.probe_sent = None;
        if let Message::Reply { path, .. } = &msg {
            if path == MONITOR_ANNOUNCE_PATH && self.phase == ExternalPhase::Announcing {
                self.phase = ExternalPhase::Live;
                self.waiting_since = None;
                self.io.events.push_back(MonitorEvent::Registered {
                    server_name: None,
                    capabilities: None,
                });
                if std::mem::take(&mut self.lost) {
                    self.io.events.push_back(MonitorEvent::Reconnected);
                }
            } else if path == MONITOR_QUIT_PATH && self.phase == ExternalPhase::Quitting {
                self.close(true);
                return;
            }
            self.arm_probe(now);
            return;
        }
        if self.phase == ExternalPhase::Live {
            self.arm_probe(now);
        }
        if self.io.server_error(&msg) {
            return;
        }
        self.io.monitor(msg);
    }

    fn arm_probe(&mut self, now: Instant) {
        if self.phase == ExternalPhase::Live {
            self.deadline = self.config.probe_every.map(|every| now + every);
        }
    }

    /// Call when the transport says the server's port is closed (on a connected UDP socket, an
    /// `ECONNREFUSED` from ICMP port unreachable). Registered, this is a loss; while announcing
    /// it is noted in the next [`Retrying`](MonitorEvent::Retrying); while quitting, the quit
    /// cannot be confirmed and the monitor closes at once.
    pub fn handle_unreachable(&mut self, now: Instant) {
        match self.phase {
            ExternalPhase::Live => self.lose(Loss::Unreachable, now),
            ExternalPhase::Announcing => self.refused = true,
            ExternalPhase::Quitting => self.close(false),
            ExternalPhase::Idle | ExternalPhase::Closed => {}
        }
    }

    fn lose(&mut self, reason: Loss, now: Instant) {
        self.io
            .events
            .push_back(MonitorEvent::Disconnected { reason });
        self.lost = true;
        self.probe_sent = None;
        self.begin_announcing(now);
    }

    /// Call when the instant from [`poll_timeout`](ExternalMonitor::poll_timeout) has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        let Some(deadline) = self.deadline else {
            return;
        };
        if now < deadline {
            return;
        }
        match self.phase {
            ExternalPhase::Announcing => {
                let gave_up = match (self.config.give_up_after, self.waiting_since) {
                    (Some(g), Some(since)) => now >= since + g,
                    _ => false,
                };
                if gave_up {
                    self.io.events.push_back(MonitorEvent::TimedOut {
                        waiting_for: MONITOR_ANNOUNCE_PATH,
                    });
                    self.close(false);
                    return;
                }
                let refused = self.refused;
                self.retry = (self.retry * 2).min(self.config.max_retry);
                self.announce(now);
                self.io.events.push_back(MonitorEvent::Retrying {
                    attempt: self.attempt,
                    next_in: self.retry,
                    refused,
                });
            }
            ExternalPhase::Live => match (self.probe_sent, self.config.probe_every) {
                (Some(_), _) => self.lose(Loss::Silent, now),
                (None, Some(_)) => {
                    self.io.transmit.push_back(Message::Ping);
                    self.probe_sent = Some(now);
                    self.deadline = Some(now + self.config.probe_timeout);
                }
                (None, None) => self.deadline = None,
            },
            ExternalPhase::Quitting => self.close(false),
            ExternalPhase::Idle | ExternalPhase::Closed => self.deadline = None,
        }
    }

    fn close(&mut self, confirmed: bool) {
        self.phase = ExternalPhase::Closed;
        self.deadline = None;
        self.io.events.push_back(MonitorEvent::Closed { confirmed });
    }

    /// The next message to send to the server.
    pub fn poll_transmit(&mut self) -> Option<Message> {
        self.io.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<MonitorEvent> {
        self.io.events.pop_front()
    }

    /// When to call [`handle_timeout`](ExternalMonitor::handle_timeout), if at all.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// The phase.
    pub fn phase(&self) -> ExternalPhase {
        self.phase
    }

    /// The clients as last reported.
    pub fn model(&self) -> &Model {
        &self.io.model
    }
}

/// How a [`MonitorClient`] announces itself.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientConfig {
    /// Application name.
    pub app_name: String,
    /// Executable name.
    pub executable: String,
    /// Process id (never 0: RaySession signals announced pids).
    pub pid: i32,
    /// Capabilities; `monitor` is always added.
    pub capabilities: Capabilities,
    /// How long to wait for the announce reply.
    pub timeout: Duration,
}

impl ClientConfig {
    /// A config with `:monitor:` only and a 5 s announce timeout.
    pub fn new(
        app_name: impl Into<String>,
        executable: impl Into<String>,
        pid: i32,
    ) -> ClientConfig {
        ClientConfig {
            app_name: app_name.into(),
            executable: executable.into(),
            pid,
            capabilities: Capabilities::new().with(Capability::Monitor),
            timeout: Duration::from_secs(5),
        }
    }
}

/// Where a [`MonitorClient`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientPhase {
    /// Not started.
    Idle,
    /// Announce sent.
    Announcing,
    /// Announced; `monitor` says whether the server offers `:monitor:`.
    Registered {
        /// Whether the server listed `:monitor:`.
        monitor: bool,
    },
    /// Refused or timed out.
    Failed,
}

/// An NSM client announcing `:monitor:`.
///
/// It answers `/nsm/client/open` and `/nsm/client/save` with `/reply` itself, accepts monitor
/// messages at any time after announcing (the list comes before open), and refuses
/// [`reset`](MonitorClient::reset) when the server lacks `:monitor:`.
#[derive(Debug)]
pub struct MonitorClient {
    io: Io,
    config: ClientConfig,
    phase: ClientPhase,
    deadline: Option<Instant>,
    server: Option<(String, Capabilities)>,
}

impl MonitorClient {
    /// A client with this config.
    pub fn new(mut config: ClientConfig) -> MonitorClient {
        config.capabilities.insert(Capability::Monitor);
        MonitorClient {
            io: Io::default(),
            config,
            phase: ClientPhase::Idle,
            deadline: None,
            server: None,
        }
    }

    /// Queues the announce.
    pub fn start(&mut self, now: Instant) {
        self.io.transmit.push_back(Message::Announce {
            app_name: self.config.app_name.clone(),
            capabilities: self.config.capabilities.clone(),
            executable: self.config.executable.clone(),
            api_major: 1,
            api_minor: 2,
            pid: self.config.pid,
        });
        self.phase = ClientPhase::Announcing;
        self.deadline = Some(now + self.config.timeout);
    }

    /// Asks for the list again; refused unless the server announced `:monitor:`.
    pub fn reset(&mut self) -> Result<(), StateError> {
        match self.phase {
            ClientPhase::Registered { monitor: true } => {
                self.io.transmit.push_back(Message::MonitorReset);
                Ok(())
            }
            ClientPhase::Registered { monitor: false } => Err(StateError::NoMonitorCapability),
            _ => Err(StateError::NotRegistered),
        }
    }

    /// Feeds one message from the server.
    pub fn handle_message(&mut self, msg: Message, _now: Instant) {
        if let Some((_, name, caps)) = msg.announce_reply() {
            if self.phase == ClientPhase::Announcing {
                let monitor = caps.contains(&Capability::Monitor);
                self.phase = ClientPhase::Registered { monitor };
                self.deadline = None;
                if !monitor {
                    self.io.events.push_back(MonitorEvent::MonitorUnsupported {
                        capabilities: caps.clone(),
                    });
                }
                self.io.events.push_back(MonitorEvent::Registered {
                    server_name: Some(name.to_owned()),
                    capabilities: Some(caps.clone()),
                });
                self.server = Some((name.to_owned(), caps));
            }
            return;
        }
        match msg {
            Message::Error {
                path,
                code,
                message,
            } if path == ANNOUNCE_PATH && self.phase == ClientPhase::Announcing => {
                self.phase = ClientPhase::Failed;
                self.deadline = None;
                self.io
                    .events
                    .push_back(MonitorEvent::AnnounceFailed { code, message });
            }
            Message::Open {
                instance_path,
                display_name,
                client_id,
            } => {
                self.io
                    .transmit
                    .push_back(Message::reply(OPEN_PATH, "Ready."));
                self.io.events.push_back(MonitorEvent::Open {
                    instance_path,
                    display_name,
                    client_id,
                });
            }
            Message::Save => {
                self.io
                    .transmit
                    .push_back(Message::reply(SAVE_PATH, "Saved."));
                self.io.events.push_back(MonitorEvent::Save);
            }
            Message::SessionIsLoaded => self.io.events.push_back(MonitorEvent::SessionIsLoaded),
            Message::Reply { .. } => {}
            other => {
                if !self.io.server_error(&other) {
                    self.io.monitor(other);
                }
            }
        }
    }

    /// Call when the instant from [`poll_timeout`](MonitorClient::poll_timeout) has passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.deadline.is_some_and(|d| now >= d) {
            self.deadline = None;
            if self.phase == ClientPhase::Announcing {
                self.phase = ClientPhase::Failed;
                self.io.events.push_back(MonitorEvent::TimedOut {
                    waiting_for: ANNOUNCE_PATH,
                });
            }
        }
    }

    /// The next message to send to the server.
    pub fn poll_transmit(&mut self) -> Option<Message> {
        self.io.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<MonitorEvent> {
        self.io.events.pop_front()
    }

    /// When to call [`handle_timeout`](MonitorClient::handle_timeout), if at all.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.deadline
    }

    /// The phase.
    pub fn phase(&self) -> ClientPhase {
        self.phase
    }

    /// The server's name and capabilities, once announced.
    pub fn server(&self) -> Option<(&str, &Capabilities)> {
        self.server.as_ref().map(|(n, c)| (n.as_str(), c))
    }

    /// The clients as last reported.
    pub fn model(&self) -> &Model {
        &self.io.model
    }
}

#[derive(Clone, Debug)]
struct ServerClient<A> {
    id: String,
    jack_name: String,
    started: bool,
    announced: bool,
    addr: Option<A>,
    capabilities: Capabilities,
}

impl<A> ServerClient<A> {
    fn is_monitor(&self) -> bool {
        self.announced && self.capabilities.contains(&Capability::Monitor)
    }
}

/// The producer role: a monitor server that emits exactly what ray-daemon 0.18 emits.
///
/// `A` is a peer address (a `SocketAddr` over UDP; anything comparable in tests). The server
/// keeps the monitor list (duplicates kept, never checked for liveness, surviving close and
/// load), the session's clients in order and the trash, and answers announce, quit, reset and
/// NSM announce in ray-daemon's order. The session's happenings are fed in by the
/// `add_client`, `client_event`, `client_announced`, `load_session`, … methods.
#[derive(Debug)]
pub struct MonitorServer<A> {
    name: String,
    capabilities: Capabilities,
    session_root: String,
    session: Option<String>,
    clients: Vec<ServerClient<A>>,
    trash: Vec<(String, String)>,
    monitors: Vec<A>,
    out: VecDeque<(A, Message)>,
}

impl<A: Clone + PartialEq + Debug> MonitorServer<A> {
    /// A server named `"RaySession"` with RaySession's capabilities and no session open.
    pub fn new() -> MonitorServer<A> {
        MonitorServer {
            name: "RaySession".to_owned(),
            capabilities: Capabilities::parse(":server-control:broadcast:optional-gui:monitor:"),
            session_root: "/tmp/monwire-sessions".to_owned(),
            session: None,
            clients: Vec::new(),
            trash: Vec::new(),
            monitors: Vec::new(),
            out: VecDeque::new(),
        }
    }

    /// Sets the root the instance paths in `/nsm/client/open` start with.
    pub fn with_session_root(mut self, root: impl Into<String>) -> MonitorServer<A> {
        self.session_root = root.into();
        self
    }

    /// The next datagram to send, and where.
    pub fn poll_transmit(&mut self) -> Option<(A, Message)> {
        self.out.pop_front()
    }

    /// The registered external monitors, in list order, duplicates included.
    pub fn monitors(&self) -> &[A] {
        &self.monitors
    }

    /// The open session's name.
    pub fn session(&self) -> Option<&str> {
        self.session.as_deref()
    }

    /// The session's active clients as `(id, jack_name, started)`.
    pub fn clients(&self) -> impl Iterator<Item = (&str, &str, bool)> {
        self.clients
            .iter()
            .map(|c| (c.id.as_str(), c.jack_name.as_str(), c.started))
    }

    /// The answer ray-daemon gives a well-formed OSC message it does not accept (pass the path
    /// and tags from [`DecodeError::unaccepted_message`](crate::DecodeError::unaccepted_message)):
    /// `/minor_error ,sis <path> -18 "unknown osc message: <path> <tags>"`.
    pub fn handle_unknown(&mut self, from: A, path: &str, tags: &str) {
        self.out.push_back((
            from,
            Message::MinorError {
                path: path.to_owned(),
                code: ErrorCode::UnknownMessage,
                message: format!("unknown osc message: {path} {tags}"),
            },
        ));
    }

    /// Feeds one request from `from`.
    pub fn handle_message(&mut self, from: A, msg: Message) {
        match msg {
            // ray-daemon answers a ping from anyone, registered or not, with the path alone.
            Message::Ping => self.out.push_back((
                from,
                Message::Reply {
                    path: PING_PATH.to_owned(),
                    args: Vec::new(),
                },
            )),
            Message::MonitorAnnounce => {
                self.send_list(&from, Family::Ray);
                self.out.push_back((
                    from.clone(),
                    Message::reply(MONITOR_ANNOUNCE_PATH, "announced"),
                ));
                self.monitors.push(from);
            }
            Message::MonitorQuit => {
                if let Some(i) = self.monitors.iter().position(|m| *m == from) {
                    self.monitors.remove(i);
                    self.out
                        .push_back((from, Message::reply(MONITOR_QUIT_PATH, "monitor exit")));
                }
            }
            Message::MonitorReset => {
                self.out.push_back((
                    from.clone(),
                    Message::reply(MONITOR_RESET_PATH, "monitor reset"),
                ));
                self.send_list(&from, Family::Nsm);
            }
            Message::Announce {
                app_name,
                capabilities,
                executable,
                api_major,
                ..
            } => self.nsm_announce(from, &app_name, capabilities, &executable, api_major),
            Message::Reply { ref path, .. } | Message::Error { ref path, .. }
                if path == OPEN_PATH || path == SAVE_PATH =>
            {
                let ok = matches!(msg, Message::Reply { .. });
                let Some(id) = self
                    .clients
                    .iter()
                    .find(|c| c.addr.as_ref() == Some(&from))
                    .map(|c| c.id.clone())
                else {
                    return;
                };
                let event = match (path == OPEN_PATH, ok) {
                    (true, true) => ClientEvent::Ready,
                    (true, false) => ClientEvent::OpenError,
                    (false, true) => ClientEvent::Saved,
                    (false, false) => ClientEvent::SaveError,
                };
                self.fan_out_event(&id, &event);
            }
            _ => {}
        }
    }

    fn nsm_announce(
        &mut self,
        from: A,
        app_name: &str,
        capabilities: Capabilities,
        executable: &str,
        api_major: i32,
    ) {
        if api_major > 1 {
            self.out.push_back((
                from,
                Message::Error {
                    path: ANNOUNCE_PATH.to_owned(),
                    code: ErrorCode::IncompatibleApi,
                    message: "Server is using an incompatible API version.".to_owned(),
                },
            ));
            return;
        }
        let Some(session) = self.session.clone() else {
            self.out.push_back((
                from,
                Message::Error {
                    path: ANNOUNCE_PATH.to_owned(),
                    code: ErrorCode::NoSessionOpen,
                    message: "Sorry, but there's no session open for this application to join."
                        .to_owned(),
                },
            ));
            return;
        };
        // A process we launched: started, not yet announced, same executable.
        let launched = self
            .clients
            .iter()
            .position(|c| c.started && !c.announced && c.jack_name == executable);
        let (index, greeting) = match launched {
            Some(i) => (i, "Howdy, what took you so long?"),
            None => {
                let id = self.new_id(app_name);
                let jack_name = format!("{app_name}.{id}");
                self.clients.push(ServerClient {
                    id: id.clone(),
                    jack_name,
                    started: true,
                    announced: false,
                    addr: None,
                    capabilities: Capabilities::new(),
                });
                self.fan_out_event(&id, &ClientEvent::Joined);
                (
                    self.clients.len() - 1,
                    "Well hello, stranger. Welcome to the party.",
                )
            }
        };
        let Some(client) = self.clients.get_mut(index) else {
            return;
        };
        client.announced = true;
        client.started = true;
        client.addr = Some(from.clone());
        client.capabilities = capabilities;
        let (id, jack, monitor) = (
            client.id.clone(),
            client.jack_name.clone(),
            client.is_monitor(),
        );
        self.out.push_back((
            from.clone(),
            Message::Reply {
                path: ANNOUNCE_PATH.to_owned(),
                args: vec![
                    greeting.to_owned(),
                    self.name.clone(),
                    self.capabilities.to_wire(),
                ],
            },
        ));
        if monitor {
            self.send_list(&from, Family::Nsm);
        }
        self.fan_out_updated(&id, &jack, 1);
        self.out.push_back((
            from,
            Message::Open {
                instance_path: format!("{}/{session}/{session}.{id}", self.session_root),
                display_name: session,
                client_id: jack,
            },
        ));
    }

    fn new_id(&self, app_name: &str) -> String {
        let base: String = app_name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .map(|c| c.to_ascii_lowercase())
            .collect();
        let base = if base.is_empty() {
            "client".to_owned()
        } else {
            base
        };
        let taken = |id: &str| {
            self.clients.iter().any(|c| c.id == id) || self.trash.iter().any(|(t, _)| t == id)
        };
        if !taken(&base) {
            return base;
        }
        (2u32..)
            .map(|n| format!("{base}_{n}"))
            .find(|id| !taken(id))
            .unwrap_or(base)
    }

    /// The state list for `to`: active clients (on `/nsm/`, minus the receiver itself, not
    /// counted), then the trash, then `"" "" N`.
    fn send_list(&mut self, to: &A, family: Family) {
        let mut count = 0i32;
        let mut entries = Vec::new();
        for c in &self.clients {
            if family == Family::Nsm && c.addr.as_ref() == Some(to) {
                continue;
            }
            entries.push(Message::ClientState {
                family,
                client_id: c.id.clone(),
                jack_name: c.jack_name.clone(),
                started: i32::from(c.started),
            });
        }
        for (id, jack) in &self.trash {
            entries.push(Message::ClientState {
                family,
                client_id: id.clone(),
                jack_name: jack.clone(),
                started: 0,
            });
        }
        for e in entries {
            count = count.saturating_add(1);
            self.out.push_back((to.clone(), e));
        }
        self.out
            .push_back((to.clone(), Message::ClientStateEnd { family, count }));
    }

    /// Receivers of a message about `about`: announced `:monitor:` session clients other than
    /// `about`, then every monitor-list entry.
    fn receivers(&self, about: &str) -> Vec<(A, Family)> {
        let mut r: Vec<(A, Family)> = self
            .clients
            .iter()
            .filter(|c| c.is_monitor() && c.id != about)
            .filter_map(|c| c.addr.clone().map(|a| (a, Family::Nsm)))
            .collect();
        r.extend(self.monitors.iter().map(|m| (m.clone(), Family::Ray)));
        r
    }

    fn fan_out_event(&mut self, about: &str, event: &ClientEvent) {
        for (to, family) in self.receivers(about) {
            self.out.push_back((
                to,
                Message::ClientEvent {
                    family,
                    client_id: about.to_owned(),
                    event: event.clone(),
                },
            ));
        }
    }

    fn fan_out_updated(&mut self, about: &str, jack: &str, started: i32) {
        for (to, family) in self.receivers(about) {
            self.out.push_back((
                to,
                Message::ClientUpdated {
                    family,
                    client_id: about.to_owned(),
                    jack_name: jack.to_owned(),
                    started,
                },
            ));
        }
    }

    /// Opens (or switches to) a session whose clients are `clients` (`(id, jack_name)`, in
    /// session order; empty and repeated ids are skipped), like ray-daemon's load: `client_updated 0` for each new client and
    /// `switched_to:<id>` for each running client reused under the same id, `/nsm/client/open`
    /// to reused `:switch:` clients, then the lists (monitor list on `/ray/`, then running
    /// `:monitor:` clients on `/nsm/`), then `session_is_loaded` to the reused NSM clients.
    /// Starting the new clients is up to the caller ([`client_event`](MonitorServer::client_event)).
    pub fn load_session(&mut self, name: &str, clients: &[(&str, &str)]) {
        // Build the new client list first: receivers are the new session's clients (a reused
        // `:monitor:` client keeps receiving), then emit in session order.
        let old = std::mem::take(&mut self.clients);
        let mut reused = Vec::new();
        // An empty id would read as the end marker, a repeated one as one client: skipped.
        let mut seen = Vec::new();
        let clients: Vec<(&str, &str)> = clients
            .iter()
            .filter(|(id, _)| {
                let fresh = !id.is_empty() && !seen.contains(id);
                seen.push(*id);
                fresh
            })
            .copied()
            .collect();
        let clients = clients.as_slice();
        for (id, jack) in clients {
            if let Some(prev) = old.iter().find(|c| c.id == *id && c.started) {
                self.clients.push(prev.clone());
                reused.push((*id).to_owned());
            } else {
                self.clients.push(ServerClient {
                    id: (*id).to_owned(),
                    jack_name: (*jack).to_owned(),
                    started: false,
                    announced: false,
                    addr: None,
                    capabilities: Capabilities::new(),
                });
            }
        }
        for (id, jack) in clients {
            if reused.iter().any(|r| r == id) {
                self.fan_out_event(id, &ClientEvent::SwitchedTo((*id).to_owned()));
            } else {
                self.fan_out_updated(id, jack, 0);
            }
        }
        self.session = Some(name.to_owned());
        self.trash.clear();
        for c in &self.clients {
            if let (true, Some(addr), true) = (
                reused.contains(&c.id),
                c.addr.clone(),
                c.announced && c.capabilities.contains(&Capability::Switch),
            ) {
                self.out.push_back((
                    addr,
                    Message::Open {
                        instance_path: format!("{}/{name}/{name}.{}", self.session_root, c.id),
                        display_name: name.to_owned(),
                        client_id: c.jack_name.clone(),
                    },
                ));
            }
        }
        for m in self.monitors.clone() {
            self.send_list(&m, Family::Ray);
        }
        let nsm_monitors: Vec<A> = self
            .clients
            .iter()
            .filter(|c| c.is_monitor() && c.started)
            .filter_map(|c| c.addr.clone())
            .collect();
        for a in nsm_monitors {
            self.send_list(&a, Family::Nsm);
        }
        let loaded: Vec<A> = self
            .clients
            .iter()
            .filter(|c| reused.contains(&c.id) && c.announced)
            .filter_map(|c| c.addr.clone())
            .collect();
        for a in loaded {
            self.out.push_back((a, Message::SessionIsLoaded));
        }
    }

    /// What ray-daemon does when it is told to quit (`/ray/server/quit`, SIGTERM or SIGINT):
    /// it closes the session, stopping every running client in reverse session order
    /// (`stop_request`, then `stopped_by_server`, to every monitor), then the session is gone.
    /// The monitor list stays (the process is about to exit; monitors learn of it from the
    /// silence).
    pub fn terminate(&mut self) {
        let running: Vec<String> = self
            .clients
            .iter()
            .rev()
            .filter(|c| c.started)
            .map(|c| c.id.clone())
            .collect();
        for id in running {
            // Every id was just read from the session.
            let _ = self.client_event(&id, ClientEvent::StopRequest);
            let _ = self.client_event(&id, ClientEvent::StoppedByServer);
        }
        self.close_session();
    }

    /// Closes the session silently (stop the clients first with
    /// [`client_event`](MonitorServer::client_event)): nothing tells monitors the clients are
    /// gone; the next list does.
    pub fn close_session(&mut self) {
        self.session = None;
        self.clients.clear();
        self.trash.clear();
    }

    /// Adds a client (`add_executable`, a template, a restore): `client_updated 0`.
    ///
    /// Refused for an empty id (a list entry `"" ""` would read as the list's end marker) and
    /// for an id already in the session or its trash.
    pub fn add_client(&mut self, id: &str, jack_name: &str) -> Result<(), StateError> {
        self.check_new_id(id)?;
        self.clients.push(ServerClient {
            id: id.to_owned(),
            jack_name: jack_name.to_owned(),
            started: false,
            announced: false,
            addr: None,
            capabilities: Capabilities::new(),
        });
        self.fan_out_updated(id, jack_name, 0);
        Ok(())
    }

    fn check_new_id(&self, id: &str) -> Result<(), StateError> {
        if id.is_empty() {
            return Err(StateError::EmptyId);
        }
        if self.clients.iter().any(|c| c.id == id) || self.trash.iter().any(|(t, _)| t == id) {
            return Err(StateError::DuplicateId(id.to_owned()));
        }
        Ok(())
    }

    /// A launched client announced from outside the OSC path (the server saw it some other
    /// way): `client_updated 1`.
    pub fn client_announced(&mut self, id: &str) -> Result<(), StateError> {
        let c = self
            .clients
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or_else(|| StateError::NoSuchClient(id.to_owned()))?;
        c.announced = true;
        c.started = true;
        let jack = c.jack_name.clone();
        self.fan_out_updated(id, &jack, 1);
        Ok(())
    }

    /// Something happened to client `id`: updates the session and sends the event to every
    /// receiver but the client itself. `removed` is sent by
    /// [`remove_definitely`](MonitorServer::remove_definitely) instead.
    ///
    /// `id_changed_to:` to an empty id or one already taken is refused.
    pub fn client_event(&mut self, id: &str, event: ClientEvent) -> Result<(), StateError> {
        if let ClientEvent::IdChangedTo(new) = &event
            && new != id
        {
            self.check_new_id(new)?;
        }
        let c = self
            .clients
            .iter_mut()
            .find(|c| c.id == id)
            .ok_or_else(|| StateError::NoSuchClient(id.to_owned()))?;
        match &event {
            ClientEvent::Started => c.started = true,
            ClientEvent::StoppedByServer | ClientEvent::StoppedByItself => {
                c.started = false;
                c.announced = false;
                c.addr = None;
            }
            _ => {}
        }
        self.fan_out_event(id, &event);
        if let ClientEvent::IdChangedTo(new) = &event
            && let Some(c) = self.clients.iter_mut().find(|c| c.id == id)
        {
            new.clone_into(&mut c.id);
        }
        Ok(())
    }

    /// Moves a client to the trash; nothing is sent.
    pub fn trash_client(&mut self, id: &str) -> Result<(), StateError> {
        let i = self
            .clients
            .iter()
            .position(|c| c.id == id)
            .ok_or_else(|| StateError::NoSuchClient(id.to_owned()))?;
        let c = self.clients.remove(i);
        self.trash.push((c.id, c.jack_name));
        Ok(())
    }

    /// Removes a trashed client for good: `removed`.
    pub fn remove_definitely(&mut self, id: &str) -> Result<(), StateError> {
        let i = self
            .trash
            .iter()
            .position(|(t, _)| t == id)
            .ok_or_else(|| StateError::NoSuchClient(id.to_owned()))?;
        self.trash.remove(i);
        self.fan_out_event(id, &ClientEvent::Removed);
        Ok(())
    }
}

impl<A: Clone + PartialEq + Debug> Default for MonitorServer<A> {
    fn default() -> MonitorServer<A> {
        MonitorServer::new()
    }
}
