//! Finding a program on a `PATH` the way a shell does: the first executable file.
//!
//! The hook-tool backend searches the hook's PATH (not the daemon's), and the
//! simulator's `juju-exec` finds its tools dir this way; one search serves both.

use std::ffi::OsStr;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Every executable file called `name` on `path`, in PATH order.
pub(crate) fn on_path<'a>(name: &'a str, path: &'a OsStr) -> impl Iterator<Item = PathBuf> + 'a {
    // Relative entries would resolve against whatever folder the caller runs in.
    std::env::split_paths(path)
        .filter(|dir| dir.is_absolute())
        .map(move |dir| dir.join(name))
        .filter(|p| is_executable(p))
}

/// The first executable file called `name` on `path`.
pub(crate) fn find(name: &str, path: &OsStr) -> Option<PathBuf> {
    on_path(name, path).next()
}

/// A regular file (after links) with an execute bit.
pub(crate) fn is_executable(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_executable_and_skips_plain_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(&a).expect("mkdir");
        std::fs::create_dir_all(&b).expect("mkdir");
        std::fs::write(a.join("tool"), "").expect("write");
        std::fs::write(b.join("tool"), "").expect("write");
        std::fs::set_permissions(b.join("tool"), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
        let path = std::env::join_paths([&a, &b]).expect("join");
        assert_eq!(find("tool", &path), Some(b.join("tool")));
        assert_eq!(find("missing", &path), None);
    }
}
