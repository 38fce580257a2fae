//! Live attach (feature `zmq`): watch a socket's monitor while a client connects, says hello
//! and goes away, then stop the monitor in the order that never stalls the context.
//!
//! ```text
//! cargo run -p monwire-zmq --features zmq --example zmq_attach
//! ```
//!
//! Only `monwire-zmq` is needed as a dependency: its `zmq` module re-exports the `zmq` crate.

use std::time::{Duration, Instant};

use monwire_zmq::EventMask;
use monwire_zmq::event::to_event;
use monwire_zmq::zmq::{self, Monitor, TryRecv};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let ctx = zmq::Context::new();
    let mut server = ctx.socket(zmq::DEALER)?;
    server.set_linger(0)?;

    // Arm the monitor before bind(): bind() itself sends LISTENING, and waits for a reader.
    let mut monitor = Monitor::attach(&ctx, &server, EventMask::ALL_V1)?;
    server.bind("tcp://127.0.0.1:*")?;
    let endpoint = server
        .get_last_endpoint()?
        .map_err(|_| "endpoint is not UTF-8")?;

    let client = ctx.socket(zmq::DEALER)?;
    client.set_linger(0)?;
    client.connect(&endpoint)?;
    client.send("hello", 0)?;
    server.set_rcvtimeo(5000)?;
    println!("server received {:?}", server.recv_string(0)?);
    drop(client);

    // Print what the monitor saw, until the server reports the client gone (or 5 s pass).
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // A lending read: the message borrows the monitor's receive buffers.
        match monitor.recv_ref_timeout(left)? {
            TryRecv::Message(m) => {
                let event = to_event(&m);
                println!(
                    "{:<12} {:<5} {}",
                    event.kind.as_str(),
                    event.severity.as_str(),
                    m
                );
                if m.event.code() == monwire_zmq::EventCode::DISCONNECTED {
                    break;
                }
            }
            TryRecv::Empty => {
                eprintln!("no DISCONNECTED within 5 s");
                break;
            }
            TryRecv::Ended => break,
        }
    }

    // Stop: drain, stop with the NULL endpoint, read on to MONITOR_STOPPED, close the reader.
    monitor.stop(&mut server)?;
    for m in monitor {
        println!("after stop: {}", m?);
    }
    Ok(())
}
