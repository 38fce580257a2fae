#![cfg(feature = "galaxy")]
//! The captured Hub <-> GUI sessions: every message decodes and re-encodes byte for byte, and
//! the outline printer reproduces every frame block the C GUI logged (`gui.out`, `gui4.out`).
// Helpers outside #[test] fns fail loudly too: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_galaxy::codec::Codec;
use monwire_galaxy::message::MsgType;
use monwire_galaxy::text;
use monwire_tests::galaxy::{frame_blocks, messages};
use monwire_tests::vectors;

const CAPTURES: [&str; 4] = ["cap.hub2gui", "cap.gui2hub", "cap4.hub2gui", "cap4.gui2hub"];

#[test]
fn every_captured_message_reencodes_byte_for_byte() {
    let codec = Codec::default();
    for name in CAPTURES {
        let bytes = vectors::read("galaxy", name);
        let mut out = Vec::new();
        for (at, body, m) in messages(&bytes) {
            assert!(m.as_frame().is_some(), "{name}@{at}: body is a frame");
            let enc = codec.encode(&m).unwrap();
            assert_eq!(enc, bytes[at..at + 8 + body], "{name}@{at}");
            out.extend_from_slice(&enc);
        }
        assert_eq!(out, bytes, "{name}");
    }
}

/// offset, body length, message type, frame name.
type Row = (usize, usize, i32, &'static str);

#[test]
fn captures_match_the_readme_tables() {
    let table: [(&str, &[Row]); 4] = [
        (
            "cap.hub2gui",
            &[
                (0, 88, 1, "handshake"),
                (96, 224, 1, "reinitialize"),
                (328, 248, 1, "provider_status"),
                (584, 248, 1, "provider_status"),
                (840, 88, 1, "session_status"),
                (936, 188, 1, "token_status"),
                (1132, 188, 1, "token_status"),
                (1328, 72, 1, "token_status"),
                (1408, 144, 1, "provider_status"),
                (1560, 144, 1, "provider_status"),
                (1712, 144, 1, "provider_status"),
                (1864, 144, 1, "provider_status"),
                (2016, 144, 1, "provider_status"),
                (2168, 144, 1, "provider_status"),
            ],
        ),
        (
            "cap.gui2hub",
            &[(0, 1112, 2, "__gui__"), (1120, 224, 2, "reinitialize")],
        ),
        (
            "cap4.hub2gui",
            &[
                (0, 1112, 2, "__gui__"),
                (1120, 192, 1, "reinitialize"),
                (1320, 144, 1, "provider_status"),
                (1472, 144, 1, "provider_status"),
                (1624, 144, 1, "provider_status"),
                (1776, 144, 1, "provider_status"),
                (1928, 144, 1, "provider_status"),
            ],
        ),
        (
            "cap4.gui2hub",
            &[(0, 1112, 1, "__gui__"), (1120, 192, 2, "reinitialize")],
        ),
    ];
    for (name, rows) in table {
        let got: Vec<(usize, usize, i32, String)> = messages(&vectors::read("galaxy", name))
            .into_iter()
            .map(|(at, body, m)| {
                let f = m.as_frame().unwrap();
                (
                    at,
                    body,
                    m.msg_type.code(),
                    String::from_utf8(f.name_bytes().to_vec()).unwrap(),
                )
            })
            .collect();
        let want: Vec<(usize, usize, i32, String)> = rows
            .iter()
            .map(|&(a, b, t, n)| (a, b, t, n.to_owned()))
            .collect();
        assert_eq!(got, want, "{name}");
    }
}

#[test]
fn pr_text_of_captured_frames() {
    let hub = messages(&vectors::read("galaxy", "cap.hub2gui"));
    let pr = |i: usize| String::from_utf8(text::pr_frame(hub[i].2.as_frame().unwrap())).unwrap();
    assert_eq!(pr(0), "{c handshake :conn_type 1 :protocol_version 1 }");
    assert_eq!(
        pr(1),
        "{c reinitialize :initialize 1 :domain \"Unspecified\" :user_id \"sls\" :server_type \"__gui__\" :hub_opaque_data {c admin_info :reply_requested 1 } }"
    );
    assert_eq!(
        pr(2),
        "{c provider_status :provider_list ( {c [0] :screen_name \"[0]double\" :init 1 :available 1 :hub_is_client 1 :provider_id \"[0]\" :connected 0 } ) }"
    );
    assert_eq!(
        pr(5),
        "{c token_status :action 0 :state {c main :initialize 1 :domain \"Unspecified\" :user_id \"sls\" :tidx 1 } }"
    );
    assert_eq!(pr(7), "{c token_status :action 2 :tidx 1 }");
    let sig = |op: &str| format!("( \"{op}\" (  ) 2 6 (  ) 2 )");
    let ops = [
        "reinitialize",
        "provider_status",
        "add_menu_items",
        "new_service_type",
        "message_event",
        "session_status",
        "session_lock_status",
        "session_alarm_status",
        "token_status",
        "listener_status",
        "message_queue_status",
        "hub_debug_prompt",
        "hub_debug_info",
    ];
    let sigs: Vec<String> = ops.iter().map(|o| sig(o)).collect();
    let info = format!(
        "{{c __gui__ :signatures ( {} ) :properties {{c server_properties }} :extra_service_types (  ) :protocol_version 1 }}",
        sigs.join(" ")
    );
    let gui = messages(&vectors::read("galaxy", "cap.gui2hub"));
    assert_eq!(
        String::from_utf8(text::pr_frame(gui[0].2.as_frame().unwrap())).unwrap(),
        info
    );
    // Every PR text reads back to the same frame (these captures hold no floats or arrays).
    for (_, _, m) in hub.iter().chain(&gui) {
        let f = m.as_frame().unwrap();
        assert_eq!(text::read_frame(&text::pr_frame(f)).as_ref(), Some(f));
    }
}

#[test]
fn echoes_are_byte_identical() {
    let hub = vectors::read("galaxy", "cap.hub2gui");
    let gui = vectors::read("galaxy", "cap.gui2hub");
    assert_eq!(hub[96 + 8..96 + 8 + 224], gui[1120 + 8..1120 + 8 + 224]);
    let hub4 = vectors::read("galaxy", "cap4.hub2gui");
    let gui4 = vectors::read("galaxy", "cap4.gui2hub");
    assert_eq!(hub4[8..1120], gui4[8..1120]);
    assert_eq!(hub4[1120 + 8..1320], gui4[1120 + 8..1320]);
}

/// Which captured messages the C GUI printed, in `gui.out` order (direction, index).
fn outline_order(run4: bool) -> Vec<(&'static str, usize)> {
    if run4 {
        let mut v = vec![
            ("cap4.gui2hub", 0),
            ("cap4.hub2gui", 0),
            ("cap4.hub2gui", 1),
            ("cap4.gui2hub", 1),
        ];
        v.extend((2..7).map(|i| ("cap4.hub2gui", i)));
        v
    } else {
        let mut v = vec![("cap.hub2gui", 1), ("cap.gui2hub", 1)];
        v.extend((2..14).map(|i| ("cap.hub2gui", i)));
        v
    }
}

#[test]
fn outline_reproduces_every_gui_out_block() {
    for (log, run4, count) in [("gui.out", false, 14), ("gui4.out", true, 9)] {
        let blocks = frame_blocks(&vectors::read("galaxy", log));
        assert_eq!(blocks.len(), count, "{log}");
        let order = outline_order(run4);
        assert_eq!(order.len(), count);
        for (block, (file, i)) in blocks.iter().zip(order) {
            let msgs = messages(&vectors::read("galaxy", file));
            let got = text::outline_frame(msgs[i].2.as_frame().unwrap());
            assert_eq!(
                String::from_utf8_lossy(&got),
                String::from_utf8_lossy(block),
                "{log}: {file} #{}",
                i + 1
            );
        }
    }
}

#[test]
fn outline_of_the_received_hub_frames_is_gui_out_minus_the_handshake() {
    // The outline printer (the library function; the binary's `decode galaxy --print outline`
    // is run against gui.out by `crates/monwire-cli/tests/cli_galaxy.rs`): every Hub frame but
    // the handshake (which the C GUI answers without logging) appears in gui.out, in order.
    let log = frame_blocks(&vectors::read("galaxy", "gui.out"));
    let received: Vec<Vec<u8>> = messages(&vectors::read("galaxy", "cap.hub2gui"))
        .iter()
        .skip(1)
        .map(|(_, _, m)| text::outline_frame(m.as_frame().unwrap()))
        .collect();
    let mut logged_received = log.clone();
    logged_received.remove(1); // the echo, sent not received
    assert_eq!(received, logged_received);
    assert_eq!(MsgType::from_code(1), Some(MsgType::Message));
}
