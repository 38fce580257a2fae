//! `monwire serve <protocol>`: the producer roles, each playing a documented script. What a
//! server sends (or publishes) goes through the [`Pipeline`] like any other source's events.

use crate::pipeline::Pipeline;
use crate::{Run, galaxy, nsm, sysadm};

/// The protocols `monwire serve` can play the producer role of.
#[derive(clap::Subcommand, Debug)]
pub(crate) enum ServeCmd {
    /// A SysAdm-compatible event server publishing a documented scripted feed.
    #[command(after_help = sysadm::SERVE_HELP)]
    Sysadm(sysadm::ServeArgs),
    /// An NSM/RaySession monitor server playing a documented scripted session.
    #[command(after_help = "Examples:
  monwire serve nsm --port 16187
  monwire serve nsm --listen 127.0.0.1:16187 --script session.txt --loop")]
    Nsm(nsm::ServeArgs),
    /// Play the Galaxy Hub side (handshake, reinitialize, scripted status messages, a debug
    /// prompt) against a GUI.
    #[command(after_help = "Examples:
  monwire serve galaxy --gui 127.0.0.1:4111
  monwire serve galaxy --listen 4112 --script hub.script")]
    Galaxy(galaxy::ServeArgs),
    // PROTOCOLS: serve
}

impl ServeCmd {
    /// Runs the server until its script ends, a signal stops it, or it fails.
    pub(crate) fn run(&self, out: &mut Pipeline) -> Run {
        match self {
            ServeCmd::Sysadm(args) => sysadm::serve(args, out),
            ServeCmd::Nsm(args) => nsm::serve(args, out),
            ServeCmd::Galaxy(args) => galaxy::serve(args, out),
            // PROTOCOLS: serve-run
        }
    }
}
