//! Writing a layout directory: blobs streamed into `blobs/<alg>/<hex>` (a temporary file,
//! hashed while written, renamed into place only when the digest and size match, so a
//! half-written or lying blob never appears under its digest), then `index.json` merged with
//! what the directory held (an entry naming the same tag is replaced, every other kept) and
//! replaced in one rename.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures::{Stream, StreamExt as _};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256, Sha512};
use tokio::io::AsyncWriteExt as _;

use crate::read::{Descriptor, LayoutError, REF_NAME, blob_path, check_marker, io_error, read_document};

/// Why a blob was not written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The layout directory failed.
    #[error(transparent)]
    Layout(#[from] LayoutError),
    /// The source stream failed.
    #[error("reading {digest}: {reason}")]
    Source {
        /// The blob.
        digest: String,
        /// What failed.
        reason: String,
    },
    /// The bytes are not the ones named.
    #[error("{digest}: the bytes received do not match the digest or the size {size}")]
    Mismatch {
        /// The blob.
        digest: String,
        /// The size expected.
        size: u64,
    },
}

enum Hashing {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hashing {
    fn for_digest(digest: &str) -> Option<Hashing> {
        match digest.split_once(':')?.0 {
            "sha256" => Some(Hashing::Sha256(Sha256::new())),
            "sha512" => Some(Hashing::Sha512(Sha512::new())),
            _ => None,
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Hashing::Sha256(hasher) => hasher.update(bytes),
            Hashing::Sha512(hasher) => hasher.update(bytes),
        }
    }

    fn finish(self) -> String {
        match self {
            Hashing::Sha256(hasher) => format!("sha256:{}", hex::encode(hasher.finalize())),
            Hashing::Sha512(hasher) => format!("sha512:{}", hex::encode(hasher.finalize())),
        }
    }
}

/// A layout directory being written.
#[derive(Debug)]
pub struct LayoutWriter {
    dir: PathBuf,
    /// `index.json`'s entries as the directory held them (kept verbatim).
    existing: Vec<Value>,
}

impl LayoutWriter {
    /// Opens `dir` for writing, creating the layout (or checking the one there).
    pub fn create(dir: &Path) -> Result<LayoutWriter, LayoutError> {
        std::fs::create_dir_all(dir.join("blobs")).map_err(io_error(dir))?;
        let marker = dir.join("oci-layout");
        if marker.exists() {
            check_marker(dir)?;
        } else {
            std::fs::write(&marker, br#"{"imageLayoutVersion":"1.0.0"}"#).map_err(io_error(&marker))?;
        }
        let index = dir.join("index.json");
        let existing = if index.exists() {
            let bytes = read_document(&index)?;
            let value: Value = serde_json::from_slice(&bytes).map_err(|error| LayoutError::Invalid {
                path: index.display().to_string(),
                reason: error.to_string(),
            })?;
            value.get("manifests").and_then(Value::as_array).cloned().unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok(LayoutWriter { dir: dir.to_path_buf(), existing })
    }

    /// Whether `digest` is there already with `size` bytes.
    pub fn has_blob(&self, digest: &str, size: u64) -> bool {
        blob_path(&self.dir, digest)
            .and_then(|path| std::fs::metadata(path).ok())
            .is_some_and(|metadata| metadata.is_file() && metadata.len() == size)
    }

    fn target(&self, digest: &str) -> Result<PathBuf, LayoutError> {
        let path = blob_path(&self.dir, digest).ok_or_else(|| LayoutError::Invalid {
            path: self.dir.display().to_string(),
            reason: format!("{digest:?} is not a digest"),
        })?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).map_err(io_error(parent))?;
        }
        Ok(path)
    }

    /// Writes the blob `digest` of `size` bytes from `chunks`; answers the bytes written.
    pub async fn write_stream<E: std::fmt::Display>(
        &self,
        digest: &str,
        size: u64,
        chunks: impl Stream<Item = Result<Bytes, E>>,
    ) -> Result<u64, WriteError> {
        let target = self.target(digest)?;
        let parent = target.parent().unwrap_or(&self.dir).to_path_buf();
        let temporary = tempfile::Builder::new().prefix(".partial-").tempfile_in(&parent).map_err(io_error(&parent))?;
        let (file, temporary_path) = temporary.into_parts();
        let mut file = tokio::fs::File::from_std(file);
        let mut hashing =
            Hashing::for_digest(digest).ok_or_else(|| WriteError::Mismatch { digest: digest.to_owned(), size })?;
        let mut written = 0u64;
        let mut chunks = std::pin::pin!(chunks);
        while let Some(chunk) = chunks.next().await {
            let chunk =
                chunk.map_err(|error| WriteError::Source { digest: digest.to_owned(), reason: error.to_string() })?;
            written += chunk.len() as u64;
            if written > size {
                return Err(WriteError::Mismatch { digest: digest.to_owned(), size });
            }
            hashing.update(&chunk);
            file.write_all(&chunk).await.map_err(io_error(&parent))?;
        }
        if written != size || hashing.finish() != digest {
            return Err(WriteError::Mismatch { digest: digest.to_owned(), size });
        }
        file.sync_all().await.map_err(io_error(&parent))?;
        drop(file);
        temporary_path
            .persist(&target)
            .map_err(|error| LayoutError::Io { path: target.display().to_string(), source: error.error })?;
        Ok(written)
    }

    /// Writes `bytes` as the blob `digest` (a manifest), checked like a stream.
    pub async fn write_bytes(&self, digest: &str, bytes: Bytes) -> Result<u64, WriteError> {
        let size = bytes.len() as u64;
        self.write_stream(digest, size, futures::stream::iter([Ok::<_, std::io::Error>(bytes)])).await
    }

    /// Writes `index.json`: `entries` added to what was there (an entry naming the same tag, or
    /// the same untagged digest, replaced; every other kept).
    pub fn finish(self, entries: &[Descriptor]) -> Result<(), LayoutError> {
        let merged = merge_index(&self.existing, entries);
        let index = self.dir.join("index.json");
        let bytes = serde_json::to_vec_pretty(&index_document(merged)).unwrap_or_default();
        let temporary =
            tempfile::Builder::new().prefix(".index-").tempfile_in(&self.dir).map_err(io_error(&self.dir))?;
        std::fs::write(temporary.path(), bytes).map_err(io_error(temporary.path()))?;
        temporary
            .persist(&index)
            .map_err(|error| LayoutError::Io { path: index.display().to_string(), source: error.error })?;
        Ok(())
    }
}

/// `index.json` around `manifests`.
pub fn index_document(manifests: Vec<Value>) -> Value {
    json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests})
}

/// `existing` entries with `entries` merged in: an existing entry naming a tag a new one names,
/// or the same digest untagged as a new untagged one, gives way; the rest stay in their order.
pub fn merge_index(existing: &[Value], entries: &[Descriptor]) -> Vec<Value> {
    let name = |value: &Value| value.get("annotations")?.get(REF_NAME)?.as_str().map(str::to_owned);
    let replaced = |value: &Value| {
        let digest = value.get("digest").and_then(Value::as_str);
        match name(value) {
            Some(tag) => entries.iter().any(|entry| entry.annotations.get(REF_NAME) == Some(&tag)),
            None => entries
                .iter()
                .any(|entry| !entry.annotations.contains_key(REF_NAME) && Some(entry.digest.as_str()) == digest),
        }
    };
    let mut merged: Vec<Value> = existing.iter().filter(|value| !replaced(value)).cloned().collect();
    merged.extend(entries.iter().filter_map(|entry| serde_json::to_value(entry).ok()));
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(digest: &str, tag: Option<&str>) -> Descriptor {
        Descriptor {
            media_type: "application/vnd.oci.image.manifest.v1+json".into(),
            digest: digest.into(),
            size: 1,
            artifact_type: None,
            annotations: tag.map(|tag| [(REF_NAME.to_owned(), tag.to_owned())].into()).unwrap_or_default(),
            platform: None,
        }
    }

    #[test]
    fn a_merge_replaces_the_same_tag_and_keeps_the_rest() {
        let existing: Vec<Value> =
            [entry("sha256:a", Some("1.0")), entry("sha256:b", Some("latest")), entry("sha256:c", None)]
                .iter()
                .map(|entry| serde_json::to_value(entry).unwrap())
                .collect();
        let merged = merge_index(&existing, &[entry("sha256:d", Some("latest")), entry("sha256:c", None)]);
        let listed: Vec<(&str, Option<&str>)> = merged
            .iter()
            .map(|value| {
                (value["digest"].as_str().unwrap(), value.get("annotations").and_then(|a| a[REF_NAME].as_str()))
            })
            .collect();
        assert_eq!(listed, vec![("sha256:a", Some("1.0")), ("sha256:d", Some("latest")), ("sha256:c", None)]);
    }
}
