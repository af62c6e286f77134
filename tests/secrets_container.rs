//! `lucky secret …` from inside a real container: the container socket's secret rows
//! (docs/container-policy.md) hold. Reading and unit-owned adds pass the policy and reach
//! the hook tools (absent here: lucky cannot run them, exit 5; tests/juju_tools_container.rs
//! runs them through the simulator); application
//! secrets, grants, revokes and removals are denied (exit 6) before any tool runs.

mod support;

use support::docker::{TEST_IMAGE, Unit, text};

#[test]
fn container_scripts_pass_only_the_secret_rows_the_policy_allows() {
    let yaml = format!(
        r#"
hooks:
  install:
    - inline-host-script: |
        set -e
        lucky container image set {TEST_IMAGE} --no-pull
        lucky container set-command -- /bin/sh -c "exec sleep 100000"
        lucky container apply-updates
      shell-command: ["/bin/sh", "-c"]
    - container-script: probe.sh
"#
    );
    let id = "secret:9m4e2mr0ui3e8a215n4g";
    let probe = format!(
        r#"#!/bin/sh
try() {{ name=$1; shift; err=$(lucky "$@" 2>&1 >/dev/null); echo "$name rc=$? $err"; }}
try get secret get {id}
try ids secret ids
try info secret info-get {id}
try add-unit secret add --owner unit password=x
try add-app secret add password=x
try grant secret grant {id} -r db:1
try revoke secret revoke {id} --app client
try remove secret remove {id}
"#
    );
    let unit = Unit::new(&yaml, &[("probe.sh", &probe)]);
    let out = unit.lucky(&["hook", "install"]);
    let out = text(&out);
    let rc = |name: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} rc=")))
            .and_then(|l| l.split(' ').next())
            .unwrap_or_else(|| panic!("no {name} line in:\n{out}"))
            .to_string()
    };
    for (allowed, tool) in [
        ("get", "secret-get"),
        ("ids", "secret-ids"),
        ("info", "secret-info-get"),
        ("add-unit", "secret-add"),
    ] {
        assert_eq!(rc(allowed), "5", "{allowed} passes the policy:\n{out}");
        let line = format!(
            "{allowed} rc=5 lucky: {tool}: not found on the hook's PATH: is this running inside a Juju hook?\n"
        );
        assert!(out.contains(&line), "{allowed} reaches {tool}:\n{out}");
    }
    for denied in ["add-app", "grant", "revoke", "remove"] {
        assert_eq!(rc(denied), "6", "{denied} is denied:\n{out}");
    }
    assert!(
        out.contains("grant rc=6 lucky: `lucky secret grant` is not allowed from inside a container: sharing and removing secrets is for host scripts"),
        "{out}"
    );
    assert!(
        out.contains("add-app rc=6 lucky: `lucky secret add` of an application-owned secret is not allowed from inside a container"),
        "{out}"
    );
}
