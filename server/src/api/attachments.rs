//! `POST /api/v1/registries/{registry}/repositories/{repository}/@{digest}/attachments`: attach
//! an end of life, annotations or a document to an artifact, as a referrer (the artifact's
//! digest never changes). Shares the repository subtree's wildcard route with the reads in
//! `repository.rs`, as its `POST`. Session requests carry `X-CSRF-Token`.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use ocicat_access::Principal;
use ocicat_service::model::{AttachRequest, AttachView};
use ocicat_service::{AppError, Service};

use crate::error::ApiError;

/// The documented path.
#[derive(utoipa::OpenApi)]
#[openapi(paths(attach))]
pub(crate) struct AttachmentRoutes;

/// Largest JSON body (a document travels base64 inside it).
const MAX_BODY: usize = 6 << 20;

/// `POST` on the repository subtree: only `<repo>/@<digest>/attachments` answers.
pub(super) async fn dispatch_post(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Path((registry, rest)): Path<(String, String)>,
    request: axum::extract::Request,
) -> Result<Response, ApiError> {
    let target = rest.trim_end_matches('/').strip_suffix("/attachments").and_then(|rest| rest.split_once("/@"));
    let Some((repository, digest)) = target else {
        return Err(AppError::NotFound(format!("POST {rest}")).into());
    };
    let (parts, body) = request.into_parts();
    super::check_csrf(&parts.extensions, &parts.headers)?;
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .map_err(|error| AppError::BadRequest(format!("cannot read the body: {error}")))?;
    let wanted: AttachRequest = serde_json::from_slice(&bytes).map_err(|error| {
        AppError::BadRequest(format!(
            "an attachment is {{\"end_of_life\": \"YYYY-MM-DD\"}}, {{\"revoke_end_of_life\": true}}, \
             {{\"annotations\": {{…}}, \"artifact_type\"}} or {{\"document\": {{\"media_type\", \"name\", \
             \"content_base64\"}}, \"artifact_type\"}}: {error}"
        ))
    })?;
    attach(&service, &who, &registry, repository, digest, wanted).await
}

/// Attaches an end of life (a Microsoft lifecycle referrer; the newest one decides, so a later
/// `revoke_end_of_life` takes it back), annotations (a referrer with no content, of
/// `artifact_type`), or a document (its one layer) to an artifact, through the referrers API or
/// the `sha256-<hex>` fallback index. Needs Write (maintainers) on the repository.
#[utoipa::path(post, path = "/api/v1/registries/{registry}/repositories/{repository}/@{digest}/attachments",
    tag = "artifacts", request_body = AttachRequest,
    params(("registry" = String, Path, description = "The configured registry name"),
        ("repository" = String, Path, description = "The repository path; it may hold slashes"),
        ("digest" = String, Path, description = "The artifact's digest"),
        ("X-CSRF-Token" = Option<String>, Header, description = "The session's token, with a session cookie")),
    responses((status = 201, body = AttachView), (status = 400, body = AppError), (status = 403, body = AppError),
        (status = 404, body = AppError), (status = 502, description = "The registry refused", body = AppError)))]
async fn attach(
    service: &Service,
    who: &Principal,
    registry: &str,
    repository: &str,
    digest: &str,
    wanted: AttachRequest,
) -> Result<Response, ApiError> {
    let attached = service.attach(who, registry, repository, digest, wanted).await?;
    Ok((StatusCode::CREATED, Json::<AttachView>(attached)).into_response())
}
