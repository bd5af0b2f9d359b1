//! Which bytes a download request may name: the artifact's manifest, its config, or one of its
//! layers — checked against the indexed document, so nothing else in the registry is reachable.

use ocicat_catalog::ArtifactDoc;
use ocicat_oci::Digest;

use crate::ContentError;

/// A part of an indexed artifact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// The manifest (or index) itself.
    Manifest,
    /// The blob with this digest: the config or a layer.
    Blob(String),
}

/// Whether a target is fetched as a manifest or as a blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// `GET /v2/<repo>/manifests/<digest>`.
    Manifest,
    /// `GET /v2/<repo>/blobs/<digest>`.
    Blob,
}

/// A resolved download: where it lives, its digest and announced size, and a safe file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The registry's configured name.
    pub registry: String,
    /// The repository.
    pub repository: String,
    /// What the bytes must hash to.
    pub digest: Digest,
    /// The size the manifest announced (the cap for a blob; 0 for a manifest, capped by the client).
    pub size: u64,
    /// Manifest or blob.
    pub kind: TargetKind,
    /// The media type the manifest gave it (shown, never sent as the response's type).
    pub media_type: String,
    /// A file name for `Content-Disposition`: the title annotation, made safe, else the digest.
    pub file_name: String,
}

impl Target {
    /// Resolves `part` of `artifact`.
    pub fn resolve(artifact: &ArtifactDoc, part: &Part) -> Result<Target, ContentError> {
        let base = |digest: &str, size: u64, kind, media_type: &str, title: Option<&str>| {
            let digest = crate::stored_digest(artifact, digest)?;
            Ok(Target {
                registry: artifact.registry.clone(),
                repository: artifact.repository.clone(),
                file_name: file_name(title, &digest, media_type),
                digest,
                size,
                kind,
                media_type: media_type.to_owned(),
            })
        };
        match part {
            Part::Manifest => base(&artifact.digest, 0, TargetKind::Manifest, &artifact.media_type, None),
            Part::Blob(wanted) => {
                if let Some(layer) = artifact.layers.iter().find(|layer| &layer.digest == wanted) {
                    return base(
                        &layer.digest,
                        layer.size,
                        TargetKind::Blob,
                        &layer.media_type,
                        layer.title.as_deref(),
                    );
                }
                match &artifact.config {
                    Some(config) if &config.digest == wanted => {
                        base(&config.digest, config.size, TargetKind::Blob, &config.media_type, None)
                    }
                    _ => Err(ContentError::NotPart(wanted.clone())),
                }
            }
        }
    }
}

/// A file name safe in a quoted `Content-Disposition` parameter and on every file system: the
/// title's last path segment with only `[A-Za-z0-9._-]` kept (at most 100 characters, not
/// starting with a dot), else `<algorithm>-<hex>` with `.json` for JSON media types.
pub fn file_name(title: Option<&str>, digest: &Digest, media_type: &str) -> String {
    let from_title = title
        .and_then(|title| title.rsplit(['/', '\\']).next())
        .map(|name| {
            name.chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
                .take(100)
                .collect::<String>()
        })
        .map(|name| name.trim_start_matches('.').to_owned())
        .filter(|name| !name.is_empty());
    from_title.unwrap_or_else(|| {
        let base = digest.to_string().replace(':', "-");
        let json = media_type.split(';').next().is_some_and(|essence| essence.trim().ends_with("json"));
        if json { format!("{base}.json") } else { base }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest() -> Digest {
        Digest::sha256(b"x")
    }

    #[test]
    fn file_names_keep_only_safe_characters() {
        assert_eq!(file_name(Some("sbom.spdx.json"), &digest(), "application/spdx+json"), "sbom.spdx.json");
        assert_eq!(file_name(Some("../../etc/passwd"), &digest(), ""), "passwd");
        assert_eq!(file_name(Some("a\"; filename=evil.html"), &digest(), ""), "afilenameevil.html");
        assert_eq!(
            file_name(Some("..."), &digest(), "application/json"),
            format!("{}.json", digest().to_string().replace(':', "-"))
        );
        assert_eq!(file_name(Some("rapport é.txt"), &digest(), ""), "rapport.txt");
        assert_eq!(file_name(None, &digest(), "application/octet-stream"), digest().to_string().replace(':', "-"));
        assert_eq!(file_name(Some(&"a".repeat(500)), &digest(), "").len(), 100);
    }
}
