//! A signature's verdict: one status, the policy and identity that vouch for it when verified,
//! and a reason a person can act on.

use serde::{Deserialize, Serialize};

/// What ocicat concluded about one signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// A trust policy vouches for it: the signature is good and the signer is one the policy names.
    Verified,
    /// Nothing is wrong with it that ocicat can see, but no policy vouches for its signer.
    Untrusted,
    /// It is wrong: a bad signature, one over another artifact, a broken or expired chain.
    Invalid,
    /// A shape ocicat cannot check.
    Unverifiable,
}

impl Status {
    /// The word used in search (`signature:verified`), the API and badges.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Verified => "verified",
            Status::Untrusted => "untrusted",
            Status::Invalid => "invalid",
            Status::Unverifiable => "unverifiable",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// The verdict on one signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// The conclusion.
    pub status: Status,
    /// The policy that vouches for it (verified only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
    /// Who signed, as far as ocicat can tell: a certificate identity or a key's fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The OIDC issuer of a keyless signer's certificate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// Why, in a sentence.
    pub reason: String,
}

impl Verdict {
    /// A verdict of `status` for `reason`, naming no policy or signer.
    pub fn new(status: Status, reason: impl Into<String>) -> Verdict {
        Verdict { status, policy: None, identity: None, issuer: None, reason: reason.into() }
    }

    pub(crate) fn with_identity(mut self, identity: Option<String>) -> Verdict {
        self.identity = identity;
        self
    }
}
