//! SysAdm round-trip bodies shared by the fuzz targets and the corpus-replay test.

use monwire_sysadm::codec::{
    Limits, decode, decode_general, decode_routed, encode, encode_routed, parse_json,
};

/// Decodes `bytes` as one message; when it decodes, encodes it, checks the encoding is the
/// same JSON value as the input, and decodes it again to the same message. Never panics on
/// bad input (errors are fine). Returns whether `bytes` decoded.
pub fn roundtrip_message(bytes: &[u8]) -> bool {
    let limits = Limits::default();
    let decoded = decode(bytes, &limits);
    // The typed fast path and the general path agree on every input, errors included.
    assert_eq!(
        decoded,
        decode_general(bytes, &limits),
        "fast and general decode differ"
    );
    let Ok(msg) = decoded else {
        return false;
    };
    let out = encode(&msg, &limits).expect("a decoded message encodes");
    let again = decode(&out, &limits).expect("our encoding decodes");
    assert_eq!(again, msg, "decode(encode(m)) != m");
    let mut before = parse_json(bytes, &limits).unwrap();
    // The one documented normalization: an absent `id` reads as `""` (as the server reads it)
    // and is written as `"id":""` (the server always writes an id).
    if let serde_json::Value::Object(m) = &mut before {
        m.entry("id").or_insert(serde_json::Value::from(""));
    }
    let after = parse_json(&out, &limits).unwrap();
    assert_eq!(before, after, "re-encoding changed the JSON value");
    // Encoding is canonical: a second pass gives the same bytes.
    assert_eq!(encode(&again, &limits).unwrap(), out);
    true
}

/// Decodes `bytes` as a routed bridge frame; when it decodes, re-encodes it to the same bytes
/// and runs [`roundtrip_message`] on its payload. Returns whether the frame and its payload
/// decoded.
pub fn roundtrip_routed(bytes: &[u8]) -> bool {
    let limits = Limits::default();
    let Ok(frame) = decode_routed(bytes, &limits) else {
        return false;
    };
    assert_eq!(
        encode_routed(&frame),
        bytes,
        "routed frame did not re-encode byte for byte"
    );
    roundtrip_message(&frame.payload)
}

use std::time::{Duration, Instant};

use monwire_sysadm::message::Message;
use monwire_sysadm::session::{
    AllowAll, Client, ClientConfig, ClientEvent, ClientTransmit, LoginGuard, Outgoing, Server,
    ServerConfig,
};

/// The password the session fuzz bodies log in with; it must never appear in what the
/// sessions report.
const FUZZ_PASSWORD: &str = "QZfuzzPASSWORD";

/// Whether what `shown` writes contains [`FUZZ_PASSWORD`]. It formats into a matcher that
/// keeps no text (the fuzz bodies check every event and the whole session's `Debug` after every
/// step, and building those strings was most of their time): a password split across `write_str`
/// calls is still found, since the match state carries over.
fn shows_password(shown: std::fmt::Arguments<'_>) -> bool {
    use std::fmt::Write;
    /// Knuth–Morris–Pratt over the bytes written: `at` bytes of the needle are matched.
    struct Finder {
        at: usize,
        found: bool,
    }
    impl Write for Finder {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            let needle = FUZZ_PASSWORD.as_bytes();
            let mut bytes = s.as_bytes();
            while !bytes.is_empty() {
                if self.at == 0 {
                    // Nothing matched yet: skip straight to the next possible start.
                    let Some(p) = bytes.iter().position(|&b| b == needle[0]) else {
                        return Ok(());
                    };
                    bytes = &bytes[p..];
                }
                let b = bytes[0];
                bytes = &bytes[1..];
                // On a mismatch, go on from the longest border of what matched (found the
                // plain way: the needle is short and partial matches are rare).
                while self.at > 0 && needle[self.at] != b {
                    self.at = border(needle, self.at);
                }
                if needle[self.at] == b {
                    self.at += 1;
                }
                if self.at == needle.len() {
                    self.found = true;
                    // Stops the formatting: nothing more is needed.
                    return Err(std::fmt::Error);
                }
            }
            Ok(())
        }
    }
    /// The longest proper border of `needle[..len]` (a prefix that is also a suffix).
    fn border(needle: &[u8], len: usize) -> usize {
        (1..len)
            .rev()
            .find(|&k| needle[..k] == needle[len - k..len])
            .unwrap_or(0)
    }
    let mut f = Finder {
        at: 0,
        found: false,
    };
    let _ = f.write_fmt(shown);
    f.found
}

/// Neither the `Debug` nor the `Display` form of `x` shows [`FUZZ_PASSWORD`].
fn assert_hidden<T: std::fmt::Debug + std::fmt::Display>(x: &T) {
    assert!(
        !shows_password(format_args!("{x:?} {x}")),
        "password in {x:?} {x}"
    );
}

/// Splits fuzz input into steps: each step is an op byte, then bytes up to the next `0x00`.
fn steps(data: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    data.split(|&b| b == 0).filter_map(|chunk| {
        let (&op, rest) = chunk.split_first()?;
        Some((op, rest))
    })
}

fn check_client_output(c: &mut Client, limits: &Limits) {
    // Before draining, so what the client holds queued is shown too.
    assert!(!shows_password(format_args!("{c:?}")), "password in {c:?}");
    while let Some(t) = c.poll_transmit() {
        if let ClientTransmit::Text(text) = t {
            // What the client sends is a message it can read back.
            assert!(
                decode(text.as_bytes(), limits).is_ok(),
                "client sent {text:?}"
            );
        }
    }
    while let Some(e) = c.poll_event() {
        match &e {
            ClientEvent::Event(m) => assert_hidden(m),
            ClientEvent::Session(ev) => assert_hidden(ev),
        }
    }
}

/// The client session fed arbitrary frames, connection changes and time steps: it never
/// panics, every frame it sends decodes, nothing it reports shows the password, and once closed
/// it stays closed.
pub fn session_client(data: &[u8]) {
    let limits = Limits::default();
    let config = ClientConfig {
        credentials: Some(("alice".into(), FUZZ_PASSWORD.into())),
        ..Default::default()
    };
    let mut now = Instant::now();
    let mut c = Client::new(config, "wss://fuzz:12150");
    c.handle_connected(now);
    for (op, rest) in steps(data) {
        match op % 5 {
            // Most steps: a received frame.
            0 | 1 => c.handle_text(now, rest),
            2 => {
                now += Duration::from_secs(u64::from(op));
                c.handle_timeout(now);
            }
            3 => c.handle_disconnected(now),
            _ => {
                if c.wants_connect(now) {
                    c.handle_connected(now);
                } else {
                    c.handle_connect_failed(now, "refused");
                }
            }
        }
        let closed = c.is_closed();
        check_client_output(&mut c, &limits);
        if closed {
            assert!(c.is_closed() && !c.wants_connect(now + Duration::from_secs(3600)));
        }
    }
}

fn check_server_output(s: &mut Server, conns: &[u64], limits: &Limits, cap: usize) {
    // A published event is one shared encoding queued to every subscriber: decode it once.
    let mut checked: Vec<std::sync::Arc<str>> = Vec::new();
    for &conn in conns {
        assert!(s.queued(conn) <= cap + 2, "queue over its bound");
        while let Some(out) = s.poll_transmit(conn) {
            if let Outgoing::Text(t) = out
                && !checked.iter().any(|c| std::sync::Arc::ptr_eq(c, &t))
            {
                assert!(decode(t.as_bytes(), limits).is_ok(), "server sent {t:?}");
                checked.push(t);
            }
        }
    }
    while let Some(e) = s.poll_event() {
        assert_hidden(&e);
    }
}

/// The server session fed arbitrary frames on three connections, publishes of whatever
/// decodes as an event, closes and time steps: it never panics, every frame it sends decodes,
/// queues stay bounded, and nothing it reports shows a password.
pub fn session_server(data: &[u8]) {
    let limits = Limits::default();
    let cap = 8;
    let config = ServerConfig {
        queue_capacity: cap,
        login_guard: LoginGuard {
            max_failures: 3,
            exempt_loopback: false,
            ..Default::default()
        },
        ..Default::default()
    };
    let mut now = Instant::now();
    let mut s = Server::new(config, AllowAll);
    let mut conns: Vec<u64> = ["127.0.0.1:1", "192.0.2.7:2", "[::1]:3"]
        .iter()
        .map(|p| s.accept(now, p))
        .collect();
    for (op, rest) in steps(data) {
        let conn = conns
            .get(usize::from(op >> 5) % conns.len().max(1))
            .copied();
        match op % 6 {
            0..=2 => {
                if let Some(conn) = conn {
                    s.handle_text(now, conn, rest);
                }
            }
            3 => {
                if let Ok(m) = decode(rest, &limits)
                    && m.as_event().is_some()
                {
                    let _ = s.publish(&m);
                }
            }
            4 => {
                now += Duration::from_secs(u64::from(op) * 7);
                s.handle_timeout(now);
            }
            _ => {
                if let Some(conn) = conn {
                    s.handle_closed(conn);
                    conns.retain(|c| *c != conn);
                }
                if conns.len() < 3 {
                    conns.push(s.accept(now, "192.0.2.8:9"));
                }
            }
        }
        check_server_output(&mut s, &conns, &limits, cap);
        assert_eq!(s.connections(), conns.len());
    }
    // A login with the password never leaks either.
    let login = Message::auth("x", "alice", FUZZ_PASSWORD);
    if let Some(&conn) = conns.first() {
        s.handle_text(now, conn, &encode(&login, &limits).unwrap());
        check_server_output(&mut s, &conns, &limits, cap);
    }
}

#[cfg(test)]
mod tests {
    use super::{FUZZ_PASSWORD, shows_password};

    /// The matcher finds the password whole, split over many `write_str` calls, after a false
    /// start, and not when one byte differs.
    #[test]
    fn shows_password_finds_it_however_it_is_written() {
        let (a, b) = FUZZ_PASSWORD.split_at(5);
        assert!(shows_password(format_args!("x{FUZZ_PASSWORD}y")));
        assert!(shows_password(format_args!("{a}{}{b}", "")));
        assert!(shows_password(format_args!("{:?}", [a, b].concat())));
        assert!(shows_password(format_args!(
            "QZfuQZfuzzPQZ{}",
            &FUZZ_PASSWORD[2..]
        )));
        let split: Vec<String> = FUZZ_PASSWORD.chars().map(String::from).collect();
        assert!(shows_password(format_args!("{}", split.concat())));
        assert!(shows_password(format_args!(
            "{}{}{}{}",
            &split[0],
            &split[1],
            &split[2..7].concat(),
            &split[7..].concat()
        )));
        assert!(!shows_password(format_args!(
            "QZfuzzPASSWORd QZfuzz PASSWORD"
        )));
        assert!(!shows_password(format_args!("")));
    }
}
