//! The terminal view, for real: `monwire` runs in a pseudo-terminal of a set width (util-linux
//! `script`, which every Debian system has; the child sets the size with `stty` before
//! `monwire` starts), and the test reads the screen's bytes.
//!
//! What is proved: every event of `monwire demo` is printed as one text line (as many as the
//! same demo prints as JSON Lines into a pipe, per protocol); no line is wider than the
//! terminal; text lines hold no JSON and no hex dump; severities are coloured (WARN yellow,
//! ERROR red, DEBUG dim) and nothing else is; `NO_COLOR=1` and `--color never` leave no escape
//! code at all; `--format` forces text into a pipe and JSON onto a terminal.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use std::collections::BTreeMap;
use std::process::{Command, Output, Stdio};

fn monwire() -> &'static str {
    env!("CARGO_BIN_EXE_monwire")
}

/// Runs `monwire ARGS` in a pseudo-terminal `cols` wide; returns everything it printed
/// (stdout and stderr both reach the terminal) and the exit status of `monwire`.
fn in_pty(cols: u16, env: &[(&str, &str)], args: &[&str]) -> (String, bool) {
    let quote = |a: &str| format!("'{}'", a.replace('\'', "'\\''"));
    let mut words: Vec<String> = env
        .iter()
        .map(|(k, v)| quote(&format!("{k}={v}")))
        .collect();
    words.push(quote(monwire()));
    words.extend(args.iter().map(|a| quote(a)));
    let cmd = format!("stty cols {cols} rows 200; exec env {}", words.join(" "));
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &cmd, "/dev/null"])
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "xterm-256color")
        .stdin(Stdio::null())
        .output()
        .expect("util-linux `script` runs");
    let text = String::from_utf8(out.stdout).expect("the screen is UTF-8");
    (text.replace("\r\n", "\n"), out.status.success())
}

fn strip_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // CSI: ESC [ params final-byte
            if chars.next() == Some('[') {
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The event lines of a screen (progress lines start with `monwire:`).
fn event_lines(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with("monwire:"))
        .collect()
}

fn looks_like_json(line: &str) -> bool {
    ["{\"", "{\\\"", "\":", "\\\":", "[{", "\"}"]
        .iter()
        .any(|p| line.contains(p))
}

fn looks_like_hex_dump(line: &str) -> bool {
    // `0x` and 8 hex digits or more, or a bare run of 24 hex digits or more.
    let b = line.as_bytes();
    let run_at = |i: usize| b[i..].iter().take_while(|c| c.is_ascii_hexdigit()).count();
    (0..b.len()).any(|i| {
        (b[i..].starts_with(b"0x") && run_at(i + 2) >= 8)
            || ((i == 0 || !b[i - 1].is_ascii_hexdigit()) && run_at(i) >= 24)
    })
}

fn json_counts(args: &[&str]) -> BTreeMap<String, usize> {
    let out: Output = Command::new(monwire())
        .args(args)
        .args(["--format", "json"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut counts = BTreeMap::new();
    for l in String::from_utf8(out.stdout).unwrap().lines() {
        let e: monwire_event::Event = serde_json::from_str(l).unwrap();
        *counts.entry(e.protocol.as_str().to_owned()).or_insert(0) += 1;
    }
    counts
}

#[test]
fn demo_on_a_120_column_terminal_prints_every_event_on_one_short_readable_line() {
    let (screen, ok) = in_pty(120, &[], &["demo"]);
    assert!(ok, "demo failed:\n{screen}");
    let mut counts = BTreeMap::new();
    let mut coloured = 0;
    let mut errors = 0;
    for raw in screen.lines() {
        let line = strip_escapes(raw);
        assert!(
            line.chars().count() <= 120,
            "wider than 120 columns ({}): {line}",
            line.chars().count()
        );
        if raw.starts_with("monwire:") || raw.is_empty() {
            continue;
        }
        assert!(!looks_like_json(&line), "JSON in a text line: {line}");
        assert!(!looks_like_hex_dump(&line), "hex in a text line: {line}");
        let words: Vec<&str> = line.split_whitespace().collect();
        assert!(
            words.len() >= 4,
            "time, severity, protocol, message: {line}"
        );
        let sev = words[1];
        match sev {
            "ERROR" | "FATAL" => {
                assert!(
                    raw.contains("\x1b[31mERROR\x1b[0m") || raw.contains("\x1b[1;31mFATAL\x1b[0m"),
                    "errors in red: {raw:?}"
                );
                coloured += 1;
                errors += 1;
            }
            "WARN" => {
                assert!(raw.contains("\x1b[33mWARN\x1b[0m"), "{raw:?}");
                coloured += 1;
            }
            "DEBUG" | "TRACE" => {
                assert!(raw.contains("\x1b[2m"), "{raw:?}");
                coloured += 1;
            }
            "INFO" => assert!(!raw.contains('\x1b'), "INFO is plain: {raw:?}"),
            other => panic!("no severity in the second column ({other}): {line}"),
        }
        *counts.entry(words[2].to_owned()).or_insert(0) += 1;
    }
    assert!(
        coloured > 0,
        "the demo has WARN events (a failed handshake, a crash)"
    );
    assert!(errors > 0, "the demo has an ERROR event (a failed bind)");
    assert_eq!(
        counts,
        json_counts(&["demo"]),
        "every event the demo prints as JSON is a text line on the terminal"
    );
}

#[test]
fn a_narrow_terminal_cuts_lines_with_an_ellipsis() {
    let (screen, ok) = in_pty(60, &[], &["demo", "--only", "zmq"]);
    assert!(ok, "{screen}");
    let events = event_lines(&screen);
    assert!(!events.is_empty());
    let mut cut = 0;
    for raw in &events {
        let line = strip_escapes(raw);
        assert!(line.chars().count() <= 60, "{line}");
        if line.ends_with('…') {
            assert_eq!(line.chars().count(), 60, "cut exactly at the width: {line}");
            cut += 1;
        }
    }
    assert!(cut > 0, "zmq lines are longer than 60 columns: {screen}");
}

#[test]
fn verbose_lines_are_not_cut() {
    let (screen, ok) = in_pty(60, &[], &["demo", "--only", "zmq", "-v"]);
    assert!(ok, "{screen}");
    let events = event_lines(&screen);
    assert!(
        events.iter().any(|l| strip_escapes(l).chars().count() > 60),
        "{screen}"
    );
    assert!(events.iter().all(|l| !l.ends_with('…')), "{screen}");
}

#[test]
fn no_color_and_color_never_leave_no_escape_code() {
    let (screen, ok) = in_pty(120, &[("NO_COLOR", "1")], &["demo", "--only", "zmq,nsm"]);
    assert!(ok, "{screen}");
    assert!(!event_lines(&screen).is_empty());
    assert!(!screen.contains('\x1b'), "{screen:?}");
    let (screen, ok) = in_pty(120, &[], &["demo", "--only", "zmq,nsm", "--color", "never"]);
    assert!(ok, "{screen}");
    assert!(!screen.contains('\x1b'), "{screen:?}");
}

#[test]
fn format_json_on_a_terminal_prints_json_lines() {
    let (screen, ok) = in_pty(120, &[], &["demo", "--only", "zmq", "--format", "json"]);
    assert!(ok, "{screen}");
    let events = event_lines(&screen);
    assert!(!events.is_empty());
    for l in events {
        let _: monwire_event::Event =
            serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l:?}"));
    }
}

#[test]
fn format_text_into_a_pipe_prints_text_lines_uncut_and_uncoloured_unless_asked() {
    let run = |extra: &[&str]| {
        let out = Command::new(monwire())
            .args(["demo", "--only", "zmq", "--format", "text"])
            .args(extra)
            .env_remove("CLICOLOR_FORCE")
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let plain = run(&[]);
    assert!(!plain.is_empty());
    assert!(!plain.contains('\x1b'), "auto colour is off in a pipe");
    for l in plain.lines() {
        assert!(!l.starts_with('{'), "text, not JSON: {l}");
        assert!(!l.ends_with('…'), "a pipe has no width: {l}");
    }
    let coloured = run(&["--color", "always"]);
    assert!(coloured.contains("\x1b[33mWARN\x1b[0m"), "{coloured}");
}
