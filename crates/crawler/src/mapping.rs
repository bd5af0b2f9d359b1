//! Turns a fetched manifest (and its config) into the catalog's [`ArtifactDoc`]: kind, artifact
//! type, platforms, sizes, dates, subject, annotations and labels — capped in count and length.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use ocicat_catalog::{ArtifactDoc, ChildRef, LayerRef};
use ocicat_oci::{Manifest, ManifestBody, classify, media_types};

/// Most annotations or labels kept per artifact.
const MAX_ANNOTATIONS: usize = 256;
/// Longest annotation value kept; longer ones are truncated.
const MAX_ANNOTATION_VALUE: usize = 4096;
/// Most annotations kept per index descriptor.
const MAX_DESCRIPTOR_ANNOTATIONS: usize = 64;
/// Largest config whose summary is kept for display.
const MAX_CONFIG_JSON: usize = 64 << 10;
/// The annotation that names a layer's file.
const TITLE: &str = "org.opencontainers.image.title";

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
        manifest_size: manifest.raw.len() as u64,
        ..ArtifactDoc::new(registry, repository, manifest.digest.to_string())
    };
    match &manifest.body {
        ManifestBody::Schema1 => {}
        ManifestBody::Image(image) => {
            document.config_media_type = Some(image.config().media_type().to_string());
            document.config = Some(LayerRef {
                media_type: image.config().media_type().to_string(),
                digest: image.config().digest().to_string(),
                size: image.config().size(),
                title: None,
                annotations: BTreeMap::new(),
            });
            document.size += image.config().size();
            document.subject = image.subject().as_ref().map(|subject| subject.digest().to_string());
            document.annotations = capped(image.annotations().clone().unwrap_or_default());
            for layer in image.layers() {
                document.size += layer.size();
                document.layers.push(LayerRef {
                    media_type: layer.media_type().to_string(),
                    digest: layer.digest().to_string(),
                    size: layer.size(),
                    title: layer.annotations().as_ref().and_then(|a| a.get(TITLE)).cloned(),
                    annotations: layer_annotations(layer.annotations().as_ref()),
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

/// A layer descriptor's annotations but its title (kept apart): at most
/// [`MAX_DESCRIPTOR_ANNOTATIONS`], keys capped like other annotations, values whole (a cosign
/// bundle is longer than an annotation value may be; the manifest's cap bounds them).
fn layer_annotations(annotations: Option<&std::collections::HashMap<String, String>>) -> BTreeMap<String, String> {
    let mut kept: BTreeMap<String, String> = annotations
        .into_iter()
        .flatten()
        .filter(|(key, _)| key.as_str() != TITLE)
        .map(|(key, value)| (key.chars().take(256).collect(), value.clone()))
        .collect();
    while kept.len() > MAX_DESCRIPTOR_ANNOTATIONS {
        kept.pop_last();
    }
    kept
}

/// True for the config media types of container images (OCI and Docker).
fn is_image_config(media_type: Option<&str>) -> bool {
    matches!(media_type, Some(media_types::OCI_CONFIG | media_types::DOCKER_CONFIG))
}

/// What pages read of a config (see [`ArtifactDoc::config_summary`]): an image config's
/// `config` without its labels and its `history`; any other JSON config whole. `None` for a
/// config larger than [`MAX_CONFIG_JSON`] or one that is not JSON.
fn config_summary(media_type: Option<&str>, raw_config: &[u8]) -> Option<String> {
    if raw_config.len() > MAX_CONFIG_JSON {
        return None;
    }
    let mut value: serde_json::Value = serde_json::from_slice(raw_config).ok()?;
    if !is_image_config(media_type) {
        return std::str::from_utf8(raw_config).ok().map(str::to_owned);
    }
    let object = value.as_object_mut()?;
    let mut kept = serde_json::Map::new();
    if let Some(mut settings) = object.remove("config") {
        if let Some(settings) = settings.as_object_mut() {
            settings.remove("Labels");
        }
        kept.insert("config".into(), settings);
    }
    if let Some(history) = object.remove("history") {
        kept.insert("history".into(), history);
    }
    (!kept.is_empty()).then(|| serde_json::Value::Object(kept).to_string())
}

fn apply_config(document: &mut ArtifactDoc, raw_config: &[u8]) {
    document.config_summary = config_summary(document.config_media_type.as_deref(), raw_config);
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

    fn manifest_of(raw: &'static [u8]) -> Manifest {
        let (media_type, body) = ocicat_oci::parse::manifest(None, raw).unwrap();
        Manifest { digest: ocicat_oci::Digest::sha256(raw), media_type, raw: raw.to_vec().into(), body }
    }

    #[test]
    fn an_image_keeps_its_config_descriptor_and_what_pages_read_of_the_config_not_its_diff_ids() {
        let manifest = manifest_of(
            br#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:1111111111111111111111111111111111111111111111111111111111111111","size":321},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:2222222222222222222222222222222222222222222222222222222222222222","size":9}]}"#,
        );
        let config = br#"{"architecture":"amd64","os":"linux","config":{"Cmd":["/app"],"Labels":{"team":"core"}},"rootfs":{"type":"layers","diff_ids":["sha256:3333333333333333333333333333333333333333333333333333333333333333"]},"history":[{"created_by":"COPY . /app"}]}"#;
        let document = artifact_doc("r", "x", &manifest, Some(config));
        assert_eq!(document.manifest_size, manifest.raw.len() as u64);
        let descriptor = document.config.as_ref().expect("the config descriptor");
        assert_eq!(
            (descriptor.digest.as_str(), descriptor.size),
            ("sha256:1111111111111111111111111111111111111111111111111111111111111111", 321)
        );
        assert_eq!(document.labels.get("team").map(String::as_str), Some("core"));
        let summary: serde_json::Value = serde_json::from_str(document.config_summary.as_deref().unwrap()).unwrap();
        assert_eq!(
            summary,
            serde_json::json!({"config": {"Cmd": ["/app"]}, "history": [{"created_by": "COPY . /app"}]}),
            "run settings and history only: no labels (kept apart), no rootfs"
        );
        assert!(!document.config_summary.unwrap().contains("3333"), "no diff ids");
    }

    #[test]
    fn other_configs_are_kept_whole_when_small_json_and_not_otherwise() {
        assert_eq!(
            config_summary(Some("application/vnd.cncf.helm.config.v1+json"), br#"{"name":"nginx","version":"1"}"#)
                .as_deref(),
            Some(r#"{"name":"nginx","version":"1"}"#)
        );
        assert_eq!(config_summary(Some(media_types::OCI_CONFIG), b"not json"), None);
        let large = format!(r#"{{"history":[{}]}}"#, vec![r#"{"created_by":"x"}"#; 10_000].join(","));
        assert_eq!(config_summary(Some(media_types::OCI_CONFIG), large.as_bytes()), None, "over the cap");
    }

    #[test]
    fn layer_annotations_but_the_title_are_kept_whole_and_capped_in_count() {
        let bundle = "b".repeat(3 * MAX_ANNOTATION_VALUE);
        let mut annotations: std::collections::HashMap<String, String> =
            (0..100).map(|i| (format!("k{i:03}"), "v".to_owned())).collect();
        annotations.insert("dev.sigstore.cosign/bundle".into(), bundle.clone());
        annotations.insert(TITLE.into(), "sbom.json".into());
        let kept = layer_annotations(Some(&annotations));
        assert_eq!(kept.len(), MAX_DESCRIPTOR_ANNOTATIONS);
        assert!(!kept.contains_key(TITLE), "the title has its own field");
        assert_eq!(kept.get("dev.sigstore.cosign/bundle"), Some(&bundle), "a bundle is not cut");
        assert!(layer_annotations(None).is_empty());
    }
}
