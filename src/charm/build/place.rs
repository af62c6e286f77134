//! Where a build goes and how it gets there safely: the build folder is never one that
//! holds the charm or is not an earlier build, and the new build is renamed into place
//! only once it is complete.

use crate::charm::error::CharmError;
use std::path::{Path, PathBuf};

/// Where one build goes: the final folder, the staging folder it is written in beside it,
/// and the packed charm.
pub(super) struct Place {
    pub(super) build_dir: PathBuf,
    pub(super) staging: PathBuf,
    pub(super) charm_file: PathBuf,
    parent: PathBuf,
    /// The build made `parent`: a refused build takes it away again.
    made_parent: bool,
}

impl Place {
    /// Chooses and checks the build folder (`--build-dir`, or `<charm>/build/<name>`) and
    /// makes its parent: the build folder never holds the charm, and replaces only an
    /// earlier build.
    pub(super) fn prepare(
        build_dir: Option<&Path>,
        charm_dir: &Path,
        name: &str,
    ) -> Result<Place, CharmError> {
        let build_dir = match build_dir {
            Some(d) => absolute(d)?,
            None => charm_dir.join("build").join(name),
        };
        if build_dir == charm_dir || charm_dir.starts_with(&build_dir) {
            return Err(format!(
                "--build-dir {}: the build folder cannot hold the charm itself",
                build_dir.display()
            )
            .into());
        }
        let parent = build_dir
            .parent()
            .ok_or_else(|| format!("--build-dir {}: has no parent folder", build_dir.display()))?
            .to_path_buf();
        // A refused build leaves no trace: a parent folder it made goes again.
        let made_parent = !parent.exists();
        std::fs::create_dir_all(&parent).map_err(|e| CharmError::io("create", &parent, e))?;
        let leaf = build_dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| name.to_string());
        let place = Place {
            staging: parent.join(format!(".{leaf}.lucky-build-{}", std::process::id())),
            charm_file: parent.join(format!("{name}.charm")),
            build_dir,
            parent,
            made_parent,
        };
        if let Err(e) = check_replaceable(&place.build_dir) {
            place.unmake_parent();
            return Err(e);
        }
        let _ = std::fs::remove_dir_all(&place.staging);
        Ok(place)
    }

    /// What the copy of the charm leaves out: the folder that holds the build output,
    /// `build/`, where builds (and `charm run`'s work dir) go by default, and, when
    /// `--build-dir` sits among the charm's files, this build's staging folder (copying
    /// it into itself never ends) and an earlier packed charm.
    pub(super) fn not_charm(&self, charm_dir: &Path) -> Vec<PathBuf> {
        let holder = self
            .build_dir
            .strip_prefix(charm_dir)
            .ok()
            .and_then(|rel| rel.components().next())
            .map(|first| charm_dir.join(first));
        holder
            .into_iter()
            .chain([
                charm_dir.join("build"),
                self.staging.clone(),
                self.charm_file.clone(),
            ])
            .collect()
    }

    /// A failed build leaves no trace: its staging folder goes, and a parent it made.
    pub(super) fn abandon(&self) {
        let _ = std::fs::remove_dir_all(&self.staging);
        self.unmake_parent();
    }

    /// The staged build becomes the build folder.
    pub(super) fn swap_in(&self) -> Result<(), CharmError> {
        swap_into_place(&self.staging, &self.build_dir)
    }

    fn unmake_parent(&self) {
        if self.made_parent {
            let _ = std::fs::remove_dir(&self.parent);
        }
    }
}

/// `p` as an absolute path, so that it compares with the charm folder.
fn absolute(p: &Path) -> Result<PathBuf, CharmError> {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| format!("cannot find the current folder: {e}"))?
            .join(p)
    };
    // Resolve `..` and symlinks of the part that exists, so comparisons with the charm hold.
    let mut existing = abs.clone();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent.to_path_buf();
            }
            _ => break,
        }
    }
    let mut out = existing.canonicalize().unwrap_or(existing);
    out.extend(rest.iter().rev());
    Ok(out)
}

/// True for a folder `charm build` wrote (what Juju deploys): it holds `lucky/version`.
pub(crate) fn is_built(dir: &Path) -> bool {
    dir.join("lucky").join("version").is_file()
}

/// The build must never delete a folder that is not one of its own earlier outputs.
fn check_replaceable(build_dir: &Path) -> Result<(), CharmError> {
    let Ok(mut entries) = std::fs::read_dir(build_dir) else {
        if build_dir.symlink_metadata().is_ok() {
            return Err(format!(
                "refusing to replace {}: it is not a folder",
                build_dir.display()
            )
            .into());
        }
        return Ok(());
    };
    if entries.next().is_none() || is_built(build_dir) {
        return Ok(());
    }
    Err(format!(
        "refusing to replace {}: it is neither empty nor an earlier lucky charm build",
        build_dir.display()
    )
    .into())
}

/// Renames the complete build into place, the previous one aside until it is in.
fn swap_into_place(staging: &Path, build_dir: &Path) -> Result<(), CharmError> {
    let old = PathBuf::from(format!("{}.old", staging.display()));
    let had_old = build_dir.exists();
    if had_old {
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(build_dir, &old).map_err(|e| {
            format!(
                "cannot move the previous build {} aside: {e}",
                build_dir.display()
            )
        })?;
    }
    if let Err(e) = std::fs::rename(staging, build_dir) {
        if had_old {
            let _ = std::fs::rename(&old, build_dir);
        }
        let _ = std::fs::remove_dir_all(staging);
        return Err(format!("cannot move the build into {}: {e}", build_dir.display()).into());
    }
    if had_old {
        let _ = std::fs::remove_dir_all(&old);
    }
    Ok(())
}
