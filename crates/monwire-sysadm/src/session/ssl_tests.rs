//! The certificate login (`auth_ssl`) between the sans-IO client and server, with the clock
//! injected: the wire shapes, the 30 s challenge, unknown and runtime-registered keys, the
//! reconnect, and the failed-login guard.
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{
    AllowAll, AuthorizedKey, Client, ClientConfig, ClientEvent, ClientTransmit, ConnId, Outgoing,
    Server, ServerConfig,
};
use crate::error::ClientFailure;
use crate::ssl::{PublicKey, SigningKey};

fn keys() -> &'static [SigningKey; 2] {
    static KEYS: OnceLock<[SigningKey; 2]> = OnceLock::new();
    KEYS.get_or_init(|| {
        [
            SigningKey::generate(1024).unwrap(),
            SigningKey::generate(1024).unwrap(),
        ]
    })
}

fn key_client(key: &SigningKey) -> Client {
    let config = ClientConfig {
        signing_key: Some(key.clone()),
        subscriptions: vec!["system-state".into()],
        ..Default::default()
    };
    Client::new(config, "wss://test:12150")
}

fn key_server(user: &str, key: &PublicKey) -> Server {
    let config = ServerConfig {
        authorized_keys: vec![AuthorizedKey::new(user, key.clone())],
        ..Default::default()
    };
    Server::new(config, AllowAll)
}

/// Moves frames both ways until neither side has anything to send; returns every frame as
/// JSON, each with the direction (`true`: client → server).
fn pump(
    now: Instant,
    client: &mut Client,
    server: &mut Server,
    conn: ConnId,
) -> Vec<(bool, Value)> {
    let mut wire = Vec::new();
    for _ in 0..20 {
        let mut moved = false;
        while let Some(t) = client.poll_transmit() {
            if let ClientTransmit::Text(t) = t {
                wire.push((true, serde_json::from_str(&t).unwrap()));
                server.handle_text(now, conn, t.as_bytes());
                moved = true;
            }
        }
        while let Some(out) = server.poll_transmit(conn) {
            if let Outgoing::Text(t) = out {
                wire.push((false, serde_json::from_str(&t).unwrap()));
                client.handle_text(now, t.as_bytes());
                moved = true;
            }
        }
        if !moved {
            break;
        }
    }
    wire
}

fn connect(
    now: Instant,
    client: &mut Client,
    server: &mut Server,
    peer: &str,
) -> (ConnId, Vec<(bool, Value)>) {
    let conn = server.accept(now, peer);
    client.handle_connected(now);
    let wire = pump(now, client, server, conn);
    (conn, wire)
}

/// One request to the server on `conn`; its reply.
fn ask(now: Instant, server: &mut Server, conn: ConnId, request: Value) -> Value {
    server.handle_text(now, conn, request.to_string().as_bytes());
    match server.poll_transmit(conn) {
        Some(Outgoing::Text(t)) => serde_json::from_str(&t).unwrap(),
        other => panic!("no reply to {request}: {other:?}"),
    }
}

fn unauthorized(id: &str) -> Value {
    json!({"args":{"code":"401","message":"Unauthorized"},"id":id,"name":"error","namespace":"error"})
}

#[test]
fn key_login_has_the_real_wire_shapes() {
    let now = Instant::now();
    let [key, _] = keys();
    let mut server = key_server("alice", &key.public_key());
    let mut client = key_client(key);
    let (_, wire) = connect(now, &mut client, &mut server, "127.0.0.1:5000");
    assert!(client.is_ready(), "{wire:#?}");
    let auth: Vec<&Value> = wire
        .iter()
        .map(|(_, v)| v)
        .filter(|v| v["name"] == "auth_ssl" || v["id"].as_str().unwrap_or("").contains("auth"))
        .collect();
    assert_eq!(auth.len(), 4, "{auth:#?}");
    // Stage 1: args "" (as the reference client sends it).
    assert_eq!(auth[0]["args"], json!(""));
    assert_eq!(auth[0]["namespace"], "rpc");
    // The challenge: {"test_string": 20 characters A-Za-z0-9}, a response to that id.
    let test_string = auth[1]["args"]["test_string"].as_str().unwrap();
    assert_eq!(auth[1]["args"].as_object().unwrap().len(), 1);
    assert_eq!(
        (auth[1]["name"].as_str(), auth[1]["id"].as_str()),
        (Some("response"), auth[0]["id"].as_str())
    );
    assert_eq!(test_string.len(), 20);
    assert!(test_string.bytes().all(|b| b.is_ascii_alphanumeric()));
    // Stage 2: {"encrypted_string": base64 of the signature over the bare test string}.
    assert_eq!(auth[2]["name"], "auth_ssl");
    let sig = auth[2]["args"]["encrypted_string"].as_str().unwrap();
    assert!(key.public_key().verify_challenge(test_string, sig));
    // The token: ["<20 characters>", 0], named response in namespace rpc.
    let token = &auth[3];
    assert_eq!(
        (token["name"].as_str(), token["namespace"].as_str()),
        (Some("response"), Some("rpc"))
    );
    let grant = token["args"].as_array().unwrap();
    assert_eq!(grant.len(), 2);
    assert_eq!(grant[1], json!(0));
    let t = grant[0].as_str().unwrap();
    assert!(
        t.len() == 20 && t.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{t}"
    );
    // The server says who logged in and how.
    let ev = std::iter::from_fn(|| server.poll_event())
        .find(|e| e.name == "authenticated")
        .unwrap();
    assert_eq!(
        ev.attr("sysadm.user").and_then(|v| v.as_str()),
        Some("alice")
    );
    assert_eq!(
        ev.attr("sysadm.method").and_then(|v| v.as_str()),
        Some("certificate")
    );
}

#[test]
fn a_key_the_server_does_not_hold_gets_the_401_and_ends_the_client() {
    let now = Instant::now();
    let [known, unknown] = keys();
    let mut server = key_server("alice", &known.public_key());
    let mut client = key_client(unknown);
    let (_, wire) = connect(now, &mut client, &mut server, "127.0.0.1:5000");
    let (_, last) = wire.last().unwrap();
    let id = last["id"].as_str().unwrap();
    assert_eq!(*last, unauthorized(id));
    assert!(client.is_closed());
    assert_eq!(
        client.failure(),
        Some(&ClientFailure::KeyRefused("401 Unauthorized".into()))
    );
}

#[test]
fn the_challenge_lives_30_seconds_and_only_once() {
    let t0 = Instant::now();
    let [key, _] = keys();
    let mut server = key_server("alice", &key.public_key());
    let stage1 = json!({"args":"","id":"a1","name":"auth_ssl","namespace":"rpc"});
    let stage2 = |sig: &str| json!({"args":{"encrypted_string":sig},"id":"a2","name":"auth_ssl","namespace":"rpc"});
    let challenge = |server: &mut Server, conn, at| {
        let r = ask(at, server, conn, stage1.clone());
        r["args"]["test_string"].as_str().unwrap().to_owned()
    };
    // Answered 29.999 s later: a token.
    let conn = server.accept(t0, "127.0.0.1:1");
    let ts = challenge(&mut server, conn, t0);
    let sig = key.sign_challenge(&ts).unwrap();
    let ok = ask(
        t0 + Duration::from_millis(29_999),
        &mut server,
        conn,
        stage2(&sig),
    );
    assert!(ok["args"].is_array(), "{ok}");
    // The same answer again: the test string is used up.
    assert_eq!(
        ask(t0 + Duration::from_secs(1), &mut server, conn, stage2(&sig)),
        unauthorized("a2")
    );
    // Answered 30 s later: expired.
    let conn = server.accept(t0, "127.0.0.1:2");
    let ts = challenge(&mut server, conn, t0);
    let sig = key.sign_challenge(&ts).unwrap();
    assert_eq!(
        ask(
            t0 + Duration::from_secs(30),
            &mut server,
            conn,
            stage2(&sig)
        ),
        unauthorized("a2")
    );
    // A test string issued on another connection does not count on this one.
    let (a, b) = (
        server.accept(t0, "127.0.0.1:3"),
        server.accept(t0, "127.0.0.1:4"),
    );
    let ts = challenge(&mut server, a, t0);
    let _ = challenge(&mut server, b, t0);
    let sig = key.sign_challenge(&ts).unwrap();
    assert_eq!(ask(t0, &mut server, b, stage2(&sig)), unauthorized("a2"));
    // Stage 2 with no stage 1 at all.
    let c = server.accept(t0, "127.0.0.1:5");
    assert_eq!(ask(t0, &mut server, c, stage2(&sig)), unauthorized("a2"));
}

#[test]
fn a_key_registered_at_run_time_logs_in_as_its_user_until_revoked() {
    let now = Instant::now();
    let [key, _] = keys();
    let mut server = Server::new(ServerConfig::default(), AllowAll);
    // Alice logs in with her password and registers her key, as the reference client does.
    let mut alice = Client::new(
        ClientConfig {
            credentials: Some(("alice".into(), "pw".into())),
            signing_key: Some(key.clone()),
            subscriptions: vec![],
            ..Default::default()
        },
        "wss://test:12150",
    );
    let (conn, _) = connect(now, &mut alice, &mut server, "127.0.0.1:5000");
    assert!(alice.is_ready());
    // Before the registration the key does not log in.
    let mut early = key_client(key);
    let _ = connect(now, &mut early, &mut server, "127.0.0.1:5001");
    assert!(early.is_closed());
    assert!(alice.register_key(now, "laptop", "alice@example.org"));
    let wire = pump(now, &mut alice, &mut server, conn);
    let (_, request) = &wire[0];
    assert_eq!(request["name"], "settings");
    assert_eq!(request["args"]["action"], "register_ssl_cert");
    assert_eq!(request["args"]["nickname"], "laptop");
    assert_eq!(
        PublicKey::from_registration(request["args"]["pub_key"].as_str().unwrap()).unwrap(),
        key.public_key()
    );
    let (_, reply) = &wire[1];
    assert_eq!(
        (reply["args"].clone(), reply["name"].as_str()),
        (json!({}), Some("response"))
    );
    let reported = std::iter::from_fn(|| alice.poll_event()).any(|e| {
        matches!(&e, ClientEvent::Session(s) if s.name == "key_registered" && s.kind == monwire_event::Kind::Updated)
    });
    assert!(reported);
    // Now the key alone logs in, as alice.
    let mut later = key_client(key);
    let _ = connect(now, &mut later, &mut server, "127.0.0.1:5002");
    assert!(later.is_ready());
    let who = std::iter::from_fn(|| server.poll_event())
        .filter(|e| e.name == "authenticated")
        .last()
        .unwrap();
    assert_eq!(
        who.attr("sysadm.user").and_then(|v| v.as_str()),
        Some("alice")
    );
    // list_ssl_certs shows it under alice; revoke_ssl_cert removes it.
    let list = ask(
        now,
        &mut server,
        conn,
        json!({"args":{"action":"list_ssl_certs"},"id":"l","name":"settings","namespace":"rpc"}),
    );
    let reg = key.public_key().registration();
    assert_eq!(
        list["args"]["alice"][&reg],
        "Nickname: laptop\nEmail: alice@example.org"
    );
    let revoke = json!({"args":{"action":"revoke_ssl_cert","pub_key":reg},"id":"r","name":"settings","namespace":"rpc"});
    assert_eq!(
        ask(now, &mut server, conn, revoke.clone())["args"],
        json!({})
    );
    assert_eq!(ask(now, &mut server, conn, revoke)["args"]["code"], "400");
    let mut revoked = key_client(key);
    let _ = connect(now, &mut revoked, &mut server, "127.0.0.1:5003");
    assert!(revoked.is_closed());
    // A registration that is not base64 of a PEM public key is a 400; without a login, a 401.
    let bad = json!({"args":{"action":"register_ssl_cert","pub_key":"bm9wZQ=="},"id":"b","name":"settings","namespace":"rpc"});
    assert_eq!(
        ask(now, &mut server, conn, bad.clone())["args"]["code"],
        "400"
    );
    let stranger = server.accept(now, "127.0.0.1:6000");
    assert_eq!(ask(now, &mut server, stranger, bad), unauthorized("b"));
}

#[test]
fn after_a_reconnect_with_no_password_it_logs_in_with_the_key_again() {
    let t0 = Instant::now();
    let [key, _] = keys();
    let mut server = key_server("alice", &key.public_key());
    let mut client = key_client(key);
    let _ = connect(t0, &mut client, &mut server, "127.0.0.1:5000");
    assert!(client.is_ready());
    // The server restarts (its tokens are gone); the client reconnects after its back-off.
    client.handle_disconnected(t0);
    let mut server = key_server("alice", &key.public_key());
    let t1 = client.poll_timeout().unwrap();
    assert!(client.wants_connect(t1));
    let (_, wire) = connect(t1, &mut client, &mut server, "127.0.0.1:5001");
    assert!(client.is_ready(), "{wire:#?}");
    let sent: Vec<&str> = wire
        .iter()
        .filter(|(up, _)| *up)
        .map(|(_, v)| v["name"].as_str().unwrap())
        .collect();
    // The held token first (refused by the new server), then the key.
    assert_eq!(
        sent,
        [
            "identify",
            "auth_token",
            "auth_ssl",
            "auth_ssl",
            "subscribe"
        ]
    );
}

#[test]
fn failed_key_logins_count_for_the_login_guard() {
    let now = Instant::now();
    let [known, unknown] = keys();
    let mut server = key_server("alice", &known.public_key());
    let ip = "192.0.2.7".parse().unwrap();
    for i in 0..5 {
        assert!(!server.is_blocked(now, ip), "blocked after {i}");
        let mut client = key_client(unknown);
        let _ = connect(
            now,
            &mut client,
            &mut server,
            &format!("192.0.2.7:{}", 4000 + i),
        );
        assert!(client.is_closed());
    }
    assert!(server.is_blocked(now, ip));
}

#[test]
fn debug_output_shows_no_key() {
    let [key, _] = keys();
    let client = key_client(key);
    let text = format!("{client:?}");
    assert!(text.contains("signing_key: Some(\"<redacted>\")"), "{text}");
    let server = key_server("alice", &key.public_key());
    assert!(!format!("{:?}", server.config()).contains(&key.public_key().registration()));
}
