//! `monwire decode --threads N`: the input cut into blocks that workers decode, their output
//! written in input order. What this proves, with the real binary:
//! - for every protocol, on captures of several 256 KiB blocks made from the golden vectors,
//!   with bad records placed at the start, in the middle, and across block boundaries (lines
//!   that do not decode, lines that are not UTF-8, CRLF endings, a last line without `\n`),
//!   the output on 2, 3 and 7 threads is byte for byte the output on one thread, and so are
//!   stderr and the exit status; with filters too;
//! - Galaxy, a stream that cannot resynchronise: a bad header in the middle or a message cut
//!   short by the end stops the run at the same message, with the same line, as on one thread;
//! - a live pipe stays live: a line written to stdin is printed before the next one is
//!   written, while stdin stays open;
//! - a reader that goes away (`| head`) ends the run at once, exit 0, as on one thread;
//! - SIGINT while the reader waits on an open stdin ends the run within the grace time,
//!   exit 130.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests fail loudly

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use monwire_tests::process::{line_channel, signal, wait_exit};
use monwire_tests::vectors::capture_lines;

const WAIT: Duration = Duration::from_secs(20);

fn monwire() -> Command {
    Command::new(env!("CARGO_BIN_EXE_monwire"))
}

/// A file of `bytes` in a fresh temporary directory (removed on drop).
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let dir = std::env::temp_dir().join(format!(
            "monwire-threads-{}-{name}-{:?}",
            std::process::id(),
            Instant::now()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn decode(threads: usize, args: &[&str], file: &Path) -> Output {
    monwire()
        .args(["decode", "--threads", &threads.to_string()])
        .args(args)
        .arg(file)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// The run on `threads` is the one-thread run, byte for byte: stdout, stderr, exit status.
/// Returns the one-thread run.
fn same_on_any_threads(args: &[&str], input: &[u8]) -> Output {
    let file = TempFile::new("capture", input);
    let one = decode(1, args, &file.0);
    assert!(!one.stdout.is_empty(), "{args:?}: some output");
    for threads in [2, 3, 7] {
        let many = decode(threads, args, &file.0);
        assert_eq!(
            many.status.code(),
            one.status.code(),
            "{args:?} on {threads} threads: exit status"
        );
        assert_eq!(
            String::from_utf8_lossy(&many.stderr),
            String::from_utf8_lossy(&one.stderr),
            "{args:?} on {threads} threads: stderr"
        );
        assert!(
            many.stdout == one.stdout,
            "{args:?} on {threads} threads: stdout differs ({} vs {} bytes)",
            many.stdout.len(),
            one.stdout.len()
        );
    }
    one
}

/// `lines` cycled to at least `size` bytes, with `bad` lines put in at the start, in the
/// middle, and just before and after each 256 KiB boundary; every fifth line ends in CRLF;
/// the last line has no `\n`.
fn capture_of_lines(lines: &[String], bad: &[&[u8]], size: usize) -> Vec<u8> {
    const BLOCK: usize = 256 * 1024;
    let mut out = Vec::with_capacity(size + 4096);
    let mut next_boundary = BLOCK - 300;
    let mut bad_at = 0;
    let mut i = 0;
    let put_bad = |out: &mut Vec<u8>, bad_at: &mut usize| {
        out.extend_from_slice(bad[*bad_at % bad.len()]);
        out.push(b'\n');
        *bad_at += 1;
    };
    put_bad(&mut out, &mut bad_at);
    while out.len() < size {
        if out.len() >= next_boundary {
            put_bad(&mut out, &mut bad_at);
            next_boundary += BLOCK / 2 + 7;
        }
        out.extend_from_slice(lines[i % lines.len()].as_bytes());
        out.extend_from_slice(if i % 5 == 4 { b"\r\n" } else { b"\n" });
        i += 1;
    }
    out.extend_from_slice(lines[0].as_bytes());
    out
}

fn sysadm_lines() -> Vec<String> {
    capture_lines("sysadm")
}

#[test]
fn sysadm_on_many_threads_is_the_one_thread_output() {
    let bad: &[&[u8]] = &[
        b"{\"name\": \"x\", oops",
        b"\xff\xfe not UTF-8",
        b"",
        b"   ",
    ];
    let input = capture_of_lines(&sysadm_lines(), bad, 1_500_000);
    let one = same_on_any_threads(&["sysadm"], &input);
    assert_eq!(one.status.code(), Some(1), "bad lines make the status 1");
    let stderr = String::from_utf8_lossy(&one.stderr);
    assert!(stderr.contains("not valid UTF-8"), "{stderr}");
    assert!(
        stderr.contains("invalid JSON") || stderr.contains("JSON"),
        "{stderr}"
    );
    same_on_any_threads(&["sysadm", "--format", "text", "--utc"], &input);
    same_on_any_threads(&["sysadm", "--kind", "progress,stopped"], &input);
}

#[test]
fn zmq_and_nsm_on_many_threads_are_the_one_thread_output() {
    let zmq = capture_lines("zmq");
    let input = capture_of_lines(&zmq, &[b"0100 zz", b"# a comment", b"\xc3"], 1_000_000);
    let one = same_on_any_threads(&["zmq"], &input);
    assert_eq!(one.status.code(), Some(1));
    same_on_any_threads(&["zmq", "--format", "text"], &input);

    let nsm = capture_lines("nsm");
    let input = capture_of_lines(&nsm, &[b"2f6e736d00", b"not hex", b"\xff"], 1_000_000);
    let one = same_on_any_threads(&["nsm", "--layout", "lines"], &input);
    assert_eq!(one.status.code(), Some(1));
    same_on_any_threads(&["nsm", "--layout", "lines", "--subject", "*s*"], &input);
}

/// The Hub capture repeated `times` times, and the offsets of its messages.
fn galaxy_stream(times: usize) -> (Vec<u8>, Vec<usize>) {
    let one = monwire_tests::vectors::read("galaxy", "cap.hub2gui");
    let stream = one.repeat(times);
    let mut starts = Vec::new();
    let mut at = 0;
    while at + 8 <= stream.len() {
        starts.push(at);
        let size = i32::from_be_bytes(stream[at + 4..at + 8].try_into().unwrap());
        at += 8 + usize::try_from(size).unwrap();
    }
    assert_eq!(at, stream.len(), "the capture is whole messages");
    (stream, starts)
}

#[test]
fn galaxy_on_many_threads_is_the_one_thread_output_and_stops_where_it_stops() {
    let (stream, starts) = galaxy_stream(700);
    let one = same_on_any_threads(&["galaxy"], &stream);
    assert_eq!(one.status.code(), Some(0));
    same_on_any_threads(&["galaxy", "--format", "text"], &stream);
    same_on_any_threads(&["galaxy", "--print", "pr"], &stream);
    same_on_any_threads(&["galaxy", "--print", "raw"], &stream);

    // Cut short by the end: the same events, then the same "truncated" line, status 1.
    let cut = &stream[..stream.len() - 5];
    let one = same_on_any_threads(&["galaxy"], cut);
    assert_eq!(one.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&one.stderr).contains("truncated message"));

    // A header no decoder takes, past the first blocks: the run stops at that message.
    let middle = starts[starts.len() / 2];
    for header in [[0, 0, 0, 99], [0xff, 0xff, 0xff, 0xf0]] {
        let mut bad = stream.clone();
        let at = if header[0] == 0 { middle } else { middle + 4 };
        bad[at..at + 4].copy_from_slice(&header);
        let one = same_on_any_threads(&["galaxy"], &bad);
        assert_eq!(one.status.code(), Some(1));
        let printed = one.stdout.iter().filter(|&&b| b == b'\n').count();
        assert_eq!(
            printed,
            starts.len() / 2,
            "every message before the bad one, none after"
        );
    }
}

#[test]
fn a_live_pipe_is_printed_as_it_comes_and_sigint_ends_the_wait() {
    let lines = sysadm_lines();
    let mut child = monwire()
        .args(["decode", "--threads", "2", "sysadm", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let out = line_channel(child.stdout.take().unwrap());
    for line in lines.iter().take(3) {
        writeln!(stdin, "{line}").unwrap();
        stdin.flush().unwrap();
        let printed = out
            .recv_timeout(WAIT)
            .expect("the event of a line is printed while stdin stays open");
        let e: monwire_event::Event = serde_json::from_str(&printed).unwrap();
        assert_eq!(e.protocol, monwire_event::Protocol::SysAdm);
    }
    // stdin stays open; the reader waits on it. SIGINT ends the run.
    signal(&child, "-INT");
    let status = wait_exit(&mut child, WAIT);
    assert_eq!(status.code(), Some(130), "{status}");
    drop(stdin);
}

#[test]
fn a_reader_that_goes_away_ends_the_run_at_once() {
    let lines = sysadm_lines();
    let input = capture_of_lines(&lines, &[lines[1].as_bytes()], 8_000_000);
    let file = TempFile::new("big", &input);
    for threads in ["1", "2"] {
        let mut child = monwire()
            .args(["decode", "--threads", threads, "sysadm"])
            .arg(&file.0)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut first = [0u8; 4096];
        stdout.read_exact(&mut first).unwrap();
        drop(stdout);
        let status = wait_exit(&mut child, WAIT);
        assert!(status.success(), "on {threads} threads: {status}");
    }
}
