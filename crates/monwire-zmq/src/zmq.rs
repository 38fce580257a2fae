//! Live attach to a `zmq::Socket` (feature `zmq`).
//!
//! [`Monitor::attach`] arms libzmq's v1 monitor on a socket and connects a reader to it, in the
//! order that keeps `bind()` from blocking: arm (on a unique `inproc://` endpoint), create the
//! reader, connect it, and only then may the caller bind or connect the socket. The reader must
//! live in the socket's context, which `zmq::Socket` cannot tell us, so `attach` takes the
//! `zmq::Context` too.
//!
//! A `Monitor` is a blocking [`Iterator`] of typed [`V1Message`](crate::V1Message)s that ends at the end of the
//! stream: `MONITOR_STOPPED` (always armed, filtered out unless asked for) or context
//! termination (`ETERM`). `EINTR` is retried.
//!
//! # Back-pressure: libzmq never drops monitor events
//!
//! Each event is a blocking send. The inproc pipe holds about 2,000 messages (the monitor's
//! `SNDHWM` of 1,000 plus the reader's `RCVHWM` of 1,000); past that, the sending thread
//! blocks. That thread is `bind()` itself for `LISTENING`, and the context's I/O thread for
//! connect, accept, handshake and disconnect events, so **an unread monitor stalls every socket
//! of the context**. Read it (drain everything on each wakeup), or choose
//! [`AttachOptions::unbounded`], which sets the reader's `RCVHWM` to 0 before it connects: the
//! pipe then never fills and never stalls, at the cost of memory that grows while unread.
//!
//! # Teardown
//!
//! Closing the reader while the monitor is armed stalls the context at the next event. So:
//! - [`Monitor::stop`] drains what is queued, stops the monitor with the NULL endpoint (through
//!   `zmq-sys`, which the safe API cannot do), reads on to `MONITOR_STOPPED`, and closes the
//!   reader; the events read on the way are still yielded by the iterator.
//! - If the socket is closed instead, libzmq's reaper sends `MONITOR_STOPPED` after the
//!   socket's own last events; the iterator ends there and the reader is closed.
//! - Dropping a `Monitor` whose stream has not ended hands the reader to a background thread
//!   that keeps reading (and discarding) until `MONITOR_STOPPED` or `ETERM`, so nothing ever
//!   stalls the context.
//!
//! # The `zmq` crate, re-exported
//!
//! This module also re-exports every public item of the `zmq` crate (0.10), so that a user
//! needs one dependency line: `monwire_zmq::zmq::Context`, `monwire_zmq::zmq::DEALER`,
//! `monwire_zmq::zmq::Socket` are that crate's own types. (The crate cannot be re-exported as
//! `monwire_zmq::zmq` itself: this module has that name.)

#[doc(no_inline)]
pub use ::zmq::*;

mod monitor;

#[cfg(feature = "tokio")]
pub(crate) use monitor::stop_null;
pub use monitor::{AttachOptions, Monitor, MonitorError, Tap, TryRecv};
