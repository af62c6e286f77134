//! `lucky history` and `lucky history show ID`: what ran in this unit and how it went.

use super::output::Format;
use super::{CliResult, request_value};
use crate::protocol::Request;
use crate::state::history::{HookRecord, HookSummaryRow};
use clap::Subcommand;

#[derive(clap::Args)]
#[command(args_conflicts_with_subcommands = true)]
pub(crate) struct HistoryArgs {
    #[command(subcommand)]
    command: Option<HistoryCommand>,
    /// Show at most N runs, newest first
    #[arg(short = 'n', long = "limit", value_name = "N", default_value_t = 20)]
    limit: u32,
    /// Only runs of this hook or action (`cron` for cron jobs)
    #[arg(long, value_name = "NAME")]
    hook: Option<String>,
    /// Only runs that failed
    #[arg(long)]
    failed: bool,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Plain)]
    format: Format,
}

#[derive(Subcommand)]
enum HistoryCommand {
    /// Show one run whole: each script's exit status, duration and output tail,
    /// container changes, the unit status before and after
    Show {
        /// The run's id, as `lucky history` lists it
        id: u64,
        /// Output format
        #[arg(long, value_enum, default_value_t = Format::Plain)]
        format: Format,
    },
}

pub(crate) fn run(args: HistoryArgs) -> CliResult {
    match args.command {
        Some(HistoryCommand::Show { id, format }) => {
            let value = request_value(Request::HistoryShow { id })?;
            if format == Format::Json {
                println!("{value}");
                return Ok(());
            }
            let record: HookRecord = super::output::decode("history", value)?;
            print!("{}", render_record(&record));
        }
        None => {
            let value = request_value(Request::History {
                limit: args.limit,
                name: args.hook,
                failed_only: args.failed,
            })?;
            if args.format == Format::Json {
                println!("{value}");
                return Ok(());
            }
            let rows: Vec<HookSummaryRow> = super::output::decode("history", value)?;
            print!("{}", render_rows(&rows));
        }
    }
    Ok(())
}

fn seconds(ms: u64) -> String {
    format!("{}.{:03}s", ms / 1000, ms % 1000)
}

fn render_rows(rows: &[HookSummaryRow]) -> String {
    if rows.is_empty() {
        return "no runs recorded\n".into();
    }
    let mut out = format!(
        "{:>6}  {:<19}  {:>9}  {:<6}  RUN\n",
        "ID", "STARTED (UTC)", "DURATION", "RESULT"
    );
    for r in rows {
        let result = if r.failed { "failed" } else { "ok" };
        let what = match &r.failure {
            Some(f) if r.failed => format!("{} {}: {f}", r.kind.as_str(), r.name),
            _ => format!("{} {} ({} scripts)", r.kind.as_str(), r.name, r.scripts),
        };
        out.push_str(&format!(
            "{:>6}  {:<19}  {:>9}  {:<6}  {what}\n",
            r.id,
            super::output::utc(r.started_ms),
            seconds(r.duration_ms),
            result
        ));
    }
    out
}

fn render_record(r: &HookRecord) -> String {
    let mut out = format!(
        "run {}: {} {} (trigger: {})\n",
        r.id,
        r.kind.as_str(),
        r.name,
        r.trigger
    );
    out.push_str(&format!(
        "started:    {} UTC\n",
        super::output::utc(r.started_ms)
    ));
    out.push_str(&format!("duration:   {}\n", seconds(r.duration_ms)));
    match &r.error {
        Some(e) => out.push_str(&format!("result:     failed: {e}\n")),
        None if r.failed => out.push_str("result:     failed\n"),
        None => out.push_str("result:     ok\n"),
    }
    out.push_str(&format!(
        "status:     {} {:?} -> {} {:?}\n",
        r.status_before.status.as_str(),
        r.status_before.message,
        r.status_after.status.as_str(),
        r.status_after.message
    ));
    match &r.containers {
        None => out.push_str("containers: not reconciled\n"),
        Some(c) => out.push_str(&format!(
            "containers: created [{}], started [{}], removed [{}], unchanged [{}]\n",
            c.created.join(", "),
            c.started.join(", "),
            c.removed.join(", "),
            c.unchanged.join(", ")
        )),
    }
    out.push_str(&format!("scripts:    {}\n", r.entries.len()));
    for e in &r.entries {
        let exit = match e.exit_status {
            Some(code) => format!("exit status {code}"),
            None => "no exit status".into(),
        };
        out.push_str(&format!(
            "  {} (lucky.yaml line {}): {exit}, {}\n",
            e.id,
            e.line,
            seconds(e.duration_ms)
        ));
        if let Some(f) = &e.failure {
            out.push_str(&format!("    failed: {f}\n"));
        }
        if e.output_truncated {
            out.push_str("    | … (earlier output dropped)\n");
        }
        for line in e.output_tail.lines() {
            out.push_str(&format!("    | {line}\n"));
        }
    }
    out
}
