//! The OTLP/HTTP error paths against a stand-in collector: a small HTTP/1.1 server inside the
//! test that answers from a script with real OTLP response bytes (protobuf
//! `ExportLogsServiceResponse`, JSON partial success), and records every request it got.
//! Proves: 429 with `Retry-After` is retried after that delay with the same bytes; 503 is
//! retried with backoff; 400 is never retried and the batch is counted as rejected; a partial
//! success counts its rejected records and is reported; gzip, custom headers and content types
//! are what the specification says.
#![cfg(feature = "otlp")]

use std::io::Read as _;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use monwire_event::{Event, Kind, Protocol};
use monwire_otlp::batch::Notice;
use monwire_otlp::opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use monwire_otlp::{BatchConfig, Compression, Exporter, ExporterConfig, OtlpProtocol};
use prost::Message as _;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpListener;

#[derive(Clone, Debug)]
struct Got {
    at: Instant,
    head: String,
    body: Vec<u8>,
}

impl Got {
    fn header(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    }
}

struct Reply {
    status: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
}

fn reply(status: &'static str) -> Reply {
    Reply {
        status,
        headers: vec![],
        body: vec![],
    }
}

/// A stand-in collector: answers requests with `script` in order, then `200 OK` with an
/// empty body. Returns its base URL and the requests it got.
async fn stand_in(script: Vec<Reply>) -> (String, Arc<Mutex<Vec<Got>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let script = Arc::new(Mutex::new(script.into_iter()));
    let g = got.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let (g, script) = (g.clone(), script.clone());
            tokio::spawn(async move {
                let mut buf = Vec::new();
                loop {
                    // Read one request: head, then Content-Length bytes (bounded).
                    let head_end = loop {
                        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            break i + 4;
                        }
                        let mut chunk = [0u8; 4096];
                        match tokio::time::timeout(Duration::from_secs(30), sock.read(&mut chunk))
                            .await
                        {
                            Ok(Ok(n)) if n > 0 && buf.len() < 1 << 20 => {
                                buf.extend_from_slice(&chunk[..n])
                            }
                            _ => return,
                        }
                    };
                    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
                    let len: usize = head
                        .lines()
                        .find_map(|l| {
                            let (k, v) = l.split_once(':')?;
                            k.eq_ignore_ascii_case("content-length")
                                .then(|| v.trim().parse().ok())?
                        })
                        .unwrap_or(0);
                    while buf.len() < head_end + len {
                        let mut chunk = [0u8; 65536];
                        match tokio::time::timeout(Duration::from_secs(30), sock.read(&mut chunk))
                            .await
                        {
                            Ok(Ok(n)) if n > 0 => buf.extend_from_slice(&chunk[..n]),
                            _ => return,
                        }
                    }
                    let body = buf[head_end..head_end + len].to_vec();
                    buf.drain(..head_end + len);
                    g.lock().unwrap().push(Got {
                        at: Instant::now(),
                        head,
                        body,
                    });
                    let r = script
                        .lock()
                        .unwrap()
                        .next()
                        .unwrap_or_else(|| reply("200 OK"));
                    let mut out = format!(
                        "HTTP/1.1 {}\r\ncontent-length: {}\r\n",
                        r.status,
                        r.body.len()
                    );
                    for (k, v) in &r.headers {
                        out.push_str(&format!("{k}: {v}\r\n"));
                    }
                    out.push_str("\r\n");
                    let mut bytes = out.into_bytes();
                    bytes.extend_from_slice(&r.body);
                    if sock.write_all(&bytes).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, got)
}

fn events(n: usize) -> Vec<Event> {
    (0..n)
        .map(|i| {
            Event::new(Protocol::Zmq, Kind::Connected, "CONNECTED").with_attr("test.seq", i as u64)
        })
        .collect()
}

fn config(url: &str) -> ExporterConfig {
    ExporterConfig::default().with_endpoint(url).with_batch(
        BatchConfig::default()
            .with_batch_timeout(Duration::from_millis(20))
            .with_backoff(Duration::from_millis(50), Duration::from_millis(200)),
    )
}

type Notices = Arc<Mutex<Vec<Notice>>>;

fn start(config: ExporterConfig) -> (Exporter, Notices) {
    let notices: Notices = Arc::default();
    let n = notices.clone();
    let exporter = Exporter::start_with_notices(
        config,
        Some(Box::new(move |x: &Notice| {
            n.lock().unwrap().push(x.clone())
        })),
    )
    .unwrap();
    (exporter, notices)
}

fn decode(body: &[u8]) -> ExportLogsServiceRequest {
    ExportLogsServiceRequest::decode(body).unwrap()
}

fn records(r: &ExportLogsServiceRequest) -> usize {
    monwire_otlp::map::record_count(r)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_429_is_retried_after_retry_after_with_the_same_bytes() {
    let mut r429 = reply("429 Too Many Requests");
    r429.headers.push(("retry-after", "1".to_owned()));
    let (url, got) = stand_in(vec![r429]).await;
    let (exporter, notices) = start(config(&url));
    for e in events(5) {
        exporter.export(e);
    }
    let c = exporter.shutdown(Duration::from_secs(15)).await;
    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "one refused attempt, one retry");
    assert!(
        got[1].at - got[0].at >= Duration::from_secs(1),
        "the retry came {:?} after the 429, before its Retry-After of 1 s",
        got[1].at - got[0].at
    );
    assert_eq!(got[0].body, got[1].body, "a retry resends the same request");
    assert_eq!(records(&decode(&got[1].body)), 5);
    assert_eq!(
        (c.sent, c.retried, c.rejected, c.dropped),
        (5, 5, 0, 0),
        "{c:?}"
    );
    let n = notices.lock().unwrap().clone();
    assert!(
        n.iter()
            .any(|x| matches!(x, Notice::Retrying { delay, reason, .. }
            if *delay == Duration::from_secs(1) && reason.contains("429"))),
        "{n:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_503_502_504_are_retried_with_backoff() {
    let (url, got) = stand_in(vec![
        reply("503 Service Unavailable"),
        reply("502 Bad Gateway"),
        reply("504 Gateway Timeout"),
    ])
    .await;
    let (exporter, _) = start(config(&url));
    for e in events(3) {
        exporter.export(e);
    }
    let c = exporter.shutdown(Duration::from_secs(15)).await;
    assert_eq!(got.lock().unwrap().len(), 4);
    assert_eq!((c.sent, c.retried, c.rejected), (3, 9, 0), "{c:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn http_400_is_not_retried_and_counts_the_batch_as_rejected() {
    let mut r400 = reply("400 Bad Request");
    r400.headers
        .push(("content-type", "application/json".to_owned()));
    r400.body = br#"{"code":3,"message":"malformed log record"}"#.to_vec();
    let (url, got) = stand_in(vec![r400]).await;
    let (exporter, notices) = start(config(&url));
    for e in events(4) {
        exporter.export(e);
    }
    let c = exporter.shutdown(Duration::from_secs(15)).await;
    // Give a wrong retry every chance to show up.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(got.lock().unwrap().len(), 1, "400 must not be retried");
    assert_eq!(
        (c.sent, c.retried, c.rejected, c.dropped),
        (0, 0, 4, 0),
        "{c:?}"
    );
    let n = notices.lock().unwrap().clone();
    assert!(
        n.iter()
            .any(|x| matches!(x, Notice::Rejected { count: 4, reason }
            if reason.contains("400") && reason.contains("malformed log record"))),
        "{n:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_protobuf_partial_success_counts_rejected_records_and_is_reported() {
    let response = ExportLogsServiceResponse {
        partial_success: Some(ExportLogsPartialSuccess {
            rejected_log_records: 2,
            error_message: "2 records too large".to_owned(),
        }),
    };
    let mut ok = reply("200 OK");
    ok.headers
        .push(("content-type", "application/x-protobuf".to_owned()));
    ok.body = response.encode_to_vec();
    let (url, _) = stand_in(vec![ok]).await;
    let (exporter, notices) = start(config(&url));
    for e in events(5) {
        exporter.export(e);
    }
    let c = exporter.shutdown(Duration::from_secs(15)).await;
    assert_eq!(
        (c.sent, c.rejected, c.partial_successes),
        (3, 2, 1),
        "{c:?}"
    );
    let n = notices.lock().unwrap().clone();
    assert!(
        n.contains(&Notice::PartialSuccess {
            rejected: 2,
            message: Some("2 records too large".to_owned())
        }),
        "{n:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_json_partial_success_is_read_too() {
    let mut ok = reply("200 OK");
    ok.headers
        .push(("content-type", "application/json".to_owned()));
    ok.body = br#"{"partialSuccess":{"rejectedLogRecords":"1","errorMessage":"one bad"}}"#.to_vec();
    let (url, got) = stand_in(vec![ok]).await;
    let (exporter, _) = start(config(&url).with_protocol(OtlpProtocol::HttpJson));
    for e in events(2) {
        exporter.export(e);
    }
    let c = exporter.shutdown(Duration::from_secs(15)).await;
    assert_eq!(
        (c.sent, c.rejected, c.partial_successes),
        (1, 1, 1),
        "{c:?}"
    );
    let got = got.lock().unwrap().clone();
    assert_eq!(
        got[0].header("content-type").as_deref(),
        Some("application/json")
    );
    let json: serde_json::Value = serde_json::from_slice(&got[0].body).unwrap();
    let rec = &json["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
    assert_eq!(rec["eventName"], "zmq.CONNECTED");
    assert_eq!(rec["severityNumber"], 9);
    assert_eq!(
        rec["attributes"][0]["value"]["intValue"], "0",
        "int64 is a JSON string: {rec}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gzip_headers_and_content_type_follow_the_spec() {
    let (url, got) = stand_in(vec![]).await;
    let mut cfg = config(&format!("{url}/custom/logs")).with_compression(Compression::Gzip);
    cfg.set_header("Authorization", "Bearer s3cret");
    let (exporter, _) = start(cfg);
    for e in events(3) {
        exporter.export(e);
    }
    let c = exporter.shutdown(Duration::from_secs(15)).await;
    assert_eq!(c.sent, 3);
    let got = got.lock().unwrap().clone();
    let g = &got[0];
    assert!(
        g.head.starts_with("POST /custom/logs HTTP/1.1"),
        "{}",
        g.head
    );
    assert_eq!(
        g.header("content-type").as_deref(),
        Some("application/x-protobuf")
    );
    assert_eq!(g.header("content-encoding").as_deref(), Some("gzip"));
    assert_eq!(g.header("authorization").as_deref(), Some("Bearer s3cret"));
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&g.body[..])
        .read_to_end(&mut raw)
        .unwrap();
    assert_eq!(records(&decode(&raw)), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_env_endpoint_gets_v1_logs_appended() {
    let (url, got) = stand_in(vec![]).await;
    let env = |k: &str| match k {
        "OTEL_EXPORTER_OTLP_ENDPOINT" => Some(url.clone()),
        "OTEL_EXPORTER_OTLP_HEADERS" => Some("x-tenant=a%20b".to_owned()),
        "OTEL_BLRP_SCHEDULE_DELAY" => Some("20".to_owned()),
        _ => None,
    };
    let cfg = ExporterConfig::from_env_with(&env).unwrap();
    let (exporter, _) = start(cfg);
    exporter.export(events(1).remove(0));
    let c = exporter.shutdown(Duration::from_secs(15)).await;
    assert_eq!(c.sent, 1);
    let g = got.lock().unwrap()[0].clone();
    assert!(g.head.starts_with("POST /v1/logs HTTP/1.1"), "{}", g.head);
    assert_eq!(g.header("x-tenant").as_deref(), Some("a b"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_keeps_its_deadline_when_the_collector_never_answers_well() {
    // Every answer is 503: the exporter retries until the deadline, then counts the batch as
    // dropped, and shutdown returns on time.
    let (url, _) = stand_in(
        (0..1000)
            .map(|_| reply("503 Service Unavailable"))
            .collect(),
    )
    .await;
    let (exporter, _) = start(config(&url));
    for e in events(7) {
        exporter.export(e);
    }
    let t = Instant::now();
    let c = exporter.shutdown(Duration::from_millis(800)).await;
    assert!(
        t.elapsed() < Duration::from_secs(3),
        "shutdown took {:?}",
        t.elapsed()
    );
    assert_eq!((c.sent, c.dropped, c.pending), (0, 7, 0), "{c:?}");
    assert!(c.retried > 0);
}
