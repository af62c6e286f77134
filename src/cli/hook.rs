//! `lucky hook <hook-name>`: forward a Juju hook to the daemon and stream its output.

use super::{CliResult, Failure};
use crate::client::{self, ClientError};
use crate::protocol::{ErrorKind, Request, Stream};
use crate::unit::UnitPaths;
use std::io::Write;
use std::time::Duration;

#[derive(clap::Args)]
pub(crate) struct HookArgs {
    /// The hook to run, e.g. install or db-relation-changed
    pub(crate) hook_name: String,
    /// A cron job the daemon scheduled (passed by the daemon through juju-exec)
    #[arg(long, hide = true)]
    pub(crate) cron_job: Option<String>,
}

/// How often a hook is resent when it reached a daemon that was stopping (nothing ran).
const RESTART_RETRIES: u32 = 5;

pub(crate) fn run(args: HookArgs) -> CliResult {
    let paths = UnitPaths::from_env()?;
    let env = std::env::vars_os()
        .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
        .collect();
    let request = Request::RunHook {
        hook: args.hook_name.clone(),
        env,
        cron_job: args.cron_job,
    };
    let mut attempt = 0;
    loop {
        let stream = client::connect_or_start(&paths)?;
        let result = client::call(stream, &request, print_output);
        match result {
            Ok(_) => return Ok(()),
            // A daemon being replaced (stop, self-update) refuses new hooks before running
            // anything: let it finish, then start the next one and resend.
            Err(e)
                if e.daemon_kind() == Some(ErrorKind::ShuttingDown)
                    && attempt < RESTART_RETRIES =>
            {
                attempt += 1;
                // Bounded: past it the next attempt meets the old daemon and waits again.
                let _ = client::wait_until_gone(&paths, Duration::from_secs(30));
            }
            Err(ClientError::Daemon(e)) => {
                return Err(Failure {
                    message: format!("hook {} failed: {}", args.hook_name, e.message),
                    code: 1,
                });
            }
            Err(e) => return Err(e.into()),
        }
    }
}

fn print_output(stream: Stream, data: &[u8]) {
    // Output is the hook's log: a closed stdout must not abort the hook.
    let _ = match stream {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(data).and_then(|()| out.flush())
        }
        Stream::Stderr => std::io::stderr().lock().write_all(data),
    };
}
