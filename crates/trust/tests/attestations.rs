//! Verdicts on cosign attestations (`cosign attest --key`): a DSSE envelope layer
//! (`application/vnd.dsse.envelope.v1+json`) holding an in-toto statement about the image, signed
//! over DSSE's pre-authentication encoding; keys made in the test.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ocicat_trust::{Evidence, Policy, PublicKey, SignatureLayer, Status, evidence_of, is_signature_media_type, verify};
use p256::pkcs8::{EncodePublicKey as _, LineEnding};

const IMAGE: &str = "sha256:4c1f1f2ad93e9f0c1d2e3f40516273849aabbccddeeff00112233445566778899";
const OTHER_IMAGE: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000001";
const DSSE: &str = "application/vnd.dsse.envelope.v1+json";
const IN_TOTO: &str = "application/vnd.in-toto+json";

fn statement(digest: &str) -> Vec<u8> {
    let hex = digest.trim_start_matches("sha256:");
    format!(
        r#"{{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","subject":[{{"name":"registry.example/team-a/app","digest":{{"sha256":"{hex}"}}}}],"predicate":{{}}}}"#
    )
    .into_bytes()
}

fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut bytes = format!("DSSEv1 {} {payload_type} {} ", payload_type.len(), payload.len()).into_bytes();
    bytes.extend_from_slice(payload);
    bytes
}

/// The evidence of a `.att` layer: the envelope over `payload` with `signatures`.
fn evidence(payload_type: &str, payload: &[u8], signatures: &[Vec<u8>]) -> Evidence {
    let signatures: Vec<String> = signatures
        .iter()
        .map(|signature| format!(r#"{{"keyid":"","sig":"{}"}}"#, STANDARD.encode(signature)))
        .collect();
    let envelope = format!(
        r#"{{"payloadType":"{payload_type}","payload":"{}","signatures":[{}]}}"#,
        STANDARD.encode(payload),
        signatures.join(",")
    );
    let layer = SignatureLayer {
        digest: "sha256:aa".into(),
        size: envelope.len() as u64,
        media_type: DSSE.into(),
        annotations: BTreeMap::from([("predicateType".to_owned(), "https://spdx.dev/Document".to_owned())]),
    };
    evidence_of(&layer, envelope.as_bytes())
}

fn keyed() -> (p256::ecdsa::SigningKey, Policy) {
    let key = p256::ecdsa::SigningKey::random(&mut rand_core::OsRng);
    let pem = key.verifying_key().to_public_key_pem(LineEnding::LF).unwrap();
    (key, Policy::with_keys("release", "*", "**", vec![PublicKey::from_pem(&pem).unwrap()]))
}

fn sign(key: &p256::ecdsa::SigningKey, message: &[u8]) -> Vec<u8> {
    use p256::ecdsa::signature::Signer as _;
    let signature: p256::ecdsa::Signature = key.sign(message);
    signature.to_der().as_bytes().to_vec()
}

#[test]
fn an_attestation_signed_by_a_policy_key_about_this_image_is_verified() {
    assert!(is_signature_media_type(DSSE));
    let (key, release) = keyed();
    let payload = statement(IMAGE);
    let evidence = evidence(IN_TOTO, &payload, &[sign(&key, &pae(IN_TOTO, &payload))]);
    assert!(matches!(evidence, Evidence::Dsse { .. }), "{evidence:?}");
    let verdict = verify(&evidence, IMAGE, &[&release]);
    assert_eq!(verdict.status, Status::Verified, "{verdict:?}");
    assert_eq!(verdict.policy.as_deref(), Some("release"));
}

#[test]
fn an_attestation_about_another_image_or_with_a_changed_statement_is_invalid() {
    let (key, release) = keyed();
    let payload = statement(OTHER_IMAGE);
    let moved = verify(&evidence(IN_TOTO, &payload, &[sign(&key, &pae(IN_TOTO, &payload))]), IMAGE, &[&release]);
    assert_eq!(moved.status, Status::Invalid);
    assert!(
        moved.reason.starts_with("the in-toto statement's subjects do not include this artifact"),
        "{}",
        moved.reason
    );
    // Signed over the payload instead of its encoding (or changed after signing).
    let payload = statement(IMAGE);
    let raw = verify(&evidence(IN_TOTO, &payload, &[sign(&key, &payload)]), IMAGE, &[&release]);
    assert_eq!(raw.status, Status::Invalid, "{raw:?}");
    // Another key; no policy at all.
    let (stranger, _) = keyed();
    let other = verify(&evidence(IN_TOTO, &payload, &[sign(&stranger, &pae(IN_TOTO, &payload))]), IMAGE, &[&release]);
    assert_eq!(other.status, Status::Invalid);
    let uncovered = verify(&evidence(IN_TOTO, &payload, &[sign(&key, &pae(IN_TOTO, &payload))]), IMAGE, &[]);
    assert_eq!(uncovered.status, Status::Untrusted);
}

#[test]
fn envelopes_that_are_not_in_toto_statements_or_hold_other_than_one_signature_are_refused() {
    let (key, release) = keyed();
    let payload = statement(IMAGE);
    let other_type =
        verify(&evidence("text/plain", &payload, &[sign(&key, &pae("text/plain", &payload))]), IMAGE, &[&release]);
    assert_eq!(other_type.status, Status::Invalid);
    assert!(other_type.reason.contains("not an in-toto statement"), "{}", other_type.reason);
    let signature = sign(&key, &pae(IN_TOTO, &payload));
    let two = verify(&evidence(IN_TOTO, &payload, &[signature.clone(), signature]), IMAGE, &[&release]);
    assert_eq!(two.status, Status::Invalid);
    let none = verify(&evidence(IN_TOTO, &payload, &[]), IMAGE, &[&release]);
    assert_eq!(none.status, Status::Invalid);
}
