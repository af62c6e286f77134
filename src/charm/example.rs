//! The example charm (`examples/webapp`), embedded in the binary so that `lucky charm run`
//! with no folder has a charm to run on any machine.

use super::error::CharmError;

use super::template::TemplateFile;
use std::path::Path;

macro_rules! example_files {
    ($($path:literal),* $(,)?) => {
        &[$(TemplateFile {
            path: $path,
            contents: include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/webapp/", $path)),
        }),*]
    };
}

pub(crate) const NAME: &str = "webapp";

/// Every file of `examples/webapp/` (a test checks none is missing).
pub(crate) const FILES: &[TemplateFile] = example_files![
    "README.md",
    "actions.yaml",
    "charmcraft.yaml",
    "config.yaml",
    "lucky.yaml",
    "metadata.yaml",
    "container_scripts/backup.sh",
    "container_scripts/health-check.sh",
    "container_scripts/write-page.sh",
    "host_scripts/configure.sh",
    "host_scripts/db-changed.sh",
    "host_scripts/install.sh",
    "host_scripts/publish-website.sh",
    "host_scripts/storage-attached.sh",
];

/// Writes the example into `dir`, replacing what an earlier unpacking left there (but
/// not `build/`, where `charm run` keeps a model the user asked to keep).
pub(crate) fn unpack(dir: &Path) -> Result<(), CharmError> {
    for sub in ["host_scripts", "container_scripts"] {
        let path = dir.join(sub);
        if path.exists() {
            std::fs::remove_dir_all(&path).map_err(|e| CharmError::io("clear", &path, e))?;
        }
    }
    super::template::write_files(dir, FILES, |text| text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_file_is_embedded() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/webapp");
        let mut on_disk = Vec::new();
        let mut stack = vec![root.clone()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).expect("read examples/webapp") {
                let path = entry.expect("entry").path();
                let rel = path.strip_prefix(&root).expect("inside").to_path_buf();
                if rel.starts_with("build") {
                    continue;
                }
                if path.is_dir() {
                    stack.push(path);
                } else {
                    on_disk.push(rel.to_string_lossy().into_owned());
                }
            }
        }
        on_disk.sort();
        let mut embedded: Vec<String> = FILES.iter().map(|f| f.path.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded, "add new examples/webapp files to FILES");
    }
}
