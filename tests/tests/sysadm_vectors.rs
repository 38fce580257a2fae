#![cfg(feature = "sysadm")]
//! Every golden SysAdm message decodes to its documented typed value and re-encodes byte for
//! byte (compact, sorted keys). The vectors are layouts rebuilt from reading the server's,
//! bridge's and Qt client's source, with illustrative values (see their README), not captures
//! of a real server; captures of the real Qt client are under `qt-client/`.
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_sysadm::codec::{
    Limits, PayloadEncoding, decode, decode_routed, encode, encode_routed,
};
use monwire_sysadm::message::*;
use monwire_tests::vectors;
use serde_json::json;

fn msg(name: &str) -> Message {
    let bytes = vectors::read("sysadm", name);
    let m = decode(&bytes, &Limits::default()).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(
        String::from_utf8(encode(&m, &Limits::default()).unwrap()).unwrap(),
        String::from_utf8(bytes).unwrap(),
        "{name} does not re-encode byte for byte"
    );
    m
}

fn envelope(m: &Message, namespace: &str, name: &str, id: &str) {
    assert_eq!(
        (m.namespace.as_str(), m.name.as_str(), m.id.as_str()),
        (namespace, name, id)
    );
    assert!(m.extra.is_empty());
}

#[test]
fn every_json_vector_round_trips_byte_for_byte() {
    let files = vectors::files("sysadm", ".json");
    assert!(files.len() >= 46, "only {} vectors", files.len());
    for (name, _) in files {
        msg(&name);
    }
}

#[test]
fn requests() {
    let m = msg("request-identify.json");
    envelope(&m, "rpc", "identify", "sysadm_client_identify");
    assert_eq!(m.body, Body::Request(Request::Identify(json!(""))));
    assert_eq!(m, Message::identify("sysadm_client_identify"));

    let m = msg("request-auth-password.json");
    envelope(&m, "rpc", "auth", "sysadm-client-auth-auto");
    let Body::Request(Request::Auth(c)) = &m.body else {
        panic!("{m:?}")
    };
    assert_eq!(
        (c.username.as_str(), c.password.as_str()),
        ("myuser", "mypassword")
    );
    assert!(c.extra.is_empty());
    assert!(
        !format!("{m:?}").contains("mypassword"),
        "password leaks into Debug"
    );
    assert_eq!(
        m,
        Message::auth("sysadm-client-auth-auto", "myuser", "mypassword")
    );

    let m = msg("request-auth-token.json");
    assert_eq!(
        m,
        Message::auth_token("sysadm-client-auth-auto", "kT3vX9qLm2Zp7RbW4nYc")
    );

    let m = msg("request-auth-ssl-stage1.json");
    envelope(&m, "rpc", "auth_ssl", "sysadm-client-auth-auto");
    assert_eq!(m.body, Body::Request(Request::AuthSsl(AuthSsl::Challenge)));
    let m = msg("server-to-bridge-auth-stage1.json");
    envelope(&m, "rpc", "auth_ssl", "server_to_bridge_auth");
    assert_eq!(m.body, Body::Request(Request::AuthSsl(AuthSsl::Challenge)));

    let m = msg("request-auth-ssl-md5-stage1.json");
    let Body::Request(Request::AuthSsl(AuthSsl::ChallengeForKey { md5_key, extra })) = &m.body
    else {
        panic!("{m:?}")
    };
    assert_eq!(md5_key, "XUFAKrxLKna5cZ2REBfFkg==");
    assert!(extra.is_empty());

    let m = msg("request-auth-ssl-stage2.json");
    let Body::Request(Request::AuthSsl(AuthSsl::Response {
        encrypted_string, ..
    })) = &m.body
    else {
        panic!("{m:?}")
    };
    assert_eq!(
        encrypted_string,
        "UjVhbXBsZSBSU0EgYmxvY2sgKGlsbHVzdHJhdGl2ZSk="
    );

    assert_eq!(
        msg("request-auth-clear.json"),
        Message::auth_clear("sysadm-client-auth-auto")
    );
    assert_eq!(
        msg("request-query-keepalive.json"),
        Message::query("sysadm_client_ping")
    );

    let m = msg("request-subscribe.json");
    envelope(&m, "events", "subscribe", "sampleID");
    assert_eq!(
        m.body,
        Body::Request(Request::Subscribe(Targets::Many(vec![
            "dispatcher".into(),
            "life-preserver".into(),
            "system-state".into()
        ])))
    );
    assert_eq!(
        msg("request-subscribe-string.json"),
        Message::subscribe(
            "sysadm-client-event-auto",
            Targets::One("system-state".into())
        )
    );
    assert_eq!(
        msg("request-unsubscribe.json"),
        Message::unsubscribe(
            "sysadm-client-event-auto",
            Targets::One("dispatcher".into())
        )
    );

    let m = msg("bridge-request-identify.json");
    envelope(&m, "rpc", "identify", "sysadm_bridge_request_ident");
    let m = msg("bridge-request-list-keys.json");
    envelope(&m, "rpc", "settings", "bridge_request_list_keys");
    assert_eq!(
        m.body,
        Body::Request(Request::Settings(
            monwire_sysadm::message::Settings::ListSslChecksums(Default::default())
        ))
    );
    // Typed, it writes back the same object.
    assert_eq!(m.args(), Some(json!({"action":"list_ssl_checksums"})));
}

#[test]
fn replies() {
    for (file, host, t, id) in [
        (
            "reply-identify-server.json",
            "trueos-box",
            PeerType::Server,
            "sysadm_client_identify",
        ),
        (
            "bridge-reply-identify.json",
            "bridge-host",
            PeerType::Bridge,
            "sysadm_client_identify",
        ),
        (
            "client-reply-identify.json",
            "laptop",
            PeerType::Client,
            "sysadm_bridge_request_ident",
        ),
    ] {
        let m = msg(file);
        envelope(&m, "rpc", "response", id);
        let Body::Reply(Reply::Identify(p)) = &m.body else {
            panic!("{m:?}")
        };
        assert_eq!((p.hostname.as_str(), &p.peer_type), (host, &t));
        assert!(p.extra.is_empty());
    }

    for (file, name, id, token) in [
        (
            "reply-auth-ok.json",
            "response",
            "sysadm-client-auth-auto",
            "kT3vX9qLm2Zp7RbW4nYc",
        ),
        (
            "reply-auth-ok-no-id.json",
            "auth",
            "",
            "kT3vX9qLm2Zp7RbW4nYc",
        ),
        (
            "bridge-reply-auth-ok.json",
            "response",
            "sysadm-client-auth-auto",
            "Qw3Er5Ty7Ui9Op1As3Df5Gh7Jk9Lz1Xc3Vb5Nm7",
        ),
    ] {
        let m = msg(file);
        envelope(&m, "rpc", name, id);
        let Body::Reply(Reply::Token(t)) = &m.body else {
            panic!("{file}: {m:?}")
        };
        assert_eq!(t.token, token);
        assert_eq!(t.lifetime.as_u64(), Some(0));
        assert!(!format!("{m:?}").contains(token), "token leaks into Debug");
    }
    assert_eq!(
        msg("reply-auth-ok.json"),
        Message::reply(
            "rpc",
            "auth",
            "sysadm-client-auth-auto",
            Reply::Token(TokenGrant {
                token: "kT3vX9qLm2Zp7RbW4nYc".into(),
                lifetime: 0.into()
            })
        )
    );

    let m = msg("reply-auth-ssl-stage1.json");
    let Body::Reply(Reply::Challenge {
        test_string,
        new_ssl_key,
        extra,
    }) = &m.body
    else {
        panic!("{m:?}")
    };
    assert_eq!(test_string, "Gh5sQ1wE8rT2yU6iO0pA");
    assert_eq!((new_ssl_key, extra.is_empty()), (&None, true));

    let sub = |verb, name: &str| Body::Reply(Reply::Subscription(Some((verb, name.to_owned()))));
    let m = msg("reply-subscribe.json");
    envelope(&m, "events", "response", "sampleID");
    assert_eq!(m.body, sub(SubscriptionVerb::Subscribe, "system-state"));
    let m = msg("reply-subscribe-no-id.json");
    envelope(&m, "events", "subscribe", "");
    assert_eq!(m.body, sub(SubscriptionVerb::Subscribe, "dispatcher"));
    let m = msg("reply-subscribe-unknown-only.json");
    assert_eq!(m.body, Body::Reply(Reply::Subscription(None)));
    let m = msg("reply-unsubscribe.json");
    envelope(&m, "events", "response", "sysadm-client-event-auto");
    assert_eq!(m.body, sub(SubscriptionVerb::Unsubscribe, "dispatcher"));

    let m = msg("client-reply-list-keys.json");
    assert_eq!(
        m.body,
        Body::Reply(Reply::RpcOther(monwire_sysadm::message::Redacted(
            json!({"md5_keys":["XUFAKrxLKna5cZ2REBfFkg=="]})
        )))
    );
    // An `rpc` reply does not say what it answers: its Debug shows none of its args.
    assert!(!format!("{m:?}").contains("XUFAKrxLKna5cZ2REBfFkg"));
}

#[test]
fn errors() {
    for (file, id, code) in [
        (
            "reply-error-unauthorized.json",
            "sampleID",
            ErrorCode::Unauthorized,
        ),
        (
            "reply-error-bad-request.json",
            "sampleID",
            ErrorCode::BadRequest,
        ),
        ("reply-error-bad-json.json", "", ErrorCode::BadRequest),
        (
            "reply-error-not-found.json",
            "sampleID",
            ErrorCode::NotFound,
        ),
    ] {
        let m = msg(file);
        envelope(&m, "error", "error", id);
        let Body::Error(e) = &m.body else { panic!() };
        assert_eq!(e.code(), code.code().parse().ok());
        assert_eq!(m, Message::error(id, code));
    }
    let m = msg("bridge-reply-auth-error.json");
    envelope(&m, "rpc", "error", "sysadm-client-auth-auto");
    assert_eq!(m.body, Body::Error(ErrorBody::Other(json!("unauthorized"))));
}

fn event(file: &str, name: &str) -> EventBody {
    let m = msg(file);
    envelope(&m, "events", name, "");
    let Body::Event(e) = m.body else {
        panic!("{file}: not an event")
    };
    assert_eq!(e.name(), name);
    e
}

const PKG_ID: &str = "sysadm_pkg_install-{3f2504e0-4f89-11d3-9a0c-0305e82c3301}";
const PKG_CMD: &str = "pkg install -y www/firefox";

#[test]
fn dispatcher_events() {
    let EventBody::Dispatcher(Dispatcher::Job(l)) =
        event("event-dispatcher-running.json", "dispatcher")
    else {
        panic!()
    };
    assert_eq!(
        l,
        ProcessLog {
            process_id: Some("procID1".into()),
            state: Some(JobState::Running),
            ..Default::default()
        }
    );

    let EventBody::Dispatcher(Dispatcher::Job(l)) =
        event("event-dispatcher-finished.json", "dispatcher")
    else {
        panic!()
    };
    assert_eq!(l.process_id.as_deref(), Some("procID1"));
    assert_eq!(l.state, Some(JobState::Finished));
    assert_eq!(l.cmd_list, Some(vec!["echo sample1".to_owned()]));
    assert_eq!(
        l.outputs,
        vec![("echo sample1".to_owned(), "sample1\n".to_owned())]
    );
    assert_eq!(
        l.return_codes,
        vec![("echo sample1".to_owned(), "0".to_owned())]
    );
    assert_eq!(l.return_code("echo sample1"), Some(0));
    assert_eq!(l.time_started.as_deref(), Some("2016-02-02T13:45:13"));
    assert_eq!(l.time_finished.as_deref(), Some("2016-02-02T13:45:13"));
    assert_eq!(
        (l.current_cmd.as_ref(), l.extra.is_empty(), l.failed()),
        (None, true, false)
    );

    let class = |file: &str| {
        let EventBody::Dispatcher(Dispatcher::Class(c)) = event(file, "dispatcher") else {
            panic!("{file}")
        };
        assert_eq!(c.event_system, "sysadm/pkg");
        c
    };
    let c = class("event-dispatcher-pkg-pending.json");
    assert_eq!(
        (c.state.clone(), c.action(), c.class_log()),
        (Some(JobState::Pending), Some("pkg_install"), Some(""))
    );
    let p = c.process_details.unwrap();
    assert_eq!(
        (p.process_id.as_deref(), p.state),
        (Some(PKG_ID), Some(JobState::Pending))
    );
    assert_eq!(p.cmd_list, Some(vec![PKG_CMD.to_owned()]));
    assert!(p.extra.is_empty() && p.outputs.is_empty());

    let c = class("event-dispatcher-pkg-pending-ping.json");
    let p = c.process_details.unwrap();
    assert_eq!(p.extra.get(""), Some(&json!("")), "the empty key is kept");
    assert_eq!(p.extra.len(), 1);

    let c = class("event-dispatcher-pkg-running.json");
    assert_eq!(c.state, Some(JobState::Running));
    let p = c.process_details.unwrap();
    assert_eq!(
        (p.time_started.as_deref(), p.current_cmd.as_deref()),
        (Some("2016-02-02T13:45:13"), None)
    );

    let c = class("event-dispatcher-pkg-running-output.json");
    let chunk = "[1/1] Installing firefox-52.0.2_1,1...\n";
    assert_eq!(c.class_log(), Some(chunk));
    let p = c.process_details.unwrap();
    assert_eq!(p.current_cmd.as_deref(), Some(PKG_CMD));
    assert_eq!(p.output(PKG_CMD), Some(chunk));

    let c = class("event-dispatcher-pkg-finished.json");
    assert_eq!(c.state, Some(JobState::Finished));
    let p = c.process_details.as_ref().unwrap();
    assert_eq!(p.return_code(PKG_CMD), Some(0));
    assert_eq!(p.output(PKG_CMD), c.class_log());
    assert_eq!(p.time_finished.as_deref(), Some("2016-02-02T13:46:02"));

    let c = class("event-dispatcher-pkg-check-upgrade-finished.json");
    assert_eq!(
        (c.action(), c.updates_available()),
        (Some("pkg_check_upgrade"), Some(false))
    );
    assert_eq!(
        c.process_details.unwrap().return_code("pkg upgrade -n"),
        Some(0)
    );
}

#[test]
fn life_preserver_events() {
    let EventBody::LifePreserver(l) = event(
        "event-life-preserver-replication-running.json",
        "life-preserver",
    ) else {
        panic!()
    };
    assert_eq!(l.class, Some(LpClass::Replication));
    assert_eq!(
        l.message.as_deref(),
        Some("Replicating tank: 1.2G/4.5G (26.6%)")
    );
    let p = l.priority.unwrap();
    assert_eq!((p.level(), p.text()), (Some(0), "Information"));
    assert_eq!(p, Priority::from_level(0));

    let EventBody::LifePreserver(l) = event("event-life-preserver-snapshot.json", "life-preserver")
    else {
        panic!()
    };
    assert_eq!(l.class, Some(LpClass::Snapshot));
    assert_eq!(
        l.message.as_deref(),
        Some("Mon Mar 28 10:00:01 EDT 2016: New snapshot of tank/usr/home")
    );
    assert_eq!(l.priority.as_ref().and_then(Priority::level), Some(1));
    assert!(l.extra.is_empty());
}

fn tank(health: &str) -> Zpool {
    Zpool {
        alloc: Some("13.1G".into()),
        altroot: Some("-".into()),
        capacity: Some("12%".into()),
        dedup: Some("1.00x".into()),
        expandsz: Some("-".into()),
        frag: Some("6%".into()),
        free: Some("93.9G".into()),
        health: Some(health.into()),
        size: Some("107G".into()),
        extra: Object::new(),
    }
}

#[test]
fn system_state_events() {
    let EventBody::SystemState(s) = event("event-system-state.json", "system-state") else {
        panic!()
    };
    assert_eq!(
        s,
        SystemState {
            hostname: Some("trueos-box".into()),
            zpools: Some(vec![("tank".into(), tank("ONLINE"))]),
            priority: Some(Priority("0 - Information".into())),
            ..Default::default()
        }
    );
    assert_eq!(s.zpools.unwrap()[0].1.capacity_percent(), Some(12));

    let EventBody::SystemState(s) = event("event-system-state-degraded.json", "system-state")
    else {
        panic!()
    };
    assert_eq!(s.zpools, Some(vec![("tank".into(), tank("DEGRADED"))]));
    let p = s.priority.unwrap();
    assert_eq!((p.level(), p.text()), (Some(9), "Urgent"));

    let EventBody::SystemState(s) = event("event-system-state-updates.json", "system-state") else {
        panic!()
    };
    assert_eq!(s.priority.as_ref().and_then(Priority::level), Some(2));
    assert_eq!(s.update_status(), Some("updatesavailable"));
    let u = s.updates.unwrap();
    assert_eq!(u.get("last_check"), Some(&json!("2017-03-01T09:45:00")));
    assert_eq!(u.get("packageupdate"), Some(&json!({"name":"pkgupdate"})));
    assert_eq!(
        u.get("details"),
        Some(&json!("NAME: pkgupdate\nTYPE: PKGUPDATE"))
    );
}

#[test]
fn bridge_events_and_routed_frames() {
    let EventBody::Bridge(b) = event("event-bridge.json", "bridge") else {
        panic!()
    };
    assert_eq!(
        b.available_connections,
        Some(vec![
            "::{6fa459ea-ee8a-3ca4-894e-db77e160355e}".to_owned(),
            "::{16fd2706-8baf-433b-82eb-8c7fada847da}".to_owned()
        ])
    );
    let EventBody::Bridge(b) = event("event-bridge-empty.json", "bridge") else {
        panic!()
    };
    assert_eq!(b.available_connections, Some(vec![]));

    let limits = Limits::default();
    for (file, expect) in [
        (
            "bridge-routed-request-subscribe.txt",
            "request-subscribe-string.json",
        ),
        (
            "bridge-routed-event-system-state.txt",
            "event-system-state.json",
        ),
    ] {
        let bytes = vectors::read("sysadm", file);
        let f = decode_routed(&bytes, &limits).unwrap();
        assert_eq!(f.id, "::{6fa459ea-ee8a-3ca4-894e-db77e160355e}");
        assert_eq!(f.encoding, PayloadEncoding::Base64);
        assert_eq!(f.payload, vectors::read("sysadm", expect), "{file} payload");
        assert_eq!(f.message(&limits).unwrap(), msg(expect));
        assert_eq!(encode_routed(&f), bytes);
    }
    let plain = b"::{x}\n{\"args\":\"\",\"id\":\"a\",\"name\":\"identify\",\"namespace\":\"rpc\"}";
    let f = decode_routed(plain, &limits).unwrap();
    assert_eq!(
        (f.encoding, f.message(&limits).unwrap()),
        (PayloadEncoding::Plain, Message::identify("a"))
    );
    assert_eq!(encode_routed(&f), plain);
}

#[test]
fn unknown_event_names_and_keys_are_kept() {
    let text = br#"{"args":{"zz":[1,{"b":null,"a":true}]},"id":"","name":"cpu-load","namespace":"events"}"#;
    let m = decode(text, &Limits::default()).unwrap();
    assert_eq!(
        m.body,
        Body::Event(EventBody::Unknown {
            name: "cpu-load".into(),
            args: json!({"zz":[1,{"b":null,"a":true}]})
        })
    );
    let out = encode(&m, &Limits::default()).unwrap();
    assert_eq!(out, br#"{"args":{"zz":[1,{"a":true,"b":null}]},"id":"","name":"cpu-load","namespace":"events"}"#);
    // Unknown keys in typed events, odd value types in typed fields, extra top-level keys.
    let text = br#"{"args":{"hostname":7,"new":"x","zpools":{"p":{"health":"ONLINE","size":5}}},"id":"","name":"system-state","namespace":"events","v":2}"#;
    let m = decode(text, &Limits::default()).unwrap();
    let Body::Event(EventBody::SystemState(s)) = &m.body else {
        panic!()
    };
    assert_eq!(s.hostname, None);
    assert_eq!(s.extra.get("hostname"), Some(&json!(7)));
    assert_eq!(
        s.zpools.as_ref().unwrap()[0].1.extra.get("size"),
        Some(&json!(5))
    );
    assert_eq!(m.extra.get("v"), Some(&json!(2)));
    assert_eq!(encode(&m, &Limits::default()).unwrap(), text.to_vec());
}

#[test]
fn limits_are_enforced_before_parsing() {
    let deep = "[".repeat(100_000);
    let e = decode(deep.as_bytes(), &Limits::default()).unwrap_err();
    assert_eq!(
        e.kind,
        monwire_sysadm::error::DecodeErrorKind::TooDeep { max: 64 }
    );
    assert_eq!(e.offset, 64);
    // Even with our pre-scan raised past serde_json's own limit, the parse fails cleanly.
    let e = decode(
        deep.as_bytes(),
        &Limits::default().with_max_depth(1_000_000),
    )
    .unwrap_err();
    assert!(
        matches!(e.kind, monwire_sysadm::error::DecodeErrorKind::Json(_)),
        "{e}"
    );
    let big = vec![b' '; 2_000_000];
    let e = decode(&big, &Limits::default()).unwrap_err();
    assert_eq!(
        e.kind,
        monwire_sysadm::error::DecodeErrorKind::TooLong {
            len: 2_000_000,
            max: 1 << 20
        }
    );
}
