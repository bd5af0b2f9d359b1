//! Pure parsers for the documents attached to artifacts. No I/O: callers fetch (bounded,
//! verified) bytes and hand them over; every parser returns a clear error for anything it cannot
//! read and never panics on hostile input.
//!
//! Today: vulnerability counts by severity from scan reports ([`scan`]). The SBOM, signature and
//! full report views of issue 7 grow here.

pub mod scan;

/// Why a document could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// Not JSON, or JSON nested too deeply.
    #[error("not a json document: {0}")]
    NotJson(String),
    /// JSON, but not a format this parser knows.
    #[error("unrecognised document: {0}")]
    Unrecognised(String),
}
