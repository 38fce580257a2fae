//! The line formats of the `monwire` command, as a library: the readable text line and the
//! JSON line of a [`monwire_event::Event`] ([`view`]), and the writer of its recordings
//! ([`recording`]). The command itself is the `monwire`
//! binary of this package (`cargo install --path crates/monwire-cli`); this library exists so
//! that benches and embedders format events exactly as it does.
#![deny(missing_docs)]

pub mod recording;
pub mod view;
