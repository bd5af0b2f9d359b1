//! Turns a fetched manifest (and its config) into the catalog's [`ArtifactDoc`]: kind, artifact
//! type, platforms, sizes, dates, subject, annotations and labels — capped in count and length.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use ocicat_catalog::{ArtifactDoc, ChildRef, LayerRef};
use ocicat_oci::{Manifest, ManifestBody, classify};

/// Most annotations or labels kept per artifact.
const MAX_ANNOTATIONS: usize = 256;
/// Longest annotation value kept; longer ones are truncated.
const MAX_ANNOTATION_VALUE: usize = 4096;
/// Most annotations kept per index descriptor.
const MAX_DESCRIPTOR_ANNOTATIONS: usize = 64;
/// Largest config kept for display.
const MAX_CONFIG_JSON: usize = 64 << 10;

/// The parts of an image config that pages show.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ConfigSummary {
    #[serde(default)]
    created: Option<String>,
    #[serde(default)]
    architecture: Option<String>,
    #[serde(default)]
    os: Option<String>,
    #[serde(default)]
    variant: Option<String>,
    #[serde(default)]
    config: Option<ContainerConfig>,
}

#[derive(Debug, Default, serde::Deserialize)]
struct ContainerConfig {
    #[serde(default, rename = "Labels")]
    labels: Option<BTreeMap<String, String>>,
}

/// Parses a date as RFC 3339 or a plain `yyyy-mm-dd` (both appear in the wild). Placeholder
/// dates such as `0001-01-01` (reproducible builds) and dates past 9999 count as unknown.
pub(crate) fn parse_date(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let parsed = match DateTime::parse_from_rfc3339(text) {
        Ok(date) => Some(date.with_timezone(&Utc)),
        Err(_) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|date| date.and_hms_opt(0, 0, 0))
            .map(|date| date.and_utc()),
    };
    parsed.filter(|date| (1970..=9999).contains(&chrono::Datelike::year(date)))
}

fn capped(map: impl IntoIterator<Item = (String, String)>) -> BTreeMap<String, String> {
    map.into_iter()
        .take(MAX_ANNOTATIONS)
        .map(|(key, value)| {
            let key: String = key.chars().take(256).collect();
            let value: String = value.chars().take(MAX_ANNOTATION_VALUE).collect();
            (key, value)
        })
        .collect()
}

fn platform_text(os: &str, architecture: &str, variant: Option<&str>) -> String {
    match variant.filter(|variant| !variant.is_empty()) {
        Some(variant) => format!("{os}/{architecture}/{variant}"),
        None => format!("{os}/{architecture}"),
    }
}

/// Builds the document for `manifest` in `registry`/`repository`; `config` is the raw config blob
/// when it was fetched.
pub(crate) fn artifact_doc(
    registry: &str,
    repository: &str,
    manifest: &Manifest,
    config: Option<&[u8]>,
) -> ArtifactDoc {
    let (kind, artifact_type) = classify(manifest);
    let mut document = ArtifactDoc {
        kind,
        media_type: manifest.media_type.clone(),
        artifact_type,
        size: manifest.raw.len() as u64,
        manifest_json: String::from_utf8_lossy(&manifest.raw).into_owned(),
        ..ArtifactDoc::new(registry, repository, manifest.digest.to_string())
    };
    match &manifest.body {
        ManifestBody::Schema1 => {}
        ManifestBody::Image(image) => {
            document.config_media_type = Some(image.config().media_type().to_string());
            document.size += image.config().size();
            document.subject = image.subject().as_ref().map(|subject| subject.digest().to_string());
            document.annotations = capped(image.annotations().clone().unwrap_or_default());
            for layer in image.layers() {
                document.size += layer.size();
                document.layers.push(LayerRef {
                    media_type: layer.media_type().to_string(),
                    digest: layer.digest().to_string(),
                    size: layer.size(),
                    title: layer.annotations().as_ref().and_then(|a| a.get("org.opencontainers.image.title")).cloned(),
                });
            }
            if let Some(raw_config) = config {
                apply_config(&mut document, raw_config);
            }
        }
        ManifestBody::Index(index) => {
            document.subject = index.subject().as_ref().map(|subject| subject.digest().to_string());
            document.annotations = capped(index.annotations().clone().unwrap_or_default());
            for child in index.manifests() {
                let annotations = child.annotations().clone().unwrap_or_default();
                let attests = (annotations.get("vnd.docker.reference.type").map(String::as_str)
                    == Some("attestation-manifest"))
                .then(|| annotations.get("vnd.docker.reference.digest").cloned())
                .flatten();
                let platform = child
                    .platform()
                    .as_ref()
                    .map(|p| platform_text(&p.os().to_string(), &p.architecture().to_string(), p.variant().as_deref()));
                if let Some(platform) = platform.as_ref().filter(|p| attests.is_none() && !p.starts_with("unknown/")) {
                    if !document.platforms.contains(platform) {
                        document.platforms.push(platform.clone());
                    }
                }
                document.size += child.size();
                document.children.push(ChildRef {
                    media_type: child.media_type().to_string(),
                    digest: child.digest().to_string(),
                    size: child.size(),
                    platform,
                    attests,
                    annotations: capped(annotations.into_iter().take(MAX_DESCRIPTOR_ANNOTATIONS)),
                });
            }
        }
    }
    document.created = ["org.opencontainers.image.created", "org.opencontainers.artifact.created"]
        .iter()
        .find_map(|key| document.annotations.get(*key).and_then(|value| parse_date(value)))
        .or(document.created);
    document
}

fn apply_config(document: &mut ArtifactDoc, raw_config: &[u8]) {
    if raw_config.len() <= MAX_CONFIG_JSON {
        document.config_json = std::str::from_utf8(raw_config).ok().map(str::to_owned);
    }
    let Ok(summary) = serde_json::from_slice::<ConfigSummary>(raw_config) else { return };
    document.created = summary.created.as_deref().and_then(parse_date);
    let os = summary.os.as_deref().filter(|text| !text.is_empty());
    let architecture = summary.architecture.as_deref().filter(|text| !text.is_empty());
    if let (Some(os), Some(architecture)) = (os, architecture) {
        document.platforms.push(platform_text(os, architecture, summary.variant.as_deref()));
    }
    document.labels = capped(summary.config.and_then(|config| config.labels).unwrap_or_default());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_parse_in_both_lifecycle_forms() {
        assert_eq!(parse_date("2024-06-30").unwrap().to_rfc3339(), "2024-06-30T00:00:00+00:00");
        assert_eq!(parse_date("2023-05-12T21:15:10.8343521Z").unwrap().timestamp(), 1683926110);
        assert!(parse_date("next tuesday").is_none());
        assert!(parse_date("0001-01-01T00:00:00Z").is_none());
    }

    #[test]
    fn a_config_without_os_or_architecture_names_no_platform() {
        let raw = br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
        let (media_type, body) = ocicat_oci::parse::manifest(None, raw).unwrap();
        let manifest = Manifest { digest: ocicat_oci::Digest::sha256(raw), media_type, raw: raw.to_vec().into(), body };
        let empty = artifact_doc("r", "x", &manifest, Some(br#"{"architecture":"","os":""}"#));
        assert!(empty.platforms.is_empty(), "{:?}", empty.platforms);
        let arm = artifact_doc("r", "x", &manifest, Some(br#"{"architecture":"arm64","os":"linux","variant":"v8"}"#));
        assert_eq!(arm.platforms, ["linux/arm64/v8"]);
    }

    #[test]
    fn annotations_are_capped_in_count_and_length() {
        let many = (0..1000).map(|i| (format!("k{i:04}"), "v".repeat(10_000)));
        let kept = capped(many);
        assert_eq!(kept.len(), MAX_ANNOTATIONS);
        assert!(kept.values().all(|value| value.len() == MAX_ANNOTATION_VALUE));
    }
}
