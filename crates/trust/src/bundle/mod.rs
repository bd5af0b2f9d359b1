//! Sigstore bundles (v0.1–v0.3, message signatures and DSSE envelopes), verified offline the
//! way sigstore clients verify them: the signature binds this artifact (its digest is the one
//! signed, or a subject of the in-toto statement), the signer's key made it, every log entry
//! is the trusted root's log's and records this signature, a verified time (the log's signed
//! integrated time or an RFC 3161 timestamp) lies within the Fulcio certificate's validity, the
//! certificate chains to the root's authorities then, and a policy names the signer — or, for a
//! bundle made with a key, a policy holds that key.

mod entry;
mod parse;

pub(crate) use entry::{Signer, records};
pub(crate) use parse::{Content, digest, dsse_content};

use serde_json::Value;

use crate::fulcio::check_leaf;
use crate::verify::{Witnessed, certificate_key, clip, keyless_policies, keyless_verdict, rfc3339, short};
use crate::{Policy, PublicKey, Status, Verdict};
use parse::{Bundle, Material, Unreadable};

/// The DSSE payload type of an in-toto statement.
const IN_TOTO: &str = "application/vnd.in-toto+json";

/// The verdict on the sigstore bundle `text` attached to the artifact `subject` (its digest).
pub(crate) fn verify(text: &str, subject: &str, policies: &[&Policy]) -> Verdict {
    let bundle = match parse::parse(text) {
        Ok(bundle) => bundle,
        Err(Unreadable::Malformed(reason)) => return Verdict::new(Status::Invalid, reason),
        Err(Unreadable::UnknownVersion(reason)) => return Verdict::new(Status::Unverifiable, reason),
    };
    if let Err(reason) = binds(&bundle.content, subject) {
        return Verdict::new(Status::Invalid, reason);
    }
    let now = chrono::Utc::now().timestamp();
    match &bundle.material {
        Material::Key { hint } => {
            match policies.iter().flat_map(|policy| &policy.keys).find(|key| signed_by(&bundle.content, key)) {
                Some(key) => by_key(&bundle, Signer::Key(key.spki()), policies, now),
                None => no_key(hint.as_deref(), policies),
            }
        }
        Material::Certificate(der) => by_certificate(&bundle, der, policies, now),
    }
}

/// Whether `content` is about `subject` (`algorithm:hex`): the message digest is the
/// artifact's, or the in-toto statement names it among its subjects.
pub(crate) fn binds(content: &Content, subject: &str) -> Result<(), String> {
    let (algorithm, hex) = subject.split_once(':').unwrap_or(("sha256", subject));
    match content {
        Content::Message { algorithm: signed, digest, .. } => {
            if *signed == algorithm && hex::encode(digest).eq_ignore_ascii_case(hex) {
                Ok(())
            } else {
                Err(format!(
                    "signs {}, not this artifact ({})",
                    short(&format!("{signed}:{}", hex::encode(digest))),
                    short(subject)
                ))
            }
        }
        Content::Dsse { payload_type, payload, .. } => {
            if payload_type != IN_TOTO {
                return Err(format!("the envelope's payload is a {:?}, not an in-toto statement", clip(payload_type)));
            }
            let statement: Value = serde_json::from_slice(payload)
                .map_err(|_| "the envelope's in-toto statement is not json".to_owned())?;
            let subjects = statement.get("subject").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
            let named = subjects.iter().any(|entry| {
                entry
                    .pointer(&format!("/digest/{algorithm}"))
                    .and_then(Value::as_str)
                    .is_some_and(|found| found.eq_ignore_ascii_case(hex))
            });
            if named {
                Ok(())
            } else {
                Err(format!("the in-toto statement's subjects do not include this artifact ({})", short(subject)))
            }
        }
    }
}

/// Whether `key` made the content's signature.
fn signed_by(content: &Content, key: &PublicKey) -> bool {
    match content {
        Content::Message { hash, digest, signature, .. } => key.verifies_prehashed(*hash, digest, signature),
        Content::Dsse { payload_type, payload, signature } => {
            key.verifies(&Content::pae(payload_type, payload), signature)
        }
    }
}

/// A bundle made with a key a covering policy holds: the first such policy vouches, once every
/// log entry the bundle carries checks out under its root for `signer` (the key, or the
/// certificate that carries it).
fn by_key(bundle: &Bundle, signer: Signer<'_>, policies: &[&Policy], now: i64) -> Verdict {
    let held = policies
        .iter()
        .find_map(|policy| policy.keys.iter().find(|key| signed_by(&bundle.content, key)).map(|key| (policy, key)));
    let Some((policy, key)) = held else { return no_key(None, policies) };
    for logged in &bundle.entries {
        if let Err(reason) = entry::check(logged, bundle.version, &bundle.content, signer, &policy.root, now) {
            return Verdict::new(Status::Invalid, reason).with_identity(Some(key.describe()));
        }
    }
    Verdict {
        status: Status::Verified,
        policy: Some(policy.name.clone()),
        identity: Some(key.describe()),
        issuer: None,
        reason: format!("sigstore bundle signed with {} of policy {}", key.describe(), policy.name),
    }
}

/// A bundle made with a key no covering policy holds.
fn no_key(hint: Option<&str>, policies: &[&Policy]) -> Verdict {
    let hint = hint.map(|hint| format!(" (key hint {})", clip(hint))).unwrap_or_default();
    if policies.iter().all(|policy| policy.keys.is_empty()) {
        return Verdict::new(
            Status::Untrusted,
            format!("signed with a key{hint} no policy covering this repository holds"),
        );
    }
    let names: Vec<&str> = policies.iter().map(|policy| policy.name.as_str()).collect();
    Verdict::new(Status::Invalid, format!("not made by a key of policy {}{hint}", names.join(", ")))
}

/// A bundle made with a (Fulcio) certificate.
fn by_certificate(bundle: &Bundle, der: &[u8], policies: &[&Policy], now: i64) -> Verdict {
    let (key, identity) = match certificate_key(der) {
        Ok(found) => found,
        Err(reason) => return Verdict::new(Status::Invalid, reason),
    };
    if !signed_by(&bundle.content, &key) {
        return Verdict::new(Status::Invalid, "the signature does not match its certificate").with_identity(identity);
    }
    // A certificate over a key a policy holds (`cosign sign --key` with a certificate attached):
    // the key vouches, as it would for the bare key.
    if policies.iter().any(|policy| policy.keys.iter().any(|held| held.spki() == key.spki())) {
        return by_key(bundle, Signer::Certificate(der), policies, now);
    }
    let keyless = match keyless_policies(policies, &identity) {
        Ok(keyless) => keyless,
        Err(verdict) => return verdict,
    };
    let named = identity.as_deref().unwrap_or("without an identity");
    if bundle.entries.is_empty() {
        let reason = format!("signed by certificate {named} with no transparency log entry");
        return Verdict::new(Status::Invalid, reason).with_identity(identity);
    }
    keyless_verdict(identity, &keyless, |policy| witnessed(bundle, der, policy, now))
}

/// Checks a certificate-signed bundle under `policy`'s root: its log entries, the times they
/// and its timestamps vouch for, and the certificate at each of those times.
fn witnessed(bundle: &Bundle, der: &[u8], policy: &Policy, now: i64) -> Result<Witnessed, (Status, String)> {
    let invalid = |reason: String| (Status::Invalid, reason);
    let mut times = Vec::new();
    let mut how = Vec::new();
    let mut unsigned_logs = Vec::new();
    for logged in &bundle.entries {
        let checked =
            entry::check(logged, bundle.version, &bundle.content, Signer::Certificate(der), &policy.root, now)
                .map_err(invalid)?;
        match checked.integrated_time {
            Some(time) => {
                times.push(time);
                how.push(format!("logged in Rekor at {} (index {})", rfc3339(time), checked.log_index));
            }
            None => unsigned_logs.push(checked.log),
        }
    }
    for timestamp in &bundle.timestamps {
        let stamped = crate::tsa::check(timestamp, bundle.content.signature(), &policy.root).map_err(invalid)?;
        times.push(stamped.time);
        how.push(format!("timestamped at {} by {}", rfc3339(stamped.time), clip(&stamped.authority)));
    }
    if times.is_empty() {
        return Err((
            Status::Invalid,
            "nothing vouches for when it was signed (no signed log time, no timestamp)".into(),
        ));
    }
    // A log that gives no signed time must have been valid when the timestamps say it signed.
    for log in unsigned_logs {
        if !times.iter().all(|time| log.start <= *time && log.end.is_none_or(|end| *time <= end)) {
            return Err(invalid("the transparency log was not valid at the signing time".into()));
        }
    }
    let mut signer = None;
    for time in &times {
        signer = Some(check_leaf(der, &policy.root, *time).map_err(invalid)?);
    }
    let signer = signer.expect("at least one time");
    Ok(Witnessed { signer, how: how.join(", ") })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::Hash;

    #[test]
    fn pae_is_the_dsse_pre_authentication_encoding() {
        assert_eq!(Content::pae("t", b"hello"), b"DSSEv1 1 t 5 hello".to_vec());
        assert_eq!(Content::pae("", b""), b"DSSEv1 0  0 ".to_vec());
    }

    #[test]
    fn a_message_binds_only_its_own_digest() {
        let content =
            Content::Message { hash: Hash::Sha256, algorithm: "sha256", digest: vec![0xab; 32], signature: vec![] };
        assert!(binds(&content, &format!("sha256:{}", "ab".repeat(32))).is_ok());
        assert!(binds(&content, &format!("sha256:{}", "cd".repeat(32))).is_err());
        assert!(binds(&content, &format!("sha512:{}", "ab".repeat(32))).is_err());
    }
}
