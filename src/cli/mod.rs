//! Command-line definitions (clap derive) and the client side of each command group,
//! one file per group. `main` maps errors to one line on stderr and an exit code.

mod action;
mod address;
mod charm;
mod check;
mod config;
mod container;
mod credential;
mod daemon;
mod doc;
pub mod docgen;
mod goal_state;
mod history;
mod hook;
mod juju_state;
mod kv;
mod leader;
mod lean;
mod log;
mod network;
pub(crate) mod output;
mod port;
mod random;
mod reboot;
mod relation;
mod secret;
mod self_update;
mod sim;
mod status;
mod storage;
mod unit_status;
mod version;

use crate::client;
use crate::protocol::{Request, Response};
use crate::unit::UnitPaths;
use clap::{Parser, Subcommand};

/// `lucky --version`: version, target and commit.
pub(crate) const LONG_VERSION: &str = concat!(
    env!("LUCKY_BUILD_VERSION"),
    " (",
    env!("LUCKY_BUILD_TARGET"),
    ", commit ",
    env!("LUCKY_BUILD_COMMIT"),
    ")"
);

/// Every `lucky` command, as clap parses them (`lucky-doc` renders the same definitions).
#[derive(Parser)]
#[command(
    name = "lucky",
    version = LONG_VERSION,
    about = "Write Juju charms as plain scripts whose workload runs in Docker",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Run a Juju hook: used by the charm's hooks and dispatch; exit code is the hook's result
    Hook(hook::HookArgs),
    /// Start, stop or inspect the unit's daemon
    #[command(subcommand)]
    Daemon(daemon::DaemonCommand),
    /// Set this script's (or --name's) status; the unit shows the most severe
    SetStatus(status::SetStatusArgs),
    /// Print charm config: one key, or every key=value
    GetConfig(config::GetConfigArgs),
    /// Print the local path of a Juju resource
    GetResource(config::GetResourceArgs),
    /// Unit-local key-value store that survives restarts
    #[command(subcommand, after_help = STATE_VS_KV)]
    Kv(kv::KvCommand),
    /// Leader data and leadership
    #[command(subcommand)]
    Leader(leader::LeaderCommand),
    /// Relation data, units and ids
    #[command(subcommand)]
    Relation(relation::RelationCommand),
    /// Open, close and list the unit's ports
    #[command(subcommand)]
    Port(port::PortCommand),
    /// Print the unit's private address
    PrivateAddress,
    /// Print the unit's public address
    PublicAddress,
    /// Print a random string, number or free port
    Random(random::RandomArgs),
    /// Log a message to Juju's debug log and the daemon log
    Log(log::LogArgs),
    /// Action parameters, results and failure (inside an action)
    #[command(subcommand)]
    Action(action::ActionCommand),
    /// Run a charm's hooks and actions against a simulated Juju model (no controller)
    #[command(subcommand)]
    Sim(sim::SimCommand),
    /// Configure the unit's container(s): image, env, volumes, ports, …
    Container(container::ContainerArgs),
    /// Create and build charms
    #[command(subcommand)]
    Charm(charm::CharmCommand),
    /// What ran in this unit: each hook, action and cron run, how it went
    History(history::HistoryArgs),
    /// Health checks lucky.yaml declares: their states and last failures
    #[command(subcommand)]
    Check(check::CheckCommand),
    /// Update this lucky binary to the newest (or a given) release and restart the daemon
    #[command(disable_version_flag = true, after_help = SELF_UPDATE_NOTE)]
    SelfUpdate(self_update::SelfUpdateArgs),
    /// Generate documentation from the CLI definitions
    #[command(subcommand, hide = true)]
    Doc(doc::DocCommand),
    /// The unit's Juju storage: ids, kinds, locations; add more
    #[command(subcommand)]
    Storage(storage::StorageCommand),
    /// A binding's addresses and subnets (Juju's network-get)
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// Print the unit's (or, leader only, the application's) status as Juju has it
    GetStatus(unit_status::GetStatusArgs),
    /// Set the workload version `juju status` shows
    SetApplicationVersion(unit_status::SetApplicationVersionArgs),
    /// Unit state kept by Juju, committed when the hook succeeds (see also `lucky kv`)
    #[command(subcommand, after_help = STATE_VS_KV)]
    State(juju_state::JujuStateCommand),
    /// Print the units and relations the model is heading for (Juju's goal-state)
    GoalState(goal_state::GoalStateArgs),
    /// Juju secrets: add, read, update, share and remove them
    #[command(subcommand)]
    Secret(secret::SecretCommand),
    /// Print the model's cloud spec and credential (trusted applications only)
    CredentialGet(credential::CredentialGetArgs),
    /// Reboot the machine when this hook succeeds, or at once with --now (host scripts)
    JujuReboot(reboot::JujuRebootArgs),
}

/// How `lucky self-update` downloads, in its help.
const SELF_UPDATE_NOTE: &str = "\
Downloads run the machine's curl (7.63 or newer), or wget, as the unit's installer does,
with the proxy settings Juju gives the charm (JUJU_CHARM_HTTP(S)_PROXY, JUJU_CHARM_NO_PROXY).
lucky itself checks the release's signature and each file's SHA-256.";

/// Which unit store to use, in `lucky state --help` and `lucky kv --help`.
const STATE_VS_KV: &str = "\
Which store: `lucky kv` is kept by the daemon on the machine: written at once (it stays
even when the hook then fails), readable outside hooks, fast, gone with the machine.
`lucky state` is kept by Juju on the controller (state-get/state-set): changes are
committed only when the hook succeeds and survive the machine, but each call needs a
running hook and a round trip to the controller. Use kv for caches and progress, state
for what must survive the machine or must only change when the hook succeeds.";

/// How a command failed: printed as `lucky: <message>`, exit `code`.
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) code: u8,
}

impl<E: std::fmt::Display> From<E> for Failure {
    fn from(e: E) -> Self {
        Failure {
            message: format!("{e:#}"),
            code: 1,
        }
    }
}

impl Failure {
    /// A failed daemon call: its message, and the exit status its kind documents.
    pub(crate) fn client(e: client::ClientError) -> Self {
        Failure {
            message: e.to_string(),
            code: e.exit_code(),
        }
    }
}

pub(crate) type CliResult = Result<(), Failure>;

/// Sends one request to the unit's daemon (which must be running).
pub(crate) fn request(request: Request) -> Result<Response, Failure> {
    let paths = UnitPaths::from_env()?;
    client::request(&paths, &request).map_err(Failure::client)
}

/// Sends a request whose answer is a value to print.
pub(crate) fn request_value(req: Request) -> Result<serde_json::Value, Failure> {
    match request(req)? {
        Response::Value(v) => Ok(v),
        other => Err(format!("the daemon gave an unexpected answer: {other:?}").into()),
    }
}

/// `lucky`'s command line (`args`, the whole argv): parse, run the command, map its
/// failure to an exit status.
pub fn main(args: Vec<std::ffi::OsString>) -> u8 {
    // The lean shapes take no flag, so neither `--version --verbose` nor `--doc` is one.
    let result = match lean::parse(&args) {
        Some(Command::Kv(cmd)) => kv::run(cmd),
        Some(Command::GetConfig(args)) => config::get_config(args),
        Some(command) => run(command),
        None => {
            if version::is_verbose_version(&args) {
                print!("{}", version::verbose());
                return 0;
            }
            if let Some(page) = doc::page_for_args(&args) {
                print!("{page}");
                return 0;
            }
            match parse(&args) {
                Ok(command) => run(command),
                Err(code) => return code,
            }
        }
    };
    match result {
        Ok(()) => 0,
        Err(failure) => {
            eprintln!("lucky: {}", failure.message);
            failure.code
        }
    }
}

/// Parses any command line, with clap; its error is printed and becomes the exit status.
#[inline(never)]
fn parse(args: &[std::ffi::OsString]) -> Result<Command, u8> {
    match parse_one_group(args) {
        Some(command) => Ok(command),
        None => Cli::try_parse_from(args)
            .map(|cli| cli.command)
            .map_err(usage_error),
    }
}

/// Runs any command. Not inlined: with every command's code in one frame it needs over
/// 5 KiB of stack, whose pages a script call's lean path (above) need not touch.
#[inline(never)]
fn run(command: Command) -> Result<(), Failure> {
    match command {
        Command::Hook(args) => hook::run(args),
        Command::Daemon(cmd) => daemon::run(cmd),
        Command::SetStatus(args) => status::run(args),
        Command::GetConfig(args) => config::get_config(args),
        Command::GetResource(args) => config::get_resource(args),
        Command::Kv(cmd) => kv::run(cmd),
        Command::Leader(cmd) => leader::run(cmd),
        Command::Relation(cmd) => relation::run(cmd),
        Command::Port(cmd) => port::run(cmd),
        Command::PrivateAddress => address::run(false),
        Command::PublicAddress => address::run(true),
        Command::Random(args) => random::run(args),
        Command::Log(args) => log::run(args),
        Command::Action(cmd) => action::run(cmd),
        Command::Sim(cmd) => sim::run(cmd),
        Command::Container(args) => container::run(args),
        Command::Charm(cmd) => charm::run(cmd),
        Command::History(args) => history::run(args),
        Command::Check(command) => check::run(command),
        Command::SelfUpdate(args) => self_update::run(args),
        Command::Doc(cmd) => doc::run(cmd),
        Command::Storage(cmd) => storage::run(cmd),
        Command::Network(cmd) => network::run(cmd),
        Command::GetStatus(args) => unit_status::get_status(args),
        Command::SetApplicationVersion(args) => unit_status::set_application_version(args),
        Command::State(cmd) => juju_state::run(cmd),
        Command::GoalState(args) => goal_state::run(args),
        Command::Secret(cmd) => secret::run(cmd),
        Command::CredentialGet(args) => credential::run(args),
        Command::JujuReboot(args) => reboot::run(args),
    }
}

/// Script calls sit on every hook's path, and building the clap definition of every
/// command costs more than the call itself: parse with just the called group's
/// definition. Help, and anything this fast path does not accept, goes through the full
/// definition, so what users see (help text, errors) is always the full parser's.
fn parse_one_group(args: &[std::ffi::OsString]) -> Option<Command> {
    use clap::{Args, FromArgMatches};
    if args.iter().any(|a| a == "-h" || a == "--help") {
        return None;
    }
    type Augment = fn(clap::Command) -> clap::Command;
    let (name, augment): (&'static str, Augment) = match args.get(1)?.to_str()? {
        "hook" => ("hook", hook::HookArgs::augment_args),
        "set-status" => ("set-status", status::SetStatusArgs::augment_args),
        "get-config" => ("get-config", config::GetConfigArgs::augment_args),
        "get-resource" => ("get-resource", config::GetResourceArgs::augment_args),
        "log" => ("log", log::LogArgs::augment_args),
        "random" => ("random", random::RandomArgs::augment_args),
        "container" => ("container", container::ContainerArgs::augment_args),
        "private-address" => ("private-address", |c| c),
        "public-address" => ("public-address", |c| c),
        "kv" => ("kv", kv::KvCommand::augment_subcommands),
        "leader" => ("leader", leader::LeaderCommand::augment_subcommands),
        "relation" => ("relation", relation::RelationCommand::augment_subcommands),
        "port" => ("port", port::PortCommand::augment_subcommands),
        "action" => ("action", action::ActionCommand::augment_subcommands),
        "secret" => ("secret", secret::SecretCommand::augment_subcommands),
        _ => return None,
    };
    let group = augment(clap::Command::new(name));
    let matches = clap::Command::new("lucky")
        .subcommand(group)
        .try_get_matches_from(args)
        .ok()?;
    Command::from_arg_matches(&matches).ok()
}

/// Help and version print as clap renders them; real usage errors become one line
/// (`lucky: <what was wrong>`) and exit 2, like every other lucky error.
fn usage_error(e: clap::Error) -> u8 {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            2
        } else {
            0
        };
    }
    let rendered = e.render().to_string();
    // The message is the text before the usage block, possibly over several lines.
    let message = rendered
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    let message = message.trim_start_matches("error: ");
    eprintln!("lucky: {message} (see `lucky --help`)");
    2
}
