//! Manifests of every media type: the Accept list, classification by Content-Type then by
//! sniffing, the CVE-2021-41190 ambiguity check, and the parsed forms callers work with.

use bytes::Bytes;
use oci_spec::image::{ImageIndex, ImageManifest};

use crate::digest::Digest;
use crate::error::OciError;

/// Media types ocicat knows by name.
pub mod media_types {
    /// OCI image manifest.
    pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// OCI image index.
    pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// Docker image manifest v2 schema 2.
    pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
    /// Docker manifest list.
    pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
    /// Deprecated OCI artifact manifest (image-spec 1.1 release candidates).
    pub const OCI_ARTIFACT_MANIFEST: &str = "application/vnd.oci.artifact.manifest.v1+json";
    /// The withdrawn ORAS artifact manifest, still stored by some registries (ACR): the same
    /// shape as the OCI artifact manifest.
    pub const ORAS_ARTIFACT_MANIFEST: &str = "application/vnd.cncf.oras.artifact.manifest.v1+json";
    /// Docker schema 1, signed.
    pub const DOCKER_SCHEMA1_SIGNED: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    /// Docker schema 1, unsigned.
    pub const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+json";
    /// OCI image config.
    pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// Docker image config.
    pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
    /// The empty descriptor's media type (`{}`).
    pub const OCI_EMPTY: &str = "application/vnd.oci.empty.v1+json";

    /// True for a config blob worth reading as JSON: a JSON media type, not the empty
    /// descriptor (`{}`). The crawler reads such configs (within its cap) and pages offer them
    /// as raw JSON (within theirs).
    pub fn is_json_config(media_type: &str) -> bool {
        media_type != OCI_EMPTY && media_type.ends_with("json")
    }

    /// The Accept header sent on every manifest request; 2.8.2 hides OCI content without it.
    pub const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.oci.artifact.manifest.v1+json, application/vnd.cncf.oras.artifact.manifest.v1+json, \
application/vnd.docker.distribution.manifest.v1+prettyjws, \
application/vnd.docker.distribution.manifest.v1+json, */*";
}

/// The parsed body of a manifest document.
#[derive(Debug, Clone)]
pub enum ManifestBody {
    /// An OCI or Docker v2 image manifest (also used for artifacts).
    Image(Box<ImageManifest>),
    /// An OCI index or Docker manifest list.
    Index(Box<ImageIndex>),
    /// Docker schema 1: shown read-only, never descended into.
    Schema1,
}

/// A manifest as fetched: its verified digest, the media type it was served as, the raw bytes
/// (the only form ever hashed) and the parsed body.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The digest of `raw`, verified against the request and `Docker-Content-Digest`.
    pub digest: Digest,
    /// The resolved media type (Content-Type, or sniffed when the registry sent none useful).
    pub media_type: String,
    /// The exact bytes served.
    pub raw: Bytes,
    /// The parsed document.
    pub body: ManifestBody,
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Shape {
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<serde_json::Value>,
    #[serde(default)]
    layers: Option<serde_json::Value>,
    #[serde(default)]
    config: Option<serde_json::Value>,
    #[serde(default)]
    blobs: Option<serde_json::Value>,
    #[serde(default)]
    fs_layers: Option<serde_json::Value>,
}

/// Parses `raw` served with `content_type`; rejects ambiguous documents and mismatched types.
pub(crate) fn parse_manifest(
    url: &str,
    content_type: Option<&str>,
    raw: &[u8],
) -> Result<(String, ManifestBody), OciError> {
    let invalid = |reason: String| OciError::InvalidDocument { url: url.to_owned(), reason };
    let shape: Shape = serde_json::from_slice(raw).map_err(|error| invalid(format!("not a json manifest: {error}")))?;
    if shape.manifests.is_some() && (shape.layers.is_some() || shape.config.is_some()) {
        return Err(invalid("ambiguous document: both manifests and layers/config".into()));
    }
    let content_type =
        content_type.map(|value| value.split(';').next().unwrap_or("").trim().to_ascii_lowercase()).filter(|value| {
            !value.is_empty()
                && value != "application/json"
                && value != "application/octet-stream"
                && value != "text/plain"
        });
    if let (Some(declared), Some(served)) = (&shape.media_type, &content_type) {
        if declared != served {
            return Err(invalid(format!("mediaType {declared:?} differs from content-type {served:?}")));
        }
    }
    let sniffed = if shape.manifests.is_some() {
        media_types::OCI_INDEX
    } else if shape.fs_layers.is_some() {
        media_types::DOCKER_SCHEMA1_SIGNED
    } else if shape.blobs.is_some() {
        media_types::OCI_ARTIFACT_MANIFEST
    } else {
        media_types::OCI_MANIFEST
    };
    let media_type = content_type.or(shape.media_type).unwrap_or_else(|| sniffed.to_owned());
    let image_type = matches!(media_type.as_str(), media_types::OCI_MANIFEST | media_types::DOCKER_MANIFEST);
    if image_type && shape.manifests.is_some() {
        return Err(invalid(format!("an index-shaped document served as {media_type}")));
    }
    let body = match media_type.as_str() {
        media_types::OCI_INDEX | media_types::DOCKER_MANIFEST_LIST => ManifestBody::Index(Box::new(
            serde_json::from_slice(raw).map_err(|error| invalid(format!("bad index: {error}")))?,
        )),
        media_types::DOCKER_SCHEMA1 | media_types::DOCKER_SCHEMA1_SIGNED => ManifestBody::Schema1,
        media_types::OCI_ARTIFACT_MANIFEST | media_types::ORAS_ARTIFACT_MANIFEST => {
            ManifestBody::Image(Box::new(artifact_manifest_as_image(raw).map_err(invalid)?))
        }
        _ if shape.manifests.is_some() => ManifestBody::Index(Box::new(
            serde_json::from_slice(raw).map_err(|error| invalid(format!("bad index: {error}")))?,
        )),
        _ => ManifestBody::Image(Box::new(
            serde_json::from_slice(raw).map_err(|error| invalid(format!("bad image manifest: {error}")))?,
        )),
    };
    Ok((media_type, body))
}

/// Reads a deprecated artifact manifest (`blobs`, no `config`) as an image manifest with an empty config.
fn artifact_manifest_as_image(raw: &[u8]) -> Result<ImageManifest, String> {
    let mut value: serde_json::Value = serde_json::from_slice(raw).map_err(|error| error.to_string())?;
    let object = value.as_object_mut().ok_or("artifact manifest is not an object")?;
    let blobs = object.remove("blobs").unwrap_or(serde_json::Value::Array(Vec::new()));
    object.insert("layers".into(), blobs);
    object.insert("schemaVersion".into(), 2.into());
    object.insert(
        "config".into(),
        serde_json::json!({"mediaType": media_types::OCI_EMPTY, "size": 2,
            "digest": "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"}),
    );
    serde_json::from_value(value).map_err(|error| error.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_configs_are_json_media_types_but_the_empty_descriptor() {
        use super::media_types::{OCI_CONFIG, OCI_EMPTY, is_json_config};
        assert!(is_json_config(OCI_CONFIG));
        assert!(is_json_config("application/vnd.cncf.helm.config.v1+json"));
        assert!(!is_json_config(OCI_EMPTY));
        assert!(!is_json_config("application/vnd.wasm.config.v0+wasm"));
    }

    const IMAGE: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
      "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},
      "layers":[]}"#;

    #[test]
    fn image_manifest_parses_by_content_type() {
        let (media_type, body) =
            parse_manifest("u", Some("application/vnd.oci.image.manifest.v1+json"), IMAGE.as_bytes()).unwrap();
        assert_eq!(media_type, media_types::OCI_MANIFEST);
        assert!(matches!(body, ManifestBody::Image(_)));
    }

    #[test]
    fn ambiguous_manifest_and_index_is_rejected() {
        let raw = r#"{"schemaVersion":2,"manifests":[],"layers":[],"config":{}}"#;
        let error = parse_manifest("u", None, raw.as_bytes()).unwrap_err();
        assert!(error.to_string().contains("ambiguous"), "{error}");
    }

    #[test]
    fn media_type_that_contradicts_content_type_is_rejected() {
        let error = parse_manifest("u", Some(media_types::OCI_INDEX), IMAGE.as_bytes()).unwrap_err();
        assert!(error.to_string().contains("differs"), "{error}");
    }

    #[test]
    fn manifest_without_media_type_is_sniffed() {
        let raw = IMAGE.replace(r#""mediaType":"application/vnd.oci.image.manifest.v1+json","#, "");
        let (media_type, body) = parse_manifest("u", Some("application/octet-stream"), raw.as_bytes()).unwrap();
        assert_eq!(media_type, media_types::OCI_MANIFEST);
        assert!(matches!(body, ManifestBody::Image(_)));
    }

    #[test]
    fn deeply_nested_json_is_an_error_not_a_crash() {
        let raw = "[".repeat(10_000);
        assert!(parse_manifest("u", None, raw.as_bytes()).is_err());
    }
}
