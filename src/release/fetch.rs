//! One bounded GET of a release file, through the machine's curl (or wget), as the
//! installer downloads: https (or loopback http) on every hop, at most [`MAX_REDIRECTS`]
//! redirects (GitHub answers with one, to its asset host), each followed here and checked
//! by [`check_url`] first, a size cap enforced while reading, and retries of transport
//! failures (never of HTTP errors). Proxies are the tool's, from the environment, with
//! Juju's (`JUJU_CHARM_HTTP_PROXY` …) over the machine's as the installer sets them; a
//! loopback hop goes through none.

use super::check_url;
use crate::http::tool::{self, Failure, Request, Tool};
use anyhow::{Result, bail};
use std::time::Duration;

/// A release binary is about 5 MiB; the cap leaves room for the debug builds tests serve
/// (over 100 MiB with their debug info), and still ends an endless body.
pub(crate) const MAX_BINARY: u64 = 256 << 20;
/// `latest`, `SHA256SUMS`, `SHA256SUMS.sig`.
pub(crate) const MAX_SMALL: u64 = 1 << 20;
pub(crate) const MAX_REDIRECTS: usize = 5;
/// Tries per hop when no answer came (or the body was cut short).
const TRIES: u64 = 3;

/// GETs `url` into memory, at most `limit` bytes.
pub(crate) fn get(url: &str, what: &str, limit: u64) -> Result<Vec<u8>> {
    get_with(Tool::on_path(), url, what, limit)
}

fn get_with(tool: Result<Tool, String>, url: &str, what: &str, limit: u64) -> Result<Vec<u8>> {
    check_url(url)?;
    let fail = |why: &str| -> Result<Vec<u8>> { bail!("cannot download {what} from {url}: {why}") };
    let tool = match tool {
        Ok(tool) => tool,
        Err(why) => return fail(&why),
    };
    let env = tool::juju_proxy_env();
    let too_large = || -> Result<Vec<u8>> {
        bail!("{what} from {url} is larger than {limit} bytes: not a lucky release file")
    };
    let mut current = url.to_string();
    let mut redirects = 0;
    loop {
        let Ok(parsed) = url::Url::parse(&current) else {
            return fail(&format!("not a URL: {current}"));
        };
        let loopback = crate::http::is_loopback(&parsed);
        let request = Request {
            limit,
            timeout: Duration::from_secs(300),
            proxy: !loopback,
            plain_http: loopback && parsed.scheme() == "http",
            fail: true,
        };
        let mut attempt = 1;
        let reply = loop {
            match tool.get(&current, &request, &env) {
                Ok(reply) => break reply,
                Err(Failure::TooLarge) => return too_large(),
                Err(Failure::Tool(why)) => return fail(&why),
                Err(Failure::Transport(why)) if attempt >= TRIES => {
                    return fail(&via(&current, url, &why));
                }
                Err(Failure::Transport(_)) => {
                    std::thread::sleep(Duration::from_millis(300 * attempt));
                    attempt += 1;
                }
            }
        };
        match reply.status {
            200..=299 => return Ok(reply.body),
            301 | 302 | 303 | 307 | 308 => {
                let Some(location) = reply.location else {
                    return fail(&via(
                        &current,
                        url,
                        &format!("HTTP {} with no Location", reply.status),
                    ));
                };
                let next = match parsed.join(&location) {
                    Ok(next) => next.to_string(),
                    Err(_) => {
                        return fail(&format!("redirected to {location:?}, which is not a URL"));
                    }
                };
                if let Err(e) = check_url(&next) {
                    return fail(&format!("redirected: {e}"));
                }
                redirects += 1;
                if redirects > MAX_REDIRECTS {
                    return fail(&format!("more than {MAX_REDIRECTS} redirects"));
                }
                current = next;
            }
            status => return fail(&via(&current, url, &format!("HTTP {status}"))),
        }
    }
}

/// `why`, naming the URL it happened at when a redirect led there.
fn via(current: &str, first: &str, why: &str) -> String {
    if current == first {
        why.to_string()
    } else {
        format!("{why} (at {current})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};

    /// Answers each request with `answer(path)`, on loopback; the paths asked are logged.
    fn serve(
        answer: impl Fn(&str) -> Vec<u8> + Send + 'static,
    ) -> (String, Arc<Mutex<Vec<String>>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let origin = format!("http://{}", listener.local_addr().expect("addr"));
        let log = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&log);
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(mut conn) = conn else { continue };
                let mut request = [0u8; 4096];
                let n = conn.read(&mut request).unwrap_or(0);
                let text = String::from_utf8_lossy(&request[..n]).into_owned();
                let path = text.split_whitespace().nth(1).unwrap_or("").to_string();
                seen.lock().unwrap().push(path.clone());
                let _ = conn.write_all(&answer(&path));
            }
        });
        (origin, log)
    }

    fn tools() -> Vec<Tool> {
        let path = std::env::var_os("PATH").unwrap_or_default();
        let mut found = Vec::new();
        if let Some(p) = crate::executable::find("curl", &path) {
            found.push(Tool::Curl(p));
        }
        if let Some(p) = crate::executable::find("wget", &path) {
            found.push(Tool::Wget(p));
        }
        assert!(!found.is_empty(), "these tests need curl or wget");
        found
    }

    fn reply(head: &str, body: &[u8]) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {head}\r\nConnection: close\r\n\r\n").into_bytes();
        out.extend_from_slice(body);
        out
    }

    #[test]
    fn follows_a_relative_redirect_and_reads_the_body() {
        for tool in tools() {
            let (origin, log) = serve(|path| match path {
                "/a" => reply("302 Found\r\nLocation: /b\r\nContent-Length: 0", b""),
                _ => reply("200 OK\r\nContent-Length: 5", b"hello"),
            });
            let body = get_with(Ok(tool.clone()), &format!("{origin}/a"), "x", 100).unwrap();
            assert_eq!(body, b"hello", "{tool:?}");
            assert_eq!(*log.lock().unwrap(), ["/a", "/b"], "{tool:?}");
        }
    }

    #[test]
    fn refuses_a_redirect_to_plain_http_off_loopback() {
        for tool in tools() {
            let (origin, log) = serve(|_| {
                reply(
                    "302 Found\r\nLocation: http://example.com/x\r\nContent-Length: 0",
                    b"",
                )
            });
            let url = format!("{origin}/a");
            let err = get_with(Ok(tool.clone()), &url, "SHA256SUMS", 100)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("cannot download SHA256SUMS from {url}: redirected: refusing release URL \"http://example.com/x\"")),
                "{tool:?}: {err}"
            );
            assert_eq!(log.lock().unwrap().len(), 1, "{tool:?}");
        }
    }

    #[test]
    fn refuses_a_body_over_the_cap_with_or_without_its_length() {
        for tool in tools() {
            let (origin, _) = serve(|path| {
                let body = vec![b'x'; 5000];
                if path == "/sized" {
                    reply("200 OK\r\nContent-Length: 5000", &body)
                } else {
                    reply("200 OK", &body)
                }
            });
            for path in ["/sized", "/endless"] {
                let url = format!("{origin}{path}");
                let err = get_with(Ok(tool.clone()), &url, "SHA256SUMS", 1000)
                    .unwrap_err()
                    .to_string();
                assert_eq!(
                    err,
                    format!(
                        "SHA256SUMS from {url} is larger than 1000 bytes: not a lucky release file"
                    ),
                    "{tool:?}"
                );
            }
        }
    }

    #[test]
    fn an_http_error_is_not_retried_and_no_answer_is() {
        for tool in tools() {
            let (origin, log) = serve(|_| reply("404 Not Found\r\nContent-Length: 0", b""));
            let url = format!("{origin}/SHA256SUMS");
            let err = get_with(Ok(tool.clone()), &url, "SHA256SUMS", 100)
                .unwrap_err()
                .to_string();
            assert_eq!(
                err,
                format!("cannot download SHA256SUMS from {url}: HTTP 404"),
                "{tool:?}"
            );
            assert_eq!(log.lock().unwrap().len(), 1, "{tool:?}");

            let (origin, log) = serve(|_| Vec::new());
            let url = format!("{origin}/SHA256SUMS");
            let err = get_with(Ok(tool.clone()), &url, "SHA256SUMS", 100)
                .unwrap_err()
                .to_string();
            assert!(
                err.starts_with(&format!("cannot download SHA256SUMS from {url}: ")),
                "{err}"
            );
            assert!(!err.contains('\n'), "{err}");
            assert_eq!(log.lock().unwrap().len(), TRIES as usize, "{tool:?}");
        }
    }

    #[test]
    fn without_curl_or_wget_the_error_says_so() {
        let empty = tempfile::tempdir().unwrap();
        let url = "https://example.com/SHA256SUMS";
        let err = get_with(Tool::find(empty.path().as_os_str()), url, "SHA256SUMS", 100)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(&format!(
                "cannot download SHA256SUMS from {url}: neither curl nor wget is on PATH"
            )),
            "{err}"
        );
        assert!(!err.contains('\n'), "{err}");
    }
}
