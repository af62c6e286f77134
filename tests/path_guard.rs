//! release/path-guard.sh, which release/build.sh runs on every binary it ships: it must
//! catch a build-machine path wherever one hides, and pass a binary that holds none.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn guard(file: &Path, home: &Path) -> Output {
    Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("release/path-guard.sh"))
        .arg(file)
        .env("HOME", home)
        .env_remove("CARGO_HOME")
        .env_remove("RUSTUP_HOME")
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .expect("run release/path-guard.sh")
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn file_with(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    let mut bytes = vec![0u8, 1, 2, 0x7f];
    bytes.extend_from_slice(text.as_bytes());
    bytes.extend_from_slice(&[0, 0xff]);
    std::fs::write(&path, bytes).expect("write");
    path
}

#[test]
fn the_debug_build_is_refused_for_the_checkout_path_its_debug_info_holds() {
    let home = tempfile::tempdir().expect("home");
    let out = guard(Path::new(env!("CARGO_BIN_EXE_lucky")), home.path());
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stderr(&out);
    assert!(text.contains("contains build-machine paths"), "{text}");
    assert!(
        text.contains(&format!("checkout {}", env!("CARGO_MANIFEST_DIR"))),
        "{text}"
    );
}

#[test]
fn home_user_folders_and_clean_files() {
    let dir = tempfile::tempdir().expect("dir");
    let home = dir.path().join("builder-home");
    let leaky = file_with(
        dir.path(),
        "home.bin",
        &format!("panicked at {}/src/lib.rs:1", home.display()),
    );
    let out = guard(&leaky, &home);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains(&format!("HOME {}/", home.display())));

    let user = String::from_utf8(
        Command::new("id")
            .arg("-un")
            .output()
            .expect("id -un")
            .stdout,
    )
    .expect("utf-8 user name");
    let user = user.trim();
    let leaky = file_with(dir.path(), "user.bin", &format!("/srv/{user}/work/x.rs"));
    let out = guard(&leaky, &home);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(&format!("user /{user}/")),
        "{}",
        stderr(&out)
    );

    // The user name as a plain word, and paths of no build machine, are fine.
    let clean = file_with(
        dir.path(),
        "clean.bin",
        &format!("hello {user} /usr/lib/os-release /run/lucky"),
    );
    let out = guard(&clean, &home);
    assert!(out.status.success(), "{}", stderr(&out));
    // A missing file is an error, never a pass.
    let out = guard(&dir.path().join("absent"), &home);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
}
