//! A global allocator that counts allocations made by the *current thread* while a
//! measurement is armed. Counting every thread (as `stats_alloc` does) lets the test
//! harness's own threads add a few allocations at random, which made these tests flaky
//! on CI; a thread-local counter measures only the code under test.

#![allow(unsafe_code)] // a GlobalAlloc impl cannot be written without it; test-only

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct ThreadCounting;

thread_local! {
    static ARMED: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static REALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn bump(counter: &'static std::thread::LocalKey<Cell<u64>>) {
    // `try_with`: during thread teardown the slots may be gone; never panic in an allocator.
    if ARMED.try_with(Cell::get).unwrap_or(false) {
        let _ = counter.try_with(|c| c.set(c.get() + 1));
    }
}

// SAFETY: every call is forwarded unchanged to `System`; the counters are plain
// thread-local cells with const initialisers, which never allocate.
unsafe impl GlobalAlloc for ThreadCounting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        bump(&ALLOCS);
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        bump(&ALLOCS);
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        bump(&REALLOCS);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Runs `f` and returns what it returned with the (allocations, reallocations) this
/// thread made meanwhile.
pub fn count<T>(f: impl FnOnce() -> T) -> (T, (u64, u64)) {
    let before = (ALLOCS.with(Cell::get), REALLOCS.with(Cell::get));
    ARMED.with(|a| a.set(true));
    let out = f();
    ARMED.with(|a| a.set(false));
    let after = (ALLOCS.with(Cell::get), REALLOCS.with(Cell::get));
    (out, (after.0 - before.0, after.1 - before.1))
}
