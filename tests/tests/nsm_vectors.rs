//! Every golden vector captured from ray-daemon 0.18 decodes to the value its README documents,
//! and re-encodes byte for byte.
#![cfg(feature = "nsm")]
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_nsm::event::{from_event, to_event};
use monwire_nsm::{Capabilities, Capability, ClientEvent, Family, Message, codec};
use monwire_tests::nsm::vector;

fn reply(path: &str, msg: &str) -> Message {
    Message::reply(path, msg)
}

fn event(family: Family, id: &str, e: ClientEvent) -> Message {
    Message::ClientEvent {
        family,
        client_id: id.into(),
        event: e,
    }
}

fn expected() -> Vec<(&'static str, usize, Message)> {
    use Family::{Nsm, Ray};
    vec![
        ("ray-monitor-announce", 36, Message::MonitorAnnounce),
        (
            "ray-client-state-end-0",
            48,
            Message::ClientStateEnd {
                family: Ray,
                count: 0,
            },
        ),
        (
            "ray-reply-monitor-announce",
            56,
            reply("/ray/server/monitor_announce", "announced"),
        ),
        (
            "ray-client-updated-okr-0",
            52,
            Message::ClientUpdated {
                family: Ray,
                client_id: "okr".into(),
                jack_name: "fake_ok".into(),
                started: 0,
            },
        ),
        (
            "ray-client-event-okr-start-request",
            52,
            event(Ray, "okr", ClientEvent::StartRequest),
        ),
        (
            "ray-client-event-okr-started",
            44,
            event(Ray, "okr", ClientEvent::Started),
        ),
        (
            "ray-client-updated-okr-1",
            52,
            Message::ClientUpdated {
                family: Ray,
                client_id: "okr".into(),
                jack_name: "fake_ok".into(),
                started: 1,
            },
        ),
        (
            "ray-client-event-okr-ready",
            44,
            event(Ray, "okr", ClientEvent::Ready),
        ),
        (
            "ray-client-event-okr-stop-request",
            52,
            event(Ray, "okr", ClientEvent::StopRequest),
        ),
        (
            "ray-client-event-okr-stopped-by-server",
            56,
            event(Ray, "okr", ClientEvent::StoppedByServer),
        ),
        ("ray-monitor-quit", 32, Message::MonitorQuit),
        (
            "ray-reply-monitor-quit",
            56,
            reply("/ray/server/monitor_quit", "monitor exit"),
        ),
        (
            "nsm-reply-announce-raysession",
            144,
            Message::Reply {
                path: "/nsm/server/announce".into(),
                args: vec![
                    "Well hello, stranger. Welcome to the party.".into(),
                    "RaySession".into(),
                    ":server-control:broadcast:optional-gui:monitor:".into(),
                ],
            },
        ),
        (
            "nsm-client-state-other-1",
            64,
            Message::ClientState {
                family: Nsm,
                client_id: "other".into(),
                jack_name: "fake_ok".into(),
                started: 1,
            },
        ),
        (
            "nsm-client-state-end-1",
            56,
            Message::ClientStateEnd {
                family: Nsm,
                count: 1,
            },
        ),
        (
            "nsm-client-open",
            84,
            Message::Open {
                instance_path: "/srv/rayroot/raw2/raw2.rawmon".into(),
                display_name: "raw2".into(),
                client_id: "RawMon.rawmon".into(),
            },
        ),
        (
            "nsm-reply-monitor-reset",
            56,
            reply("/nsm/server/monitor_reset", "monitor reset"),
        ),
        (
            "nsm-client-event-other-stop-request",
            64,
            event(Nsm, "other", ClientEvent::StopRequest),
        ),
        (
            "nsm-client-event-other-stopped-by-server",
            68,
            event(Nsm, "other", ClientEvent::StoppedByServer),
        ),
    ]
}

#[test]
fn every_vector_decodes_to_its_documented_value_and_reencodes_byte_for_byte() {
    let table = expected();
    let files = monwire_tests::vectors::files("nsm", ".hex");
    assert_eq!(
        files.len(),
        table.len(),
        "a vector file without an expected value, or the reverse"
    );
    for (name, len, want) in table {
        let bytes = vector(name);
        assert_eq!(bytes.len(), len, "{name}: length");
        let got = codec::decode(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(got, want, "{name}");
        assert_eq!(codec::encode(&got).unwrap(), bytes, "{name}: re-encoding");
        // And through the event model.
        assert_eq!(from_event(&to_event(&got)).unwrap(), got, "{name}: event");
    }
}

#[test]
fn open_vector_keeps_the_captured_instance_path() {
    let Message::Open { instance_path, .. } = codec::decode(&vector("nsm-client-open")).unwrap()
    else {
        panic!("not an open");
    };
    assert_eq!(instance_path.len(), 29);
    assert!(instance_path.ends_with("/raw2/raw2.rawmon"));
}

#[test]
fn raysession_announce_reply_has_the_monitor_capability() {
    let m = codec::decode(&vector("nsm-reply-announce-raysession")).unwrap();
    let (_, name, caps) = m.announce_reply().unwrap();
    assert_eq!(name, "RaySession");
    let want: Capabilities = [
        Capability::ServerControl,
        Capability::Broadcast,
        Capability::OptionalGui,
        Capability::Monitor,
    ]
    .into_iter()
    .collect();
    assert_eq!(caps, want);
    assert_eq!(
        caps.to_wire(),
        ":server-control:broadcast:optional-gui:monitor:"
    );
}

#[test]
fn vector_events_map_to_the_normalized_kinds() {
    use monwire_event::{Kind, Protocol};
    let cases = [
        (
            "ray-client-event-okr-start-request",
            Protocol::Ray,
            Kind::Starting,
            "start_request",
        ),
        (
            "ray-client-event-okr-started",
            Protocol::Ray,
            Kind::Started,
            "started",
        ),
        (
            "ray-client-event-okr-ready",
            Protocol::Ray,
            Kind::Ready,
            "ready",
        ),
        (
            "ray-client-event-okr-stop-request",
            Protocol::Ray,
            Kind::Stopping,
            "stop_request",
        ),
        (
            "ray-client-event-okr-stopped-by-server",
            Protocol::Ray,
            Kind::Stopped,
            "stopped_by_server",
        ),
        (
            "nsm-client-event-other-stopped-by-server",
            Protocol::Nsm,
            Kind::Stopped,
            "stopped_by_server",
        ),
        (
            "ray-client-updated-okr-1",
            Protocol::Ray,
            Kind::Updated,
            "client_updated",
        ),
        (
            "nsm-client-state-other-1",
            Protocol::Nsm,
            Kind::State,
            "client_state",
        ),
        (
            "ray-monitor-quit",
            Protocol::Ray,
            Kind::EndOfStream,
            "monitor_quit",
        ),
    ];
    for (name, protocol, kind, ev) in cases {
        let e = to_event(&codec::decode(&vector(name)).unwrap());
        assert_eq!(
            (e.protocol, e.kind, e.name.as_str()),
            (protocol, kind, ev),
            "{name}"
        );
    }
    let e = to_event(&codec::decode(&vector("ray-client-updated-okr-1")).unwrap());
    assert_eq!(e.subject, "okr");
    assert_eq!(
        e.attr("ray.jack_name").and_then(|v| v.as_str()),
        Some("fake_ok")
    );
    assert_eq!(e.attr("ray.started").and_then(|v| v.as_i64()), Some(1));
}

/// Every golden vector's event carries the one-line summary the terminal view shows, and the
/// message's own `Display` is the oscdump form of its bytes (no `Debug` dump).
#[test]
fn vector_events_have_readable_summaries_and_messages_display_as_oscdump_does() {
    let cases: [(&str, &str, &str); 7] = [
        (
            "ray-client-event-okr-ready",
            "client okr ready",
            r#"/ray/monitor/client_event ss "okr" "ready""#,
        ),
        (
            "ray-client-event-okr-stopped-by-server",
            "client okr stopped by the server",
            r#"/ray/monitor/client_event ss "okr" "stopped_by_server""#,
        ),
        (
            "ray-client-state-end-0",
            "state list ends: 0 clients",
            r#"/ray/monitor/client_state ssi "" "" 0"#,
        ),
        (
            "nsm-client-state-other-1",
            "client other (fake_ok) listed, running",
            r#"/nsm/client/monitor/client_state ssi "other" "fake_ok" 1"#,
        ),
        (
            "ray-client-updated-okr-0",
            "client okr (fake_ok) updated, stopped",
            r#"/ray/monitor/client_updated ssi "okr" "fake_ok" 0"#,
        ),
        (
            "ray-reply-monitor-quit",
            "/ray/server/monitor_quit answered: monitor exit",
            r#"/reply ss "/ray/server/monitor_quit" "monitor exit""#,
        ),
        (
            "ray-monitor-announce",
            "monitor announce",
            "/ray/server/monitor_announce ",
        ),
    ];
    for (name, summary, display) in cases {
        let m = codec::decode(&vector(name)).unwrap();
        let e = to_event(&m);
        assert_eq!(e.summary.as_deref(), Some(summary), "{name}");
        assert_eq!(m.to_string(), display, "{name}");
        // The summary states the path: a one-line view hides it.
        let keys = monwire_nsm::event::summary_keys(&e);
        let path_key = format!("{}.path", e.protocol.as_str());
        assert!(keys.contains(&path_key.as_str()), "{name}: {keys:?}");
    }
}

/// A hostile string cannot break a `Display` line: control characters are escaped.
#[test]
fn display_escapes_control_characters_and_quotes() {
    let m = Message::ClientEvent {
        family: Family::Ray,
        client_id: "a\n\u{1b}[31m\"b\\".into(),
        event: ClientEvent::Ready,
    };
    let line = m.to_string();
    assert_eq!(
        line,
        r#"/ray/monitor/client_event ss "a\u{a}\u{1b}[31m\"b\\" "ready""#
    );
    assert!(!line.contains('\n') && !line.contains('\u{1b}'));
}

/// `Ray`'s family is `Nsm`: a filter on `nsm` keeps an external monitor's `ray` events.
#[test]
fn a_filter_on_nsm_keeps_ray_events() {
    let filter = monwire_event::Filter::new().with_protocols([monwire_event::Protocol::Nsm]);
    let ray = to_event(&codec::decode(&vector("ray-client-event-okr-ready")).unwrap());
    let nsm = to_event(&codec::decode(&vector("nsm-client-state-other-1")).unwrap());
    assert_eq!(ray.protocol, monwire_event::Protocol::Ray);
    assert!(filter.matches(&ray) && filter.matches(&nsm));
    let only_ray = monwire_event::Filter::new().with_protocols([monwire_event::Protocol::Ray]);
    assert!(only_ray.matches(&ray) && !only_ray.matches(&nsm));
}
