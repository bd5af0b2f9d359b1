//! Pure parsers for the documents attached to artifacts: SBOMs ([`sbom`]: SPDX 2.2/2.3 and
//! CycloneDX 1.4–1.6 JSON), scan reports ([`scan`]: Trivy JSON, SARIF 2.1.0, CycloneDX
//! vulnerabilities, cosign vulnerability attestations), signatures ([`signature`]: cosign simple
//! signing, sigstore bundles, notation JWS and COSE) and in-toto attestations ([`intoto`]), plus
//! bounded decompression of layers ([`unpack`]). Artifacts of other kinds have their own
//! readers: Helm charts' config and packaged files ([`helm`]), WebAssembly modules and
//! components ([`wasm`]); READMEs and descriptions become safe HTML through [`markdown`].
//!
//! No I/O: callers fetch (bounded, verified) bytes and hand them over; every parser returns a
//! clear error for anything it cannot read and never panics on hostile input. Every string taken
//! from a document is cut to 4,096 chars and every long list to 100,000 entries (with a
//! `truncated` flag), so what comes out is safe to keep and render; escaping is the UI's job
//! (but [`markdown`] hands over HTML, sanitized for a page to use as it is).

pub mod helm;
pub mod intoto;
pub mod markdown;
pub mod sbom;
pub mod scan;
pub mod signature;
pub mod unpack;
pub mod wasm;

mod detect;
mod text;

use std::collections::BTreeMap;

pub use intoto::{Attestation, AttestedSubject};
pub use sbom::{Package, Relation, Sbom};
pub use scan::{Finding, Findings, Report, Severity};
pub use signature::{Signature, SignatureKind, Signer};

/// Largest document [`read`] accepts, after decompression.
pub const MAX_DOCUMENT_BYTES: usize = 64 << 20;

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Not JSON, or JSON nested too deeply.
    #[error("not a json document: {0}")]
    NotJson(String),
    /// JSON, but not a format this parser knows.
    #[error("unrecognised document: {0}")]
    Unrecognised(String),
    /// A known format whose content is broken (bad base64, a required field of the wrong type).
    #[error("malformed document: {0}")]
    Malformed(String),
    /// Larger than a cap, before or after decompression.
    #[error("too large: {0}")]
    TooLarge(String),
    /// A known format that this crate does not read (yet).
    #[error("{0}")]
    Unsupported(String),
}

/// What a layer's bytes turned out to be.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Document {
    /// A software bill of materials.
    Sbom(sbom::Sbom),
    /// A vulnerability scan report.
    Scan(scan::Report),
    /// A signature over an artifact.
    Signature(signature::Signature),
    /// An in-toto attestation of a kind not shown as an SBOM or a scan (provenance, VEX, …).
    Attestation(intoto::Attestation),
}

/// What the registry said about the bytes. Never trusted for the decision alone: content
/// decides, the hint breaks ties and supplies the layer's annotations (cosign keeps its
/// certificate and transparency-log bundle there).
#[derive(Debug, Clone, Copy)]
pub struct Hint<'a> {
    /// The layer's media type.
    pub media_type: &'a str,
    /// The layer descriptor's annotations.
    pub annotations: &'a BTreeMap<String, String>,
    /// The manifest's artifact type, when it has one.
    pub artifact_type: Option<&'a str>,
}

static NO_ANNOTATIONS: BTreeMap<String, String> = BTreeMap::new();

impl Default for Hint<'_> {
    fn default() -> Self {
        Hint { media_type: "", annotations: &NO_ANNOTATIONS, artifact_type: None }
    }
}

impl<'a> Hint<'a> {
    /// A hint that only gives the media type.
    pub fn media_type(media_type: &'a str) -> Self {
        Hint { media_type, ..Hint::default() }
    }
}

/// Reads one document (already decompressed; gzip or zstd bytes are still unpacked under the
/// [`unpack`] caps) of any supported format.
pub fn read(bytes: &[u8], hint: &Hint) -> Result<Document, FormatError> {
    detect::read(bytes, hint)
}
