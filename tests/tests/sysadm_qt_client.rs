#![cfg(feature = "sysadm")]
//! The real SysAdm reference client on the wire: `trueos/sysadm-ui-qt`'s client core, built
//! unpatched with Qt 5.15 and driven by a console harness, captured with tcpdump against
//! `monwire serve sysadm` (how: `tests/vectors/sysadm/qt-client/README.md`).
//!
//! What these tests prove, per capture:
//! - every frame the real client sent decodes to exactly the typed request we expect, and our
//!   own constructors (`Message::identify`, `auth`, `subscribe`, `query`) encode it byte for
//!   byte as the client does (Qt's compact, sorted-key JSON);
//! - every frame the real client received decodes to a typed reply, error or event and
//!   re-encodes byte for byte, and the client's own signals show it accepted each of them
//!   (authorized on each token, one `NewEvent` per event frame with the same `args`);
//! - our sans-IO server session, fed the client's frames in capture order (and the events the
//!   CLI published, when they were published), answers frame for frame what the real client
//!   received, cached state before the subscribe reply included (tokens aside, which are random).
//! - the empty-password re-login of a `127.0.0.1` user: accepted after a cut and after a
//!   restart with `--login-state` (the client resubscribes and keeps its keepalive), refused
//!   after a restart without it (the client closes and never comes back); the `auth_ssl`
//!   re-login of any other host (refused); and logout (its `auth_clear` never reaches the wire).
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use monwire_sysadm::codec::{Limits, decode, encode};
use monwire_sysadm::message::{
    AuthSsl, Body, EventBody, Message, PeerType, Reply, Request, Targets,
};
use monwire_sysadm::session::{Outgoing, Server, ServerConfig, StaticUser};
use monwire_tests::vectors;

/// The throwaway password the captures were made with (`run.sh`).
const PASSWORD: &str = "qt-harness-secret";
const USER: &str = "alice";
/// What the Qt client's `closeConnection()` puts in its close frame.
const CLOSE_REASON: &str = "sysadm-client closed";
/// What `serve sysadm` puts in its close frame when SIGTERM stops it; the client echoes it.
const GOODBYE: &str = "server shutting down";

#[derive(Clone, Debug, PartialEq)]
enum Kind {
    Text(String),
    Close(u16, String),
}

#[derive(Clone, Debug)]
struct Frame {
    /// Seconds since the first SYN of the capture.
    t: f64,
    /// Connection number in the capture, from 1.
    conn: u32,
    from_client: bool,
    kind: Kind,
}

fn file(capture: &str, name: &str) -> String {
    String::from_utf8(vectors::read(
        "sysadm",
        &format!("qt-client/{capture}/{name}"),
    ))
    .unwrap()
}

/// Parses `transcript.txt` strictly, and checks `client.jsonl`/`server.jsonl` hold the same
/// text frames in the same order.
fn transcript(capture: &str) -> Vec<Frame> {
    let text = file(capture, "transcript.txt");
    let mut frames = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut it = line.splitn(5, ' ');
        let (t, conn, dir, kind, rest) = (
            it.next().unwrap(),
            it.next().unwrap(),
            it.next().unwrap(),
            it.next().unwrap(),
            it.next().unwrap_or(""),
        );
        let kind = match kind {
            "text" => Kind::Text(rest.to_owned()),
            "close" => {
                let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
                Kind::Close(code.parse().unwrap(), reason.to_owned())
            }
            other => panic!("{capture} line {}: frame kind {other}", n + 1),
        };
        frames.push(Frame {
            t: t.parse().unwrap(),
            conn: conn.parse().unwrap(),
            from_client: match dir {
                ">" => true,
                "<" => false,
                d => panic!("{capture} line {}: direction {d}", n + 1),
            },
            kind,
        });
    }
    assert!(!frames.is_empty(), "{capture}: empty transcript");
    for (name, from_client) in [("client.jsonl", true), ("server.jsonl", false)] {
        let texts: Vec<&str> = frames
            .iter()
            .filter(|f| f.from_client == from_client)
            .filter_map(|f| match &f.kind {
                Kind::Text(t) => Some(t.as_str()),
                Kind::Close(..) => None,
            })
            .collect();
        assert_eq!(
            file(capture, name).lines().collect::<Vec<_>>(),
            texts,
            "{capture}/{name} disagrees with transcript.txt"
        );
    }
    frames
}

fn text_frames(frames: &[Frame], from_client: bool) -> Vec<(u32, &str)> {
    frames
        .iter()
        .filter(|f| f.from_client == from_client)
        .filter_map(|f| match &f.kind {
            Kind::Text(t) => Some((f.conn, t.as_str())),
            Kind::Close(..) => None,
        })
        .collect()
}

/// The client's close frames, leaving out its echo of the server's goodbye: the client answers
/// a close frame with the same code and reason, but whether the echo reaches the wire before
/// the stopping server drops the TCP connection is a race (captured in some runs, not others).
fn client_closes(frames: &[Frame]) -> Vec<(u32, u16, &str)> {
    let mut out = closes(frames, true);
    let server = closes(frames, false);
    if let Some(i) = out.iter().position(|c| server.contains(c)) {
        out.remove(i);
    }
    out
}

fn closes(frames: &[Frame], from_client: bool) -> Vec<(u32, u16, &str)> {
    frames
        .iter()
        .filter(|f| f.from_client == from_client)
        .filter_map(|f| match &f.kind {
            Kind::Close(code, reason) => Some((f.conn, *code, reason.as_str())),
            Kind::Text(_) => None,
        })
        .collect()
}

fn dec(text: &str) -> Message {
    decode(text.as_bytes(), &Limits::default()).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn enc(m: &Message) -> String {
    String::from_utf8(encode(m, &Limits::default()).unwrap()).unwrap()
}

// The ids the Qt client uses (sysadm-client.cpp).
const IDENTIFY: &str = "sysadm_client_identify";
const AUTH: &str = "sysadm-client-auth-auto";
const EVENTS: &str = "sysadm-client-event-auto";
const PING: &str = "sysadm_client_ping";

fn identify() -> Message {
    Message::identify(IDENTIFY)
}
fn auth(password: &str) -> Message {
    Message::auth(AUTH, USER, password)
}
fn subscribe(name: &str) -> Message {
    Message::subscribe(EVENTS, Targets::One(name.to_owned()))
}
fn query() -> Message {
    Message::query(PING)
}
/// A login: identify, auth, then one subscribe per event type in the client's order
/// (`system-state` is pre-registered, then the two the harness registered).
fn login(password: &str) -> Vec<Message> {
    vec![
        identify(),
        auth(password),
        subscribe("system-state"),
        subscribe("dispatcher"),
        subscribe("life-preserver"),
    ]
}

/// Checks the client's text frames against `expected` (connection, message): decoding gives
/// the typed message, and both the decoded and our constructed message encode to the client's
/// exact bytes.
fn check_client_frames(capture: &str, frames: &[Frame], expected: &[(u32, Message)]) {
    let got = text_frames(frames, true);
    assert_eq!(
        got.len(),
        expected.len(),
        "{capture}: the client sent {} text frames: {got:#?}",
        got.len()
    );
    for ((conn, text), (want_conn, want)) in got.iter().zip(expected) {
        assert_eq!(conn, want_conn, "{capture}: {text} on the wrong connection");
        let m = dec(text);
        assert_eq!(&m, want, "{capture}: {text} decodes to another request");
        assert_eq!(enc(&m), *text, "{capture}: decode/encode changed the bytes");
        assert_eq!(
            enc(want),
            *text,
            "{capture}: our constructor encodes differently"
        );
    }
}

#[test]
fn restart_the_real_clients_requests_are_the_typed_requests_we_build() {
    let frames = transcript("restart-refused");
    let mut expected: Vec<(u32, Message)> = login(PASSWORD).into_iter().map(|m| (1, m)).collect();
    // Its keepalive, 90 s after its last send: identify, then query.
    expected.push((1, identify()));
    expected.push((1, query()));
    // After the server restart it reconnects (60 s later) and logs in with an empty password.
    expected.push((2, identify()));
    expected.push((2, auth("")));
    check_client_frames("restart-refused", &frames, &expected);
    let Body::Request(Request::Auth(c)) = &expected[expected.len() - 1].1.body else {
        panic!()
    };
    assert_eq!((c.username.as_str(), c.password.as_str()), (USER, ""));
}

#[test]
fn restart_the_real_client_keeps_its_timing() {
    let frames = transcript("restart-refused");
    let client = |conn: u32, name: &str| {
        frames
            .iter()
            .find(|f| {
                f.from_client
                    && f.conn == conn
                    && matches!(&f.kind, Kind::Text(t) if dec(t).name == name)
            })
            .unwrap_or_else(|| panic!("no {name} on connection {conn}"))
            .t
    };
    // Keepalive: 90 s after the last frame it sent (the last subscribe), identify then query.
    let last_sub = frames
        .iter()
        .rfind(|f| f.from_client && f.conn == 1 && f.t < 10.0)
        .unwrap()
        .t;
    let query_at = client(1, "query");
    assert!(
        (last_sub + 89.0..last_sub + 95.0).contains(&query_at),
        "query at {query_at}, last send at {last_sub}"
    );
    // Reconnect: 60 s after the connection was lost (the last frame of connection 1).
    let lost = frames.iter().rfind(|f| f.conn == 1).unwrap().t;
    let back = frames.iter().find(|f| f.conn == 2).unwrap().t;
    assert!(
        back >= lost + 60.0,
        "reconnected at {back}, lost after {lost}"
    );
    // Text messages go out at least 20 ms apart (its send queue; a close bypasses it).
    let sends: Vec<f64> = frames
        .iter()
        .filter(|f| f.from_client && matches!(f.kind, Kind::Text(_)))
        .map(|f| f.t)
        .collect();
    assert!(sends.windows(2).all(|w| w[1] - w[0] >= 0.015), "{sends:?}");
}

#[test]
fn restart_a_refused_relogin_ends_the_real_client_for_good() {
    let frames = transcript("restart-refused");
    let replies = text_frames(&frames, false);
    let (conn, last) = replies[replies.len() - 1];
    assert_eq!(conn, 2);
    let m = dec(last);
    assert!(
        matches!(&m.body, Body::Error(e) if e.code() == Some(401)),
        "{last}"
    );
    assert_eq!(m.id, AUTH);
    // The stopped server said goodbye (1001); the client's answer to the 401 is a normal close
    // at once, and there is no connection 3 ever.
    assert_eq!(closes(&frames, false), [(1, 1001, GOODBYE)]);
    assert_eq!(client_closes(&frames), [(2, 1000, CLOSE_REASON)]);
    assert_eq!(frames.iter().map(|f| f.conn).max(), Some(2));
    let signals = file("restart-refused", "client-signals.txt");
    // Its signals (it emits some from a thread pool, so their order may vary): connected twice,
    // authorized once, then unauthorized after the 401.
    let mut tail: Vec<&str> = signals
        .lines()
        .filter_map(|l| l.split_once(" signal ").map(|(_, s)| s))
        .filter(|s| !s.starts_with("NewEvent") && !s.starts_with("newReply"))
        .collect();
    tail.sort_unstable();
    assert_eq!(
        tail,
        [
            "clientAuthorized",
            "clientConnected",
            "clientConnected",
            "clientDisconnected",
            "clientDisconnected",
            "clientUnauthorized",
            "statePriorityChanged 0",
        ]
    );
}

#[test]
fn logout_the_real_client_never_gets_its_auth_clear_out() {
    let frames = transcript("logout");
    let expected: Vec<(u32, Message)> = login(PASSWORD).into_iter().map(|m| (1, m)).collect();
    // closeConnection() queues auth_clear behind its 20 ms send timer and closes the socket at
    // once, so the request is dropped: the token stays valid on the server until it lapses.
    check_client_frames("logout", &frames, &expected);
    assert_eq!(closes(&frames, true), [(1, 1000, CLOSE_REASON)]);
    assert!(
        !file("logout", "client.jsonl").contains("auth_clear"),
        "auth_clear reached the wire"
    );
}

#[test]
fn remote_the_real_client_relogs_in_with_a_certificate_challenge() {
    // Host 127.0.0.2: not the literal 127.0.0.1, so the client forgets the user name after the
    // first login and comes back with `auth_ssl` stage 1, though it holds no certificate.
    let frames = transcript("remote-restart");
    let mut expected: Vec<(u32, Message)> = login(PASSWORD).into_iter().map(|m| (1, m)).collect();
    expected.push((2, identify()));
    expected.push((
        2,
        Message::request(
            "rpc",
            "auth_ssl",
            AUTH,
            Request::AuthSsl(AuthSsl::Challenge),
        ),
    ));
    check_client_frames("remote-restart", &frames, &expected);
    // Our server does not offer the challenge (401), and the client gives up for good.
    let replies = text_frames(&frames, false);
    let m = dec(replies[replies.len() - 1].1);
    assert!(matches!(&m.body, Body::Error(e) if e.code() == Some(401)));
    assert_eq!(closes(&frames, false), [(1, 1001, GOODBYE)]);
    assert_eq!(client_closes(&frames), [(2, 1000, CLOSE_REASON)]);
    assert_eq!(frames.iter().map(|f| f.conn).max(), Some(2));
}

/// The client's frames of a login that a restart or a cut interrupted and that the server let
/// back in with the empty password: login, keepalive, the same again on connection 2, then
/// the harness's `closeConnection()` (a close frame only).
/// `restarted`: the server was stopped with SIGTERM (its goodbye, echoed by the client), else
/// the connection was cut (no close frame either way).
fn check_relogin_accepted(capture: &str, restarted: bool) {
    let frames = transcript(capture);
    let mut expected: Vec<(u32, Message)> = Vec::new();
    for (conn, password) in [(1, PASSWORD), (2, "")] {
        expected.extend(login(password).into_iter().map(|m| (conn, m)));
        expected.push((conn, identify()));
        expected.push((conn, query()));
    }
    check_client_frames(capture, &frames, &expected);
    // It was authorized again: a token for the empty password, and two clientAuthorized.
    let tokens: Vec<u32> = text_frames(&frames, false)
        .into_iter()
        .filter(|(_, t)| matches!(dec(t).body, Body::Reply(Reply::Token(_))))
        .map(|(c, _)| c)
        .collect();
    assert_eq!(tokens, [1, 2], "{capture}");
    let goodbye: &[(u32, u16, &str)] = if restarted {
        &[(1, 1001, GOODBYE)]
    } else {
        &[]
    };
    assert_eq!(closes(&frames, false), goodbye, "{capture}");
    assert_eq!(
        client_closes(&frames),
        [(2, 1000, CLOSE_REASON)],
        "{capture}"
    );
}

#[test]
fn restart_with_login_state_the_real_client_comes_back() {
    check_relogin_accepted("restart-accepted", true);
}

#[test]
fn cut_the_real_client_comes_back() {
    check_relogin_accepted("cut-accepted", false);
}

#[test]
fn relogin_our_server_session_lets_the_real_client_back_in_as_captured() {
    // A cut: the same server process remembers the password login of connection 1.
    replay("cut-accepted", &[&[1, 2]], false);
    // A restart with --login-state: the new process restored it.
    replay("restart-accepted", &[&[1], &[2]], true);
}

/// Checks what the client received, by itself: typed decoding, byte-for-byte re-encoding, and
/// the client's own signals accepting it.
fn check_received(capture: &str) {
    let frames = transcript(capture);
    let mut events = Vec::new();
    let mut tokens = 0;
    for (_, text) in text_frames(&frames, false) {
        let m = dec(text);
        assert_eq!(enc(&m), text, "{capture}: decode/encode changed the bytes");
        match &m.body {
            Body::Reply(Reply::Identify(p)) => {
                assert_eq!(p.peer_type, PeerType::Server);
                assert_eq!(m.id, IDENTIFY);
            }
            Body::Reply(Reply::Token(t)) => {
                assert_eq!(m.id, AUTH);
                assert_eq!(t.token.len(), 20);
                assert_eq!(t.lifetime.as_u64(), Some(0));
                tokens += 1;
            }
            Body::Reply(Reply::Subscription(Some((_, name)))) => {
                assert_eq!(m.id, EVENTS, "{text}");
                assert!(["system-state", "dispatcher", "life-preserver"].contains(&name.as_str()));
            }
            // The query reply: an `rpc` reply of no known shape, kept redacted.
            Body::Reply(Reply::RpcOther(apis)) => {
                assert_eq!(m.id, PING, "{text}");
                let apis = apis.expose().as_object().unwrap();
                assert!(apis.contains_key("rpc/query"), "{text}");
            }
            Body::Error(e) => assert_eq!(e.code(), Some(401), "{text}"),
            Body::Event(e) => {
                assert!(
                    !matches!(e, EventBody::Unknown { .. }),
                    "{capture}: untyped event {text}"
                );
                let args: serde_json::Value = serde_json::from_str(text).unwrap();
                events.push(args["args"].to_string());
            }
            _ => panic!("{capture}: unexpected frame {text}"),
        }
    }
    // The client's own view (its signals, printed by the harness): one clientAuthorized per
    // token, and one NewEvent per event frame with the same args. It dispatches frames on a
    // thread pool, so compare as sorted lists.
    let signals = file(capture, "client-signals.txt");
    let authorized = signals
        .lines()
        .filter(|l| l.ends_with(" signal clientAuthorized"))
        .count();
    assert_eq!(
        authorized, tokens,
        "{capture}: authorized {authorized} times"
    );
    let mut seen: Vec<String> = signals
        .lines()
        .filter_map(|l| l.split_once(" signal NewEvent type="))
        .map(|(_, rest)| rest.split_once(" args=").unwrap().1.to_owned())
        .map(|args| {
            serde_json::from_str::<serde_json::Value>(&args)
                .unwrap()
                .to_string()
        })
        .collect();
    seen.sort();
    events.sort();
    assert!(!events.is_empty());
    assert_eq!(seen, events, "{capture}: the client's NewEvent signals");
}

#[test]
fn the_real_client_accepted_every_frame_our_server_sent() {
    check_received("restart-refused");
    check_received("logout");
    check_received("remote-restart");
    check_received("restart-accepted");
    check_received("cut-accepted");
}

/// Replays a capture into our sans-IO server: `processes` lists, for each server process of
/// the capture, the connections it served, in order. With `login_state`, each new process
/// remembers the password logins of the ones before (what `serve sysadm --login-state` does).
/// Panics on the first frame our session would have sent differently.
fn replay(capture: &str, processes: &[&[u32]], login_state: bool) {
    let frames = transcript(capture);
    let start = Instant::now();
    let at = |t: f64| start + Duration::from_secs_f64(t);
    let hostname = text_frames(&frames, false)
        .iter()
        .find_map(|(_, t)| match dec(t).body {
            Body::Reply(Reply::Identify(p)) => Some(p.hostname),
            _ => None,
        })
        .unwrap();
    let mut password_logins: Vec<f64> = Vec::new();
    for conns in processes {
        let mut server = Server::new(
            ServerConfig {
                hostname: hostname.clone(),
                ..Default::default()
            },
            StaticUser {
                username: USER.into(),
                password: PASSWORD.into(),
            },
        );
        if login_state {
            for &t in &password_logins {
                server.remember_password_login(USER, at(t));
            }
        }
        let mine: Vec<&Frame> = frames.iter().filter(|f| conns.contains(&f.conn)).collect();
        for &conn in conns.iter() {
            let theirs: Vec<&Frame> = mine.iter().copied().filter(|f| f.conn == conn).collect();
            // The relay connected from loopback, as the client itself would.
            let id = server.accept(at(theirs[0].t), &format!("127.0.0.1:{}", 40000 + conn));
            // What our session sent, and how far the capture has matched it.
            let mut sent: Vec<String> = Vec::new();
            let mut matched = 0;
            let drain = |server: &mut Server, sent: &mut Vec<String>| {
                while let Some(o) = server.poll_transmit(id) {
                    match o {
                        Outgoing::Text(t) => sent.push(t.to_string()),
                        Outgoing::Close => sent.push("<close>".into()),
                    }
                }
            };
            for (i, f) in theirs.iter().enumerate() {
                match (&f.kind, f.from_client) {
                    (Kind::Text(t), true) => {
                        let m = dec(t);
                        // The feed publishes while nobody is subscribed too (before the first
                        // login, during a restart), so what the server had cached when this
                        // subscribe came is the event the capture shows next. Publish it now,
                        // to nobody: the session must replay it before its reply.
                        if let Body::Request(Request::Subscribe(Targets::One(name))) = &m.body
                            && (name == "system-state" || name == "life-preserver")
                            && let Some(Kind::Text(next)) = theirs[i + 1..]
                                .iter()
                                .find(|n| !n.from_client)
                                .map(|n| &n.kind)
                            && dec(next).name == *name
                        {
                            assert_eq!(server.publish(&dec(next)).unwrap(), 0);
                        }
                        server.handle_text(at(f.t), id, t.as_bytes());
                        drain(&mut server, &mut sent);
                        if let Body::Request(Request::Auth(c)) = &m.body
                            && c.password == PASSWORD
                        {
                            password_logins.push(f.t);
                        }
                    }
                    (Kind::Close(..), true) => server.handle_closed(id),
                    (Kind::Text(t), false) => {
                        if matched == sent.len() {
                            // Not an answer: an event the CLI published at this point.
                            let m = dec(t);
                            assert!(
                                matches!(m.body, Body::Event(_)),
                                "{capture} conn {conn}: our session did not send {t}"
                            );
                            assert_eq!(server.publish(&m).unwrap(), 1);
                            drain(&mut server, &mut sent);
                        }
                        assert_same(capture, conn, t, &sent[matched]);
                        matched += 1;
                    }
                    // The adapter's goodbye when the server process stops (SIGTERM): not
                    // the session's.
                    (Kind::Close(1001, _), false) => {}
                    (Kind::Close(..), false) => {
                        assert_eq!(sent.get(matched).map(String::as_str), Some("<close>"));
                        matched += 1;
                    }
                }
            }
            assert_eq!(
                &sent[matched..],
                &[] as &[String],
                "{capture} conn {conn}: our session would have sent more"
            );
            // Gone by now, with or without a close frame (a cut connection has none).
            server.handle_closed(id);
        }
    }
}

/// `ours` must equal the captured frame byte for byte, except that a token reply carries our
/// own random token.
fn assert_same(capture: &str, conn: u32, captured: &str, ours: &str) {
    if let Body::Reply(Reply::Token(theirs)) = dec(captured).body {
        let Body::Reply(Reply::Token(mine)) = dec(ours).body else {
            panic!("{capture} conn {conn}: captured {captured}, our session sent {ours}")
        };
        assert_eq!(mine.token.len(), 20);
        assert!(mine.token.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_eq!(ours.replace(&mine.token, &theirs.token), captured);
    } else {
        assert_eq!(ours, captured, "{capture} conn {conn}");
    }
}

#[test]
fn restart_our_server_session_answers_the_real_client_as_captured() {
    // Connection 2 went to a new server process, with no memory of connection 1 (no
    // --login-state): the 401 the real client gave up on.
    replay("restart-refused", &[&[1], &[2]], false);
}

#[test]
fn remote_our_server_session_answers_the_real_client_as_captured() {
    replay("remote-restart", &[&[1], &[2]], false);
}

#[test]
fn logout_our_server_session_answers_the_real_client_as_captured() {
    replay("logout", &[&[1]], false);
}

#[test]
fn the_source_derived_request_vectors_match_the_real_client() {
    let sent = file("restart-refused", "client.jsonl");
    let sent: Vec<&str> = sent.lines().collect();
    let golden = |name: &str| String::from_utf8(vectors::read("sysadm", name)).unwrap();
    for name in [
        "request-identify.json",
        "request-subscribe-string.json",
        "request-query-keepalive.json",
    ] {
        assert!(sent.contains(&golden(name).as_str()), "{name}");
    }
    let remote = file("remote-restart", "client.jsonl");
    assert!(
        remote
            .lines()
            .any(|l| l == golden("request-auth-ssl-stage1.json"))
    );
    // Same layout, other credentials.
    let auth = golden("request-auth-password.json")
        .replace("mypassword", PASSWORD)
        .replace("myuser", USER);
    assert!(sent.contains(&auth.as_str()));
}
