#![cfg(feature = "sysadm")]
//! SysAdm's certificate login (`auth_ssl`) between real processes over loopback, with keys
//! made at test time by OpenSSL:
//!
//! - `monwire watch sysadm --key K` logs in to `monwire serve sysadm --authorized-key` holding
//!   the public key and receives events, with every PEM form OpenSSL writes (PKCS#8, PKCS#1,
//!   encrypted PKCS#8 with its passphrase from the environment); a key the server does not
//!   hold, a wrong passphrase, and a file that is not a key each end the run with one stderr
//!   line and exit 1.
//! - An outside peer (Python `websockets`) logs in to `serve sysadm` with a signature made by
//!   OpenSSL itself (`openssl pkeyutl -sign`, PKCS#1 padding, no digest: `RSA_private_encrypt`),
//!   and is refused when it signs other bytes.
//! - The other direction: our signature, checked by Python `cryptography`'s
//!   `recover_data_from_signature(sig, PKCS1v15(), None)` and by `openssl pkeyutl
//!   -verifyrecover` (both `RSA_public_decrypt`), gives back exactly the signed bytes.
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[path = "capture_common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use common::{Proc, TempDir, monwire, temp_dir};
use monwire_sysadm::ssl::{SigningKey, new_challenge};
use monwire_tests::peers;
use serde_json::Value;

const WITHIN: Duration = Duration::from_secs(30);

/// Runs `cmd` to its end; it must succeed (else its stderr is the failure). Its stdout.
fn stdout_of(cmd: &mut Command) -> Vec<u8> {
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn openssl(args: &[&str]) {
    stdout_of(Command::new("openssl").args(args));
}

/// Keys made by OpenSSL in a fresh directory: `alice.pem` (PKCS#8, what `openssl genrsa`
/// writes since 3.0), its public half `alice.pub.pem`, the same key as PKCS#1
/// (`alice-pkcs1.pem`) and as encrypted PKCS#8 (`alice-enc.pem`, passphrase `s3cret pass`),
/// and an unrelated key `mallory.pem`.
struct Keys {
    dir: TempDir,
}

impl Keys {
    fn make(name: &str) -> Option<Keys> {
        if !peers::program("openssl") {
            return None;
        }
        let dir = temp_dir(name);
        let p = |f: &str| dir.join(f).display().to_string();
        openssl(&["genrsa", "-out", &p("alice.pem"), "2048"]);
        openssl(&[
            "rsa",
            "-in",
            &p("alice.pem"),
            "-pubout",
            "-out",
            &p("alice.pub.pem"),
        ]);
        openssl(&[
            "rsa",
            "-in",
            &p("alice.pem"),
            "-traditional",
            "-out",
            &p("alice-pkcs1.pem"),
        ]);
        openssl(&[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-in",
            &p("alice.pem"),
            "-out",
            &p("alice-enc.pem"),
            "-passout",
            "pass:s3cret pass",
        ]);
        openssl(&["genrsa", "-out", &p("mallory.pem"), "2048"]);
        Some(Keys { dir })
    }

    fn path(&self, f: &str) -> PathBuf {
        self.dir.join(f)
    }

    fn arg(&self, f: &str) -> String {
        self.path(f).display().to_string()
    }
}

/// `serve sysadm` (plain ws on loopback) holding alice's public key; its URL.
fn serve(keys: &Keys) -> (Proc, String) {
    serve_with(&[
        "--authorized-key",
        &format!("alice={}", keys.arg("alice.pub.pem")),
    ])
}

fn serve_with(extra: &[&str]) -> (Proc, String) {
    let mut cmd = monwire();
    cmd.env("NO_COLOR", "1")
        .env("MONWIRE_SYSADM_PASSWORD", "alice-pw")
        .args([
            "serve",
            "sysadm",
            "--listen",
            "127.0.0.1:0",
            "--plain",
            "--interval",
            "200",
        ])
        .args(extra);
    let mut p = Proc::spawn(cmd);
    let line = p.stderr_line("serving ", WITHIN);
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("ws://"))
        .unwrap()
        .to_owned();
    (p, url)
}

fn watch(url: &str, key: &Path, passphrase: Option<&str>) -> Proc {
    let mut cmd = monwire();
    cmd.env("NO_COLOR", "1")
        .env_remove("MONWIRE_SYSADM_PASSWORD")
        .env_remove("MONWIRE_SYSADM_KEY_PASSPHRASE")
        .args(["watch", "sysadm", url, "--json", "--count", "2", "--key"])
        .arg(key);
    if let Some(p) = passphrase {
        cmd.env("MONWIRE_SYSADM_KEY_PASSPHRASE", p);
    }
    Proc::spawn(cmd)
}

/// Runs `watch` to its end; its stdout events and stderr lines and exit code.
fn run_watch(
    url: &str,
    key: &Path,
    passphrase: Option<&str>,
) -> (Vec<Value>, Vec<String>, Option<i32>) {
    let mut w = watch(url, key, passphrase);
    let out = w.stdout_until(WITHIN, |_| false);
    let (exited, code) = w.wait_or_kill(WITHIN);
    assert!(exited, "watch did not end by itself");
    let mut err = Vec::new();
    while let Ok(l) = w.err.recv_timeout(Duration::from_millis(500)) {
        err.push(l);
    }
    (common::events(&out), err, code)
}

#[test]
fn watch_with_a_key_logs_in_to_serve_holding_its_public_key() {
    let Some(keys) = Keys::make("sysadm-ssl-watch") else {
        return;
    };
    let (_srv, url) = serve(&keys);
    for (file, pass) in [
        ("alice.pem", None),
        ("alice-pkcs1.pem", None),
        ("alice-enc.pem", Some("s3cret pass")),
    ] {
        let (events, err, code) = run_watch(&url, &keys.path(file), pass);
        assert_eq!(code, Some(0), "{file}: {err:#?}");
        let login = events
            .iter()
            .find(|e| e["name"] == "authenticated")
            .unwrap_or_else(|| panic!("{file}: no login in {events:#?}"));
        assert_eq!(
            login["attributes"]["sysadm.method"], "certificate",
            "{file}"
        );
        let wire: Vec<&Value> = events
            .iter()
            .filter(|e| e["attributes"]["sysadm.session"].is_null())
            .collect();
        assert_eq!(wire.len(), 2, "{file}: two SysAdm events: {events:#?}");
        assert!(
            wire.iter()
                .all(|e| ["system-state", "dispatcher", "life-preserver"]
                    .contains(&e["name"].as_str().unwrap())),
            "{wire:#?}"
        );
    }
}

/// A key registered at run time through the real binaries: a password login with
/// `--register-key` (`rpc/settings` `register_ssl_cert`), then the key alone logs in.
#[test]
fn a_key_registered_with_register_key_logs_in_later() {
    let Some(keys) = Keys::make("sysadm-ssl-register") else {
        return;
    };
    let (_srv, url) = serve_with(&["--user", "alice"]);
    // Before the registration the key is refused.
    let (_, err, code) = run_watch(&url, &keys.path("alice.pem"), None);
    assert_eq!(code, Some(1), "{err:#?}");
    let mut cmd = monwire();
    cmd.env("NO_COLOR", "1")
        .env("MONWIRE_SYSADM_PASSWORD", "alice-pw")
        .args([
            "watch",
            "sysadm",
            &url,
            "--json",
            "--user",
            "alice",
            "--register-key",
            "--key",
        ])
        .arg(keys.path("alice.pem"));
    let mut w = Proc::spawn(cmd);
    let out = w.stdout_until(WITHIN, |l| l.contains("\"key_registered\""));
    let registered = common::events(&out).pop().unwrap();
    assert_eq!(registered["kind"], "updated", "{registered}");
    drop(w);
    let (events, err, code) = run_watch(&url, &keys.path("alice.pem"), None);
    assert_eq!(code, Some(0), "{err:#?}");
    assert!(
        events
            .iter()
            .any(|e| e["attributes"]["sysadm.method"] == "certificate")
    );
}

#[test]
fn watch_with_a_key_the_server_does_not_hold_is_one_401_line_and_exit_1() {
    let Some(keys) = Keys::make("sysadm-ssl-refused") else {
        return;
    };
    let (_srv, url) = serve(&keys);
    let (_, err, code) = run_watch(&url, &keys.path("mallory.pem"), None);
    assert_eq!(code, Some(1), "{err:#?}");
    assert_eq!(err.len(), 1, "{err:#?}");
    assert!(err[0].starts_with("monwire: sysadm: "), "{err:#?}");
    assert!(
        err[0].contains("key login refused: 401 Unauthorized"),
        "{err:#?}"
    );
}

#[test]
fn a_bad_key_file_or_a_wrong_passphrase_is_one_line_and_exit_1() {
    let Some(keys) = Keys::make("sysadm-ssl-badkey") else {
        return;
    };
    // No server is needed: the key is read before connecting (port 9 is discard, unused).
    let url = "ws://127.0.0.1:9";
    std::fs::write(keys.path("junk.pem"), "not a key\n").unwrap();
    for (file, pass, says) in [
        ("alice-enc.pem", Some("Zq9-not-it"), "wrong passphrase"),
        ("junk.pem", None, "no PEM private key"),
        ("alice.pub.pem", None, "not an RSA private key"),
        ("absent.pem", None, "absent.pem"),
    ] {
        let (_, err, code) = run_watch(url, &keys.path(file), pass);
        assert_eq!(code, Some(1), "{file}: {err:#?}");
        assert_eq!(err.len(), 1, "{file}: {err:#?}");
        assert!(
            err[0].contains("--key") && err[0].contains(says),
            "{file}: {err:#?}"
        );
        // The passphrase is never echoed.
        assert!(!err[0].contains("Zq9-not-it"), "{err:#?}");
    }
}

/// The outside peer: a Python `websockets` client that logs in with `auth_ssl`, signing the
/// test string with OpenSSL (`pkeyutl -sign`, PKCS#1 padding, no digest). Mode `right` signs
/// the test string and then subscribes; `wrong` signs other bytes; `unknown` signs the test
/// string (with a key the server does not hold). Prints each reply as a JSON line.
const PY_LOGIN: &str = r#"
import asyncio, base64, json, subprocess, sys
import websockets
url, key, mode = sys.argv[1], sys.argv[2], sys.argv[3]
def sign(data):
    return subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", key,
                           "-pkeyopt", "rsa_padding_mode:pkcs1"],
                          input=data, capture_output=True, check=True).stdout
async def main():
    async with websockets.connect(url) as ws:
        async def reply(id):
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), 20))
                if m.get("id") == id:
                    return m
        await ws.send(json.dumps({"namespace":"rpc","name":"auth_ssl","id":"s1","args":""}))
        ch = await reply("s1")
        print(json.dumps(ch), flush=True)
        ts = ch["args"]["test_string"]
        data = ts.lower().encode() + b"x" if mode == "wrong" else ts.encode()
        sig = base64.b64encode(sign(data)).decode()
        await ws.send(json.dumps({"namespace":"rpc","name":"auth_ssl","id":"s2","args":{"encrypted_string":sig}}))
        print(json.dumps(await reply("s2")), flush=True)
        if mode == "right":
            await ws.send(json.dumps({"namespace":"events","name":"subscribe","id":"sub","args":"system-state"}))
            while True:
                m = json.loads(await asyncio.wait_for(ws.recv(), 20))
                if m.get("namespace") == "events" and m.get("id") == "":
                    print(json.dumps(m), flush=True)
                    break
asyncio.run(main())
"#;

fn python_login(url: &str, key: &Path, mode: &str) -> Vec<Value> {
    let out = stdout_of(
        Command::new(peers::python())
            .args(["-c", PY_LOGIN, url])
            .arg(key)
            .arg(mode),
    );
    String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn an_openssl_signature_from_an_outside_peer_is_accepted() {
    if !peers::python_module("websockets") {
        return;
    }
    let Some(keys) = Keys::make("sysadm-ssl-peer") else {
        return;
    };
    let (_srv, url) = serve(&keys);
    let got = python_login(&url, &keys.path("alice.pem"), "right");
    let [challenge, token, event] = got.as_slice() else {
        panic!("{got:#?}")
    };
    let ts = challenge["args"]["test_string"].as_str().unwrap();
    assert!(
        ts.len() == 20 && ts.bytes().all(|b| b.is_ascii_alphanumeric()),
        "{challenge}"
    );
    assert_eq!(challenge["name"], "response");
    // The real reply: ["<token>", 0].
    assert_eq!(token["name"], "response");
    assert_eq!(token["namespace"], "rpc");
    let grant = token["args"].as_array().unwrap();
    assert_eq!(grant.len(), 2, "{token}");
    assert_eq!(grant[1], 0);
    assert_eq!(grant[0].as_str().unwrap().len(), 20);
    assert_eq!(event["name"], "system-state");
    // Signing other bytes: the real 401.
    let got = python_login(&url, &keys.path("alice.pem"), "wrong");
    let refused = got.last().unwrap();
    assert_eq!(
        *refused,
        serde_json::json!({"args":{"code":"401","message":"Unauthorized"},"id":"s2","name":"error","namespace":"error"})
    );
    // A key the server does not hold, signed the right way: refused too.
    let got = python_login(&url, &keys.path("mallory.pem"), "unknown");
    assert_eq!(got.last().unwrap()["args"]["code"], "401");
}

const PY_RECOVER: &str = r#"
import base64, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import padding
key = serialization.load_pem_public_key(open(sys.argv[1], "rb").read())
sig = base64.b64decode(sys.argv[2])
sys.stdout.write(key.recover_data_from_signature(sig, padding.PKCS1v15(), None).decode())
"#;

#[test]
fn our_signature_recovers_to_the_test_string_with_openssl_and_cryptography() {
    if !peers::python_module("cryptography") {
        return;
    }
    let Some(keys) = Keys::make("sysadm-ssl-recover") else {
        return;
    };
    let pem = std::fs::read_to_string(keys.path("alice.pem")).unwrap();
    let key = SigningKey::from_pem(&pem, None).unwrap();
    for _ in 0..3 {
        let test_string = new_challenge().unwrap();
        let sig = key.sign_challenge(&test_string).unwrap();
        // Python cryptography: RSA_public_decrypt with PKCS#1 padding.
        let out = stdout_of(
            Command::new(peers::python())
                .args(["-c", PY_RECOVER])
                .arg(keys.path("alice.pub.pem"))
                .arg(&sig),
        );
        assert_eq!(String::from_utf8(out).unwrap(), test_string);
        // OpenSSL itself.
        let raw = keys.path("sig.bin");
        std::fs::write(&raw, STANDARD.decode(&sig).unwrap()).unwrap();
        let out = stdout_of(
            Command::new("openssl")
                .args(["pkeyutl", "-verifyrecover", "-pubin", "-inkey"])
                .arg(keys.path("alice.pub.pem"))
                .args(["-pkeyopt", "rsa_padding_mode:pkcs1", "-in"])
                .arg(&raw),
        );
        assert_eq!(String::from_utf8(out).unwrap(), test_string);
    }
    // A signature by OpenSSL verifies with our check (the server's), and only for its bytes.
    let msg = keys.path("msg.txt");
    std::fs::write(&msg, "abcdefghijKLMNOPQRST").unwrap();
    let sig = stdout_of(
        Command::new("openssl")
            .args(["pkeyutl", "-sign", "-inkey"])
            .arg(keys.path("alice.pem"))
            .args(["-pkeyopt", "rsa_padding_mode:pkcs1", "-in"])
            .arg(&msg),
    );
    let public = key.public_key();
    assert!(public.verify_raw(b"abcdefghijKLMNOPQRST", &sig));
    assert!(!public.verify_raw(b"abcdefghijKLMNOPQRSt", &sig));
}
