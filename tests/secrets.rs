//! Juju secrets from host scripts through `lucky secret …`, against the simulator: the
//! owner's whole round (add, get, set and revisions, ids, info, grant, revoke, remove),
//! a consumer following another application's secret through secret-changed, and the
//! bad input Juju refuses — one line, non-zero exit, nothing changed.

mod support;

use lucky::simulator::{HookRun, Model, RelationEvent};
use support::Unit;

fn write(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).expect("write");
}

/// A charm whose every hook runs `lucky hook`, with `lucky_yaml`, and its model.
fn charm(unit: &mut Unit, lucky_yaml: &str, leader: bool) -> Model {
    unit.name = "demo/0".into();
    unit.dispatching_charm(
        "name: demo\nsummary: demo\ndescription: demo\nprovides:\n  db:\n    interface: pgsql\n",
        lucky_yaml,
    );
    let model = unit.model();
    model.set_leader(leader).expect("leader");
    model
}

fn ok(run: HookRun) -> HookRun {
    assert!(
        run.success(),
        "{} failed ({}):\n{}\n{}",
        run.hook,
        run.exit_code,
        run.stdout,
        run.stderr
    );
    run
}

#[test]
fn an_owner_adds_reads_updates_shares_and_removes_a_secret() {
    let mut unit = Unit::new();
    let model = charm(
        &mut unit,
        r#"hooks:
  install:
    - inline-host-script: |
        set -e
        T="$LUCKY_TEST_DIR"
        id=$(lucky secret add --label db-password --description "the db" password=s3cret user=admin)
        echo "$id" > "$T/id"
        lucky secret get "$id" password > "$T/get-key"
        lucky secret get --label db-password > "$T/get-all"
        lucky secret ids > "$T/ids"
        lucky secret info-get "$id" > "$T/info"
  config-changed:
    - inline-host-script: |
        set -e
        T="$LUCKY_TEST_DIR"
        id=$(cat "$T/id")
        lucky secret set "$id" password=n3w user=admin
        {
          lucky secret get "$id" password
          lucky secret get "$id" password --peek
          lucky secret get "$id" password
          lucky secret get "$id" password --refresh
          lucky secret get "$id" password
          lucky secret get "$id" password#base64
        } > "$T/revisions"
        lucky secret info-get --label db-password --format json > "$T/info.json"
        secret-info-get --label db-password > "$T/info.yaml"
        secret-info-get "$id" --format json > "$T/tool-info.json"
  db-relation-joined:
    - inline-host-script: |
        set -e
        T="$LUCKY_TEST_DIR"
        id=$(cat "$T/id")
        lucky secret grant "$id"
        lucky secret grant "$id" --unit client/0
        lucky secret info-get "$id" --format json > "$T/granted.json"
  update-status:
    - inline-host-script: |
        set -e
        id=$(cat "$LUCKY_TEST_DIR/id")
        lucky secret revoke "$id" --app client
        lucky secret remove "$id" --revision 1
  stop:
    - inline-host-script: |
        set -e
        lucky secret remove "$(cat "$LUCKY_TEST_DIR/id")"
        lucky secret ids > "$LUCKY_TEST_DIR/ids-after"
"#,
        true,
    );
    ok(model.run_hook("install").expect("install"));
    let uri = unit.read("id").trim().to_string();
    let id = uri
        .strip_prefix("secret:")
        .expect("secret-add prints secret:ID");
    assert_eq!(id.len(), 20, "{uri}");
    assert_eq!(unit.read("get-key"), "s3cret\n");
    assert_eq!(unit.read("get-all"), "password=s3cret\nuser=admin\n");
    assert_eq!(unit.read("ids"), format!("{id}\n"));
    assert_eq!(
        unit.read("info"),
        format!("id={uri}\ndescription=the db\nlabel=db-password\nowner=application\nrevision=1\n")
    );

    ok(model.run_hook("config-changed").expect("config-changed"));
    assert_eq!(
        unit.read("revisions"),
        "s3cret\nn3w\ns3cret\nn3w\nn3w\nbjN3\n",
        "tracked, peeked, still tracked, refreshed, now tracked, base64 as stored"
    );
    let info: serde_json::Value = serde_json::from_str(&unit.read("info.json")).expect("json");
    assert_eq!(
        info,
        serde_json::json!({id: {"revision": 2, "label": "db-password", "owner": "application", "description": "the db"}})
    );
    // The simulated tool itself prints Juju's fields in Juju's order.
    assert_eq!(
        unit.read("info.yaml"),
        format!(
            "{id}:\n  revision: 2\n  label: db-password\n  owner: application\n  description: the db\n"
        )
    );
    assert_eq!(
        unit.read("tool-info.json"),
        format!(
            "{{\"{id}\":{{\"revision\":2,\"label\":\"db-password\",\"owner\":\"application\",\"description\":\"the db\"}}}}\n"
        )
    );

    let db = model.add_relation("db", "client", 1).expect("relate");
    ok(model
        .run_relation_hook(&db, RelationEvent::Joined, Some("client/0"))
        .expect("joined"));
    let granted: serde_json::Value =
        serde_json::from_str(&unit.read("granted.json")).expect("json");
    assert_eq!(
        granted[id]["access"],
        serde_json::json!([{"target": "application-client", "scope": "relation-client.db#demo.db", "role": "view"}]),
        "the unit grant is covered by the application's"
    );

    ok(model.run_hook("update-status").expect("update-status"));
    let secrets = model.secrets().expect("secrets");
    let secret = &secrets[id];
    assert!(secret.grants.is_empty(), "{:?}", secret.grants);
    assert_eq!(
        secret.revisions.keys().copied().collect::<Vec<_>>(),
        vec![2]
    );
    assert_eq!(secret.revisions[&2]["password"], "bjN3");
    assert_eq!(secret.tracked, Some(2));
    assert_eq!(secret.owner, "application");
    assert_eq!(secret.owner_id, "demo");
    assert_eq!(secret.label, "db-password");

    ok(model.run_hook("stop").expect("stop"));
    assert!(model.secrets().expect("secrets").is_empty());
    assert_eq!(unit.read("ids-after"), "");
}

#[test]
fn a_consumer_follows_another_applications_secret_through_secret_changed() {
    let mut unit = Unit::new();
    let model = charm(
        &mut unit,
        r#"hooks:
  install:
    - inline-host-script: |
        set -e
        lucky secret get "$(cat "$LUCKY_TEST_DIR/remote-id")" --label vault-token token > "$LUCKY_TEST_DIR/first"
  secret-changed:
    - inline-host-script: |
        set -e
        T="$LUCKY_TEST_DIR"
        echo "$JUJU_SECRET_ID $JUJU_SECRET_LABEL ${JUJU_SECRET_REVISION:-none}" > "$T/env"
        lucky secret get --label vault-token > "$T/tracked"
        lucky secret get "$JUJU_SECRET_ID" token --refresh > "$T/refreshed"
        lucky secret ids > "$T/owned"
"#,
        false,
    );
    let remote = model
        .add_remote_secret("vault", &[("token", "t1")])
        .expect("remote secret");
    write(&unit.path("remote-id"), &remote);
    ok(model.run_hook("install").expect("install"));
    assert_eq!(unit.read("first"), "t1\n");
    assert_eq!(
        model
            .set_secret_content(&remote, &[("token", "t2")])
            .expect("set"),
        2
    );
    ok(model
        .run_secret_hook("secret-changed", &remote, None)
        .expect("secret-changed"));
    assert_eq!(unit.read("env"), format!("{remote} vault-token none\n"));
    assert_eq!(unit.read("tracked"), "token=t1\n");
    assert_eq!(unit.read("refreshed"), "t2\n");
    assert_eq!(unit.read("owned"), "", "a consumer owns none of it");
    let bare = remote.strip_prefix("secret:").expect("uri");
    assert_eq!(model.secrets().expect("secrets")[bare].tracked, Some(2));
}

/// Runs `commands` in one install hook, each one's stderr and exit status recorded, and
/// returns `(stderr, status)` per command.
fn refused(leader: bool, commands: &[&str]) -> (Model, Unit, Vec<(String, String)>) {
    let mut unit = Unit::new();
    let mut script = String::from("T=\"$LUCKY_TEST_DIR\"\n");
    for (i, c) in commands.iter().enumerate() {
        script.push_str(&format!(
            "        {c} > /dev/null 2> \"$T/err{i}\"; echo $? > \"$T/rc{i}\"\n"
        ));
    }
    let yaml = format!("hooks:\n  install:\n    - inline-host-script: |\n        {script}");
    let model = charm(&mut unit, &yaml, leader);
    ok(model.run_hook("install").expect("install"));
    let results = (0..commands.len())
        .map(|i| {
            (
                unit.read(&format!("err{i}")),
                unit.read(&format!("rc{i}")).trim().to_string(),
            )
        })
        .collect();
    (model, unit, results)
}

#[test]
fn bad_secret_input_is_one_line_a_non_zero_exit_and_changes_nothing() {
    let (model, _unit, results) = refused(
        true,
        &[
            "lucky secret get secret:aaaaaaaaaaaaaaaaaaaa",
            "lucky secret get nope",
            "lucky secret add Password=x",
            "lucky secret add ab=x",
            "lucky secret set secret:aaaaaaaaaaaaaaaaaaaa password=x",
            "lucky secret get --label no-such-label",
            "lucky secret add password=x --rotate sometimes",
            // Juju's own tools, as a host script may call them, with Juju's exit statuses.
            "secret-add Password=x",
            "secret-get nope",
            "secret-get secret:aaaaaaaaaaaaaaaaaaaa",
        ],
    );
    let expected: &[(&str, &str)] = &[
        (
            "lucky: secret-get: secret \"aaaaaaaaaaaaaaaaaaaa\" not found\n",
            "1",
        ),
        (
            "lucky: invalid secret id \"nope\": use the id secret-add printed (or JUJU_SECRET_ID), e.g. secret:9m4e2mr0ui3e8a215n4g\n",
            "2",
        ),
        (
            "lucky: invalid secret key \"Password\": use 3 or more lowercase letters and digits, starting with a letter, single '-' between them (e.g. db-password)\n",
            "2",
        ),
        (
            "lucky: invalid secret key \"ab\": use 3 or more lowercase letters and digits, starting with a letter, single '-' between them (e.g. db-password)\n",
            "2",
        ),
        (
            "lucky: secret-set: secret \"aaaaaaaaaaaaaaaaaaaa\" not found\n",
            "1",
        ),
        (
            "lucky: secret-get: secret with label \"no-such-label\" not found\n",
            "1",
        ),
        (
            "lucky: secret-add: rotate policy \"sometimes\" not valid\n",
            "2",
        ),
        ("ERROR key \"Password\" not valid\n", "2"),
        ("ERROR secret URI \"nope\" not valid\n", "2"),
        ("ERROR secret \"aaaaaaaaaaaaaaaaaaaa\" not found\n", "1"),
    ];
    for (got, want) in results.iter().zip(expected) {
        assert_eq!((got.0.as_str(), got.1.as_str()), *want);
    }
    assert!(model.secrets().expect("secrets").is_empty());
}

#[test]
fn only_the_leader_adds_application_secrets() {
    let (model, _unit, results) = refused(
        false,
        &[
            "lucky secret add password=x",
            "lucky secret add --owner unit --label mine password=x",
        ],
    );
    assert_eq!(
        results[0],
        (
            "lucky: secret-add: this unit is not the leader\n".to_string(),
            "1".to_string()
        )
    );
    assert_eq!(results[1], (String::new(), "0".to_string()));
    let secrets = model.secrets().expect("secrets");
    assert_eq!(secrets.len(), 1, "only the unit-owned one");
    let secret = secrets.values().next().expect("one");
    assert_eq!(
        (secret.owner.as_str(), secret.owner_id.as_str()),
        ("unit", "demo/0")
    );
    assert_eq!(secret.label, "mine");
}

#[test]
fn a_failed_hook_adds_no_secret_and_tracks_nothing() {
    let mut unit = Unit::new();
    let model = charm(
        &mut unit,
        r#"hooks:
  install:
    - inline-host-script: |
        lucky secret add password=x > "$LUCKY_TEST_DIR/id"
        lucky secret get "$(cat "$LUCKY_TEST_DIR/id")" > /dev/null
        exit 1
"#,
        true,
    );
    let run = model.run_hook("install").expect("install");
    assert!(!run.success());
    assert!(
        unit.read("id").starts_with("secret:"),
        "it was added in the hook"
    );
    assert!(model.secrets().expect("secrets").is_empty());
}

#[test]
fn lucky_sim_shares_a_secret_and_changes_it_firing_secret_changed() {
    let mut unit = Unit::new();
    let model = charm(
        &mut unit,
        r#"hooks:
  secret-changed:
    - inline-host-script: |
        lucky secret get "$JUJU_SECRET_ID" token --refresh > "$LUCKY_TEST_DIR/token"
"#,
        false,
    );
    let dir = model.dir().to_string_lossy().into_owned();
    let out = unit.lucky(&["sim", "secret-add", &dir, "vault", "token=t1"]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    let id = support::stdout(&out).trim().to_string();
    assert!(id.starts_with("secret:"), "{id}");
    let out = unit.lucky(&["sim", "secret-set", &dir, &id, "token=t2"]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    assert_eq!(unit.read("token"), "t2\n");
    let bare = id.strip_prefix("secret:").expect("uri");
    let secret = &model.secrets().expect("secrets")[bare];
    assert_eq!(
        (secret.owner.as_str(), secret.owner_id.as_str()),
        ("remote", "vault")
    );
    assert_eq!(secret.latest(), 2);
    assert_eq!(secret.tracked, Some(2));
    // A key Juju would refuse: one line, exit 1, nothing changed.
    let out = unit.lucky(&["sim", "secret-set", &dir, &id, "Token=t3"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        support::stderr(&out),
        "lucky: secret key \"Token\" is not valid: use 3 or more lowercase letters and digits, single '-' between, starting with a letter\n"
    );
    assert_eq!(model.secrets().expect("secrets")[bare].latest(), 2);
}

#[test]
fn lucky_sim_fires_rotate_expired_and_remove_at_the_owner_only() {
    let mut unit = Unit::new();
    let model = charm(
        &mut unit,
        r#"hooks:
  install:
    - inline-host-script: |
        set -e
        lucky secret add --rotate daily --expire 2030-01-01T00:00:00Z --label api-key key=k1 > "$LUCKY_TEST_DIR/id"
        lucky secret add --label plain key=p1 > "$LUCKY_TEST_DIR/plain-id"
  secret-rotate:
    - inline-host-script: |
        set -e
        echo "$JUJU_SECRET_ID $JUJU_SECRET_LABEL ${JUJU_SECRET_REVISION:-none}" > "$LUCKY_TEST_DIR/rotate"
        lucky secret set "$JUJU_SECRET_ID" key=k2
  secret-expired:
    - inline-host-script: |
        echo "$JUJU_SECRET_ID $JUJU_SECRET_REVISION" > "$LUCKY_TEST_DIR/expired"
  secret-remove:
    - inline-host-script: |
        set -e
        echo "$JUJU_SECRET_ID $JUJU_SECRET_REVISION" > "$LUCKY_TEST_DIR/remove"
        lucky secret remove "$JUJU_SECRET_ID" --revision "$JUJU_SECRET_REVISION"
"#,
        true,
    );
    ok(model.run_hook("install").expect("install"));
    let id = unit.read("id").trim().to_string();
    let plain = unit.read("plain-id").trim().to_string();
    let bare = id.strip_prefix("secret:").expect("uri").to_string();
    let dir = model.dir().to_string_lossy().into_owned();
    let sim = |args: &[&str]| {
        let mut all = vec!["sim", args[0], &dir];
        all.extend_from_slice(&args[1..]);
        unit.lucky(&all)
    };

    let out = sim(&["secret-rotate", &id]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    assert_eq!(unit.read("rotate"), format!("{id} api-key none\n"));
    assert_eq!(model.secrets().expect("secrets")[&bare].latest(), 2);

    let out = sim(&["secret-expire", &id]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    assert_eq!(unit.read("expired"), format!("{id} 2\n"));

    // Revision 1 is tracked by nobody now: the owner is told and removes it.
    let out = sim(&["secret-obsolete", &id, "--revision", "1"]);
    assert!(out.status.success(), "{}", support::stderr(&out));
    assert_eq!(unit.read("remove"), format!("{id} 1\n"));
    let revisions: Vec<u32> = model.secrets().expect("secrets")[&bare]
        .revisions
        .keys()
        .copied()
        .collect();
    assert_eq!(revisions, vec![2]);

    // What Juju never fires: one line each, exit 1, no hook ran.
    let remote = model
        .add_remote_secret("vault", &[("token", "t1")])
        .expect("remote");
    let hooks_before = model.state().expect("state").hooks.len();
    for (args, message) in [
        (
            vec!["secret-rotate", plain.as_str()],
            format!(
                "lucky: secret {plain} has no rotate policy: set one with `secret set --rotate`\n"
            ),
        ),
        (
            vec!["secret-expire", plain.as_str()],
            format!("lucky: secret {plain} has no expiry: set one with `secret set --expire`\n"),
        ),
        (
            vec!["secret-obsolete", id.as_str(), "--revision", "2"],
            format!("lucky: revision 2 is the latest of secret {id}: Juju keeps it\n"),
        ),
        (
            vec!["secret-rotate", remote.as_str()],
            format!(
                "lucky: secret {remote} is owned by vault: Juju fires secret-rotate only at the owner\n"
            ),
        ),
    ] {
        let out = sim(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert_eq!(support::stderr(&out), message, "{args:?}");
    }
    assert_eq!(model.state().expect("state").hooks.len(), hooks_before);
}
