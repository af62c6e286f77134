//! Trust for a release: the ed25519 public key, the signature over `SHA256SUMS`, and the
//! binary's SHA-256 against its line there.

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

/// The key releases are signed with, baked in at build time from `LUCKY_RELEASE_PUBKEY`
/// (the PEM of `openssl pkey -pubout`, a file holding it, or the raw 32-byte key in
/// base64), which build.rs passes on as one base64 line.
const BAKED_KEY: Option<&str> = option_env!("LUCKY_BUILD_RELEASE_PUBKEY");

/// The release key built into this binary, if any.
pub(crate) fn built_in_key() -> Option<Result<[u8; 32]>> {
    BAKED_KEY.filter(|t| !t.trim().is_empty()).map(|text| {
        parse_public_key(text)
            .context("the release key built into this lucky is not an ed25519 public key")
    })
}

/// DER prefix of an ed25519 SubjectPublicKeyInfo (RFC 8410): SEQUENCE { SEQUENCE { OID
/// 1.3.101.112 }, BIT STRING (0 unused bits) }, then the 32 key bytes.
const ED25519_SPKI_PREFIX: [u8; 12] = [
    0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
];

/// What signatures are checked against.
pub(crate) enum Trust {
    /// The key, and where it came from (for messages).
    Key([u8; 32], String),
    /// No key configured and `LUCKY_INSECURE_SKIP_SIGNATURE=1`: checksums only.
    Insecure,
}

/// `LUCKY_RELEASE_PUBKEY_FILE` (a runtime override), else the baked-in key; with neither,
/// refuse unless `LUCKY_INSECURE_SKIP_SIGNATURE=1`.
pub(crate) fn trusted_key() -> Result<Trust> {
    if let Some(file) = std::env::var_os("LUCKY_RELEASE_PUBKEY_FILE").filter(|f| !f.is_empty()) {
        let text = std::fs::read_to_string(&file).with_context(|| {
            format!(
                "cannot read LUCKY_RELEASE_PUBKEY_FILE {}",
                std::path::Path::new(&file).display()
            )
        })?;
        let key = parse_public_key(&text).with_context(|| {
            format!(
                "LUCKY_RELEASE_PUBKEY_FILE {} is not an ed25519 public key",
                std::path::Path::new(&file).display()
            )
        })?;
        return Ok(Trust::Key(
            key,
            format!("the key in {}", std::path::Path::new(&file).display()),
        ));
    }
    if let Some(key) = built_in_key() {
        return Ok(Trust::Key(key?, "the built-in release key".into()));
    }
    if std::env::var("LUCKY_INSECURE_SKIP_SIGNATURE").as_deref() == Ok("1") {
        return Ok(Trust::Insecure);
    }
    bail!(
        "no release public key: this lucky was built without LUCKY_RELEASE_PUBKEY; set \
         LUCKY_RELEASE_PUBKEY_FILE to the release's public key (or LUCKY_INSECURE_SKIP_SIGNATURE=1 \
         to trust checksums alone)"
    )
}

/// A PEM `PUBLIC KEY` (ed25519 SubjectPublicKeyInfo) or the raw key in base64.
pub(crate) fn parse_public_key(text: &str) -> Result<[u8; 32]> {
    let body: String = if text.contains("-----BEGIN") {
        let mut inside = false;
        let mut body = String::new();
        for line in text.lines().map(str::trim) {
            if line.starts_with("-----BEGIN") {
                if line != "-----BEGIN PUBLIC KEY-----" {
                    bail!("expected a PEM PUBLIC KEY block, found {line}");
                }
                inside = true;
            } else if line.starts_with("-----END") {
                break;
            } else if inside {
                body.push_str(line);
            }
        }
        body
    } else {
        text.split_whitespace().collect()
    };
    let der = base64_decode(&body).context("bad base64")?;
    if der.len() == 32 {
        return Ok(der.try_into().expect("32 bytes"));
    }
    match der.strip_prefix(&ED25519_SPKI_PREFIX[..]) {
        Some(key) if key.len() == 32 => Ok(key.try_into().expect("32 bytes")),
        _ => bail!(
            "not an ed25519 key ({} bytes; expected a 44-byte SubjectPublicKeyInfo or 32 raw bytes)",
            der.len()
        ),
    }
}

/// The key as `openssl pkey -pubout` writes it: what the installer's openssl reads.
pub(crate) fn public_key_pem(key: &[u8; 32]) -> String {
    let mut der = ED25519_SPKI_PREFIX.to_vec();
    der.extend_from_slice(key);
    format!(
        "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
        base64_encode(&der)
    )
}

pub(crate) fn base64_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

pub(crate) fn base64_decode(text: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in text.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => bail!("invalid character {:?}", c as char),
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Ok(out)
}

/// Checks `sig` (64 raw bytes, as `openssl pkeyutl -sign -rawin` writes) over `sums`.
pub(crate) fn verify_signature(key: &[u8; 32], sums: &[u8], sig: &[u8]) -> Result<()> {
    if sig.len() != 64 {
        bail!(
            "SHA256SUMS.sig is {} bytes, not a 64-byte ed25519 signature",
            sig.len()
        );
    }
    ring::signature::UnparsedPublicKey::new(&ring::signature::ED25519, key)
        .verify(sums, sig)
        .map_err(|_| anyhow::anyhow!("bad signature: SHA256SUMS.sig does not verify"))
}

/// The lowercase hex SHA-256 `SHA256SUMS` lists for `name`.
pub(crate) fn expected_sha256(sums: &str, name: &str) -> Result<String> {
    for line in sums.lines() {
        let Some((hash, file)) = line.split_once(char::is_whitespace) else {
            continue;
        };
        // `sha256sum` writes "<hash>  <name>" (text) or "<hash> *<name>" (binary).
        let file = file.trim_start_matches(' ').trim_start_matches('*');
        if file == name {
            if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
                bail!("SHA256SUMS has a malformed checksum for {name}");
            }
            return Ok(hash.to_ascii_lowercase());
        }
    }
    bail!("SHA256SUMS lists no {name}: this release has no binary for this target")
}

pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_openssl_pem_and_raw_base64() {
        // `openssl genpkey -algorithm ed25519 | openssl pkey -pubout`
        let pem = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
        let key = parse_public_key(pem).unwrap();
        assert_eq!(key[0], 0x19);
        assert_eq!(key[31], 0xe1);
        let raw = "Gb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=";
        assert_eq!(parse_public_key(raw).unwrap(), key);
        assert!(
            parse_public_key("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----")
                .is_err()
        );
        assert!(parse_public_key("AAAA").is_err());
    }

    #[test]
    fn writes_the_pem_openssl_writes() {
        let pem = "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----\n";
        assert_eq!(public_key_pem(&parse_public_key(pem).unwrap()), pem);
    }

    #[test]
    fn finds_checksum_lines() {
        let h = "a".repeat(64);
        let sums = format!("{h}  lucky-1-x\n{h} *lucky-1-y\n");
        assert_eq!(expected_sha256(&sums, "lucky-1-x").unwrap(), h);
        assert_eq!(expected_sha256(&sums, "lucky-1-y").unwrap(), h);
        assert!(expected_sha256(&sums, "lucky-1-z").is_err());
    }
}
