//! Giving memory back after a burst of requests (the HTTP server: many clients, bursts;
//! a stdio session serves one client and does not start it, which also keeps its code
//! out of a stdio session's start-up pages).
//!
//! glibc's malloc keeps what a burst of requests freed in its arenas (measured: +4.6 MiB
//! over the warm baseline after 50 HTTP clients × 40 calls, nothing returned when the
//! clients left), so a server that served one busy minute stays at that size for good.
//! `malloc_trim` gives the free pages of every arena back; it walks and locks the
//! arenas, so it runs once per burst, after [`QUIET`] without a request, on a blocking
//! thread. A server that never sees a request never wakes for this.
//!
//! mimalloc (which returns memory by itself) was measured as the alternative and not
//! adopted: its arenas hold 15.7–29.5 MiB resident right after `tools/list`, where glibc
//! holds 10.5–12.0 (README, Benchmarks).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

/// How long without a request before the memory is trimmed.
pub const QUIET: Duration = Duration::from_secs(2);

/// Requests the HTTP server has seen so far.
static REQUESTS: AtomicU64 = AtomicU64::new(0);
/// The trimmer waits for the first request of the next burst.
static PARKED: AtomicBool = AtomicBool::new(false);
static WAKE: tokio::sync::Notify = tokio::sync::Notify::const_new();
static STARTED: AtomicBool = AtomicBool::new(false);

/// Counts a request (called by the HTTP server for every request).
pub fn note_request() {
    REQUESTS.fetch_add(1, Ordering::Relaxed);
    if PARKED.load(Ordering::Relaxed) && PARKED.swap(false, Ordering::AcqRel) {
        WAKE.notify_one();
    }
}

/// Starts the trimmer once per process (a no-op where the allocator returns memory
/// itself, i.e. off glibc). Call from within the runtime.
pub fn trim_after_bursts() {
    if !cfg!(all(target_os = "linux", target_env = "gnu")) || STARTED.swap(true, Ordering::AcqRel) {
        return;
    }
    tokio::spawn(async {
        loop {
            PARKED.store(true, Ordering::Release);
            // A request between the store and this wait leaves a permit: no burst is missed.
            WAKE.notified().await;
            loop {
                let seen = REQUESTS.load(Ordering::Relaxed);
                tokio::time::sleep(QUIET).await;
                if REQUESTS.load(Ordering::Relaxed) == seen {
                    break;
                }
            }
            let released = tokio::task::spawn_blocking(release_free_memory)
                .await
                .unwrap_or(false);
            let (in_use, free_kept) = heap_bytes();
            tracing::debug!(
                released,
                in_use,
                free_kept,
                "gave the allocator's free memory back after a burst"
            );
        }
    });
}

/// Asks glibc to return the free pages of every arena to the system; whether it did.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn release_free_memory() -> bool {
    // SAFETY: `malloc_trim` takes no pointers and touches only glibc's own free lists,
    // under the arenas' locks; it is safe to call from any thread at any time.
    unsafe { libc::malloc_trim(0) == 1 }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn release_free_memory() -> bool {
    false
}

/// The heap's bytes in use and the free bytes it keeps (free chunks between those in use
/// cannot be given back: what the log shows after a trim), where glibc says.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn heap_bytes() -> (usize, usize) {
    // SAFETY: `mallinfo2` takes no arguments and returns a plain struct by value.
    let info = unsafe { libc::mallinfo2() };
    (info.uordblks + info.hblkhd, info.fordblks)
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn heap_bytes() -> (usize, usize) {
    (0, 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_memory_between_live_allocations_is_given_back_on_glibc() {
        // 16 MiB in 1 KiB blocks, one kept in 64: the freed runs between the kept blocks
        // are whole pages that `free` cannot return (they are not at the heap's top).
        let mut blocks: Vec<Vec<u8>> = (0..16 * 1024).map(|i| vec![i as u8; 1024]).collect();
        let kept: Vec<Vec<u8>> = blocks.iter_mut().step_by(64).map(std::mem::take).collect();
        drop(blocks);
        let released = release_free_memory();
        assert_eq!(
            released,
            cfg!(all(target_os = "linux", target_env = "gnu")),
            "malloc_trim's answer"
        );
        assert!(kept.iter().all(|b| b.len() == 1024));
    }

    /// Real time (the lean build's tests have no paused clock): about 2 × QUIET.
    #[tokio::test]
    async fn a_burst_is_followed_by_one_trim_and_the_trimmer_parks_again() {
        trim_after_bursts();
        tokio::task::yield_now().await;
        assert!(PARKED.load(Ordering::Acquire), "parked before any request");
        note_request();
        assert!(
            !PARKED.load(Ordering::Acquire),
            "woken by the first request"
        );
        tokio::time::sleep(QUIET / 2).await;
        note_request();
        // The burst ends; after QUIET the trim runs and the trimmer parks again.
        tokio::time::sleep(QUIET + QUIET / 2).await;
        for _ in 0..200 {
            if PARKED.load(Ordering::Acquire) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("the trimmer did not park again after the burst");
    }
}
