//! `lucky-doc completions bash|zsh|fish` and `lucky-doc man`: rendered from lucky's clap
//! definitions, loaded by the real shells and by man, covering every visible command.

use clap::CommandFactory;
use std::process::{Command, Output};

const LUCKY_DOC: &str = env!("CARGO_BIN_EXE_lucky-doc");

fn lucky_doc(args: &[&str]) -> Output {
    Command::new(LUCKY_DOC)
        .args(args)
        .output()
        .expect("run lucky-doc")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("utf-8")
}

/// Every command a user can type first (hidden ones, like `doc`, excluded).
fn visible_commands() -> Vec<String> {
    lucky::cli::Cli::command()
        .get_subcommands()
        .filter(|c| !c.is_hide_set())
        .map(|c| c.get_name().to_string())
        .collect()
}

/// Runs `script` in `shell` (which tests/run.sh installs).
fn shell(shell: &str, args: &[&str]) -> String {
    let out = Command::new(shell)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {shell} (tests/run.sh installs it): {e}"));
    assert!(
        out.status.success(),
        "{shell} {args:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write_temp(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("write");
    path.to_string_lossy().into_owned()
}

/// What bash's completion function offers for the words typed so far.
fn bash_complete(script: &str, words: &str) -> Vec<String> {
    let probe = format!(
        r#"source "{script}"
COMP_WORDS=({words}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
COMP_LINE="{words}"; COMP_POINT=${{#COMP_LINE}}
_lucky lucky "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\n' "${{COMPREPLY[@]}}""#
    );
    shell("bash", &["-c", &probe])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn bash_completes_commands_and_their_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = write_temp(
        &dir,
        "lucky.bash",
        &ok(&lucky_doc(&["completions", "bash"])),
    );
    let registered = shell(
        "bash",
        &["-c", &format!("source {script}; complete -p lucky")],
    );
    assert!(registered.contains("-F _lucky"), "{registered}");
    let top = bash_complete(&script, "lucky ''");
    for command in visible_commands() {
        assert!(top.contains(&command), "{command} not offered: {top:?}");
    }
    assert_eq!(bash_complete(&script, "lucky hist"), ["history"]);
    let flags = bash_complete(&script, "lucky history --f");
    assert_eq!(flags, ["--failed", "--format"]);
    let kv = bash_complete(&script, "lucky kv ''");
    assert!(
        ["get", "set"].iter().all(|c| kv.contains(&c.to_string())),
        "{kv:?}"
    );
}

#[test]
fn zsh_and_fish_load_their_completions() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zsh = ok(&lucky_doc(&["completions", "zsh"]));
    assert!(
        zsh.starts_with("#compdef lucky\n"),
        "{}",
        &zsh[..80.min(zsh.len())]
    );
    let zsh_file = write_temp(&dir, "_lucky", &zsh);
    shell("zsh", &["-n", &zsh_file]);
    let fish = ok(&lucky_doc(&["completions", "fish"]));
    let fish_file = write_temp(&dir, "lucky.fish", &fish);
    shell("fish", &["--no-execute", &fish_file]);
    // fish can say what it would complete, which shows the script is the CLI's.
    let offered = shell(
        "fish",
        &["-c", &format!("source {fish_file}; complete -C 'lucky '")],
    );
    let offered: Vec<&str> = offered
        .lines()
        .map(|l| l.split('\t').next().unwrap_or_default())
        .collect();
    for command in visible_commands() {
        assert!(
            offered.contains(&command.as_str()),
            "{command}: {offered:?}"
        );
        assert!(
            zsh.contains(&format!("'{command}:")),
            "{command} missing from zsh"
        );
    }
}

#[test]
fn the_man_page_renders_and_lists_every_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = ok(&lucky_doc(&["man"]));
    assert!(
        page.contains(".TH lucky 1"),
        "{}",
        &page[..200.min(page.len())]
    );
    let file = write_temp(&dir, "lucky.1", &page);
    let rendered = Command::new("man")
        .args(["-l", &file])
        .env("MANWIDTH", "100")
        .env_remove("MAN_KEEP_FORMATTING")
        .env("MANPAGER", "cat")
        .output()
        .expect("man");
    let rendered = ok(&rendered);
    assert!(rendered.contains("NAME"), "{rendered}");
    for command in visible_commands() {
        assert!(
            rendered.contains(&format!("lucky-{command}(1)")),
            "{command} missing from the man page:\n{rendered}"
        );
    }

    // One page per command, for packagers.
    let pages = dir.path().join("pages");
    std::fs::create_dir(&pages).expect("mkdir");
    ok(&lucky_doc(&["man", "--dir", &pages.to_string_lossy()]));
    let show = std::fs::read_to_string(pages.join("lucky-history-show.1")).expect("a page");
    assert!(show.contains("The run\\*(Aqs id"), "{show}");
    assert!(pages.join("lucky-hook.1").exists() && pages.join("lucky.1").exists());
}

#[test]
fn an_unknown_shell_or_a_missing_folder_is_refused_in_one_line() {
    let out = lucky_doc(&["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("'tcsh'") && err.contains("bash"), "{err}");
    let out = lucky_doc(&["man", "--dir", "/nonexistent/lucky-man"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("lucky-doc: cannot write the man pages into /nonexistent/lucky-man: ")
            && err.lines().count() == 1,
        "{err}"
    );
}

/// `release/completions.sh`, the step of release/build.sh that makes the release's
/// `lucky-<version>-completions.tar.gz`: the files lucky-doc renders, under the names the
/// shells and man look for, the same bytes from the same inputs.
#[test]
fn the_release_archive_holds_what_lucky_doc_renders_and_is_reproducible() {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/release/completions.sh");
    let pack = |out: &str, epoch: &str| {
        let run = Command::new("bash")
            .arg(script)
            .args([LUCKY_DOC, "1.2.3"])
            .arg(dir.path().join(out))
            .env("SOURCE_DATE_EPOCH", epoch)
            .output()
            .expect("run release/completions.sh");
        assert!(
            run.status.success(),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        std::fs::read(dir.path().join(out)).expect("the archive")
    };
    let first = pack("a/lucky-1.2.3-completions.tar.gz", "1700000000");
    assert_eq!(
        pack("b/lucky-1.2.3-completions.tar.gz", "1700000000"),
        first,
        "not reproducible"
    );
    assert_ne!(
        pack("c/lucky-1.2.3-completions.tar.gz", "1700000001"),
        first,
        "SOURCE_DATE_EPOCH is not the files' time"
    );

    let unpacked = dir.path().join("unpacked");
    std::fs::create_dir(&unpacked).expect("mkdir");
    let tar = |args: &[&str]| {
        let out = Command::new("tar")
            .args(args)
            .arg("-f")
            .arg(dir.path().join("a/lucky-1.2.3-completions.tar.gz"))
            .arg("-C")
            .arg(&unpacked)
            .env("TZ", "UTC")
            .output()
            .expect("run tar");
        ok(&out)
    };
    let listing = tar(&["-tvz"]);
    for line in listing.lines() {
        assert!(
            line.contains(" 0/0 ") && line.contains("2023-11-14 22:13"),
            "owner and time are fixed: {line}"
        );
    }
    tar(&["-xz"]);
    let top = unpacked.join("lucky-1.2.3-completions");
    for (file, shell) in [
        ("completions/lucky.bash", "bash"),
        ("completions/_lucky", "zsh"),
        ("completions/lucky.fish", "fish"),
    ] {
        assert_eq!(
            std::fs::read_to_string(top.join(file)).expect(file),
            ok(&lucky_doc(&["completions", shell])),
            "{file}"
        );
    }
    let pages = dir.path().join("pages");
    std::fs::create_dir(&pages).expect("mkdir");
    ok(&lucky_doc(&["man", "--dir", &pages.to_string_lossy()]));
    let names = |d: &std::path::Path| {
        let mut names: Vec<String> = std::fs::read_dir(d)
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    };
    let man1 = top.join("man/man1");
    assert_eq!(names(&man1), names(&pages));
    assert!(names(&man1).contains(&"lucky.1".to_string()));
    for name in names(&pages) {
        assert_eq!(
            std::fs::read(man1.join(&name)).expect("page"),
            std::fs::read(pages.join(&name)).expect("page"),
            "{name}"
        );
    }
    // Nothing else in it.
    assert_eq!(names(&unpacked), ["lucky-1.2.3-completions"]);
    assert_eq!(names(&top), ["completions", "man"]);
    assert_eq!(
        names(&top.join("completions")),
        ["_lucky", "lucky.bash", "lucky.fish"]
    );
    assert_eq!(names(&top.join("man")), ["man1"]);

    // A bad call is refused, and leaves nothing.
    let bad = Command::new("bash")
        .arg(script)
        .args(["/nonexistent/lucky-doc", "1.2.3"])
        .arg(dir.path().join("d/out.tar.gz"))
        .output()
        .expect("run release/completions.sh");
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("lucky-doc not found"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
    assert!(!dir.path().join("d").exists());
}
