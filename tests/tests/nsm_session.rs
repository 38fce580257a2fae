//! The sans-IO roles: the server emits ray-daemon's sequences (checked byte for byte against
//! the golden vectors where they exist), the consumer roles handle the spec's scenarios, and a
//! client runs against the server in memory with a fake clock.
#![cfg(feature = "nsm")]
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use monwire_nsm::message::ANNOUNCE_PATH;
use monwire_nsm::session::{
    ClientConfig, ClientPhase, ExternalMonitor, ExternalPhase, MonitorClient, MonitorEvent,
    MonitorServer,
};
use monwire_nsm::{Capabilities, ClientEvent, ErrorCode, Family, Message, codec};
use monwire_tests::nsm::vector;

type Server = MonitorServer<&'static str>;

fn drain(server: &mut Server) -> Vec<(&'static str, Message)> {
    std::iter::from_fn(|| server.poll_transmit()).collect()
}

fn to(peer: &'static str, out: &[(&'static str, Message)]) -> Vec<Message> {
    out.iter()
        .filter(|(p, _)| *p == peer)
        .map(|(_, m)| m.clone())
        .collect()
}

/// Encodes what the server sent to `peer` and compares each datagram with a golden vector.
fn assert_vectors(out: &[Message], names: &[&str]) {
    assert_eq!(out.len(), names.len(), "{out:#?}");
    for (m, name) in out.iter().zip(names) {
        assert_eq!(codec::encode(m).unwrap(), vector(name), "{name}: {m:?}");
    }
}

fn ev(family: Family, id: &str, e: ClientEvent) -> Message {
    Message::ClientEvent {
        family,
        client_id: id.into(),
        event: e,
    }
}

fn nsm_announce(app: &str, caps: &str) -> Message {
    Message::Announce {
        app_name: app.into(),
        capabilities: Capabilities::parse(caps),
        executable: app.to_lowercase(),
        api_major: 1,
        api_minor: 2,
        pid: 4242,
    }
}

#[test]
fn s1_external_announce_without_session_sends_empty_list_then_reply() {
    let mut s = Server::new();
    s.handle_message("mon", Message::MonitorAnnounce);
    let out = drain(&mut s);
    assert_vectors(
        &to("mon", &out),
        &["ray-client-state-end-0", "ray-reply-monitor-announce"],
    );
    assert_eq!(s.monitors(), &["mon"]);
}

#[test]
fn s2_s6_add_start_stop_as_the_external_monitor_sees_them() {
    let mut s = Server::new();
    s.handle_message("mon", Message::MonitorAnnounce);
    s.load_session("raw", &[]);
    drain(&mut s);
    s.add_client("okr", "fake_ok").unwrap();
    s.client_event("okr", ClientEvent::StartRequest).unwrap();
    s.client_event("okr", ClientEvent::Started).unwrap();
    s.client_announced("okr").unwrap();
    s.client_event("okr", ClientEvent::Ready).unwrap();
    s.client_event("okr", ClientEvent::StopRequest).unwrap();
    s.client_event("okr", ClientEvent::StoppedByServer).unwrap();
    s.handle_message("mon", Message::MonitorQuit);
    let out = drain(&mut s);
    assert_vectors(
        &to("mon", &out),
        &[
            "ray-client-updated-okr-0",
            "ray-client-event-okr-start-request",
            "ray-client-event-okr-started",
            "ray-client-updated-okr-1",
            "ray-client-event-okr-ready",
            "ray-client-event-okr-stop-request",
            "ray-client-event-okr-stopped-by-server",
            "ray-reply-monitor-quit",
        ],
    );
    assert!(s.monitors().is_empty());
}

#[test]
fn s8_monitor_client_announce_gets_reply_list_without_itself_then_open() {
    let mut s = Server::new().with_session_root("/srv/rayroot");
    s.load_session("raw2", &[("other", "fake_ok")]);
    s.client_event("other", ClientEvent::Started).unwrap();
    s.handle_message("ext", Message::MonitorAnnounce);
    drain(&mut s);

    s.handle_message("raw", nsm_announce("RawMon", ":monitor:"));
    let out = drain(&mut s);
    assert_vectors(
        &to("raw", &out),
        &[
            "nsm-reply-announce-raysession",
            "nsm-client-state-other-1",
            "nsm-client-state-end-1",
            "nsm-client-open",
        ],
    );
    // The external monitor saw the join, then the update with the joiner's JACK name.
    assert_eq!(
        to("ext", &out),
        vec![
            ev(Family::Ray, "rawmon", ClientEvent::Joined),
            Message::ClientUpdated {
                family: Family::Ray,
                client_id: "rawmon".into(),
                jack_name: "RawMon.rawmon".into(),
                started: 1
            },
        ]
    );

    s.handle_message("raw", Message::MonitorReset);
    let out = drain(&mut s);
    assert_vectors(
        &to("raw", &out),
        &[
            "nsm-reply-monitor-reset",
            "nsm-client-state-other-1",
            "nsm-client-state-end-1",
        ],
    );

    // Answering open: `ready` goes to the others, never to the client itself.
    s.handle_message("raw", Message::reply("/nsm/client/open", "Ready."));
    let out = drain(&mut s);
    assert!(to("raw", &out).is_empty());
    assert_eq!(
        to("ext", &out),
        vec![ev(Family::Ray, "rawmon", ClientEvent::Ready)]
    );

    s.client_event("other", ClientEvent::StopRequest).unwrap();
    s.client_event("other", ClientEvent::StoppedByServer)
        .unwrap();
    let out = drain(&mut s);
    assert_vectors(
        &to("raw", &out),
        &[
            "nsm-client-event-other-stop-request",
            "nsm-client-event-other-stopped-by-server",
        ],
    );
    // Order across receivers: session `:monitor:` clients first, then the monitor list.
    assert_eq!(out.first().map(|(p, _)| *p), Some("raw"));
    assert_eq!(out.get(1).map(|(p, _)| *p), Some("ext"));
}

#[test]
fn s5_reset_from_an_external_monitor_replies_first_and_lists_on_the_nsm_family() {
    let mut s = Server::new();
    s.load_session("seven", &[("okc", "fake_ok"), ("exitc", "fake_exit")]);
    s.client_event("okc", ClientEvent::Started).unwrap();
    s.trash_client("exitc").unwrap();
    s.handle_message("ext", Message::MonitorReset);
    let out = to("ext", &drain(&mut s));
    assert_eq!(
        out,
        vec![
            Message::reply("/nsm/server/monitor_reset", "monitor reset"),
            Message::ClientState {
                family: Family::Nsm,
                client_id: "okc".into(),
                jack_name: "fake_ok".into(),
                started: 1
            },
            // Trashed clients come last, always 0, and are counted.
            Message::ClientState {
                family: Family::Nsm,
                client_id: "exitc".into(),
                jack_name: "fake_exit".into(),
                started: 0
            },
            Message::ClientStateEnd {
                family: Family::Nsm,
                count: 2
            },
        ]
    );
    // A reset does not register the sender.
    assert!(s.monitors().is_empty());
}

#[test]
fn s6_rename_and_remove_from_trash() {
    let mut s = Server::new();
    s.load_session("x", &[("okc", "fake_ok"), ("dumb", "sleeper")]);
    s.handle_message("ext", Message::MonitorAnnounce);
    drain(&mut s);
    s.client_event("okc", ClientEvent::IdChangedTo("okc2".into()))
        .unwrap();
    s.trash_client("dumb").unwrap();
    s.remove_definitely("dumb").unwrap();
    assert_eq!(
        to("ext", &drain(&mut s)),
        vec![
            ev(Family::Ray, "okc", ClientEvent::IdChangedTo("okc2".into())),
            ev(Family::Ray, "dumb", ClientEvent::Removed),
        ]
    );
    assert_eq!(s.clients().map(|c| c.0).collect::<Vec<_>>(), ["okc2"]);
}

#[test]
fn s7_duplicate_registration_doubles_everything_and_needs_two_quits() {
    let mut s = Server::new();
    s.load_session("x", &[("a", "a")]);
    s.handle_message("mon", Message::MonitorAnnounce);
    s.handle_message("mon", Message::MonitorAnnounce);
    drain(&mut s);
    s.client_event("a", ClientEvent::Started).unwrap();
    assert_eq!(to("mon", &drain(&mut s)).len(), 2);
    let quit_reply = Message::reply("/ray/server/monitor_quit", "monitor exit");
    s.handle_message("mon", Message::MonitorQuit);
    assert_eq!(to("mon", &drain(&mut s)), vec![quit_reply.clone()]);
    s.handle_message("mon", Message::MonitorQuit);
    assert_eq!(to("mon", &drain(&mut s)), vec![quit_reply]);
    s.handle_message("mon", Message::MonitorQuit);
    assert!(drain(&mut s).is_empty(), "a third quit gets silence");
}

#[test]
fn s11_errors() {
    let mut s = Server::new();
    s.handle_message("c", nsm_announce("App", ":switch:"));
    assert_eq!(
        to("c", &drain(&mut s)),
        vec![Message::Error {
            path: ANNOUNCE_PATH.into(),
            code: ErrorCode::NoSessionOpen,
            message: "Sorry, but there's no session open for this application to join.".into()
        }]
    );
    // A well-formed message the daemon does not accept gets /minor_error -18 with its tags.
    let bytes = codec::encode(&Message::MonitorAnnounce).unwrap();
    let mut with_arg = bytes[..32].to_vec(); // path
    with_arg.extend_from_slice(b",s\0\0extra\0\0\0");
    let err = codec::decode(&with_arg).unwrap_err();
    let (path, tags) = err.unaccepted_message().unwrap();
    s.handle_unknown("c", path, tags);
    assert_eq!(
        to("c", &drain(&mut s)),
        vec![Message::MinorError {
            path: "/ray/server/monitor_announce".into(),
            code: ErrorCode::UnknownMessage,
            message: "unknown osc message: /ray/server/monitor_announce s".into()
        }]
    );
}

#[test]
fn s10_load_switches_a_reused_client_and_resends_lists() {
    let mut s = Server::new().with_session_root("/r");
    s.load_session("m3", &[("okc", "fake_ok"), ("dumb", "dumb_sleeper")]);
    s.client_event("dumb", ClientEvent::Started).unwrap();
    s.handle_message("mon", nsm_announce("fake_mon", ":monitor:switch:"));
    s.handle_message("ext", Message::MonitorAnnounce);
    drain(&mut s);
    let mon_id = "fake_mon";
    s.load_session(
        "m3dup",
        &[
            ("okc", "fake_ok"),
            ("dumb", "dumb_sleeper"),
            (mon_id, "fake_mon.fake_mon"),
        ],
    );
    let out = drain(&mut s);
    assert_eq!(
        to("mon", &out),
        vec![
            Message::ClientUpdated {
                family: Family::Nsm,
                client_id: "okc".into(),
                jack_name: "fake_ok".into(),
                started: 0
            },
            ev(Family::Nsm, "dumb", ClientEvent::SwitchedTo("dumb".into())),
            // No switched_to about itself; then its open, the list without itself, and loaded.
            Message::Open {
                instance_path: "/r/m3dup/m3dup.fake_mon".into(),
                display_name: "m3dup".into(),
                client_id: "fake_mon.fake_mon".into()
            },
            Message::ClientState {
                family: Family::Nsm,
                client_id: "okc".into(),
                jack_name: "fake_ok".into(),
                started: 0
            },
            Message::ClientState {
                family: Family::Nsm,
                client_id: "dumb".into(),
                jack_name: "dumb_sleeper".into(),
                started: 1
            },
            Message::ClientStateEnd {
                family: Family::Nsm,
                count: 2
            },
            Message::SessionIsLoaded,
        ]
    );
    // The external monitor hears about every client, the monitor client included, and its
    // list (sent before the `:monitor:` client's) counts all three.
    let ext = to("ext", &out);
    assert!(ext.contains(&ev(
        Family::Ray,
        mon_id,
        ClientEvent::SwitchedTo(mon_id.into())
    )));
    assert_eq!(
        ext.last(),
        Some(&Message::ClientStateEnd {
            family: Family::Ray,
            count: 3
        })
    );
    let first_ext_list = out
        .iter()
        .position(|(p, m)| *p == "ext" && matches!(m, Message::ClientState { .. }))
        .unwrap();
    let first_mon_list = out
        .iter()
        .position(|(p, m)| *p == "mon" && matches!(m, Message::ClientState { .. }))
        .unwrap();
    assert!(first_ext_list < first_mon_list);
}

/// Feeds the monitor the vectors' sequences, in capture order.
fn feed(m: &mut ExternalMonitor, names: &[&str], now: Instant) {
    for n in names {
        m.handle_message(codec::decode(&vector(n)).unwrap(), now);
    }
}

fn events(m: &mut ExternalMonitor) -> Vec<MonitorEvent> {
    std::iter::from_fn(|| m.poll_event()).collect()
}

#[test]
fn external_monitor_replays_the_captured_daemon_sequence() {
    let t0 = Instant::now();
    let mut m = ExternalMonitor::new(Duration::from_secs(2));
    m.start(t0);
    assert_eq!(
        m.poll_transmit(),
        Some(Message::MonitorQuit),
        "quit before announce"
    );
    assert_eq!(m.poll_transmit(), Some(Message::MonitorAnnounce));
    // A stale registration's "monitor exit" during start-up is not our end.
    m.handle_message(
        codec::decode(&vector("ray-reply-monitor-quit")).unwrap(),
        t0,
    );
    feed(
        &mut m,
        &["ray-client-state-end-0", "ray-reply-monitor-announce"],
        t0,
    );
    assert_eq!(m.phase(), ExternalPhase::Live);
    let ev1 = events(&mut m);
    assert!(ev1.contains(&MonitorEvent::ListComplete { entries: 0 }));
    assert!(matches!(ev1.last(), Some(MonitorEvent::Registered { .. })));

    feed(
        &mut m,
        &[
            "ray-client-updated-okr-0",
            "ray-client-event-okr-start-request",
            "ray-client-event-okr-started",
        ],
        t0,
    );
    let c = m.model().get("okr").unwrap();
    assert_eq!((c.jack_name.as_str(), c.started), ("fake_ok", true));
    feed(
        &mut m,
        &[
            "ray-client-updated-okr-1",
            "ray-client-event-okr-ready",
            "ray-client-event-okr-stop-request",
            "ray-client-event-okr-stopped-by-server",
        ],
        t0,
    );
    assert!(!m.model().get("okr").unwrap().started);

    m.quit(t0).unwrap();
    assert_eq!(m.poll_transmit(), Some(Message::MonitorQuit));
    feed(&mut m, &["ray-reply-monitor-quit"], t0);
    assert_eq!(m.phase(), ExternalPhase::Closed);
    assert_eq!(
        events(&mut m).last(),
        Some(&MonitorEvent::Closed { confirmed: true })
    );
}

#[test]
fn external_monitor_quit_times_out_on_silence_with_a_fake_clock() {
    let t0 = Instant::now();
    let mut m = ExternalMonitor::new(Duration::from_millis(500));
    m.start(t0);
    m.handle_message(
        Message::reply("/ray/server/monitor_announce", "announced"),
        t0,
    );
    m.quit(t0).unwrap();
    assert_eq!(m.poll_timeout(), Some(t0 + Duration::from_millis(500)));
    m.handle_timeout(t0 + Duration::from_millis(499));
    assert_eq!(m.phase(), ExternalPhase::Quitting);
    m.handle_timeout(t0 + Duration::from_millis(500));
    assert_eq!(m.phase(), ExternalPhase::Closed);
    assert_eq!(
        events(&mut m).last(),
        Some(&MonitorEvent::Closed { confirmed: false })
    );
    assert_eq!(m.poll_timeout(), None);
}

#[test]
fn external_monitor_reports_a_count_mismatch_and_survives_unknown_ids() {
    let t0 = Instant::now();
    let mut m = ExternalMonitor::new(Duration::from_secs(1));
    m.start(t0);
    let entry = |id: &str| Message::ClientState {
        family: Family::Ray,
        client_id: id.into(),
        jack_name: id.into(),
        started: 1,
    };
    m.handle_message(entry("a"), t0);
    m.handle_message(
        Message::ClientStateEnd {
            family: Family::Ray,
            count: 2,
        },
        t0,
    );
    assert!(events(&mut m).contains(&MonitorEvent::CountMismatch {
        received: 1,
        announced: 2
    }));
    assert_eq!(m.poll_transmit(), Some(Message::MonitorQuit));
    assert_eq!(m.poll_transmit(), Some(Message::MonitorAnnounce));
    assert_eq!(m.poll_transmit(), None, "a mismatch never triggers a reset");
    // Events about ids the model lacks are reported and change nothing.
    m.handle_message(ev(Family::Ray, "ghost", ClientEvent::Removed), t0);
    m.handle_message(
        ev(Family::Ray, "ghost", ClientEvent::IdChangedTo("g2".into())),
        t0,
    );
    assert_eq!(m.model().clients().len(), 1);
    // A new list (on either family, e.g. after a reset) replaces the model as a whole.
    m.handle_message(
        Message::ClientState {
            family: Family::Nsm,
            client_id: "b".into(),
            jack_name: "b".into(),
            started: 0,
        },
        t0,
    );
    assert_eq!(
        m.model().get("a").map(|c| c.client_id.as_str()),
        Some("a"),
        "replaced only at the terminator"
    );
    m.handle_message(
        Message::ClientStateEnd {
            family: Family::Nsm,
            count: 1,
        },
        t0,
    );
    assert_eq!(
        m.model()
            .clients()
            .iter()
            .map(|c| c.client_id.as_str())
            .collect::<Vec<_>>(),
        ["b"]
    );
    // The old ,si form updates entries directly.
    m.handle_message(
        Message::ClientStateLegacy {
            family: Family::Ray,
            client_id: "b".into(),
            started: 1,
        },
        t0,
    );
    assert!(m.model().get("b").unwrap().started);
}

#[test]
fn external_monitor_announce_times_out() {
    let t0 = Instant::now();
    let mut m = ExternalMonitor::new(Duration::from_secs(1));
    m.start(t0);
    m.handle_timeout(t0 + Duration::from_secs(1));
    let evs = events(&mut m);
    assert!(evs.contains(&MonitorEvent::TimedOut {
        waiting_for: "/ray/server/monitor_announce"
    }));
    assert_eq!(m.phase(), ExternalPhase::Closed);
}

/// Moves messages between a client at `addr` and the server until both are quiet; returns what
/// the server sent to other peers.
fn pump(
    server: &mut Server,
    client: &mut MonitorClient,
    addr: &'static str,
    now: Instant,
) -> Vec<(&'static str, Message)> {
    let mut others = Vec::new();
    loop {
        let mut moved = false;
        while let Some(m) = client.poll_transmit() {
            let m = codec::decode(&codec::encode(&m).unwrap()).unwrap();
            server.handle_message(addr, m);
            moved = true;
        }
        for (to, m) in drain(server) {
            if to == addr {
                client.handle_message(codec::decode(&codec::encode(&m).unwrap()).unwrap(), now);
                moved = true;
            } else {
                others.push((to, m));
            }
        }
        if !moved {
            return others;
        }
    }
}

#[test]
fn monitor_client_against_the_server_in_memory() {
    let t0 = Instant::now();
    let mut s = Server::new();
    s.load_session("live", &[("synth", "fluidsynth"), ("daw", "ardour")]);
    s.client_event("synth", ClientEvent::Started).unwrap();
    s.handle_message("ext", Message::MonitorAnnounce);
    let mut c = MonitorClient::new(ClientConfig::new("Watcher", "watcher", 999));
    c.start(t0);
    let others = pump(&mut s, &mut c, "me", t0);
    assert_eq!(c.phase(), ClientPhase::Registered { monitor: true });
    let evs: Vec<_> = std::iter::from_fn(|| c.poll_event()).collect();
    // The list came before open, and open was answered (the server then sent `ready`).
    let list_at = evs
        .iter()
        .position(|e| matches!(e, MonitorEvent::ListComplete { entries: 2 }))
        .unwrap();
    let open_at = evs
        .iter()
        .position(|e| matches!(e, MonitorEvent::Open { .. }))
        .unwrap();
    assert!(list_at < open_at);
    assert_eq!(c.model().clients().len(), 2, "itself is not listed");
    assert!(c.model().get("synth").unwrap().started);
    let ext: Vec<Message> = to("ext", &others);
    assert!(ext.contains(&ev(Family::Ray, "watcher", ClientEvent::Ready)));

    // Live events apply to the model; a reset is allowed and re-lists.
    s.client_event("daw", ClientEvent::Started).unwrap();
    s.client_event("synth", ClientEvent::StoppedByItself)
        .unwrap();
    pump(&mut s, &mut c, "me", t0);
    assert!(c.model().get("daw").unwrap().started);
    assert!(!c.model().get("synth").unwrap().started);
    c.reset().unwrap();
    pump(&mut s, &mut c, "me", t0);
    assert_eq!(c.model().lists_received(), 2);

    // Save is answered like a well-behaved client.
    s.handle_message("me", Message::reply("/nsm/client/save", "Saved."));
    assert!(to("ext", &drain(&mut s)).contains(&ev(Family::Ray, "watcher", ClientEvent::Saved)));
    c.handle_message(Message::Save, t0);
    assert_eq!(
        c.poll_transmit(),
        Some(Message::reply("/nsm/client/save", "Saved."))
    );
}

#[test]
fn monitor_client_refuses_reset_without_the_monitor_capability() {
    let t0 = Instant::now();
    let mut c = MonitorClient::new(ClientConfig::new("W", "w", 7));
    c.start(t0);
    let Some(Message::Announce { capabilities, .. }) = c.poll_transmit() else {
        panic!()
    };
    assert_eq!(capabilities.to_wire(), ":monitor:");
    c.handle_message(
        Message::Reply {
            path: ANNOUNCE_PATH.into(),
            args: vec![
                "hi".into(),
                "New Session Manager".into(),
                ":server-control:broadcast:optional-gui:".into(),
            ],
        },
        t0,
    );
    assert_eq!(c.phase(), ClientPhase::Registered { monitor: false });
    assert!(matches!(
        c.poll_event(),
        Some(MonitorEvent::MonitorUnsupported { .. })
    ));
    assert_eq!(
        c.reset(),
        Err(monwire_nsm::error::StateError::NoMonitorCapability)
    );
    assert_eq!(c.poll_transmit(), None);
}

#[test]
fn monitor_client_announce_error_and_timeout() {
    let t0 = Instant::now();
    let mut c = MonitorClient::new(ClientConfig::new("W", "w", 7));
    c.start(t0);
    let mut s = Server::new();
    pump(&mut s, &mut c, "me", t0);
    assert_eq!(c.phase(), ClientPhase::Failed);
    assert!(std::iter::from_fn(|| c.poll_event()).any(|e| matches!(
        e,
        MonitorEvent::AnnounceFailed {
            code: ErrorCode::NoSessionOpen,
            ..
        }
    )));

    let mut c = MonitorClient::new(ClientConfig::new("W", "w", 7));
    c.start(t0);
    assert_eq!(c.poll_timeout(), Some(t0 + Duration::from_secs(5)));
    c.handle_timeout(t0 + Duration::from_secs(5));
    assert_eq!(c.phase(), ClientPhase::Failed);
    assert!(matches!(
        c.poll_event(),
        Some(MonitorEvent::TimedOut { .. })
    ));
}
