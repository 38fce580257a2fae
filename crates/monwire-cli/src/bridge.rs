//! `monwire bridge`: any live source, through the filters, to a SysAdm-compatible websocket
//! feed (and to stdout, like every printing command; `-q` silences that).

use std::ops::ControlFlow;

use clap::Args;
use monwire_event::Event;
use monwire_sysadm::tokio::ServerHandle;

use crate::pipeline::{Pipeline, Sink};
use crate::{Failure, Run, WatchCmd, diag, sysadm};

/// `monwire bridge`.
#[derive(Args, Debug)]
#[command(
    after_help = "Which clients see bridged events: each event is published as a SysAdm \
event named `monwire-<protocol>` (`monwire-zmq`, `monwire-nsm`, …; SysAdm events as \
themselves). Clients that subscribe to those names get them: monwire's own `watch sysadm \
--subscribe monwire-zmq`, Python `websockets`, a browser. The reference Qt SysAdm client only \
surfaces `dispatcher`, `life-preserver` and `system-state` and silently drops any other event \
name, so it does not show bridged events.

Examples:
  monwire bridge --listen 127.0.0.1:12150 --plain zmq --bind 'tcp://127.0.0.1:5555'
  monwire bridge --listen 0.0.0.0:12150 --cert-out ca.pem nsm --url osc.udp://127.0.0.1:16187/"
)]
pub(crate) struct BridgeArgs {
    #[command(flatten)]
    listen: sysadm::ListenArgs,
    /// The live source to republish (as `monwire watch` takes it).
    #[command(subcommand)]
    source: WatchCmd,
}

/// The SysAdm feed as a sink: every event that passes the filters is published.
struct Feed {
    srv: ServerHandle,
}

impl Sink for Feed {
    fn event(&mut self, e: &Event) -> ControlFlow<()> {
        if let Err(err) = self.srv.publish_event(e) {
            diag::note("bridge", format!("cannot publish {}: {err}", e.name));
        }
        ControlFlow::Continue(())
    }

    fn finish(&mut self) -> Result<(), Failure> {
        // The SysAdm goodbye: a close frame (1001) to every subscriber, within a deadline
        // (the runtime serving them is still running).
        self.srv
            .shutdown_gracefully_blocking(std::time::Duration::from_millis(1500));
        Ok(())
    }

    fn name(&self) -> &str {
        "bridge"
    }
}

/// Runs `bridge`: the source feeds the pipeline, whose sinks include the SysAdm feed.
pub(crate) fn run(args: &BridgeArgs, out: &mut Pipeline) -> Run {
    let rt = sysadm::runtime()?;
    let srv = rt.block_on(sysadm::start_server(&args.listen))?;
    out.add_sink(Box::new(Feed { srv }));
    let status = args.source.run(out);
    // The feed shuts down in `finish` (called by main after the source ends); keep the
    // runtime that serves it alive until then.
    let finished = out.finish();
    drop(rt);
    finished?;
    status
}
