//! Printing events: a readable line on a terminal, JSON Lines otherwise.

use std::io::{self, IsTerminal, Write};
use std::ops::ControlFlow;
use std::time::{SystemTime, UNIX_EPOCH};

use monwire_event::Event;

/// Prints events to stdout, one per line, flushed at once (the output is live).
pub(crate) struct Printer {
    json: bool,
    out: Box<dyn Write + Send>,
    broken: bool,
}

impl Printer {
    /// A printer on stdout: JSON when asked for or when stdout is not a terminal.
    pub(crate) fn stdout(json: bool) -> Printer {
        let json = json || !io::stdout().is_terminal();
        Printer {
            json,
            out: Box::new(io::stdout()),
            broken: false,
        }
    }

    /// Prints one event. `Break` when stdout is gone (a closed pipe): the caller stops.
    pub(crate) fn event(&mut self, e: &Event) -> ControlFlow<()> {
        if self.broken {
            return ControlFlow::Break(());
        }
        let written = if self.json {
            match serde_json::to_string(e) {
                Ok(line) => writeln!(self.out, "{line}"),
                Err(err) => {
                    eprintln!("monwire: event has no JSON form: {err}");
                    Ok(())
                }
            }
        } else {
            writeln!(self.out, "{}", human(e))
        };
        match written.and_then(|()| self.out.flush()) {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => {
                self.broken = true;
                ControlFlow::Break(())
            }
        }
    }

    /// Prints a line of text as is (for formats other than events, such as printers of a
    /// protocol's own syntax).
    pub(crate) fn raw_line(&mut self, line: &str) -> ControlFlow<()> {
        match writeln!(self.out, "{line}").and_then(|()| self.out.flush()) {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => {
                self.broken = true;
                ControlFlow::Break(())
            }
        }
    }

    /// Writes raw bytes (for re-encoded output).
    pub(crate) fn raw_bytes(&mut self, bytes: &[u8]) -> ControlFlow<()> {
        match self.out.write_all(bytes).and_then(|()| self.out.flush()) {
            Ok(()) => ControlFlow::Continue(()),
            Err(_) => {
                self.broken = true;
                ControlFlow::Break(())
            }
        }
    }
}

/// Progress and notes go to stderr, so stdout stays events only.
pub(crate) fn note(msg: impl std::fmt::Display) {
    eprintln!("monwire: {msg}");
}

/// `HH:MM:SS.mmm` (UTC) of the event's observed time, else its wire time, else now.
fn clock(e: &Event) -> String {
    let t = e.observed.or(e.time).unwrap_or_else(SystemTime::now);
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let s = d.as_secs() % 86_400;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        s / 3600,
        s / 60 % 60,
        s % 60,
        d.subsec_millis()
    )
}

/// The readable line: time, protocol, subject, kind, name, attributes.
pub(crate) fn human(e: &Event) -> String {
    let mut line = format!(
        "{} {:<6} {:<5} {:<13} {}",
        clock(e),
        e.protocol.as_str(),
        e.severity.as_str(),
        e.kind.as_str(),
        e.name
    );
    if let Some(source) = &e.source {
        line.push_str(&format!(" [{source}]"));
    }
    if !e.subject.is_empty() {
        line.push_str(&format!(" {}", e.subject));
    }
    for (k, v) in e.attributes.iter() {
        line.push_str(&format!(" {k}={v}"));
    }
    line
}
