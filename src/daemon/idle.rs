//! What an idle daemon keeps: once no client has been served for [`IDLE_AFTER`], the
//! daemon drops its mappings of the binary's read-only pages (code and constants).
//!
//! Why: a unit's daemon is idle nearly all its life, yet its resident set stays at every
//! page of the 4-5 MiB binary it ever touched (start-up, a hook, the kernel's fault-around
//! of up to 16 pages per fault). Those pages are clean copies of the file: dropped, they
//! stay in the page cache (shared with every other lucky process on the machine), where the
//! kernel may reclaim them under pressure, and the next request maps back what it uses.
//! Only read-only private file mappings that hold no private copy (`Anonymous: 0 kB`) are
//! dropped, so no written page (data, relocated tables) is ever lost.

use super::Daemon;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// How long without a client before the daemon gives its pages back. Units call lucky in
/// bursts (a hook's scripts); between hooks they are idle for minutes.
pub(crate) const IDLE_AFTER: Duration = Duration::from_secs(3);

/// How long a blocking-pool thread outlives its last task (the runtime's setting): shorter
/// than [`IDLE_AFTER`], so no thread's exit touches code after the release.
pub(crate) const BLOCKING_THREAD_KEEP_ALIVE: Duration = Duration::from_secs(1);

/// Connection ends, each of which begins an idle spell.
///
/// A connection's end costs two atomic stores and no system call: the idle thread, while
/// it waits out a spell, sleeps until the last end plus [`IDLE_AFTER`] and looks again,
/// so under load it wakes once per spell, not once per call. Only when it is parked
/// (waiting for the first end after a release) does an end take the lock to wake it.
pub(crate) struct Activity {
    /// Bumped at each connection end.
    ends: AtomicU64,
    /// When the last one ended, in nanoseconds since `epoch`.
    last_end: AtomicU64,
    epoch: Instant,
    /// How long without an end makes a spell: [`IDLE_AFTER`] (shorter in tests).
    quiet: Duration,
    /// The idle thread waits on `changed` for an end (the lock guards nothing else).
    parked: AtomicBool,
    lock: Mutex<()>,
    changed: Condvar,
}

impl Default for Activity {
    fn default() -> Self {
        Activity::new(IDLE_AFTER)
    }
}

impl Activity {
    fn new(quiet: Duration) -> Self {
        Activity {
            ends: AtomicU64::new(0),
            last_end: AtomicU64::new(0),
            epoch: Instant::now(),
            quiet,
            parked: AtomicBool::new(false),
            lock: Mutex::new(()),
            changed: Condvar::new(),
        }
    }

    /// A client was served (its connection ended): the idle spell starts again.
    pub(crate) fn served(&self) {
        self.last_end.store(self.since_epoch(), Ordering::SeqCst);
        self.ends.fetch_add(1, Ordering::SeqCst);
        // Either the idle thread saw the bump before parking, or it is parked (or about
        // to wait, holding the lock) and this wakes it.
        if self.parked.load(Ordering::SeqCst) {
            let _held = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.changed.notify_one();
        }
    }

    fn since_epoch(&self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// Waits for an end after `seen`, then for `quiet` without another; returns
    /// the count of ends at that point.
    fn next_idle_spell(&self, seen: u64) -> u64 {
        {
            let mut held = self.lock.lock().unwrap_or_else(PoisonError::into_inner);
            self.parked.store(true, Ordering::SeqCst);
            while self.ends.load(Ordering::SeqCst) == seen {
                held = self
                    .changed
                    .wait(held)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            self.parked.store(false, Ordering::SeqCst);
        }
        loop {
            let ends = self.ends.load(Ordering::SeqCst);
            let quiet_until = self
                .last_end
                .load(Ordering::SeqCst)
                .saturating_add(u64::try_from(self.quiet.as_nanos()).unwrap_or(u64::MAX));
            let now = self.since_epoch();
            if now >= quiet_until && self.ends.load(Ordering::SeqCst) == ends {
                return ends;
            }
            std::thread::sleep(Duration::from_nanos(quiet_until.saturating_sub(now)));
        }
    }
}

/// Starts the thread that gives back the daemon's pages after each idle spell.
///
/// A thread of its own, not a task: when it releases, the event loop is parked in
/// `epoll_wait` and touches nothing, and the thread itself goes back to waiting through a
/// few pages of code. A task would run the runtime's code again right after, and each page
/// it touched would map back 64 KiB around it (the kernel's fault-around).
pub(crate) fn start_releaser(daemon: &Arc<Daemon>) {
    let daemon = Arc::clone(daemon);
    let spawned = std::thread::Builder::new()
        .name("lucky-idle".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            let mut seen = 0;
            loop {
                seen = daemon.activity.next_idle_spell(seen);
                if daemon.has_connections() || daemon.running_hook_name().is_some() {
                    // Busy (a long hook): its end starts the next spell.
                    continue;
                }
                crate::alloc::trim();
                match release_file_pages() {
                    Ok(bytes) => tracing::debug!(bytes, "idle: gave back the binary's pages"),
                    Err(e) => {
                        tracing::debug!(error = %e, "idle: cannot give back the binary's pages")
                    }
                }
            }
        });
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "no idle release: the daemon keeps its pages");
    }
}

/// Drops this process's read-only, unmodified private file mappings (the binary's code
/// and constants) from its resident set; returns how many resident bytes they held.
pub(crate) fn release_file_pages() -> std::io::Result<u64> {
    let smaps = std::fs::read_to_string("/proc/self/smaps")?;
    let mut released = 0;
    for mapping in droppable(&smaps) {
        // SAFETY: the range is a whole mapping of this process, read-only, backed by a
        // file and holding no private (anonymous) page: MADV_DONTNEED only unmaps clean
        // page-cache pages, which the next access maps back with the same content.
        let rc = unsafe {
            libc::madvise(
                mapping.start as *mut libc::c_void,
                mapping.len,
                libc::MADV_DONTNEED,
            )
        };
        if rc == 0 {
            released += mapping.resident;
        }
    }
    Ok(released)
}

/// One mapping that may be dropped.
#[derive(Debug, PartialEq)]
struct Droppable {
    start: usize,
    len: usize,
    resident: u64,
}

/// The mappings of `smaps` (the text of /proc/<pid>/smaps) that are private, read-only,
/// backed by a file (inode not 0) and hold no anonymous page.
fn droppable(smaps: &str) -> Vec<Droppable> {
    let mut found = Vec::new();
    let mut current: Option<Droppable> = None;
    let mut anonymous_pages = false;
    let flush = |m: Option<Droppable>, anonymous: bool, found: &mut Vec<Droppable>| {
        if let Some(m) = m
            && !anonymous
        {
            found.push(m);
        }
    };
    for line in smaps.lines() {
        let mut fields = line.split_whitespace();
        let first = fields.next().unwrap_or("");
        if let Some((start, end)) = first.split_once('-')
            && let (Ok(start), Ok(end)) = (
                usize::from_str_radix(start, 16),
                usize::from_str_radix(end, 16),
            )
        {
            flush(current.take(), anonymous_pages, &mut found);
            anonymous_pages = false;
            let perms = fields.next().unwrap_or("");
            let inode = fields.nth(2).unwrap_or("0");
            if (perms == "r-xp" || perms == "r--p") && inode != "0" && end > start {
                current = Some(Droppable {
                    start,
                    len: end - start,
                    resident: 0,
                });
            }
            continue;
        }
        let kib = || fields.clone().next().and_then(|n| n.parse::<u64>().ok());
        match first {
            "Rss:" => {
                if let Some(m) = current.as_mut() {
                    m.resident = kib().unwrap_or(0) * 1024;
                }
            }
            // Unreadable counts as written: never drop what may be a private copy.
            "Anonymous:" => anonymous_pages = kib() != Some(0),
            _ => {}
        }
    }
    flush(current, anonymous_pages, &mut found);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
00400000-00401000 r--p 00000000 fd:01 4242                               /usr/local/bin/lucky
Rss:                   4 kB
Anonymous:             0 kB
00401000-0083a000 r-xp 00001000 fd:01 4242                               /usr/local/bin/lucky
Rss:                2048 kB
Anonymous:             0 kB
00928000-00929000 r--p 00528000 fd:01 4242                               /usr/local/bin/lucky
Rss:                   4 kB
Anonymous:             4 kB
00929000-0092b000 rw-p 00529000 fd:01 4242                               /usr/local/bin/lucky
Rss:                   8 kB
Anonymous:             8 kB
7f0000000000-7f0000021000 rw-p 00000000 00:00 0 
Rss:                  12 kB
Anonymous:            12 kB
7ffd00000000-7ffd00002000 r--p 00000000 00:00 0                          [vvar]
Rss:                   0 kB
Anonymous:             0 kB
";

    #[test]
    fn a_spell_ends_a_quiet_time_after_the_last_end_and_a_parked_thread_wakes_for_the_next() {
        let quiet = Duration::from_millis(150);
        let activity = Arc::new(Activity::new(quiet));
        let (tx, rx) = std::sync::mpsc::channel();
        let waiter = {
            let activity = Arc::clone(&activity);
            std::thread::spawn(move || {
                let mut seen = 0;
                for _ in 0..3 {
                    seen = activity.next_idle_spell(seen);
                    tx.send((seen, Instant::now())).expect("send");
                }
            })
        };
        for round in 1..=3u64 {
            // The thread is parked (or about to be): a burst of ends wakes it, and its
            // spell ends only once the burst has been quiet for `quiet`.
            std::thread::sleep(Duration::from_millis(30));
            for _ in 0..5 {
                activity.served();
                std::thread::sleep(Duration::from_millis(20));
            }
            let last = Instant::now();
            let (ends, at) = rx.recv_timeout(Duration::from_secs(5)).expect("a spell");
            assert_eq!(ends, round * 5, "every end of the burst counted");
            assert!(
                at >= last + quiet - Duration::from_millis(25),
                "the spell ended {:?} after the last end",
                at.duration_since(last)
            );
        }
        waiter.join().expect("waiter");
    }

    #[test]
    fn only_clean_read_only_file_mappings_are_dropped() {
        assert_eq!(
            droppable(SMAPS),
            vec![
                Droppable {
                    start: 0x400000,
                    len: 0x1000,
                    resident: 4096
                },
                Droppable {
                    start: 0x401000,
                    len: 0x439000,
                    resident: 2048 * 1024
                },
            ],
            "relocated (written) read-only data, writable data, anonymous memory and \
             kernel pages must be kept"
        );
    }

    #[test]
    fn a_mapping_whose_anonymous_count_is_unreadable_is_kept() {
        let smaps = "00400000-00401000 r-xp 00000000 fd:01 4242 /x\nRss: 4 kB\nAnonymous: ? kB\n";
        assert_eq!(droppable(smaps), vec![]);
    }

    #[test]
    fn code_still_runs_after_its_pages_are_released() {
        let before = std::hint::black_box(droppable(SMAPS).len());
        release_file_pages().expect("read smaps");
        // This test's own code, constants and the formatting below run from re-faulted pages.
        assert_eq!(droppable(SMAPS).len(), before);
        assert_eq!(format!("{:x}", 0x401000), "401000");
    }
}
