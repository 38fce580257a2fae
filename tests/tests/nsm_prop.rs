//! Property tests: message ↔ bytes and message ↔ `Event` round trips.
#![cfg(feature = "nsm")]
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_nsm::event::{from_event, to_event};
use monwire_nsm::{Capabilities, Capability, ClientEvent, ErrorCode, Family, Message, codec};
use proptest::prelude::*;

fn text() -> impl Strategy<Value = String> {
    "[^\u{0}]{0,24}"
}

fn id() -> impl Strategy<Value = String> {
    "[A-Za-z0-9_]{1,12}"
}

fn family() -> impl Strategy<Value = Family> {
    prop_oneof![Just(Family::Nsm), Just(Family::Ray)]
}

fn client_event() -> impl Strategy<Value = ClientEvent> {
    prop_oneof![
        text().prop_map(|t| ClientEvent::parse(&t)),
        id().prop_map(ClientEvent::SwitchedTo),
        text().prop_map(ClientEvent::IdChangedTo),
        id().prop_map(ClientEvent::NewAlternative),
        Just(ClientEvent::StoppedByItself),
    ]
}

fn capabilities() -> impl Strategy<Value = Capabilities> {
    proptest::collection::vec("[a-z-]{1,10}", 0..5)
        .prop_map(|v| v.iter().map(|s| Capability::from_name(s)).collect())
}

fn message() -> impl Strategy<Value = Message> {
    prop_oneof![
        (family(), id(), text(), any::<i32>()).prop_map(
            |(family, client_id, jack_name, started)| {
                Message::ClientState {
                    family,
                    client_id,
                    jack_name,
                    started,
                }
            }
        ),
        (family(), any::<i32>())
            .prop_map(|(family, count)| Message::ClientStateEnd { family, count }),
        (family(), text(), any::<i32>()).prop_map(|(family, client_id, started)| {
            Message::ClientStateLegacy {
                family,
                client_id,
                started,
            }
        }),
        (family(), text(), client_event()).prop_map(|(family, client_id, event)| {
            Message::ClientEvent {
                family,
                client_id,
                event,
            }
        }),
        (family(), text(), text(), any::<i32>()).prop_map(
            |(family, client_id, jack_name, started)| {
                Message::ClientUpdated {
                    family,
                    client_id,
                    jack_name,
                    started,
                }
            }
        ),
        Just(Message::MonitorAnnounce),
        Just(Message::MonitorQuit),
        Just(Message::MonitorReset),
        Just(Message::Save),
        Just(Message::SessionIsLoaded),
        Just(Message::Ping),
        (text(), proptest::collection::vec(text(), 0..4))
            .prop_map(|(path, args)| Message::Reply { path, args }),
        (text(), any::<i32>(), text(), any::<bool>()).prop_map(|(path, c, message, minor)| {
            let code = ErrorCode::from_i32(c);
            if minor {
                Message::MinorError {
                    path,
                    code,
                    message,
                }
            } else {
                Message::Error {
                    path,
                    code,
                    message,
                }
            }
        }),
        (
            text(),
            capabilities(),
            text(),
            any::<i32>(),
            any::<i32>(),
            any::<i32>()
        )
            .prop_map(
                |(app_name, capabilities, executable, api_major, api_minor, pid)| {
                    Message::Announce {
                        app_name,
                        capabilities,
                        executable,
                        api_major,
                        api_minor,
                        pid,
                    }
                }
            ),
        (text(), text(), text()).prop_map(|(instance_path, display_name, client_id)| {
            Message::Open {
                instance_path,
                display_name,
                client_id,
            }
        }),
    ]
}

/// `ClientState` with an empty id and JACK name *is* the end marker on the wire.
fn canonical(m: Message) -> Message {
    match m {
        Message::ClientState {
            family,
            client_id,
            jack_name,
            started,
        } if client_id.is_empty() && jack_name.is_empty() => Message::ClientStateEnd {
            family,
            count: started,
        },
        other => other,
    }
}

proptest! {
    #[test]
    fn message_bytes_message(m in message()) {
        let bytes = codec::encode(&m).unwrap();
        prop_assert_eq!(bytes.len() % 4, 0);
        let back = codec::decode(&bytes).unwrap();
        prop_assert_eq!(&back, &canonical(m));
        prop_assert_eq!(codec::encode(&back).unwrap(), bytes);
    }

    #[test]
    fn message_event_message(m in message()) {
        let event = to_event(&m);
        prop_assert_eq!(from_event(&event).unwrap(), m.clone());
        let json = serde_json::to_string(&event).unwrap();
        let parsed: monwire_event::Event = serde_json::from_str(&json).unwrap();
        prop_assert_eq!(from_event(&parsed).unwrap(), m);
    }
}
