//! cosign's legacy tag scheme: a signature image tagged `sha256-<hex>.sig` whose layer is the
//! simple-signing payload with the signature in `dev.cosignproject.cosign/signature`, and an
//! attestation image tagged `sha256-<hex>.att` with one layer per attestation (`cosign attest`
//! appends), each a DSSE envelope around an in-toto statement with its `predicateType` annotation.

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ocicat_oci::{Digest, media_types};
use serde_json::json;

use super::Subject;
use crate::document::{Annotations, Descriptor, ImageManifest, types};
use crate::push::Pusher;
use crate::signing::Signer;

const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
const CERTIFICATE_ANNOTATION: &str = "dev.sigstore.cosign/certificate";
const CHAIN_ANNOTATION: &str = "dev.sigstore.cosign/chain";
const BUNDLE_ANNOTATION: &str = "dev.sigstore.cosign/bundle";
const PROVENANCE: &str = "https://slsa.dev/provenance/v0.2";

/// The simple-signing payload cosign signs for `subject`.
pub(crate) fn simple_signing_payload(subject: &Subject) -> String {
    format!(
        "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"{}\"}},\"image\":{{\"docker-manifest-digest\":\"{}\"}},\
\"type\":\"cosign container image signature\"}},\"optional\":null}}",
        subject.name, subject.descriptor.digest
    )
}

/// The config cosign writes for its signature and attestation images: go-containerregistry's
/// empty image with one (zero-time) history entry and one diff id per appended layer.
fn cosign_config(layer_digests: &[&str]) -> Vec<u8> {
    let history: Vec<serde_json::Value> =
        layer_digests.iter().map(|_| json!({"created": "0001-01-01T00:00:00Z"})).collect();
    let config = json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": history,
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": layer_digests},
        "config": {},
    });
    serde_json::to_vec(&config).expect("cosign config serializes")
}

/// One layer of a cosign image: media type, bytes and descriptor annotations.
type CosignLayer = (&'static str, Vec<u8>, Annotations);

/// Pushes `layers` (in order) as a cosign image tagged `<fallback tag>.<suffix>`.
async fn push_cosign_image(
    pusher: &Pusher,
    subject: &Subject,
    suffix: &str,
    layers: Vec<CosignLayer>,
    kind: &'static str,
) -> anyhow::Result<Descriptor> {
    let repository = subject.repository.as_str();
    let subject_digest: Digest = subject.descriptor.digest.parse().context("subject has an invalid digest")?;
    let mut descriptors = Vec::with_capacity(layers.len());
    for (media_type, bytes, annotations) in layers {
        descriptors.push(pusher.blob(repository, media_type, bytes).await?.with_annotations(annotations));
    }
    let digests: Vec<&str> = descriptors.iter().map(|layer| layer.digest.as_str()).collect();
    let config = pusher.blob(repository, media_types::OCI_CONFIG, cosign_config(&digests)).await?;
    let manifest = ImageManifest::oci(config, descriptors);
    let tag = format!("{}.{suffix}", subject_digest.fallback_tag());
    pusher.manifest_describing(repository, Some(&tag), &manifest, kind, Some(&subject.descriptor.digest)).await
}

/// Signs `subject` the way `cosign sign --key` does in legacy tag mode.
pub(crate) async fn push_cosign_signature(
    pusher: &Pusher,
    signer: &Signer,
    subject: &Subject,
) -> anyhow::Result<Descriptor> {
    push_simple_signature(pusher, signer, subject, subject, true).await
}

/// A production keyless cosign signature (containers/image's fixture of `mitr@redhat.com`, see
/// `crates/trust/tests/data/README.md`): its payload, signature, Fulcio certificate, chain and
/// Rekor bundle, byte for byte, as the layer and annotations of a `.sig` manifest in
/// `repository`. The image it signs is not part of the fixture, so the tag names a digest the
/// registry does not hold, as a mirror that copied the signatures without the image would.
pub(crate) async fn push_upstream_keyless_signature(pusher: &Pusher, repository: &str) -> anyhow::Result<Descriptor> {
    const DATA: [&str; 5] = [
        include_str!("../../../trust/tests/data/cosign-keyless/payload.json"),
        include_str!("../../../trust/tests/data/cosign-keyless/signature.b64"),
        include_str!("../../../trust/tests/data/cosign-keyless/cert.pem"),
        include_str!("../../../trust/tests/data/cosign-keyless/chain.pem"),
        include_str!("../../../trust/tests/data/cosign-keyless/bundle.json"),
    ];
    const IMAGE_MANIFEST: &str = include_str!("../../../trust/tests/data/cosign-keyless/image-manifest.json");
    let [payload, signature, certificate, chain, bundle] = DATA;
    let subject = Subject {
        repository: repository.to_owned(),
        name: String::new(),
        descriptor: Descriptor::of(media_types::DOCKER_MANIFEST, IMAGE_MANIFEST.as_bytes()),
    };
    let annotations = Annotations::from([
        (SIGNATURE_ANNOTATION.to_owned(), signature.to_owned()),
        (CERTIFICATE_ANNOTATION.to_owned(), certificate.to_owned()),
        (CHAIN_ANNOTATION.to_owned(), chain.to_owned()),
        (BUNDLE_ANNOTATION.to_owned(), bundle.to_owned()),
    ]);
    let layers = vec![(types::COSIGN_SIMPLESIGNING, payload.as_bytes().to_vec(), annotations)];
    push_cosign_image(pusher, &subject, "sig", layers, "signature").await
}

/// A forgery: `signed`'s genuine payload and signature copied onto `onto`'s `.sig` tag (without
/// the certificate, so the manifest is not byte for byte the genuine one), as someone without
/// the key would make `onto` look signed. Its payload names `signed`'s digest, so a verifier
/// must call it invalid for `onto`.
pub(crate) async fn push_copied_cosign_signature(
    pusher: &Pusher,
    signer: &Signer,
    signed: &Subject,
    onto: &Subject,
) -> anyhow::Result<Descriptor> {
    push_simple_signature(pusher, signer, signed, onto, false).await
}

/// Pushes the simple signing payload of `signed`, signed, under `onto`'s `.sig` tag, with the
/// signer's certificate when `certificate`.
async fn push_simple_signature(
    pusher: &Pusher,
    signer: &Signer,
    signed: &Subject,
    onto: &Subject,
    certificate: bool,
) -> anyhow::Result<Descriptor> {
    let payload = simple_signing_payload(signed);
    let mut annotations =
        Annotations::from([(SIGNATURE_ANNOTATION.to_owned(), signer.sign_der_base64(payload.as_bytes()))]);
    if certificate {
        annotations.insert(CERTIFICATE_ANNOTATION.to_owned(), signer.certificate_pem());
    }
    push_cosign_image(
        pusher,
        onto,
        "sig",
        vec![(types::COSIGN_SIMPLESIGNING, payload.into_bytes(), annotations)],
        "signature",
    )
    .await
}

/// The DSSE pre-authentication encoding that DSSE signatures cover.
pub(crate) fn dsse_pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut encoded = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).into_bytes();
    encoded.extend_from_slice(payload);
    encoded
}

/// An in-toto statement v0.1 (what `cosign attest` generates) about `subject`.
pub(crate) fn statement_v01(
    subject: &Subject,
    predicate_type: &str,
    predicate: serde_json::Value,
) -> anyhow::Result<Statement> {
    let subject_digest: Digest = subject.descriptor.digest.parse().context("subject has an invalid digest")?;
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": predicate_type,
        "subject": [{"name": subject.name, "digest": {"sha256": subject_digest.hex()}}],
        "predicate": predicate,
    });
    let bytes = serde_json::to_vec(&statement)
        .with_context(|| format!("failed to serialize in-toto statement ({predicate_type})"))?;
    Ok(Statement { predicate_type: predicate_type.to_owned(), bytes })
}

/// A serialized in-toto statement and its predicate type.
#[derive(Debug, Clone)]
pub(crate) struct Statement {
    pub(crate) predicate_type: String,
    pub(crate) bytes: Vec<u8>,
}

/// The DSSE envelope (`payloadType` in-toto) `cosign attest` writes: `statement` signed over its
/// pre-authentication encoding, no key id.
pub(crate) fn dsse_envelope(signer: &Signer, statement: &[u8]) -> anyhow::Result<Vec<u8>> {
    let envelope = json!({
        "payloadType": types::IN_TOTO,
        "payload": STANDARD.encode(statement),
        "signatures": [{"keyid": "", "sig": signer.sign_der_base64(&dsse_pae(types::IN_TOTO, statement))}],
    });
    serde_json::to_vec(&envelope).context("failed to serialize dsse envelope")
}

/// The descriptor annotations cosign gives an attestation layer: an empty signature (the
/// signature is inside the envelope) and the statement's predicate type.
pub(crate) fn attestation_annotations(predicate_type: &str) -> Annotations {
    Annotations::from([
        (SIGNATURE_ANNOTATION.to_owned(), String::new()),
        ("predicateType".to_owned(), predicate_type.to_owned()),
    ])
}

/// The SLSA provenance statement `cosign attest --type slsaprovenance` makes for `subject`.
pub(crate) fn provenance_statement(subject: &Subject, started: &str, finished: &str) -> anyhow::Result<Statement> {
    let predicate = json!({
        "builder": {"id": "https://ci.ocicat.invalid/builders/release@v1"},
        "buildType": "https://ci.ocicat.invalid/build-types/container@v1",
        "invocation": {
            "configSource": {
                "uri": "git+https://git.ocicat.invalid/demo/app@refs/heads/main",
                "digest": {"sha1": "3f2a9c41d7b0e5a6c8d9e0f1a2b3c4d5e6f7a8b9"},
                "entryPoint": ".ci/release.yml",
            },
        },
        "metadata": {
            "buildStartedOn": started,
            "buildFinishedOn": finished,
            "completeness": {"parameters": false, "environment": false, "materials": false},
            "reproducible": false,
        },
        "materials": [{"uri": "git+https://git.ocicat.invalid/demo/app", "digest": {"sha1": "3f2a9c41d7b0e5a6c8d9e0f1a2b3c4d5e6f7a8b9"}}],
    });
    statement_v01(subject, PROVENANCE, predicate)
}

/// Attests `statements` for `subject` the way successive `cosign attest` runs do in legacy tag
/// mode: one signed DSSE layer per statement, in order, in the image tagged `sha256-<hex>.att`.
pub(crate) async fn push_cosign_attestations(
    pusher: &Pusher,
    signer: &Signer,
    subject: &Subject,
    statements: &[Statement],
) -> anyhow::Result<Descriptor> {
    let mut layers = Vec::with_capacity(statements.len());
    for statement in statements {
        let envelope = dsse_envelope(signer, &statement.bytes)?;
        layers.push((types::DSSE_ENVELOPE, envelope, attestation_annotations(&statement.predicate_type)));
    }
    push_cosign_image(pusher, subject, "att", layers, "attestation").await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_signing_payload_names_image_and_digest() {
        let subject = Subject {
            repository: "demo/app".into(),
            name: "127.0.0.1:5000/demo/app".into(),
            descriptor: Descriptor::of(media_types::OCI_MANIFEST, b"{}"),
        };
        let payload: serde_json::Value = serde_json::from_str(&simple_signing_payload(&subject)).unwrap();
        assert_eq!(payload["critical"]["identity"]["docker-reference"], "127.0.0.1:5000/demo/app");
        assert_eq!(payload["critical"]["image"]["docker-manifest-digest"], subject.descriptor.digest);
        assert_eq!(payload["critical"]["type"], "cosign container image signature");
        assert!(payload["optional"].is_null());
    }

    #[test]
    fn config_lists_one_diff_id_and_history_entry_per_layer() {
        let config: serde_json::Value = serde_json::from_slice(&cosign_config(&["sha256:aa", "sha256:bb"])).unwrap();
        assert_eq!(config["rootfs"]["diff_ids"], json!(["sha256:aa", "sha256:bb"]));
        assert_eq!(config["history"].as_array().unwrap().len(), 2);
        let single: serde_json::Value = serde_json::from_slice(&cosign_config(&["sha256:aa"])).unwrap();
        assert_eq!(single["history"], json!([{"created": "0001-01-01T00:00:00Z"}]));
    }

    #[test]
    fn pae_follows_the_dsse_spec_example() {
        assert_eq!(
            dsse_pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }
}
