//! Codec only, no network: map a few events to one OTLP export request and print its
//! protobuf size and a readable dump of each record.
//!
//! `cargo run -p monwire-otlp --example otlp_encode`

use monwire_otlp::monwire_event::{Event, Kind, Protocol, Severity};
use monwire_otlp::{ResourceInfo, map};

fn main() {
    let events = [
        Event::new(Protocol::Zmq, Kind::Connected, "CONNECTED")
            .with_subject("tcp://127.0.0.1:5555")
            .with_summary("connected tcp://127.0.0.1:5555 (fd 7)")
            .with_attr("zmq.fd", 7u64),
        Event::new(Protocol::Nsm, Kind::Stopped, "stopped_by_itself")
            .with_subject("nJKLM")
            .with_severity(Severity::Warn)
            .with_attr("nsm.client_id", "nJKLM"),
    ];
    let request = map::to_request(&ResourceInfo::from_env(), events);
    let bytes = map::encode_protobuf(&request);
    println!(
        "{} records, {} bytes of OTLP protobuf",
        map::record_count(&request),
        bytes.len()
    );
    for rl in &request.resource_logs {
        for sl in &rl.scope_logs {
            let scope = sl.scope.as_ref().map(|s| s.name.as_str()).unwrap_or("");
            for r in &sl.log_records {
                println!(
                    "[{scope}] {} {} ({} attributes)",
                    r.severity_text,
                    r.event_name,
                    r.attributes.len()
                );
            }
        }
    }
}
