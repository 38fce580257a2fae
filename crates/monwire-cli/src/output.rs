//! The stdout sink: events as text lines (a terminal) or JSON Lines (a pipe), buffered.
//!
//! The line formats are [`monwire_cli::view`]'s. Output is buffered; the
//! [`Pipeline`](crate::pipeline::Pipeline) flushes it when the source says it has nothing
//! ready, when 256 KiB are waiting, and at the end of the run, so a decode into a pipe makes
//! one write per 256 KiB and a live view shows each event as soon as the source waits. When
//! stdout is a pipe, it is grown to 1 MiB (Linux), so that the writer need not wait for the
//! reader after every write.

use std::io::{self, IsTerminal, Write};
use std::ops::ControlFlow;

use monwire_cli::view::{TextStyle, TextView, write_json_line};
use monwire_event::Event;

use crate::Failure;
use crate::pipeline::Sink;

/// The output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// One readable line per event.
    Text,
    /// JSON Lines of `monwire_event::Event` (the documented JSON form).
    Json,
}

/// When to colour text output.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum ColorChoice {
    /// When stdout is a terminal and `NO_COLOR` is not set (`CLICOLOR_FORCE` forces it).
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// How the printer was asked to print.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PrintOptions {
    /// `--format`, `--json`; `None`: text on a terminal, JSON otherwise.
    pub(crate) format: Option<Format>,
    /// `--color`.
    pub(crate) color: ColorChoice,
    /// `--utc`.
    pub(crate) utc: bool,
    /// `-v`.
    pub(crate) verbose: bool,
    /// `-q`: print no events.
    pub(crate) quiet: bool,
}

/// Flush at least this often by size.
const FLUSH_AT: usize = 256 * 1024;

/// The pipe size asked for when stdout is a pipe: Linux's default 64 KiB pipe makes every
/// 256 KiB write wait for the reader four times; at 1 MiB (the default `pipe-max-size`) writer
/// and reader run side by side.
#[cfg(target_os = "linux")]
const PIPE_SIZE: usize = 1 << 20;

/// Grows the pipe stdout writes into to [`PIPE_SIZE`], when it is a smaller pipe. Anything
/// else (a file, a socket, a refusal by the pipe limits) leaves it as it is.
#[cfg(target_os = "linux")]
fn grow_pipe(stdout: &io::Stdout) {
    if rustix::pipe::fcntl_getpipe_size(stdout).is_ok_and(|size| size < PIPE_SIZE) {
        let _ = rustix::pipe::fcntl_setpipe_size(stdout, PIPE_SIZE);
    }
}

#[cfg(not(target_os = "linux"))]
fn grow_pipe(_: &io::Stdout) {}

/// How events become bytes: the format, the text view, `-q`. A [`Printer`] has one; the
/// workers of a parallel decode ([`crate::parallel`]) each format with a clone.
#[derive(Clone, Debug)]
pub(crate) struct Formatter {
    format: Format,
    view: TextView,
    quiet: bool,
}

impl Formatter {
    /// Whether `-q` asked for no events.
    pub(crate) fn is_quiet(&self) -> bool {
        self.quiet
    }

    /// Appends the line of `e` to `buf` (`line` is scratch space for text); on an event that
    /// has no JSON form, appends nothing and returns the note to print.
    pub(crate) fn write(&self, e: &Event, line: &mut String, buf: &mut Vec<u8>) -> Option<String> {
        if self.quiet {
            return None;
        }
        match self.format {
            Format::Json => write_json_line(e, buf).err().map(|err| {
                crate::diag::note_line(
                    "output",
                    format!("{} event {} skipped: {err}", e.protocol, e.name),
                )
            }),
            Format::Text => {
                line.clear();
                self.view.write_line(e, line);
                buf.extend_from_slice(line.as_bytes());
                None
            }
        }
    }
}

/// Prints events to stdout (see the module docs).
pub(crate) struct Printer {
    fmt: Formatter,
    terminal: bool,
    out: Box<dyn Write>,
    line: String,
    buf: Vec<u8>,
    broken: bool,
}

fn terminal_width() -> Option<usize> {
    terminal_size::terminal_size_of(io::stdout())
        .map(|(w, _)| usize::from(w.0))
        .filter(|&w| w > 0)
}

impl Printer {
    /// A printer on stdout.
    pub(crate) fn stdout(opts: PrintOptions) -> Printer {
        let stdout = io::stdout();
        let terminal = stdout.is_terminal();
        let format = opts
            .format
            .unwrap_or(if terminal { Format::Text } else { Format::Json });
        let color = match opts.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !matches!(
                anstream::AutoStream::choice(&stdout),
                anstream::ColorChoice::Never
            ),
        };
        let style = TextStyle {
            color,
            utc: opts.utc,
            verbose: opts.verbose,
            width: if terminal { terminal_width() } else { None },
        };
        if !terminal {
            grow_pipe(&stdout);
        }
        Printer {
            fmt: Formatter {
                format,
                view: TextView::new(style),
                quiet: opts.quiet,
            },
            terminal,
            out: Box::new(stdout),
            line: String::with_capacity(256),
            buf: Vec::with_capacity(FLUSH_AT + 4096),
            broken: false,
        }
    }

    /// Whether events print as JSON.
    #[allow(dead_code, reason = "for protocol modules that print their own syntax")]
    pub(crate) fn is_json(&self) -> bool {
        self.fmt.format == Format::Json
    }

    /// Whether stdout is a terminal.
    pub(crate) fn is_terminal(&self) -> bool {
        self.terminal
    }

    /// A copy of how this printer formats events.
    pub(crate) fn formatter(&self) -> Formatter {
        self.fmt.clone()
    }

    fn written(&mut self) -> ControlFlow<()> {
        if self.broken {
            return ControlFlow::Break(());
        }
        if self.buf.len() >= FLUSH_AT {
            self.write_out();
        }
        if self.broken {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn write_out(&mut self) {
        if self.buf.is_empty() || self.broken {
            self.buf.clear();
            return;
        }
        if self
            .out
            .write_all(&self.buf)
            .and_then(|()| self.out.flush())
            .is_err()
        {
            // A closed pipe (`| head`): stop printing, quietly, as other tools do.
            self.broken = true;
        }
        self.buf.clear();
    }

    /// Prints a line of text as is (for a protocol's own syntax, such as Galaxy PR text).
    pub(crate) fn raw_line(&mut self, line: &str) -> ControlFlow<()> {
        if !self.fmt.quiet {
            self.buf.extend_from_slice(line.as_bytes());
            self.buf.push(b'\n');
        }
        self.written()
    }

    /// Writes a block of formatted output (a parallel decode's), straight from `bytes` when
    /// it is large, after what is buffered.
    pub(crate) fn write_block(&mut self, bytes: &[u8]) -> ControlFlow<()> {
        if bytes.len() < FLUSH_AT {
            self.buf.extend_from_slice(bytes);
            return self.written();
        }
        self.write_out();
        if !self.broken && self.out.write_all(bytes).is_err() {
            self.broken = true;
        }
        self.written()
    }

    /// Writes raw bytes (for re-encoded output).
    pub(crate) fn raw_bytes(&mut self, bytes: &[u8]) -> ControlFlow<()> {
        if !self.fmt.quiet {
            self.buf.extend_from_slice(bytes);
        }
        self.written()
    }
}

impl Sink for Printer {
    fn event(&mut self, e: &Event) -> ControlFlow<()> {
        if let Some(note) = self.fmt.write(e, &mut self.line, &mut self.buf) {
            eprintln!("{note}");
        }
        self.written()
    }

    fn flush(&mut self) {
        self.write_out();
        if self.terminal {
            // The terminal may have been resized.
            self.fmt.view.set_width(terminal_width());
        }
    }

    fn finish(&mut self) -> Result<(), Failure> {
        self.write_out();
        Ok(())
    }

    fn name(&self) -> &str {
        "stdout"
    }
}

/// Progress and notes go to stderr as `monwire: <msg>`, so stdout stays events only.
///
/// Prefer [`crate::diag::note`], which takes the place (`zmq`, `nsm`, …) and the text apart.
pub(crate) fn note(msg: impl std::fmt::Display) {
    eprintln!("monwire: {msg}");
}

/// The readable line of an event, for stderr progress lines (UTC-free: local time, no colour,
/// no cut).
pub(crate) fn human(e: &Event) -> String {
    let mut s = String::new();
    TextView::new(TextStyle::default()).write_line(e, &mut s);
    s.pop();
    s
}
