//! An event with a structured attribute, filtered, written as JSON and read back.
//!
//! `cargo run -p monwire-event --features serde --example event_json`

use monwire_event::{Event, Filter, Kind, Map, Protocol, Severity, Value};

fn main() -> Result<(), serde_json::Error> {
    let mut args = Map::new();
    args.insert("state", "finished");
    args.insert("return_codes", Value::List(vec!["0".into()]));
    let event = Event::new(Protocol::SysAdm, Kind::Stopped, "dispatcher")
        .with_subject("sysadm_pkg_install-1")
        .with_summary("job sysadm_pkg_install-1 finished, rc 0")
        .with_attr("sysadm.args", Value::Map(args));

    let filter = Filter::new()
        .with_kinds([Kind::Stopped, Kind::Failed])
        .with_min_severity(Severity::Info);
    assert!(filter.matches(&event));

    let line = serde_json::to_string(&event)?;
    println!("{line}");
    let back: Event = serde_json::from_str(&line)?;
    assert_eq!(back, event);
    Ok(())
}
