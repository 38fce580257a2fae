//! Decode and encode datagrams.
//!
//! A datagram holding one message (all ray-daemon sends) is decoded directly from its bytes into
//! the typed [`Message`], borrowing while it parses: a fifth to a half of the time of `rosc`'s
//! generic parse alone of the same bytes (0.18× to 0.52× over the golden datagrams in one run;
//! `benches/benches/nsm.rs`). A `#bundle` goes through `rosc`, after the
//! codec has checked its length and walked its nesting itself, bounded by
//! [`Limits::max_bundle_depth`] (`rosc` recurses without a bound, so a 60 KB datagram of nested
//! bundles would overflow the stack). In both paths, bytes left over after the packet are an
//! error, not ignored. Encoding goes through `rosc`'s encoder.

use rosc::{OscMessage, OscPacket, OscType};

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::message::{Capabilities, ClientEvent, ErrorCode, Family, Message};

/// Bounds on untrusted input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// Longest datagram accepted (default 65 536, more than any UDP payload).
    pub max_datagram: usize,
    /// Deepest `#bundle` nesting accepted (default 4; ray-daemon never sends bundles).
    pub max_bundle_depth: usize,
    /// Most messages in one datagram's bundles (default 64).
    pub max_messages: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_datagram: 65_536,
            max_bundle_depth: 4,
            max_messages: 64,
        }
    }
}

impl Limits {
    /// Sets [`max_bundle_depth`](Limits::max_bundle_depth).
    pub fn with_max_bundle_depth(mut self, depth: usize) -> Limits {
        self.max_bundle_depth = depth;
        self
    }
}

const BUNDLE_TAG: &[u8] = b"#bundle\0";

/// Whether `datagram` is an OSC `#bundle` (which [`decode`] refuses and [`decode_datagram`]
/// takes apart), judged by its first 8 bytes alone.
pub fn is_bundle(datagram: &[u8]) -> bool {
    datagram.starts_with(BUNDLE_TAG)
}

/// Decodes a datagram that must hold exactly one message (no bundle), with default limits.
///
/// ```
/// use monwire_nsm::{codec, Message};
/// let bytes = codec::encode(&Message::MonitorAnnounce)?;
/// assert_eq!(codec::decode(&bytes)?, Message::MonitorAnnounce);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn decode(datagram: &[u8]) -> Result<Message, DecodeError> {
    decode_with(datagram, &Limits::default())
}

/// [`decode`] with explicit limits.
pub fn decode_with(datagram: &[u8], limits: &Limits) -> Result<Message, DecodeError> {
    check_length(datagram, limits)?;
    if datagram.starts_with(BUNDLE_TAG) {
        return Err(DecodeError::new(0, DecodeErrorKind::UnexpectedBundle));
    }
    crate::wire::decode_message(datagram)
}

/// Decodes a datagram holding one message or a (nested) bundle of them, in order.
///
/// Fails as a whole on the first bad message: a datagram is accepted or skipped entirely.
pub fn decode_datagram(datagram: &[u8], limits: &Limits) -> Result<Vec<Message>, DecodeError> {
    check_length(datagram, limits)?;
    if !datagram.starts_with(BUNDLE_TAG) {
        return crate::wire::decode_message(datagram).map(|m| vec![m]);
    }
    decode_through_rosc(datagram, limits)
}

/// [`decode_datagram`] through `rosc`'s generic OSC parser and [`from_osc`]: slower (it builds
/// every argument as an `OscType` first), and the reference the direct decoder is checked
/// against (the `nsm_differential` fuzz target). Bundles always take this path.
///
/// It differs from [`decode_datagram`] only where `rosc` is more lenient than OSC 1.0: it
/// accepts a type-tag string that does not start with `,` (skipping its first character) and
/// an unclosed `[` (dropping the arguments before it); [`decode_datagram`] refuses both.
pub fn decode_reference(datagram: &[u8], limits: &Limits) -> Result<Vec<Message>, DecodeError> {
    check_length(datagram, limits)?;
    decode_through_rosc(datagram, limits)
}

fn check_length(datagram: &[u8], limits: &Limits) -> Result<(), DecodeError> {
    if datagram.len() > limits.max_datagram {
        return Err(DecodeError::new(
            0,
            DecodeErrorKind::TooLong {
                len: datagram.len(),
                limit: limits.max_datagram,
            },
        ));
    }
    Ok(())
}

fn decode_through_rosc(datagram: &[u8], limits: &Limits) -> Result<Vec<Message>, DecodeError> {
    let packet = decode_packet(datagram, limits)?;
    let mut out = Vec::new();
    // Depth was bounded above, so this explicit stack stays small.
    let mut stack = vec![packet];
    while let Some(p) = stack.pop() {
        match p {
            OscPacket::Message(m) => out.push(from_osc(m)?),
            OscPacket::Bundle(b) => stack.extend(b.content.into_iter().rev()),
        }
    }
    Ok(out)
}

fn decode_packet(datagram: &[u8], limits: &Limits) -> Result<OscPacket, DecodeError> {
    if datagram.starts_with(BUNDLE_TAG) {
        let mut messages = 0;
        check_bundle(datagram, 0, 1, limits, &mut messages)?;
    }
    let (rest, packet) = rosc::decoder::decode_udp(datagram).map_err(|e| {
        DecodeError::new(
            0,
            DecodeErrorKind::Osc {
                reason: e.to_string(),
            },
        )
    })?;
    if !rest.is_empty() {
        return Err(DecodeError::new(
            datagram.len() - rest.len(),
            DecodeErrorKind::TrailingBytes { count: rest.len() },
        ));
    }
    Ok(packet)
}

/// Walks one bundle's elements; `depth` is this bundle's depth (1 for the outermost). The
/// recursion is bounded by `limits.max_bundle_depth`.
fn check_bundle(
    bytes: &[u8],
    base: usize,
    depth: usize,
    limits: &Limits,
    messages: &mut usize,
) -> Result<(), DecodeError> {
    if depth > limits.max_bundle_depth {
        return Err(DecodeError::new(
            base,
            DecodeErrorKind::BundleTooDeep {
                limit: limits.max_bundle_depth,
            },
        ));
    }
    // "#bundle\0" + 8-byte time tag.
    let mut pos = 16usize;
    while pos < bytes.len() {
        let size_bytes = bytes.get(pos..pos + 4).ok_or_else(|| {
            DecodeError::new(
                base + pos,
                DecodeErrorKind::BadBundleElement {
                    size: 4,
                    available: bytes.len() - pos,
                },
            )
        })?;
        let size = i32::from_be_bytes([size_bytes[0], size_bytes[1], size_bytes[2], size_bytes[3]]);
        pos += 4;
        let available = bytes.len() - pos;
        let elem = usize::try_from(size)
            .ok()
            .and_then(|s| bytes.get(pos..pos.checked_add(s)?))
            .ok_or_else(|| {
                DecodeError::new(
                    base + pos - 4,
                    DecodeErrorKind::BadBundleElement {
                        size: i64::from(size),
                        available,
                    },
                )
            })?;
        if elem.starts_with(BUNDLE_TAG) {
            check_bundle(elem, base + pos, depth + 1, limits, messages)?;
        } else {
            *messages += 1;
            if *messages > limits.max_messages {
                return Err(DecodeError::new(
                    base + pos,
                    DecodeErrorKind::TooManyMessages {
                        limit: limits.max_messages,
                    },
                ));
            }
        }
        pos += elem.len();
    }
    Ok(())
}

fn tag(arg: &OscType) -> char {
    match arg {
        OscType::Int(_) => 'i',
        OscType::Float(_) => 'f',
        OscType::String(_) => 's',
        OscType::Blob(_) => 'b',
        OscType::Time(_) => 't',
        OscType::Long(_) => 'h',
        OscType::Double(_) => 'd',
        OscType::Char(_) => 'c',
        OscType::Color(_) => 'r',
        OscType::Midi(_) => 'm',
        OscType::Bool(true) => 'T',
        OscType::Bool(false) => 'F',
        OscType::Array(_) => '[',
        OscType::Nil => 'N',
        OscType::Inf => 'I',
    }
}

fn tags(args: &[OscType]) -> String {
    args.iter().map(tag).collect()
}

/// Checks the argument count and types of `m` against `want` (a type-tag string).
fn expect(m: &OscMessage, want: &str, at_least: bool) -> Result<(), DecodeError> {
    let count_ok = if at_least {
        m.args.len() >= want.len()
    } else {
        m.args.len() == want.len()
    };
    if !count_ok {
        return Err(DecodeError::new(
            0,
            DecodeErrorKind::ArgumentCount {
                path: m.addr.clone(),
                expected: expected_text(want, at_least),
                found: m.args.len(),
                tags: tags(&m.args),
            },
        ));
    }
    for (index, (arg, w)) in m.args.iter().zip(want.chars()).enumerate() {
        let found = tag(arg);
        if found != w {
            return Err(DecodeError::new(
                0,
                DecodeErrorKind::ArgumentType {
                    path: m.addr.clone(),
                    index,
                    expected: w,
                    found,
                    tags: tags(&m.args),
                },
            ));
        }
    }
    Ok(())
}

fn expected_text(want: &str, at_least: bool) -> &'static str {
    match (want.len(), at_least) {
        (0, _) => "0",
        (1, true) => "at least 1",
        (2, false) => "2",
        (3, false) => "3",
        (6, false) => "6",
        _ => "another number of",
    }
}

struct Args(std::vec::IntoIter<OscType>);

impl Args {
    fn s(&mut self) -> String {
        match self.0.next() {
            Some(OscType::String(s)) => s,
            _ => String::new(),
        }
    }
    fn i(&mut self) -> i32 {
        match self.0.next() {
            Some(OscType::Int(i)) => i,
            _ => 0,
        }
    }
}

/// Converts a decoded OSC message into a typed one.
pub fn from_osc(m: OscMessage) -> Result<Message, DecodeError> {
    let family = if let Some(rest) = m.addr.strip_prefix(Family::Nsm.prefix()) {
        Some((Family::Nsm, rest))
    } else {
        m.addr
            .strip_prefix(Family::Ray.prefix())
            .map(|rest| (Family::Ray, rest))
    };
    if let Some((family, leaf)) = family {
        match leaf {
            "client_state" => {
                if m.args.len() == 2 {
                    expect(&m, "si", false)?;
                    let mut a = Args(m.args.into_iter());
                    return Ok(Message::ClientStateLegacy {
                        family,
                        client_id: a.s(),
                        started: a.i(),
                    });
                }
                expect(&m, "ssi", false)?;
                let mut a = Args(m.args.into_iter());
                let (client_id, jack_name, started) = (a.s(), a.s(), a.i());
                if client_id.is_empty() && jack_name.is_empty() {
                    return Ok(Message::ClientStateEnd {
                        family,
                        count: started,
                    });
                }
                return Ok(Message::ClientState {
                    family,
                    client_id,
                    jack_name,
                    started,
                });
            }
            "client_event" => {
                expect(&m, "ss", false)?;
                let mut a = Args(m.args.into_iter());
                let client_id = a.s();
                let event = ClientEvent::parse(&a.s());
                return Ok(Message::ClientEvent {
                    family,
                    client_id,
                    event,
                });
            }
            "client_updated" => {
                expect(&m, "ssi", false)?;
                let mut a = Args(m.args.into_iter());
                return Ok(Message::ClientUpdated {
                    family,
                    client_id: a.s(),
                    jack_name: a.s(),
                    started: a.i(),
                });
            }
            _ => {}
        }
    }
    let path = m.addr.as_str();
    let msg = match path {
        "/ray/server/monitor_announce" => {
            expect(&m, "", false)?;
            Message::MonitorAnnounce
        }
        "/ray/server/monitor_quit" => {
            expect(&m, "", false)?;
            Message::MonitorQuit
        }
        "/nsm/server/monitor_reset" => {
            expect(&m, "", false)?;
            Message::MonitorReset
        }
        "/nsm/client/save" => {
            expect(&m, "", false)?;
            Message::Save
        }
        "/nsm/client/session_is_loaded" => {
            expect(&m, "", false)?;
            Message::SessionIsLoaded
        }
        "/osc/ping" => {
            expect(&m, "", false)?;
            Message::Ping
        }
        "/reply" => {
            expect(&m, "s", true)?;
            if let Some(index) = m.args.iter().position(|a| tag(a) != 's') {
                return Err(DecodeError::new(
                    0,
                    DecodeErrorKind::ArgumentType {
                        path: m.addr.clone(),
                        index,
                        expected: 's',
                        found: m.args.get(index).map_or('?', tag),
                        tags: tags(&m.args),
                    },
                ));
            }
            let mut a = Args(m.args.into_iter());
            let path = a.s();
            Message::Reply {
                path,
                args: a.0.map(|v| v.string().unwrap_or_default()).collect(),
            }
        }
        "/error" | "/minor_error" => {
            expect(&m, "sis", false)?;
            let minor = path == "/minor_error";
            let mut a = Args(m.args.into_iter());
            let (path, code, message) = (a.s(), ErrorCode::from_i32(a.i()), a.s());
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
        }
        "/nsm/server/announce" => {
            expect(&m, "sssiii", false)?;
            let mut a = Args(m.args.into_iter());
            Message::Announce {
                app_name: a.s(),
                capabilities: Capabilities::parse(&a.s()),
                executable: a.s(),
                api_major: a.i(),
                api_minor: a.i(),
                pid: a.i(),
            }
        }
        "/nsm/client/open" => {
            expect(&m, "sss", false)?;
            let mut a = Args(m.args.into_iter());
            Message::Open {
                instance_path: a.s(),
                display_name: a.s(),
                client_id: a.s(),
            }
        }
        _ => {
            return Err(DecodeError::new(
                0,
                DecodeErrorKind::UnknownPath {
                    tags: tags(&m.args),
                    path: m.addr,
                },
            ));
        }
    };
    Ok(msg)
}

fn s(v: &str) -> Result<OscType, EncodeError> {
    if v.contains('\0') {
        Err(EncodeError::NulInString(v.to_owned()))
    } else {
        Ok(OscType::String(v.to_owned()))
    }
}

/// The OSC message for a typed one.
pub fn to_osc(msg: &Message) -> Result<OscMessage, EncodeError> {
    let args = match msg {
        Message::ClientState {
            client_id,
            jack_name,
            started,
            ..
        }
        | Message::ClientUpdated {
            client_id,
            jack_name,
            started,
            ..
        } => vec![s(client_id)?, s(jack_name)?, OscType::Int(*started)],
        Message::ClientStateEnd { count, .. } => {
            vec![s("")?, s("")?, OscType::Int(*count)]
        }
        Message::ClientStateLegacy {
            client_id, started, ..
        } => vec![s(client_id)?, OscType::Int(*started)],
        Message::ClientEvent {
            client_id, event, ..
        } => vec![s(client_id)?, s(&event.to_wire())?],
        Message::MonitorAnnounce
        | Message::MonitorQuit
        | Message::MonitorReset
        | Message::Save
        | Message::SessionIsLoaded
        | Message::Ping => Vec::new(),
        Message::Reply { path, args } => {
            let mut v = Vec::with_capacity(args.len() + 1);
            v.push(s(path)?);
            for a in args {
                v.push(s(a)?);
            }
            v
        }
        Message::Error {
            path,
            code,
            message,
        }
        | Message::MinorError {
            path,
            code,
            message,
        } => vec![s(path)?, OscType::Int(code.to_i32()), s(message)?],
        Message::Announce {
            app_name,
            capabilities,
            executable,
            api_major,
            api_minor,
            pid,
        } => {
            for c in capabilities.iter() {
                if c.name().is_empty() || c.name().contains(':') {
                    return Err(EncodeError::BadCapability(c.name().to_owned()));
                }
            }
            vec![
                s(app_name)?,
                s(&capabilities.to_wire())?,
                s(executable)?,
                OscType::Int(*api_major),
                OscType::Int(*api_minor),
                OscType::Int(*pid),
            ]
        }
        Message::Open {
            instance_path,
            display_name,
            client_id,
        } => vec![s(instance_path)?, s(display_name)?, s(client_id)?],
    };
    Ok(OscMessage {
        addr: msg.path(),
        args,
    })
}

/// Encodes one message as one datagram.
pub fn encode(msg: &Message) -> Result<Vec<u8>, EncodeError> {
    let packet = OscPacket::Message(to_osc(msg)?);
    rosc::encoder::encode(&packet).map_err(|e| EncodeError::Osc(e.to_string()))
}
