//! The monitor reader itself; see the parent module for the rules it keeps.
#![allow(unsafe_code)] // One call: `zmq_socket_monitor(s, NULL, 0)`, which the safe API lacks.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use smallvec::SmallVec;
use thiserror::Error;

use crate::error::DecodeError;
use crate::message::{EventMask, MonitorEvent, V1Message, V1MessageRef};
use crate::session::{EndReason, MonitorSession};

/// At most this many frames are collected for one message; the rest are read and dropped.
const MAX_FRAMES: usize = 16;

/// An error of a live monitor.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// v1 monitors take only bits below 16 (`PIPES_STATS` needs v2).
    #[error("event mask 0x{0:x} has bits v1 monitors do not take (16 and above)")]
    MaskNotV1(u64),
    /// A message from the monitor could not be decoded; the stream goes on.
    #[error("monitor message: {0}")]
    Decode(#[from] DecodeError),
    /// libzmq reported an error.
    #[error("{op}: {source}")]
    Zmq {
        /// What was being done.
        op: &'static str,
        /// The error.
        source: ::zmq::Error,
    },
    /// The NULL-endpoint stop failed (its errno).
    #[error("stopping the monitor failed: {0}")]
    Stop(std::io::Error),
    /// `MONITOR_STOPPED` did not arrive after the stop: the socket passed to
    /// [`Monitor::stop`] is not the one this monitor watches.
    #[error("MONITOR_STOPPED did not arrive after the stop; was it the monitored socket?")]
    NotStopped,
}

fn zerr(op: &'static str) -> impl FnOnce(::zmq::Error) -> MonitorError {
    move |source| MonitorError::Zmq { op, source }
}

/// Options for [`Monitor::attach_with`].
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct AttachOptions {
    /// Set the reader's `RCVHWM` to 0: the monitor pipe never fills, so an unread monitor never
    /// stalls the context, but memory grows while events go unread.
    pub unbounded: bool,
}

impl AttachOptions {
    /// The default: a bounded pipe of about 2,000 messages.
    pub fn new() -> AttachOptions {
        AttachOptions::default()
    }

    /// Choose the unbounded reader.
    #[must_use]
    pub fn unbounded(mut self, yes: bool) -> AttachOptions {
        self.unbounded = yes;
        self
    }
}

/// What [`Monitor::try_recv`] and [`Monitor::recv_timeout`] found: an owned [`V1Message`], or
/// for the lending forms ([`Monitor::try_recv_ref`], [`Monitor::recv_ref_timeout`]) a
/// [`V1MessageRef`] borrowed from the monitor.
#[derive(Debug, PartialEq, Eq)]
pub enum TryRecv<M = V1Message> {
    /// A message.
    Message(M),
    /// Nothing ready now.
    Empty,
    /// The stream has ended.
    Ended,
}

impl<M> TryRecv<M> {
    fn map<N>(self, f: impl FnOnce(M) -> N) -> TryRecv<N> {
        match self {
            TryRecv::Message(m) => TryRecv::Message(f(m)),
            TryRecv::Empty => TryRecv::Empty,
            TryRecv::Ended => TryRecv::Ended,
        }
    }
}

/// A live v1 monitor on one socket: a blocking iterator of typed messages.
///
/// Two ways to read it:
/// - **owned**: the [`Iterator`], [`recv`](Monitor::recv), [`try_recv`](Monitor::try_recv) and
///   [`recv_timeout`](Monitor::recv_timeout) give [`V1Message`]s, each with its own copy of
///   the endpoint;
/// - **lending**: [`recv_ref`](Monitor::recv_ref), [`try_recv_ref`](Monitor::try_recv_ref) and
///   [`recv_ref_timeout`](Monitor::recv_ref_timeout) give a [`V1MessageRef`] that borrows the
///   endpoint from the monitor's own receive buffers (reused `zmq::Message`s), valid until the
///   next read. Reading this way allocates nothing; build what you keep from it
///   ([`to_event`](crate::event::to_event), [`V1MessageRef::to_owned`]) only when you keep it.
///
/// ```no_run
/// use monwire_zmq::zmq::{self, Monitor, TryRecv};
/// use monwire_zmq::{EventCode, EventMask};
///
/// let ctx = zmq::Context::new();
/// let mut socket = ctx.socket(zmq::DEALER)?;
/// let mut monitor = Monitor::attach(&ctx, &socket, EventMask::ALL_V1)?;
/// socket.bind("tcp://127.0.0.1:*")?; // LISTENING is sent inside bind(): the reader is ready
/// let first = monitor.next().unwrap()?;
/// assert_eq!(first.event.code(), EventCode::LISTENING);
///
/// // Lending: drain what is ready without copying.
/// while let TryRecv::Message(m) = monitor.try_recv_ref()? {
///     println!("{m}");
/// }
/// monitor.stop(&mut socket)?;
/// assert!(monitor.all(|m| m.is_ok()));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Monitor {
    reader: Option<::zmq::Socket>,
    session: MonitorSession,
    endpoint: String,
    queue: VecDeque<V1Message>,
    /// The message a lending read handed out from the queue.
    lent: Option<V1Message>,
    frames: Vec<::zmq::Message>,
    tap: Option<Tap>,
}

/// A function that sees the frames of every message the monitor passes on, as they came off
/// the reader, before they are decoded into the message (for recordings).
pub type Tap = Box<dyn FnMut(&[&[u8]]) + Send>;

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("endpoint", &self.endpoint)
            .field("wanted", &self.session.wanted())
            .field("ended", &self.session.end_reason())
            .field("queued", &self.queue.len())
            .finish()
    }
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// What one read from the reader gave.
enum Step {
    /// A wanted message: its event; its endpoint is `frames[1]`.
    Message(MonitorEvent),
    Filtered,
    Empty,
    Ended,
}

impl Monitor {
    /// Arms a v1 monitor for `events` on `socket` (which must belong to `ctx`) and connects a
    /// bounded reader. Call it before binding or connecting the socket.
    pub fn attach(
        ctx: &::zmq::Context,
        socket: &::zmq::Socket,
        events: EventMask,
    ) -> Result<Monitor, MonitorError> {
        Monitor::attach_with(ctx, socket, events, AttachOptions::default())
    }

    /// [`attach`](Monitor::attach) with options.
    pub fn attach_with(
        ctx: &::zmq::Context,
        socket: &::zmq::Socket,
        events: EventMask,
        options: AttachOptions,
    ) -> Result<Monitor, MonitorError> {
        if !events.fits_v1() {
            return Err(MonitorError::MaskNotV1(events.bits()));
        }
        let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
        let endpoint = format!("inproc://monwire-zmq-monitor.{}.{id}", std::process::id());
        let armed = MonitorSession::new(events).armed_mask();
        let mask =
            i32::try_from(armed.bits()).map_err(|_| MonitorError::MaskNotV1(events.bits()))?;
        socket
            .monitor(&endpoint, mask)
            .map_err(zerr("arming the monitor"))?;
        Monitor::connect(ctx, &endpoint, events, options)
    }

    /// Reads a v1 monitor that was armed elsewhere (by another binding, or C code that called
    /// `zmq_socket_monitor(s, endpoint, events)` with `MONITOR_STOPPED` in its mask) on the
    /// `inproc://` `endpoint` of `ctx`. `events` is what the iterator passes on. Everything said
    /// about back-pressure and teardown applies as for [`attach`](Monitor::attach).
    pub fn connect(
        ctx: &::zmq::Context,
        endpoint: &str,
        events: EventMask,
        options: AttachOptions,
    ) -> Result<Monitor, MonitorError> {
        if !events.fits_v1() {
            return Err(MonitorError::MaskNotV1(events.bits()));
        }
        let reader = ctx
            .socket(::zmq::PAIR)
            .map_err(zerr("creating the reader"))?;
        if options.unbounded {
            reader.set_rcvhwm(0).map_err(zerr("setting RCVHWM"))?;
        }
        reader.set_linger(0).map_err(zerr("setting LINGER"))?;
        reader
            .connect(endpoint)
            .map_err(zerr("connecting the reader"))?;
        Ok(Monitor {
            reader: Some(reader),
            session: MonitorSession::new(events),
            endpoint: endpoint.to_owned(),
            queue: VecDeque::new(),
            lent: None,
            frames: Vec::new(),
            tap: None,
        })
    }

    /// The `inproc://` endpoint this monitor was armed on (unique per attach).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The reader socket, for polling alongside other sockets; `None` once closed. Read it only
    /// through this `Monitor`.
    pub fn reader(&self) -> Option<&::zmq::Socket> {
        self.reader.as_ref()
    }

    /// Whether the stream has ended (all queued messages may still be unread).
    pub fn is_ended(&self) -> bool {
        self.session.is_ended()
    }

    /// Why the stream ended, if it has.
    pub fn end_reason(&self) -> Option<EndReason> {
        self.session.end_reason()
    }

    /// Sets (or clears) the [`Tap`] that sees the raw frames of every message passed on.
    pub fn set_tap(&mut self, tap: Option<Tap>) {
        self.tap = tap;
    }

    /// Reads one message from the reader into the reused frames. `flags` is 0 (block) or
    /// `DONTWAIT`.
    fn read(&mut self, flags: i32) -> Result<Step, MonitorError> {
        let Some(reader) = self.reader.as_ref() else {
            return Ok(Step::Ended);
        };
        let mut count = 0;
        loop {
            if count == self.frames.len() && count < MAX_FRAMES {
                self.frames.push(::zmq::Message::new());
            }
            let slot = count.min(MAX_FRAMES - 1);
            let f = if count == 0 { flags } else { 0 };
            match reader.recv(&mut self.frames[slot], f) {
                Ok(()) => {}
                Err(::zmq::Error::EINTR) => continue,
                Err(::zmq::Error::EAGAIN) if count == 0 => return Ok(Step::Empty),
                Err(::zmq::Error::ETERM) => {
                    self.session.handle_term();
                    self.reader = None;
                    return Ok(Step::Ended);
                }
                Err(e) => return Err(zerr("receiving")(e)),
            }
            count += 1;
            // `zmq_msg_more` on the frame itself: no socket option call per frame.
            if !self.frames[slot].get_more() {
                break;
            }
        }
        let frames: SmallVec<[&[u8]; 4]> = self.frames[..count.min(MAX_FRAMES)]
            .iter()
            .map(|m| &**m)
            .collect();
        // A message longer than MAX_FRAMES is reported with the frames kept, which is always
        // a frame-count error for v1.
        let result = self
            .session
            .handle_v1_ref(&frames)
            .map(|m| m.map(|m| m.event));
        if let (Ok(Some(_)), Some(tap)) = (&result, self.tap.as_mut()) {
            tap(&frames);
        }
        if self.session.is_ended() {
            self.reader = None; // MONITOR_STOPPED: now the reader may close.
        }
        match result? {
            Some(event) => Ok(Step::Message(event)),
            None if self.session.is_ended() => Ok(Step::Ended),
            None => Ok(Step::Filtered),
        }
    }

    /// The message whose event [`read`](Monitor::read) just returned, borrowed.
    fn lend(&self, event: MonitorEvent) -> V1MessageRef<'_> {
        V1MessageRef {
            event,
            endpoint: self.frames.get(1).map_or(&[][..], |m| &**m),
        }
    }

    /// The message whose event [`read`](Monitor::read) just returned, owned.
    fn own(&self, event: MonitorEvent) -> V1Message {
        V1Message {
            event,
            endpoint: self.frames.get(1).map_or_else(Vec::new, |m| m.to_vec()),
        }
    }

    /// The next message, blocking until one arrives; `Ok(None)` at the end of the stream.
    pub fn recv(&mut self) -> Result<Option<V1Message>, MonitorError> {
        if let Some(m) = self.queue.pop_front() {
            return Ok(Some(m));
        }
        match self.next_event(None)? {
            TryRecv::Message(event) => Ok(Some(self.own(event))),
            TryRecv::Empty | TryRecv::Ended => Ok(None),
        }
    }

    /// The next message if one is ready, without blocking.
    pub fn try_recv(&mut self) -> Result<TryRecv, MonitorError> {
        self.recv_timeout(Duration::ZERO)
    }

    /// The next message, waiting at most `timeout`; `Ok(TryRecv::Empty)` when none came.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<TryRecv, MonitorError> {
        if let Some(m) = self.queue.pop_front() {
            return Ok(TryRecv::Message(m));
        }
        let found = self.next_event(Some(timeout))?;
        Ok(found.map(|event| self.own(event)))
    }

    /// The next message, blocking until one arrives, borrowed from the monitor until the next
    /// read (see "lending" on [`Monitor`]); `Ok(None)` at the end of the stream.
    pub fn recv_ref(&mut self) -> Result<Option<V1MessageRef<'_>>, MonitorError> {
        if let Some(m) = self.queue.pop_front() {
            return Ok(Some(self.lent.insert(m).view()));
        }
        match self.next_event(None)? {
            TryRecv::Message(event) => Ok(Some(self.lend(event))),
            TryRecv::Empty | TryRecv::Ended => Ok(None),
        }
    }

    /// The next message if one is ready, without blocking, borrowed until the next read.
    pub fn try_recv_ref(&mut self) -> Result<TryRecv<V1MessageRef<'_>>, MonitorError> {
        self.recv_ref_timeout(Duration::ZERO)
    }

    /// The next message, waiting at most `timeout`, borrowed until the next read;
    /// `Ok(TryRecv::Empty)` when none came.
    pub fn recv_ref_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<TryRecv<V1MessageRef<'_>>, MonitorError> {
        if let Some(m) = self.queue.pop_front() {
            return Ok(TryRecv::Message(self.lent.insert(m).view()));
        }
        let found = self.next_event(Some(timeout))?;
        Ok(found.map(|event| self.lend(event)))
    }

    /// Reads to the next wanted message and returns its event (the endpoint stays in the
    /// frames). `None` waits for ever; `Some(t)` at most `t` (zero: only what is ready).
    fn next_event(
        &mut self,
        timeout: Option<Duration>,
    ) -> Result<TryRecv<MonitorEvent>, MonitorError> {
        let Some(timeout) = timeout else {
            loop {
                match self.read(0)? {
                    Step::Message(event) => return Ok(TryRecv::Message(event)),
                    Step::Ended => return Ok(TryRecv::Ended),
                    Step::Filtered | Step::Empty => {}
                }
            }
        };
        if timeout.is_zero() {
            // Only what is ready: no clock read (a watch asks this once per message).
            loop {
                match self.read(::zmq::DONTWAIT)? {
                    Step::Message(event) => return Ok(TryRecv::Message(event)),
                    Step::Ended => return Ok(TryRecv::Ended),
                    Step::Filtered => continue,
                    Step::Empty => return Ok(TryRecv::Empty),
                }
            }
        }
        let deadline = Instant::now() + timeout;
        loop {
            match self.read(::zmq::DONTWAIT)? {
                Step::Message(event) => return Ok(TryRecv::Message(event)),
                Step::Ended => return Ok(TryRecv::Ended),
                Step::Filtered => continue,
                Step::Empty => {}
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(TryRecv::Empty);
            }
            if !self.wait_readable(left)? {
                return Ok(TryRecv::Ended);
            }
        }
    }

    /// Waits at most `left` for the reader to become readable. `false` when there is no reader
    /// any more (the stream ended, or the context was terminated while waiting).
    fn wait_readable(&mut self, left: Duration) -> Result<bool, MonitorError> {
        let Some(reader) = self.reader.as_ref() else {
            return Ok(false);
        };
        let ms = i64::try_from(left.as_millis()).unwrap_or(i64::MAX).max(1);
        match reader.poll(::zmq::POLLIN, ms) {
            Ok(_) | Err(::zmq::Error::EINTR) => Ok(true),
            Err(::zmq::Error::ETERM) => {
                self.session.handle_term();
                self.reader = None;
                Ok(false)
            }
            Err(e) => Err(zerr("polling")(e)),
        }
    }

    /// Drains every message that is ready into the internal queue (decode errors are
    /// returned after the drain).
    fn drain(&mut self) -> Result<(), MonitorError> {
        let mut first_err = None;
        loop {
            match self.read(::zmq::DONTWAIT) {
                Ok(Step::Message(event)) => {
                    let m = self.own(event);
                    self.queue.push_back(m);
                }
                Ok(Step::Filtered) => {}
                Ok(Step::Empty | Step::Ended) => break,
                Err(MonitorError::Decode(e)) => {
                    first_err.get_or_insert(MonitorError::Decode(e));
                }
                Err(e) => return Err(e),
            }
        }
        first_err.map_or(Ok(()), Err)
    }

    /// Stops the monitor on `socket` (the socket it was attached to) and closes the reader, in
    /// the order that cannot stall: drain what is queued, stop with the NULL endpoint, read on
    /// to `MONITOR_STOPPED`, close. Messages read on the way stay queued for the iterator. A
    /// no-op once the stream has ended.
    pub fn stop(&mut self, socket: &mut ::zmq::Socket) -> Result<(), MonitorError> {
        if self.session.is_ended() {
            return Ok(());
        }
        // 1. Drain: the I/O thread may hold the monitor mutex while it waits for room.
        self.drain()?;
        if self.session.is_ended() {
            return Ok(());
        }
        // 2. Stop with the NULL endpoint.
        stop_null(socket)?;
        // 3. Read on to MONITOR_STOPPED: the stopping thread queued it before returning.
        //    Read the reader itself, not through `recv_timeout`, which would hand back (and
        //    this loop would re-queue, forever) the messages the drain already queued.
        let deadline = Instant::now() + Duration::from_secs(2);
        let mut first_err = None;
        while !self.session.is_ended() {
            match self.read(::zmq::DONTWAIT) {
                Ok(Step::Message(event)) => {
                    let m = self.own(event);
                    self.queue.push_back(m);
                }
                Ok(Step::Filtered) => {}
                Ok(Step::Ended) => break,
                Ok(Step::Empty) => {
                    let left = deadline.saturating_duration_since(Instant::now());
                    if self.reader.is_none() {
                        break;
                    }
                    if left.is_zero() {
                        return Err(MonitorError::NotStopped);
                    }
                    self.wait_readable(left)?;
                }
                Err(MonitorError::Decode(e)) => {
                    first_err.get_or_insert(MonitorError::Decode(e));
                }
                Err(e) => return Err(e),
            }
        }
        // 4. The reader was closed when MONITOR_STOPPED arrived.
        first_err.map_or(Ok(()), Err)
    }
}

/// `zmq_socket_monitor(socket, NULL, 0)`: stops the monitor armed on `socket`.
pub(crate) fn stop_null(socket: &mut ::zmq::Socket) -> Result<(), MonitorError> {
    // SAFETY: `socket` is a live socket (we hold `&mut` to it for this call), and libzmq
    // documents a NULL endpoint as "stop monitoring" (src/socket_base.cpp, `monitor`).
    let rc = unsafe { zmq_sys::zmq_socket_monitor(socket.as_mut_ptr(), std::ptr::null(), 0) };
    if rc != 0 {
        // SAFETY: reading the thread's errno has no preconditions.
        let errno = unsafe { zmq_sys::zmq_errno() };
        return Err(MonitorError::Stop(std::io::Error::from_raw_os_error(errno)));
    }
    Ok(())
}

impl Iterator for Monitor {
    type Item = Result<V1Message, MonitorError>;

    /// Blocks for the next message; `None` at the end of the stream.
    fn next(&mut self) -> Option<Self::Item> {
        self.recv().transpose()
    }
}

impl Drop for Monitor {
    fn drop(&mut self) {
        let Some(reader) = self.reader.take() else {
            return;
        };
        if self.session.is_ended() {
            return;
        }
        // The monitor is still armed: closing the reader now would stall the context at the
        // next event. Keep reading until the stream ends, on a thread of its own.
        let mut session = self.session.clone();
        let spawned = std::thread::Builder::new()
            .name("monwire-zmq-drain".into())
            .spawn(move || {
                while !session.is_ended() {
                    match reader.recv_multipart(0) {
                        Ok(frames) => {
                            let _ = session.handle_v1_ref(&frames);
                        }
                        Err(::zmq::Error::EINTR) => {}
                        Err(_) => session.handle_term(),
                    }
                }
            });
        // If no thread can be spawned the reader is closed here; nothing better is possible.
        drop(spawned);
    }
}
