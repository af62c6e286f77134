//! lucky.yaml as the daemon reads it: parsed once and kept while the file stays the same,
//! so a hook's plan and the cron and check re-plans after it share one parse.
//!
//! The kept parse is used again only for the same file, unchanged: the same path,
//! device and inode, size, and modification and change times to the nanosecond (an edit,
//! a chmod, a rename over it or a new charm folder changes one of them). A write within
//! the file system's timestamp granularity of the read could leave them all as they
//! were, so while the file is younger than [`SETTLE`] its text is read again at each
//! lookup and the parse reused only for the same text (as git treats a "racily clean"
//! file).
//!
//! The script files lucky.yaml names are checked at every lookup, outside the cache
//! (`lucky_yaml::check_scripts`, a stat each): one removed or chmodded since the parse is
//! reported as a fresh parse would report it. A parse that fails is never kept: the next
//! lookup parses again and gives the same error.

use crate::charm::lucky_yaml::{self, LuckyYaml, LuckyYamlError};
use std::fs::Metadata;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How old a file's times must be before they alone vouch for its content: more than
/// any file system's timestamp granularity (FAT's is 2 s; ext4's a clock tick).
pub(crate) const SETTLE: Duration = Duration::from_secs(2);

/// The daemon's last parsed lucky.yaml (one charm per unit, so one entry).
#[derive(Default)]
pub(crate) struct LuckyYamlCache {
    kept: Mutex<Option<Kept>>,
    /// Parses so far (failed ones included), for the debug log and tests.
    parses: AtomicU64,
}

/// A successful parse and what it was parsed from.
struct Kept {
    file: FileIdentity,
    /// Whether the file was older than [`SETTLE`] when `file` was taken: only then may
    /// an equal identity stand for equal content.
    settled: bool,
    text: String,
    yaml: Arc<LuckyYaml>,
}

/// Which file was read, and its size and times then.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FileIdentity {
    path: PathBuf,
    dev: u64,
    ino: u64,
    size: u64,
    mtime: (i64, i64),
    ctime: (i64, i64),
}

impl FileIdentity {
    fn of(path: &Path, meta: &Metadata) -> Self {
        FileIdentity {
            path: path.to_path_buf(),
            dev: meta.dev(),
            ino: meta.ino(),
            size: meta.size(),
            mtime: (meta.mtime(), meta.mtime_nsec()),
            ctime: (meta.ctime(), meta.ctime_nsec()),
        }
    }

    /// Whether both times are at least [`SETTLE`] before `now`: a later write then
    /// gives the file a newer change time.
    fn settled(&self, now: SystemTime) -> bool {
        let Some(limit) = now.checked_sub(SETTLE) else {
            return false;
        };
        [self.mtime, self.ctime]
            .into_iter()
            .all(|(secs, nanos)| stamp(secs, nanos).is_some_and(|t| t <= limit))
    }
}

/// A file time (seconds and nanoseconds since the epoch) as a `SystemTime`.
fn stamp(secs: i64, nanos: i64) -> Option<SystemTime> {
    let nanos = u32::try_from(nanos).ok()?;
    match u64::try_from(secs) {
        Ok(secs) => UNIX_EPOCH.checked_add(Duration::new(secs, nanos)),
        // Before 1970: settled by any measure.
        Err(_) => Some(UNIX_EPOCH),
    }
}

impl LuckyYamlCache {
    /// The charm's lucky.yaml, as `lucky_yaml::load(charm_dir)` gives it (the same
    /// value, the same error), parsed again only when the file changed.
    pub(crate) fn load(&self, charm_dir: &Path) -> Result<Arc<LuckyYaml>, LuckyYamlError> {
        self.load_at(charm_dir, SystemTime::now())
    }

    /// [`Self::load`] at time `now` (tests look from later on, when the file has settled).
    fn load_at(&self, charm_dir: &Path, now: SystemTime) -> Result<Arc<LuckyYaml>, LuckyYamlError> {
        match self.parsed(charm_dir, now)? {
            Reuse::Kept(yaml) => {
                lucky_yaml::check_scripts(&yaml, charm_dir)?;
                Ok(yaml)
            }
            // A fresh parse has just checked them.
            Reuse::Fresh(yaml) => Ok(yaml),
        }
    }

    /// The parse for the current file: the kept one, or a fresh one (then kept).
    fn parsed(&self, charm_dir: &Path, now: SystemTime) -> Result<Reuse, LuckyYamlError> {
        let mut kept = self.kept.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(path) = lucky_yaml::find(charm_dir) else {
            *kept = None;
            return Err(LuckyYamlError::not_found(charm_dir));
        };
        let unreadable = |e: std::io::Error| LuckyYamlError::unreadable(&path, &e);
        // The identity is the open file's, taken before its text is read: a write after
        // it changes the identity, so the next lookup reads again.
        let mut file = std::fs::File::open(&path).map_err(unreadable)?;
        let identity = FileIdentity::of(&path, &file.metadata().map_err(unreadable)?);
        let settled = identity.settled(now);
        if let Some(same) = kept.as_ref().filter(|k| k.settled && k.file == identity) {
            tracing::debug!(path = %path.display(), "lucky.yaml unchanged: its parse reused");
            return Ok(Reuse::Kept(Arc::clone(&same.yaml)));
        }
        let mut text = String::new();
        file.read_to_string(&mut text).map_err(unreadable)?;
        if let Some(same) = kept
            .as_mut()
            .filter(|k| k.file.path == identity.path && k.text == text)
        {
            tracing::debug!(path = %path.display(), "lucky.yaml text unchanged: its parse reused");
            same.file = identity;
            same.settled = settled;
            return Ok(Reuse::Kept(Arc::clone(&same.yaml)));
        }
        let parses = self.parses.fetch_add(1, Ordering::Relaxed) + 1;
        tracing::debug!(path = %path.display(), parses, "lucky.yaml parsed");
        match lucky_yaml::parse(&text, &path, charm_dir) {
            Ok(yaml) => {
                let yaml = Arc::new(yaml);
                *kept = Some(Kept {
                    file: identity,
                    settled,
                    text,
                    yaml: Arc::clone(&yaml),
                });
                Ok(Reuse::Fresh(yaml))
            }
            Err(e) => {
                *kept = None;
                Err(e)
            }
        }
    }

    /// How many times lucky.yaml was parsed (failed parses included).
    #[cfg(test)]
    pub(crate) fn parses(&self) -> u64 {
        self.parses.load(Ordering::Relaxed)
    }
}

/// Where a parse came from: the cache (its scripts still to be checked) or the file.
enum Reuse {
    Kept(Arc<LuckyYaml>),
    Fresh(Arc<LuckyYaml>),
}

#[cfg(test)]
mod tests;
