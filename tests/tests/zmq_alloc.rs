//! Proves the borrowed decoders allocate nothing: `Codec::decode_v1` on every golden v1 vector
//! and `Codec::decode_v2` on every golden v2 vector (libzmq sends at most 2 values, which
//! `Values` keeps inline), counted by a global allocator.
#![cfg(feature = "zmq")]
// A counting `GlobalAlloc` needs `unsafe impl`; it only forwards to `System`.
#![allow(unsafe_code)]
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use monwire_tests::zmq;

/// Counts the allocations of the current thread (so parallel tests do not disturb a count).
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn bump() {
    // `try_with`: the allocator also runs while thread-locals are torn down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every method forwards to `System` unchanged; the counter is a const-initialized
// thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump();
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump();
        // SAFETY: as for `alloc`; `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by this thread while running `f`.
fn allocations<R>(f: impl FnOnce() -> R) -> (usize, R) {
    let before = ALLOCATIONS.with(Cell::get);
    let r = f();
    (ALLOCATIONS.with(Cell::get) - before, r)
}

#[test]
fn the_counter_sees_allocations() {
    // Without this, a broken counter would make the zero-allocation tests pass vacuously.
    let (n, v) = allocations(|| std::hint::black_box(vec![1u8; 16]));
    assert!(n >= 1, "a Vec allocation was not counted");
    drop(v);
    let frames = zmq::vector("v2-pipes_stats-client");
    let codec = zmq::codec();
    let msg = codec.decode_v2(&frames).unwrap();
    let nonempty = usize::from(!msg.local.is_empty()) + usize::from(!msg.remote.is_empty());
    assert!(nonempty >= 1);
    let (n, _) = allocations(|| msg.to_owned());
    assert_eq!(n, nonempty, "to_owned copies each non-empty endpoint once");
}

#[test]
fn decode_v1_does_not_allocate() {
    let codec = zmq::codec();
    let golden = zmq::vectors("v1-");
    assert!(golden.len() >= 10, "expected the golden v1 vectors");
    for (name, frames) in &golden {
        let borrowed: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        let (n, msg) = allocations(|| codec.decode_v1(std::hint::black_box(&borrowed)));
        assert_eq!(n, 0, "{name}: decode_v1 allocated {n} times");
        let msg = msg.unwrap_or_else(|e| panic!("{name}: {e}"));
        // Borrowed: the endpoint is the input frame itself.
        assert!(
            std::ptr::eq(msg.endpoint, borrowed[1]),
            "{name}: endpoint copied"
        );
        // Owned frames (`Vec<u8>`) decode without allocating too.
        let (n, _) = allocations(|| codec.decode_v1(std::hint::black_box(frames)));
        assert_eq!(
            n, 0,
            "{name}: decode_v1 over Vec frames allocated {n} times"
        );
    }
}

#[test]
fn decode_v2_does_not_allocate_for_libzmq_shapes() {
    let codec = zmq::codec();
    let golden = zmq::vectors("v2-");
    assert!(golden.len() >= 10, "expected the golden v2 vectors");
    for (name, frames) in &golden {
        assert!(frames.len() <= 6, "{name}: more than 2 values");
        let borrowed: Vec<&[u8]> = frames.iter().map(Vec::as_slice).collect();
        let (n, msg) = allocations(|| codec.decode_v2(std::hint::black_box(&borrowed)));
        assert_eq!(n, 0, "{name}: decode_v2 allocated {n} times");
        msg.unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

/// `to_event_into` over a reused event allocates nothing once the event has grown to fit, for
/// every golden message of both versions but those whose attributes hold new text or lists
/// (`HANDSHAKE_FAILED_PROTOCOL`'s error name, an unknown event's values): one each there.
#[test]
fn to_event_into_a_grown_event_does_not_allocate() {
    use monwire_zmq::event::to_event_into;
    let codec = zmq::codec();
    let mut event =
        monwire_event::Event::new(monwire_event::Protocol::Zmq, monwire_event::Kind::Other, "")
            .with_source("dealer tcp://127.0.0.1:5555");
    let golden = zmq::vectors("");
    assert!(golden.len() >= 20, "expected the golden vectors");
    let mut checked = 0;
    for (name, frames) in &golden {
        let msg = codec
            .decode(frames)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        to_event_into(&msg, &mut event); // grow to fit
        let (n, ()) = allocations(|| to_event_into(&msg, &mut event));
        let fresh_text =
            event.attr("zmq.protocol_error").is_some() || event.attr("zmq.values").is_some();
        let allowed = usize::from(fresh_text);
        assert!(n <= allowed, "{name}: to_event_into allocated {n} times");
        checked += usize::from(!fresh_text);
    }
    assert!(
        checked >= 10,
        "only {checked} vectors were allocation-free cases"
    );
}
