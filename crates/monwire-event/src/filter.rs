//! Which events to keep: the filters every `monwire` command shares.

use crate::event::{Event, Kind, Protocol, Severity};

/// A conjunction of optional conditions on an [`Event`]. An empty filter keeps everything.
///
/// - `kinds`: the event's [`Kind`] is one of these;
/// - `min_severity`: the event is at least this serious;
/// - `protocols`: the event's protocol [matches](Protocol::matches) one of these (so `nsm`
///   keeps the `ray` dialect too);
/// - `subject`: the event's subject matches this glob, over the whole subject: `*` is any run
///   of characters, `?` one character, everything else itself (`*synth*`, `tcp://*:5555`).
///
/// ```
/// use monwire_event::{Event, Filter, Kind, Protocol, Severity};
///
/// let filter = Filter::new()
///     .with_protocols([Protocol::Nsm])
///     .with_min_severity(Severity::Info)
///     .with_subject("synth*");
/// let e = Event::new(Protocol::Ray, Kind::Ready, "ready").with_subject("synth_1");
/// assert!(filter.matches(&e));
/// assert!(!filter.matches(&e.clone().with_subject("drums")));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Filter {
    kinds: Vec<Kind>,
    min_severity: Option<Severity>,
    protocols: Vec<Protocol>,
    subject: Option<Glob>,
}

impl Filter {
    /// A filter that keeps every event.
    pub fn new() -> Filter {
        Filter::default()
    }

    /// Keeps only events of these kinds (an empty list keeps all).
    #[must_use]
    pub fn with_kinds(mut self, kinds: impl IntoIterator<Item = Kind>) -> Filter {
        self.kinds = kinds.into_iter().collect();
        self
    }

    /// Keeps only events at least this serious.
    #[must_use]
    pub fn with_min_severity(mut self, min: Severity) -> Filter {
        self.min_severity = Some(min);
        self
    }

    /// Keeps only events whose protocol matches one of these (an empty list keeps all).
    #[must_use]
    pub fn with_protocols(mut self, protocols: impl IntoIterator<Item = Protocol>) -> Filter {
        self.protocols = protocols.into_iter().collect();
        self
    }

    /// Keeps only events whose subject matches this glob (`*`, `?`).
    #[must_use]
    pub fn with_subject(mut self, pattern: &str) -> Filter {
        self.subject = Some(Glob::new(pattern));
        self
    }

    /// Whether the filter keeps everything.
    pub fn is_empty(&self) -> bool {
        self.kinds.is_empty()
            && self.min_severity.is_none()
            && self.protocols.is_empty()
            && self.subject.is_none()
    }

    /// Whether `event` passes every condition.
    pub fn matches(&self, event: &Event) -> bool {
        (self.kinds.is_empty() || self.kinds.contains(&event.kind))
            && self.min_severity.is_none_or(|min| event.severity >= min)
            && (self.protocols.is_empty()
                || self.protocols.iter().any(|p| event.protocol.matches(p)))
            && self
                .subject
                .as_ref()
                .is_none_or(|g| g.matches(&event.subject))
    }
}

/// A glob over a whole string: `*` any run of characters, `?` one character.
#[derive(Clone, Debug, PartialEq)]
struct Glob {
    pattern: Vec<char>,
}

impl Glob {
    fn new(pattern: &str) -> Glob {
        Glob {
            pattern: pattern.chars().collect(),
        }
    }

    /// The classic two-pointer match: on a mismatch, retry from the last `*` one character
    /// further on. Time is O(pattern × text) at worst, with no recursion and no allocation
    /// beyond the text's characters.
    fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        let p = &self.pattern;
        let (mut pi, mut ti) = (0usize, 0usize);
        let mut star: Option<(usize, usize)> = None;
        while ti < text.len() {
            match p.get(pi) {
                Some('*') => {
                    star = Some((pi, ti));
                    pi += 1;
                }
                Some(&c) if c == '?' || c == text[ti] => {
                    pi += 1;
                    ti += 1;
                }
                _ => match star {
                    Some((sp, st)) => {
                        pi = sp + 1;
                        ti = st + 1;
                        star = Some((sp, st + 1));
                    }
                    None => return false,
                },
            }
        }
        p[pi..].iter().all(|&c| c == '*')
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_whole_subjects() {
        let g = |p: &str, t: &str| Glob::new(p).matches(t);
        assert!(g("*", ""));
        assert!(g("*synth*", "my synth 1"));
        assert!(g("tcp://*:5555", "tcp://127.0.0.1:5555"));
        assert!(!g("tcp://*:5555", "tcp://127.0.0.1:55550"));
        assert!(g("a?c", "abc"));
        assert!(!g("a?c", "ac"));
        assert!(
            !g("synth", "synth_1"),
            "no wildcard means the whole subject"
        );
        assert!(g("*a*b*c", "xxaxxbxxbxc"));
        assert!(g("é*", "éclair"));
    }

    #[test]
    fn conditions_combine_with_and() {
        let e = Event::new(Protocol::Zmq, Kind::Failed, "BIND_FAILED")
            .with_severity(Severity::Error)
            .with_subject("tcp://x:1");
        assert!(Filter::new().matches(&e));
        assert!(Filter::new().with_kinds([Kind::Failed]).matches(&e));
        assert!(!Filter::new().with_kinds([Kind::Connected]).matches(&e));
        assert!(Filter::new().with_min_severity(Severity::Warn).matches(&e));
        assert!(!Filter::new().with_min_severity(Severity::Fatal).matches(&e));
        assert!(!Filter::new().with_protocols([Protocol::Nsm]).matches(&e));
        assert!(
            !Filter::new()
                .with_kinds([Kind::Failed])
                .with_subject("udp*")
                .matches(&e)
        );
    }
}
