//! Fetches the pages the unit's containers serve on loopback, to show them in the
//! summary as a user would see them in a browser.
//!
//! Plain http over hyper (`crate::http`), straight to loopback: no proxy stands in
//! between.

use super::error::RunError;

use std::time::{Duration, Instant};

/// How long a server that just started may take to answer.
const STARTUP_GRACE: Duration = Duration::from_secs(5);

/// `GET http://127.0.0.1:<port>/`: (status, the page's text in one short line), retried
/// while the server starts.
pub(super) fn fetch_page(port: u16) -> Result<(String, String), RunError> {
    fetch_within(port, STARTUP_GRACE)
}

fn fetch_within(port: u16, grace: Duration) -> Result<(String, String), RunError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a runtime: {e}"))?;
    let url = format!("http://127.0.0.1:{port}/");
    let deadline = Instant::now() + grace;
    loop {
        match rt.block_on(crate::http::get(&url, 64 << 10, Duration::from_secs(5))) {
            Ok(answer) => {
                let body = String::from_utf8_lossy(&answer.body);
                return Ok((answer.status.to_string(), text_of(&body)));
            }
            Err(e) if Instant::now() >= deadline => {
                // The summary names the URL already.
                let prefix = format!("GET {url}: ");
                return Err(e.strip_prefix(&prefix).unwrap_or(&e).to_string().into());
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// The text of an HTML page, tags dropped, in one short quoted line.
fn text_of(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    let body = html.split_once("<body>").map_or(html, |(_, b)| b);
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    let words = out.split_whitespace().collect::<Vec<_>>().join(" ");
    let short: String = words.chars().take(80).collect();
    format!("\"{short}\"")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn page_text_drops_tags_and_keeps_one_line() {
        assert_eq!(
            text_of("<html><body><h1>Hi &amp; you</h1>\n</body></html>"),
            "\"Hi &amp; you\""
        );
        assert_eq!(text_of(&"word ".repeat(40)).chars().count(), 82);
    }

    #[test]
    fn fetches_a_page_served_on_loopback_and_names_a_refusal() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = std::thread::spawn(move || {
            let (mut conn, _) = listener.accept().expect("accept");
            let mut request = [0u8; 1024];
            let _ = conn.read(&mut request);
            let body = "<html><body><h1>Served</h1></body></html>";
            let _ = write!(
                conn,
                "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            );
        });
        assert_eq!(
            fetch_page(port).map_err(|e| e.to_string()),
            Ok(("200 OK".to_string(), "\"Served\"".to_string()))
        );
        server.join().expect("server");
        // Nothing listens there any more: the error says why, after the grace period.
        let err = fetch_within(port, Duration::from_millis(300))
            .unwrap_err()
            .to_string();
        assert!(err.to_lowercase().contains("refused"), "{err}");
    }
}
