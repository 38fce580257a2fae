//! Codec only: write a recording of two NSM datagrams into memory and read it back.
//!
//! `cargo run -p monwire-capture --example recording`

use std::time::{Duration, UNIX_EPOCH};

use monwire_capture::record::{Direction, Header, Payload, Reader, Record, Writer};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let header = Header::new("nsm").with("role", "external");
    let mut w = Writer::new(Vec::new(), &header)?;
    let t0 = UNIX_EPOCH + Duration::from_secs(1_764_000_000);
    for (i, path) in ["/ray/monitor/client_event", "/ray/monitor/client_state"]
        .iter()
        .enumerate()
    {
        let mut datagram = path.as_bytes().to_vec();
        datagram.resize(datagram.len().next_multiple_of(4) + 4, 0);
        let at = t0 + Duration::from_millis(i as u64 * 250);
        w.write(
            &Record::new(at, Direction::In, Payload::Datagram(datagram))
                .with_peer("127.0.0.1:16187"),
        )?;
    }
    let bytes = w.into_inner()?;
    print!("{}", String::from_utf8_lossy(&bytes));

    let reader = Reader::new(&bytes[..])?;
    println!(
        "# protocol {}, role {:?}",
        reader.header().protocol,
        reader.header().get("role")
    );
    for rec in reader {
        let rec = rec?;
        let t = rec.time.duration_since(UNIX_EPOCH)?;
        println!(
            "# {}.{:03} {} {} from {}",
            t.as_secs(),
            t.subsec_millis(),
            rec.direction,
            rec.payload.kind(),
            rec.peer.as_deref().unwrap_or("-")
        );
    }
    Ok(())
}
