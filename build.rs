//! Records the version, target triple and commit for `lucky --version` (and the rustc and
//! build date for `--version --verbose`), and the release public key `lucky self-update`
//! trusts.
use std::process::Command;

// The crate's calendar, shared: it needs nothing but core arithmetic.
#[path = "src/calendar.rs"]
#[allow(dead_code)]
mod calendar;

fn main() {
    println!("cargo:rerun-if-env-changed=LUCKY_BUILD_COMMIT");
    // Tests build a second binary with another version to self-update to.
    println!("cargo:rerun-if-env-changed=LUCKY_VERSION_OVERRIDE");
    println!("cargo:rerun-if-env-changed=LUCKY_RELEASE_PUBKEY");
    println!("cargo:rerun-if-env-changed=LUCKY_DEFAULT_RELEASE_URL");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs/heads");
    // Linker scripts the release builds pass (release/build.sh, bench/run.sh): an edited
    // one must relink, which cargo would not notice on its own.
    println!("cargo:rerun-if-changed=release/hot-layout.ld");
    println!("cargo:rerun-if-changed=release/discard-unwind.ld");
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
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let rustc_version = Command::new(rustc)
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=LUCKY_BUILD_RUSTC={rustc_version}");
    // The build date is the source's (SOURCE_DATE_EPOCH, as release/build.sh sets it),
    // never the clock's: two builds of one commit must be the same bytes.
    let date = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .map(utc_date)
        .unwrap_or_else(|| "unknown (SOURCE_DATE_EPOCH not set)".into());
    println!("cargo:rustc-env=LUCKY_BUILD_DATE={date}");
    // The dependency list release/build.sh made (release/deps.py audit), for the binary's
    // `.dep-v0` section (src/release/mod.rs). Other builds carry none.
    println!("cargo:rustc-check-cfg=cfg(lucky_audit)");
    println!("cargo:rerun-if-env-changed=LUCKY_AUDIT_DATA");
    if let Ok(path) = std::env::var("LUCKY_AUDIT_DATA")
        && !path.is_empty()
    {
        println!("cargo:rerun-if-changed={path}");
        let out =
            std::path::Path::new(&std::env::var("OUT_DIR").expect("OUT_DIR")).join("dep-v0.bin");
        std::fs::copy(&path, out).expect("copy LUCKY_AUDIT_DATA");
        println!("cargo:rustc-cfg=lucky_audit");
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since the epoch, with the crate's one calendar.
fn utc_date(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (year, month, day) = calendar::civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}
