//! Codec only: decode datagrams (hex on the command line, or a few built-in ones ray-daemon
//! really sent), print each as its oscdump-like `Display`, its event summary and kind, then
//! re-encode it and check the bytes come back the same.
//!
//! ```text
//! cargo run -p monwire-nsm --example decode
//! cargo run -p monwire-nsm --example decode -- 2f7261792f6d6f6e69746f722f636c69656e745f6576656e740000002c7373006f6b72007265616479000000
//! ```

use monwire_nsm::{codec, event};

/// Datagrams ray-daemon 0.18 sent (from `tests/vectors/nsm/`).
const BUILT_IN: [&str; 3] = [
    // /ray/monitor/client_state ,ssi "" "" 0: the end of an empty state list
    "2f7261792f6d6f6e69746f722f636c69656e745f73746174650000002c73736900000000000000000000000000000000",
    // /ray/monitor/client_event ,ss "okr" "ready"
    "2f7261792f6d6f6e69746f722f636c69656e745f6576656e740000002c7373006f6b72007265616479000000",
    // /reply ,ss "/ray/server/monitor_quit" "monitor exit"
    "2f7265706c7900002c7373002f7261792f7365727665722f6d6f6e69746f725f71756974000000006d6f6e69746f72206578697400000000",
];

fn unhex(s: &str) -> Option<Vec<u8>> {
    let digits: Vec<u8> = s.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let inputs: Vec<String> = if args.is_empty() {
        BUILT_IN.iter().map(|s| (*s).to_owned()).collect()
    } else {
        args
    };
    let mut failed = false;
    for hex in &inputs {
        let Some(bytes) = unhex(hex) else {
            eprintln!("not hex: {hex}");
            failed = true;
            continue;
        };
        match codec::decode(&bytes) {
            Ok(message) => {
                let e = event::to_event(&message);
                println!("{message}");
                println!("  {} {}: {}", e.protocol, e.kind, e.summary_text());
                let again = codec::encode(&message).map(|b| b == bytes);
                println!("  re-encodes byte for byte: {}", again.unwrap_or(false));
            }
            Err(e) => {
                eprintln!("{e}");
                failed = true;
            }
        }
    }
    if failed {
        std::process::ExitCode::FAILURE
    } else {
        std::process::ExitCode::SUCCESS
    }
}
