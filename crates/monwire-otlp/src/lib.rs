//! Export monwire events to OpenTelemetry: every [`Event`](monwire_event::Event) becomes an OTLP
//! log record, sent over OTLP/HTTP (protobuf or JSON) or OTLP/gRPC to any collector
//! (the OpenTelemetry Collector, rotel, Grafana Alloy, Vector, a vendor's endpoint).
//!
//! - [`map`] is the pure mapping, [`batch`] the pure queue/batch/retry core (sans-IO, injected
//!   clock); both work without any feature.
//! - [`Exporter`] (features `http`, `http-json`, `grpc`) is the tokio adapter that drives them.
//!
//! ```
//! use monwire_otlp::monwire_event::{Event, Kind, Protocol, Severity};
//! use monwire_otlp::{map, ResourceInfo};
//!
//! let event = Event::new(Protocol::Zmq, Kind::Connected, "CONNECTED")
//!     .with_subject("tcp://127.0.0.1:5555")
//!     .with_severity(Severity::Info)
//!     .with_attr("zmq.fd", 7u64);
//! let request = map::to_request(&ResourceInfo::empty(), [event]);
//! let scope = &request.resource_logs[0].scope_logs[0];
//! assert_eq!(scope.scope.as_ref().unwrap().name, "monwire-zmq");
//! let record = &scope.log_records[0];
//! assert_eq!(record.event_name, "zmq.CONNECTED");
//! assert_eq!(record.severity_number, 9);
//! let bytes = map::encode_protobuf(&request); // the OTLP/HTTP body
//! assert!(!bytes.is_empty());
//! ```
//!
//! # The mapping
//!
//! This table is stable: a change to it is a breaking change of this crate.
//!
//! | OTLP `LogRecord` field | from the `Event` |
//! |---|---|
//! | `time_unix_nano` | [`time`](monwire_event::Event::time), the time the wire carried; `0` (unknown) when it carried none |
//! | `observed_time_unix_nano` | [`observed`](monwire_event::Event::observed), stamped by the adapter that read it, else by [`Exporter::export`]; the pure mapping falls back to `time`, then `0` |
//! | `severity_number` | [`Severity::number`](monwire_event::Severity::number): TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17, FATAL 21 |
//! | `severity_text` | [`Severity::as_str`](monwire_event::Severity::as_str): `TRACE` … `FATAL` |
//! | `event_name` | `<protocol>.<name>`: `zmq.CONNECTED`, `nsm.client_stopped`, `ray.…`, `galaxy.…`, `sysadm.…` |
//! | `body` | string: [`Event::summary_text`](monwire_event::Event::summary_text), the one readable line |
//! | `attributes` | the event's attributes in order, typed (below), then `monwire.kind` (the normalized kind, `connected`), `monwire.subject`, and `monwire.source` when the event has a source |
//! | `trace_id`, `span_id`, `flags`, `dropped_attributes_count` | unset |
//!
//! | `monwire_event::Value` | OTLP `AnyValue` |
//! |---|---|
//! | `Bool` | `bool_value` |
//! | `Int` | `int_value` |
//! | `UInt` up to `i64::MAX` | `int_value` |
//! | `UInt` above `i64::MAX` | `string_value`, its decimal digits |
//! | `Float` | `double_value` |
//! | `Str` | `string_value` |
//! | `Bytes` | `bytes_value` |
//! | `List` | `array_value`, items mapped alike |
//! | `Map` | `kvlist_value`, keys in order, values mapped alike |
//!
//! **Resource** (one per exporter, see [`ResourceInfo`]): `service.name` (`OTEL_SERVICE_NAME`,
//! else from `OTEL_RESOURCE_ATTRIBUTES`, else `monwire`), `host.name` (the machine's), and every
//! attribute of `OTEL_RESOURCE_ATTRIBUTES`, all strings.
//!
//! **Scope**: the codec crate that decoded the event, name and version: `monwire-zmq`,
//! `monwire-nsm` (NSM and Ray), `monwire-galaxy`, `monwire-sysadm` (`monwire-event` for a
//! protocol this version does not know); the version is the monwire workspace version
//! ([`map::MONWIRE_VERSION`]).
//!
//! **Grouping**: each request has one `ResourceLogs` and, inside it, one `ScopeLogs` per scope
//! in order of first appearance in the batch; records keep their order within a scope.
//!
//! # Transports and configuration
//!
//! | feature | protocol | default endpoint |
//! |---|---|---|
//! | `http` (default) | OTLP/HTTP, `application/x-protobuf` | `http://localhost:4318/v1/logs` |
//! | `http-json` | OTLP/HTTP, `application/json` | `http://localhost:4318/v1/logs` |
//! | `grpc` | OTLP/gRPC, `LogsService/Export` | `http://localhost:4317` |
//!
//! All of them take gzip, extra headers, TLS with rustls (system roots or a CA file), a
//! per-request timeout, and read the standard `OTEL_EXPORTER_OTLP_*` variables
//! ([`ExporterConfig::from_env`] has the table). Retries: HTTP 429, 502, 503, 504 (with
//! `Retry-After`), gRPC UNAVAILABLE, CANCELLED, ABORTED, OUT_OF_RANGE, DATA_LOSS,
//! DEADLINE_EXCEEDED, and RESOURCE_EXHAUSTED with `RetryInfo`, and any connection failure or
//! timeout; every other status rejects the batch (counted, never retried).
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod batch;
pub mod config;
pub mod env;
mod error;
#[cfg(feature = "transport")]
mod exporter;
pub mod map;
mod protobuf;
pub mod resource;
#[cfg(feature = "transport")]
mod transport;

pub use batch::{BatchConfig, Counters};
pub use config::{Compression, ExporterConfig, OtlpProtocol};
pub use error::Error;
#[cfg(feature = "transport")]
#[cfg_attr(docsrs, doc(cfg(any(feature = "http", feature = "grpc"))))]
pub use exporter::Exporter;
pub use monwire_event;
/// The official OTLP types (`opentelemetry-proto`'s prost types) this crate builds requests of.
pub use opentelemetry_proto;
pub use resource::ResourceInfo;
