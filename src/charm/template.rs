//! The charm template `lucky charm create` lays out: `charm_template/`, embedded in the
//! binary so that `lucky` needs no files next to it.

use super::error::CharmError;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

pub(crate) struct TemplateFile {
    /// Path inside the charm.
    pub(crate) path: &'static str,
    pub(crate) contents: &'static str,
}

impl TemplateFile {
    /// Scripts get the executable bit.
    pub(crate) fn executable(&self) -> bool {
        self.path.starts_with("host_scripts/") || self.path.starts_with("container_scripts/")
    }
}

macro_rules! template_files {
    ($($path:literal),* $(,)?) => {
        &[$(TemplateFile {
            path: $path,
            contents: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/charm_template/", $path)),
        }),*]
    };
}

/// Every file of `charm_template/` (a test checks none is missing).
pub(crate) const FILES: &[TemplateFile] = template_files![
    "README.md",
    "actions.yaml",
    "charmcraft.yaml",
    "config.yaml",
    "icon.svg",
    "lucky.yaml",
    "metadata.yaml",
    "host_scripts/configure.sh",
    "host_scripts/health-check.sh",
    "host_scripts/install.sh",
    "host_scripts/say-hello.sh",
    "host_scripts/website-relation-joined.sh",
    "container_scripts/report.sh",
];

/// What the template's `{{...}}` placeholders are filled with.
#[derive(Debug, Clone)]
pub(crate) struct Values {
    pub(crate) name: String,
    pub(crate) display_name: String,
    pub(crate) summary: String,
    pub(crate) maintainer: String,
}

impl Values {
    /// Defaults for a charm created in `dir`.
    pub(crate) fn defaults(dir: &Path) -> Values {
        let name = default_name(dir);
        Values {
            display_name: display_name(&name),
            summary: format!("{} as a Juju machine charm", display_name(&name)),
            maintainer: "Your Name <you@example.com>".into(),
            name,
        }
    }

    /// `{{key}}` is replaced by the raw value, `{{yaml:key}}` by a quoted YAML scalar
    /// (a JSON string is one), so a summary with `:` or `#` stays one string.
    pub(crate) fn fill(&self, text: &str) -> String {
        let mut out = text.to_string();
        for (key, value) in [
            ("name", &self.name),
            ("display-name", &self.display_name),
            ("summary", &self.summary),
            ("maintainer", &self.maintainer),
        ] {
            let quoted = serde_json::Value::String(value.clone()).to_string();
            out = out
                .replace(&format!("{{{{yaml:{key}}}}}"), &quoted)
                .replace(&format!("{{{{{key}}}}}"), value);
        }
        out
    }
}

/// Juju's rule for charm names: lowercase letters and digits in hyphen-separated words,
/// starting with a letter, and no word made of digits only.
pub(crate) fn check_name(name: &str) -> Result<(), CharmError> {
    let ok = !name.is_empty()
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.split('-').all(|word| {
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                && word.chars().any(|c| c.is_ascii_lowercase())
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid charm name \"{name}\": use lowercase letters and digits in hyphen-separated words, starting with a letter (e.g. my-app)"
        ).into())
    }
}

/// The folder's name made into a valid charm name, or `my-charm`.
fn default_name(dir: &Path) -> String {
    // `lucky charm create .` names the charm after the folder it is run in.
    let resolved = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
    let base = resolved
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let cleaned: String = base
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let name = cleaned
        .split('-')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    if check_name(&name).is_ok() {
        name
    } else {
        "my-charm".into()
    }
}

/// `my-app` → `My App`.
pub(crate) fn display_name(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Lays out the template in `dir`, which must be absent or empty.
pub(crate) fn create(dir: &Path, values: &Values) -> Result<(), CharmError> {
    check_name(&values.name)?;
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(format!(
                    "refusing to create a charm in {}: the folder is not empty",
                    dir.display()
                )
                .into());
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot use {}: {e}", dir.display()).into()),
    }
    write_files(dir, FILES, |text| values.fill(text))
}

/// Writes embedded files under `dir` (scripts executable), each through `fill`.
pub(crate) fn write_files<S: AsRef<str>>(
    dir: &Path,
    files: &[TemplateFile],
    fill: impl Fn(&'static str) -> S,
) -> Result<(), CharmError> {
    for file in files {
        let path = dir.join(file.path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(|e| CharmError::io("create", parent, e))?;
        }
        std::fs::write(&path, fill(file.contents).as_ref())
            .map_err(|e| CharmError::io("write", &path, e))?;
        let mode = if file.executable() { 0o755 } else { 0o644 };
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode))
            .map_err(|e| CharmError::io("chmod", &path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_file_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("charm_template");
        let mut on_disk = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read charm_template") {
                let path = entry.expect("entry").path();
                if path.is_dir() {
                    stack.push(path);
                } else {
                    let rel = path.strip_prefix(&root).expect("inside");
                    on_disk.push(rel.to_string_lossy().into_owned());
                }
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|f| f.path.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded, "add new charm_template files to FILES");
    }

    #[test]
    fn names_and_filling() {
        assert!(check_name("my-app2").is_ok());
        for bad in ["", "My", "2app", "app-", "app-2", "a_b"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert_eq!(default_name(Path::new("/tmp/My_Web App")), "my-web-app");
        assert_eq!(default_name(Path::new("/tmp/123")), "my-charm");
        let v = Values {
            name: "x".into(),
            display_name: "X".into(),
            summary: "a: \"b\"".into(),
            maintainer: "m".into(),
        };
        assert_eq!(
            v.fill("{{name}} {{yaml:summary}} {{summary}}"),
            "x \"a: \\\"b\\\"\" a: \"b\""
        );
    }
}
