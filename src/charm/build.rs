//! `lucky charm build`: validate a charm and write the folder Juju deploys.
//!
//! The build folder is the charm copied as it is, plus what Juju needs to run it through
//! Lucky: `dispatch` (the one code path every hook and action takes), `hooks/<name>` and
//! `actions/<name>` for Jujus older than 2.8 (they source `dispatch`), `actions.yaml`
//! entries for lucky.yaml's actions, the `lucky-binary` resource in metadata.yaml, and
//! `lucky/` with the installer, the pinned version and optionally bundled binaries.
//! It is written beside its final place and renamed into it, so a failed build leaves the
//! previous one untouched.
//!
//! Both forms Juju deploys come out of one build: the folder (`juju deploy ./build/<name>`,
//! Juju 3.6) with `manifest.yaml` naming its bases, and `<name>.charm` beside it, the same
//! tree packed as charmcraft packs it (the only form Juju 4 deploys). A charm that uses
//! Docker also gets an `lxd-profile.yaml` (see `lxd_profile`) unless it ships one.

use super::error::CharmError;

use super::bases;
use super::lucky_yaml::{self, LuckyYaml};
use super::lxd_profile;
use super::metadata::{self, Metadata};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Hooks every machine charm gets.
pub const STANDARD_HOOKS: &[&str] = &[
    "install",
    "leader-elected",
    "leader-settings-changed",
    // Juju knows it but neither 3.6 nor 4.0 runs it yet; a script for it never runs.
    "leader-deposed",
    "config-changed",
    "start",
    "stop",
    "remove",
    "upgrade-charm",
    "update-status",
    "pre-series-upgrade",
    "post-series-upgrade",
    "secret-changed",
    "secret-expired",
    "secret-remove",
    "secret-rotate",
];
pub const RELATION_HOOK_SUFFIXES: &[&str] = &[
    "-relation-created",
    "-relation-joined",
    "-relation-changed",
    "-relation-departed",
    "-relation-broken",
];
pub const STORAGE_HOOK_SUFFIXES: &[&str] = &["-storage-attached", "-storage-detaching"];

/// The release targets `--bundle-lucky` knows, with the `uname -m` names they answer to.
pub const TARGETS: &[(&str, &[&str])] = &[
    ("x86_64-unknown-linux-musl", &["x86_64", "amd64"]),
    ("aarch64-unknown-linux-musl", &["aarch64", "arm64"]),
    ("powerpc64le-unknown-linux-musl", &["ppc64le", "ppc64el"]),
    ("s390x-unknown-linux-musl", &["s390x"]),
];

pub const LUCKY_RESOURCE: &str = "lucky-binary";

#[derive(Debug, Clone)]
pub struct BuildOptions {
    pub charm_dir: PathBuf,
    /// Default `<charm>/build/<name>`.
    pub build_dir: Option<PathBuf>,
    /// Rust target triples (or `uname -m` names, or `all`) whose binaries ship inside.
    pub bundle_targets: Vec<String>,
    /// Folder holding `lucky-<version>-<target>` files (a release folder).
    pub lucky_binaries: Option<PathBuf>,
    /// The version the installer installs.
    pub lucky_version: String,
    /// A development charm: built even when it could not install lucky on a unit by itself
    /// (no release key, an unsigned bundle), marked `lucky/dev`; it installs lucky only
    /// where `LUCKY_RELEASE_URL` and `LUCKY_RELEASE_PUBKEY` (or, for an unsigned bundle,
    /// `LUCKY_INSECURE_SKIP_SIGNATURE=1`) are set, as `lucky charm run` and the tests do.
    pub dev: bool,
    /// A lucky binary to bundle for this machine's target (`-l`, `--use-local-lucky`: the
    /// running one), as `lucky-<lucky_version>-<target>`: it must be static, since the
    /// bundle is named for the static (musl) build and containers mount it.
    pub local_lucky: Option<PathBuf>,
    /// The level the charm's daemon logs at unless LUCKY_LOG_LEVEL is set (`-L`):
    /// written to `lucky/log-level`, which `dispatch` reads.
    pub log_level: Option<String>,
}

/// The file in a built charm's `lucky/` naming the daemon's log level (`charm build -L`).
pub const LOG_LEVEL_FILE: &str = "log-level";

#[derive(Debug)]
pub struct BuildReport {
    pub build_dir: PathBuf,
    /// The packed charm, `<name>.charm` beside the build folder, and its size in bytes.
    pub charm_file: PathBuf,
    pub charm_size: u64,
    pub hooks: Vec<String>,
    pub actions: Vec<String>,
    pub bundled: Vec<String>,
    pub notes: Vec<String>,
}

pub fn build(opts: &BuildOptions) -> Result<BuildReport, CharmError> {
    let charm_dir = opts
        .charm_dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", opts.charm_dir.display()))?;
    if !charm_dir.is_dir() {
        return Err(format!("{}: not a folder", opts.charm_dir.display()).into());
    }
    let meta = metadata::load(&charm_dir)?;
    super::template::check_name(&meta.name).map_err(|e| format!("{}: {e}", meta.path.display()))?;
    let lucky = lucky_yaml::load_source(&charm_dir).map_err(|e| e.to_string())?;
    let has_metrics = charm_dir.join("metrics.yaml").is_file();
    check_hooks(&lucky, &meta, has_metrics)?;
    check_actions(&lucky)?;
    let actions_yaml = actions_yaml(&charm_dir, &lucky)?;
    let metadata_yaml = metadata_yaml(&meta)?;
    // The built charm's endpoints: the author's and Lucky's leader-data peer relation.
    let mut built_meta = meta.clone();
    built_meta
        .relations
        .entry(crate::juju::leader::PEER_ENDPOINT.to_string())
        .or_insert("peers");
    let bundle = bundle_plan(opts)?;
    let log_level = match &opts.log_level {
        None => None,
        Some(level) => match crate::unit::log_level(level) {
            Some(_) => Some(level.to_ascii_lowercase()),
            None => {
                return Err(format!(
                    "cannot build with --log-level {level:?}: not one of {}",
                    crate::unit::LOG_LEVELS
                )
                .into());
            }
        },
    };
    let (charm_bases, bases_origin) = bases::load(&charm_dir, &meta.series)?;
    let own_profile = charm_dir.join(lxd_profile::FILE);
    if own_profile.is_file() {
        let text = std::fs::read_to_string(&own_profile)
            .map_err(|e| CharmError::io("read", &own_profile, e))?;
        lxd_profile::check(&text, &own_profile)?;
    }

    let build_dir = match &opts.build_dir {
        Some(d) => absolute(d)?,
        None => charm_dir.join("build").join(&meta.name),
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
        .ok_or_else(|| format!("--build-dir {}: has no parent folder", build_dir.display()))?;
    // A refused build leaves no trace: a parent folder it made goes again.
    let made_parent = !parent.exists();
    std::fs::create_dir_all(parent).map_err(|e| CharmError::io("create", parent, e))?;
    let unmake_parent = || {
        if made_parent {
            let _ = std::fs::remove_dir(parent);
        }
    };
    if let Err(e) = check_replaceable(&build_dir) {
        unmake_parent();
        return Err(e);
    }
    let leaf = build_dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| meta.name.clone());
    let staging = parent.join(format!(".{leaf}.lucky-build-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);

    let charm_file = parent.join(format!("{}.charm", meta.name));
    let mut report = BuildReport {
        build_dir: build_dir.clone(),
        charm_file: charm_file.clone(),
        charm_size: 0,
        hooks: hook_names(&built_meta, has_metrics),
        actions: lucky.actions.keys().cloned().collect(),
        bundled: Vec::new(),
        notes: Vec::new(),
    };
    let result = (|| {
        // The folder that holds the build output is not part of the charm.
        let skip = build_dir
            .strip_prefix(&charm_dir)
            .ok()
            .and_then(|rel| rel.components().next())
            .map(|first| charm_dir.join(first));
        // Nor is `build/`, where builds (and `charm run`'s work dir) go by default, nor,
        // when `--build-dir` sits among the charm's files, this build's staging folder
        // (copying it into itself never ends) and an earlier packed charm.
        let skip: Vec<PathBuf> = skip
            .into_iter()
            .chain([charm_dir.join("build"), staging.clone(), charm_file.clone()])
            .collect();
        copy_tree(&charm_dir, &staging, &skip)?;
        make_scripts_executable(&staging, &lucky, &mut report.notes)?;
        for generated in ["dispatch", "hooks", "actions", "manifest.yaml"] {
            let path = staging.join(generated);
            if path.symlink_metadata().is_ok() {
                report.notes.push(format!(
                    "the charm's own {generated} was replaced by the generated one"
                ));
                remove_any(&path)?;
            }
        }
        write_generated(&staging, &report, &actions_yaml, &metadata_yaml, opts)?;
        write_deploy_files(
            &staging,
            &charm_bases,
            lucky.use_docker,
            own_profile.is_file(),
        )?;
        report
            .notes
            .extend(bases_note(&charm_bases, &bases_origin, &meta));
        report.bundled = write_bundle(&staging, &bundle, opts)?;
        if let Some(level) = &log_level {
            write_file(
                &staging.join("lucky").join(LOG_LEVEL_FILE),
                format!("{level}\n").as_bytes(),
                0o644,
            )?;
        }
        let identity = super::release_identity::write(
            &staging,
            &opts.lucky_version,
            &report.bundled,
            opts.dev,
        )?;
        report.notes.extend(identity);
        Ok::<(), CharmError>(())
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&staging);
        unmake_parent();
        return Err(e);
    }
    swap_into_place(&staging, &build_dir)?;
    report.charm_size = super::pack::pack(&build_dir, &charm_file)?;
    Ok(report)
}

/// What the build says about bases it chose itself.
fn bases_note(charm_bases: &[bases::Base], origin: &bases::Origin, meta: &Metadata) -> Vec<String> {
    let channels = charm_bases
        .iter()
        .map(|b| b.channel.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let archs = bases::ARCHITECTURES.join(", ");
    let mut notes = Vec::new();
    match origin {
        bases::Origin::Charmcraft => {
            if !meta.series.is_empty() {
                notes.push("metadata.yaml's `series` is left out of the built charm: Juju 4 refuses it, and charmcraft.yaml's bases say where it runs".into());
            }
        }
        bases::Origin::Series { dropped } => {
            notes.push(format!("metadata.yaml's `series` became the bases ubuntu {channels} on {archs}, and is left out of the built metadata.yaml (Juju 4 refuses it; a charmcraft.yaml with `bases:` says it the new way)"));
            if !dropped.is_empty() {
                notes.push(format!("series {} left out: Juju 3.6 and 4.0 do not deploy there", dropped.join(", ")));
            }
        }
        bases::Origin::Default => notes.push(format!("no charmcraft.yaml: the charm declares the bases ubuntu {channels} on {archs} (add a charmcraft.yaml with `bases:` to choose)")),
    }
    notes
}

/// `manifest.yaml` (the bases) and, for a charm that uses Docker and ships no profile of
/// its own, Lucky's `lxd-profile.yaml`.
fn write_deploy_files(
    staging: &Path,
    charm_bases: &[bases::Base],
    use_docker: bool,
    has_own_profile: bool,
) -> Result<(), CharmError> {
    write_file(
        &staging.join("manifest.yaml"),
        bases::manifest_yaml(charm_bases).as_bytes(),
        0o644,
    )?;
    if use_docker && !has_own_profile {
        write_file(
            &staging.join(lxd_profile::FILE),
            lxd_profile::DOCKER_PROFILE.as_bytes(),
            0o644,
        )?;
    }
    Ok(())
}

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

/// Every hook the built charm answers to.
pub fn hook_names(meta: &Metadata, has_metrics: bool) -> Vec<String> {
    let mut hooks: Vec<String> = STANDARD_HOOKS.iter().map(|s| s.to_string()).collect();
    if has_metrics {
        hooks.push("collect-metrics".into());
    }
    for endpoint in meta.relations.keys() {
        hooks.extend(
            RELATION_HOOK_SUFFIXES
                .iter()
                .map(|s| format!("{endpoint}{s}")),
        );
    }
    for storage in &meta.storage {
        hooks.extend(
            STORAGE_HOOK_SUFFIXES
                .iter()
                .map(|s| format!("{storage}{s}")),
        );
    }
    hooks
}

/// Each lucky.yaml hook must be one Juju fires for this charm.
fn check_hooks(lucky: &LuckyYaml, meta: &Metadata, has_metrics: bool) -> Result<(), CharmError> {
    let known = hook_names(meta, has_metrics);
    let mut problems: Vec<(u64, String)> = Vec::new();
    for name in lucky.hooks.keys() {
        if known.contains(name) {
            continue;
        }
        let line = lucky.hook_lines.get(name).copied().unwrap_or(0);
        problems.push((line, hook_problem(name, meta)));
    }
    problems.sort();
    match problems.into_iter().next() {
        None => Ok(()),
        Some((line, message)) => Err(format!("{}:{line}: {message}", lucky.path.display()).into()),
    }
}

fn hook_problem(name: &str, meta: &Metadata) -> String {
    let list = |items: Vec<&String>| {
        if items.is_empty() {
            "it declares none".to_string()
        } else {
            format!(
                "it declares {}",
                items
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    let metadata = meta.path.display();
    if let Some(endpoint) = RELATION_HOOK_SUFFIXES
        .iter()
        .find_map(|s| name.strip_suffix(s))
    {
        return format!(
            "hook \"{name}\": {metadata} has no relation \"{endpoint}\" under provides, requires or peers ({})",
            list(meta.relations.keys().collect())
        );
    }
    if let Some(storage) = STORAGE_HOOK_SUFFIXES
        .iter()
        .find_map(|s| name.strip_suffix(s))
    {
        return format!(
            "hook \"{name}\": {metadata} has no storage \"{storage}\" ({})",
            list(meta.storage.iter().collect())
        );
    }
    if name == "collect-metrics" {
        return "hook \"collect-metrics\": Juju fires it only for charms with a metrics.yaml, and this one has none".into();
    }
    format!(
        "hook \"{name}\" is not a Juju hook (standard hooks: {}; relation and storage hooks follow metadata.yaml; actions go under `actions:`)",
        STANDARD_HOOKS.join(", ")
    )
}

/// Juju's rule for action names: lowercase letters and hyphens, starting and ending with a
/// letter.
fn check_actions(lucky: &LuckyYaml) -> Result<(), CharmError> {
    for name in lucky.actions.keys() {
        let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
            && name.ends_with(|c: char| c.is_ascii_lowercase())
            && name.chars().all(|c| c.is_ascii_lowercase() || c == '-');
        if !ok {
            let line = lucky.action_lines.get(name).copied().unwrap_or(0);
            return Err(format!(
                "{}:{line}: action \"{name}\": Juju action names are lowercase letters and hyphens, starting and ending with a letter",
                lucky.path.display()
            ).into());
        }
    }
    Ok(())
}

/// The built charm's actions.yaml text: the charm's own, plus a bare entry for each
/// lucky.yaml action it does not describe. `None` when there are no actions at all.
fn actions_yaml(charm_dir: &Path, lucky: &LuckyYaml) -> Result<Option<String>, CharmError> {
    let path = charm_dir.join("actions.yaml");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("{}: cannot read: {e}", path.display()).into()),
    };
    let declared = metadata::action_names(&text, &path)?;
    if let Some(orphan) = declared.iter().find(|a| !lucky.actions.contains_key(*a)) {
        let line = metadata::top_level_key_line(&text, orphan).unwrap_or(1);
        return Err(format!(
            "{}:{line}: action \"{orphan}\" has no scripts: list them under `actions:` in {}",
            path.display(),
            lucky.path.display()
        )
        .into());
    }
    let missing: Vec<&String> = lucky
        .actions
        .keys()
        .filter(|a| !declared.contains(a))
        .collect();
    if missing.is_empty() {
        return Ok((!text.trim().is_empty()).then_some(text));
    }
    let mut out = if declared.is_empty() {
        "# Generated by `lucky charm build` for the actions in lucky.yaml.\n".to_string()
    } else {
        let mut t = text.clone();
        if !t.ends_with('\n') {
            t.push('\n');
        }
        t
    };
    for name in &missing {
        out.push_str(&format!(
            "{name}:\n  description: Runs the scripts of lucky.yaml's action \"{name}\"\n"
        ));
    }
    // Appending only works for a block-style file: make sure the result says what we mean.
    let now = metadata::action_names(&out, &path)
        .map_err(|_| cannot_append(&path, "actions", &missing))?;
    if missing.iter().any(|m| !now.contains(m)) {
        return Err(cannot_append(&path, "actions", &missing).into());
    }
    Ok(Some(out))
}

fn cannot_append(path: &Path, what: &str, names: &[&String]) -> String {
    format!(
        "{}: cannot add {what} {} to this file (is it written in flow style?): add them yourself",
        path.display(),
        names
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// metadata.yaml with the `lucky-binary` resource declared, as text (comments kept).
fn metadata_yaml(meta: &Metadata) -> Result<String, CharmError> {
    let mut text =
        std::fs::read_to_string(&meta.path).map_err(|e| CharmError::io("read", &meta.path, e))?;
    if !meta.series.is_empty() {
        // Juju 4 refuses `series`, and Juju 3.6 a charm with both it and a manifest's bases.
        text = metadata::without_top_level_key(&text, "series");
        if metadata::parse(&text, &meta.path).is_ok_and(|m| !m.series.is_empty()) {
            return Err(format!(
                "{}: cannot leave `series` out of the built charm (is it written in flow style?): replace it with `bases:` in a charmcraft.yaml",
                meta.path.display()
            ).into());
        }
    }
    let text = with_leader_peer(text, meta)?;
    if meta.resources.iter().any(|r| r == LUCKY_RESOURCE) {
        return Ok(text);
    }
    let lines: Vec<&str> = text.lines().collect();
    let entry = |indent: &str| {
        format!(
            "{indent}{LUCKY_RESOURCE}:\n{indent}  type: file\n{indent}  filename: lucky\n{indent}  description: A static lucky binary for the unit's architecture (optional when bundled or downloadable)\n"
        )
    };
    let out = match lines
        .iter()
        .position(|l| metadata::is_top_level_key(l, "resources"))
    {
        Some(i) => {
            // Entries must line up with the ones already there.
            let indent: String = lines[i + 1..]
                .iter()
                .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                .filter(|l| l.starts_with(' '))
                .map(|l| l.chars().take_while(|c| *c == ' ').collect())
                .unwrap_or_else(|| "  ".into());
            let mut out = String::new();
            for l in &lines[..=i] {
                out.push_str(l);
                out.push('\n');
            }
            out.push_str(&entry(&indent));
            for l in &lines[i + 1..] {
                out.push_str(l);
                out.push('\n');
            }
            out
        }
        None => {
            let mut out = text.clone();
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str("resources:\n");
            out.push_str(&entry("  "));
            out
        }
    };
    let check = metadata::parse(&out, &meta.path);
    match check {
        Ok(m) if m.resources.iter().any(|r| r == LUCKY_RESOURCE) => Ok(out),
        _ => Err(cannot_append(&meta.path, "resource", &[&LUCKY_RESOURCE.to_string()]).into()),
    }
}

/// `text` with `entry(indent)` added under the top-level `section` (created at the end
/// when absent), lined up with the entries already there.
fn add_under(text: &str, section: &str, entry: impl Fn(&str) -> String) -> String {
    let lines: Vec<&str> = text.lines().collect();
    match lines
        .iter()
        .position(|l| metadata::is_top_level_key(l, section))
    {
        Some(i) => {
            let indent: String = lines[i + 1..]
                .iter()
                .find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
                .filter(|l| l.starts_with(' '))
                .map(|l| l.chars().take_while(|c| *c == ' ').collect())
                .unwrap_or_else(|| "  ".into());
            let mut out = String::new();
            for l in &lines[..=i] {
                out.push_str(l);
                out.push('\n');
            }
            out.push_str(&entry(&indent));
            for l in &lines[i + 1..] {
                out.push_str(l);
                out.push('\n');
            }
            out
        }
        None => {
            let mut out = text.to_string();
            if !out.ends_with('\n') {
                out.push('\n');
            }
            out.push_str(section);
            out.push_str(":\n");
            out.push_str(&entry("  "));
            out
        }
    }
}

/// metadata.yaml with the peer relation that holds leader data on Juju 4
/// (`juju::leader::PEER_ENDPOINT`), unless the author declares it already.
fn with_leader_peer(text: String, meta: &Metadata) -> Result<String, CharmError> {
    use crate::juju::leader::{PEER_ENDPOINT, PEER_INTERFACE};
    match meta.relations.get(PEER_ENDPOINT) {
        Some(&"peers") => return Ok(text),
        Some(section) => {
            return Err(format!(
                "{}: relation \"{PEER_ENDPOINT}\" is declared under {section}: Lucky keeps leader data in a peer relation of that name on Juju 4; rename yours",
                meta.path.display()
            )
            .into());
        }
        None => {}
    }
    let out = add_under(&text, "peers", |indent| {
        format!("{indent}{PEER_ENDPOINT}:\n{indent}  interface: {PEER_INTERFACE}\n")
    });
    match metadata::parse(&out, &meta.path) {
        Ok(m) if m.relations.get(PEER_ENDPOINT) == Some(&"peers") => Ok(out),
        _ => Err(cannot_append(&meta.path, "peer relation", &[&PEER_ENDPOINT.to_string()]).into()),
    }
}

/// What `--bundle-lucky` will copy: (file name, source path).
struct Bundle {
    files: Vec<(String, PathBuf)>,
    sums: Option<PathBuf>,
}

fn bundle_plan(opts: &BuildOptions) -> Result<Bundle, CharmError> {
    if let Some(exe) = &opts.local_lucky {
        if !opts.bundle_targets.is_empty() || opts.lucky_binaries.is_some() {
            return Err(
                "cannot bundle both this lucky (--use-local-lucky) and --bundle-lucky: pick one"
                    .to_string()
                    .into(),
            );
        }
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
        let name = format!("lucky-{}-{target}", opts.lucky_version);
        return Ok(Bundle {
            files: vec![(name, exe.clone())],
            sums: None,
        });
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
    let mut targets: Vec<&str> = Vec::new();
    for wanted in &opts.bundle_targets {
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
    let mut files = Vec::new();
    for target in targets {
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

/// Copies the bundled binaries into `lucky/` with their checksums. A release folder's own
/// SHA256SUMS (and signature) is kept as it is, after checking the binaries against it;
/// otherwise one is written.
fn write_bundle(
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

/// True for a folder `charm build` wrote (what Juju deploys): it holds `lucky/version`.
pub fn is_built(dir: &Path) -> bool {
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

fn copy_tree(from: &Path, to: &Path, skip: &[PathBuf]) -> Result<(), CharmError> {
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
fn make_scripts_executable(
    staging: &Path,
    lucky: &LuckyYaml,
    notes: &mut Vec<String>,
) -> Result<(), CharmError> {
    use std::os::unix::fs::PermissionsExt;
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

fn remove_any(path: &Path) -> Result<(), CharmError> {
    let r = if path.is_dir() && !path.is_symlink() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    r.map_err(|e| CharmError::io("remove", path, e))
}

fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), CharmError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| CharmError::io("create", parent, e))?;
    }
    std::fs::write(path, contents).map_err(|e| CharmError::io("write", path, e))?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| CharmError::io("chmod", path, e))
}

fn write_generated(
    staging: &Path,
    report: &BuildReport,
    actions_yaml: &Option<String>,
    metadata_yaml: &str,
    opts: &BuildOptions,
) -> Result<(), CharmError> {
    write_file(&staging.join("dispatch"), DISPATCH.as_bytes(), 0o755)?;
    for hook in &report.hooks {
        write_file(&staging.join("hooks").join(hook), HOOK.as_bytes(), 0o755)?;
    }
    for action in &report.actions {
        write_file(
            &staging.join("actions").join(action),
            HOOK.as_bytes(),
            0o755,
        )?;
    }
    if let Some(text) = actions_yaml {
        write_file(&staging.join("actions.yaml"), text.as_bytes(), 0o644)?;
    }
    write_file(
        &staging.join("metadata.yaml"),
        metadata_yaml.as_bytes(),
        0o644,
    )?;
    let lucky = staging.join("lucky");
    write_file(
        &lucky.join("install.sh"),
        installer_script().as_bytes(),
        0o755,
    )?;
    write_file(
        &lucky.join("version"),
        format!("{}\n", opts.lucky_version).as_bytes(),
        0o644,
    )?;
    Ok(())
}

/// The one code path of every hook and action.
pub const DISPATCH: &str = r#"#!/bin/sh
# Generated by `lucky charm build`; edits are lost on the next build.
#
# Juju 2.8 and later run this file for every hook and action, with JUJU_DISPATCH_PATH set
# to hooks/<name> or actions/<name>. Older Jujus run hooks/<name> or actions/<name>, which
# source this file, so there $0 names the hook.
set -eu

dispatch_path="${JUJU_DISPATCH_PATH:-$0}"
name="${dispatch_path##*/}"
kind="${dispatch_path%/*}"
kind="${kind##*/}"
if [ "$name" = dispatch ]; then
    echo "dispatch: JUJU_DISPATCH_PATH is not set (Juju sets it to hooks/<name> or actions/<name>)" >&2
    exit 2
fi

charm_dir="${JUJU_CHARM_DIR:-${CHARM_DIR:-}}"
if [ -z "$charm_dir" ]; then
    charm_dir="$(cd "$(dirname "$0")" && pwd)"
    case "$charm_dir" in
        */hooks | */actions) charm_dir="${charm_dir%/*}" ;;
    esac
fi
CHARM_DIR="$charm_dir"
export CHARM_DIR

# The level the daemon logs at, as the charm was built with it (`lucky charm build -L`),
# unless the environment sets LUCKY_LOG_LEVEL: Juju hooks cannot set variables, so the
# charm carries it. The installer passes it on to the daemon it starts.
if [ -z "${LUCKY_LOG_LEVEL:-}" ] && [ -f "$charm_dir/lucky/log-level" ]; then
    IFS= read -r LUCKY_LOG_LEVEL <"$charm_dir/lucky/log-level" || true
    export LUCKY_LOG_LEVEL
fi

installed="${LUCKY_INSTALL_DIR:-/usr/local/bin}/lucky"
if [ "$kind" = hooks ] && { [ "$name" = install ] || [ "$name" = upgrade-charm ] || [ ! -x "$installed" ]; }; then
    # Install lucky (bundled in lucky/, a Juju resource or a download; always verified)
    # and start its daemon before the first `lucky hook`: Juju runs the hooks of storage
    # attached at deploy before install. After `juju refresh` the charm may carry another
    # lucky: the installer puts it in place and restarts the daemon on it (state is on
    # disk, containers keep running) before upgrade-charm's scripts.
    sh "$charm_dir/lucky/install.sh"
fi
if [ "$kind" = hooks ] && [ "$name" = remove ]; then
    # The unit's last hook: its scripts, then Lucky takes away everything of the unit.
    lucky hook remove
    exec sh "$charm_dir/lucky/install.sh" --remove
fi

# Actions take the same path: the daemon sees JUJU_ACTION_NAME and runs the action's
# scripts from lucky.yaml.
exec lucky hook "$name"
"#;

/// `hooks/<name>` and `actions/<name>`, for Jujus without dispatch support.
pub const HOOK: &str = r#"#!/bin/sh
# Generated by `lucky charm build`: Jujus older than 2.8 run this file. Sourcing dispatch
# keeps $0, which tells dispatch the hook's (or action's) name.
# shellcheck source=/dev/null
. "$(dirname "$0")/../dispatch"
"#;

/// The installer the install hook runs, copied to `lucky/install.sh`.
pub fn installer_script() -> &'static str {
    include_str!("../../installer/install.sh")
}
