//! The tools that read secrets: secret-get (which also tracks and refreshes revisions),
//! secret-ids and secret-info-get, in Juju's output formats.

use super::{FORMAT, LABEL, OUTPUT, PEEK, REFRESH, uri_arg, write_out, yaml_or_json};
use crate::release::verify::base64_decode;
use crate::simulator::state::Secret;
use crate::simulator::tools::args;
use crate::simulator::tools::{Ctx, ToolError, ToolResult};
use serde_json::{Map, Value};

pub(crate) fn secret_get(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[&FORMAT, &OUTPUT, &LABEL, &PEEK, &REFRESH], argv)?;
    let id = p.args.first().map(|a| uri_arg(a)).transpose()?;
    let label = p.value("label").map(str::to_string);
    if id.is_none() && label.is_none() {
        return Err(ToolError::usage("require either a secret URI or label"));
    }
    let (peek, refresh) = (p.has("peek"), p.has("refresh"));
    if peek && refresh {
        return Err(ToolError::usage(
            "specify one of --peek or --refresh but not both",
        ));
    }
    let key = p.args.get(1).cloned();
    if p.args.len() > 2 {
        return Err(ToolError::usage(format!(
            "unrecognized args: {:?}",
            &p.args[2..]
        )));
    }
    let json = yaml_or_json(&p)?;
    let id = match id {
        Some(id) => id,
        None => {
            let label = label.clone().unwrap_or_default();
            ctx.hook
                .staged
                .secrets
                .iter()
                .find(|(_, s)| s.label == label)
                .map(|(id, _)| id.clone())
                .ok_or_else(|| ToolError::fail(format!("secret with label {label:?} not found")))?
        }
    };
    let secrets = &mut ctx.data().secrets;
    let Some(secret) = secrets.get_mut(&id) else {
        return Err(ToolError::fail(format!("secret {id:?} not found")));
    };
    if let Some(label) = label {
        secret.label = label;
    }
    let latest = secret.latest();
    let revision = if peek {
        latest
    } else if refresh {
        secret.tracked = Some(latest);
        latest
    } else {
        *secret.tracked.get_or_insert(latest)
    };
    let encoded = secret.revisions.get(&revision).cloned().unwrap_or_default();
    let undecodable =
        |k: &str| ToolError::fail(format!("secret value of {k:?} is not valid base64"));
    let decode = |k: &str, v: &str| {
        base64_decode(v)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|_| undecodable(k))
    };
    let value = match key {
        None => {
            let mut map = Map::new();
            for (k, v) in &encoded {
                map.insert(k.clone(), Value::String(decode(k, v)?));
            }
            Value::Object(map)
        }
        Some(key) => {
            let (name, raw) = match key.strip_suffix("#base64") {
                Some(name) => (name.to_string(), true),
                None => (key.clone(), false),
            };
            let Some(v) = encoded.get(&name) else {
                return Err(ToolError::fail(format!(
                    "secret key value {name:?} not found"
                )));
            };
            Value::String(if raw { v.clone() } else { decode(&name, v)? })
        }
    };
    let text = if json {
        format!("{value}\n")
    } else {
        crate::simulator::format::yaml(&value)
    };
    write_out(&p, text)
}

pub(crate) fn secret_ids(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[&FORMAT, &OUTPUT], argv)?;
    p.at_most(0)?;
    let ids: Vec<Value> = ctx
        .hook
        .staged
        .secrets
        .iter()
        .filter(|(_, s)| s.owned())
        .map(|(id, _)| Value::String(id.clone()))
        .collect();
    crate::simulator::tools::output(&p, &Value::Array(ids))
}

pub(crate) fn secret_info_get(ctx: &mut Ctx, argv: &[String]) -> ToolResult {
    let p = args::parse(&[&FORMAT, &OUTPUT, &LABEL], argv)?;
    let id = p.args.first().map(|a| uri_arg(a)).transpose()?;
    let label = p.value("label");
    match (&id, label) {
        (None, None) => return Err(ToolError::usage("require either a secret URI or label")),
        (Some(_), Some(_)) => {
            return Err(ToolError::usage(
                "specify either a secret URI or label but not both",
            ));
        }
        _ => {}
    }
    p.at_most(usize::from(id.is_some()))?;
    let json = yaml_or_json(&p)?;
    let owned = ctx.hook.staged.secrets.iter().filter(|(_, s)| s.owned());
    let found = match (&id, label) {
        (Some(id), _) => owned.into_iter().find(|(i, _)| *i == id),
        (None, Some(label)) => owned.into_iter().find(|(_, s)| s.label == label),
        (None, None) => None,
    };
    let Some((id, secret)) = found else {
        let want = id.as_deref().or(label).unwrap_or_default();
        return Err(ToolError::fail(format!("secret {want:?} not found")));
    };
    write_out(&p, info_text(id, secret, json))
}

/// secret-info-get's document, fields in Juju's order (not sorted), omitempty as Juju.
fn info_text(id: &str, s: &Secret, json: bool) -> String {
    let mut fields: Vec<(&str, Value)> = vec![
        ("revision", Value::from(s.latest())),
        ("label", Value::String(s.label.clone())),
        ("owner", Value::String(s.owner.clone())),
    ];
    if !s.description.is_empty() {
        fields.push(("description", Value::String(s.description.clone())));
    }
    if let Some(r) = &s.rotate {
        fields.push(("rotation", Value::String(r.clone())));
    }
    if let Some(e) = &s.expire {
        fields.push(("expiry", Value::String(e.clone())));
    }
    let access: Vec<[(&str, &str); 3]> = s
        .grants
        .iter()
        .map(|g| {
            [
                ("target", g.target.as_str()),
                ("scope", g.scope.as_str()),
                ("role", "view"),
            ]
        })
        .collect();
    if json {
        let mut parts: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        if !access.is_empty() {
            let items: Vec<String> = access
                .iter()
                .map(|a| {
                    let kv: Vec<String> = a
                        .iter()
                        .map(|(k, v)| format!("\"{k}\":{}", Value::String((*v).to_string())))
                        .collect();
                    format!("{{{}}}", kv.join(","))
                })
                .collect();
            parts.push(format!("\"access\":[{}]", items.join(",")));
        }
        return format!(
            "{{{}:{{{}}}}}\n",
            Value::String(id.to_string()),
            parts.join(",")
        );
    }
    let scalar = |v: &Value| {
        // One scalar's YAML, without its newline.
        crate::simulator::format::yaml(v).trim_end().to_string()
    };
    let mut out = format!("{id}:\n");
    for (k, v) in &fields {
        out.push_str(&format!("  {k}: {}\n", scalar(v)));
    }
    if !access.is_empty() {
        out.push_str("  access:\n");
        for a in &access {
            for (i, (k, v)) in a.iter().enumerate() {
                let lead = if i == 0 { "  - " } else { "    " };
                out.push_str(&format!(
                    "{lead}{k}: {}\n",
                    scalar(&Value::String((*v).to_string()))
                ));
            }
        }
    }
    out
}
