//! Trust policies: `[[trust]]` in the configuration ([`TrustPolicy`]), checked and loaded with
//! their key files into [`Policies`], which say which policies cover a repository.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Deserialize;
use sha2::{Digest as _, Sha256};

use crate::{PublicKey, TrustError, TrustedRoot};

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

/// A keyless signer: the OIDC issuer and the certificate identity (`*` in either matches any
/// run of characters).
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
    /// The keyless signers it trusts.
    pub keyless: Vec<KeylessIdentity>,
    /// The roots keyless signatures chain to.
    pub root: Arc<TrustedRoot>,
    /// Where the root came from (`public-good` or the file), for the fingerprint.
    pub root_source: String,
    /// The X.509 certificates notation signatures must chain to (DER; notation's trust store).
    pub notation_roots: Vec<Vec<u8>>,
    /// The notation signers it trusts: `*` or `x509.subject: <DN>`.
    pub notation_identities: Vec<String>,
}

impl Policy {
    /// A policy named `name` trusting `keys` in `repositories` of `registry`, no keyless signer.
    pub fn with_keys(name: &str, registry: &str, repositories: &str, keys: Vec<PublicKey>) -> Policy {
        Policy {
            name: name.to_owned(),
            registry: registry.to_owned(),
            repositories: repositories.to_owned(),
            keys,
            keyless: Vec::new(),
            root: TrustedRoot::public_good(),
            root_source: "public-good".to_owned(),
            notation_roots: Vec::new(),
            notation_identities: Vec::new(),
        }
    }
}

impl Policy {
    /// The notation roots as people name them: the certificate's subject and fingerprint.
    pub fn notation_root_names(&self) -> Vec<String> {
        self.notation_roots
            .iter()
            .map(|der| {
                let subject = x509_parser::parse_x509_certificate(der)
                    .map(|(_, certificate)| certificate.subject().to_string())
                    .unwrap_or_default();
                format!("{subject} sha256:{}…", &hex::encode(Sha256::digest(der))[..16])
            })
            .collect()
    }
}

impl KeylessIdentity {
    /// Whether a certificate naming `identity`, vouched for by `issuer`, is this signer.
    pub fn matches(&self, identity: &str, issuer: Option<&str>) -> bool {
        glob(&self.identity, identity) && issuer.is_some_and(|issuer| glob(&self.issuer, issuer))
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of characters.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or_default();
    let Some(mut rest) = text.strip_prefix(first) else { return false };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else { return rest.is_empty() };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
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
        if self.notation_roots.is_empty() != self.notation_identities.is_empty() {
            return Err(TrustError::Policy(format!(
                "{name}: notation needs both notation_roots and notation_identities (\"*\" for any signer under the roots)"
            )));
        }
        for identity in &self.notation_identities {
            crate::notation::parse_identity(identity)
                .map_err(|reason| TrustError::Policy(format!("{name}: notation identity {identity:?}: {reason}")))?;
        }
        if self.cosign_public_keys.is_empty() && self.keyless.is_empty() && self.notation_roots.is_empty() {
            return Err(TrustError::Policy(format!(
                "{name}: trusts nothing; list cosign_public_keys, keyless signers or notation_roots"
            )));
        }
        for signer in &self.keyless {
            if signer.issuer.trim().is_empty() || signer.identity.trim().is_empty() {
                return Err(TrustError::Policy(format!("{name}: a keyless signer needs an issuer and an identity")));
            }
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
        let (root, root_source) = match &self.sigstore_trusted_root {
            Some(path) => {
                let path = base.join(path);
                let text = std::fs::read_to_string(&path).map_err(|error| {
                    TrustError::Policy(format!("{}: cannot read trusted root {}: {error}", self.name, path.display()))
                })?;
                let root = TrustedRoot::from_json(&text)
                    .map_err(|error| TrustError::Policy(format!("{}: {}: {error}", self.name, path.display())))?;
                (Arc::new(root), format!("{}:{}", path.display(), hex::encode(Sha256::digest(text.as_bytes()))))
            }
            None => (TrustedRoot::public_good(), "public-good".to_owned()),
        };
        let mut notation_roots = Vec::new();
        for path in &self.notation_roots {
            let path = base.join(path);
            let text = std::fs::read_to_string(&path).map_err(|error| {
                TrustError::Key(format!("{}: cannot read notation root {}: {error}", self.name, path.display()))
            })?;
            let certificates: Vec<Vec<u8>> = crate::keys::pem_bodies(&text, "CERTIFICATE").collect();
            if certificates.is_empty() {
                return Err(TrustError::Key(format!(
                    "{}: notation root {} holds no PEM certificate",
                    self.name,
                    path.display()
                )));
            }
            for der in certificates {
                x509_parser::parse_x509_certificate(&der).map_err(|_| {
                    TrustError::Key(format!(
                        "{}: notation root {}: not an x.509 certificate",
                        self.name,
                        path.display()
                    ))
                })?;
                notation_roots.push(der);
            }
        }
        Ok(Policy {
            name: self.name.clone(),
            registry: self.registry.clone(),
            repositories: self.repositories.clone(),
            keys,
            keyless: self.keyless.clone(),
            root,
            root_source,
            notation_roots,
            notation_identities: self.notation_identities.clone(),
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
            for signer in &policy.keyless {
                for part in [&signer.issuer, &signer.identity] {
                    hash.update(part.as_bytes());
                    hash.update([0]);
                }
            }
            hash.update(policy.root_source.as_bytes());
            hash.update([0]);
            for root in &policy.notation_roots {
                hash.update(Sha256::digest(root));
            }
            for identity in &policy.notation_identities {
                hash.update(identity.as_bytes());
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
