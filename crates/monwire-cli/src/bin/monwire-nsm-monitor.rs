//! `monwire-nsm-monitor`: monwire as an NSM session client that the session manager can
//! relaunch with no arguments.
//!
//! It replaces itself (same process id, which the NSM server watches) with
//! `monwire watch nsm --in-session [ARGS…]`, using the `monwire` program installed beside it.
//! So adding `monwire-nsm-monitor` to a RaySession (or any NSM) session, or starting it once
//! by hand with `NSM_URL` set, keeps working when the daemon later launches it on its own:
//! where the events go is kept in `monwire.conf` in the client's instance directory.
//!
//! ```text
//! NSM_URL=osc.udp://127.0.0.1:16187/ monwire-nsm-monitor --output ~/session-events.jsonl
//! ```
#![deny(missing_docs)]

use std::os::unix::process::CommandExt;
use std::process::{Command, ExitCode};

const HELP: &str = "\
monwire-nsm-monitor: join an NSM/RaySession session as a :monitor:switch: client that the
session manager can relaunch with no arguments, and append every event (JSON Lines) to a file.

Usage: monwire-nsm-monitor [--output FILE] [other `monwire watch nsm` options]

The server is $NSM_URL (set by the session manager when it launches a client). At each
/nsm/client/open the events file is read from `<instance path>/monwire.conf` (`output = FILE`),
which is created when missing: with --output FILE when given, else $MONWIRE_NSM_OUTPUT, else
`<instance path>/events.jsonl`. Edit that file to change where a session's events go; it is
kept with the session. SIGTERM (the session manager's stop) ends it at once with exit 0.

Setup, once: add `monwire-nsm-monitor` as a client of the session (RaySession: Add
Executable), or start it from a terminal with NSM_URL pointing at the running daemon:
  NSM_URL=osc.udp://127.0.0.1:16187/ monwire-nsm-monitor --output ~/session-events.jsonl
Later loads of the session relaunch it with no arguments, and it writes to the same file.
";

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    if args.iter().any(|a| a == "--help" || a == "-h") {
        print!("{HELP}");
        return ExitCode::SUCCESS;
    }
    let monwire = std::env::current_exe()
        .ok()
        .map(|p| p.with_file_name("monwire"))
        .filter(|p| p.is_file())
        .unwrap_or_else(|| "monwire".into());
    let err = Command::new(&monwire)
        .args(["watch", "nsm", "--in-session"])
        .args(args)
        .exec();
    eprintln!(
        "monwire-nsm-monitor: cannot run {}: {err}",
        monwire.display()
    );
    ExitCode::from(1)
}
