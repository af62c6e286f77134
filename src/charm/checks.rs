//! lucky.yaml's `checks:` section: health checks the daemon runs between hooks.
//!
//! ```yaml
//! checks:
//!   web:
//!     http: {url: "http://127.0.0.1:8080/health", status: 200}
//!     period: 10s
//!     timeout: 3s
//!     threshold: 3
//!     status: health
//!     restart-container: true
//! ```
//!
//! Each check has exactly one probe: `http` (a URL and the status expected, 200 unless
//! given), `tcp` (`host:port`, a connection is enough) or `exec` (a command that must exit
//! 0, on the host or `in: container`). The section is read as plain YAML values and
//! checked here, key by key, each error naming the line.

use serde_json::Value;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::time::Duration;

/// Default time between two probes of a check.
pub(crate) const DEFAULT_PERIOD: Duration = Duration::from_secs(10);
/// Default time a probe may take before it counts as failed.
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);
/// Default consecutive failures before a check is down.
pub(crate) const DEFAULT_THRESHOLD: u32 = 3;
/// Checks at most per charm (each one is a timer and a probe in flight).
pub(crate) const MAX_CHECKS: usize = 32;
/// Shortest period: a check is not a busy loop.
pub(crate) const MIN_PERIOD: Duration = Duration::from_millis(100);

/// One declared check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Check {
    pub(crate) name: String,
    /// Line of the check's key.
    pub(crate) line: u64,
    pub(crate) probe: Probe,
    pub(crate) period: Duration,
    pub(crate) timeout: Duration,
    pub(crate) threshold: u32,
    /// The named unit status the check's state feeds, if any.
    pub(crate) status: Option<String>,
    /// The container (its lucky.yaml name) restarted when the check goes down.
    pub(crate) restart_container: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Probe {
    Http { url: String, status: u16 },
    Tcp { address: String },
    Exec { command: Vec<String>, place: Place },
}

/// Where an `exec` check runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    Host,
    /// In the unit's container of that name (`None`: the default container).
    Container(Option<String>),
}

/// The raw section: check name → its keys, each with its value's line.
pub(crate) type RawChecks = BTreeMap<String, Spanned<BTreeMap<String, Spanned<Value>>>>;

/// Checks the raw section; errors are `(line, message)`.
pub(crate) fn parse(
    raw: RawChecks,
    key_line: impl Fn(&str, u64) -> u64,
) -> (Vec<Check>, Vec<(u64, String)>) {
    let mut checks = Vec::new();
    let mut errors = Vec::new();
    if raw.len() > MAX_CHECKS {
        let line = raw
            .values()
            .next()
            .map_or(1, |v| v.referenced.line().saturating_sub(1).max(1));
        errors.push((
            line,
            format!(
                "checks: {} checks declared, at most {MAX_CHECKS} are allowed",
                raw.len()
            ),
        ));
        return (checks, errors);
    }
    for (name, keys) in raw {
        let line = key_line(&name, keys.referenced.line());
        match check(&name, line, keys.value) {
            Ok(c) => checks.push(c),
            Err((at, message)) => errors.push((at, format!("check \"{name}\": {message}"))),
        }
    }
    (checks, errors)
}

fn check(
    name: &str,
    line: u64,
    keys: BTreeMap<String, Spanned<Value>>,
) -> Result<Check, (u64, String)> {
    if name.is_empty() || name.len() > 64 || !name.chars().all(is_name_char) {
        return Err((
            line,
            "invalid check name: use letters, digits, `-` and `_` (at most 64)".into(),
        ));
    }
    let at = |key: &str| keys.get(key).map_or(line, |v| v.referenced.line());
    for (key, value) in &keys {
        if !matches!(
            key.as_str(),
            "http"
                | "tcp"
                | "exec"
                | "period"
                | "timeout"
                | "threshold"
                | "status"
                | "restart-container"
        ) {
            return Err((
                value.referenced.line(),
                format!(
                    "unknown key `{key}`: a check takes `http`, `tcp` or `exec`, and `period`, `timeout`, `threshold`, `status`, `restart-container`"
                ),
            ));
        }
    }
    let kinds: Vec<&str> = ["http", "tcp", "exec"]
        .into_iter()
        .filter(|k| keys.contains_key(*k))
        .collect();
    let probe = match kinds.as_slice() {
        ["http"] => {
            http(&keys["http"].value).map_err(|m| (at("http"), format!("key `http`: {m}")))?
        }
        ["tcp"] => tcp(&keys["tcp"].value).map_err(|m| (at("tcp"), format!("key `tcp`: {m}")))?,
        ["exec"] => {
            exec(&keys["exec"].value).map_err(|m| (at("exec"), format!("key `exec`: {m}")))?
        }
        [] => return Err((line, "no probe: give one of `http`, `tcp`, `exec`".into())),
        many => {
            return Err((
                line,
                format!(
                    "{}: give exactly one probe per check",
                    many.iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                ),
            ));
        }
    };
    let duration_key = |key: &str, default: Duration| -> Result<Duration, (u64, String)> {
        match keys.get(key) {
            None => Ok(default),
            Some(v) => duration(&v.value).map_err(|m| (at(key), format!("key `{key}`: {m}"))),
        }
    };
    let period = duration_key("period", DEFAULT_PERIOD)?;
    if period < MIN_PERIOD {
        return Err((
            at("period"),
            format!("key `period`: at least {}ms", MIN_PERIOD.as_millis()),
        ));
    }
    let timeout = duration_key("timeout", DEFAULT_TIMEOUT)?;
    if timeout.is_zero() {
        return Err((at("timeout"), "key `timeout`: must be more than 0s".into()));
    }
    let threshold = match keys.get("threshold").map(|v| &v.value) {
        None => DEFAULT_THRESHOLD,
        Some(v) => v
            .as_u64()
            .filter(|n| (1..=1000).contains(n))
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| {
                (
                    at("threshold"),
                    "key `threshold`: expected a number of failures from 1 to 1000".to_string(),
                )
            })?,
    };
    let status = match keys.get("status").map(|v| &v.value) {
        None => None,
        Some(Value::String(s))
            if !s.trim().is_empty() && s.len() <= 128 && !s.chars().any(char::is_control) =>
        {
            Some(s.clone())
        }
        Some(_) => {
            return Err((
                at("status"),
                "key `status`: expected the name of a unit status, e.g. `health`".into(),
            ));
        }
    };
    let restart_container = match keys.get("restart-container").map(|v| &v.value) {
        None | Some(Value::Bool(false)) => None,
        Some(Value::Bool(true)) => Some(match &probe {
            Probe::Exec {
                place: Place::Container(Some(name)),
                ..
            } => name.clone(),
            _ => crate::docker::spec::DEFAULT_CONTAINER.to_string(),
        }),
        Some(Value::String(s)) if crate::docker::spec::container_key(Some(s)).is_ok() => {
            Some(s.clone())
        }
        Some(_) => {
            return Err((
                at("restart-container"),
                "key `restart-container`: expected `true` or a container name".into(),
            ));
        }
    };
    Ok(Check {
        name: name.to_string(),
        line,
        probe,
        period,
        timeout,
        threshold,
        status,
        restart_container,
    })
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn http(v: &Value) -> Result<Probe, String> {
    let (url, status) = match v {
        Value::String(url) => (url.clone(), 200),
        Value::Object(map) => {
            if let Some(k) = map.keys().find(|k| *k != "url" && *k != "status") {
                return Err(format!("unknown key `{k}`: give `url` and `status`"));
            }
            let url = map
                .get("url")
                .and_then(Value::as_str)
                .ok_or("give `url`, e.g. {url: \"http://127.0.0.1:8080/\"}")?
                .to_string();
            let status = match map.get("status") {
                None => 200,
                Some(s) => s
                    .as_u64()
                    .filter(|n| (100..=599).contains(n))
                    .and_then(|n| u16::try_from(n).ok())
                    .ok_or("`status` must be an HTTP status from 100 to 599")?,
            };
            (url, status)
        }
        _ => return Err("expected {url: URL, status: CODE}".into()),
    };
    let parsed = url::Url::parse(&url).map_err(|e| format!("invalid URL \"{url}\": {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err(format!(
            "invalid URL \"{url}\": give an http:// or https:// URL with a host"
        ));
    }
    Ok(Probe::Http { url, status })
}

fn tcp(v: &Value) -> Result<Probe, String> {
    let Value::String(address) = v else {
        return Err("expected \"host:port\", e.g. \"127.0.0.1:5432\"".into());
    };
    let ok = address
        .rsplit_once(':')
        .is_some_and(|(host, port)| !host.is_empty() && port.parse::<u16>().is_ok_and(|p| p > 0));
    if !ok {
        return Err(format!(
            "invalid address \"{address}\": expected \"host:port\", e.g. \"127.0.0.1:5432\""
        ));
    }
    Ok(Probe::Tcp {
        address: address.clone(),
    })
}

fn exec(v: &Value) -> Result<Probe, String> {
    let Value::Object(map) = v else {
        return Err("expected {command: ..., in: host|container}".into());
    };
    if let Some(k) = map
        .keys()
        .find(|k| !matches!(k.as_str(), "command" | "in" | "container-name"))
    {
        return Err(format!(
            "unknown key `{k}`: give `command`, `in` and `container-name`"
        ));
    }
    let command = match map.get("command") {
        Some(Value::String(s)) if !s.trim().is_empty() => {
            vec!["/bin/sh".to_string(), "-c".to_string(), s.clone()]
        }
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .ok_or("`command` must be a string or a list of strings")?,
        _ => {
            return Err(
                "give `command`: a shell command (a string) or a program and its arguments (a list)"
                    .into(),
            );
        }
    };
    let container_name = match map.get("container-name") {
        None => None,
        Some(Value::String(s)) if crate::docker::spec::container_key(Some(s)).is_ok() => {
            Some(s.clone())
        }
        Some(_) => {
            return Err(
                "`container-name` must be a container name (letters, digits, `-`, `_`, `.`)".into(),
            );
        }
    };
    let place = match map.get("in").map(|v| v.as_str()) {
        None | Some(Some("host")) => {
            if container_name.is_some() {
                return Err("`container-name` only applies with `in: container`".into());
            }
            Place::Host
        }
        Some(Some("container")) => Place::Container(container_name),
        Some(_) => return Err("`in` must be `host` or `container`".into()),
    };
    Ok(Probe::Exec { command, place })
}

/// `10s`, `500ms`, `2m`, `1h`, or a number of seconds.
pub(crate) fn duration(v: &Value) -> Result<Duration, String> {
    const HINT: &str = "expected a duration such as `10s`, `500ms` or `2m`";
    match v {
        Value::Number(n) => n
            .as_f64()
            .filter(|s| s.is_finite() && (0.0..=86_400.0).contains(s))
            .map(Duration::from_secs_f64)
            .ok_or_else(|| HINT.to_string()),
        Value::String(s) => {
            let s = s.trim();
            let split = s
                .find(|c: char| !c.is_ascii_digit() && c != '.')
                .unwrap_or(s.len());
            let (number, unit) = s.split_at(split);
            let number: f64 = number.parse().map_err(|_| HINT.to_string())?;
            let scale = match unit.trim() {
                "ms" => 0.001,
                "s" | "" => 1.0,
                "m" => 60.0,
                "h" => 3600.0,
                _ => return Err(HINT.into()),
            };
            let secs = number * scale;
            if !secs.is_finite() || !(0.0..=86_400.0).contains(&secs) {
                return Err(format!("{HINT}, at most 24h"));
            }
            Ok(Duration::from_secs_f64(secs))
        }
        _ => Err(HINT.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations() {
        assert_eq!(duration(&json!("10s")), Ok(Duration::from_secs(10)));
        assert_eq!(duration(&json!("500ms")), Ok(Duration::from_millis(500)));
        assert_eq!(duration(&json!("2m")), Ok(Duration::from_secs(120)));
        assert_eq!(duration(&json!(3)), Ok(Duration::from_secs(3)));
        assert!(duration(&json!("soon")).is_err());
        assert!(duration(&json!("5d")).is_err());
        assert!(duration(&json!("-1s")).is_err());
    }
}
