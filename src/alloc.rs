//! The binary's memory allocator: dlmalloc (a pure-Rust port of Doug Lea's malloc, the
//! allocator of Rust's own wasm targets) in place of musl's mallocng.
//!
//! Why: mallocng hands whole pages back to the kernel as soon as they empty. Measured on
//! the x86_64 release: a script call made 12 `mmap` and 9 `munmap` calls, and the daemon
//! mapped and unmapped about 34 pages per hook, each a system call and a page fault.
//! dlmalloc carves allocations out of segments it keeps, so a call touches few, dense
//! pages, and the daemon reuses its memory. What it keeps free it gives back when the
//! daemon goes idle ([`trim`], called by `daemon::idle`).

use std::alloc::{GlobalAlloc, Layout};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The allocator `lucky` is built with (`#[global_allocator]` in main.rs).
pub struct Allocator;

/// dlmalloc's state holds raw pointers into its segments, so it is not `Send` by itself.
struct Heap(dlmalloc::Dlmalloc);

// SAFETY: the heap's pointers are only followed under HEAP's lock, by one thread at a time.
unsafe impl Send for Heap {}

/// One heap for every thread: the daemon is one event-loop thread plus a few blocking
/// ones, so a lock costs nothing worth per-thread arenas.
static HEAP: Mutex<Heap> = Mutex::new(Heap(dlmalloc::Dlmalloc::new()));

fn heap() -> MutexGuard<'static, Heap> {
    // A panic cannot happen inside dlmalloc's calls; a poisoned lock is still consistent.
    HEAP.lock().unwrap_or_else(PoisonError::into_inner)
}

// SAFETY: each method forwards to dlmalloc under the lock, with the layout the caller
// gives, which is the contract of dlmalloc's functions of the same names.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe { heap().0.malloc(layout.size(), layout.align()) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe { heap().0.calloc(layout.size(), layout.align()) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: see the impl.
        unsafe { heap().0.free(ptr, layout.size(), layout.align()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe {
            heap()
                .0
                .realloc(ptr, layout.size(), layout.align(), new_size)
        }
    }
}

/// Gives the heap's free memory back to the kernel; true when some was. A no-op in a
/// binary built with another global allocator (tests, lucky-doc).
pub fn trim() -> bool {
    // SAFETY: trim only releases segments (or their free tails) that hold no allocation.
    unsafe { heap().0.trim(0) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocations_are_aligned_kept_apart_and_reallocated_with_their_content() {
        let a = Allocator;
        unsafe {
            let mut blocks = Vec::new();
            for (i, (size, align)) in [(1, 1), (24, 8), (4096, 4096), (100, 64), (300_000, 16)]
                .into_iter()
                .enumerate()
            {
                let layout = Layout::from_size_align(size, align).expect("layout");
                let p = a.alloc(layout);
                assert!(!p.is_null());
                assert_eq!(p as usize % align, 0, "alignment {align}");
                std::ptr::write_bytes(p, i as u8 + 1, size);
                blocks.push((p, layout, i as u8 + 1));
            }
            for &(p, layout, byte) in &blocks {
                let s = std::slice::from_raw_parts(p, layout.size());
                assert!(s.iter().all(|&b| b == byte), "a block was overwritten");
            }
            let (p, layout, byte) = blocks[1];
            let q = a.realloc(p, layout, 100_000);
            assert!(std::slice::from_raw_parts(q, 24).iter().all(|&b| b == byte));
            a.dealloc(q, Layout::from_size_align(100_000, 8).expect("layout"));
            for &(p, layout, _) in blocks.iter().filter(|b| b.0 != p) {
                a.dealloc(p, layout);
            }
            let z = a.alloc_zeroed(Layout::from_size_align(8192, 8).expect("layout"));
            assert!(std::slice::from_raw_parts(z, 8192).iter().all(|&b| b == 0));
            a.dealloc(z, Layout::from_size_align(8192, 8).expect("layout"));
        }
        trim();
    }

    #[test]
    fn threads_allocate_at_once() {
        let handles: Vec<_> = (0..8)
            .map(|t| {
                std::thread::spawn(move || {
                    let a = Allocator;
                    for i in 0..2000 {
                        let layout =
                            Layout::from_size_align(16 + (i * 7 + t) % 2000, 8).expect("layout");
                        unsafe {
                            let p = a.alloc(layout);
                            assert!(!p.is_null());
                            p.write(t as u8);
                            assert_eq!(p.read(), t as u8);
                            a.dealloc(p, layout);
                        }
                    }
                })
            })
            .collect();
        for h in handles {
            h.join().expect("thread");
        }
    }
}
