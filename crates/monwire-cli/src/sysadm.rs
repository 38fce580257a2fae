//! `monwire watch|serve|decode sysadm` and the SysAdm side of `monwire bridge` and the demo.
//!
//! # `decode sysadm` input
//!
//! One SysAdm JSON message per line (a websocket text frame's payload, as the server or the
//! client writes it); empty lines are skipped. Every message prints as the
//! `monwire_event::Event` that `monwire_sysadm::event::to_event` makes of it: events with their
//! kind and summary, requests and replies as `other` events named after the message, with
//! `sysadm.message` (`request`, `reply`, `error`) and `sysadm.args` as a structured value.
//! Passwords, tokens and signatures are redacted. A line that does not decode is reported on stderr with its line number and
//! the decoder's position, and the exit status is 1.
//!
//! # `serve sysadm` script
//!
//! Every `--interval` (default 1 s) the server publishes, in order: a `system-state`
//! (host `monwire-demo`, pool `tank` ONLINE, priority `0 - Information`), a dispatcher class
//! job `sysadm_pkg_install-{…n}` as `pending`, `running` with an output chunk and `finished`
//! with return code `0`, and a `life-preserver` snapshot of `tank/usr/home`, where `n` counts
//! the rounds. `--count N` stops after N rounds. Password auth: with `--user U` the password is
//! `MONWIRE_SYSADM_PASSWORD`; without `--user` any username and password are accepted.
//!
//! # Passwords
//!
//! `watch sysadm --user U` reads the password from `MONWIRE_SYSADM_PASSWORD`, or prompts on the
//! terminal (echo off through `stty`); it is never an argument. The passphrase of an encrypted
//! `--key` is read the same way, from `MONWIRE_SYSADM_KEY_PASSPHRASE`.
//!
//! # Certificate login
//!
//! `watch sysadm --key FILE` logs in with SysAdm's `auth_ssl`: the server's 20-character test
//! string signed with the RSA private key (PKCS#1 v1.5 type 1, no hash). `serve sysadm
//! --authorized-key [USER=]FILE` (repeatable) holds the public keys it accepts; logged-in users
//! add more with `rpc/settings` `register_ssl_cert` (`watch sysadm --user U --key FILE
//! --register-key` does that).

use std::io::{BufRead, IsTerminal, Write};
use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use clap::Args;
use monwire_event::{Event, Severity};
use monwire_sysadm::codec::{Limits, decode as decode_message};

use crate::parallel::Emit;
use monwire_sysadm::event::{into_event, session, to_event, unwrap_bridged};
use monwire_sysadm::message::{
    ClassEvent, Dispatcher, EventBody, JobState, LifePreserver, LpClass, Message, Object, Priority,
    ProcessLog, SystemState, Zpool,
};
use monwire_sysadm::session::{
    AllowAll, ClientConfig, ClientEvent, LoginGuard, ServerConfig, StaticUser, Verifier,
};
use monwire_sysadm::tokio::{
    ClientOptions, ClientTls, ServerHandle, ServerOptions, ServerTls, spawn_client, spawn_server,
};

use crate::output::note;
use crate::pipeline::Pipeline;
use crate::{Failure, Run, Status};

const PASSWORD_ENV: &str = "MONWIRE_SYSADM_PASSWORD";
const PASSPHRASE_ENV: &str = "MONWIRE_SYSADM_KEY_PASSPHRASE";

/// `monwire watch sysadm`.
#[derive(Args, Debug)]
#[command(after_help = WATCH_HELP)]
pub(crate) struct WatchArgs {
    /// The server: `wss://HOST[:PORT]` (default port 12150) or `ws://…`.
    url: String,
    /// Log in as this user (password from MONWIRE_SYSADM_PASSWORD or a terminal prompt).
    #[arg(long)]
    user: Option<String>,
    /// Log in with this RSA private key (PEM: PKCS#1, PKCS#8 or encrypted PKCS#8; passphrase
    /// from MONWIRE_SYSADM_KEY_PASSPHRASE or a terminal prompt) when there is no --user, and
    /// after every reconnect.
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// After the --user login, register --key's public key with the server
    /// (rpc/settings register_ssl_cert), so that later runs can log in with --key alone.
    #[arg(long, requires_all = ["key", "user"])]
    register_key: bool,
    /// Trust this CA or self-signed certificate (PEM) in addition to the system CAs.
    #[arg(long, conflicts_with = "insecure")]
    ca: Option<PathBuf>,
    /// Accept ANY server certificate: encrypted but unauthenticated (anyone on the path can
    /// pose as the server and read the password).
    #[arg(long)]
    insecure: bool,
    /// Event types to subscribe to (comma-separated).
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "dispatcher,life-preserver,system-state"
    )]
    subscribe: Vec<String>,
    /// Send credentials over plain ws:// to a non-loopback host anyway.
    #[arg(long)]
    force_plain: bool,
    /// Stop after this many SysAdm events (session events not counted).
    #[arg(long)]
    count: Option<u64>,
}

fn password(user: &str) -> Result<String, Failure> {
    secret(
        PASSWORD_ENV,
        &format!("--user {user}"),
        &format!("SysAdm password for {user}: "),
        "the password",
    )
}

/// A secret from `env`, or else from a prompt on the terminal (echo off); never an argument.
fn secret(env: &str, option: &str, prompt: &str, what: &str) -> Result<String, Failure> {
    if let Ok(p) = std::env::var(env) {
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::Usage(format!(
            "{option}: set {env} (no terminal to prompt on)"
        )));
    }
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let echo_off = std::process::Command::new("stty")
        .arg("-echo")
        .status()
        .is_ok_and(|s| s.success());
    let mut line = String::new();
    let read = std::io::stdin().lock().read_line(&mut line);
    if echo_off {
        let _ = std::process::Command::new("stty").arg("echo").status();
    }
    eprintln!();
    read.map_err(|e| Failure::Runtime(format!("reading {what}: {e}")))?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Reads `--key FILE`; asks for the passphrase only when the key is encrypted. A bad file or
/// a wrong passphrase is one error line (exit 1).
fn signing_key(path: &std::path::Path) -> Result<monwire_sysadm::ssl::SigningKey, Failure> {
    use monwire_sysadm::error::KeyError;
    use monwire_sysadm::ssl::SigningKey;
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Runtime(format!("sysadm: --key {shown}: {e}")))?;
    let bad = |e: KeyError| Failure::Runtime(format!("sysadm: --key {shown}: {e}"));
    match SigningKey::from_pem(&text, None) {
        Err(KeyError::NeedsPassphrase) => {
            let option = format!("--key {shown} (encrypted)");
            let prompt = format!("Passphrase for {shown}: ");
            let pass = secret(PASSPHRASE_ENV, &option, &prompt, "the passphrase")?;
            SigningKey::from_pem(&text, Some(pass.as_bytes())).map_err(bad)
        }
        other => other.map_err(bad),
    }
}

/// `--authorized-key [USER=]FILE`: a PEM public key and the user it logs in as (`USER`, else
/// the --user of the server, else the file name up to its first dot).
fn authorized_key(
    spec: &str,
    default_user: Option<&str>,
) -> Result<monwire_sysadm::session::AuthorizedKey, Failure> {
    let (user, file) = match spec.split_once('=') {
        Some((u, f)) if !u.is_empty() && !u.contains('/') => (Some(u.to_owned()), f),
        _ => (None, spec),
    };
    let path = std::path::Path::new(file);
    let user = user
        .or_else(|| default_user.map(str::to_owned))
        .or_else(|| {
            let name = path.file_name()?.to_str()?;
            name.split('.')
                .next()
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "root".to_owned());
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Runtime(format!("sysadm: --authorized-key {file}: {e}")))?;
    let key = monwire_sysadm::ssl::PublicKey::from_pem(&text)
        .map_err(|e| Failure::Runtime(format!("sysadm: --authorized-key {file}: {e}")))?;
    Ok(monwire_sysadm::session::AuthorizedKey {
        user,
        key,
        nickname: path.display().to_string(),
        email: String::new(),
    })
}

/// The runtime the SysAdm parts run on.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Failure::Runtime(format!("sysadm: starting the runtime: {e}")))
}

/// The `Event` to print for what a client reported.
pub(crate) fn client_event(ev: ClientEvent, source: &str) -> Event {
    let mut e = match ev {
        ClientEvent::Event(m) => unwrap_bridged(&m).unwrap_or_else(|| to_event(&m)),
        ClientEvent::Session(e) => e,
    };
    if e.source.is_none() {
        e.source = Some(source.to_owned());
    }
    e.with_observed(SystemTime::now())
}

/// `monwire watch sysadm`: connect, authenticate, subscribe and print every event; reconnects
/// on its own.
pub(crate) fn watch(args: &WatchArgs, out: &mut Pipeline) -> Run {
    let mut opts = ClientOptions::new(&args.url).map_err(|e| Failure::Usage(e.to_string()))?;
    opts.tls = match (&args.ca, args.insecure) {
        (_, true) => ClientTls::InsecureAcceptAnyCertificate,
        (Some(ca), false) => ClientTls::Verify {
            ca_file: Some(ca.clone()),
        },
        (None, false) => ClientTls::System,
    };
    if args.insecure {
        note("sysadm: --insecure: the server's certificate is NOT checked");
    }
    let credentials = match &args.user {
        Some(u) => Some((u.clone(), password(u)?)),
        None => None,
    };
    let key = match &args.key {
        Some(path) => Some(signing_key(path)?),
        None => None,
    };
    opts.config = ClientConfig {
        credentials,
        subscriptions: args.subscribe.clone(),
        signing_key: key,
        register_key: args.register_key,
        ..Default::default()
    };
    opts.allow_plain_credentials = args.force_plain;
    let source = opts.url.to_string();
    let header = crate::record::header::sysadm(&source, args.user.is_some(), &args.subscribe);
    if let Some(rec) = crate::record::Recorder::open(&header, out)? {
        opts.tap = Some(rec.sysadm_tap(source.clone()));
    }
    let rt = runtime()?;
    rt.block_on(async {
        let mut client = spawn_client(opts).map_err(|e| Failure::Usage(e.to_string()))?;
        let mut seen = 0u64;
        let stop = out.shutdown().clone();
        let mut stopped = false;
        loop {
            let ev = tokio::select! {
                ev = out.next(client.next()) => ev,
                _ = stop.wait() => {
                    stopped = true;
                    break;
                }
            };
            let Some(ev) = ev else { break };
            let wire = matches!(ev, ClientEvent::Event(_));
            if let ClientEvent::Session(e) = &ev {
                match e.name.as_str() {
                    // Each retry gets its stderr line, with the error and the delay.
                    session::RECONNECTING => {
                        crate::diag::note("sysadm", e.summary_text());
                        continue;
                    }
                    // The reason the client stopped is the run's one error line (below).
                    session::AUTH_FAILED if e.severity == Severity::Error => continue,
                    _ => {}
                }
            }
            if out.event(&client_event(ev, &source)).is_break() {
                stopped = true;
                break;
            }
            if wire {
                seen += 1;
                if args.count.is_some_and(|n| seen >= n) {
                    stopped = true;
                    break;
                }
            }
        }
        // The goodbye: a websocket close frame, within a deadline well inside the grace time.
        client.close();
        match tokio::time::timeout(GOODBYE, client.join()).await {
            Ok(Ok(())) | Err(_) => Ok(Status::Ok),
            Ok(Err(_)) if stopped => Ok(Status::Ok),
            Ok(Err(e)) => Err(Failure::Runtime(watch_failure(&e, &source))),
        }
    })
}

/// The one stderr line for a client that stopped for good.
fn watch_failure(e: &monwire_sysadm::tokio::Error, source: &str) -> String {
    use monwire_sysadm::error::ClientFailure;
    use monwire_sysadm::tokio::Error;
    match e {
        Error::Certificate { url, reason } => format!(
            "sysadm: {url}: the server's certificate is not trusted ({reason}); give its \
             certificate with --ca FILE, or use --insecure to skip the check"
        ),
        Error::Client(ClientFailure::LoginRequired(why)) => format!(
            "sysadm: {source}: the server requires a login ({why}); use --user NAME \
             (password from {PASSWORD_ENV}) or --key FILE"
        ),
        Error::Client(f) => format!("sysadm: {source}: {f}"),
        other => format!("sysadm: {source}: {other}"),
    }
}

/// `monwire decode sysadm`.
#[derive(Args, Debug)]
pub(crate) struct DecodeArgs {
    /// The capture: one JSON message per line (also a `--record` recording, or a pcap/pcapng
    /// capture); `-` or nothing for stdin.
    pub(crate) file: Option<PathBuf>,
    #[command(flatten)]
    pub(crate) pcap: crate::pcap::PcapArgs,
}

/// Decodes one JSON message per line.
pub(crate) fn decode(args: &DecodeArgs, out: &mut Pipeline) -> Run {
    let what = crate::capture::name(args.file.as_deref());
    let input = crate::capture::open(args.file.as_deref())?;
    let limits = Limits::default();
    let name: std::sync::Arc<str> = what.as_str().into();
    let decode_line = move |n: usize, line: &str, emit: &mut dyn Emit| {
        if line.trim().is_empty() {
            return ControlFlow::Continue(());
        }
        match decode_message(line.as_bytes(), &limits) {
            Ok(m) => emit.event(&message_into_event(m)),
            Err(e) => {
                emit.note(crate::diag::input_line(&name, n, None, e));
                emit.bad_input();
                ControlFlow::Continue(())
            }
        }
    };
    crate::parallel::decode_lines(input, &what, out, decode_line)
}

/// The event printed for a decoded message: a bridged event as itself, anything else through
/// `to_event` (which maps requests and replies too, and redacts their secrets).
pub(crate) fn message_event(m: &Message) -> Event {
    unwrap_bridged(m).unwrap_or_else(|| to_event(m))
}

/// [`message_event`] of a message read only to be printed: its strings move into the event.
fn message_into_event(m: Message) -> Event {
    unwrap_bridged(&m).unwrap_or_else(|| into_event(m))
}

/// TLS options shared by `serve sysadm` and `bridge`.
#[derive(Args, Debug, Clone)]
pub(crate) struct ListenArgs {
    /// Where to listen (e.g. 127.0.0.1:12150).
    #[arg(long)]
    listen: SocketAddr,
    /// Certificate chain (PEM); with --key. Default: a self-signed certificate made at start.
    #[arg(long, requires = "key")]
    cert: Option<PathBuf>,
    /// The TLS private key (PEM) of --cert (login keys are --authorized-key).
    #[arg(long, requires = "cert")]
    key: Option<PathBuf>,
    /// Serve plain ws:// (loopback addresses only).
    #[arg(long, conflicts_with_all = ["cert", "key"])]
    plain: bool,
    /// Require this user (password from MONWIRE_SYSADM_PASSWORD); without it any login works.
    #[arg(long)]
    user: Option<String>,
    /// Accept certificate logins (auth_ssl) with this PEM public key (`-----BEGIN PUBLIC
    /// KEY-----` or `RSA PUBLIC KEY`), as USER (default: --user, else the file name up to its
    /// first dot). Repeatable.
    #[arg(long, value_name = "[USER=]FILE")]
    authorized_key: Vec<String>,
    /// Write the generated self-signed certificate (PEM) here, for clients' --ca.
    #[arg(long)]
    cert_out: Option<PathBuf>,
    /// Failed logins from one address that block it (SysAdm's guard; 0 turns it off).
    /// Loopback addresses are never blocked.
    #[arg(long, default_value_t = 5, value_name = "N")]
    max_login_failures: u32,
    /// Quiet seconds after which an address's failure count starts again.
    #[arg(long, default_value_t = 600, value_name = "SECS")]
    login_failure_window: u64,
    /// Seconds a blocked address's new connections are closed at once.
    #[arg(long, default_value_t = 3600, value_name = "SECS")]
    login_block: u64,
    /// Refuse the empty-password re-login from loopback (see below).
    #[arg(long)]
    no_loopback_relogin: bool,
    /// Keep the times of password logins in FILE (user names and times only, never a
    /// password or token), so that the loopback re-login still works after a restart.
    #[arg(long, value_name = "FILE")]
    login_state: Option<PathBuf>,
}

/// The login-state file: one `USER<TAB>UNIX-SECONDS` line per user's last password login.
fn read_login_state(path: &std::path::Path) -> Vec<(String, u64)> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| {
            let (user, secs) = l.split_once('\t')?;
            Some((user.to_owned(), secs.trim().parse().ok()?))
        })
        .collect()
}

fn write_login_state(path: &std::path::Path, logins: &std::collections::BTreeMap<String, u64>) {
    let mut text = String::new();
    for (user, secs) in logins {
        if !user.contains(['\t', '\n']) {
            text.push_str(&format!("{user}\t{secs}\n"));
        }
    }
    let tmp = path.with_extension("tmp");
    if let Err(e) = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path)) {
        crate::diag::note("sysadm", format!("{}: {e}", path.display()));
    }
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `serve sysadm --help`: the server's own rules, then examples.
pub(crate) const SERVE_HELP: &str = "\
Logins: with --user, that user and MONWIRE_SYSADM_PASSWORD; without it, any username and
password. Certificate logins (auth_ssl): the server (when it holds any key) sends a
20-character test string, good for 30 s on that connection, and accepts it signed (RSA PKCS#1 v1.5, no hash) by any key given
with --authorized-key or registered since the start by a logged-in user (rpc/settings
register_ssl_cert; registrations live until the server stops), as that key's user. A user
connecting from a loopback address who logged in with a password (or used the token of such a
login) within the token lifetime (15 min) may log in again with an empty password, as the
reference Qt client does after a reconnect; --no-loopback-relogin refuses it. With
--login-state FILE this also holds across a restart of the server. After --max-login-failures
failed logins from one address, each within --login-failure-window of the one before, its new
connections are closed at once for --login-block seconds. Loopback is exempt; failed
certificate logins count too. Every handshake (TLS, websocket) has a 10 s deadline, every
write 10 s; a subscriber whose queue of 1024 frames overflows is disconnected. SIGINT or
SIGTERM closes every connection with a websocket close frame (1001, going away). The same
holds for `bridge`.

Examples:
  monwire serve sysadm --listen 127.0.0.1:12150 --cert-out /tmp/sysadm.pem
  MONWIRE_SYSADM_PASSWORD=pw monwire serve sysadm --listen 127.0.0.1:12150 --plain --user admin
  monwire serve sysadm --listen 127.0.0.1:12150 --plain --authorized-key alice=alice.pub.pem";

/// Shown by `watch sysadm --help`.
const WATCH_HELP: &str = "\
The password of --user comes from MONWIRE_SYSADM_PASSWORD, or a prompt on the terminal; never
from an argument. --key logs in with SysAdm's certificate login (auth_ssl) instead: the
server's test string signed with the private key; an encrypted key's passphrase comes from
MONWIRE_SYSADM_KEY_PASSPHRASE or a prompt, the same way. With both --user and --key the
password is used, and --register-key registers the key for later runs. A key file that cannot
be read, a wrong passphrase, a refused key (401: the server does not hold the public key), a
refused login, a 401 (the server wants --user or --key), an untrusted certificate
(give it with --ca, or --insecure) or a failed handshake end the run with one stderr line and
exit 1. While the server cannot be reached, each attempt prints a stderr line with the delay
before the next (1, 2, 4 ... 60 s); after a login, a lost connection is made again and every
subscription renewed. SIGINT or SIGTERM sends a websocket close frame and exits.

Examples:
  MONWIRE_SYSADM_PASSWORD=pw monwire watch sysadm wss://trueos-box:12150 --ca server.pem --user me
  monwire watch sysadm ws://127.0.0.1:12150 --user demo --subscribe dispatcher,monwire-zmq
  openssl genrsa -out me.pem 2048 && openssl rsa -in me.pem -pubout -out me.pub.pem
  monwire watch sysadm wss://trueos-box:12150 --ca server.pem --key me.pem";

/// How long the SysAdm goodbye (websocket close frames) may take after a signal.
const GOODBYE: Duration = Duration::from_millis(1500);

/// Starts the SysAdm server `serve sysadm` and `bridge` publish on.
pub(crate) async fn start_server(args: &ListenArgs) -> Result<ServerHandle, Failure> {
    if args.plain && !args.listen.ip().is_loopback() {
        return Err(Failure::Usage(format!(
            "--plain is for loopback addresses only, not {}",
            args.listen
        )));
    }
    let tls = match (&args.cert, &args.key, args.plain) {
        (_, _, true) => ServerTls::Plain,
        (Some(cert), Some(key), _) => ServerTls::Files {
            cert: cert.clone(),
            key: key.clone(),
        },
        _ => ServerTls::SelfSigned {
            names: vec!["localhost".into(), args.listen.ip().to_string()],
        },
    };
    let verifier: Box<dyn Verifier> = match &args.user {
        Some(u) => {
            let password = std::env::var(PASSWORD_ENV)
                .map_err(|_| Failure::Usage(format!("--user {u}: set {PASSWORD_ENV}")))?;
            Box::new(StaticUser {
                username: u.clone(),
                password,
            })
        }
        None => Box::new(AllowAll),
    };
    let authorized_keys = args
        .authorized_key
        .iter()
        .map(|spec| authorized_key(spec, args.user.as_deref()))
        .collect::<Result<Vec<_>, _>>()?;
    let hostname = std::env::var("HOSTNAME").unwrap_or_else(|_| "monwire".to_owned());
    let (srv, mut events) = spawn_server(ServerOptions {
        listen: args.listen,
        tls,
        config: ServerConfig {
            hostname,
            login_guard: LoginGuard {
                max_failures: args.max_login_failures,
                window: Duration::from_secs(args.login_failure_window),
                block: Duration::from_secs(args.login_block),
                exempt_loopback: true,
            },
            loopback_relogin: !args.no_loopback_relogin,
            authorized_keys,
            ..Default::default()
        },
        verifier,
    })
    .await
    .map_err(|e| Failure::Runtime(format!("sysadm: {}: {e}", args.listen)))?;
    if let (Some(path), Some(pem)) = (&args.cert_out, srv.certificate_pem()) {
        std::fs::write(path, pem)
            .map_err(|e| Failure::Runtime(format!("{}: {e}", path.display())))?;
    }
    note(format!("sysadm: serving {}", srv.url()));
    let state = args.login_state.clone();
    let mut logins = std::collections::BTreeMap::new();
    if let Some(path) = &state {
        let now = unix_now();
        for (user, secs) in read_login_state(path) {
            srv.remember_password_login(&user, Duration::from_secs(now.saturating_sub(secs)));
            logins.insert(user, secs);
        }
    }
    tokio::spawn(async move {
        while let Some(e) = events.recv().await {
            note(format!("sysadm: {}", crate::output::human(&e)));
            if let Some(path) = &state
                && e.name == "authenticated"
                && e.attr("sysadm.method").and_then(|v| v.as_str()) == Some("password")
                && let Some(user) = e.attr("sysadm.user").and_then(|v| v.as_str())
            {
                logins.insert(user.to_owned(), unix_now());
                write_login_state(path, &logins);
            }
        }
    });
    Ok(srv)
}

/// `monwire serve sysadm`.
#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    #[command(flatten)]
    listen: ListenArgs,
    /// Time between rounds of the script, in milliseconds.
    #[arg(long, default_value_t = 1000)]
    interval: u64,
    /// Stop after this many rounds (default: run until interrupted).
    #[arg(long)]
    count: Option<u64>,
}

/// The scripted feed: one round (see the module docs).
pub(crate) fn script(round: u64) -> Vec<Message> {
    let pid = format!("sysadm_pkg_install-{{monwire-demo-{round}}}");
    let cmd = "pkg install -y www/firefox".to_owned();
    let mut out = Vec::new();
    let mut pool = Zpool::default();
    for (slot, v) in [
        (&mut pool.alloc, "13.1G"),
        (&mut pool.altroot, "-"),
        (&mut pool.capacity, "12%"),
        (&mut pool.dedup, "1.00x"),
        (&mut pool.expandsz, "-"),
        (&mut pool.frag, "6%"),
        (&mut pool.free, "93.9G"),
        (&mut pool.health, "ONLINE"),
        (&mut pool.size, "107G"),
    ] {
        *slot = Some(v.to_owned());
    }
    out.push(Message::event(EventBody::SystemState(SystemState {
        hostname: Some("monwire-demo".into()),
        zpools: Some(vec![("tank".into(), pool)]),
        priority: Some(Priority::from_level(0)),
        ..Default::default()
    })));
    let job = |state: JobState, output: Option<&str>, rc: Option<&str>| {
        let mut log = ProcessLog {
            process_id: Some(pid.clone()),
            state: Some(state.clone()),
            cmd_list: Some(vec![cmd.clone()]),
            ..Default::default()
        };
        if state != JobState::Pending {
            log.time_started = Some("2026-01-01T00:00:00".into());
        }
        if let Some(o) = output {
            log.outputs.push((cmd.clone(), o.to_owned()));
            if state == JobState::Running {
                log.current_cmd = Some(cmd.clone());
            }
        }
        if let Some(rc) = rc {
            log.return_codes.push((cmd.clone(), rc.to_owned()));
            log.time_finished = Some("2026-01-01T00:00:05".into());
        }
        let mut extras = Object::new();
        extras.insert("action".into(), "pkg_install".into());
        extras.insert("pkg_log".into(), output.unwrap_or_default().into());
        Message::event(EventBody::Dispatcher(Dispatcher::Class(ClassEvent {
            event_system: "sysadm/pkg".into(),
            state: Some(state),
            process_details: Some(log),
            extras,
        })))
    };
    out.push(job(JobState::Pending, None, None));
    out.push(job(
        JobState::Running,
        Some("[1/1] Installing firefox...\n"),
        None,
    ));
    out.push(job(
        JobState::Finished,
        Some("[1/1] Installing firefox...\ndone\n"),
        Some("0"),
    ));
    out.push(Message::event(EventBody::LifePreserver(LifePreserver {
        class: Some(LpClass::Snapshot),
        message: Some(format!("round {round}: New snapshot of tank/usr/home")),
        priority: Some(Priority::from_level(1)),
        extra: Object::new(),
    })));
    out
}

/// `monwire serve sysadm`: publishes the scripted feed.
pub(crate) fn serve(args: &ServeArgs, out: &mut Pipeline) -> Run {
    let rt = runtime()?;
    let stop = out.shutdown().clone();
    rt.block_on(async {
        let srv = start_server(&args.listen).await?;
        let mut round = 0u64;
        loop {
            round += 1;
            for m in script(round) {
                srv.publish(&m)
                    .map_err(|e| Failure::Runtime(format!("sysadm: publish: {e}")))?;
            }
            let pause = if args.count.is_some_and(|n| round >= n) {
                // Let the last round reach the subscribers.
                Duration::from_millis(500)
            } else {
                Duration::from_millis(args.interval)
            };
            let signalled = crate::shutdown::or_stop(&stop, tokio::time::sleep(pause))
                .await
                .is_none();
            if signalled || args.count.is_some_and(|n| round >= n) {
                break;
            }
        }
        // The goodbye: every connection gets a close frame (1001) before the run ends.
        srv.shutdown_gracefully(GOODBYE).await;
        Ok(Status::Ok)
    })
}

/// The demo's server on a free loopback port, user `demo` with password `demo`.
async fn demo_server(
    tls: ServerTls,
) -> Result<(ServerHandle, tokio::sync::mpsc::Receiver<Event>), monwire_sysadm::tokio::Error> {
    spawn_server(ServerOptions {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        tls,
        config: ServerConfig {
            hostname: "monwire-demo".into(),
            ..Default::default()
        },
        verifier: Box::new(StaticUser {
            username: "demo".into(),
            password: "demo".into(),
        }),
    })
    .await
}

/// The demo's SysAdm part: our server (wss, self-signed) and our client (trusting exactly that
/// certificate) on loopback; one round of the script must arrive in full.
pub(crate) fn demo(out: &mut Pipeline) -> Result<(), Failure> {
    let fail = |e: &dyn std::fmt::Display| Failure::Runtime(format!("demo: sysadm: {e}"));
    let rt = runtime()?;
    rt.block_on(async {
        let (srv, _events) = demo_server(ServerTls::SelfSigned {
            names: vec!["localhost".into()],
        })
        .await
        .map_err(|e| fail(&e))?;
        let ca =
            std::env::temp_dir().join(format!("monwire-demo-sysadm-{}.pem", std::process::id()));
        std::fs::write(&ca, srv.certificate_pem().unwrap_or_default()).map_err(|e| fail(&e))?;
        let url = format!("wss://localhost:{}", srv.local_addr().port());
        let mut opts = ClientOptions::new(&url).map_err(|e| fail(&e))?;
        opts.tls = ClientTls::Verify {
            ca_file: Some(ca.clone()),
        };
        opts.config.credentials = Some(("demo".into(), "demo".into()));
        let mut client = spawn_client(opts).map_err(|e| fail(&e))?;
        let expected = script(1);
        let mut subscribed = 0;
        let mut got = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let stop = out.shutdown().clone();
        while got.len() < expected.len() {
            let Some(next) =
                crate::shutdown::or_stop(&stop, tokio::time::timeout_at(deadline, client.next()))
                    .await
            else {
                // Stopped by a signal: close both ends and end the part.
                client.close();
                srv.shutdown();
                let _ = std::fs::remove_file(&ca);
                return Ok(());
            };
            let ev = next
                .map_err(|_| {
                    fail(&format!(
                        "only {} of {} scripted events arrived",
                        got.len(),
                        expected.len()
                    ))
                })?
                .ok_or_else(|| fail(&"the client stopped"))?;
            match &ev {
                ClientEvent::Session(e) if e.name == "subscribed" => {
                    subscribed += 1;
                    if subscribed == 3 {
                        for m in &expected {
                            srv.publish(m).map_err(|e| fail(&e))?;
                        }
                    }
                }
                ClientEvent::Event(m) => got.push(m.clone()),
                _ => {}
            }
            let _ = out.event(&client_event(ev, &url));
        }
        client.close();
        srv.shutdown();
        let _ = std::fs::remove_file(&ca);
        if got != expected {
            return Err(fail(
                &"the events that arrived differ from the ones published",
            ));
        }
        Ok(())
    })
}

/// The demo's bridge: a plain `ws://` SysAdm server on loopback republishes every event of
/// `source` (the demo's zmq part) as `monwire-zmq`; our client, subscribed to `monwire-zmq`,
/// must receive each one, unwrapped back into the zmq event it was.
pub(crate) fn demo_bridge(
    out: &mut Pipeline,
    source: &mut crate::demo::Part<'_>,
) -> Result<(), Failure> {
    let fail = |e: &dyn std::fmt::Display| Failure::Runtime(format!("demo: bridge: {e}"));
    let rt = runtime()?;
    rt.block_on(async {
        let (srv, _events) = demo_server(ServerTls::Plain).await.map_err(|e| fail(&e))?;
        let url = format!("ws://127.0.0.1:{}", srv.local_addr().port());
        let mut opts = ClientOptions::new(&url).map_err(|e| fail(&e))?;
        opts.config.credentials = Some(("demo".into(), "demo".into()));
        opts.config.subscriptions = vec!["monwire-zmq".into()];
        let mut client = spawn_client(opts).map_err(|e| fail(&e))?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let mut published = None;
        let mut got = 0usize;
        let stop = out.shutdown().clone();
        loop {
            if published.is_some_and(|n| got >= n) {
                break;
            }
            let Some(next) =
                crate::shutdown::or_stop(&stop, tokio::time::timeout_at(deadline, client.next()))
                    .await
            else {
                client.close();
                srv.shutdown();
                return Ok(());
            };
            let ev = next
                .map_err(|_| fail(&format!("only {got} bridged events arrived")))?
                .ok_or_else(|| fail(&"the client stopped"))?;
            match &ev {
                ClientEvent::Session(e) if e.name == "subscribed" && published.is_none() => {
                    let mut n = 0usize;
                    let mut publish = |e: Event| {
                        if srv.publish_event(&e).is_ok() {
                            n += 1;
                        }
                    };
                    source(&mut publish)?;
                    published = Some(n);
                }
                ClientEvent::Event(_) => {
                    got += 1;
                    let _ = out.event(&client_event(ev, &url));
                }
                _ => {}
            }
        }
        client.close();
        srv.shutdown();
        Ok(())
    })
}
