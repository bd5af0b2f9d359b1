//! What every server function starts from: the service the server provided, the principal its
//! access middleware put on the request, and the request's anti-CSRF token. Nothing here
//! decides anything; the service does.

use leptos::prelude::use_context;
use ocicat_access::{BearerAuthenticated, CsrfToken, Principal};
use ocicat_service::{AppError, Service};

/// The service of this server.
pub fn service() -> Result<Service, AppError> {
    use_context::<Service>().ok_or_else(|| {
        tracing::error!("service missing from the leptos context");
        AppError::Internal
    })
}

fn parts() -> Option<axum::http::request::Parts> {
    use_context::<axum::http::request::Parts>()
}

/// The principal of the request being served; nobody, with no rights, when the access
/// middleware did not run.
pub fn principal() -> Principal {
    parts().and_then(|parts| parts.extensions.get::<Principal>().cloned()).unwrap_or_else(|| {
        tracing::error!("no principal on the request: the access middleware did not run");
        Principal::anonymous(Vec::new())
    })
}

/// The session's anti-CSRF token (empty without a session).
pub fn csrf_token() -> String {
    parts().and_then(|parts| parts.extensions.get::<CsrfToken>().cloned()).map(|token| token.0).unwrap_or_default()
}

/// True when the request was authenticated with an API token (not a session).
pub fn via_api_token() -> bool {
    parts().is_some_and(|parts| parts.extensions.get::<BearerAuthenticated>().is_some())
}

/// Refuses a state change of a signed-in session that does not present its token.
pub fn check_csrf(presented: &str) -> Result<(), AppError> {
    let parts = parts().ok_or(AppError::Internal)?;
    let session = parts.extensions.get::<CsrfToken>();
    let bearer = parts.extensions.get::<BearerAuthenticated>().is_some();
    ocicat_service::authz::check_csrf(session, bearer, presented)
}
