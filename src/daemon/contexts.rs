//! Live hook contexts: token → the Juju environment of a running hook invocation.
//!
//! A hook registers its context when its scripts start and drops it when they end. Every
//! script gets the token (`LUCKY_CONTEXT`) and every `lucky` call carries it back, so "a
//! call from the running hook", "a call after its hook ended" and "a call from nowhere"
//! are plain lookups.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

#[derive(Debug)]
pub struct HookContext {
    pub token: String,
    /// Hook (or action / cron job) name, for messages.
    pub hook: String,
    /// The environment Juju gave the hook, forwarded by `lucky hook`.
    pub env: BTreeMap<String, String>,
}

impl HookContext {
    pub fn var(&self, key: &str) -> Option<&str> {
        self.env.get(key).map(String::as_str)
    }
}

#[derive(Default)]
pub struct Contexts {
    live: Mutex<HashMap<String, Arc<HookContext>>>,
}

/// Keeps a context registered; dropping it ends the context.
pub struct ContextGuard<'a> {
    contexts: &'a Contexts,
    pub context: Arc<HookContext>,
}

impl Drop for ContextGuard<'_> {
    fn drop(&mut self) {
        self.contexts.lock().remove(&self.context.token);
    }
}

impl Contexts {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<HookContext>>> {
        // The map stays consistent even if a holder panicked: every operation is one call.
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn register(&self, hook: &str, env: BTreeMap<String, String>) -> ContextGuard<'_> {
        let context = Arc::new(HookContext {
            token: new_token(),
            hook: hook.to_string(),
            env,
        });
        self.lock()
            .insert(context.token.clone(), Arc::clone(&context));
        ContextGuard {
            contexts: self,
            context,
        }
    }

    pub fn lookup(&self, token: &str) -> Option<Arc<HookContext>> {
        self.lock().get(token).cloned()
    }
}

/// 128 random bits, hex: unguessable by a process that was not given it.
fn new_token() -> String {
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
                contexts.lookup(&token).map(|c| c.hook.clone()),
                Some("install".into())
            );
            token
        };
        assert!(contexts.lookup(&token).is_none());
    }
}
