//! `POST /api/v1/registries/{registry}/repositories/{repository}/@{digest}/attachments`: attach
//! an end of life, annotations or a document (JSON, or a `multipart/form-data` upload) to an
//! artifact, as a referrer (the artifact's digest never changes). Shares the repository
//! subtree's wildcard route with the reads in `repository.rs`, as its `POST`. `POST
//! /api/v1/attachments` attaches the same to every artifact a search finds. Session requests
//! carry `X-CSRF-Token`.

use axum::Json;
use axum::extract::{Extension, FromRequest as _, Multipart, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse as _, Response};
use ocicat_access::Principal;
use ocicat_service::model::{AttachRequest, AttachView, AttachedDocument, BulkAttachRequest, BulkAttachView};
use ocicat_service::{AppError, Service};

use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(attach_to_results))
}

/// The documented path.
#[derive(utoipa::OpenApi)]
#[openapi(paths(attach))]
pub(crate) struct AttachmentRoutes;

/// Largest JSON body (a document travels base64 inside it).
const MAX_BODY: usize = 6 << 20;

/// The largest body an attachment may have (a document's bytes, base64 or a form, with room).
pub(super) fn body_limit() -> axum::extract::DefaultBodyLimit {
    axum::extract::DefaultBodyLimit::max(MAX_BODY)
}

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
    super::check_csrf(request.extensions(), request.headers())?;
    let multipart = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("multipart/form-data"));
    if multipart {
        let form = Multipart::from_request(request, &())
            .await
            .map_err(|error| AppError::BadRequest(format!("cannot read the form: {error}")))?;
        let wanted = uploaded(form).await?;
        return attach(&service, &who, &registry, repository, digest, wanted).await;
    }
    let body = request.into_body();
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

/// A document from a form: its `file` part (the part's content type is the media type unless a
/// `media_type` field names one; its file name is kept), and an optional `artifact_type`.
async fn uploaded(mut form: Multipart) -> Result<AttachRequest, AppError> {
    use base64::Engine as _;
    let unreadable = |error: axum::extract::multipart::MultipartError| {
        AppError::BadRequest(format!("cannot read the form: {}", error.body_text()))
    };
    let (mut file, mut media_type, mut artifact_type) = (None, None, None);
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        match field.name().unwrap_or_default() {
            "file" => {
                let name = field.file_name().map(str::to_owned);
                let sent_type = field.content_type().map(str::to_owned);
                let bytes = field.bytes().await.map_err(unreadable)?;
                file = Some((name, sent_type, bytes));
            }
            "media_type" => media_type = Some(field.text().await.map_err(unreadable)?),
            "artifact_type" => artifact_type = Some(field.text().await.map_err(unreadable)?),
            other => return Err(AppError::BadRequest(format!("unexpected form field {other:?}"))),
        }
    }
    let Some((name, sent_type, bytes)) = file else {
        return Err(AppError::BadRequest("the form has no file part".into()));
    };
    let media_type = media_type
        .filter(|kind| !kind.trim().is_empty())
        .or(sent_type)
        .ok_or_else(|| AppError::BadRequest("name the document's media type (a media_type field)".into()))?;
    Ok(AttachRequest {
        artifact_type,
        document: Some(AttachedDocument {
            media_type,
            name,
            content_base64: base64::engine::general_purpose::STANDARD.encode(&bytes),
        }),
        ..AttachRequest::default()
    })
}

/// Attaches an end of life (a Microsoft lifecycle referrer; the newest one decides, so a later
/// `revoke_end_of_life` takes it back), annotations (a referrer with no content, of
/// `artifact_type`), or a document (its one layer) to an artifact, through the referrers API or
/// the `sha256-<hex>` fallback index. Needs Write (maintainers) on the repository.
#[utoipa::path(post, path = "/api/v1/registries/{registry}/repositories/{repository}/@{digest}/attachments",
    tag = "artifacts", request_body(content(
        (AttachRequest = "application/json"),
        (Vec<u8> = "multipart/form-data", example = json!("file=<the document>; media_type; artifact_type")))),
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

/// Attaches the same end of life (or its revocation, or annotations) to every artifact the
/// search `query` finds (referrers left out: they follow their subject), at most 1,000; with
/// `dry_run` only lists them. Refused with nothing pushed if the caller may not write one of
/// their repositories. Each attachment gets its audit line; each artifact says what became of it.
#[utoipa::path(post, path = "/api/v1/attachments", tag = "artifacts", request_body = BulkAttachRequest,
    params(("X-CSRF-Token" = Option<String>, Header, description = "The session's token, with a session cookie")),
    responses((status = 200, body = BulkAttachView), (status = 400, body = AppError), (status = 403, body = AppError)))]
async fn attach_to_results(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    request: axum::extract::Request,
) -> Result<Json<BulkAttachView>, ApiError> {
    let (parts, body) = request.into_parts();
    super::check_csrf(&parts.extensions, &parts.headers)?;
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .map_err(|error| AppError::BadRequest(format!("cannot read the body: {error}")))?;
    let wanted: BulkAttachRequest = serde_json::from_slice(&bytes).map_err(|error| {
        AppError::BadRequest(format!(
            "a bulk attachment is {{\"query\", \"end_of_life\" | \"revoke_end_of_life\" | \"annotations\", \
             \"dry_run\"}}: {error}"
        ))
    })?;
    Ok(Json(service.attach_to_results(&who, wanted).await?))
}
