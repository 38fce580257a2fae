#![cfg(feature = "galaxy")]
//! Real TCP on loopback: our Hub side against our GUI server and GUI client, the captured Hub
//! streams replayed into our GUI roles (replies compared byte for byte with the C GUI's), and a
//! consumer that never reads while the Hub floods it.
// Helpers outside #[test] fns fail loudly too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use monwire_galaxy::codec::Codec;
use monwire_galaxy::session::{GuiEvent, HubEvent, default_hub_init};
use monwire_galaxy::status::{StatusMessage, TokenAction};
use monwire_galaxy::text::read_frame;
use monwire_galaxy::tokio::{GuiConfig, HubConnection, accept_hub, connect_to_hub};
use monwire_tests::vectors;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(30);

fn token(tidx: i32) -> StatusMessage {
    StatusMessage::TokenStatus {
        action: TokenAction::Destroyed,
        debug: false,
        state: None,
        tidx: Some(tidx),
    }
}

async fn next(conn: &mut monwire_galaxy::tokio::GuiConnection) -> GuiEvent {
    timeout(LIMIT, conn.next_event())
        .await
        .expect("in time")
        .expect("an event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_side_against_gui_server() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let gui = tokio::spawn(async move {
        let mut conn = accept_hub(&listener, GuiConfig::default()).await.unwrap();
        let mut seen = Vec::new();
        loop {
            let ev = next(&mut conn).await;
            if let GuiEvent::Status(StatusMessage::HubDebugPrompt { admin }) = &ev {
                assert_eq!(admin.get_int(":server_tidx"), Some(1));
                conn.answer_debug_prompt("t\n").unwrap();
                conn.send_menu_pick(read_frame(b"{c quit }").unwrap())
                    .unwrap();
                seen.push(ev);
                break;
            }
            seen.push(ev);
        }
        (conn, seen)
    });
    let mut hub = timeout(
        LIMIT,
        HubConnection::connect(addr, Codec::default(), default_hub_init()),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(hub.gui_info().unwrap().is_named("__gui__"));
    for i in 1..=3 {
        hub.send_status(&token(i)).await.unwrap();
    }
    let cmd = timeout(LIMIT, hub.debug_prompt()).await.unwrap().unwrap();
    assert_eq!(cmd.as_deref(), Some(&b"t\n"[..]));
    match timeout(LIMIT, hub.next_event()).await.unwrap().unwrap() {
        HubEvent::NewMessage(f) => {
            assert!(f.is_named("quit"));
            assert!(
                f.get_frame(":hub_opaque_data")
                    .unwrap()
                    .is_named("admin_info")
            );
        }
        other => panic!("{other:?}"),
    }
    hub.close().await.unwrap();
    let (conn, seen) = gui.await.unwrap();
    assert!(matches!(seen[0], GuiEvent::Handshake { conn_type: 1, .. }));
    assert!(matches!(seen[1], GuiEvent::Reinitialize(_)));
    assert_eq!(seen[2..5], [1, 2, 3].map(|i| GuiEvent::Status(token(i))));
    assert_eq!(seen.len(), 6);
    timeout(LIMIT, conn.finish()).await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_listener_against_gui_client() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hub = tokio::spawn(async move {
        let mut hub = HubConnection::accept(&listener, Codec::default(), default_hub_init())
            .await
            .unwrap();
        hub.send_status(&token(7)).await.unwrap();
        let cmd = hub.debug_prompt().await.unwrap();
        hub.close().await.unwrap();
        cmd
    });
    let mut conn = connect_to_hub(addr, GuiConfig::default().with_debug_cmd("c"))
        .await
        .unwrap();
    assert!(matches!(next(&mut conn).await, GuiEvent::Accepted { .. }));
    match next(&mut conn).await {
        GuiEvent::Reinitialize(f) => {
            assert!(f.get("server_type").is_none() && f.get(":server_type").is_none())
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(next(&mut conn).await, GuiEvent::Status(token(7)));
    assert!(matches!(
        next(&mut conn).await,
        GuiEvent::Status(StatusMessage::HubDebugPrompt { .. })
    ));
    assert_eq!(
        timeout(LIMIT, hub).await.unwrap().unwrap().as_deref(),
        Some(&b"c"[..])
    );
    assert_eq!(next(&mut conn).await, GuiEvent::Closed);
    timeout(LIMIT, conn.finish()).await.unwrap().unwrap();
}

async fn read_exactly(s: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    timeout(LIMIT, s.read_exact(&mut buf))
        .await
        .unwrap()
        .unwrap();
    buf
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captured_hub_stream_into_gui_server_gives_the_c_replies() {
    let hub2gui = vectors::read("galaxy", "cap.hub2gui");
    let gui2hub = vectors::read("galaxy", "cap.gui2hub");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let gui = tokio::spawn(async move {
        let mut conn = accept_hub(&listener, GuiConfig::default()).await.unwrap();
        let mut events = Vec::new();
        while let Some(e) = timeout(LIMIT, conn.next_event()).await.unwrap() {
            events.push(e);
        }
        conn.finish().await.unwrap();
        events
    });
    let mut hub = TcpStream::connect(addr).await.unwrap();
    // As the Hub does: the handshake, wait for the reply; reinitialize, wait for the echo.
    hub.write_all(&hub2gui[..96]).await.unwrap();
    assert_eq!(read_exactly(&mut hub, 1120).await, gui2hub[..1120]);
    hub.write_all(&hub2gui[96..328]).await.unwrap();
    assert_eq!(read_exactly(&mut hub, 232).await, gui2hub[1120..]);
    // The status messages, in odd-sized pieces; no reply may come.
    for chunk in hub2gui[328..].chunks(37) {
        hub.write_all(chunk).await.unwrap();
    }
    hub.shutdown().await.unwrap();
    let mut rest = Vec::new();
    timeout(LIMIT, hub.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap();
    assert!(rest.is_empty(), "the GUI answered a status message");
    let events = timeout(LIMIT, gui).await.unwrap().unwrap();
    // The capture ends with a TCP close and no DISCONNECT: still one end-of-stream event, last.
    assert_eq!(events.len(), 15);
    assert!(matches!(events.last(), Some(GuiEvent::ConnectionLost)));
    assert!(
        matches!(&events[0], GuiEvent::Handshake { conn_type: 1, frame } if frame.is_named("handshake"))
    );
    let statuses = events
        .iter()
        .filter(|e| matches!(e, GuiEvent::Status(_)))
        .count();
    assert_eq!(statuses, 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn captured_hub_listener_stream_into_gui_client_gives_the_c_messages() {
    let hub2gui = vectors::read("galaxy", "cap4.hub2gui");
    let gui2hub = vectors::read("galaxy", "cap4.gui2hub");
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hub = tokio::spawn(async move {
        let (mut s, _) = listener.accept().await.unwrap();
        let announce = read_exactly(&mut s, 1120).await;
        s.write_all(&hub2gui[..1320]).await.unwrap();
        let echo = read_exactly(&mut s, 200).await;
        s.write_all(&hub2gui[1320..]).await.unwrap();
        s.shutdown().await.unwrap();
        (announce, echo)
    });
    let mut conn = connect_to_hub(addr, GuiConfig::default()).await.unwrap();
    let mut events = Vec::new();
    while let Some(e) = timeout(LIMIT, conn.next_event()).await.unwrap() {
        events.push(e);
    }
    // Accepted, reinitialize, 5 status messages, then the close without DISCONNECT.
    assert_eq!(events.len(), 2 + 5 + 1);
    assert!(matches!(events.last(), Some(GuiEvent::ConnectionLost)));
    let (announce, echo) = timeout(LIMIT, hub).await.unwrap().unwrap();
    assert_eq!(announce, gui2hub[..1120]);
    assert_eq!(echo, gui2hub[1120..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_that_never_reads_does_not_stall_the_hub() {
    const N: i32 = 100_000; // 8 MB, far beyond the socket buffers.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let gui = tokio::spawn(async move {
        accept_hub(&listener, GuiConfig::default().with_event_capacity(8))
            .await
            .unwrap()
    });
    let mut hub = HubConnection::connect(addr, Codec::default(), default_hub_init())
        .await
        .unwrap();
    let mut conn = gui.await.unwrap();
    // Nobody reads `conn` while the Hub writes everything.
    timeout(LIMIT, async {
        for i in 0..N {
            hub.send_status(&token(i)).await.unwrap();
        }
    })
    .await
    .expect("the Hub's writes never stall");
    // The prompt is never dropped: it arrives after whatever fit in the channel.
    let prompt = tokio::spawn(async move {
        let cmd = hub.debug_prompt().await.unwrap();
        hub.close().await.unwrap();
        cmd
    });
    let mut received = 0u64;
    loop {
        match next(&mut conn).await {
            GuiEvent::Status(StatusMessage::HubDebugPrompt { .. }) => break,
            GuiEvent::Status(_) | GuiEvent::Handshake { .. } | GuiEvent::Reinitialize(_) => {
                received += 1
            }
            other => panic!("{other:?}"),
        }
    }
    conn.answer_debug_prompt("c").unwrap();
    assert_eq!(
        timeout(LIMIT, prompt).await.unwrap().unwrap().as_deref(),
        Some(&b"c"[..])
    );
    let dropped = conn.dropped_events();
    // The Hub finished 8 MB of writes while nobody read: most of it was dropped, none lost
    // silently.
    assert!(dropped > 0);
    assert_eq!(received + dropped, N as u64 + 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_script_played_to_a_gui_server_arrives_whole() {
    use monwire_galaxy::script::{Step, default_script};
    let steps = default_script();
    let sent: Vec<StatusMessage> = steps
        .iter()
        .filter_map(|s| match s {
            Step::Send(f) => Some(StatusMessage::from_frame(f.clone())),
            _ => None,
        })
        .collect();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let gui = tokio::spawn(async move {
        let mut conn = accept_hub(&listener, GuiConfig::default().with_debug_cmd("c\n"))
            .await
            .unwrap();
        let mut statuses = Vec::new();
        while let Some(e) = timeout(LIMIT, conn.next_event()).await.unwrap() {
            if let GuiEvent::Status(s) = e {
                statuses.push(s);
            }
        }
        conn.finish().await.unwrap();
        statuses
    });
    let mut hub = HubConnection::connect(addr, Codec::default(), default_hub_init())
        .await
        .unwrap();
    let answers = timeout(LIMIT, hub.play(&steps)).await.unwrap().unwrap();
    assert_eq!(answers, [Some(b"c\n".to_vec())]);
    hub.close().await.unwrap();
    let statuses = timeout(LIMIT, gui).await.unwrap().unwrap();
    assert_eq!(statuses.len(), sent.len() + 1);
    assert_eq!(statuses[..sent.len()], sent[..]);
    assert!(matches!(
        statuses[sent.len()],
        StatusMessage::HubDebugPrompt { .. }
    ));
}
