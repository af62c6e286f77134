//! The packed charm: the build folder as a `.charm` zip, laid out as charmcraft packs it
//! (the folder's tree at the root, `manifest.yaml` among it), the only form Juju 4 deploys.
//!
//! Why a small stored-zip writer and not the `zip` crate: a `.charm` needs nothing but
//! stored entries, Unix modes (so `dispatch` and `hooks/*` stay executable) and a CRC-32,
//! about 150 lines here, whereas the `zip` crate brings deflate and its option set into
//! every unit's binary, which has a 5 MiB budget. Stored (uncompressed) entries cost
//! size on disk, not correctness: Juju and every unzip read them, and the bulk of a charm
//! (bundled lucky binaries) hardly compresses anyway. Entries are written in sorted order
//! with a fixed timestamp, so the same folder always packs to the same bytes.

use super::error::CharmError;

use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path};

/// 1980-01-01 00:00:00, the earliest MS-DOS time: fixed for reproducible packs.
const DOS_DATE: u16 = (1 << 5) | 1;
const DOS_TIME: u16 = 0;
/// Zip 2.0, made on Unix (so readers take the mode from the external attributes).
const VERSION_MADE_BY: u16 = (3 << 8) | 20;
const VERSION_NEEDED: u16 = 20;
/// General purpose flag bit 11: names are UTF-8.
const FLAG_UTF8: u16 = 1 << 11;
const S_IFREG: u32 = 0o100000;
const S_IFDIR: u32 = 0o040000;
const S_IFLNK: u32 = 0o120000;
/// MS-DOS directory attribute, for readers that ignore the Unix mode.
const DOS_DIR: u32 = 0x10;

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), table built at compile time.
const CRC_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

pub(crate) fn crc32(bytes: &[u8]) -> u32 {
    let mut c = !0u32;
    for b in bytes {
        c = CRC_TABLE[((c ^ *b as u32) & 0xff) as usize] ^ (c >> 8);
    }
    !c
}

struct Entry {
    /// Path inside the archive, `/`-separated; folders end with `/`.
    name: String,
    mode: u32,
    data: Vec<u8>,
}

/// Packs the tree under `root` into a zip at `dest`, written beside it and renamed into
/// place so a failed pack never leaves half a `.charm`. Returns the archive's size.
pub(crate) fn pack(root: &Path, dest: &Path) -> Result<u64, CharmError> {
    let mut entries = Vec::new();
    collect(root, root, &mut entries)?;
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    let bytes = zip_bytes(&entries).map_err(|e| CharmError::io("pack", root, e))?;
    crate::state::write_atomic(dest, &bytes).map_err(|e| e.to_string())?;
    // Readable by whoever deploys it, whatever the builder's umask.
    std::fs::set_permissions(dest, std::fs::Permissions::from_mode(0o644))
        .map_err(|e| CharmError::io("chmod", dest, e))?;
    Ok(bytes.len() as u64)
}

fn collect(root: &Path, dir: &Path, out: &mut Vec<Entry>) -> Result<(), CharmError> {
    let read = std::fs::read_dir(dir).map_err(|e| CharmError::io("read", dir, e))?;
    for entry in read {
        let entry = entry.map_err(|e| CharmError::io("read", dir, e))?;
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .map_err(|_| format!("cannot pack {}: outside {}", path.display(), root.display()))?;
        let name = rel
            .to_str()
            .ok_or_else(|| format!("cannot pack {}: the name is not UTF-8", path.display()))?
            .to_string();
        let meta =
            std::fs::symlink_metadata(&path).map_err(|e| CharmError::io("read", &path, e))?;
        let perm = meta.permissions().mode() & 0o7777;
        if meta.file_type().is_symlink() {
            let target =
                std::fs::read_link(&path).map_err(|e| CharmError::io("read link", &path, e))?;
            check_link(rel, &target).map_err(|why| {
                format!(
                    "cannot pack {}: it links to {} {why}; Juju refuses such a charm (copy the file in instead)",
                    path.display(),
                    target.display()
                )
            })?;
            out.push(Entry {
                name,
                mode: S_IFLNK | 0o777,
                data: target.to_string_lossy().into_owned().into_bytes(),
            });
        } else if meta.is_dir() {
            out.push(Entry {
                name: format!("{name}/"),
                mode: S_IFDIR | perm,
                data: Vec::new(),
            });
            collect(root, &path, out)?;
        } else if meta.is_file() {
            let data = std::fs::read(&path).map_err(|e| CharmError::io("read", &path, e))?;
            out.push(Entry {
                name,
                mode: S_IFREG | perm,
                data,
            });
        }
    }
    Ok(())
}

/// A link inside the charm must stay inside it once unpacked.
fn check_link(rel: &Path, target: &Path) -> Result<(), &'static str> {
    if target.is_absolute() {
        return Err("(an absolute path)");
    }
    let mut depth: i64 = rel.components().count() as i64 - 1;
    for c in target.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            _ => {}
        }
        if depth < 0 {
            return Err("(outside the charm)");
        }
    }
    Ok(())
}

fn u16_of(n: usize, what: &str) -> std::io::Result<u16> {
    u16::try_from(n).map_err(|_| std::io::Error::other(format!("too many {what} for a zip")))
}

fn u32_of(n: usize, what: &str) -> std::io::Result<u32> {
    u32::try_from(n).map_err(|_| std::io::Error::other(format!("{what} is over 4 GiB")))
}

fn zip_bytes(entries: &[Entry]) -> std::io::Result<Vec<u8>> {
    let mut out: Vec<u8> = Vec::new();
    let mut central: Vec<u8> = Vec::new();
    for e in entries {
        let offset = u32_of(out.len(), "the charm")?;
        let crc = crc32(&e.data);
        let size = u32_of(e.data.len(), &e.name)?;
        let name_len = u16_of(e.name.len(), "characters in a name")?;
        // Local file header.
        out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
        for v in [VERSION_NEEDED, FLAG_UTF8, 0, DOS_TIME, DOS_DATE] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc, size, size] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes());
        out.extend_from_slice(e.name.as_bytes());
        out.extend_from_slice(&e.data);
        // Its central directory record.
        central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
        for v in [
            VERSION_MADE_BY,
            VERSION_NEEDED,
            FLAG_UTF8,
            0,
            DOS_TIME,
            DOS_DATE,
        ] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        for v in [crc, size, size] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        // name length, extra, comment, disk number, internal attributes
        for v in [name_len, 0, 0, 0, 0] {
            central.extend_from_slice(&v.to_le_bytes());
        }
        let dos = if e.mode & 0o170000 == S_IFDIR {
            DOS_DIR
        } else {
            0
        };
        central.extend_from_slice(&((e.mode << 16) | dos).to_le_bytes());
        central.extend_from_slice(&offset.to_le_bytes());
        central.extend_from_slice(e.name.as_bytes());
    }
    let count = u16_of(entries.len(), "files")?;
    let cd_offset = u32_of(out.len(), "the charm")?;
    let cd_size = u32_of(central.len(), "the zip's directory")?;
    out.extend_from_slice(&central);
    // End of central directory.
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, count, count] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out.extend_from_slice(&cd_size.to_le_bytes());
    out.extend_from_slice(&cd_offset.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_matches_the_standard_check_value() {
        // The check value every CRC-32/IEEE implementation gives for "123456789".
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn links_must_stay_inside() {
        assert!(check_link(Path::new("a/b"), Path::new("../c")).is_ok());
        assert!(check_link(Path::new("a/b"), Path::new("../../c")).is_err());
        assert!(check_link(Path::new("b"), Path::new("/etc/passwd")).is_err());
    }
}
