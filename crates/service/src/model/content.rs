//! What the document viewers show: an attached SBOM, scan report, signature or attestation,
//! read from the registry through the content proxy and cut to one page of rows, plus the
//! proxy address that downloads the original.

use serde::{Deserialize, Serialize};

use super::VulnerabilityCounts;

/// Kinds whose artifact page shows their documents (SBOM, scan, signature, attestation).
pub const DOCUMENT_KINDS: [&str; 4] = ["sbom", "scan", "signature", "attestation"];

/// Rows per page in the package and finding tables.
pub const ROWS_PER_PAGE: usize = 50;

/// The content proxy's address for an artifact's manifest, or for one of its blobs.
pub fn content_href(registry: &str, repository: &str, digest: &str, blob: Option<&str>) -> String {
    let manifest = format!("/content/{registry}/{repository}/@{digest}");
    match blob {
        Some(blob) => format!("{manifest}/blobs/{blob}"),
        None => manifest,
    }
}

/// True when `value` is an http(s) address that is safe to put in an `href` (no spaces,
/// quotes, angle brackets or control characters); anything else is shown as text.
pub fn is_http_link(value: &str) -> bool {
    let lower = value.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://"))
        && value.len() <= 2048
        && !value.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>')
}

/// The viewer's state, from the artifact page's URL.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ContentQuery {
    /// Which content layer (0-based).
    pub layer: usize,
    /// Filter text (package or finding).
    pub q: String,
    /// Sort key: packages `name|version|type|license|supplier`; findings `severity|id|package`.
    pub sort: String,
    /// Page (0-based).
    pub page: usize,
    /// Findings: only this severity (`critical`, `high`, …), empty for all.
    pub severity: String,
    /// Findings: only those with a fixed version.
    pub fixed: bool,
    /// Scans: the digest of another scan of the same artifact to compare with.
    pub compare: String,
}

/// The documents inside one attached artifact, and the selected one read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ContentsView {
    /// Each content layer.
    pub layers: Vec<LayerTab>,
    /// The layer shown.
    pub selected: usize,
    /// What it holds.
    pub body: ContentBody,
}

/// One content layer, as a tab.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct LayerTab {
    /// What it is ("SPDX 2.3 SBOM", "cosign signature", "cannot display").
    pub label: String,
    /// The media type the manifest gave it.
    pub media_type: String,
    /// Its size.
    pub size: u64,
    /// Its file name, when set.
    pub title: Option<String>,
    /// The proxy address of the original.
    pub download: String,
}

/// The selected document, read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub enum ContentBody {
    /// A software bill of materials.
    Sbom(SbomView),
    /// A vulnerability scan.
    Scan(ScanView),
    /// A signature.
    Signature(SignatureView),
    /// Another attestation (provenance, VEX, …).
    Attestation(AttestationView),
    /// Not readable: why (the download still works).
    Unreadable(String),
}

/// An SBOM: summary, licenses and one page of packages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct SbomView {
    /// `SPDX 2.3`, `CycloneDX 1.6`.
    pub format: String,
    /// The document's name.
    pub name: Option<String>,
    /// When it was made.
    pub created: Option<String>,
    /// The tools that made it.
    pub generators: Vec<String>,
    /// "in-toto statement in a DSSE envelope", when wrapped.
    pub wrapped_in: Option<String>,
    /// Every package in the document.
    pub package_total: usize,
    /// Packages by license, most first (the rest summed as "other").
    pub licenses: Vec<LicenseShare>,
    /// Packages matching the filter.
    pub matching: usize,
    /// This page of them.
    pub packages: Vec<PackageRow>,
    /// The page shown (0-based) and how many there are.
    pub page: usize,
    /// Pages of matching packages.
    pub pages: usize,
    /// Dependency relations in the document.
    pub relation_total: usize,
    /// True when the document had more packages than are read.
    pub truncated: bool,
}

/// How many packages carry one license.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct LicenseShare {
    /// The license (expression), or "unknown".
    pub license: String,
    /// Packages with it.
    pub count: u64,
    /// Share of all packages, in percent (rounded).
    pub percent: u8,
}

/// One package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct PackageRow {
    /// Name.
    pub name: String,
    /// Version.
    pub version: Option<String>,
    /// Type (library, application, operating-system, …).
    pub kind: Option<String>,
    /// License expression.
    pub license: Option<String>,
    /// Supplier.
    pub supplier: Option<String>,
    /// Package URL.
    pub purl: Option<String>,
    /// Home page, only when an http(s) address.
    pub homepage: Option<String>,
    /// What it depends on (names, the first few).
    pub depends_on: Vec<String>,
}

/// A scan report: summary, counts and one page of findings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ScanView {
    /// `Trivy JSON`, `SARIF 2.1.0`, …
    pub format: String,
    /// Scanner name.
    pub scanner: Option<String>,
    /// Scanner version.
    pub scanner_version: Option<String>,
    /// Vulnerability database version.
    pub database: Option<String>,
    /// When it ran.
    pub scanned_at: Option<String>,
    /// What it scanned, as the report names it.
    pub artifact: Option<String>,
    /// "in-toto statement in a DSSE envelope", when wrapped.
    pub wrapped_in: Option<String>,
    /// Every finding by severity.
    pub counts: VulnerabilityCounts,
    /// Findings with a fixed version.
    pub fixable: usize,
    /// Findings matching the filters.
    pub matching: usize,
    /// This page of them.
    pub findings: Vec<FindingRow>,
    /// The page shown (0-based).
    pub page: usize,
    /// Pages of matching findings.
    pub pages: usize,
    /// True when the report had more findings than are read.
    pub truncated: bool,
    /// Every scan of the same artifact, newest first (this one included).
    pub scans: Vec<ScanRef>,
    /// The comparison with another scan, when asked for.
    pub compare: Option<ScanDiff>,
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct FindingRow {
    /// Advisory id (CVE-…, GHSA-…).
    pub id: String,
    /// The advisory's page, only when an http(s) address.
    pub link: Option<String>,
    /// Affected package.
    pub package: String,
    /// Installed version.
    pub installed: Option<String>,
    /// First fixed version.
    pub fixed: Option<String>,
    /// `critical`, `high`, `medium`, `low`, `unknown`.
    pub severity: String,
    /// Title.
    pub title: Option<String>,
}

/// Another scan of the same artifact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ScanRef {
    /// Its manifest digest.
    pub digest: String,
    /// When it was made.
    pub created: Option<String>,
    /// Its artifact type.
    pub artifact_type: Option<String>,
    /// Its findings, when the crawler read them.
    pub counts: Option<VulnerabilityCounts>,
}

/// What changed between an older scan and this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct ScanDiff {
    /// The scan compared with.
    pub other: String,
    /// Its date.
    pub other_created: Option<String>,
    /// Findings here that the other scan did not have.
    pub only_here: Vec<FindingRow>,
    /// Findings of the other scan that are gone here.
    pub only_there: Vec<FindingRow>,
    /// Findings in both.
    pub unchanged: usize,
}

/// A signature and who made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct SignatureView {
    /// `cosign`, `sigstore bundle`, `notation`.
    pub kind: String,
    /// The signing certificate, when there is one.
    pub signer: Option<SignerView>,
    /// When it was signed (claimed by the signer, or the transparency log's time).
    pub signed_at: Option<String>,
    /// The digest it signs.
    pub signed_digest: Option<String>,
    /// The image reference it names.
    pub reference: Option<String>,
    /// The predicate type, for a signed statement.
    pub predicate_type: Option<String>,
    /// Further facts (signing scheme, expiry, transparency log entry).
    pub details: Vec<(String, String)>,
    /// The signed payload, pretty-printed.
    pub payload: String,
}

/// A signing certificate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct SignerView {
    /// Subject distinguished name.
    pub subject: Option<String>,
    /// Issuer distinguished name.
    pub issuer: Option<String>,
    /// Identity from the subject alternative name (email, URI).
    pub identity: Option<String>,
    /// The OIDC issuer a Fulcio certificate records.
    pub oidc_issuer: Option<String>,
    /// Validity start.
    pub not_before: Option<String>,
    /// Validity end.
    pub not_after: Option<String>,
    /// SHA-256 fingerprint of the certificate.
    pub fingerprint: Option<String>,
}

/// An in-toto attestation that is neither an SBOM nor a scan.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct AttestationView {
    /// Its predicate type.
    pub predicate_type: String,
    /// The statement type.
    pub statement_type: String,
    /// What it is about: (name, digest).
    pub subjects: Vec<(String, String)>,
    /// The predicate, pretty-printed.
    pub predicate: String,
    /// Signatures on the envelope (not verified here).
    pub signatures: usize,
}

/// One signature or attestation of an artifact, in the subject's summary list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct SignatureRow {
    /// The referrer's manifest digest (its page holds the details).
    pub digest: String,
    /// Its kind in the catalog (`signature`, `attestation`).
    pub kind: String,
    /// What it is: `cosign`, `notation`, `sigstore bundle`, `in-toto attestation`.
    pub format: String,
    /// Who signed (certificate identity or subject), when known.
    pub signer: Option<String>,
    /// The certificate issuer or OIDC issuer.
    pub issuer: Option<String>,
    /// When.
    pub signed_at: Option<String>,
    /// Predicate type, for attestations.
    pub predicate_type: Option<String>,
    /// Why it could not be read, when it could not.
    pub problem: Option<String>,
    /// The verdict on this signature under the trust policies (signatures only).
    #[serde(default)]
    pub verification: Option<super::Verification>,
}
