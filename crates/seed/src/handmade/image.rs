//! Small hand-built container images: a deterministic gzip tar layer, an image config with labels
//! and history, and an OCI or Docker v2 schema 2 manifest.

use std::io::Write as _;

use anyhow::Context as _;
use ocicat_oci::{Digest, media_types};
use serde_json::json;

use crate::document::{Annotations, Descriptor, ImageManifest, Platform, keys, types};
use crate::push::Pusher;

/// The modification time of every file in a hand-built layer (2024-01-15T09:00:00Z).
const LAYER_MTIME_SECS: u64 = 1_705_309_200;

/// A gzip tar archive built in memory and the digest of its uncompressed form.
#[derive(Debug, Clone)]
pub(crate) struct TarGz {
    /// The compressed bytes.
    pub(crate) bytes: Vec<u8>,
    /// `sha256:` of the uncompressed tar (the image config's `diff_id`).
    pub(crate) diff_id: String,
}

/// Archives `files` (path, contents) with their parent directories, fixed owners and times.
pub(crate) fn tar_gz(files: &[(String, Vec<u8>)]) -> anyhow::Result<TarGz> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut directories: Vec<String> = Vec::new();
    for (path, contents) in files {
        let path = path.trim_start_matches('/');
        let mut parent = String::new();
        for component in path.split('/').take(path.split('/').count().saturating_sub(1)) {
            parent.push_str(component);
            parent.push('/');
            if !directories.contains(&parent) {
                directories.push(parent.clone());
                builder.append_data(&mut header(tar::EntryType::Directory, 0o755, 0), &parent, std::io::empty())?;
            }
        }
        let mode = if path.ends_with(".sh") { 0o755 } else { 0o644 };
        builder.append_data(
            &mut header(tar::EntryType::Regular, mode, contents.len() as u64),
            path,
            contents.as_slice(),
        )?;
    }
    let tar_bytes = builder.into_inner().context("failed to finish tar archive")?;
    let diff_id = Digest::sha256(&tar_bytes).to_string();
    let mut encoder = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::default());
    encoder.write_all(&tar_bytes)?;
    let bytes = encoder.finish().context("failed to finish gzip stream")?;
    Ok(TarGz { bytes, diff_id })
}

fn header(entry_type: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(entry_type);
    header.set_mode(mode);
    header.set_size(size);
    header.set_mtime(LAYER_MTIME_SECS);
    header.set_uid(0);
    header.set_gid(0);
    header
}

/// Which manifest format a hand-built image uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ImageFlavor {
    /// OCI image manifest with annotations.
    Oci,
    /// Docker image manifest v2 schema 2 (labels only, no annotations).
    DockerV2,
}

/// A small hand-built image.
#[derive(Debug, Clone)]
pub(crate) struct HandImage {
    pub(crate) repository: String,
    /// The tag; `None` pushes by digest (children of an index).
    pub(crate) tag: Option<String>,
    pub(crate) flavor: ImageFlavor,
    pub(crate) platform: Platform,
    pub(crate) created: String,
    /// `org.opencontainers.image.*` short names and values, written as labels and annotations.
    pub(crate) metadata: Vec<(&'static str, String)>,
    pub(crate) files: Vec<(String, Vec<u8>)>,
}

/// Pushes the layer, config and manifest of `image`; returns the manifest's descriptor
/// (with the image's platform).
pub(crate) async fn push_image(pusher: &Pusher, image: &HandImage) -> anyhow::Result<Descriptor> {
    let repository = image.repository.as_str();
    let layer = tar_gz(&image.files).with_context(|| format!("failed to build a layer for {repository}"))?;
    let (manifest_type, config_type, layer_type) = match image.flavor {
        ImageFlavor::Oci => (media_types::OCI_MANIFEST, media_types::OCI_CONFIG, types::OCI_LAYER_GZIP),
        ImageFlavor::DockerV2 => (media_types::DOCKER_MANIFEST, media_types::DOCKER_CONFIG, types::DOCKER_LAYER_GZIP),
    };
    let mut annotations: Annotations = image
        .metadata
        .iter()
        .map(|(short, value)| (format!("org.opencontainers.image.{short}"), value.clone()))
        .collect();
    annotations.insert(keys::CREATED.to_owned(), image.created.clone());
    let config = json!({
        "created": image.created,
        "author": "ocicat demo <demo@ocicat.invalid>",
        "architecture": image.platform.architecture,
        "os": image.platform.os,
        "config": {
            "User": "65532:65532",
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
            "Cmd": ["/app/run.sh"],
            "WorkingDir": "/app",
            "Labels": annotations,
        },
        "rootfs": {"type": "layers", "diff_ids": [layer.diff_id]},
        "history": [{"created": image.created, "created_by": "COPY app/ /app/ # ocicat seed"}],
    });
    let config_bytes = serde_json::to_vec(&config).context("failed to serialize image config")?;
    let config_descriptor = pusher.blob(repository, config_type, config_bytes).await?;
    let layer_descriptor = pusher.blob(repository, layer_type, layer.bytes).await?;
    let mut manifest = ImageManifest::oci(config_descriptor, vec![layer_descriptor]);
    manifest.media_type = Some(manifest_type.to_owned());
    if image.flavor == ImageFlavor::Oci {
        manifest.annotations = annotations;
    }
    let descriptor = pusher.manifest(repository, image.tag.as_deref(), &manifest, "image").await?;
    Ok(descriptor.with_platform(image.platform.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    #[test]
    fn layers_are_reproducible_and_list_parent_directories() {
        let files = vec![
            ("/app/run.sh".to_owned(), b"#!/bin/sh\necho hi\n".to_vec()),
            ("/app/VERSION".to_owned(), b"1\n".to_vec()),
        ];
        let first = tar_gz(&files).unwrap();
        let second = tar_gz(&files).unwrap();
        assert_eq!(first.bytes, second.bytes);
        let mut tar_bytes = Vec::new();
        flate2::read::GzDecoder::new(first.bytes.as_slice()).read_to_end(&mut tar_bytes).unwrap();
        assert_eq!(Digest::sha256(&tar_bytes).to_string(), first.diff_id);
        let mut archive = tar::Archive::new(tar_bytes.as_slice());
        let names: Vec<String> =
            archive.entries().unwrap().map(|entry| entry.unwrap().path().unwrap().display().to_string()).collect();
        assert_eq!(names, ["app/", "app/run.sh", "app/VERSION"]);
    }
}
