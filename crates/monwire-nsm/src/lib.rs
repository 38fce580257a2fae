//! NSM `:monitor:` and RaySession external-monitor messages over OSC/UDP.
//!
//! RaySession's daemon tells *monitors* about the clients of the session it runs: a state list
//! (`client_state`), every happening (`client_event`: `started`, `ready`, `stopped_by_itself`,
//! …) and changes (`client_updated`). Two kinds of peer can listen:
//!
//! - an NSM session client that announces the `:monitor:` capability, on the
//!   `/nsm/client/monitor/…` paths, and
//! - an *external monitor*, any OSC peer that sends `/ray/server/monitor_announce`, on the
//!   `/ray/monitor/…` paths.
//!
//! This crate covers both directions and both roles, following what ray-daemon 0.18 (RaySession
//! master `8f6657ab`) was observed to send over loopback UDP, which differs from RaySession's
//! manual page (`manual/raysession/monitor_capability_api`) in several places:
//!
//! - [`message`] and [`codec`]: typed messages for both path families, both `client_state`
//!   forms (`,si` of v0.12–0.13 and `,ssi` with its `"" "" N` end marker), the events, replies,
//!   errors and the NSM announce/open/save a monitor client speaks; decode and encode on
//!   [`rosc`], with bundle depth, length and trailing bytes checked by this crate.
//! - [`session`]: sans-IO state machines, no sockets, no clock: the consumer roles
//!   [`ExternalMonitor`](session::ExternalMonitor) and
//!   [`MonitorClient`](session::MonitorClient) with their [`Model`](session::Model) of the
//!   session's clients, and the producer role [`MonitorServer`](session::MonitorServer), which
//!   emits ray-daemon's sequences exactly.
//! - [`event`]: lossless mapping to and from [`monwire_event::Event`] (`Protocol::Nsm` for
//!   `/nsm/` paths, `Protocol::Ray` for `/ray/` ones), each event with a one-line summary, and
//!   the normalization table. `Ray`'s protocol family is `Nsm`: a
//!   [`Filter`](monwire_event::Filter) on `nsm` keeps `ray` events too (see [`event`]).
//! - `tokio` (feature `tokio`): a thin UDP driver per role, honouring `NSM_URL`.
//!
//! # Feature flags
//!
//! - `tokio`: the UDP drivers in the `tokio` module (`tokio` with `net`, `time`, `sync`, `rt`,
//!   `macros`; `futures-core` for `Stream`). Without it the crate pulls in no runtime.
//!
//! # Example
//!
//! An external monitor and a server, driven against each other in memory:
//!
//! ```
//! use std::time::{Duration, Instant};
//! use monwire_nsm::session::{ExternalMonitor, MonitorEvent, MonitorServer};
//! use monwire_nsm::{ClientEvent, codec};
//!
//! let mut server = MonitorServer::<&str>::new();
//! server.load_session("demo", &[("synth", "fluidsynth")]);
//! let mut monitor = ExternalMonitor::new(Duration::from_secs(1));
//! let now = Instant::now();
//! monitor.start(now);
//!
//! // Move messages both ways, through the codec, until nothing is left to send.
//! let mut pump = |server: &mut MonitorServer<&str>, monitor: &mut ExternalMonitor| loop {
//!     let mut moved = false;
//!     while let Some(m) = monitor.poll_transmit() {
//!         let bytes = codec::encode(&m).unwrap();
//!         server.handle_message("monitor", codec::decode(&bytes).unwrap());
//!         moved = true;
//!     }
//!     while let Some((_to, m)) = server.poll_transmit() {
//!         let bytes = codec::encode(&m).unwrap();
//!         monitor.handle_message(codec::decode(&bytes).unwrap(), now);
//!         moved = true;
//!     }
//!     if !moved { break; }
//! };
//! pump(&mut server, &mut monitor);
//! server.client_event("synth", ClientEvent::Started).unwrap();
//! pump(&mut server, &mut monitor);
//!
//! let client = monitor.model().get("synth").unwrap();
//! assert_eq!(client.jack_name, "fluidsynth");
//! assert!(client.started);
//! let mut saw_started = false;
//! while let Some(e) = monitor.poll_event() {
//!     if let MonitorEvent::Monitor(m) = &e {
//!         let event = monwire_nsm::event::to_event(m);
//!         saw_started |= event.name == "started";
//!     }
//! }
//! assert!(saw_started);
//! ```
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod codec;
pub mod error;
pub mod event;
pub mod message;
pub mod session;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;
mod wire;

pub use monwire_event;

pub use codec::{Limits, decode, encode};
pub use error::{DecodeError, DecodeErrorKind, EncodeError};
pub use message::{Capabilities, Capability, ClientEvent, ErrorCode, Family, Message};
