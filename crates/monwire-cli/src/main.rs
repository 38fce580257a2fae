//! `monwire`: watch any monitoring protocol live, decode captures, serve, bridge, and demo.
//!
//! Output is one readable line per event on a terminal, and JSON Lines of
//! `monwire_event::Event` with `--json` or when stdout is not a terminal. Errors go to stderr
//! as one line that says what and where. Exit codes: 0 ok, 1 runtime failure or bad input seen,
//! 2 usage.
#![deny(missing_docs)]

mod capture;
mod demo;
mod galaxy;
mod nsm;
mod output;
mod pcap;
mod record;
mod sysadm;
mod zmq;
// PROTOCOLS: modules

use std::ops::ControlFlow;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use monwire_event::Event;

/// Watch, decode, serve and bridge monitoring protocols (ZeroMQ socket monitor, NSM/RaySession
/// monitor, Galaxy Communicator Hub GUI, SysAdm events) as one stream of normalized events.
#[derive(Parser, Debug)]
#[command(name = "monwire", version, propagate_version = true)]
struct Cli {
    /// Print JSON Lines of events (the default when stdout is not a terminal).
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Watch a protocol live (consumer role) and print every event.
    Watch {
        /// Also write what comes off the wire, as it comes, with arrival times, to FILE (a
        /// `monwire-capture 1` recording; `monwire decode <protocol> FILE` replays it).
        #[arg(long, global = true, value_name = "FILE")]
        record: Option<std::path::PathBuf>,
        #[command(subcommand)]
        source: WatchCmd,
    },
    /// Decode captured bytes of a protocol and print one event per message.
    Decode {
        #[command(subcommand)]
        protocol: DecodeCmd,
    },
    /// Run every protocol end to end over loopback, print the events, exit 0.
    Demo(demo::DemoArgs),
    /// Serve a protocol's producer role from a documented script.
    Serve {
        #[command(subcommand)]
        protocol: sysadm::ServeCmd,
    },
    /// Re-publish a live source (as `watch` takes it) as a SysAdm-compatible websocket feed.
    Bridge(sysadm::BridgeArgs),
    // PROTOCOLS: commands
}

/// The live sources `watch` (and `bridge`) take.
#[derive(Subcommand, Debug)]
pub(crate) enum WatchCmd {
    /// A ZeroMQ socket's monitor: open a socket, attach, bind or connect, print its events.
    Zmq(zmq::WatchArgs),
    /// SysAdm events over a websocket: authenticate, subscribe, print, reconnect on loss.
    Sysadm(sysadm::WatchArgs),
    /// NSM/RaySession monitor over OSC/UDP: the state list, then every client event.
    Nsm(nsm::WatchArgs),
    /// Galaxy Communicator Hub GUI: be the Hub's GUI (`--listen`, default port 4111, or
    /// `--connect` to a Hub listener) and print every status message.
    Galaxy(galaxy::WatchArgs),
    // PROTOCOLS: watch
}

#[derive(Subcommand, Debug)]
pub(crate) enum DecodeCmd {
    /// ZeroMQ monitor messages (see `monwire decode zmq --help` for the capture format).
    Zmq(zmq::DecodeArgs),
    /// SysAdm JSON messages, one per line.
    Sysadm(sysadm::DecodeArgs),
    /// NSM/RaySession OSC datagrams, one per line as hex.
    Nsm(nsm::DecodeArgs),
    /// Galaxy messages: the raw byte stream of one direction of a Hub <-> GUI connection.
    Galaxy(galaxy::DecodeArgs),
    // PROTOCOLS: decode
}

/// How a command failed.
#[derive(Debug)]
pub(crate) enum Failure {
    /// Bad arguments: exit 2.
    Usage(String),
    /// Something failed at run time: exit 1.
    Runtime(String),
}

/// How a command that ran to its end went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    /// Everything was fine.
    Ok,
    /// Some input was bad (reported on stderr as it was seen): exit 1.
    BadInput,
}

/// What a command returns.
pub(crate) type Run = Result<Status, Failure>;

/// Where a live source delivers its events; `Break` asks the source to stop.
pub(crate) type Sink<'a> = &'a mut dyn FnMut(Event) -> ControlFlow<()>;

impl WatchCmd {
    /// Runs the source until it ends, the sink breaks, or it fails. Blocking.
    pub(crate) fn run(&self, sink: Sink<'_>) -> Run {
        match self {
            WatchCmd::Zmq(args) => zmq::watch(args, sink),
            WatchCmd::Sysadm(args) => sysadm::watch(args, sink),
            WatchCmd::Nsm(args) => nsm::watch(args, sink),
            WatchCmd::Galaxy(args) => galaxy::watch(args, sink),
            // PROTOCOLS: watch-run
        }
    }
}

fn run(cli: Cli) -> Run {
    let mut printer = output::Printer::stdout(cli.json);
    match cli.command {
        Command::Watch { record, source } => {
            if let Some(path) = record {
                record::set_path(path);
            }
            source.run(&mut |e| printer.event(&e))
        }
        Command::Decode { protocol } => {
            // Recordings and packet captures, known by their first bytes.
            if let Some(run) = pcap::dispatch(&protocol, &mut printer) {
                return run;
            }
            match protocol {
                DecodeCmd::Zmq(args) => zmq::decode(&args, &mut printer),
                DecodeCmd::Sysadm(args) => sysadm::decode(&args, &mut printer),
                DecodeCmd::Nsm(args) => nsm::decode(&args, &mut printer),
                DecodeCmd::Galaxy(args) => galaxy::decode(&args, &mut printer),
                // PROTOCOLS: decode-run
            }
        }
        Command::Demo(args) => demo::run(&args, &mut printer),
        Command::Serve { protocol } => protocol.run(&mut printer),
        Command::Bridge(args) => sysadm::bridge(&args),
        // PROTOCOLS: commands-run
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match run(cli) {
        Ok(Status::Ok) => ExitCode::SUCCESS,
        Ok(Status::BadInput) => ExitCode::from(1),
        Err(Failure::Usage(msg)) => {
            eprintln!("monwire: {msg}");
            ExitCode::from(2)
        }
        Err(Failure::Runtime(msg)) => {
            eprintln!("monwire: {msg}");
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn every_subcommand_is_well_formed() {
        // clap's own consistency checks (unique names, groups) over the whole command tree.
        super::Cli::command().debug_assert();
    }
}
