//! Memory per queued event: a full default queue (10,000 events) of the real golden events of
//! all four protocols, held by the exporter core, costs at most 1 KiB per event (issue 11),
//! measured as the live heap bytes of this thread (a counting allocator) plus the queue's
//! in-line `Event` structs. The figure is printed (`--nocapture`).
#![cfg(all(
    feature = "otlp",
    feature = "zmq",
    feature = "nsm",
    feature = "galaxy",
    feature = "sysadm"
))]
// A counting `GlobalAlloc` needs `unsafe impl`; it only forwards to `System`.
#![allow(unsafe_code)]
// Test code: a panic is a failed test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Instant;

use monwire_otlp::BatchConfig;
use monwire_otlp::batch::Batcher;
use monwire_tests::otlp::golden_events;

/// Live heap bytes of the current thread (so parallel tests do not disturb the count).
struct Counting;

thread_local! {
    static LIVE: Cell<isize> = const { Cell::new(0) };
}

fn add(n: isize) {
    // `try_with`: the allocator also runs while thread-locals are torn down.
    let _ = LIVE.try_with(|c| c.set(c.get() + n));
}

// SAFETY: every method forwards to `System` unchanged; the counter is a const-initialized
// thread-local `Cell`, which never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract, which `System` shares.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: as for `alloc`.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add(new_size as isize - layout.size() as isize);
        // SAFETY: as for `alloc`; `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        // SAFETY: `ptr` came from this allocator, i.e. from `System`.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn a_full_queue_costs_at_most_one_kib_per_event() {
    const N: usize = 10_000;
    let golden = golden_events();
    let events: Vec<_> = golden.iter().cycle().take(N).cloned().collect();
    let now = Instant::now();
    let mut core = Batcher::new(BatchConfig::default(), 1);
    for e in events {
        core.push(e, now);
    }
    // The input Vec's buffer is gone (consumed); what is live now beyond the baseline of
    // after-drop is exactly what the core holds: its ring buffer of `Event`s and every byte
    // the events own.
    assert_eq!(core.pending(), N);
    let full = LIVE.with(Cell::get);
    drop(core);
    let held = full - LIVE.with(Cell::get);
    let per_event = held as f64 / N as f64;
    eprintln!(
        "otlp queue memory: {per_event:.0} bytes per queued event ({N} events cycling {} golden ones; Event struct {} B)",
        golden.len(),
        std::mem::size_of::<monwire_event::Event>()
    );
    assert!(per_event <= 1024.0, "{per_event} bytes per queued event");
}
