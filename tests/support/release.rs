//! A signed release folder served over loopback, as the installer and self-update read it.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn run_ok(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A throwaway ed25519 pair: `<dir>/<name>.key` (private) and `<dir>/<name>.pub`.
pub fn gen_key(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    let key = dir.join(format!("{name}.key"));
    let public = dir.join(format!("{name}.pub"));
    run_ok(
        Command::new("openssl")
            .args(["genpkey", "-algorithm", "ed25519", "-out"])
            .arg(&key),
    );
    run_ok(
        Command::new("openssl")
            .args(["pkey", "-pubout", "-in"])
            .arg(&key)
            .arg("-out")
            .arg(&public),
    );
    (key, public)
}

/// Signs `<dir>/SHA256SUMS` into `<dir>/SHA256SUMS.sig`, as release/build.sh does.
pub fn sign(dir: &Path, key: &Path) {
    run_ok(
        Command::new("openssl")
            .args(["pkeyutl", "-sign", "-rawin", "-inkey"])
            .arg(key)
            .arg("-in")
            .arg(dir.join("SHA256SUMS"))
            .arg("-out")
            .arg(dir.join("SHA256SUMS.sig")),
    );
}

/// A port on loopback that nothing listens on (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

pub fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "http server on port {port} did not come up"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `python3 -m http.server` serving a release folder; its request log is a file.
pub struct HttpServer {
    child: Child,
    port: u16,
    log: PathBuf,
}

impl HttpServer {
    pub fn start(root: &Path, log: PathBuf) -> HttpServer {
        let port = free_port();
        let child = Command::new("python3")
            .args(["-u", "-m", "http.server", "--bind", "127.0.0.1"])
            .arg(port.to_string())
            .arg("--directory")
            .arg(root)
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).expect("server log"))
            .spawn()
            .expect("python3 -m http.server");
        wait_for_port(port);
        HttpServer { child, port, log }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// How many GET requests for paths containing `needle` the server has logged.
    pub fn gets(&self, needle: &str) -> usize {
        fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("\"GET ") && l.contains(needle))
            .count()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Serves a release folder (`<root>/latest`, `<root>/<version>/<asset>`) under GitHub
/// Releases' URL scheme, redirects included, on loopback:
///
/// - `<url>/latest/download/<asset>` → 302 to `<url>/download/v<latest>/<asset>`
/// - `<url>/download/v<version>/<asset>` → 302 to `<asset host>/assets/<version>/<asset>`
/// - `/assets/<version>/<asset>` → the file (`latest` is the version itself, as the
///   release workflow uploads it)
///
/// where `<url>` is `http://127.0.0.1:<port>/owner/lucky/releases` and the asset host is
/// this server unless [`GithubServer::asset_host`] says otherwise (another server, or a
/// plain-http host a client must refuse).
pub struct GithubServer {
    origin: String,
    state: std::sync::Arc<std::sync::Mutex<GithubState>>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Drop for GithubServer {
    /// Frees the port: the accept loop sees the flag at the next connection, made here.
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = TcpStream::connect(self.origin.trim_start_matches("http://"));
    }
}

struct GithubState {
    asset_host: String,
    /// Assets whose name contains this get an endless body, with no Content-Length.
    endless: Option<String>,
    log: Vec<String>,
}

impl GithubServer {
    pub fn start(root: &Path) -> GithubServer {
        GithubServer::start_on("127.0.0.1", root)
    }

    pub fn start_on(ip: &str, root: &Path) -> GithubServer {
        let listener = TcpListener::bind((ip, 0)).expect("bind loopback");
        GithubServer::serve(listener, ip, root)
    }

    pub fn serve(listener: TcpListener, ip: &str, root: &Path) -> GithubServer {
        use std::sync::{Arc, Mutex};
        let port = listener.local_addr().expect("local addr").port();
        let state = Arc::new(Mutex::new(GithubState {
            asset_host: format!("http://{ip}:{port}"),
            endless: None,
            log: Vec::new(),
        }));
        let shared = state.clone();
        let root = root.to_path_buf();
        let base = format!("http://{ip}:{port}");
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopped = stop.clone();
        // The thread ends with the test process, or when the server is dropped.
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                if stopped.load(std::sync::atomic::Ordering::SeqCst) {
                    break;
                }
                let shared = shared.clone();
                let root = root.clone();
                let base = base.clone();
                std::thread::spawn(move || serve_github(stream, &root, &base, &shared));
            }
        });
        GithubServer {
            origin: format!("http://{ip}:{port}"),
            state,
            stop,
        }
    }

    /// `http://<ip>:<port>/owner/lucky/releases`: the release URL to configure.
    pub fn url(&self) -> String {
        format!("{}{GITHUB_PREFIX}", self.origin)
    }

    /// `http://<ip>:<port>`.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Where `…/download/<tag>/<asset>` redirects to (scheme, host and port).
    pub fn asset_host(&self, origin: &str) {
        self.state.lock().expect("state").asset_host = origin.to_string();
    }

    /// Assets whose name contains `needle` stream bytes forever.
    pub fn endless(&self, needle: &str) {
        self.state.lock().expect("state").endless = Some(needle.to_string());
    }

    /// Every request path served, in order.
    pub fn requests(&self) -> Vec<String> {
        self.state.lock().expect("state").log.clone()
    }
}

const GITHUB_PREFIX: &str = "/owner/lucky/releases";

fn serve_github(stream: TcpStream, root: &Path, base: &str, state: &std::sync::Mutex<GithubState>) {
    use std::io::{BufRead, BufReader, Write};
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    let mut line = String::new();
    while reader.read_line(&mut line).map(|n| n > 0).unwrap_or(false) && line != "\r\n" {
        line.clear();
    }
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
    let (asset_host, endless) = {
        let mut s = state.lock().expect("state");
        s.log.push(path.clone());
        (s.asset_host.clone(), s.endless.clone())
    };
    let mut out = stream;
    let redirect = |out: &mut TcpStream, to: String| {
        let _ = write!(
            out,
            "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
    };
    let not_found = |out: &mut TcpStream| {
        let _ = out
            .write_all(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    };
    if let Some(asset) = path.strip_prefix(&format!("{GITHUB_PREFIX}/latest/download/")) {
        let Ok(latest) = fs::read_to_string(root.join("latest")) else {
            return not_found(&mut out);
        };
        let to = format!("{base}{GITHUB_PREFIX}/download/v{}/{asset}", latest.trim());
        return redirect(&mut out, to);
    }
    if let Some(rest) = path.strip_prefix(&format!("{GITHUB_PREFIX}/download/v")) {
        return redirect(&mut out, format!("{asset_host}/assets/{rest}"));
    }
    let Some((version, asset)) = path
        .strip_prefix("/assets/")
        .and_then(|rest| rest.split_once('/'))
    else {
        return not_found(&mut out);
    };
    if version.contains("..") || asset.contains('/') || asset.contains("..") {
        return not_found(&mut out);
    }
    if endless.is_some_and(|n| asset.contains(&n)) {
        let _ = out.write_all(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
        let chunk = vec![b'0'; 64 << 10];
        while out.write_all(&chunk).is_ok() {}
        return;
    }
    let body = if asset == "latest" {
        Some(format!("{version}\n").into_bytes())
    } else {
        fs::read(root.join(version).join(asset)).ok()
    };
    let Some(body) = body else {
        return not_found(&mut out);
    };
    let _ = write!(
        out,
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = out.write_all(&body);
}

/// The port the identity build's release URL names (a release URL is fixed at build time).
pub const IDENTITY_PORT: u16 = 39517;
pub const IDENTITY_VERSION: &str = "0.2.0";

/// A lucky built as release/build.sh builds one, with its release identity built in: the
/// public key of a test key pair (kept beside the build, so later runs reuse both) and the
/// release URL `http://127.0.0.1:<IDENTITY_PORT>/owner/lucky/releases`, as version
/// [`IDENTITY_VERSION`]. A debug build (no musl, no LTO): what is tested is the identity.
pub struct IdentityBuild {
    pub exe: PathBuf,
    pub key: PathBuf,
    pub public: PathBuf,
}

impl IdentityBuild {
    /// Held for a whole test that serves (or must find nothing at) the identity port:
    /// tests of one binary run in parallel, and there is one such port.
    pub fn port_lock() -> std::sync::MutexGuard<'static, ()> {
        static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
        LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn url() -> String {
        format!("http://127.0.0.1:{IDENTITY_PORT}{GITHUB_PREFIX}")
    }

    /// Serves `root` (a release folder) at [`IdentityBuild::url`].
    pub fn serve(root: &Path) -> GithubServer {
        let listener = TcpListener::bind(("127.0.0.1", IDENTITY_PORT)).unwrap_or_else(|e| {
            panic!("port {IDENTITY_PORT}, which the identity build's release URL names: {e}")
        });
        GithubServer::serve(listener, "127.0.0.1", root)
    }
}

pub fn identity_build() -> &'static IdentityBuild {
    static BUILD: std::sync::OnceLock<IdentityBuild> = std::sync::OnceLock::new();
    BUILD.get_or_init(|| {
        let target_dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("self-update-b");
        let keys = target_dir.join("release-keys");
        fs::create_dir_all(&keys).expect("key dir");
        let (key, public) = (keys.join("release.key"), keys.join("release.pub"));
        if !public.is_file() {
            gen_key(&keys, "release");
        }
        let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(["build", "--quiet", "--bin", "lucky", "--target-dir"])
            .arg(&target_dir)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("LUCKY_VERSION_OVERRIDE", IDENTITY_VERSION)
            .env("LUCKY_RELEASE_PUBKEY", &public)
            .env("LUCKY_DEFAULT_RELEASE_URL", IdentityBuild::url())
            // No debug info: a fraction of the size to serve and hash.
            .env("CARGO_PROFILE_DEV_DEBUG", "0")
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .expect("run cargo build for the identity build");
        assert!(
            out.status.success(),
            "building lucky with a release identity failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        IdentityBuild {
            exe: target_dir.join("debug/lucky"),
            key,
            public,
        }
    })
}
