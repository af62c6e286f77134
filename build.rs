//! Records the version, target triple and commit for `lucky --version`, and the release
//! public key `lucky self-update` trusts.
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=LUCKY_BUILD_COMMIT");
    // Tests build a second binary with another version to self-update to.
    println!("cargo:rerun-if-env-changed=LUCKY_VERSION_OVERRIDE");
    println!("cargo:rerun-if-env-changed=LUCKY_RELEASE_PUBKEY");
    println!("cargo:rerun-if-env-changed=LUCKY_DEFAULT_RELEASE_URL");
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
    let version = std::env::var("LUCKY_VERSION_OVERRIDE")
        .ok()
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| std::env::var("CARGO_PKG_VERSION").unwrap_or_default());
    println!("cargo:rustc-env=LUCKY_BUILD_VERSION={version}");
    println!("cargo:rustc-env=LUCKY_BUILD_TARGET={target}");
    // The key `lucky self-update` trusts (read with option_env! in src/update/verify.rs):
    // LUCKY_RELEASE_PUBKEY is the PEM text, a file holding it (as the installer takes it),
    // or the key in base64; passed on as one base64 line (rustc-env cannot hold newlines).
    if let Ok(key) = std::env::var("LUCKY_RELEASE_PUBKEY")
        && !key.trim().is_empty()
    {
        let text = if std::path::Path::new(key.trim()).is_file() {
            println!("cargo:rerun-if-changed={}", key.trim());
            std::fs::read_to_string(key.trim()).expect("read LUCKY_RELEASE_PUBKEY file")
        } else {
            key
        };
        let line: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with("-----"))
            .flat_map(|l| l.split_whitespace())
            .collect();
        println!("cargo:rustc-env=LUCKY_BUILD_RELEASE_PUBKEY={line}");
    }
    println!("cargo:rustc-env=LUCKY_BUILD_COMMIT={commit}");
}
