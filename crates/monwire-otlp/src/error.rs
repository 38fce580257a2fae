//! Errors of configuration and setup. Send failures are not errors: they are
//! [`Outcome`](crate::batch::Outcome)s, retried or counted.

/// What went wrong setting up an exporter. Messages never hold header values (they may be
/// credentials).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An environment variable holds a value the specification does not allow.
    #[error("environment variable {var}: {why}")]
    Env {
        /// The variable.
        var: &'static str,
        /// What is wrong with its value.
        why: String,
    },
    /// The endpoint is not an `http://` or `https://` URL with a host.
    #[error("OTLP endpoint {endpoint:?}: {why}")]
    Endpoint {
        /// The endpoint as given.
        endpoint: String,
        /// What is wrong with it.
        why: String,
    },
    /// A header name or value cannot be sent (the value itself is not shown).
    #[error("OTLP header {name:?}: {why}")]
    Header {
        /// The header name.
        name: String,
        /// What is wrong with it.
        why: String,
    },
    /// The protocol is known but this build does not include its transport.
    #[error("OTLP protocol {protocol} is not in this build (enable the cargo feature `{feature}`)")]
    NotBuilt {
        /// The protocol (`grpc`, `http/json`, …).
        protocol: &'static str,
        /// The feature that brings it.
        feature: &'static str,
    },
    /// A protocol name other than `grpc`, `http/protobuf` or `http/json`.
    #[error("unknown OTLP protocol {0:?} (expected grpc, http/protobuf or http/json)")]
    UnknownProtocol(String),
    /// The CA file cannot be read or holds no certificate.
    #[error("CA file {path}: {why}")]
    CaFile {
        /// The file.
        path: String,
        /// Why it cannot be used.
        why: String,
    },
    /// TLS setup failed.
    #[error("TLS setup: {0}")]
    Tls(String),
    /// The request could not be encoded as JSON (a non-finite float has no JSON form).
    #[error("OTLP/JSON encoding: {0}")]
    Json(String),
    /// [`Exporter::start`](crate::Exporter::start) was called outside a tokio runtime.
    #[error("the OTLP exporter must be started inside a tokio runtime")]
    NoRuntime,
}
