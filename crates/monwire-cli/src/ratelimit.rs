//! A rate-limited stderr reporter, for failures a peer can repeat as fast as it likes (a flood of
//! malformed datagrams): at most one line per second per cause, the lines in between counted
//! and reported with the next line or at the next [`Reporter::tick`], every line at most
//! [`MAX_LINE`] characters. Generic: any source can use it with its own causes.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// The longest stderr line this reporter writes, in characters (the `monwire: ` prefix and the
/// count included).
pub(crate) const MAX_LINE: usize = 200;

struct Cause {
    /// When a line for this cause was last written.
    last: Instant,
    /// Reports since then that were not written.
    suppressed: u64,
    /// The last of those, to show as an example.
    example: Option<String>,
}

/// Writes `monwire: <where>: <what>` lines to stderr, at most one per [`interval`] per cause.
///
/// [`interval`]: Reporter::new
pub(crate) struct Reporter {
    interval: Duration,
    causes: BTreeMap<&'static str, Cause>,
    sink: Box<dyn FnMut(&str) + Send>,
}

impl Reporter {
    /// A reporter writing to stderr, one line per cause per second.
    pub(crate) fn stderr() -> Reporter {
        Reporter::new(Duration::from_secs(1), Box::new(|line| eprintln!("{line}")))
    }

    /// A reporter with its own interval and line sink (for tests).
    pub(crate) fn new(interval: Duration, sink: Box<dyn FnMut(&str) + Send>) -> Reporter {
        Reporter {
            interval,
            causes: BTreeMap::new(),
            sink,
        }
    }

    /// Reports `what` (already prefixed with where it happened) under `cause`: written now if
    /// no line for `cause` went out in the last interval, counted otherwise.
    pub(crate) fn report(&mut self, cause: &'static str, what: &str, now: Instant) {
        match self.causes.get_mut(cause) {
            Some(c) if now < c.last + self.interval => {
                c.suppressed = c.suppressed.saturating_add(1);
                c.example = Some(clip_to(what, MAX_LINE));
            }
            Some(c) => {
                let n = std::mem::take(&mut c.suppressed);
                c.example = None;
                c.last = now;
                let line = with_count(what, n);
                (self.sink)(&line);
            }
            None => {
                self.causes.insert(
                    cause,
                    Cause {
                        last: now,
                        suppressed: 0,
                        example: None,
                    },
                );
                (self.sink)(&clip(&format!("monwire: {what}")));
            }
        }
    }

    /// When [`tick`](Reporter::tick) has counted lines to write, if any.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.causes
            .values()
            .filter(|c| c.suppressed > 0)
            .map(|c| c.last + self.interval)
            .min()
    }

    /// Writes the counted reports of every cause whose interval has passed.
    pub(crate) fn tick(&mut self, now: Instant) {
        let interval = self.interval;
        for c in self.causes.values_mut() {
            if c.suppressed > 0 && now >= c.last + interval {
                let n = std::mem::take(&mut c.suppressed);
                let example = c.example.take().unwrap_or_default();
                c.last = now;
                (self.sink)(&with_count(&example, n - 1));
            }
        }
    }

    /// Writes every counted report now (at the end of a run).
    pub(crate) fn flush(&mut self) {
        for c in self.causes.values_mut() {
            if c.suppressed > 0 {
                let n = std::mem::take(&mut c.suppressed);
                let example = c.example.take().unwrap_or_default();
                (self.sink)(&with_count(&example, n - 1));
            }
        }
    }
}

/// `monwire: <what> (and N more like it)`, clipped to [`MAX_LINE`] with the count kept.
fn with_count(what: &str, more: u64) -> String {
    if more == 0 {
        return clip(&format!("monwire: {what}"));
    }
    let tail = format!(" (+{more} more like it)");
    let room = MAX_LINE.saturating_sub(tail.chars().count());
    let mut line = clip_to(&format!("monwire: {what}"), room);
    line.push_str(&tail);
    line
}

fn clip(s: &str) -> String {
    clip_to(s, MAX_LINE)
}

/// At most `max` characters of `s`, control characters replaced, `…` at the end when cut.
/// Reads no more of `s` than it keeps.
fn clip_to(s: &str, max: usize) -> String {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    let mut n = 0usize;
    while let Some(c) = chars.next() {
        if n + 1 >= max && chars.peek().is_some() {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { '\u{fffd}' } else { c });
        n += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    fn reporter() -> (Reporter, Arc<Mutex<Vec<String>>>) {
        let lines = Arc::new(Mutex::new(Vec::new()));
        let l = Arc::clone(&lines);
        let r = Reporter::new(
            Duration::from_secs(1),
            Box::new(move |s| l.lock().unwrap().push(s.to_owned())),
        );
        (r, lines)
    }

    #[test]
    fn one_line_per_second_per_cause_with_the_count() {
        let (mut r, lines) = reporter();
        let t0 = Instant::now();
        let long = "x".repeat(60_000);
        for i in 0..10_000u32 {
            let at = t0 + Duration::from_micros(u64::from(i) * 250); // 2.5 s of flood
            r.report("bad", &format!("nsm: {long}"), at);
            r.report("other", "nsm: short", at);
            if let Some(due) = r.next_due()
                && at >= due
            {
                r.tick(at);
            }
        }
        r.flush();
        let lines = lines.lock().unwrap();
        // 3 windows (0, 1, 2 s) per cause, plus the final flush per cause.
        assert!(lines.len() <= 8, "{lines:#?}");
        assert!(lines.iter().all(|l| l.chars().count() <= MAX_LINE));
        let counted: u64 = lines
            .iter()
            .filter(|l| l.contains("x"))
            .map(|l| {
                l.rsplit_once("(+")
                    .and_then(|(_, n)| n.split(' ').next()?.parse::<u64>().ok())
                    .map_or(1, |n| n + 1)
            })
            .sum();
        assert_eq!(counted, 10_000, "every report is written or counted");
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        let (mut r, lines) = reporter();
        r.report("c", "a\u{1b}[31mb\nc", Instant::now());
        assert_eq!(lines.lock().unwrap()[0], "monwire: a\u{fffd}[31mb\u{fffd}c");
    }
}
