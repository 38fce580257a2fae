//! Against the real ray-daemon (RaySession), when `MONWIRE_RAY_DAEMON` names a checkout's
//! `src/bin/ray-daemon` (RaySession is neither in Debian nor on PyPI, so CI cannot install it;
//! it needs Python 3 with PyQt5, qtpy and pyliblo: Debian `python3-pyqt5 python3-qtpy
//! python3-liblo`, and the HoustonPatchbay submodule). `MONWIRE_PYTHON_SYSTEM` may name the
//! interpreter (default `/usr/bin/python3`).
//!
//! What it proves, with the real daemon: our external monitor registers, the daemon answers its
//! `/osc/ping` probes (so a healthy daemon is never taken for lost), `monitor_quit` is
//! confirmed with "monitor exit", and a killed daemon is noticed (`Disconnected`) and the
//! monitor registers again with a new daemon on the same port.
#![cfg(feature = "nsm")]
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use monwire_nsm::session::{ExternalConfig, Loss, MonitorEvent};
use monwire_nsm::tokio::{DriverEvent, Monitor};
use tokio::time::timeout;

struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts ray-daemon on `port` (0: a free one it finds) and returns it with its address.
fn start(path: &str, port: u16, dir: &std::path::Path) -> (Daemon, SocketAddr) {
    let python =
        std::env::var("MONWIRE_PYTHON_SYSTEM").unwrap_or_else(|_| "/usr/bin/python3".into());
    let mut args = vec![
        path.to_owned(),
        "--session-root".into(),
        dir.join("root").display().to_string(),
        "--config-dir".into(),
        dir.join("config").display().to_string(),
        "--no-options".into(),
    ];
    if port == 0 {
        args.extend(["--osc-port".into(), "16187".into(), "--findfreeport".into()]);
    } else {
        args.extend(["--osc-port".into(), port.to_string()]);
    }
    for d in ["root", "config"] {
        std::fs::create_dir_all(dir.join(d)).unwrap();
    }
    let mut child = Command::new(python)
        .args(&args)
        .env("QT_QPA_PLATFORM", "offscreen")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ray-daemon");
    // It prints its URL on stderr.
    let out = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let deadline = Instant::now() + Duration::from_secs(30);
    let daemon = Daemon(child);
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(line) = rx.recv_timeout(left) else {
            break;
        };
        // "URL : osc.udp://HOST:PORT/" (with colour codes around it).
        if let Some(i) = line.find("osc.udp://")
            && line.contains("URL")
        {
            let hostport = line[i + "osc.udp://".len()..]
                .split('/')
                .next()
                .unwrap_or("");
            let port: u16 = hostport
                .rsplit_once(':')
                .and_then(|(_, p)| p.parse().ok())
                .unwrap_or_else(|| panic!("no port in {line:?}"));
            return (daemon, SocketAddr::from(([127, 0, 0, 1], port)));
        }
    }
    panic!("ray-daemon printed no URL");
}

async fn next(mon: &mut Monitor, secs: u64) -> Option<MonitorEvent> {
    loop {
        match timeout(Duration::from_secs(secs), mon.recv())
            .await
            .ok()??
        {
            DriverEvent::Monitor { event, .. } => return Some(event),
            DriverEvent::Malformed { error, .. } => {
                panic!("the daemon sent a bad datagram: {error}")
            }
            _ => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_real_ray_daemon_answers_probes_confirms_quits_and_its_loss_is_seen() {
    let Ok(path) = std::env::var("MONWIRE_RAY_DAEMON") else {
        eprintln!(
            "SKIP: MONWIRE_RAY_DAEMON is not set (the path of a RaySession checkout's src/bin/ray-daemon)"
        );
        return;
    };
    let dir = std::env::temp_dir().join(format!("monwire-raydaemon-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (daemon, addr) = start(&path, 0, &dir);
    let config = ExternalConfig::default()
        .with_probe_every(Some(Duration::from_millis(500)))
        .with_retry(Duration::from_millis(500), Duration::from_secs(2));
    let mut mon = Monitor::external_with("127.0.0.1:0".parse().unwrap(), addr, config)
        .await
        .unwrap();
    // Registration: the (empty) list, then the reply.
    let mut registered = false;
    while !registered {
        match next(&mut mon, 20).await.expect("registration") {
            MonitorEvent::Registered { .. } => registered = true,
            MonitorEvent::Disconnected { .. } => panic!("lost before registering"),
            _ => {}
        }
    }
    // Four seconds of probes every 0.5 s, each answered: no loss.
    let quiet = timeout(Duration::from_secs(4), async {
        loop {
            if let Some(MonitorEvent::Disconnected { reason }) = next(&mut mon, 10).await {
                return reason;
            }
        }
    })
    .await;
    assert!(
        quiet.is_err(),
        "a healthy daemon was taken for lost: {quiet:?}"
    );
    // The daemon dies: the next probe meets a closed port.
    drop(daemon);
    let lost = timeout(Duration::from_secs(20), async {
        loop {
            if let Some(MonitorEvent::Disconnected { reason }) = next(&mut mon, 20).await {
                return reason;
            }
        }
    })
    .await
    .expect("the loss was seen");
    assert_eq!(lost, Loss::Unreachable);
    // A new daemon on the same port: registered again.
    let (_daemon, again) = start(&path, addr.port(), &dir);
    assert_eq!(again, addr);
    let mut back = false;
    while !back {
        back = matches!(
            next(&mut mon, 30).await.expect("re-registration"),
            MonitorEvent::Reconnected
        );
    }
    mon.quit();
    let mut confirmed = None;
    while confirmed.is_none() {
        if let Some(MonitorEvent::Closed { confirmed: c }) = next(&mut mon, 10).await {
            confirmed = Some(c);
        }
    }
    assert_eq!(
        confirmed,
        Some(true),
        "the daemon answered \"monitor exit\""
    );
}
