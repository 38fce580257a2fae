//! Memory bounds of the Galaxy decoder, measured by a counting global allocator (issue 10 §2):
//!
//! - nothing reserves memory the input cannot fill: a message of nested lists that each claim
//!   as many items as the rest of the input could hold is refused before it allocates (today's
//!   decoder reserved about 20 GB for a 16 MiB one);
//! - the peak heap of decoding a message stays at most 4× its size plus 64 KiB, over the
//!   committed fuzz corpora, the golden captures and crafted bombs (a valid 16 MiB list of 2 M
//!   empty lists took 197 MB, 12×).
//!
//! One bomb the bound does not cover yet is listed as such below, with its measured ratio.
#![cfg(feature = "galaxy")]
// A counting `GlobalAlloc` needs `unsafe impl`; it only forwards to `System`.
#![allow(unsafe_code)]
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use monwire_galaxy::DecodeErrorKind;
use monwire_galaxy::codec::{Codec, Int64Width};
use monwire_tests::vectors::{self, corpus};

/// Tracks the live and peak bytes of the current thread (so parallel tests do not disturb it).
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn grow(n: usize) {
    // `try_with`: the allocator also runs while thread-locals are torn down.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + n as isize;
        live.set(now);
        let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
    });
}

fn shrink(n: usize) {
    let _ = LIVE.try_with(|live| live.set(live.get() - n as isize));
}

// SAFETY: every method forwards to `System` unchanged; the counters are const-initialized
// thread-local `Cell`s, which never allocate.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        grow(layout.size());
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // A moving realloc holds both blocks for a moment: count the new one first.
        grow(new_size);
        shrink(layout.size());
        // SAFETY: as for `alloc`; `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        shrink(layout.size());
        // SAFETY: `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The peak heap above the starting point while running `f` (its result included, since it is
/// alive at the end).
fn peak<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let r = f();
    let top = PEAK.with(Cell::get);
    ((top - start).max(0) as usize, r)
}

const SLACK: usize = 64 * 1024;

/// Decodes one whole message and checks the bound; returns the peak.
fn check_message(what: &str, msg: &[u8], codec: &Codec) -> usize {
    let (used, r) = peak(|| codec.decode_exact(msg));
    let limit = 4 * msg.len() + SLACK;
    assert!(
        used <= limit,
        "{what}: decoding {} bytes took {used} bytes of heap ({:.1}×), over 4× + 64 KiB",
        msg.len(),
        used as f64 / msg.len() as f64
    );
    drop(r);
    used
}

fn header(msg_type: i32, body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(body.len() + 8);
    m.extend_from_slice(&msg_type.to_be_bytes());
    m.extend_from_slice(&(body.len() as i32).to_be_bytes());
    m.extend_from_slice(body);
    m
}

fn be(v: i32) -> [u8; 4] {
    v.to_be_bytes()
}

#[test]
fn the_counter_sees_allocations() {
    // Without this, a broken counter would make every bound below pass vacuously.
    let (n, v) = peak(|| std::hint::black_box(vec![1u8; 100_000]));
    assert!(n >= 100_000, "a 100 kB Vec was counted as {n} bytes");
    drop(v);
}

#[test]
fn nested_claims_are_refused_before_anything_is_reserved() {
    // 16 MiB: 63 nested lists, each claiming as many 4-byte items as the rest of the body has
    // room for, then zeros. Each claim alone fits the bytes left; together they cannot, and
    // the decoder must see that before it reserves anything.
    const SIZE: usize = 16 * 1024 * 1024;
    let mut body = Vec::with_capacity(SIZE);
    for _ in 0..63 {
        let rest = SIZE - body.len() - 8;
        body.extend_from_slice(&be(6));
        body.extend_from_slice(&be((rest / 4) as i32));
    }
    body.resize(SIZE, 0);
    let msg = header(1, &body);
    let codec = Codec::default();
    let (used, r) = peak(|| codec.decode_exact(&msg));
    let err = r.expect_err("the claims cannot all be met");
    assert!(
        matches!(err.kind, DecodeErrorKind::LengthTooLarge { .. }),
        "refused as a length, at the claim: {err}"
    );
    // The first list may reserve its claim (it fits the input); the second claim does not fit
    // beside the first one's, so nothing deeper is reserved.
    assert!(
        used <= 4 * msg.len() + SLACK,
        "refusing the nested claims took {used} bytes"
    );
}

#[test]
fn a_list_of_two_million_empty_lists_stays_within_4x() {
    // Valid, 16 MiB: ( ( ) ( ) … ), 2 M items of 8 bytes.
    const N: usize = 2 * 1024 * 1024 - 2;
    let mut body = Vec::with_capacity(8 + N * 8);
    body.extend_from_slice(&be(6));
    body.extend_from_slice(&be(N as i32));
    for _ in 0..N {
        body.extend_from_slice(&be(6));
        body.extend_from_slice(&be(0));
    }
    let msg = header(1, &body);
    let used = check_message("2 M empty lists", &msg, &Codec::default());
    eprintln!(
        "2 M empty lists: {} bytes decoded with a peak of {used} bytes ({:.2}×)",
        msg.len(),
        used as f64 / msg.len() as f64
    );
}

#[test]
fn scalar_and_array_bombs_stay_within_4x() {
    const N: usize = 200_000;
    let codec8 = Codec::default().with_int64_width(Int64Width::Eight);
    let mut cases: Vec<(&str, Vec<u8>, Codec)> = Vec::new();
    // A list of ints.
    let mut body = [be(6), be(N as i32)].concat();
    for i in 0..N {
        body.extend_from_slice(&be(3));
        body.extend_from_slice(&be(i as i32));
    }
    cases.push(("list of ints", body, Codec::default()));
    // A list of empty strings, symbols and binaries.
    let mut body = [be(6), be(N as i32)].concat();
    for i in 0..N {
        body.extend_from_slice(&be([2, 5, 11][i % 3]));
        body.extend_from_slice(&be(0));
    }
    cases.push(("list of empty strings", body, Codec::default()));
    // A list of empty arrays of every type.
    let mut body = [be(6), be(N as i32)].concat();
    for i in 0..N {
        body.extend_from_slice(&be(12 + (i % 5) as i32));
        body.extend_from_slice(&be(0));
    }
    cases.push(("list of empty arrays", body, Codec::default()));
    // One big INT_64 array read with 4-byte elements (8 bytes each in memory).
    let mut body = [be(14), be(N as i32)].concat();
    body.resize(8 + 4 * N, 7);
    cases.push(("INT_64 array, 4-byte elements", body, Codec::default()));
    let mut body = [be(14), be(N as i32)].concat();
    body.resize(8 + 8 * N, 7);
    cases.push(("INT_64 array, 8-byte elements", body, codec8));
    // A frame of many distinct one-byte… four-byte keys (the duplicate index included).
    let mut body = [be(1), be(2), be(1), *b"f\0\0\0", be(N as i32)].concat();
    for i in 0..N {
        let k = (i as u32).to_be_bytes();
        body.extend_from_slice(&be(4));
        body.extend_from_slice(&k);
        body.extend_from_slice(&be(3));
        body.extend_from_slice(&be(i as i32));
    }
    body.extend_from_slice(&be(0));
    cases.push(("frame of 200 k distinct keys", body, Codec::default()));
    // A frame of one key repeated (the value replaced each time).
    let mut body = [be(1), be(2), be(1), *b"f\0\0\0", be(N as i32)].concat();
    for i in 0..N {
        body.extend_from_slice(&be(0));
        body.extend_from_slice(&be(3));
        body.extend_from_slice(&be(i as i32));
    }
    body.extend_from_slice(&be(0));
    cases.push(("frame of one key repeated", body, Codec::default()));
    // Predicates: a frame with 200 k empty predicate frames.
    let mut body = [be(1), be(2), be(0), be(0), be(N as i32)].concat();
    for _ in 0..N {
        body.extend_from_slice(&[be(1), be(2), be(0), be(0), be(0)].concat());
    }
    cases.push(("frame of 200 k predicates", body, Codec::default()));
    for (what, body, codec) in cases {
        let msg = header(1, &body);
        let used = check_message(what, &msg, &codec);
        eprintln!(
            "{what}: {} bytes, peak {used} ({:.2}×)",
            msg.len(),
            used as f64 / msg.len() as f64
        );
    }
}

#[test]
fn every_committed_corpus_input_and_golden_message_stays_within_4x() {
    let mut n = 0;
    for width in [Int64Width::Four, Int64Width::Eight] {
        let codec = Codec::default().with_int64_width(width);
        for (name, data) in corpus("galaxy_object") {
            // The object corpus holds bare objects: frame them as one message.
            check_message(&name, &header(1, &data), &codec);
            n += 1;
        }
        for (name, data) in corpus("galaxy_stream") {
            // Each whole message at the front of the stream inputs.
            let mut at = 0;
            while let Ok(Some((_, used))) = codec.decode(&data[at..]) {
                check_message(&name, &data[at..at + used], &codec);
                at += used;
                n += 1;
            }
        }
    }
    for cap in ["cap.hub2gui", "cap.gui2hub", "cap4.hub2gui", "cap4.gui2hub"] {
        let data = vectors::read("galaxy", cap);
        let codec = Codec::default();
        let mut at = 0;
        while at < data.len() {
            let (_, used) = codec.decode(&data[at..]).unwrap().unwrap();
            check_message(cap, &data[at..at + used], &codec);
            at += used;
            n += 1;
        }
    }
    assert!(n > 500, "only {n} messages checked");
}

/// Frames inside lists cost a boxed `Frame` (80 bytes) plus the 32-byte list slot for 20 wire
/// bytes: 5.6×. The bound holds for everything else; this records the gap instead of hiding
/// it, and fails if it grows.
#[test]
fn a_list_of_empty_frames_is_the_known_gap() {
    const N: usize = 100_000;
    let mut body = [be(6), be(N as i32)].concat();
    for _ in 0..N {
        body.extend_from_slice(&[be(1), be(2), be(0), be(0), be(0)].concat());
    }
    let msg = header(1, &body);
    let codec = Codec::default();
    let (used, r) = peak(|| codec.decode_exact(&msg));
    r.unwrap();
    let ratio = used as f64 / msg.len() as f64;
    eprintln!("list of 100 k empty frames: peak {used} ({ratio:.2}×)");
    assert!(used <= 6 * msg.len() + SLACK, "{ratio:.2}×");
}
