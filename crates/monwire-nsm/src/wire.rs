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

/// What went wrong where, kept to two words while parsing (a [`DecodeError`] is built only
/// when one is returned: results stay small on the hot path).
#[derive(Clone, Copy, Debug)]
struct Fail {
    at: usize,
    reason: &'static str,
}

impl From<Fail> for DecodeError {
    fn from(f: Fail) -> DecodeError {
        osc(f.at, f.reason)
    }
}

fn fail<T>(at: usize, reason: &'static str) -> Result<T, Fail> {
    Err(Fail { at, reason })
}

/// The index of the first zero byte of a little-endian word, if any (the classic
/// "has a zero byte" test; its lowest set bit marks the first zero byte exactly).
#[inline]
fn zero_byte(w: u32) -> Option<usize> {
    let z = w.wrapping_sub(0x0101_0101) & !w & 0x8080_8080;
    (z != 0).then(|| (z.trailing_zeros() / 8) as usize)
}

/// `bytes` (an OSC string read at `at`) as UTF-8 text.
#[inline]
fn utf8(bytes: &[u8], at: usize) -> Result<&str, Fail> {
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok(s),
        Err(_) => fail(at, "string is not UTF-8"),
    }
}

impl<'a> Reader<'a> {
    /// An OSC string: bytes up to a NUL, the NUL, then padding to a multiple of 4 bytes.
    /// The NUL is looked for a 4-byte word at a time (an OSC string fills whole words).
    #[inline]
    fn string(&mut self) -> Result<&'a str, Fail> {
        let start = self.pos;
        let bytes = self.cstr()?;
        utf8(bytes, start)
    }

    /// The bytes of an OSC string (checked for its NUL and padding, not yet for UTF-8).
    #[inline]
    fn cstr(&mut self) -> Result<&'a [u8], Fail> {
        let start = self.pos;
        let rest = self.buf.get(start..).unwrap_or_default();
        let mut len = None;
        let mut words = rest.chunks_exact(4);
        for (i, w) in words.by_ref().enumerate() {
            if let Some(j) = zero_byte(u32::from_le_bytes([w[0], w[1], w[2], w[3]])) {
                len = Some(i * 4 + j);
                break;
            }
        }
        let len = match len {
            Some(len) => len,
            None => match words.remainder().iter().position(|&b| b == 0) {
                Some(j) => rest.len() - words.remainder().len() + j,
                None => return fail(start, "string without its NUL terminator"),
            },
        };
        let end = (start + len + 4) & !3;
        if end > self.buf.len() {
            return fail(start, "string padding runs past the end");
        }
        self.pos = end;
        Ok(rest.get(..len).unwrap_or_default())
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Fail> {
        let start = self.pos;
        let Some(bytes) = start
            .checked_add(n)
            .and_then(|end| self.buf.get(start..end))
        else {
            return fail(start, what);
        };
        self.pos = start + n;
        Ok(bytes)
    }

    #[inline]
    fn u32(&mut self) -> Result<u32, Fail> {
        let start = self.pos;
        match self.buf.get(start..start.wrapping_add(4)) {
            Some(&[a, b, c, d]) => {
                self.pos = start + 4;
                Ok(u32::from_be_bytes([a, b, c, d]))
            }
            _ => fail(start, "a 4-byte argument runs past the end"),
        }
    }

    #[inline]
    fn i32(&mut self) -> Result<i32, Fail> {
        Ok(self.u32()? as i32)
    }

    /// Checks one argument of type `tag` and moves past it.
    fn skip(&mut self, tag: char) -> Result<(), Fail> {
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
                match char::from_u32(self.u32()?) {
                    Some(_) => Ok(()),
                    None => fail(at, "argument is not a char"),
                }
            }
            'b' => {
                let at = self.pos;
                let size = self.u32()? as usize;
                match self
                    .pos
                    .checked_add(size)
                    .map(|e| (e + 3) & !3)
                    .filter(|&e| e <= self.buf.len())
                {
                    Some(end) => {
                        self.pos = end;
                        Ok(())
                    }
                    None => fail(at, "blob runs past the end"),
                }
            }
            'T' | 'F' | 'N' | 'I' => Ok(()),
            _ => fail(self.pos, "type tag not implemented"),
        }
    }
}

/// A path this crate knows, found with one comparison of equal length at most (a string
/// `match` would compare against every candidate in turn).
#[derive(Clone, Copy)]
enum Known {
    State(Family),
    Event(Family),
    Updated(Family),
    MonitorAnnounce,
    MonitorQuit,
    MonitorReset,
    Save,
    SessionIsLoaded,
    Ping,
    Reply,
    Error,
    MinorError,
    Announce,
    Open,
}

/// `a == b`, as an inlined loop: these are at most a few dozen bytes, and a `memcmp` call costs
/// more than comparing them.
#[inline]
fn same(a: &[u8], b: &str) -> bool {
    a.len() == b.len() && a.iter().zip(b.as_bytes()).all(|(x, y)| x == y)
}

/// `a` without the prefix `p`, compared as [`same`] does.
#[inline]
fn after<'a>(a: &'a [u8], p: &str) -> Option<&'a [u8]> {
    let (head, tail) = a.split_at_checked(p.len())?;
    same(head, p).then_some(tail)
}

fn classify(a: &[u8]) -> Option<Known> {
    let monitor = if let Some(leaf) = after(a, Family::Ray.prefix()) {
        Some((Family::Ray, leaf))
    } else {
        after(a, Family::Nsm.prefix()).map(|leaf| (Family::Nsm, leaf))
    };
    if let Some((family, leaf)) = monitor {
        return if same(leaf, "client_event") {
            Some(Known::Event(family))
        } else if same(leaf, "client_state") {
            Some(Known::State(family))
        } else if same(leaf, "client_updated") {
            Some(Known::Updated(family))
        } else {
            None
        };
    }
    let known = match a.len() {
        6 if same(a, "/reply") => Known::Reply,
        6 if same(a, "/error") => Known::Error,
        9 if same(a, "/osc/ping") => Known::Ping,
        12 if same(a, "/minor_error") => Known::MinorError,
        16 if same(a, "/nsm/client/open") => Known::Open,
        16 if same(a, "/nsm/client/save") => Known::Save,
        20 if same(a, "/nsm/server/announce") => Known::Announce,
        24 if same(a, "/ray/server/monitor_quit") => Known::MonitorQuit,
        25 if same(a, "/nsm/server/monitor_reset") => Known::MonitorReset,
        28 if same(a, "/ray/server/monitor_announce") => Known::MonitorAnnounce,
        29 if same(a, "/nsm/client/session_is_loaded") => Known::SessionIsLoaded,
        _ => return None,
    };
    Some(known)
}

/// The type tags a known path takes (`at_least`: a prefix, with any further `s`).
fn wanted(known: Known, tags: &[u8]) -> (&'static str, bool) {
    match known {
        Known::State(_) if tags.len() == 2 => ("si", false),
        Known::State(_) | Known::Updated(_) => ("ssi", false),
        Known::Event(_) => ("ss", false),
        Known::MonitorAnnounce
        | Known::MonitorQuit
        | Known::MonitorReset
        | Known::Save
        | Known::SessionIsLoaded
        | Known::Ping => ("", false),
        Known::Reply => ("s", true),
        Known::Error | Known::MinorError => ("sis", false),
        Known::Announce => ("sssiii", false),
        Known::Open => ("sss", false),
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
    // The address and the type tags are compared as bytes: a known path and tags that match
    // what it takes are ASCII, so only the others need a UTF-8 check (made in the order the
    // strings come, so the errors are those of checking each string as it is read).
    let addr_bytes = r.cstr()?;
    let known = classify(addr_bytes);
    if known.is_none() {
        utf8(addr_bytes, 0)?;
    }
    if addr_bytes.first() != Some(&b'/') {
        return Err(osc(0, "invalid message address or bundle tag"));
    }
    let tags_at = r.pos;
    let raw = r.cstr()?;
    let tag_bytes = match raw.split_first() {
        Some((b',', t)) => t,
        None => &[],
        Some(_) => {
            utf8(raw, tags_at)?;
            return Err(osc(tags_at, "type-tag string does not start with ','"));
        }
    };
    let wanted = known.map(|k| wanted(k, tag_bytes));
    // The common case, a known path with the tags it takes: read the arguments once, straight
    // into the message.
    if let (Some(k), Some((want, at_least))) = (known, wanted)
        && tags_match(tag_bytes, want, at_least)
    {
        // Built straight into this function's result (same type, tail position).
        return build(k, tag_bytes, &mut r);
    }
    let addr = utf8(addr_bytes, 0)?;
    let tags = utf8(tag_bytes, tags_at)?;
    // Anything else is refused; check every argument first, so that a message this crate does
    // not accept is reported as such only when it is well-formed OSC.
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
    let Some((want, at_least)) = wanted else {
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
    let (index, (found, expected)) = tags
        .chars()
        // Beyond the fixed part only `s` follows (`/reply`).
        .map(|t| (t, w.next().unwrap_or('s')))
        .enumerate()
        .find(|(_, (t, e))| t != e)
        .unwrap_or((0, ('?', '?')));
    Err(DecodeError::new(
        0,
        DecodeErrorKind::ArgumentType {
            path: addr.to_owned(),
            index,
            expected,
            found,
            tags: tags.to_owned(),
        },
    ))
}

/// Whether `tags` is exactly `want`, or (`at_least`) `want` then only `s`.
/// Byte by byte: these are a few bytes long, and a `memcmp` call costs more than the loop.
fn tags_match(t: &[u8], want: &str, at_least: bool) -> bool {
    let w = want.as_bytes();
    if t.len() < w.len() || (!at_least && t.len() != w.len()) {
        return false;
    }
    t.iter().zip(w).all(|(a, b)| a == b) && t.iter().skip(w.len()).all(|&b| b == b's')
}

/// [`ClientEvent::parse`], with the plain events found by their length first.
fn client_event(text: &str) -> ClientEvent {
    let t = text.as_bytes();
    match t.len() {
        5 if same(t, "ready") => ClientEvent::Ready,
        5 if same(t, "saved") => ClientEvent::Saved,
        6 if same(t, "joined") => ClientEvent::Joined,
        7 if same(t, "started") => ClientEvent::Started,
        7 if same(t, "removed") => ClientEvent::Removed,
        10 if same(t, "open_error") => ClientEvent::OpenError,
        10 if same(t, "save_error") => ClientEvent::SaveError,
        12 if same(t, "save_request") => ClientEvent::SaveRequest,
        12 if same(t, "stop_request") => ClientEvent::StopRequest,
        13 if same(t, "start_request") => ClientEvent::StartRequest,
        17 if same(t, "stopped_by_server") => ClientEvent::StoppedByServer,
        17 if same(t, "stopped_by_itself") => ClientEvent::StoppedByItself,
        _ => ClientEvent::parse(text),
    }
}

/// The message of a known path whose tags match, then the check that nothing follows it.
#[inline]
fn build(known: Known, tags: &[u8], r: &mut Reader<'_>) -> Result<Message, DecodeError> {
    let message = args(known, tags, r)?;
    if r.pos == r.buf.len() {
        Ok(message)
    } else {
        Err(DecodeError::new(
            r.pos,
            DecodeErrorKind::TrailingBytes {
                count: r.buf.len() - r.pos,
            },
        ))
    }
}

#[inline]
fn args(known: Known, tags: &[u8], r: &mut Reader<'_>) -> Result<Message, Fail> {
    Ok(match known {
        Known::State(family) if tags.len() == 2 => Message::ClientStateLegacy {
            family,
            client_id: r.string()?.to_owned(),
            started: r.i32()?,
        },
        Known::State(family) => {
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
        Known::Event(family) => Message::ClientEvent {
            family,
            client_id: r.string()?.to_owned(),
            event: client_event(r.string()?),
        },
        Known::Updated(family) => Message::ClientUpdated {
            family,
            client_id: r.string()?.to_owned(),
            jack_name: r.string()?.to_owned(),
            started: r.i32()?,
        },
        Known::MonitorAnnounce => Message::MonitorAnnounce,
        Known::MonitorQuit => Message::MonitorQuit,
        Known::MonitorReset => Message::MonitorReset,
        Known::Save => Message::Save,
        Known::SessionIsLoaded => Message::SessionIsLoaded,
        Known::Ping => Message::Ping,
        Known::Reply => {
            let path = r.string()?.to_owned();
            let mut args = Vec::with_capacity(tags.len() - 1);
            for _ in 1..tags.len() {
                args.push(r.string()?.to_owned());
            }
            Message::Reply { path, args }
        }
        Known::Error | Known::MinorError => {
            let (path, code, message) = (
                r.string()?.to_owned(),
                ErrorCode::from_i32(r.i32()?),
                r.string()?.to_owned(),
            );
            if matches!(known, Known::MinorError) {
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
        Known::Announce => Message::Announce {
            app_name: r.string()?.to_owned(),
            capabilities: Capabilities::parse(r.string()?),
            executable: r.string()?.to_owned(),
            api_major: r.i32()?,
            api_minor: r.i32()?,
            pid: r.i32()?,
        },
        Known::Open => Message::Open {
            instance_path: r.string()?.to_owned(),
            display_name: r.string()?.to_owned(),
            client_id: r.string()?.to_owned(),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_event_parses_as_the_message_type_does() {
        for text in [
            "start_request",
            "started",
            "joined",
            "ready",
            "open_error",
            "save_request",
            "saved",
            "save_error",
            "stop_request",
            "stopped_by_server",
            "stopped_by_itself",
            "removed",
            "switched_to:x",
            "id_changed_to:y",
            "new_alternative:z",
            "",
            "ready ",
            "Ready",
            "stopped_by_serve_",
        ] {
            assert_eq!(client_event(text), ClientEvent::parse(text), "{text:?}");
        }
    }

    /// The word-wise NUL search finds the terminator wherever it is in its word, and reports
    /// a string whose padding runs past the end, or without a NUL, at the string's start.
    #[test]
    fn strings_are_found_word_by_word() {
        for len in 0..12 {
            let mut buf = vec![b'a'; len];
            buf.push(0);
            while buf.len() % 4 != 0 {
                buf.push(0);
            }
            buf.extend_from_slice(b"b\0\0\0");
            let mut r = Reader { buf: &buf, pos: 0 };
            assert_eq!(r.string().unwrap().len(), len);
            assert_eq!(r.pos, buf.len() - 4);
            assert_eq!(r.string().unwrap(), "b");
            assert_eq!(r.pos, buf.len());
            // Cut inside the padding, or before the NUL.
            for cut in 0..(buf.len() - 4) {
                let mut r = Reader {
                    buf: &buf[..cut],
                    pos: 0,
                };
                let e = r.string().unwrap_err();
                assert_eq!(e.at, 0);
                let want = if cut > len {
                    "string padding runs past the end"
                } else {
                    "string without its NUL terminator"
                };
                assert_eq!(e.reason, want, "len {len} cut {cut}");
            }
        }
    }
    /// The address and tags are checked for UTF-8 only off the hot path; the errors are still
    /// those of reading each string in turn.
    #[test]
    fn utf8_errors_keep_their_order() {
        let reason = |bytes: &[u8]| match decode_message(bytes).unwrap_err().kind {
            DecodeErrorKind::Osc { reason } => reason,
            other => format!("{other:?}"),
        };
        // Not UTF-8 and no leading '/': the UTF-8 error comes first, as before.
        assert_eq!(reason(b"\xff\0\0\0,\0\0\0"), "string is not UTF-8");
        assert_eq!(
            reason(b"x\0\0\0,\0\0\0"),
            "invalid message address or bundle tag"
        );
        // Tags not UTF-8, and not starting with ',': the UTF-8 error first.
        assert_eq!(reason(b"/reply\0\0\xff\0\0\0"), "string is not UTF-8");
        assert_eq!(
            reason(b"/reply\0\0s\0\0\0"),
            "type-tag string does not start with ','"
        );
        // A known path with non-UTF-8 tags: reported as such, at the tags.
        let e = decode_message(b"/reply\0\0,s\xff\0").unwrap_err();
        assert_eq!(e.offset, 8);
        assert!(
            matches!(e.kind, DecodeErrorKind::Osc { reason } if reason == "string is not UTF-8")
        );
    }
}
