//! One stderr format for progress and errors, for every protocol.
//!
//! - Progress and run-time problems: `monwire: <where>: <what>` ([`note`]), where `<where>` is
//!   the protocol or the part of the program (`zmq`, `nsm`, `demo: galaxy`, `signals`).
//! - Bad input: `FILE:LINE[:COL]: <what>` ([`input`]), so editors and `grep -n` users can jump
//!   to it.
//! - Repeated failures of one cause (a flood of malformed datagrams): [`Throttle`], at most one
//!   line per second per cause, with a count of the ones not shown, each line at most
//!   [`MAX_LINE`] characters.
//!
//! Every line is one line: control characters in `<what>` (a newline in a peer's error text)
//! become spaces. `<what>` is a `Display` text, never a `Debug` dump.

use std::fmt::{self, Display, Write as _};
use std::time::{Duration, Instant};

/// The longest line the [`Throttle`] prints, in characters.
pub(crate) const MAX_LINE: usize = 200;

/// Prints `monwire: <place>: <what>` on stderr.
pub(crate) fn note(place: &str, what: impl Display) {
    eprintln!("{}", note_line(place, what));
}

/// The line [`note`] prints, without its newline.
pub(crate) fn note_line(place: &str, what: impl Display) -> String {
    line(&format!("monwire: {place}: "), &what, usize::MAX)
}

/// Prints `FILE:LINE[:COL]: <what>` on stderr, for a problem in an input file.
pub(crate) fn input(file: &str, line_no: usize, col: Option<usize>, what: impl Display) {
    eprintln!("{}", input_line(file, line_no, col, what));
}

/// The line [`input`] prints, without its newline.
pub(crate) fn input_line(
    file: &str,
    line_no: usize,
    col: Option<usize>,
    what: impl Display,
) -> String {
    let head = match col {
        Some(c) => format!("{file}:{line_no}:{c}: "),
        None => format!("{file}:{line_no}: "),
    };
    line(&head, &what, usize::MAX)
}

/// `head` then `what`, on one line of at most `max` characters (cut with `…`).
fn line(head: &str, what: &dyn Display, max: usize) -> String {
    let mut out = String::with_capacity(head.len() + 64);
    out.push_str(head);
    let _ = write!(OneLine(&mut out), "{what}");
    cut(&mut out, max);
    out
}

/// Cuts `s` to at most `max` characters, the last one `…` when something was cut.
pub(crate) fn cut(s: &mut String, max: usize) {
    if max == usize::MAX {
        return;
    }
    if let Some((at, _)) = s.char_indices().nth(max) {
        let keep = s
            .char_indices()
            .nth(max.saturating_sub(1))
            .map_or(at, |(i, _)| i);
        s.truncate(keep);
        s.push('…');
    }
}

/// A writer that turns control characters into spaces.
struct OneLine<'a>(&'a mut String);

impl fmt::Write for OneLine<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            self.0.push(if c.is_control() { ' ' } else { c });
        }
        Ok(())
    }
}

/// At most one stderr line per second per cause, with a count of the ones not shown.
///
/// A source makes one `Throttle` per run and calls [`report`](Throttle::report) for every
/// failure; the cause is a short fixed text (`"malformed datagram"`), the detail says which
/// one (`"from 127.0.0.1:40000: bad type tag at byte 12"`). Call [`finish`](Throttle::finish)
/// at the end of the run, so the last counts are not lost.
///
/// ```text
/// monwire: nsm: malformed datagram from 127.0.0.1:40000: bad type tag at byte 12
/// monwire: nsm: malformed datagram from 127.0.0.1:40000: odd length (and 4711 more in 1.0 s)
/// monwire: nsm: malformed datagram: 12 more not shown
/// ```
#[derive(Debug)]
pub(crate) struct Throttle {
    place: String,
    interval: Duration,
    causes: Vec<Cause>,
}

#[derive(Debug)]
struct Cause {
    name: String,
    last: Instant,
    suppressed: u64,
}

/// Causes kept at once; the longest-quiet one is forgotten beyond this (its count is printed).
const MAX_CAUSES: usize = 32;

impl Throttle {
    /// A throttle for lines `monwire: <place>: …`.
    pub(crate) fn new(place: impl Into<String>) -> Throttle {
        Throttle {
            place: place.into(),
            interval: Duration::from_secs(1),
            causes: Vec::new(),
        }
    }

    /// Reports one failure of `cause`; prints it unless a line of the same cause was printed
    /// less than a second ago.
    pub(crate) fn report(&mut self, cause: &str, detail: impl Display) {
        if let Some(l) = self.report_at(Instant::now(), cause, &detail) {
            eprintln!("{l}");
        }
    }

    /// The line to print for a failure at `now`, if any.
    fn report_at(&mut self, now: Instant, cause: &str, detail: &dyn Display) -> Option<String> {
        let head = format!("monwire: {}: {cause} ", self.place);
        match self.causes.iter_mut().find(|c| c.name == cause) {
            Some(c) if now.duration_since(c.last) < self.interval => {
                c.suppressed = c.suppressed.saturating_add(1);
                None
            }
            Some(c) => {
                let more = std::mem::take(&mut c.suppressed);
                let since = now.duration_since(c.last);
                c.last = now;
                Some(if more == 0 {
                    line(&head, detail, MAX_LINE)
                } else {
                    let tail = format!(" (and {more} more in {:.1} s)", since.as_secs_f64());
                    let mut l = line(&head, detail, MAX_LINE - tail.chars().count());
                    l.push_str(&tail);
                    l
                })
            }
            None => {
                let mut evicted = None;
                if self.causes.len() >= MAX_CAUSES {
                    let quiet = self
                        .causes
                        .iter()
                        .enumerate()
                        .min_by_key(|(_, c)| c.last)
                        .map(|(i, _)| i);
                    if let Some(i) = quiet {
                        let c = self.causes.swap_remove(i);
                        if c.suppressed > 0 {
                            evicted = Some(self.count_line(&c));
                        }
                    }
                }
                if let Some(l) = evicted {
                    eprintln!("{l}");
                }
                self.causes.push(Cause {
                    name: cause.to_owned(),
                    last: now,
                    suppressed: 0,
                });
                Some(line(&head, detail, MAX_LINE))
            }
        }
    }

    fn count_line(&self, c: &Cause) -> String {
        let mut l = format!(
            "monwire: {}: {}: {} more not shown",
            self.place, c.name, c.suppressed
        );
        cut(&mut l, MAX_LINE);
        l
    }

    /// Prints the counts of failures not shown yet.
    pub(crate) fn finish(&mut self) {
        for l in self.finish_lines() {
            eprintln!("{l}");
        }
    }

    fn finish_lines(&mut self) -> Vec<String> {
        let causes = std::mem::take(&mut self.causes);
        causes
            .iter()
            .filter(|c| c.suppressed > 0)
            .map(|c| self.count_line(c))
            .collect()
    }
}

impl Drop for Throttle {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_second_per_cause_with_a_count() {
        let mut t = Throttle::new("nsm");
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let first = t.report_at(at(0), "malformed datagram", &"from a: bad tag");
        assert_eq!(
            first.as_deref(),
            Some("monwire: nsm: malformed datagram from a: bad tag")
        );
        for i in 1..1000 {
            assert_eq!(t.report_at(at(i % 999), "malformed datagram", &"x"), None);
        }
        // Another cause is not held back by the first.
        assert!(t.report_at(at(10), "send failed", &"to b").is_some());
        let next = t
            .report_at(at(1500), "malformed datagram", &"from a: odd")
            .unwrap();
        assert_eq!(
            next,
            "monwire: nsm: malformed datagram from a: odd (and 999 more in 1.5 s)"
        );
        assert_eq!(t.report_at(at(1600), "malformed datagram", &"y"), None);
        assert_eq!(
            t.finish_lines(),
            vec!["monwire: nsm: malformed datagram: 1 more not shown".to_owned()]
        );
    }

    #[test]
    fn lines_are_cut_to_200_characters_and_stay_one_line() {
        let mut t = Throttle::new("nsm");
        let now = Instant::now();
        let huge = "é\n".repeat(60_000);
        let l = t.report_at(now, "malformed datagram", &huge).unwrap();
        assert_eq!(l.chars().count(), MAX_LINE);
        assert!(l.ends_with('…'));
        assert!(!l.contains('\n'));
        let l = t
            .report_at(now + Duration::from_secs(2), "malformed datagram", &huge)
            .unwrap();
        assert!(l.chars().count() <= MAX_LINE, "{}", l.chars().count());
        assert!(l.ends_with(" (and 0 more in 2.0 s)") || !l.contains("more"));
    }

    #[test]
    fn many_causes_stay_bounded() {
        let mut t = Throttle::new("x");
        let now = Instant::now();
        for i in 0..1000 {
            let _ = t.report_at(now, &format!("cause {i}"), &"d");
        }
        assert!(t.causes.len() <= MAX_CAUSES);
    }
}
