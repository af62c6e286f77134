//! The hook tools: `lucky` acts as `status-set`, `config-get` … when its file name says so.
//!
//! Each call finds the model through `JUJU_AGENT_SOCKET_ADDRESS` (its parent directory),
//! takes the model lock, checks that `JUJU_CONTEXT_ID` belongs to the hook running now,
//! runs, saves the model if it changed and logs one line to calls.log.

mod action;
pub(crate) mod args;
mod config;
mod credential;
mod exec;
mod goal;
mod kv;
mod leader;
mod ports;
mod reboot;
mod relation;
mod secret;
mod status;
mod storage;
mod unit;

use super::state::{Data, ModelState, RunningHook, now_rfc3339};
use super::store::{self, CallRecord};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Every tool the simulator provides; the tools dir holds one symlink per name.
pub(crate) const TOOL_NAMES: &[&str] = &[
    "status-set",
    "status-get",
    "application-version-set",
    "config-get",
    "relation-get",
    "relation-set",
    "relation-ids",
    "relation-list",
    "leader-get",
    "leader-set",
    "is-leader",
    "open-port",
    "close-port",
    "opened-ports",
    "unit-get",
    "network-get",
    "resource-get",
    "juju-log",
    "action-get",
    "action-set",
    "action-fail",
    "action-log",
    "state-get",
    "state-set",
    "state-delete",
    "storage-get",
    "storage-list",
    "storage-add",
    "goal-state",
    "secret-add",
    "secret-get",
    "secret-set",
    "secret-ids",
    "secret-info-get",
    "secret-grant",
    "secret-revoke",
    "secret-remove",
    exec::JUJU_EXEC,
    "credential-get",
    "juju-reboot",
    "relation-model-get",
];

/// The bare id of `secret:ID` (or of a bare ID), checked as Juju parses secret URIs.
pub(crate) fn secret_id(given: &str) -> Option<String> {
    secret::parse_uri(given)
}

/// Juju's rule for a secret key.
pub(crate) fn secret_key_ok(key: &str) -> bool {
    secret::valid_key(key)
}

/// A new secret id, as Juju makes them (20 characters of base32hex).
pub(crate) fn new_secret_id() -> String {
    secret::new_id()
}

/// Called first thing in `main` with the command line: only a file-name comparison
/// unless `lucky` runs as a tool.
pub fn run_if_invoked_as_tool(args: &[std::ffi::OsString]) -> Option<u8> {
    let arg0 = args.first()?;
    let name = Path::new(arg0).file_name()?.to_str()?;
    // Every tool's name has a dash and `lucky` has none: the usual case reads no table
    // (each page of constants a script call reads first is a page fault).
    if !name.contains('-') {
        return None;
    }
    let tool = *TOOL_NAMES.iter().find(|t| **t == name)?;
    Some(run_tool(tool, arg0, &args[1..]))
}

/// Not inlined, so that `lucky`'s own start (which checks for a tool name first) does not
/// carry this function's stack frame.
#[inline(never)]
fn run_tool(tool: &'static str, arg0: &std::ffi::OsStr, given: &[std::ffi::OsString]) -> u8 {
    let mut args = Vec::new();
    for a in given {
        match a.to_str() {
            Some(s) => args.push(s.to_string()),
            None => {
                eprintln!("ERROR argument is not valid UTF-8: {a:?}");
                return 2;
            }
        }
    }
    if tool == exec::JUJU_EXEC {
        return exec::main(Path::new(arg0), &args);
    }
    // Juju answers --help without a context; so do we.
    let flags_part = args.split(|a| a == "--").next().unwrap_or_default();
    if flags_part.iter().any(|a| a == "--help" || a == "-h") {
        println!("Usage: {tool} {}", usage(tool));
        return 0;
    }
    let env = CallEnv::from_process();
    let out = execute(tool, &args, &env);
    // A closed stdout is the caller's business; the call itself is done and logged.
    let _ = std::io::stdout().write_all(&out.stdout);
    let _ = std::io::stdout().flush();
    if !out.stderr.is_empty() {
        let _ = std::io::stderr().write_all(out.stderr.as_bytes());
    }
    out.code
}

fn usage(tool: &str) -> &'static str {
    match tool {
        "status-set" => "[--application] <maintenance|blocked|waiting|active> [message]",
        "status-get" => "[--include-data] [--application] [--format smart|yaml|json] [-o file]",
        "application-version-set" => "<version>",
        "config-get" => "[-a|--all] [--format smart|yaml|json] [-o file] [<key>]",
        "relation-get" => {
            "[-r <name:id>] [--app] [--format smart|yaml|json] [<key>|-] [<unit-or-app>]"
        }
        "relation-set" => "[-r <name:id>] [--app] [--file <path>|-] key=value ...",
        "relation-ids" => "[--format smart|yaml|json] [<endpoint>]",
        "relation-list" => "[-r <name:id>] [--app] [--format smart|yaml|json]",
        "leader-get" => "[--format smart|yaml|json] [<key>|-]",
        "leader-set" => "key=value ...",
        "is-leader" => "[--format smart|yaml|json]",
        "open-port" | "close-port" => {
            "[--endpoints a,b] <port>[/tcp|udp] | <from>-<to>[/tcp|udp] | icmp"
        }
        "opened-ports" => "[--endpoints] [--format smart|yaml|json]",
        "unit-get" => "private-address|public-address",
        "network-get" => {
            "<binding> [-r <name:id>] [--ingress-address] [--bind-address] [--egress-subnets] [--format smart|yaml|json]"
        }
        "resource-get" => "<name>",
        "juju-log" => "[-l TRACE|DEBUG|INFO|WARNING|ERROR|CRITICAL] [--debug] <message>...",
        "action-get" => "[--format smart|yaml|json] [<key>[.<key>...]]",
        "action-set" => "key=value ...",
        "action-fail" => "[message]",
        "action-log" => "<message>...",
        "state-get" => "[--strict] [--format smart|yaml|json] [<key>]",
        "state-set" => "[--file <path>] key=value ...",
        "state-delete" => "<key>",
        "storage-get" => "[-s <storage-id>] [--format smart|yaml|json] [-o file] [kind|location]",
        "storage-list" => "[--format smart|yaml|json] [-o file] [<storage-name>]",
        "storage-add" => "<charm storage name>[=count] ...",
        "goal-state" => "[--format smart|yaml|json] [-o file]",
        "secret-add" => {
            "[--owner application|unit] [--label L] [--description D] [--expire T] [--rotate P] [--file F] [key[#base64|#file]=value...]"
        }
        "secret-get" => {
            "[--label L] [--peek|--refresh] [--format yaml|json] [-o file] <ID> [key[#base64]]"
        }
        "secret-set" => {
            "<ID> [--label L] [--description D] [--expire T] [--rotate P] [--file F] [key[#base64]=value...]"
        }
        "secret-ids" => "[--format smart|yaml|json] [-o file]",
        "secret-info-get" => "[--label L] [--format yaml|json] [-o file] <ID>",
        "secret-grant" => "<ID> -r <relation> [--unit U]",
        "secret-revoke" => "<ID> [-r <relation>] [--app A] [--unit U]",
        "secret-remove" => "<ID> [--revision N]",
        "credential-get" => "[--format smart|yaml|json] [-o file]",
        "juju-reboot" => "[--now]",
        "relation-model-get" => "[-r <name:id>] [--format smart|yaml|json] [-o file]",
        _ => "",
    }
}

/// What a tool call learns from its environment.
#[derive(Debug, Clone, Default)]
pub(crate) struct CallEnv {
    pub(crate) socket_network: Option<String>,
    pub(crate) socket_address: Option<String>,
    pub(crate) context_id: Option<String>,
}

impl CallEnv {
    pub(crate) fn from_process() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        Self {
            socket_network: var("JUJU_AGENT_SOCKET_NETWORK"),
            socket_address: var("JUJU_AGENT_SOCKET_ADDRESS"),
            context_id: var("JUJU_CONTEXT_ID"),
        }
    }

    fn model_dir(&self) -> Result<PathBuf, String> {
        let Some(addr) = &self.socket_address else {
            return Err(
                "JUJU_AGENT_SOCKET_ADDRESS is not set: not running in a hook context".into(),
            );
        };
        match self.socket_network.as_deref() {
            Some("unix") => {}
            other => {
                return Err(format!(
                    "JUJU_AGENT_SOCKET_NETWORK is {other:?}; the simulator serves only \"unix\""
                ));
            }
        }
        Path::new(addr)
            .parent()
            .filter(|p| p.join(store::MODEL_FILE).is_file())
            .map(Path::to_path_buf)
            .ok_or_else(|| format!("no simulated model next to JUJU_AGENT_SOCKET_ADDRESS {addr}"))
    }
}

#[derive(Debug)]
pub(crate) struct ToolOutput {
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: String,
    pub(crate) code: u8,
}

/// A refused call: exit 2 for bad usage (Juju's flag/argument errors), 1 otherwise.
#[derive(Debug)]
pub(crate) struct ToolError {
    pub(crate) code: u8,
    pub(crate) message: String,
}

impl ToolError {
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self {
            code: 2,
            message: message.into(),
        }
    }

    pub(crate) fn fail(message: impl Into<String>) -> Self {
        Self {
            code: 1,
            message: message.into(),
        }
    }
}

pub(crate) type ToolResult = Result<Vec<u8>, ToolError>;

/// What a tool sees: the model, the running hook, and where its side effects go.
pub(crate) struct Ctx<'a> {
    pub(crate) state: &'a mut ModelState,
    pub(crate) hook: &'a mut RunningHook,
    /// Set by tools that changed the model, so it is saved.
    pub(crate) changed: bool,
    /// juju-log lines to append to juju-debug.log.
    pub(crate) debug_lines: Vec<String>,
}

impl Ctx<'_> {
    pub(crate) fn data(&mut self) -> &mut Data {
        self.changed = true;
        &mut self.hook.staged
    }

    pub(crate) fn unit_tag(&self) -> String {
        format!("unit-{}", self.state.unit.replace('/', "-"))
    }
}

/// Run one tool call against the model; never panics on bad input.
pub(crate) fn execute(tool: &str, args: &[String], env: &CallEnv) -> ToolOutput {
    let dir = match env.model_dir() {
        Ok(d) => d,
        Err(e) => return refused(1, &e),
    };
    let locked = match store::lock(&dir) {
        Ok(l) => l,
        Err(e) => return refused(1, &format!("{e:#}")),
    };
    let mut state = match locked.load() {
        Ok(s) => s,
        Err(e) => return refused(1, &format!("{e:#}")),
    };
    let Some(mut hook) = state
        .running
        .take()
        .filter(|h| Some(&h.context_id) == env.context_id.as_ref())
    else {
        let why = match (&env.context_id, &state.running) {
            (None, _) => "JUJU_CONTEXT_ID is not set: not running in a hook context".to_string(),
            (Some(id), None) => {
                format!("bad request: context {id:?} is not running (no hook is running now)")
            }
            (Some(id), Some(r)) => format!(
                "bad request: context {id:?} is not running (the running hook is {} with another context)",
                r.hook
            ),
        };
        let _ = locked.append_call(&CallRecord::new("-", tool, args, 1, Some(why.clone())));
        return refused(1, &why);
    };
    let hook_name = hook.hook.clone();
    let mut ctx = Ctx {
        state: &mut state,
        hook: &mut hook,
        changed: false,
        debug_lines: Vec::new(),
    };
    // A tool this Juju lacks (leader-get on 4.0) is not in the tools dir; reached some
    // other way, the agent refuses it as Juju's does an unknown command.
    let result = if ctx.state.juju().has_tool(tool) {
        dispatch(tool, &mut ctx, args)
    } else {
        Err(ToolError::fail(format!(
            "bad request: unknown hook command: {tool}"
        )))
    };
    let (changed, debug_lines) = (ctx.changed, std::mem::take(&mut ctx.debug_lines));
    state.running = Some(hook);
    let result = result.and_then(|out| {
        if changed {
            locked
                .save(&state)
                .map_err(|e| ToolError::fail(format!("{e:#}")))?;
        }
        for line in &debug_lines {
            locked
                .append_debug_log(line)
                .map_err(|e| ToolError::fail(format!("{e:#}")))?;
        }
        Ok(out)
    });
    let (code, why) = match &result {
        Ok(_) => (0, None),
        Err(e) => (e.code, Some(e.message.clone())),
    };
    let _ = locked.append_call(&CallRecord::new(
        &hook_name,
        tool,
        args,
        i32::from(code),
        why,
    ));
    match result {
        Ok(stdout) => ToolOutput {
            stdout,
            stderr: String::new(),
            code: 0,
        },
        Err(e) => refused(e.code, &e.message),
    }
}

fn refused(code: u8, message: &str) -> ToolOutput {
    ToolOutput {
        stdout: Vec::new(),
        stderr: format!("ERROR {message}\n"),
        code,
    }
}

fn dispatch(tool: &str, ctx: &mut Ctx, args: &[String]) -> ToolResult {
    match tool {
        "status-set" => status::status_set(ctx, args),
        "status-get" => status::status_get(ctx, args),
        "application-version-set" => status::application_version_set(ctx, args),
        "config-get" => config::config_get(ctx, args),
        "relation-get" => relation::relation_get(ctx, args),
        "relation-set" => relation::relation_set(ctx, args),
        "relation-ids" => relation::relation_ids(ctx, args),
        "relation-list" => relation::relation_list(ctx, args),
        "leader-get" => leader::leader_get(ctx, args),
        "leader-set" => leader::leader_set(ctx, args),
        "is-leader" => leader::is_leader(ctx, args),
        "open-port" => ports::open_port(ctx, args, true),
        "close-port" => ports::open_port(ctx, args, false),
        "opened-ports" => ports::opened_ports(ctx, args),
        "unit-get" => unit::unit_get(ctx, args),
        "network-get" => unit::network_get(ctx, args),
        "resource-get" => unit::resource_get(ctx, args),
        "juju-log" => unit::juju_log(ctx, args),
        "action-get" => action::action_get(ctx, args),
        "action-set" => action::action_set(ctx, args),
        "action-fail" => action::action_fail(ctx, args),
        "action-log" => action::action_log(ctx, args),
        "state-get" => kv::state_get(ctx, args),
        "state-set" => kv::state_set(ctx, args),
        "state-delete" => kv::state_delete(ctx, args),
        "storage-get" => storage::storage_get(ctx, args),
        "storage-list" => storage::storage_list(ctx, args),
        "storage-add" => storage::storage_add(ctx, args),
        "goal-state" => goal::goal_state(ctx, args),
        "secret-add" => secret::secret_add(ctx, args),
        "secret-get" => secret::secret_get(ctx, args),
        "secret-set" => secret::secret_set(ctx, args),
        "secret-ids" => secret::secret_ids(ctx, args),
        "secret-info-get" => secret::secret_info_get(ctx, args),
        "secret-grant" => secret::secret_grant(ctx, args),
        "secret-revoke" => secret::secret_revoke(ctx, args),
        "secret-remove" => secret::secret_remove(ctx, args),
        "credential-get" => credential::credential_get(ctx, args),
        "juju-reboot" => reboot::juju_reboot(ctx, args),
        "relation-model-get" => relation::relation_model_get(ctx, args),
        other => Err(ToolError::fail(format!("unknown hook tool {other}"))),
    }
}

/// Render `value` for `--format`, honouring `-o/--output <file>` as Juju does.
pub(crate) fn output(parsed: &args::Parsed, value: &serde_json::Value) -> ToolResult {
    let format = parsed.format()?;
    let text = super::format::render(value, format);
    if let Some(path) = parsed.value("output") {
        std::fs::write(path, &text)
            .map_err(|e| ToolError::fail(format!("cannot write {path}: {e}")))?;
        return Ok(Vec::new());
    }
    Ok(text.into_bytes())
}

/// Timestamp for log lines written by tools.
pub(crate) fn now() -> String {
    now_rfc3339()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `run_if_invoked_as_tool` skips its table for a name without a dash (`lucky`).
    #[test]
    fn every_tool_name_has_a_dash() {
        for name in TOOL_NAMES {
            assert!(name.contains('-'), "{name}");
        }
    }
}
