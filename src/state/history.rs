//! Hook history: one record per hook, action or cron run, kept durably and bounded.
//!
//! Each record is its own file, `<state>/history/<id>.json`, written atomically
//! ([`write_atomic`]) once the run has ended. Why not one [`Document`](super::Document):
//! a document is rewritten whole on every change, so each hook would rewrite every kept
//! record (megabytes at the bounds); an append-only log would need compaction to stay
//! bounded, and a torn tail after a crash to repair. With one file per record, adding is
//! one small atomic write and the bound is kept by deleting the oldest files, so a crash
//! at any point leaves whole records only. Ids only grow: the next id is one more than
//! the newest file's, so ids are not reused after a restart or a self-update (the data
//! folder is the same).

use super::{StateError, io, write_atomic};
use crate::protocol::WorkloadStatus;
use crate::protocol::container::ReconcileReport;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

/// What the history keeps at most; the oldest records go first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Bounds {
    pub(crate) records: usize,
    pub(crate) bytes: u64,
}

impl Default for Bounds {
    fn default() -> Self {
        Self {
            records: 1000,
            bytes: 32 * 1024 * 1024,
        }
    }
}

/// What kind of run a record is.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RunKind {
    Hook,
    Action,
    Cron,
}

impl RunKind {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            RunKind::Hook => "hook",
            RunKind::Action => "action",
            RunKind::Cron => "cron",
        }
    }
}

/// One run, whole.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct HookRecord {
    /// Given by [`History::append`].
    #[serde(default)]
    pub(crate) id: u64,
    pub(crate) kind: RunKind,
    /// The hook, the action, or `cron` for a cron job (its schedule is in `trigger`).
    pub(crate) name: String,
    /// What started it: `juju`, `juju action <id>`, `cron schedule "<schedule>"`.
    pub(crate) trigger: String,
    /// Unix time in milliseconds.
    pub(crate) started_ms: i64,
    pub(crate) duration_ms: u64,
    pub(crate) failed: bool,
    /// Why it failed, as the hook's caller was told.
    #[serde(default)]
    pub(crate) error: Option<String>,
    pub(crate) entries: Vec<EntryRecord>,
    /// What the end of the run changed in the containers, if it reconciled.
    #[serde(default)]
    pub(crate) containers: Option<ReconcileReport>,
    pub(crate) status_before: UnitStatusRecord,
    pub(crate) status_after: UnitStatusRecord,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct UnitStatusRecord {
    pub(crate) status: WorkloadStatus,
    pub(crate) message: String,
}

/// One script entry of a run.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct EntryRecord {
    /// The entry's id (`install.sh`, `install#inline-1`, …).
    pub(crate) id: String,
    /// lucky.yaml line.
    pub(crate) line: u64,
    pub(crate) duration_ms: u64,
    /// 0 on success; `None` when it did not exit by itself (killed, not started, lost).
    pub(crate) exit_status: Option<i64>,
    #[serde(default)]
    pub(crate) failure: Option<String>,
    /// The last bytes (at most `script::OUTPUT_TAIL`) of its stdout and stderr, in the order
    /// they reached the daemon.
    pub(crate) output_tail: String,
    /// True when output before the tail was dropped.
    pub(crate) output_truncated: bool,
}

/// One line of `lucky history`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct HookSummaryRow {
    pub(crate) id: u64,
    pub(crate) kind: RunKind,
    pub(crate) name: String,
    pub(crate) started_ms: i64,
    pub(crate) duration_ms: u64,
    pub(crate) failed: bool,
    pub(crate) scripts: usize,
    /// The first failed entry's id, or the run's error.
    #[serde(default)]
    pub(crate) failure: Option<String>,
}

impl HookRecord {
    pub(crate) fn summary(&self) -> HookSummaryRow {
        let failed_entry = self.entries.iter().find(|e| e.failure.is_some());
        HookSummaryRow {
            id: self.id,
            kind: self.kind,
            name: self.name.clone(),
            started_ms: self.started_ms,
            duration_ms: self.duration_ms,
            failed: self.failed,
            scripts: self.entries.len(),
            failure: failed_entry
                .map(|e| e.id.clone())
                .or_else(|| self.error.clone()),
        }
    }
}

/// Which records `lucky history` lists.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct HistoryFilter {
    /// Newest first, at most this many.
    pub(crate) limit: usize,
    /// Only runs of this hook or action (`cron`: every cron job's).
    pub(crate) name: Option<String>,
    pub(crate) failed_only: bool,
}

/// The records in `dir`, oldest first: id and size.
fn read_index(dir: &Path) -> Result<Vec<(u64, u64)>, StateError> {
    fs::create_dir_all(dir).map_err(io("create", dir))?;
    let mut index = Vec::new();
    for entry in fs::read_dir(dir).map_err(io("read", dir))?.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.contains(".json.tmp") {
            let _ = fs::remove_file(entry.path());
            continue;
        }
        let Some(id) = name.strip_suffix(".json").and_then(|s| s.parse().ok()) else {
            continue;
        };
        let bytes = entry.metadata().map(|m| m.len()).unwrap_or(0);
        index.push((id, bytes));
    }
    index.sort_unstable();
    Ok(index)
}

/// The kept records: an index in memory (id and size, oldest first), one file each.
pub(crate) struct History {
    dir: PathBuf,
    bounds: Bounds,
    index: Mutex<VecDeque<(u64, u64)>>,
}

impl History {
    /// Opens (creating) `<state dir>/history`; leftover temporaries of a crashed write are
    /// removed and files that are not records are left alone. A folder that cannot be
    /// read is reported alongside an empty history (whose writes then fail, logged).
    pub(crate) fn open(state_dir: &Path, bounds: Bounds) -> (Self, Option<StateError>) {
        let dir = state_dir.join("history");
        let (index, problem) = match read_index(&dir) {
            Ok(index) => (index, None),
            Err(e) => (Vec::new(), Some(e)),
        };
        let history = Self {
            dir,
            bounds,
            index: Mutex::new(index.into()),
        };
        history.prune();
        (history, problem)
    }

    fn path(&self, id: u64) -> PathBuf {
        self.dir.join(format!("{id:020}.json"))
    }

    fn index(&self) -> std::sync::MutexGuard<'_, VecDeque<(u64, u64)>> {
        self.index.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Stores `record` under the next id (set in it and returned), then drops the oldest
    /// records beyond the bounds.
    pub(crate) fn append(&self, record: &mut HookRecord) -> Result<u64, StateError> {
        let mut index = self.index();
        record.id = index.back().map_or(1, |(id, _)| id + 1);
        let bytes = serde_json::to_vec(record).map_err(|source| StateError::Encode {
            name: "history".into(),
            source,
        })?;
        write_atomic(&self.path(record.id), &bytes)?;
        index.push_back((record.id, bytes.len() as u64));
        drop(index);
        self.prune();
        Ok(record.id)
    }

    /// Deletes the oldest records until both bounds hold (the newest is always kept).
    fn prune(&self) {
        let mut index = self.index();
        let mut total: u64 = index.iter().map(|(_, b)| b).sum();
        while index.len() > 1 && (index.len() > self.bounds.records || total > self.bounds.bytes) {
            let Some((id, bytes)) = index.pop_front() else {
                break;
            };
            total -= bytes;
            let path = self.path(id);
            if let Err(e) = fs::remove_file(&path)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                tracing::warn!(file = %path.display(), "cannot remove an old history record: {e}");
            }
        }
    }

    /// One record; `None` if no record has that id (never was, or dropped by the bounds).
    pub(crate) fn get(&self, id: u64) -> Option<HookRecord> {
        if !self.index().iter().any(|(i, _)| *i == id) {
            return None;
        }
        let bytes = fs::read(self.path(id)).ok()?;
        match serde_json::from_slice(&bytes) {
            Ok(record) => Some(record),
            Err(e) => {
                tracing::warn!(id, "cannot read a history record: {e}");
                None
            }
        }
    }

    /// The records `filter` selects, newest first.
    pub(crate) fn list(&self, filter: &HistoryFilter) -> Vec<HookSummaryRow> {
        let ids: Vec<u64> = self.index().iter().rev().map(|(id, _)| *id).collect();
        ids.into_iter()
            .filter_map(|id| self.get(id))
            .filter(|r| filter.name.as_ref().is_none_or(|n| &r.name == n))
            .filter(|r| !filter.failed_only || r.failed)
            .take(filter.limit)
            .map(|r| r.summary())
            .collect()
    }

    /// Records kept and their bytes on disk.
    #[cfg(test)]
    pub(crate) fn usage(&self) -> (usize, u64) {
        let index = self.index();
        (index.len(), index.iter().map(|(_, b)| b).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    /// `script::OUTPUT_TAIL`, which this layer may not import.
    const OUTPUT_TAIL: usize = 4096;

    fn record(name: &str, failed: bool, output: &str) -> HookRecord {
        HookRecord {
            id: 0,
            kind: RunKind::Hook,
            name: name.into(),
            trigger: "juju".into(),
            started_ms: 1_700_000_000_000,
            duration_ms: 12,
            failed,
            error: failed.then(|| "hook failed".into()),
            entries: vec![EntryRecord {
                id: "install.sh".into(),
                line: 3,
                duration_ms: 10,
                exit_status: Some(if failed { 3 } else { 0 }),
                failure: failed.then(|| "exited with status 3".into()),
                output_tail: output.into(),
                output_truncated: false,
            }],
            containers: None,
            status_before: UnitStatusRecord {
                status: WorkloadStatus::Maintenance,
                message: "installing".into(),
            },
            status_after: UnitStatusRecord {
                status: WorkloadStatus::Active,
                message: String::new(),
            },
        }
    }

    #[test]
    fn records_survive_reopen_and_ids_keep_growing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let history = History::open(dir.path(), Bounds::default()).0;
        let mut first = record("install", false, "ok\n");
        assert_eq!(history.append(&mut first).expect("append"), 1);
        drop(history);
        let history = History::open(dir.path(), Bounds::default()).0;
        assert_eq!(history.get(1), Some(first));
        assert_eq!(
            history.append(&mut record("start", false, "")).ok(),
            Some(2)
        );
    }

    #[test]
    fn the_count_bound_drops_the_oldest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let bounds = Bounds {
            records: 3,
            bytes: u64::MAX,
        };
        let history = History::open(dir.path(), bounds).0;
        for _ in 0..5 {
            history
                .append(&mut record("hook", false, ""))
                .expect("append");
        }
        let ids: Vec<u64> = history
            .list(&HistoryFilter {
                limit: 100,
                ..Default::default()
            })
            .iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, [5, 4, 3]);
        assert!(history.get(2).is_none());
        assert_eq!(fs::read_dir(dir.path().join("history")).unwrap().count(), 3);
    }

    #[test]
    fn the_byte_bound_drops_the_oldest_and_holds_at_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let big = "x".repeat(OUTPUT_TAIL);
        let history = History::open(dir.path(), Bounds::default()).0;
        for _ in 0..6 {
            history
                .append(&mut record("hook", false, &big))
                .expect("append");
        }
        let (_, one) = {
            let h = History::open(dir.path(), Bounds::default()).0;
            let (n, bytes) = h.usage();
            (n, bytes / n as u64)
        };
        drop(history);
        // Reopened with a smaller byte bound: room for two records and a half.
        let bounds = Bounds {
            records: 1000,
            bytes: one * 5 / 2,
        };
        let history = History::open(dir.path(), bounds).0;
        let (count, bytes) = history.usage();
        assert_eq!(count, 2);
        assert!(bytes <= bounds.bytes);
        history
            .append(&mut record("hook", false, &big))
            .expect("append");
        assert_eq!(history.usage().0, 2);
        assert!(history.get(6).is_some() && history.get(7).is_some());
        assert!(history.get(5).is_none());
    }

    #[test]
    fn filters_select_by_name_and_failure_newest_first() {
        let dir = tempfile::tempdir().expect("tempdir");
        let history = History::open(dir.path(), Bounds::default()).0;
        for (name, failed) in [("install", false), ("start", true), ("start", false)] {
            history
                .append(&mut record(name, failed, ""))
                .expect("append");
        }
        let ids = |filter: HistoryFilter| -> Vec<u64> {
            history.list(&filter).iter().map(|r| r.id).collect()
        };
        let all = HistoryFilter {
            limit: 10,
            ..Default::default()
        };
        assert_eq!(ids(all.clone()), [3, 2, 1]);
        assert_eq!(
            ids(HistoryFilter {
                limit: 1,
                ..all.clone()
            }),
            [3]
        );
        assert_eq!(
            ids(HistoryFilter {
                name: Some("start".into()),
                ..all.clone()
            }),
            [3, 2]
        );
        assert_eq!(
            ids(HistoryFilter {
                failed_only: true,
                ..all
            }),
            [2]
        );
    }

    /// Not a bound check: prints what 1 000 typical runs take on disk (three scripts,
    /// a few lines of output each), for the design notes.
    #[test]
    #[ignore = "a measurement (1 000 fsyncs): cargo test --lib history_size -- --ignored --nocapture"]
    fn history_size_per_thousand_runs() {
        let dir = tempfile::tempdir().expect("tempdir");
        let history = History::open(dir.path(), Bounds::default()).0;
        let output = "Reading package lists...\nSetting up app (1.2.3)...\nok\n";
        for _ in 0..1000 {
            let mut r = record("config-changed", false, output);
            r.entries = (0..3)
                .map(|i| EntryRecord {
                    id: format!("configure-{i}.sh"),
                    ..r.entries[0].clone()
                })
                .collect();
            history.append(&mut r).expect("append");
        }
        let (count, bytes) = history.usage();
        let on_disk: u64 = fs::read_dir(dir.path().join("history"))
            .expect("dir")
            .flatten()
            .map(|e| e.metadata().map(|m| m.len()).unwrap_or(0))
            .sum();
        let allocated: u64 = fs::read_dir(dir.path().join("history"))
            .expect("dir")
            .flatten()
            .map(|e| {
                use std::os::unix::fs::MetadataExt;
                e.metadata().map(|m| m.blocks() * 512).unwrap_or(0)
            })
            .sum();
        assert_eq!((count, bytes), (1000, on_disk));
        println!(
            "history: 1000 runs of 3 scripts: {on_disk} bytes of records ({} per run), {allocated} bytes allocated on this file system",
            on_disk / 1000
        );
        let mut worst = record("install", true, &"x".repeat(OUTPUT_TAIL));
        worst.entries = vec![worst.entries[0].clone(); 3];
        let one = serde_json::to_vec(&worst).expect("encode").len();
        println!("history: a run of 3 scripts with full output tails takes {one} bytes");
    }
}
