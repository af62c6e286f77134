//! `lucky charm create`, `build` and `run`: need no daemon (`run` starts a private one).

use super::CliResult;
use super::output::key_value;
use crate::charm::build::{self, BuildOptions};
use crate::charm::template::{self, Values};
use crate::run::{ActionParam, RelationData, RelationSecret, RemoteApp, RunOptions, Setting};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Subcommand)]
pub(crate) enum CharmCommand {
    /// Lay out a new charm from Lucky's template
    Create(CreateArgs),
    /// Validate a charm and write the folder Juju deploys
    Build(BuildArgs),
    /// Build a charm and play a unit's life locally: simulated Juju, real Docker engine
    Run(RunArgs),
}

#[derive(clap::Args)]
pub(crate) struct CreateArgs {
    /// Folder to create the charm in (must be absent or empty)
    pub(crate) dir: PathBuf,
    /// Charm name (default: from the folder's name)
    #[arg(short = 'n', long)]
    pub(crate) name: Option<String>,
    /// Name shown to people (default: from the charm name)
    #[arg(short = 'd', long)]
    pub(crate) display_name: Option<String>,
    /// One-line summary
    #[arg(short = 's', long)]
    pub(crate) summary: Option<String>,
    /// Maintainer, e.g. "Jane Doe <jane@example.com>"
    #[arg(short = 'm', long)]
    pub(crate) maintainer: Option<String>,
    /// Do not ask: use defaults for what is not given (asking happens only on a terminal)
    #[arg(short = 'y', short_alias = 'D', long)]
    pub(crate) use_defaults: bool,
}

#[derive(clap::Args)]
pub(crate) struct BuildArgs {
    /// The charm folder
    #[arg(default_value = ".")]
    pub(crate) dir: PathBuf,
    /// Where to write the built charm (default: <dir>/build/<name>); replaced as a whole
    #[arg(short, long)]
    pub(crate) build_dir: Option<PathBuf>,
    /// Ship lucky binaries inside the charm for these targets (comma-separated target
    /// triples, uname -m names, or all), for machines that cannot download them
    #[arg(long, value_delimiter = ',', value_name = "TARGETS")]
    pub(crate) bundle_lucky: Vec<String>,
    /// Folder holding the lucky-<version>-<target> files to bundle (a release folder)
    #[arg(long, value_name = "DIR", requires = "bundle_lucky")]
    pub(crate) lucky_binaries: Option<PathBuf>,
    /// Version of lucky the charm installs (default: this lucky's)
    #[arg(long, value_name = "VERSION", default_value = env!("LUCKY_BUILD_VERSION"))]
    pub(crate) lucky_version: String,
    /// Build a development charm even though it cannot install lucky on a unit by itself
    /// (this lucky has no release key built in and nothing is bundled, or the bundle is
    /// unsigned): marked lucky/dev, it installs lucky only where LUCKY_RELEASE_URL and
    /// LUCKY_RELEASE_PUBKEY (or LUCKY_INSECURE_SKIP_SIGNATURE=1) are set, as on the
    /// simulator. Without it such a build fails
    #[arg(long)]
    pub(crate) dev: bool,
    /// Bundle this lucky (the running binary, which must be static) for this machine's
    /// target, as the 2020 Lucky's -l did for development: the bundle is unsigned, so -l
    /// implies --dev (a development charm, marked lucky/dev)
    #[arg(
        short = 'l',
        long,
        conflicts_with_all = ["bundle_lucky", "lucky_binaries", "lucky_version"]
    )]
    pub(crate) use_local_lucky: bool,
    /// The level the charm's daemon logs at unless LUCKY_LOG_LEVEL is set (trace, debug,
    /// info, warn, error, off): the charm carries it in lucky/log-level
    #[arg(short = 'L', long, value_name = "LEVEL")]
    pub(crate) log_level: Option<String>,
}

/// Plays install, leader-elected, config-changed, start, a relation joined/changed per
/// metadata.yaml endpoint, update-status, each lucky.yaml action, a config change, stop
/// and remove, printing each hook's output and the unit status after it, then the
/// relation data, opened ports and containers. Hooks run as Juju runs them (the built
/// charm's dispatch, its real installer, hook tools from the simulator); a private daemon
/// serves the unit and is stopped at the end. Without a folder it runs the example
/// charm built into lucky and leaves its web page served.
#[derive(clap::Args)]
pub(crate) struct RunArgs {
    /// The charm folder (default: Lucky's example charm, embedded in the binary)
    pub(crate) dir: Option<PathBuf>,
    /// Work dir for the built charm, the model and the daemon (default: <dir>/build/lucky-run)
    #[arg(long, value_name = "DIR")]
    pub(crate) model_dir: Option<PathBuf>,
    /// Unit name (default: <charm name>/0)
    #[arg(long)]
    pub(crate) unit: Option<String>,
    /// Reuse the model kept by an earlier run instead of starting afresh
    #[arg(long)]
    pub(crate) keep: bool,
    /// Initial config, as `juju deploy --config` (repeatable)
    #[arg(long, value_name = "KEY=VALUE", value_parser = setting)]
    pub(crate) config: Vec<Setting>,
    /// Config changed after the actions, before stop (repeatable)
    #[arg(long, value_name = "KEY=VALUE", value_parser = setting)]
    pub(crate) then_config: Vec<Setting>,
    /// Name the remote application of an endpoint (default: <endpoint>-remote)
    #[arg(long, value_name = "ENDPOINT:REMOTE-APP", value_parser = remote_app)]
    pub(crate) relate: Vec<RemoteApp>,
    /// Data the remote unit of an endpoint sends (repeatable)
    #[arg(long, value_name = "ENDPOINT:KEY=VALUE", value_parser = relation_data)]
    pub(crate) relation_data: Vec<RelationData>,
    /// The remote application of an endpoint shares a secret holding FIELD=VALUE (repeat
    /// with the same KEY for more fields) and sends its id as KEY
    #[arg(long, value_name = "ENDPOINT:KEY:FIELD=VALUE", value_parser = relation_secret)]
    pub(crate) relation_secret: Vec<RelationSecret>,
    /// An action parameter (repeatable)
    #[arg(long, value_name = "ACTION:KEY=VALUE", value_parser = action_param)]
    pub(crate) action_param: Vec<ActionParam>,
    /// Run just this hook on the kept model (e.g. config-changed, db-relation-changed)
    #[arg(long, value_name = "NAME", conflicts_with_all = ["relate", "relation_data", "relation_secret", "then_config"])]
    pub(crate) hook: Option<String>,
    /// Run just this action on the kept model
    #[arg(long, value_name = "NAME", conflicts_with_all = ["relate", "relation_data", "relation_secret", "then_config"])]
    pub(crate) action: Option<String>,
    /// On the kept model, another unit becomes the leader first (as `lucky sim depose`:
    /// no leader-deposed; on Juju 3.6, leader-settings-changed if the unit lags); then
    /// --hook/--action run as a non-leader's. `--hook leader-elected` elects it again
    #[arg(long, conflicts_with_all = ["relate", "relation_data", "relation_secret", "then_config"])]
    pub(crate) depose: bool,
    /// Skip stop and remove and leave the workload and daemon running (the default without
    /// a folder); `--hook stop` on the kept model stops them later
    #[arg(long)]
    pub(crate) no_stop: bool,
    /// Static lucky to install on the unit and mount into containers (default: this
    /// binary when it is static; a charm with containers needs one:
    /// `cargo build --release --target x86_64-unknown-linux-musl`)
    #[arg(long, value_name = "FILE")]
    pub(crate) lucky_binary: Option<PathBuf>,
    /// The Juju the simulated model stands in for: 3.6, or 4.0 (no leader-get/leader-set,
    /// no leader-settings-changed, no `series`); ignored with --keep's kept model
    #[arg(long, value_name = "VERSION", default_value = "3.6", value_parser = super::sim::juju_arg)]
    pub(crate) juju: crate::simulator::Juju,
}

pub(crate) fn run(cmd: CharmCommand) -> CliResult {
    match cmd {
        CharmCommand::Create(args) => create(args),
        CharmCommand::Build(args) => build(args),
        CharmCommand::Run(args) => run_charm(args),
    }
}

fn run_charm(args: RunArgs) -> CliResult {
    crate::run::run(RunOptions {
        charm_dir: args.dir,
        model_dir: args.model_dir,
        unit: args.unit,
        keep: args.keep,
        no_stop: args.no_stop,
        config: args.config,
        then_config: args.then_config,
        relate: args.relate,
        relation_data: args.relation_data,
        relation_secrets: args.relation_secret,
        action_params: args.action_param,
        hook: args.hook,
        depose: args.depose,
        action: args.action,
        lucky_binary: args.lucky_binary,
        juju: args.juju,
    })?;
    Ok(())
}

/// `KEY=VALUE`, through the crate's one parser.
fn setting(s: &str) -> Result<Setting, String> {
    let (key, value) = key_value(s)?;
    Ok(Setting { key, value })
}

/// `NAME:REST` with a non-empty name; `shape` is what the whole value should look like.
fn named<'a>(s: &'a str, shape: &str) -> Result<(&'a str, &'a str), String> {
    s.split_once(':')
        .filter(|(name, _)| !name.is_empty())
        .ok_or_else(|| format!("expected {shape}, got {s:?}"))
}

fn remote_app(s: &str) -> Result<RemoteApp, String> {
    match named(s, "ENDPOINT:REMOTE-APP")? {
        (_, "") => Err(format!(
            "expected ENDPOINT:REMOTE-APP, got {s:?} (empty application)"
        )),
        (endpoint, app) => Ok(RemoteApp {
            endpoint: endpoint.into(),
            app: app.into(),
        }),
    }
}

fn relation_data(s: &str) -> Result<RelationData, String> {
    let (endpoint, rest) = named(s, "ENDPOINT:KEY=VALUE")?;
    let setting = setting(rest).map_err(|_| format!("expected ENDPOINT:KEY=VALUE, got {s:?}"))?;
    Ok(RelationData {
        endpoint: endpoint.into(),
        setting,
    })
}

fn relation_secret(s: &str) -> Result<RelationSecret, String> {
    let shape = || format!("expected ENDPOINT:KEY:FIELD=VALUE, got {s:?}");
    let (endpoint, rest) = named(s, "ENDPOINT:KEY:FIELD=VALUE")?;
    let (key, field) = named(rest, "ENDPOINT:KEY:FIELD=VALUE").map_err(|_| shape())?;
    let field = setting(field).map_err(|_| shape())?;
    Ok(RelationSecret {
        endpoint: endpoint.into(),
        key: key.into(),
        field,
    })
}

fn action_param(s: &str) -> Result<ActionParam, String> {
    let (action, rest) = named(s, "ACTION:KEY=VALUE")?;
    let setting = setting(rest).map_err(|_| format!("expected ACTION:KEY=VALUE, got {s:?}"))?;
    Ok(ActionParam {
        action: action.into(),
        setting,
    })
}

fn create(args: CreateArgs) -> CliResult {
    let defaults = Values::defaults(&args.dir);
    // Ask only a person: scripts and CI get the defaults, never a hang on stdin.
    let interactive = !args.use_defaults && std::io::stdin().is_terminal();
    let ask = |given: Option<String>, question: &str, default: String| -> Result<String, String> {
        match given {
            Some(v) => Ok(v),
            None if interactive => prompt(question, &default),
            None => Ok(default),
        }
    };
    let name = ask(args.name, "Charm name", defaults.name.clone())?;
    template::check_name(&name)?;
    let display_name = ask(
        args.display_name,
        "Display name",
        template::display_name(&name),
    )?;
    let summary = ask(
        args.summary,
        "Summary",
        format!("{display_name} as a Juju machine charm"),
    )?;
    let maintainer = ask(args.maintainer, "Maintainer", defaults.maintainer)?;
    let values = Values {
        name,
        display_name,
        summary,
        maintainer,
    };
    template::create(&args.dir, &values)?;
    println!(
        "Created charm {} in {}; build it with `lucky charm build {}`",
        values.name,
        args.dir.display(),
        args.dir.display()
    );
    Ok(())
}

fn prompt(question: &str, default: &str) -> Result<String, String> {
    let mut err = std::io::stderr().lock();
    let _ = write!(err, "{question} [{default}]: ");
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the answer: {e}"))?;
    let answer = line.trim();
    Ok(if answer.is_empty() {
        default.to_string()
    } else {
        answer.to_string()
    })
}

fn build(args: BuildArgs) -> CliResult {
    let local_lucky =
        if args.use_local_lucky {
            Some(std::env::current_exe().map_err(|e| {
                format!("cannot find this lucky's own path (--use-local-lucky): {e}")
            })?)
        } else {
            None
        };
    let report = build::build(&BuildOptions {
        charm_dir: args.dir,
        build_dir: args.build_dir,
        bundle_targets: args.bundle_lucky,
        lucky_binaries: args.lucky_binaries,
        lucky_version: args.lucky_version,
        dev: args.dev || local_lucky.is_some(),
        local_lucky: local_lucky.clone(),
        log_level: args.log_level,
    })?;
    if let Some(exe) = &local_lucky {
        eprintln!(
            "lucky: note: --use-local-lucky (-l) bundled {} unsigned: this is a development charm (as with --dev)",
            exe.display()
        );
    }
    for note in &report.notes {
        eprintln!("lucky: note: {note}");
    }
    println!(
        "Built {} ({} hooks, {} actions{})",
        report.build_dir.display(),
        report.hooks.len(),
        report.actions.len(),
        if report.bundled.is_empty() {
            String::new()
        } else {
            format!(", bundled {}", report.bundled.join(", "))
        }
    );
    println!(
        "Packed {} ({} bytes)",
        report.charm_file.display(),
        report.charm_size
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Args;

    /// `lucky charm run ARGS` parsed as the CLI parses it: the options, or the error's
    /// first line (the one line `lucky` prints).
    fn parse(args: &[&str]) -> Result<RunArgs, String> {
        let cmd = RunArgs::augment_args(clap::Command::new("run"));
        let argv = std::iter::once("run").chain(args.iter().copied());
        let matches = cmd.try_get_matches_from(argv).map_err(|e| {
            e.render()
                .to_string()
                .lines()
                .next()
                .unwrap_or("")
                .to_string()
        })?;
        <RunArgs as clap::FromArgMatches>::from_arg_matches(&matches).map_err(|e| e.to_string())
    }

    fn setting(key: &str, value: &str) -> Setting {
        Setting {
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn run_options_arrive_typed() {
        let args = parse(&[
            "--config",
            "port=8080",
            "--then-config",
            "page-text=a=b",
            "--relate",
            "website:proxy",
            "--relation-data",
            "db:host=10.0.0.1:5432",
            "--action-param",
            "backup:label=",
        ])
        .expect("valid options");
        assert_eq!(args.config, vec![setting("port", "8080")]);
        assert_eq!(args.then_config, vec![setting("page-text", "a=b")]);
        assert_eq!(
            args.relate,
            vec![RemoteApp {
                endpoint: "website".into(),
                app: "proxy".into()
            }]
        );
        assert_eq!(
            args.relation_data,
            vec![RelationData {
                endpoint: "db".into(),
                setting: setting("host", "10.0.0.1:5432"),
            }]
        );
        assert_eq!(
            args.action_param,
            vec![ActionParam {
                action: "backup".into(),
                setting: setting("label", ""),
            }]
        );
    }

    #[test]
    fn bad_run_options_are_one_line_naming_the_flag_and_value() {
        for (flag, value, expected) in [
            ("--config", "port", "expected KEY=VALUE"),
            ("--config", "=8080", "(empty key)"),
            ("--then-config", "page-text", "expected KEY=VALUE"),
            ("--relate", "website", "expected ENDPOINT:REMOTE-APP"),
            ("--relate", ":proxy", "expected ENDPOINT:REMOTE-APP"),
            ("--relate", "website:", "(empty application)"),
            ("--relation-data", "db=host", "expected ENDPOINT:KEY=VALUE"),
            ("--relation-data", "db:host", "expected ENDPOINT:KEY=VALUE"),
            ("--action-param", "backup:=x", "expected ACTION:KEY=VALUE"),
            ("--action-param", "label=ci", "expected ACTION:KEY=VALUE"),
        ] {
            let Err(line) = parse(&[flag, value]) else {
                panic!("{flag} {value} was accepted");
            };
            assert!(
                line.contains(&format!("'{value}'"))
                    && line.contains(flag)
                    && line.contains(expected),
                "{flag} {value}: {line}"
            );
        }
    }
}
