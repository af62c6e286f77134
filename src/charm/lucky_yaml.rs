//! lucky.yaml: the schema, strict parsing and validation against the charm folder.
//!
//! Parsing is two steps: serde reads the raw document (unknown keys are refused there,
//! with their line), then `validate` turns each raw entry into a `ScriptEntry` and checks
//! what serde cannot: exactly one script kind per entry, options that fit that kind, and
//! script files that exist and are executable. Every error names the file, line and key.

use crate::script::entry::{
    CONTAINER_SCRIPTS_DIR, ContainerTarget, HOST_SCRIPTS_DIR, ScriptEntry, ScriptKind,
};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// A charm's lucky.yaml, parsed and checked: its hooks', actions' and cron jobs' scripts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LuckyYaml {
    pub(crate) path: PathBuf,
    pub(crate) use_docker: bool,
    pub(crate) hooks: BTreeMap<String, Vec<ScriptEntry>>,
    pub(crate) cron_jobs: Vec<CronJob>,
    /// The zone cron schedules are read in (`timezone:`): `None` for the machine's local
    /// time, else `UTC` or an IANA name.
    pub(crate) timezone: Option<String>,
    /// `checks:`: health checks the daemon runs between hooks.
    pub(crate) checks: Vec<super::checks::Check>,
    pub(crate) actions: BTreeMap<String, Vec<ScriptEntry>>,
    /// Line of each `hooks:` key, for messages about the hook itself (e.g. an unknown relation).
    pub(crate) hook_lines: BTreeMap<String, u64>,
    /// Line of each `actions:` key.
    pub(crate) action_lines: BTreeMap<String, u64>,
}

impl LuckyYaml {
    /// Every script file the charm declares (hooks, actions, cron jobs), as paths
    /// relative to the charm folder, once each, in order.
    pub(crate) fn script_files(&self) -> Vec<PathBuf> {
        let entries = self
            .hooks
            .values()
            .chain(self.actions.values())
            .flatten()
            .chain(self.cron_jobs.iter().flat_map(|j| &j.entries));
        let mut files = std::collections::BTreeSet::new();
        for entry in entries {
            match &entry.kind {
                ScriptKind::Host { name, .. } => {
                    files.insert(Path::new(HOST_SCRIPTS_DIR).join(name))
                }
                ScriptKind::Container { name, .. } => {
                    files.insert(Path::new(CONTAINER_SCRIPTS_DIR).join(name))
                }
                ScriptKind::InlineHost { .. } | ScriptKind::InlineContainer { .. } => false,
            };
        }
        files.into_iter().collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CronJob {
    /// Seconds-first cron expression, as written.
    pub(crate) schedule: String,
    /// Line of the expression's key.
    pub(crate) line: u64,
    pub(crate) entries: Vec<ScriptEntry>,
}

/// A lucky.yaml problem: `<file>:<line>: <message>` on one line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct LuckyYamlError {
    pub(crate) path: PathBuf,
    pub(crate) line: Option<u64>,
    pub(crate) message: String,
}

impl fmt::Display for LuckyYamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path.display(), line, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawLuckyYaml {
    use_docker: Option<bool>,
    timezone: Option<Spanned<String>>,
    #[serde(default)]
    hooks: Option<BTreeMap<String, Spanned<Vec<Spanned<RawEntry>>>>>,
    #[serde(default)]
    cron_jobs: Option<BTreeMap<String, Spanned<Vec<Spanned<RawEntry>>>>>,
    #[serde(default)]
    actions: Option<BTreeMap<String, Spanned<Vec<Spanned<RawEntry>>>>>,
    #[serde(default)]
    checks: Option<super::checks::RawChecks>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct RawEntry {
    host_script: Option<String>,
    container_script: Option<String>,
    inline_host_script: Option<String>,
    inline_container_script: Option<String>,
    args: Option<Vec<String>>,
    shell_command: Option<Vec<String>>,
    #[serde(rename = "async")]
    is_async: Option<bool>,
    container_name: Option<String>,
    ignore_missing_container: Option<bool>,
}

/// Finds `lucky.yaml` (or `lucky.yml`) at the charm root.
pub(crate) fn find(charm_dir: &Path) -> Option<PathBuf> {
    ["lucky.yaml", "lucky.yml"]
        .iter()
        .map(|name| charm_dir.join(name))
        .find(|p| p.is_file())
}

/// Reads and validates the charm's lucky.yaml.
pub fn load(charm_dir: &Path) -> Result<LuckyYaml, LuckyYamlError> {
    load_with(charm_dir, true)
}

/// As [`load`], for a charm's source folder that `charm build` packs: its declared
/// scripts need not be executable yet, because the build makes them so (the 2020 Lucky
/// did too, and charms were committed without the bit).
pub(crate) fn load_source(charm_dir: &Path) -> Result<LuckyYaml, LuckyYamlError> {
    load_with(charm_dir, false)
}

fn load_with(charm_dir: &Path, need_executable: bool) -> Result<LuckyYaml, LuckyYamlError> {
    let Some(path) = find(charm_dir) else {
        return Err(LuckyYamlError::not_found(charm_dir));
    };
    let text = std::fs::read_to_string(&path).map_err(|e| LuckyYamlError::unreadable(&path, &e))?;
    parse_with(&text, &path, charm_dir, need_executable)
}

impl LuckyYamlError {
    /// `charm_dir` has neither lucky.yaml nor lucky.yml.
    pub(crate) fn not_found(charm_dir: &Path) -> Self {
        LuckyYamlError {
            path: charm_dir.join("lucky.yaml"),
            line: None,
            message: "not found (nor lucky.yml): every Lucky charm needs one at its root".into(),
        }
    }

    /// The lucky.yaml at `path` could not be opened or read.
    pub(crate) fn unreadable(path: &Path, e: &std::io::Error) -> Self {
        LuckyYamlError {
            path: path.to_path_buf(),
            line: None,
            message: format!("cannot read: {e}"),
        }
    }
}

/// Checks again, as [`load`] does, that the script files `yaml` names exist in
/// `charm_dir` and are executable: a parsed lucky.yaml kept across hooks says nothing
/// about a script removed or chmodded since. Gives the error `load` would give now for
/// the same text (the first failing entry, in the order `load` checks them).
pub(crate) fn check_scripts(yaml: &LuckyYaml, charm_dir: &Path) -> Result<(), LuckyYamlError> {
    /// Where an entry is listed, for the message (formatted only on a failure).
    enum Owner<'a> {
        Hook(&'a str),
        Action(&'a str),
        Cron(&'a str),
    }
    let listed = yaml
        .hooks
        .iter()
        .map(|(name, entries)| (Owner::Hook(name), entries))
        .chain(
            yaml.actions
                .iter()
                .map(|(name, entries)| (Owner::Action(name), entries)),
        )
        .chain(
            yaml.cron_jobs
                .iter()
                .map(|job| (Owner::Cron(&job.schedule), &job.entries)),
        );
    for (owner, entries) in listed {
        for entry in entries {
            let (key, dir, name) = match &entry.kind {
                ScriptKind::Host { name, .. } => ("host-script", HOST_SCRIPTS_DIR, name),
                ScriptKind::Container { name, .. } => {
                    ("container-script", CONTAINER_SCRIPTS_DIR, name)
                }
                ScriptKind::InlineHost { .. } | ScriptKind::InlineContainer { .. } => continue,
            };
            if let Err(message) = script_file(charm_dir, key, dir, name, true) {
                let owner = match owner {
                    Owner::Hook(name) => section_owner("hooks", name),
                    Owner::Action(name) => section_owner("actions", name),
                    Owner::Cron(schedule) => cron_owner(schedule),
                };
                return Err(LuckyYamlError {
                    path: yaml.path.clone(),
                    line: Some(entry.line),
                    message: format!("{owner}: {message}"),
                });
            }
        }
    }
    Ok(())
}

/// `hooks`, `install` → `hook "install"`: who an entry's messages name.
fn section_owner(section: &str, name: &str) -> String {
    format!("{} \"{name}\"", section.trim_end_matches('s'))
}

/// A cron job's entries' owner in messages: `cron job "<schedule>"`.
fn cron_owner(schedule: &str) -> String {
    format!("cron job \"{schedule}\"")
}

/// Parses lucky.yaml text; `path` is only used in messages, `charm_dir` to find scripts.
pub fn parse(text: &str, path: &Path, charm_dir: &Path) -> Result<LuckyYaml, LuckyYamlError> {
    parse_with(text, path, charm_dir, true)
}

fn parse_with(
    text: &str,
    path: &Path,
    charm_dir: &Path,
    need_executable: bool,
) -> Result<LuckyYaml, LuckyYamlError> {
    let err = |line: Option<u64>, message: String| LuckyYamlError {
        path: path.to_path_buf(),
        line,
        message,
    };
    // An empty file is a charm with no hooks yet, not an error.
    let raw: RawLuckyYaml = if text.trim().is_empty() {
        RawLuckyYaml {
            use_docker: None,
            timezone: None,
            hooks: None,
            cron_jobs: None,
            actions: None,
            checks: None,
        }
    } else {
        serde_saphyr::from_str(text).map_err(|e| {
            let line = e.location().map(|l| l.line());
            let parser_says = one_line(&e.without_snippet().to_string());
            // The parser names the token, not the key: name the key written on that line
            // and what lucky.yaml's schema wants there.
            // (An unknown key's message already names it.)
            let message = match line
                .and_then(|n| key_on_line(text, n))
                .and_then(|key| Some((key, expected_for(key)?)))
            {
                Some((key, expected)) => {
                    format!("key `{key}`: expected {expected} ({parser_says})")
                }
                None => parser_says,
            };
            err(line, message)
        })?
    };
    let mut check = Validator {
        path,
        charm_dir,
        need_executable,
        errors: Vec::new(),
    };
    let (hooks, hook_lines) = check.section(text, "hooks", raw.hooks);
    let (actions, action_lines) = check.section(text, "actions", raw.actions);
    let cron_jobs = raw
        .cron_jobs
        .unwrap_or_default()
        .into_iter()
        .map(|(schedule, entries)| {
            let line = key_line(text, &schedule, entries.referenced.line());
            if let Err(message) = super::cron::parse(&schedule) {
                check
                    .errors
                    .push(err(Some(line), format!("cron-jobs: {message}")));
            }
            let entries = check.entries(&cron_owner(&schedule), entries.value);
            CronJob {
                schedule,
                line,
                entries,
            }
        })
        .collect();
    let timezone = raw.timezone.map(|zone| {
        let line = zone.referenced.line();
        // The name is checked everywhere; the zone file where the charm is built (the
        // daemon reports a zone its machine lacks, without refusing the whole charm).
        let found = if need_executable {
            crate::zone::check_name(&zone.value)
        } else {
            crate::zone::Zone::named(&zone.value).map(drop)
        };
        if let Err(e) = found {
            check.errors.push(err(Some(line), format!("timezone: {e}")));
        }
        zone.value
    });
    let (checks, check_errors) =
        super::checks::parse(raw.checks.unwrap_or_default(), |name, at| {
            key_line(text, name, at)
        });
    check.errors.extend(
        check_errors
            .into_iter()
            .map(|(line, message)| err(Some(line), message)),
    );
    if let Some(first) = check.errors.into_iter().next() {
        return Err(first);
    }
    Ok(LuckyYaml {
        path: path.to_path_buf(),
        use_docker: raw.use_docker.unwrap_or(true),
        hooks,
        cron_jobs,
        timezone,
        checks,
        actions,
        hook_lines,
        action_lines,
    })
}

/// The line of mapping key `key` whose value starts at `value_line`: a block sequence
/// starts on the line after its key, so look back to the nearest line holding the key.
fn key_line(text: &str, key: &str, value_line: u64) -> u64 {
    let lines: Vec<&str> = text.lines().collect();
    let candidates = [
        format!("{key}:"),
        format!("\"{key}\":"),
        format!("'{key}':"),
    ];
    (1..=value_line)
        .rev()
        .take(50)
        .find(|&n| {
            lines.get(n as usize - 1).is_some_and(|l| {
                let t = l.trim_start();
                candidates.iter().any(|c| t.starts_with(c.as_str()))
            })
        })
        .unwrap_or(value_line)
}

/// The mapping key written on line `line` (1-based), if any: `  - args: 5` → `args`.
fn key_on_line(text: &str, line: u64) -> Option<&str> {
    let l = text
        .lines()
        .nth(usize::try_from(line).ok()?.checked_sub(1)?)?;
    let l = l.trim_start();
    let l = l.strip_prefix("- ").unwrap_or(l).trim_start();
    let (key, _) = l.split_once(':')?;
    let key = key.trim().trim_matches(|c| c == '"' || c == '\'');
    (!key.is_empty() && !key.contains(char::is_whitespace)).then_some(key)
}

/// What lucky.yaml's schema expects as the value of `key` (None for a hook, action or
/// cron expression key, whose value is a list of entries).
fn expected_for(key: &str) -> Option<&'static str> {
    Some(match key {
        "use-docker" | "async" | "ignore-missing-container" => "`true` or `false`",
        "args" | "shell-command" => "a list of strings, e.g. [\"--verbose\", \"1\"]",
        "host-script"
        | "container-script"
        | "inline-host-script"
        | "inline-container-script"
        | "container-name" => "a string",
        "timezone" => "a string: UTC or an IANA zone name such as Europe/Paris",
        "hooks" | "actions" | "cron-jobs" => "a mapping of names to lists of script entries",
        "checks" => "a mapping of check names to their keys (`http`, `tcp` or `exec`, …)",
        _ => return None,
    })
}

/// Parser messages may span lines; a lucky.yaml error is one line.
fn one_line(message: &str) -> String {
    let mut out = message.split_whitespace().collect::<Vec<_>>().join(" ");
    // The location is printed by us, in front.
    if let Some(at) = out.rfind(" at line ") {
        out.truncate(at);
    }
    out
}

struct Validator<'a> {
    path: &'a Path,
    charm_dir: &'a Path,
    /// False for a source folder `charm build` packs (it sets the bit).
    need_executable: bool,
    errors: Vec<LuckyYamlError>,
}

impl Validator<'_> {
    fn section(
        &mut self,
        text: &str,
        section: &str,
        raw: Option<BTreeMap<String, Spanned<Vec<Spanned<RawEntry>>>>>,
    ) -> (BTreeMap<String, Vec<ScriptEntry>>, BTreeMap<String, u64>) {
        let mut lines = BTreeMap::new();
        let entries = raw
            .unwrap_or_default()
            .into_iter()
            .map(|(name, entries)| {
                lines.insert(
                    name.clone(),
                    key_line(text, &name, entries.referenced.line()),
                );
                let owner = section_owner(section, &name);
                let entries = self.entries(&owner, entries.value);
                (name, entries)
            })
            .collect();
        (entries, lines)
    }

    fn entries(&mut self, owner: &str, raw: Vec<Spanned<RawEntry>>) -> Vec<ScriptEntry> {
        let mut inline_count = 0;
        raw.into_iter()
            .filter_map(|entry| {
                let line = entry.referenced.line();
                match self.entry(owner, line, entry.value, &mut inline_count) {
                    Ok(e) => Some(e),
                    Err(message) => {
                        self.errors.push(LuckyYamlError {
                            path: self.path.to_path_buf(),
                            line: Some(line),
                            message: format!("{owner}: {message}"),
                        });
                        None
                    }
                }
            })
            .collect()
    }

    fn entry(
        &self,
        owner: &str,
        line: u64,
        raw: RawEntry,
        inline_count: &mut usize,
    ) -> Result<ScriptEntry, String> {
        let kinds: Vec<&str> = [
            ("host-script", raw.host_script.is_some()),
            ("container-script", raw.container_script.is_some()),
            ("inline-host-script", raw.inline_host_script.is_some()),
            (
                "inline-container-script",
                raw.inline_container_script.is_some(),
            ),
        ]
        .into_iter()
        .filter_map(|(k, present)| present.then_some(k))
        .collect();
        match kinds.as_slice() {
            [_] => {}
            [] => {
                return Err("entry has no script: give one of `host-script`, `container-script`, `inline-host-script`, `inline-container-script`".into());
            }
            many => {
                return Err(format!(
                    "entry has {}: give exactly one script kind per entry",
                    many.iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ));
            }
        }
        let in_container = raw.container_script.is_some() || raw.inline_container_script.is_some();
        let inline = raw.inline_host_script.is_some() || raw.inline_container_script.is_some();
        if !in_container {
            for (key, present) in [
                ("container-name", raw.container_name.is_some()),
                (
                    "ignore-missing-container",
                    raw.ignore_missing_container.is_some(),
                ),
            ] {
                if present {
                    return Err(format!(
                        "key `{key}` only applies to container scripts, and `{}` runs on the host",
                        kinds[0]
                    ));
                }
            }
        }
        if !inline && raw.shell_command.is_some() {
            return Err(format!(
                "key `shell-command` only applies to inline scripts, and `{}` names a file",
                kinds[0]
            ));
        }
        if let Some(shell) = &raw.shell_command
            && shell.is_empty()
        {
            return Err(
                "key `shell-command` is empty: give a program, e.g. [\"/bin/sh\", \"-c\"]".into(),
            );
        }
        if let Some(name) = &raw.container_name
            && name.trim().is_empty()
        {
            return Err("key `container-name` is empty".into());
        }
        let target = ContainerTarget {
            container_name: raw.container_name.clone(),
            ignore_missing_container: raw.ignore_missing_container.unwrap_or(false),
        };
        let shell = raw.shell_command.clone().unwrap_or_else(default_shell);
        let mut inline_id = || {
            *inline_count += 1;
            format!("{}#inline-{}", owner_id(owner), *inline_count)
        };
        let (id, kind) = if let Some(name) = raw.host_script {
            let path = self.script_file("host-script", HOST_SCRIPTS_DIR, &name)?;
            (name.clone(), ScriptKind::Host { name, path })
        } else if let Some(name) = raw.container_script {
            // The file is checked on the host: it is bind-mounted into the container.
            self.script_file("container-script", CONTAINER_SCRIPTS_DIR, &name)?;
            (name.clone(), ScriptKind::Container { name, target })
        } else if let Some(script) = raw.inline_host_script {
            (inline_id(), ScriptKind::InlineHost { script, shell })
        } else if let Some(script) = raw.inline_container_script {
            (
                inline_id(),
                ScriptKind::InlineContainer {
                    script,
                    // The host's bash says nothing about the image: pick in the image.
                    shell: raw
                        .shell_command
                        .clone()
                        .unwrap_or_else(default_container_shell),
                    target,
                },
            )
        } else {
            unreachable!("exactly one script kind was checked above")
        };
        Ok(ScriptEntry {
            line,
            id,
            kind,
            args: raw.args.unwrap_or_default(),
            is_async: raw.is_async.unwrap_or(false),
        })
    }

    fn script_file(&self, key: &str, dir: &str, name: &str) -> Result<PathBuf, String> {
        script_file(self.charm_dir, key, dir, name, self.need_executable)
    }
}

/// Checks the script file `name` of `key` (`host-script`…): a plain path inside `dir`
/// that is a file in `charm_dir` (and executable, if `need_executable`). Returns its path.
fn script_file(
    charm_dir: &Path,
    key: &str,
    dir: &str,
    name: &str,
    need_executable: bool,
) -> Result<PathBuf, String> {
    let rel = Path::new(name);
    if name.is_empty()
        || rel.is_absolute()
        || rel
            .components()
            .any(|c| !matches!(c, std::path::Component::Normal(_)))
    {
        return Err(format!(
            "key `{key}`: \"{name}\" must be a plain path inside {dir}/"
        ));
    }
    let path = charm_dir.join(dir).join(rel);
    let meta = std::fs::metadata(&path)
        .map_err(|_| format!("key `{key}`: {dir}/{name} does not exist"))?;
    if !meta.is_file() {
        return Err(format!("key `{key}`: {dir}/{name} is not a file"));
    }
    if need_executable && meta.permissions().mode() & 0o111 == 0 {
        return Err(format!(
            "key `{key}`: {dir}/{name} is not executable (chmod +x it)"
        ));
    }
    Ok(path)
}

/// `hook "install"` → `install`: the prefix of inline script ids.
fn owner_id(owner: &str) -> String {
    owner
        .split('"')
        .nth(1)
        .map(|s| s.replace(' ', "_"))
        .unwrap_or_else(|| owner.to_string())
}

/// `["/bin/bash", "-c"]`, or `["/bin/sh", "-c"]` where bash is absent.
pub(crate) fn default_shell() -> Vec<String> {
    let shell = if Path::new("/bin/bash").exists() {
        "/bin/bash"
    } else {
        "/bin/sh"
    };
    vec![shell.to_string(), "-c".to_string()]
}

/// Bash where the image has it (as for host scripts, and as the 2020 Lucky ran inline
/// container scripts), else sh: every image Lucky supports has /bin/sh, busybox-only ones
/// included. The exec appends the script, its id and its args, so this small sh program
/// gets the script as `$1` and hands the rest on as `$0 $1…`.
pub(crate) fn default_container_shell() -> Vec<String> {
    const PICK: &str = r#"s=$1; shift; if command -v bash >/dev/null 2>&1; then exec bash -c "$s" "$@"; fi; exec /bin/sh -c "$s" "$@""#;
    ["/bin/sh", "-c", PICK, "lucky-inline-script"]
        .map(String::from)
        .to_vec()
}

#[cfg(test)]
mod tests;
