//! What an artifact is: its artifactType resolved in the image spec's order, and a coarse kind
//! (image, index, Helm chart, WASM, SBOM, signature, attestation, scan, lifecycle, other).

use crate::manifest::{Manifest, ManifestBody, media_types};

/// The coarse kinds ocicat shows with an icon and filters by.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ArtifactKind {
    /// A container image.
    Image,
    /// A multi-platform index (or any index without an artifact type).
    Index,
    /// A Helm chart.
    Helm,
    /// A WebAssembly module or component.
    Wasm,
    /// A software bill of materials (SPDX, CycloneDX, syft).
    Sbom,
    /// A signature (cosign, notation, sigstore bundle).
    Signature,
    /// An attestation (in-toto statement, DSSE envelope, buildx provenance).
    Attestation,
    /// A vulnerability scan report (SARIF, Trivy).
    Scan,
    /// Lifecycle metadata such as an end-of-life date.
    Lifecycle,
    /// A build record (buildkit's history record of a build).
    BuildRecord,
    /// Anything else (and any name this version does not know).
    #[default]
    #[serde(other)]
    Other,
}

impl ArtifactKind {
    /// Every kind, in the order pages list them.
    pub const ALL: [ArtifactKind; 11] = [
        ArtifactKind::Image,
        ArtifactKind::Index,
        ArtifactKind::Helm,
        ArtifactKind::Wasm,
        ArtifactKind::Sbom,
        ArtifactKind::Signature,
        ArtifactKind::Attestation,
        ArtifactKind::Scan,
        ArtifactKind::Lifecycle,
        ArtifactKind::BuildRecord,
        ArtifactKind::Other,
    ];

    /// The kind named `name` (as [`ArtifactKind::as_str`] writes it); any other name is `Other`.
    pub fn from_name(name: &str) -> ArtifactKind {
        ArtifactKind::ALL.into_iter().find(|kind| kind.as_str() == name).unwrap_or(ArtifactKind::Other)
    }

    /// The lowercase name used in the index and in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            ArtifactKind::Image => "image",
            ArtifactKind::Index => "index",
            ArtifactKind::Helm => "helm",
            ArtifactKind::Wasm => "wasm",
            ArtifactKind::Sbom => "sbom",
            ArtifactKind::Signature => "signature",
            ArtifactKind::Attestation => "attestation",
            ArtifactKind::Scan => "scan",
            ArtifactKind::Lifecycle => "lifecycle",
            ArtifactKind::BuildRecord => "build-record",
            ArtifactKind::Other => "other",
        }
    }
}

impl std::fmt::Display for ArtifactKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn is_image_config(media_type: &str) -> bool {
    media_type == media_types::OCI_CONFIG || media_type == media_types::DOCKER_CONFIG
}

fn is_image_layer(media_type: &str) -> bool {
    media_type.starts_with("application/vnd.oci.image.layer.")
        || media_type.starts_with("application/vnd.docker.image.rootfs.")
}

/// The annotation cosign and sigstore put on a bundle manifest naming the DSSE predicate inside.
pub const SIGSTORE_PREDICATE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";

fn is_sigstore_bundle(artifact_type: Option<&str>) -> bool {
    artifact_type.is_some_and(|value| value.to_ascii_lowercase().starts_with("application/vnd.dev.sigstore.bundle"))
}

/// True when an in-toto predicate type only says "signed by" (cosign's `sign` statement in the
/// new bundle format), as opposed to a statement about the subject (SBOM, provenance, scan…).
fn is_signing_predicate(predicate_type: &str) -> bool {
    predicate_type.to_ascii_lowercase().trim_end_matches('/').starts_with("https://sigstore.dev/cosign/sign/")
}

/// True when an in-toto predicate type names an SBOM (SPDX or CycloneDX).
pub fn is_sbom_predicate(predicate_type: &str) -> bool {
    let lower = predicate_type.to_ascii_lowercase();
    lower.contains("spdx") || lower.contains("cyclonedx")
}

/// Maps an artifact type or layer media type to a kind, if it names one we know.
fn kind_of_type(media_type: &str) -> Option<ArtifactKind> {
    let lower = media_type.to_ascii_lowercase();
    let kind = if lower.starts_with("application/vnd.buildkit.historyrecord.") {
        ArtifactKind::BuildRecord
    } else if lower.starts_with("application/vnd.cncf.helm.") {
        ArtifactKind::Helm
    } else if lower.starts_with("application/vnd.wasm.") || lower == "application/wasm" || lower.contains("module.wasm")
    {
        ArtifactKind::Wasm
    } else if lower.contains("spdx") || lower.contains("cyclonedx") || lower.contains("syft") {
        ArtifactKind::Sbom
    } else if lower.contains("sarif") || lower.contains("trivy.report") || lower.contains("vulnerability.report") {
        ArtifactKind::Scan
    } else if lower.contains("cosign.simplesigning")
        || lower.contains("notary.signature")
        || lower.contains("cosign.artifact.sig")
        || lower.starts_with("application/vnd.dev.sigstore.bundle")
    {
        ArtifactKind::Signature
    } else if lower.contains("in-toto") || lower.contains("dsse.envelope") || lower.contains("docker.attestation") {
        ArtifactKind::Attestation
    } else if lower == "application/vnd.microsoft.artifact.lifecycle" {
        ArtifactKind::Lifecycle
    } else {
        return None;
    };
    Some(kind)
}

/// Resolves the artifact type (manifest `artifactType`, else a non-image `config.mediaType`)
/// and the kind of `manifest`.
pub fn classify(manifest: &Manifest) -> (ArtifactKind, Option<String>) {
    match &manifest.body {
        ManifestBody::Schema1 => (ArtifactKind::Image, None),
        ManifestBody::Index(index) => {
            let artifact_type = index.artifact_type().as_ref().map(ToString::to_string);
            let kind = artifact_type.as_deref().and_then(kind_of_type).unwrap_or(ArtifactKind::Index);
            (kind, artifact_type)
        }
        ManifestBody::Image(image) => {
            let config_type = image.config().media_type().to_string();
            let artifact_type =
                image.artifact_type().as_ref().map(ToString::to_string).filter(|value| !value.is_empty()).or_else(
                    || {
                        (!is_image_config(&config_type) && config_type != media_types::OCI_EMPTY)
                            .then(|| config_type.clone())
                    },
                );
            if let Some(kind) = artifact_type.as_deref().and_then(kind_of_type) {
                // A sigstore bundle whose DSSE statement says something about the subject (an
                // SBOM, provenance, a scan) attests; one without a predicate, or with cosign's
                // plain signing predicate, signs.
                let predicate = image
                    .annotations()
                    .as_ref()
                    .and_then(|annotations| annotations.get(SIGSTORE_PREDICATE_ANNOTATION))
                    .filter(|predicate| !predicate.is_empty() && !is_signing_predicate(predicate));
                if kind == ArtifactKind::Signature
                    && is_sigstore_bundle(artifact_type.as_deref())
                    && predicate.is_some()
                {
                    return (ArtifactKind::Attestation, artifact_type);
                }
                return (kind, artifact_type);
            }
            let layer_types: Vec<String> = image.layers().iter().map(|layer| layer.media_type().to_string()).collect();
            if let Some(kind) = layer_types.iter().find_map(|layer_type| kind_of_type(layer_type)) {
                return (kind, artifact_type.or_else(|| layer_types.first().cloned()));
            }
            if artifact_type.is_none() && (layer_types.is_empty() || layer_types.iter().all(|t| is_image_layer(t))) {
                return (ArtifactKind::Image, None);
            }
            (ArtifactKind::Other, artifact_type)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn kinds_read_back_from_their_names_and_unknown_names_are_other() {
        for kind in super::ArtifactKind::ALL {
            assert_eq!(super::ArtifactKind::from_name(kind.as_str()), kind);
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(serde_json::from_str::<super::ArtifactKind>(&json).unwrap(), kind);
        }
        assert_eq!(super::ArtifactKind::from_name("tomorrow's kind"), super::ArtifactKind::Other);
        assert_eq!(serde_json::from_str::<super::ArtifactKind>("\"tomorrow\"").unwrap(), super::ArtifactKind::Other);
    }

    use super::*;
    use crate::digest::Digest;
    use crate::manifest::parse_manifest;

    fn manifest(raw: &str) -> Manifest {
        let (media_type, body) = parse_manifest("u", None, raw.as_bytes()).unwrap();
        Manifest { digest: Digest::sha256(raw.as_bytes()), media_type, raw: raw.to_owned().into(), body }
    }

    const EMPTY: &str = r#"{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}"#;

    #[test]
    fn artifact_type_wins_over_config() {
        let raw =
            format!(r#"{{"schemaVersion":2,"artifactType":"application/spdx+json","config":{EMPTY},"layers":[]}}"#);
        assert_eq!(classify(&manifest(&raw)), (ArtifactKind::Sbom, Some("application/spdx+json".into())));
    }

    #[test]
    fn helm_chart_is_known_by_its_config_media_type() {
        let raw = r#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}"#;
        assert_eq!(classify(&manifest(raw)).0, ArtifactKind::Helm);
    }

    #[test]
    fn cosign_legacy_signature_is_known_by_its_layer() {
        let raw = r#"{"schemaVersion":2,"config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},
          "layers":[{"mediaType":"application/vnd.dev.cosign.simplesigning.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}]}"#;
        assert_eq!(classify(&manifest(raw)).0, ArtifactKind::Signature);
    }

    #[test]
    fn plain_index_is_an_index_and_lifecycle_is_lifecycle() {
        assert_eq!(classify(&manifest(r#"{"schemaVersion":2,"manifests":[]}"#)).0, ArtifactKind::Index);
        let raw = format!(
            r#"{{"schemaVersion":2,"artifactType":"application/vnd.microsoft.artifact.lifecycle","config":{EMPTY},"layers":[]}}"#
        );
        assert_eq!(classify(&manifest(&raw)).0, ArtifactKind::Lifecycle);
    }

    const IN_TOTO_LAYER: &str = r#"{"mediaType":"application/vnd.in-toto+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}"#;

    #[test]
    fn a_sigstore_bundle_carrying_a_statement_attests_and_a_bare_one_signs() {
        let bundle = "application/vnd.dev.sigstore.bundle.v0.3+json";
        let signed = format!(r#"{{"schemaVersion":2,"artifactType":"{bundle}","config":{EMPTY},"layers":[]}}"#);
        assert_eq!(classify(&manifest(&signed)).0, ArtifactKind::Signature);
        // cosign's new bundle format names its plain signing statement too; that still signs.
        let cosign_signed = format!(
            r#"{{"schemaVersion":2,"artifactType":"{bundle}","config":{EMPTY},"layers":[],"annotations":{{"dev.sigstore.bundle.predicateType":"https://sigstore.dev/cosign/sign/v1"}}}}"#
        );
        assert_eq!(classify(&manifest(&cosign_signed)).0, ArtifactKind::Signature);
        for predicate in ["https://cyclonedx.org/bom", "https://spdx.dev/Document", "https://slsa.dev/provenance/v1"] {
            let attesting = format!(
                r#"{{"schemaVersion":2,"artifactType":"{bundle}","config":{EMPTY},"layers":[],"annotations":{{"dev.sigstore.bundle.predicateType":"{predicate}"}}}}"#
            );
            assert_eq!(classify(&manifest(&attesting)).0, ArtifactKind::Attestation, "{predicate}");
        }
        assert!(is_sbom_predicate("https://cyclonedx.org/bom") && is_sbom_predicate("https://spdx.dev/Document"));
        assert!(!is_sbom_predicate("https://slsa.dev/provenance/v1"));
    }

    #[test]
    fn a_buildkit_history_record_is_a_build_record_not_an_attestation() {
        let raw = format!(
            r#"{{"schemaVersion":2,"config":{{"mediaType":"application/vnd.buildkit.historyrecord.v0","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}},"layers":[{IN_TOTO_LAYER}]}}"#
        );
        assert_eq!(classify(&manifest(&raw)).0, ArtifactKind::BuildRecord);
        assert_eq!(ArtifactKind::BuildRecord.as_str(), "build-record");
    }

    #[test]
    fn the_withdrawn_oras_artifact_manifest_reads_like_the_oci_artifact_manifest() {
        let raw = format!(
            r#"{{"mediaType":"application/vnd.cncf.oras.artifact.manifest.v1+json","artifactType":"application/spdx+json","blobs":[{IN_TOTO_LAYER}],"subject":{{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}}}}"#
        );
        let parsed = manifest(&raw);
        assert_eq!(parsed.media_type, media_types::ORAS_ARTIFACT_MANIFEST);
        assert_eq!(classify(&parsed).0, ArtifactKind::Sbom);
        let ManifestBody::Image(image) = &parsed.body else { panic!("read as an image manifest") };
        assert!(image.subject().is_some(), "its subject is kept");
        assert_eq!(image.layers().len(), 1, "its blobs are its layers");
    }
}
