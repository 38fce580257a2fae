//! Every printing command is *source → filters → sinks*.
//!
//! - A **source** (a live watch, a capture file, a script, a server's feed) is a function that
//!   takes a `&mut Pipeline` and calls [`Pipeline::event`] for every event it yields. It calls
//!   [`Pipeline::idle`] whenever it has nothing ready and is about to wait (before a blocking
//!   receive, when its input buffer is empty), checks [`Pipeline::shutdown`] (see
//!   [`crate::shutdown`] for how), and returns when its input ends, when `event` returns
//!   `Break`, or after its goodbye once a signal asked it to stop.
//! - The **filters** are one [`monwire_event::Filter`], built from the shared flags
//!   (`--kind`, `--min-severity`, `--protocol`, `--subject`: [`FilterArgs`]); they apply to
//!   every sink alike.
//! - The **sinks** implement [`Sink`]: the stdout printer ([`crate::output::Printer`], text
//!   or JSON Lines) always, and any others a command adds with [`Pipeline::add_sink`] (the
//!   SysAdm feed of `bridge`, a recording, an OTLP exporter).
//!
//! Flushing: until a source first calls [`Pipeline::idle`], every event is flushed at once
//! (a live source that never says when it waits still shows each event at once). After that,
//! the sinks are flushed at each `idle`, and the printer by itself every 256 KiB, so a decode
//! writes in large blocks and a live view still shows an event as soon as the source waits.

use std::ops::ControlFlow;

use clap::Args;
use monwire_event::{Event, Filter, Kind, Protocol, Severity};

use crate::Failure;
use crate::output::Printer;
use crate::shutdown::Shutdown;

/// Where events go: the stdout printer, a recording, an exporter, a websocket feed.
pub(crate) trait Sink {
    /// One event that passed the filters. `Break` when this sink can take no more (its output
    /// is gone); the pipeline stops feeding it, and tells the source to stop once no sink is
    /// left.
    fn event(&mut self, event: &Event) -> ControlFlow<()>;

    /// The source has nothing ready: write out what is buffered. A sink that batches by time
    /// (an exporter) may take this as a hint only.
    fn flush(&mut self) {}

    /// The run ends (its input ended, a signal, or a failure): flush and close, within the
    /// shutdown grace time. An error is reported once by the caller.
    fn finish(&mut self) -> Result<(), Failure> {
        self.flush();
        Ok(())
    }

    /// A short name for error messages (`stdout`, `otlp`, `record`, `bridge`).
    fn name(&self) -> &str;
}

/// The shared filter flags of every printing command.
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct FilterArgs {
    /// Keep only events of these kinds, comma-separated: listening, connecting, connected,
    /// authenticated, ready, disconnected, closed, failed, added, removed, starting, started,
    /// stopping, stopped, updated, saved, state, progress, stats, message, prompt,
    /// end_of_stream, other.
    #[arg(long, global = true, value_name = "K[,K…]", value_delimiter = ',', value_parser = parse_kind)]
    kind: Vec<Kind>,
    /// Keep only events at least this serious: trace, debug, info, warn, error, fatal.
    #[arg(long, global = true, value_name = "LEVEL", value_parser = parse_severity)]
    min_severity: Option<Severity>,
    /// Keep only events of these protocols (zmq, nsm, ray, galaxy, sysadm; comma-separated).
    /// `nsm` also keeps `ray`, RaySession's dialect of NSM that `watch nsm` prints.
    #[arg(long, global = true, value_name = "P[,P…]", value_delimiter = ',', value_parser = parse_protocol)]
    protocol: Vec<Protocol>,
    /// Keep only events whose subject matches this glob, over the whole subject: `*` any run
    /// of characters, `?` one character (`--subject 'tcp://*:5555'`, `--subject '*synth*'`).
    #[arg(long, global = true, value_name = "PATTERN")]
    subject: Option<String>,
}

fn parse_kind(s: &str) -> Result<Kind, String> {
    Kind::from_name(s.trim()).ok_or_else(|| {
        let names: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        format!("unknown kind {s:?}; one of {}", names.join(", "))
    })
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    Severity::from_name(s.trim()).ok_or_else(|| {
        format!("unknown level {s:?}; one of trace, debug, info, warn, error, fatal")
    })
}

fn parse_protocol(s: &str) -> Result<Protocol, String> {
    match Protocol::from_name(&s.trim().to_ascii_lowercase()) {
        Protocol::Other(_) => Err(format!(
            "unknown protocol {s:?}; one of zmq, nsm, ray, galaxy, sysadm"
        )),
        known => Ok(known),
    }
}

impl FilterArgs {
    /// The filter these flags describe.
    pub(crate) fn filter(&self) -> Filter {
        let mut f = Filter::new();
        if !self.kind.is_empty() {
            f = f.with_kinds(self.kind.iter().cloned());
        }
        if let Some(s) = self.min_severity {
            f = f.with_min_severity(s);
        }
        if !self.protocol.is_empty() {
            f = f.with_protocols(self.protocol.iter().cloned());
        }
        if let Some(p) = &self.subject {
            f = f.with_subject(p);
        }
        f
    }
}

/// Filters, then the sinks (see the module docs).
pub(crate) struct Pipeline {
    filter: Filter,
    printer: Printer,
    printer_live: bool,
    sinks: Vec<Box<dyn Sink>>,
    shutdown: Shutdown,
    source_reports_idle: bool,
    passed: u64,
}

impl Pipeline {
    /// A pipeline with `filter`, the stdout `printer`, and the run's shutdown token.
    pub(crate) fn new(filter: Filter, printer: Printer, shutdown: Shutdown) -> Pipeline {
        Pipeline {
            filter,
            printer,
            printer_live: true,
            sinks: Vec::new(),
            shutdown,
            source_reports_idle: false,
            passed: 0,
        }
    }

    /// Adds a sink after the printer.
    #[allow(dead_code, reason = "the exporter and recording sinks use it")]
    pub(crate) fn add_sink(&mut self, sink: Box<dyn Sink>) {
        self.sinks.push(sink);
    }

    /// The run's shutdown token: a source checks it (see [`crate::shutdown`]).
    pub(crate) fn shutdown(&self) -> &Shutdown {
        &self.shutdown
    }

    /// How many events passed the filters so far.
    #[allow(dead_code, reason = "for sources with --count")]
    pub(crate) fn passed(&self) -> u64 {
        self.passed
    }

    /// Feeds one event through the filters to every sink. `Break` when no sink takes more
    /// (stdout closed and no other sink): the source should stop.
    pub(crate) fn event(&mut self, event: &Event) -> ControlFlow<()> {
        if !self.filter.matches(event) {
            return self.flow();
        }
        self.passed += 1;
        if self.printer_live && self.printer.event(event).is_break() {
            self.printer_live = false;
        }
        self.sinks.retain_mut(|s| s.event(event).is_continue());
        if !self.source_reports_idle {
            self.flush_all();
        }
        self.flow()
    }

    fn flow(&self) -> ControlFlow<()> {
        if self.printer_live || !self.sinks.is_empty() {
            ControlFlow::Continue(())
        } else {
            ControlFlow::Break(())
        }
    }

    /// The source has nothing ready and is about to wait: flush every sink.
    pub(crate) fn idle(&mut self) {
        self.source_reports_idle = true;
        self.flush_all();
    }

    fn flush_all(&mut self) {
        if self.printer_live {
            self.printer.flush();
        }
        for s in &mut self.sinks {
            s.flush();
        }
    }

    /// Waits for `next` and returns its output; when it is not ready at once, flushes first
    /// ([`idle`](Pipeline::idle)). For async sources:
    /// `while let Some(item) = out.next(mon.recv()).await { … }`.
    #[allow(dead_code, reason = "for the async sources")]
    pub(crate) async fn next<T>(&mut self, next: impl std::future::Future<Output = T>) -> T {
        let mut next = std::pin::pin!(next);
        let ready = std::future::poll_fn(|cx| std::task::Poll::Ready(next.as_mut().poll(cx))).await;
        match ready {
            std::task::Poll::Ready(v) => v,
            std::task::Poll::Pending => {
                self.idle();
                next.await
            }
        }
    }

    /// What a parallel decode ([`crate::parallel`]) needs to filter and format events on its
    /// own threads: `None` unless the printer is the only sink, still takes output, and
    /// writes to a file or pipe (a terminal's width can change under it).
    pub(crate) fn block_formatter(&self) -> Option<(Filter, crate::output::Formatter)> {
        (self.sinks.is_empty() && self.printer_live && !self.printer.is_terminal())
            .then(|| (self.filter.clone(), self.printer.formatter()))
    }

    /// Counts events a parallel decode let through its filters.
    pub(crate) fn add_passed(&mut self, n: u64) {
        self.passed += n;
    }

    /// The stdout printer, for output that is not events (a protocol's own text syntax).
    /// Filters do not apply to it.
    pub(crate) fn printer(&mut self) -> &mut Printer {
        &mut self.printer
    }

    /// Ends the run: flushes and finishes every sink. The first failure is returned; every
    /// sink is finished regardless.
    pub(crate) fn finish(&mut self) -> Result<(), Failure> {
        let mut first = None;
        if let Err(e) = self.printer.finish() {
            first.get_or_insert(e);
        }
        for s in &mut self.sinks {
            if let Err(e) = s.finish() {
                if first.is_some() {
                    let (Failure::Usage(m) | Failure::Runtime(m)) = &e;
                    crate::diag::note(s.name(), m);
                } else {
                    first = Some(e);
                }
            }
        }
        self.sinks.clear();
        first.map_or(Ok(()), Err)
    }
}
