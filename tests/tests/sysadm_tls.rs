#![cfg(feature = "sysadm")]
//! The adapter's TLS setup: `ServerTls::Files` with PKCS#8, PKCS#1 and SEC1 keys (a real
//! `wss://` login against each, trusting exactly that certificate), the errors for missing,
//! empty and mismatched files, `client_tls_config` for each `ClientTls`, and the server's
//! refusal of `auth_ssl` (which it does not support: 401, as SysAdm answers a failed login).
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use monwire_sysadm::session::{
    AllowAll, ClientConfig, ClientEvent, Outgoing, Server, ServerConfig,
};
use monwire_sysadm::tokio::*;
use monwire_tests::vectors;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(20);

fn tls(name: &str) -> PathBuf {
    vectors::dir("sysadm").join("tls").join(name)
}

async fn files_server(cert: &str, key: &str) -> Result<ServerHandle, Error> {
    let opts = ServerOptions {
        listen: "127.0.0.1:0".parse().unwrap(),
        tls: ServerTls::Files {
            cert: tls(cert),
            key: tls(key),
        },
        config: ServerConfig::default(),
        verifier: Box::new(AllowAll),
    };
    spawn_server(opts).await.map(|(h, _)| h)
}

async fn logs_in(url: &str, ca: &str) {
    let mut opts = ClientOptions::new(url).unwrap();
    opts.tls = ClientTls::Verify {
        ca_file: Some(tls(ca)),
    };
    opts.config = ClientConfig {
        credentials: Some(("u".into(), "p".into())),
        ..Default::default()
    };
    let mut c = spawn_client(opts).unwrap();
    loop {
        match timeout(LIMIT, c.next()).await.unwrap() {
            Some(ClientEvent::Session(e)) if e.name == "authenticated" => break,
            Some(_) => {}
            None => panic!("client stopped: {:?}", c.join().await),
        }
    }
    c.close();
    timeout(LIMIT, c.join()).await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_serve_wss_with_every_key_form() {
    for (cert, key) in [
        ("rsa.crt", "rsa-pkcs8.key"),
        ("rsa.crt", "rsa-pkcs1.key"),
        ("ec.crt", "ec-sec1.key"),
    ] {
        let srv = files_server(cert, key)
            .await
            .unwrap_or_else(|e| panic!("{key}: {e}"));
        assert!(srv.url().starts_with("wss://"));
        assert!(srv.certificate_pem().is_none(), "not generated");
        let url = format!("wss://localhost:{}", srv.local_addr().port());
        logs_in(&url, cert).await;
        srv.shutdown();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_certificate_and_key_files_are_reported_with_their_path() {
    let empty = std::env::temp_dir().join(format!("monwire-empty-{}.pem", std::process::id()));
    std::fs::write(&empty, "no PEM here\n").unwrap();
    let empty_name = empty.to_str().unwrap().to_owned();
    // A missing certificate file, one without certificates, a missing key, a key file with
    // no key, and a key that does not match the certificate.
    let cases = [
        ("missing.crt", "rsa-pkcs8.key", "missing.crt"),
        (empty_name.as_str(), "rsa-pkcs8.key", empty_name.as_str()),
        ("rsa.crt", "missing.key", "missing.key"),
        ("rsa.crt", empty_name.as_str(), empty_name.as_str()),
    ];
    for (cert, key, named) in cases {
        match files_server(cert, key).await {
            Err(Error::Pem { path, what }) => {
                assert!(path.ends_with(named), "{path:?} for {named}");
                assert!(!what.is_empty());
            }
            other => panic!(
                "{cert}/{key}: expected a PEM error, got {:?}",
                other.map(|_| ())
            ),
        }
    }
    match files_server("rsa.crt", "ec-sec1.key").await {
        Err(Error::Tls(why)) => assert!(!why.is_empty()),
        other => panic!(
            "mismatched pair: expected a TLS error, got {:?}",
            other.map(|_| ())
        ),
    }
    let _ = std::fs::remove_file(&empty);
}

#[test]
fn client_tls_config_for_each_choice() {
    client_tls_config(&ClientTls::System).unwrap();
    client_tls_config(&ClientTls::InsecureAcceptAnyCertificate).unwrap();
    client_tls_config(&ClientTls::Verify {
        ca_file: Some(tls("rsa.crt")),
    })
    .unwrap();
    client_tls_config(&ClientTls::Verify { ca_file: None }).unwrap();
    match client_tls_config(&ClientTls::Verify {
        ca_file: Some(tls("missing.crt")),
    }) {
        Err(Error::Pem { path, .. }) => assert!(path.ends_with("missing.crt")),
        other => panic!("{:?}", other.map(|_| ())),
    }
    match client_tls_config(&ClientTls::Verify {
        ca_file: Some(tls("rsa-pkcs8.key")),
    }) {
        Err(Error::Pem { what, .. }) => assert!(what.contains("no certificates"), "{what}"),
        other => panic!("a key is not a CA: {:?}", other.map(|_| ())),
    }
}

/// The server answers both `auth_ssl` stages with SysAdm's 401 error (it has no registered
/// keys), never with a token, and the connection stays unauthenticated.
#[test]
fn the_server_refuses_auth_ssl() {
    let now = Instant::now();
    let mut s = Server::new(ServerConfig::default(), AllowAll);
    let c = s.accept(now, "127.0.0.1:4000");
    for req in [
        r#"{"args":"","id":"ssl1","name":"auth_ssl","namespace":"rpc"}"#,
        r#"{"args":{"encrypted_string":"AAAA"},"id":"ssl2","name":"auth_ssl","namespace":"rpc"}"#,
        r#"{"args":"dispatcher","id":"sub","name":"subscribe","namespace":"events"}"#,
    ] {
        s.handle_text(now, c, req.as_bytes());
    }
    let replies: Vec<String> = std::iter::from_fn(|| s.poll_transmit(c))
        .map(|o| match o {
            Outgoing::Text(t) => t.to_string(),
            Outgoing::Close => "close".into(),
        })
        .collect();
    assert_eq!(
        replies,
        [
            r#"{"args":{"code":"401","message":"Unauthorized"},"id":"ssl1","name":"error","namespace":"error"}"#,
            r#"{"args":{"code":"401","message":"Unauthorized"},"id":"ssl2","name":"error","namespace":"error"}"#,
            r#"{"args":{"code":"401","message":"Unauthorized"},"id":"sub","name":"error","namespace":"error"}"#,
        ]
    );
}
