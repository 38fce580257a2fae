//! Shared helpers for monwire's tests, fuzz targets and benchmarks.
//!
//! - [`peers`]: the rule for tests that need an outside peer (pyzmq, liblo, Python
//!   `websockets`): skip with a reason when `MONWIRE_REQUIRE_PEERS` is unset, fail when it is set.
//! - [`vectors`]: the golden vectors under `tests/vectors/<protocol>/` and the fuzz corpora.
//! - [`strategies`]: proptest strategies for [`monwire_event::Event`].
//! - [`otlp`]: a real OTLP collector (rotel) as a child process, its output parsed back.
//! - [`process`]: child processes: bounded waits, lines off a pipe, real signals.
//! - one module per protocol with its round-trip bodies, shared by the fuzz targets and the
//!   stable corpus-replay tests.
#![deny(missing_docs)]
// Test helpers fail loudly: a panic here is a failed test, which is the point.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[cfg(feature = "capture")]
pub mod capture;
#[cfg(feature = "galaxy")]
pub mod galaxy;
#[cfg(feature = "nsm")]
pub mod nsm;
#[cfg(feature = "otlp")]
pub mod otlp;
pub mod peers;
pub mod process;
pub mod strategies;
#[cfg(feature = "sysadm")]
pub mod sysadm;
pub mod vectors;
#[cfg(feature = "zmq")]
pub mod zmq;
