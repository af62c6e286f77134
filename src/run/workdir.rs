//! The work dir's parts (default `<charm>/build/lucky-run`, `--model-dir` to choose):
//! `charm/` the built charm (with a static lucky bundled, so the real installer runs),
//! `model/` the simulated model, `unit/` the daemon's data dir, `lucky.sock` its socket,
//! `bin/` where the installer puts lucky, `release/` what the build bundles.

use super::error::RunError;

use std::path::{Path, PathBuf};

/// Unix socket paths longer than this do not fit `sockaddr_un`.
const MAX_SOCKET_PATH: usize = 100;

pub(super) struct Paths {
    pub(crate) root: PathBuf,
    pub(crate) charm: PathBuf,
    pub(crate) model: PathBuf,
    pub(crate) data: PathBuf,
    pub(crate) socket: PathBuf,
    pub(crate) bin: PathBuf,
    pub(crate) release: PathBuf,
}

impl Paths {
    /// The work dir for a run of `charm_dir`: `model_dir`, or the default; refused when
    /// too deep for the daemon's sockets.
    pub(crate) fn for_run(model_dir: Option<&Path>, charm_dir: &Path) -> Result<Self, RunError> {
        let root = match model_dir {
            Some(d) => absolute(d)?,
            None => charm_dir.join("build").join("lucky-run"),
        };
        let paths = Self::new(root);
        let longest = paths.socket.as_os_str().len().max(
            crate::docker::container_socket(&paths.data)
                .as_os_str()
                .len(),
        );
        if longest > MAX_SOCKET_PATH {
            return Err(format!(
                "the work dir {} is too deep for the daemon's Unix sockets; choose a shorter one with --model-dir",
                paths.root.display()
            ).into());
        }
        Ok(paths)
    }

    fn new(root: PathBuf) -> Self {
        Self {
            charm: root.join("charm"),
            model: root.join("model"),
            data: root.join("unit"),
            socket: root.join("lucky.sock"),
            bin: root.join("bin"),
            release: root.join("release"),
            root,
        }
    }

    /// True when an earlier run kept its model here.
    pub(crate) fn has_model(&self) -> bool {
        self.model.join("model.json").exists()
    }
}

fn absolute(p: &Path) -> Result<PathBuf, RunError> {
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    let here =
        std::env::current_dir().map_err(|e| format!("cannot find the current folder: {e}"))?;
    Ok(here.join(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_work_dir_too_deep_for_a_socket_is_refused_naming_the_flag() {
        let deep = PathBuf::from("/tmp").join("d".repeat(90));
        let err = Paths::for_run(Some(&deep), Path::new("/charm"))
            .err()
            .expect("refused")
            .to_string();
        assert!(err.contains("--model-dir"), "{err}");
        let ok = Paths::for_run(None, Path::new("/srv/webapp")).expect("short enough");
        assert_eq!(
            ok.socket,
            Path::new("/srv/webapp/build/lucky-run/lucky.sock")
        );
    }
}
