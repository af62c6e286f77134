//! The unit's durable state: one mechanism for everything that must survive a crash.
//!
//! Each kind of state (kv, statuses, container specs, …) is a [`Document`]: a JSON file in
//! `<data dir>/state/`, held in memory and written through on every change. A write is
//! atomic and durable before it returns (temporary file, fsync, rename, fsync of the
//! folder), so a crash at any point leaves either the old or the new file, never half of
//! one. A file that cannot be parsed is moved aside, never silently emptied.

pub(crate) mod history;
pub(crate) mod status;
pub(crate) mod unit;

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

#[derive(Debug, thiserror::Error)]
pub(crate) enum StateError {
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{path} is corrupt ({reason}); it was kept as {kept_as} and the unit starts from empty {name} state"
    )]
    Corrupt {
        name: String,
        path: PathBuf,
        kept_as: PathBuf,
        reason: String,
    },
    #[error("cannot encode {name} state: {source}")]
    Encode {
        name: String,
        source: serde_json::Error,
    },
}

fn io<'a>(action: &'static str, path: &'a Path) -> impl FnOnce(std::io::Error) -> StateError + 'a {
    move |source| StateError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

/// The folder holding the unit's state documents.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    dir: PathBuf,
}

impl Store {
    pub(crate) fn open(data_dir: &Path) -> Result<Self, StateError> {
        let dir = data_dir.join("state");
        fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        remove_leftover_temporaries(&dir);
        Ok(Self { dir })
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Reads a document; a missing file is the default value. A corrupt file is moved
    /// aside and reported as `Corrupt` together with the default value to go on with.
    pub(crate) fn load<T: DeserializeOwned + Default>(
        &self,
        name: &str,
    ) -> (T, Option<StateError>) {
        let path = self.path(name);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (T::default(), None),
            Err(e) => return (T::default(), Some(io("read", &path)(e))),
        };
        match serde_json::from_slice(&bytes) {
            Ok(value) => (value, None),
            Err(e) => {
                let kept_as = match self.keep_aside(name, &path) {
                    Ok(kept_as) => kept_as,
                    Err(e) => return (T::default(), Some(io("move aside", &path)(e))),
                };
                let error = StateError::Corrupt {
                    name: name.to_string(),
                    path,
                    kept_as,
                    reason: e.to_string(),
                };
                (T::default(), Some(error))
            }
        }
    }

    /// Moves a corrupt file to a name no earlier backup has: `.corrupt-<secs>`, then
    /// `-2`, `-3`… within the same second. A hard link claims the name atomically (it
    /// fails if the name is taken), so an earlier backup is never overwritten.
    fn keep_aside(&self, name: &str, path: &Path) -> std::io::Result<PathBuf> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or_default();
        let mut n = 1u32;
        loop {
            let kept_as = match n {
                1 => self.dir.join(format!("{name}.json.corrupt-{stamp}")),
                n => self.dir.join(format!("{name}.json.corrupt-{stamp}-{n}")),
            };
            match fs::hard_link(path, &kept_as) {
                Ok(()) => {
                    fs::remove_file(path)?;
                    return Ok(kept_as);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 1000 => n += 1,
                Err(e) => return Err(e),
            }
        }
    }

    /// Replaces a document atomically and durably.
    pub(crate) fn save<T: Serialize>(&self, name: &str, value: &T) -> Result<(), StateError> {
        let bytes = serde_json::to_vec_pretty(value).map_err(|source| StateError::Encode {
            name: name.to_string(),
            source,
        })?;
        write_atomic(&self.path(name), &bytes)
    }
}

/// Deletes `.NAME.tmpPID` files a crashed daemon left halfway through a write. The
/// caller holds the unit lock, so no other writer is using them.
fn remove_leftover_temporaries(dir: &Path) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.contains(".json.tmp") {
            if let Err(e) = fs::remove_file(entry.path()) {
                tracing::warn!(file = %entry.path().display(), "cannot remove a leftover temporary file: {e}");
            } else {
                tracing::info!(file = %entry.path().display(), "removed a temporary file left by a crash");
            }
        }
    }
}

/// Writes `bytes` to `path` so that a crash leaves the old or the new content.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let written = (|| {
        let mut file = File::create(&tmp).map_err(io("create", &tmp))?;
        file.write_all(bytes).map_err(io("write", &tmp))?;
        file.sync_all().map_err(io("sync", &tmp))?;
        drop(file);
        fs::rename(&tmp, path).map_err(io("replace", path))
    })();
    if written.is_err() {
        // A failed write leaves nothing beside the file it was to replace.
        let _ = fs::remove_file(&tmp);
    }
    written?;
    // The rename itself is durable only once the folder is synced.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("sync", dir))?;
    Ok(())
}

/// One state document, in memory and on disk. Changes go through [`Document::update`],
/// which writes the new value before making it visible, so memory never runs ahead of
/// the disk and a failed write changes nothing.
pub(crate) struct Document<T> {
    store: Store,
    name: &'static str,
    value: Mutex<T>,
    /// Held by a writer across its whole change, fsyncs included; `value` is only held
    /// to copy or swap, so readers never wait for a disk.
    writer: Mutex<()>,
}

/// Why [`Document::try_update`] changed nothing.
#[derive(Debug)]
pub(crate) enum UpdateError<E> {
    /// The change itself refused (a quota, say).
    Refused(E),
    State(StateError),
}

impl<T: Serialize + DeserializeOwned + Default + Clone> Document<T> {
    /// Loads the document; a corrupt file is reported (and kept aside) alongside.
    pub(crate) fn open(store: &Store, name: &'static str) -> (Self, Option<StateError>) {
        let (value, problem) = store.load(name);
        (
            Self {
                store: store.clone(),
                name,
                value: Mutex::new(value),
                writer: Mutex::new(()),
            },
            problem,
        )
    }

    pub(crate) fn read<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.value.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Like `update`, but `f` says whether it changed anything; nothing is written if not.
    pub(crate) fn update_if(&self, f: impl FnOnce(&mut T) -> bool) -> Result<bool, StateError> {
        self.try_update_if(|next| {
            let changed = f(next);
            Ok::<_, std::convert::Infallible>((changed, changed))
        })
        .map_err(|e| match e {
            UpdateError::Refused(never) => match never {},
            UpdateError::State(e) => e,
        })
    }

    /// Applies `f` to a copy, saves the copy, then makes it current.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R, StateError> {
        self.try_update(|next| Ok::<_, std::convert::Infallible>(f(next)))
            .map_err(|e| match e {
                UpdateError::Refused(never) => match never {},
                UpdateError::State(e) => e,
            })
    }

    /// Like `update`, but `f` may refuse the change (`Err`): then nothing is written.
    pub(crate) fn try_update<R, E>(
        &self,
        f: impl FnOnce(&mut T) -> Result<R, E>,
    ) -> Result<R, UpdateError<E>> {
        self.try_update_if(|next| f(next).map(|result| (result, true)))
    }

    /// Like `try_update`, but `f` also says whether it changed anything (`(result,
    /// changed)`): an unchanged document is not written (no fsync for a no-op).
    pub(crate) fn try_update_if<R, E>(
        &self,
        f: impl FnOnce(&mut T) -> Result<(R, bool), E>,
    ) -> Result<R, UpdateError<E>> {
        let _one_writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = self.read(Clone::clone);
        let (result, changed) = f(&mut next).map_err(UpdateError::Refused)?;
        if !changed {
            return Ok(result);
        }
        self.store
            .save(self.name, &next)
            .map_err(UpdateError::State)?;
        *self.value.lock().unwrap_or_else(PoisonError::into_inner) = next;
        Ok(result)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    type Kv = BTreeMap<String, String>;

    #[test]
    fn a_refused_update_writes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let (doc, _) = Document::<Kv>::open(&store, "kv");
        let refused = doc.try_update(|kv| {
            kv.insert("k".into(), "v".into());
            Err::<(), _>("no")
        });
        assert!(matches!(refused, Err(UpdateError::Refused("no"))));
        assert!(doc.read(BTreeMap::is_empty));
        assert!(
            !store.path("kv").exists(),
            "a refused edit must not write its document"
        );
    }

    #[test]
    fn an_unchanged_document_is_not_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let (doc, _) = Document::<Kv>::open(&store, "kv");
        let unchanged = doc.try_update_if(|kv| Ok::<_, ()>((kv.len(), false)));
        assert_eq!(unchanged.ok(), Some(0));
        assert!(!store.path("kv").exists(), "a no-op wrote its document");
        assert_eq!(doc.update_if(|_| false).ok(), Some(false));
        assert!(!store.path("kv").exists(), "a no-op wrote its document");
        assert_eq!(
            doc.update_if(|kv| kv.insert("a".into(), "1".into()).is_none())
                .ok(),
            Some(true)
        );
        assert!(store.path("kv").exists());
    }

    #[test]
    fn survives_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let (doc, problem) = Document::<Kv>::open(&store, "kv");
        assert!(problem.is_none());
        doc.update(|kv| kv.insert("a".into(), "1".into()))
            .expect("update");
        let (again, _) = Document::<Kv>::open(&store, "kv");
        assert_eq!(again.read(|kv| kv.get("a").cloned()), Some("1".into()));
    }

    #[test]
    fn corrupt_file_is_kept_aside_and_reported() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        fs::write(store.dir().join("kv.json"), b"{not json").expect("write");
        let (doc, problem) = Document::<Kv>::open(&store, "kv");
        let Some(StateError::Corrupt { kept_as, .. }) = problem else {
            panic!("expected a corrupt report, got {problem:?}");
        };
        assert_eq!(fs::read(&kept_as).expect("kept"), b"{not json");
        assert!(doc.read(|kv| kv.is_empty()));
    }

    #[test]
    fn two_corrupt_files_in_one_second_keep_two_backups() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let mut kept = Vec::new();
        for body in [&b"{first"[..], b"{second"] {
            fs::write(store.dir().join("kv.json"), body).expect("write");
            let (_, problem) = Document::<Kv>::open(&store, "kv");
            let Some(StateError::Corrupt { kept_as, .. }) = problem else {
                panic!("expected a corrupt report, got {problem:?}");
            };
            kept.push(kept_as);
        }
        assert_ne!(kept[0], kept[1]);
        assert_eq!(fs::read(&kept[0]).expect("first"), b"{first");
        assert_eq!(fs::read(&kept[1]).expect("second"), b"{second");
    }

    #[test]
    fn temporaries_left_by_a_crash_are_removed_at_open() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let (doc, _) = Document::<Kv>::open(&store, "kv");
        doc.update(|kv| kv.insert("a".into(), "1".into()))
            .expect("update");
        // What a daemon killed between create and rename leaves behind.
        let leftover = store.dir().join(".kv.json.tmp4242");
        fs::write(&leftover, b"{half").expect("write");
        let again = Store::open(dir.path()).expect("reopen");
        assert!(!leftover.exists());
        let (doc, problem) = Document::<Kv>::open(&again, "kv");
        assert!(problem.is_none());
        assert_eq!(doc.read(|kv| kv.get("a").cloned()), Some("1".into()));
    }

    #[test]
    fn failed_write_changes_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let (doc, _) = Document::<Kv>::open(&store, "kv");
        doc.update(|kv| kv.insert("a".into(), "1".into()))
            .expect("update");
        // A folder where the file should go makes the rename fail.
        fs::remove_file(store.dir().join("kv.json")).expect("rm");
        fs::create_dir(store.dir().join("kv.json")).expect("mkdir");
        assert!(doc.update(|kv| kv.insert("b".into(), "2".into())).is_err());
        assert_eq!(doc.read(|kv| kv.len()), 1);
    }
}
