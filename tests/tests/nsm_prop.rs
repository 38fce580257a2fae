//! Property tests: message ↔ bytes and message ↔ `Event` round trips, over strategies that
//! reach the hard cases: empty ids and names (so a `client_state` entry `"" ""` meets the end
//! marker it reads as, and `switched_to:` with an empty id is generated), and strings holding a
//! NUL, which no OSC string can carry (`EncodeError::NulInString`).
#![cfg(feature = "nsm")]
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use monwire_nsm::event::{from_event, to_event};
use monwire_nsm::{
    Capabilities, Capability, ClientEvent, EncodeError, ErrorCode, Family, Message, codec,
};
use proptest::prelude::*;

/// Any text without NUL, empty a quarter of the time.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![1 => Just(String::new()), 3 => "[^\u{0}]{0,24}"]
}

/// A client id: empty a quarter of the time.
fn id() -> impl Strategy<Value = String> {
    prop_oneof![1 => Just(String::new()), 3 => "[A-Za-z0-9_.]{1,12}"]
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
        (family(), id(), id(), any::<i32>()).prop_map(|(family, client_id, jack_name, started)| {
            Message::ClientState {
                family,
                client_id,
                jack_name,
                started,
            }
        }),
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

/// Puts a NUL into the `which`-th string of a message, if it has strings.
fn poison(m: &Message, which: usize) -> Option<Message> {
    let mut m = m.clone();
    let mut strings: Vec<&mut String> = match &mut m {
        Message::ClientState {
            client_id,
            jack_name,
            ..
        }
        | Message::ClientUpdated {
            client_id,
            jack_name,
            ..
        } => vec![client_id, jack_name],
        Message::ClientStateLegacy { client_id, .. } => vec![client_id],
        Message::ClientEvent { client_id, .. } => vec![client_id],
        Message::Reply { path, args } => std::iter::once(path).chain(args.iter_mut()).collect(),
        Message::Error { path, message, .. } | Message::MinorError { path, message, .. } => {
            vec![path, message]
        }
        Message::Announce {
            app_name,
            executable,
            ..
        } => vec![app_name, executable],
        Message::Open {
            instance_path,
            display_name,
            client_id,
        } => vec![instance_path, display_name, client_id],
        _ => return None,
    };
    let n = strings.len();
    let s = strings.get_mut(which % n)?;
    let at = s
        .char_indices()
        .map(|(i, _)| i)
        .nth(which % (s.len() + 1))
        .unwrap_or(s.len());
    s.insert(at, '\0');
    Some(m)
}

proptest! {
    #[test]
    fn a_nul_in_any_string_is_refused_by_the_encoder(m in message(), which in any::<usize>()) {
        if let Some(p) = poison(&m, which) {
            prop_assert!(
                matches!(codec::encode(&p), Err(EncodeError::NulInString(_))),
                "{p:?}"
            );
        }
    }

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

/// The strategies reach the cases the round trips need: a `"" ""` entry (which `canonical`
/// turns into the end marker), and `switched_to:` with an empty id.
#[test]
fn the_strategies_reach_the_hard_cases() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut end_like, mut empty_switch) = (0, 0);
    for _ in 0..4_000 {
        let m = message().new_tree(&mut runner).unwrap().current();
        if canonical(m.clone()) != m {
            end_like += 1;
        }
        if let Message::ClientEvent {
            event: ClientEvent::SwitchedTo(id),
            ..
        } = &m
            && id.is_empty()
        {
            empty_switch += 1;
        }
    }
    assert!(
        end_like > 0 && empty_switch > 0,
        "{end_like} {empty_switch}"
    );
}
