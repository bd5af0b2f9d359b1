//! RFC 3161 timestamps as sigstore bundles carry them (`rfc3161Timestamps[].signedTimestamp`):
//! a timestamp authority of the trusted root signed, at its `genTime`, a token over the hash of
//! the bundle's signature. Rekor v2 entries carry no signed time, so this is how such bundles
//! say when they were signed. Read with RustCrypto's `cms` and `x509-tsp`.

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Decode as _, Encode as _};
use x509_parser::prelude::{FromDer as _, X509Certificate};
use x509_tsp::{TimeStampResp, TstInfo};

use crate::PublicKey;
use crate::keys::Hash;
use crate::root::TrustedRoot;

const SIGNED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.2");
const TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const CONTENT_TYPE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.3");
const MESSAGE_DIGEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.4");

/// A verified timestamp.
pub(crate) struct Stamped {
    /// When the authority says it saw the signature (seconds since the epoch).
    pub(crate) time: i64,
    /// Which authority (its URI in the trusted root).
    pub(crate) authority: String,
}

/// The hash an algorithm identifier names (digest algorithms and signature algorithms).
fn hash_of(oid: &ObjectIdentifier) -> Option<Hash> {
    match oid.to_string().as_str() {
        "2.16.840.1.101.3.4.2.1" | "1.2.840.10045.4.3.2" | "1.2.840.113549.1.1.11" => Some(Hash::Sha256),
        "2.16.840.1.101.3.4.2.2" | "1.2.840.10045.4.3.3" | "1.2.840.113549.1.1.12" => Some(Hash::Sha384),
        "2.16.840.1.101.3.4.2.3" | "1.2.840.10045.4.3.4" | "1.2.840.113549.1.1.13" => Some(Hash::Sha512),
        _ => None,
    }
}

fn bad(reason: &str) -> String {
    format!("the rfc 3161 timestamp {reason}")
}

/// Checks the DER timestamp response (or bare token) `bytes` over `signature` against the
/// timestamp authorities of `root`.
pub(crate) fn check(bytes: &[u8], signature: &[u8], root: &TrustedRoot) -> Result<Stamped, String> {
    let token = match TimeStampResp::from_der(bytes) {
        Ok(response) => {
            let granted = matches!(
                response.status.status,
                cmpv2::status::PkiStatus::Accepted | cmpv2::status::PkiStatus::GrantedWithMods
            );
            if !granted {
                return Err(bad("was refused by its authority"));
            }
            response.time_stamp_token.ok_or_else(|| bad("holds no token"))?
        }
        Err(_) => ContentInfo::from_der(bytes).map_err(|_| bad("is not DER"))?,
    };
    if token.content_type != SIGNED_DATA {
        return Err(bad("is not signed data"));
    }
    let signed: SignedData = token.content.decode_as().map_err(|_| bad("is not signed data"))?;
    if signed.encap_content_info.econtent_type != TST_INFO {
        return Err(bad("does not hold timestamp information"));
    }
    let content = signed.encap_content_info.econtent.as_ref().ok_or_else(|| bad("holds no timestamp information"))?;
    let content: OctetString = content.decode_as().map_err(|_| bad("holds unreadable timestamp information"))?;
    let info = TstInfo::from_der(content.as_bytes()).map_err(|_| bad("holds unreadable timestamp information"))?;

    let imprint = &info.message_imprint;
    let hash = hash_of(&imprint.hash_algorithm.oid).ok_or_else(|| bad("uses an unknown hash"))?;
    if imprint.hashed_message.as_bytes() != crate::bundle::digest(hash, signature).as_slice() {
        return Err(bad("is over another signature than the bundle's"));
    }
    let time = i64::try_from(info.gen_time.to_unix_duration().as_secs()).map_err(|_| bad("has no usable time"))?;

    let [signer] = signed.signer_infos.0.as_slice() else {
        return Err(bad("does not have exactly one signer"));
    };
    let attributes = signer.signed_attrs.as_ref().ok_or_else(|| bad("has no signed attributes"))?;
    let attribute = |oid: ObjectIdentifier| {
        attributes.iter().find(|attribute| attribute.oid == oid).and_then(|attribute| attribute.values.iter().next())
    };
    let content_type: Option<ObjectIdentifier> = attribute(CONTENT_TYPE).and_then(|value| value.decode_as().ok());
    if content_type != Some(TST_INFO) {
        return Err(bad("signs another content type"));
    }
    let digest_hash = hash_of(&signer.digest_alg.oid).ok_or_else(|| bad("uses an unknown digest"))?;
    let signed_digest: Option<OctetString> = attribute(MESSAGE_DIGEST).and_then(|value| value.decode_as().ok());
    if signed_digest.as_ref().map(OctetString::as_bytes)
        != Some(crate::bundle::digest(digest_hash, content.as_bytes()).as_slice())
    {
        return Err(bad("signs other timestamp information than it holds"));
    }
    let signed_bytes = attributes.to_der().map_err(|_| bad("has unreadable signed attributes"))?;
    let signature_hash = hash_of(&signer.signature_algorithm.oid).unwrap_or(digest_hash);
    let signature = signer.signature.as_bytes();

    for authority in &root.timestamp_authorities {
        if time < authority.start || authority.end.is_some_and(|end| time > end) {
            continue;
        }
        let Some((leaf, chain)) = authority.chain.split_first() else { continue };
        let Ok((_, certificate)) = X509Certificate::from_der(leaf) else { continue };
        let Ok(key) = PublicKey::from_spki_der(certificate.public_key().raw) else { continue };
        if !key.verifies_with(signature_hash, &signed_bytes, signature) {
            continue;
        }
        let validity = certificate.validity();
        if time < validity.not_before.timestamp() || time > validity.not_after.timestamp() {
            return Err(bad("was made when its authority's certificate was not valid"));
        }
        let stamping = certificate.extended_key_usage().ok().flatten().is_some_and(|usage| usage.value.time_stamping);
        if !stamping {
            return Err(bad("was signed by a certificate that is not for timestamping"));
        }
        if !chain.is_empty() && !crate::fulcio::chains_to(&certificate, chain, time) {
            return Err(bad("authority's certificate does not chain to its root"));
        }
        return Ok(Stamped { time, authority: authority.uri.clone() });
    }
    Err(bad("was not signed by a timestamp authority of the trusted root valid at its time"))
}
