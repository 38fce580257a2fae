//! `monwire watch galaxy` against `monwire serve galaxy` on loopback: every scripted status
//! message of the built-in script arrives as an event, in order, and the debug prompt is
//! answered (the serve side reports the answer).
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

fn monwire() -> Command {
    Command::new(env!("CARGO_BIN_EXE_monwire"))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn watch_galaxy_against_serve_galaxy_prints_every_scripted_message() {
    let port = free_port();
    let mut watch = monwire()
        .args(["watch", "galaxy", "--json", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = watch.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.unwrap()).is_err() {
                break;
            }
        }
    });
    // The watcher binds asynchronously: retry the Hub side until it connects (bounded).
    let mut served = None;
    for _ in 0..50 {
        let out = monwire()
            .args(["serve", "galaxy", "--gui"])
            .arg(format!("127.0.0.1:{port}"))
            .output()
            .unwrap();
        if out.status.success() {
            served = Some(out);
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let served = served.expect("serve galaxy never reached the watcher");
    let names: Vec<String> = std::iter::from_fn(|| rx.recv_timeout(Duration::from_secs(10)).ok())
        .map(|l| {
            let e: monwire_event::Event = serde_json::from_str(&l).unwrap();
            e.name
        })
        .take_while(|n| n != "disconnect")
        .collect();
    let _ = watch.kill();
    let _ = watch.wait();
    assert_eq!(
        names,
        [
            "handshake",
            "reinitialize",
            "provider_status",
            "new_service_type",
            "listener_status",
            "session_status",
            "token_status",
            "token_status",
            "message_event",
            "message_queue_status",
            "session_lock_status",
            "provider_status",
            "token_status",
            "hub_debug_prompt",
        ]
    );
    let stderr = String::from_utf8_lossy(&served.stderr);
    assert!(stderr.contains("debug answer"), "{stderr}");
}
