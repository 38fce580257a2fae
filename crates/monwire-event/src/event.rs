//! The event record and its normalized vocabularies.

use std::fmt;
use std::time::SystemTime;

use crate::value::{Attributes, Value};

/// The monitoring protocol an event came from.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Protocol {
    /// ZeroMQ socket-monitor events (`monwire-zmq`).
    Zmq,
    /// NSM `:monitor:` messages (`/nsm/client/monitor/…`, `monwire-nsm`).
    Nsm,
    /// RaySession external-monitor messages (`/ray/monitor/…`, `monwire-nsm`).
    Ray,
    /// Galaxy Communicator Hub GUI messages (`monwire-galaxy`).
    Galaxy,
    /// SysAdm websocket events (`monwire-sysadm`).
    SysAdm,
    /// A protocol this version does not know, by its name. Built only by
    /// [`Protocol::from_name`], so it never holds a known name: `Other` always reads back as
    /// itself.
    Other(OtherProtocol),
}

/// The name of a protocol this version of `monwire-event` does not know.
///
/// It cannot hold a known name (`zmq`, `nsm`, …): [`Protocol::from_name`] is the only way to
/// make one, and it gives the known variant for those.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OtherProtocol(String);

impl OtherProtocol {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Protocol {
    /// The stable lower-case name used in JSON and on the CLI (`zmq`, `nsm`, `ray`, `galaxy`,
    /// `sysadm`, or the `Other` name).
    pub fn as_str(&self) -> &str {
        match self {
            Protocol::Zmq => "zmq",
            Protocol::Nsm => "nsm",
            Protocol::Ray => "ray",
            Protocol::Galaxy => "galaxy",
            Protocol::SysAdm => "sysadm",
            Protocol::Other(s) => s.as_str(),
        }
    }

    /// The protocol with this name; unknown names give `Other`.
    pub fn from_name(name: &str) -> Protocol {
        match name {
            "zmq" => Protocol::Zmq,
            "nsm" => Protocol::Nsm,
            "ray" => Protocol::Ray,
            "galaxy" => Protocol::Galaxy,
            "sysadm" => Protocol::SysAdm,
            other => Protocol::Other(OtherProtocol(other.to_owned())),
        }
    }

    /// The protocol family: the wire format this protocol is a dialect of.
    ///
    /// RaySession's external monitor (`/ray/monitor/…`) is a dialect of NSM's `:monitor:`
    /// messages, spoken by the same daemon over the same OSC transport, so the family of
    /// [`Protocol::Ray`] is [`Protocol::Nsm`]. Every other protocol is its own family. Events
    /// keep the exact dialect in [`Event::protocol`] (the codec needs it to re-encode); filters
    /// use [`matches`](Protocol::matches).
    pub fn family(&self) -> &Protocol {
        match self {
            Protocol::Ray => &Protocol::Nsm,
            other => other,
        }
    }

    /// Whether an event of this protocol passes a filter on `wanted`: the same protocol, or
    /// `wanted` is this protocol's [family](Protocol::family). `nsm` matches both `nsm` and
    /// `ray` events; `ray` matches only `ray`.
    pub fn matches(&self, wanted: &Protocol) -> bool {
        self == wanted || self.family() == wanted
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

macro_rules! kinds {
    ($($(#[doc = $doc:literal])* $variant:ident = $name:literal,)*) => {
        /// What happened, normalized across protocols.
        ///
        /// The same real-world happening gets the same `Kind` whatever the protocol; the
        /// protocol's own name for it stays in [`Event::name`]. The crate documentation has the
        /// table of which protocol event maps to which kind.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum Kind {
            $($(#[doc = $doc])* $variant,)*
        }

        impl Kind {
            /// Every kind, in declaration order.
            pub const ALL: &'static [Kind] = &[$(Kind::$variant,)*];

            /// The stable snake_case name used in JSON.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Kind::$variant => $name,)*
                }
            }

            /// The kind with this snake_case name.
            pub fn from_name(name: &str) -> Option<Kind> {
                match name {
                    $($name => Some(Kind::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

kinds! {
    /// An endpoint started listening for connections.
    Listening = "listening",
    /// A connection attempt is under way or will be retried.
    Connecting = "connecting",
    /// A transport connection or provider is up (either side of it).
    Connected = "connected",
    /// A peer proved who it is.
    Authenticated = "authenticated",
    /// A connection or peer is ready for work (handshake done, client ready).
    Ready = "ready",
    /// A connection or provider went away.
    Disconnected = "disconnected",
    /// A local endpoint or resource was closed.
    Closed = "closed",
    /// Something failed (bind, accept, handshake, job, client error).
    Failed = "failed",
    /// A member joined a set (a client added to a session, a service type registered).
    Added = "added",
    /// A member left a set.
    Removed = "removed",
    /// A process or job is starting.
    Starting = "starting",
    /// A process or job has started or is running.
    Started = "started",
    /// A process or job is stopping.
    Stopping = "stopping",
    /// A process or job stopped or finished.
    Stopped = "stopped",
    /// Properties of something changed (renamed, switched, updated).
    Updated = "updated",
    /// State was saved.
    Saved = "saved",
    /// A snapshot of current state (a state-list entry, a system-state report).
    State = "state",
    /// Progress of a longer piece of work.
    Progress = "progress",
    /// Counters or statistics.
    Stats = "stats",
    /// A message passed through the monitored system.
    Message = "message",
    /// The monitored system asks the observer for input.
    Prompt = "prompt",
    /// The monitor stream itself ended (ZeroMQ `MONITOR_STOPPED`, a monitor quit).
    EndOfStream = "end_of_stream",
    /// Anything else; the protocol's own name says what.
    Other = "other",
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How serious an event is, on OpenTelemetry's scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Severity {
    /// Fine-grained detail (OpenTelemetry number 1).
    Trace,
    /// Diagnostic detail (5).
    Debug,
    /// Normal operation (9).
    Info,
    /// Something may need attention (13).
    Warn,
    /// Something failed (17).
    Error,
    /// The monitored system cannot go on (21).
    Fatal,
}

impl Severity {
    /// Every severity, least serious first.
    pub const ALL: &'static [Severity] = &[
        Severity::Trace,
        Severity::Debug,
        Severity::Info,
        Severity::Warn,
        Severity::Error,
        Severity::Fatal,
    ];

    /// The OpenTelemetry `SeverityNumber` of the range's first value (1, 5, 9, 13, 17, 21).
    pub const fn number(self) -> u8 {
        match self {
            Severity::Trace => 1,
            Severity::Debug => 5,
            Severity::Info => 9,
            Severity::Warn => 13,
            Severity::Error => 17,
            Severity::Fatal => 21,
        }
    }

    /// The OpenTelemetry short name (`TRACE` … `FATAL`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Trace => "TRACE",
            Severity::Debug => "DEBUG",
            Severity::Info => "INFO",
            Severity::Warn => "WARN",
            Severity::Error => "ERROR",
            Severity::Fatal => "FATAL",
        }
    }

    /// The severity with this short name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Severity> {
        Severity::ALL
            .iter()
            .copied()
            .find(|s| s.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One monitoring event, in protocol-neutral form.
///
/// It keeps both truths: the normalized [`Kind`] and [`Severity`] a consumer filters on, and the
/// protocol's own [`name`](Event::name) and namespaced [`attributes`](Event::attributes) from
/// which each codec rebuilds its wire message exactly.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct Event {
    /// The protocol it came from.
    pub protocol: Protocol,
    /// Where it came from: a peer address, an endpoint, a server name.
    pub source: Option<String>,
    /// What it is about: a client id, a provider, an endpoint, a subsystem.
    pub subject: String,
    /// What happened, normalized.
    pub kind: Kind,
    /// The protocol's own name for what happened (`CONNECTED`, `stopped_by_itself`, …).
    pub name: String,
    /// How serious it is, normalized.
    pub severity: Severity,
    /// The time the wire message carried, if it carried one.
    pub time: Option<SystemTime>,
    /// When an adapter received it (codecs have no clock and leave it `None`).
    pub observed: Option<SystemTime>,
    /// A short human summary of what happened, written by the codec that made the event
    /// (`"client synth ready"`, `"tcp://127.0.0.1:5555 handshake failed: …"`). It is derived
    /// from the other fields and never read back by a codec; [`Event::summary_text`] falls back
    /// to the name and subject when there is none.
    pub summary: Option<String>,
    /// Protocol details, keys namespaced by protocol (`zmq.fd`).
    pub attributes: Attributes,
}

impl Event {
    /// A new event with an empty subject, `Info` severity, no times and no attributes.
    pub fn new(protocol: Protocol, kind: Kind, name: impl Into<String>) -> Event {
        Event {
            protocol,
            source: None,
            subject: String::new(),
            kind,
            name: name.into(),
            severity: Severity::Info,
            time: None,
            observed: None,
            summary: None,
            attributes: Attributes::new(),
        }
    }

    /// Sets the summary.
    #[must_use]
    pub fn with_summary(mut self, summary: impl Into<String>) -> Event {
        self.summary = Some(summary.into());
        self
    }

    /// The summary, or when there is none, the name followed by the subject.
    pub fn summary_text(&self) -> std::borrow::Cow<'_, str> {
        match &self.summary {
            Some(s) => std::borrow::Cow::Borrowed(s),
            None if self.subject.is_empty() => std::borrow::Cow::Borrowed(&self.name),
            None => std::borrow::Cow::Owned(format!("{} {}", self.subject, self.name)),
        }
    }

    /// Sets the subject.
    #[must_use]
    pub fn with_subject(mut self, subject: impl Into<String>) -> Event {
        self.subject = subject.into();
        self
    }

    /// Sets the source.
    #[must_use]
    pub fn with_source(mut self, source: impl Into<String>) -> Event {
        self.source = Some(source.into());
        self
    }

    /// Sets the severity.
    #[must_use]
    pub fn with_severity(mut self, severity: Severity) -> Event {
        self.severity = severity;
        self
    }

    /// Sets the wire time.
    #[must_use]
    pub fn with_time(mut self, time: SystemTime) -> Event {
        self.time = Some(time);
        self
    }

    /// Sets the observed time.
    #[must_use]
    pub fn with_observed(mut self, observed: SystemTime) -> Event {
        self.observed = Some(observed);
        self
    }

    /// Adds or replaces an attribute.
    #[must_use]
    pub fn with_attr(
        mut self,
        key: impl Into<std::borrow::Cow<'static, str>>,
        value: impl Into<Value>,
    ) -> Event {
        self.attributes.insert(key, value);
        self
    }

    /// The value of attribute `key`.
    pub fn attr(&self, key: &str) -> Option<&Value> {
        self.attributes.get(key)
    }
}

impl fmt::Display for Event {
    /// One readable line: protocol, subject, kind, name, then the attributes as `key=value`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.protocol, self.kind, self.name)?;
        if !self.subject.is_empty() {
            write!(f, " {}", self.subject)?;
        }
        for (k, v) in &self.attributes {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kind_names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for &k in Kind::ALL {
            assert!(seen.insert(k.as_str()), "duplicate name {}", k.as_str());
            assert_eq!(Kind::from_name(k.as_str()), Some(k));
        }
        assert_eq!(Kind::from_name("no_such_kind"), None);
    }

    #[test]
    fn severity_numbers_follow_opentelemetry() {
        let numbers: Vec<u8> = Severity::ALL.iter().map(|s| s.number()).collect();
        assert_eq!(numbers, [1, 5, 9, 13, 17, 21]);
        assert_eq!(Severity::from_name("warn"), Some(Severity::Warn));
    }

    #[test]
    fn other_protocols_never_hold_a_known_name() {
        for name in ["zmq", "nsm", "ray", "galaxy", "sysadm"] {
            assert!(!matches!(Protocol::from_name(name), Protocol::Other(_)));
            assert_eq!(Protocol::from_name(name).as_str(), name);
        }
        let x = Protocol::from_name("xyz");
        assert_eq!(x.as_str(), "xyz");
        assert_eq!(Protocol::from_name(x.as_str()), x);
    }

    #[test]
    fn nsm_filter_matches_its_ray_dialect_but_not_the_reverse() {
        assert!(Protocol::Ray.matches(&Protocol::Nsm));
        assert!(Protocol::Nsm.matches(&Protocol::Nsm));
        assert!(!Protocol::Nsm.matches(&Protocol::Ray));
        assert!(!Protocol::Zmq.matches(&Protocol::Nsm));
    }

    #[test]
    fn display_is_one_line_with_attributes() {
        let e = Event::new(Protocol::Zmq, Kind::Connected, "CONNECTED")
            .with_subject("tcp://127.0.0.1:5555")
            .with_attr("zmq.fd", 25u64);
        assert_eq!(
            e.to_string(),
            "zmq connected CONNECTED tcp://127.0.0.1:5555 zmq.fd=25"
        );
    }
}
