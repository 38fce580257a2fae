//! NSM / RaySession monitors: `monwire watch nsm`, `monwire serve nsm`, `monwire decode nsm`
//! and the NSM demo part.
//!
//! Capture format for `decode nsm` (`--layout lines`): one UDP payload (an OSC message or
//! bundle) per line, as hex; whitespace inside a line is ignored, empty lines and lines starting
//! with `#` are skipped. `--layout whole` (chosen by default for `.hex` files, the project's
//! golden vectors): the whole file is one payload, as hex, whitespace and newlines ignored.
//!
//! Script format for `serve nsm` (the full text is [`SCRIPT_FORMAT`], printed by
//! `monwire serve nsm --help`): one command per line, words separated by blanks, empty lines
//! and `#` lines skipped:
//!
//! ```text
//! session NAME          the session's name (default: monwire)
//! client ID JACK_NAME   before the first other command: a client of the session loaded at
//!                       start; later: add a client (client_updated ID JACK_NAME 0)
//! event ID EVENT        client_event ID EVENT (any name: started, ready, switched_to:ID, …)
//! announced ID          client_updated ID JACK_NAME 1
//! trash ID              move the client to the trash (nothing is sent)
//! remove ID             remove a trashed client for good (event removed)
//! load [NAME]           reload the session as ray-daemon does (switched_to, client_updated 0,
//!                       then the state lists to every monitor)
//! close                 close the session silently
//! wait MS               pause MS milliseconds
//! ```
//!
//! Playing starts when the first monitor announces (`/ray/server/monitor_announce`, or an NSM
//! announce with `:monitor:`); the server answers as ray-daemon 0.18 does (the sans-IO
//! `MonitorServer` core). Progress goes to stderr, every datagram sent to stdout as an event.

use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use monwire_nsm::codec::{self, Limits};
use monwire_nsm::event::to_event;
use monwire_nsm::session::MonitorServer;
use monwire_nsm::session::{ClientConfig, ExternalConfig, MonitorEvent};
use monwire_nsm::tokio::{DriverEvent, Monitor, ServerInput, UdpServer, nsm_url, resolve_url};
use monwire_nsm::{Capability, ClientEvent, Message};

use crate::output::note;
use crate::parallel::{self, Emit};
use crate::pipeline::Pipeline;
use crate::{Failure, Run, Status, capture, diag};

/// `monwire watch nsm`: register with an NSM/RaySession server and print the state list, then
/// every event.
#[derive(Args, Debug)]
#[command(after_long_help = WATCH_EXAMPLES)]
pub(crate) struct WatchArgs {
    /// The server, `osc.udp://HOST:PORT/` (default: `$NSM_URL`).
    #[arg(long)]
    url: Option<String>,
    /// Join the session as an NSM `:monitor:switch:` client instead of registering as a
    /// RaySession external monitor.
    #[arg(long)]
    as_client: bool,
    /// Give up when the server has not answered within SECS. Default: an external monitor keeps
    /// announcing, again after 1, 2, 4 … 30 s, until the server answers; an NSM client waits 5 s.
    #[arg(long, value_name = "SECS")]
    timeout: Option<u64>,
    /// External monitor: probe the server with /osc/ping after SECS without a datagram from it,
    /// and count it as lost when the probe goes unanswered for 3 s (0: never probe; a closed
    /// port is still seen at once through ICMP).
    #[arg(long, value_name = "SECS", default_value_t = 5)]
    probe: u64,
    /// Stop (quit cleanly) after printing this many events.
    #[arg(long)]
    count: Option<u64>,
    /// Run as a session client the server can relaunch with no arguments (what the
    /// `monwire-nsm-monitor` program runs): implies --as-client, announces the executable
    /// `monwire-nsm-monitor`, and at each /nsm/client/open appends the events (JSON Lines) to
    /// the file named in `<instance path>/monwire.conf`, creating that file when it is missing
    /// (see `monwire-nsm-monitor --help`).
    #[arg(long)]
    in_session: bool,
    /// With --in-session: the events file to record in `monwire.conf` (default: the one already
    /// there, else `$MONWIRE_NSM_OUTPUT`, else `<instance path>/events.jsonl`).
    #[arg(long, value_name = "FILE", requires = "in_session")]
    output: Option<PathBuf>,
}

const WATCH_EXAMPLES: &str = "\
On SIGTERM or SIGINT an external monitor sends /ray/server/monitor_quit (waiting at most 1 s \
for \"monitor exit\"), then exits 0 (SIGTERM) or 130 (SIGINT); an NSM client just exits (its \
goodbye is its exit: the daemon watches the pid it announced). When the server goes away, a \
`disconnected` event is printed and the monitor announces again until it is back.

Lost server: once registered, the external monitor sends /osc/ping after --probe seconds \
without a datagram (ray-daemon answers it); a closed port (ICMP port unreachable, seen on the \
connected socket) or an unanswered probe prints a `disconnected` event and a stderr line, and \
the monitor announces again with backoff; when the server is back its new state list is \
printed, then a `reconnected` event.

Joining a session that can relaunch monwire: use the `monwire-nsm-monitor` program (see its \
--help), which runs `watch nsm --in-session`.

Examples:
  monwire watch nsm --url osc.udp://127.0.0.1:16187/
  NSM_URL=osc.udp://localhost:16187/ monwire watch nsm --as-client --json
  NSM_URL=osc.udp://localhost:16187/ monwire-nsm-monitor --output ~/session-events.jsonl";

/// The program name of the relaunch-safe session client.
pub(crate) const MONITOR_PROGRAM: &str = "monwire-nsm-monitor";

/// The settings file `--in-session` keeps in the client's instance directory.
pub(crate) const SESSION_CONF: &str = "monwire.conf";

/// Where `--in-session` writes: chosen at each `/nsm/client/open` from `monwire.conf` in the
/// instance directory; events that come before the first open (the state list does) wait in a
/// bounded buffer.
struct SessionOutput {
    /// `--output`, which wins over the file and is written into it.
    chosen: Option<PathBuf>,
    /// The file in use, once open.
    file: Option<std::fs::File>,
    pending: std::collections::VecDeque<String>,
    dropped: u64,
}

/// The most events kept while waiting for the first open.
const PENDING_MAX: usize = 10_000;

impl SessionOutput {
    fn new(chosen: Option<PathBuf>) -> SessionOutput {
        SessionOutput {
            chosen,
            file: None,
            pending: std::collections::VecDeque::new(),
            dropped: 0,
        }
    }

    /// `/nsm/client/open`: read (or create) `<instance_path>/monwire.conf` and open its output.
    fn open(&mut self, instance_path: &str) {
        match session_output_path(instance_path, self.chosen.as_deref()) {
            Ok(path) => match std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)
            {
                Ok(f) => {
                    note(format!("nsm: writing events to {}", path.display()));
                    self.file = Some(f);
                    if self.dropped > 0 {
                        note(format!(
                            "nsm: {} events before the session opened were dropped",
                            self.dropped
                        ));
                        self.dropped = 0;
                    }
                    let pending = std::mem::take(&mut self.pending);
                    for line in pending {
                        self.write(&line);
                    }
                }
                Err(e) => note(format!("nsm: {}: {e}", path.display())),
            },
            Err(e) => note(format!("nsm: {instance_path}: {e}")),
        }
    }

    fn write(&mut self, line: &str) {
        use std::io::Write;
        if let Some(f) = &mut self.file
            && let Err(e) = writeln!(f, "{line}")
        {
            note(format!("nsm: writing events: {e}"));
            self.file = None;
        }
    }

    fn event(&mut self, e: &monwire_event::Event) -> ControlFlow<()> {
        let Ok(line) = serde_json::to_string(e) else {
            return ControlFlow::Continue(());
        };
        if self.file.is_some() {
            self.write(&line);
        } else {
            if self.pending.len() == PENDING_MAX {
                self.pending.pop_front();
                self.dropped += 1;
            }
            self.pending.push_back(line);
        }
        ControlFlow::Continue(())
    }
}

/// The pipeline sink of `--in-session`: the [`SessionOutput`] the watch loop also reaches to
/// open the file at each `/nsm/client/open`.
struct SessionSink(std::rc::Rc<std::cell::RefCell<SessionOutput>>);

impl crate::pipeline::Sink for SessionSink {
    fn event(&mut self, event: &monwire_event::Event) -> ControlFlow<()> {
        self.0.borrow_mut().event(event)
    }

    fn name(&self) -> &str {
        "session events file"
    }
}

/// The events file for an instance: `--output` (then recorded in `monwire.conf`), else the
/// `output = FILE` line of `<instance_path>/monwire.conf`, else `$MONWIRE_NSM_OUTPUT`, else
/// `<instance_path>/events.jsonl`. Creates the instance directory and writes `monwire.conf`
/// when it is missing or `--output` changed it, so a relaunch with no arguments finds the same
/// choice.
pub(crate) fn session_output_path(
    instance_path: &str,
    chosen: Option<&std::path::Path>,
) -> std::io::Result<PathBuf> {
    let dir = PathBuf::from(instance_path);
    std::fs::create_dir_all(&dir)?;
    let conf = dir.join(SESSION_CONF);
    let recorded = std::fs::read_to_string(&conf).ok().and_then(|text| {
        text.lines()
            .map(str::trim)
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| {
                let (k, v) = l.split_once('=')?;
                (k.trim() == "output").then(|| dir.join(v.trim()))
            })
    });
    let path = match (chosen, &recorded) {
        (Some(c), _) => std::path::absolute(c)?,
        (None, Some(r)) => r.clone(),
        (None, None) => std::env::var_os("MONWIRE_NSM_OUTPUT")
            .map(PathBuf::from)
            .unwrap_or_else(|| dir.join("events.jsonl")),
    };
    if recorded.as_ref() != Some(&path) {
        std::fs::write(
            &conf,
            format!(
                "# monwire-nsm-monitor settings for this session client; edit and reload.\n\
                 # output: the file the events are appended to, as JSON Lines.\n\
                 output = {}\n",
                path.display()
            ),
        )?;
    }
    Ok(path)
}

/// The longest a stop waits for the server's `"monitor exit"` before exiting anyway.
const STOP_GRACE: Duration = Duration::from_millis(1500);

/// Watches until the server stops answering, the sink breaks, a signal, or the monitor closes.
pub(crate) fn watch(args: &WatchArgs, out: &mut Pipeline) -> Run {
    let rt = runtime()?;
    rt.block_on(async {
        let shutdown = out.shutdown().clone();
        let server = match &args.url {
            Some(u) => resolve_url(u).await,
            None => nsm_url().await,
        }
        .map_err(|e| Failure::Usage(format!("nsm: server address: {e}")))?;
        let url = format!("osc.udp://{server}/");
        let bind = any_addr(server.is_ipv4());
        let as_client = args.as_client || args.in_session;
        // With --in-session the events also go, through the filters like every sink, to the
        // file the instance's monwire.conf names (known at each /nsm/client/open).
        let session_out = args.in_session.then(|| {
            let shared = std::rc::Rc::new(std::cell::RefCell::new(SessionOutput::new(
                args.output.clone(),
            )));
            out.add_sink(Box::new(SessionSink(std::rc::Rc::clone(&shared))));
            shared
        });
        let tap = crate::record::Recorder::open(&crate::record::header::nsm(as_client), out)?
            .map(|r| r.nsm_tap());
        let mut mon = if as_client {
            let pid = i32::try_from(std::process::id()).unwrap_or(i32::MAX);
            let executable = if args.in_session {
                MONITOR_PROGRAM
            } else {
                "monwire"
            };
            let mut config = ClientConfig::new("monwire", executable, pid);
            config.capabilities.insert(Capability::Switch);
            config.timeout = Duration::from_secs(args.timeout.unwrap_or(5));
            match tap {
                Some(tap) => Monitor::nsm_client_tapped(config, bind, server, tap).await,
                None => Monitor::nsm_client(config, bind, server).await,
            }
        } else {
            let config = ExternalConfig::default()
                .with_give_up_after(args.timeout.map(Duration::from_secs))
                .with_probe_every((args.probe > 0).then(|| Duration::from_secs(args.probe)));
            match tap {
                Some(tap) => Monitor::external_tapped(bind, server, config, tap).await,
                None => Monitor::external_with(bind, server, config).await,
            }
        }
        .map_err(|e| Failure::Runtime(format!("nsm: {url}: {e}")))?;
        note(format!(
            "nsm: {url}: announcing as {}",
            if as_client {
                "an NSM :monitor:switch: client"
            } else {
                "a RaySession external monitor"
            }
        ));
        let mut status = Status::Ok;
        // Set once the run is to end (a signal, --count, a closed stdout): the quit is sent
        // and the rest is only read for the server's "monitor exit".
        let mut stopping = false;
        let mut stop_deadline: Option<tokio::time::Instant> = None;
        let mut printed = 0u64;
        // A flood of bad datagrams gives at most a line a second per cause.
        let mut malformed = diag::Throttle::new("nsm");
        loop {
            let item = tokio::select! {
                item = out.next(mon.recv()) => item,
                s = shutdown.wait(), if !stopping => {
                    stopping = true;
                    if as_client {
                        // An NSM client's goodbye is its exit: the server watches its pid.
                        break;
                    }
                    note(format!(
                        "nsm: {url}: {}: sending /ray/server/monitor_quit",
                        s.name()
                    ));
                    mon.quit();
                    stop_deadline = Some(tokio::time::Instant::now() + STOP_GRACE);
                    continue;
                }
                () = sleep_until(stop_deadline), if stop_deadline.is_some() => {
                    note(format!("nsm: {url}: no \"monitor exit\" in time; exiting"));
                    break;
                }
            };
            let Some(item) = item else { break };
            if let DriverEvent::Monitor {
                event: MonitorEvent::Open { instance_path, .. },
                ..
            } = &item
                && let Some(file) = &session_out
            {
                file.borrow_mut().open(instance_path);
            }
            if let Some(e) = item.to_event(server) {
                if stopping {
                    continue;
                }
                printed = printed.saturating_add(1);
                let enough = args.count.is_some_and(|n| printed >= n);
                if out.event(&e).is_break() || enough {
                    stopping = true;
                    if as_client {
                        break;
                    }
                    mon.quit();
                    stop_deadline = Some(tokio::time::Instant::now() + STOP_GRACE);
                }
                if let DriverEvent::Monitor {
                    event: MonitorEvent::Disconnected { reason },
                    ..
                } = &item
                {
                    note(format!(
                        "nsm: {url}: lost the server ({reason}); announcing again until it is back"
                    ));
                }
                if let DriverEvent::Monitor {
                    event: MonitorEvent::Reconnected,
                    ..
                } = &item
                {
                    note(format!("nsm: {url}: the server is back; registered again"));
                }
                continue;
            }
            match item {
                DriverEvent::Malformed { error, .. } => {
                    malformed.report(
                        &format!("{url}: skipped a malformed datagram ({})", error.cause()),
                        error,
                    );
                    status = Status::BadInput;
                }
                DriverEvent::Monitor { event, .. } => match event {
                    MonitorEvent::TimedOut { waiting_for } => {
                        malformed.finish();
                        return Err(Failure::Runtime(format!(
                            "nsm: {url}: no answer to {waiting_for}"
                        )));
                    }
                    MonitorEvent::AnnounceFailed { code, message } => {
                        malformed.finish();
                        return Err(Failure::Runtime(format!(
                            "nsm: {url} refused the announce: {message} ({code})"
                        )));
                    }
                    closed @ MonitorEvent::Closed { .. } => {
                        note(format!("nsm: {url}: {closed}"));
                        break;
                    }
                    other => note(format!("nsm: {url}: {other}")),
                },
                _ => {}
            }
        }
        malformed.finish();
        Ok(status)
    })
}

fn any_addr(v4: bool) -> std::net::SocketAddr {
    if v4 {
        std::net::SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        std::net::SocketAddr::from(([0u16; 8], 0))
    }
}

/// How `decode nsm` reads its input.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Layout {
    /// `whole` for a file ending in `.hex`, `lines` otherwise.
    Auto,
    /// One datagram per line, as hex (`#` lines and empty lines skipped).
    Lines,
    /// The whole input is one datagram, as hex; whitespace and newlines are ignored (the
    /// layout of the golden vectors in `tests/vectors/nsm/*.hex`).
    Whole,
}

/// `monwire decode nsm`: one datagram as hex per line, or a whole `.hex` golden vector.
#[derive(Args, Debug)]
#[command(after_help = "Examples:\n  monwire decode nsm capture.txt\n  \
    monwire decode nsm tests/vectors/nsm/ray-client-event-okr-ready.hex")]
pub(crate) struct DecodeArgs {
    /// The capture file (also a `--record` recording, or a pcap/pcapng capture); `-` or
    /// nothing for stdin.
    pub(crate) file: Option<PathBuf>,
    /// The capture layout.
    #[arg(long, value_enum, default_value = "auto")]
    layout: Layout,
    #[command(flatten)]
    pub(crate) pcap: crate::pcap::PcapArgs,
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("nsm: tokio runtime: {e}")))
}

fn loopback() -> std::net::SocketAddr {
    std::net::SocketAddr::from(([127, 0, 0, 1], 0))
}

fn unhex(line: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    capture::unhex_into(line, &mut bytes)?;
    Ok(bytes)
}

/// The messages of one datagram: one message, or a bundle's.
enum Batch {
    One(Message),
    Many(Vec<Message>),
}

/// Decodes a capture, printing one event per message.
pub(crate) fn decode(args: &DecodeArgs, out: &mut Pipeline) -> Run {
    let what = capture::name(args.file.as_deref());
    let input = capture::open(args.file.as_deref())?;
    let limits = Limits::default();
    let whole = match args.layout {
        Layout::Whole => true,
        Layout::Lines => false,
        Layout::Auto => args
            .file
            .as_ref()
            .is_some_and(|p| p.extension().is_some_and(|e| e == "hex")),
    };
    if whole {
        let bytes = capture::read_all(input, &what)?;
        let text = String::from_utf8_lossy(&bytes);
        return match unhex(&text)
            .and_then(|b| codec::decode_datagram(&b, &limits).map_err(|e| e.to_string()))
        {
            Ok(messages) => {
                for m in &messages {
                    if out.event(&to_event(m)).is_break() {
                        break;
                    }
                }
                Ok(Status::Ok)
            }
            Err(e) => {
                diag::note(&what, e);
                Ok(Status::BadInput)
            }
        };
    }
    let name: std::sync::Arc<str> = what.as_str().into();
    // One datagram buffer per thread; a datagram holding one message (not a bundle) is
    // decoded without collecting it into a list first.
    let mut datagram = Vec::with_capacity(256);
    let decode_line = move |n: usize, line: &str, out: &mut dyn Emit| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return ControlFlow::Continue(());
        }
        datagram.clear();
        let decoded = capture::unhex_into(line, &mut datagram).and_then(|()| {
            if codec::is_bundle(&datagram) {
                codec::decode_datagram(&datagram, &limits).map(Batch::Many)
            } else {
                codec::decode_with(&datagram, &limits).map(Batch::One)
            }
            .map_err(|e| e.to_string())
        });
        match decoded {
            Ok(Batch::One(m)) => out.event(&to_event(&m))?,
            Ok(Batch::Many(messages)) => {
                for m in &messages {
                    out.event(&to_event(m))?;
                }
            }
            Err(e) => {
                out.note(diag::input_line(&name, n, None, e));
                out.bad_input();
            }
        }
        ControlFlow::Continue(())
    };
    parallel::decode_lines(input, &what, out, decode_line)
}

/// The demo part: our monitor server and our external monitor over loopback UDP.
pub(crate) fn demo(out: &mut Pipeline) -> Result<(), Failure> {
    let fail = |what: String| Failure::Runtime(format!("demo: nsm: {what}"));
    let stop = out.shutdown().clone();
    let rt = runtime()?;
    rt.block_on(async {
        let mut server = UdpServer::bind(loopback())
            .await
            .map_err(|e| fail(e.to_string()))?;
        let addr = server.local_addr().map_err(|e| fail(e.to_string()))?;
        server
            .core()
            .load_session("demo", &[("synth", "fluidsynth"), ("daw", "ardour")]);
        let server_task = tokio::spawn(async move {
            let mut announced = false;
            loop {
                let ServerInput::Messages { messages, .. } = server.recv().await? else {
                    continue;
                };
                if messages.contains(&monwire_nsm::Message::MonitorAnnounce) {
                    announced = true;
                    let core = server.core();
                    for (id, e) in [
                        ("synth", ClientEvent::StartRequest),
                        ("synth", ClientEvent::Started),
                        ("synth", ClientEvent::Ready),
                        ("daw", ClientEvent::StartRequest),
                        ("daw", ClientEvent::Started),
                        ("daw", ClientEvent::StoppedByItself),
                    ] {
                        // Both ids were loaded above.
                        let _ = core.client_event(id, e);
                    }
                    server.flush().await?;
                }
                if announced
                    && messages.contains(&monwire_nsm::Message::MonitorQuit)
                    && server.core().monitors().is_empty()
                {
                    return Ok::<(), std::io::Error>(());
                }
            }
        });
        let mut mon = Monitor::external(loopback(), addr, Duration::from_secs(5))
            .await
            .map_err(|e| fail(e.to_string()))?;
        let run = async {
            let mut quit_sent = false;
            while let Some(item) = mon.recv().await {
                if let Some(e) = item.to_event(addr) {
                    let last = e.subject == "daw" && e.name == "stopped_by_itself";
                    if (out.event(&e).is_break() || last) && !quit_sent {
                        quit_sent = true;
                        mon.quit();
                    }
                    continue;
                }
                match item {
                    DriverEvent::Monitor {
                        event: MonitorEvent::Closed { confirmed: true },
                        ..
                    } => return Ok(()),
                    DriverEvent::Monitor {
                        event: MonitorEvent::Closed { confirmed: false },
                        ..
                    } => return Err(fail("the server did not confirm the quit".into())),
                    DriverEvent::Monitor {
                        event: MonitorEvent::TimedOut { waiting_for },
                        ..
                    } => return Err(fail(format!("no answer to {waiting_for}"))),
                    _ => {}
                }
            }
            Err(fail("the monitor stopped early".into()))
        };
        let Some(ran) =
            crate::shutdown::or_stop(&stop, tokio::time::timeout(Duration::from_secs(10), run))
                .await
        else {
            server_task.abort();
            return Ok(()); // stopped by a signal
        };
        ran.map_err(|_| fail("timed out".into()))??;
        tokio::time::timeout(Duration::from_secs(5), server_task)
            .await
            .map_err(|_| fail("server did not finish".into()))?
            .map_err(|e| fail(e.to_string()))?
            .map_err(|e| fail(e.to_string()))?;
        Ok(())
    })
}

/// The `serve nsm` script format (the `--help` long text).
pub(crate) const SCRIPT_FORMAT: &str = "\
Plays a scripted RaySession session to every monitor that announces: RaySession external \
monitors (/ray/server/monitor_announce) and NSM clients announcing :monitor:. The server \
answers announce, quit, reset and NSM announce exactly as ray-daemon 0.18 does; the script \
feeds the session's happenings.

Script: one command per line; words separated by blanks; empty lines and lines starting \
with # are skipped.

  session NAME          the session's name (default: monwire)
  client ID JACK_NAME   a client of the session; the client lines before the first other \
command form the session loaded at start (its clients are what a monitor's state list shows); \
a later one adds a client (client_updated ID JACK_NAME 0)
  event ID EVENT        client_event ID EVENT to every monitor (not to the client itself); \
EVENT is any event name: start_request started joined ready open_error save_request saved \
save_error stop_request stopped_by_server stopped_by_itself removed, switched_to:ID, \
id_changed_to:ID, new_alternative:ID, or anything else (sent as is)
  announced ID          the client announced: client_updated ID JACK_NAME 1
  trash ID              move the client to the trash (nothing is sent)
  remove ID             remove a trashed client for good (event removed)
  load [NAME]           (re)load the session with the current clients, as ray-daemon's \
load: switched_to for running clients, client_updated 0 for the others, then the state \
lists to every monitor
  close                 close the session silently
  wait MS               pause MS milliseconds

Playing starts when the first monitor announces (monitors announcing later get the current \
list, then what follows). With --loop the steps play again from the first one after the \
last (a second apart when the script has no wait); otherwise the server keeps answering after the last step until every external monitor \
has quit (NSM clients never say goodbye: after one announced, the server stays the full \
--linger) or --linger seconds have passed, then exits.

Output: progress on stderr; every datagram the server sends, as an event (JSON Lines with \
--json or when stdout is not a terminal), on stdout. Exit codes: 0 done, 1 runtime failure or \
a step that could not apply (reported with its line; play goes on), 2 bad arguments or a bad \
script.

Without --script, this built-in script plays:

";

/// The script played without `--script`.
pub(crate) const DEFAULT_SCRIPT: &str = "\
# A two-client session: a synth starts and becomes ready, a DAW starts, saves and crashes.
session demo
client synth fluidsynth
client daw ardour
wait 100
event synth start_request
event synth started
announced synth
event synth ready
event daw start_request
event daw started
announced daw
event daw ready
event daw save_request
event daw saved
wait 100
event daw stopped_by_itself
";

fn serve_long_about() -> String {
    format!("{SCRIPT_FORMAT}{DEFAULT_SCRIPT}")
}

/// `monwire serve nsm`: a monitor server playing a scripted session.
#[derive(Args, Debug)]
#[command(after_long_help = serve_long_about())]
pub(crate) struct ServeArgs {
    /// UDP port to bind on 127.0.0.1 (0: any free port, printed on stderr).
    #[arg(long, default_value_t = 0, conflicts_with = "listen")]
    port: u16,
    /// Address to bind instead (`HOST:PORT`, e.g. `0.0.0.0:11111`).
    #[arg(long)]
    listen: Option<std::net::SocketAddr>,
    /// The script (format: see `--help`); default: the built-in one.
    #[arg(long)]
    script: Option<PathBuf>,
    /// Play the steps again and again.
    #[arg(long = "loop")]
    repeat: bool,
    /// Seconds to keep answering after the last step while a monitor is still registered.
    #[arg(long, default_value_t = 10)]
    linger: u64,
}

/// One step of a script.
#[derive(Clone, Debug, PartialEq)]
enum Step {
    Add(String, String),
    Event(String, ClientEvent),
    Announced(String),
    Trash(String),
    Remove(String),
    Load(Option<String>),
    Close,
    Wait(Duration),
}

/// A parsed script: the session loaded at start, then the steps.
#[derive(Debug, Default, PartialEq)]
struct Script {
    session: Option<String>,
    clients: Vec<(String, String)>,
    steps: Vec<(usize, Step)>,
}

fn parse_script(text: &str) -> Result<Script, String> {
    let mut script = Script::default();
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let bad = || format!("line {n}: expected {}", usage_of(words.first().copied()));
        let step = match words.as_slice() {
            ["session", name] => {
                script.session = Some((*name).to_owned());
                continue;
            }
            ["client", id, jack] if script.steps.is_empty() => {
                script.clients.push(((*id).to_owned(), (*jack).to_owned()));
                continue;
            }
            ["client", id, jack] => Step::Add((*id).to_owned(), (*jack).to_owned()),
            ["event", id, event] => Step::Event((*id).to_owned(), ClientEvent::parse(event)),
            ["announced", id] => Step::Announced((*id).to_owned()),
            ["trash", id] => Step::Trash((*id).to_owned()),
            ["remove", id] => Step::Remove((*id).to_owned()),
            ["load"] => Step::Load(None),
            ["load", name] => Step::Load(Some((*name).to_owned())),
            ["close"] => Step::Close,
            ["wait", ms] => Step::Wait(Duration::from_millis(ms.parse().map_err(|_| bad())?)),
            [word, ..] if usage_of(Some(*word)) == "a command" => {
                return Err(format!("line {n}: unknown command {word:?}"));
            }
            _ => return Err(bad()),
        };
        script.steps.push((n, step));
    }
    Ok(script)
}

fn usage_of(word: Option<&str>) -> &'static str {
    match word {
        Some("session") => "`session NAME`",
        Some("client") => "`client ID JACK_NAME`",
        Some("event") => "`event ID EVENT`",
        Some("announced") => "`announced ID`",
        Some("trash") => "`trash ID`",
        Some("remove") => "`remove ID`",
        Some("load") => "`load [NAME]`",
        Some("close") => "`close`",
        Some("wait") => "`wait MILLISECONDS`",
        _ => "a command",
    }
}

/// Applies one step to the server core.
fn play(
    core: &mut MonitorServer<SocketAddr>,
    session: &mut String,
    step: &Step,
) -> Result<(), String> {
    match step {
        Step::Add(id, jack) => core.add_client(id, jack).map_err(|e| e.to_string())?,
        Step::Event(id, e) => core
            .client_event(id, e.clone())
            .map_err(|e| e.to_string())?,
        Step::Announced(id) => core.client_announced(id).map_err(|e| e.to_string())?,
        Step::Trash(id) => core.trash_client(id).map_err(|e| e.to_string())?,
        Step::Remove(id) => core.remove_definitely(id).map_err(|e| e.to_string())?,
        Step::Load(name) => {
            if let Some(name) = name {
                name.clone_into(session);
            }
            let clients: Vec<(String, String)> = core
                .clients()
                .map(|(id, jack, _)| (id.to_owned(), jack.to_owned()))
                .collect();
            let refs: Vec<(&str, &str)> = clients
                .iter()
                .map(|(i, j)| (i.as_str(), j.as_str()))
                .collect();
            core.load_session(session, &refs);
        }
        Step::Close => core.close_session(),
        Step::Wait(_) => {}
    }
    Ok(())
}

/// Sends what the core queued, printing each datagram as an event.
async fn send_queued(
    socket: &tokio::net::UdpSocket,
    core: &mut MonitorServer<SocketAddr>,
    out: &mut Pipeline,
) -> Result<(), Failure> {
    while let Some((to, msg)) = core.poll_transmit() {
        let bytes = codec::encode(&msg).map_err(|e| Failure::Runtime(format!("nsm: {e}")))?;
        if let Err(e) = socket.send_to(&bytes, to).await {
            note(format!("nsm: sending to {to}: {e}"));
            continue;
        }
        let _ = out.event(&to_event(&msg).with_source(format!("osc.udp://{to}/")));
    }
    Ok(())
}

/// Runs the server until the script ends and the monitors are gone (or forever with `--loop`).
pub(crate) fn serve(args: &ServeArgs, out: &mut Pipeline) -> Run {
    let text = match &args.script {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| Failure::Usage(format!("nsm: {}: {e}", path.display())))?,
        None => DEFAULT_SCRIPT.to_owned(),
    };
    let what = args
        .script
        .as_ref()
        .map_or_else(|| "built-in script".to_owned(), |p| p.display().to_string());
    let script = parse_script(&text).map_err(|e| Failure::Usage(format!("nsm: {what}: {e}")))?;
    let listen = args
        .listen
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], args.port)));
    // A looping script without any `wait` still leaves a second between rounds.
    let round_pause = if script.steps.iter().any(|(_, s)| matches!(s, Step::Wait(_))) {
        Duration::ZERO
    } else {
        Duration::from_secs(1)
    };
    let rt = runtime()?;
    rt.block_on(async {
        let shutdown = out.shutdown().clone();
        let socket = tokio::net::UdpSocket::bind(listen)
            .await
            .map_err(|e| Failure::Runtime(format!("nsm: binding {listen}: {e}")))?;
        let addr = socket
            .local_addr()
            .map_err(|e| Failure::Runtime(format!("nsm: {e}")))?;
        let mut core = MonitorServer::<SocketAddr>::new();
        let mut session = script.session.clone().unwrap_or_else(|| "monwire".to_owned());
        let clients: Vec<(&str, &str)> = script
            .clients
            .iter()
            .map(|(i, j)| (i.as_str(), j.as_str()))
            .collect();
        core.load_session(&session, &clients);
        note(format!(
            "nsm: serving session {session:?} ({} clients, {} steps) on osc.udp://{addr}/; waiting for a monitor",
            clients.len(),
            script.steps.len()
        ));
        let limits = Limits::default();
        let mut buf = vec![0u8; 65_536];
        let mut status = Status::Ok;
        let mut malformed = diag::Throttle::new("nsm");
        // `None` until a monitor announces; then the next step and when it is due.
        let mut next: Option<(usize, tokio::time::Instant)> = None;
        let mut finished_at: Option<tokio::time::Instant> = None;
        // NSM `:monitor:` clients never say goodbye: with one, the server stays for --linger.
        let mut nsm_client_seen = false;
        let linger = Duration::from_secs(args.linger);
        loop {
            send_queued(&socket, &mut core, out).await?;
            if let Some(t) = finished_at {
                if core.monitors().is_empty() && !nsm_client_seen {
                    note("nsm: script done and no monitor left; exiting");
                    return Ok(status);
                }
                if tokio::time::Instant::now() >= t + linger {
                    note("nsm: script done; linger time over; exiting");
                    return Ok(status);
                }
            }
            let step_due = next.map(|(_, at)| at);
            let linger_due = finished_at.map(|t| t + linger);
            tokio::select! {
                stop = shutdown.wait() => {
                    // ray-daemon's own goodbye: close the session, stopping every running
                    // client in reverse order, so that every monitor sees them stop.
                    note(format!(
                        "nsm: {}; closing the session and exiting",
                        stop.name()
                    ));
                    core.terminate();
                    send_queued(&socket, &mut core, out).await?;
                    malformed.finish();
                    return Ok(status);
                }
                r = socket.recv_from(&mut buf) => {
                    let (n, from) = r.map_err(|e| Failure::Runtime(format!("nsm: {e}")))?;
                    let datagram = buf.get(..n).unwrap_or_default();
                    match codec::decode_datagram(datagram, &limits) {
                        Ok(messages) => {
                            for m in messages {
                                let monitor = match &m {
                                    Message::MonitorAnnounce => true,
                                    Message::Announce { capabilities, .. } => {
                                        capabilities.contains(&Capability::Monitor)
                                    }
                                    _ => false,
                                };
                                if monitor {
                                    note(format!("nsm: monitor {from} announced"));
                                    nsm_client_seen |= matches!(m, Message::Announce { .. });
                                }
                                if matches!(m, Message::MonitorQuit)
                                    && core.monitors().contains(&from)
                                {
                                    note(format!("nsm: monitor {from} quit"));
                                }
                                core.handle_message(from, m);
                                if monitor && next.is_none() && finished_at.is_none() {
                                    next = Some((0, tokio::time::Instant::now()));
                                }
                            }
                        }
                        Err(error) => {
                            malformed.report(
                                &format!("skipped a malformed datagram ({})", error.cause()),
                                format!("from {from}: {error}"),
                            );
                            if let Some((path, tags)) = error.unaccepted_message() {
                                core.handle_unknown(from, path, tags);
                            }
                            status = Status::BadInput;
                        }
                    }
                }
                () = sleep_until(step_due), if step_due.is_some() => {
                    let Some((mut i, _)) = next else { continue };
                    next = None;
                    // Play steps until a wait or the end.
                    loop {
                        let Some((line, step)) = script.steps.get(i) else {
                            if args.repeat && !script.steps.is_empty() {
                                note("nsm: script done; again");
                                next = Some((0, tokio::time::Instant::now() + round_pause));
                            } else {
                                note("nsm: script done");
                                finished_at = Some(tokio::time::Instant::now());
                            }
                            break;
                        };
                        i += 1;
                        if let Step::Wait(d) = step {
                            next = Some((i, tokio::time::Instant::now() + *d));
                            break;
                        }
                        if let Err(e) = play(&mut core, &mut session, step) {
                            note(format!("nsm: {what}:{line}: {e}"));
                            status = Status::BadInput;
                        }
                    }
                }
                () = sleep_until(linger_due), if linger_due.is_some() => {}
            }
        }
    })
}

async fn sleep_until(at: Option<tokio::time::Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_script_parses_into_session_and_steps() {
        let s = parse_script(DEFAULT_SCRIPT).unwrap();
        assert_eq!(s.session.as_deref(), Some("demo"));
        assert_eq!(
            s.clients,
            vec![
                ("synth".to_owned(), "fluidsynth".to_owned()),
                ("daw".to_owned(), "ardour".to_owned())
            ]
        );
        assert_eq!(
            s.steps.first(),
            Some(&(5, Step::Wait(Duration::from_millis(100))))
        );
        assert_eq!(
            s.steps.get(1),
            Some(&(
                6,
                Step::Event("synth".to_owned(), ClientEvent::StartRequest)
            ))
        );
    }

    #[test]
    fn script_commands_parse_and_late_clients_are_added() {
        let s = parse_script(
            "# c\n\nclient a A\nevent a switched_to:b\nclient c C\nload x\nload\nclose\n\
             trash a\nremove a\nannounced c\nevent a weird\n",
        )
        .unwrap();
        let steps: Vec<Step> = s.steps.into_iter().map(|(_, s)| s).collect();
        assert_eq!(
            steps,
            vec![
                Step::Event("a".into(), ClientEvent::SwitchedTo("b".into())),
                Step::Add("c".into(), "C".into()),
                Step::Load(Some("x".into())),
                Step::Load(None),
                Step::Close,
                Step::Trash("a".into()),
                Step::Remove("a".into()),
                Step::Announced("c".into()),
                Step::Event("a".into(), ClientEvent::Other("weird".into())),
            ]
        );
    }

    #[test]
    fn script_errors_name_the_line_and_the_expected_form() {
        let e = parse_script("client a A\nwait soon\n").unwrap_err();
        assert_eq!(e, "line 2: expected `wait MILLISECONDS`");
        let e = parse_script("\nevent a\n").unwrap_err();
        assert_eq!(e, "line 2: expected `event ID EVENT`");
        let e = parse_script("dance\n").unwrap_err();
        assert_eq!(e, "line 1: unknown command \"dance\"");
    }
}
