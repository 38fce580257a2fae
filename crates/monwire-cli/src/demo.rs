//! `monwire demo`: every protocol end to end over loopback, with real sockets and no outside
//! server. Each part prints the events it watched; the run exits 0 when every part saw what it
//! provoked, and 1 (saying which part and what was missing) otherwise.

use std::io::{Read, Write};
use std::time::{Duration, Instant, SystemTime};

use clap::Args;
use monwire_event::Event;
use monwire_zmq::event::to_event;
use monwire_zmq::zmq::{Monitor, TryRecv};
use monwire_zmq::{EventCode, EventMask};

use crate::output::note;
use crate::pipeline::Pipeline;
use crate::shutdown::Shutdown;
use crate::{Failure, Run, Status};

/// `monwire demo`: run every protocol end to end over loopback and print the events.
#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// Run only these parts (zmq, …); all by default.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Play the parts this many times (0: until interrupted).
    #[arg(long, default_value_t = 1, value_name = "N")]
    repeat: u64,
}

impl DemoArgs {
    fn wants(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == part)
    }
}

/// Runs the demo. A signal ends it after the part that is running stops (each part checks
/// the shutdown token at least every 100 ms), with the signal's exit code.
pub(crate) fn run(args: &DemoArgs, out: &mut Pipeline) -> Run {
    let mut round = 0u64;
    while args.repeat == 0 || round < args.repeat {
        round += 1;
        if !play(args, out)? {
            return Ok(Status::Ok);
        }
    }
    note("demo: done");
    Ok(Status::Ok)
}

/// One round of every part; `false` when a signal stopped it.
fn play(args: &DemoArgs, out: &mut Pipeline) -> Result<bool, Failure> {
    let stop = out.shutdown().clone();
    let stopped = |out: &mut Pipeline| {
        if let Some(s) = out.shutdown().requested() {
            note(format!("demo: stopped by {}", s.name()));
            true
        } else {
            false
        }
    };
    if args.wants("zmq") {
        note(
            "demo: zmq: DEALER sockets bind, fail a second bind, connect, exchange, fail a handshake, close",
        );
        zmq_part(&stop, &mut |e| {
            let _ = out.event(&e);
        })?;
    }
    if stopped(out) {
        return Ok(false);
    }
    if args.wants("sysadm") {
        note("demo: sysadm: wss server, self-signed certificate, client trusting exactly it");
        crate::sysadm::demo(out)?;
        if stopped(out) {
            return Ok(false);
        }
        if args.wants("zmq") {
            note("demo: bridge: the zmq part again, its events watched through a SysAdm websocket");
            crate::sysadm::demo_bridge(out, &mut |sink| zmq_part(&stop, sink))?;
        }
    }
    if stopped(out) {
        return Ok(false);
    }
    if args.wants("nsm") {
        note(
            "demo: nsm: a monitor server plays a session to an external monitor over loopback UDP",
        );
        crate::nsm::demo(out)?;
    }
    if stopped(out) {
        return Ok(false);
    }
    if args.wants("galaxy") {
        note("demo: galaxy: our Hub side plays a script to our GUI server over loopback TCP");
        crate::galaxy::demo(out)?;
    }
    if stopped(out) {
        return Ok(false);
    }
    // PROTOCOLS: demo
    Ok(true)
}

/// A demo part that hands its events to a sink (the bridge republishes the zmq part).
pub(crate) type Part<'a> = dyn FnMut(&mut dyn FnMut(Event)) -> Result<(), Failure> + 'a;

/// The zmq part was cut short by a signal.
struct Stopped;

/// `?` for a step that may be cut short by a signal.
macro_rules! step {
    ($e:expr) => {
        if let Err(Stopped) = $e? {
            return Ok(Err(Stopped));
        }
    };
}

/// Stops a monitor and hands what it still had (its `MONITOR_STOPPED` too) to the sink.
fn stop_and_drain(
    monitor: &mut Monitor,
    socket: &mut zmq::Socket,
    label: &str,
    sink: &mut dyn FnMut(Event),
) -> Result<(), Failure> {
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        Failure::Runtime(format!("demo: zmq: {label} {what}: {e}"))
    };
    monitor.stop(socket).map_err(|e| fail("stop", &e))?;
    for m in monitor.by_ref() {
        let m = m.map_err(|e| fail("monitor", &e))?;
        let mut e = to_event(&m).with_observed(SystemTime::now());
        e.source = Some(label.to_owned());
        sink(e);
    }
    Ok(())
}

/// Reads `monitor` until `code` arrives (printing every event, labelled `label`), or fails
/// after a few seconds; `Ok(Err(Stopped))` when a signal asks the run to stop.
fn await_event(
    stop: &Shutdown,
    monitor: &mut Monitor,
    label: &str,
    code: EventCode,
    sink: &mut dyn FnMut(Event),
) -> Result<Result<(), Stopped>, Failure> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if stop.is_requested() {
            return Ok(Err(Stopped));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match monitor.recv_timeout(left.min(Duration::from_millis(100))) {
            Ok(TryRecv::Message(m)) => {
                let hit = m.event.code() == code;
                let mut e = to_event(&m).with_observed(SystemTime::now());
                e.source = Some(label.to_owned());
                sink(e);
                if hit {
                    return Ok(Ok(()));
                }
            }
            Ok(TryRecv::Empty) if !left.is_zero() => {}
            Ok(TryRecv::Empty | TryRecv::Ended) => {
                return Err(Failure::Runtime(format!(
                    "demo: zmq: the {label} socket's monitor never reported {code}"
                )));
            }
            Err(e) => return Err(Failure::Runtime(format!("demo: zmq: {label}: {e}"))),
        }
    }
}

/// The raw ZMTP 3.0 greeting of a peer that offers the unknown mechanism `BOGUS`.
fn bogus_greeting() -> [u8; 64] {
    let mut g = [0u8; 64];
    g[0] = 0xff;
    g[9] = 0x7f;
    g[10] = 3;
    g[12..17].copy_from_slice(b"BOGUS");
    g
}

/// The zmq part: two DEALER sockets bind, connect, exchange, fail a handshake and close; every
/// monitor event goes to `sink`. A signal ends it early (with `Ok`).
pub(crate) fn zmq_part(stop: &Shutdown, sink: &mut dyn FnMut(Event)) -> Result<(), Failure> {
    match zmq_steps(stop, sink)? {
        Ok(()) | Err(Stopped) => Ok(()),
    }
}

fn zmq_steps(stop: &Shutdown, sink: &mut dyn FnMut(Event)) -> Result<Result<(), Stopped>, Failure> {
    let fail =
        |what: &str, e: &dyn std::fmt::Display| Failure::Runtime(format!("demo: zmq: {what}: {e}"));
    let ctx = zmq::Context::new();
    let mut server = ctx.socket(zmq::DEALER).map_err(|e| fail("socket", &e))?;
    let mut client = ctx.socket(zmq::DEALER).map_err(|e| fail("socket", &e))?;
    for s in [&server, &client] {
        s.set_linger(0).map_err(|e| fail("linger", &e))?;
    }
    let mut server_mon =
        Monitor::attach(&ctx, &server, EventMask::ALL_V1).map_err(|e| fail("attach", &e))?;
    let mut client_mon =
        Monitor::attach(&ctx, &client, EventMask::ALL_V1).map_err(|e| fail("attach", &e))?;

    server
        .bind("tcp://127.0.0.1:*")
        .map_err(|e| fail("bind", &e))?;
    let endpoint = server
        .get_last_endpoint()
        .map_err(|e| fail("last endpoint", &e))?
        .map_err(|_| fail("last endpoint", &"not UTF-8"))?;
    step!(await_event(
        stop,
        &mut server_mon,
        "server",
        EventCode::LISTENING,
        sink
    ));

    // A second socket tries to bind the same port: BIND_FAILED, an error.
    let mut second = ctx.socket(zmq::DEALER).map_err(|e| fail("socket", &e))?;
    second.set_linger(0).map_err(|e| fail("linger", &e))?;
    let mut second_mon =
        Monitor::attach(&ctx, &second, EventMask::ALL_V1).map_err(|e| fail("attach", &e))?;
    if second.bind(&endpoint).is_ok() {
        return Err(fail("bind", &"a second bind of the same port succeeded"));
    }
    step!(await_event(
        stop,
        &mut second_mon,
        "second",
        EventCode::BIND_FAILED,
        sink
    ));
    stop_and_drain(&mut second_mon, &mut second, "second", sink)?;
    drop(second);

    client.connect(&endpoint).map_err(|e| fail("connect", &e))?;
    client.send("hello", 0).map_err(|e| fail("send", &e))?;
    // A signal interrupts the blocking receive (EINTR): stop if it asked to, else go on.
    let got = loop {
        match server.recv_bytes(0) {
            Ok(got) => break got,
            Err(zmq::Error::EINTR) if stop.is_requested() => return Ok(Err(Stopped)),
            Err(zmq::Error::EINTR) => continue,
            Err(e) => return Err(fail("recv", &e)),
        }
    };
    if got != b"hello" {
        return Err(fail("exchange", &"the server received other bytes"));
    }
    step!(await_event(
        stop,
        &mut client_mon,
        "client",
        EventCode::HANDSHAKE_SUCCEEDED,
        sink,
    ));
    step!(await_event(
        stop,
        &mut server_mon,
        "server",
        EventCode::HANDSHAKE_SUCCEEDED,
        sink,
    ));

    // A raw TCP peer that offers an unknown security mechanism: the handshake fails.
    let addr = endpoint.trim_start_matches("tcp://");
    let mut raw = std::net::TcpStream::connect(addr).map_err(|e| fail("raw connect", &e))?;
    raw.write_all(&bogus_greeting())
        .map_err(|e| fail("raw greeting", &e))?;
    raw.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| fail("raw timeout", &e))?;
    let mut drained = Vec::new();
    let _ = raw.read_to_end(&mut drained); // the server closes the connection
    step!(await_event(
        stop,
        &mut server_mon,
        "server",
        EventCode::HANDSHAKE_FAILED_PROTOCOL,
        sink,
    ));
    step!(await_event(
        stop,
        &mut server_mon,
        "server",
        EventCode::DISCONNECTED,
        sink
    ));

    // Stop the client's monitor and close the client: the server sees it go.
    stop_and_drain(&mut client_mon, &mut client, "client", sink)?;
    drop(client);
    step!(await_event(
        stop,
        &mut server_mon,
        "server",
        EventCode::DISCONNECTED,
        sink
    ));
    stop_and_drain(&mut server_mon, &mut server, "server", sink)?;
    Ok(Ok(()))
}
