//! SysAdm websocket JSON events for monwire.
//!
//! [SysAdm](https://github.com/trueos/sysadm) is the TrueOS/FreeBSD system-administration
//! server: clients connect over a websocket (`wss://host:12150`), send JSON requests
//! (`{"args":…,"id":…,"name":…,"namespace":…}`), authenticate, and subscribe to three event
//! streams: `dispatcher` (jobs), `life-preserver` (ZFS snapshots and replication) and
//! `system-state` (a periodic health check). A relay, `sysadm-bridge`, adds its own `bridge`
//! event and routes frames as `<id>\n<payload>`.
//!
//! # Roles
//!
//! - **Client**: identify → authenticate (token when it holds a live one, else password, else
//!   the certificate login `auth_ssl` with feature `ssl-auth`) → subscribe → typed events,
//!   with keepalive, and reconnection with back-off that resubscribes to everything.
//! - **Server**: a SysAdm-compatible event server: identify, auth with a pluggable verifier
//!   (and `auth_ssl` against registered public keys with feature `ssl-auth`),
//!   sliding tokens, `auth_clear`, the 30 s unauthenticated deadline and idle timeout,
//!   subscribe/unsubscribe with SysAdm's reply rules, replay of the latest `system-state` and
//!   `life-preserver` on subscribe, and publishing of any event through bounded per-subscriber
//!   queues.
//!
//! # Layers
//!
//! - [`message`]: typed requests, replies, errors and events; unknown names and keys are kept.
//! - [`codec`]: [`decode`](codec::decode)/[`encode`](codec::encode) within [`Limits`](codec::Limits)
//!   (size checked and nesting pre-scanned before parsing), output byte-compatible with the
//!   server (compact, keys sorted); routed bridge frames.
//! - [`error`]: decode errors that say what and where.
//! - [`session`]: sans-IO [`Client`](session::Client) and [`Server`](session::Server): messages
//!   in, messages and events out, no sockets, no clock (time is passed in).
//! - [`event`]: lossless mapping to and from [`monwire_event::Event`], and the bridged form of
//!   any other protocol's events.
//! - `ssl` (feature `ssl-auth`): the certificate login's keys, challenge and raw PKCS#1 v1.5
//!   signatures.
//! - `tokio` (feature `tokio`): the thin adapter over `tokio-tungstenite`, `ws://` and `wss://`
//!   (rustls with the ring provider), client and server.
//!
//! # Features
//!
//! - `tokio`: the IO adapter. Without it the crate needs no runtime.
//! - `ssl-auth`: the certificate login (`rsa`, `pkcs8`, `base64`); without it `auth_ssl` gets a
//!   401 from the server and the client has no key option.
//!
//! # Example
//!
//! ```
//! use monwire_sysadm::codec::{decode, encode, Limits};
//! use monwire_sysadm::message::{Body, EventBody};
//!
//! let text = br#"{"args":{"class":"snapshot","message":"New snapshot of tank","priority":"1 - Information"},"id":"","name":"life-preserver","namespace":"events"}"#;
//! let msg = decode(text, &Limits::default())?;
//! let Body::Event(EventBody::LifePreserver(lp)) = &msg.body else { panic!() };
//! assert_eq!(lp.priority.as_ref().and_then(|p| p.level()), Some(1));
//! assert_eq!(encode(&msg, &Limits::default())?, text.to_vec());
//!
//! let event = monwire_sysadm::event::to_event(&msg);
//! assert_eq!(event.kind, monwire_event::Kind::Saved);
//! assert_eq!(event.summary.as_deref(), Some("snapshot: New snapshot of tank"));
//! assert_eq!(monwire_sysadm::event::from_event(&event)?, msg);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub use monwire_event;

pub mod codec;
pub mod error;
pub mod event;
mod fast;
mod json;
pub mod message;
pub mod session;
#[cfg(feature = "ssl-auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "ssl-auth")))]
pub mod ssl;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;
