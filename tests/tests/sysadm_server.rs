#![cfg(feature = "sysadm")]
//! The server adapter under hostile and broken peers, over real loopback sockets: half-open
//! connections that never finish a handshake, a subscriber that stops reading, repeated failed
//! logins (the failed-login guard), an oversized frame (close code 1009), the loopback re-login
//! with an empty password that the reference Qt client relies on, and the goodbye on shutdown.
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use monwire_sysadm::message::{
    ClassEvent, Dispatcher, EventBody, JobState, Message, Object, ProcessLog,
};
use monwire_sysadm::session::{ClientConfig, LoginGuard, ServerConfig, StaticUser};
use monwire_sysadm::tokio::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

/// Every wait in this file is bounded by this; none of the tests needs it to be short.
const LIMIT: Duration = Duration::from_secs(30);

async fn server(tls: ServerTls, config: ServerConfig) -> ServerHandle {
    let opts = ServerOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls,
        config,
        verifier: Box::new(StaticUser {
            username: "alice".into(),
            password: "right".into(),
        }),
    };
    spawn_server(opts).await.unwrap().0
}

/// Reads until EOF (or a reset); `true` when the server closed the socket within `LIMIT`.
async fn closed_by_server(tcp: &mut TcpStream) -> bool {
    let mut buf = [0u8; 4096];
    let read_to_end = async {
        loop {
            match tcp.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    };
    timeout(LIMIT, read_to_end).await.is_ok()
}

/// Today's server held every half-open connection (TCP open, no TLS or upgrade) forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn half_open_connections_are_dropped_after_the_handshake_deadline() {
    let config = ServerConfig {
        handshake_timeout: Duration::from_millis(300),
        ..Default::default()
    };
    for tls in [
        ServerTls::Plain,
        ServerTls::SelfSigned {
            names: vec!["localhost".into()],
        },
    ] {
        let srv = server(tls, config.clone()).await;
        let mut conns = Vec::new();
        for _ in 0..50 {
            conns.push(TcpStream::connect(srv.local_addr()).await.unwrap());
        }
        // Half of them send the start of an upgrade request and stall.
        for c in conns.iter_mut().step_by(2) {
            c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        }
        for (i, c) in conns.iter_mut().enumerate() {
            assert!(closed_by_server(c).await, "connection {i} still open");
        }
        srv.shutdown();
    }
}

fn big_finished_job(n: usize) -> Message {
    let cmd = "pkg install -y www/firefox".to_owned();
    let log = ProcessLog {
        process_id: Some(format!("job-{n}")),
        state: Some(JobState::Finished),
        cmd_list: Some(vec![cmd.clone()]),
        outputs: vec![(cmd.clone(), "x".repeat(200_000))],
        return_codes: vec![(cmd, "0".into())],
        ..Default::default()
    };
    Message::event(EventBody::Dispatcher(Dispatcher::Class(ClassEvent {
        event_system: "sysadm/pkg".into(),
        state: Some(JobState::Finished),
        process_details: Some(log),
        extras: Object::new(),
    })))
}

type Ws = tokio_tungstenite::WebSocketStream<TcpStream>;

async fn raw_client(srv: &ServerHandle) -> Ws {
    let tcp = TcpStream::connect(srv.local_addr()).await.unwrap();
    let (ws, _) = timeout(LIMIT, tokio_tungstenite::client_async(srv.url(), tcp))
        .await
        .unwrap()
        .unwrap();
    ws
}

async fn request(ws: &mut Ws, text: &str) -> String {
    ws.send(WsMessage::text(text)).await.unwrap();
    loop {
        match timeout(LIMIT, ws.next()).await.unwrap() {
            Some(Ok(WsMessage::Text(t))) => return t.to_string(),
            Some(Ok(_)) => {}
            other => panic!("no reply: {other:?}"),
        }
    }
}

async fn login(ws: &mut Ws, user: &str, password: &str) -> String {
    request(
        ws,
        &format!(
            r#"{{"args":{{"password":"{password}","username":"{user}"}},"id":"a","name":"auth","namespace":"rpc"}}"#
        ),
    )
    .await
}

/// Today's server left a subscriber that stopped reading in `flush` forever: now its queue
/// overflows and its socket is dropped, long before any write deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_subscriber_is_closed_when_its_queue_overflows() {
    let config = ServerConfig {
        queue_capacity: 8,
        // Far beyond the test's own limit: only the overflow can close it in time.
        write_timeout: Duration::from_secs(3600),
        ..Default::default()
    };
    let srv = server(ServerTls::Plain, config).await;
    let mut ws = raw_client(&srv).await;
    assert!(
        login(&mut ws, "alice", "right")
            .await
            .contains("\"response\"")
    );
    let reply = request(
        &mut ws,
        r#"{"args":"dispatcher","id":"s","name":"subscribe","namespace":"events"}"#,
    )
    .await;
    assert!(reply.contains("subscribe"), "{reply}");
    // The client now reads nothing more.
    let deadline = tokio::time::Instant::now() + LIMIT;
    let mut n = 0;
    while srv.connections() > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stalled subscriber is still connected after {n} events"
        );
        srv.publish(&big_finished_job(n)).unwrap();
        n += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert!(srv.max_queued() <= 8);
    drop(ws);
    srv.shutdown();
}

/// SysAdm's guard (§4 of the spec), here with loopback not exempt so that it can be tried on
/// 127.0.0.1: after 3 failures the next connection is closed before any handshake.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_failed_logins_block_the_address() {
    let config = ServerConfig {
        login_guard: LoginGuard {
            max_failures: 3,
            exempt_loopback: false,
            ..Default::default()
        },
        ..Default::default()
    };
    let srv = server(ServerTls::Plain, config).await;
    for _ in 0..3 {
        let mut ws = raw_client(&srv).await;
        let reply = login(&mut ws, "alice", "wrong").await;
        assert!(reply.contains("\"401\""), "{reply}");
    }
    let mut tcp = TcpStream::connect(srv.local_addr()).await.unwrap();
    let _ = tcp
        .write_all(
            b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        )
        .await;
    let mut buf = Vec::new();
    let read = timeout(LIMIT, tcp.read_to_end(&mut buf)).await.unwrap();
    assert!(
        read.is_err() || buf.is_empty(),
        "a blocked address got an answer: {:?}",
        String::from_utf8_lossy(&buf)
    );
    srv.shutdown();
}

/// Loopback is exempt by default: six failures, and the seventh connection still works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_is_exempt_from_the_guard_by_default() {
    let srv = server(ServerTls::Plain, ServerConfig::default()).await;
    for _ in 0..6 {
        let mut ws = raw_client(&srv).await;
        assert!(login(&mut ws, "alice", "wrong").await.contains("\"401\""));
    }
    let mut ws = raw_client(&srv).await;
    assert!(
        login(&mut ws, "alice", "right")
            .await
            .contains("\"response\"")
    );
    srv.shutdown();
}

/// A frame over the size limit is answered with close code 1009 (today: a bare drop).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_oversized_frame_gets_close_code_1009() {
    let config = ServerConfig {
        limits: monwire_sysadm::codec::Limits::default().with_max_message_len(4096),
        ..Default::default()
    };
    let srv = server(ServerTls::Plain, config).await;
    let mut ws = raw_client(&srv).await;
    ws.send(WsMessage::text("x".repeat(10_000))).await.unwrap();
    let frame = loop {
        match timeout(LIMIT, ws.next()).await.unwrap() {
            Some(Ok(WsMessage::Close(f))) => break f,
            Some(Ok(_)) => {}
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(frame.map(|f| f.code), Some(CloseCode::Size));
    srv.shutdown();
}

async fn log_in_with(srv: &ServerHandle, user: &str, password: &str) -> Result<(), Error> {
    let mut opts = ClientOptions::new(&srv.url()).unwrap();
    opts.config = ClientConfig {
        credentials: Some((user.into(), password.into())),
        subscriptions: vec!["system-state".into()],
        ..Default::default()
    };
    let mut c = spawn_client(opts).unwrap();
    loop {
        match timeout(LIMIT, c.next()).await.unwrap() {
            Some(monwire_sysadm::session::ClientEvent::Session(e)) if e.name == "authenticated" => {
                c.close();
                return timeout(LIMIT, c.join()).await.unwrap();
            }
            Some(_) => {}
            None => return timeout(LIMIT, c.join()).await.unwrap(),
        }
    }
}

/// What the reference Qt client does after a reconnect: `auth` with an empty password for a
/// localhost user. Accepted from loopback for a user who logged in with a password within the
/// token lifetime; refused for anyone else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loopback_relogin_with_an_empty_password() {
    let srv = server(ServerTls::Plain, ServerConfig::default()).await;
    // Nobody has logged in yet: an empty password is refused.
    assert!(log_in_with(&srv, "alice", "").await.is_err());
    log_in_with(&srv, "alice", "right").await.unwrap();
    log_in_with(&srv, "alice", "").await.unwrap();
    // Only for that user.
    assert!(log_in_with(&srv, "bob", "").await.is_err());
    srv.shutdown();
    // Off when configured so.
    let srv = server(
        ServerTls::Plain,
        ServerConfig {
            loopback_relogin: false,
            ..Default::default()
        },
    )
    .await;
    log_in_with(&srv, "alice", "right").await.unwrap();
    assert!(log_in_with(&srv, "alice", "").await.is_err());
    srv.shutdown();
}
