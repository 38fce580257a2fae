//! The protocol-neutral event model shared by the monwire codecs.
//!
//! Every monwire codec (`monwire-zmq`, `monwire-nsm`, `monwire-galaxy`, `monwire-sysadm`) maps
//! its wire messages into [`Event`] and back, so an application can watch several monitoring
//! protocols through one type, filter them by a normalized [`Kind`] and [`Severity`], and
//! translate between them. An `Event` keeps both truths: the normalized kind *and* the
//! protocol's own [`name`](Event::name) and namespaced [`attributes`](Event::attributes), from
//! which each codec rebuilds its message exactly (the *lossless* law every codec proves).
//!
//! This crate has no required dependencies. Feature flags:
//!
//! - `serde`: the stable JSON form documented in the `json` module (one object per event;
//!   the `monwire` CLI prints JSON Lines of it).
//!
//! # Example
//!
//! ```
//! use monwire_event::{Event, Kind, Protocol, Severity, Value};
//!
//! let event = Event::new(Protocol::Zmq, Kind::Connected, "CONNECTED")
//!     .with_subject("tcp://127.0.0.1:5555")
//!     .with_attr("zmq.fd", 25u64);
//! assert_eq!(event.severity, Severity::Info);
//! assert_eq!(event.attr("zmq.fd"), Some(&Value::UInt(25)));
//! assert_eq!(event.to_string(), "zmq connected CONNECTED tcp://127.0.0.1:5555 zmq.fd=25");
//! ```
//!
//! # Normalization table
//!
//! Which protocol event reads as which [`Kind`]. The protocol's own name is always kept in
//! [`Event::name`].
//!
//! | Kind | ZeroMQ monitor (`zmq`) |
//! |---|---|
//! | `listening` | `LISTENING` |
//! | `connecting` | `CONNECT_DELAYED`, `CONNECT_RETRIED` |
//! | `connected` | `CONNECTED`, `ACCEPTED` |
//! | `ready` | `HANDSHAKE_SUCCEEDED` |
//! | `disconnected` | `DISCONNECTED` |
//! | `closed` | `CLOSED` |
//! | `failed` | `BIND_FAILED`, `ACCEPT_FAILED`, `CLOSE_FAILED`, `HANDSHAKE_FAILED_NO_DETAIL`, `HANDSHAKE_FAILED_PROTOCOL`, `HANDSHAKE_FAILED_AUTH` |
//! | `stats` | `PIPES_STATS` |
//! | `end_of_stream` | `MONITOR_STOPPED` |
//! | `other` | any code this version does not know |
//!
//! # Attribute keys
//!
//! Keys are namespaced by protocol: `zmq.*`, `nsm.*`, `ray.*`, `galaxy.*`, `sysadm.*`. Each
//! codec crate documents its keys in its `event` module.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod event;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub mod json;
mod value;

pub use event::{Event, Kind, Protocol, Severity};
pub use value::{Attributes, Value};
