//! monwire-otlp against a real collector: rotel (an OpenTelemetry collector in Rust, PyPI
//! package `rotel`). The golden events of all four protocols go out over OTLP/HTTP protobuf,
//! OTLP/HTTP JSON and OTLP/gRPC, and rotel's own printout of what it accepted must show every
//! one of them with its scope, resource, severity, both times, event name, body and every typed
//! attribute exactly as the mapping table says. A second set of tests starts the exporter
//! before rotel, kills and restarts rotel mid-stream, and overflows the queue while rotel is
//! away: nothing within the bound is lost, and the counters say exactly what was dropped.
#![cfg(all(
    feature = "otlp",
    feature = "zmq",
    feature = "nsm",
    feature = "galaxy",
    feature = "sysadm"
))]

use std::collections::BTreeMap;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use monwire_event::{Event, Kind, Protocol, Severity};
use monwire_otlp::{
    BatchConfig, Counters, Exporter, ExporterConfig, OtlpProtocol, ResourceInfo, map,
};
use monwire_tests::otlp::{Rotel, check_record, golden_events, rotel_or_skip};

fn config(protocol: OtlpProtocol, rotel: &Rotel, service: &str) -> ExporterConfig {
    let url = match protocol {
        OtlpProtocol::Grpc => rotel.grpc_url(),
        _ => rotel.http_url(),
    };
    let mut resource = ResourceInfo::empty();
    resource.set("service.name", service);
    resource.set("host.name", "test-host");
    let mut c = ExporterConfig::default()
        .with_protocol(protocol)
        .with_endpoint(&url)
        .with_batch(
            BatchConfig::default()
                .with_batch_timeout(Duration::from_millis(50))
                .with_backoff(Duration::from_millis(50), Duration::from_millis(300)),
        )
        .with_timeout(Duration::from_secs(5));
    c.resource = resource;
    c
}

/// The events of each scope, in order (records of one scope keep their order; scopes are
/// grouped per request).
fn by_scope<T>(items: Vec<T>, scope: impl Fn(&T) -> String) -> BTreeMap<String, Vec<T>> {
    let mut m: BTreeMap<String, Vec<T>> = BTreeMap::new();
    for i in items {
        m.entry(scope(&i)).or_default().push(i);
    }
    m
}

async fn golden_over(protocol: OtlpProtocol) {
    let Some(bin) = rotel_or_skip() else { return };
    let rotel = Rotel::start(bin);
    let service = format!("monwire-test-{}", protocol.as_str().replace('/', "-"));
    let exporter = Exporter::start(config(protocol, &rotel, &service)).unwrap();
    let base = SystemTime::now();
    let mut events = golden_events();
    for p in ["zmq", "nsm", "ray", "galaxy", "sysadm"] {
        assert!(
            events.iter().any(|e| e.protocol.as_str() == p),
            "no golden event of {p}"
        );
    }
    // Make the typed mapping visible beyond what the vectors hold: one event with every value
    // kind, nested.
    let mut all_kinds = Event::new(Protocol::Zmq, Kind::Failed, "TYPED")
        .with_subject("tcp://127.0.0.1:1")
        .with_source("test")
        .with_severity(Severity::Error)
        .with_time(UNIX_EPOCH + Duration::from_nanos(1_700_000_000_123_456_789))
        .with_attr("t.bool", true)
        .with_attr("t.int", -5i64)
        .with_attr("t.uint", 7u64)
        .with_attr("t.huge", u64::MAX)
        .with_attr("t.float", 1.5f64)
        .with_attr("t.bytes", monwire_event::Value::Bytes(vec![0, 1, 255]))
        .with_attr(
            "t.list",
            monwire_event::Value::List(vec![1u64.into(), "two".into()]),
        );
    let mut inner = monwire_event::Map::new();
    inner.insert("k", "v w");
    inner.insert("n", monwire_event::Value::Map(monwire_event::Map::new()));
    all_kinds
        .attributes
        .insert("t.map", monwire_event::Value::Map(inner));
    events.push(all_kinds);
    // Distinct observed times, so that each record is checked against its own event.
    for (i, e) in events.iter_mut().enumerate() {
        e.observed = Some(base + Duration::from_micros(i as u64));
    }
    for e in &events {
        exporter.export(e.clone());
    }
    let counters = exporter.shutdown(Duration::from_secs(20)).await;
    let n = events.len() as u64;
    assert_eq!(
        (
            counters.sent,
            counters.dropped,
            counters.rejected,
            counters.pending
        ),
        (n, 0, 0, 0),
        "{counters:?}"
    );
    let records = rotel.wait_records(events.len(), Duration::from_secs(20));
    assert_eq!(
        records.len(),
        events.len(),
        "rotel printed:\n{}",
        rotel.output()
    );
    assert!(records.iter().all(|r| {
        r.resource
            .iter()
            .any(|a| *a == format!("service.name: Str({service})"))
    }));
    let got = by_scope(records, |r| {
        r.scope.split(' ').next().unwrap_or_default().to_owned()
    });
    let want = by_scope(events, |e| map::scope_name(&e.protocol).to_owned());
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (scope, evs) in &want {
        let recs = &got[scope];
        assert_eq!(recs.len(), evs.len(), "{scope}");
        for (r, e) in recs.iter().zip(evs) {
            check_record(r, e, protocol.as_str());
            assert!(
                r.resource.iter().any(|a| a == "host.name: Str(test-host)"),
                "resource {:?}",
                r.resource
            );
        }
    }
    // The all-kinds event really carried its types (not strings that look alike).
    let typed = got["monwire-zmq"]
        .iter()
        .find(|r| r.event_name == "zmq.TYPED")
        .unwrap();
    for line in [
        "-> t.bool: Bool(true)",
        "-> t.int: Int(-5)",
        "-> t.uint: Int(7)",
        "-> t.huge: Str(18446744073709551615)",
        "-> t.float: Double(1.5)",
        "-> t.bytes: Bytes([0, 1, 255])",
        "-> t.list: Slice(Int(1), Str(two))",
        "-> t.map: Map(k:Str(v w), n:Map())",
        "-> monwire.kind: Str(failed)",
        "-> monwire.subject: Str(tcp://127.0.0.1:1)",
        "-> monwire.source: Str(test)",
        "Timestamp: 1700000000123456789",
        "SeverityNumber: SEVERITY_NUMBER_ERROR(17)",
    ] {
        assert!(
            typed.text.contains(line),
            "{line} missing in\n{}",
            typed.text
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_events_of_all_protocols_reach_rotel_over_http_protobuf() {
    golden_over(OtlpProtocol::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_events_of_all_protocols_reach_rotel_over_http_json() {
    golden_over(OtlpProtocol::HttpJson).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn golden_events_of_all_protocols_reach_rotel_over_grpc() {
    golden_over(OtlpProtocol::Grpc).await;
}

fn seq_event(i: u64) -> Event {
    Event::new(Protocol::Zmq, Kind::Connected, "CONNECTED")
        .with_subject("tcp://127.0.0.1:9")
        .with_attr("test.seq", i)
}

/// The `test.seq` of every record rotel printed, in order.
fn seqs(rotel: &Rotel) -> Vec<u64> {
    rotel
        .records()
        .iter()
        .filter_map(|r| {
            let at = r.text.find("-> test.seq: Int(")? + "-> test.seq: Int(".len();
            r.text.get(at..)?.split(')').next()?.parse().ok()
        })
        .collect()
}

async fn wait_counters(
    exporter: &Exporter,
    until: impl Fn(&Counters) -> bool,
    what: &str,
) -> Counters {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let c = exporter.counters();
        if until(&c) {
            return c;
        }
        assert!(Instant::now() < deadline, "{what}: still {c:?} after 30 s");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn resilience_over(protocol: OtlpProtocol) {
    let Some(bin) = rotel_or_skip() else { return };
    let mut rotel = Rotel::unstarted(bin);
    let exporter = Exporter::start(config(protocol, &rotel, "monwire-resilience")).unwrap();
    // 1. The collector is not there yet: the exporter retries, nothing is lost.
    for i in 0..300 {
        exporter.export(seq_event(i));
    }
    wait_counters(&exporter, |c| c.retried > 0, "retrying while rotel is down").await;
    assert_eq!(exporter.counters().sent, 0);
    rotel.restart();
    wait_counters(
        &exporter,
        |c| c.sent == 300,
        "the first 300 after rotel came up",
    )
    .await;
    // 2. Rotel dies mid-stream (SIGKILL, between two acknowledged requests), events keep
    // coming while it is away, then it comes back on the same port.
    rotel.kill();
    let retried_before = exporter.counters().retried;
    for i in 300..700 {
        exporter.export(seq_event(i));
    }
    wait_counters(
        &exporter,
        |c| c.retried > retried_before,
        "retrying while rotel is dead",
    )
    .await;
    rotel.restart();
    for i in 700..1000 {
        exporter.export(seq_event(i));
    }
    let c = exporter.shutdown(Duration::from_secs(30)).await;
    assert_eq!(
        (c.received, c.sent, c.dropped, c.rejected, c.pending),
        (1000, 1000, 0, 0, 0),
        "{c:?}"
    );
    assert!(c.retried > 0);
    let deadline = Instant::now() + Duration::from_secs(20);
    while seqs(&rotel).len() < 1000 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    // Every event arrived exactly once (rotel was only killed with nothing in flight) and in
    // order.
    assert_eq!(seqs(&rotel), (0..1000).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporter_started_before_rotel_survives_its_death_and_loses_nothing_http() {
    resilience_over(OtlpProtocol::HttpProtobuf).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporter_started_before_rotel_survives_its_death_and_loses_nothing_grpc() {
    resilience_over(OtlpProtocol::Grpc).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_overflow_while_rotel_is_away_drops_exactly_the_oldest_and_says_so() {
    let Some(bin) = rotel_or_skip() else { return };
    let mut rotel = Rotel::unstarted(bin);
    let mut c = config(OtlpProtocol::HttpProtobuf, &rotel, "monwire-overflow");
    c.batch = c.batch.with_max_queue(50).with_max_batch(10);
    let exporter = Exporter::start(c).unwrap();
    for i in 0..200 {
        exporter.export(seq_event(i));
    }
    rotel.restart();
    let c = exporter.shutdown(Duration::from_secs(30)).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let got = loop {
        let g = seqs(&rotel);
        if g.len() as u64 >= c.sent || Instant::now() > deadline {
            break g;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    // What arrived: possibly the one batch that was already on its way when the queue filled
    // (it is outside the queue bound), then the newest 50. Everything else was dropped, and
    // the counter says exactly how many.
    assert_eq!(c.sent + c.dropped, 200, "{c:?}");
    assert_eq!(c.sent, got.len() as u64, "{c:?}");
    let newest: Vec<u64> = (150..200).collect();
    let head = &got[..got.len() - newest.len().min(got.len())];
    assert!(got.ends_with(&newest), "the newest 50 must arrive: {got:?}");
    assert!(
        head.is_empty() || head == (0..10).collect::<Vec<_>>(),
        "before them at most the first batch: {head:?}"
    );
    assert_eq!(c.dropped, 200 - 50 - head.len() as u64);
}
