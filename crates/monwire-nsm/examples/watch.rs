//! Live, through the tokio adapter: a RaySession external monitor.
//!
//! With a URL (`osc.udp://host:port/`, what ray-daemon prints), it watches that daemon: it
//! keeps announcing until the daemon answers, prints the state list and every event, reports a
//! lost daemon and registers again when it is back, and on Ctrl-C sends
//! `/ray/server/monitor_quit` before it exits. Without one, it starts this crate's own
//! [`UdpServer`] on loopback, plays a short session to it, and stops after the last event.
//!
//! ```text
//! cargo run -p monwire-nsm --features tokio --example watch
//! cargo run -p monwire-nsm --features tokio --example watch -- osc.udp://127.0.0.1:16187/
//! ```

use std::net::SocketAddr;

use monwire_nsm::ClientEvent;
use monwire_nsm::session::{ExternalConfig, MonitorEvent};
use monwire_nsm::tokio::{DriverEvent, Monitor, UdpServer, resolve_url};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args().nth(1);
    let (server, demo) = match &url {
        Some(u) => (resolve_url(u).await?, false),
        None => (start_demo_server().await?, true),
    };
    let bind: SocketAddr = if server.is_ipv4() {
        "0.0.0.0:0".parse()?
    } else {
        "[::]:0".parse()?
    };
    let mut mon = Monitor::external_with(bind, server, ExternalConfig::default()).await?;
    let mut quitting = false;
    loop {
        let item = tokio::select! {
            item = mon.recv() => item,
            _ = tokio::signal::ctrl_c(), if !quitting => {
                quitting = true;
                mon.quit();
                continue;
            }
        };
        let Some(item) = item else { break };
        if let Some(e) = item.to_event(server) {
            println!(
                "{:<4} {:<8} {}",
                e.protocol.as_str(),
                e.kind.as_str(),
                e.summary_text()
            );
            if demo && e.subject == "daw" && e.name == "stopped_by_itself" && !quitting {
                quitting = true;
                mon.quit();
            }
            continue;
        }
        match item {
            DriverEvent::Monitor {
                event: MonitorEvent::Closed { confirmed },
                ..
            } => {
                eprintln!("closed (confirmed by the server: {confirmed})");
                break;
            }
            // Registered, retries, list complete, …: one readable line each.
            other => eprintln!("{other}"),
        }
    }
    Ok(())
}

/// Our own monitor server on loopback, playing a session once a monitor announces.
async fn start_demo_server() -> std::io::Result<SocketAddr> {
    let mut server = UdpServer::bind("127.0.0.1:0".parse().map_err(std::io::Error::other)?).await?;
    let addr = server.local_addr()?;
    server
        .core()
        .load_session("demo", &[("synth", "fluidsynth"), ("daw", "ardour")]);
    tokio::spawn(async move {
        let mut played = false;
        while server.recv().await.is_ok() {
            if played || server.core().monitors().is_empty() {
                continue;
            }
            played = true;
            let core = server.core();
            for (id, e) in [
                ("synth", ClientEvent::Started),
                ("synth", ClientEvent::Ready),
                ("daw", ClientEvent::Started),
                ("daw", ClientEvent::StoppedByItself),
            ] {
                let _ = core.client_event(id, e);
            }
            let _ = server.flush().await;
        }
    });
    Ok(addr)
}
