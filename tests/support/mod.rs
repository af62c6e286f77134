//! Shared test support: a throwaway unit (charm folder, data dir, socket) that drives the
//! real `lucky` binary, and cleans up its daemon.
#![allow(dead_code)]

pub mod docker;
pub mod release;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const LUCKY: &str = env!("CARGO_BIN_EXE_lucky");

pub struct Unit {
    pub dir: tempfile::TempDir,
    pub name: String,
}

impl Unit {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["charm/host_scripts", "charm/container_scripts"] {
            std::fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        Self {
            dir,
            name: "app/0".into(),
        }
    }

    pub fn charm(&self) -> PathBuf {
        self.dir.path().join("charm")
    }
    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("lucky.sock")
    }
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn lucky_yaml(&self, text: &str) {
        std::fs::write(self.charm().join("lucky.yaml"), text).expect("write lucky.yaml");
    }

    /// A charm of `metadata` whose every hook reaches `lucky hook` through `dispatch`, as a
    /// built charm's does, running `lucky_yaml`.
    pub fn dispatching_charm(&self, metadata: &str, lucky_yaml: &str) {
        use std::os::unix::fs::PermissionsExt;
        let charm = self.charm();
        std::fs::write(charm.join("metadata.yaml"), metadata).expect("write metadata.yaml");
        let dispatch = charm.join("dispatch");
        std::fs::write(
            &dispatch,
            "#!/bin/sh\nexec lucky hook \"$(basename \"${JUJU_DISPATCH_PATH:-$0}\")\"\n",
        )
        .expect("write dispatch");
        std::fs::set_permissions(&dispatch, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        self.lucky_yaml(lucky_yaml);
    }

    /// Writes an executable `host_scripts/<name>`.
    pub fn host_script(&self, name: &str, body: &str) {
        let path = self.charm().join("host_scripts").join(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write script");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }

    /// A `lucky` command with the environment of a hook of this unit.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(LUCKY);
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("JUJU_UNIT_NAME", &self.name)
            .env("JUJU_CHARM_DIR", self.charm())
            .env("CHARM_DIR", self.charm())
            .env("JUJU_CONTEXT_ID", "app/0-test-1")
            .env("LUCKY_SOCKET", self.socket())
            .env("LUCKY_DATA_DIR", self.data_dir())
            .env("LUCKY_TEST_DIR", self.dir.path())
            .stdin(Stdio::null());
        cmd
    }

    pub fn lucky(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run lucky")
    }

    pub fn hook(&self, name: &str) -> Output {
        self.lucky(&["hook", name])
    }

    /// The pid recorded by the running daemon, if any.
    pub fn daemon_pid(&self) -> Option<i32> {
        let out = self.lucky(&["daemon", "status"]);
        let text = String::from_utf8_lossy(&out.stdout);
        text.lines()
            .find_map(|l| l.strip_prefix("pid: "))
            .and_then(|p| p.trim().parse().ok())
    }

    /// A simulated Juju model of this charm, for the unit `self.name`, whose hooks reach
    /// this unit's daemon and know the test folder (`LUCKY_TEST_DIR`).
    pub fn model(&self) -> lucky::simulator::Model {
        let model =
            lucky::simulator::Model::create(self.path("model"), self.charm(), &self.name, LUCKY)
                .expect("model");
        for (key, value) in [
            ("LUCKY_SOCKET", self.socket()),
            ("LUCKY_DATA_DIR", self.data_dir()),
            ("LUCKY_TEST_DIR", self.dir.path().to_path_buf()),
        ] {
            model
                .pass_env(key, value.to_string_lossy())
                .expect("pass env");
        }
        model
    }

    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap_or_default()
    }
}

impl Drop for Unit {
    fn drop(&mut self) {
        // Never leave a daemon behind, even when a test failed.
        // Only while the lock is held does its pid name a live daemon (pids get reused).
        let lock = self.data_dir().join("daemon.lock");
        let held = std::fs::File::open(&lock).is_ok_and(|f| f.try_lock_shared().is_err());
        if let Some(pid) = std::fs::read_to_string(lock)
            .ok()
            .filter(|_| held)
            .and_then(|p| p.trim().parse::<i32>().ok())
        {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Waits until `cond` holds, failing the test after `limit`.
pub fn wait_for(what: &str, limit: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A `/proc/<pid>/status` figure in KiB (`field` with its colon, e.g. `VmRSS:`); 0 when
/// the process or the field is gone.
pub fn status_kib(pid: i32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

pub fn process_alive(pid: i32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

/// A hand-written client's connection to `socket`, its hello (with `token`) sent.
pub fn connect_with_hello(socket: &Path, token: Option<&str>) -> std::os::unix::net::UnixStream {
    use lucky::protocol::{Hello, PROTOCOL_VERSION, frame};
    let mut stream = std::os::unix::net::UnixStream::connect(socket).expect("connect");
    let hello = Hello {
        protocol: PROTOCOL_VERSION,
        version: "test".into(),
        context: token.map(str::to_string),
    };
    frame::write_blocking(&mut stream, &hello).expect("hello");
    stream
}

/// A hand-written client for attack tests: hello with `token`, one request, and the
/// answer's last frame (streamed output skipped).
pub fn raw_call(
    socket: &Path,
    token: Option<&str>,
    request: &lucky::protocol::Request,
) -> Result<lucky::protocol::Response, lucky::protocol::ErrorReply> {
    use lucky::protocol::{Reply, frame};
    let mut stream = connect_with_hello(socket, token);
    frame::write_blocking(&mut stream, request).expect("request");
    loop {
        match frame::read_blocking::<Reply>(&mut stream).expect("reply") {
            Reply::Output { .. } => {}
            Reply::Done(response) => return Ok(response),
            Reply::Error(error) => return Err(error),
        }
    }
}
