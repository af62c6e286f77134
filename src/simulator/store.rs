//! The model directory on disk: `model.json` (state), `calls.log` (one line per tool call),
//! `juju-debug.log` (juju-log lines), serialized by a file lock and written atomically so
//! concurrent tool calls and a crash never leave a torn file.

use super::state::{ModelState, now_rfc3339};
use anyhow::{Context, Result};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

pub(crate) const MODEL_FILE: &str = "model.json";
pub(crate) const CALLS_LOG: &str = "calls.log";
pub(crate) const DEBUG_LOG: &str = "juju-debug.log";
pub(crate) const TOOLS_DIR: &str = "tools";
pub(crate) const SOCKET_NAME: &str = "agent.socket";
/// Held for each read-modify-write of model.json and the logs.
const LOCK_FILE: &str = "model.lock";
/// Held for as long as a hook (or juju-exec command) runs: one context at a time, as the
/// unit agent does.
const HOOK_LOCK_FILE: &str = "hook.lock";

/// Exclusive hold of the model; released on drop (closing the file drops the lock).
pub(crate) struct Locked {
    _file: File,
    pub(crate) dir: PathBuf,
}

pub(crate) fn lock(dir: &Path) -> Result<Locked> {
    lock_file(dir, LOCK_FILE)
}

pub(crate) fn lock_hook(dir: &Path) -> Result<Locked> {
    lock_file(dir, HOOK_LOCK_FILE)
}

fn lock_file(dir: &Path, name: &str) -> Result<Locked> {
    let path = dir.join(name);
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open lock file {}", path.display()))?;
    file.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(Locked {
        _file: file,
        dir: dir.to_path_buf(),
    })
}

impl Locked {
    pub(crate) fn load(&self) -> Result<ModelState> {
        load_unlocked(&self.dir)
    }

    pub(crate) fn save(&self, state: &ModelState) -> Result<()> {
        let mut text = serde_json::to_string_pretty(state).context("cannot encode model")?;
        text.push('\n');
        crate::state::write_atomic(&self.dir.join(MODEL_FILE), text.as_bytes())
            .map_err(anyhow::Error::from)
    }

    pub(crate) fn append_call(&self, call: &CallRecord) -> Result<()> {
        append(&self.dir.join(CALLS_LOG), &call.to_line())
    }

    pub(crate) fn append_debug_log(&self, line: &str) -> Result<()> {
        append(&self.dir.join(DEBUG_LOG), &format!("{line}\n"))
    }
}

/// Read model.json without the lock: fine for one-off inspection between hooks, since
/// writers replace the file atomically.
pub(crate) fn load_unlocked(dir: &Path) -> Result<ModelState> {
    let path = dir.join(MODEL_FILE);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read simulated model {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not a valid model", path.display()))
}

fn append(path: &Path, text: &str) -> Result<()> {
    let mut f = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("cannot open {}", path.display()))?;
    f.write_all(text.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))
}

/// One line of calls.log: `time<TAB>hook<TAB>tool<TAB>exit=N<TAB>args-as-JSON[<TAB>rejected: why]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallRecord {
    pub(crate) time: String,
    /// The hook whose context the call used, or `-` when it had none that was valid.
    pub hook: String,
    /// The tool called, e.g. `status-set`.
    pub tool: String,
    /// Its arguments, as given.
    pub args: Vec<String>,
    /// What the tool exited with.
    pub exit_code: i32,
    /// Why the call was refused (any non-zero exit), if it was.
    pub rejected: Option<String>,
}

impl CallRecord {
    pub(crate) fn new(
        hook: &str,
        tool: &str,
        args: &[String],
        exit_code: i32,
        rejected: Option<String>,
    ) -> Self {
        Self {
            time: now_rfc3339(),
            hook: hook.to_string(),
            tool: tool.to_string(),
            args: args.to_vec(),
            exit_code,
            rejected,
        }
    }

    pub(crate) fn to_line(&self) -> String {
        let args = serde_json::to_string(&self.args).unwrap_or_else(|_| "[]".into());
        let mut line = format!(
            "{}\t{}\t{}\texit={}\t{}",
            self.time, self.hook, self.tool, self.exit_code, args
        );
        if let Some(why) = &self.rejected {
            // One line per call, whatever the message holds.
            line.push_str("\trejected: ");
            line.push_str(&why.replace(['\n', '\t'], " "));
        }
        line.push('\n');
        line
    }

    pub(crate) fn parse(line: &str) -> Option<Self> {
        let mut parts = line.trim_end_matches('\n').splitn(6, '\t');
        let time = parts.next()?.to_string();
        let hook = parts.next()?.to_string();
        let tool = parts.next()?.to_string();
        let exit_code = parts.next()?.strip_prefix("exit=")?.parse().ok()?;
        let args = serde_json::from_str(parts.next()?).ok()?;
        let rejected = parts
            .next()
            .map(|r| r.strip_prefix("rejected: ").unwrap_or(r).to_string());
        Some(Self {
            time,
            hook,
            tool,
            args,
            exit_code,
            rejected,
        })
    }
}

pub(crate) fn read_calls(dir: &Path) -> Result<Vec<CallRecord>> {
    let path = dir.join(CALLS_LOG);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    Ok(text.lines().filter_map(CallRecord::parse).collect())
}

#[cfg(test)]
mod tests {
    use super::CallRecord;

    #[test]
    fn call_lines_round_trip() {
        let args = vec!["a b".to_string(), "--x=\"q\"\t".to_string()];
        let rec = CallRecord::new("install", "config-get", &args, 2, Some("bad\nflag".into()));
        let line = rec.to_line();
        assert_eq!(line.matches('\n').count(), 1);
        let back = CallRecord::parse(&line).expect("parses");
        assert_eq!(back.args, args);
        assert_eq!(back.rejected.as_deref(), Some("bad flag"));
        let ok = CallRecord::new("start", "is-leader", &[], 0, None);
        assert_eq!(CallRecord::parse(&ok.to_line()), Some(ok));
    }
}
