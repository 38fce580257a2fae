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

use crate::output::{Printer, note};
use crate::{Failure, Run, Status};

/// `monwire demo`: run every protocol end to end over loopback and print the events.
#[derive(Args, Debug)]
pub(crate) struct DemoArgs {
    /// Run only these parts (zmq, …); all by default.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
}

impl DemoArgs {
    fn wants(&self, part: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|p| p == part)
    }
}

/// Runs the demo.
pub(crate) fn run(args: &DemoArgs, printer: &mut Printer) -> Run {
    if args.wants("zmq") {
        note("demo: zmq: two DEALER sockets bind, connect, exchange, fail a handshake, close");
        zmq_part(&mut |e| {
            let _ = printer.event(&e);
        })?;
    }
    if args.wants("sysadm") {
        note("demo: sysadm: wss server, self-signed certificate, client trusting exactly it");
        crate::sysadm::demo(printer)?;
        if args.wants("zmq") {
            note("demo: bridge: the zmq part again, its events watched through a SysAdm websocket");
            crate::sysadm::demo_bridge(printer, zmq_part)?;
        }
    }
    if args.wants("nsm") {
        note(
            "demo: nsm: a monitor server plays a session to an external monitor over loopback UDP",
        );
        crate::nsm::demo(printer)?;
    }
    if args.wants("galaxy") {
        note("demo: galaxy: our Hub side plays a script to our GUI server over loopback TCP");
        crate::galaxy::demo(printer)?;
    }
    // PROTOCOLS: demo
    note("demo: done");
    Ok(Status::Ok)
}

/// Reads `monitor` until `code` arrives (printing every event, labelled `label`), or fails
/// after a few seconds.
fn await_event(
    monitor: &mut Monitor,
    label: &str,
    code: EventCode,
    sink: &mut dyn FnMut(Event),
) -> Result<(), Failure> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match monitor.recv_timeout(left) {
            Ok(TryRecv::Message(m)) => {
                let hit = m.event.code() == code;
                let mut e = to_event(&m).with_observed(SystemTime::now());
                e.source = Some(label.to_owned());
                sink(e);
                if hit {
                    return Ok(());
                }
            }
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
/// monitor event goes to `sink`.
pub(crate) fn zmq_part(sink: &mut dyn FnMut(Event)) -> Result<(), Failure> {
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
    await_event(&mut server_mon, "server", EventCode::LISTENING, sink)?;

    client.connect(&endpoint).map_err(|e| fail("connect", &e))?;
    client.send("hello", 0).map_err(|e| fail("send", &e))?;
    let got = server.recv_bytes(0).map_err(|e| fail("recv", &e))?;
    if got != b"hello" {
        return Err(fail("exchange", &"the server received other bytes"));
    }
    await_event(
        &mut client_mon,
        "client",
        EventCode::HANDSHAKE_SUCCEEDED,
        sink,
    )?;
    await_event(
        &mut server_mon,
        "server",
        EventCode::HANDSHAKE_SUCCEEDED,
        sink,
    )?;

    // A raw TCP peer that offers an unknown security mechanism: the handshake fails.
    let addr = endpoint.trim_start_matches("tcp://");
    let mut raw = std::net::TcpStream::connect(addr).map_err(|e| fail("raw connect", &e))?;
    raw.write_all(&bogus_greeting())
        .map_err(|e| fail("raw greeting", &e))?;
    raw.set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(|e| fail("raw timeout", &e))?;
    let mut drained = Vec::new();
    let _ = raw.read_to_end(&mut drained); // the server closes the connection
    await_event(
        &mut server_mon,
        "server",
        EventCode::HANDSHAKE_FAILED_PROTOCOL,
        sink,
    )?;
    await_event(&mut server_mon, "server", EventCode::DISCONNECTED, sink)?;

    // Stop the client's monitor and close the client: the server sees it go.
    client_mon.stop(&mut client).map_err(|e| fail("stop", &e))?;
    for m in client_mon.by_ref() {
        let m = m.map_err(|e| fail("client monitor", &e))?;
        let mut e = to_event(&m).with_observed(SystemTime::now());
        e.source = Some("client".to_owned());
        sink(e);
    }
    drop(client);
    await_event(&mut server_mon, "server", EventCode::DISCONNECTED, sink)?;
    server_mon.stop(&mut server).map_err(|e| fail("stop", &e))?;
    for m in server_mon.by_ref() {
        let m = m.map_err(|e| fail("server monitor", &e))?;
        let mut e = to_event(&m).with_observed(SystemTime::now());
        e.source = Some("server".to_owned());
        sink(e);
    }
    Ok(())
}
