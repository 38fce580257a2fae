//! NSM round-trip bodies shared by the fuzz targets (`fuzz/fuzz_targets/nsm_*.rs`) and the
//! stable corpus-replay test (`tests/tests/nsm_corpus.rs`), and the golden-vector reader.

use monwire_nsm::Message;
use monwire_nsm::codec::{self, Limits};
use monwire_nsm::event::{from_event, to_event};

/// The golden vector `tests/vectors/nsm/<name>.hex` as bytes.
pub fn vector(name: &str) -> Vec<u8> {
    let text = crate::vectors::read("nsm", &format!("{name}.hex"));
    crate::vectors::unhex(std::str::from_utf8(&text).unwrap())
}

/// Datagram → messages → bytes → messages: whatever decodes must encode, and decode again to
/// the same messages. A single-message datagram that decodes also re-encodes to a datagram that
/// decodes through [`codec::decode`]. Never panics on any input.
pub fn datagram_round_trip(data: &[u8]) {
    let limits = Limits::default();
    let single = codec::decode(data);
    let Ok(messages) = codec::decode_datagram(data, &limits) else {
        assert!(
            single.is_err(),
            "decode accepted what decode_datagram refused"
        );
        return;
    };
    if let Ok(m) = &single {
        assert_eq!(messages.as_slice(), std::slice::from_ref(m));
    }
    for m in messages {
        let bytes =
            codec::encode(&m).unwrap_or_else(|e| panic!("{m:?} decoded but not encoded: {e}"));
        let again = codec::decode(&bytes).unwrap_or_else(|e| panic!("{m:?} re-decode: {e}"));
        assert_eq!(again, m);
        assert_eq!(
            codec::encode(&again).unwrap(),
            bytes,
            "encoding is not stable"
        );
    }
}

/// Datagram → messages → `Event` → message: every decoded message survives the trip through
/// the shared event model (and its JSON form) unchanged.
pub fn event_round_trip(data: &[u8]) {
    let Ok(messages) = codec::decode_datagram(data, &Limits::default()) else {
        return;
    };
    for m in messages {
        let event = to_event(&m);
        let back = from_event(&event).unwrap_or_else(|e| panic!("{m:?} -> {event:?}: {e}"));
        assert_eq!(back, m);
        let json = serde_json::to_string(&event).unwrap();
        let parsed: monwire_event::Event = serde_json::from_str(&json).unwrap();
        assert_eq!(from_event(&parsed).unwrap(), m);
    }
}

/// The direct decoder against the `rosc`-based reference on the same bytes: both accept and
/// give the same messages, or both refuse, except where `rosc` is documented to be more lenient
/// (a type-tag string without its `,`, an unclosed `[`): there only the reference may accept.
pub fn differential(data: &[u8]) {
    let limits = Limits::default();
    let fast = codec::decode_datagram(data, &limits);
    let reference = codec::decode_reference(data, &limits);
    match (&fast, &reference) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "the decoders disagree"),
        (Err(_), Err(_)) => {}
        (Err(e), Ok(m)) => assert!(
            rosc_leniency(data),
            "the direct decoder refused what rosc accepts: {e}; {m:?}"
        ),
        (Ok(m), Err(e)) => panic!("the direct decoder accepted what rosc refuses: {e}; {m:?}"),
    }
}

/// Whether the message's type-tag string is one `rosc` reads more leniently than OSC 1.0.
fn rosc_leniency(data: &[u8]) -> bool {
    let Some(nul) = data.iter().position(|&b| b == 0) else {
        return false;
    };
    let start = (nul + 4) & !3;
    let tags = data.get(start..).unwrap_or_default();
    let end = tags.iter().position(|&b| b == 0).unwrap_or(tags.len());
    let tags = &tags[..end];
    (!tags.is_empty() && tags[0] != b',') || tags.contains(&b'[')
}

/// A reader of fuzz input as a script of operations, never failing: past the end it reads
/// zeros.
pub struct Script<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Script<'a> {
    /// A script over `data`.
    pub fn new(data: &'a [u8]) -> Script<'a> {
        Script { data, pos: 0 }
    }

    /// Whether any input is left.
    pub fn more(&self) -> bool {
        self.pos < self.data.len()
    }

    /// The next byte (0 past the end).
    pub fn byte(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }

    /// A short string: mostly from a small pool (so ids repeat and collide), sometimes raw
    /// bytes (any UTF-8, NUL removed).
    pub fn text(&mut self) -> String {
        const POOL: [&str; 8] = ["", "a", "b", "synth", "monwire", "a.b", "x:y", "é"];
        let b = self.byte();
        if b < 200 {
            return POOL[usize::from(b) % POOL.len()].to_owned();
        }
        let n = usize::from(self.byte() % 16);
        let raw: Vec<u8> = (0..n).map(|_| self.byte()).filter(|&b| b != 0).collect();
        String::from_utf8_lossy(&raw).into_owned()
    }

    /// An `i32` that is mostly small.
    pub fn int(&mut self) -> i32 {
        match self.byte() % 4 {
            0 => 0,
            1 => 1,
            2 => i32::from(self.byte() as i8),
            _ => i32::from_be_bytes([self.byte(), self.byte(), self.byte(), self.byte()]),
        }
    }

    /// Any message of the protocol, both families.
    pub fn message(&mut self) -> Message {
        use monwire_nsm::{Capabilities, ClientEvent, ErrorCode, Family};
        let family = if self.byte().is_multiple_of(2) {
            Family::Nsm
        } else {
            Family::Ray
        };
        match self.byte() % 18 {
            0 => Message::ClientState {
                family,
                client_id: self.text(),
                jack_name: self.text(),
                started: self.int(),
            },
            1 => Message::ClientStateEnd {
                family,
                count: self.int(),
            },
            2 => Message::ClientStateLegacy {
                family,
                client_id: self.text(),
                started: self.int(),
            },
            3..=5 => Message::ClientEvent {
                family,
                client_id: self.text(),
                event: ClientEvent::parse(&self.event_text()),
            },
            6 => Message::ClientUpdated {
                family,
                client_id: self.text(),
                jack_name: self.text(),
                started: self.int(),
            },
            7 => Message::MonitorAnnounce,
            8 => Message::MonitorQuit,
            9 => Message::MonitorReset,
            10 => {
                let path = self.path();
                let n = self.byte() % 4;
                Message::Reply {
                    path,
                    args: (0..n).map(|_| self.text()).collect(),
                }
            }
            11 => Message::Error {
                path: self.path(),
                code: ErrorCode::from_i32(self.int()),
                message: self.text(),
            },
            12 => Message::MinorError {
                path: self.path(),
                code: ErrorCode::from_i32(self.int()),
                message: self.text(),
            },
            13 => Message::Announce {
                app_name: self.text(),
                capabilities: Capabilities::parse(&self.caps()),
                executable: self.text(),
                api_major: self.int(),
                api_minor: self.int(),
                pid: self.int(),
            },
            14 => Message::Open {
                instance_path: self.text(),
                display_name: self.text(),
                client_id: self.text(),
            },
            15 => Message::Save,
            16 => Message::SessionIsLoaded,
            _ => Message::Ping,
        }
    }

    fn event_text(&mut self) -> String {
        const EVENTS: [&str; 10] = [
            "started",
            "ready",
            "stopped_by_itself",
            "stopped_by_server",
            "removed",
            "joined",
            "switched_to:",
            "id_changed_to:",
            "save_request",
            "open_error",
        ];
        let e = EVENTS[usize::from(self.byte()) % EVENTS.len()];
        if e.ends_with(':') {
            format!("{e}{}", self.text())
        } else {
            e.to_owned()
        }
    }

    fn path(&mut self) -> String {
        const PATHS: [&str; 6] = [
            "/ray/server/monitor_announce",
            "/ray/server/monitor_quit",
            "/nsm/server/announce",
            "/nsm/server/monitor_reset",
            "/nsm/client/open",
            "/osc/ping",
        ];
        if self.byte() < 220 {
            PATHS[usize::from(self.byte()) % PATHS.len()].to_owned()
        } else {
            self.text()
        }
    }

    fn caps(&mut self) -> String {
        const CAPS: [&str; 5] = [
            ":server-control:broadcast:optional-gui:monitor:",
            ":monitor:",
            "",
            ":switch:monitor:",
            ":optional-gui:",
        ];
        CAPS[usize::from(self.byte()) % CAPS.len()].to_owned()
    }
}

/// What every message a session role queues must satisfy: it goes on the wire and comes back
/// the same (NUL-free text, valid capabilities).
fn sendable(m: &Message) {
    let bytes = codec::encode(m).unwrap_or_else(|e| panic!("{m:?} queued but not encodable: {e}"));
    assert_eq!(codec::decode(&bytes).unwrap(), *m);
}

/// An [`ExternalMonitor`](monwire_nsm::session::ExternalMonitor) and a
/// [`MonitorClient`](monwire_nsm::session::MonitorClient) fed an arbitrary script of server
/// messages, timeouts, transport errors, resets and quits. Checked after every step: no panic;
/// everything they queue encodes and decodes back; a deadline is never in the past after
/// `handle_timeout` (no busy loop); after `Closed`, nothing more is sent or reported; a retry's
/// next wait never exceeds 30 s.
pub fn monitor_session(data: &[u8]) {
    use monwire_nsm::session::{
        ClientConfig, ExternalConfig, ExternalMonitor, MonitorClient, MonitorEvent,
    };
    use std::time::{Duration, Instant};
    let t0 = Instant::now();
    let mut now = t0;
    let mut ext = ExternalMonitor::with_config(
        ExternalConfig::default().with_give_up_after(Some(Duration::from_secs(120))),
    );
    let mut cli = MonitorClient::new(ClientConfig::new("fuzz", "fuzz", 7));
    ext.start(now);
    cli.start(now);
    let mut ext_closed = false;
    let mut script = Script::new(data);
    while script.more() {
        match script.byte() % 8 {
            0..=3 => {
                let m = script.message();
                ext.handle_message(m.clone(), now);
                cli.handle_message(m, now);
            }
            4 => {
                // Jump to the deadline (or a little past it), as the driver's timer would.
                let ms = u64::from(script.byte()) * 10;
                if let Some(d) = ext.poll_timeout() {
                    now = now.max(d);
                }
                now += Duration::from_millis(ms);
                ext.handle_timeout(now);
                cli.handle_timeout(now);
                for d in [ext.poll_timeout(), cli.poll_timeout()]
                    .into_iter()
                    .flatten()
                {
                    assert!(d > now, "a deadline in the past after handle_timeout");
                }
            }
            5 => ext.handle_unreachable(now),
            6 => {
                let _ = ext.reset();
                let _ = cli.reset();
            }
            _ => {
                let _ = ext.quit(now);
            }
        }
        while let Some(m) = ext.poll_transmit() {
            assert!(!ext_closed, "sent {m:?} after Closed");
            sendable(&m);
        }
        while let Some(m) = cli.poll_transmit() {
            sendable(&m);
        }
        while let Some(e) = ext.poll_event() {
            assert!(!ext_closed, "reported {e:?} after Closed");
            if let MonitorEvent::Retrying { next_in, .. } = e {
                assert!(next_in <= Duration::from_secs(30));
            }
            ext_closed |= matches!(e, MonitorEvent::Closed { .. });
            let _ = e.to_string();
        }
        while let Some(e) = cli.poll_event() {
            let _ = e.to_string();
        }
    }
}

/// A [`MonitorServer`](monwire_nsm::session::MonitorServer) fed arbitrary requests from eight
/// peers and arbitrary session happenings. Checked: no panic; every datagram it queues encodes
/// and decodes back; every state list's end marker counts exactly the entries sent to that peer
/// since its previous end marker; an NSM `:monitor:` client never gets a list entry or an event
/// about itself.
pub fn server_session(data: &[u8]) {
    use monwire_nsm::session::MonitorServer;
    use monwire_nsm::{ClientEvent, Family};
    use std::collections::HashMap;
    let mut server = MonitorServer::<u8>::new();
    let mut script = Script::new(data);
    // Per (peer, family): entries since the last end marker.
    let mut open_lists: HashMap<(u8, bool), i32> = HashMap::new();
    // The server sends the same messages to every peer they concern, and the same state list
    // again on every announce. The wire check is a pure function of the message, so each
    // distinct message is checked once per run: looked up by its encoding (`Message` is not
    // `Hash`), and a hit counts only when the message stored there is equal, so two messages
    // that encode alike are both checked (and the second then fails the check).
    let mut checked: HashMap<Vec<u8>, Message> = HashMap::new();
    while script.more() {
        match script.byte() % 12 {
            0..=5 => {
                let from = script.byte() % 8;
                let m = script.message();
                // The daemon keeps duplicate registrations (each gets every message again): a
                // few are worth exploring, hundreds only make each run slow.
                if m == Message::MonitorAnnounce && server.monitors().len() >= 4 {
                    continue;
                }
                server.handle_message(from, m);
            }
            6 => {
                let id = script.text();
                let e = ClientEvent::parse(&script.event_text());
                let _ = server.client_event(&id, e);
            }
            7 => {
                let (id, jack) = (script.text(), script.text());
                if server.clients().count() < 16 {
                    let _ = server.add_client(&id, &jack);
                }
            }
            8 => {
                let name = script.text();
                let clients: Vec<(String, String)> = server
                    .clients()
                    .map(|(i, j, _)| (i.to_owned(), j.to_owned()))
                    .collect();
                let refs: Vec<(&str, &str)> = clients
                    .iter()
                    .map(|(i, j)| (i.as_str(), j.as_str()))
                    .collect();
                server.load_session(&name, &refs);
            }
            9 => {
                let id = script.text();
                let _ = server.trash_client(&id);
                let _ = server.remove_definitely(&id);
            }
            10 => {
                let id = script.text();
                let _ = server.client_announced(&id);
            }
            _ => server.terminate(),
        }
        while let Some((to, m)) = server.poll_transmit() {
            let bytes =
                codec::encode(&m).unwrap_or_else(|e| panic!("{m:?} queued but not encodable: {e}"));
            if checked.get(&bytes) != Some(&m) {
                assert_eq!(codec::decode(&bytes).unwrap(), m, "wire round trip");
                checked.insert(bytes, m.clone());
            }
            match &m {
                Message::ClientState { family, .. } => {
                    *open_lists.entry((to, *family == Family::Nsm)).or_default() += 1;
                }
                Message::ClientStateEnd { family, count } => {
                    let sent = open_lists
                        .remove(&(to, *family == Family::Nsm))
                        .unwrap_or(0);
                    assert_eq!(
                        *count, sent,
                        "end marker to {to} counts {count}, sent {sent}"
                    );
                }
                _ => {}
            }
        }
    }
}
