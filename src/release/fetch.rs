//! One bounded GET of a release file: https (or loopback http) on every hop, at most
//! [`MAX_REDIRECTS`] redirects (GitHub answers with one, to its asset host), a size cap
//! enforced while reading, and retries of transport failures (never of HTTP errors).

use super::check_url;
use anyhow::{Context, Result, bail};
use std::time::Duration;

/// A release binary is about 5 MiB; the cap leaves room for the debug builds tests serve
/// (over 100 MiB with their debug info), and still ends an endless body.
pub(crate) const MAX_BINARY: u64 = 256 << 20;
/// `latest`, `SHA256SUMS`, `SHA256SUMS.sig`.
pub(crate) const MAX_SMALL: u64 = 1 << 20;
pub(crate) const MAX_REDIRECTS: usize = 5;

/// GETs `url` into memory, at most `limit` bytes.
pub(crate) fn get(url: &str, what: &str, limit: u64) -> Result<Vec<u8>> {
    use std::io::Read;
    check_url(url)?;
    // reqwest is built without a default crypto provider: install ring's, here only, so
    // no other command pays for it. Already installed is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(60))
        .redirect(reqwest::redirect::Policy::custom(|attempt| {
            // `previous` holds the first URL too: n URLs behind means n - 1 redirects.
            if attempt.previous().len() > MAX_REDIRECTS {
                return attempt.error(format!("more than {MAX_REDIRECTS} redirects"));
            }
            match check_url(attempt.url().as_str()) {
                Ok(()) => attempt.follow(),
                Err(e) => attempt.error(format!("redirected: {e}")),
            }
        }))
        .build()
        .context("cannot set up the HTTPS client")?;
    let mut attempt = 0;
    loop {
        match client.get(url).send().and_then(|r| r.error_for_status()) {
            Ok(response) => {
                if response.content_length().is_some_and(|n| n > limit) {
                    bail!(
                        "{what} from {url} is larger than {limit} bytes: not a lucky release file"
                    );
                }
                let mut body = Vec::new();
                response
                    .take(limit + 1)
                    .read_to_end(&mut body)
                    .with_context(|| format!("cannot download {what} from {url}"))?;
                if body.len() as u64 > limit {
                    bail!(
                        "{what} from {url} is larger than {limit} bytes: not a lucky release file"
                    );
                }
                return Ok(body);
            }
            Err(e) if e.is_redirect() => {
                bail!("cannot download {what} from {url}: {}", error_chain(&e))
            }
            Err(e) if e.status().is_none() && attempt < 2 => {
                attempt += 1;
                std::thread::sleep(Duration::from_millis(300 * attempt));
            }
            Err(e) => bail!("cannot download {what} from {url}: {}", error_chain(&e)),
        }
    }
}

/// reqwest's message and its causes on one line (its Display stops at the first).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
