//! A Docker engine on a fresh unit: the install hook of a charm that uses containers makes
//! sure one answers before the charm's own scripts run.
//!
//! An engine that already answers is used as it is (whoever installed it owns its
//! configuration). Otherwise the distribution's engine (`docker.io`) is installed with
//! apt, non-interactively, with retries and backoff; Juju's proxy settings reach apt
//! through its environment and the engine's own pulls through a systemd drop-in; the
//! engine is enabled, started and waited for within a bound. Every step is idempotent, so
//! a failed hook that Juju retries converges.
//!
//! The programs (`apt-get`, `systemctl`, `dockerd`) are looked up on the hook's `PATH`
//! only, never by absolute path: that is the command runner, and tests inject recording
//! fakes by putting them first on it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The package Ubuntu ships the engine in.
pub(crate) const PACKAGE: &str = "docker.io";
/// The drop-in that carries the proxy settings to the engine's pulls.
pub(crate) const DROP_IN: &str = "docker.service.d/lucky-proxy.conf";

/// Juju's proxy settings for the charm (`JUJU_CHARM_HTTP_PROXY` …); empty means unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Proxy {
    pub(crate) http: String,
    pub(crate) https: String,
    pub(crate) no_proxy: String,
}

impl Proxy {
    pub(crate) fn from_hook_env(env: &std::collections::BTreeMap<String, String>) -> Self {
        let get = |k: &str| env.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        Proxy {
            http: get("JUJU_CHARM_HTTP_PROXY"),
            https: get("JUJU_CHARM_HTTPS_PROXY"),
            no_proxy: get("JUJU_CHARM_NO_PROXY"),
        }
    }

    fn is_empty(&self) -> bool {
        self.http.is_empty() && self.https.is_empty() && self.no_proxy.is_empty()
    }

    /// (name, value) pairs, in both spellings programs read.
    fn vars(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::new();
        for (lower, upper, value) in [
            ("http_proxy", "HTTP_PROXY", &self.http),
            ("https_proxy", "HTTPS_PROXY", &self.https),
            ("no_proxy", "NO_PROXY", &self.no_proxy),
        ] {
            if !value.is_empty() {
                out.push((lower, value.as_str()));
                out.push((upper, value.as_str()));
            }
        }
        out
    }
}

/// How to provision: where programs are found, what proxy to use, where the drop-in goes,
/// and the bounds.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    /// The hook's `PATH`.
    pub(crate) path: String,
    pub(crate) proxy: Proxy,
    /// systemd's unit folder (`/etc/systemd/system`).
    pub(crate) unit_dir: PathBuf,
    /// Attempts for each apt step, the first retry after `retry_delay`, doubling.
    pub(crate) attempts: u32,
    pub(crate) retry_delay: Duration,
    /// How long the started engine may take to answer.
    pub(crate) wait: Duration,
}

/// Why no engine answers; each names its cause in one line.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub(crate) enum ProvisionError {
    #[error(
        "no Docker engine answers and apt-get is not on this machine to install {PACKAGE}: install a Docker engine, or set use-docker: false"
    )]
    NoApt,
    #[error("{PACKAGE} would not install: {0}")]
    Install(String),
    #[error("cannot start the Docker engine: {0}")]
    Start(String),
    #[error("the Docker engine would not answer within {0} s after it was started")]
    NoAnswer(u64),
}

impl ProvisionError {
    /// The short cause the blocked status names.
    pub(crate) fn cause(&self) -> &'static str {
        match self {
            ProvisionError::NoApt => "no apt",
            ProvisionError::Install(_) => "package would not install",
            ProvisionError::Start(_) => "engine would not start",
            ProvisionError::NoAnswer(_) => "engine would not answer",
        }
    }
}

/// The program named `name` on `path`, if any.
pub(crate) fn find_program(path: &str, name: &str) -> Option<PathBuf> {
    crate::executable::find(name, path.as_ref())
}

/// Installs (if needed), configures and starts the engine, then waits until `answers`
/// says it does. Called only when it did not answer at first.
pub(crate) async fn install_and_start<F, Fut>(
    plan: &Plan,
    log: &(dyn Fn(String) + Sync),
    answers: F,
) -> Result<(), ProvisionError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    if find_program(&plan.path, "dockerd").is_some() {
        log("the Docker engine is installed but does not answer: starting it".into());
    } else {
        let apt = find_program(&plan.path, "apt-get").ok_or(ProvisionError::NoApt)?;
        log(format!("installing {PACKAGE} with apt-get"));
        retried(plan, log, "apt-get update", || {
            run(plan, &apt, &["update"], true)
        })
        .await
        .map_err(ProvisionError::Install)?;
        retried(plan, log, &format!("apt-get install {PACKAGE}"), || {
            run(
                plan,
                &apt,
                &[
                    "install",
                    "--yes",
                    "--no-install-recommends",
                    "-o",
                    "Dpkg::Options::=--force-confdef",
                    "-o",
                    "Dpkg::Options::=--force-confold",
                    PACKAGE,
                ],
                true,
            )
        })
        .await
        .map_err(ProvisionError::Install)?;
    }
    let systemctl = find_program(&plan.path, "systemctl").ok_or_else(|| {
        ProvisionError::Start(
            "systemctl is not on this machine (Lucky starts the engine with systemd)".into(),
        )
    })?;
    let changed = write_drop_in(&plan.unit_dir, &plan.proxy).map_err(ProvisionError::Start)?;
    if changed {
        log("proxy settings for the Docker engine updated".into());
        run(plan, &systemctl, &["daemon-reload"], false)
            .await
            .map_err(ProvisionError::Start)?;
    }
    run(plan, &systemctl, &["enable", "docker.service"], false)
        .await
        .map_err(ProvisionError::Start)?;
    // A running engine keeps its old environment: restart it when the proxy changed.
    let verb = if changed { "restart" } else { "start" };
    run(plan, &systemctl, &[verb, "docker.service"], false)
        .await
        .map_err(ProvisionError::Start)?;
    log(format!(
        "waiting up to {} s for the Docker engine",
        plan.wait.as_secs()
    ));
    let deadline = Instant::now() + plan.wait;
    loop {
        if answers().await {
            log("the Docker engine answers".into());
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err(ProvisionError::NoAnswer(plan.wait.as_secs()));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

async fn retried<F, Fut>(
    plan: &Plan,
    log: &(dyn Fn(String) + Sync),
    what: &str,
    step: F,
) -> Result<(), String>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut delay = plan.retry_delay;
    let attempts = plan.attempts.max(1);
    for attempt in 1..=attempts {
        match step().await {
            Ok(()) => return Ok(()),
            Err(e) if attempt == attempts => {
                return Err(format!("{what} failed {attempts} times, last: {e}"));
            }
            Err(e) => {
                log(format!(
                    "{what} failed (attempt {attempt} of {attempts}), retrying in {} s: {e}",
                    delay.as_secs_f32()
                ));
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
        }
    }
    Ok(())
}

/// Runs `program args` with a clean environment: the hook's PATH, apt's non-interactive
/// settings and (for apt) the proxy. Errors carry the last line the program printed.
async fn run(plan: &Plan, program: &Path, args: &[&str], apt: bool) -> Result<(), String> {
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .env_clear()
        .env("PATH", &plan.path)
        .env("LANG", "C.UTF-8")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    if apt {
        cmd.env("DEBIAN_FRONTEND", "noninteractive")
            .env("APT_LISTCHANGES_FRONTEND", "none")
            .env("NEEDRESTART_MODE", "a");
        for (k, v) in plan.proxy.vars() {
            cmd.env(k, v);
        }
    }
    let name = program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let out = cmd
        .output()
        .await
        .map_err(|e| format!("cannot run {name}: {e}"))?;
    if out.status.success() {
        return Ok(());
    }
    let text = String::from_utf8_lossy(&out.stderr);
    let last = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("no output")
        .trim()
        .chars()
        .take(300)
        .collect::<String>();
    Err(format!(
        "{name} {} exited with {}: {last}",
        args.join(" "),
        out.status
            .code()
            .map_or_else(|| "a signal".to_string(), |c| c.to_string())
    ))
}

/// Writes (or removes, when no proxy is set) the engine's proxy drop-in. True when the
/// file changed. A value systemd would read as more than a value is refused.
pub(crate) fn write_drop_in(unit_dir: &Path, proxy: &Proxy) -> Result<bool, String> {
    let path = unit_dir.join(DROP_IN);
    let current = std::fs::read_to_string(&path).ok();
    if proxy.is_empty() {
        if current.is_none() {
            return Ok(false);
        }
        std::fs::remove_file(&path)
            .map_err(|e| format!("cannot remove {}: {e}", path.display()))?;
        return Ok(true);
    }
    let mut text = String::from(
        "# Written by Lucky from the Juju model's proxy settings (juju-http-proxy, …);\n# rewritten at every install hook.\n[Service]\n",
    );
    for (name, value) in proxy
        .vars()
        .into_iter()
        .filter(|(n, _)| n.starts_with(char::is_uppercase))
    {
        if value
            .chars()
            .any(|c| c.is_control() || c == '"' || c == '\\')
        {
            return Err(format!(
                "the proxy setting {name}={value:?} has a quote, backslash or control character, which systemd would not read as one value"
            ));
        }
        // `%` starts a systemd specifier; `%%` is a literal one.
        text.push_str(&format!(
            "Environment=\"{name}={}\"\n",
            value.replace('%', "%%")
        ));
    }
    if current.as_deref() == Some(text.as_str()) {
        return Ok(false);
    }
    let dir = path.parent().unwrap_or(unit_dir);
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    crate::state::write_atomic(&path, text.as_bytes()).map_err(|e| e.to_string())?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drop_in_carries_the_proxy_and_refuses_injection() {
        let dir = tempfile::tempdir().unwrap();
        let proxy = Proxy {
            http: "http://proxy:3128".into(),
            https: "http://proxy:3129".into(),
            no_proxy: "10.0.0.0/8,%local".into(),
        };
        assert!(write_drop_in(dir.path(), &proxy).unwrap());
        let text = std::fs::read_to_string(dir.path().join(DROP_IN)).unwrap();
        assert!(
            text.contains("Environment=\"HTTP_PROXY=http://proxy:3128\"\n"),
            "{text}"
        );
        assert!(text.contains("Environment=\"HTTPS_PROXY=http://proxy:3129\"\n"));
        assert!(text.contains("Environment=\"NO_PROXY=10.0.0.0/8,%%local\"\n"));
        // Same settings: nothing to do (no engine restart).
        assert!(!write_drop_in(dir.path(), &proxy).unwrap());
        let evil = Proxy {
            http: "http://p\"\nExecStartPre=/bin/evil".into(),
            ..Proxy::default()
        };
        assert!(write_drop_in(dir.path(), &evil).is_err());
        assert_eq!(
            std::fs::read_to_string(dir.path().join(DROP_IN)).unwrap(),
            text
        );
        // Proxy unset in the model: the drop-in goes.
        assert!(write_drop_in(dir.path(), &Proxy::default()).unwrap());
        assert!(!dir.path().join(DROP_IN).exists());
    }
}
