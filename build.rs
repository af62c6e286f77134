//! Records the target triple and commit for `lucky --version`.
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=LUCKY_BUILD_COMMIT");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    let commit = std::env::var("LUCKY_BUILD_COMMIT")
        .ok()
        .filter(|c| !c.is_empty())
        .or_else(|| {
            let out = Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=LUCKY_BUILD_TARGET={target}");
    println!("cargo:rustc-env=LUCKY_BUILD_COMMIT={commit}");
}
