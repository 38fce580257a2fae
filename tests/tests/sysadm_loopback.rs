#![cfg(feature = "sysadm")]
//! Real websockets on 127.0.0.1: our client against our server (wss with a generated
//! certificate, ws), a server restart, Python `websockets` as an outside peer in both
//! directions, and a slow subscriber over a real socket.
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Stdio;
use std::time::Duration;

use monwire_sysadm::codec::{Limits, decode};
use monwire_sysadm::message::Message;
use monwire_sysadm::session::{AllowAll, ClientConfig, ClientEvent, ServerConfig, StaticUser};
use monwire_sysadm::tokio::*;
use monwire_tests::{peers, vectors};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

fn golden(name: &str) -> Message {
    decode(&vectors::read("sysadm", name), &Limits::default()).unwrap()
}

async fn server(tls: ServerTls, port: u16) -> ServerHandle {
    let opts = ServerOptions {
        listen: format!("127.0.0.1:{port}").parse().unwrap(),
        tls,
        config: ServerConfig {
            hostname: "loopback".into(),
            ..Default::default()
        },
        verifier: Box::new(StaticUser {
            username: "u".into(),
            password: "p".into(),
        }),
    };
    spawn_server(opts).await.unwrap().0
}

fn self_signed() -> ServerTls {
    ServerTls::SelfSigned {
        names: vec!["localhost".into(), "127.0.0.1".into()],
    }
}

fn client(url: &str, tls: ClientTls) -> ClientHandle {
    let mut opts = ClientOptions::new(url).unwrap();
    opts.tls = tls;
    opts.config = ClientConfig {
        credentials: Some(("u".into(), "p".into())),
        reconnect_min: Duration::from_millis(100),
        reconnect_max: Duration::from_millis(400),
        ..Default::default()
    };
    spawn_client(opts).unwrap()
}

/// Waits for the next wire event, collecting session event names on the way.
async fn next_wire(c: &mut ClientHandle, sessions: &mut Vec<String>) -> Message {
    loop {
        match timeout(LIMIT, c.next())
            .await
            .expect("timed out waiting for an event")
        {
            Some(ClientEvent::Event(m)) => return m,
            Some(ClientEvent::Session(e)) => sessions.push(e.name.clone()),
            None => panic!("client ended; sessions {sessions:?}"),
        }
    }
}

/// Waits until the client has seen `n` subscribe replies.
async fn until_subscribed(c: &mut ClientHandle, n: usize, sessions: &mut Vec<String>) {
    while sessions.iter().filter(|s| *s == "subscribed").count() < n {
        match timeout(LIMIT, c.next())
            .await
            .expect("timed out waiting to subscribe")
        {
            Some(ClientEvent::Session(e)) => sessions.push(e.name.clone()),
            Some(ClientEvent::Event(_)) => {}
            None => panic!("client ended; sessions {sessions:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_and_server_over_wss_with_a_trusted_self_signed_certificate() {
    let srv = server(self_signed(), 0).await;
    let dir = std::env::temp_dir().join(format!("monwire-sysadm-ca-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("server.pem");
    std::fs::write(&ca, srv.certificate_pem().unwrap()).unwrap();
    let url = format!("wss://localhost:{}", srv.local_addr().port());
    let mut c = client(&url, ClientTls::Verify { ca_file: Some(ca) });
    let mut sessions = Vec::new();
    until_subscribed(&mut c, 3, &mut sessions).await;
    assert!(
        sessions.contains(&"authenticated".to_owned()),
        "{sessions:?}"
    );
    for name in [
        "event-system-state.json",
        "event-dispatcher-pkg-finished.json",
        "event-life-preserver-snapshot.json",
    ] {
        assert_eq!(srv.publish(&golden(name)).unwrap(), 1);
        assert_eq!(next_wire(&mut c, &mut sessions).await, golden(name));
    }
    // Any protocol's event can be published; it arrives as monwire-<protocol> with the Event JSON.
    let ev = monwire_event::Event::new(
        monwire_event::Protocol::Zmq,
        monwire_event::Kind::Connected,
        "CONNECTED",
    )
    .with_subject("tcp://127.0.0.1:5555")
    .with_attr("zmq.fd", 7u64);
    c.close();
    drop(c);
    let mut opts = ClientOptions::new(&url).unwrap();
    opts.tls = ClientTls::InsecureAcceptAnyCertificate;
    opts.config = ClientConfig {
        credentials: Some(("u".into(), "p".into())),
        subscriptions: vec!["monwire-zmq".into()],
        ..Default::default()
    };
    let mut c = spawn_client(opts).unwrap();
    let mut sessions = Vec::new();
    until_subscribed(&mut c, 1, &mut sessions).await;
    assert_eq!(srv.publish_event(&ev).unwrap(), 1);
    let m = next_wire(&mut c, &mut sessions).await;
    assert_eq!(m.name, "monwire-zmq");
    assert_eq!(monwire_sysadm::event::unwrap_bridged(&m), Some(ev));
    srv.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_certificate_is_refused_by_default() {
    let srv = server(self_signed(), 0).await;
    let url = format!("wss://localhost:{}", srv.local_addr().port());
    let mut c = client(&url, ClientTls::System);
    // The client stops by itself (retrying cannot make the certificate trusted) ...
    while let Some(ev) = timeout(LIMIT, c.next()).await.unwrap() {
        match ev {
            ClientEvent::Session(e) => assert_ne!(e.name, "authenticated"),
            ClientEvent::Event(m) => {
                panic!("got an event through an unverified certificate: {m:?}")
            }
        }
    }
    // ... and says why.
    match timeout(LIMIT, c.join()).await.unwrap() {
        Err(monwire_sysadm::tokio::Error::Certificate { reason, .. }) => {
            assert!(!reason.is_empty());
        }
        other => panic!("expected a certificate error, got {other:?}"),
    }
    srv.shutdown();
}

#[test]
fn credentials_are_not_sent_over_plain_ws_to_a_remote_host() {
    let mut opts = ClientOptions::new("ws://192.0.2.1").unwrap();
    opts.config.credentials = Some(("u".into(), "secret-pass".into()));
    assert!(!format!("{opts:?}").contains("secret-pass"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let err = spawn_client(opts.clone()).unwrap_err();
    assert!(matches!(err, Error::PlainCredentials(_)), "{err}");
    opts.allow_plain_credentials = true;
    let h = spawn_client(opts).unwrap();
    h.close();
    assert_eq!(WsUrl::parse("wss://[::1]").unwrap().port, 12150);
    assert!(WsUrl::parse("wss://[::1]:9/x").unwrap().is_loopback());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_survives_a_server_restart_and_resubscribes() {
    let srv = server(ServerTls::Plain, 0).await;
    let port = srv.local_addr().port();
    let url = format!("ws://127.0.0.1:{port}");
    let mut c = client(&url, ClientTls::System);
    let mut sessions = Vec::new();
    until_subscribed(&mut c, 3, &mut sessions).await;
    srv.shutdown();
    drop(srv);
    // Wait for the loss to be noticed, then start a new server on the same port.
    loop {
        match timeout(LIMIT, c.next()).await.unwrap().unwrap() {
            ClientEvent::Session(e) if e.name == "disconnected" => break,
            _ => {}
        }
    }
    // The port can take a moment to be free again: a bounded number of tries.
    let mut srv = None;
    for _ in 0..200 {
        let opts = ServerOptions {
            listen: format!("127.0.0.1:{port}").parse().unwrap(),
            tls: ServerTls::Plain,
            config: ServerConfig::default(),
            verifier: Box::new(AllowAll),
        };
        match spawn_server(opts).await {
            Ok((s, _)) => {
                srv = Some(s);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let srv = srv.expect("the port was free again within 10 s");
    let mut sessions = Vec::new();
    until_subscribed(&mut c, 3, &mut sessions).await;
    assert!(
        sessions.contains(&"connected".to_owned())
            && sessions.contains(&"authenticated".to_owned()),
        "{sessions:?}"
    );
    srv.publish(&golden("event-system-state.json")).unwrap();
    assert_eq!(
        next_wire(&mut c, &mut sessions).await,
        golden("event-system-state.json")
    );
    c.close();
    srv.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_subscriber_does_not_hold_up_the_others() {
    let opts = ServerOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: ServerTls::Plain,
        config: ServerConfig {
            queue_capacity: 256,
            ..Default::default()
        },
        verifier: Box::new(AllowAll),
    };
    let (srv, mut events) = spawn_server(opts).await.unwrap();
    let url = format!("ws://127.0.0.1:{}", srv.local_addr().port());
    let mut fast = client(&url, ClientTls::System);
    let mut slow = {
        let mut o = ClientOptions::new(&url).unwrap();
        o.config.credentials = Some(("u".into(), "p".into()));
        o.channel = 1;
        spawn_client(o).unwrap()
    };
    let (mut s1, mut s2) = (Vec::new(), Vec::new());
    until_subscribed(&mut fast, 3, &mut s1).await;
    until_subscribed(&mut slow, 3, &mut s2).await;
    // `slow` is never read from again: its task blocks, its socket fills, its server queue fills.
    // 64 KiB events: 2,000 of them (128 MiB) overrun any socket buffering of the slow reader.
    let mut big = golden("event-dispatcher-pkg-finished.json");
    if let monwire_sysadm::message::Body::Event(monwire_sysadm::message::EventBody::Dispatcher(
        monwire_sysadm::message::Dispatcher::Class(c),
    )) = &mut big.body
    {
        c.extras
            .insert("pkg_log".into(), "x".repeat(64 * 1024).into());
    }
    // The publisher never waits for `slow`; it only lets `fast` catch up every 32 events, so
    // the fast queue stays far below its bound whatever the machine's speed.
    let n = 2_000;
    let (mut got, mut max) = (0, 0);
    for i in 1..=n {
        srv.publish(&big).unwrap();
        max = max.max(srv.max_queued());
        if i % 32 == 0 || i == n {
            while got < i {
                if next_wire(&mut fast, &mut s1).await.name == "dispatcher" {
                    got += 1;
                }
            }
        }
    }
    assert!(max <= 256, "a queue grew to {max}");
    assert_eq!(got, n, "the fast subscriber received every event");
    let mut overflow = None;
    while let Ok(e) = events.try_recv() {
        if e.name == monwire_sysadm::event::session::OVERFLOW {
            overflow = Some(e);
        }
    }
    let overflow = overflow.expect("the slow subscriber overflowed and it was reported");
    assert_eq!(
        overflow.attr("sysadm.action").and_then(|v| v.as_str()),
        Some("closed")
    );
    fast.close();
    slow.close();
    srv.shutdown();
}

const PY_CLIENT: &str = r#"
import asyncio, json, sys
import websockets
async def main():
    async with websockets.connect(sys.argv[1]) as ws:
        async def call(msg):
            await ws.send(json.dumps(msg))
        await call({"namespace":"rpc","name":"identify","id":"i","args":""})
        await call({"namespace":"rpc","name":"auth","id":"a","args":{"username":"u","password":"p"}})
        await call({"namespace":"events","name":"subscribe","id":"s","args":["dispatcher","life-preserver","system-state"]})
        print("SUBSCRIBING", flush=True)
        seen = 0
        while seen < 2:
            text = await asyncio.wait_for(ws.recv(), 20)
            print(text, flush=True)
            if json.loads(text).get("namespace") == "events" and json.loads(text).get("id") == "":
                seen += 1
asyncio.run(main())
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_python_websockets_client_subscribes_to_our_server() {
    if !peers::python_module("websockets") {
        return;
    }
    let srv = server(ServerTls::Plain, 0).await;
    let url = format!("ws://127.0.0.1:{}", srv.local_addr().port());
    let mut child = std::process::Command::new(peers::python())
        .args(["-c", PY_CLIENT, &url])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut stdout, &mut s).unwrap();
        s
    });
    // Publish until the client has its two events (it may subscribe at any moment).
    let state = golden("event-system-state.json");
    let job = golden("event-dispatcher-running.json");
    let start = std::time::Instant::now();
    while !reader.is_finished() {
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            panic!("python client timed out");
        }
        srv.publish(&job).unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    srv.publish(&state).unwrap();
    let out = reader.join().unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "SUBSCRIBING");
    let msgs: Vec<Message> = lines[1..]
        .iter()
        .map(|l| decode(l.as_bytes(), &Limits::default()).unwrap())
        .collect();
    assert!(
        msgs.iter().any(|m| m.id == "i" && m.name == "response"),
        "{out}"
    );
    assert!(
        msgs.iter().any(|m| m.id == "s" && m.name == "response"),
        "{out}"
    );
    let events: Vec<&Message> = msgs.iter().filter(|m| m.as_event().is_some()).collect();
    assert_eq!(events.len(), 2, "{out}");
    assert!(events.iter().all(|m| **m == job), "{out}");
    let raw = std::str::from_utf8(&vectors::read("sysadm", "event-dispatcher-running.json"))
        .unwrap()
        .to_owned();
    assert!(
        lines.contains(&raw.as_str()),
        "the python client got the exact server bytes"
    );
    let _ = child.wait();
    srv.shutdown();
}

const PY_SERVER: &str = r#"
import asyncio, json, sys, os
import websockets
vec = sys.argv[1]
def load(name):
    with open(os.path.join(vec, name)) as f:
        return f.read()
async def handler(ws):
    async for text in ws:
        req = json.loads(text)
        name, rid = req["name"], req["id"]
        def reply(file):
            m = json.loads(load(file)); m["id"] = rid
            return json.dumps(m, sort_keys=True, separators=(",", ":"))
        if name == "identify":
            await ws.send(reply("reply-identify-server.json"))
        elif name == "auth":
            await ws.send(reply("reply-auth-ok.json"))
        elif name == "subscribe":
            if req["args"] == "system-state":
                for f in sorted(os.listdir(vec)):
                    if f.startswith("event-"):
                        await ws.send(load(f))
            m = {"args": {"subscribe": req["args"]}, "id": rid, "name": "response", "namespace": "events"}
            await ws.send(json.dumps(m, separators=(",", ":")))
async def main():
    async with websockets.serve(handler, "127.0.0.1", 0) as server:
        port = server.sockets[0].getsockname()[1]
        print(port, flush=True)
        await asyncio.sleep(30)
asyncio.run(main())
"#;

/// Python `websockets` as the server replays our own golden vectors, plus a subscribe reply
/// this test makes up: it is an outside peer for the **websocket framing** only (handshake,
/// text frames, close), not evidence of what a SysAdm server sends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn our_client_reads_golden_events_from_a_python_websockets_server() {
    if !peers::python_module("websockets") {
        return;
    }
    let mut child = std::process::Command::new(peers::python())
        .args(["-c", PY_SERVER, vectors::dir("sysadm").to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = std::io::BufReader::new(child.stdout.take().unwrap());
    let line = tokio::task::spawn_blocking(move || {
        let mut line = String::new();
        std::io::BufRead::read_line(&mut stdout, &mut line).unwrap();
        line
    });
    let line = timeout(LIMIT, line)
        .await
        .expect("python server did not start")
        .unwrap();
    let port: u16 = line.trim().parse().unwrap();
    let mut c = client(&format!("ws://127.0.0.1:{port}"), ClientTls::System);
    let expected: Vec<(String, Vec<u8>)> = vectors::files("sysadm", ".json")
        .into_iter()
        .filter(|(n, _)| n.starts_with("event-"))
        .collect();
    assert!(expected.len() >= 15);
    let mut sessions = Vec::new();
    for (name, bytes) in &expected {
        let m = next_wire(&mut c, &mut sessions).await;
        assert_eq!(m, decode(bytes, &Limits::default()).unwrap(), "{name}");
        let e = monwire_sysadm::event::to_event(&m);
        assert_eq!(monwire_sysadm::event::from_event(&e).unwrap(), m, "{name}");
    }
    until_subscribed(&mut c, 3, &mut sessions).await;
    c.close();
    let _ = child.kill();
    let _ = child.wait();
}
