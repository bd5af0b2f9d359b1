//! The document viewers' lookups: an attached artifact's layers read through the content proxy
//! (`ocicat-content`) and cut to what one page shows (SBOMs in `sbom.rs`, scans in `scan.rs`),
//! and the signature list of a subject.

use ocicat_access::Principal;
use ocicat_catalog::{ArtifactDoc, ArtifactKind};
use ocicat_content::LayerDocument;
use ocicat_formats::Document;
use ocicat_formats::intoto::Attestation;
use ocicat_formats::signature::Signature;

use crate::error::AppError;
use crate::model::{
    AttestationView, ContentBody, ContentQuery, ContentsView, DOCUMENT_KINDS, LayerTab, SignatureRow, SignatureView,
    SignerView, content_href,
};
use crate::state::{Service, blocking};
use crate::viewer::registry_error;

/// At most this many signatures and attestations are read for a subject's list.
const SIGNATURES_LISTED: usize = 20;

impl Service {
    /// The content layers of the attached artifact `digest` and the selected one, read.
    pub async fn find_contents(
        &self,
        who: &Principal,
        registry: String,
        repository: String,
        digest: String,
        query: ContentQuery,
    ) -> Result<ContentsView, AppError> {
        let artifact = self.find_indexed(who, &registry, &repository, &digest).await?;
        if !DOCUMENT_KINDS.contains(&artifact.kind.as_str()) {
            return Err(AppError::NotFound(format!("documents in {} artifact {digest}", artifact.kind)));
        }
        let documents = {
            let _turn = self.gates.documents().await?;
            self.content.documents(&artifact).await.map_err(registry_error)?
        };
        let layers: Vec<LayerTab> = documents
            .iter()
            .map(|layer| LayerTab {
                label: label_of(layer),
                media_type: layer.media_type.clone(),
                size: layer.size,
                title: layer.title.clone(),
                download: content_href(&registry, &repository, &digest, Some(&layer.digest)),
            })
            .collect();
        let Some(last) = documents.len().checked_sub(1) else {
            let body = ContentBody::Unreadable("it has no content layers".into());
            return Ok(ContentsView { layers, selected: 0, body });
        };
        let selected = query.layer.min(last);
        let body = match &documents[selected].document {
            Ok(Document::Sbom(sbom)) => ContentBody::Sbom(crate::sbom::sbom_view(sbom, &query)),
            Ok(Document::Scan(report)) => {
                let scans = self.scans_of(&artifact).await?;
                let compare = self.compare_with(who, &artifact, report, &query.compare, &scans).await?;
                ContentBody::Scan(crate::scan::scan_view(report, &query, scans, compare))
            }
            Ok(Document::Signature(signature)) => ContentBody::Signature(signature_view(signature)),
            Ok(Document::Attestation(attestation)) => ContentBody::Attestation(attestation_view(attestation)),
            Err(reason) => ContentBody::Unreadable(reason.clone()),
        };
        Ok(ContentsView { layers, selected, body })
    }

    /// The signatures and attestations attached to `digest`, each read for its signer.
    pub async fn list_signatures(
        &self,
        who: &Principal,
        registry: String,
        repository: String,
        digest: String,
    ) -> Result<Vec<SignatureRow>, AppError> {
        let artifact = self.find_indexed(who, &registry, &repository, &digest).await?;
        let catalog = self.catalog.clone();
        let (name, repo, wanted) = (artifact.registry.clone(), artifact.repository.clone(), artifact.digest.clone());
        let mut referrers: Vec<ArtifactDoc> = blocking(move || catalog.referrers(&name, &repo, &wanted))
            .await?
            .into_iter()
            .filter(|referrer| matches!(referrer.kind, ArtifactKind::Signature | ArtifactKind::Attestation))
            .collect();
        referrers.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.digest.cmp(&b.digest)));
        let mut rows = Vec::new();
        for referrer in referrers.into_iter().take(SIGNATURES_LISTED) {
            let base = |format: &str| SignatureRow {
                digest: referrer.digest.clone(),
                kind: referrer.kind.as_str().to_owned(),
                format: format.to_owned(),
                signer: None,
                issuer: None,
                signed_at: referrer.created.map(|date| date.to_rfc3339()),
                predicate_type: None,
                problem: None,
                verification: None,
            };
            let _turn = self.gates.documents().await?;
            match self.content.documents(&referrer).await {
                Ok(documents) => {
                    // The verdicts follow the signature layers in order (the crawler's reading).
                    let mut verdicts = referrer.verdicts.iter();
                    for layer in documents.iter() {
                        let mut row = signature_row(base(""), layer);
                        if ocicat_trust::is_signature_media_type(&layer.media_type) {
                            row.verification = verdicts.next().map(crate::views::verification);
                        }
                        rows.push(row);
                    }
                }
                Err(error) => {
                    rows.push(SignatureRow { problem: Some(error.public_message()), ..base(referrer.kind.as_str()) })
                }
            }
        }
        Ok(rows)
    }
}

fn signature_row(mut row: SignatureRow, layer: &LayerDocument) -> SignatureRow {
    match &layer.document {
        Ok(Document::Signature(signature)) => {
            row.format = signature.kind.to_string();
            if let Some(signer) = &signature.signer {
                row.signer = signer.identity.clone().or_else(|| signer.subject.clone());
                row.issuer = signer.oidc_issuer.clone().or_else(|| signer.issuer.clone());
            }
            row.signed_at = signature.signed_at.clone().or(row.signed_at);
            row.predicate_type = signature.predicate_type.clone();
        }
        Ok(Document::Attestation(attestation)) => {
            row.format = "in-toto attestation".into();
            row.predicate_type = Some(attestation.predicate_type.clone());
        }
        Ok(Document::Sbom(sbom)) => row.format = format!("{} SBOM attestation", sbom.format),
        Ok(Document::Scan(report)) if report.format.contains("attestation") => row.format = report.format.clone(),
        Ok(Document::Scan(report)) => row.format = format!("{} vulnerability attestation", report.format),
        Err(reason) => {
            row.format = layer.media_type.clone();
            row.problem = Some(reason.clone());
        }
    }
    row
}

fn label_of(layer: &LayerDocument) -> String {
    match &layer.document {
        Ok(Document::Sbom(sbom)) => format!("{} SBOM", sbom.format),
        Ok(Document::Scan(report)) => format!("{} scan", report.format),
        Ok(Document::Signature(signature)) => format!("{} signature", signature.kind),
        Ok(Document::Attestation(_)) => "in-toto attestation".into(),
        Err(_) => "cannot display".into(),
    }
}

fn signature_view(signature: &Signature) -> SignatureView {
    SignatureView {
        kind: signature.kind.to_string(),
        signer: signature.signer.as_ref().map(|signer| SignerView {
            subject: signer.subject.clone(),
            issuer: signer.issuer.clone(),
            identity: signer.identity.clone(),
            oidc_issuer: signer.oidc_issuer.clone(),
            not_before: signer.not_before.clone(),
            not_after: signer.not_after.clone(),
            fingerprint: signer.fingerprint_sha256.clone(),
        }),
        signed_at: signature.signed_at.clone(),
        signed_digest: signature.signed_digest.clone(),
        reference: signature.reference.clone(),
        predicate_type: signature.predicate_type.clone(),
        details: signature.details.clone(),
        payload: signature.payload.clone(),
    }
}

fn attestation_view(attestation: &Attestation) -> AttestationView {
    AttestationView {
        predicate_type: attestation.predicate_type.clone(),
        statement_type: attestation.statement_type.clone(),
        subjects: attestation.subjects.iter().map(|subject| (subject.name.clone(), subject.digest.clone())).collect(),
        predicate: attestation.predicate.clone(),
        signatures: attestation.signatures,
    }
}
