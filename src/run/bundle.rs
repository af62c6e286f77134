//! `charm build` into the work dir with the unit's static lucky bundled, so that the
//! charm's real installer installs it in the install hook, as on a machine without
//! internet.

use super::error::RunError;

use super::Runner;
use crate::charm::build::{self, BuildOptions};
use std::path::Path;

impl Runner {
    pub(super) fn build(&self, charm_dir: &Path) -> Result<(), RunError> {
        let version = env!("CARGO_PKG_VERSION");
        let target = crate::elf::host_static_target();
        let release = &self.paths.release;
        std::fs::create_dir_all(release).map_err(|e| RunError::io("create", release, e))?;
        let bundled = release.join(format!("lucky-{version}-{target}"));
        let _ = std::fs::remove_file(&bundled);
        if std::fs::hard_link(&self.lucky, &bundled).is_err() {
            std::fs::copy(&self.lucky, &bundled)
                .map_err(|e| RunError::io("copy", &self.lucky, e))?;
        }
        let report = build::build(&BuildOptions {
            charm_dir: charm_dir.to_path_buf(),
            build_dir: Some(self.paths.charm.clone()),
            bundle_targets: vec![target],
            lucky_binaries: Some(release.clone()),
            lucky_version: version.into(),
            // The bundle is this lucky, unsigned: the simulator's hooks have
            // LUCKY_INSECURE_SKIP_SIGNATURE=1 (see life.rs).
            dev: true,
            local_lucky: None,
            log_level: None,
        })?;
        println!(
            "Built {} ({} hooks, {} actions) in {}",
            charm_dir.display(),
            report.hooks.len(),
            report.actions.len(),
            report.build_dir.display()
        );
        Ok(())
    }
}
