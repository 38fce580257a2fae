//! ZeroMQ socket-monitor events: the v1 and v2 wire formats, typed events, and a safe live
//! attach.
//!
//! libzmq reports what happens on a socket (listening, connects, handshakes, disconnects, …)
//! as messages on a monitor endpoint: **v1** is two frames (`zmq_socket_monitor`), **v2** is
//! `n + 4` frames (the DRAFT `zmq_socket_monitor_versioned`). This crate speaks both
//! directions:
//!
//! - **Consumer role:** decode frames handed over by any binding ([`codec`]), or attach to a
//!   `zmq::Socket` and read its monitor live ([`zmq`], feature `zmq`).
//! - **Producer role:** encode frames, for tests, proxies and re-publishing ([`codec`]).
//!
//! The core is sans-IO: [`codec`] and [`session`] are pure functions and state over bytes, with
//! no sockets and no clock. The adapters sit behind features, so a user who only decodes pulls
//! in neither libzmq nor a runtime. Every event maps losslessly to and from the protocol-neutral
//! [`monwire_event::Event`] ([`event`]).
//!
//! Decoding is total and never panics: unknown codes and shapes decode to
//! [`MonitorEvent::Unknown`] and re-encode to the same bytes; malformed messages give a
//! [`DecodeError`] naming the frame, the byte and what was wrong. The v1 decoder borrows the
//! endpoint and does not allocate.
//!
//! The protocol note this crate follows (the event table, both wire formats, libzmq's
//! back-pressure and teardown rules) is `PROTOCOL.md`, shipped beside this crate's sources.
//!
//! # Features
//!
//! - `zmq`: live attach through the `zmq` crate (builds its vendored libzmq 4.3.4; needs a C++
//!   compiler). Live v2 needs a DRAFT libzmq, which the `zmq` crate never builds. The adapter
//!   module [`zmq`] also re-exports the whole `zmq` crate (`monwire_zmq::zmq::Context`,
//!   `monwire_zmq::zmq::DEALER`), so one dependency line is enough.
//! - `tokio`: an async `Stream` of monitor messages (implies `zmq`).
//!
//! # Example
//!
//! ```
//! use monwire_zmq::codec::{ByteOrder, Codec};
//! use monwire_zmq::{EventCode, MonitorEvent, ProtocolError};
//! use monwire_zmq::monwire_event::Kind;
//!
//! // A HANDSHAKE_FAILED_PROTOCOL event as libzmq 4.3.4 sent it on x86_64.
//! let frames: [&[u8]; 2] = [&[0x00, 0x20, 0x02, 0x00, 0x00, 0x11], b"tcp://127.0.0.1:38317"];
//! let codec = Codec::new().with_byte_order(ByteOrder::Little);
//! let msg = codec.decode_v1(&frames)?;
//! assert_eq!(
//!     msg.event,
//!     MonitorEvent::HandshakeFailedProtocol(ProtocolError::ZmtpMechanismMismatch)
//! );
//!
//! assert_eq!(
//!     msg.to_string(),
//!     "tcp://127.0.0.1:38317 handshake failed: ZMTP_MECHANISM_MISMATCH"
//! );
//!
//! // Into the shared event model and back, losslessly.
//! let event = monwire_zmq::event::to_event(&msg);
//! assert_eq!(event.kind, Kind::Failed);
//! assert_eq!(event.name, "HANDSHAKE_FAILED_PROTOCOL");
//! assert_eq!(event.summary_text(), msg.to_string());
//! let back = monwire_zmq::event::from_event(&event)?;
//! assert_eq!(codec.encode(&back.view())?, frames.map(<[u8]>::to_vec));
//! # Ok::<(), Box<dyn std::error::Error>>(())
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
#[cfg(feature = "zmq")]
#[cfg_attr(docsrs, doc(cfg(feature = "zmq")))]
pub mod zmq;

pub use monwire_event;

/// The README's examples, compiled and run as doctests.
#[cfg(all(doctest, feature = "zmq"))]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

pub use codec::{ByteOrder, Codec, Limits};
pub use error::{DecodeError, DecodeErrorKind, EncodeError, EventError};
pub use message::{
    Errno, EventCode, EventMask, Message, MessageRef, MonitorEvent, ProtocolError, V1Message,
    V1MessageRef, V2Message, V2MessageRef, Values, ZapStatus,
};
pub use session::{EndReason, MonitorSession};
