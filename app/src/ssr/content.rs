//! The document viewers' lookups: an attached artifact's layers read through the content proxy
//! (`ocicat-content`) and cut to what one page shows — packages and findings filtered, sorted
//! and paged here, so a 100,000-package SBOM never rides in the HTML (scans in `scan.rs`) —
//! and the signature list of a subject.

use std::collections::BTreeMap;

use ocicat_access::Principal;
use ocicat_catalog::ArtifactDoc;
use ocicat_content::{ContentError, LayerDocument};
use ocicat_formats::Document;
use ocicat_formats::intoto::Attestation;
use ocicat_formats::sbom::Sbom;
use ocicat_formats::signature::Signature;

use super::{UiState, blocking, find_indexed};
use crate::error::AppError;
use crate::model::{
    AttestationView, ContentBody, ContentQuery, ContentsView, DOCUMENT_KINDS, LayerTab, LicenseShare, PackageRow,
    ROWS_PER_PAGE, SbomView, SignatureRow, SignatureView, SignerView, content_href, is_http_link,
};

/// At most this many signatures and attestations are read for a subject's list.
const SIGNATURES_LISTED: usize = 20;
/// Licenses shown by name in the breakdown; the rest are summed as "other".
const LICENSES_SHOWN: usize = 8;

/// The content layers of the attached artifact `digest` and the selected one, read.
pub async fn find_contents(
    state: &UiState,
    who: &Principal,
    registry: String,
    repository: String,
    digest: String,
    query: ContentQuery,
) -> Result<ContentsView, AppError> {
    let artifact = find_indexed(state, who, &registry, &repository, &digest).await?;
    if !DOCUMENT_KINDS.contains(&artifact.kind.as_str()) {
        return Err(AppError::NotFound(format!("documents in {} artifact {digest}", artifact.kind)));
    }
    let documents = state.content.documents(&artifact).await.map_err(registry_error)?;
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
        Ok(Document::Sbom(sbom)) => ContentBody::Sbom(sbom_view(sbom, &query)),
        Ok(Document::Scan(report)) => {
            let scans = super::scan::scans_of(state, &artifact).await?;
            let compare = super::scan::compare_with(state, who, &artifact, report, &query.compare, &scans).await?;
            ContentBody::Scan(super::scan::scan_view(report, &query, scans, compare))
        }
        Ok(Document::Signature(signature)) => ContentBody::Signature(signature_view(signature)),
        Ok(Document::Attestation(attestation)) => ContentBody::Attestation(attestation_view(attestation)),
        Err(reason) => ContentBody::Unreadable(reason.clone()),
    };
    Ok(ContentsView { layers, selected, body })
}

/// The signatures and attestations attached to `digest`, each read for its signer.
pub async fn find_signatures(
    state: &UiState,
    who: &Principal,
    registry: String,
    repository: String,
    digest: String,
) -> Result<Vec<SignatureRow>, AppError> {
    let artifact = find_indexed(state, who, &registry, &repository, &digest).await?;
    let catalog = state.catalog.clone();
    let (name, repo, wanted) = (artifact.registry.clone(), artifact.repository.clone(), artifact.digest.clone());
    let mut referrers: Vec<ArtifactDoc> = blocking(move || catalog.referrers(&name, &repo, &wanted))
        .await?
        .into_iter()
        .filter(|referrer| matches!(referrer.kind.as_str(), "signature" | "attestation"))
        .collect();
    referrers.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.digest.cmp(&b.digest)));
    let mut rows = Vec::new();
    for referrer in referrers.into_iter().take(SIGNATURES_LISTED) {
        let base = |format: &str| SignatureRow {
            digest: referrer.digest.clone(),
            kind: referrer.kind.clone(),
            format: format.to_owned(),
            signer: None,
            issuer: None,
            signed_at: referrer.created.map(|date| date.to_rfc3339()),
            predicate_type: None,
            problem: None,
        };
        match state.content.documents(&referrer).await {
            Ok(documents) => rows.extend(documents.iter().map(|layer| signature_row(base(""), layer))),
            Err(error) => rows.push(SignatureRow { problem: Some(error.public_message()), ..base(&referrer.kind) }),
        }
    }
    Ok(rows)
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

pub(super) fn registry_error(error: ContentError) -> AppError {
    tracing::warn!(%error, "attached documents not read");
    if error.is_gone() {
        AppError::NotFound(format!("the document ({})", error.public_message()))
    } else {
        AppError::Registry(error.public_message())
    }
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

/// Filters, sorts and pages an SBOM's packages.
pub(crate) fn sbom_view(sbom: &Sbom, query: &ContentQuery) -> SbomView {
    let names: BTreeMap<&str, &str> =
        sbom.packages.iter().map(|package| (package.id.as_str(), package.name.as_str())).collect();
    let mut depends: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for relation in &sbom.dependencies {
        let target = names.get(relation.to.as_str()).copied().unwrap_or(relation.to.as_str());
        depends.entry(relation.from.as_str()).or_default().push(target.to_owned());
    }
    let needle = query.q.trim().to_lowercase();
    let mut matching: Vec<_> = sbom
        .packages
        .iter()
        .filter(|package| {
            needle.is_empty()
                || [Some(&package.name), package.purl.as_ref(), package.license.as_ref(), package.supplier.as_ref()]
                    .into_iter()
                    .flatten()
                    .any(|field| field.to_lowercase().contains(&needle))
        })
        .collect();
    let key = |package: &&ocicat_formats::sbom::Package| -> (String, String) {
        let field = match query.sort.as_str() {
            "version" => package.version.clone(),
            "type" => package.kind.clone(),
            "license" => package.license.clone(),
            "supplier" => package.supplier.clone(),
            _ => None,
        };
        // Rows without the sort field go last: "\u{10FFFF}" sorts after any text.
        (field.map(|text| text.to_lowercase()).unwrap_or_else(|| "\u{10FFFF}".into()), package.name.to_lowercase())
    };
    matching.sort_by_cached_key(key);
    let (page, pages, rows) = page_of(&matching, query.page);
    let packages = rows
        .iter()
        .map(|package| PackageRow {
            name: package.name.clone(),
            version: package.version.clone(),
            kind: package.kind.clone(),
            license: package.license.clone(),
            supplier: package.supplier.clone(),
            purl: package.purl.clone(),
            homepage: package.homepage.clone().filter(|link| is_http_link(link)),
            depends_on: depends
                .get(package.id.as_str())
                .map(|list| list.iter().take(8).cloned().collect())
                .unwrap_or_default(),
        })
        .collect();
    SbomView {
        format: sbom.format.clone(),
        name: sbom.name.clone(),
        created: sbom.created.clone(),
        generators: sbom.generators.clone(),
        wrapped_in: sbom.wrapped_in.clone(),
        package_total: sbom.packages.len(),
        licenses: license_shares(&sbom.licenses, sbom.packages.len()),
        matching: matching.len(),
        packages,
        page,
        pages,
        relation_total: sbom.dependencies.len(),
        truncated: sbom.truncated,
    }
}

fn license_shares(licenses: &[(String, u64)], total: usize) -> Vec<LicenseShare> {
    let total = total.max(1) as f64;
    let share = |license: String, count: u64| LicenseShare {
        percent: ((count as f64 * 100.0 / total).round() as u64).min(100) as u8,
        license,
        count,
    };
    let mut shares: Vec<LicenseShare> =
        licenses.iter().take(LICENSES_SHOWN).map(|(license, count)| share(license.clone(), *count)).collect();
    let rest: u64 = licenses.iter().skip(LICENSES_SHOWN).map(|(_, count)| count).sum();
    if rest > 0 {
        shares.push(share("other".into(), rest));
    }
    shares
}

/// One page of `rows` (page clamped to the last one).
pub(super) fn page_of<T: Clone>(rows: &[T], page: usize) -> (usize, usize, Vec<T>) {
    let pages = rows.len().div_ceil(ROWS_PER_PAGE).max(1);
    let page = page.min(pages - 1);
    (page, pages, rows.iter().skip(page * ROWS_PER_PAGE).take(ROWS_PER_PAGE).cloned().collect())
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
