//! Helpers for tests against the real Docker engine that `tests/support/docker-engine.sh`
//! starts: the engine connection, the busybox-only test image (and one with bash), a
//! static (musl) lucky binary to mount into containers, and a unit with its own charm,
//! data dir and daemon.
#![allow(dead_code)]

use bollard::Docker;
use bollard::query_parameters::{ListContainersOptionsBuilder, RemoveContainerOptionsBuilder};
use lucky::docker::image::BusyboxImage;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

pub const TEST_IMAGE: &str = "lucky-test-base:latest";
const DEFAULT_TEST_ENGINE: &str = "unix:///run/lucky-test-docker.sock";

/// `DOCKER_HOST`, or the engine the start script runs.
pub fn docker_host() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| DEFAULT_TEST_ENGINE.to_string())
}

pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// A connection to the engine; fails the test with what to do when none answers.
pub fn docker(rt: &tokio::runtime::Runtime) -> Docker {
    let host = docker_host();
    let socket = host.strip_prefix("unix://").unwrap_or(&host).to_string();
    let connected = rt.block_on(async {
        let docker = Docker::connect_with_unix(&socket, 120, bollard::API_DEFAULT_VERSION)?
            .negotiate_version()
            .await?;
        docker.ping().await?;
        Ok::<_, bollard::errors::Error>(docker)
    });
    match connected {
        Ok(d) => d,
        Err(e) => panic!(
            "no Docker engine answers at {host} ({e}). These tests need a real engine: run \
             `tests/support/docker-engine.sh start` and `export DOCKER_HOST={DEFAULT_TEST_ENGINE}`"
        ),
    }
}

/// Imports the busybox-only image once per test process (no registry here), with the
/// same code `lucky charm run` builds its example image with.
pub fn ensure_test_image() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let rt = runtime();
        let docker = docker(&rt);
        rt.block_on(BusyboxImage::shell(TEST_IMAGE).import(&docker))
            .unwrap_or_else(|e| panic!("cannot import {TEST_IMAGE}: {e}"));
    });
}

/// The busybox test image plus bash: Debian's bash-static (`apt-get install bash-static`,
/// as tests/run.sh does) copied to `/bin/bash`. Imported once per test process.
pub const BASH_TEST_IMAGE: &str = "lucky-test-bash:latest";
const BASH_STATIC: &str = "/bin/bash-static";

pub fn ensure_bash_test_image() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let bash = std::fs::read(BASH_STATIC).unwrap_or_else(|e| {
            panic!("cannot read {BASH_STATIC} ({e}): install it with `apt-get install bash-static`")
        });
        let mut image = BusyboxImage::shell(BASH_TEST_IMAGE);
        image.files.push(("bin/bash".into(), bash, 0o755));
        let rt = runtime();
        let docker = docker(&rt);
        rt.block_on(image.import(&docker))
            .unwrap_or_else(|e| panic!("cannot import {BASH_TEST_IMAGE}: {e}"));
    });
}

/// A static lucky (musl), so it runs inside the busybox-only image. Built once into its
/// own target dir (the outer `cargo test` holds the lock of the normal one), unless
/// `LUCKY_TEST_MUSL_BIN` names one already built.
pub fn musl_lucky() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("LUCKY_TEST_MUSL_BIN") {
            return PathBuf::from(bin);
        }
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let target_dir = root.join("target").join("container-tests");
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let status = Command::new(cargo)
            .args(["build", "--bin", "lucky", "--target", "x86_64-unknown-linux-musl"])
            .env("CARGO_TARGET_DIR", &target_dir)
            .current_dir(root)
            .status()
            .expect("run cargo build for the musl target");
        assert!(
            status.success(),
            "cargo build --target x86_64-unknown-linux-musl failed (rustup target add x86_64-unknown-linux-musl; apt-get install musl-tools)"
        );
        target_dir.join("x86_64-unknown-linux-musl/debug/lucky")
    })
    .clone()
}

static UNIT_SEQ: AtomicU32 = AtomicU32::new(0);

/// One unit: a charm folder, a data dir, a socket, and the daemon the first hook starts.
pub struct Unit {
    pub dir: tempfile::TempDir,
    pub name: String,
    pub lucky: PathBuf,
    pub docker_host: String,
}

impl Unit {
    /// A charm with `lucky_yaml` and the given container scripts.
    pub fn new(lucky_yaml: &str, container_scripts: &[(&str, &str)]) -> Self {
        ensure_test_image();
        let dir = tempfile::tempdir().expect("tempdir");
        let name = format!(
            "ct{}-{}/{}",
            std::process::id(),
            UNIT_SEQ.fetch_add(1, Ordering::Relaxed),
            0
        );
        let charm = dir.path().join("charm");
        std::fs::create_dir_all(charm.join("container_scripts")).expect("charm dir");
        std::fs::write(charm.join("lucky.yaml"), lucky_yaml).expect("lucky.yaml");
        for (script, body) in container_scripts {
            let path = charm.join("container_scripts").join(script);
            std::fs::write(&path, body).expect("script");
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        Unit {
            dir,
            name,
            lucky: musl_lucky(),
            docker_host: docker_host(),
        }
    }

    pub fn charm_dir(&self) -> PathBuf {
        self.dir.path().join("charm")
    }
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("lucky.sock")
    }

    /// Runs `lucky ARGS` as a hook or host script of this unit would.
    pub fn lucky(&self, args: &[&str]) -> Output {
        Command::new(&self.lucky)
            .args(args)
            .env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("JUJU_UNIT_NAME", &self.name)
            .env("JUJU_CHARM_DIR", self.charm_dir())
            .env("JUJU_CONTEXT_ID", format!("{}-ctx", self.name))
            .env("LUCKY_SOCKET", self.socket())
            .env("LUCKY_DATA_DIR", self.data_dir())
            .env("DOCKER_HOST", &self.docker_host)
            .output()
            .expect("run lucky")
    }

    /// `lucky hook NAME`; panics with its output unless it succeeds.
    pub fn hook_ok(&self, hook: &str) -> String {
        let out = self.lucky(&["hook", hook]);
        let text = text(&out);
        assert!(out.status.success(), "hook {hook} failed:\n{text}");
        text
    }

    /// The unit's containers, by container name → (id, started at).
    pub fn containers(
        &self,
        rt: &tokio::runtime::Runtime,
        docker: &Docker,
    ) -> HashMap<String, (String, String)> {
        rt.block_on(async {
            let filters = HashMap::from([(
                "label".to_string(),
                vec![format!("lucky.unit={}", self.name)],
            )]);
            let options = ListContainersOptionsBuilder::default()
                .all(true)
                .filters(&filters)
                .build();
            let list = docker.list_containers(Some(options)).await.expect("list");
            let mut found = HashMap::new();
            for c in list {
                let id = c.id.unwrap_or_default();
                let key = c
                    .labels
                    .unwrap_or_default()
                    .get("lucky.container")
                    .cloned()
                    .unwrap_or_default();
                let info = docker.inspect_container(&id, None).await.expect("inspect");
                let started = info.state.and_then(|s| s.started_at).unwrap_or_default();
                found.insert(key, (id, started));
            }
            found
        })
    }
}

impl Drop for Unit {
    fn drop(&mut self) {
        let _ = self.lucky(&["daemon", "stop"]);
        // Leave no container behind, whatever the test did.
        remove_unit_containers(&self.name);
    }
}

/// Force-removes every container Lucky made for `unit` (by its label), ignoring errors:
/// test clean-up must not fail a test, and an engine that is gone has nothing left.
pub fn remove_unit_containers(unit: &str) {
    let rt = runtime();
    let host = docker_host();
    let socket = host.strip_prefix("unix://").unwrap_or(&host).to_string();
    let unit = unit.to_string();
    rt.block_on(async move {
        let Ok(docker) = Docker::connect_with_unix(&socket, 30, bollard::API_DEFAULT_VERSION)
        else {
            return;
        };
        let Ok(docker) = docker.negotiate_version().await else {
            return;
        };
        for c in lucky::docker::unit_containers(&docker, &unit)
            .await
            .unwrap_or_default()
        {
            if let Some(id) = c.id {
                let options = RemoveContainerOptionsBuilder::default().force(true).build();
                let _ = docker.remove_container(&id, Some(options)).await;
            }
        }
    });
}

pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A Unix-socket proxy in front of the real engine, so one test can take "the engine"
/// away and bring it back without stopping the engine other tests share.
pub struct EngineProxy {
    pub socket: PathBuf,
    up: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<UnixStream>>>,
}

impl EngineProxy {
    pub fn start(socket: PathBuf) -> Self {
        let proxy = EngineProxy {
            socket,
            up: Arc::new(AtomicBool::new(false)),
            conns: Arc::new(Mutex::new(Vec::new())),
        };
        proxy.up();
        proxy
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }

    /// Listens again (the engine "comes back").
    pub fn up(&self) {
        let _ = std::fs::remove_file(&self.socket);
        let listener = UnixListener::bind(&self.socket).expect("bind proxy");
        self.up.store(true, Ordering::SeqCst);
        let (up, conns) = (Arc::clone(&self.up), Arc::clone(&self.conns));
        let host = docker_host();
        let upstream = host.strip_prefix("unix://").unwrap_or(&host).to_string();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if !up.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = UnixStream::connect(&upstream) else {
                    continue;
                };
                for s in [&client, &server] {
                    if let Ok(c) = s.try_clone() {
                        conns.lock().expect("conns").push(c);
                    }
                }
                pipe(&client, &server);
                pipe(&server, &client);
            }
        });
    }

    /// Stops answering and cuts every open connection (the engine "stops").
    pub fn down(&self) {
        self.up.store(false, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag and drops the listener.
        let _ = UnixStream::connect(&self.socket);
        let _ = std::fs::remove_file(&self.socket);
        for c in self.conns.lock().expect("conns").drain(..) {
            let _ = c.shutdown(std::net::Shutdown::Both);
        }
    }
}

fn pipe(from: &UnixStream, to: &UnixStream) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    std::thread::spawn(move || {
        let mut buf = [0u8; 16384];
        loop {
            match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Write);
    });
}

/// For `lucky charm run` tests: removes the unit's containers and stops its daemon,
/// whatever the test did.
pub struct RunCleanup {
    pub unit: String,
    pub work: PathBuf,
}

impl Drop for RunCleanup {
    fn drop(&mut self) {
        let _ = Command::new(super::LUCKY)
            .args(["daemon", "stop"])
            .env("JUJU_UNIT_NAME", &self.unit)
            .env("LUCKY_SOCKET", self.work.join("lucky.sock"))
            .env("LUCKY_DATA_DIR", self.work.join("unit"))
            .output();
        remove_unit_containers(&self.unit);
    }
}
