//! Staging the charm's own files: the copy of its tree, executable scripts, and the small
//! file helpers the other build steps write with.

use crate::charm::error::CharmError;
use crate::charm::lucky_yaml::LuckyYaml;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

pub(super) fn copy_tree(from: &Path, to: &Path, skip: &[PathBuf]) -> Result<(), CharmError> {
    std::fs::create_dir_all(to).map_err(|e| CharmError::io("create", to, e))?;
    let entries = std::fs::read_dir(from).map_err(|e| CharmError::io("read", from, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| CharmError::io("read", from, e))?;
        let src = entry.path();
        if skip.contains(&src) || entry.file_name() == ".git" {
            continue;
        }
        let dest = to.join(entry.file_name());
        let kind = entry
            .file_type()
            .map_err(|e| CharmError::io("read", &src, e))?;
        if kind.is_dir() {
            copy_tree(&src, &dest, skip)?;
        } else if kind.is_symlink() {
            let target =
                std::fs::read_link(&src).map_err(|e| CharmError::io("read link", &src, e))?;
            std::os::unix::fs::symlink(&target, &dest)
                .map_err(|e| CharmError::io("create link", &dest, e))?;
        } else if kind.is_file() {
            // fs::copy keeps the permission bits: scripts stay executable.
            std::fs::copy(&src, &dest)
                .map_err(|e| format!("cannot copy {} to {}: {e}", src.display(), dest.display()))?;
        }
    }
    Ok(())
}

/// Sets the executable bits on every script lucky.yaml declares that lacks them, in the
/// built copy only (the source is left as committed), and notes which.
pub(super) fn make_scripts_executable(
    staging: &Path,
    lucky: &LuckyYaml,
    notes: &mut Vec<String>,
) -> Result<(), CharmError> {
    let mut made = Vec::new();
    for rel in lucky.script_files() {
        let path = staging.join(&rel);
        let mode = std::fs::metadata(&path)
            .map_err(|e| CharmError::io("read", &path, e))?
            .permissions()
            .mode();
        if mode & 0o111 != 0o111 {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode | 0o755))
                .map_err(|e| format!("cannot make {} executable: {e}", path.display()))?;
            made.push(rel.display().to_string());
        }
    }
    if !made.is_empty() {
        notes.push(format!("made executable: {}", made.join(", ")));
    }
    Ok(())
}

pub(super) fn remove_any(path: &Path) -> Result<(), CharmError> {
    let r = if path.is_dir() && !path.is_symlink() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    r.map_err(|e| CharmError::io("remove", path, e))
}

pub(super) fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), CharmError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| CharmError::io("create", parent, e))?;
    }
    std::fs::write(path, contents).map_err(|e| CharmError::io("write", path, e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| CharmError::io("chmod", path, e))
}
