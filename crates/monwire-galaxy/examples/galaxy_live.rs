//! Live, through the tokio adapter: a GUI server (`GuiListener`) on a loopback port, and a Hub
//! side in the same process that connects to it and plays the built-in script, as
//! `hub -gui 127.0.0.1:PORT` would. Every event the GUI sees is printed with its summary.
//!
//! With an argument, it waits for a real Hub instead: `cargo run -p monwire-galaxy --features
//! tokio --example galaxy_live -- 127.0.0.1:4111`, then start the Hub with `-gui 127.0.0.1:4111`.

use monwire_galaxy::codec::Codec;
use monwire_galaxy::event::gui_event_to_event;
use monwire_galaxy::script::default_script;
use monwire_galaxy::session::default_hub_init;
use monwire_galaxy::tokio::{GuiConfig, GuiListener, HubConnection, Incoming};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let real_hub = std::env::args().nth(1);
    let addr = real_hub.clone().unwrap_or_else(|| "127.0.0.1:0".to_owned());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let mut gui = GuiListener::new(listener, GuiConfig::default().with_debug_cmd("c"));
    let addr = gui.local_addr()?;
    println!("GUI listening on {addr}");

    if real_hub.is_none() {
        tokio::spawn(async move {
            let mut hub =
                HubConnection::connect(addr, Codec::default(), default_hub_init()).await?;
            hub.play(&default_script()).await?;
            hub.close().await
        });
    }

    let mut conn = loop {
        match gui.next().await? {
            Incoming::Hub(conn) => break conn,
            Incoming::Dropped { peer, reason } => eprintln!("dropped {peer}: {reason}"),
            _ => {}
        }
    };
    while let Some(ev) = conn.next_event().await {
        let e = gui_event_to_event(&ev);
        println!(
            "{:<13} {:<22} {}",
            e.kind.to_string(),
            e.name,
            e.summary_text()
        );
    }
    conn.finish().await?;
    Ok(())
}
