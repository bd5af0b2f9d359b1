//! Trust on the wire: verdicts on signatures, their badge, `ocicat verify` reports and the
//! trust policies as the API lists them.

use serde::{Deserialize, Serialize};

/// `ocicat verify`: the verdicts on every signature of one artifact under the configured
/// policies, computed now from what the catalog kept.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct VerifyReport {
    /// The registry.
    pub registry: String,
    /// The repository.
    pub repository: String,
    /// The artifact's digest.
    pub digest: String,
    /// `verified` when a policy vouches for a signature, else `invalid`, `untrusted`,
    /// `unverifiable`; `none` without signatures.
    pub status: String,
    /// The policies that verified a signature.
    pub policies: Vec<String>,
    /// Each signature artifact with the verdicts on what it holds.
    pub signatures: Vec<SignatureVerdicts>,
}

/// One signature artifact and its verdicts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct SignatureVerdicts {
    /// The signature manifest's digest.
    pub digest: String,
    /// Its tags (a cosign `.sig` tag).
    pub tags: Vec<String>,
    /// The verdict on each signature it holds.
    pub verifications: Vec<Verification>,
}

/// One `[[trust]]` policy: what it covers and the keys it trusts (public facts only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct TrustPolicyView {
    /// The policy's name (`trust:<name>` in search).
    pub name: String,
    /// The registry it covers, or `*`.
    pub registry: String,
    /// The repositories it covers (a pattern).
    pub repositories: String,
    /// The keys it trusts: `ecdsa p-256 key sha256:1a2b…`.
    pub keys: Vec<String>,
    /// The keyless signers it trusts: `identity` from `issuer` (`*` any run of characters).
    pub keyless: Vec<KeylessSignerView>,
    /// The roots notation signatures must chain to: `CN=…, O=… sha256:1a2b…`.
    #[serde(default)]
    pub notation_roots: Vec<String>,
    /// The notation signers it trusts: `*` or `x509.subject: …`.
    #[serde(default)]
    pub notation_identities: Vec<String>,
}

/// A keyless signer a policy trusts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct KeylessSignerView {
    /// The OIDC issuer.
    pub issuer: String,
    /// The certificate identity (email or URI).
    pub identity: String,
}

/// The verdicts on an artifact's signatures, together.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct SignatureBadge {
    /// `verified` when any signature is verified by a policy, else `invalid` when any is
    /// invalid, else `untrusted` or `unverifiable`.
    pub status: String,
    /// The policies that verified a signature.
    pub policies: Vec<String>,
    /// Why, for the verdict that speaks for the artifact.
    pub reason: String,
}

/// The verdict on one signature under the trust policies.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct Verification {
    /// `verified`, `untrusted`, `invalid` or `unverifiable`.
    pub status: String,
    /// The policy that vouches for it (verified only).
    pub policy: Option<String>,
    /// Who signed, as far as ocicat can tell (certificate identity or key fingerprint).
    pub identity: Option<String>,
    /// The OIDC issuer of a keyless signer.
    pub issuer: Option<String>,
    /// Why, in a sentence.
    pub reason: String,
}
