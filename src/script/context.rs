//! Live hook contexts: token → the Juju environment of a running hook invocation.
//!
//! A hook registers its context when its scripts start and drops it when they end. Every
//! script gets the token (`LUCKY_CONTEXT`) and every `lucky` call carries it back, so "a
//! call from the running hook", "a call after its hook ended" and "a call from nowhere"
//! are plain lookups.
//!
//! A container script gets a token of its own instead ([`TokenScope::ContainerScript`]),
//! made for that one exec and revoked when it exits: the workload's other processes can
//! read a container script's environment, so what they could find there must not
//! outlive the script, nor be the hook's token, which the host socket would accept.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Debug)]
pub(crate) struct HookContext {
    pub(crate) token: String,
    /// Hook (or action / cron job) name, for messages.
    pub(crate) hook: String,
    /// The environment Juju gave the hook, forwarded by `lucky hook`.
    pub(crate) env: BTreeMap<String, String>,
    /// The unit agent takes one hook-tool command at a time.
    pub(crate) tool_lock: tokio::sync::Mutex<()>,
    /// The charm config, fetched once per hook: it cannot change while the hook runs.
    pub(crate) config: tokio::sync::OnceCell<serde_json::Value>,
    /// `juju-log` calls still in flight: they are off the script's path, but the hook
    /// waits for them before it ends (its context dies with it).
    pub(crate) pending_logs: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl HookContext {
    pub(crate) fn var(&self, key: &str) -> Option<&str> {
        self.env.get(key).map(String::as_str)
    }

    /// Waits for this context's `juju-log` calls to finish.
    pub(crate) async fn flush_logs(&self) {
        loop {
            let pending: Vec<_> = std::mem::take(
                &mut *self
                    .pending_logs
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner),
            );
            if pending.is_empty() {
                return;
            }
            for handle in pending {
                let _ = handle.await;
            }
        }
    }
}

/// What a token was given to, so each socket accepts only its own kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenScope {
    /// The hook's own token: host scripts, on the host socket.
    Hook,
    /// One container script's exec, on the container socket.
    ContainerScript,
}

#[derive(Default)]
pub(crate) struct Contexts {
    live: Mutex<HashMap<String, (Arc<HookContext>, TokenScope)>>,
}

/// Keeps one container script's token valid; dropping it revokes the token.
pub(crate) struct ScriptToken<'a> {
    contexts: &'a Contexts,
    pub(crate) token: String,
}

impl Drop for ScriptToken<'_> {
    fn drop(&mut self) {
        self.contexts.lock().remove(&self.token);
    }
}

/// Keeps a context registered; dropping it ends the context.
pub(crate) struct ContextGuard<'a> {
    contexts: &'a Contexts,
    pub(crate) context: Arc<HookContext>,
}

impl Drop for ContextGuard<'_> {
    fn drop(&mut self) {
        self.contexts.lock().remove(&self.context.token);
    }
}

impl Contexts {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Arc<HookContext>, TokenScope)>> {
        // The map stays consistent even if a holder panicked: every operation is one call.
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn register(&self, hook: &str, env: BTreeMap<String, String>) -> ContextGuard<'_> {
        let context = Arc::new(HookContext {
            token: new_token(),
            hook: hook.to_string(),
            env,
            tool_lock: tokio::sync::Mutex::new(()),
            config: tokio::sync::OnceCell::new(),
            pending_logs: Mutex::new(Vec::new()),
        });
        self.lock().insert(
            context.token.clone(),
            (Arc::clone(&context), TokenScope::Hook),
        );
        ContextGuard {
            contexts: self,
            context,
        }
    }

    /// A fresh token for one container script of `context`, valid while the guard lives.
    pub(crate) fn register_container_script(&self, context: &Arc<HookContext>) -> ScriptToken<'_> {
        let token = new_token();
        self.lock().insert(
            token.clone(),
            (Arc::clone(context), TokenScope::ContainerScript),
        );
        ScriptToken {
            contexts: self,
            token,
        }
    }

    /// The live context `token` names, if it was given out for `scope`.
    pub(crate) fn lookup(&self, token: &str, scope: TokenScope) -> Option<Arc<HookContext>> {
        self.lock()
            .get(token)
            .filter(|(_, s)| *s == scope)
            .map(|(c, _)| Arc::clone(c))
    }

    /// True while the hook `token` names runs.
    pub(crate) fn is_live(&self, token: &str) -> bool {
        self.lock()
            .get(token)
            .is_some_and(|(_, s)| *s == TokenScope::Hook)
    }
}

/// 128 random bits, hex: unguessable by a process that was not given it.
pub(crate) fn new_token() -> String {
    let mut bytes = [0u8; 16];
    // The kernel's CSPRNG does not fail once the system is up; a fixed fallback would
    // make tokens guessable, so fall back to a clock-and-address mix only if it does.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        bytes = (nanos ^ (&bytes as *const _ as u128)).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_lives_while_guard_does() {
        let contexts = Contexts::default();
        let token = {
            let guard = contexts.register("install", BTreeMap::new());
            let token = guard.context.token.clone();
            assert_eq!(token.len(), 32);
            assert_eq!(
                contexts
                    .lookup(&token, TokenScope::Hook)
                    .map(|c| c.hook.clone()),
                Some("install".into())
            );
            // The hook's token is not a container script's.
            assert!(
                contexts
                    .lookup(&token, TokenScope::ContainerScript)
                    .is_none()
            );
            let script = contexts.register_container_script(&guard.context);
            let script_token = script.token.clone();
            assert_ne!(script_token, token);
            assert!(
                contexts
                    .lookup(&script_token, TokenScope::ContainerScript)
                    .is_some()
            );
            assert!(contexts.lookup(&script_token, TokenScope::Hook).is_none());
            drop(script);
            // Revoked when its script ends, while the hook goes on.
            assert!(
                contexts
                    .lookup(&script_token, TokenScope::ContainerScript)
                    .is_none()
            );
            assert!(contexts.is_live(&token));
            token
        };
        assert!(contexts.lookup(&token, TokenScope::Hook).is_none());
    }
}
