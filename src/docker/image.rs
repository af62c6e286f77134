//! Images built without a registry: a busybox-only root filesystem (from the host's
//! static `/bin/busybox`, Debian's busybox-static) imported through the engine's import
//! API. `lucky charm run` builds the example image this way, and the container tests
//! their test image: one implementation for both.

use super::{EngineError, describe};
use bollard::Docker;
use bollard::query_parameters::CreateImageOptionsBuilder;
use futures_util::StreamExt;

/// The static busybox the root filesystem is made of.
pub(crate) const BUSYBOX: &str = "/bin/busybox";

/// The web server image of the example charm (and the template's default), built by
/// `lucky charm run` when the engine lacks it.
pub(crate) const EXAMPLE_IMAGE: &str = "lucky-example-httpd:latest";

/// Applets linked in `bin/`.
const APPLETS: &[&str] = &[
    "sh", "ls", "cat", "sleep", "echo", "nc", "httpd", "test", "[", "mkdir", "touch", "env", "id",
    "rm", "true", "false", "ps", "grep", "cp", "mv", "sed", "date", "wc", "tr", "head", "tail",
    "hostname", "printf", "chmod", "uname",
];

/// What goes into a busybox image besides busybox.
#[derive(Debug, Clone)]
pub struct BusyboxImage {
    /// `repo:tag`.
    pub(crate) image: String,
    /// Dockerfile-style changes applied on import (`ENV …`, `CMD …`).
    pub changes: Vec<String>,
    /// Extra regular files: path inside the image (no leading `/`), contents, mode.
    pub files: Vec<(String, Vec<u8>, u32)>,
}

impl BusyboxImage {
    /// A shell-only image: `PATH=/bin`, `CMD ["/bin/sh"]`.
    pub fn shell(image: &str) -> Self {
        Self {
            image: image.into(),
            changes: vec!["ENV PATH=/bin".into(), "CMD [\"/bin/sh\"]".into()],
            files: Vec::new(),
        }
    }

    /// The example web server: busybox httpd serving `/www` on port 80 unless the
    /// charm sets another command.
    pub(crate) fn example_httpd() -> Self {
        let page = "<!DOCTYPE html>\n<html><head><title>Lucky</title></head>\n<body><h1>Served by Lucky's local busybox httpd image</h1></body></html>\n";
        Self {
            image: EXAMPLE_IMAGE.into(),
            changes: vec![
                "ENV PATH=/bin".into(),
                "EXPOSE 80".into(),
                "CMD [\"httpd\", \"-f\", \"-p\", \"80\", \"-h\", \"/www\"]".into(),
            ],
            files: vec![("www/index.html".into(), page.as_bytes().to_vec(), 0o644)],
        }
    }

    /// The root filesystem as an uncompressed tar.
    pub(crate) fn rootfs_tar(&self) -> Result<Vec<u8>, String> {
        let busybox = std::fs::read(BUSYBOX).map_err(|e| {
            format!(
                "cannot read {BUSYBOX} to build image {} ({e}); install it with `apt-get install busybox-static`",
                self.image
            )
        })?;
        let mut tar = Tar::default();
        let mut dirs = vec![
            "bin", "etc", "proc", "sys", "dev", "tmp", "run", "root", "data",
        ]
        .into_iter()
        .map(String::from)
        .collect::<Vec<_>>();
        for (path, _, _) in &self.files {
            let mut ancestors: Vec<String> = std::path::Path::new(path)
                .ancestors()
                .skip(1)
                .filter(|p| !p.as_os_str().is_empty())
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            ancestors.reverse();
            for p in ancestors {
                if !dirs.contains(&p) {
                    dirs.push(p);
                }
            }
        }
        for dir in &dirs {
            tar.dir(dir);
        }
        tar.file("bin/busybox", &busybox, 0o755);
        for applet in APPLETS {
            tar.symlink(&format!("bin/{applet}"), "busybox");
        }
        tar.file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n", 0o644);
        tar.file("etc/group", b"root:x:0:\n", 0o644);
        for (path, data, mode) in &self.files {
            tar.file(path, data, *mode);
        }
        Ok(tar.finish())
    }

    /// Imports the image through the engine (replacing the tag if it exists).
    pub async fn import(&self, docker: &Docker) -> Result<(), EngineError> {
        let tar = self.rootfs_tar().map_err(EngineError)?;
        let (repo, tag) = split_image(&self.image);
        let options = CreateImageOptionsBuilder::default()
            .from_src("-")
            .repo(repo)
            .tag(tag)
            .changes(self.changes.clone())
            .build();
        let mut progress =
            docker.create_image(Some(options), Some(bollard::body_full(tar.into())), None);
        while let Some(item) = progress.next().await {
            item.map_err(|e| {
                EngineError(format!(
                    "cannot import image {}: {}",
                    self.image,
                    describe(&e)
                ))
            })?;
        }
        Ok(())
    }

    /// Imports the image unless the engine has it; true when it was built.
    pub(crate) async fn ensure(&self, docker: &Docker) -> Result<bool, EngineError> {
        match docker.inspect_image(&self.image).await {
            Ok(_) => Ok(false),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {
                self.import(docker).await?;
                Ok(true)
            }
            Err(e) => Err(EngineError(format!(
                "cannot inspect image {}: {}",
                self.image,
                describe(&e)
            ))),
        }
    }
}

/// `repo:tag` → (repo, tag); a colon inside a registry's host:port is not a tag.
pub(crate) fn split_image(image: &str) -> (&str, &str) {
    match image.rsplit_once(':') {
        Some((repo, tag)) if !tag.contains('/') => (repo, tag),
        _ => (image, "latest"),
    }
}

/// Just enough ustar to build a root filesystem.
#[derive(Default)]
struct Tar {
    bytes: Vec<u8>,
}

impl Tar {
    fn header(&mut self, name: &str, mode: u32, size: usize, kind: u8, link: &str) {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        let octal = |h: &mut [u8; 512], at: usize, len: usize, value: u64| {
            let s = format!("{value:0width$o}\0", width = len - 1);
            h[at..at + len].copy_from_slice(s.as_bytes());
        };
        octal(&mut h, 100, 8, u64::from(mode));
        octal(&mut h, 108, 8, 0);
        octal(&mut h, 116, 8, 0);
        octal(&mut h, 124, 12, size as u64);
        octal(&mut h, 136, 12, 0);
        h[156] = kind;
        h[157..157 + link.len()].copy_from_slice(link.as_bytes());
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        let s = format!("{sum:06o}\0 ");
        h[148..156].copy_from_slice(s.as_bytes());
        self.bytes.extend_from_slice(&h);
    }
    fn dir(&mut self, name: &str) {
        self.header(&format!("{name}/"), 0o755, 0, b'5', "");
    }
    fn file(&mut self, name: &str, data: &[u8], mode: u32) {
        self.header(name, mode, data.len(), b'0', "");
        self.bytes.extend_from_slice(data);
        let pad = (512 - data.len() % 512) % 512;
        self.bytes.extend(std::iter::repeat_n(0, pad));
    }
    fn symlink(&mut self, name: &str, target: &str) {
        self.header(name, 0o777, 0, b'2', target);
    }
    fn finish(mut self) -> Vec<u8> {
        self.bytes.extend(std::iter::repeat_n(0, 1024));
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_names_split() {
        assert_eq!(split_image("a:1"), ("a", "1"));
        assert_eq!(split_image("a"), ("a", "latest"));
        assert_eq!(split_image("reg:5000/a"), ("reg:5000/a", "latest"));
        assert_eq!(split_image("reg:5000/a:2"), ("reg:5000/a", "2"));
    }
}
