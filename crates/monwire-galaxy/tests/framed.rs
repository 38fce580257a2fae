//! `MessageCodec` under `FramedRead`/`FramedWrite` over real loopback TCP, with the real Hub's
//! bytes (`tests/vectors/galaxy/cap.hub2gui`) written in odd-sized pieces.
#![cfg(feature = "tokio")]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // a panic is a failed test

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use monwire_galaxy::codec::Codec;
use monwire_galaxy::error::DecodeErrorKind;
use monwire_galaxy::message::Message;
use monwire_galaxy::tokio::{CodecError, MessageCodec};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;
use tokio_util::codec::{FramedRead, FramedWrite};

const LIMIT: Duration = Duration::from_secs(20);

fn capture() -> Vec<u8> {
    let p = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/vectors/galaxy/cap.hub2gui"
    );
    std::fs::read(p).unwrap()
}

fn messages(bytes: &[u8]) -> Vec<Message> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let (m, used) = Codec::default().decode(&bytes[at..]).unwrap().unwrap();
        out.push(m);
        at += used;
    }
    out
}

async fn pair() -> (TcpStream, TcpStream) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    let (a, b) = tokio::join!(TcpStream::connect(addr), l.accept());
    (a.unwrap(), b.unwrap().0)
}

#[tokio::test]
async fn framed_read_gives_the_captured_messages_from_any_split() {
    let cap = capture();
    let want = messages(&cap);
    assert_eq!(want.len(), 14);
    let (mut tx, rx) = pair().await;
    let writer = tokio::spawn(async move {
        for chunk in cap.chunks(37) {
            tx.write_all(chunk).await.unwrap();
            tx.flush().await.unwrap();
        }
    });
    let mut rx = FramedRead::new(rx, MessageCodec::default());
    let mut got = Vec::new();
    while let Some(m) = timeout(LIMIT, rx.next()).await.unwrap() {
        got.push(m.unwrap());
    }
    writer.await.unwrap();
    assert_eq!(got, want);
    assert_eq!(rx.decoder().offset(), 2320);
}

#[tokio::test]
async fn framed_write_sends_the_captured_bytes() {
    let cap = capture();
    let (tx, mut rx) = pair().await;
    let mut tx = FramedWrite::new(tx, MessageCodec::default());
    for m in messages(&cap) {
        tx.send(m).await.unwrap();
    }
    drop(tx);
    let mut got = Vec::new();
    timeout(
        LIMIT,
        tokio::io::AsyncReadExt::read_to_end(&mut rx, &mut got),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(got, cap);
}

#[tokio::test]
async fn a_stream_cut_inside_a_message_ends_with_a_truncation_error() {
    let cap = capture();
    let (mut tx, rx) = pair().await;
    tx.write_all(&cap[..100]).await.unwrap();
    drop(tx);
    let mut rx = FramedRead::new(rx, MessageCodec::default());
    let first = timeout(LIMIT, rx.next()).await.unwrap().unwrap().unwrap();
    assert!(first.as_frame().unwrap().is_named("handshake"));
    match timeout(LIMIT, rx.next()).await.unwrap() {
        Some(Err(CodecError::Decode(e))) => {
            assert_eq!(e.offset, 100, "{e}");
            assert!(matches!(e.kind, DecodeErrorKind::Truncated { .. }), "{e}");
        }
        other => panic!("{other:?}"),
    }
}
