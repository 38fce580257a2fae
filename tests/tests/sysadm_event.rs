#![cfg(feature = "sysadm")]
//! The normalization table: each golden event's Kind, Severity, subject and derived attributes,
//! and the lossless way back.
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_event::{Kind, Severity, Value};
use monwire_sysadm::codec::{Limits, decode};
use monwire_sysadm::event::{bridged_message, from_event, to_event, unwrap_bridged, value_to_json};
use monwire_tests::vectors;

#[test]
fn golden_events_normalize() {
    let cases = [
        (
            "event-dispatcher-running.json",
            Kind::Started,
            Severity::Info,
            "procID1",
        ),
        (
            "event-dispatcher-finished.json",
            Kind::Stopped,
            Severity::Info,
            "procID1",
        ),
        (
            "event-dispatcher-pkg-pending.json",
            Kind::Starting,
            Severity::Info,
            "sysadm_pkg_install-{3f2504e0-4f89-11d3-9a0c-0305e82c3301}",
        ),
        (
            "event-dispatcher-pkg-pending-ping.json",
            Kind::Starting,
            Severity::Info,
            "sysadm_pkg_install-{3f2504e0-4f89-11d3-9a0c-0305e82c3301}",
        ),
        (
            "event-dispatcher-pkg-running.json",
            Kind::Started,
            Severity::Info,
            "sysadm_pkg_install-{3f2504e0-4f89-11d3-9a0c-0305e82c3301}",
        ),
        (
            "event-dispatcher-pkg-running-output.json",
            Kind::Progress,
            Severity::Info,
            "sysadm_pkg_install-{3f2504e0-4f89-11d3-9a0c-0305e82c3301}",
        ),
        (
            "event-dispatcher-pkg-finished.json",
            Kind::Stopped,
            Severity::Info,
            "sysadm_pkg_install-{3f2504e0-4f89-11d3-9a0c-0305e82c3301}",
        ),
        (
            "event-life-preserver-replication-running.json",
            Kind::Progress,
            Severity::Info,
            "replication",
        ),
        (
            "event-life-preserver-snapshot.json",
            Kind::Saved,
            Severity::Info,
            "snapshot",
        ),
        (
            "event-system-state.json",
            Kind::State,
            Severity::Info,
            "trueos-box",
        ),
        (
            "event-system-state-degraded.json",
            Kind::State,
            Severity::Fatal,
            "trueos-box",
        ),
        (
            "event-system-state-updates.json",
            Kind::State,
            Severity::Info,
            "trueos-box",
        ),
        (
            "event-bridge.json",
            Kind::Connected,
            Severity::Info,
            "bridge",
        ),
        (
            "event-bridge-empty.json",
            Kind::Disconnected,
            Severity::Info,
            "bridge",
        ),
    ];
    for (file, kind, severity, subject) in cases {
        let bytes = vectors::read("sysadm", file);
        let m = decode(&bytes, &Limits::default()).unwrap();
        let e = to_event(&m);
        assert_eq!(
            (e.kind, e.severity, e.subject.as_str()),
            (kind, severity, subject),
            "{file}"
        );
        assert_eq!(e.name, m.name);
        // `sysadm.args` is the args as one structured value (a map), equal to the JSON the
        // server wrote; no attribute holds JSON text.
        let args = e.attr("sysadm.args").unwrap();
        assert!(matches!(args, Value::Map(_)), "{file}");
        let wire: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(
            value_to_json(args, "sysadm.args").unwrap(),
            wire["args"],
            "{file}"
        );
        for (k, v) in e.attributes.iter() {
            if let Value::Str(s) = v {
                assert!(
                    !s.starts_with('{') && !s.starts_with('['),
                    "{file}: {k} holds JSON text"
                );
            }
        }
        assert!(e.summary.is_some(), "{file}");
        assert_eq!(from_event(&e).unwrap(), m, "{file}");
    }
    let m = decode(
        &vectors::read("sysadm", "event-system-state-degraded.json"),
        &Limits::default(),
    )
    .unwrap();
    let e = to_event(&m);
    assert_eq!(e.attr("sysadm.priority_level"), Some(&Value::UInt(9)));
    assert_eq!(
        e.attr("sysadm.unhealthy_pools"),
        Some(&Value::List(vec!["tank".into()]))
    );

    // A failed job reads as Failed/ERROR.
    let failed = std::str::from_utf8(&vectors::read("sysadm", "event-dispatcher-finished.json"))
        .unwrap()
        .replace(
            "\"return_codes/echo sample1\":\"0\"",
            "\"return_codes/echo sample1\":\"1\"",
        );
    let e = to_event(&decode(failed.as_bytes(), &Limits::default()).unwrap());
    assert_eq!((e.kind, e.severity), (Kind::Failed, Severity::Error));
    assert_eq!(e.attr("sysadm.return_code"), Some(&Value::Int(1)));
    assert_eq!(e.summary.as_deref(), Some("job procID1 finished, rc 1"));
}

#[test]
fn other_protocols_bridge_as_monwire_events() {
    let ev = monwire_event::Event::new(
        monwire_event::Protocol::Nsm,
        Kind::Stopped,
        "stopped_by_itself",
    )
    .with_subject("client-1")
    .with_attr("nsm.pid", 42u64);
    let m = bridged_message(&ev).unwrap();
    assert_eq!(
        (m.namespace.as_str(), m.name.as_str(), m.id.as_str()),
        ("events", "monwire-nsm", "")
    );
    assert_eq!(unwrap_bridged(&m), Some(ev));
    // A SysAdm wire event is republished as itself.
    let state = decode(
        &vectors::read("sysadm", "event-system-state.json"),
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(bridged_message(&to_event(&state)).unwrap(), state);
}

/// The summaries the terminal view leads with, one per golden event.
#[test]
fn golden_events_have_short_summaries() {
    let cases = [
        ("event-dispatcher-running.json", "job procID1 running"),
        (
            "event-dispatcher-finished.json",
            "job procID1 finished, rc 0",
        ),
        (
            "event-dispatcher-pkg-finished.json",
            "job sysadm_pkg_install-{3f2504e0-4f89-11d3-9a0c-0305e82c3301} finished, rc 0",
        ),
        (
            "event-life-preserver-snapshot.json",
            "snapshot: Mon Mar 28 10:00:01 EDT 2016: New snapshot of tank/usr/home",
        ),
        (
            "event-system-state.json",
            "trueos-box: 0 - Information, pool tank ONLINE",
        ),
        ("event-bridge.json", "bridge: 2 connections available"),
        ("event-bridge-empty.json", "bridge: 0 connections available"),
    ];
    for (file, want) in cases {
        let m = decode(&vectors::read("sysadm", file), &Limits::default()).unwrap();
        let e = to_event(&m);
        assert_eq!(e.summary.as_deref(), Some(want), "{file}");
        assert_eq!(m.to_string(), want, "{file}: Display is the summary");
    }
    // The summary states the return code, so the terminal view leaves that key out.
    let m = decode(
        &vectors::read("sysadm", "event-dispatcher-finished.json"),
        &Limits::default(),
    )
    .unwrap();
    let e = to_event(&m);
    assert!(monwire_sysadm::event::summary_keys(&e).contains(&"sysadm.return_code"));
}
