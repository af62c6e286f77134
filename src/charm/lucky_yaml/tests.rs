//! lucky.yaml parsing: the full schema, checks and time zones, and errors that name the
//! file, line and key.

use super::*;

fn charm() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join(HOST_SCRIPTS_DIR)).expect("mkdir");
    std::fs::create_dir(dir.path().join(CONTAINER_SCRIPTS_DIR)).expect("mkdir");
    for (d, name, mode) in [
        (HOST_SCRIPTS_DIR, "a.sh", 0o755),
        (HOST_SCRIPTS_DIR, "plain.txt", 0o644),
        (CONTAINER_SCRIPTS_DIR, "c.sh", 0o755),
    ] {
        let p = dir.path().join(d).join(name);
        std::fs::write(&p, "#!/bin/sh\n").expect("write");
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }
    dir
}

fn parse_in(dir: &Path, text: &str) -> Result<LuckyYaml, LuckyYamlError> {
    parse(text, &dir.join("lucky.yaml"), dir)
}

#[test]
fn a_value_of_the_wrong_type_names_its_key_and_what_it_expects() {
    let dir = charm();
    let cases = [
        (
            "hooks:\n  install:\n    - host-script: a.sh\n      args: 5\n",
            "lucky.yaml:4: key `args`: expected a list of strings",
        ),
        (
            "hooks:\n  install:\n    - host-script: a.sh\n      async: maybe\n",
            "lucky.yaml:4: key `async`: expected `true` or `false`",
        ),
        (
            "use-docker: 3\n",
            "lucky.yaml:1: key `use-docker`: expected `true` or `false`",
        ),
    ];
    for (text, expected) in cases {
        let e = parse_in(dir.path(), text).expect_err(text).to_string();
        let shown = e
            .strip_prefix(&format!("{}/", dir.path().display()))
            .unwrap_or(&e);
        assert!(shown.starts_with(expected), "{text:?} gave {e}");
        assert_eq!(e.lines().count(), 1, "{e}");
    }
}

#[test]
fn full_schema_parses() {
    let dir = charm();
    let y = parse_in(
        dir.path(),
        r#"use-docker: false
hooks:
  install:
    - host-script: a.sh
      args: ["--fresh"]
    - container-script: c.sh
      ignore-missing-container: true
    - inline-host-script: |
        echo hi
      shell-command: ["/bin/sh", "-c"]
    - inline-container-script: echo hi
      container-name: worker
  config-changed:
    - host-script: a.sh
      async: true
cron-jobs:
  "0 */5 * * * *":
    - host-script: a.sh
actions:
  backup:
    - container-script: c.sh
"#,
    )
    .expect("valid");
    assert!(!y.use_docker);
    assert_eq!(y.timezone, None);
    let install = &y.hooks["install"];
    assert_eq!(install.len(), 4);
    assert_eq!(install[0].line, 4);
    assert_eq!(install[0].args, vec!["--fresh"]);
    assert_eq!(install[0].id, "a.sh");
    assert_eq!(install[2].id, "install#inline-1");
    assert_eq!(install[3].id, "install#inline-2");
    assert!(matches!(
        &install[2].kind,
        ScriptKind::InlineHost { shell, .. } if shell == &["/bin/sh", "-c"]
    ));
    assert!(matches!(
        &install[3].kind,
        ScriptKind::InlineContainer { target, .. } if target.container_name.as_deref() == Some("worker")
    ));
    assert!(y.hooks["config-changed"][0].is_async);
    assert_eq!(y.cron_jobs[0].schedule, "0 */5 * * * *");
    assert_eq!(y.cron_jobs[0].line, 17);
    assert_eq!(y.hook_lines["install"], 3);
    assert_eq!(y.hook_lines["config-changed"], 13);
    assert_eq!(y.action_lines["backup"], 20);
    assert_eq!(y.actions["backup"].len(), 1);
}

#[test]
fn errors_name_file_line_and_key() {
    let dir = charm();
    let cases = [
        (
            "hooks:\n  install:\n    - host-script: a.sh\n      colour: red\n",
            4,
            "colour",
        ),
        (
            "hooks:\n  install:\n    - host-script: a.sh\n      inline-host-script: x\n",
            3,
            "`host-script` and `inline-host-script`",
        ),
        (
            "hooks:\n  install:\n    - host-script: gone.sh\n",
            3,
            "host_scripts/gone.sh does not exist",
        ),
        (
            "hooks:\n  install:\n    - host-script: plain.txt\n",
            3,
            "not executable",
        ),
        (
            "hooks:\n  install:\n    - host-script: ../../etc/passwd\n",
            3,
            "plain path",
        ),
        (
            "hooks:\n  install:\n    - host-script: a.sh\n      container-name: x\n",
            3,
            "`container-name` only applies",
        ),
        ("hookz: {}\n", 1, "hookz"),
        ("hooks:\n  install: [\n", 2, ""),
        ("hooks:\n  install:\n    - args: [a]\n", 3, "no script"),
        (
            "cron-jobs:\n  \"61 * * * * *\":\n    - host-script: a.sh\n",
            2,
            "cron-jobs: invalid cron expression \"61 * * * * *\": seconds field",
        ),
        (
            "hooks: {}\ntimezone: ../../etc/passwd\n",
            2,
            "timezone: \"../../etc/passwd\" is not a time zone name: write UTC or an IANA name",
        ),
        (
            "hooks: {}\ntimezone: [1]\n",
            2,
            "key `timezone`: expected a string",
        ),
    ];
    for (text, line, needle) in cases {
        let e = parse_in(dir.path(), text).expect_err(text);
        let shown = e.to_string();
        assert_eq!(e.line, Some(line), "{text:?} gave {shown}");
        assert!(shown.contains(needle), "{text:?} gave {shown}");
        assert!(
            shown.starts_with(&format!(
                "{}:{line}: ",
                dir.path().join("lucky.yaml").display()
            )),
            "{shown}"
        );
        assert!(!shown.contains('\n'), "{shown}");
    }
}

#[test]
fn timezone_is_utc_or_a_zone_the_build_machine_has() {
    let dir = charm();
    let y = parse_in(dir.path(), "timezone: Europe/Paris\n").expect("valid");
    assert_eq!(y.timezone.as_deref(), Some("Europe/Paris"));
    let y = parse_in(dir.path(), "timezone: UTC\n").expect("valid");
    assert_eq!(y.timezone.as_deref(), Some("UTC"));
    // Only where the charm is built is the zone's file required.
    let text = "hooks: {}\ntimezone: Mars/Olympus_Mons\n";
    assert!(parse_in(dir.path(), text).is_ok());
    let path = dir.path().join("lucky.yaml");
    let e = parse_with(text, &path, dir.path(), false).expect_err("no such zone");
    assert_eq!(e.line, Some(2), "{e}");
    assert!(
        e.to_string()
            .contains("timezone: cannot read time zone \"Mars/Olympus_Mons\""),
        "{e}"
    );
    assert!(parse_with("timezone: Asia/Tokyo\n", &path, dir.path(), false).is_ok());
}

#[test]
fn checks_parse_with_defaults_and_errors_name_their_line() {
    use crate::charm::checks::{Place, Probe};
    let dir = charm();
    let y = parse_in(
        dir.path(),
        r#"checks:
  web:
    http: {url: "http://127.0.0.1:8080/health"}
    status: health
    restart-container: true
  db:
    tcp: "127.0.0.1:5432"
    period: 500ms
    timeout: 1s
    threshold: 2
  probe:
    exec: {command: "test -f /tmp/ok", in: container, container-name: worker}
    restart-container: true
"#,
    )
    .expect("valid");
    assert_eq!(y.checks.len(), 3);
    let by = |n: &str| y.checks.iter().find(|c| c.name == n).expect(n);
    let web = by("web");
    assert_eq!(web.line, 2);
    assert_eq!(
        web.probe,
        Probe::Http {
            url: "http://127.0.0.1:8080/health".into(),
            status: 200
        }
    );
    assert_eq!(web.period, std::time::Duration::from_secs(10));
    assert_eq!(web.timeout, std::time::Duration::from_secs(3));
    assert_eq!(web.threshold, 3);
    assert_eq!(web.status.as_deref(), Some("health"));
    assert_eq!(web.restart_container.as_deref(), Some("default"));
    let db = by("db");
    assert_eq!(db.line, 6);
    assert_eq!(db.period, std::time::Duration::from_millis(500));
    assert_eq!(db.threshold, 2);
    assert_eq!(db.status, None);
    let probe = by("probe");
    assert!(matches!(
        &probe.probe,
        Probe::Exec { command, place: Place::Container(Some(c)) }
            if command == &["/bin/sh", "-c", "test -f /tmp/ok"] && c == "worker"
    ));
    assert_eq!(probe.restart_container.as_deref(), Some("worker"));

    let cases = [
        (
            "checks:\n  web:\n    period: 5s\n",
            2,
            "check \"web\": no probe",
        ),
        (
            "checks:\n  web:\n    tcp: \"a:1\"\n    http: \"http://x/\"\n",
            2,
            "`http` and `tcp`: give exactly one probe",
        ),
        (
            "checks:\n  web:\n    tcp: \"localhost\"\n",
            3,
            "key `tcp`: invalid address \"localhost\"",
        ),
        (
            "checks:\n  web:\n    tcp: \"a:1\"\n    period: soon\n",
            4,
            "key `period`: expected a duration",
        ),
        (
            "checks:\n  web:\n    tcp: \"a:1\"\n    threshold: 0\n",
            4,
            "key `threshold`",
        ),
        (
            "checks:\n  web:\n    tcp: \"a:1\"\n    colour: red\n",
            4,
            "unknown key `colour`",
        ),
        (
            "checks:\n  web:\n    http: {url: \"ftp://x/\"}\n",
            3,
            "give an http:// or https:// URL",
        ),
        (
            "checks:\n  web:\n    exec: {command: \"true\", in: moon}\n",
            3,
            "`in` must be `host` or `container`",
        ),
    ];
    for (text, line, needle) in cases {
        let e = parse_in(dir.path(), text).expect_err(text);
        let shown = e.to_string();
        assert_eq!(e.line, Some(line), "{text:?} gave {shown}");
        assert!(shown.contains(needle), "{text:?} gave {shown}");
        assert!(!shown.contains('\n'), "{shown}");
    }
}

#[test]
fn check_scripts_gives_load_s_error_for_the_first_failing_entry() {
    let dir = charm();
    let text = "hooks:\n  install:\n    - inline-host-script: echo\n    - host-script: a.sh\n  start:\n    - container-script: c.sh\nactions:\n  go:\n    - host-script: a.sh\ncron-jobs:\n  \"0 * * * * *\":\n    - host-script: a.sh\n";
    std::fs::write(dir.path().join("lucky.yaml"), text).expect("write");
    let yaml = load(dir.path()).expect("load");
    check_scripts(&yaml, dir.path()).expect("all there");
    let a = dir.path().join(HOST_SCRIPTS_DIR).join("a.sh");
    let c = dir.path().join(CONTAINER_SCRIPTS_DIR).join("c.sh");
    std::fs::set_permissions(&c, std::fs::Permissions::from_mode(0o644)).expect("chmod");
    for step in ["c.sh not executable", "a.sh removed too"] {
        let e = check_scripts(&yaml, dir.path()).expect_err(step);
        assert_eq!(e, load(dir.path()).expect_err(step), "{step}");
        if step == "c.sh not executable" {
            std::fs::remove_file(&a).expect("rm");
        }
    }
    assert!(
        check_scripts(&yaml, dir.path())
            .expect_err("a.sh")
            .to_string()
            .ends_with(":4: hook \"install\": key `host-script`: host_scripts/a.sh does not exist")
    );
}
