//! Recording runs into the hook history (`state::history`): the hook runner opens a
//! [`RunRecorder`] per run, each script entry notes itself through it, and the run's end
//! writes the record.
//!
//! The recorder of a run is found by its hook context's token, so the script runner
//! needs no new argument to note its entries, async ones included.

use crate::protocol::container::ReconcileReport;
use crate::protocol::{ErrorReply, WorkloadStatus};
use crate::script::{HookContext, OUTPUT_TAIL, OutputSink, OutputTail, ScriptEntry, ScriptFailure};
use crate::state::history::{EntryRecord, History, HookRecord, RunKind, UnitStatusRecord};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Instant, SystemTime, UNIX_EPOCH};
use tokio::sync::Notify;

/// Output kept in one record across all its entries: the earliest entries' tails go
/// first, so one record stays far below a frame (`lucky history show` sends it whole).
const MAX_RECORD_OUTPUT: usize = 256 * OUTPUT_TAIL;

/// The history and the runs being recorded now.
pub(crate) struct Recording {
    store: Arc<History>,
    runs: Mutex<HashMap<String, Arc<RunRecorder>>>,
    writes: Arc<Writes>,
}

/// Record writes under way. Each is a durable write (two fsyncs): it runs on a blocking
/// thread, so neither the event loop nor the hook's answer waits for the disk, and
/// readers of the history wait for it ([`Recording::written`]), so a run is listed as
/// soon as its hook has answered.
#[derive(Default)]
struct Writes {
    pending: AtomicUsize,
    done: Notify,
}

/// One run being recorded.
pub(crate) struct RunRecorder {
    token: String,
    started: Instant,
    record: Mutex<HookRecord>,
}

/// One script entry being recorded: run it with [`EntryRun::out`] as its output.
pub(crate) struct EntryRun {
    run: Option<(Arc<RunRecorder>, usize)>,
    started: Instant,
    tail: Arc<Mutex<OutputTail>>,
    pub(crate) out: OutputSink,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn millis(d: std::time::Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn status_record((status, message): (WorkloadStatus, String)) -> UnitStatusRecord {
    UnitStatusRecord { status, message }
}

impl Recording {
    pub(crate) fn new(store: History) -> Self {
        Self {
            store: Arc::new(store),
            runs: Mutex::default(),
            writes: Arc::default(),
        }
    }

    /// The kept history, once every ended run's record is written.
    pub(crate) async fn written(&self) -> Arc<History> {
        loop {
            // Registered before the count is read: a write ending in between wakes it.
            let done = self.writes.done.notified();
            if self.writes.pending.load(Ordering::SeqCst) == 0 {
                return Arc::clone(&self.store);
            }
            done.await;
        }
    }

    /// Starts recording a run in `context`.
    pub(crate) fn begin(
        &self,
        context: &HookContext,
        kind: RunKind,
        trigger: String,
        status_before: (WorkloadStatus, String),
    ) -> Arc<RunRecorder> {
        let started_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
            .unwrap_or_default();
        let before = status_record(status_before);
        let recorder = Arc::new(RunRecorder {
            token: context.token.clone(),
            started: Instant::now(),
            record: Mutex::new(HookRecord {
                id: 0,
                kind,
                name: context.hook.clone(),
                trigger,
                started_ms,
                duration_ms: 0,
                failed: false,
                error: None,
                entries: Vec::new(),
                containers: None,
                status_after: before.clone(),
                status_before: before,
            }),
        });
        lock(&self.runs).insert(context.token.clone(), Arc::clone(&recorder));
        recorder
    }

    /// Notes that `entry` starts in `context`; output sent through the returned run's
    /// `out` also goes to its record. Outside a recorded run it only passes `out` on.
    pub(crate) fn entry(
        &self,
        context: &HookContext,
        entry: &ScriptEntry,
        out: &OutputSink,
    ) -> EntryRun {
        let run = lock(&self.runs).get(&context.token).cloned().map(|run| {
            let mut record = lock(&run.record);
            record.entries.push(EntryRecord {
                id: entry.id.clone(),
                line: entry.line,
                duration_ms: 0,
                exit_status: None,
                failure: Some("did not finish".into()),
                output_tail: String::new(),
                output_truncated: false,
            });
            let slot = record.entries.len() - 1;
            drop(record);
            (run, slot)
        });
        let tail = Arc::new(Mutex::new(OutputTail::default()));
        EntryRun {
            out: out.tapped(Arc::clone(&tail)),
            run,
            started: Instant::now(),
            tail,
        }
    }

    /// Ends the run: writes its record (a failure to write is logged, never the hook's).
    pub(crate) fn finish(
        &self,
        recorder: Arc<RunRecorder>,
        error: Option<&ErrorReply>,
        status_after: (WorkloadStatus, String),
    ) {
        lock(&self.runs).remove(&recorder.token);
        let mut record = lock(&recorder.record).clone();
        record.duration_ms = millis(recorder.started.elapsed());
        record.failed = error.is_some();
        record.error = error.map(|e| e.message.clone());
        record.status_after = status_record(status_after);
        bound_output(&mut record);
        // Counted before the run's answer goes out: a `lucky history` after it waits.
        let pending = PendingWrite::start(&self.writes);
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || {
            match store.append(&mut record) {
                Ok(id) => tracing::debug!(id, hook = %record.name, "recorded in the history"),
                Err(e) => {
                    tracing::warn!(hook = %record.name, "cannot record the run in the history: {e}")
                }
            }
            drop(pending);
        });
    }
}

/// One record write under way. It ends when dropped, so a write that never ran (the
/// runtime shutting down) or ended badly cannot leave readers waiting for ever.
struct PendingWrite(Arc<Writes>);

impl PendingWrite {
    fn start(writes: &Arc<Writes>) -> Self {
        writes.pending.fetch_add(1, Ordering::SeqCst);
        Self(Arc::clone(writes))
    }
}

impl Drop for PendingWrite {
    fn drop(&mut self) {
        self.0.pending.fetch_sub(1, Ordering::SeqCst);
        self.0.done.notify_waiters();
    }
}

impl RunRecorder {
    /// What the end of the run changed in the containers (`None`: it did not reconcile).
    pub(crate) fn containers(&self, report: Option<ReconcileReport>) {
        lock(&self.record).containers = report;
    }
}

impl EntryRun {
    pub(crate) fn finish(self, result: &Result<(), ScriptFailure>) {
        let Some((run, slot)) = self.run else {
            return;
        };
        let (output_tail, output_truncated) = lock(&self.tail).take();
        let mut record = lock(&run.record);
        if let Some(e) = record.entries.get_mut(slot) {
            e.duration_ms = millis(self.started.elapsed());
            e.output_tail = output_tail;
            e.output_truncated = output_truncated;
            (e.exit_status, e.failure) = match result {
                Ok(()) => (Some(0), None),
                Err(f) => (f.exit_status, Some(f.to_string())),
            };
        }
    }
}

/// Drops the earliest entries' output tails until the record's output fits.
fn bound_output(record: &mut HookRecord) {
    let mut total: usize = record.entries.iter().map(|e| e.output_tail.len()).sum();
    for e in &mut record.entries {
        if total <= MAX_RECORD_OUTPUT {
            break;
        }
        total -= e.output_tail.len();
        e.output_tail.clear();
        e.output_truncated = true;
    }
}
