//! Sans-IO sessions: [`Client`] and [`Server`].
//!
//! Neither owns a socket or reads a clock. The caller feeds in what happened (a websocket text
//! frame arrived, the connection opened or closed, time passed) with the current `Instant`,
//! and takes out what to do (frames to send, connections to close, events to report).
//!
//! # Run loop
//!
//! After **any** input (`handle_*`), drain every `poll_*` method until it returns `None`
//! (frames to send, events), then sleep until [`poll_timeout`](Client::poll_timeout) (or until
//! the next input), and call `handle_timeout` with the current time when it passes. Inputs
//! and timeouts may arrive in any order; calling `handle_timeout` early is harmless. The tokio
//! adapter (feature `tokio`) is exactly this loop around a websocket.

mod client;
mod server;

pub use client::{Client, ClientConfig, ClientEvent, ClientTransmit};
#[cfg(feature = "ssl-auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "ssl-auth")))]
pub use server::AuthorizedKey;
pub use server::{
    AllowAll, ConnId, LoginGuard, Outgoing, OverflowAction, Server, ServerConfig, StaticUser,
    Verifier,
};

/// A delay as people say it (`500 ms`, `2 s`, `1 min 30 s`).
pub(crate) fn human_delay(d: std::time::Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms} ms")
    } else if !ms.is_multiple_of(1000) && ms < 10_000 {
        format!("{:.1} s", d.as_secs_f64())
    } else if d.as_secs() < 60 {
        format!("{} s", d.as_secs())
    } else if d.as_secs().is_multiple_of(60) {
        format!("{} min", d.as_secs() / 60)
    } else {
        format!("{} min {} s", d.as_secs() / 60, d.as_secs() % 60)
    }
}

#[cfg(all(test, feature = "ssl-auth"))]
mod ssl_tests;
