//! The sans-IO exporter core: a bounded queue, batch assembly by size and by time, and the
//! retry decisions (exponential backoff with jitter, `Retry-After`), driven by an injected
//! clock. No sockets, no timers, no threads: [`Exporter`](crate::Exporter) is the adapter that
//! drives it, and tests drive it with made-up instants.
//!
//! # Driving it
//!
//! After any input ([`Batcher::push`], [`Batcher::handle_outcome`], [`Batcher::flush`], or the
//! time reaching [`Batcher::poll_timeout`]), call [`Batcher::poll_transmit`] until it returns
//! `None`, sending what it gives; then sleep until [`Batcher::poll_timeout`] or the next input.
//! At most one batch is in flight at a time, so the collector sees events in the order they were
//! pushed, retries included.
//!
//! # Counting
//!
//! Every pushed event ends in exactly one counter, so at any time
//! `received == sent + rejected + dropped + pending`:
//! - **sent**: the collector accepted it;
//! - **rejected**: the collector refused it (a non-retryable status such as HTTP 400, or the
//!   `rejected_log_records` of a partial success);
//! - **dropped**: the exporter let it go: the queue was full and it was the oldest, or it was
//!   still unsent when the shutdown deadline passed;
//! - **pending**: still queued or in flight.
//!
//! `retried` counts events re-sent (a batch of 512 sent a third time adds 1024).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use monwire_event::Event;

/// Sizes and delays of the queue, the batches and the retries. The defaults are those of the
/// OpenTelemetry batch log processor (512 records or 1 s, a queue of 10,000 here as the issue
/// asks) and the OTLP exporter's usual backoff.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BatchConfig {
    /// Events kept waiting at most; when full, the oldest is dropped. The batch in flight is
    /// not counted here (so at most `max_queue + max_batch` events are held).
    pub max_queue: usize,
    /// Records per request at most; a full batch is sent at once.
    pub max_batch: usize,
    /// How long the first waiting event waits for its batch to fill before it is sent anyway.
    pub batch_timeout: Duration,
    /// The first retry delay; each later retry doubles it, up to `max_backoff`. The delay
    /// used is drawn uniformly from `[d/2, d]` (jitter), so many exporters do not retry in step.
    pub initial_backoff: Duration,
    /// The longest backoff delay.
    pub max_backoff: Duration,
    /// The longest server-requested delay (`Retry-After`, gRPC `RetryInfo`) that is honoured as
    /// is; longer ones are cut to this.
    pub max_retry_after: Duration,
}

impl Default for BatchConfig {
    fn default() -> Self {
        BatchConfig {
            max_queue: 10_000,
            max_batch: 512,
            batch_timeout: Duration::from_secs(1),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

impl BatchConfig {
    /// Sets [`max_queue`](BatchConfig::max_queue) (at least 1).
    #[must_use]
    pub fn with_max_queue(mut self, n: usize) -> Self {
        self.max_queue = n.max(1);
        self
    }
    /// Sets [`max_batch`](BatchConfig::max_batch) (at least 1).
    #[must_use]
    pub fn with_max_batch(mut self, n: usize) -> Self {
        self.max_batch = n.max(1);
        self
    }
    /// Sets [`batch_timeout`](BatchConfig::batch_timeout).
    #[must_use]
    pub fn with_batch_timeout(mut self, d: Duration) -> Self {
        self.batch_timeout = d;
        self
    }
    /// Sets [`initial_backoff`](BatchConfig::initial_backoff) and
    /// [`max_backoff`](BatchConfig::max_backoff).
    #[must_use]
    pub fn with_backoff(mut self, initial: Duration, max: Duration) -> Self {
        self.initial_backoff = initial;
        self.max_backoff = max.max(initial);
        self
    }
}

/// What the exporter did with the events it was given (see the [module docs](self#counting)).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Counters {
    /// Events handed to the exporter.
    pub received: u64,
    /// Events the collector accepted.
    pub sent: u64,
    /// Event sends repeated after a retryable failure.
    pub retried: u64,
    /// Events the exporter let go (queue full, or unsent at the shutdown deadline).
    pub dropped: u64,
    /// Events the collector refused.
    pub rejected: u64,
    /// Events queued or in flight now.
    pub pending: u64,
    /// Responses that were partial successes.
    pub partial_successes: u64,
    /// Requests the collector answered with success (full or partial).
    pub requests: u64,
}

impl std::fmt::Display for Counters {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sent {}, retried {}, dropped {}, rejected {}",
            self.sent, self.retried, self.dropped, self.rejected
        )?;
        if self.pending > 0 {
            write!(f, ", pending {}", self.pending)?;
        }
        Ok(())
    }
}

/// Identifies one batch across its send attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BatchId(u64);

/// A new batch to map, encode and send.
#[derive(Debug)]
#[non_exhaustive]
pub struct Batch {
    /// Its id, to hand back with the outcome.
    pub id: BatchId,
    /// The events, oldest first (at most `max_batch`).
    pub events: Vec<Event>,
}

/// What to send now.
#[derive(Debug)]
#[non_exhaustive]
pub enum Transmit {
    /// Send this new batch. Keep its encoded request: a retry resends the same bytes.
    Send(Batch),
    /// Send the batch with this id again (its retry delay has passed).
    Resend(BatchId),
}

/// How a send attempt ended, as the transport classified it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Outcome {
    /// The collector accepted the request; `rejected` of its records were refused all the same
    /// (an OTLP partial success, with the collector's `message`).
    Accepted {
        /// `partial_success.rejected_log_records` (0 for a full success).
        rejected: u64,
        /// `partial_success.error_message`, if not empty.
        message: Option<String>,
    },
    /// A retryable failure (HTTP 429/502/503/504, gRPC UNAVAILABLE…, a connection refused or
    /// broken, a timeout). `after` is the delay the server asked for, if any.
    Retry {
        /// `Retry-After` or gRPC `RetryInfo.retry_delay`.
        after: Option<Duration>,
        /// One line saying what failed.
        reason: String,
    },
    /// A permanent failure (HTTP 400 and other non-retryable statuses): the batch is rejected.
    Reject {
        /// One line saying what failed.
        reason: String,
    },
}

/// Something the adapter may want to tell its user (the exporter logs these to its callback).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Notice {
    /// The collector accepted a request only partly.
    PartialSuccess {
        /// Records it refused.
        rejected: u64,
        /// Its message.
        message: Option<String>,
    },
    /// The collector refused a whole batch.
    Rejected {
        /// Records in it.
        count: u64,
        /// Why.
        reason: String,
    },
    /// A send failed and will be retried after `delay`.
    Retrying {
        /// Retries of this batch so far, this one included.
        attempt: u32,
        /// When it is retried.
        delay: Duration,
        /// Why it failed.
        reason: String,
    },
    /// The collector accepts again after failed attempts.
    Recovered {
        /// The failed attempts before this success.
        after_attempts: u32,
    },
}

#[derive(Debug)]
enum State {
    Sending,
    Waiting(Instant),
}

#[derive(Debug)]
struct InFlight {
    id: BatchId,
    len: usize,
    retries: u32,
    state: State,
}

/// The queue, the batch assembly and the retry state (see the [module docs](self)).
#[derive(Debug)]
pub struct Batcher {
    config: BatchConfig,
    queue: VecDeque<Event>,
    /// When the oldest waiting event started waiting for its batch to fill.
    waiting_since: Option<Instant>,
    in_flight: Option<InFlight>,
    next_id: u64,
    flushing: bool,
    counters: Counters,
    rng: u64,
}

impl Batcher {
    /// A new, empty core. `seed` drives the backoff jitter (any value; the exporter uses the
    /// clock and the process id so that many hosts do not retry in step).
    pub fn new(config: BatchConfig, seed: u64) -> Batcher {
        Batcher {
            config,
            queue: VecDeque::new(),
            waiting_since: None,
            in_flight: None,
            next_id: 0,
            flushing: false,
            counters: Counters::default(),
            rng: seed ^ 0x9E37_79B9_7F4A_7C15,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &BatchConfig {
        &self.config
    }

    /// Queue an event. When the queue is full, the oldest waiting event is dropped (and
    /// counted) to make room: a monitor's latest events matter most.
    ///
    /// Returns whether [`poll_transmit`](Batcher::poll_transmit) or
    /// [`poll_timeout`](Batcher::poll_timeout) may now answer differently (the first waiting
    /// event, a batch just filled): an adapter wakes its driver only then.
    pub fn push(&mut self, event: Event, now: Instant) -> bool {
        self.counters.received += 1;
        if self.queue.len() >= self.config.max_queue.max(1) {
            self.queue.pop_front();
            self.counters.dropped += 1;
        }
        self.queue.push_back(event);
        self.waiting_since.get_or_insert(now);
        let n = self.queue.len();
        n == 1 || n == self.config.max_batch.max(1) || self.flushing
    }

    /// From now on, send what is queued without waiting for batches to fill (shutdown).
    pub fn flush(&mut self) {
        self.flushing = true;
    }

    /// What to send now, if anything (see the [module docs](self#driving-it)).
    pub fn poll_transmit(&mut self, now: Instant) -> Option<Transmit> {
        if let Some(f) = &mut self.in_flight {
            return match f.state {
                State::Waiting(at) if now >= at => {
                    f.state = State::Sending;
                    f.retries += 1;
                    self.counters.retried += f.len as u64;
                    Some(Transmit::Resend(f.id))
                }
                _ => None,
            };
        }
        let max_batch = self.config.max_batch.max(1);
        let due = self
            .waiting_since
            .is_some_and(|t| now >= t + self.config.batch_timeout);
        if self.queue.is_empty() || !(self.queue.len() >= max_batch || self.flushing || due) {
            return None;
        }
        let n = self.queue.len().min(max_batch);
        let events: Vec<Event> = self.queue.drain(..n).collect();
        let id = BatchId(self.next_id);
        self.next_id += 1;
        self.in_flight = Some(InFlight {
            id,
            len: n,
            retries: 0,
            state: State::Sending,
        });
        self.waiting_since = if self.queue.is_empty() {
            None
        } else {
            Some(now)
        };
        Some(Transmit::Send(Batch { id, events }))
    }

    /// When to call [`Batcher::poll_transmit`] next if nothing else happens: a retry delay
    /// ending, or the oldest waiting event's batch timeout. `None` while a send is on the wire,
    /// or when nothing is queued.
    pub fn poll_timeout(&self) -> Option<Instant> {
        match &self.in_flight {
            Some(InFlight {
                state: State::Waiting(at),
                ..
            }) => Some(*at),
            Some(_) => None,
            None => self.waiting_since.map(|t| t + self.config.batch_timeout),
        }
    }

    /// Record how the send of batch `id` ended. Outcomes for a batch that is not in flight are
    /// ignored (`None`).
    pub fn handle_outcome(
        &mut self,
        id: BatchId,
        outcome: Outcome,
        now: Instant,
    ) -> Option<Notice> {
        let f = self.in_flight.as_mut().filter(|f| f.id == id)?;
        let len = f.len as u64;
        match outcome {
            Outcome::Accepted { rejected, message } => {
                let rejected = rejected.min(len);
                let retries = f.retries;
                self.in_flight = None;
                self.counters.sent += len - rejected;
                self.counters.rejected += rejected;
                self.counters.requests += 1;
                if rejected > 0 || message.is_some() {
                    self.counters.partial_successes += 1;
                    Some(Notice::PartialSuccess { rejected, message })
                } else if retries > 0 {
                    Some(Notice::Recovered {
                        after_attempts: retries,
                    })
                } else {
                    None
                }
            }
            Outcome::Reject { reason } => {
                self.in_flight = None;
                self.counters.rejected += len;
                Some(Notice::Rejected { count: len, reason })
            }
            Outcome::Retry { after, reason } => {
                let retries = f.retries;
                let delay = match after {
                    Some(d) => d.min(self.config.max_retry_after),
                    None => {
                        let base = backoff(&self.config, retries);
                        jitter(base, next_random(&mut self.rng))
                    }
                };
                let f = self.in_flight.as_mut()?;
                f.state = State::Waiting(now + delay);
                Some(Notice::Retrying {
                    attempt: retries + 1,
                    delay,
                    reason,
                })
            }
        }
    }

    /// Give up on everything still queued or in flight (the shutdown deadline passed): it is
    /// counted as dropped. Returns how many events that was.
    pub fn abandon(&mut self) -> u64 {
        let n = self.queue.len() as u64 + self.in_flight.take().map_or(0, |f| f.len as u64);
        self.queue.clear();
        self.waiting_since = None;
        self.counters.dropped += n;
        n
    }

    /// Whether nothing is queued or in flight.
    pub fn is_idle(&self) -> bool {
        self.queue.is_empty() && self.in_flight.is_none()
    }

    /// Events queued or in flight.
    pub fn pending(&self) -> usize {
        self.queue.len() + self.in_flight.as_ref().map_or(0, |f| f.len)
    }

    /// The counters so far.
    pub fn counters(&self) -> Counters {
        Counters {
            pending: self.pending() as u64,
            ..self.counters
        }
    }
}

/// The backoff before retry number `retries + 1`: `initial * 2^retries`, at most `max_backoff`.
fn backoff(config: &BatchConfig, retries: u32) -> Duration {
    let factor = 1u32.checked_shl(retries.min(31)).unwrap_or(u32::MAX);
    config
        .initial_backoff
        .checked_mul(factor)
        .unwrap_or(config.max_backoff)
        .min(config.max_backoff)
}

/// A delay drawn from `[d/2, d]` by the random value `r`.
fn jitter(d: Duration, r: u64) -> Duration {
    let half = d / 2;
    let span = u64::try_from((d - half).as_nanos()).unwrap_or(u64::MAX);
    half + Duration::from_nanos(if span == 0 { 0 } else { r % (span + 1) })
}

/// splitmix64: a small, good-enough generator for jitter (not for secrets).
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;
    use monwire_event::{Kind, Protocol};

    fn ev(i: usize) -> Event {
        Event::new(Protocol::Zmq, Kind::Connected, format!("E{i}"))
    }

    fn cfg() -> BatchConfig {
        BatchConfig::default()
            .with_max_queue(10)
            .with_max_batch(4)
            .with_batch_timeout(Duration::from_secs(1))
            .with_backoff(Duration::from_millis(100), Duration::from_millis(800))
    }

    fn names(b: &Batch) -> Vec<String> {
        b.events.iter().map(|e| e.name.clone()).collect()
    }

    #[test]
    fn a_full_batch_goes_at_once_a_partial_one_after_the_timeout() {
        let t0 = Instant::now();
        let mut b = Batcher::new(cfg(), 1);
        for i in 0..5 {
            b.push(ev(i), t0);
        }
        let Some(Transmit::Send(first)) = b.poll_transmit(t0) else {
            panic!("a full batch must go at once")
        };
        assert_eq!(names(&first), ["E0", "E1", "E2", "E3"]);
        assert!(
            b.poll_transmit(t0).is_none(),
            "one batch in flight at a time"
        );
        assert_eq!(
            b.poll_timeout(),
            None,
            "nothing to wake for while on the wire"
        );
        b.handle_outcome(
            first.id,
            Outcome::Accepted {
                rejected: 0,
                message: None,
            },
            t0,
        );
        assert!(
            b.poll_transmit(t0).is_none(),
            "one event waits for its batch"
        );
        assert_eq!(b.poll_timeout(), Some(t0 + Duration::from_secs(1)));
        assert!(b.poll_transmit(t0 + Duration::from_millis(999)).is_none());
        let Some(Transmit::Send(second)) = b.poll_transmit(t0 + Duration::from_secs(1)) else {
            panic!("the timeout sends a partial batch")
        };
        assert_eq!(names(&second), ["E4"]);
        b.handle_outcome(
            second.id,
            Outcome::Accepted {
                rejected: 0,
                message: None,
            },
            t0,
        );
        let c = b.counters();
        assert_eq!((c.received, c.sent, c.pending, c.requests), (5, 5, 0, 2));
        assert!(b.is_idle());
    }

    #[test]
    fn a_full_queue_drops_the_oldest_and_counts_it() {
        let t0 = Instant::now();
        let mut b = Batcher::new(cfg().with_max_batch(100), 1);
        for i in 0..13 {
            b.push(ev(i), t0);
        }
        assert_eq!(b.counters().dropped, 3);
        b.flush();
        let Some(Transmit::Send(batch)) = b.poll_transmit(t0) else {
            panic!("flush sends at once")
        };
        assert_eq!(batch.events.first().map(|e| e.name.as_str()), Some("E3"));
        assert_eq!(batch.events.len(), 10);
    }

    #[test]
    fn retries_back_off_exponentially_with_jitter_and_honour_retry_after() {
        let t0 = Instant::now();
        let mut b = Batcher::new(cfg(), 7);
        for i in 0..4 {
            b.push(ev(i), t0);
        }
        let Some(Transmit::Send(batch)) = b.poll_transmit(t0) else {
            panic!()
        };
        let mut now = t0;
        let mut bases = vec![];
        for attempt in 1..=5u32 {
            let retry = Outcome::Retry {
                after: None,
                reason: "503".into(),
            };
            let Some(Notice::Retrying {
                delay, attempt: a, ..
            }) = b.handle_outcome(batch.id, retry, now)
            else {
                panic!()
            };
            assert_eq!(a, attempt);
            let base =
                Duration::from_millis(100 * (1 << (attempt - 1))).min(Duration::from_millis(800));
            assert!(
                delay >= base / 2 && delay <= base,
                "{delay:?} not in [{:?}, {base:?}]",
                base / 2
            );
            bases.push(delay);
            assert_eq!(b.poll_timeout(), Some(now + delay));
            assert!(
                b.poll_transmit(now + delay - Duration::from_nanos(1))
                    .is_none()
            );
            now += delay;
            assert!(matches!(b.poll_transmit(now), Some(Transmit::Resend(id)) if id == batch.id));
        }
        // Retry-After is taken as is, and capped.
        let n = b.handle_outcome(
            batch.id,
            Outcome::Retry {
                after: Some(Duration::from_secs(7)),
                reason: "429".into(),
            },
            now,
        );
        assert!(
            matches!(n, Some(Notice::Retrying { delay, .. }) if delay == Duration::from_secs(7))
        );
        now += Duration::from_secs(7);
        assert!(b.poll_transmit(now).is_some());
        let n = b.handle_outcome(
            batch.id,
            Outcome::Accepted {
                rejected: 0,
                message: None,
            },
            now,
        );
        assert_eq!(n, Some(Notice::Recovered { after_attempts: 6 }));
        let c = b.counters();
        assert_eq!((c.sent, c.retried, c.dropped, c.rejected), (4, 24, 0, 0));
    }

    #[test]
    fn rejects_and_partial_successes_are_counted_once() {
        let t0 = Instant::now();
        let mut b = Batcher::new(cfg(), 1);
        for i in 0..8 {
            b.push(ev(i), t0);
        }
        let Some(Transmit::Send(a)) = b.poll_transmit(t0) else {
            panic!()
        };
        let n = b.handle_outcome(
            a.id,
            Outcome::Reject {
                reason: "HTTP 400".into(),
            },
            t0,
        );
        assert!(matches!(n, Some(Notice::Rejected { count: 4, .. })));
        // A stale outcome for a finished batch changes nothing.
        assert_eq!(
            b.handle_outcome(a.id, Outcome::Reject { reason: "x".into() }, t0),
            None
        );
        let Some(Transmit::Send(c)) = b.poll_transmit(t0) else {
            panic!()
        };
        b.handle_outcome(
            c.id,
            Outcome::Accepted {
                rejected: 1,
                message: Some("bad record".into()),
            },
            t0,
        );
        let k = b.counters();
        assert_eq!((k.sent, k.rejected, k.partial_successes), (3, 5, 1));
        assert_eq!(k.received, k.sent + k.rejected + k.dropped + k.pending);
    }

    #[test]
    fn abandon_counts_what_is_left() {
        let t0 = Instant::now();
        let mut b = Batcher::new(cfg(), 1);
        for i in 0..6 {
            b.push(ev(i), t0);
        }
        let _ = b.poll_transmit(t0);
        assert_eq!(b.abandon(), 6);
        let k = b.counters();
        assert_eq!((k.dropped, k.pending), (6, 0));
        assert!(b.is_idle());
    }
}
