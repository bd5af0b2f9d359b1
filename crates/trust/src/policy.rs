//! Trust policies: `[[trust]]` in the configuration ([`TrustPolicy`]), checked and loaded with
//! their key files into [`Policies`], which say which policies cover a repository.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::{PublicKey, TrustError};

/// One `[[trust]]` table as written.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrustPolicy {
    /// The policy's name, `[a-z0-9_-]{1,64}`: shown on badges, searched with `trust:<name>`.
    pub name: String,
    /// A configured registry name, or `*` for every registry.
    pub registry: String,
    /// Repository pattern: `*` one path segment, `**` any number (default `**`).
    #[serde(default = "everything")]
    pub repositories: String,
    /// PEM public keys whose cosign signatures this policy vouches for (paths relative to the
    /// configuration file).
    #[serde(default)]
    pub cosign_public_keys: Vec<PathBuf>,
    /// Keyless signers (Fulcio certificates) this policy vouches for.
    #[serde(default)]
    pub keyless: Vec<KeylessIdentity>,
    /// The Sigstore trusted root for keyless signatures.
    #[serde(default)]
    pub sigstore_trusted_root: Option<PathBuf>,
    /// X.509 roots of notation signatures.
    #[serde(default)]
    pub notation_roots: Vec<PathBuf>,
    /// Notation signer identities (`x509.subject: C=US, O=Acme, CN=release`, or `*`).
    #[serde(default)]
    pub notation_identities: Vec<String>,
}

fn everything() -> String {
    "**".to_owned()
}

/// A keyless signer: the OIDC issuer and the certificate identity (`*` in it matches any run of
/// characters).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeylessIdentity {
    /// The OIDC issuer the Fulcio certificate names.
    pub issuer: String,
    /// The SAN (email or URI) the Fulcio certificate names.
    pub identity: String,
}

/// A policy with its keys loaded.
#[derive(Debug, Clone)]
pub struct Policy {
    /// The policy's name.
    pub name: String,
    /// The registry it covers, or `*`.
    pub registry: String,
    /// The repositories it covers (a pattern).
    pub repositories: String,
    /// The keys it trusts.
    pub keys: Vec<PublicKey>,
}

/// Every configured policy, loaded.
#[derive(Debug, Clone, Default)]
pub struct Policies {
    policies: Vec<Policy>,
    fingerprint: String,
}

impl TrustPolicy {
    /// Checks what can be checked without reading files.
    pub fn validate(&self) -> Result<(), TrustError> {
        let name = &self.name;
        let valid_name = !name.is_empty()
            && name.len() <= 64
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
        if !valid_name {
            return Err(TrustError::Policy(format!(
                "name {name:?} must be 1-64 lowercase letters, digits, '-' or '_'"
            )));
        }
        if !self.keyless.is_empty() || self.sigstore_trusted_root.is_some() {
            return Err(TrustError::Policy(format!(
                "{name}: keyless signers are not verified by this version of ocicat; trust cosign_public_keys"
            )));
        }
        if !self.notation_roots.is_empty() || !self.notation_identities.is_empty() {
            return Err(TrustError::Policy(format!(
                "{name}: notation signatures are not verified by this version of ocicat; trust cosign_public_keys"
            )));
        }
        if self.cosign_public_keys.is_empty() {
            return Err(TrustError::Policy(format!("{name}: trusts nothing; list cosign_public_keys")));
        }
        Ok(())
    }

    /// Validates the policy and reads its key files (relative paths from `base`).
    pub fn load(&self, base: &Path) -> Result<Policy, TrustError> {
        self.validate()?;
        let keys = self
            .cosign_public_keys
            .iter()
            .map(|path| {
                let path = base.join(path);
                let text = std::fs::read_to_string(&path).map_err(|error| {
                    TrustError::Key(format!("{}: cannot read key {}: {error}", self.name, path.display()))
                })?;
                PublicKey::from_pem(&text)
                    .map_err(|error| TrustError::Key(format!("{}: key {}: {error}", self.name, path.display())))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Policy {
            name: self.name.clone(),
            registry: self.registry.clone(),
            repositories: self.repositories.clone(),
            keys,
        })
    }
}

impl Policies {
    /// Loads every policy (key paths relative to `base`, the configuration file's folder).
    pub fn load(configured: &[TrustPolicy], base: &Path) -> Result<Policies, TrustError> {
        let mut names = std::collections::HashSet::new();
        let mut policies = Vec::with_capacity(configured.len());
        for policy in configured {
            if !names.insert(policy.name.as_str()) {
                return Err(TrustError::Policy(format!("name {:?} is used twice", policy.name)));
            }
            policies.push(policy.load(base)?);
        }
        Ok(Policies::new(policies))
    }

    /// The given policies.
    pub fn new(policies: Vec<Policy>) -> Policies {
        let mut hash = Sha256::new();
        for policy in &policies {
            for part in [&policy.name, &policy.registry, &policy.repositories] {
                hash.update(part.as_bytes());
                hash.update([0]);
            }
            for key in &policy.keys {
                hash.update(key.fingerprint().as_bytes());
                hash.update([0]);
            }
            hash.update([1]);
        }
        Policies { policies, fingerprint: hex::encode(hash.finalize()) }
    }

    /// Every policy.
    pub fn all(&self) -> &[Policy] {
        &self.policies
    }

    /// Changes whenever what the policies trust changes: verdicts computed under another
    /// fingerprint are recomputed.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// The policies that cover `repository` of `registry`, `matches(pattern, repository)`
    /// deciding repository patterns (the grants' glob rules).
    pub fn covering(&self, registry: &str, repository: &str, matches: impl Fn(&str, &str) -> bool) -> Vec<&Policy> {
        self.policies
            .iter()
            .filter(|policy| {
                (policy.registry == "*" || policy.registry == registry) && matches(&policy.repositories, repository)
            })
            .collect()
    }
}
