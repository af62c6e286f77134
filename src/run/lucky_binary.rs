//! The lucky the unit gets: installed by the charm's installer, run by its hooks, and
//! mounted into its containers, where only a static binary runs (no loader, no libc in a
//! minimal image). This binary when it is static, else the one `--lucky-binary` names.
//!
//! No fallback builds one from source: that compiled the checkout's path into every
//! binary (see release/README.md on reproducible builds). Whoever runs from source builds
//! the static binary first, as `examples/run.sh` and the tests do.

use super::error::RunError;

use crate::elf::{self, Linkage};
use std::path::{Path, PathBuf};

/// The lucky for the unit: `given`, or this binary; static when the charm uses Docker.
pub(super) fn choose(given: Option<&Path>, uses_docker: bool) -> Result<PathBuf, RunError> {
    let target = elf::host_static_target();
    if let Some(bin) = given {
        let bin = bin
            .canonicalize()
            .map_err(|e| format!("--lucky-binary {}: {e}", bin.display()))?;
        if uses_docker {
            match elf::linkage(&bin) {
                Ok(Linkage::Static) => {}
                Ok(Linkage::Dynamic) => {
                    return Err(format!(
                        "--lucky-binary {}: not a static binary; containers need one (a release's lucky-<version>-{target}, or `cargo build --release --target {target}`)",
                        bin.display()
                    ).into());
                }
                Err(e) => return Err(format!("--lucky-binary: {e}").into()),
            }
        }
        return Ok(bin);
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find lucky's own path: {e}"))?;
    if !uses_docker || elf::is_static(&exe) {
        return Ok(exe);
    }
    Err(format!(
        "{} is dynamically linked and the charm's containers need a static lucky: pass --lucky-binary FILE (a release's lucky-<version>-{target}), or build one with `cargo build --release --target {target}` and run target/{target}/release/lucky",
        exe.display()
    ).into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamic_lucky_binary_is_refused_with_what_to_build() {
        // /bin/sh is dynamically linked on every machine the tests run on.
        let err = choose(Some(Path::new("/bin/sh")), true)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("--lucky-binary /")
                && err.contains("not a static binary")
                && err.contains(&format!(
                    "cargo build --release --target {}",
                    elf::host_static_target()
                ))
                && !err.contains('\n'),
            "{err}"
        );
        // Without containers any lucky will do.
        assert!(choose(Some(Path::new("/bin/sh")), false).is_ok());
        let missing = choose(Some(Path::new("/nonexistent/lucky")), true)
            .unwrap_err()
            .to_string();
        assert!(
            missing.starts_with("--lucky-binary /nonexistent/lucky:"),
            "{missing}"
        );
    }

    #[test]
    fn this_test_binary_is_dynamic_so_containers_need_the_flag() {
        // `cargo test` builds for the host's default (glibc) target.
        if elf::is_static(&std::env::current_exe().expect("exe")) {
            return;
        }
        let err = choose(None, true).unwrap_err().to_string();
        assert!(
            err.contains("is dynamically linked") && err.contains("--lucky-binary"),
            "{err}"
        );
    }
}
