//! Client strings that become hook-tool arguments, checked for what Juju accepts there.
//!
//! Every string a client sends is data. A hook tool parses its command line with gnuflag,
//! so a word starting with `-` would be read as a flag (`--output=FILE` makes the agent
//! write a file as root, `--file=FILE` read one). The rule, for every tool call:
//! - names (relation ids, units, applications, keys, resources) are checked here against
//!   what Juju itself allows, which never starts with `-`;
//! - positional words go after `--`, so even a valid word is never parsed as a flag;
//! - free text (log lines, messages) goes after `--` too, with a size bound that keeps it
//!   under the kernel's limit for one argument;
//! - `relation-set` values go as YAML on stdin (`--file -`), never on the command line.

/// Longest free text passed as one argument. Linux refuses a single argv word over
/// 128 KiB (E2BIG), which would make the tool call fail for a reason nobody sees.
pub(crate) const MAX_TEXT: usize = 32 * 1024;
/// Longest name (key, relation, unit, resource).
pub(crate) const MAX_NAME: usize = 256;

#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid {what} {value:?}: {expected}")]
pub(crate) struct ArgError {
    pub(crate) what: &'static str,
    pub(crate) value: String,
    pub(crate) expected: &'static str,
}

fn check<'a>(
    what: &'static str,
    value: &'a str,
    expected: &'static str,
    ok: bool,
) -> Result<&'a str, ArgError> {
    if ok && !value.is_empty() && value.len() <= MAX_NAME {
        Ok(value)
    } else {
        let mut shown = value.to_string();
        if shown.len() > 64 {
            let mut end = 64;
            while !shown.is_char_boundary(end) {
                end -= 1;
            }
            shown.truncate(end);
            shown.push('…');
        }
        Err(ArgError {
            what,
            value: shown,
            expected,
        })
    }
}

/// A charm relation or application name: lowercase letters, digits, `-` (and `_` in
/// relation names), starting with a letter.
fn is_name(value: &str, extra: char) -> bool {
    value.starts_with(|c: char| c.is_ascii_lowercase())
        && !value.ends_with('-')
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == extra)
}

fn is_number(value: &str) -> bool {
    !value.is_empty() && value.len() <= 10 && value.chars().all(|c| c.is_ascii_digit())
}

/// `-r`'s value: `NAME:ID` or a bare relation `ID`, as Juju takes it.
pub(crate) fn relation_id(value: &str) -> Result<&str, ArgError> {
    let ok = match value.split_once(':') {
        Some((name, id)) => is_name(name, '_') && is_number(id),
        None => is_number(value),
    };
    check(
        "relation id",
        value,
        "use NAME:ID as Juju gives it in JUJU_RELATION_ID, e.g. db:3",
        ok,
    )
}

/// A relation name as in metadata.yaml (`relation-ids NAME`).
pub(crate) fn relation_name(value: &str) -> Result<&str, ArgError> {
    check(
        "relation name",
        value,
        "use the name from metadata.yaml: lowercase letters, digits, '-' and '_', starting with a letter",
        is_name(value, '_'),
    )
}

/// A unit (`app/3`) or, for application data, an application name (`app`).
pub(crate) fn unit_or_app(value: &str) -> Result<&str, ArgError> {
    let ok = match value.split_once('/') {
        Some((app, n)) => is_name(app, '-') && is_number(n),
        None => is_name(value, '-'),
    };
    check(
        "unit",
        value,
        "use a unit name like app/0 (or an application name with --app)",
        ok,
    )
}

/// A relation or leadership setting key: non-empty, no `=`, no spaces or control
/// characters, not starting with `-`.
pub(crate) fn setting_key(value: &str) -> Result<&str, ArgError> {
    check(
        "key",
        value,
        "keys are non-empty, do not start with '-', and have no '=', spaces or control characters",
        !value.starts_with('-')
            && !value
                .chars()
                .any(|c| c == '=' || c.is_whitespace() || c.is_control()),
    )
}

/// An action parameter or result key: dot-separated parts of lowercase letters, digits
/// and `-`, each starting and ending with a letter or digit (Juju's rule).
pub(crate) fn action_key(value: &str) -> Result<&str, ArgError> {
    let part_ok = |p: &str| {
        let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
        p.starts_with(alnum) && p.ends_with(alnum) && p.chars().all(|c| alnum(c) || c == '-')
    };
    check(
        "action key",
        value,
        "use lowercase letters, digits and '-', in parts separated by '.', e.g. result.url",
        value.split('.').all(part_ok),
    )
}

/// A resource name as in metadata.yaml.
pub(crate) fn resource_name(value: &str) -> Result<&str, ArgError> {
    check(
        "resource name",
        value,
        "use the name from metadata.yaml: letters, digits, '-', '_' and '.', starting with a letter or digit",
        value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')),
    )
}

/// Free text for one argument (it goes after `--`): bounded in size.
pub(crate) fn text<'a>(what: &'static str, value: &'a str) -> Result<&'a str, ArgError> {
    if value.len() <= MAX_TEXT && !value.contains('\0') {
        Ok(value)
    } else {
        Err(ArgError {
            what,
            value: format!("{} bytes", value.len()),
            expected: "at most 32 KiB, without NUL bytes",
        })
    }
}

/// `relation-set --file -` input: a YAML map (JSON is YAML) of the settings, with ""
/// for a deleted key, so no value is ever a command-line word.
pub(crate) fn settings_yaml(pairs: &[(String, Option<String>)]) -> Result<String, ArgError> {
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        setting_key(k)?;
        map.insert(
            k.clone(),
            serde_json::Value::String(v.clone().unwrap_or_default()),
        );
    }
    // A map of strings always encodes.
    Ok(serde_json::Value::Object(map).to_string())
}

/// `KEY=VALUE` words for `leader-set` / `action-set`, which take no file. They go after
/// `--`, and the key, checked, never starts with `-`; the value follows the `=`.
pub(crate) fn pair_words(
    pairs: &[(String, Option<String>)],
    key_ok: fn(&str) -> Result<&str, ArgError>,
) -> Result<Vec<String>, ArgError> {
    pairs
        .iter()
        .map(|(k, v)| {
            key_ok(k)?;
            let v = v.as_deref().unwrap_or("");
            text("value", v)?;
            Ok(format!("{k}={v}"))
        })
        .collect()
}

/// `text` cut to at most `max` bytes on a character boundary.
pub(crate) fn truncated(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// A storage name as in metadata.yaml (`data`, `pg-wal`).
pub(crate) fn storage_name(value: &str) -> Result<&str, ArgError> {
    check(
        "storage name",
        value,
        "use the name from metadata.yaml: lowercase letters, digits and '-', starting with a letter",
        is_name(value, '-'),
    )
}

/// A storage instance id as storage-list prints it: `NAME/NUMBER`.
pub(crate) fn storage_id(value: &str) -> Result<&str, ArgError> {
    let ok = value
        .split_once('/')
        .is_some_and(|(name, n)| is_name(name, '-') && is_number(n));
    check(
        "storage id",
        value,
        "use an id as `lucky storage list` prints it, e.g. data/0",
        ok,
    )
}

/// A secret id as Juju prints it: `secret:` and 20 characters of base32hex (an xid),
/// optionally with the model's `//UUID/`, or the bare 20 characters.
pub(crate) fn secret_id(value: &str) -> Result<&str, ArgError> {
    check(
        "secret id",
        value,
        "use the id secret-add printed (or JUJU_SECRET_ID), e.g. secret:9m4e2mr0ui3e8a215n4g",
        bare_secret_id(value).is_some(),
    )
}

/// The 20-character id (an xid in base32hex) of `secret:ID`, `secret://UUID/ID` or a
/// bare ID; None when it is not one.
pub(crate) fn bare_secret_id(value: &str) -> Option<&str> {
    let rest = value.strip_prefix("secret:").unwrap_or(value);
    let rest = rest
        .strip_prefix("//")
        .map_or(rest, |r| r.split_once('/').map_or(r, |(_, id)| id));
    let ok = rest.len() == 20
        && rest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'v').contains(&b));
    ok.then_some(rest)
}

/// A network binding: an endpoint or extra-binding name from metadata.yaml.
pub(crate) fn binding_name(value: &str) -> Result<&str, ArgError> {
    check(
        "binding",
        value,
        "use an endpoint or extra-binding name from metadata.yaml",
        is_name(value, '_'),
    )
}

/// A secret content key, as Juju allows it: a lowercase letter, then at least two more
/// lowercase letters or digits, single '-' between them; `#base64` may follow.
pub(crate) fn secret_key(value: &str) -> Result<&str, ArgError> {
    let key = value.strip_suffix("#base64").unwrap_or(value);
    let b = key.as_bytes();
    let mut ok = b.len() >= 3 && b[0].is_ascii_lowercase() && !key.ends_with('-');
    let mut alnum = 0;
    let mut prev_hyphen = false;
    for &c in b.iter().skip(1) {
        if c == b'-' {
            ok &= !prev_hyphen;
            prev_hyphen = true;
        } else {
            ok &= c.is_ascii_lowercase() || c.is_ascii_digit();
            alnum += 1;
            prev_hyphen = false;
        }
    }
    check(
        "secret key",
        value,
        "use 3 or more lowercase letters and digits, starting with a letter, single '-' between them (e.g. db-password)",
        ok && alnum >= 2,
    )
}

/// A value given as `--flag=VALUE` (one word, so gnuflag never reads it as a flag of its
/// own): bounded, no NUL, no newline.
pub(crate) fn flag_value<'a>(what: &'static str, value: &'a str) -> Result<&'a str, ArgError> {
    check(
        what,
        value,
        "use one line of at most 256 bytes",
        !value.contains(['\0', '\n', '\r']),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_juju_accepts_and_flags_it_would_misread() {
        for ok in ["db:3", "3", "my_rel-2:10"] {
            assert!(relation_id(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-r",
            "--output=/etc/x",
            "db:",
            "db:x",
            ":3",
            "db:3 -x",
            "Db:3",
        ] {
            assert!(relation_id(bad).is_err(), "{bad}");
        }
        for ok in ["app/0", "my-app/12", "app"] {
            assert!(unit_or_app(ok).is_ok(), "{ok}");
        }
        for bad in ["-", "--file=/x", "app/", "app/-1", "/0", "App/0", "a/0/1"] {
            assert!(unit_or_app(bad).is_err(), "{bad}");
        }
        for bad in ["-x", "--output=/x", "a=b", "a b", "", "a\nb"] {
            assert!(setting_key(bad).is_err(), "{bad}");
        }
        assert!(setting_key("my.key_1").is_ok());
        assert!(action_key("result.url").is_ok());
        for bad in ["-x", "Result", "a..b", "a-", ".a"] {
            assert!(action_key(bad).is_err(), "{bad}");
        }
        assert!(resource_name("image.tar").is_ok());
        assert!(resource_name("--output=/x").is_err());
        assert!(text("message", &"x".repeat(MAX_TEXT + 1)).is_err());
        assert!(storage_id("data/0").is_ok());
        for bad in ["data", "-s", "data/", "Data/0", "data/0/1", "/0"] {
            assert!(storage_id(bad).is_err(), "{bad}");
        }
        assert!(storage_name("pg-wal").is_ok());
        assert!(storage_name("--output=/x").is_err());
        assert!(secret_id("secret:9m4e2mr0ui3e8a215n4g").is_ok());
        assert!(secret_id("9m4e2mr0ui3e8a215n4g").is_ok());
        for bad in ["--label=x", "secret:", "secret:9m4e2mr0ui3e8a215n4", "-r"] {
            assert!(secret_id(bad).is_err(), "{bad}");
        }
        for ok in ["password", "db-pass", "key#base64", "a12"] {
            assert!(secret_key(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "-abc", "Pass", "a--b", "abc-", "a_b_c", "a-b"] {
            assert!(secret_key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn settings_go_as_yaml() {
        let yaml = settings_yaml(&[
            ("url".into(), Some("--output=/etc/shadow".into())),
            ("gone".into(), None),
        ])
        .expect("valid");
        assert_eq!(yaml, r#"{"gone":"","url":"--output=/etc/shadow"}"#);
    }
}
