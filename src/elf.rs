//! Is this executable statically linked? Containers Lucky starts get the `lucky` binary
//! mounted at `/usr/bin/lucky`, and a dynamically linked one finds no loader or libc in a
//! minimal image: the local runner checks the binary it mounts, and the daemon can say at
//! container apply time that container scripts need the static build.
//!
//! Only what that question needs is read: the ELF header and the program headers. A
//! binary is static when no program header is `PT_INTERP` (the dynamic loader's path).

use std::io::Read;
use std::path::Path;

/// How an executable is linked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Linkage {
    /// No interpreter: runs in any image of its architecture.
    Static,
    /// Needs the dynamic loader it names, and the libraries it loads.
    Dynamic,
}

/// The target triple of this machine's static build, as release/build.sh names it: what a
/// static lucky running here was built for.
pub(crate) fn host_static_target() -> String {
    let arch = match std::env::consts::ARCH {
        // Rust says powerpc64 for both byte orders; the release target is the little one.
        "powerpc64" if cfg!(target_endian = "little") => "powerpc64le",
        other => other,
    };
    format!("{arch}-unknown-linux-musl")
}

/// Why a file's linkage could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    /// The file could not be opened or read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// What reading failed with.
        source: std::io::Error,
    },
    /// The file is not a 64-bit ELF file (a script, a 32-bit binary).
    #[error("{path} is not a 64-bit ELF executable")]
    NotElf64 {
        /// The file.
        path: String,
    },
    /// The program headers are not where a normal executable has them.
    #[error("{path}: its program headers lie past the first {HEAD_BYTES} bytes")]
    Truncated {
        /// The file.
        path: String,
    },
}

/// The ELF header and program headers sit at the start of the file: 64 KiB hold them
/// for any binary a linker writes.
const HEAD_BYTES: usize = 64 * 1024;
const PT_INTERP: u32 = 3;

/// Reads whether `path` is a static or a dynamic 64-bit ELF executable (either byte
/// order: s390x is big-endian).
pub fn linkage(path: &Path) -> Result<Linkage, ElfError> {
    let shown = || path.display().to_string();
    let mut head = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(HEAD_BYTES as u64).read_to_end(&mut head))
        .map_err(|source| ElfError::Read {
            path: shown(),
            source,
        })?;
    linkage_of(&head).map_err(|e| match e {
        HeadError::NotElf64 => ElfError::NotElf64 { path: shown() },
        HeadError::Truncated => ElfError::Truncated { path: shown() },
    })
}

/// True for a static executable; false for a dynamic one or anything unreadable.
pub(crate) fn is_static(path: &Path) -> bool {
    matches!(linkage(path), Ok(Linkage::Static))
}

enum HeadError {
    NotElf64,
    Truncated,
}

fn linkage_of(head: &[u8]) -> Result<Linkage, HeadError> {
    // e_ident: magic, class 2 (64-bit), data 1 (little-endian) or 2 (big-endian).
    if head.len() < 64 || &head[..4] != b"\x7fELF" || head[4] != 2 {
        return Err(HeadError::NotElf64);
    }
    let big_endian = match head[5] {
        1 => false,
        2 => true,
        _ => return Err(HeadError::NotElf64),
    };
    let bytes = |at: usize, n: usize| head.get(at..at + n).ok_or(HeadError::Truncated);
    let uint = |at: usize, n: usize| -> Result<u64, HeadError> {
        let b = bytes(at, n)?;
        let fold = |acc: u64, byte: &u8| acc << 8 | u64::from(*byte);
        Ok(if big_endian {
            b.iter().fold(0, fold)
        } else {
            b.iter().rev().fold(0, fold)
        })
    };
    let phoff = usize::try_from(uint(0x20, 8)?).map_err(|_| HeadError::Truncated)?;
    let phentsize = uint(0x36, 2)? as usize;
    let phnum = uint(0x38, 2)? as usize;
    for i in 0..phnum {
        let at = i
            .checked_mul(phentsize)
            .and_then(|o| o.checked_add(phoff))
            .ok_or(HeadError::Truncated)?;
        if uint(at, 4)? == u64::from(PT_INTERP) {
            return Ok(Linkage::Dynamic);
        }
    }
    Ok(Linkage::Static)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal 64-bit ELF head with the given program header types.
    fn head(big_endian: bool, types: &[u32]) -> Vec<u8> {
        let mut h = vec![0u8; 64 + 56 * types.len()];
        h[..4].copy_from_slice(b"\x7fELF");
        h[4] = 2;
        h[5] = if big_endian { 2 } else { 1 };
        let put = |h: &mut Vec<u8>, at: usize, v: u64, n: usize| {
            let b = if big_endian {
                v.to_be_bytes()[8 - n..].to_vec()
            } else {
                v.to_le_bytes()[..n].to_vec()
            };
            h[at..at + n].copy_from_slice(&b);
        };
        put(&mut h, 0x20, 64, 8);
        put(&mut h, 0x36, 56, 2);
        put(&mut h, 0x38, types.len() as u64, 2);
        for (i, t) in types.iter().enumerate() {
            put(&mut h, 64 + 56 * i, u64::from(*t), 4);
        }
        h
    }

    #[test]
    fn an_interpreter_header_means_dynamic_in_either_byte_order() {
        for be in [false, true] {
            assert!(matches!(
                linkage_of(&head(be, &[6, 3, 1])),
                Ok(Linkage::Dynamic)
            ));
            assert!(matches!(
                linkage_of(&head(be, &[1, 1, 4])),
                Ok(Linkage::Static)
            ));
        }
    }

    #[test]
    fn not_elf_or_cut_short_is_an_error_not_static() {
        assert!(matches!(
            linkage_of(b"#!/bin/sh\necho hi\n"),
            Err(HeadError::NotElf64)
        ));
        let mut cut = head(false, &[1, 3]);
        cut.truncate(64 + 56 + 2);
        assert!(matches!(linkage_of(&cut), Err(HeadError::Truncated)));
    }

    #[test]
    fn real_binaries_on_this_machine() {
        // busybox-static is what the tests' images are made of; /bin/sh is dash or bash.
        assert_eq!(
            linkage(Path::new("/bin/busybox")).ok(),
            Some(Linkage::Static)
        );
        assert_eq!(linkage(Path::new("/bin/sh")).ok(), Some(Linkage::Dynamic));
        let err = linkage(Path::new("/nonexistent/lucky")).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot read /nonexistent/lucky")
        );
    }
}
