//! The tokio adapter: a task that drives the [`Batcher`] and the transport.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime};

use monwire_event::Event;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::batch::{BatchId, Batcher, Counters, Notice, Outcome, Transmit};
use crate::config::ExporterConfig;
use crate::error::Error;
use crate::resource::ResourceInfo;
use crate::transport::{Prepared, Transport};

type NoticeFn = dyn Fn(&Notice) + Send + Sync;

struct Shared {
    core: Mutex<Batcher>,
    wake: Notify,
    /// Set once by `shutdown`: the instant by which everything must be sent.
    deadline: Mutex<Option<Instant>>,
    on_notice: Option<Box<NoticeFn>>,
}

impl Shared {
    fn core(&self) -> MutexGuard<'_, Batcher> {
        // A panic while holding the lock cannot leave the core half-updated in a way that
        // matters more than losing the exporter: keep going with what is there.
        self.core.lock().unwrap_or_else(|e| e.into_inner())
    }
    fn deadline(&self) -> Option<Instant> {
        *self.deadline.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// An OTLP log exporter: hand it events with [`Exporter::export`] (never blocks, never fails),
/// read its [`Counters`] any time, and end it with [`Exporter::shutdown`], which sends what is
/// left within a deadline.
///
/// It runs one tokio task that batches, sends (one request in flight, so order is kept), and
/// retries until the collector takes the batch or a permanent failure rejects it. While the
/// collector is away the queue holds the newest [`max_queue`](crate::BatchConfig::max_queue)
/// events, dropping (and counting) the oldest, and sends them when it is back.
///
/// ```no_run
/// # async fn run() -> Result<(), monwire_otlp::Error> {
/// use monwire_otlp::{Exporter, ExporterConfig};
/// use monwire_otlp::monwire_event::{Event, Kind, Protocol};
///
/// let exporter = Exporter::start(ExporterConfig::from_env()?)?;
/// exporter.export(Event::new(Protocol::Zmq, Kind::Connected, "CONNECTED"));
/// let counters = exporter.shutdown(std::time::Duration::from_secs(5)).await;
/// eprintln!("otlp: {counters}");
/// # Ok(()) }
/// ```
pub struct Exporter {
    shared: Arc<Shared>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter")
            .field("counters", &self.counters())
            .finish_non_exhaustive()
    }
}

impl Exporter {
    /// Start an exporter (inside a tokio runtime). Fails only on configuration: a bad endpoint,
    /// header or CA file, or a transport this build lacks. A collector that is not there yet
    /// is not an error: the events wait in the queue.
    pub fn start(config: ExporterConfig) -> Result<Exporter, Error> {
        Exporter::start_with_notices(config, None)
    }

    /// [`Exporter::start`] with a callback told of retries, recoveries, rejections and partial
    /// successes (the CLI prints them on stderr). It runs on the exporter's task: keep it short.
    pub fn start_with_notices(
        config: ExporterConfig,
        on_notice: Option<Box<NoticeFn>>,
    ) -> Result<Exporter, Error> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| Error::NoRuntime)?;
        let transport = Transport::new(&config)?;
        let seed = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64)
            ^ u64::from(std::process::id()).rotate_left(32);
        let shared = Arc::new(Shared {
            core: Mutex::new(Batcher::new(config.batch.clone(), seed)),
            wake: Notify::new(),
            deadline: Mutex::new(None),
            on_notice,
        });
        let task = runtime.spawn(run(shared.clone(), transport, config.resource));
        Ok(Exporter {
            shared,
            task: Some(task),
        })
    }

    /// Queue an event for export. An event without [`observed`](Event::observed) time is
    /// stamped with now. Never blocks on the network; when the queue is full the oldest waiting
    /// event is dropped and counted.
    pub fn export(&self, mut event: Event) {
        if event.observed.is_none() {
            event.observed = Some(SystemTime::now());
        }
        let wake = self.shared.core().push(event, Instant::now());
        if wake {
            self.shared.wake.notify_one();
        }
    }

    /// The counters so far.
    pub fn counters(&self) -> Counters {
        self.shared.core().counters()
    }

    /// Send everything still queued, waiting at most `deadline`; what is still unsent then is
    /// dropped (and counted). Returns the final counters.
    pub async fn shutdown(mut self, deadline: Duration) -> Counters {
        let until = Instant::now() + deadline;
        *self
            .shared
            .deadline
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(until);
        self.shared.core().flush();
        self.shared.wake.notify_one();
        if let Some(task) = self.task.take() {
            // The task keeps the deadline itself; the grace only covers a task that cannot be
            // polled (it never holds the lock across an await).
            let abort = task.abort_handle();
            if tokio::time::timeout(deadline + Duration::from_secs(1), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
        let mut core = self.shared.core();
        core.abandon();
        core.counters()
    }
}

impl Drop for Exporter {
    /// Dropping without [`Exporter::shutdown`] stops the task at once; what was queued is lost.
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

fn notify(shared: &Shared, notice: Option<Notice>) {
    if let (Some(f), Some(n)) = (&shared.on_notice, notice) {
        f(&n);
    }
}

/// The driving loop (the rule of the [`batch`](crate::batch) module docs). While a request is
/// on the wire, the next batch is mapped and encoded on a blocking thread, so that encoding
/// and the collector's work overlap; order is kept by the core.
async fn run(shared: Arc<Shared>, transport: Transport, resource: ResourceInfo) {
    let transport = Arc::new(transport);
    let resource = Arc::new(resource);
    let mut current: Option<(BatchId, Prepared)> = None;
    let mut staged: Option<(BatchId, Prepared)> = None;
    loop {
        let now = Instant::now();
        let (transmit, timeout, idle) = {
            let mut core = shared.core();
            let t = core.poll_transmit(now);
            (t, core.poll_timeout(), core.is_idle())
        };
        let deadline = shared.deadline();
        match transmit {
            Some(Transmit::Send(batch)) => {
                let id = batch.id;
                match transport.prepare(&resource, batch.events) {
                    Ok(p) => current = Some((id, p)),
                    Err(e) => {
                        reject(&shared, id, &e);
                        continue;
                    }
                }
            }
            Some(Transmit::SendStaged(id)) => {
                current = staged.take().filter(|(sid, _)| *sid == id);
                if current.is_none() {
                    continue;
                }
            }
            Some(Transmit::Resend(_)) => {}
            None => {
                if deadline.is_some() && idle {
                    return;
                }
                if deadline.is_some_and(|d| now >= d) {
                    return;
                }
                let wake_at = match (timeout, deadline) {
                    (Some(t), Some(d)) => Some(t.min(d)),
                    (t, d) => t.or(d),
                };
                match wake_at {
                    Some(at) => {
                        tokio::select! {
                            () = shared.wake.notified() => {}
                            () = tokio::time::sleep_until(at.into()) => {}
                        }
                    }
                    None => shared.wake.notified().await,
                }
                continue;
            }
        }
        let Some((id, prepared)) = &current else {
            continue;
        };
        // The next batch, if one is ready, is encoded meanwhile on another thread.
        let next = shared.core().poll_prefetch(Instant::now()).map(|batch| {
            let (t, r, nid) = (transport.clone(), resource.clone(), batch.id);
            let job = tokio::task::spawn_blocking(move || t.prepare(&r, batch.events));
            (nid, job)
        });
        let outcome = match deadline {
            Some(d) => match tokio::time::timeout_at(d.into(), transport.send(prepared)).await {
                Ok(o) => o,
                // Unconfirmed at the deadline: `shutdown` counts it as dropped.
                Err(_) => return,
            },
            None => transport.send(prepared).await,
        };
        if let Some((nid, job)) = next {
            match job.await {
                Ok(Ok(p)) => staged = Some((nid, p)),
                Ok(Err(e)) => reject(&shared, nid, &e),
                Err(e) => reject(&shared, nid, &e),
            }
        }
        let done = matches!(outcome, Outcome::Accepted { .. } | Outcome::Reject { .. });
        let n = shared.core().handle_outcome(*id, outcome, Instant::now());
        notify(&shared, n);
        if done {
            current = None;
        }
    }
}

/// A batch that could not be encoded (a non-finite float in OTLP/JSON) is rejected.
fn reject(shared: &Shared, id: BatchId, e: &dyn std::fmt::Display) {
    let n = shared.core().handle_outcome(
        id,
        Outcome::Reject {
            reason: e.to_string(),
        },
        Instant::now(),
    );
    notify(shared, n);
}
