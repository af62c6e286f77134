//! Running a hook: the per-unit hook lock, the charm's entries in order, async joins.

use super::Daemon;
use super::cron;
use super::scripts::{self, ScriptEnv};
use crate::docker::exec;
use crate::juju::args::truncated;
use crate::protocol::container::ReconcileReport;
use crate::protocol::{ErrorKind, ErrorReply, HookSummary};
use crate::script::{HookContext, OutputSink, ScriptEntry, ScriptFailure, ScriptKind};
use crate::state::history::RunKind;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use tokio::task::JoinHandle;

/// What a run is for: each takes its entries from a different lucky.yaml section, and
/// reports failure differently.
enum Run {
    Hook,
    /// `JUJU_ACTION_NAME` is set: a failure is the action's (`action-fail`), not the unit's.
    Action(String),
    /// A cron job the scheduler asked for: a failure is logged and shown as its status.
    Cron(String),
}

/// Runs the scripts lucky.yaml lists for `hook` (or for the action / cron job the
/// environment names). Waits for any hook already running.
pub(crate) async fn run_hook(
    daemon: &Arc<Daemon>,
    hook: &str,
    env: BTreeMap<String, String>,
    cron_job: Option<String>,
    out: &OutputSink,
) -> Result<HookSummary, ErrorReply> {
    let _hook_lock = daemon.hook_lock.lock().await;
    if daemon.is_shutting_down() || daemon.handover.in_progress() {
        // Nothing has run: the client may safely retry against the next daemon.
        return Err(ErrorReply::new(
            ErrorKind::ShuttingDown,
            "the lucky daemon is stopping and runs no new hook",
        ));
    }
    let HookPlan {
        run,
        label,
        entries,
        charm_dir,
        use_docker,
    } = plan(daemon, hook, &env, cron_job)?;
    if matches!(run, Run::Hook) {
        cron::note_hook(daemon, hook, &charm_dir, env.get("PATH"));
        daemon.checks.changed.notify_one();
    }
    daemon.hooks_run.fetch_add(1, Ordering::Relaxed);
    // What scripts see as LUCKY_HOOK: the hook, the action, or `cron`.
    let name = match &run {
        Run::Hook => hook,
        Run::Action(action) => action.as_str(),
        Run::Cron(_) => "cron",
    };
    let trigger = trigger(&run, &env);
    let guard = daemon.contexts.register(name, env);
    let recorder = daemon
        .history
        .begin(&guard.context, run.kind(), trigger, unit_status(daemon));
    *daemon.running_hook_name() = Some(label.clone());
    if entries.is_empty() {
        tracing::info!(hook = %label, "no scripts in lucky.yaml");
    } else {
        tracing::info!(hook = %label, scripts = entries.len(), "started");
    }
    // A script may delete the last container (`lucky container delete`): that container
    // must still be removed after the scripts, so look at the state from before them too.
    let had_containers = daemon.docker.has_desired_state();
    // The install hook of a deployed charm that uses containers first makes sure an engine
    // answers. Deployed = built by `lucky charm build`; a bare charm folder run by hand
    // (`charm run`, tests) brings its own engine and never gets packages installed.
    let engine = match &run {
        Run::Hook
            if hook == "install" && use_docker && crate::charm::build::is_built(&charm_dir) =>
        {
            super::engine::ensure(daemon, &guard.context, out).await
        }
        _ => Ok(()),
    };
    let scripts = match engine {
        Err(e) => Err(e),
        Ok(()) => run_entries(daemon, &guard.context, &charm_dir, &entries, out)
            .await
            .map_err(|failure| ErrorReply::new(ErrorKind::ScriptFailed, failure.to_string())),
    };
    // `remove` too: it may come without `stop` having removed them (a failed stop).
    let removing = matches!(run, Run::Hook) && (hook == "stop" || hook == "remove");
    let outcome = match scripts {
        Ok(scripts_run) => {
            let docker = use_docker && (had_containers || daemon.docker.has_desired_state());
            let refresh = matches!(run, Run::Hook) && hook == "upgrade-charm";
            let (report, applied) =
                after_scripts(daemon, removing, refresh, docker, &charm_dir, out).await;
            recorder.containers(report);
            applied.map(|()| scripts_run)
        }
        Err(e) => Err(e),
    };
    let error = outcome.as_ref().err().cloned();
    let result = match (&run, outcome) {
        (_, Ok(scripts_run)) => {
            if let Run::Cron(schedule) = &run {
                cron::record_outcome(daemon, &guard.context, schedule, None).await;
            }
            tracing::info!(hook = %label, scripts_run, "succeeded");
            Ok(scripts_run)
        }
        (Run::Hook, Err(error)) => {
            tracing::warn!(hook = %label, %error, "failed");
            Err(error)
        }
        (Run::Action(_), Err(error)) => {
            tracing::warn!(hook = %label, %error, "action failed");
            let message = truncated(&error.message, crate::juju::args::MAX_TEXT);
            crate::juju::exec(&guard.context, "action-fail", &["--", message])
                .await
                .map(|()| 0)
                .map_err(ErrorReply::from)
        }
        (Run::Cron(schedule), Err(error)) => {
            tracing::warn!(hook = %label, %error, "cron job failed");
            cron::record_outcome(daemon, &guard.context, schedule, Some(&error.message)).await;
            Ok(0)
        }
    };
    finish_context(daemon, &guard.context).await;
    daemon
        .history
        .finish(recorder, error.as_ref(), unit_status(daemon));
    *daemon.running_hook_name() = None;
    drop(guard);
    result.map(|scripts_run| HookSummary {
        hook: label,
        scripts_run,
    })
}

impl Run {
    fn kind(&self) -> RunKind {
        match self {
            Run::Hook => RunKind::Hook,
            Run::Action(_) => RunKind::Action,
            Run::Cron(_) => RunKind::Cron,
        }
    }
}

/// What started a run, for its history record.
fn trigger(run: &Run, env: &BTreeMap<String, String>) -> String {
    match run {
        Run::Hook => "juju".into(),
        Run::Action(_) => match env.get("JUJU_ACTION_UUID") {
            Some(id) => format!("juju action {id}"),
            None => "juju action".into(),
        },
        Run::Cron(schedule) => format!("cron schedule \"{schedule}\""),
    }
}

fn unit_status(daemon: &Daemon) -> (crate::protocol::WorkloadStatus, String) {
    daemon
        .state
        .statuses
        .read(crate::state::status::unit_status)
}

/// What a run will do, decided before anything runs: which section of lucky.yaml, under
/// which label, with which entries.
struct HookPlan {
    run: Run,
    label: String,
    entries: Vec<ScriptEntry>,
    charm_dir: PathBuf,
    use_docker: bool,
}

/// Reads lucky.yaml and picks the entries for `hook` (or for the action or cron job the
/// environment names). Changes nothing.
fn plan(
    daemon: &Daemon,
    hook: &str,
    env: &BTreeMap<String, String>,
    cron_job: Option<String>,
) -> Result<HookPlan, ErrorReply> {
    let charm_dir = charm_dir(env)?;
    let yaml = daemon
        .lucky_yaml
        .load(&charm_dir)
        .map_err(|e| ErrorReply::new(ErrorKind::Charm, e.to_string()))?;
    let run = match (cron_job, env.get("JUJU_ACTION_NAME")) {
        (Some(token), _) => Run::Cron(cron::schedule_for(daemon, &token).ok_or_else(|| {
            ErrorReply::new(
                ErrorKind::BadRequest,
                format!("unknown cron run {token:?}: cron runs are started by the daemon"),
            )
        })?),
        (None, Some(action)) if !action.is_empty() => Run::Action(action.clone()),
        _ => Run::Hook,
    };
    let (label, entries) = match &run {
        Run::Hook => (hook.to_string(), yaml.hooks.get(hook).cloned()),
        Run::Action(action) => (
            format!("action {action}"),
            Some(yaml.actions.get(action).cloned().ok_or_else(|| {
                ErrorReply::new(
                    ErrorKind::Charm,
                    format!("{}: no action \"{action}\" is defined", yaml.path.display()),
                )
            })?),
        ),
        Run::Cron(schedule) => (
            format!("cron job \"{schedule}\""),
            yaml.cron_jobs
                .iter()
                .find(|j| &j.schedule == schedule)
                .map(|j| j.entries.clone()),
        ),
    };
    // A cron run queued behind the `stop` hook does nothing.
    let entries = match run {
        Run::Cron(_) if cron::stopped(daemon) => Vec::new(),
        _ => entries.unwrap_or_default(),
    };
    Ok(HookPlan {
        run,
        label,
        entries,
        charm_dir,
        use_docker: yaml.use_docker,
    })
}

/// What must happen while a context is still live, after its scripts: pending
/// `juju-log` calls land, its `maintenance` statuses end, and Juju gets the unit status.
pub(crate) async fn finish_context(daemon: &Daemon, context: &HookContext) {
    context.flush_logs().await;
    let token = context.token.clone();
    let ended = daemon.state.statuses.update_if(|all| {
        crate::state::status::end_maintenance(all, |t| t != token && daemon.contexts.is_live(t))
    });
    if let Err(e) = ended {
        tracing::warn!("cannot update statuses: {e}");
    }
    if let Err(e) = daemon
        .status_reporter
        .push(&daemon.state.statuses, context)
        .await
    {
        tracing::warn!(hook = %context.hook, "cannot set the unit status: {e}");
    }
}

/// After a hook's scripts: the `stop` hook removes the unit's containers, every other
/// hook makes them match the desired state. Skipped (`docker` false) when the charm does
/// not use Docker or has no container configured before or after the scripts, so such
/// charms need no engine. `refresh` (upgrade-charm) pulls the images afresh.
/// Returns what the reconcile changed, a failed one included (it may have created some
/// containers before another failed).
async fn after_scripts(
    daemon: &Daemon,
    removing: bool,
    refresh: bool,
    docker: bool,
    charm_dir: &std::path::Path,
    out: &OutputSink,
) -> (Option<ReconcileReport>, Result<(), ErrorReply>) {
    if !docker {
        return (None, Ok(()));
    }
    let result = if removing {
        daemon
            .docker
            .remove_all(&daemon.paths.unit)
            .await
            .map_err(|e| (ReconcileReport::default(), e))
    } else {
        daemon
            .docker
            .apply_reporting(&daemon.paths, Some(charm_dir), out, refresh)
            .await
    };
    match result {
        Ok(report) => (Some(report), Ok(())),
        // What a failed reconcile did before failing was still done: the history keeps it
        // (`None` when the engine was not even asked).
        Err((report, e)) => (
            (report.api_calls > 0).then_some(report),
            Err(ErrorReply::new(
                ErrorKind::Docker,
                format!("the containers could not be updated: {e}"),
            )),
        ),
    }
}

fn charm_dir(env: &BTreeMap<String, String>) -> Result<PathBuf, ErrorReply> {
    env.get("JUJU_CHARM_DIR")
        .or_else(|| env.get("CHARM_DIR"))
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .ok_or_else(|| {
            ErrorReply::new(
                ErrorKind::BadRequest,
                "neither JUJU_CHARM_DIR nor CHARM_DIR is set: run `lucky hook` from a Juju hook",
            )
        })
}

/// Runs `entries` in order in `context`; an `async` entry runs alongside the next ones and
/// is joined before returning. The first failure stops the entries after it.
pub(crate) async fn run_entries(
    daemon: &Arc<Daemon>,
    context: &Arc<HookContext>,
    charm_dir: &std::path::Path,
    entries: &[ScriptEntry],
    out: &OutputSink,
) -> Result<u32, ScriptFailure> {
    let mut background: Vec<JoinHandle<Result<(), ScriptFailure>>> = Vec::new();
    let mut first_failure: Option<ScriptFailure> = None;
    let mut ran = 0u32;
    for entry in entries {
        if let Some(failed) = take_finished_failure(&mut background).await {
            first_failure = Some(failed);
            break;
        }
        ran += 1;
        if entry.is_async {
            let (daemon, context, charm_dir, entry, out) = (
                Arc::clone(daemon),
                Arc::clone(context),
                charm_dir.to_path_buf(),
                entry.clone(),
                out.clone(),
            );
            background.push(tokio::spawn(async move {
                run_one(&daemon, &context, &charm_dir, &entry, &out).await
            }));
        } else if let Err(failed) = run_one(daemon, context, charm_dir, entry, out).await {
            first_failure = Some(failed);
            break;
        }
    }
    for handle in background {
        let joined = handle.await.unwrap_or_else(|e| {
            Err(ScriptFailure {
                script: "async script".into(),
                line: 0,
                cause: format!("task failed: {e}"),
                exit_status: None,
            })
        });
        if let (Err(failed), None) = (joined, &first_failure) {
            first_failure = Some(failed);
        }
    }
    match first_failure {
        Some(failed) => Err(failed),
        None => Ok(ran),
    }
}

/// The failure of an async script that has already finished, if any.
async fn take_finished_failure(
    background: &mut Vec<JoinHandle<Result<(), ScriptFailure>>>,
) -> Option<ScriptFailure> {
    let mut i = 0;
    while i < background.len() {
        if background[i].is_finished() {
            let handle = background.swap_remove(i);
            if let Ok(Err(failed)) = handle.await {
                return Some(failed);
            }
        } else {
            i += 1;
        }
    }
    None
}

async fn run_one(
    daemon: &Daemon,
    context: &Arc<HookContext>,
    charm_dir: &std::path::Path,
    entry: &ScriptEntry,
    out: &OutputSink,
) -> Result<(), ScriptFailure> {
    let recorded = daemon.history.entry(context, entry, out);
    let out = &recorded.out;
    let env = ScriptEnv {
        socket: &daemon.paths.socket,
        lucky_bin_dir: &daemon.lucky_bin_dir,
        charm_dir,
    };
    let result = match entry.kind {
        ScriptKind::Container { .. } | ScriptKind::InlineContainer { .. } => {
            // The container as this hook has configured it so far (2020 Lucky applied
            // after every script); nothing pending means no engine call.
            daemon
                .docker
                .apply_pending(&daemon.paths, Some(charm_dir), out)
                .await
                .map_err(|e| {
                    ScriptFailure::new(entry, format!("the containers could not be updated: {e}"))
                })?;
            // This exec's own token, revoked when it returns (see `script::context`).
            let token = daemon.contexts.register_container_script(context);
            exec::run_container_script(
                &daemon.docker,
                &daemon.paths.unit,
                entry,
                context,
                &token.token,
                out,
            )
            .await
        }
        ScriptKind::Host { .. } | ScriptKind::InlineHost { .. } => {
            scripts::run_host(entry, context, &env, out).await
        }
    };
    match &result {
        Ok(()) => tracing::debug!(hook = %context.hook, script = %entry.id, "script succeeded"),
        Err(f) => {
            tracing::warn!(hook = %context.hook, script = %entry.id, failure = %f, "script failed")
        }
    }
    recorded.finish(&result);
    result
}
