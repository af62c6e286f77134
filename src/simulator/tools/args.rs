//! A gnuflag-like parser, as strict as Juju's: flags may be interspersed with arguments,
//! `--` ends flags, an undeclared flag is an error (exit 2).

use super::ToolError;
use crate::simulator::format::Format;
use std::collections::HashMap;

pub(crate) struct Flag {
    /// Long names (`format`) and one-letter names (`r`); the first is the canonical key.
    pub(crate) names: &'static [&'static str],
    pub(crate) takes_value: bool,
}

pub(crate) const fn flag(names: &'static [&'static str]) -> Flag {
    Flag {
        names,
        takes_value: false,
    }
}

pub(crate) const fn option(names: &'static [&'static str]) -> Flag {
    Flag {
        names,
        takes_value: true,
    }
}

pub(crate) const FORMAT: Flag = option(&["format"]);
pub(crate) const OUTPUT: Flag = option(&["output", "o"]);

#[derive(Debug, Default)]
pub(crate) struct Parsed {
    values: HashMap<&'static str, String>,
    pub(crate) args: Vec<String>,
}

impl Parsed {
    pub(crate) fn has(&self, name: &str) -> bool {
        self.values.get(name).is_some_and(|v| v != "false")
    }

    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    pub(crate) fn format(&self) -> Result<Format, ToolError> {
        match self.value("format") {
            None => Ok(Format::Smart),
            Some(f) => Format::parse(f).ok_or_else(|| {
                ToolError::usage(format!(
                    "invalid value \"{f}\" for option --format: unknown format \"{f}\""
                ))
            }),
        }
    }

    /// At most `max` positional arguments; Juju rejects the rest.
    pub(crate) fn at_most(&self, max: usize) -> Result<(), ToolError> {
        if self.args.len() > max {
            return Err(ToolError::usage(format!(
                "unrecognized args: {:?}",
                &self.args[max..]
            )));
        }
        Ok(())
    }
}

pub(crate) fn parse(flags: &[&Flag], argv: &[String]) -> Result<Parsed, ToolError> {
    let mut parsed = Parsed::default();
    let mut i = 0;
    while i < argv.len() {
        let arg = &argv[i];
        i += 1;
        if arg == "--" {
            parsed.args.extend(argv[i..].iter().cloned());
            break;
        }
        let (name, inline, dashes) = if let Some(rest) = arg.strip_prefix("--") {
            match rest.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string()), "--"),
                None => (rest, None, "--"),
            }
        } else if let Some(rest) = arg.strip_prefix('-').filter(|r| !r.is_empty()) {
            // `-r db:1`, `-r=db:1`, `-rdb:1`; a one-letter name only.
            let mut chars = rest.chars();
            let first = chars.next().unwrap_or('-');
            let tail = chars.as_str();
            let name = &rest[..first.len_utf8()];
            let value = tail.strip_prefix('=').unwrap_or(tail);
            (name, (!tail.is_empty()).then(|| value.to_string()), "-")
        } else {
            parsed.args.push(arg.clone());
            continue;
        };
        let spec = flags
            .iter()
            .find(|f| f.names.contains(&name) && (dashes == "--") == (name.len() > 1));
        let Some(spec) = spec else {
            return Err(ToolError::usage(format!(
                "flag provided but not defined: {dashes}{name}"
            )));
        };
        let key = spec.names[0];
        if spec.takes_value {
            let value = match inline {
                Some(v) => v,
                None => {
                    let Some(v) = argv.get(i) else {
                        return Err(ToolError::usage(format!(
                            "flag needs an argument: {dashes}{name}"
                        )));
                    };
                    i += 1;
                    v.clone()
                }
            };
            parsed.values.insert(key, value);
        } else {
            let value = match inline.as_deref() {
                None | Some("true") => "true",
                Some("false") => "false",
                Some(v) => {
                    return Err(ToolError::usage(format!(
                        "invalid boolean value \"{v}\" for flag {dashes}{name}"
                    )));
                }
            };
            parsed.values.insert(key, value.to_string());
        }
    }
    Ok(parsed)
}

/// `key=value` arguments in order. An empty value means "delete" to the callers that allow it.
pub(crate) fn key_values(args: &[String]) -> Result<Vec<(String, String)>, ToolError> {
    args.iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(ToolError::usage(format!(
                "expected \"key=value\", got \"{a}\""
            ))),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn parses_interspersed_flags() {
        let r = option(&["relation", "r"]);
        let app = flag(&["app"]);
        let p = parse(
            &[&r, &app, &FORMAT],
            &s(&["key", "-r", "db:1", "--app", "--format=json"]),
        )
        .expect("parses");
        assert_eq!(p.value("relation"), Some("db:1"));
        assert!(p.has("app"));
        assert_eq!(p.args, s(&["key"]));
        let p = parse(&[&r], &s(&["-rdb:2", "--", "-x"])).expect("parses");
        assert_eq!(p.value("relation"), Some("db:2"));
        assert_eq!(p.args, s(&["-x"]));
    }

    #[test]
    fn rejects_unknown_and_missing() {
        let e = parse(&[&FORMAT], &s(&["--bogus"])).expect_err("unknown");
        assert_eq!(e.code, 2);
        assert!(parse(&[&FORMAT], &s(&["--format"])).is_err());
        // Long names need two dashes, as in gnuflag.
        assert!(parse(&[&FORMAT], &s(&["-format", "json"])).is_err());
        assert_eq!(parse(&[&FORMAT], &s(&["-"])).expect("dash").args, s(&["-"]));
    }
}
