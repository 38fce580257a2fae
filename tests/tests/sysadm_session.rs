#![cfg(feature = "sysadm")]
//! The sans-IO client and server against each other in memory with a fake clock, and the
//! server's reply rules checked byte for byte against the golden replies.
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use monwire_event::Kind;
use monwire_sysadm::codec::{Limits, decode};
use monwire_sysadm::event::session;
use monwire_sysadm::message::{Body, EventBody, Message};
use monwire_sysadm::session::*;
use monwire_tests::vectors;

fn server() -> Server {
    Server::new(
        ServerConfig {
            hostname: "trueos-box".into(),
            ..Default::default()
        },
        StaticUser {
            username: "myuser".into(),
            password: "mypassword".into(),
        },
    )
}

fn drain(server: &mut Server, conn: ConnId) -> Vec<String> {
    std::iter::from_fn(|| server.poll_transmit(conn))
        .map(|o| match o {
            Outgoing::Text(t) => t.to_string(),
            Outgoing::Close => "<close>".to_owned(),
        })
        .collect()
}

fn send(server: &mut Server, now: Instant, conn: ConnId, text: &str) -> Vec<String> {
    server.handle_text(now, conn, text.as_bytes());
    drain(server, conn)
}

fn golden(name: &str) -> String {
    String::from_utf8(vectors::read("sysadm", name)).unwrap()
}

fn authed(server: &mut Server, now: Instant) -> (ConnId, String) {
    let c = server.accept(now, "test");
    let out = send(server, now, c, &golden("request-auth-password.json"));
    assert_eq!(out.len(), 1);
    let Body::Reply(monwire_sysadm::message::Reply::Token(t)) =
        decode(out[0].as_bytes(), &Limits::default()).unwrap().body
    else {
        panic!("{out:?}")
    };
    assert_eq!(t.token.len(), 20);
    assert!(t.token.bytes().all(|b| b.is_ascii_alphanumeric()));
    (c, t.token)
}

/// Our server's replies equal, byte for byte, the golden layouts rebuilt from reading the real
/// server's source (`tests/vectors/sysadm/README.md`; no real server was run to capture them).
#[test]
fn server_replies_match_the_layouts_rebuilt_from_the_server_source() {
    let now = Instant::now();
    let mut s = server();
    let c = s.accept(now, "test");
    // Identify needs no auth.
    assert_eq!(
        send(&mut s, now, c, &golden("request-identify.json")),
        [golden("reply-identify-server.json")]
    );
    // Events need auth.
    let sub = golden("request-subscribe.json");
    assert_eq!(
        send(&mut s, now, c, &sub),
        [golden("reply-error-unauthorized.json")]
    );
    // Not JSON at all: 400 with id "".
    assert_eq!(
        send(&mut s, now, c, "hello"),
        [golden("reply-error-bad-json.json")]
    );
    // Wrong password: 401 and an auth_failed event.
    let bad = golden("request-auth-password.json").replace("mypassword", "nope");
    let out = send(&mut s, now, c, &bad);
    assert_eq!(
        out,
        [golden("reply-error-unauthorized.json").replace("sampleID", "sysadm-client-auth-auto")]
    );
    let (c, _) = authed(&mut s, now);
    // The array form: reply holds the last valid name.
    assert_eq!(send(&mut s, now, c, &sub), [golden("reply-subscribe.json")]);
    // Unknown names only: {}.
    let unknown = r#"{"args":["nope","life_preserver"],"id":"sampleID","name":"subscribe","namespace":"events"}"#;
    assert_eq!(
        send(&mut s, now, c, unknown),
        [golden("reply-subscribe-unknown-only.json")]
    );
    // No id: the reply is named after the request.
    let noid = r#"{"args":"dispatcher","name":"subscribe","namespace":"events"}"#;
    assert_eq!(
        send(&mut s, now, c, noid),
        [golden("reply-subscribe-no-id.json")]
    );
    assert_eq!(
        send(&mut s, now, c, &golden("request-unsubscribe.json")),
        [golden("reply-unsubscribe.json")]
    );
    // Bad args or verb: 400.
    for bad in [
        r#"{"args":[],"id":"sampleID","name":"subscribe","namespace":"events"}"#,
        r#"{"args":{"a":1},"id":"sampleID","name":"subscribe","namespace":"events"}"#,
        r#"{"args":"dispatcher","id":"sampleID","name":"list","namespace":"events"}"#,
    ] {
        assert_eq!(
            send(&mut s, now, c, bad),
            [golden("reply-error-bad-request.json")],
            "{bad}"
        );
    }
    // Unknown API once authenticated: 404.
    let other = r#"{"args":"","id":"sampleID","name":"nothing","namespace":"sysadm"}"#;
    assert_eq!(
        send(&mut s, now, c, other),
        [golden("reply-error-not-found.json")]
    );
    // auth_clear: no reply at all, and the token is gone.
    assert!(send(&mut s, now, c, &golden("request-auth-clear.json")).is_empty());
    assert_eq!(
        send(&mut s, now, c, &sub),
        [golden("reply-error-unauthorized.json")]
    );
}

#[test]
fn cached_state_is_replayed_before_the_subscribe_reply() {
    let now = Instant::now();
    let mut s = server();
    let state = decode(
        &vectors::read("sysadm", "event-system-state.json"),
        &Limits::default(),
    )
    .unwrap();
    let lp = decode(
        &vectors::read("sysadm", "event-life-preserver-snapshot.json"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(s.publish(&state).unwrap(), 0);
    assert_eq!(s.publish(&lp).unwrap(), 0);
    let (c, _) = authed(&mut s, now);
    let out = send(&mut s, now, c, &golden("request-subscribe.json"));
    assert_eq!(
        out,
        [
            golden("event-life-preserver-snapshot.json"),
            golden("event-system-state.json"),
            golden("reply-subscribe.json")
        ]
    );
    // Subscribing again replays nothing (nothing newly subscribed).
    assert_eq!(
        send(&mut s, now, c, &golden("request-subscribe.json")),
        [golden("reply-subscribe.json")]
    );
    // Published events reach the subscriber, unsubscribed types do not.
    send(
        &mut s,
        now,
        c,
        r#"{"args":"dispatcher","id":"u","name":"unsubscribe","namespace":"events"}"#,
    );
    let job = decode(
        &vectors::read("sysadm", "event-dispatcher-running.json"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(s.publish(&job).unwrap(), 0);
    assert_eq!(s.publish(&state).unwrap(), 1);
    assert_eq!(drain(&mut s, c), [golden("event-system-state.json")]);
}

#[test]
fn tokens_slide_and_expire_and_deadlines_close() {
    let t0 = Instant::now();
    let mut s = server();
    let (_, token) = authed(&mut s, t0);
    let auth_token = golden("request-auth-token.json").replace("kT3vX9qLm2Zp7RbW4nYc", &token);
    // A new connection reuses the token at 800 s (renewing it), and again at 1600 s.
    for at in [800, 1600] {
        let now = t0 + Duration::from_secs(at);
        let c = s.accept(now, "again");
        let out = send(&mut s, now, c, &auth_token);
        assert!(
            out[0].starts_with(&format!("{{\"args\":[\"{token}\",0]")),
            "{out:?}"
        );
    }
    // 900 s after its last use it is refused.
    let now = t0 + Duration::from_secs(1600 + 900);
    let c = s.accept(now, "late");
    assert_eq!(
        send(&mut s, now, c, &auth_token),
        [golden("reply-error-unauthorized.json").replace("sampleID", "sysadm-client-auth-auto")]
    );
    // The unauthenticated connection is closed 30 s after connecting, not before.
    s.handle_timeout(now + Duration::from_secs(29));
    assert!(drain(&mut s, c).is_empty());
    assert_eq!(s.poll_timeout(), Some(now + Duration::from_secs(30)));
    s.handle_timeout(now + Duration::from_secs(30));
    assert_eq!(drain(&mut s, c), ["<close>"]);
    // An authenticated connection is closed after 30 min without receiving anything.
    let (a, _) = authed(&mut s, now);
    s.handle_timeout(now + Duration::from_secs(1799));
    assert!(drain(&mut s, a).is_empty());
    s.handle_timeout(now + Duration::from_secs(1800));
    assert_eq!(drain(&mut s, a), ["<close>"]);
}

#[test]
fn a_slow_subscriber_is_bounded_and_never_blocks_the_others() {
    let now = Instant::now();
    let mut s = Server::new(
        ServerConfig {
            queue_capacity: 8,
            ..Default::default()
        },
        AllowAll,
    );
    let (slow, _) = authed(&mut s, now);
    let (fast, _) = authed(&mut s, now);
    for c in [slow, fast] {
        send(&mut s, now, c, &golden("request-subscribe.json"));
    }
    while s.poll_event().is_some() {}
    // Incremental dispatcher updates are dropped first.
    let running = decode(
        &vectors::read("sysadm", "event-dispatcher-pkg-running-output.json"),
        &Limits::default(),
    )
    .unwrap();
    let state = decode(
        &vectors::read("sysadm", "event-system-state.json"),
        &Limits::default(),
    )
    .unwrap();
    let mut fast_got = 0;
    for _ in 0..8 {
        s.publish(&running).unwrap();
    }
    fast_got += drain(&mut s, fast).len();
    s.publish(&state).unwrap();
    fast_got += drain(&mut s, fast).len();
    assert_eq!(s.queued(slow), 8);
    let ev = s.poll_event().unwrap();
    assert_eq!(
        (ev.kind, ev.name.as_str()),
        (Kind::Failed, session::OVERFLOW)
    );
    assert_eq!(
        ev.attr("sysadm.action").and_then(|v| v.as_str()),
        Some("dropped_incremental")
    );
    // Fill the rest with non-droppable events: the slow subscriber is closed, never grows.
    for _ in 0..1000 {
        s.publish(&state).unwrap();
        assert!(s.queued(slow) <= 8);
        fast_got += drain(&mut s, fast).len();
    }
    assert_eq!(
        fast_got,
        8 + 1 + 1000,
        "the fast subscriber got every event"
    );
    assert_eq!(
        drain(&mut s, slow).last().map(String::as_str),
        Some("<close>")
    );
    let closed = std::iter::from_fn(|| s.poll_event())
        .find(|e| e.attr("sysadm.action").and_then(|v| v.as_str()) == Some("closed"));
    assert!(closed.is_some());
}

/// Moves frames between a client and a server connection until both are quiet.
fn pump(
    client: &mut Client,
    server: &mut Server,
    conn: ConnId,
    now: Instant,
    reverse_replies: bool,
) {
    loop {
        let mut moved = false;
        while let Some(t) = client.poll_transmit() {
            moved = true;
            if let ClientTransmit::Text(t) = t {
                server.handle_text(now, conn, t.as_bytes());
            }
        }
        let mut out: Vec<Outgoing> = std::iter::from_fn(|| server.poll_transmit(conn)).collect();
        if reverse_replies {
            out.reverse();
        }
        for o in out {
            moved = true;
            if let Outgoing::Text(t) = o {
                client.handle_text(now, t.as_bytes());
            }
        }
        if !moved {
            break;
        }
    }
}

fn client_events(client: &mut Client) -> Vec<ClientEvent> {
    std::iter::from_fn(|| client.poll_event()).collect()
}

fn names(events: &[ClientEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| match e {
            ClientEvent::Event(m) => format!("event:{}", m.name),
            ClientEvent::Session(s) => s.name.clone(),
        })
        .collect()
}

#[test]
fn client_session_against_server_session() {
    let t0 = Instant::now();
    let mut s = server();
    let state = decode(
        &vectors::read("sysadm", "event-system-state.json"),
        &Limits::default(),
    )
    .unwrap();
    s.publish(&state).unwrap();
    let config = ClientConfig {
        credentials: Some(("myuser".into(), "mypassword".into())),
        ..Default::default()
    };
    assert!(!format!("{config:?}").contains("mypassword"));
    let mut client = Client::new(config, "server");
    assert!(client.wants_connect(t0));
    let conn = s.accept(t0, "client");
    client.handle_connected(t0);
    // Replies delivered in reverse order are still matched by id.
    pump(&mut client, &mut s, conn, t0, true);
    let ev = client_events(&mut client);
    let n = names(&ev);
    assert_eq!(&n[..2], ["connected", "authenticated"]);
    assert_eq!(n.iter().filter(|n| *n == "subscribed").count(), 3, "{n:?}");
    assert!(n.contains(&"event:system-state".to_owned()));
    assert!(client.is_ready());
    let ClientEvent::Event(m) = ev
        .iter()
        .find(|e| matches!(e, ClientEvent::Event(_)))
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(m, &state);

    // Published events arrive typed.
    let lp = decode(
        &vectors::read("sysadm", "event-life-preserver-snapshot.json"),
        &Limits::default(),
    )
    .unwrap();
    s.publish(&lp).unwrap();
    pump(&mut client, &mut s, conn, t0, false);
    let ev = client_events(&mut client);
    assert!(matches!(
        ev.as_slice(),
        [ClientEvent::Event(Message {
            body: Body::Event(EventBody::LifePreserver(_)),
            ..
        })]
    ));

    // Keepalive after 90 s of silence: identify + query, both answered.
    let t1 = t0 + Duration::from_secs(90);
    assert_eq!(client.poll_timeout(), Some(t0 + Duration::from_secs(90)));
    client.handle_timeout(t1);
    let sent: Vec<_> = std::iter::from_fn(|| client.poll_transmit()).collect();
    assert_eq!(sent.len(), 2);
    assert!(matches!(&sent[1], ClientTransmit::Text(t) if t.contains("\"name\":\"query\"")));

    // Loss: reconnect with growing back-off, then token auth and a full resubscribe.
    s.handle_closed(conn);
    client.handle_disconnected(t1);
    let ev = names(&client_events(&mut client));
    assert_eq!(ev, ["disconnected", "reconnecting"]);
    assert!(!client.wants_connect(t1));
    assert!(client.wants_connect(t1 + Duration::from_secs(1)));
    client.handle_disconnected(t1 + Duration::from_secs(1)); // the connect attempt failed
    assert_eq!(client.poll_timeout(), Some(t1 + Duration::from_secs(3)));
    let t2 = t1 + Duration::from_secs(3);
    let conn = s.accept(t2, "client");
    client.handle_connected(t2);
    let first: Vec<_> = std::iter::from_fn(|| client.poll_transmit()).collect();
    for t in &first {
        if let ClientTransmit::Text(t) = t {
            s.handle_text(t2, conn, t.as_bytes());
        }
    }
    for o in std::iter::from_fn(|| s.poll_transmit(conn)).collect::<Vec<_>>() {
        if let Outgoing::Text(t) = o {
            client.handle_text(t2, t.as_bytes());
        }
    }
    let auth: Vec<_> = std::iter::from_fn(|| client.poll_transmit()).collect();
    assert!(
        matches!(&auth[0], ClientTransmit::Text(t) if t.contains("\"name\":\"auth_token\"")),
        "{auth:?}"
    );
    for t in &auth {
        if let ClientTransmit::Text(t) = t {
            s.handle_text(t2, conn, t.as_bytes());
        }
    }
    pump(&mut client, &mut s, conn, t2, false);
    let n = names(&client_events(&mut client));
    assert_eq!(n.iter().filter(|n| *n == "subscribed").count(), 3, "{n:?}");
    assert!(
        n.contains(&"event:system-state".to_owned()),
        "cached state replayed after the reconnect"
    );
    assert!(client.is_ready());
}

#[test]
fn client_gives_up_on_a_wrong_password() {
    let t0 = Instant::now();
    let mut s = server();
    let config = ClientConfig {
        credentials: Some(("myuser".into(), "wrong".into())),
        ..Default::default()
    };
    let mut client = Client::new(config, "server");
    let conn = s.accept(t0, "client");
    client.handle_connected(t0);
    pump(&mut client, &mut s, conn, t0, false);
    let ev = client_events(&mut client);
    assert_eq!(names(&ev), ["connected", "auth_failed"]);
    assert!(client.is_closed());
    assert!(!client.wants_connect(t0 + Duration::from_secs(3600)));
}

/// Before the first login a lost connection or a missing reply ends the client with a reason;
/// after it, a lost connection schedules a reconnect.
#[test]
fn the_client_stops_before_login_and_reconnects_after() {
    use monwire_sysadm::error::ClientFailure;
    use monwire_sysadm::session::{Client, ClientConfig, ClientTransmit};
    let t0 = std::time::Instant::now();
    let config = ClientConfig {
        credentials: Some(("u".into(), "p".into())),
        ..Default::default()
    };
    // Closed during identify.
    let mut c = Client::new(config.clone(), "x");
    c.handle_connected(t0);
    c.handle_disconnected(t0);
    assert!(c.is_closed());
    assert_eq!(c.failure(), Some(&ClientFailure::ClosedBeforeLogin));
    // No reply to identify within the deadline.
    let mut c = Client::new(config.clone(), "x");
    c.handle_connected(t0);
    let due = c.poll_timeout().expect("a reply deadline");
    assert_eq!(due, t0 + config.reply_timeout);
    c.handle_timeout(due);
    assert!(matches!(
        c.failure(),
        Some(ClientFailure::NoReply {
            what: "identify",
            ..
        })
    ));
    // Unreachable: retried with back-off, never a failure.
    let mut c = Client::new(config.clone(), "x");
    c.handle_connect_failed(t0, "refused");
    c.handle_connect_failed(t0, "refused");
    assert!(!c.is_closed() && c.failure().is_none());
    let delays: Vec<_> = std::iter::from_fn(|| c.poll_event())
        .filter_map(|e| match e {
            monwire_sysadm::session::ClientEvent::Session(e) => {
                e.attr("sysadm.delay_ms").and_then(|v| v.as_u64())
            }
            _ => None,
        })
        .collect();
    assert_eq!(delays, [1000, 2000]);
    // Logged in, then lost: reconnect.
    let mut c = Client::new(config, "x");
    c.handle_connected(t0);
    let reply = |id: &str, args: &str| {
        format!(r#"{{"args":{args},"id":"{id}","name":"response","namespace":"rpc"}}"#)
    };
    let ids: Vec<String> = std::iter::from_fn(|| c.poll_transmit())
        .filter_map(|t| match t {
            ClientTransmit::Text(t) => serde_json::from_str::<serde_json::Value>(&t)
                .ok()
                .and_then(|v| v["id"].as_str().map(str::to_owned)),
            ClientTransmit::Close => None,
        })
        .collect();
    c.handle_text(
        t0,
        reply(&ids[0], r#"{"hostname":"h","type":"server"}"#).as_bytes(),
    );
    let auth_id: String = std::iter::from_fn(|| c.poll_transmit())
        .find_map(|t| match t {
            ClientTransmit::Text(t) => serde_json::from_str::<serde_json::Value>(&t)
                .ok()
                .and_then(|v| v["id"].as_str().map(str::to_owned)),
            ClientTransmit::Close => None,
        })
        .unwrap();
    c.handle_text(t0, reply(&auth_id, r#"["tok",0]"#).as_bytes());
    assert!(c.is_ready() && c.has_logged_in());
    c.handle_disconnected(t0);
    assert!(!c.is_closed());
    assert_eq!(
        c.poll_timeout(),
        Some(t0 + std::time::Duration::from_secs(1))
    );
}
