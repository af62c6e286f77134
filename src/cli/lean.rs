//! The commands scripts call most, in their plainest forms, parsed without clap.
//!
//! Why: a script call is a fresh exec, and for `lucky kv get KEY` building and running
//! clap's parser was about 70% of the instructions the call ran and a third of the pages
//! it touched (bench/cli.rs). Only these shapes are taken here:
//!
//! - `kv get [KEY]`, `get-config [KEY]`: no flag, at most one argument;
//! - `kv set KEY=VALUE…`: at least one pair, none that starts with `-`.
//!
//! Anything else (a flag, `--`, help, a bad pair, a second key) goes to clap, so every
//! error and help text is clap's. The test below checks that each argument list taken
//! here gives what clap gives.

use super::Command;
use super::config::GetConfigArgs;
use super::kv::KvCommand;
use super::output::{Format, FormatArg, parse_pair};
use std::ffi::OsString;

/// The command `args` (the whole argv) names, when it is one of the plain shapes above.
pub(super) fn parse(args: &[OsString]) -> Option<Command> {
    let words: Vec<&str> = args
        .get(1..)?
        .iter()
        .map(|a| a.to_str())
        .collect::<Option<_>>()?;
    // A flag, `--` or `-` anywhere: clap decides.
    if words.iter().any(|w| w.starts_with('-')) {
        return None;
    }
    let plain = FormatArg {
        format: Format::Plain,
    };
    match words.as_slice() {
        ["kv", "get", rest @ ..] if rest.len() <= 1 => Some(Command::Kv(KvCommand::Get {
            key: rest.first().map(|k| k.to_string()),
            format: plain,
        })),
        ["kv", "set", pairs @ ..] if !pairs.is_empty() => {
            let pairs = pairs
                .iter()
                .map(|p| parse_pair(p).ok())
                .collect::<Option<_>>()?;
            Some(Command::Kv(KvCommand::Set { pairs }))
        }
        ["get-config", rest @ ..] if rest.len() <= 1 => Some(Command::GetConfig(GetConfigArgs {
            key: rest.first().map(|k| k.to_string()),
            format: plain,
        })),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// What a parsed command asks for, for the commands this path takes.
    fn asked(command: &Command) -> Option<String> {
        let format = |f: &FormatArg| f.format == Format::Json;
        match command {
            Command::Kv(KvCommand::Get { key, format: f }) => {
                Some(format!("kv get {key:?} json={}", format(f)))
            }
            Command::Kv(KvCommand::Set { pairs }) => Some(format!("kv set {pairs:?}")),
            Command::GetConfig(a) => {
                Some(format!("get-config {:?} json={}", a.key, format(&a.format)))
            }
            _ => None,
        }
    }

    #[test]
    fn every_argument_list_taken_here_parses_as_clap_parses_it() {
        let cases: &[&[&str]] = &[
            &["kv", "get"],
            &["kv", "get", "k"],
            &["kv", "get", ""],
            &["kv", "get", "help"],
            &["kv", "get", "a b=c"],
            &["kv", "get", "k", "l"],
            &["kv", "get", "--format", "json", "k"],
            &["kv", "get", "k", "--format=json"],
            &["kv", "get", "--", "-k"],
            &["kv", "get", "-h"],
            &["kv", "set"],
            &["kv", "set", "k=v"],
            &["kv", "set", "k="],
            &["kv", "set", "k=v=w", "x=y z", "e="],
            &["kv", "set", "k"],
            &["kv", "set", "=v"],
            &["kv", "set", "k=v", "-x"],
            &["kv", "help"],
            &["kv"],
            &["get-config"],
            &["get-config", "port"],
            &["get-config", "port", "title"],
            &["get-config", "--format", "json"],
            &["get-config", "-"],
            &["set-status", "active"],
            &["daemon", "status"],
        ];
        for case in cases {
            let argv: Vec<OsString> = std::iter::once("lucky")
                .chain(case.iter().copied())
                .map(OsString::from)
                .collect();
            let Some(lean) = parse(&argv) else {
                continue;
            };
            let full = super::super::Cli::try_parse_from(&argv)
                .unwrap_or_else(|e| panic!("{case:?}: taken here, refused by clap: {e}"));
            assert_eq!(asked(&lean), asked(&full.command), "{case:?}");
            assert!(asked(&lean).is_some(), "{case:?}");
        }
        // The plain forms are taken (else this path would be dead code).
        for taken in [
            &["kv", "get", "k"][..],
            &["kv", "set", "k=v"],
            &["get-config"],
        ] {
            let argv: Vec<OsString> = std::iter::once("lucky")
                .chain(taken.iter().copied())
                .map(OsString::from)
                .collect();
            assert!(parse(&argv).is_some(), "{taken:?} not taken");
        }
    }

    #[test]
    fn non_utf8_arguments_go_to_clap() {
        use std::os::unix::ffi::OsStringExt;
        let argv = vec![
            OsString::from("lucky"),
            OsString::from("kv"),
            OsString::from("get"),
            OsString::from_vec(vec![0xff, 0xfe]),
        ];
        assert!(parse(&argv).is_none());
    }
}
