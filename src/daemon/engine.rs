//! The install hook's first step for a charm with containers: an engine that answers, or
//! one installed and started (`docker::provision` does the work), shown as the unit's
//! status while it happens.

use super::Daemon;
use crate::docker::provision::{self, Plan, Proxy};
use crate::protocol::{ErrorKind, ErrorReply, Stream, WorkloadStatus};
use crate::script::{HookContext, OutputSink};
use crate::state::status::OwnedStatus;
use std::path::PathBuf;

/// The status owner of the engine provisioning.
const ENGINE_STATUS: &str = "lucky-docker-engine";

/// Uses the engine that answers, or installs and starts one (see `docker::provision`);
/// progress is a maintenance status and log lines, failure a blocked status.
pub(crate) async fn ensure(
    daemon: &Daemon,
    context: &HookContext,
    out: &OutputSink,
) -> Result<(), ErrorReply> {
    // Bounded: a socket whose engine hangs must not hold the hook past the wait bound.
    let answers = || async {
        daemon.docker.reset_client().await;
        let ping = async {
            match daemon.docker.client().await {
                Ok(docker) => docker.ping().await.is_ok(),
                Err(_) => false,
            }
        };
        tokio::time::timeout(std::time::Duration::from_secs(5), ping)
            .await
            .unwrap_or(false)
    };
    let set = |status: Option<(WorkloadStatus, String)>| {
        let token = context.token.clone();
        let stored = daemon.state.statuses.update(|all| match status {
            Some((status, message)) => {
                let context = (status == WorkloadStatus::Maintenance).then_some(token);
                all.insert(
                    ENGINE_STATUS.into(),
                    OwnedStatus {
                        status,
                        message,
                        context,
                    },
                );
            }
            None => {
                all.remove(ENGINE_STATUS);
            }
        });
        if let Err(e) = stored {
            tracing::warn!("cannot store the engine status: {e}");
        }
    };
    if answers().await {
        set(None);
        return Ok(());
    }
    let message = "no Docker engine answers: installing and starting one";
    out.line(Stream::Stderr, format!("lucky: {message}")).await;
    set(Some((WorkloadStatus::Maintenance, message.into())));
    let _ = daemon
        .status_reporter
        .push(&daemon.state.statuses, context)
        .await;
    let env_secs = |k: &str, default: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let plan = Plan {
        path: context.env.get("PATH").cloned().unwrap_or_default(),
        proxy: Proxy::from_hook_env(&context.env),
        unit_dir: std::env::var_os("LUCKY_SYSTEMD_UNIT_DIR")
            .map_or_else(|| PathBuf::from("/etc/systemd/system"), PathBuf::from),
        attempts: 3,
        retry_delay: std::time::Duration::from_secs(env_secs("LUCKY_APT_RETRY_DELAY", 5)),
        wait: std::time::Duration::from_secs(env_secs("LUCKY_DOCKER_WAIT_SECS", 120)),
    };
    let log = |line: String| tracing::info!(hook = "install", "{line}");
    match provision::install_and_start(&plan, &log, answers).await {
        Ok(()) => {
            set(None);
            Ok(())
        }
        Err(e) => {
            set(Some((
                WorkloadStatus::Blocked,
                format!("Docker engine: {}: {e}", e.cause()),
            )));
            Err(ErrorReply::new(ErrorKind::Docker, e.to_string()))
        }
    }
}
