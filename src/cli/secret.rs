//! `lucky secret add|get|set|ids|info-get|grant|revoke|remove`: Juju secrets.

use super::output::{self, FormatArg};
use super::{CliResult, Failure, request, request_value};
use crate::protocol::Request;
use crate::protocol::secret::{SecretMeta, SecretRequest};
use clap::{Args, Subcommand};
use serde_json::Value;
use std::path::PathBuf;

#[derive(Args)]
pub(crate) struct MetaArgs {
    /// A label to find the secret by in later hooks (unique for its owner)
    #[arg(long)]
    label: Option<String>,
    #[arg(long)]
    description: Option<String>,
    /// When the secret expires: a duration such as 24h, or a time 2025-01-01T06:06:06
    #[arg(long)]
    expire: Option<String>,
    /// Rotation policy: never, hourly, daily, weekly, monthly, quarterly or yearly
    #[arg(long)]
    rotate: Option<String>,
}

impl MetaArgs {
    fn meta(self) -> SecretMeta {
        SecretMeta {
            label: self.label,
            description: self.description,
            expire: self.expire,
            rotate: self.rotate,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Owner {
    /// The application: only its leader can change it
    Application,
    /// This unit
    Unit,
}

#[derive(Subcommand)]
pub(crate) enum SecretCommand {
    /// Add a secret (KEY=VALUE content; KEY#base64=… for base64) and print its id
    Add {
        /// Who owns it (application secrets need the leader)
        #[arg(long, value_enum, default_value_t = Owner::Application)]
        owner: Owner,
        #[command(flatten)]
        meta: MetaArgs,
        /// A YAML or JSON file of keys and values, added to the KEY=VALUE arguments
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(value_name = "KEY=VALUE", value_parser = output::key_value)]
        content: Vec<(String, String)>,
    },
    /// Print a secret's content (every KEY=VALUE), or one key's value (KEY#base64: as stored)
    Get {
        /// The secret id (secret:…); may be left out with --label
        id: Option<String>,
        key: Option<String>,
        /// Find the secret by this label, or (with an id) give it this label
        #[arg(long)]
        label: Option<String>,
        /// Read the latest revision this once, keep tracking the current one
        #[arg(long, conflicts_with = "refresh")]
        peek: bool,
        /// Read the latest revision and track it from now on
        #[arg(long)]
        refresh: bool,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Give a secret new content (a new revision) and/or new metadata
    Set {
        id: String,
        #[command(flatten)]
        meta: MetaArgs,
        /// A YAML or JSON file of keys and values, added to the KEY=VALUE arguments
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(value_name = "KEY=VALUE", value_parser = output::key_value)]
        content: Vec<(String, String)>,
    },
    /// List the ids of the secrets this unit and its application own, one per line
    Ids {
        #[command(flatten)]
        format: FormatArg,
    },
    /// Print a secret's metadata: revision, label, owner, rotation, expiry, access
    InfoGet {
        id: Option<String>,
        #[arg(long, conflicts_with = "id")]
        label: Option<String>,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Let the application (or one unit) at the other end of a relation read a secret
    Grant {
        id: String,
        /// Relation id such as db:1 (default: the hook's relation)
        #[arg(short, long)]
        relation_id: Option<String>,
        /// Only this unit of the related application
        #[arg(long)]
        unit: Option<String>,
    },
    /// Take back a grant: from a relation's application, an application or a unit
    Revoke {
        id: String,
        #[arg(short, long)]
        relation_id: Option<String>,
        #[arg(long)]
        app: Option<String>,
        #[arg(long)]
        unit: Option<String>,
    },
    /// Remove a secret, or one of its revisions
    Remove {
        id: String,
        #[arg(long)]
        revision: Option<u32>,
    },
}

/// `--file`: a map of keys to values (JSON or YAML), read here so that only the daemon
/// ever writes it where the hook tool can read it.
fn file_content(path: Option<PathBuf>) -> Result<Vec<(String, String)>, Failure> {
    let Some(path) = path else {
        return Ok(Vec::new());
    };
    let bad = |why: String| Failure {
        message: format!("cannot read secret content from {}: {why}", path.display()),
        code: 2,
    };
    let text = std::fs::read_to_string(&path).map_err(|e| bad(e.to_string()))?;
    let value: Value = serde_json::from_str(&text)
        .or_else(|_| serde_saphyr::from_str::<Value>(&text))
        .map_err(|e| bad(format!("{e} (expected a YAML or JSON map of KEY: VALUE)")))?;
    let Value::Object(map) = value else {
        return Err(bad("expected a YAML or JSON map of KEY: VALUE".into()));
    };
    Ok(map
        .into_iter()
        .map(|(k, v)| {
            let v = match v {
                Value::String(s) => s,
                other => other.to_string(),
            };
            (k, v)
        })
        .collect())
}

fn with_file(
    mut content: Vec<(String, String)>,
    file: Option<PathBuf>,
) -> Result<Vec<(String, String)>, Failure> {
    content.extend(file_content(file)?);
    Ok(content)
}

pub(crate) fn run(cmd: SecretCommand) -> CliResult {
    let secret = |r: SecretRequest| Request::Secret(r);
    match cmd {
        SecretCommand::Add {
            owner,
            meta,
            file,
            content,
        } => {
            let content = with_file(content, file)?;
            let id = request_value(secret(SecretRequest::Add {
                content,
                unit_owned: owner == Owner::Unit,
                meta: meta.meta(),
            }))?;
            output::print(&id, output::Format::Plain);
        }
        SecretCommand::Get {
            id,
            key,
            label,
            peek,
            refresh,
            format,
        } => {
            let value = request_value(secret(SecretRequest::Get {
                id,
                label,
                key,
                peek,
                refresh,
            }))?;
            output::print(&value, format.format);
        }
        SecretCommand::Set {
            id,
            meta,
            file,
            content,
        } => {
            let content = with_file(content, file)?;
            request(secret(SecretRequest::Set {
                id,
                content,
                meta: meta.meta(),
            }))?;
        }
        SecretCommand::Ids { format } => {
            let value = request_value(secret(SecretRequest::Ids))?;
            // secret-ids prints nothing (null) when there are none.
            let value = if value.is_null() {
                Value::Array(Vec::new())
            } else {
                value
            };
            output::print(&value, format.format);
        }
        SecretCommand::InfoGet { id, label, format } => {
            let value = request_value(secret(SecretRequest::InfoGet { id, label }))?;
            if format.format == output::Format::Json {
                output::print(&value, format.format);
            } else {
                // One secret: `id=secret:…`, then its fields as KEY=VALUE lines.
                if let Some((id, fields)) = value.as_object().and_then(|m| m.iter().next()) {
                    println!("id=secret:{id}");
                    output::print(fields, format.format);
                }
            }
        }
        SecretCommand::Grant {
            id,
            relation_id,
            unit,
        } => {
            request(secret(SecretRequest::Grant {
                id,
                relation_id,
                unit,
            }))?;
        }
        SecretCommand::Revoke {
            id,
            relation_id,
            app,
            unit,
        } => {
            request(secret(SecretRequest::Revoke {
                id,
                relation_id,
                app,
                unit,
            }))?;
        }
        SecretCommand::Remove { id, revision } => {
            request(secret(SecretRequest::Remove { id, revision }))?;
        }
    }
    Ok(())
}
