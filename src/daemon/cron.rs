//! Cron jobs: the daemon keeps lucky.yaml's `cron-jobs` schedule and, when a job is due,
//! asks Juju for a real hook context with `juju-exec <unit> <command>` (`juju-run` on
//! Juju 2). The command calls back into the daemon (`lucky hook cron --cron-job TOKEN`),
//! and the job's scripts run in that context like a hook's, under the hook lock.
//!
//! The scheduler never holds the hook lock while waiting for `juju-exec`: Juju may be
//! running a hook that is itself waiting for our lock.
//!
//! A job due while the daemon was down runs once when it comes back (the schedule is
//! compared with the job's last start, which is stored). The `stop` hook pauses all jobs;
//! `install` and `start` resume them.
//!
//! Schedules are read in lucky.yaml's `timezone:`, else the machine's local time (`TZ`,
//! `/etc/localtime`), as cron reads them; daylight-saving gaps and repeats are the
//! schedule's business (`CronSchedule::next_after_in`).

use super::Daemon;
use crate::charm::cron::{self as schedule, CronSchedule};
use crate::protocol::{LogLevel, WorkloadStatus};
use crate::script::HookContext;
use crate::state::status::OwnedStatus;
use crate::zone::Zone;
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Runs handed to `juju-exec` and not yet finished: token → schedule; and which
/// schedules are running (a job never overlaps itself).
#[derive(Default)]
pub(crate) struct CronRuns {
    pending: Mutex<HashMap<String, String>>,
    running: Mutex<HashSet<String>>,
    pub(crate) changed: tokio::sync::Notify,
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The schedule a cron run token stands for.
pub(crate) fn schedule_for(daemon: &Daemon, token: &str) -> Option<String> {
    lock(&daemon.cron.pending).get(token).cloned()
}

/// Whether jobs are paused (the `stop` hook ran).
pub(crate) fn stopped(daemon: &Daemon) -> bool {
    daemon.state.cron.read(|c| c.stopped)
}

/// Learns from a hook what the scheduler needs: the charm folder, the hook PATH (to find
/// `juju-exec`), and whether the unit is stopped.
pub(crate) fn note_hook(daemon: &Daemon, hook: &str, charm_dir: &Path, path: Option<&String>) {
    let stopped = match hook {
        "stop" => Some(true),
        "install" | "start" => Some(false),
        _ => None,
    };
    let unchanged = daemon.state.cron.read(|c| {
        c.charm_dir.as_deref() == Some(charm_dir)
            && c.hook_path.as_ref() == path
            && stopped.is_none_or(|s| s == c.stopped)
    });
    if !unchanged {
        let result = daemon.state.cron.update(|c| {
            c.charm_dir = Some(charm_dir.to_path_buf());
            c.hook_path = path.cloned();
            if let Some(s) = stopped {
                c.stopped = s;
            }
        });
        if let Err(e) = result {
            tracing::warn!("cannot record cron state: {e}");
        }
    }
    // lucky.yaml may have changed (upgrade-charm): re-plan.
    daemon.cron.changed.notify_one();
}

fn status_owner(schedule: &str) -> String {
    format!("cron {schedule}")
}

/// After a cron run: a failure goes to `juju-log` at ERROR and becomes the job's status;
/// success clears that status.
pub(crate) async fn record_outcome(
    daemon: &Daemon,
    context: &HookContext,
    schedule: &str,
    failure: Option<&str>,
) {
    let owner = status_owner(schedule);
    let result = match failure {
        Some(failure) => {
            let message = format!("cron job \"{schedule}\" failed: {failure}");
            if let Err(e) = crate::juju::exec(
                context,
                "juju-log",
                &["-l", LogLevel::Error.juju_name(), "--", &message],
            )
            .await
            {
                tracing::warn!("{e}");
            }
            daemon.state.statuses.update(|all| {
                all.insert(
                    owner,
                    OwnedStatus {
                        status: WorkloadStatus::Blocked,
                        message,
                        context: None,
                    },
                );
            })
        }
        None if daemon.state.statuses.read(|all| all.contains_key(&owner)) => {
            daemon.state.statuses.update(|all| {
                all.remove(&owner);
            })
        }
        None => Ok(()),
    };
    if let Err(e) = result {
        tracing::warn!("cannot record the cron job's status: {e}");
    }
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or_default()
}

/// The status owner for a `timezone:` the machine cannot read.
const ZONE_STATUS_OWNER: &str = "cron timezone";

/// The zone schedules are read in: lucky.yaml's `timezone:`, else the machine's local
/// time (`TZ`, `/etc/localtime`), as cron's. `None` (and a status saying why) when the
/// named zone cannot be read: no job runs at a time its author did not mean.
fn zone_for(daemon: &Daemon, named: Option<&str>) -> Option<Zone> {
    let zone = match named {
        Some(name) => Zone::named(name),
        None => Ok(Zone::local().unwrap_or_else(|e| {
            tracing::warn!("cron schedules read in UTC: {e}");
            Zone::utc()
        })),
    };
    let had_status = daemon
        .state
        .statuses
        .read(|all| all.contains_key(ZONE_STATUS_OWNER));
    let result = match &zone {
        Err(e) => {
            tracing::warn!("cron jobs not scheduled: {e}");
            let message = format!("cron jobs not scheduled: {e}");
            daemon.state.statuses.update(|all| {
                all.insert(
                    ZONE_STATUS_OWNER.to_string(),
                    OwnedStatus {
                        status: WorkloadStatus::Blocked,
                        message,
                        context: None,
                    },
                );
            })
        }
        Ok(_) if had_status => daemon.state.statuses.update(|all| {
            all.remove(ZONE_STATUS_OWNER);
        }),
        Ok(_) => Ok(()),
    };
    if let Err(e) = result {
        tracing::warn!("cannot record the cron time zone's status: {e}");
    }
    zone.ok()
}

/// The jobs to schedule now, and the zone their schedules are read in: none while
/// stopped or before any hook told us the charm.
fn plan(daemon: &Daemon) -> (Vec<(String, CronSchedule)>, Zone) {
    let Some(charm_dir) = daemon
        .state
        .cron
        .read(|c| (!c.stopped).then(|| c.charm_dir.clone()).flatten())
    else {
        return (Vec::new(), Zone::utc());
    };
    let yaml = match daemon.lucky_yaml.load(&charm_dir) {
        Ok(y) => y,
        Err(e) => {
            tracing::warn!("cron jobs not scheduled: {e}");
            return (Vec::new(), Zone::utc());
        }
    };
    if yaml.cron_jobs.is_empty() {
        return (Vec::new(), Zone::utc());
    }
    let Some(zone) = zone_for(daemon, yaml.timezone.as_deref()) else {
        return (Vec::new(), Zone::utc());
    };
    let jobs = yaml
        .cron_jobs
        .iter()
        .filter_map(|job| match schedule::parse(&job.schedule) {
            Ok(schedule) => Some((job.schedule.clone(), schedule)),
            Err(e) => {
                tracing::warn!(
                    "{}:{}: cron job \"{}\" not scheduled: {e}",
                    yaml.path.display(),
                    job.line,
                    job.schedule
                );
                None
            }
        })
        .collect();
    (jobs, zone)
}

/// The scheduler: runs until the daemon stops.
pub(crate) async fn run_scheduler(daemon: Arc<Daemon>) {
    // lucky.yaml is read when a hook says it may have changed, not at every wake-up.
    let (mut jobs, mut zone) = plan(&daemon);
    loop {
        let now = now();
        let mut wake: Option<f64> = None;
        for (key, schedule) in &jobs {
            let key = key.as_str();
            let last = daemon.state.cron.read(|c| c.last_runs.get(key).copied());
            let last = match last {
                Some(last) => last,
                None => {
                    // A new job starts counting now: it does not fire for the past.
                    set_last_run(&daemon, key, now as i64);
                    now as i64
                }
            };
            let Some(next) = schedule.next_after_in(last, &zone).map(|t| t as f64) else {
                continue;
            };
            if next <= now {
                if !lock(&daemon.cron.running).contains(key) {
                    set_last_run(&daemon, key, now as i64);
                    start_job(&daemon, key.to_string());
                }
                wake = Some(wake.map_or(now + 1.0, |w: f64| w.min(now + 1.0)));
            } else {
                wake = Some(wake.map_or(next, |w: f64| w.min(next)));
            }
        }
        let sleep = wake.map_or(Duration::from_secs(3600), |w| {
            Duration::from_secs_f64((w - now).clamp(0.05, 3600.0))
        });
        tokio::select! {
            () = tokio::time::sleep(sleep) => {}
            () = daemon.cron.changed.notified() => (jobs, zone) = plan(&daemon),
            () = daemon.shutdown_requested() => return,
        }
    }
}

fn set_last_run(daemon: &Daemon, key: &str, at: i64) {
    if let Err(e) = daemon.state.cron.update(|c| {
        c.last_runs.insert(key.to_string(), at);
    }) {
        tracing::warn!("cannot record the cron run: {e}");
    }
}

fn start_job(daemon: &Arc<Daemon>, schedule: String) {
    let daemon = Arc::clone(daemon);
    let token = crate::script::new_token();
    lock(&daemon.cron.pending).insert(token.clone(), schedule.clone());
    lock(&daemon.cron.running).insert(schedule.clone());
    tokio::spawn(async move {
        let outcome = exec_job(&daemon, &token).await;
        lock(&daemon.cron.pending).remove(&token);
        lock(&daemon.cron.running).remove(&schedule);
        if let Err(why) = outcome {
            // No hook context to report through: store the status for the next hook.
            tracing::error!("cron job \"{schedule}\" could not run: {why}");
            let result = daemon.state.statuses.update(|all| {
                all.insert(
                    status_owner(&schedule),
                    OwnedStatus {
                        status: WorkloadStatus::Blocked,
                        message: format!("cron job \"{schedule}\" could not run: {why}"),
                        context: None,
                    },
                );
            });
            if let Err(e) = result {
                tracing::warn!("cannot record the cron job's status: {e}");
            }
        }
    });
}

async fn exec_job(daemon: &Daemon, token: &str) -> Result<(), String> {
    super::juju_exec::run_lucky(daemon, &format!("hook cron --cron-job {token}"), true).await
}
