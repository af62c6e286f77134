//! `lucky check list` / `lucky check show NAME`: the health checks lucky.yaml declares,
//! as the daemon runs them (up, down or unknown, failures, the last failure messages).

use super::output::Format;
use super::{CliResult, request_value};
use crate::daemon::checks::CheckState;
use crate::protocol::Request;
use clap::Subcommand;

#[derive(Subcommand)]
pub(crate) enum CheckCommand {
    /// List every health check with its state (up, down, unknown) and last failure
    List {
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Plain)]
        format: Format,
    },
    /// Show one health check: its probe, settings, state and its last failures with times
    Show {
        /// The check's name in lucky.yaml `checks:`
        name: String,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Plain)]
        format: Format,
    },
    /// Give Juju the status the checks changed (run by the daemon through juju-exec)
    #[command(hide = true)]
    Report {
        #[arg(long)]
        token: String,
    },
}

pub(crate) fn run(command: CheckCommand) -> CliResult {
    match command {
        CheckCommand::List { format } => {
            let value = request_value(Request::Checks { name: None })?;
            if format == Format::Json {
                println!("{value}");
                return Ok(());
            }
            let states: Vec<CheckState> = super::output::decode("check", value)?;
            print!("{}", render_list(&states));
        }
        CheckCommand::Show { name, format } => {
            let value = request_value(Request::Checks { name: Some(name) })?;
            if format == Format::Json {
                println!("{value}");
                return Ok(());
            }
            let state: CheckState = super::output::decode("check", value)?;
            print!("{}", render_one(&state));
        }
        CheckCommand::Report { token } => {
            let env = std::env::vars_os()
                .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
                .collect();
            super::request(Request::CheckReport { token, env })?;
        }
    }
    Ok(())
}

fn render_list(states: &[CheckState]) -> String {
    if states.is_empty() {
        return "no health checks (lucky.yaml `checks:`), or no hook has run yet\n".into();
    }
    let width = states
        .iter()
        .map(|s| s.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!(
        "{:<width$}  {:<7}  {:>8}  {:<5}  LAST FAILURE\n",
        "NAME", "STATE", "FAILURES", "KIND"
    );
    for s in states {
        let last = s.last_failures.last().map_or(String::new(), |f| {
            format!("{} {}", super::output::utc(f.at_ms), f.message)
        });
        out.push_str(&format!(
            "{:<width$}  {:<7}  {:>8}  {:<5}  {last}\n",
            s.name,
            s.state,
            format!("{}/{}", s.failures, s.threshold),
            s.kind
        ));
    }
    out
}

fn render_one(s: &CheckState) -> String {
    let mut out = format!("check:     {}\nstate:     {}\n", s.name, s.state);
    out.push_str(&format!("probe:     {} {}\n", s.kind, s.target));
    out.push_str(&format!(
        "failures:  {} in a row (down at {})\n",
        s.failures, s.threshold
    ));
    out.push_str(&format!(
        "period:    {}ms, timeout {}ms\nprobes:    {}\n",
        s.period_ms, s.timeout_ms, s.probes
    ));
    if let Some(at) = s.last_probe_ms {
        out.push_str(&format!("last:      {} UTC\n", super::output::utc(at)));
    }
    if let Some(status) = &s.status {
        out.push_str(&format!("status:    {status}\n"));
    }
    if let Some(container) = &s.restart_container {
        out.push_str(&format!("restarts:  container {container} when down\n"));
    }
    if s.last_failures.is_empty() {
        out.push_str("last failures: none\n");
    } else {
        out.push_str("last failures (UTC):\n");
        for f in &s.last_failures {
            out.push_str(&format!(
                "  {}  {}\n",
                super::output::utc(f.at_ms),
                f.message
            ));
        }
    }
    out
}
