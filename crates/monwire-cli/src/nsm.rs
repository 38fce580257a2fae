//! NSM / RaySession monitors: `monwire watch nsm`, `monwire decode nsm` and the NSM demo part.
//!
//! Capture format for `decode nsm`: one UDP payload (an OSC message or bundle) per line, as hex;
//! whitespace inside a line is ignored, empty lines and lines starting with `#` are skipped.

use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use monwire_nsm::ClientEvent;
use monwire_nsm::codec::{self, Limits};
use monwire_nsm::event::to_event;
use monwire_nsm::session::{ClientConfig, MonitorEvent};
use monwire_nsm::tokio::{DriverEvent, Monitor, ServerInput, UdpServer, nsm_url, resolve_url};

use crate::output::{Printer, note};
use crate::{Failure, Run, Sink, Status, capture};

/// `monwire watch nsm`: register with an NSM/RaySession server and print the state list, then
/// every event.
#[derive(Args, Debug)]
pub(crate) struct WatchArgs {
    /// The server, `osc.udp://HOST:PORT/` (default: `$NSM_URL`).
    #[arg(long)]
    url: Option<String>,
    /// Announce as an NSM `:monitor:` client instead of a RaySession external monitor.
    #[arg(long)]
    as_client: bool,
    /// Seconds to wait for the server's answers.
    #[arg(long, default_value_t = 5)]
    timeout: u64,
}

/// `monwire decode nsm`: one datagram as hex per line.
#[derive(Args, Debug)]
pub(crate) struct DecodeArgs {
    /// The capture file; `-` or nothing for stdin.
    file: Option<PathBuf>,
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

/// Watches until the server stops answering, the sink breaks, or the monitor is closed.
pub(crate) fn watch(args: &WatchArgs, sink: Sink<'_>) -> Run {
    let rt = runtime()?;
    rt.block_on(async {
        let server = match &args.url {
            Some(u) => resolve_url(u).await,
            None => nsm_url().await,
        }
        .map_err(|e| Failure::Usage(format!("nsm: server address: {e}")))?;
        let bind = if server.is_ipv4() {
            any_addr(true)
        } else {
            any_addr(false)
        };
        let timeout = Duration::from_secs(args.timeout);
        let mut mon = if args.as_client {
            let pid = i32::try_from(std::process::id()).unwrap_or(i32::MAX);
            Monitor::nsm_client(ClientConfig::new("monwire", "monwire", pid), bind, server).await
        } else {
            Monitor::external(bind, server, timeout).await
        }
        .map_err(|e| Failure::Runtime(format!("nsm: {e}")))?;
        let mut status = Status::Ok;
        let mut quitting = false;
        while let Some(item) = mon.recv().await {
            if let Some(e) = item.to_event(server) {
                if sink(e).is_break() && !quitting {
                    quitting = true;
                    mon.quit();
                    if args.as_client {
                        break;
                    }
                }
                continue;
            }
            match item {
                DriverEvent::Malformed { from, error } => {
                    eprintln!("monwire: nsm: skipped a malformed datagram from {from}: {error}");
                    status = Status::BadInput;
                }
                DriverEvent::Monitor { event, .. } => match event {
                    MonitorEvent::TimedOut { waiting_for } => {
                        return Err(Failure::Runtime(format!(
                            "nsm: {server}: no answer to {waiting_for}"
                        )));
                    }
                    MonitorEvent::AnnounceFailed { code, message } => {
                        return Err(Failure::Runtime(format!(
                            "nsm: {server} refused the announce: {code:?} {message}"
                        )));
                    }
                    MonitorEvent::CountMismatch {
                        received,
                        announced,
                    } => {
                        eprintln!(
                            "monwire: nsm: state list had {received} entries but announced {announced}"
                        );
                    }
                    MonitorEvent::Closed { .. } => break,
                    other => note(format!("nsm: {other:?}")),
                },
                _ => {}
            }
        }
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

fn unhex(line: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<u8> = line.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !digits.len().is_multiple_of(2) {
        return Err("odd number of hex digits".to_owned());
    }
    digits
        .chunks(2)
        .map(|p| {
            std::str::from_utf8(p)
                .ok()
                .and_then(|s| u8::from_str_radix(s, 16).ok())
                .ok_or_else(|| format!("bad hex {:?}", String::from_utf8_lossy(p)))
        })
        .collect()
}

/// Decodes a capture, printing one event per message.
pub(crate) fn decode(args: &DecodeArgs, printer: &mut Printer) -> Run {
    let what = capture::name(args.file.as_deref());
    let input = capture::open(args.file.as_deref())?;
    let limits = Limits::default();
    let mut status = Status::Ok;
    capture::for_each_line(input, &what, |n, line| {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return ControlFlow::Continue(());
        }
        match unhex(line)
            .and_then(|b| codec::decode_datagram(&b, &limits).map_err(|e| e.to_string()))
        {
            Ok(messages) => {
                for m in &messages {
                    printer.event(&to_event(m))?;
                }
            }
            Err(e) => {
                eprintln!("monwire: {what}:{n}: {e}");
                status = Status::BadInput;
            }
        }
        ControlFlow::Continue(())
    })?;
    Ok(status)
}

/// The demo part: our monitor server and our external monitor over loopback UDP.
pub(crate) fn demo(printer: &mut Printer) -> Result<(), Failure> {
    let fail = |what: String| Failure::Runtime(format!("demo: nsm: {what}"));
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
                    if (printer.event(&e).is_break() || last) && !quit_sent {
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
        tokio::time::timeout(Duration::from_secs(10), run)
            .await
            .map_err(|_| fail("timed out".into()))??;
        tokio::time::timeout(Duration::from_secs(5), server_task)
            .await
            .map_err(|_| fail("server did not finish".into()))?
            .map_err(|e| fail(e.to_string()))?
            .map_err(|e| fail(e.to_string()))?;
        Ok(())
    })
}
