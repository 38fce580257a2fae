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
//! [`Event::name`]; each codec crate's `event` module has its full table with severities.
//!
//! | Kind | ZeroMQ monitor (`zmq`) | NSM / Ray monitor (`nsm`, `ray`) | Galaxy Hub GUI (`galaxy`) | SysAdm (`sysadm`) |
//! |---|---|---|---|---|
//! | `listening` | `LISTENING` | | `listener_status` 0 | |
//! | `connecting` | `CONNECT_DELAYED`, `CONNECT_RETRIED` | | | client reconnecting |
//! | `connected` | `CONNECTED`, `ACCEPTED` | | `provider_status` `:connected 1`; `handshake` | `bridge` with connections; client connected |
//! | `authenticated` | | | | client authenticated |
//! | `ready` | `HANDSHAKE_SUCCEEDED` | `ready`, `session_is_loaded` | `reinitialize` | |
//! | `disconnected` | `DISCONNECTED` | | `provider_status` `:connected 0` | `bridge` with none; client disconnected |
//! | `closed` | `CLOSED` | | | |
//! | `failed` | `BIND_FAILED`, `ACCEPT_FAILED`, `CLOSE_FAILED`, `HANDSHAKE_FAILED_*` | `open_error`, `save_error`, `/error`, `/minor_error` | `listener_status` 1 | dispatcher finished non-zero; life-preserver priority ≥ 6; auth failed; overflow |
//! | `added` | | `joined` | `new_service_type`, `add_menu_items`, `token_status` 1 | |
//! | `removed` | | `removed` | `token_status` 2 | |
//! | `starting` | | `start_request` | | dispatcher `pending` |
//! | `started` | | `started` | `session_status` 1, `session_alarm_status` 1 | dispatcher `running` (no output yet); replication starting |
//! | `stopping` | | `stop_request` | | |
//! | `stopped` | | `stopped_by_server`, `stopped_by_itself` | `session_status` 2, `session_alarm_status` 2 | dispatcher finished with all codes `"0"`; replication finished |
//! | `updated` | | `switched_to:`, `id_changed_to:`, `new_alternative:`, `client_updated` | `session_lock_status` 1/2, `session_alarm_status` 3 | client subscribed |
//! | `saved` | | `saved` | | life-preserver `snapshot` |
//! | `state` | | `client_state` (entries and end marker) | status snapshots (`…_status` 0, `message_queue_status`, `hub_debug_info`) | `system-state` |
//! | `progress` | | | | dispatcher running with output; replicating |
//! | `stats` | `PIPES_STATS` | | | |
//! | `message` | | | `message_event` | |
//! | `prompt` | | | `hub_debug_prompt` | |
//! | `end_of_stream` | `MONITOR_STOPPED` | `monitor_quit` | connection closed | |
//! | `other` | unknown codes | `save_request`, unknown events, requests and replies | any other frame | anything else |
//!
//! # Attribute keys
//!
//! Keys are namespaced by protocol: `zmq.*`, `nsm.*`, `ray.*`, `galaxy.*`, `sysadm.*`. Each
//! codec crate documents its keys in its `event` module. Values are typed ([`Value`]): scalars,
//! bytes, lists and ordered maps ([`Map`]), so a structure on the wire (SysAdm `args`, a Galaxy
//! frame) is a structured value, never serialized text of one.
//!
//! # NSM and Ray
//!
//! RaySession's external monitor is a dialect of NSM's `:monitor:` messages, sent by the same
//! daemon. Its events say [`Protocol::Ray`] (the codec needs the dialect to re-encode them), and
//! [`Protocol::family`] of `Ray` is `Nsm`, so a [`Filter`] on `nsm` keeps both dialects.
//!
//! # Summaries
//!
//! Each codec's `event::to_event` fills [`Event::summary`] with a short line for people
//! (`"client synth ready"`); its `event::summary_keys` names the attributes that line already
//! says, which a one-line view leaves out.
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod event;
mod filter;
#[cfg(feature = "serde")]
#[cfg_attr(docsrs, doc(cfg(feature = "serde")))]
pub mod json;
mod value;

pub use event::{Event, Kind, OtherProtocol, Protocol, Severity};
pub use filter::Filter;
pub use value::{Attributes, Map, Value, needs_quotes};
