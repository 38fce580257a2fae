//! The direct decoder: one OSC message straight from the datagram's bytes into a typed
//! [`Message`], borrowing while it parses and allocating only the strings the message keeps.
//!
//! It accepts exactly the OSC the `rosc`-based reference path ([`codec::decode_reference`])
//! accepts, with two deliberate exceptions where `rosc` is lenient and OSC 1.0 (and liblo, which
//! ray-daemon uses) is not: the type-tag string must start with `,` (an empty one is taken as no
//! arguments, as `rosc` does), and an unclosed `[` is an error (`rosc` silently drops the
//! arguments before it). Padding bytes are not checked, as in `rosc`. The `nsm_differential`
//! fuzz target holds the two decoders to this.
//!
//! [`codec::decode_reference`]: crate::codec::decode_reference

use crate::error::{DecodeError, DecodeErrorKind};
use crate::message::{Capabilities, ClientEvent, ErrorCode, Family, Message};

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

fn osc(offset: usize, reason: &str) -> DecodeError {
    DecodeError::new(
        offset,
        DecodeErrorKind::Osc {
            reason: reason.to_owned(),
        },
    )
}

impl<'a> Reader<'a> {
    /// An OSC string: bytes up to a NUL, the NUL, then padding to a multiple of 4 bytes.
    fn string(&mut self) -> Result<&'a str, DecodeError> {
        let start = self.pos;
        let rest = self.buf.get(start..).unwrap_or_default();
        let len = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| osc(start, "string without its NUL terminator"))?;
        let end = (start + len + 4) & !3;
        if end > self.buf.len() {
            return Err(osc(start, "string padding runs past the end"));
        }
        let bytes = rest.get(..len).unwrap_or_default();
        let s = std::str::from_utf8(bytes).map_err(|_| osc(start, "string is not UTF-8"))?;
        self.pos = end;
        Ok(s)
    }

    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], DecodeError> {
        let start = self.pos;
        let bytes = start
            .checked_add(n)
            .and_then(|end| self.buf.get(start..end))
            .ok_or_else(|| osc(start, what))?;
        self.pos = start + n;
        Ok(bytes)
    }

    fn u32(&mut self) -> Result<u32, DecodeError> {
        let b = self.take(4, "a 4-byte argument runs past the end")?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn i32(&mut self) -> Result<i32, DecodeError> {
        Ok(self.u32()? as i32)
    }

    /// Checks one argument of type `tag` and moves past it.
    fn skip(&mut self, tag: char) -> Result<(), DecodeError> {
        match tag {
            'i' | 'f' | 'r' | 'm' => self
                .take(4, "a 4-byte argument runs past the end")
                .map(drop),
            'h' | 'd' | 't' => self
                .take(8, "an 8-byte argument runs past the end")
                .map(drop),
            's' => self.string().map(drop),
            'c' => {
                let at = self.pos;
                char::from_u32(self.u32()?)
                    .map(drop)
                    .ok_or_else(|| osc(at, "argument is not a char"))
            }
            'b' => {
                let at = self.pos;
                let size = self.u32()? as usize;
                let end = self
                    .pos
                    .checked_add(size)
                    .map(|e| (e + 3) & !3)
                    .filter(|&e| e <= self.buf.len())
                    .ok_or_else(|| osc(at, "blob runs past the end"))?;
                self.pos = end;
                Ok(())
            }
            'T' | 'F' | 'N' | 'I' => Ok(()),
            _ => Err(osc(self.pos, "type tag not implemented")),
        }
    }
}

/// The monitor family and leaf of a path, if it is a monitor path.
fn monitor_leaf(addr: &str) -> Option<(Family, &str)> {
    if let Some(l) = addr.strip_prefix(Family::Nsm.prefix()) {
        Some((Family::Nsm, l))
    } else {
        addr.strip_prefix(Family::Ray.prefix())
            .map(|l| (Family::Ray, l))
    }
}

/// The type tags a known path takes (`at_least`: a prefix, with any further `s`), or `None`
/// for an unknown path.
fn wanted(addr: &str, tags: &str) -> Option<(&'static str, bool)> {
    if let Some((_, leaf)) = monitor_leaf(addr) {
        return match leaf {
            "client_state" if tags.len() == 2 => Some(("si", false)),
            "client_state" | "client_updated" => Some(("ssi", false)),
            "client_event" => Some(("ss", false)),
            _ => None,
        };
    }
    match addr {
        "/ray/server/monitor_announce"
        | "/ray/server/monitor_quit"
        | "/nsm/server/monitor_reset"
        | "/nsm/client/save"
        | "/nsm/client/session_is_loaded"
        | "/osc/ping" => Some(("", false)),
        "/reply" => Some(("s", true)),
        "/error" | "/minor_error" => Some(("sis", false)),
        "/nsm/server/announce" => Some(("sssiii", false)),
        "/nsm/client/open" => Some(("sss", false)),
        _ => None,
    }
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

/// Decodes one OSC message (not a bundle) into a typed message.
pub(crate) fn decode_message(datagram: &[u8]) -> Result<Message, DecodeError> {
    if datagram.is_empty() {
        return Err(osc(0, "empty packet"));
    }
    let mut r = Reader {
        buf: datagram,
        pos: 0,
    };
    let addr = r.string()?;
    if !addr.starts_with('/') {
        return Err(osc(0, "invalid message address or bundle tag"));
    }
    let tags_at = r.pos;
    let raw = r.string()?;
    let tags = match raw.strip_prefix(',') {
        Some(t) => t,
        None if raw.is_empty() => "",
        None => return Err(osc(tags_at, "type-tag string does not start with ','")),
    };
    let args_at = r.pos;
    // Check every argument first, so that a message this crate does not accept is reported as
    // such only when it is well-formed OSC.
    let mut depth = 0usize;
    for t in tags.chars() {
        match t {
            '[' => depth += 1,
            ']' => {
                depth = depth
                    .checked_sub(1)
                    .ok_or_else(|| osc(tags_at, "] outside an array"))?;
            }
            t => r.skip(t)?,
        }
    }
    if depth != 0 {
        return Err(osc(tags_at, "[ without its ]"));
    }
    if r.pos != datagram.len() {
        return Err(DecodeError::new(
            r.pos,
            DecodeErrorKind::TrailingBytes {
                count: datagram.len() - r.pos,
            },
        ));
    }
    let Some((want, at_least)) = wanted(addr, tags) else {
        return Err(DecodeError::new(
            0,
            DecodeErrorKind::UnknownPath {
                path: addr.to_owned(),
                tags: tags.to_owned(),
            },
        ));
    };
    let found = tags.chars().count();
    let count_ok = if at_least {
        found >= want.len()
    } else {
        found == want.len()
    };
    if !count_ok {
        return Err(DecodeError::new(
            0,
            DecodeErrorKind::ArgumentCount {
                path: addr.to_owned(),
                expected: expected_text(want, at_least),
                found,
                tags: tags.to_owned(),
            },
        ));
    }
    let mut w = want.chars();
    for (index, t) in tags.chars().enumerate() {
        // Beyond the fixed part only `s` follows (`/reply`).
        let expected = w.next().unwrap_or('s');
        if t != expected {
            return Err(DecodeError::new(
                0,
                DecodeErrorKind::ArgumentType {
                    path: addr.to_owned(),
                    index,
                    expected,
                    found: t,
                    tags: tags.to_owned(),
                },
            ));
        }
    }
    // Well-formed, and the tags match: read the arguments for real.
    r.pos = args_at;
    build(addr, tags, &mut r)
}

fn build(addr: &str, tags: &str, r: &mut Reader<'_>) -> Result<Message, DecodeError> {
    if let Some((family, leaf)) = monitor_leaf(addr) {
        return Ok(match leaf {
            "client_state" if tags.len() == 2 => Message::ClientStateLegacy {
                family,
                client_id: r.string()?.to_owned(),
                started: r.i32()?,
            },
            "client_state" => {
                let (id, jack, started) = (r.string()?, r.string()?, r.i32()?);
                if id.is_empty() && jack.is_empty() {
                    Message::ClientStateEnd {
                        family,
                        count: started,
                    }
                } else {
                    Message::ClientState {
                        family,
                        client_id: id.to_owned(),
                        jack_name: jack.to_owned(),
                        started,
                    }
                }
            }
            "client_event" => Message::ClientEvent {
                family,
                client_id: r.string()?.to_owned(),
                event: ClientEvent::parse(r.string()?),
            },
            _ => Message::ClientUpdated {
                family,
                client_id: r.string()?.to_owned(),
                jack_name: r.string()?.to_owned(),
                started: r.i32()?,
            },
        });
    }
    Ok(match addr {
        "/ray/server/monitor_announce" => Message::MonitorAnnounce,
        "/ray/server/monitor_quit" => Message::MonitorQuit,
        "/nsm/server/monitor_reset" => Message::MonitorReset,
        "/nsm/client/save" => Message::Save,
        "/nsm/client/session_is_loaded" => Message::SessionIsLoaded,
        "/osc/ping" => Message::Ping,
        "/reply" => {
            let path = r.string()?.to_owned();
            let mut args = Vec::with_capacity(tags.len() - 1);
            for _ in 1..tags.len() {
                args.push(r.string()?.to_owned());
            }
            Message::Reply { path, args }
        }
        "/error" | "/minor_error" => {
            let (path, code, message) = (
                r.string()?.to_owned(),
                ErrorCode::from_i32(r.i32()?),
                r.string()?.to_owned(),
            );
            if addr == "/minor_error" {
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
        "/nsm/server/announce" => Message::Announce {
            app_name: r.string()?.to_owned(),
            capabilities: Capabilities::parse(r.string()?),
            executable: r.string()?.to_owned(),
            api_major: r.i32()?,
            api_minor: r.i32()?,
            pid: r.i32()?,
        },
        _ => Message::Open {
            instance_path: r.string()?.to_owned(),
            display_name: r.string()?.to_owned(),
            client_id: r.string()?.to_owned(),
        },
    })
}
