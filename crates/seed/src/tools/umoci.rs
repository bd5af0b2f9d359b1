//! Building real OCI image layouts with `umoci`: an empty base, then one image per tag made by
//! unpacking it rootless, adding files, repacking and setting config labels and annotations.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use anyhow::Context as _;

use super::run;

/// The modification time given to every file the seeder writes (2024-01-15T09:00:00Z), so that
/// repacked layers do not depend on when the seeder ran.
const FILE_MTIME_SECS: u64 = 1_705_309_200;

/// What goes into one image built by [`Layout::build`].
#[derive(Debug, Clone)]
pub(crate) struct ImageSpec {
    /// The tag inside the layout (also used as the bundle directory name).
    pub(crate) tag: String,
    /// `org.opencontainers.image.created` and the config's `created`.
    pub(crate) created: String,
    /// Values for `org.opencontainers.image.*` labels and annotations, keyed by the short name
    /// (`title`, `version`, `source`, …).
    pub(crate) metadata: Vec<(&'static str, String)>,
    /// The CPU architecture written to the config.
    pub(crate) architecture: &'static str,
    /// Files written into the rootfs: (absolute path in the image, contents).
    pub(crate) files: Vec<(String, Vec<u8>)>,
    /// Host files copied into the rootfs when they exist: (host path, path in the image).
    pub(crate) host_files: Vec<(PathBuf, String)>,
    /// The image's default command.
    pub(crate) cmd: Vec<String>,
}

/// An OCI image layout in a directory, managed with `umoci`.
#[derive(Debug)]
pub(crate) struct Layout {
    root: PathBuf,
}

impl Layout {
    /// Creates the layout `layout` under `work_dir` with an empty `base` image.
    pub(crate) async fn init(work_dir: &Path) -> anyhow::Result<Layout> {
        let layout = Layout { root: work_dir.join("layout") };
        run("umoci", ["init", "--layout", &layout.root.display().to_string()]).await?;
        run("umoci", ["new", "--image", &layout.image("base")]).await?;
        Ok(layout)
    }

    /// The layout's directory.
    pub(crate) fn path(&self) -> &Path {
        &self.root
    }

    fn image(&self, tag: &str) -> String {
        format!("{}:{tag}", self.root.display())
    }

    /// Builds the image `spec.tag` from the empty base: unpack, add files, repack, configure.
    pub(crate) async fn build(&self, spec: &ImageSpec) -> anyhow::Result<()> {
        let bundle = self.root.with_file_name(format!("bundle-{}", spec.tag));
        run("umoci", ["unpack", "--rootless", "--image", &self.image("base"), &bundle.display().to_string()]).await?;
        let rootfs = bundle.join("rootfs");
        write_files(&rootfs, spec).with_context(|| format!("failed to populate rootfs for {}", spec.tag))?;
        let repack_args = [
            "repack".to_owned(),
            "--image".to_owned(),
            self.image(&spec.tag),
            "--history.created".to_owned(),
            spec.created.clone(),
            "--history.created_by".to_owned(),
            format!("COPY files for {} /", spec.tag),
            bundle.display().to_string(),
        ];
        run("umoci", &repack_args).await?;
        run("umoci", self.config_args(spec)).await?;
        tokio::fs::remove_dir_all(&bundle)
            .await
            .with_context(|| format!("failed to remove bundle {}", bundle.display()))?;
        Ok(())
    }

    fn config_args(&self, spec: &ImageSpec) -> Vec<String> {
        let mut args: Vec<String> = [
            "config",
            "--image",
            &self.image(&spec.tag),
            "--created",
            &spec.created,
            "--history.created",
            &spec.created,
            "--author",
            "ocicat demo <demo@ocicat.invalid>",
            "--os",
            "linux",
            "--architecture",
            spec.architecture,
            "--config.workingdir",
            "/app",
            "--config.user",
            "65532:65532",
            "--config.env",
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        ]
        .iter()
        .map(|arg| (*arg).to_owned())
        .collect();
        for part in &spec.cmd {
            args.extend(["--config.cmd".to_owned(), part.clone()]);
        }
        let created = ("created", spec.created.clone());
        for (short, value) in spec.metadata.iter().chain(std::iter::once(&created)) {
            let key = format!("org.opencontainers.image.{short}={value}");
            args.extend(["--config.label".to_owned(), key.clone(), "--manifest.annotation".to_owned(), key]);
        }
        args
    }

    /// Copies the image `tag` to `new_tag` with another architecture in its config.
    pub(crate) async fn with_architecture(&self, tag: &str, new_tag: &str, architecture: &str) -> anyhow::Result<()> {
        let image = self.image(tag);
        run("umoci", ["config", "--image", &image, "--tag", new_tag, "--architecture", architecture, "--no-history"])
            .await?;
        Ok(())
    }
}

/// Writes the spec's files into `rootfs` and pins every modification time.
fn write_files(rootfs: &Path, spec: &ImageSpec) -> std::io::Result<()> {
    let mut written = Vec::new();
    for (path, contents) in &spec.files {
        let target = rootfs.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(target.parent().unwrap_or(rootfs))?;
        std::fs::write(&target, contents)?;
        written.push(target);
    }
    for (host_path, path) in &spec.host_files {
        if !host_path.is_file() {
            continue;
        }
        let target = rootfs.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(target.parent().unwrap_or(rootfs))?;
        std::fs::copy(host_path, &target)?;
        written.push(target);
    }
    let mtime = SystemTime::UNIX_EPOCH + Duration::from_secs(FILE_MTIME_SECS);
    for file in &written {
        let mut current = Some(file.as_path());
        while let Some(path) = current {
            std::fs::File::open(path)?.set_modified(mtime)?;
            if path == rootfs {
                break;
            }
            current = path.parent();
        }
    }
    Ok(())
}
