//! Putting a verified binary in place of the running one: staged beside it (same
//! filesystem, so the final rename is atomic), fsynced, mode 755, smoke-tested, renamed.
//!
//! Done here rather than with the `self_update` crate's `self_replace`: that renames as soon as it has
//! copied, with no fsync and no chance to run the new binary before it is in place.

use anyhow::{Context, Result, bail};
use std::fs::{self, File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A new binary written beside the one it replaces; removed on drop unless installed.
pub(crate) struct Staged {
    path: PathBuf,
    installed: bool,
}

impl Staged {
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Staged {
    fn drop(&mut self) {
        if !self.installed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Writes `bytes` to `.lucky-update.<pid>` in `exe`'s directory, fsynced, mode 755.
pub(crate) fn stage(exe: &Path, bytes: &[u8]) -> Result<Staged> {
    let dir = exe
        .parent()
        .with_context(|| format!("{} has no parent directory", exe.display()))?;
    let path = dir.join(format!(".lucky-update.{}", std::process::id()));
    let _ = fs::remove_file(&path);
    let staged = Staged {
        path,
        installed: false,
    };
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o700)
        .open(&staged.path)
        .with_context(|| format!("cannot write the new binary beside {}", exe.display()))?;
    file.write_all(bytes)
        .and_then(|()| file.set_permissions(fs::Permissions::from_mode(0o755)))
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", staged.path.display()))?;
    Ok(staged)
}

/// Runs `<staged> --version`: it must start, exit 0 within 10 s and report `version` for
/// `target`. Returns its first line.
pub(crate) fn smoke_test(staged: &Staged, version: &str, target: &str) -> Result<String> {
    let mut child = Command::new(staged.path())
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("the new binary does not run: {}", staged.path().display()))?;
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("the new binary's `--version` did not finish within 10 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let mut out = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        let _ = stdout.read_to_string(&mut out);
    }
    if !status.success() {
        let mut err = String::new();
        if let Some(mut stderr) = child.stderr.take() {
            let _ = stderr.read_to_string(&mut err);
        }
        bail!(
            "the new binary's `--version` failed ({status}): {}",
            err.trim()
        );
    }
    let line = out.lines().next().unwrap_or("").trim().to_string();
    // `lucky <version> (<target>, commit <commit>)`
    let mut words = line.split_whitespace();
    let reported = (words.next(), words.next());
    if reported.0 != Some("lucky") || reported.1 != Some(version) {
        bail!("the new binary reports {line:?}, expected lucky {version}");
    }
    if !line.contains(&format!("({target},")) {
        bail!("the new binary reports {line:?}, which is not for {target}");
    }
    Ok(line)
}

/// Renames the staged binary over `exe` and fsyncs the directory.
pub(crate) fn install(mut staged: Staged, exe: &Path) -> Result<()> {
    fs::rename(&staged.path, exe)
        .with_context(|| format!("cannot move the new binary over {}", exe.display()))?;
    staged.installed = true;
    if let Some(dir) = exe.parent() {
        // The rename is done; a failed directory fsync only weakens crash durability.
        let _ = File::open(dir).and_then(|d| d.sync_all());
    }
    Ok(())
}
