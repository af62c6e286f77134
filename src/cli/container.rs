//! `lucky container …`: edit and read the desired container state, apply it.

use super::{CliResult, Failure};
use crate::client;
use crate::protocol::container::{ContainerAnswer, ContainerEdit, ContainerQuery};
use crate::protocol::{Request, Response, Stream};
use crate::unit::UnitPaths;
use clap::Subcommand;
use std::io::Write;

/// Which container: the default one unless `-c NAME`.
#[derive(clap::Args, Clone)]
pub(crate) struct Which {
    /// Container name (default: the default container)
    #[arg(short = 'c', long = "container", value_name = "NAME", global = true)]
    pub(crate) container: Option<String>,
}

#[derive(clap::Args)]
pub(crate) struct ContainerArgs {
    #[command(flatten)]
    pub(crate) which: Which,
    #[command(subcommand)]
    pub(crate) command: ContainerCommand,
}

#[derive(Subcommand)]
pub(crate) enum ContainerCommand {
    /// Set or get the container's image
    #[command(subcommand)]
    Image(ImageCommand),
    /// Set or get the container's environment
    #[command(subcommand)]
    Env(EnvCommand),
    /// Add, remove or list the container's volumes
    #[command(subcommand)]
    Volume(VolumeCommand),
    /// Add, remove or list the container's port bindings
    #[command(subcommand)]
    Port(PortCommand),
    /// Set the container's entrypoint
    SetEntrypoint {
        #[arg(required_unless_present = "unset")]
        entrypoint: Option<String>,
        /// Use the image's entrypoint
        #[arg(short = 'u', long, conflicts_with = "entrypoint")]
        unset: bool,
    },
    /// Set the container's command: `set-command [--] ARG...`
    SetCommand {
        #[arg(
            trailing_var_arg = true,
            allow_hyphen_values = true,
            required_unless_present = "unset"
        )]
        command: Vec<String>,
        /// Use the image's command
        #[arg(short = 'u', long, conflicts_with = "command")]
        unset: bool,
    },
    /// Set the container's network
    SetNetwork {
        #[arg(required_unless_present = "unset")]
        network: Option<String>,
        /// Use the default network
        #[arg(short = 'u', long, conflicts_with = "network")]
        unset: bool,
    },
    /// Run an init as the container's PID 1 (off by default: images such as s6-overlay
    /// ones must be PID 1 themselves); an init reaps zombies and makes stops quick
    SetInit {
        /// Run no init (the default)
        #[arg(short = 'u', long)]
        unset: bool,
    },
    /// Make the containers match their configuration now
    ApplyUpdates,
    /// Remove the container from the configuration (it is removed at the next apply)
    Delete,
}

#[derive(Subcommand)]
pub(crate) enum ImageCommand {
    Set {
        image: String,
        /// Never pull: the image must already be present (`--pull never`)
        #[arg(long, conflicts_with = "pull")]
        no_pull: bool,
        /// When to pull: `missing` (the default), `always` (on every (re)create, so a
        /// tag like :latest moves) or `never`
        #[arg(long, value_parser = ["always", "missing", "never"])]
        pull: Option<String>,
    },
    Get,
}

#[derive(Subcommand)]
pub(crate) enum EnvCommand {
    /// K=V ... (K= deletes K)
    Set {
        #[arg(required = true)]
        pairs: Vec<String>,
    },
    Get {
        key: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum VolumeCommand {
    /// SOURCE is a volume name (kept under the unit's data dir) or an absolute host path
    Add {
        source: String,
        container_path: String,
    },
    Remove {
        container_path: String,
        /// Also delete the named volume's data
        #[arg(short = 'D', long)]
        delete_data: bool,
    },
    Get {
        container_path: Option<String>,
    },
}

#[derive(Subcommand)]
pub(crate) enum PortCommand {
    /// HOST:CONTAINER[/tcp|udp]
    Add {
        binding: String,
    },
    Remove {
        #[arg(required_unless_present = "all")]
        binding: Option<String>,
        /// Remove every binding
        #[arg(short = 'A', long, conflicts_with = "binding")]
        all: bool,
    },
    List,
}

pub(crate) fn run(args: ContainerArgs) -> CliResult {
    let container = args.which.container;
    let request = match args.command {
        ContainerCommand::Image(ImageCommand::Set {
            image,
            no_pull,
            pull,
        }) => {
            let pull = pull.as_deref();
            edit(
                container,
                ContainerEdit::SetImage {
                    image,
                    no_pull: no_pull || pull == Some("never"),
                    always_pull: pull == Some("always"),
                },
            )
        }
        ContainerCommand::Image(ImageCommand::Get) => get(container, ContainerQuery::Image),
        ContainerCommand::Env(EnvCommand::Set { pairs }) => {
            let mut parsed = Vec::with_capacity(pairs.len());
            for pair in pairs {
                let setting = super::output::key_value(&pair).map_err(|e| Failure {
                    message: format!("invalid environment setting: {e}; KEY= deletes"),
                    code: 2,
                })?;
                parsed.push(setting);
            }
            edit(container, ContainerEdit::SetEnv(parsed))
        }
        ContainerCommand::Env(EnvCommand::Get { key }) => get(container, ContainerQuery::Env(key)),
        ContainerCommand::Volume(VolumeCommand::Add {
            source,
            container_path,
        }) => edit(
            container,
            ContainerEdit::AddVolume {
                source,
                target: container_path,
            },
        ),
        ContainerCommand::Volume(VolumeCommand::Remove {
            container_path,
            delete_data,
        }) => edit(
            container,
            ContainerEdit::RemoveVolume {
                target: container_path,
                delete_data,
            },
        ),
        ContainerCommand::Volume(VolumeCommand::Get { container_path }) => {
            get(container, ContainerQuery::Volumes(container_path))
        }
        ContainerCommand::Port(PortCommand::Add { binding }) => {
            edit(container, ContainerEdit::AddPort(binding))
        }
        ContainerCommand::Port(PortCommand::Remove { binding, all }) => match (binding, all) {
            (_, true) => edit(container, ContainerEdit::RemoveAllPorts),
            (Some(b), false) => edit(container, ContainerEdit::RemovePort(b)),
            (None, false) => {
                return Err(Failure {
                    message: "port remove needs a binding or --all".into(),
                    code: 2,
                });
            }
        },
        ContainerCommand::Port(PortCommand::List) => get(container, ContainerQuery::Ports),
        ContainerCommand::SetEntrypoint { entrypoint, unset } => edit(
            container,
            ContainerEdit::SetEntrypoint(entrypoint.filter(|_| !unset)),
        ),
        ContainerCommand::SetCommand { command, unset } => edit(
            container,
            ContainerEdit::SetCommand((!unset).then_some(command)),
        ),
        ContainerCommand::SetNetwork { network, unset } => edit(
            container,
            ContainerEdit::SetNetwork(network.filter(|_| !unset)),
        ),
        ContainerCommand::SetInit { unset } => edit(container, ContainerEdit::SetInit(!unset)),
        ContainerCommand::ApplyUpdates => Request::ContainerApply,
        ContainerCommand::Delete => edit(container, ContainerEdit::Delete),
    };
    let paths = UnitPaths::from_env()?;
    let stream = client::connect(&paths).map_err(Failure::client)?;
    let response = client::call(stream, &request, |stream, data| {
        // Pull progress and the like: output is informational, a closed pipe is not fatal.
        let _ = match stream {
            Stream::Stdout => std::io::stdout().lock().write_all(data),
            Stream::Stderr => std::io::stderr().lock().write_all(data),
        };
    })
    .map_err(Failure::client)?;
    let mut out = std::io::stdout().lock();
    match response {
        Response::Container(ContainerAnswer::Lines(lines)) => {
            for line in lines {
                let _ = writeln!(out, "{line}");
            }
        }
        Response::Container(ContainerAnswer::Note(note)) => eprintln!("lucky: note: {note}"),
        // One line a script or benchmark can read: what changed and what it cost.
        Response::Container(ContainerAnswer::Applied(r)) => {
            let _ = writeln!(
                out,
                "containers applied: created {}, started {}, removed {}, unchanged {}; docker api calls {} (mutating {})",
                r.created.len(),
                r.started.len(),
                r.removed.len(),
                r.unchanged.len(),
                r.api_calls,
                r.mutating_calls
            );
        }
        _ => {}
    }
    Ok(())
}

fn edit(container: Option<String>, edit: ContainerEdit) -> Request {
    Request::ContainerEdit { container, edit }
}

fn get(container: Option<String>, query: ContainerQuery) -> Request {
    Request::ContainerGet { container, query }
}
