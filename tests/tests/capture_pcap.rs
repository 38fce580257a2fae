//! `monwire decode nsm|galaxy|sysadm X.pcap` on real `tcpdump` captures of loopback traffic
//! between our own watch/serve pairs: the capture gives the events the watcher printed.
//!
//! Each test captures with a filter on its own ports, on `-i lo` (Ethernet framing) and, for
//! NSM, on `-i any` as well (Linux cooked v2), at the same time. Needs root for tcpdump (CI
//! runs as root); skips with a reason only when tcpdump is missing and
//! `MONWIRE_REQUIRE_PEERS` is unset.

mod capture_common;

use std::process::Command;
use std::time::Duration;

use capture_common::{
    Proc, Tcpdump, decode, events, eventually, have_tcpdump, key, monwire, temp_dir,
};
use serde_json::Value;

const T: Duration = Duration::from_secs(20);

/// Whether `want` appears in `got` in order (other events may come between).
fn subsequence(want: &[Value], got: &[Value]) -> bool {
    let mut it = got.iter();
    want.iter().all(|w| it.any(|g| g == w))
}

#[test]
fn nsm_pcap_of_lo_and_any_gives_every_datagram_both_ways_and_the_watchers_events() {
    if !have_tcpdump() {
        return;
    }
    let dir = temp_dir("pcap-nsm");
    let mut serve = Proc::spawn({
        let mut c = monwire();
        c.args(["serve", "nsm", "--port", "0", "--linger", "5", "--json"]);
        c
    });
    let line = serve.stderr_line("osc.udp://", T);
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("osc.udp://"))
        .unwrap()
        .trim_end_matches(';')
        .to_owned();
    let port: u16 = url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let filter = format!("udp port {port}");
    let lo = Tcpdump::start("lo", &filter, &dir.join("lo.pcap"));
    let any = Tcpdump::start("any", &filter, &dir.join("any.pcap"));
    let out = monwire()
        .args(["watch", "nsm", "--url", &url, "--count", "13", "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let watched: Vec<Value> = events(&lines).iter().map(key).collect();
    assert_eq!(watched.len(), 13);
    // The server's datagrams to the monitor, without the replies its session consumed.
    let from_server = |evs: &[Value]| -> Vec<Value> {
        evs.iter()
            .filter(|e| e["source"] == url.as_str() && e["name"] != "reply")
            .map(key)
            .collect()
    };
    // Packets reach the file as tcpdump reads them: wait (bounded) until all are there.
    for cap in [&lo.file, &any.file] {
        assert!(
            eventually(T, || from_server(&decode("nsm", cap, &[]).0).len()
                >= watched.len()),
            "{} never held the watcher's datagrams",
            cap.display()
        );
    }
    lo.stop();
    any.stop();
    for cap in ["lo.pcap", "any.pcap"] {
        let (got, stderr, code) = decode("nsm", &dir.join(cap), &[]);
        assert_eq!(code, Some(0), "{cap}: {stderr}");
        assert_eq!(from_server(&got)[..watched.len()], watched[..], "{cap}");
        // Both directions: the monitor's own announce is in the capture too.
        assert!(
            got.iter()
                .any(|e| e["name"] == "monitor_announce" && e["source"] != url.as_str()),
            "{cap}: the monitor's datagrams are missing"
        );
        // --port keeps them; another port drops them all.
        let (same, _, _) = decode("nsm", &dir.join(cap), &["--port", &port.to_string()]);
        assert_eq!(same.len(), got.len());
        let (none, _, _) = decode("nsm", &dir.join(cap), &["--port", "9"]);
        assert!(none.is_empty(), "{cap}: --port 9 still gave {none:?}");
    }
}

#[test]
fn galaxy_pcap_gives_the_watchers_events_from_the_reassembled_hub_stream() {
    if !have_tcpdump() {
        return;
    }
    let dir = temp_dir("pcap-galaxy");
    let mut cmd = monwire();
    cmd.args(["watch", "galaxy", "--listen", "127.0.0.1:0", "--json"]);
    let mut watch = Proc::spawn(cmd);
    let line = watch.stderr_line("waiting for the Hub on", T);
    let addr = line.rsplit(' ').next().unwrap().to_owned();
    let port = addr.rsplit(':').next().unwrap().to_owned();
    let cap = Tcpdump::start("lo", &format!("tcp port {port}"), &dir.join("galaxy.pcap"));
    let served = monwire()
        .args(["serve", "galaxy", "--gui", &addr])
        .output()
        .unwrap();
    assert!(
        served.status.success(),
        "{}",
        String::from_utf8_lossy(&served.stderr)
    );
    let lines = watch.stdout_until(T, |l| l.contains("\"disconnect\""));
    drop(watch);
    let watched: Vec<Value> = events(&lines).iter().map(key).collect();
    let hub_side = |evs: &[Value]| -> Vec<Value> {
        evs.iter()
            .filter(|e| e["attributes"].get("galaxy.from").is_none())
            .map(key)
            .collect()
    };
    let file = cap.file.clone();
    assert!(
        eventually(T, || hub_side(&decode("galaxy", &file, &[]).0).len()
            >= watched.len()),
        "the capture never held the watcher's messages"
    );
    cap.stop();
    let (got, stderr, code) = decode("galaxy", &file, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(hub_side(&got), watched);
    // The GUI's replies (the other direction) are in it too, marked as such.
    assert!(
        got.iter()
            .any(|e| e["attributes"]["galaxy.from"] == "server"),
        "the GUI -> Hub direction is missing"
    );
}

#[test]
fn sysadm_pcap_of_ws_gives_the_watchers_events_and_redacts_the_password() {
    if !have_tcpdump() {
        return;
    }
    let dir = temp_dir("pcap-sysadm");
    let password = "pw-In-Clear-On-The-Wire-9";
    let mut serve = Proc::spawn({
        let mut c = monwire();
        c.args([
            "serve",
            "sysadm",
            "--listen",
            "127.0.0.1:0",
            "--plain",
            "--user",
            "alice",
            "--interval",
            "200",
            "--count",
            "50",
            "--json",
        ])
        .env("MONWIRE_SYSADM_PASSWORD", password);
        c
    });
    let line = serve.stderr_line("serving ws://", T);
    let url = line.rsplit(' ').next().unwrap().to_owned();
    let port = url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let cap = Tcpdump::start("lo", &format!("tcp port {port}"), &dir.join("sysadm.pcap"));
    let out = Command::new(capture_common::monwire_bin())
        .args([
            "watch", "sysadm", &url, "--user", "alice", "--count", "6", "--json",
        ])
        .env("MONWIRE_SYSADM_PASSWORD", password)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    let session = [
        "connected",
        "authenticated",
        "subscribed",
        "disconnected",
        "reconnecting",
    ];
    // The SysAdm events off the wire (the session's own events have no message of their own).
    let wire: Vec<Value> = events(&lines)
        .iter()
        .filter(|e| !session.contains(&e["name"].as_str().unwrap_or_default()))
        .map(key)
        .collect();
    assert_eq!(wire.len(), 6, "{lines:#?}");
    let file = cap.file.clone();
    assert!(
        eventually(T, || {
            let got: Vec<Value> = decode("sysadm", &file, &[]).0.iter().map(key).collect();
            subsequence(&wire, &got)
        }),
        "the capture never held the watcher's events"
    );
    cap.stop();
    let (got, stderr, code) = decode("sysadm", &file, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    let got_keys: Vec<Value> = got.iter().map(key).collect();
    assert!(subsequence(&wire, &got_keys), "{wire:#?}\n{got_keys:#?}");
    // The client's requests are there too (both directions), the login among them, but the
    // password, in clear on the wire, never reaches the output.
    assert!(got.iter().any(|e| e.to_string().contains("alice")));
    let all = got.iter().map(Value::to_string).collect::<String>();
    assert!(!all.contains(password), "the password reached the output");
    assert!(!stderr.contains(password));
}

#[test]
fn sysadm_pcap_of_wss_is_reported_encrypted_and_skipped() {
    if !have_tcpdump() {
        return;
    }
    let dir = temp_dir("pcap-wss");
    let cert = dir.join("cert.pem");
    let mut serve = Proc::spawn({
        let mut c = monwire();
        c.args([
            "serve",
            "sysadm",
            "--listen",
            "127.0.0.1:0",
            "--interval",
            "200",
            "--count",
            "50",
            "--json",
            "--cert-out",
        ])
        .arg(&cert);
        c
    });
    let line = serve.stderr_line("serving wss://", T);
    let url = line.rsplit(' ').next().unwrap().to_owned();
    let port = url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let cap = Tcpdump::start("lo", &format!("tcp port {port}"), &dir.join("wss.pcap"));
    // The watcher talks TLS to the server until it is stopped.
    let mut cmd = monwire();
    cmd.args(["watch", "sysadm", &url, "--insecure", "--json"]);
    let mut watch = Proc::spawn(cmd);
    watch.stdout_until(T, |l| l.contains("\"connected\""));
    let file = cap.file.clone();
    assert!(
        eventually(T, || decode("sysadm", &file, &[]).1.contains("encrypted")),
        "the TLS connection was never reported"
    );
    drop(watch);
    cap.stop();
    let (got, stderr, code) = decode("sysadm", &file, &[]);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(got.is_empty(), "events out of a TLS stream: {got:?}");
    assert!(
        stderr.contains("TLS (wss://): encrypted, skipped"),
        "{stderr}"
    );
}
