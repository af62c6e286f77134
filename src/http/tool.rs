//! One GET through the machine's `curl`, or `wget` where curl is absent: the tools the
//! installer (installer/install.sh) downloads lucky with, so a unit has one of them
//! already. They bring TLS, the machine's CA certificates and its proxy settings, which
//! lucky then need not carry (issue #16: 967 KB of the x86_64 binary).
//!
//! One call is one request: redirects are not followed but handed back
//! ([`Reply::location`]), for the caller to check each hop itself, as the installer does.
//! Arguments are passed as a list (no shell), the URL after `--`. The body is read from
//! the tool's stdout with a cap of our own, whatever the tool enforces.
//!
//! curl and wget differ in what they can enforce themselves: curl gets `--proto`, a total
//! `--max-time`, a stall limit and `--max-filesize`; wget gets `--timeout` (connect and
//! read idle time, no total) and nothing else. The caps lucky enforces while reading, the
//! redirect checks and the retries are the same for both.

use std::ffi::OsStr;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// curl's or wget's path.
#[derive(Debug, Clone)]
pub(crate) enum Tool {
    Curl(PathBuf),
    Wget(PathBuf),
}

/// What one request asks of the tool.
#[derive(Debug, Clone)]
pub(crate) struct Request {
    /// Bytes of body read at most; one more is [`Failure::TooLarge`].
    pub(crate) limit: u64,
    /// The whole request (curl; wget takes it as its connect and idle timeout).
    pub(crate) timeout: Duration,
    /// Use the proxy the environment names (http_proxy, https_proxy, no_proxy…).
    pub(crate) proxy: bool,
    /// Allow plain `http://` (the caller has checked that the host is loopback).
    pub(crate) plain_http: bool,
    /// Keep no body for an HTTP error status (`--fail`).
    pub(crate) fail: bool,
}

/// The answer to one request.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    /// A redirect's target as the server gave it (perhaps relative).
    pub(crate) location: Option<String>,
    pub(crate) body: Vec<u8>,
}

/// Why a request gave no [`Reply`].
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    /// No answer, or the body was cut short: worth another try.
    Transport(String),
    /// The body is longer than [`Request::limit`].
    TooLarge,
    /// The tool could not be run.
    Tool(String),
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Transport(why) | Failure::Tool(why) => f.write_str(why),
            Failure::TooLarge => f.write_str("the answer is larger than lucky reads"),
        }
    }
}

/// The line curl writes after the transfer (to stderr, apart from the body; `%{stderr}`
/// needs curl 7.63 or later: Ubuntu 20.04 has 7.68).
const MARK: &str = "lucky-curl-result:";

impl Tool {
    /// curl, else wget, on `path`, or the one-line reason there is neither.
    pub(crate) fn find(path: &OsStr) -> Result<Tool, String> {
        crate::executable::find("curl", path)
            .map(Tool::Curl)
            .or_else(|| crate::executable::find("wget", path).map(Tool::Wget))
            .ok_or_else(|| {
                "neither curl nor wget is on PATH (lucky downloads with the machine's curl, as \
                 its installer does: install curl)"
                    .to_string()
            })
    }

    /// curl, else wget, on the process's PATH; where PATH is unset, on the one `execvp`
    /// searches then (musl's, a superset of glibc's `/bin:/usr/bin`).
    pub(crate) fn on_path() -> Result<Tool, String> {
        let path = std::env::var_os("PATH");
        Tool::find(
            path.as_deref()
                .unwrap_or(OsStr::new("/usr/local/bin:/bin:/usr/bin")),
        )
    }

    pub(crate) fn name(&self) -> &'static str {
        match self {
            Tool::Curl(_) => "curl",
            Tool::Wget(_) => "wget",
        }
    }

    fn command(&self, url: &str, req: &Request) -> Command {
        let secs = req.timeout.as_secs().max(1).to_string();
        match self {
            Tool::Curl(path) => {
                let mut cmd = Command::new(path);
                // --disable (first, or curl ignores it): no ~/.curlrc can change the limits.
                cmd.args(["--disable", "--silent", "--show-error", "--max-redirs", "0"])
                    .args([
                        "--proto",
                        if req.plain_http {
                            "=http,https"
                        } else {
                            "=https"
                        },
                    ])
                    .args(["--connect-timeout", "10", "--max-time", &secs])
                    // A transfer that stalls below 1 KiB/s for 30 s has failed (retried).
                    .args(["--speed-limit", "1024", "--speed-time", "30"])
                    .args(["--max-filesize", &req.limit.to_string()])
                    .args([
                        "--write-out",
                        &format!("%{{stderr}}\n{MARK} %{{http_code}} %{{redirect_url}}\n"),
                    ])
                    .args(["--output", "-"]);
                if req.fail {
                    cmd.arg("--fail");
                }
                if !req.proxy {
                    cmd.args(["--noproxy", "*"]);
                }
                cmd.args(["--", url]);
                cmd
            }
            Tool::Wget(path) => {
                let mut cmd = Command::new(path);
                // wget exits 8 on any HTTP error status, a redirect it does not follow
                // included: the status is read from the headers it prints (-S).
                cmd.args([
                    "--quiet",
                    "--server-response",
                    "--max-redirect=0",
                    "--tries=1",
                ])
                .arg(format!("--timeout={secs}"))
                .arg("--output-document=-");
                if !req.proxy {
                    cmd.arg("--no-proxy");
                }
                cmd.args(["--", url]);
                cmd
            }
        }
    }

    /// One GET of `url`, run with `env` added to the environment.
    pub(crate) fn get(
        &self,
        url: &str,
        req: &Request,
        env: &[(String, String)],
    ) -> Result<Reply, Failure> {
        let mut cmd = self.command(url, req);
        cmd.envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let name = self.name();
        let mut child = cmd
            .spawn()
            .map_err(|e| Failure::Tool(format!("cannot run {name}: {e}")))?;
        let stderr = child.stderr.take();
        // stderr is read on a thread of its own so that neither pipe can fill and stall it.
        let errors = std::thread::spawn(move || {
            let mut text = Vec::new();
            if let Some(pipe) = stderr {
                let _ = pipe.take(64 << 10).read_to_end(&mut text);
            }
            String::from_utf8_lossy(&text).into_owned()
        });
        let mut body = Vec::new();
        let read = match child.stdout.take() {
            Some(pipe) => pipe.take(req.limit + 1).read_to_end(&mut body),
            None => Ok(0),
        };
        if body.len() as u64 > req.limit {
            let _ = child.kill();
            let _ = child.wait();
            return Err(Failure::TooLarge);
        }
        let status = child
            .wait()
            .map_err(|e| Failure::Tool(format!("cannot wait for {name}: {e}")))?;
        let errors = errors.join().unwrap_or_default();
        if let Err(e) = read {
            return Err(Failure::Transport(format!("cannot read from {name}: {e}")));
        }
        let code = status.code();
        match self {
            Tool::Curl(_) => curl_reply(code, &errors, body),
            Tool::Wget(_) => wget_reply(code, &errors, body),
        }
    }
}

fn curl_reply(code: Option<i32>, errors: &str, body: Vec<u8>) -> Result<Reply, Failure> {
    // curl's own errors ("curl: (7) Failed to connect …"), the result line apart.
    let why = errors
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with(MARK))
        .map(|l| l.trim_start_matches("curl: ").to_string())
        .unwrap_or_else(|| match code {
            Some(c) => format!("curl exited with status {c}"),
            None => "curl was killed".to_string(),
        });
    // 63: "Maximum file size exceeded" (from Content-Length, before any byte is read).
    if code == Some(63) {
        return Err(Failure::TooLarge);
    }
    let Some(result) = errors.lines().rev().find_map(|l| l.strip_prefix(MARK)) else {
        return Err(Failure::Transport(why));
    };
    let mut words = result.trim().splitn(2, ' ');
    let status: u16 = words.next().and_then(|s| s.parse().ok()).unwrap_or(0);
    let location = words
        .next()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string);
    reply(status, location, code, why, body)
}

fn wget_reply(code: Option<i32>, errors: &str, body: Vec<u8>) -> Result<Reply, Failure> {
    // -S prints each response's headers, indented; the last status line is the answer.
    let mut status = 0;
    let mut location = None;
    for line in errors.lines().map(str::trim) {
        if line.starts_with("HTTP/") {
            status = line
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            location = None;
        } else if let Some((name, value)) = line.split_once(':')
            && name.eq_ignore_ascii_case("location")
        {
            location = Some(value.trim().to_string());
        }
    }
    let why = match code {
        Some(c) => format!("wget exited with status {c} ({})", wget_meaning(c)),
        None => "wget was killed".to_string(),
    };
    reply(status, location, code, why, body)
}

/// The tool's answer from the status it reported (0: none came) and its exit `code`;
/// `why` says what went wrong when it is a failure.
fn reply(
    status: u16,
    location: Option<String>,
    code: Option<i32>,
    why: String,
    body: Vec<u8>,
) -> Result<Reply, Failure> {
    match status {
        0 => Err(Failure::Transport(why)),
        // A success whose body was cut short is a failure.
        200..=299 if code != Some(0) => {
            Err(Failure::Transport(format!("transfer cut short: {why}")))
        }
        _ => Ok(Reply {
            status,
            location,
            body,
        }),
    }
}

/// What wget's exit status means (its manual, "Exit Status").
fn wget_meaning(code: i32) -> &'static str {
    match code {
        1 => "generic error",
        2 => "bad arguments",
        3 => "file I/O error",
        4 => "network failure",
        5 => "TLS verification failure",
        6 => "authentication failure",
        7 => "protocol error",
        8 => "the server answered with an error",
        _ => "unknown error",
    }
}

/// Juju's proxy settings for the charm (`JUJU_CHARM_HTTP_PROXY`, `…_HTTPS_PROXY`,
/// `…_NO_PROXY`) as the variables curl and wget read, as the installer sets them: each one
/// that is set (non-empty) becomes the lower- and upper-case variable; one that is not set
/// leaves the machine's own.
pub(crate) fn juju_proxy_env() -> Vec<(String, String)> {
    let mut env = Vec::new();
    for (juju, lower, upper) in [
        ("JUJU_CHARM_HTTP_PROXY", "http_proxy", "HTTP_PROXY"),
        ("JUJU_CHARM_HTTPS_PROXY", "https_proxy", "HTTPS_PROXY"),
        ("JUJU_CHARM_NO_PROXY", "no_proxy", "NO_PROXY"),
    ] {
        if let Some(value) = std::env::var(juju).ok().filter(|v| !v.is_empty()) {
            env.push((lower.to_string(), value.clone()));
            env.push((upper.to_string(), value));
        }
    }
    env
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curl_results_are_read_from_its_exit_status_and_result_line() {
        let ok = curl_reply(Some(0), &format!("\n{MARK} 200 \n"), b"body".to_vec()).unwrap();
        assert_eq!(
            (ok.status, ok.location, ok.body),
            (200, None, b"body".to_vec())
        );
        let moved = curl_reply(
            Some(0),
            &format!("\n{MARK} 302 https://example.com/a b\n"),
            Vec::new(),
        )
        .unwrap();
        assert_eq!(moved.location.as_deref(), Some("https://example.com/a b"));
        let missing = curl_reply(
            Some(22),
            &format!("curl: (22) The requested URL returned error: 404\n\n{MARK} 404 \n"),
            Vec::new(),
        )
        .unwrap();
        assert_eq!(missing.status, 404);
        assert_eq!(
            curl_reply(
                Some(7),
                &format!("curl: (7) Failed to connect to 127.0.0.1 port 9: Connection refused\n\n{MARK} 000 \n"),
                Vec::new()
            )
            .unwrap_err(),
            Failure::Transport(
                "(7) Failed to connect to 127.0.0.1 port 9: Connection refused".into()
            )
        );
        assert_eq!(
            curl_reply(
                Some(63),
                "curl: (63) Maximum file size exceeded\n",
                Vec::new()
            )
            .unwrap_err(),
            Failure::TooLarge
        );
        assert!(matches!(
            curl_reply(Some(18), &format!("curl: (18) transfer closed\n\n{MARK} 200 \n"), Vec::new()),
            Err(Failure::Transport(why)) if why.starts_with("transfer cut short")
        ));
    }

    #[test]
    fn wget_results_are_read_from_its_headers() {
        let headers = "  HTTP/1.1 302 Found\n  Location: /download/v1/x\n";
        let moved = wget_reply(Some(8), headers, Vec::new()).unwrap();
        assert_eq!(
            (moved.status, moved.location.as_deref()),
            (302, Some("/download/v1/x"))
        );
        assert_eq!(
            wget_reply(Some(4), "", Vec::new()).unwrap_err(),
            Failure::Transport("wget exited with status 4 (network failure)".into())
        );
    }

    #[test]
    fn finds_curl_then_wget_on_the_path_given() {
        let dir = tempfile::tempdir().unwrap();
        let fake = |name: &str| {
            use std::os::unix::fs::PermissionsExt;
            let p = dir.path().join(name);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        let path = dir.path().as_os_str();
        assert!(
            Tool::find(path)
                .unwrap_err()
                .starts_with("neither curl nor wget is on PATH")
        );
        fake("wget");
        assert_eq!(Tool::find(path).unwrap().name(), "wget");
        fake("curl");
        assert_eq!(Tool::find(path).unwrap().name(), "curl");
    }
}
