//! `monwire`: watch any monitoring protocol live, decode captures, serve, bridge, and demo.
//!
//! Every printing command is *source → filters → sinks* ([`pipeline`]). Output is one
//! readable line per event on a terminal, and JSON Lines of `monwire_event::Event` with
//! `--format json` or when stdout is not a terminal ([`output`]). Errors go to stderr as one
//! line that says what and where ([`diag`]). SIGINT and SIGTERM stop long runs cleanly
//! ([`shutdown`]). Exit codes: 0 ok (and after SIGTERM), 1 runtime failure or bad input seen,
//! 2 usage, 130 after SIGINT.
#![deny(missing_docs)]

mod bridge;
mod capture;
mod demo;
mod diag;
mod galaxy;
mod nsm;
mod otlp;
mod output;
mod parallel;
mod pcap;
mod pipeline;
mod record;
mod serve;
mod shutdown;
mod sysadm;
mod zmq;
// PROTOCOLS: modules

use std::process::ExitCode;

/// Small-object allocation dominates the decode paths (strings and maps of every event);
/// mimalloc's thread-local free lists make it much cheaper than the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use clap::{Args, Parser, Subcommand};

use crate::output::{ColorChoice, Format, PrintOptions, Printer};
use crate::pipeline::{FilterArgs, Pipeline};

/// Watch, decode, serve and bridge monitoring protocols (ZeroMQ socket monitor, NSM/RaySession
/// monitor, Galaxy Communicator Hub GUI, SysAdm events) as one stream of normalized events.
///
/// Every command that prints events takes the same output options and filters (before or
/// after the subcommand). Progress and errors go to stderr as `monwire: <where>: <what>`.
/// Exit codes: 0 ok (also after SIGTERM), 1 runtime failure or bad input seen, 2 usage,
/// 130 stopped by SIGINT.
#[derive(Parser, Debug)]
#[command(name = "monwire", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    output: OutputArgs,
    #[command(flatten)]
    filter: FilterArgs,
    #[command(flatten)]
    otlp: otlp::OtlpArgs,
    #[command(subcommand)]
    command: Command,
}

/// The shared output options.
#[derive(Args, Debug)]
struct OutputArgs {
    /// Output format: `text`, one readable line per event, or `json`, JSON Lines of events.
    /// Default: text when stdout is a terminal, JSON otherwise.
    #[arg(long, global = true, value_enum, value_name = "FORMAT")]
    format: Option<Format>,
    /// Shorthand for `--format json`.
    #[arg(long, global = true)]
    json: bool,
    /// Colour the text output: `auto` (when stdout is a terminal and NO_COLOR is not set),
    /// `always`, `never`.
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    color: ColorChoice,
    /// Print times in UTC. Default: the local time zone.
    #[arg(long, global = true)]
    utc: bool,
    /// Show every attribute of each event (lists, maps and bytes too) and its source; verbose
    /// lines are never cut to the terminal width.
    #[arg(short, long, global = true)]
    verbose: bool,
    /// Print no events (progress and errors still go to stderr; other sinks still run).
    #[arg(short, long, global = true)]
    quiet: bool,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Watch a protocol live (consumer role) and print every event.
    #[command(after_help = "Examples:
  monwire watch zmq --bind 'tcp://127.0.0.1:5555'
  monwire watch nsm --url osc.udp://127.0.0.1:16187/ --min-severity warn")]
    Watch {
        /// Also write what comes off the wire, as it comes, with arrival times, to FILE (a
        /// `monwire-capture 1` recording; `monwire decode <protocol> FILE` replays it).
        #[arg(long, global = true, value_name = "FILE")]
        record: Option<std::path::PathBuf>,
        #[command(subcommand)]
        source: WatchCmd,
    },
    /// Decode captured bytes of a protocol and print one event per message.
    #[command(after_help = "Examples:
  monwire decode zmq capture.txt --format text
  monwire decode nsm datagrams.hex --json | jq .name")]
    Decode {
        /// Decode on N threads (at most 64): the input is cut into blocks that N workers
        /// decode, and their output is written in input order, the same bytes as on one
        /// thread. 0: one per core (at most 8). Only when stdout is a file or pipe and nothing
        /// else (an OTLP export) takes the events; otherwise, and with 1, on the main thread.
        #[arg(long, global = true, default_value_t = 0, value_name = "N")]
        threads: usize,
        #[command(subcommand)]
        protocol: DecodeCmd,
    },
    /// Run every protocol end to end over loopback, print the events, exit 0.
    #[command(after_help = "Examples:
  monwire demo
  monwire demo --only zmq,nsm --min-severity warn
  monwire demo --otlp http://127.0.0.1:4318 -q")]
    Demo(demo::DemoArgs),
    /// Serve a protocol's producer role from a documented script.
    #[command(after_help = "Examples:
  monwire serve sysadm --listen 127.0.0.1:12150 --plain
  monwire serve nsm --port 16187")]
    Serve {
        #[command(subcommand)]
        protocol: serve::ServeCmd,
    },
    /// Re-publish a live source (as `watch` takes it) as a SysAdm-compatible websocket feed.
    Bridge(bridge::BridgeArgs),
    // PROTOCOLS: commands
}

/// The live sources `watch` (and `bridge`) take.
#[derive(Subcommand, Debug)]
pub(crate) enum WatchCmd {
    /// A ZeroMQ socket's monitor: open a socket, attach, bind or connect, print its events.
    #[command(after_help = "Examples:
  monwire watch zmq --bind 'tcp://127.0.0.1:*' --type router
  monwire watch zmq --connect tcp://127.0.0.1:5555 --kind connected,disconnected")]
    Zmq(zmq::WatchArgs),
    /// SysAdm events over a websocket: authenticate, subscribe, print, reconnect on loss.
    #[command(after_help = "Examples:
  MONWIRE_SYSADM_PASSWORD=secret monwire watch sysadm wss://server:12150 --user admin
  monwire watch sysadm ws://127.0.0.1:12150 --subscribe dispatcher")]
    Sysadm(sysadm::WatchArgs),
    /// NSM/RaySession monitor over OSC/UDP: the state list, then every client event.
    #[command(after_help = "Examples:
  monwire watch nsm --url osc.udp://127.0.0.1:16187/
  NSM_URL=osc.udp://127.0.0.1:16187/ monwire watch nsm --as-client")]
    Nsm(nsm::WatchArgs),
    /// Galaxy Communicator Hub GUI: be the Hub's GUI (`--listen`, default port 4111, or
    /// `--connect` to a Hub listener) and print every status message.
    #[command(after_help = "Examples:
  monwire watch galaxy --listen 4111
  monwire watch galaxy --connect 127.0.0.1:4112 --debug-cmd c")]
    Galaxy(galaxy::WatchArgs),
    // PROTOCOLS: watch
}

#[derive(Subcommand, Debug)]
pub(crate) enum DecodeCmd {
    /// ZeroMQ monitor messages (see `monwire decode zmq --help` for the capture format).
    #[command(after_help = "Examples:
  monwire decode zmq tests/vectors/zmq/v1-libzmq-4.3.4.txt --format text
  monwire decode zmq tests/vectors/zmq/v2-pipes_stats-server.hex --monitor-version v2")]
    Zmq(zmq::DecodeArgs),
    /// SysAdm JSON messages, one per line.
    #[command(after_help = "Examples:
  monwire decode sysadm tests/vectors/sysadm/bridge-reply-identify.json --format text
  monwire decode sysadm - --kind failed < events.jsonl")]
    Sysadm(sysadm::DecodeArgs),
    /// NSM/RaySession OSC datagrams, one per line as hex.
    #[command(after_help = "Examples:
  monwire decode nsm tests/vectors/nsm/ray-client-event-okr-ready.hex --format text
  monwire decode nsm datagrams.txt --subject 'synth*' --json")]
    Nsm(nsm::DecodeArgs),
    /// Galaxy messages: the raw byte stream of one direction of a Hub <-> GUI connection.
    #[command(after_help = "Examples:
  monwire decode galaxy tests/vectors/galaxy/cap.hub2gui --format text
  monwire decode galaxy capture.bin --print pr")]
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

impl WatchCmd {
    /// Runs the source until it ends, the pipeline breaks, a signal stops it, or it fails.
    /// Blocking.
    pub(crate) fn run(&self, out: &mut Pipeline) -> Run {
        match self {
            WatchCmd::Zmq(args) => zmq::watch(args, out),
            WatchCmd::Sysadm(args) => sysadm::watch(args, out),
            WatchCmd::Nsm(args) => nsm::watch(args, out),
            WatchCmd::Galaxy(args) => galaxy::watch(args, out),
            // PROTOCOLS: watch-run
        }
    }
}

fn run(command: Command, out: &mut Pipeline) -> Run {
    match command {
        Command::Watch { record, source } => {
            if let Some(path) = record {
                record::set_path(path);
            }
            source.run(out)
        }
        Command::Decode { threads, protocol } => {
            parallel::set_threads(threads);
            // Recordings and packet captures, known by their first bytes.
            if let Some(run) = pcap::dispatch(&protocol, out) {
                return run;
            }
            match protocol {
                DecodeCmd::Zmq(args) => zmq::decode(&args, out),
                DecodeCmd::Sysadm(args) => sysadm::decode(&args, out),
                DecodeCmd::Nsm(args) => nsm::decode(&args, out),
                DecodeCmd::Galaxy(args) => galaxy::decode(&args, out),
                // PROTOCOLS: decode-run
            }
        }
        Command::Demo(args) => demo::run(&args, out),
        Command::Serve { protocol } => protocol.run(out),
        Command::Bridge(args) => bridge::run(&args, out),
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
    let shutdown = shutdown::install();
    let o = &cli.output;
    let printer = Printer::stdout(PrintOptions {
        format: if o.json { Some(Format::Json) } else { o.format },
        color: o.color,
        utc: o.utc,
        verbose: o.verbose,
        quiet: o.quiet,
    });
    let mut out = Pipeline::new(cli.filter.filter(), printer, shutdown.clone());
    match cli.otlp.config() {
        Ok(None) => {}
        Ok(Some(config)) => match otlp::OtlpSink::start(config, shutdown.clone()) {
            Ok(sink) => out.add_sink(Box::new(sink)),
            Err(e) => return fail(e),
        },
        Err(e) => return fail(e),
    }
    let result = run(cli.command, &mut out);
    let finished = out.finish();
    let result = match (result, finished) {
        (Ok(_), Err(e)) => Err(e),
        (r, _) => r,
    };
    match result {
        Ok(status) => match shutdown.requested() {
            // A run a signal stopped, and that ended cleanly, exits as the signal says.
            Some(signal) => ExitCode::from(signal.exit_code()),
            None if status == Status::Ok => ExitCode::SUCCESS,
            None => ExitCode::from(1),
        },
        Err(e) => fail(e),
    }
}

/// Reports a failure on stderr and gives its exit code (2 usage, 1 run time).
fn fail(failure: Failure) -> ExitCode {
    match failure {
        Failure::Usage(msg) => {
            eprintln!("monwire: {msg}");
            ExitCode::from(2)
        }
        Failure::Runtime(msg) => {
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
