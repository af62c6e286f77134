//! HTTP GETs with no TLS stack in lucky: plain `http://` to the unit's own workload over
//! hyper's HTTP/1.1 client (compiled in anyway for Docker's API over its socket), and
//! whatever needs TLS or a proxy through the machine's `curl` (or `wget`), the tools the
//! installer downloads lucky with (see [`tool`]).
//!
//! Users: the health checks' `http` probe (`daemon::checks`), `charm run`'s page probe
//! (`run::probe`) and the release downloads (`release::fetch`).

pub(crate) mod tool;

use http_body_util::BodyExt;
use hyper_util::rt::TokioIo;
use std::time::Duration;

/// A response: its status and the first bytes of its body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: hyper::StatusCode,
    pub(crate) body: Vec<u8>,
}

/// `GET url` for an `http://` URL, straight to the host (no proxy: this probes the unit's
/// own workload), no redirect followed, within `timeout`; at most `limit` bytes of the
/// body are kept (reading stops there). Errors are one line: `GET <url>: <why>`.
pub(crate) async fn get(url: &str, limit: usize, timeout: Duration) -> Result<Answer, String> {
    match tokio::time::timeout(timeout, get_unbounded(url, limit)).await {
        Ok(answer) => answer.map_err(|why| format!("GET {url}: {why}")),
        Err(_) => Err(format!("GET {url}: no answer within {timeout:?}")),
    }
}

async fn get_unbounded(url: &str, limit: usize) -> Result<Answer, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("invalid URL: {e}"))?;
    if parsed.scheme() != "http" {
        return Err("not an http:// URL".into());
    }
    let port = parsed.port_or_known_default().unwrap_or(80);
    let stream = match parsed.host() {
        Some(url::Host::Domain(name)) => tokio::net::TcpStream::connect((name, port)).await,
        Some(url::Host::Ipv4(ip)) => tokio::net::TcpStream::connect((ip, port)).await,
        Some(url::Host::Ipv6(ip)) => tokio::net::TcpStream::connect((ip, port)).await,
        None => return Err("the URL has no host".into()),
    }
    .map_err(|e| e.to_string())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let authority = match parsed.port() {
        Some(p) => format!("{}:{p}", parsed.host_str().unwrap_or_default()),
        None => parsed.host_str().unwrap_or_default().to_string(),
    };
    let path = &parsed[url::Position::BeforePath..url::Position::AfterQuery];
    let request = hyper::Request::get(if path.is_empty() { "/" } else { path })
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONNECTION, "close")
        .header(hyper::header::USER_AGENT, "lucky")
        .body(http_body_util::Empty::<hyper::body::Bytes>::new())
        .map_err(|e| format!("invalid request: {e}"))?;
    let exchange = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| innermost(&e))?;
        let status = response.status();
        let mut body = response.into_body();
        let mut kept = Vec::new();
        while kept.len() < limit {
            match body.frame().await {
                None => break,
                Some(Err(e)) => return Err(innermost(&e)),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        let room = limit - kept.len();
                        kept.extend_from_slice(&data[..data.len().min(room)]);
                    }
                }
            }
        }
        Ok(Answer { status, body: kept })
    };
    // The connection is driven here rather than on a task of its own, so that nothing
    // outlives a timed-out probe. When it ends first, the exchange still has what it read.
    tokio::pin!(exchange, connection);
    tokio::select! {
        answer = &mut exchange => answer,
        done = &mut connection => match done {
            Ok(()) => exchange.await,
            Err(e) => Err(innermost(&e)),
        },
    }
}

/// The innermost cause ("Connection reset by peer"), not the wrappers' text.
fn innermost(e: &dyn std::error::Error) -> String {
    let mut cause = e;
    while let Some(inner) = cause.source() {
        cause = inner;
    }
    cause.to_string()
}

/// True when `url`'s host is loopback (`localhost`, 127.0.0.0/8, `[::1]`): traffic that
/// never leaves the machine, which no proxy may stand in the way of.
pub(crate) fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn serve_once(reply: &'static [u8]) -> (u16, std::thread::JoinHandle<String>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().expect("accept");
            let mut request = [0u8; 1024];
            let n = conn.read(&mut request).unwrap_or(0);
            let _ = conn.write_all(reply);
            String::from_utf8_lossy(&request[..n]).into_owned()
        });
        (port, server)
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(f)
    }

    #[test]
    fn gets_status_and_a_capped_body_over_http1() {
        let (port, server) = serve_once(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 11\r\n\r\nhello world",
        );
        let url = format!("http://127.0.0.1:{port}/health?x=1");
        let answer = block_on(get(&url, 5, Duration::from_secs(5))).expect("answer");
        assert_eq!(answer.status.as_u16(), 503);
        assert_eq!(answer.body, b"hello");
        let request = server.join().expect("server");
        assert!(
            request.starts_with("GET /health?x=1 HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(
            request
                .to_lowercase()
                .contains(&format!("host: 127.0.0.1:{port}")),
            "{request}"
        );
    }

    #[test]
    fn a_refused_connection_and_a_silent_server_are_one_line_errors() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("port")
            .port();
        let url = format!("http://127.0.0.1:{port}/");
        let err = block_on(get(&url, 10, Duration::from_secs(5))).unwrap_err();
        assert!(err.starts_with(&format!("GET {url}: ")), "{err}");
        assert!(err.to_lowercase().contains("refused"), "{err}");

        let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/", silent.local_addr().expect("addr"));
        let err = block_on(get(&url, 10, Duration::from_millis(200))).unwrap_err();
        assert!(err.contains("no answer within"), "{err}");
        assert!(!err.contains('\n'), "{err}");
    }

    #[test]
    fn loopback_hosts() {
        for (url, yes) in [
            ("http://localhost:1/", true),
            ("http://127.0.0.2/", true),
            ("http://[::1]/", true),
            ("http://10.0.0.1/", false),
            ("https://example.com/", false),
        ] {
            let parsed = url::Url::parse(url).expect("url");
            assert_eq!(is_loopback(&parsed), yes, "{url}");
        }
    }
}
