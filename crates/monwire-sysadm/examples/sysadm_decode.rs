//! Codec only: decode SysAdm frames, print them as a person and as `monwire_event` JSON, and
//! encode them back exactly as the server writes them. No sockets, no runtime.
//!
//! ```sh
//! cargo run -p monwire-sysadm --example sysadm_decode
//! ```

use monwire_sysadm::codec::{Limits, decode, encode};
use monwire_sysadm::event::{from_event, to_event};

const FRAMES: [&str; 4] = [
    r#"{"args":{"cmd_list":["echo sample1"],"echo sample1":"sample1\n","process_id":"procID1","return_codes/echo sample1":"0","state":"finished","time_finished":"2016-02-02T13:45:13","time_started":"2016-02-02T13:45:13"},"id":"","name":"dispatcher","namespace":"events"}"#,
    r#"{"args":{"class":"replication","message":"Replicating tank: 1.2G/4.5G (26.6%)","priority":"0 - Information"},"id":"","name":"life-preserver","namespace":"events"}"#,
    r#"{"args":{"hostname":"trueos-box","priority":"9 - Urgent","zpools":{"tank":{"alloc":"13.1G","altroot":"-","capacity":"12%","dedup":"1.00x","expandsz":"-","frag":"6%","free":"93.9G","health":"DEGRADED","size":"107G"}}},"id":"","name":"system-state","namespace":"events"}"#,
    // A login: its password never shows, in Display, Debug or the event.
    r#"{"args":{"password":"hunter2","username":"alice"},"id":"sysadm-client-auth-auto","name":"auth","namespace":"rpc"}"#,
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let limits = Limits::default();
    for frame in FRAMES {
        let msg = decode(frame.as_bytes(), &limits)?;
        // One short line for people.
        println!("{msg}");
        // The shared event model, as JSON Lines (`args` is one structured value).
        let event = to_event(&msg);
        println!("  {}", serde_json::to_string(&event)?);
        // Compact, keys sorted: the same bytes the server wrote.
        assert_eq!(encode(&msg, &limits)?, frame.as_bytes());
        // And back from the event, unless secrets were redacted out of it.
        match from_event(&event) {
            Ok(back) => assert_eq!(back, msg),
            Err(e) => println!("  ({e})"),
        }
    }
    // Bad input is an error that says what and where, never a panic.
    if let Err(err) = decode(br#"{"name":"dispatcher","namespace":7}"#, &limits) {
        println!("error: {err}");
    }
    Ok(())
}
