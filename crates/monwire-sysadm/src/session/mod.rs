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
pub use server::{
    AllowAll, ConnId, Outgoing, OverflowAction, Server, ServerConfig, StaticUser, Verifier,
};
