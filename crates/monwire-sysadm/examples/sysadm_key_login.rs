//! The certificate login (`auth_ssl`) between the sans-IO client and server, in memory: the
//! server holds a public key, the client logs in with the private key, and every frame of the
//! exchange is printed (the signature and the token redacted). No sockets, no runtime.
//!
//! ```sh
//! cargo run -p monwire-sysadm --features ssl-auth --example sysadm_key_login [KEY.pem]
//! ```
//!
//! With a PEM private key file (for example from `openssl genrsa -out key.pem 2048`) it uses
//! that key; without one it makes a 2048-bit key.

use std::time::Instant;

use monwire_sysadm::codec::{Limits, decode};
use monwire_sysadm::session::{
    AllowAll, AuthorizedKey, Client, ClientConfig, ClientTransmit, Outgoing, Server, ServerConfig,
};
use monwire_sysadm::ssl::SigningKey;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = match std::env::args().nth(1) {
        Some(path) => SigningKey::from_pem(&std::fs::read_to_string(path)?, None)?,
        None => SigningKey::generate(2048)?,
    };
    let now = Instant::now();
    let mut server = Server::new(
        ServerConfig {
            authorized_keys: vec![AuthorizedKey::new("alice", key.public_key())],
            ..Default::default()
        },
        AllowAll,
    );
    let mut client = Client::new(
        ClientConfig {
            signing_key: Some(key),
            subscriptions: vec!["system-state".into()],
            ..Default::default()
        },
        "wss://example:12150",
    );
    let conn = server.accept(now, "127.0.0.1:40000");
    client.handle_connected(now);
    let show = |arrow: &str, text: &str| -> Result<(), Box<dyn std::error::Error>> {
        // Display never shows a signature or a token.
        println!("{arrow} {}", decode(text.as_bytes(), &Limits::default())?);
        Ok(())
    };
    for _ in 0..10 {
        while let Some(ClientTransmit::Text(t)) = client.poll_transmit() {
            show("client →", &t)?;
            server.handle_text(now, conn, t.as_bytes());
        }
        while let Some(Outgoing::Text(t)) = server.poll_transmit(conn) {
            show("server →", &t)?;
            client.handle_text(now, t.as_bytes());
        }
    }
    while let Some(e) = server.poll_event() {
        println!("server event: {}", e.summary_text());
    }
    assert!(client.is_ready(), "the key login failed");
    println!("logged in with the key");
    Ok(())
}
