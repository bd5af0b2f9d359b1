//! cosign's legacy tag scheme: a signature image tagged `sha256-<hex>.sig` whose layer is the
//! simple-signing payload with the signature in `dev.cosignproject.cosign/signature`, and an
//! attestation image tagged `sha256-<hex>.att` whose layer is a DSSE envelope around an in-toto
//! SLSA provenance statement.

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
const PROVENANCE: &str = "https://slsa.dev/provenance/v0.2";

/// The simple-signing payload cosign signs for `subject`.
pub(crate) fn simple_signing_payload(subject: &Subject) -> String {
    format!(
        "{{\"critical\":{{\"identity\":{{\"docker-reference\":\"{}\"}},\"image\":{{\"docker-manifest-digest\":\"{}\"}},\
\"type\":\"cosign container image signature\"}},\"optional\":null}}",
        subject.name, subject.descriptor.digest
    )
}

/// The config cosign writes for its signature and attestation images.
fn cosign_config(layer_digest: &str) -> Vec<u8> {
    let config = json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": [{"created": "0001-01-01T00:00:00Z"}],
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": [layer_digest]},
        "config": {},
    });
    serde_json::to_vec(&config).expect("cosign config serializes")
}

/// Pushes `layer_bytes` as the only layer of a cosign image tagged `<fallback tag>.<suffix>`.
async fn push_cosign_image(
    pusher: &Pusher,
    subject: &Subject,
    suffix: &str,
    layer_media_type: &str,
    layer_bytes: Vec<u8>,
    layer_annotations: Annotations,
    kind: &'static str,
) -> anyhow::Result<Descriptor> {
    let repository = subject.repository.as_str();
    let subject_digest: Digest = subject.descriptor.digest.parse().context("subject has an invalid digest")?;
    let layer = pusher.blob(repository, layer_media_type, layer_bytes).await?.with_annotations(layer_annotations);
    let config = pusher.blob(repository, media_types::OCI_CONFIG, cosign_config(&layer.digest)).await?;
    let manifest = ImageManifest::oci(config, vec![layer]);
    let tag = format!("{}.{suffix}", subject_digest.fallback_tag());
    pusher.manifest_describing(repository, Some(&tag), &manifest, kind, Some(&subject.descriptor.digest)).await
}

/// Signs `subject` the way `cosign sign --key` does in legacy tag mode.
pub(crate) async fn push_cosign_signature(
    pusher: &Pusher,
    signer: &Signer,
    subject: &Subject,
) -> anyhow::Result<Descriptor> {
    let payload = simple_signing_payload(subject);
    let annotations = Annotations::from([
        (SIGNATURE_ANNOTATION.to_owned(), signer.sign_der_base64(payload.as_bytes())),
        (CERTIFICATE_ANNOTATION.to_owned(), signer.certificate_pem()),
    ]);
    push_cosign_image(
        pusher,
        subject,
        "sig",
        types::COSIGN_SIMPLESIGNING,
        payload.into_bytes(),
        annotations,
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

/// Attests SLSA provenance for `subject` the way `cosign attest --type slsaprovenance` does in
/// legacy tag mode.
pub(crate) async fn push_cosign_attestation(
    pusher: &Pusher,
    signer: &Signer,
    subject: &Subject,
    started: &str,
    finished: &str,
) -> anyhow::Result<Descriptor> {
    let subject_digest: Digest = subject.descriptor.digest.parse().context("subject has an invalid digest")?;
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": PROVENANCE,
        "subject": [{"name": subject.name, "digest": {"sha256": subject_digest.hex()}}],
        "predicate": {
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
        },
    });
    let statement_bytes = serde_json::to_vec(&statement).context("failed to serialize provenance statement")?;
    let envelope = json!({
        "payloadType": types::IN_TOTO,
        "payload": STANDARD.encode(&statement_bytes),
        "signatures": [{"keyid": "", "sig": signer.sign_der_base64(&dsse_pae(types::IN_TOTO, &statement_bytes))}],
    });
    let envelope_bytes = serde_json::to_vec(&envelope).context("failed to serialize dsse envelope")?;
    let annotations = Annotations::from([
        (SIGNATURE_ANNOTATION.to_owned(), String::new()),
        ("predicateType".to_owned(), PROVENANCE.to_owned()),
    ]);
    push_cosign_image(pusher, subject, "att", types::DSSE_ENVELOPE, envelope_bytes, annotations, "attestation").await
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
    fn pae_follows_the_dsse_spec_example() {
        assert_eq!(
            dsse_pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
        );
    }
}
