//! Notary Project signatures as `notation sign` writes them: an OCI 1.1 artifact of type
//! `application/vnd.cncf.notary.signature` whose one `application/jose+json` layer is a JWS
//! envelope (JSON serialization, ES256, `notary.x509` scheme, `x5c` chain) over the target
//! artifact's descriptor, with the chain's thumbprints in `io.cncf.notary.x509chain.thumbprint#S256`.

use anyhow::Context as _;
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::json;

use super::{Payload, Subject, attach};
use crate::document::{Annotations, Descriptor, keys, types};
use crate::push::Pusher;
use crate::signing::Signer;

const PAYLOAD_TYPE: &str = "application/vnd.cncf.notary.payload.v1+json";
const THUMBPRINT_ANNOTATION: &str = "io.cncf.notary.x509chain.thumbprint#S256";

/// The JWS envelope signing `subject` at `signing_time`.
pub(crate) fn jws_envelope(signer: &Signer, subject: &Subject, signing_time: &str) -> anyhow::Result<Vec<u8>> {
    let target = &subject.descriptor;
    let payload =
        json!({"targetArtifact": {"mediaType": target.media_type, "digest": target.digest, "size": target.size}});
    let protected = json!({
        "alg": "ES256",
        "crit": ["io.cncf.notary.signingScheme"],
        "cty": PAYLOAD_TYPE,
        "io.cncf.notary.signingScheme": "notary.x509",
        "io.cncf.notary.signingTime": signing_time,
    });
    let payload_part =
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&payload).context("failed to serialize notation payload")?);
    let protected_part =
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&protected).context("failed to serialize jws header")?);
    let signature = signer.sign_jws_es256(format!("{protected_part}.{payload_part}").as_bytes());
    let envelope = json!({
        "payload": payload_part,
        "protected": protected_part,
        "header": {
            "x5c": [STANDARD.encode(signer.certificate_der())],
            "io.cncf.notary.signingAgent": "notation-go/1.2.1",
        },
        "signature": signature,
    });
    serde_json::to_vec(&envelope).context("failed to serialize jws envelope")
}

/// Signs `subject` with a notation signature referrer.
pub(crate) async fn push_notation_signature(
    pusher: &Pusher,
    signer: &Signer,
    subject: &Subject,
    signing_time: &str,
) -> anyhow::Result<Descriptor> {
    let annotations = Annotations::from([
        (THUMBPRINT_ANNOTATION.to_owned(), format!("[\"{}\"]", signer.certificate_thumbprint())),
        (keys::CREATED.to_owned(), signing_time.to_owned()),
    ]);
    let payload = Payload {
        artifact_type: types::NOTATION_SIGNATURE,
        layer_media_type: types::JOSE,
        bytes: jws_envelope(signer, subject, signing_time)?,
        layer_annotations: Annotations::new(),
        annotations,
    };
    attach(pusher, subject, payload, "signature").await
}

#[cfg(test)]
mod tests {
    use super::*;
    use ocicat_oci::media_types;

    #[test]
    fn envelope_covers_the_target_descriptor() {
        let subject = Subject {
            repository: "demo/app".into(),
            name: "127.0.0.1:5000/demo/app".into(),
            descriptor: Descriptor::of(media_types::OCI_MANIFEST, b"{\"schemaVersion\":2}"),
        };
        let envelope: serde_json::Value =
            serde_json::from_slice(&jws_envelope(&Signer::demo(), &subject, "2024-02-01T10:00:00Z").unwrap()).unwrap();
        let payload: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(envelope["payload"].as_str().unwrap()).unwrap()).unwrap();
        assert_eq!(payload["targetArtifact"]["digest"], subject.descriptor.digest);
        let protected: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(envelope["protected"].as_str().unwrap()).unwrap()).unwrap();
        assert_eq!(protected["io.cncf.notary.signingScheme"], "notary.x509");
        assert_eq!(URL_SAFE_NO_PAD.decode(envelope["signature"].as_str().unwrap()).unwrap().len(), 64);
    }
}
