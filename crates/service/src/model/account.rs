//! The signed-in user's view of themselves: who they are (for the header) and their API tokens.

use serde::{Deserialize, Serialize};

/// Who the page is shown to, for the header and the pages that depend on roles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct SessionView {
    /// The signed-in user, `None` for a visitor.
    pub user: Option<String>,
    /// True when access control is on (there is something to sign in to).
    pub access: bool,
    /// True when the viewer may administer some registry (sees crawl internals).
    pub admin: bool,
    /// True when the viewer may delete somewhere (sees delete buttons, audit and retention).
    #[serde(default)]
    pub can_delete: bool,
    /// True when the viewer may write somewhere (sees "Copy to…").
    #[serde(default)]
    pub can_copy: bool,
    /// The session's anti-CSRF token, for deletes sent over the JSON API with the cookie
    /// (header `X-CSRF-Token`); empty without a session.
    #[serde(default)]
    pub csrf: String,
}

/// One API token as its owner sees it: never the secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct TokenRow {
    /// Short id, for revoking.
    pub id: String,
    /// The owner's name for it.
    pub name: String,
    /// When it was made (RFC 3339).
    pub created: String,
    /// When it last authenticated a request, to the minute (RFC 3339).
    pub last_used: Option<String>,
}

/// A token just made: its secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "backend", derive(utoipa::ToSchema))]
pub struct NewToken {
    /// The stored part.
    pub token: TokenRow,
    /// `ocicat_…`, to be sent as `Authorization: Bearer`; not kept by ocicat.
    pub secret: String,
}
