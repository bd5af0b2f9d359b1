//! cosign's OCI 1.1 referrers, as its `WriteReferrer` writes them (empty config carrying the
//! `artifactType` too, `subject`, `org.opencontainers.image.created`): the sigstore bundle v0.3
//! that `cosign sign` pushes by default since v3 (a DSSE envelope over an in-toto v1 statement
//! with predicate type `https://sigstore.dev/cosign/sign/v1`, verified by the signer's
//! certificate), and an attestation in the legacy DSSE form (`application/vnd.in-toto+json`
//! referrer whose layers are the envelopes, each annotated with its `predicateType`).

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ocicat_oci::{Digest, media_types};
use serde_json::json;

use super::Subject;
use super::cosign::{Statement, attestation_annotations, dsse_envelope, dsse_pae};
use crate::document::{Annotations, Descriptor, EMPTY_JSON, ImageManifest, keys, types};
use crate::push::Pusher;
use crate::signing::Signer;

/// The media type of a sigstore bundle v0.3 (also the referrer's `artifactType`).
pub(crate) const BUNDLE_V03: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// The predicate type of the statement `cosign sign` signs in the bundle format.
pub(crate) const COSIGN_SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
const BUNDLE_CONTENT_ANNOTATION: &str = "dev.sigstore.bundle.content";
const BUNDLE_PREDICATE_ANNOTATION: &str = "dev.sigstore.bundle.predicateType";

/// The in-toto statement v1 that `cosign sign` signs for `subject` (empty predicate).
pub(crate) fn sign_statement(subject: &Subject) -> anyhow::Result<Vec<u8>> {
    let subject_digest: Digest = subject.descriptor.digest.parse().context("subject has an invalid digest")?;
    let statement = json!({
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": subject.name, "digest": {"sha256": subject_digest.hex()}}],
        "predicateType": COSIGN_SIGN_PREDICATE,
        "predicate": {},
    });
    serde_json::to_vec(&statement).context("failed to serialize cosign sign statement")
}

/// A sigstore bundle v0.3 carrying `statement` in a DSSE envelope signed by `signer`, with the
/// signer's certificate as verification material. It has no transparency log entries and no
/// timestamps (like `cosign sign --tlog-upload=false`), so protobuf JSON leaves both out.
pub(crate) fn sigstore_bundle(signer: &Signer, statement: &[u8]) -> anyhow::Result<Vec<u8>> {
    let bundle = json!({
        "mediaType": BUNDLE_V03,
        "verificationMaterial": {
            "certificate": {"rawBytes": STANDARD.encode(signer.certificate_der())},
        },
        "dsseEnvelope": {
            "payload": STANDARD.encode(statement),
            "payloadType": types::IN_TOTO,
            "signatures": [{"sig": signer.sign_der_base64(&dsse_pae(types::IN_TOTO, statement))}],
        },
    });
    serde_json::to_vec(&bundle).context("failed to serialize sigstore bundle")
}

/// One layer of a referrer: media type, bytes and descriptor annotations (`None`: cosign's
/// default title `sha256-<hex>.sigstore.json`).
struct Layer {
    media_type: &'static str,
    bytes: Vec<u8>,
    annotations: Option<Annotations>,
}

/// Pushes a referrer of `subject` the way cosign's `WriteReferrer` builds it, recorded as `kind`.
async fn write_referrer(
    pusher: &Pusher,
    subject: &Subject,
    artifact_type: &str,
    layers: Vec<Layer>,
    annotations: Annotations,
    kind: &'static str,
) -> anyhow::Result<Descriptor> {
    let repository = subject.repository.as_str();
    let mut config = pusher.blob(repository, media_types::OCI_EMPTY, EMPTY_JSON).await?;
    config.artifact_type = Some(artifact_type.to_owned());
    let mut descriptors = Vec::with_capacity(layers.len());
    for layer in layers {
        let descriptor = pusher.blob(repository, layer.media_type, layer.bytes).await?;
        let annotations = layer.annotations.unwrap_or_else(|| {
            let file_name = format!("{}.sigstore.json", descriptor.digest.replacen(':', "-", 1));
            Annotations::from([(keys::TITLE.to_owned(), file_name)])
        });
        descriptors.push(descriptor.with_annotations(annotations));
    }
    let mut manifest = ImageManifest::oci(config, descriptors);
    manifest.artifact_type = Some(artifact_type.to_owned());
    manifest.subject = Some(subject.field());
    manifest.annotations = annotations;
    pusher.manifest(repository, None, &manifest, kind).await
}

/// Signs `subject` the way `cosign sign` (v3, bundle format) does: a sigstore bundle referrer.
pub(crate) async fn push_bundle_signature(
    pusher: &Pusher,
    signer: &Signer,
    subject: &Subject,
    created: &str,
) -> anyhow::Result<Descriptor> {
    let bundle = sigstore_bundle(signer, &sign_statement(subject)?)?;
    let annotations = Annotations::from([
        (keys::CREATED.to_owned(), created.to_owned()),
        (BUNDLE_CONTENT_ANNOTATION.to_owned(), "dsse-envelope".to_owned()),
        (BUNDLE_PREDICATE_ANNOTATION.to_owned(), COSIGN_SIGN_PREDICATE.to_owned()),
    ]);
    let layer = Layer { media_type: BUNDLE_V03, bytes: bundle, annotations: None };
    write_referrer(pusher, subject, BUNDLE_V03, vec![layer], annotations, "signature").await
}

/// Attests `statement` for `subject` as cosign writes attestations to the referrers API in the
/// legacy DSSE form (`WriteAttestationsReferrer`); recorded as `attestation`, the kind ocicat's
/// classifier gives the `application/vnd.in-toto+json` artifact type.
pub(crate) async fn push_attestation_referrer(
    pusher: &Pusher,
    signer: &Signer,
    subject: &Subject,
    statement: &Statement,
    created: &str,
) -> anyhow::Result<Descriptor> {
    let layer = Layer {
        media_type: types::DSSE_ENVELOPE,
        bytes: dsse_envelope(signer, &statement.bytes)?,
        annotations: Some(attestation_annotations(&statement.predicate_type)),
    };
    let annotations = Annotations::from([(keys::CREATED.to_owned(), created.to_owned())]);
    write_referrer(pusher, subject, types::IN_TOTO, vec![layer], annotations, "attestation").await
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::STANDARD;
    use p256::ecdsa::Signature;
    use p256::ecdsa::signature::Verifier as _;
    use serde_json::Value;

    fn app() -> Subject {
        Subject {
            repository: "demo/app".into(),
            name: "127.0.0.1:5000/demo/app".into(),
            descriptor: Descriptor::of(media_types::OCI_MANIFEST, b"{\"schemaVersion\":2}"),
        }
    }

    #[test]
    fn bundle_is_a_signed_v03_bundle_over_the_cosign_sign_statement() {
        let signer = Signer::demo();
        let subject = app();
        let bundle: Value =
            serde_json::from_slice(&sigstore_bundle(&signer, &sign_statement(&subject).unwrap()).unwrap()).unwrap();
        assert_eq!(bundle["mediaType"], BUNDLE_V03);

        let certificate =
            STANDARD.decode(bundle["verificationMaterial"]["certificate"]["rawBytes"].as_str().unwrap()).unwrap();
        assert_eq!(certificate, signer.certificate_der());
        let point = signer.verifying_key().to_encoded_point(false);
        assert!(
            certificate.windows(point.len()).any(|window| window == point.as_bytes()),
            "the certificate carries the demo public key"
        );

        let envelope = &bundle["dsseEnvelope"];
        assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
        let payload = STANDARD.decode(envelope["payload"].as_str().unwrap()).unwrap();
        let signature = STANDARD.decode(envelope["signatures"][0]["sig"].as_str().unwrap()).unwrap();
        let signature = Signature::from_der(&signature).unwrap();
        signer
            .verifying_key()
            .verify(&dsse_pae(types::IN_TOTO, &payload), &signature)
            .expect("dsse signature verifies");

        let statement: Value = serde_json::from_slice(&payload).unwrap();
        assert_eq!(statement["_type"], "https://in-toto.io/Statement/v1");
        assert_eq!(statement["predicateType"], COSIGN_SIGN_PREDICATE);
        assert_eq!(statement["subject"][0]["name"], "127.0.0.1:5000/demo/app");
        let digest = format!("sha256:{}", statement["subject"][0]["digest"]["sha256"].as_str().unwrap());
        assert_eq!(digest, subject.descriptor.digest);
    }

    #[test]
    fn a_tampered_statement_fails_verification() {
        let signer = Signer::demo();
        let bundle: Value =
            serde_json::from_slice(&sigstore_bundle(&signer, &sign_statement(&app()).unwrap()).unwrap()).unwrap();
        let signature = STANDARD.decode(bundle["dsseEnvelope"]["signatures"][0]["sig"].as_str().unwrap()).unwrap();
        let signature = Signature::from_der(&signature).unwrap();
        let mut payload = STANDARD.decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap()).unwrap();
        payload[0] ^= 1;
        assert!(signer.verifying_key().verify(&dsse_pae(types::IN_TOTO, &payload), &signature).is_err());
    }
}
