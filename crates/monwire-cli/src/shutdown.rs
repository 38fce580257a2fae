//! Stopping long runs on SIGINT and SIGTERM.
//!
//! [`install`] starts one small thread that waits for SIGINT and SIGTERM. The first signal
//! sets the [`Shutdown`] token that every source receives (through
//! [`Pipeline::shutdown`](crate::pipeline::Pipeline::shutdown)); the run then has
//! [`GRACE`] (2 s) to end on its own. A second signal, or the end of the grace time, ends the
//! process at once with a stderr line.
//!
//! # How a source uses it
//!
//! - A blocking loop polls with a short timeout (at most 100 ms) and checks
//!   [`Shutdown::requested`] on every turn:
//!
//!   ```text
//!   while !out.shutdown().is_requested() {
//!       match monitor.recv_timeout(Duration::from_millis(100))? { … }
//!   }
//!   // send the protocol's goodbye here, then return Ok
//!   ```
//!
//! - An async loop selects on [`Shutdown::wait`] beside its next input:
//!
//!   ```text
//!   let stop = out.shutdown().clone();
//!   loop {
//!       tokio::select! {
//!           item = mon.recv() => { … }
//!           _ = stop.wait() => { mon.quit(); /* read until the goodbye is confirmed */ break }
//!       }
//!   }
//!   ```
//!
//! After the signal, the source sends its protocol's goodbye (`/ray/server/monitor_quit` for
//! an NSM external monitor, a websocket close for SysAdm, DISCONNECT for Galaxy), bounded by
//! its own deadline well inside the grace time, and returns `Ok`. The caller then flushes and
//! finishes every sink, and `main` exits with [`Signal::exit_code`]: 0 for SIGTERM (the NSM
//! server's way of saying "quit"), 130 for SIGINT (the shell's convention, 128 + 2).

use std::time::Duration;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

/// How long a run has, after the first signal, to end on its own.
pub(crate) const GRACE: Duration = Duration::from_secs(2);

/// The signal that asked the run to stop.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Signal {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
}

impl Signal {
    /// The exit code of a run this signal stopped: 130 for SIGINT, 0 for SIGTERM.
    pub(crate) fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 0,
        }
    }

    /// The signal's name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }
}

/// A cheap, cloneable token: whether (and by which signal) the run was asked to stop.
#[derive(Clone, Debug)]
pub(crate) struct Shutdown {
    rx: watch::Receiver<Option<Signal>>,
    /// Set with the channel: a lock-free check for hot loops.
    flag: Arc<AtomicBool>,
}

impl Shutdown {
    /// A token that is never set (for runs without signal handling, and tests).
    #[allow(dead_code, reason = "for unit tests and embedding")]
    pub(crate) fn never() -> Shutdown {
        let (tx, rx) = watch::channel(None);
        // Keep the sender alive for ever, so `wait` pends instead of seeing a closed channel.
        std::mem::forget(tx);
        Shutdown {
            rx,
            flag: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The signal that asked the run to stop, if one did.
    pub(crate) fn requested(&self) -> Option<Signal> {
        *self.rx.borrow()
    }

    /// Whether the run was asked to stop (one atomic load: cheap enough for every event).
    pub(crate) fn is_requested(&self) -> bool {
        self.flag.load(Ordering::Relaxed)
    }

    /// Waits until the run is asked to stop (for `tokio::select!` in async sources); pends
    /// for ever when no signal comes.
    pub(crate) async fn wait(&self) -> Signal {
        let mut rx = self.rx.clone();
        match rx.wait_for(Option::is_some).await {
            Ok(s) => s.unwrap_or(Signal::Terminate),
            // The signal thread never drops its sender; pend rather than stop by mistake.
            Err(_) => std::future::pending().await,
        }
    }
}

/// Runs `fut` until it ends (`Some`) or the run is asked to stop (`None`; `fut` is dropped).
pub(crate) async fn or_stop<T>(
    stop: &Shutdown,
    fut: impl std::future::Future<Output = T>,
) -> Option<T> {
    tokio::select! {
        v = fut => Some(v),
        _ = stop.wait() => None,
    }
}

/// Installs the SIGINT/SIGTERM handlers and returns the token they set.
///
/// When the handlers cannot be installed (no signal support), the token is never set and the
/// signals keep their default action; a stderr line says so.
pub(crate) fn install() -> Shutdown {
    let (tx, rx) = watch::channel(None);
    let flag = Arc::new(AtomicBool::new(false));
    let set = flag.clone();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), String>>();
    let spawned = std::thread::Builder::new()
        .name("monwire-signals".into())
        .spawn(move || signal_thread(tx, set, ready_tx));
    let installed = match spawned {
        Ok(_) => ready_rx
            .recv()
            .unwrap_or_else(|_| Err("the signal thread ended".into())),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = installed {
        crate::diag::note("signals", format!("cannot handle SIGINT/SIGTERM: {e}"));
    }
    Shutdown { rx, flag }
}

fn signal_thread(
    tx: watch::Sender<Option<Signal>>,
    flag: Arc<AtomicBool>,
    ready: std::sync::mpsc::Sender<Result<(), String>>,
) {
    use tokio::signal::unix::{SignalKind, signal};
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(e.to_string()));
            return;
        }
    };
    rt.block_on(async move {
        let (mut int, mut term) =
            match (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) {
                (Ok(i), Ok(t)) => (i, t),
                (Err(e), _) | (_, Err(e)) => {
                    let _ = ready.send(Err(e.to_string()));
                    return;
                }
            };
        let _ = ready.send(Ok(()));
        let first = next_signal(&mut int, &mut term).await;
        let _ = tx.send(Some(first));
        flag.store(true, Ordering::Relaxed);
        let (why, code) = tokio::select! {
            second = next_signal(&mut int, &mut term) => (format!("second signal ({})", second.name()), second.exit_code()),
            () = tokio::time::sleep(GRACE) => (format!("did not stop within {} s of {}", GRACE.as_secs(), first.name()), first.exit_code()),
        };
        crate::diag::note("shutdown", format!("{why}; exiting now"));
        std::process::exit(i32::from(code));
    });
}

async fn next_signal(
    int: &mut tokio::signal::unix::Signal,
    term: &mut tokio::signal::unix::Signal,
) -> Signal {
    tokio::select! {
        _ = int.recv() => Signal::Interrupt,
        _ = term.recv() => Signal::Terminate,
    }
}
