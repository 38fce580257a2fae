//! Codec only, no IO: a Hub status frame from its text form to the wire and back, then to a
//! `monwire_event::Event` (its summary and its JSON, with the frame in structured form) and back.
//!
//! Run with `cargo run -p monwire-galaxy --example galaxy_codec`.

use monwire_galaxy::message::{Message, MsgType};
use monwire_galaxy::{codec, event, text};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let frame = text::read_frame(b"{c session_status :action 1 :session_id \"Default\" }")
        .ok_or("the text is not a frame")?;

    // The wire: an 8-byte header (type, size), then the XDR body.
    let bytes = codec::encode(&Message::frame(MsgType::Message, frame.clone()))?;
    println!("{} bytes on the wire", bytes.len());

    // A stream decoder says "need more bytes" with Ok(None) and consumes nothing.
    assert!(codec::decode(&bytes[..10])?.is_none());
    let (msg, used) = codec::decode(&bytes)?.ok_or("a whole message")?;
    assert_eq!(used, bytes.len());
    println!("decoded: {msg}");

    // The shared event: a summary for people, the structured frame for programs.
    let ev = event::to_event(&frame);
    println!("{} {}: {}", ev.kind, ev.name, ev.summary_text());
    println!("{}", serde_json::to_string(&ev)?);
    // Lossless: the event gives the frame back.
    assert_eq!(event::from_event(&ev)?, frame);
    Ok(())
}
