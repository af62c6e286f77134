//! secret-add, secret-get, secret-set, secret-ids, secret-info-get, secret-grant,
//! secret-revoke, secret-remove: Juju's rules for owners, revisions, labels and grants.
//!
//! They work on the hook's staged copy, so a new secret, a new revision, a grant, a
//! removal and even the revision a `secret-get` starts tracking are committed only when
//! the hook exits 0. Errors in the arguments exit 2 (Juju's `Init`), refusals exit 1.
//!
//! This file holds what the tools share (flags, ids, content, metadata, ownership) and the
//! tools that write a secret; `read` has secret-get, secret-ids and secret-info-get, and
//! `grant` secret-grant and secret-revoke.

mod grant;
mod read;

pub(crate) use grant::{secret_grant, secret_revoke};
pub(crate) use read::{secret_get, secret_ids, secret_info_get};

use super::args::{self, OUTPUT, Parsed, flag, option};
use super::{Ctx, ToolError, ToolResult};
use crate::release::verify::base64_encode;
use crate::simulator::state::{Bag, Secret, random_hex};
use serde_json::Value;

const FORMAT: args::Flag = option(&["format"]);
const LABEL: args::Flag = option(&["label"]);
const DESCRIPTION: args::Flag = option(&["description"]);
const EXPIRE: args::Flag = option(&["expire"]);
const ROTATE: args::Flag = option(&["rotate"]);
const FILE: args::Flag = option(&["file"]);
const OWNER: args::Flag = option(&["owner"]);
const PEEK: args::Flag = flag(&["peek"]);
const REFRESH: args::Flag = flag(&["refresh"]);
const UNIT: args::Flag = option(&["unit"]);
const APP: args::Flag = option(&["app", "application"]);
const RELATION: args::Flag = option(&["relation", "r"]);
const REVISION: args::Flag = option(&["revision"]);

const NOT_LEADER: &str = "this unit is not the leader";
const ROTATE_POLICIES: &[&str] = &[
    "never",
    "hourly",
    "daily",
    "weekly",
    "monthly",
    "quarterly",
    "yearly",
];

/// `secret:ID`, `secret://UUID/ID` or a bare ID → the bare 20-character ID (xid).
pub(crate) fn parse_uri(given: &str) -> Option<String> {
    crate::juju::args::bare_secret_id(given).map(str::to_string)
}

fn uri_arg(given: &str) -> Result<String, ToolError> {
    parse_uri(given).ok_or_else(|| ToolError::usage(format!("secret URI {given:?} not valid")))
}

/// A new xid-like id: 20 characters of base32hex.
pub(crate) fn new_id() -> String {
    const ALPHABET: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";
    random_hex(20)
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let byte =
                u8::from_str_radix(std::str::from_utf8(pair).unwrap_or("0"), 16).unwrap_or(0);
            ALPHABET[usize::from(byte % 32)] as char
        })
        .collect()
}

/// Juju's secret key rule: a lowercase letter, then at least two more letters or digits,
/// single hyphens allowed between them.
pub(crate) fn valid_key(key: &str) -> bool {
    let b = key.as_bytes();
    if b.len() < 3 || !b[0].is_ascii_lowercase() || b[b.len() - 1] == b'-' {
        return false;
    }
    let mut alnum_after_first = 0;
    let mut prev_hyphen = false;
    for &c in &b[1..] {
        if c == b'-' {
            if prev_hyphen {
                return false;
            }
            prev_hyphen = true;
        } else if c.is_ascii_lowercase() || c.is_ascii_digit() {
            alnum_after_first += 1;
            prev_hyphen = false;
        } else {
            return false;
        }
    }
    alnum_after_first >= 2
}

/// One `key[#base64|#file]=value` into the stored (base64) form.
fn put(data: &mut Bag, key: &str, value: &str) -> Result<(), ToolError> {
    let bad_key = |k: &str| ToolError::usage(format!("key {k:?} not valid"));
    if let Some(k) = key.strip_suffix("#base64") {
        if !valid_key(k) {
            return Err(bad_key(k));
        }
        data.insert(k.to_string(), value.to_string());
    } else if let Some(k) = key.strip_suffix("#file") {
        if !valid_key(k) {
            return Err(bad_key(k));
        }
        let bytes = std::fs::read(value)
            .map_err(|e| ToolError::usage(format!("cannot read {value}: {e}")))?;
        data.insert(k.to_string(), base64_encode(&bytes));
    } else {
        if !valid_key(key) {
            return Err(bad_key(key));
        }
        data.insert(key.to_string(), base64_encode(value.as_bytes()));
    }
    Ok(())
}

/// The content given as arguments and `--file` (a JSON or YAML map), as Juju reads it.
fn content(p: &Parsed, words: &[String]) -> Result<Bag, ToolError> {
    let mut data = Bag::new();
    for word in words {
        // Base64 padding is not the separator: `key#base64=AA==`.
        let idx = word.trim_end_matches('=').find('=').filter(|i| *i >= 1);
        let Some(idx) = idx else {
            return Err(ToolError::usage(format!("key value {word:?} not valid")));
        };
        put(&mut data, &word[..idx], &word[idx + 1..])?;
    }
    if let Some(path) = p.value("file") {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ToolError::usage(format!("open {path}: {e}")))?;
        let parsed: Value = serde_json::from_str(&text)
            .or_else(|_| serde_saphyr::from_str::<Value>(&text))
            .map_err(|e| ToolError::usage(format!("cannot parse {path}: {e}")))?;
        let Value::Object(map) = parsed else {
            return Err(ToolError::usage(format!(
                "{path} does not hold a map of secret keys and values"
            )));
        };
        for (k, v) in map {
            let v = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            put(&mut data, &k, &v)?;
        }
    }
    Ok(data)
}

/// The metadata flags shared by secret-add and secret-set, checked as Juju's Init does.
struct Upsert {
    label: Option<String>,
    description: Option<String>,
    rotate: Option<String>,
    expire: Option<String>,
}

fn upsert(p: &Parsed) -> Result<Upsert, ToolError> {
    let rotate = p.value("rotate").map(str::to_string);
    if let Some(r) = &rotate
        && !ROTATE_POLICIES.contains(&r.as_str())
    {
        return Err(ToolError::usage(format!("rotate policy {r:?} not valid")));
    }
    let expire = match p.value("expire") {
        None => None,
        Some(spec) => Some(expire_time(spec)?),
    };
    if let Some(owner) = p.value("owner")
        && owner != "application"
        && owner != "unit"
    {
        return Err(ToolError::usage(format!(
            "secret owner {owner:?} not valid"
        )));
    }
    Ok(Upsert {
        label: p.value("label").map(str::to_string),
        description: p.value("description").map(str::to_string),
        rotate,
        expire,
    })
}

/// `--expire`: an RFC 3339 time (with or without zone) or a positive Go duration
/// (`24h`, `90m`, `1h30m`, `45s`), as an RFC 3339 UTC time.
fn expire_time(spec: &str) -> Result<String, ToolError> {
    let bad = || ToolError::usage(format!("expire time or duration {spec:?} not valid"));
    let looks_like_time = spec.len() >= 19
        && spec.as_bytes().get(4) == Some(&b'-')
        && spec.as_bytes().get(10) == Some(&b'T');
    if looks_like_time {
        return Ok(if spec.len() == 19 {
            format!("{spec}Z")
        } else {
            spec.to_string()
        });
    }
    let mut secs: u64 = 0;
    let mut number = String::new();
    for c in spec.chars() {
        if c.is_ascii_digit() {
            number.push(c);
            continue;
        }
        let n: u64 = number.parse().map_err(|_| bad())?;
        number.clear();
        secs += n * match c {
            'h' => 3600,
            'm' => 60,
            's' => 1,
            _ => return Err(bad()),
        };
    }
    if !number.is_empty() {
        return Err(bad());
    }
    if secs == 0 {
        return Err(ToolError::usage(format!(
            "negative expire duration {spec:?} not valid"
        )));
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs()
        + secs;
    let (y, m, d) = crate::calendar::civil_from_days((now / 86_400) as i64);
    let rem = now % 86_400;
    Ok(format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    ))
}

/// The owned secret `id` (this unit's, or its application's), or Juju's not-found.
fn owned<'a>(ctx: &'a mut Ctx, id: &str) -> Result<&'a mut Secret, ToolError> {
    ctx.changed = true;
    ctx.hook
        .staged
        .secrets
        .get_mut(id)
        .filter(|s| s.owned())
        .ok_or_else(|| ToolError::fail(format!("secret {id:?} not found")))
}

/// Only the leader manages application-owned secrets.
fn check_manager(leader: bool, secret: &Secret) -> Result<(), ToolError> {
    if secret.owner == "application" && !leader {
        return Err(ToolError::fail(NOT_LEADER));
    }
    Ok(())
}

/// `--format` for the tools that offer only yaml (default) and json.
fn yaml_or_json(p: &Parsed) -> Result<bool, ToolError> {
    match p.value("format") {
        None | Some("yaml") => Ok(false),
        Some("json") => Ok(true),
        Some(f) => Err(ToolError::usage(format!(
            "invalid value \"{f}\" for option --format: unknown format \"{f}\""
        ))),
    }
}

fn write_out(p: &Parsed, text: String) -> ToolResult {
    if let Some(path) = p.value("output") {
        std::fs::write(path, &text)
            .map_err(|e| ToolError::fail(format!("cannot write {path}: {e}")))?;
        return Ok(Vec::new());
    }
    Ok(text.into_bytes())
}

fn label_taken(ctx: &Ctx, label: &str, except: Option<&str>) -> bool {
    ctx.hook
        .staged
        .secrets
        .iter()
        .any(|(id, s)| s.label == label && Some(id.as_str()) != except)
}

pub(crate) fn secret_add(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(
        &[&EXPIRE, &ROTATE, &DESCRIPTION, &LABEL, &FILE, &OWNER],
        argv,
    )?;
    if p.args.is_empty() && p.value("file").is_none() {
        return Err(ToolError::usage("missing secret value or filename"));
    }
    let meta = upsert(&p)?;
    let data = content(&p, &p.args)?;
    let unit_owned = p.value("owner") == Some("unit");
    if !unit_owned && !ctx.state.leader {
        return Err(ToolError::fail(NOT_LEADER));
    }
    if data.is_empty() {
        return Err(ToolError::fail("empty secret value not valid"));
    }
    if let Some(label) = &meta.label
        && label_taken(ctx, label, None)
    {
        return Err(ToolError::fail(format!(
            "secret with label {label:?} already exists"
        )));
    }
    let id = new_id();
    let secret = Secret {
        owner: if unit_owned { "unit" } else { "application" }.into(),
        owner_id: if unit_owned {
            ctx.state.unit.clone()
        } else {
            ctx.state.app().to_string()
        },
        label: meta.label.unwrap_or_default(),
        description: meta.description.unwrap_or_default(),
        rotate: meta.rotate,
        expire: meta.expire,
        revisions: [(1, data)].into_iter().collect(),
        tracked: None,
        grants: Vec::new(),
    };
    ctx.data().secrets.insert(id.clone(), secret);
    Ok(format!("secret:{id}\n").into_bytes())
}

pub(crate) fn secret_set(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(
        &[&EXPIRE, &ROTATE, &DESCRIPTION, &LABEL, &FILE, &OWNER],
        argv,
    )?;
    let Some(first) = p.args.first() else {
        return Err(ToolError::usage("missing secret URI"));
    };
    let id = uri_arg(first)?;
    let meta = upsert(&p)?;
    let data = content(&p, &p.args[1..])?;
    if let Some(label) = &meta.label
        && label_taken(ctx, label, Some(&id))
    {
        return Err(ToolError::fail(format!(
            "secret with label {label:?} already exists"
        )));
    }
    let leader = ctx.state.leader;
    let secret = owned(ctx, &id)?;
    check_manager(leader, secret)?;
    let latest = secret.latest();
    // Only different content makes a revision, as Juju compares checksums.
    if !data.is_empty() && secret.revisions.get(&latest) != Some(&data) {
        secret.revisions.insert(latest + 1, data);
    }
    if let Some(label) = meta.label {
        secret.label = label;
    }
    if let Some(d) = meta.description {
        secret.description = d;
    }
    if meta.rotate.is_some() {
        secret.rotate = meta.rotate;
    }
    if meta.expire.is_some() {
        secret.expire = meta.expire;
    }
    Ok(Vec::new())
}

pub(crate) fn secret_remove(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[&REVISION], argv)?;
    let Some(first) = p.args.first() else {
        return Err(ToolError::usage("missing secret URI"));
    };
    let id = uri_arg(first)?;
    p.at_most(1)?;
    let revision = match p.value("revision") {
        None => 0,
        Some(r) => r.parse::<u32>().map_err(|_| {
            ToolError::usage(format!(
                "invalid value \"{r}\" for flag --revision: parse error"
            ))
        })?,
    };
    let leader = ctx.state.leader;
    let secret = owned(ctx, &id)?;
    check_manager(leader, secret)?;
    if revision > 0 {
        if secret.revisions.remove(&revision).is_none() {
            return Err(ToolError::fail(format!(
                "secret revision {revision} for {id:?} not found"
            )));
        }
        if !secret.revisions.is_empty() {
            return Ok(Vec::new());
        }
    }
    ctx.data().secrets.remove(&id);
    Ok(Vec::new())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_as_juju_takes_them() {
        for ok in ["abc", "pass-word", "a1b", "db-pass-2"] {
            assert!(valid_key(ok), "{ok}");
        }
        for bad in ["ab", "Abc", "a--b", "abc-", "-abc", "a_bc", "1abc", "a-b"] {
            assert!(!valid_key(bad), "{bad}");
        }
    }

    #[test]
    fn uris() {
        let id = new_id();
        assert_eq!(id.len(), 20);
        assert_eq!(parse_uri(&format!("secret:{id}")), Some(id.clone()));
        assert_eq!(parse_uri(&id), Some(id.clone()));
        assert_eq!(parse_uri("secret:nope"), None);
        assert_eq!(parse_uri("--label=x"), None);
    }
}
