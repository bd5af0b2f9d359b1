//! Annotations as pages show them: a manifest's own, those an index puts on a child's
//! descriptor, and those attached later by a referrer (with who attached them and when).

use serde::{Deserialize, Serialize};

/// A name/value pair with a flag telling whether the value may be shown as a link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct Annotation {
    /// The key.
    pub key: String,
    /// The value, as text.
    pub value: String,
    /// True only for http(s) URLs.
    pub is_link: bool,
}

/// An annotation attached to an artifact by a referrer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct AttachedAnnotationView {
    /// The key and value.
    pub annotation: Annotation,
    /// The referrer that carries it.
    pub referrer: String,
    /// Who attached it, when the referrer says.
    pub by: Option<String>,
    /// When (RFC 3339), when the referrer says.
    pub at: Option<String>,
}
