//! `lucky self-update`: the operator's command; the work is in `crate::update`.

use super::CliResult;
use clap::Args;

#[derive(Args)]
pub(crate) struct SelfUpdateArgs {
    /// Install this version instead of the newest
    #[arg(long, value_name = "V")]
    version: Option<String>,
    /// Only report the current and available versions; change nothing
    #[arg(long)]
    check: bool,
    /// Allow installing an older version
    #[arg(long)]
    allow_downgrade: bool,
    /// Release base URL (default: $LUCKY_RELEASE_URL, else the one built in, if any)
    #[arg(long, value_name = "URL")]
    release_url: Option<String>,
    /// Stop and restart the unit daemons (new pid) instead of handing their sockets over
    /// to the new binary in place
    #[arg(long)]
    restart: bool,
}

pub(crate) fn run(args: SelfUpdateArgs) -> CliResult {
    let opts = crate::update::Options {
        version: args.version,
        check: args.check,
        allow_downgrade: args.allow_downgrade,
        release_url: args.release_url,
        restart: args.restart,
    };
    crate::update::run(opts, &mut |line| println!("{line}"))?;
    Ok(())
}
