//! Galaxy Communicator 4.0 for monitoring tools: Galaxy objects, the XDR wire and the frame
//! text syntax, and the Hub GUI protocol in every role.
//!
//! A Galaxy Communicator Hub reports its activity (providers, messages, sessions, tokens, locks,
//! its debugger) to one *Hub GUI* server over TCP, as Galaxy frames in XDR. This crate lets a
//! Rust program play any part of that exchange, byte-exact with the C library:
//!
//! - [`message`]: the object model ([`Frame`], [`Object`], [`Message`]), property order kept.
//! - [`codec`]: XDR decode/encode of objects and the 8-byte `type, size` message framing, with
//!   [`Limits`](codec::Limits) and a stream decoder that says "need more bytes" (`Ok(None)`).
//! - [`text`]: the frame text reader and the PR, PP and outline printers (`gui.out` form).
//! - [`status`]: the Hub → GUI status messages as typed values (unknown frames kept as frames).
//! - [`session`]: sans-IO state machines for the three roles: [`GuiServer`]
//!   (the Hub connects to us, `-gui host:port`), [`GuiClient`] (we connect
//!   to a Hub listener, `-gui "<listener>:port"`) and [`HubSide`] (we play the
//!   Hub). Bytes in, bytes and events out; no sockets, no clock.
//! - [`event`]: status messages to and from [`monwire_event::Event`], losslessly.
//! - [`script`]: the script format for playing the Hub side (`monwire serve galaxy --script`).
//! - `tokio` (feature `tokio`): thin TCP drivers for the three roles (`GuiListener` keeps
//!   accepting Hubs, with a handshake deadline), and `MessageCodec` for
//!   `tokio_util::codec::{FramedRead, FramedWrite}`.
//!
//! [`monwire_event`] is re-exported, so one dependency line is enough.
//!
//! # Features
//!
//! - `tokio`: the TCP adapter and the tokio-util codec (`tokio` module). Without it the crate
//!   pulls no runtime.
//!
//! # Example
//!
//! ```
//! use monwire_galaxy::codec::{decode, encode};
//! use monwire_galaxy::message::{Frame, Message, MsgType};
//! use monwire_galaxy::text::{pr_frame, read_frame};
//!
//! let frame = read_frame(b"{c token_status :action 2 :tidx 1 }").unwrap();
//! let bytes = encode(&Message::frame(MsgType::Message, frame.clone())).unwrap();
//! assert_eq!(&bytes[..8], &[0, 0, 0, 1, 0, 0, 0, 0x48]);
//! let (msg, used) = decode(&bytes).unwrap().unwrap();
//! assert_eq!(used, bytes.len());
//! assert_eq!(msg.as_frame(), Some(&frame));
//! assert_eq!(pr_frame(&frame), b"{c token_status :action 2 :tidx 1 }");
//! // A partial message is "need more bytes", not an error.
//! assert_eq!(decode(&bytes[..20]).unwrap(), None);
//! ```
//!
//! # Where the C code and the documentation disagree
//!
//! The wire (GC 4.0 Hub and `sample_hub_gui`) wins everywhere; see the `status` and `session`
//! docs. In short: `:provider_id` is a string (`"[0]"`), not an int; `token_status :tidx` is an
//! int, not a string; `session_status :session_id` comes with every action;
//! `session_alarm_status :session_id` holds the alarm key; `new_service_type` gets no reply;
//! `hub_debug_prompt` blocks until a matched REPLY (it does not "postpone"), and the C stub names
//! that reply `hub_debug_prompt` where the docs say `hub_debug_cmd` (we send `hub_debug_cmd`;
//! the Hub takes either); Galaxy uuencode adds 0x20, not the 0x30 its source comment says;
//! GAL_INT_64 elements are 4 bytes on LP64 C ([`codec::Int64Width`]).
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod codec;
pub mod error;
pub mod event;
mod index;
pub mod message;
pub mod script;
pub mod session;
pub mod status;
pub mod text;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod tokio;

pub use error::{DecodeError, DecodeErrorKind, EncodeError, SessionError};
pub use message::{Frame, FrameType, Message, MsgType, Object};
pub use session::{GuiClient, GuiEvent, GuiServer, HubEvent, HubSide};
pub use status::StatusMessage;

/// The shared event model, so one dependency line is enough.
pub use monwire_event;

/// The README's example, compiled and run as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
