//! `lucky --version --verbose`: what this binary is, for a bug report or an audit.

/// The lines `--version --verbose` prints.
pub(crate) fn verbose() -> String {
    let deps = match crate::release::dependency_list_len() {
        Some(n) => format!("embedded (.dep-v0, cargo auditable format, {n} bytes)"),
        None => "not embedded (release/build.sh embeds it)".into(),
    };
    format!(
        "lucky {}\ntarget: {}\ncommit: {}\nrustc: {}\nbuild date: {}\ndependency list: {deps}\n",
        env!("LUCKY_BUILD_VERSION"),
        env!("LUCKY_BUILD_TARGET"),
        env!("LUCKY_BUILD_COMMIT"),
        env!("LUCKY_BUILD_RUSTC"),
        env!("LUCKY_BUILD_DATE"),
    )
}

/// `lucky --version --verbose` (either order, `-V` for `--version`): clap's version flag
/// prints and exits on its own, so the pair is recognised before it parses.
pub(crate) fn is_verbose_version(args: &[std::ffi::OsString]) -> bool {
    let rest: Vec<&str> = args.iter().skip(1).filter_map(|a| a.to_str()).collect();
    rest.len() == 2
        && args.len() == 3
        && rest.iter().any(|a| matches!(*a, "--version" | "-V"))
        && rest.contains(&"--verbose")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<std::ffi::OsString> {
        list.iter().map(Into::into).collect()
    }

    #[test]
    fn only_the_pair_is_verbose() {
        assert!(is_verbose_version(&args(&[
            "lucky",
            "--version",
            "--verbose"
        ])));
        assert!(is_verbose_version(&args(&["lucky", "--verbose", "-V"])));
        assert!(!is_verbose_version(&args(&["lucky", "--version"])));
        assert!(!is_verbose_version(&args(&[
            "lucky",
            "--verbose",
            "--verbose"
        ])));
        assert!(!is_verbose_version(&args(&[
            "lucky",
            "kv",
            "--version",
            "--verbose"
        ])));
    }
}
