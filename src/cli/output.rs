//! How answers are printed: the earlier project's formats, so its charms keep working.
//!
//! Strings print raw, null as an empty line, other scalars as JSON; lists one item per
//! line; maps as `key=value` lines. `--format json` prints JSON instead.

use serde_json::Value;

#[derive(Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Format {
    /// strings raw, lists one per line, maps as key=value lines
    #[default]
    Plain,
    /// JSON
    Json,
}

#[derive(clap::Args, Clone, Copy)]
pub(crate) struct FormatArg {
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Plain)]
    pub(crate) format: Format,
}

fn scalar(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

pub(crate) fn render(value: &Value, format: Format) -> String {
    if format == Format::Json {
        return format!("{value}\n");
    }
    match value {
        Value::Array(items) => items.iter().map(|v| scalar(v) + "\n").collect(),
        Value::Object(map) => map
            .iter()
            .map(|(k, v)| format!("{k}={}\n", scalar(v)))
            .collect(),
        other => {
            let mut line = scalar(other);
            line.push('\n');
            line
        }
    }
}

pub(crate) fn print(value: &Value, format: Format) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(render(value, format).as_bytes());
}

/// The crate's one `KEY=VALUE` parser, for clap value parsers and split arguments alike:
/// the first `=` splits (values may hold `=`), the key must not be empty, the value may.
pub(crate) fn key_value(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some(("", _)) => Err(format!("expected KEY=VALUE, got {s:?} (empty key)")),
        Some((k, v)) => Ok((k.to_string(), v.to_string())),
        None => Err(format!("expected KEY=VALUE, got {s:?}")),
    }
}

/// Parses `KEY=VALUE`; an empty value (`KEY=`) means delete.
pub(crate) fn parse_pair(s: &str) -> Result<(String, Option<String>), String> {
    let (k, v) = key_value(s)?;
    Ok((k, (!v.is_empty()).then_some(v)))
}

/// A daemon answer's JSON read as `T`; `what` names the answer in the error.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    what: &str,
    value: serde_json::Value,
) -> Result<T, super::Failure> {
    serde_json::from_value(value)
        .map_err(|e| format!("cannot read the daemon's {what} answer: {e}").into())
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of Unix milliseconds.
pub(crate) fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = crate::calendar::civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        t / 3600,
        t % 3600 / 60,
        t % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn earlier_formats() {
        assert_eq!(render(&json!("raw text"), Format::Plain), "raw text\n");
        assert_eq!(render(&json!(null), Format::Plain), "\n");
        assert_eq!(render(&json!(8080), Format::Plain), "8080\n");
        assert_eq!(render(&json!(true), Format::Plain), "true\n");
        assert_eq!(
            render(&json!(["db:1", "db:2"]), Format::Plain),
            "db:1\ndb:2\n"
        );
        assert_eq!(
            render(&json!({"a": "x", "b": 2, "c": null}), Format::Plain),
            "a=x\nb=2\nc=\n"
        );
        assert_eq!(render(&json!({"a": "x"}), Format::Json), "{\"a\":\"x\"}\n");
        assert_eq!(parse_pair("a=b=c"), Ok(("a".into(), Some("b=c".into()))));
        assert_eq!(parse_pair("a="), Ok(("a".into(), None)));
        assert!(parse_pair("a").is_err());
        assert_eq!(key_value("a="), Ok(("a".into(), String::new())));
        assert_eq!(
            key_value("=a"),
            Err("expected KEY=VALUE, got \"=a\" (empty key)".into())
        );
        assert!(parse_pair("=a").is_err());
    }
}
