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
//!
//! One concern per file: `hooks` (which hooks and actions, checked against lucky.yaml),
//! `built_yaml` (the built actions.yaml and metadata.yaml), `bundle` (lucky binaries
//! shipped inside), `place` (where the build goes, swapped in whole), `tree` (the copy of
//! the charm's files) and `generated` (dispatch, hooks, the installer, deploy files).

mod built_yaml;
mod bundle;
mod generated;
mod hooks;
mod place;
mod tree;

pub use bundle::TARGETS;
pub(crate) use place::is_built;

use super::bases;
use super::error::CharmError;
use super::lucky_yaml::{self, LuckyYaml};
use super::lxd_profile;
use super::metadata::{self, Metadata};
use bundle::Bundle;
use hooks::hook_names;
use place::Place;
use std::path::PathBuf;

#[derive(Debug, Clone)]
pub(crate) struct BuildOptions {
    pub(crate) charm_dir: PathBuf,
    /// Default `<charm>/build/<name>`.
    pub(crate) build_dir: Option<PathBuf>,
    /// Rust target triples (or `uname -m` names, or `all`) whose binaries ship inside.
    pub(crate) bundle_targets: Vec<String>,
    /// Folder holding `lucky-<version>-<target>` files (a release folder).
    pub(crate) lucky_binaries: Option<PathBuf>,
    /// The version the installer installs.
    pub(crate) lucky_version: String,
    /// A development charm: built even when it could not install lucky on a unit by itself
    /// (no release key, an unsigned bundle), marked `lucky/dev`; it installs lucky only
    /// where `LUCKY_RELEASE_URL` and `LUCKY_RELEASE_PUBKEY` (or, for an unsigned bundle,
    /// `LUCKY_INSECURE_SKIP_SIGNATURE=1`) are set, as `lucky charm run` and the tests do.
    pub(crate) dev: bool,
    /// A lucky binary to bundle for this machine's target (`-l`, `--use-local-lucky`: the
    /// running one), as `lucky-<lucky_version>-<target>`: it must be static, since the
    /// bundle is named for the static (musl) build and containers mount it.
    pub(crate) local_lucky: Option<PathBuf>,
    /// The level the charm's daemon logs at unless LUCKY_LOG_LEVEL is set (`-L`):
    /// written to `lucky/log-level`, which `dispatch` reads.
    pub(crate) log_level: Option<String>,
}

/// The file in a built charm's `lucky/` naming the daemon's log level (`charm build -L`).
pub(crate) const LOG_LEVEL_FILE: &str = "log-level";

#[derive(Debug)]
pub(crate) struct BuildReport {
    pub(crate) build_dir: PathBuf,
    /// The packed charm, `<name>.charm` beside the build folder, and its size in bytes.
    pub(crate) charm_file: PathBuf,
    pub(crate) charm_size: u64,
    pub(crate) hooks: Vec<String>,
    pub(crate) actions: Vec<String>,
    pub(crate) bundled: Vec<String>,
    pub(crate) notes: Vec<String>,
}

/// Builds the charm `opts` names: checks everything first, writes the build beside its
/// place, swaps it in whole, then packs `<name>.charm`.
pub(crate) fn build(opts: &BuildOptions) -> Result<BuildReport, CharmError> {
    let checked = check(opts)?;
    let place = Place::prepare(
        opts.build_dir.as_deref(),
        &checked.charm_dir,
        &checked.meta.name,
    )?;
    let mut report = BuildReport {
        build_dir: place.build_dir.clone(),
        charm_file: place.charm_file.clone(),
        charm_size: 0,
        hooks: hook_names(&checked.built_meta, checked.has_metrics),
        actions: checked.lucky.actions.keys().cloned().collect(),
        bundled: Vec::new(),
        notes: Vec::new(),
    };
    if let Err(e) = stage(&checked, &place, opts, &mut report) {
        place.abandon();
        return Err(e);
    }
    place.swap_in()?;
    report.charm_size = super::pack::pack(&place.build_dir, &place.charm_file)?;
    Ok(report)
}

/// The charm as it will be built, every check passed before anything is written.
struct Checked {
    charm_dir: PathBuf,
    meta: Metadata,
    lucky: LuckyYaml,
    has_metrics: bool,
    actions_yaml: Option<String>,
    metadata_yaml: String,
    /// The built charm's endpoints: the author's and Lucky's leader-data peer relation.
    built_meta: Metadata,
    bundle: Bundle,
    log_level: Option<String>,
    charm_bases: Vec<bases::Base>,
    bases_origin: bases::Origin,
    has_own_profile: bool,
}

/// Reads and checks the charm (metadata.yaml, lucky.yaml, actions, bases, its own LXD
/// profile) and the options (bundle, log level).
fn check(opts: &BuildOptions) -> Result<Checked, CharmError> {
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
    hooks::check_hooks(&lucky, &meta, has_metrics)?;
    hooks::check_actions(&lucky)?;
    let actions_yaml = built_yaml::actions_yaml(&charm_dir, &lucky)?;
    let metadata_yaml = built_yaml::metadata_yaml(&meta)?;
    let mut built_meta = meta.clone();
    built_meta
        .relations
        .entry(crate::juju::leader::PEER_ENDPOINT.to_string())
        .or_insert("peers");
    let bundle = bundle::bundle_plan(opts)?;
    let log_level = log_level(opts)?;
    let (charm_bases, bases_origin) = bases::load(&charm_dir, &meta.series)?;
    let own_profile = charm_dir.join(lxd_profile::FILE);
    let has_own_profile = own_profile.is_file();
    if has_own_profile {
        let text = std::fs::read_to_string(&own_profile)
            .map_err(|e| CharmError::io("read", &own_profile, e))?;
        lxd_profile::check(&text, &own_profile)?;
    }
    Ok(Checked {
        charm_dir,
        meta,
        lucky,
        has_metrics,
        actions_yaml,
        metadata_yaml,
        built_meta,
        bundle,
        log_level,
        charm_bases,
        bases_origin,
        has_own_profile,
    })
}

/// `-L`: one of the levels the daemon knows, lowercased.
fn log_level(opts: &BuildOptions) -> Result<Option<String>, CharmError> {
    let Some(level) = &opts.log_level else {
        return Ok(None);
    };
    match crate::unit::log_level(level) {
        Some(_) => Ok(Some(level.to_ascii_lowercase())),
        None => Err(format!(
            "cannot build with --log-level {level:?}: not one of {}",
            crate::unit::LOG_LEVELS
        )
        .into()),
    }
}

/// Writes the whole built charm into the staging folder: the charm's files, then what
/// the build generates, the bundled binaries and the release identity.
fn stage(
    c: &Checked,
    place: &Place,
    opts: &BuildOptions,
    report: &mut BuildReport,
) -> Result<(), CharmError> {
    let staging = &place.staging;
    tree::copy_tree(&c.charm_dir, staging, &place.not_charm(&c.charm_dir))?;
    tree::make_scripts_executable(staging, &c.lucky, &mut report.notes)?;
    for generated in ["dispatch", "hooks", "actions", "manifest.yaml"] {
        let path = staging.join(generated);
        if path.symlink_metadata().is_ok() {
            report.notes.push(format!(
                "the charm's own {generated} was replaced by the generated one"
            ));
            tree::remove_any(&path)?;
        }
    }
    generated::write_generated(staging, report, &c.actions_yaml, &c.metadata_yaml, opts)?;
    generated::write_deploy_files(
        staging,
        &c.charm_bases,
        c.lucky.use_docker,
        c.has_own_profile,
    )?;
    report.notes.extend(generated::bases_note(
        &c.charm_bases,
        &c.bases_origin,
        &c.meta,
    ));
    report.bundled = bundle::write_bundle(staging, &c.bundle, opts)?;
    if let Some(level) = &c.log_level {
        tree::write_file(
            &staging.join("lucky").join(LOG_LEVEL_FILE),
            format!("{level}\n").as_bytes(),
            0o644,
        )?;
    }
    let identity =
        super::release_identity::write(staging, &opts.lucky_version, &report.bundled, opts.dev)?;
    report.notes.extend(identity);
    Ok(())
}
