//! An async [`Stream`](futures_core::Stream) of monitor messages for tokio users (feature
//! `tokio`).
//!
//! libzmq's monitor socket is read with blocking calls, so [`MonitorStream`] moves the
//! [`Monitor`] to a thread of its own that forwards each message into a bounded channel. When
//! the channel is full the thread waits, and libzmq's own back-pressure applies (see the
//! [`zmq`](crate::zmq) module): poll the stream, or attach with
//! [`AttachOptions::unbounded`](crate::zmq::AttachOptions::unbounded). If the stream is dropped,
//! the thread keeps reading and discarding until the monitor's end, so the context never stalls.
//!
//! To stop, call [`stop_monitor`] on the socket: the thread then reads `MONITOR_STOPPED` and
//! the stream ends. Keep polling the stream while you stop (from another task, or stop from
//! `spawn_blocking`): a stop waits while the pipe is full.

use std::pin::Pin;
use std::task::{Context, Poll};

use tokio::sync::mpsc;

use crate::message::V1Message;
use crate::zmq::{Monitor, MonitorError};

/// A stream of the messages of a [`Monitor`], read on a background thread.
#[derive(Debug)]
pub struct MonitorStream {
    rx: mpsc::Receiver<Result<V1Message, MonitorError>>,
}

impl MonitorStream {
    /// Moves `monitor` to a reading thread; at most `capacity` messages wait in the channel.
    pub fn new(monitor: Monitor, capacity: usize) -> std::io::Result<MonitorStream> {
        let (tx, rx) = mpsc::channel(capacity.max(1));
        std::thread::Builder::new()
            .name("monwire-zmq-stream".into())
            .spawn(move || {
                let mut monitor = monitor;
                let mut tx = Some(tx);
                for item in monitor.by_ref() {
                    if let Some(sender) = &tx
                        && sender.blocking_send(item).is_err()
                    {
                        tx = None; // receiver gone: keep draining, discard
                    }
                }
            })?;
        Ok(MonitorStream { rx })
    }

    /// The next message; `None` at the end of the stream.
    pub async fn recv(&mut self) -> Option<Result<V1Message, MonitorError>> {
        self.rx.recv().await
    }
}

impl futures_core::Stream for MonitorStream {
    type Item = Result<V1Message, MonitorError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.rx.poll_recv(cx)
    }
}

/// Stops the monitor armed on `socket` with the NULL endpoint; its stream then ends with
/// `MONITOR_STOPPED`. Use [`Monitor::stop`] instead when you still hold the `Monitor`.
pub fn stop_monitor(socket: &mut ::zmq::Socket) -> Result<(), MonitorError> {
    crate::zmq::stop_null(socket)
}
