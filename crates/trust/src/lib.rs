//! Signature verification against trust policies. A policy (`[[trust]]` in the configuration)
//! names the keys and identities that vouch for some repositories; [`verify`] gives each
//! signature one [`Verdict`] — verified (by which policy and identity), untrusted (no policy
//! vouches for it), invalid (a bad signature, or one over another artifact) or unverifiable (a
//! shape this version cannot check) — with a plain reason.
//!
//! Verification is offline and works on [`Evidence`]: what the crawler kept of a signature
//! (payload, signature, certificate, bundle), so that verdicts are recomputed from the catalog
//! when the policies change, without asking the registry again.

mod bundle;
mod evidence;
mod fulcio;
mod keys;
mod notation;
mod policy;
mod rekor;
mod root;
mod tlog;
mod tsa;
mod verdict;
mod verify;

pub use evidence::{
    Evidence, MAX_EVIDENCE_BYTES, MAX_SIGNATURES_PER_MANIFEST, SignatureLayer, evidence_of, is_signature_media_type,
};
pub use keys::PublicKey;
pub use policy::{KeylessIdentity, Policies, Policy, TrustPolicy};
pub use root::TrustedRoot;
pub use verdict::{Status, Verdict};
pub use verify::{verify, verify_all};

/// Why a policy or a key cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// A key file that is not a public key ocicat can use.
    #[error("{0}")]
    Key(String),
    /// A policy that makes no sense.
    #[error("{0}")]
    Policy(String),
}
