//! The reconciler without Docker: the plan keeps what matches and changes only the rest,
//! the spec hash, the create body's mounts.

use super::*;

fn host() -> HostMounts {
    HostMounts {
        unit: "app/0".into(),
        data_dir: "/var/lib/lucky/app-0".into(),
        lucky_binary: "/usr/bin/lucky".into(),
        socket_dir: "/var/lib/lucky/app-0/container-run".into(),
        container_scripts: None,
    }
}

fn found(spec: &ContainerSpec, key: &str, running: bool) -> Found {
    Found {
        id: format!("id-{key}"),
        hash: config_hash(key, spec, &host()),
        running,
        image_id: format!("sha256:{key}"),
    }
}

#[test]
fn the_plan_keeps_what_matches_and_changes_only_the_rest() {
    let web = ContainerSpec {
        image: Some("httpd".into()),
        ..Default::default()
    };
    let mut db = ContainerSpec {
        image: Some("postgres".into()),
        ..Default::default()
    };
    let old_db = found(&db, "db", true);
    db.env.insert("PGDATA".into(), "/data".into());
    let specs = ContainerSpecs {
        containers: [
            ("web".to_string(), web.clone()),
            ("db".to_string(), db.clone()),
            ("cache".to_string(), ContainerSpec::default()),
        ]
        .into(),
        ..Default::default()
    };
    let existing: BTreeMap<String, Found> = [
        ("web".to_string(), found(&web, "web", true)),
        ("db".to_string(), old_db),
        ("gone".to_string(), found(&web, "gone", false)),
    ]
    .into();
    let steps = plan(&specs, &host(), &existing, &HashMap::new());
    assert_eq!(
        steps,
        vec![
            Step::Remove {
                key: "gone",
                id: "id-gone"
            },
            Step::Create {
                key: "db",
                spec: &db,
                replaces: Some("id-db"),
                hash: config_hash("db", &db, &host()),
            },
            Step::Keep { key: "web" },
        ]
    );
}

#[test]
fn a_container_whose_tag_moved_is_recreated_after_a_refresh() {
    let web = ContainerSpec {
        image: Some("httpd:latest".into()),
        ..Default::default()
    };
    let specs = ContainerSpecs {
        containers: [("web".to_string(), web.clone())].into(),
        ..Default::default()
    };
    let existing: BTreeMap<String, Found> = [("web".to_string(), found(&web, "web", true))].into();
    let same = HashMap::from([("httpd:latest".to_string(), "sha256:web".to_string())]);
    assert_eq!(
        plan(&specs, &host(), &existing, &same),
        vec![Step::Keep { key: "web" }]
    );
    let moved = HashMap::from([("httpd:latest".to_string(), "sha256:new".to_string())]);
    assert_eq!(
        plan(&specs, &host(), &existing, &moved),
        vec![Step::Create {
            key: "web",
            spec: &web,
            replaces: Some("id-web"),
            hash: config_hash("web", &web, &host()),
        }]
    );
}

#[test]
fn a_stopped_current_container_is_started_not_recreated() {
    let web = ContainerSpec {
        image: Some("httpd".into()),
        ..Default::default()
    };
    let specs = ContainerSpecs {
        containers: [("web".to_string(), web.clone())].into(),
        ..Default::default()
    };
    let existing: BTreeMap<String, Found> = [("web".to_string(), found(&web, "web", false))].into();
    assert_eq!(
        plan(&specs, &host(), &existing, &HashMap::new()),
        vec![Step::Start {
            key: "web",
            id: "id-web",
            spec: &web
        }]
    );
}

#[test]
fn hash_is_stable_and_tracks_changes() {
    let mut spec = ContainerSpec {
        image: Some("busybox".into()),
        ..Default::default()
    };
    let a = config_hash("default", &spec, &host());
    assert_eq!(a, config_hash("default", &spec, &host()));
    spec.env.insert("A".into(), "1".into());
    assert_ne!(a, config_hash("default", &spec, &host()));
    assert_ne!(
        a,
        config_hash(
            "other",
            &ContainerSpec {
                image: Some("busybox".into()),
                ..Default::default()
            },
            &host()
        )
    );
}

#[test]
fn create_body_has_the_mounts() {
    let mut spec = ContainerSpec {
        image: Some("busybox".into()),
        init: true,
        ..Default::default()
    };
    spec.volumes.insert("/data".into(), "data".into());
    spec.ports.insert("8080:80/tcp".into());
    let body = create_body("default", &spec, &host(), "h");
    let hc = body.host_config.expect("host config");
    assert_eq!(hc.init, Some(true));
    let binds = hc.binds.expect("binds");
    assert!(binds.contains(&"/usr/bin/lucky:/usr/bin/lucky:ro".to_string()));
    assert!(binds.contains(&"/var/lib/lucky/app-0/volumes/data:/data".to_string()));
    assert!(hc.port_bindings.expect("ports").contains_key("80/tcp"));
}
