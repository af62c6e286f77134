//! `--bundle-lucky` and `--use-local-lucky`: which lucky binaries ship inside the charm,
//! and copying them into `lucky/` with checksums a unit can verify.

use super::BuildOptions;
use super::tree::write_file;
use crate::charm::error::CharmError;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The release targets `--bundle-lucky` knows, with the `uname -m` names they answer to.
pub const TARGETS: &[(&str, &[&str])] = &[
    ("x86_64-unknown-linux-musl", &["x86_64", "amd64"]),
    ("aarch64-unknown-linux-musl", &["aarch64", "arm64"]),
    ("powerpc64le-unknown-linux-musl", &["ppc64le", "ppc64el"]),
    ("s390x-unknown-linux-musl", &["s390x"]),
];

/// What `--bundle-lucky` will copy: (file name, source path).
pub(super) struct Bundle {
    files: Vec<(String, PathBuf)>,
    sums: Option<PathBuf>,
}

/// What the options ask to bundle: this lucky, binaries of a release folder, or nothing.
pub(super) fn bundle_plan(opts: &BuildOptions) -> Result<Bundle, CharmError> {
    if let Some(exe) = &opts.local_lucky {
        if !opts.bundle_targets.is_empty() || opts.lucky_binaries.is_some() {
            return Err(
                "cannot bundle both this lucky (--use-local-lucky) and --bundle-lucky: pick one"
                    .to_string()
                    .into(),
            );
        }
        return local_bundle(exe, &opts.lucky_version);
    }
    if opts.bundle_targets.is_empty() {
        return Ok(Bundle {
            files: Vec::new(),
            sums: None,
        });
    }
    let dir = opts
        .lucky_binaries
        .as_ref()
        .ok_or_else(|| {
            CharmError::Invalid("--bundle-lucky needs --lucky-binaries <dir>: the folder holding lucky-<version>-<target> files".into())
        })?;
    let mut files = Vec::new();
    for target in bundle_targets(&opts.bundle_targets)? {
        let name = format!("lucky-{}-{target}", opts.lucky_version);
        let path = dir.join(&name);
        if !path.is_file() {
            return Err(format!(
                "--lucky-binaries {}: no {name} to bundle for target {target}",
                dir.display()
            )
            .into());
        }
        files.push((name, path));
    }
    let sums = Some(dir.join("SHA256SUMS")).filter(|p| p.is_file());
    Ok(Bundle { files, sums })
}

/// `--use-local-lucky`: the running lucky, named for this machine's static target, which
/// it must be built for.
fn local_bundle(exe: &Path, version: &str) -> Result<Bundle, CharmError> {
    let target = crate::elf::host_static_target();
    match crate::elf::linkage(exe) {
        Ok(crate::elf::Linkage::Static) => {}
        Ok(crate::elf::Linkage::Dynamic) => {
            return Err(format!(
                "cannot bundle {} (--use-local-lucky): it is dynamically linked and a unit needs a static lucky: build one with `cargo build --release --target {target}` and run target/{target}/release/lucky",
                exe.display()
            )
            .into());
        }
        Err(e) => {
            return Err(format!("cannot bundle this lucky (--use-local-lucky): {e}").into());
        }
    }
    let name = format!("lucky-{version}-{target}");
    Ok(Bundle {
        files: vec![(name, exe.to_path_buf())],
        sums: None,
    })
}

/// The release targets `--bundle-lucky` names (triples, `uname -m` names or `all`),
/// sorted, each once.
fn bundle_targets(wanted_targets: &[String]) -> Result<Vec<&'static str>, CharmError> {
    let mut targets: Vec<&'static str> = Vec::new();
    for wanted in wanted_targets {
        let wanted = wanted.trim();
        if wanted == "all" {
            targets.extend(TARGETS.iter().map(|(t, _)| *t));
            continue;
        }
        let target = TARGETS
            .iter()
            .find(|(t, aliases)| *t == wanted || aliases.contains(&wanted))
            .map(|(t, _)| *t)
            .ok_or_else(|| {
                format!(
                    "--bundle-lucky: unknown target \"{wanted}\" (known: {}, or all)",
                    TARGETS
                        .iter()
                        .map(|(t, _)| *t)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            })?;
        targets.push(target);
    }
    targets.sort();
    targets.dedup();
    Ok(targets)
}

/// Copies the bundled binaries into `lucky/` with their checksums. A release folder's own
/// SHA256SUMS (and signature) is kept as it is, after checking the binaries against it;
/// otherwise one is written.
pub(super) fn write_bundle(
    staging: &Path,
    bundle: &Bundle,
    opts: &BuildOptions,
) -> Result<Vec<String>, CharmError> {
    if bundle.files.is_empty() {
        return Ok(Vec::new());
    }
    let out_dir = staging.join("lucky");
    let mut lines = String::new();
    let mut hashes = BTreeMap::new();
    for (name, src) in &bundle.files {
        let bytes = std::fs::read(src).map_err(|e| CharmError::io("read", src, e))?;
        let hex: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        let dest = out_dir.join(name);
        write_file(&dest, &bytes, 0o755)?;
        lines.push_str(&format!("{hex}  {name}\n"));
        hashes.insert(name.clone(), hex);
    }
    match &bundle.sums {
        Some(sums) => {
            let text =
                std::fs::read_to_string(sums).map_err(|e| CharmError::io("read", sums, e))?;
            let listed: BTreeMap<&str, &str> = text
                .lines()
                .filter_map(|l| {
                    let (hash, name) = l.split_once(char::is_whitespace)?;
                    Some((name.trim().trim_start_matches('*'), hash))
                })
                .collect();
            for (name, hex) in &hashes {
                match listed.get(name.as_str()) {
                    Some(h) if h.eq_ignore_ascii_case(hex) => {}
                    Some(_) => {
                        return Err(format!(
                            "{}: the checksum of {name} does not match the file in {}",
                            sums.display(),
                            opts.lucky_binaries
                                .as_deref()
                                .unwrap_or(Path::new("."))
                                .display()
                        )
                        .into());
                    }
                    None => {
                        return Err(format!("{}: has no line for {name}", sums.display()).into());
                    }
                }
            }
            for extra in ["SHA256SUMS", "SHA256SUMS.sig", "release.pub"] {
                let src = sums.with_file_name(extra);
                if src.is_file() {
                    let bytes = std::fs::read(&src).map_err(|e| CharmError::io("read", &src, e))?;
                    write_file(&out_dir.join(extra), &bytes, 0o644)?;
                }
            }
        }
        None => write_file(&out_dir.join("SHA256SUMS"), lines.as_bytes(), 0o644)?,
    }
    Ok(hashes.into_keys().collect())
}
