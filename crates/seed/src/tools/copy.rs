//! Getting layouts into the registry with real clients: `skopeo copy` for single images (OCI or
//! Docker v2 schema 2) and `buildah manifest` for multi-platform OCI indexes.

use std::path::{Path, PathBuf};

use anyhow::Context as _;

use super::run;
use crate::Target;

/// The manifest format `skopeo` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    /// OCI image manifest (the layout's own bytes).
    Oci,
    /// Docker image manifest v2 schema 2, converted by skopeo.
    DockerV2,
}

/// Copies `layout:layout_tag` to `repository:tag` on `target`; returns the pushed digest.
pub(crate) async fn skopeo_copy(
    target: &Target,
    layout: &Path,
    layout_tag: &str,
    repository: &str,
    tag: &str,
    format: Format,
) -> anyhow::Result<String> {
    let digest_file = layout.with_file_name(format!("digest-{repository}-{tag}").replace('/', "_"));
    let mut args: Vec<String> = ["--insecure-policy", "copy", "--quiet", "--dest-tls-verify=false", "--format"]
        .iter()
        .map(|arg| (*arg).to_owned())
        .collect();
    args.push(match format {
        Format::Oci => "oci".to_owned(),
        Format::DockerV2 => "v2s2".to_owned(),
    });
    args.extend(["--digestfile".to_owned(), digest_file.display().to_string()]);
    if let Some(credentials) = target.tool_credentials() {
        args.extend(["--dest-creds".to_owned(), credentials]);
    }
    args.push(format!("oci:{}:{layout_tag}", layout.display()));
    args.push(format!("docker://{}/{repository}:{tag}", target.host()?));
    run("skopeo", &args).await?;
    read_digest(&digest_file).await
}

/// A manifest list in a throw-away buildah storage (vfs driver, temporary root and runroot, so
/// it needs neither a container storage setup nor privileges beyond file access).
#[derive(Debug)]
pub(crate) struct BuildahIndex {
    root: PathBuf,
    run_root: PathBuf,
    name: String,
}

impl BuildahIndex {
    /// Creates the empty list `name` with its storage under `work_dir`.
    pub(crate) async fn create(work_dir: &Path, name: &str) -> anyhow::Result<BuildahIndex> {
        let index = BuildahIndex {
            root: work_dir.join("buildah-root"),
            run_root: work_dir.join("buildah-runroot"),
            name: name.to_owned(),
        };
        index.buildah(&["manifest", "create", name]).await?;
        Ok(index)
    }

    /// Adds `layout:tag` to the list with an explicit platform.
    pub(crate) async fn add(&self, layout: &Path, tag: &str, os: &str, architecture: &str) -> anyhow::Result<()> {
        let image = format!("oci:{}:{tag}", layout.display());
        self.buildah(&["manifest", "add", "--os", os, "--arch", architecture, &self.name, &image]).await?;
        Ok(())
    }

    /// Pushes the list and every image in it as OCI to `repository:tag`; returns the index digest.
    pub(crate) async fn push(&self, target: &Target, repository: &str, tag: &str) -> anyhow::Result<String> {
        let digest_file = self.root.with_file_name(format!("index-digest-{tag}"));
        let destination = format!("docker://{}/{repository}:{tag}", target.host()?);
        let digest_path = digest_file.display().to_string();
        let mut args = vec!["manifest", "push", "--all", "--quiet", "--format", "oci", "--tls-verify=false"];
        args.extend(["--digestfile", &digest_path]);
        let credentials = target.tool_credentials();
        if let Some(credentials) = &credentials {
            args.extend(["--creds", credentials]);
        }
        args.extend([self.name.as_str(), &destination]);
        self.buildah(&args).await?;
        read_digest(&digest_file).await
    }

    async fn buildah(&self, args: &[&str]) -> anyhow::Result<String> {
        let root = self.root.display().to_string();
        let run_root = self.run_root.display().to_string();
        let mut full: Vec<&str> = vec!["--storage-driver", "vfs", "--root", &root, "--runroot", &run_root];
        full.extend_from_slice(args);
        run("buildah", &full).await
    }
}

async fn read_digest(path: &Path) -> anyhow::Result<String> {
    let text = tokio::fs::read_to_string(path)
        .await
        .with_context(|| format!("failed to read digest file {}", path.display()))?;
    let digest: ocicat_oci::Digest =
        text.trim().parse().with_context(|| format!("digest file {} holds no digest", path.display()))?;
    Ok(digest.to_string())
}
