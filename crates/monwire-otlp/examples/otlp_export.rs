//! Live: export a few events to a collector and print the counters.
//!
//! `cargo run -p monwire-otlp --example otlp_export -- http://127.0.0.1:4318`
//! (without an argument the standard `OTEL_EXPORTER_OTLP_*` variables decide, then
//! `http://localhost:4318`).

use std::time::Duration;

use monwire_otlp::monwire_event::{Event, Kind, Protocol};
use monwire_otlp::{Exporter, ExporterConfig};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = ExporterConfig::from_env()?;
    if let Some(url) = std::env::args().nth(1) {
        config = config.with_endpoint(&url);
    }
    eprintln!("exporting to {} ({})", config.endpoint, config.protocol);
    let exporter = Exporter::start_with_notices(
        config,
        Some(Box::new(|n: &monwire_otlp::batch::Notice| {
            eprintln!("otlp: {n:?}")
        })),
    )?;
    for i in 0..10u64 {
        exporter.export(
            Event::new(Protocol::Zmq, Kind::Connected, "CONNECTED")
                .with_subject("tcp://127.0.0.1:5555")
                .with_attr("zmq.fd", i),
        );
    }
    let counters = exporter.shutdown(Duration::from_secs(5)).await;
    println!("otlp: {counters}");
    Ok(())
}
