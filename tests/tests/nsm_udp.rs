//! Real UDP on loopback: our server against our monitors, the driver's filtering of strangers
//! and malformed datagrams, and liblo (`oscsend`, `oscdump`) as an outside OSC peer both ways.
//! Every wait is bounded; no assertion depends on timing.
#![cfg(feature = "nsm")]
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket as StdUdp};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use monwire_event::{Kind, Protocol};
use monwire_nsm::session::{ClientConfig, MonitorEvent};
use monwire_nsm::tokio::{DriverEvent, Monitor, ServerInput, UdpServer, parse_url};
use monwire_nsm::{ClientEvent, Family, Message, codec};
use monwire_tests::nsm::vector;
use monwire_tests::peers;
use tokio::net::UdpSocket;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(10);

fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}

async fn next(m: &mut Monitor) -> MonitorEvent {
    match timeout(LIMIT, m.recv())
        .await
        .expect("no event in time")
        .expect("stream ended")
    {
        DriverEvent::Monitor { event, .. } => event,
        other => panic!("unexpected {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_server_and_our_external_monitor_over_udp() {
    let mut server = UdpServer::bind(loopback()).await.unwrap();
    let addr = server.local_addr().unwrap();
    server
        .core()
        .load_session("demo", &[("synth", "fluidsynth"), ("daw", "ardour")]);
    let server_task = tokio::spawn(async move {
        let mut announced = false;
        loop {
            let input = server.recv().await.unwrap();
            let ServerInput::Messages { messages, .. } = input else {
                continue;
            };
            if messages.contains(&Message::MonitorAnnounce) {
                announced = true;
                let core = server.core();
                core.client_event("synth", ClientEvent::StartRequest)
                    .unwrap();
                core.client_event("synth", ClientEvent::Started).unwrap();
                core.client_event("daw", ClientEvent::StoppedByItself)
                    .unwrap();
                server.flush().await.unwrap();
            }
            // The monitor's start-up quit comes before its announce; only the last quit ends.
            if announced
                && messages.contains(&Message::MonitorQuit)
                && server.core().monitors().is_empty()
            {
                return server;
            }
        }
    });

    let mut mon = Monitor::external(loopback(), addr, Duration::from_secs(5))
        .await
        .unwrap();
    let mut seen = Vec::new();
    let mut registered = false;
    while seen.len() < 3 || !registered {
        let item = timeout(LIMIT, mon.recv()).await.unwrap().unwrap();
        let event = item.to_event(addr);
        match item {
            DriverEvent::Monitor {
                event: MonitorEvent::Registered { .. },
                ..
            } => registered = true,
            DriverEvent::Monitor {
                event: MonitorEvent::Monitor(Message::ClientEvent { event: e, .. }),
                ..
            } => {
                let ev = event.unwrap();
                assert_eq!(ev.protocol, Protocol::Ray);
                assert_eq!(
                    ev.source.as_deref(),
                    Some(format!("osc.udp://{addr}/").as_str())
                );
                assert!(ev.observed.is_some());
                seen.push((ev.subject.clone(), e, ev.kind));
            }
            _ => {}
        }
    }
    assert_eq!(
        seen,
        vec![
            (
                "synth".to_owned(),
                ClientEvent::StartRequest,
                Kind::Starting
            ),
            ("synth".to_owned(), ClientEvent::Started, Kind::Started),
            (
                "daw".to_owned(),
                ClientEvent::StoppedByItself,
                Kind::Stopped
            ),
        ]
    );
    mon.quit();
    loop {
        if let MonitorEvent::Closed { confirmed } = next(&mut mon).await {
            assert!(confirmed, "the server answered the quit");
            break;
        }
    }
    assert!(
        timeout(LIMIT, mon.recv()).await.unwrap().is_none(),
        "stream ends after Closed"
    );
    let server = timeout(LIMIT, server_task).await.unwrap().unwrap();
    drop(server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_server_and_our_nsm_monitor_client_over_udp() {
    let mut server = UdpServer::bind(loopback()).await.unwrap();
    let addr = server.local_addr().unwrap();
    assert_eq!(
        parse_url(&server.url().unwrap()),
        Some(("127.0.0.1".to_owned(), addr.port()))
    );
    server
        .core()
        .load_session("demo", &[("synth", "fluidsynth")]);
    let server_task = tokio::spawn(async move {
        loop {
            if let ServerInput::Messages { messages, .. } = server.recv().await.unwrap()
                && messages
                    .iter()
                    .any(|m| matches!(m, Message::Reply { path, .. } if path == "/nsm/client/open"))
            {
                return server;
            }
        }
    });
    let mut mon = Monitor::nsm_client(
        ClientConfig::new("Watcher", "watcher", 4242),
        loopback(),
        addr,
    )
    .await
    .unwrap();
    let mut order = Vec::new();
    while !order.contains(&"open") {
        match next(&mut mon).await {
            MonitorEvent::Registered { server_name, .. } => {
                assert_eq!(server_name.as_deref(), Some("RaySession"));
                order.push("registered");
            }
            MonitorEvent::ListComplete { entries } => {
                assert_eq!(entries, 1);
                order.push("list");
            }
            MonitorEvent::Open {
                display_name,
                client_id,
                ..
            } => {
                assert_eq!(
                    (display_name.as_str(), client_id.as_str()),
                    ("demo", "Watcher.watcher")
                );
                order.push("open");
            }
            _ => {}
        }
    }
    assert_eq!(order, ["registered", "list", "open"]);
    let mut server = timeout(LIMIT, server_task).await.unwrap().unwrap();
    let clients: Vec<(String, bool)> = server
        .core()
        .clients()
        .map(|(id, _, started)| (id.to_owned(), started))
        .collect();
    assert_eq!(
        clients,
        [("synth".to_owned(), false), ("watcher".to_owned(), true)]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_driver_ignores_strangers_and_reports_malformed_datagrams() {
    let fake_server = UdpSocket::bind(loopback()).await.unwrap();
    let server_addr = fake_server.local_addr().unwrap();
    let stranger = UdpSocket::bind(loopback()).await.unwrap();
    let mut mon = Monitor::external(loopback(), server_addr, Duration::from_secs(5))
        .await
        .unwrap();
    let mut buf = [0u8; 1024];
    // Quit first, then announce, both from the monitor's own socket.
    let (n, from) = timeout(LIMIT, fake_server.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf[..n], vector("ray-monitor-quit").as_slice());
    assert_eq!(
        from,
        mon.local_addr().to_string().parse::<SocketAddr>().unwrap()
    );
    let (n, _) = timeout(LIMIT, fake_server.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf[..n], vector("ray-monitor-announce").as_slice());

    let to = mon.local_addr();
    stranger
        .send_to(&vector("ray-client-event-okr-started"), to)
        .await
        .unwrap();
    fake_server.send_to(b"garbage!", to).await.unwrap();
    fake_server
        .send_to(&vector("ray-client-state-end-0"), to)
        .await
        .unwrap();
    fake_server
        .send_to(&vector("ray-reply-monitor-announce"), to)
        .await
        .unwrap();

    let first = timeout(LIMIT, mon.recv()).await.unwrap().unwrap();
    assert!(
        matches!(first, DriverEvent::Malformed { from, .. } if from == server_addr),
        "{first:?}"
    );
    assert_eq!(
        next(&mut mon).await,
        MonitorEvent::Monitor(Message::ClientStateEnd {
            family: Family::Ray,
            count: 0
        })
    );
    assert_eq!(
        next(&mut mon).await,
        MonitorEvent::ListComplete { entries: 0 }
    );
    assert!(matches!(
        next(&mut mon).await,
        MonitorEvent::Registered { .. }
    ));
    // The stranger's event came first on the wire but never surfaced.
    fake_server
        .send_to(&vector("ray-client-event-okr-ready"), to)
        .await
        .unwrap();
    let MonitorEvent::Monitor(Message::ClientEvent { event, .. }) = next(&mut mon).await else {
        panic!()
    };
    assert_eq!(event, ClientEvent::Ready);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn datagrams_liblo_sends_decode_right() {
    if !peers::program("oscsend") {
        return;
    }
    let sock = UdpSocket::bind(loopback()).await.unwrap();
    let url = format!("osc.udp://{}", sock.local_addr().unwrap());
    let cases: [(&[&str], &str); 4] = [
        (
            &["/ray/monitor/client_event", "ss", "okr", "started"],
            "ray-client-event-okr-started",
        ),
        (&["/ray/server/monitor_quit"], "ray-monitor-quit"),
        (
            &["/ray/monitor/client_state", "ssi", "", "", "0"],
            "ray-client-state-end-0",
        ),
        (
            &[
                "/nsm/client/monitor/client_state",
                "ssi",
                "other",
                "fake_ok",
                "1",
            ],
            "nsm-client-state-other-1",
        ),
    ];
    let mut buf = [0u8; 2048];
    for (args, name) in cases {
        let status = Command::new("oscsend")
            .arg(&url)
            .args(args)
            .status()
            .unwrap();
        assert!(status.success());
        let (n, _) = timeout(LIMIT, sock.recv_from(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            &buf[..n],
            vector(name).as_slice(),
            "{name}: liblo's bytes equal the daemon's"
        );
        assert_eq!(
            codec::decode(&buf[..n]).unwrap(),
            codec::decode(&vector(name)).unwrap()
        );
    }
    // liblo's announce, byte for byte what ray-daemon was sent in the capture.
    let status = Command::new("oscsend")
        .arg(&url)
        .arg("/ray/server/monitor_announce")
        .status()
        .unwrap();
    assert!(status.success());
    let (n, _) = timeout(LIMIT, sock.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let announce = buf[..n].to_vec();
    assert_eq!(announce, vector("ray-monitor-announce"));
    // Our server answers those bytes exactly as ray-daemon answered them with no session open
    // (scenario S1): the list's end marker with 0 entries, then "announced", byte for byte the
    // daemon's datagrams, sent to the announcing socket.
    let mut server = UdpServer::bind(loopback()).await.unwrap();
    let server_addr = server.local_addr().unwrap();
    sock.send_to(&announce, server_addr).await.unwrap();
    let input = timeout(LIMIT, server.recv()).await.unwrap().unwrap();
    assert!(
        matches!(&input, ServerInput::Messages { messages, .. } if messages == &[Message::MonitorAnnounce]),
        "{input:?}"
    );
    assert_eq!(server.core().monitors(), [sock.local_addr().unwrap()]);
    for want in ["ray-client-state-end-0", "ray-reply-monitor-announce"] {
        let (n, from) = timeout(LIMIT, sock.recv_from(&mut buf))
            .await
            .expect("the server answered")
            .unwrap();
        assert_eq!(from, server_addr);
        assert_eq!(
            &buf[..n],
            vector(want).as_slice(),
            "{want}: the daemon's own bytes"
        );
    }
    // And the quit as liblo sends it gets the daemon's "monitor exit", byte for byte.
    sock.send_to(&vector("ray-monitor-quit"), server_addr)
        .await
        .unwrap();
    timeout(LIMIT, server.recv()).await.unwrap().unwrap();
    let (n, _) = timeout(LIMIT, sock.recv_from(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(&buf[..n], vector("ray-reply-monitor-quit").as_slice());
    assert!(server.core().monitors().is_empty());
}

/// `parse_url` and `resolve_url` take the URLs NSM servers print (`osc.udp://host:port/`), with
/// host names, IPv6 brackets and no trailing slash, prefer IPv4 as liblo does, and refuse
/// anything else with a clear error.
#[tokio::test]
async fn resolve_url_takes_nsm_urls_and_refuses_others() {
    use monwire_nsm::tokio::{nsm_url_from, resolve_url};
    assert_eq!(
        parse_url("osc.udp://127.0.0.1:16187/"),
        Some(("127.0.0.1".into(), 16187))
    );
    assert_eq!(
        parse_url("osc.udp://vm:1234"),
        Some(("vm".into(), 1234)),
        "no trailing slash"
    );
    assert_eq!(parse_url("osc.udp://[::1]:5/"), Some(("::1".into(), 5)));
    for bad in [
        "osc.tcp://127.0.0.1:1/",
        "127.0.0.1:1",
        "osc.udp://127.0.0.1/",
        "osc.udp://:1/",
        "osc.udp://127.0.0.1:70000/",
        "osc.udp://127.0.0.1:x/",
        "",
    ] {
        assert_eq!(parse_url(bad), None, "{bad:?}");
        let err = resolve_url(bad).await.unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput, "{bad:?}");
        assert!(err.to_string().contains("osc.udp://host:port/"), "{err}");
    }
    assert_eq!(
        resolve_url("osc.udp://127.0.0.1:16187/").await.unwrap(),
        "127.0.0.1:16187".parse::<SocketAddr>().unwrap()
    );
    assert_eq!(
        resolve_url("osc.udp://[::1]:9/").await.unwrap(),
        "[::1]:9".parse::<SocketAddr>().unwrap()
    );
    let local = resolve_url("osc.udp://localhost:7/").await.unwrap();
    assert!(local.is_ipv4() && local.ip().is_loopback(), "{local}");
    assert!(
        resolve_url("osc.udp://no-such-host.invalid:7/")
            .await
            .is_err()
    );
    // `nsm_url` reads NSM_URL; its parsing is `nsm_url_from` (the binary tests set the variable
    // for real in a child process).
    let err = nsm_url_from(None).await.unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    assert_eq!(err.to_string(), "NSM_URL is not set");
    assert_eq!(
        nsm_url_from(Some("osc.udp://127.0.0.1:5/")).await.unwrap(),
        "127.0.0.1:5".parse::<SocketAddr>().unwrap()
    );
}

#[test]
fn liblo_reads_what_we_send() {
    if !peers::program("oscdump") {
        return;
    }
    let port = StdUdp::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut child = Command::new("oscdump")
        .args(["-L", &port.to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let sock = StdUdp::bind("127.0.0.1:0").unwrap();
    let target = format!("127.0.0.1:{port}");
    // Probe until oscdump is listening (bounded), then send the real messages.
    let probe = codec::encode(&Message::Save).unwrap();
    let mut ready = false;
    for _ in 0..50 {
        sock.send_to(&probe, &target).unwrap();
        if rx.recv_timeout(Duration::from_millis(200)).is_ok() {
            ready = true;
            break;
        }
    }
    assert!(ready, "oscdump never printed the probe");
    let messages = [
        Message::ClientEvent {
            family: Family::Ray,
            client_id: "okr".into(),
            event: ClientEvent::SwitchedTo("okr2".into()),
        },
        Message::ClientState {
            family: Family::Nsm,
            client_id: "other".into(),
            jack_name: "fake ok".into(),
            started: 1,
        },
        Message::ClientStateEnd {
            family: Family::Nsm,
            count: 1,
        },
        Message::MinorError {
            path: "/x".into(),
            code: monwire_nsm::ErrorCode::UnknownMessage,
            message: "unknown osc message: /x i".into(),
        },
        Message::MonitorAnnounce,
    ];
    let want = [
        r#"/ray/monitor/client_event ss "okr" "switched_to:okr2""#,
        r#"/nsm/client/monitor/client_state ssi "other" "fake ok" 1"#,
        r#"/nsm/client/monitor/client_state ssi "" "" 1"#,
        r#"/minor_error sis "/x" -18 "unknown osc message: /x i""#,
        "/ray/server/monitor_announce ",
    ];
    for m in &messages {
        sock.send_to(&codec::encode(m).unwrap(), &target).unwrap();
    }
    let mut got = Vec::new();
    while got.len() < want.len() {
        let line = rx.recv_timeout(LIMIT).expect("oscdump printed nothing");
        // Drop oscdump's leading time tag, and any late copy of the probe.
        let rest = line
            .split_once(' ')
            .map(|(_, rest)| rest.to_owned())
            .unwrap_or(line);
        if rest != "/nsm/client/save " {
            got.push(rest);
        }
    }
    child.kill().ok();
    child.wait().ok();
    assert_eq!(got, want);
}
