//! `--otlp [URL]`: every event that passes the filters is also exported as an OTLP log record
//! (a [`Sink`] beside the printer), through `monwire-otlp`'s exporter on a runtime of its own.
//!
//! - The endpoint: the URL given (over HTTP, a URL without a path gets `/v1/logs`), else the
//!   standard `OTEL_EXPORTER_OTLP_*` variables, else `http://localhost:4318`.
//! - `--otlp-protocol http/protobuf|http/json|grpc` (default: `OTEL_EXPORTER_OTLP_PROTOCOL`,
//!   else `http/protobuf`).
//! - While the collector is away, events wait in the exporter's bounded queue and one stderr
//!   line says so; another says when it is back.
//! - At the end (input over, or a signal), what is queued is flushed within a deadline (5 s,
//!   or 1 s after a signal, inside the 2 s grace), and one stderr line gives the counters:
//!   `monwire: otlp: the collector at URL accepted N of M records (retried R, dropped D,
//!   rejected J)`. Records not delivered make the run fail (exit 1).

use std::ops::ControlFlow;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use clap::Args;
use monwire_event::Event;
use monwire_otlp::batch::Notice;
use monwire_otlp::{Exporter, ExporterConfig, OtlpProtocol};

use crate::Failure;
use crate::diag::note;
use crate::pipeline::Sink;
use crate::shutdown::Shutdown;

/// The OTLP export flags (every printing command takes them).
#[derive(Args, Debug, Clone, Default)]
pub(crate) struct OtlpArgs {
    /// Also export every event that passes the filters as an OTLP log record to this collector
    /// (`http://host:4318`; default: OTEL_EXPORTER_OTLP_ENDPOINT / …_LOGS_ENDPOINT, then
    /// http://localhost:4318). The normal output stays (`-q` silences it).
    #[arg(
        long,
        global = true,
        value_name = "URL",
        num_args = 0..=1,
        default_missing_value = ""
    )]
    otlp: Option<String>,
    /// The OTLP transport: http/protobuf (default), http/json or grpc (port 4317).
    #[arg(long, global = true, value_name = "PROTOCOL", value_parser = parse_protocol)]
    otlp_protocol: Option<OtlpProtocol>,
}

fn parse_protocol(s: &str) -> Result<OtlpProtocol, String> {
    s.parse::<OtlpProtocol>().map_err(|e| e.to_string())
}

impl OtlpArgs {
    /// The exporter configuration these flags and the environment describe, or `None` without
    /// `--otlp`.
    pub(crate) fn config(&self) -> Result<Option<ExporterConfig>, Failure> {
        let Some(url) = &self.otlp else {
            return Ok(None);
        };
        let usage = |e: monwire_otlp::Error| Failure::Usage(format!("otlp: {e}"));
        let mut config = ExporterConfig::from_env().map_err(usage)?;
        if let Some(p) = self.otlp_protocol {
            if p != config.protocol {
                config.endpoint =
                    ExporterConfig::endpoint_from_env(p, &monwire_otlp::env::process_env);
            }
            config.protocol = p;
        }
        if !url.trim().is_empty() {
            config = config.with_endpoint(url);
        }
        config.validate().map_err(usage)?;
        Ok(Some(config))
    }
}

/// The exporter as a pipeline sink.
pub(crate) struct OtlpSink {
    // Declared before the runtime: the exporter's task is stopped before the runtime goes.
    exporter: Option<Exporter>,
    runtime: tokio::runtime::Runtime,
    endpoint: String,
    shutdown: Shutdown,
}

impl OtlpSink {
    /// Start the exporter (on a one-thread runtime of its own, so that it runs whatever the
    /// source does with its own threads and runtimes).
    pub(crate) fn start(config: ExporterConfig, shutdown: Shutdown) -> Result<OtlpSink, Failure> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("monwire-otlp")
            .enable_all()
            .build()
            .map_err(|e| Failure::Runtime(format!("otlp: cannot start its runtime: {e}")))?;
        let endpoint = config.endpoint.clone();
        let failing = Arc::new(AtomicBool::new(false));
        let on_notice = move |n: &Notice| report(n, &failing);
        let exporter = {
            let _enter = runtime.enter();
            Exporter::start_with_notices(config, Some(Box::new(on_notice)))
                .map_err(|e| Failure::Usage(format!("otlp: {e}")))?
        };
        Ok(OtlpSink {
            exporter: Some(exporter),
            runtime,
            endpoint,
            shutdown,
        })
    }
}

/// One stderr line per change: the first failure of a run of retries, the recovery, every
/// rejection and partial success.
fn report(n: &Notice, failing: &AtomicBool) {
    match n {
        Notice::Retrying { delay, reason, .. } if !failing.swap(true, Ordering::Relaxed) => {
            note(
                "otlp",
                format!(
                    "{reason}; retrying in {:.1} s, events wait in the queue",
                    delay.as_secs_f64()
                ),
            );
        }
        Notice::Recovered { after_attempts } => {
            failing.store(false, Ordering::Relaxed);
            note(
                "otlp",
                format!("the collector accepts again (after {after_attempts} failed attempts)"),
            );
        }
        Notice::Rejected { count, reason } => {
            failing.store(false, Ordering::Relaxed);
            note(
                "otlp",
                format!("the collector rejected {count} records: {reason}"),
            );
        }
        Notice::PartialSuccess { rejected, message } => note(
            "otlp",
            format!(
                "the collector rejected {rejected} records of a request{}",
                message
                    .as_deref()
                    .map(|m| format!(": {m}"))
                    .unwrap_or_default()
            ),
        ),
        _ => {}
    }
}

impl Sink for OtlpSink {
    fn event(&mut self, event: &Event) -> ControlFlow<()> {
        if let Some(e) = &self.exporter {
            e.export(event.clone());
        }
        ControlFlow::Continue(())
    }

    // `flush` is left to the exporter's own batch timer: a batch goes when it is full or 1 s
    // old, not at every pause of the source.

    fn finish(&mut self) -> Result<(), Failure> {
        let Some(exporter) = self.exporter.take() else {
            return Ok(());
        };
        let deadline = if self.shutdown.is_requested() {
            Duration::from_secs(1)
        } else {
            Duration::from_secs(5)
        };
        let c = self.runtime.block_on(exporter.shutdown(deadline));
        note(
            "otlp",
            format!(
                "the collector at {} accepted {} of {} records (retried {}, dropped {}, rejected {})",
                self.endpoint, c.sent, c.received, c.retried, c.dropped, c.rejected
            ),
        );
        let lost = c.dropped + c.rejected;
        if lost > 0 {
            return Err(Failure::Runtime(format!(
                "otlp: {lost} of {} records were not delivered to {}",
                c.received, self.endpoint
            )));
        }
        Ok(())
    }

    fn name(&self) -> &str {
        "otlp"
    }
}
