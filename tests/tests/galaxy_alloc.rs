//! Memory bounds of the Galaxy decoder, measured by a counting global allocator (issue 10 §2):
//!
//! - nothing reserves memory the input cannot fill: a message of nested lists that each claim
//!   as many items as the rest of the input could hold is refused before it allocates (today's
//!   decoder reserved about 20 GB for a 16 MiB one);
//! - the peak heap of decoding a message stays at most 4× its size plus 64 KiB, over the
//!   committed fuzz corpora, the golden captures and crafted bombs (a valid 16 MiB list of 2 M
//!   empty lists took 197 MB, 12×).
//!
//! Every test prints its shapes with their peak and ratio (`cargo test -- --nocapture`), so the
//! closing figures come from here.
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

/// Decodes one whole message and checks the bound (`ok`: whether it must decode); returns the
/// peak.
fn check(what: &str, msg: &[u8], codec: &Codec, ok: Option<bool>) -> usize {
    let (used, r) = peak(|| codec.decode_exact(msg));
    let limit = 4 * msg.len() + SLACK;
    assert!(
        used <= limit,
        "{what}: decoding {} bytes took {used} bytes of heap ({:.2}×), over 4× + 64 KiB",
        msg.len(),
        used as f64 / msg.len() as f64
    );
    if let Some(ok) = ok {
        assert_eq!(r.is_ok(), ok, "{what}: {:?}", r.as_ref().err());
    }
    drop(r);
    used
}

/// Checks a crafted message and prints its row: shape, size, peak, ratio.
fn row(what: &str, msg: &[u8], codec: &Codec, ok: bool) {
    let used = check(what, msg, codec, Some(ok));
    eprintln!(
        "| {what} | {} | {used} | {:.2}× |",
        msg.len(),
        used as f64 / msg.len() as f64
    );
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

/// A list header announcing `n` items.
fn list(n: usize) -> Vec<u8> {
    [be(6), be(n as i32)].concat()
}

/// An empty frame object of type `ftype` with a name of `name_len` bytes (`x`s).
fn empty_frame(ftype: i32, name_len: usize) -> Vec<u8> {
    let mut f = [be(1), be(ftype), be(name_len as i32)].concat();
    f.resize(f.len() + name_len.div_ceil(4) * 4, b'x');
    f.extend_from_slice(&[be(0), be(0)].concat());
    f
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
    assert!(
        used <= 4 * msg.len() + SLACK,
        "refusing the nested claims took {used} bytes"
    );
}

#[test]
fn a_list_of_two_million_empty_lists_stays_within_4x() {
    // Valid, 16 MiB: ( ( ) ( ) … ), 2 M items of 8 bytes (197 MB, 12×, before the bound).
    const N: usize = 2 * 1024 * 1024 - 2;
    let mut body = Vec::with_capacity(8 + N * 8);
    body.extend_from_slice(&list(N));
    for _ in 0..N {
        body.extend_from_slice(&list(0));
    }
    row(
        "2 M empty lists",
        &header(1, &body),
        &Codec::default(),
        true,
    );
}

#[test]
fn frames_in_lists_properties_and_predicates_stay_within_4x() {
    // The shapes whose in-memory form is largest beside their wire form: a 20-byte empty frame
    // is a 24-byte list slot and a 56-byte boxed frame (5.6× before the smaller layout).
    const N: usize = 100_000;
    let codec = Codec::default();
    for (what, ftype, name_len) in [
        ("list of 100 k empty clause frames", 2, 0),
        ("list of 100 k empty topic frames", 1, 0),
        ("list of 100 k frames named `x`", 2, 1),
        ("list of 100 k frames of type 77", 77, 0),
    ] {
        let mut body = list(N);
        for _ in 0..N {
            body.extend_from_slice(&empty_frame(ftype, name_len));
        }
        row(what, &header(1, &body), &codec, true);
    }
    // A frame whose 100 k properties (empty key, repeated) hold empty frames: the value is
    // replaced each time.
    let mut body = [be(1), be(2), be(1), *b"f\0\0\0", be(N as i32)].concat();
    for _ in 0..N {
        body.extend_from_slice(&be(0));
        body.extend_from_slice(&empty_frame(2, 0));
    }
    body.extend_from_slice(&be(0));
    row(
        "frame of 100 k repeated keys holding frames",
        &header(1, &body),
        &codec,
        true,
    );
    // A list of frames each with one property (an empty key and an int).
    let mut body = list(N);
    for _ in 0..N {
        body.extend_from_slice(&[be(1), be(2), be(0), be(1), be(0), be(3), be(7), be(0)].concat());
    }
    row(
        "list of 100 k frames of one property",
        &header(1, &body),
        &codec,
        true,
    );
    // Predicates: a frame with 200 k empty predicate frames, and a list of frames that each
    // have one predicate (the predicate vector is boxed apart from the frame).
    let mut body = [be(1), be(2), be(0), be(0), be(2 * N as i32)].concat();
    for _ in 0..2 * N {
        body.extend_from_slice(&empty_frame(2, 0));
    }
    row("frame of 200 k predicates", &header(1, &body), &codec, true);
    let mut body = list(N);
    for _ in 0..N {
        body.extend_from_slice(&[be(1), be(2), be(0), be(0), be(1)].concat());
        body.extend_from_slice(&empty_frame(3, 0));
    }
    row(
        "list of 100 k frames of one predicate",
        &header(1, &body),
        &codec,
        true,
    );
    // A list of 100 k proxies with empty call id and host.
    let mut body = list(N);
    for _ in 0..N {
        body.extend_from_slice(&[be(20), be(0), be(0), be(1), be(-1)].concat());
    }
    row("list of 100 k proxies", &header(1, &body), &codec, true);
}

#[test]
fn deep_nesting_stays_within_4x() {
    let codec = Codec::default();
    // 20 k chains of 60 nested one-item lists ending in an int: every level is one 8-byte
    // list header and a 24-byte slot of its own.
    const CHAINS: usize = 20_000;
    let mut body = list(CHAINS);
    for _ in 0..CHAINS {
        for _ in 0..60 {
            body.extend_from_slice(&list(1));
        }
        body.extend_from_slice(&[be(3), be(1)].concat());
    }
    row(
        "20 k chains of 60 nested lists",
        &header(1, &body),
        &codec,
        true,
    );
    // 20 k chains of 30 frames, each the only (empty-keyed) property of the one above.
    let mut body = list(CHAINS);
    for _ in 0..CHAINS {
        for _ in 0..30 {
            body.extend_from_slice(&[be(1), be(2), be(0), be(1), be(0)].concat());
        }
        body.extend_from_slice(&empty_frame(2, 0));
        for _ in 0..30 {
            body.extend_from_slice(&be(0));
        }
    }
    row(
        "20 k chains of 30 nested frames",
        &header(1, &body),
        &codec,
        true,
    );
    // The deepest message the default limit allows, 64 levels of lists, each holding a list of
    // 1 000 empty lists.
    let mut body = Vec::new();
    for _ in 0..62 {
        body.extend_from_slice(&list(2));
        body.extend_from_slice(&list(1000));
        for _ in 0..1000 {
            body.extend_from_slice(&list(0));
        }
    }
    body.extend_from_slice(&list(0));
    row(
        "64 levels, 1 000 empty lists at each",
        &header(1, &body),
        &codec,
        true,
    );
}

#[test]
fn strings_arrays_and_keys_stay_within_4x() {
    const N: usize = 200_000;
    let codec = Codec::default();
    let codec8 = Codec::default().with_int64_width(Int64Width::Eight);
    let mut cases: Vec<(&str, Vec<u8>, &Codec)> = Vec::new();
    // A list of ints.
    let mut body = list(N);
    for i in 0..N {
        body.extend_from_slice(&[be(3), be(i as i32)].concat());
    }
    cases.push(("list of ints", body, &codec));
    // A list of empty strings, symbols and binaries.
    let mut body = list(N);
    for i in 0..N {
        body.extend_from_slice(&[be([2, 5, 11][i % 3]), be(0)].concat());
    }
    cases.push(("list of empty strings", body, &codec));
    // A list of one-byte strings (each allocated: 1 byte for 12 on the wire).
    let mut body = list(N);
    for _ in 0..N {
        body.extend_from_slice(&[be(2), be(1), *b"a\0\0\0"].concat());
    }
    cases.push(("list of 1-byte strings", body, &codec));
    // One 16 MiB-class string.
    let mut body = [be(2), be(4_000_000)].concat();
    body.resize(8 + 4_000_000, b's');
    cases.push(("one 4 MB string", body, &codec));
    // A list of empty arrays of every type, and of one-element arrays.
    let mut body = list(N);
    for i in 0..N {
        body.extend_from_slice(&[be(12 + (i % 5) as i32), be(0)].concat());
    }
    cases.push(("list of empty arrays", body, &codec));
    let mut body = list(N);
    for i in 0..N {
        let t = 12 + (i % 4) as i32;
        body.extend_from_slice(&[be(t), be(1), be(9)].concat());
    }
    cases.push(("list of 1-element arrays", body, &codec));
    let mut body = list(N);
    for _ in 0..N {
        body.extend_from_slice(&[be(14), be(1), be(9)].concat());
    }
    cases.push(("list of 1-element INT_64 arrays", body, &codec));
    // One big INT_64 array read with 4-byte elements (8 bytes each in memory), and 8-byte.
    let mut body = [be(14), be(N as i32)].concat();
    body.resize(8 + 4 * N, 7);
    cases.push(("INT_64 array, 4-byte elements", body, &codec));
    let mut body = [be(14), be(N as i32)].concat();
    body.resize(8 + 8 * N, 7);
    cases.push(("INT_64 array, 8-byte elements", body, &codec8));
    let mut body = [be(12), be(N as i32)].concat();
    body.resize(8 + 4 * N, 7);
    cases.push(("INT_16 array", body, &codec));
    // A frame of many distinct four-byte keys (the duplicate index included).
    let mut body = [be(1), be(2), be(1), *b"f\0\0\0", be(N as i32)].concat();
    for i in 0..N {
        let k = (i as u32).to_be_bytes();
        body.extend_from_slice(&[be(4), k, be(3), be(i as i32)].concat());
    }
    body.extend_from_slice(&be(0));
    cases.push(("frame of 200 k distinct keys", body, &codec));
    // A frame of one key repeated (the value replaced each time).
    let mut body = [be(1), be(2), be(1), *b"f\0\0\0", be(N as i32)].concat();
    for i in 0..N {
        body.extend_from_slice(&[be(0), be(3), be(i as i32)].concat());
    }
    body.extend_from_slice(&be(0));
    cases.push(("frame of one key repeated", body, &codec));
    // 17 distinct keys, enough to build the hash index, then one repeated: the index is sized
    // by the keys seen, not by the count announced (4.9× when it was).
    let mut body = [be(1), be(2), be(1), *b"f\0\0\0", be(N as i32)].concat();
    for i in 0..N {
        let k = (i.min(16) as u32 + 1).to_be_bytes();
        body.extend_from_slice(&[be(4), k, be(3), be(i as i32)].concat());
    }
    body.extend_from_slice(&be(0));
    cases.push(("frame of 17 keys, then repeats", body, &codec));
    for (what, body, codec) in cases {
        row(what, &header(1, &body), codec, true);
    }
}

#[test]
fn short_messages_are_refused_before_they_hold_memory() {
    // Invalid: a list announces as many items as 8-byte objects could fill, but holds 20-byte
    // frames, so the bytes run out. Read to the end, the frames would take the list's 3× and
    // their own 2.8×; the decoder stops as soon as the bytes left cannot hold the announced
    // items.
    const N: usize = 200_000;
    let codec = Codec::default();
    let mut body = list(N);
    for _ in 0..N * 8 / 20 {
        body.extend_from_slice(&empty_frame(2, 0));
    }
    row(
        "list announcing more frames than it holds",
        &header(1, &body),
        &codec,
        false,
    );
    // The same with properties: 12-byte properties announced, 24-byte ones given.
    let mut body = [be(1), be(2), be(0), be(N as i32)].concat();
    for _ in 0..N * 12 / 24 {
        body.extend_from_slice(&be(0));
        body.extend_from_slice(&empty_frame(2, 0));
    }
    body.extend_from_slice(&be(0));
    row(
        "frame announcing more properties than it holds",
        &header(1, &body),
        &codec,
        false,
    );
}

#[test]
fn every_committed_corpus_input_and_golden_message_stays_within_4x() {
    let mut n = 0;
    // Per group: the worst ratio among messages of at least 1 KiB (smaller ones are all
    // slack), and the most any message took beyond 4× its size.
    let mut worst: Vec<(String, f64, isize)> = Vec::new();
    let mut note = |group: &str, len: usize, used: usize| {
        let ratio = if len >= 1024 {
            used as f64 / len as f64
        } else {
            0.0
        };
        let over = used as isize - 4 * len as isize;
        match worst.iter_mut().find(|w| w.0 == group) {
            Some(w) => {
                w.1 = w.1.max(ratio);
                w.2 = w.2.max(over);
            }
            None => worst.push((group.to_owned(), ratio, over)),
        }
    };
    for width in [Int64Width::Four, Int64Width::Eight] {
        let codec = Codec::default().with_int64_width(width);
        for (name, data) in corpus("galaxy_object") {
            // The object corpus holds bare objects: frame them as one message.
            let msg = header(1, &data);
            note(
                "galaxy_object corpus",
                msg.len(),
                check(&name, &msg, &codec, None),
            );
            n += 1;
        }
        for target in ["galaxy_stream", "galaxy_session"] {
            for (name, data) in corpus(target) {
                // Session inputs start with a role byte.
                let data = if target == "galaxy_session" {
                    data.get(1..).unwrap_or_default().to_vec()
                } else {
                    data
                };
                // Each whole message at the front of the stream inputs, then the first bad one.
                let mut at = 0;
                loop {
                    let rest = &data[at..];
                    let (used, r) = peak(|| codec.decode(rest));
                    assert!(
                        used <= 4 * rest.len() + SLACK,
                        "{target}/{name} at {at}: {used}"
                    );
                    match r {
                        Ok(Some((_, len))) => {
                            note(&format!("{target} corpus"), len, used);
                            at += len;
                            n += 1;
                        }
                        _ => break,
                    }
                }
            }
        }
    }
    for cap in ["cap.hub2gui", "cap.gui2hub", "cap4.hub2gui", "cap4.gui2hub"] {
        let data = vectors::read("galaxy", cap);
        let codec = Codec::default();
        let mut at = 0;
        while at < data.len() {
            let (_, used) = codec.decode(&data[at..]).unwrap().unwrap();
            let msg = &data[at..at + used];
            note(
                "golden captures",
                msg.len(),
                check(cap, msg, &codec, Some(true)),
            );
            at += used;
            n += 1;
        }
    }
    assert!(n > 500, "only {n} messages checked");
    for (group, ratio, over) in worst {
        eprintln!("| {group} | worst ratio ≥ 1 KiB: {ratio:.2}× | most beyond 4×: {over} bytes |");
    }
}
