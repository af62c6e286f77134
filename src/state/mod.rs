//! The unit's durable state: one mechanism for everything that must survive a crash.
//!
//! Each kind of state (kv, statuses, container specs, …) is a [`Document`]: a JSON file in
//! `<data dir>/state/`, held in memory and written through on every change. A write is
//! atomic and durable before it returns (temporary file, fsync, rename, fsync of the
//! folder), so a crash at any point leaves either the old or the new file, never half of
//! one. A file that cannot be parsed is moved aside, never silently emptied.

pub mod status;
pub mod unit;

use serde::Serialize;
use serde::de::DeserializeOwned;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
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
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn open(data_dir: &Path) -> Result<Self, StateError> {
        let dir = data_dir.join("state");
        fs::create_dir_all(&dir).map_err(io("create", &dir))?;
        Ok(Self { dir })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Reads a document; a missing file is the default value. A corrupt file is moved
    /// aside and reported as `Corrupt` together with the default value to go on with.
    pub fn load<T: DeserializeOwned + Default>(&self, name: &str) -> (T, Option<StateError>) {
        let path = self.path(name);
        let bytes = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return (T::default(), None),
            Err(e) => return (T::default(), Some(io("read", &path)(e))),
        };
        match serde_json::from_slice(&bytes) {
            Ok(value) => (value, None),
            Err(e) => {
                let stamp = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_secs())
                    .unwrap_or_default();
                let kept_as = self.dir.join(format!("{name}.json.corrupt-{stamp}"));
                if let Err(e) = fs::rename(&path, &kept_as) {
                    return (T::default(), Some(io("move aside", &path)(e)));
                }
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

    /// Replaces a document atomically and durably.
    pub fn save<T: Serialize>(&self, name: &str, value: &T) -> Result<(), StateError> {
        let bytes = serde_json::to_vec_pretty(value).map_err(|source| StateError::Encode {
            name: name.to_string(),
            source,
        })?;
        write_atomic(&self.path(name), &bytes)
    }
}

/// Writes `bytes` to `path` so that a crash leaves the old or the new content.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), StateError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default(),
        std::process::id()
    ));
    let mut file = File::create(&tmp).map_err(io("create", &tmp))?;
    file.write_all(bytes).map_err(io("write", &tmp))?;
    file.sync_all().map_err(io("sync", &tmp))?;
    drop(file);
    fs::rename(&tmp, path).map_err(io("replace", path))?;
    // The rename itself is durable only once the folder is synced.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io("sync", dir))?;
    Ok(())
}

/// One state document, in memory and on disk. Changes go through [`Document::update`],
/// which writes the new value before making it visible, so memory never runs ahead of
/// the disk and a failed write changes nothing.
pub struct Document<T> {
    store: Store,
    name: &'static str,
    value: Mutex<T>,
}

impl<T: Serialize + DeserializeOwned + Default + Clone> Document<T> {
    /// Loads the document; a corrupt file is reported (and kept aside) alongside.
    pub fn open(store: &Store, name: &'static str) -> (Self, Option<StateError>) {
        let (value, problem) = store.load(name);
        (
            Self {
                store: store.clone(),
                name,
                value: Mutex::new(value),
            },
            problem,
        )
    }

    pub fn read<R>(&self, f: impl FnOnce(&T) -> R) -> R {
        f(&self.value.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Like `update`, but `f` says whether it changed anything; nothing is written if not.
    pub fn update_if(&self, f: impl FnOnce(&mut T) -> bool) -> Result<bool, StateError> {
        let mut current = self.value.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = current.clone();
        if !f(&mut next) {
            return Ok(false);
        }
        self.store.save(self.name, &next)?;
        *current = next;
        Ok(true)
    }

    /// Applies `f` to a copy, saves the copy, then makes it current.
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> Result<R, StateError> {
        let mut current = self.value.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = current.clone();
        let result = f(&mut next);
        self.store.save(self.name, &next)?;
        *current = next;
        Ok(result)
    }

    /// Like `update`, but `f` may refuse: a refusal writes nothing and changes nothing.
    pub fn try_update<R, E>(
        &self,
        f: impl FnOnce(&mut T) -> Result<R, E>,
    ) -> Result<Result<R, E>, StateError> {
        let mut current = self.value.lock().unwrap_or_else(PoisonError::into_inner);
        let mut next = current.clone();
        let result = match f(&mut next) {
            Ok(result) => result,
            Err(refused) => return Ok(Err(refused)),
        };
        self.store.save(self.name, &next)?;
        *current = next;
        Ok(Ok(result))
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
        let refused = doc
            .try_update(|kv| {
                kv.insert("k".into(), "v".into());
                Err::<(), _>("no")
            })
            .expect("no write error");
        assert_eq!(refused, Err("no"));
        assert!(doc.read(BTreeMap::is_empty));
        assert!(
            !store.path("kv").exists(),
            "a refused edit must not write its document"
        );
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
