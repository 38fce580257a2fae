//! Live, through the tokio adapter: a SysAdm-compatible server and a client on loopback. The
//! client identifies, logs in, subscribes; the server publishes a `system-state`; the client
//! prints what it gets, then both close with a websocket close frame.
//!
//! ```sh
//! cargo run -p monwire-sysadm --features tokio --example sysadm_live
//! ```
//!
//! Against a real SysAdm server, drop the server part and connect to
//! `wss://HOST:12150` with `ClientTls::Verify { ca_file: Some(its certificate) }`.

use std::time::Duration;

use monwire_sysadm::message::{EventBody, Message, Priority, SystemState};
use monwire_sysadm::session::{ClientConfig, ClientEvent, ServerConfig, StaticUser};
use monwire_sysadm::tokio::{ClientOptions, ServerOptions, ServerTls, spawn_client, spawn_server};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (server, _server_events) = spawn_server(ServerOptions {
        listen: "127.0.0.1:0".parse()?,
        // Plain ws:// on loopback; `SelfSigned` or `Files` for wss://.
        tls: ServerTls::Plain,
        config: ServerConfig::default(),
        verifier: Box::new(StaticUser {
            username: "alice".into(),
            password: "secret".into(),
        }),
    })
    .await?;
    println!("server at {}", server.url());

    let mut opts = ClientOptions::new(&server.url())?;
    opts.config = ClientConfig {
        credentials: Some(("alice".into(), "secret".into())),
        subscriptions: vec!["system-state".into()],
        ..Default::default()
    };
    let mut client = spawn_client(opts)?;
    let state = Message::event(EventBody::SystemState(SystemState {
        hostname: Some("example-box".into()),
        priority: Some(Priority::from_level(0)),
        ..Default::default()
    }));
    loop {
        let Ok(Some(ev)) = tokio::time::timeout(Duration::from_secs(10), client.next()).await
        else {
            return Err("the client stopped or timed out".into());
        };
        match ev {
            ClientEvent::Session(e) => {
                println!("session: {}", e.summary_text());
                if e.name == "subscribed" {
                    server.publish(&state)?;
                }
            }
            ClientEvent::Event(m) => {
                println!("event: {m}");
                break;
            }
        }
    }
    client.close();
    client.join().await?;
    server.shutdown_gracefully(Duration::from_secs(1)).await;
    Ok(())
}
