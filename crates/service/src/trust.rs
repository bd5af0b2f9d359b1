//! Trust policies: which ones a caller may see, described by their public facts.

use ocicat_access::Principal;

use ocicat_catalog::{ArtifactDoc, TrustSummary};
use ocicat_oci::ArtifactKind;

use crate::model::{KeylessSignerView, SignatureVerdicts, TrustPolicyView, VerifyReport};
use crate::state::blocking;
use crate::views::verification;
use crate::{AppError, Service, authz};

impl Service {
    /// The configured trust policies `who` may see: those covering a registry they may read.
    pub fn trust_policies(&self, who: &Principal) -> Vec<TrustPolicyView> {
        let registries = self.registries();
        self.trust
            .all()
            .iter()
            .filter(|policy| authz::see_trust_policy(who, &registries, &policy.registry))
            .map(|policy| TrustPolicyView {
                name: policy.name.clone(),
                registry: policy.registry.clone(),
                repositories: policy.repositories.clone(),
                keys: policy.keys.iter().map(ocicat_trust::PublicKey::describe).collect(),
                keyless: policy
                    .keyless
                    .iter()
                    .map(|signer| KeylessSignerView {
                        issuer: signer.issuer.clone(),
                        identity: signer.identity.clone(),
                    })
                    .collect(),
                notation_roots: policy.notation_root_names(),
                notation_identities: policy.notation_identities.clone(),
            })
            .collect()
    }

    /// The verdicts on every signature of `digest` in `registry`/`repository` under the
    /// configured policies, computed now from the evidence the catalog kept (no network).
    pub async fn verify_artifact(
        &self,
        who: &Principal,
        registry: &str,
        repository: &str,
        digest: &str,
    ) -> Result<VerifyReport, AppError> {
        let artifact = self.find_indexed(who, registry, repository, digest).await?;
        let catalog = self.catalog.clone();
        let (name, repo, wanted) = (artifact.registry.clone(), artifact.repository.clone(), artifact.digest.clone());
        let mut signatures: Vec<ArtifactDoc> = blocking(move || catalog.referrers(&name, &repo, &wanted))
            .await?
            .into_iter()
            .filter(|referrer| {
                referrer.kind == ArtifactKind::Signature
                    || (referrer.kind == ArtifactKind::Attestation && !referrer.signature_evidence.is_empty())
            })
            .collect();
        signatures.sort_by(|a, b| a.digest.cmp(&b.digest));
        let policies = self.trust.covering(registry, repository, ocicat_catalog::pattern::matches);
        let mut summary = TrustSummary::default();
        let signatures = signatures
            .into_iter()
            .map(|signature| {
                let verdicts = ocicat_trust::verify_all(&signature.signature_evidence, &artifact.digest, &policies);
                verdicts.iter().for_each(|verdict| summary.add(verdict));
                SignatureVerdicts {
                    digest: signature.digest,
                    tags: signature.tags,
                    verifications: verdicts.iter().map(verification).collect(),
                }
            })
            .collect();
        Ok(VerifyReport {
            registry: artifact.registry,
            repository: artifact.repository,
            digest: artifact.digest,
            status: summary.status.map_or("none", |status| status.as_str()).to_owned(),
            policies: summary.policies,
            signatures,
        })
    }
}
