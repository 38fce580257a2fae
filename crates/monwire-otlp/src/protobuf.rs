//! OTLP protobuf straight from events: the bytes of
//! `encode_protobuf(&to_request(resource, events))`, written without building the
//! `opentelemetry-proto` message tree (no `String` per key, value and record).
//!
//! Two passes over the same pre-order walk of the request: the first measures every nested
//! message and keeps the lengths in order, the second writes each message's length prefix from
//! that list and then its fields. Fields are written in tag order and proto3 defaults are left
//! out, as prost does, so the output is byte for byte the one of the struct path (a proptest in
//! `monwire-tests` holds the two to it).

use monwire_event::{Event, Value};
use prost::encoding::encoded_len_varint;

use crate::map::{ATTR_KIND, ATTR_SOURCE, ATTR_SUBJECT, MONWIRE_VERSION, scope_name, unix_nanos};
use crate::resource::ResourceInfo;

/// Protobuf wire types used here.
const VARINT: u8 = 0;
const FIXED64: u8 = 1;
const LEN: u8 = 2;

const fn key(tag: u8, wire: u8) -> u8 {
    (tag << 3) | wire
}

/// The length of a length-delimited field (key, length prefix, body) whose body is `body` bytes.
fn len_field(body: usize) -> usize {
    1 + encoded_len_varint(body as u64) + body
}

/// An attribute value's OTLP form, as far as the encoder needs to know it.
enum Scalar<'a> {
    Text(&'a str),
    Bool(bool),
    Int(i64),
    Double(f64),
    Bytes(&'a [u8]),
    /// An unsigned integer above `i64::MAX`, sent as its decimal text.
    BigUInt(u64),
}

/// The number of decimal digits of `u`.
fn digits(mut u: u64) -> usize {
    let mut n = 1;
    while u >= 10 {
        u /= 10;
        n += 1;
    }
    n
}

/// The body text of a record: [`Event::summary_text`] without building it.
enum BodyText<'a> {
    One(&'a str),
    /// `subject name`.
    Two(&'a str, &'a str),
}

impl BodyText<'_> {
    fn len(&self) -> usize {
        match self {
            BodyText::One(s) => s.len(),
            BodyText::Two(a, b) => a.len() + 1 + b.len(),
        }
    }
}

fn body_text(e: &Event) -> BodyText<'_> {
    match &e.summary {
        Some(s) => BodyText::One(s),
        None if e.subject.is_empty() => BodyText::One(&e.name),
        None => BodyText::Two(&e.subject, &e.name),
    }
}

/// The lengths of the nested messages, in the order the writer meets them.
struct Sizes {
    list: Vec<usize>,
    next: usize,
}

impl Sizes {
    /// Measures a nested message with `body`, records its length, and returns the length of
    /// the whole field.
    fn message(&mut self, body: impl FnOnce(&mut Sizes) -> usize) -> usize {
        let slot = self.list.len();
        self.list.push(0);
        let n = body(self);
        if let Some(s) = self.list.get_mut(slot) {
            *s = n;
        }
        len_field(n)
    }

    fn take(&mut self) -> usize {
        let n = self.list.get(self.next).copied().unwrap_or(0);
        self.next += 1;
        n
    }
}

/// The bytes of one OTLP/HTTP protobuf export request for `events` under `resource`:
/// exactly what [`encode_protobuf`](crate::map::encode_protobuf) writes for
/// [`to_request`](crate::map::to_request) of the same events, without building the request.
pub fn encode_events(resource: &ResourceInfo, events: &[Event]) -> Vec<u8> {
    let mut out = Vec::new();
    encode_events_into(resource, events, &mut out);
    out
}

/// [`encode_events`] appended to `out` (so a caller can reuse one buffer).
pub fn encode_events_into(resource: &ResourceInfo, events: &[Event], out: &mut Vec<u8>) {
    // Scopes in order of first appearance (few: one per codec crate), and each event's scope.
    let mut scopes: Vec<&'static str> = Vec::new();
    let mut scope_of: Vec<usize> = Vec::with_capacity(events.len());
    for e in events {
        let name = scope_name(&e.protocol);
        let i = match scopes.iter().position(|s| *s == name) {
            Some(i) => i,
            None => {
                scopes.push(name);
                scopes.len() - 1
            }
        };
        scope_of.push(i);
    }
    let mut sizes = Sizes {
        list: Vec::with_capacity(events.len() * 8 + 16),
        next: 0,
    };
    let total = measure_request(&mut sizes, resource, events, &scopes, &scope_of);
    out.reserve(total);
    let mut w = Writer { out, sizes };
    w.request(resource, events, &scopes, &scope_of);
}

fn str_field(s: usize) -> usize {
    len_field(s)
}

/// A string field that proto3 leaves out when empty.
fn opt_str_field(s: &str) -> usize {
    if s.is_empty() { 0 } else { str_field(s.len()) }
}

fn measure_request(
    sz: &mut Sizes,
    resource: &ResourceInfo,
    events: &[Event],
    scopes: &[&'static str],
    scope_of: &[usize],
) -> usize {
    // ExportLogsServiceRequest.resource_logs (1): one ResourceLogs.
    sz.message(|sz| {
        // ResourceLogs.resource (1)
        let mut n = sz.message(|sz| {
            resource
                .iter()
                .map(|(k, v)| sz.message(|sz| measure_kv(sz, k, |_| text_value(v.len()))))
                .sum()
        });
        // ResourceLogs.scope_logs (2)
        for (i, name) in scopes.iter().enumerate() {
            n += sz.message(|sz| {
                // ScopeLogs.scope (1): name, version.
                let mut s = sz.message(|_| opt_str_field(name) + opt_str_field(MONWIRE_VERSION));
                for (e, _) in events.iter().zip(scope_of).filter(|(_, s)| **s == i) {
                    // ScopeLogs.log_records (2)
                    s += sz.message(|sz| measure_record(sz, e));
                }
                s
            })
        }
        n
    })
}

/// An AnyValue body holding a string of `n` bytes.
fn text_value(n: usize) -> usize {
    str_field(n)
}

/// A KeyValue body: key (1), value (2, an AnyValue measured by `value`).
fn measure_kv(sz: &mut Sizes, key: &str, value: impl FnOnce(&mut Sizes) -> usize) -> usize {
    opt_str_field(key) + sz.message(value)
}

fn measure_record(sz: &mut Sizes, e: &Event) -> usize {
    let mut n = 0;
    if unix_nanos(e.time) != 0 {
        n += 9;
    }
    let sev = u64::from(e.severity.number());
    if sev != 0 {
        n += 1 + encoded_len_varint(sev);
    }
    n += opt_str_field(e.severity.as_str());
    let body = body_text(e).len();
    n += sz.message(|_| text_value(body));
    for (k, v) in e.attributes.iter() {
        n += sz.message(|sz| measure_kv(sz, k, |sz| measure_value(sz, v)));
    }
    n += sz.message(|sz| measure_kv(sz, ATTR_KIND, |_| text_value(e.kind.as_str().len())));
    n += sz.message(|sz| measure_kv(sz, ATTR_SUBJECT, |_| text_value(e.subject.len())));
    if let Some(src) = &e.source {
        n += sz.message(|sz| measure_kv(sz, ATTR_SOURCE, |_| text_value(src.len())));
    }
    if unix_nanos(e.observed.or(e.time)) != 0 {
        n += 9;
    }
    n += str_field(e.protocol.as_str().len() + 1 + e.name.len());
    n
}

fn scalar(v: &Value) -> Result<Scalar<'_>, ()> {
    Ok(match v {
        Value::Bool(b) => Scalar::Bool(*b),
        Value::Int(i) => Scalar::Int(*i),
        Value::UInt(u) => match i64::try_from(*u) {
            Ok(i) => Scalar::Int(i),
            Err(_) => Scalar::BigUInt(*u),
        },
        Value::Float(f) => Scalar::Double(*f),
        Value::Str(s) => Scalar::Text(s),
        Value::Bytes(b) => Scalar::Bytes(b),
        _ => return Err(()),
    })
}

/// An AnyValue body for `v`.
fn measure_value(sz: &mut Sizes, v: &Value) -> usize {
    match scalar(v) {
        Ok(Scalar::Bool(_)) => 2,
        Ok(Scalar::Int(i)) => 1 + encoded_len_varint(i as u64),
        Ok(Scalar::Double(_)) => 9,
        Ok(Scalar::Text(s)) => str_field(s.len()),
        Ok(Scalar::Bytes(b)) => str_field(b.len()),
        Ok(Scalar::BigUInt(u)) => str_field(digits(u)),
        Err(()) => match v {
            // AnyValue.array_value (5): ArrayValue.values (1), each an AnyValue.
            Value::List(items) => sz.message(|sz| {
                items
                    .iter()
                    .map(|item| sz.message(|sz| measure_value(sz, item)))
                    .sum()
            }),
            // AnyValue.kvlist_value (6): KeyValueList.values (1), each a KeyValue.
            Value::Map(m) => sz.message(|sz| {
                m.iter()
                    .map(|(k, v)| sz.message(|sz| measure_kv(sz, k, |sz| measure_value(sz, v))))
                    .sum()
            }),
            // A future variant: its debug text, as the struct path sends it.
            other => str_field(format!("{other:?}").len()),
        },
    }
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
    sizes: Sizes,
}

impl Writer<'_> {
    /// A base-128 varint, low group first (prost's `encode_varint` through `BufMut` costs a
    /// third of the encoding; lengths here are mostly one byte).
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.out.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.out.push(v as u8);
    }

    /// A length-delimited field holding a nested message written by `body`.
    fn message(&mut self, tag: u8, body: impl FnOnce(&mut Self)) {
        self.out.push(key(tag, LEN));
        let n = self.sizes.take();
        self.varint(n as u64);
        let start = self.out.len();
        body(self);
        debug_assert_eq!(
            self.out.len() - start,
            n,
            "measured and written lengths differ"
        );
    }

    fn bytes(&mut self, tag: u8, b: &[u8]) {
        self.out.push(key(tag, LEN));
        self.varint(b.len() as u64);
        self.out.extend_from_slice(b);
    }

    /// A string field that proto3 leaves out when empty.
    fn opt_str(&mut self, tag: u8, s: &str) {
        if !s.is_empty() {
            self.bytes(tag, s.as_bytes());
        }
    }

    fn fixed64(&mut self, tag: u8, v: u64) {
        self.out.push(key(tag, FIXED64));
        self.out.extend_from_slice(&v.to_le_bytes());
    }

    fn request(
        &mut self,
        resource: &ResourceInfo,
        events: &[Event],
        scopes: &[&'static str],
        scope_of: &[usize],
    ) {
        self.message(1, |w| {
            w.message(1, |w| {
                for (k, v) in resource.iter() {
                    w.message(1, |w| w.kv(k, |w| w.bytes(1, v.as_bytes())));
                }
            });
            for (i, name) in scopes.iter().enumerate() {
                w.message(2, |w| {
                    w.message(1, |w| {
                        w.opt_str(1, name);
                        w.opt_str(2, MONWIRE_VERSION);
                    });
                    for (e, _) in events.iter().zip(scope_of).filter(|(_, s)| **s == i) {
                        w.message(2, |w| w.record(e));
                    }
                });
            }
        });
    }

    /// A KeyValue body: key (1), then the AnyValue (2) that `value` writes.
    fn kv(&mut self, k: &str, value: impl FnOnce(&mut Self)) {
        self.opt_str(1, k);
        self.message(2, value);
    }

    fn record(&mut self, e: &Event) {
        let time = unix_nanos(e.time);
        if time != 0 {
            self.fixed64(1, time);
        }
        let sev = u64::from(e.severity.number());
        if sev != 0 {
            self.out.push(key(2, VARINT));
            self.varint(sev);
        }
        self.opt_str(3, e.severity.as_str());
        self.message(5, |w| match body_text(e) {
            BodyText::One(s) => w.bytes(1, s.as_bytes()),
            BodyText::Two(a, b) => {
                w.out.push(key(1, LEN));
                w.varint((a.len() + 1 + b.len()) as u64);
                w.out.extend_from_slice(a.as_bytes());
                w.out.push(b' ');
                w.out.extend_from_slice(b.as_bytes());
            }
        });
        for (k, v) in e.attributes.iter() {
            self.message(6, |w| w.kv(k, |w| w.value(v)));
        }
        self.message(6, |w| {
            w.kv(ATTR_KIND, |w| w.bytes(1, e.kind.as_str().as_bytes()))
        });
        self.message(6, |w| {
            w.kv(ATTR_SUBJECT, |w| w.bytes(1, e.subject.as_bytes()))
        });
        if let Some(src) = &e.source {
            self.message(6, |w| w.kv(ATTR_SOURCE, |w| w.bytes(1, src.as_bytes())));
        }
        let observed = unix_nanos(e.observed.or(e.time));
        if observed != 0 {
            self.fixed64(11, observed);
        }
        let (p, name) = (e.protocol.as_str(), &e.name);
        self.out.push(key(12, LEN));
        self.varint((p.len() + 1 + name.len()) as u64);
        self.out.extend_from_slice(p.as_bytes());
        self.out.push(b'.');
        self.out.extend_from_slice(name.as_bytes());
    }

    /// An AnyValue body (its one `value` field is always written, even when it is a default).
    fn value(&mut self, v: &Value) {
        match scalar(v) {
            Ok(Scalar::Text(s)) => self.bytes(1, s.as_bytes()),
            Ok(Scalar::Bool(b)) => {
                self.out.push(key(2, VARINT));
                self.out.push(u8::from(b));
            }
            Ok(Scalar::Int(i)) => {
                self.out.push(key(3, VARINT));
                self.varint(i as u64);
            }
            Ok(Scalar::Double(f)) => self.fixed64(4, f.to_bits()),
            Ok(Scalar::Bytes(b)) => self.bytes(7, b),
            Ok(Scalar::BigUInt(u)) => {
                use std::io::Write as _;
                self.out.push(key(1, LEN));
                self.varint(digits(u) as u64);
                // Writing into a Vec cannot fail.
                let _ = write!(self.out, "{u}");
            }
            Err(()) => match v {
                Value::List(items) => self.message(5, |w| {
                    for item in items {
                        w.message(1, |w| w.value(item));
                    }
                }),
                Value::Map(m) => self.message(6, |w| {
                    for (k, v) in m.iter() {
                        w.message(1, |w| w.kv(k, |w| w.value(v)));
                    }
                }),
                other => self.bytes(1, format!("{other:?}").as_bytes()),
            },
        }
    }
}
