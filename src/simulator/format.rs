//! Hook-tool output in Juju's formats: `smart` (default), `yaml`, `json`.
//!
//! Smart prints strings raw, lists of strings one per line, booleans `True`/`False`,
//! numbers plainly, nothing for null, and maps as YAML. Non-empty output always ends in a
//! newline, as Juju's cmd output does.

use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Format {
    #[default]
    Smart,
    Yaml,
    Json,
}

impl Format {
    pub(crate) fn parse(s: &str) -> Option<Self> {
        match s {
            "smart" => Some(Self::Smart),
            "yaml" => Some(Self::Yaml),
            "json" => Some(Self::Json),
            _ => None,
        }
    }
}

pub(crate) fn render(value: &Value, format: Format) -> String {
    let mut out = match format {
        Format::Json => serde_json::to_string(value).unwrap_or_else(|_| "null".into()),
        Format::Yaml => yaml(value),
        Format::Smart => smart(value),
    };
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn smart(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Array(_) | Value::Object(_) => yaml(value),
    }
}

/// Block-style YAML as Go's yaml.v2 writes it: sorted keys, `- ` list items at the key's
/// indentation, strings quoted only when they would read back as something else.
pub(crate) fn yaml(value: &Value) -> String {
    let mut out = String::new();
    match value {
        Value::Object(m) if m.is_empty() => out.push_str("{}\n"),
        Value::Array(a) if a.is_empty() => out.push_str("[]\n"),
        Value::Object(_) | Value::Array(_) => write_block(&mut out, value, 0),
        scalar => {
            out.push_str(&yaml_scalar(scalar));
            out.push('\n');
        }
    }
    out
}

fn write_block(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for k in keys {
                let v = &map[k];
                out.push_str(&pad);
                out.push_str(&yaml_string(k));
                out.push(':');
                match v {
                    Value::Object(m) if !m.is_empty() => {
                        out.push('\n');
                        write_block(out, v, indent + 2);
                    }
                    Value::Array(a) if !a.is_empty() => {
                        out.push('\n');
                        write_block(out, v, indent);
                    }
                    _ => {
                        out.push(' ');
                        out.push_str(&inline(v));
                        out.push('\n');
                    }
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                out.push_str(&pad);
                out.push('-');
                match item {
                    Value::Object(m) if !m.is_empty() => {
                        // First key on the dash's line, the rest aligned under it.
                        let mut nested = String::new();
                        write_block(&mut nested, item, indent + 2);
                        out.push(' ');
                        out.push_str(nested.trim_start());
                    }
                    Value::Array(a) if !a.is_empty() => {
                        let mut nested = String::new();
                        write_block(&mut nested, item, indent + 2);
                        out.push(' ');
                        out.push_str(nested.trim_start());
                    }
                    _ => {
                        out.push(' ');
                        out.push_str(&inline(item));
                        out.push('\n');
                    }
                }
            }
        }
        scalar => {
            out.push_str(&pad);
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
}

fn inline(v: &Value) -> String {
    match v {
        Value::Object(_) => "{}".into(),
        Value::Array(_) => "[]".into(),
        other => yaml_scalar(other),
    }
}

fn yaml_scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => yaml_string(s),
        _ => String::new(),
    }
}

fn yaml_string(s: &str) -> String {
    if needs_quotes(s) {
        serde_json::to_string(s).unwrap_or_default()
    } else {
        s.to_string()
    }
}

fn needs_quotes(s: &str) -> bool {
    if s.is_empty() || s.trim() != s {
        return true;
    }
    let lower = s.to_ascii_lowercase();
    const SPECIAL_WORDS: &[&str] = &[
        "true", "false", "yes", "no", "on", "off", "y", "n", "null", "~", ".inf", "-.inf", ".nan",
    ];
    if SPECIAL_WORDS.contains(&lower.as_str()) || s.parse::<f64>().is_ok() {
        return true;
    }
    let first = s.chars().next().unwrap_or(' ');
    if "-?:,[]{}#&*!|>'\"%@`".contains(first) {
        return true;
    }
    s.contains(": ") || s.contains(" #") || s.ends_with(':') || s.chars().any(|c| c.is_control())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn smart_scalars_and_lists() {
        assert_eq!(render(&json!("hi there"), Format::Smart), "hi there\n");
        assert_eq!(render(&json!(true), Format::Smart), "True\n");
        assert_eq!(render(&json!(false), Format::Smart), "False\n");
        assert_eq!(render(&json!(null), Format::Smart), "");
        assert_eq!(render(&json!(""), Format::Smart), "");
        assert_eq!(render(&json!(42), Format::Smart), "42\n");
        assert_eq!(render(&json!(["a", "b"]), Format::Smart), "a\nb\n");
        assert_eq!(render(&json!([]), Format::Smart), "");
    }

    #[test]
    fn maps_print_as_yaml() {
        let v = json!({"b": "x", "a": 1, "c": true, "d": "true", "e": "", "f": ["p", "q"], "g": {"h": "i"}});
        assert_eq!(
            render(&v, Format::Smart),
            "a: 1\nb: x\nc: true\nd: \"true\"\ne: \"\"\nf:\n- p\n- q\ng:\n  h: i\n"
        );
        assert_eq!(render(&json!({}), Format::Yaml), "{}\n");
        assert_eq!(
            render(&json!([{"a": 1, "b": 2}]), Format::Yaml),
            "- a: 1\n  b: 2\n"
        );
    }

    #[test]
    fn json_is_compact() {
        assert_eq!(render(&json!({"a": "b"}), Format::Json), "{\"a\":\"b\"}\n");
        assert_eq!(render(&json!(null), Format::Json), "null\n");
    }
}
