#![cfg(feature = "sysadm")]
//! Secrets never reach `Debug`, `Display`, events or their JSON, whatever the shape of the
//! message: redaction goes by namespace and name (`rpc/auth*` and `rpc/settings` requests,
//! `rpc` replies), so an
//! `auth` with array args, a numeric password, a token under an unexpected key, or an `auth`
//! without `args` at all (the server then reads the whole object) are all covered.
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_sysadm::codec::{Limits, decode, decode_routed};
use monwire_sysadm::event::to_event;
use monwire_sysadm::session::{AllowAll, Client, ClientConfig, Server, ServerConfig};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The secret: letters and digits no other part of a generated message can contain (keys and
/// names are lower-case, filler strings lack `Q`), so finding it anywhere is a leak.
fn secret() -> impl Strategy<Value = String> {
    "QZ[A-Z0-9]{6,10}"
}

/// Filler that cannot contain the secret.
fn filler() -> impl Strategy<Value = Value> {
    prop_oneof![
        "[a-z ]{0,6}".prop_map(Value::from),
        any::<bool>().prop_map(Value::from),
        (0u32..100).prop_map(Value::from),
        Just(Value::Null),
    ]
}

/// Where the secret goes: as a string or a number, at any depth, under any key (also as the
/// key itself), in an array, or as the whole `args`.
fn shape(secret: String) -> impl Strategy<Value = Value> {
    let s = secret.clone();
    // A numeric password: twelve digits, which nothing else in a case has.
    let number = Value::from(100_000_000_000u64 + secret.len() as u64 * 7_919);
    let leafs = prop_oneof![Just(Value::from(s.clone())), Just(number)];
    (
        leafs,
        prop::sample::select(vec![
            "password",
            "token",
            "encrypted_string",
            "md5_key",
            "pub_key",
            "pass",
            "x",
            "",
        ]),
        filler(),
        0usize..9,
    )
        .prop_map(move |(leaf, key, fill, how)| match how {
            0 => leaf,
            1 => json!({ key: leaf }),
            2 => json!({ "username": "alice", key: leaf, "other": fill }),
            3 => json!([leaf, fill]),
            4 => json!([fill, [leaf]]),
            5 => json!({ "outer": { key: [leaf] } }),
            6 => json!({ secret.clone(): fill }),
            7 => json!({ "action": "register_ssl_cert", "pub_key": leaf, "nickname": fill }),
            _ => json!({ "username": "alice", "password": leaf }),
        })
}

fn auth_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "auth",
        "auth_token",
        "auth_ssl",
        "auth_clear",
        "authenticate",
        "AUTH",
        "response",
        "settings",
    ])
}

fn message(secret: String) -> impl Strategy<Value = (Vec<u8>, String)> {
    (
        prop::sample::select(vec!["rpc", "RPC", "Rpc"]),
        auth_name(),
        prop::sample::select(vec!["", "sysadm-client-auth-auto", "x1"]),
        shape(secret.clone()),
        any::<bool>(),
    )
        .prop_map(move |(ns, name, id, args, no_args)| {
            let mut m = serde_json::Map::new();
            m.insert("namespace".into(), ns.into());
            m.insert("name".into(), name.into());
            m.insert("id".into(), id.into());
            if no_args {
                // No `args`: the server reads the whole object as the arguments.
                if let Value::Object(o) = args {
                    m.extend(o.into_iter().filter(|(k, _)| k != "name" && k != "id"));
                } else {
                    m.insert("password".into(), args);
                }
            } else {
                m.insert("args".into(), args);
            }
            (
                serde_json::to_vec(&Value::Object(m)).unwrap(),
                secret.clone(),
            )
        })
}

fn leaks(text: &str, secret: &str, number_digits: &str) -> bool {
    text.contains(secret) || (!number_digits.is_empty() && text.contains(number_digits))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn no_output_shows_a_secret((bytes, secret) in secret().prop_flat_map(message)) {
        let text = String::from_utf8(bytes.clone()).unwrap();
        // The numeric form of the secret, when this case used one.
        let digits: String = text
            .split(|c: char| !c.is_ascii_digit())
            .filter(|d| d.len() >= 10)
            .map(str::to_owned)
            .next()
            .unwrap_or_default();
        let msg = decode(&bytes, &Limits::default()).unwrap();
        // Guard: the case really holds the secret, and the rule really applies to it.
        prop_assert!(leaks(&text, &secret, &digits) && msg.carries_secret(), "{}", text);
        let event = to_event(&msg);
        let outputs = [
            format!("{msg:?}"),
            format!("{msg}"),
            format!("{:?}", msg.body),
            format!("{event:?}"),
            format!("{event}"),
            event.summary_text().into_owned(),
            serde_json::to_string(&event).unwrap(),
        ];
        for out in &outputs {
            prop_assert!(!leaks(out, &secret, &digits), "leaked in {out}");
        }
    }
}

/// The two leaks the issue found, as plain cases: `Request::AuthToken`'s derived Debug, and an
/// `auth` with array args (which used to become `Request::Other` and print as is).
#[test]
fn known_leaks_are_closed() {
    let cases = [
        r#"{"args":{"token":"QZTOKEN123"},"id":"a","name":"auth_token","namespace":"rpc"}"#,
        r#"{"args":["alice","QZTOKEN123"],"id":"a","name":"auth","namespace":"rpc"}"#,
        r#"{"args":{"password":123456789012,"username":"alice"},"id":"a","name":"auth","namespace":"rpc"}"#,
        r#"{"args":["QZTOKEN123",0],"id":"a","name":"response","namespace":"rpc"}"#,
        r#"{"args":{"encrypted_string":"QZTOKEN123"},"id":"a","name":"auth_ssl","namespace":"rpc"}"#,
        r#"{"args":{"action":"register_ssl_cert","email":"e","nickname":"n","pub_key":"QZTOKEN123"},"id":"a","name":"settings","namespace":"rpc"}"#,
        r#"{"args":{"action":"revoke_ssl_cert","pub_key":"QZTOKEN123"},"id":"a","name":"settings","namespace":"RPC"}"#,
        r#"{"args":{"action":"another","x":"QZTOKEN123"},"id":"a","name":"settings","namespace":"rpc"}"#,
    ];
    for text in cases {
        let m = decode(text.as_bytes(), &Limits::default()).unwrap();
        for out in [
            format!("{m:?}"),
            format!("{m}"),
            serde_json::to_string(&to_event(&m)).unwrap(),
        ] {
            assert!(
                !out.contains("QZTOKEN123") && !out.contains("123456789012"),
                "{text} leaked: {out}"
            );
        }
    }
    // A routed bridge frame carrying an auth request does not print its payload.
    let frame = decode_routed(
        b"::{6fa459ea-ee8a-3ca4-894e-db77e160355e}\n{\"args\":{\"password\":\"QZTOKEN123\",\"username\":\"u\"},\"id\":\"1\",\"name\":\"auth\",\"namespace\":\"rpc\"}",
        &Limits::default(),
    )
    .unwrap();
    assert!(!format!("{frame:?}").contains("QZTOKEN123"));
}

/// The sessions' own reporting (their Debug and every event they emit) never shows the
/// password the client sends or the token the server grants.
#[test]
fn sessions_never_report_credentials() {
    let now = std::time::Instant::now();
    let config = ClientConfig {
        credentials: Some(("alice".into(), "QZPASSWORD9".into())),
        ..Default::default()
    };
    let mut client = Client::new(config, "wss://example:12150");
    let mut server = Server::new(ServerConfig::default(), AllowAll);
    let conn = server.accept(now, "127.0.0.1:5000");
    client.handle_connected(now);
    let mut token = None;
    let mut reports = vec![format!("{client:?}"), format!("{server:?}")];
    for _ in 0..10 {
        while let Some(t) = client.poll_transmit() {
            if let monwire_sysadm::session::ClientTransmit::Text(t) = t {
                server.handle_text(now, conn, t.as_bytes());
            }
        }
        while let Some(out) = server.poll_transmit(conn) {
            if let monwire_sysadm::session::Outgoing::Text(t) = out {
                if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&t)
                    && let Some(Value::Array(a)) = m.get("args")
                    && let Some(Value::String(tok)) = a.first()
                {
                    token = Some(tok.clone());
                }
                client.handle_text(now, t.as_bytes());
            }
        }
        while let Some(e) = client.poll_event() {
            reports.push(format!("{e:?}"));
        }
        while let Some(e) = server.poll_event() {
            reports.push(format!("{e:?} {e}"));
            reports.push(serde_json::to_string(&e).unwrap());
        }
    }
    reports.push(format!("{client:?}"));
    reports.push(format!("{server:?}"));
    let token = token.expect("the server granted a token");
    assert!(client.is_ready());
    for r in &reports {
        assert!(!r.contains("QZPASSWORD9"), "password in {r}");
        assert!(!r.contains(&token), "token in {r}");
    }
}

/// The certificate login reports neither the signature, the key, nor the token: the sessions'
/// Debug and events, and every frame of the exchange decoded and printed.
#[test]
fn key_login_never_reports_signature_key_or_token() {
    use monwire_sysadm::session::AuthorizedKey;
    use monwire_sysadm::ssl::SigningKey;
    let now = std::time::Instant::now();
    let key = SigningKey::generate(1024).unwrap();
    let mut client = Client::new(
        ClientConfig {
            signing_key: Some(key.clone()),
            ..Default::default()
        },
        "wss://example:12150",
    );
    let mut server = Server::new(
        ServerConfig {
            authorized_keys: vec![AuthorizedKey::new("alice", key.public_key())],
            ..Default::default()
        },
        AllowAll,
    );
    let conn = server.accept(now, "127.0.0.1:5000");
    client.handle_connected(now);
    let mut secrets = vec![key.public_key().registration()];
    let mut reports = vec![
        format!("{client:?}"),
        format!("{server:?}"),
        format!("{key:?}"),
    ];
    let report_frame = |t: &str, reports: &mut Vec<String>| {
        let m = decode(t.as_bytes(), &Limits::default()).unwrap();
        reports.push(format!("{m:?} {m} {:?}", m.body));
        reports.push(serde_json::to_string(&to_event(&m)).unwrap());
    };
    for _ in 0..10 {
        while let Some(t) = client.poll_transmit() {
            if let monwire_sysadm::session::ClientTransmit::Text(t) = t {
                if let Ok(v) = serde_json::from_str::<Value>(&t)
                    && let Some(Value::String(sig)) = v["args"].get("encrypted_string")
                {
                    secrets.push(sig.clone());
                }
                report_frame(&t, &mut reports);
                server.handle_text(now, conn, t.as_bytes());
            }
        }
        while let Some(out) = server.poll_transmit(conn) {
            if let monwire_sysadm::session::Outgoing::Text(t) = out {
                if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&t)
                    && let Some(Value::Array(a)) = m.get("args")
                    && let Some(Value::String(tok)) = a.first()
                {
                    secrets.push(tok.clone());
                }
                report_frame(&t, &mut reports);
                client.handle_text(now, t.as_bytes());
            }
        }
        while let Some(e) = client.poll_event() {
            reports.push(format!("{e:?}"));
        }
        while let Some(e) = server.poll_event() {
            reports.push(format!("{e:?} {e}"));
            reports.push(serde_json::to_string(&e).unwrap());
        }
    }
    assert!(client.is_ready());
    // The signature and the token were seen on the wire (the registration text was not sent
    // in this exchange, and must not show up either).
    assert_eq!(secrets.len(), 3, "{secrets:?}");
    for r in &reports {
        for s in &secrets {
            assert!(!r.contains(s.as_str()), "secret in {r}");
        }
    }
}
