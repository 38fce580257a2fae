//! The pure mapping: [`Event`] → OTLP [`LogRecord`], and a batch of events → one
//! [`ExportLogsServiceRequest`] grouped by resource and scope.
//!
//! The table of what goes where is in the [crate documentation](crate#the-mapping).

use std::time::{SystemTime, UNIX_EPOCH};

use monwire_event::{Event, Protocol, Value};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    AnyValue, ArrayValue, InstrumentationScope, KeyValue, KeyValueList, any_value,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource;

use crate::resource::ResourceInfo;

/// The version of every monwire crate (the workspace version), used as the scope version.
pub const MONWIRE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// The attribute key holding the normalized [`Kind`](monwire_event::Kind) (`connected`, …).
pub const ATTR_KIND: &str = "monwire.kind";
/// The attribute key holding [`Event::subject`].
pub const ATTR_SUBJECT: &str = "monwire.subject";
/// The attribute key holding [`Event::source`] (absent when the event has none).
pub const ATTR_SOURCE: &str = "monwire.source";

/// The instrumentation scope name of a protocol: the codec crate that decoded it
/// (`monwire-zmq`, `monwire-nsm` for NSM and Ray, `monwire-galaxy`, `monwire-sysadm`), or
/// `monwire-event` for a protocol this version does not know.
pub fn scope_name(protocol: &Protocol) -> &'static str {
    match protocol.family() {
        Protocol::Zmq => "monwire-zmq",
        Protocol::Nsm | Protocol::Ray => "monwire-nsm",
        Protocol::Galaxy => "monwire-galaxy",
        Protocol::SysAdm => "monwire-sysadm",
        _ => "monwire-event",
    }
}

/// The instrumentation scope of a protocol: [`scope_name`] and [`MONWIRE_VERSION`].
pub fn scope(protocol: &Protocol) -> InstrumentationScope {
    InstrumentationScope {
        name: scope_name(protocol).to_owned(),
        version: MONWIRE_VERSION.to_owned(),
        ..Default::default()
    }
}

/// Nanoseconds since the Unix epoch, `0` (OTLP's "unknown") for `None` or a time before 1970,
/// saturating past the year 2554.
pub fn unix_nanos(time: Option<SystemTime>) -> u64 {
    time.and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The OTLP value of an attribute value (see the crate docs for the table).
///
/// An unsigned integer above `i64::MAX` has no OTLP integer; it becomes its decimal string.
pub fn any_value(value: Value) -> AnyValue {
    use any_value::Value as V;
    let v = match value {
        Value::Bool(b) => V::BoolValue(b),
        Value::Int(i) => V::IntValue(i),
        Value::UInt(u) => match i64::try_from(u) {
            Ok(i) => V::IntValue(i),
            Err(_) => V::StringValue(u.to_string()),
        },
        Value::Float(f) => V::DoubleValue(f),
        Value::Str(s) => V::StringValue(s),
        Value::Bytes(b) => V::BytesValue(b),
        Value::List(items) => V::ArrayValue(ArrayValue {
            values: items.into_iter().map(any_value).collect(),
        }),
        Value::Map(map) => V::KvlistValue(KeyValueList {
            values: map
                .into_iter()
                .map(|(k, v)| key_value(k.into_owned(), any_value(v)))
                .collect(),
        }),
        // `Value` is non-exhaustive: a future variant reads as its debug text rather than
        // vanishing.
        other => V::StringValue(format!("{other:?}")),
    };
    AnyValue { value: Some(v) }
}

fn key_value(key: String, value: AnyValue) -> KeyValue {
    KeyValue {
        key,
        value: Some(value),
        ..Default::default()
    }
}

fn string_value(s: String) -> AnyValue {
    AnyValue {
        value: Some(any_value::Value::StringValue(s)),
    }
}

/// Map one event to its OTLP log record, consuming it (no string is copied twice).
///
/// `observed_time_unix_nano` is [`Event::observed`]; an event without one falls back to its wire
/// time, then to `0`. The [`Exporter`](crate::Exporter) stamps `observed` on events that lack it
/// when they are handed to it.
pub fn to_log_record(mut event: Event) -> LogRecord {
    let time_unix_nano = unix_nanos(event.time);
    let observed = unix_nanos(event.observed.or(event.time));
    let body = string_value(match event.summary.take() {
        Some(summary) => summary,
        None => event.summary_text().into_owned(),
    });
    let mut event_name =
        String::with_capacity(event.protocol.as_str().len() + 1 + event.name.len());
    event_name.push_str(event.protocol.as_str());
    event_name.push('.');
    event_name.push_str(&event.name);
    let mut attributes = Vec::with_capacity(event.attributes.len() + 3);
    attributes.extend(
        event
            .attributes
            .into_iter()
            .map(|(k, v)| key_value(k.into_owned(), any_value(v))),
    );
    attributes.push(key_value(
        ATTR_KIND.to_owned(),
        string_value(event.kind.as_str().to_owned()),
    ));
    attributes.push(key_value(
        ATTR_SUBJECT.to_owned(),
        string_value(event.subject),
    ));
    if let Some(source) = event.source {
        attributes.push(key_value(ATTR_SOURCE.to_owned(), string_value(source)));
    }
    LogRecord {
        time_unix_nano,
        observed_time_unix_nano: observed,
        severity_number: i32::from(event.severity.number()),
        severity_text: event.severity.as_str().to_owned(),
        body: Some(body),
        attributes,
        event_name,
        ..Default::default()
    }
}

/// Map a batch of events to one export request: one `ResourceLogs` for `resource`, one
/// `ScopeLogs` per codec crate in order of first appearance, records in event order within each.
pub fn to_request(
    resource: &ResourceInfo,
    events: impl IntoIterator<Item = Event>,
) -> ExportLogsServiceRequest {
    // Few scopes (one per codec crate): a linear search beats a map.
    let mut scopes: Vec<ScopeLogs> = Vec::new();
    for event in events {
        let name = scope_name(&event.protocol);
        let index = match scopes
            .iter()
            .position(|s| s.scope.as_ref().is_some_and(|sc| sc.name == name))
        {
            Some(i) => i,
            None => {
                scopes.push(ScopeLogs {
                    scope: Some(scope(&event.protocol)),
                    ..Default::default()
                });
                scopes.len() - 1
            }
        };
        if let Some(s) = scopes.get_mut(index) {
            s.log_records.push(to_log_record(event));
        }
    }
    ExportLogsServiceRequest {
        resource_logs: vec![ResourceLogs {
            resource: Some(Resource {
                attributes: resource.to_key_values(),
                ..Default::default()
            }),
            scope_logs: scopes,
            ..Default::default()
        }],
    }
}

/// The number of log records in a request.
pub fn record_count(request: &ExportLogsServiceRequest) -> usize {
    request
        .resource_logs
        .iter()
        .flat_map(|r| &r.scope_logs)
        .map(|s| s.log_records.len())
        .sum()
}

pub use crate::protobuf::{encode_events, encode_events_into};

/// The request as OTLP protobuf bytes (the body of OTLP/HTTP `application/x-protobuf`).
///
/// To encode events, [`encode_events`] writes the same bytes straight from them, several
/// times faster, without building the request.
pub fn encode_protobuf(request: &ExportLogsServiceRequest) -> Vec<u8> {
    prost::Message::encode_to_vec(request)
}

/// The request as OTLP/JSON bytes (the body of OTLP/HTTP `application/json`): lower camel case
/// field names, 64-bit integers as strings, bytes in base64, as the OTLP specification defines.
#[cfg(feature = "http-json")]
#[cfg_attr(docsrs, doc(cfg(feature = "http-json")))]
pub fn encode_json(request: &ExportLogsServiceRequest) -> Result<Vec<u8>, crate::Error> {
    serde_json::to_vec(request).map_err(|e| crate::Error::Json(e.to_string()))
}
