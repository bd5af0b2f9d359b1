//! Reads the packages an SBOM lists (SPDX, CycloneDX, also inside in-toto statements and DSSE
//! envelopes, as SBOM artifacts, SBOM attestations and buildx attestation manifests carry them),
//! so `pkg:openssl version < 3.0.13` needs no registry call.

use std::collections::BTreeMap;

use ocicat_catalog::ArtifactDoc;
use ocicat_catalog::impact::{MAX_FACTS, PackageFact, license_ids, purl_type, versionless_purl};
use ocicat_formats::{Document, Hint};
use ocicat_oci::{ArtifactKind, Client, Digest, Manifest, ManifestBody};

/// Largest SBOM layer read; bigger ones are left unread (the viewer still offers them).
const MAX_SBOM_BYTES: u64 = 16 << 20;
/// Most layers of one artifact read for packages.
const MAX_LAYERS: usize = 4;
/// Longest name or version kept.
const MAX_TEXT: usize = 512;

/// The layers worth reading, with their annotations: those of an SBOM, and those of an
/// attestation that say (or do not say) which predicate they carry, skipping other predicates.
fn sbom_layers(document: &ArtifactDoc, manifest: &Manifest) -> Vec<(Digest, u64, String, BTreeMap<String, String>)> {
    if !matches!(document.kind, ArtifactKind::Sbom | ArtifactKind::Attestation) {
        return Vec::new();
    }
    let ManifestBody::Image(image) = &manifest.body else { return Vec::new() };
    image
        .layers()
        .iter()
        .filter(|layer| layer.media_type().to_string() != ocicat_oci::media_types::OCI_EMPTY)
        .filter_map(|layer| {
            let annotations: BTreeMap<String, String> =
                layer.annotations().clone().unwrap_or_default().into_iter().collect();
            let predicate = ["in-toto.io/predicate-type", "predicateType"]
                .iter()
                .chain([&ocicat_oci::SIGSTORE_PREDICATE_ANNOTATION])
                .find_map(|key| annotations.get(*key).or_else(|| document.annotations.get(*key)));
            let wanted = match predicate {
                Some(predicate) => ocicat_oci::is_sbom_predicate(predicate),
                None => true,
            };
            let digest = layer.digest().to_string().parse::<Digest>().ok()?;
            wanted.then(|| (digest, layer.size(), layer.media_type().to_string(), annotations))
        })
        .take(MAX_LAYERS)
        .collect()
}

fn cut(text: &str) -> String {
    text.chars().take(MAX_TEXT).collect()
}

/// The packages an artifact's SBOM layers list, and the tool that made them.
#[derive(Default)]
pub(crate) struct ReadSbom {
    pub(crate) packages: Vec<PackageFact>,
    pub(crate) producer: Option<String>,
}

/// Fetches the SBOM layers of `document` and keeps their packages (none when it carries no
/// SBOM, or one too large or in a form nothing here reads); `Err`: the registry failed or lied.
pub(crate) async fn read_packages(
    client: &Client,
    repository: &str,
    document: &ArtifactDoc,
    manifest: &Manifest,
) -> Result<ReadSbom, String> {
    let mut packages = Vec::new();
    let mut producer = None;
    for (digest, size, media_type, annotations) in sbom_layers(document, manifest) {
        if size > MAX_SBOM_BYTES {
            tracing::debug!(artifact.digest = %document.digest, size, "SBOM too large to index");
            continue;
        }
        let bytes = client
            .get_blob(repository, &digest)
            .await
            .map_err(|error| format!("{repository}@{} SBOM: {error}", document.digest))?;
        let artifact_type = document.artifact_type.clone();
        let read = tokio::task::spawn_blocking(move || {
            let unpacked = ocicat_formats::unpack::unpack(&bytes, &media_type).ok()?;
            let hint =
                Hint { media_type: &media_type, annotations: &annotations, artifact_type: artifact_type.as_deref() };
            match ocicat_formats::read(&unpacked, &hint) {
                Ok(Document::Sbom(sbom)) => Some((sbom.packages, sbom.generators)),
                _ => None,
            }
        })
        .await
        .map_err(|error| format!("{repository}@{} SBOM: {error}", document.digest))?;
        let Some((listed, generators)) = read else { continue };
        if producer.is_none() && !generators.is_empty() {
            producer = Some(cut(&generators.join(", ")));
        }
        for package in listed {
            if packages.len() >= MAX_FACTS {
                break;
            }
            let purl = package.purl.as_deref();
            packages.push(PackageFact {
                name: cut(&package.name),
                version: package.version.as_deref().map(cut).filter(|version| !version.is_empty()),
                ecosystem: purl.and_then(purl_type),
                purl: purl.and_then(versionless_purl).map(|purl| cut(&purl)),
                licenses: package.license.as_deref().map(license_ids).unwrap_or_default(),
            });
        }
    }
    packages.sort_by(|a, b| (&a.name, &a.version, &a.purl).cmp(&(&b.name, &b.version, &b.purl)));
    packages.dedup();
    Ok(ReadSbom { packages, producer })
}
