//! The JSON API (`/api/v1`), the content proxy, metrics, health and registry notifications, and
//! their OpenAPI 3.1 description (`GET /api/v1/openapi.json`), built from the same handlers.
//! Every route is registered through `OpenApiRouter::routes`, so none exists undocumented; the
//! two wildcard routes (repository names hold slashes) dispatch to handlers that are documented
//! path by path ([`repository::RepositoryRoutes`], [`crate::proxy::ContentRoutes`]).
//!
//! Handlers are thin: they read the request, call the service with the request's principal and
//! turn the answer into JSON; [`crate::error::ApiError`] chooses every error status.

mod attachments;
mod copies;
mod exports;
mod impact;
pub(crate) mod imports;
mod kinds;
mod lifecycle;
mod registries;
mod repository;
mod search;
mod tokens;
mod trust;

use std::sync::OnceLock;

use axum::Json;
use axum::http::Extensions;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{OpenApi, Server};
use utoipa::{Modify, OpenApi as _};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

pub use lifecycle::CSRF_HEADER;

/// The description's frame: title, version, tags and how callers authenticate.
#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "ocicat",
        description = "A catalog for OCI registries: browse, search, read attached documents, delete with \
                       everything attached. Every answer holds only what the caller may read; whatever the \
                       caller may not read is not found (404).",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    modifiers(&Security),
    tags(
        (name = "registries", description = "Registries, their repositories and crawls"),
        (name = "artifacts", description = "Repositories, tags, artifacts, referrers and attached documents"),
        (name = "search", description = "The query language over every registry"),
        (name = "deleting", description = "Delete plans, their execution and the audit log"),
        (name = "retention", description = "Retention policies and their runs"),
        (name = "account", description = "Who the caller is and their API tokens"),
        (name = "operations", description = "Health, metrics and registry notifications"),
    ),
    components(schemas(ocicat_service::AppError))
)]
struct Frame;

/// The ways to authenticate: an API token as a bearer token, or the session cookie (whose
/// state changes carry `X-CSRF-Token`).
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token made on /tokens or with POST /api/v1/tokens"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "__Host-ocicat",
                "The session cookie of a signed-in browser (`ocicat` on plain-http servers)",
            ))),
        );
        openapi.servers = Some(vec![Server::new("/")]);
    }
}

/// Every documented route with its handler, and the description they make.
fn documented() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(Frame::openapi())
        .routes(routes!(openapi_json))
        .merge(registries::router())
        .merge(repository::router())
        .merge(search::router())
        .merge(impact::router())
        .merge(tokens::router())
        .merge(trust::router())
        .merge(lifecycle::router())
        .merge(copies::router())
        .merge(exports::router())
        .merge(imports::router())
        .merge(attachments::router())
        .merge(crate::proxy::router())
        .merge(crate::metrics::router())
        .merge(crate::events::router())
}

/// The routes, to merge into the application router.
pub fn router() -> axum::Router<AppState> {
    documented().split_for_parts().0
}

/// The OpenAPI description of every route (built once).
pub fn openapi() -> &'static OpenApi {
    static DOCUMENT: OnceLock<OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let (_, mut document) = documented().split_for_parts();
        document.merge(repository::RepositoryRoutes::openapi());
        document.merge(attachments::AttachmentRoutes::openapi());
        document.merge(kinds::KindRoutes::openapi());
        document.merge(crate::proxy::ContentRoutes::openapi());
        document.merge(crate::auth::SignInRoutes::openapi());
        document
    })
}

/// This description, as OpenAPI 3.1 JSON.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 description of every route", content_type = "application/json")))]
async fn openapi_json() -> Json<&'static OpenApi> {
    Json(openapi())
}

/// The anti-CSRF check of a state change, from the request's extensions and the token it
/// presents in [`CSRF_HEADER`].
pub(crate) fn check_csrf(extensions: &Extensions, headers: &axum::http::HeaderMap) -> Result<(), ApiError> {
    let presented = headers.get(CSRF_HEADER).and_then(|value| value.to_str().ok()).unwrap_or_default();
    let session = extensions.get::<ocicat_access::CsrfToken>();
    let bearer = extensions.get::<ocicat_access::BearerAuthenticated>().is_some();
    Ok(ocicat_service::authz::check_csrf(session, bearer, presented)?)
}
