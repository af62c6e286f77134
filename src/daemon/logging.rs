//! The daemon's log: a file in the unit's data dir, plus stderr in the foreground.
//!
//! The file is bounded: past [`MAX_LOG_BYTES`] it is renamed to `lucky.log.1` (replacing
//! the previous one) and a new one is started, so the log never takes more than twice
//! that, whatever clients make the daemon log.

use anyhow::{Context, Result, bail};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tracing::level_filters::LevelFilter;
use tracing_subscriber::fmt::writer::MakeWriterExt;

pub(crate) fn level_from_env() -> Result<LevelFilter> {
    match std::env::var("LUCKY_LOG_LEVEL") {
        Err(_) => Ok(LevelFilter::INFO),
        Ok(v) if v.is_empty() => Ok(LevelFilter::INFO),
        Ok(v) => match crate::unit::log_level(&v) {
            Some(level) => Ok(level),
            None => bail!(
                "LUCKY_LOG_LEVEL={v:?} is not one of {}",
                crate::unit::LOG_LEVELS
            ),
        },
    }
}

/// Size at which `lucky.log` is rotated.
pub(crate) const MAX_LOG_BYTES: u64 = 8 * 1024 * 1024;

/// `lucky.log`, rotated to `lucky.log.1` when it reaches [`MAX_LOG_BYTES`].
pub(crate) struct RotatingLog {
    path: PathBuf,
    file: File,
    size: u64,
}

impl RotatingLog {
    pub(crate) fn open(path: PathBuf) -> std::io::Result<Self> {
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        let size = file.metadata()?.len();
        Ok(Self { path, file, size })
    }

    fn rotate(&mut self) -> std::io::Result<()> {
        let mut old = self.path.clone().into_os_string();
        old.push(".1");
        std::fs::rename(&self.path, &old)?;
        self.file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

impl Write for RotatingLog {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.size > 0 && self.size + buf.len() as u64 > MAX_LOG_BYTES {
            // A rotation that fails (full disk, say) leaves the current file in use.
            let _ = self.rotate();
        }
        let n = self.file.write(buf)?;
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

pub(crate) fn init(data_dir: &Path, level: LevelFilter, to_stderr: bool) -> Result<()> {
    let path = data_dir.join("lucky.log");
    let file = RotatingLog::open(path.clone())
        .with_context(|| format!("cannot open the daemon log {}", path.display()))?;
    let builder = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_ansi(false)
        .with_target(false);
    let result = if to_stderr {
        builder
            .with_writer(Mutex::new(file).and(std::io::stderr))
            .try_init()
    } else {
        builder.with_writer(Mutex::new(file)).try_init()
    };
    // Already initialised (in-process tests) is fine.
    let _ = result;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_rotated_and_bounded() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("lucky.log");
        let mut log = RotatingLog::open(path.clone()).expect("open");
        let line = vec![b'x'; 64 * 1024];
        for _ in 0..(3 * MAX_LOG_BYTES / line.len() as u64) {
            log.write_all(&line).expect("write");
        }
        let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        let old = dir.path().join("lucky.log.1");
        assert!(size(&path) <= MAX_LOG_BYTES, "{}", size(&path));
        assert!(
            size(&old) <= MAX_LOG_BYTES && size(&old) > 0,
            "{}",
            size(&old)
        );
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 2);
    }
}
