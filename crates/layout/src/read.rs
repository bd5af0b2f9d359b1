//! Reading one OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`):
//! its tags (`org.opencontainers.image.ref.name`), every manifest reachable from `index.json`
//! (nested indexes and fallback indexes included), and the referrers of each subject, from the
//! `subject` fields of those manifests — the way oras, regclient and skopeo write layouts.
//!
//! Tolerant where real tools differ (an entry that cannot be read is skipped and noted, never
//! the whole layout) and bounded everywhere: documents of at most [`MAX_DOCUMENT_BYTES`], at
//! most [`MAX_MANIFESTS`] manifests, indexes nested at most [`MAX_DEPTH`] deep; every manifest
//! is checked against its digest before it counts.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io::Read as _;
use std::path::{Path, PathBuf};

use ocicat_oci::{Digest, media_types};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest `index.json` or manifest read.
pub const MAX_DOCUMENT_BYTES: u64 = 4 << 20;
/// Most manifests one layout may hold.
pub const MAX_MANIFESTS: usize = 10_000;
/// How deep indexes may nest.
pub const MAX_DEPTH: usize = 8;
/// The annotation naming a descriptor of `index.json`.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// Why a layout cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum LayoutError {
    /// Not a layout, or one this reader refuses.
    #[error("{path}: {reason}")]
    Invalid {
        /// The file or directory.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The file system failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The error.
        source: std::io::Error,
    },
}

pub(crate) fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> LayoutError + '_ {
    move |source| LayoutError::Io { path: path.display().to_string(), source }
}

fn invalid(path: &Path, reason: impl Into<String>) -> LayoutError {
    LayoutError::Invalid { path: path.display().to_string(), reason: reason.into() }
}

/// A descriptor as layouts and referrers lists carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    /// Its media type.
    pub media_type: String,
    /// Its digest.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its artifact type, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub artifact_type: Option<String>,
    /// Its annotations.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The platform an index names it for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Value>,
}

/// The parts of a manifest or index this reader needs (anything else is kept in the bytes).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    artifact_type: Option<String>,
    #[serde(default)]
    config: Option<Descriptor>,
    #[serde(default)]
    manifests: Option<Vec<Value>>,
    #[serde(default)]
    subject: Option<Descriptor>,
    #[serde(default)]
    annotations: Option<Value>,
}

/// One layout directory, read.
#[derive(Debug, Default)]
pub struct Repository {
    /// Tag → the manifest it names.
    pub tags: BTreeMap<String, Descriptor>,
    /// Every manifest reachable from `index.json`, by digest.
    pub manifests: HashMap<String, Descriptor>,
    /// Subject digest → the manifests naming it as their `subject`, sorted by digest.
    pub referrers: HashMap<String, Vec<Descriptor>>,
    /// What was skipped, and why.
    pub notes: Vec<String>,
}

/// True for the media types a manifest or index may have.
pub fn is_manifest_type(media_type: &str) -> bool {
    [
        media_types::OCI_MANIFEST,
        media_types::OCI_INDEX,
        media_types::DOCKER_MANIFEST,
        media_types::DOCKER_MANIFEST_LIST,
        media_types::OCI_ARTIFACT_MANIFEST,
    ]
    .contains(&media_type)
}

/// The tag an `org.opencontainers.image.ref.name` names: the value itself when it is a tag, or
/// what follows the last `:` of a full reference (`docker.io/library/alpine:3.20`).
pub fn tag_of_ref_name(value: &str) -> Option<String> {
    if ocicat_oci::is_valid_tag(value) {
        return Some(value.to_owned());
    }
    let (_, tag) = value.rsplit_once(':')?;
    ocicat_oci::is_valid_tag(tag).then(|| tag.to_owned())
}

/// The path of `digest`'s blob under `dir`, for a well-formed digest only.
pub fn blob_path(dir: &Path, digest: &str) -> Option<PathBuf> {
    let parsed: Digest = digest.parse().ok()?;
    let text = parsed.to_string();
    let (algorithm, hex) = text.split_once(':')?;
    Some(dir.join("blobs").join(algorithm).join(hex))
}

/// Reads at most [`MAX_DOCUMENT_BYTES`] of `path`, refusing anything longer.
pub(crate) fn read_document(path: &Path) -> Result<Vec<u8>, LayoutError> {
    let file = std::fs::File::open(path).map_err(io_error(path))?;
    let mut bytes = Vec::new();
    file.take(MAX_DOCUMENT_BYTES + 1).read_to_end(&mut bytes).map_err(io_error(path))?;
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(invalid(path, format!("longer than {MAX_DOCUMENT_BYTES} bytes")));
    }
    Ok(bytes)
}

/// Checks `dir/oci-layout` (`imageLayoutVersion` 1.x).
pub fn check_marker(dir: &Path) -> Result<(), LayoutError> {
    let path = dir.join("oci-layout");
    let bytes = read_document(&path)?;
    let value: Value = serde_json::from_slice(&bytes).map_err(|error| invalid(&path, error.to_string()))?;
    match value.get("imageLayoutVersion").and_then(Value::as_str) {
        Some(version) if version.starts_with("1.") => Ok(()),
        Some(version) => Err(invalid(&path, format!("image layout version {version:?} is not 1.x"))),
        None => Err(invalid(&path, "no imageLayoutVersion")),
    }
}

/// The manifest `digest` of the layout at `dir`: its bytes, checked against the digest.
pub fn read_manifest(dir: &Path, digest: &str) -> Result<Vec<u8>, LayoutError> {
    let path = blob_path(dir, digest).ok_or_else(|| invalid(dir, format!("{digest:?} is not a digest")))?;
    let bytes = read_document(&path)?;
    let parsed: Digest = digest.parse().map_err(|_| invalid(&path, "not a digest"))?;
    if !parsed.verifies(&bytes) {
        return Err(invalid(&path, format!("its content does not match {digest}")));
    }
    Ok(bytes)
}

/// Reads the layout at `dir`.
pub fn read_repository(dir: &Path) -> Result<Repository, LayoutError> {
    check_marker(dir)?;
    let index_path = dir.join("index.json");
    let bytes = read_document(&index_path)?;
    let index: Document = serde_json::from_slice(&bytes).map_err(|error| invalid(&index_path, error.to_string()))?;
    let mut repository = Repository::default();
    let mut queue: VecDeque<(Descriptor, usize)> = VecDeque::new();
    for (position, entry) in index.manifests.unwrap_or_default().into_iter().enumerate() {
        let descriptor: Descriptor = match serde_json::from_value(entry) {
            Ok(descriptor) => descriptor,
            Err(error) => {
                repository.notes.push(format!("index.json entry {position} skipped: {error}"));
                continue;
            }
        };
        if let Some(name) = descriptor.annotations.get(REF_NAME) {
            match tag_of_ref_name(name) {
                Some(tag) => {
                    if repository.tags.insert(tag.clone(), descriptor.clone()).is_some() {
                        repository.notes.push(format!("tag {tag} is named twice in index.json; the last entry wins"));
                    }
                }
                None => repository.notes.push(format!("{name:?} is not a tag; {} stays untagged", descriptor.digest)),
            }
        }
        queue.push_back((descriptor, 0));
    }
    let mut seen = HashSet::new();
    while let Some((descriptor, depth)) = queue.pop_front() {
        if !seen.insert(descriptor.digest.clone()) {
            continue;
        }
        if seen.len() > MAX_MANIFESTS {
            return Err(invalid(dir, format!("more than {MAX_MANIFESTS} manifests")));
        }
        if !is_manifest_type(&descriptor.media_type) {
            repository
                .notes
                .push(format!("{} skipped: {} is not a manifest type", descriptor.digest, descriptor.media_type));
            continue;
        }
        let document = match read_manifest(dir, &descriptor.digest).and_then(|bytes| {
            serde_json::from_slice::<Document>(&bytes).map_err(|error| invalid(dir, error.to_string()))
        }) {
            Ok(document) => document,
            Err(error) => {
                repository.notes.push(format!("{} skipped: {error}", descriptor.digest));
                continue;
            }
        };
        if document.media_type.as_deref().is_some_and(|own| own != descriptor.media_type) {
            repository.notes.push(format!(
                "{} skipped: its media type is not the {} its descriptor names",
                descriptor.digest, descriptor.media_type
            ));
            continue;
        }
        for (position, child) in document.manifests.iter().flatten().enumerate() {
            match serde_json::from_value::<Descriptor>(child.clone()) {
                Ok(child) if depth < MAX_DEPTH => queue.push_back((child, depth + 1)),
                Ok(child) => repository.notes.push(format!("{} skipped: indexes nest too deep", child.digest)),
                Err(error) => {
                    repository.notes.push(format!("{} entry {position} skipped: {error}", descriptor.digest));
                }
            }
        }
        let annotations: BTreeMap<String, String> =
            document.annotations.and_then(|value| serde_json::from_value(value).ok()).unwrap_or_default();
        let artifact_type = document
            .artifact_type
            .clone()
            .or_else(|| document.config.as_ref().map(|config| config.media_type.clone()))
            .filter(|kind| !kind.is_empty());
        let known = Descriptor {
            media_type: descriptor.media_type.clone(),
            digest: descriptor.digest.clone(),
            size: descriptor.size,
            artifact_type: artifact_type.clone(),
            annotations: annotations.clone(),
            platform: None,
        };
        if let Some(subject) = document.subject {
            repository.referrers.entry(subject.digest).or_default().push(known.clone());
        }
        repository.manifests.insert(descriptor.digest.clone(), known);
    }
    for list in repository.referrers.values_mut() {
        list.sort_by(|a, b| a.digest.cmp(&b.digest));
    }
    Ok(repository)
}

/// The repositories under `root`: every directory holding an `oci-layout` file, named by its
/// path below `root` (the root itself, when it is a layout, by its own directory name),
/// searched at most four levels deep; names the distribution grammar refuses are skipped.
pub fn discover(root: &Path) -> Result<Vec<(String, PathBuf)>, LayoutError> {
    let mut found = Vec::new();
    if root.join("oci-layout").is_file() {
        let name = root
            .canonicalize()
            .map_err(io_error(root))?
            .file_name()
            .map(|name| name.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if ocicat_oci::is_valid_repository(&name) {
            found.push((name, root.to_path_buf()));
        } else {
            tracing::warn!(layout = %root.display(), "a layout whose directory name is not a repository name is skipped");
        }
        return Ok(found);
    }
    let mut stack = vec![(root.to_path_buf(), 0usize)];
    let mut visited = 0usize;
    while let Some((dir, depth)) = stack.pop() {
        let entries = std::fs::read_dir(&dir).map_err(io_error(&dir))?;
        for entry in entries {
            let entry = entry.map_err(io_error(&dir))?;
            visited += 1;
            if visited > MAX_MANIFESTS {
                return Err(invalid(root, format!("more than {MAX_MANIFESTS} entries to search for layouts")));
            }
            let path = entry.path();
            if !entry.file_type().map_err(io_error(&path))?.is_dir() {
                continue;
            }
            let relative = path.strip_prefix(root).unwrap_or(&path);
            let name = relative.to_string_lossy().replace(std::path::MAIN_SEPARATOR, "/");
            if path.join("oci-layout").is_file() {
                if ocicat_oci::is_valid_repository(&name) {
                    found.push((name, path));
                } else {
                    tracing::warn!(layout = %path.display(), "a layout whose path is not a repository name is skipped");
                }
            } else if depth < 3 {
                stack.push((path, depth + 1));
            }
        }
    }
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ref_names_become_tags() {
        assert_eq!(tag_of_ref_name("1.4.2").as_deref(), Some("1.4.2"));
        assert_eq!(tag_of_ref_name("docker.io/library/alpine:3.20").as_deref(), Some("3.20"));
        assert_eq!(tag_of_ref_name("localhost:5000/app"), None);
        assert_eq!(tag_of_ref_name("no tag here/"), None);
    }

    #[test]
    fn blob_paths_only_for_digests() {
        let dir = Path::new("/srv/oci");
        let hex = "a".repeat(64);
        assert_eq!(
            blob_path(dir, &format!("sha256:{hex}")).unwrap(),
            PathBuf::from(format!("/srv/oci/blobs/sha256/{hex}"))
        );
        assert!(blob_path(dir, "sha256:../../etc/passwd").is_none());
        assert!(blob_path(dir, "../x").is_none());
    }
}
