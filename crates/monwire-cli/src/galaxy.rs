//! `monwire watch galaxy`, `monwire decode galaxy` and the Galaxy part of `monwire demo`.
//!
//! Capture format for `decode galaxy`: the raw byte stream of **one direction** of a Hub <-> GUI
//! TCP connection, a concatenation of messages (8-byte header `type, size`, then the XDR body),
//! as `tests/vectors/galaxy/cap.*` are.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::SystemTime;

use clap::{Args, ValueEnum};
use std::ops::ControlFlow;

use monwire_galaxy::codec::{Codec, Limits, StreamDecoder};
use monwire_galaxy::event::{gui_event_to_event, to_event};
use monwire_galaxy::message::Message;
use monwire_galaxy::message::lossy;
use monwire_galaxy::script::{Step, default_script};
use monwire_galaxy::session::{GuiEvent, default_hub_init};
use monwire_galaxy::text;
use monwire_galaxy::tokio::{
    GuiConfig, GuiConnection, GuiListener, HubConnection, Incoming, accept_hub, connect_to_hub,
};

use crate::output::note;
use crate::parallel::{self, At, BlockOut, Blocks, Direct, Emit, Records};
use crate::pipeline::Pipeline;
use crate::shutdown::Shutdown;
use crate::{Failure, Run, Status, capture};

/// `monwire watch galaxy`: be the Hub's GUI and print every status message as an event.
#[derive(Args, Debug)]
pub(crate) struct WatchArgs {
    /// Listen for the Hub (`hub -gui HOST:PORT`) on `[HOST:]PORT`.
    #[arg(long, value_name = "[HOST:]PORT", conflicts_with = "connect")]
    listen: Option<String>,
    /// Connect to a Hub listener (`hub -gui "<listener>:PORT"`).
    #[arg(long, value_name = "HOST:PORT")]
    connect: Option<String>,
    /// Answer every `hub_debug_prompt` with CMD (`c` continue, `s` sessions, `t` tokens, …).
    /// Without it, each prompt is asked on the terminal when stdin is one, and answered with
    /// `c` otherwise.
    #[arg(long, value_name = "CMD")]
    debug_cmd: Option<String>,
    /// Exit after this many events.
    #[arg(long, value_name = "N")]
    count: Option<u64>,
    /// With --listen: exit when the first Hub's connection ends, instead of waiting for the
    /// next Hub (a restarted Hub connects again).
    #[arg(long, requires = "listen")]
    once: bool,
}

/// How `decode galaxy` prints each message.
#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum PrintAs {
    /// One line of PR text per message.
    Pr,
    /// PP (pretty) text.
    Pp,
    /// Outline text (what the C GUI logs).
    Outline,
    /// Events (a line each, or JSON Lines with `--json`).
    Json,
    /// The message re-encoded, bytes only (`| cmp - FILE` proves a byte-exact round trip).
    Raw,
}

/// `monwire decode galaxy`: a captured byte stream of one direction, one message per block.
#[derive(Args, Debug)]
pub(crate) struct DecodeArgs {
    /// The capture file (also a `--record` recording, or a pcap/pcapng capture); `-` or
    /// nothing for stdin.
    pub(crate) file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) pcap: crate::pcap::PcapArgs,
    /// What to print.
    #[arg(long, value_enum, default_value = "json")]
    print: PrintAs,
}

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("galaxy: tokio runtime: {e}")))
}

fn listen_addr(spec: &str) -> String {
    if spec.contains(':') {
        spec.to_owned()
    } else {
        format!("0.0.0.0:{spec}")
    }
}

/// Runs `watch galaxy`.
pub(crate) fn watch(args: &WatchArgs, out: &mut Pipeline) -> Run {
    let fail = |what: String| Failure::Runtime(format!("galaxy: {what}"));
    // Interactive only when nobody chose an answer and a person can type one.
    let interactive = args.debug_cmd.is_none() && std::io::stdin().is_terminal();
    let config = if interactive {
        GuiConfig::default()
    } else {
        let cmd = args.debug_cmd.clone().unwrap_or_else(|| "c".to_owned());
        GuiConfig::default().with_debug_cmd(cmd.into_bytes())
    };
    let recorder =
        crate::record::Recorder::open(&crate::record::header::galaxy(args.connect.is_some()), out)?;
    let config = match &recorder {
        Some(r) => config.with_tap(r.galaxy_tap()),
        None => config,
    };
    let rt = runtime()?;
    let stop = out.shutdown().clone();
    rt.block_on(async {
        let mut seen = 0u64;
        if let Some(hub) = &args.connect {
            let conn = crate::shutdown::or_stop(&stop, connect_to_hub(hub.as_str(), config));
            let Some(conn) = conn.await else {
                return Ok(Status::Ok);
            };
            let conn = conn.map_err(|e| fail(format!("connecting to {hub}: {e}")))?;
            let peer = conn.peer();
            let ran = run_connection(conn, interactive, args.count, &mut seen, out).await;
            if let Some(r) = &recorder {
                r.galaxy_closed(peer);
            }
            return ran;
        }
        let addr = listen_addr(args.listen.as_deref().unwrap_or("4111"));
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|e| fail(format!("listening on {addr}: {e}")))?;
        let mut listener = GuiListener::new(listener, config);
        let bound = listener
            .local_addr()
            .map_err(|e| fail(format!("listening on {addr}: {e}")))?;
        note(format!("galaxy: waiting for the Hub on {bound}"));
        loop {
            let next = out.next(crate::shutdown::or_stop(&stop, listener.next()));
            let Some(next) = next.await else {
                // Stopped by a signal while no Hub was connected: nothing to say goodbye to.
                return Ok(Status::Ok);
            };
            let conn = match next {
                Ok(Incoming::Hub(conn)) => conn,
                Ok(Incoming::Dropped { peer, reason }) => {
                    note(format!("galaxy: dropped {peer}: {reason}"));
                    continue;
                }
                Ok(_) => continue,
                Err(e) => return Err(fail(format!("accepting on {bound}: {e}"))),
            };
            let peer = conn.peer();
            note(format!("galaxy: the Hub at {peer} connected"));
            let ran = run_connection(conn, interactive, args.count, &mut seen, out).await;
            if let Some(r) = &recorder {
                r.galaxy_closed(peer);
            }
            match ran {
                Ok(Status::Ok) if args.count.is_some_and(|n| seen >= n) => return Ok(Status::Ok),
                Ok(Status::Ok) => {}
                // A broken connection ends a single watch; a long-running one reports it and
                // waits for the next Hub.
                Err(Failure::Runtime(what)) if !args.once => note(what),
                other => return other,
            }
            if args.once || stop.is_requested() {
                return Ok(Status::Ok);
            }
            note(format!(
                "galaxy: the Hub at {peer} is gone; waiting for the next one on {bound}"
            ));
        }
    })
}

/// Prints one Hub connection's events until it ends, `count` events were printed in all, or a
/// signal asks to stop. On a signal the GUI's goodbye is to close the connection (a GUI has no
/// goodbye message; the Hub carries on without a GUI), after the events already received are
/// printed.
async fn run_connection(
    mut conn: GuiConnection,
    interactive: bool,
    count: Option<u64>,
    seen: &mut u64,
    out: &mut Pipeline,
) -> Run {
    let fail = |what: String| Failure::Runtime(format!("galaxy: {what}"));
    let source = conn.peer().to_string();
    let stop: Shutdown = out.shutdown().clone();
    loop {
        let Some(next) = out
            .next(crate::shutdown::or_stop(&stop, conn.next_event()))
            .await
        else {
            note(format!(
                "galaxy: closing the connection to the Hub at {source}"
            ));
            conn.close().await;
            return Ok(Status::Ok);
        };
        let Some(ev) = next else { break };
        let prompt = interactive
            && matches!(
                ev,
                GuiEvent::Status(monwire_galaxy::StatusMessage::HubDebugPrompt { .. })
            );
        let e = gui_event_to_event(&ev)
            .with_source(source.clone())
            .with_observed(SystemTime::now());
        *seen += 1;
        if out.event(&e).is_break() || count.is_some_and(|n| *seen >= n) {
            conn.close().await;
            return Ok(Status::Ok);
        }
        if prompt {
            eprint!(
                "galaxy: the Hub waits at a debug prompt; command (c continue, s sessions, t tokens, …)? "
            );
            let line = tokio::task::spawn_blocking(|| {
                let mut line = String::new();
                std::io::stdin().read_line(&mut line).map(|_| line)
            })
            .await
            .map_err(|e| fail(format!("reading the debug command: {e}")))?
            .map_err(|e| fail(format!("reading the debug command: {e}")))?;
            let cmd = match line.trim() {
                "" => "c".to_owned(),
                other => other.to_owned(),
            };
            conn.answer_debug_prompt(cmd.into_bytes())
                .map_err(|e| fail(format!("answering the debug prompt: {e}")))?;
        }
    }
    if conn.dropped_events() > 0 {
        note(format!(
            "galaxy: {} events dropped while the output was slow",
            conn.dropped_events()
        ));
    }
    conn.finish()
        .await
        .map_err(|e| fail(format!("{source}: {e}")))?;
    Ok(Status::Ok)
}

/// Runs `decode galaxy`.
pub(crate) fn decode(args: &DecodeArgs, out: &mut Pipeline) -> Run {
    let what = capture::name(args.file.as_deref());
    let input = capture::open(args.file.as_deref())?;
    let codec = Codec::default();
    let blocks = MessageBlocks {
        codec,
        print: args.print,
        what: what.as_str().into(),
    };
    let records = Messages {
        max: Limits::default().max_message_size,
    };
    let mut input = match parallel::decode(input, &what, out, records, blocks) {
        Ok(run) => return run,
        Err(input) => input,
    };
    let mut dec = StreamDecoder::new(codec);
    // The stream is read in blocks as it is decoded (a pipe from a live capture works too).
    let mut chunk = vec![0u8; 64 * 1024];
    let mut eof = false;
    loop {
        if out.shutdown().is_requested() {
            return Ok(Status::Ok);
        }
        let at = dec.offset();
        let msg = match dec.next_message() {
            Ok(Some(m)) => m,
            Ok(None) if !eof => {
                out.idle();
                match capture::read_chunk(&mut input, &mut chunk) {
                    Ok(0) => eof = true,
                    Ok(n) => dec.push(chunk.get(..n).unwrap_or_default()),
                    Err(e) => return Err(Failure::Runtime(format!("{what}: {e}"))),
                }
                continue;
            }
            Ok(None) if dec.buffered() == 0 => return Ok(Status::Ok),
            Ok(None) => {
                note(truncated(&what, at, dec.buffered()));
                return Ok(Status::BadInput);
            }
            Err(e) => {
                note(format!("{what}: {e}"));
                return Ok(Status::BadInput);
            }
        };
        let mut direct = Direct { out, bad: false };
        if print_message(args.print, &codec, &msg, at, &what, &mut direct).is_break() {
            return Ok(if direct.bad {
                Status::BadInput
            } else {
                Status::Ok
            });
        }
    }
}

fn truncated(what: &str, at: u64, left: usize) -> String {
    format!("{what}: truncated message at byte {at} ({left} bytes left)")
}

/// Prints one decoded message as `print` says. `Break` when the run stops: the output is
/// closed, or the message cannot be printed (said, and marked as bad input).
fn print_message(
    print: PrintAs,
    codec: &Codec,
    msg: &Message,
    at: u64,
    what: &str,
    emit: &mut dyn Emit,
) -> ControlFlow<()> {
    match print {
        PrintAs::Raw => match codec.encode(msg) {
            Ok(b) => emit.raw_bytes(&b),
            Err(e) => {
                emit.note(format!("monwire: {what}: message at byte {at}: {e}"));
                emit.bad_input();
                ControlFlow::Break(())
            }
        },
        PrintAs::Json => match msg.as_frame() {
            Some(f) => emit.event(
                &to_event(f)
                    .with_attr("galaxy.msg_type", msg.msg_type.code())
                    .with_attr("galaxy.offset", at),
            ),
            None => emit.raw_line(&format!("{} (no frame)", msg.msg_type)),
        },
        style => match msg.as_frame() {
            Some(f) => {
                let t = match style {
                    PrintAs::Pr => text::pr_frame(f),
                    PrintAs::Pp => text::pp_frame(f),
                    _ => text::outline_frame(f),
                };
                emit.raw_line(&lossy(&t))
            }
            None => match &msg.body {
                Some(o) => emit.raw_line(&lossy(&text::pr(o))),
                None => emit.raw_line(msg.msg_type.name()),
            },
        },
    }
}

/// Galaxy messages as records: an 8-byte header (type, body size), then the body.
struct Messages {
    max: u32,
}

impl Records for Messages {
    fn whole(&self, buf: &[u8], _seen: usize) -> usize {
        // Header to header: a message being filled costs one step per read.
        let mut at = 0usize;
        while let Some(size) = buf.get(at + 4..at + 8) {
            let size = i32::from_be_bytes([size[0], size[1], size[2], size[3]]);
            let Some(size) = u32::try_from(size).ok().filter(|&s| s <= self.max) else {
                // A header the decoder refuses: hand it over now, for the worker to say so.
                return buf.len();
            };
            let end = at + 8 + size as usize;
            if end > buf.len() {
                break;
            }
            at = end;
        }
        at
    }
}

/// A block of whole Galaxy messages, decoded as [`decode`] does on one thread.
#[derive(Clone)]
struct MessageBlocks {
    codec: Codec,
    print: PrintAs,
    what: std::sync::Arc<str>,
}

impl Blocks for MessageBlocks {
    fn decode(&mut self, block: &[u8], at: At, out: &mut BlockOut) {
        let mut pos = 0usize;
        while let Some(rest) = block.get(pos..).filter(|r| !r.is_empty()) {
            let offset = at.offset + pos as u64;
            let line = match self.codec.decode(rest) {
                Ok(Some((msg, used))) => {
                    pos += used;
                    if print_message(self.print, &self.codec, &msg, offset, &self.what, out)
                        .is_break()
                    {
                        out.stop();
                        return;
                    }
                    continue;
                }
                Ok(None) => truncated(&self.what, offset, rest.len()),
                Err(e) => format!("{}: {}", self.what, e.shifted(offset)),
            };
            Emit::note(out, format!("monwire: {line}"));
            Emit::bad_input(out);
            out.stop();
            return;
        }
    }
}

/// The demo part: our Hub side plays the default script to our GUI server over loopback TCP.
pub(crate) fn demo(out: &mut Pipeline) -> Result<(), Failure> {
    let fail = |what: String| Failure::Runtime(format!("demo: galaxy: {what}"));
    let rt = runtime()?;
    let stop = out.shutdown().clone();
    let events = rt.block_on(crate::shutdown::or_stop(&stop, async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| fail(e.to_string()))?;
        let addr = listener.local_addr().map_err(|e| fail(e.to_string()))?;
        let gui = tokio::spawn(async move {
            let mut conn =
                accept_hub(&listener, GuiConfig::default().with_debug_cmd("c\n")).await?;
            let mut events = Vec::new();
            while let Some(ev) = conn.next_event().await {
                events.push(ev);
            }
            conn.finish().await?;
            Ok::<_, monwire_galaxy::tokio::Error>(events)
        });
        let mut hub = HubConnection::connect(addr, Codec::default(), default_hub_init())
            .await
            .map_err(|e| fail(format!("hub side: {e}")))?;
        let steps = default_script();
        hub.play(&steps)
            .await
            .map_err(|e| fail(format!("hub side: {e}")))?;
        hub.close()
            .await
            .map_err(|e| fail(format!("hub side: {e}")))?;
        let events = gui
            .await
            .map_err(|e| fail(e.to_string()))?
            .map_err(|e| fail(format!("gui: {e}")))?;
        let sent = steps
            .iter()
            .filter(|s| !matches!(s, Step::Sleep(_)))
            .count();
        let statuses = events
            .iter()
            .filter(|e| matches!(e, GuiEvent::Status(_)))
            .count();
        if statuses != sent {
            return Err(fail(format!("sent {sent} status messages, saw {statuses}")));
        }
        Ok(events)
    }));
    // `None`: stopped by a signal.
    let Some(events) = events.transpose()? else {
        return Ok(());
    };
    for ev in &events {
        if out
            .event(&gui_event_to_event(ev).with_observed(SystemTime::now()))
            .is_break()
        {
            break;
        }
    }
    Ok(())
}

/// `monwire serve galaxy`: play the Hub side against any GUI: the handshake (or the listener
/// exchange), `reinitialize`, then a script (see `monwire_galaxy::script` for the format; the
/// built-in default sends one of each Hub status message and a debug prompt), then DISCONNECT.
#[derive(Args, Debug)]
#[command(group = clap::ArgGroup::new("peer").required(true))]
pub(crate) struct ServeArgs {
    /// Connect to a GUI server at HOST:PORT (what `hub -gui HOST:PORT` does).
    #[arg(long, value_name = "HOST:PORT", group = "peer")]
    gui: Option<String>,
    /// Listen on PORT for a GUI client (what `hub -gui "<listener>:PORT"` does).
    #[arg(long, value_name = "PORT", group = "peer")]
    listen: Option<u16>,
    /// The script; the built-in default when absent.
    #[arg(long, value_name = "FILE")]
    script: Option<PathBuf>,
}

/// Runs `serve galaxy`; the debug answers are reported on stderr.
pub(crate) fn serve(args: &ServeArgs, out: &mut Pipeline) -> Run {
    let fail = |what: String| Failure::Runtime(format!("galaxy: {what}"));
    let steps = match &args.script {
        None => default_script(),
        Some(p) => {
            let text = std::fs::read(p).map_err(|e| fail(format!("{}: {e}", p.display())))?;
            monwire_galaxy::script::parse(&text)
                .map_err(|e| fail(format!("{}: {e}", p.display())))?
        }
    };
    let stop = out.shutdown().clone();
    let rt = runtime()?;
    rt.block_on(async {
        let hub = match (&args.gui, args.listen) {
            (Some(gui), _) => crate::shutdown::or_stop(
                &stop,
                HubConnection::connect(gui.as_str(), Codec::default(), default_hub_init()),
            )
            .await
            .map(|r| r.map_err(|e| fail(format!("connecting to {gui}: {e}")))),
            (None, Some(port)) => {
                let listener = tokio::net::TcpListener::bind(("0.0.0.0", port))
                    .await
                    .map_err(|e| fail(format!("listening on {port}: {e}")))?;
                let bound = listener
                    .local_addr()
                    .map_err(|e| fail(format!("listening on {port}: {e}")))?;
                note(format!("galaxy: waiting for a GUI on {bound}"));
                crate::shutdown::or_stop(
                    &stop,
                    HubConnection::accept(&listener, Codec::default(), default_hub_init()),
                )
                .await
                .map(|r| r.map_err(|e| fail(format!("GUI: {e}"))))
            }
            (None, None) => return Err(Failure::Usage("--gui or --listen".to_owned())),
        };
        // Stopped by a signal before a GUI was there: nobody to say goodbye to.
        let Some(hub) = hub else {
            return Ok(Status::Ok);
        };
        let mut hub = hub?;
        // The script, step by step: a signal interrupts a pause or a wait for a debug answer
        // (never a frame half written), then the Hub's goodbye, DISCONNECT, is sent.
        for step in &steps {
            let done = match step {
                Step::Send(f) => {
                    hub.send_frame(f.clone())
                        .await
                        .map_err(|e| fail(e.to_string()))?;
                    true
                }
                Step::Sleep(d) => crate::shutdown::or_stop(&stop, tokio::time::sleep(*d))
                    .await
                    .is_some(),
                Step::Prompt => match crate::shutdown::or_stop(&stop, hub.debug_prompt()).await {
                    Some(answer) => {
                        let answer = answer.map_err(|e| fail(e.to_string()))?;
                        note(format!(
                            "galaxy: debug answer {:?}",
                            answer.as_deref().map(lossy).unwrap_or_default()
                        ));
                        true
                    }
                    None => false,
                },
            };
            if !done || stop.is_requested() {
                note("galaxy: stopping: sending DISCONNECT to the GUI".to_owned());
                break;
            }
        }
        hub.close().await.map_err(|e| fail(e.to_string()))?;
        Ok(Status::Ok)
    })
}
