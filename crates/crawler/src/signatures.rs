//! Keeps what a signature artifact holds (each signature layer's bytes and annotations) as
//! evidence in its document, so its verdict can be given, and given again when the trust
//! policies change, from the catalog alone.

use ocicat_catalog::ArtifactDoc;
use ocicat_oci::{ArtifactKind, Client, Digest, Manifest};
use ocicat_trust::{Evidence, SignatureLayer, evidence_of};

/// The evidence of every signature `document` (read from `manifest`) holds (none unless it is a signature, or an
/// attestation whose layers are signed envelopes: sigstore bundles, DSSE). A layer
/// that is too large or that the registry does not serve as its digest says is kept as
/// unreadable evidence (its verdict says so); `Err` lists the registry's failures for the crawl.
pub(crate) async fn read_evidence(
    client: &Client,
    repository: &str,
    document: &ArtifactDoc,
    manifest: &Manifest,
) -> (Vec<Evidence>, Vec<String>) {
    if !matches!(document.kind, ArtifactKind::Signature | ArtifactKind::Attestation) {
        return (Vec::new(), Vec::new());
    }
    let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(&manifest.raw) else {
        return (Vec::new(), Vec::new());
    };
    let mut evidence = Vec::new();
    let mut failures = Vec::new();
    for layer in SignatureLayer::of_manifest(&manifest) {
        if !layer.within_bounds() {
            evidence.push(Evidence::Unreadable {
                reason: format!("its signature layer of {} bytes is too large to verify", layer.size),
            });
            continue;
        }
        let Ok(digest) = layer.digest.parse::<Digest>() else {
            evidence.push(Evidence::Unreadable { reason: "its signature layer has an invalid digest".into() });
            continue;
        };
        match client.get_blob(repository, &digest).await {
            Ok(bytes) => evidence.push(evidence_of(&layer, &bytes)),
            Err(error) => {
                tracing::warn!(artifact.digest = %document.digest, layer.digest = %digest, %error, "failed to read a signature layer");
                failures.push(format!("{repository}@{} signature layer: {error}", document.digest));
                evidence.push(Evidence::Unreadable { reason: "the registry did not serve its signature layer".into() });
            }
        }
    }
    (evidence, failures)
}
