//! Imports over the JSON API: `POST /api/v1/imports?registry=&repository=[&tag=]` with an OCI
//! image layout as a tar archive for its body (streamed to a temporary file, at most
//! [`MAX_IMPORT_BYTES`], each piece within [`PIECE_TIMEOUT`]), answered with a copy plan into that
//! repository; it runs like any copy plan (`POST /api/v1/copies/{id}/execute`). Session requests
//! carry `X-CSRF-Token`.

use std::time::Duration;

use axum::Json;
use axum::extract::{Extension, Query, State};
use axum::http::StatusCode;
use futures::StreamExt as _;
use ocicat_access::Principal;
use ocicat_service::model::{CopyView, Endpoint};
use ocicat_service::{AppError, ImportSource, MAX_IMPORT_BYTES, Service};
use serde::Deserialize;
use tokio::io::AsyncWriteExt as _;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

/// The longest wait for the next piece of an upload (the whole may take as long as it takes).
pub(crate) const PIECE_TIMEOUT: Duration = Duration::from_secs(30);

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(import_layout))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
struct ImportParams {
    /// The destination registry.
    registry: String,
    /// The destination repository.
    repository: String,
    /// The tag for the layout's one tagged artifact (without it each keeps its own tags).
    tag: Option<String>,
}

fn internal(error: impl std::fmt::Display) -> AppError {
    tracing::error!(%error, "cannot keep an uploaded layout");
    AppError::Internal
}

/// Plans importing an OCI image layout, uploaded as a tar archive (`oci-layout`, `index.json`,
/// `blobs/…`; only those), into a repository: every tagged artifact with its tags and everything
/// attached, or the one tagged artifact under `tag`. Needs Write (maintainers) there.
#[utoipa::path(post, path = "/api/v1/imports", tag = "copying", params(ImportParams,
        ("X-CSRF-Token" = Option<String>, Header, description = "The session's token, with a session cookie")),
    request_body(content = Vec<u8>, content_type = "application/x-tar", description = "The layout as a tar archive"),
    responses((status = 201, body = CopyView), (status = 400, body = AppError), (status = 403, body = AppError),
        (status = 404, body = AppError)))]
async fn import_layout(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Query(wanted): Query<ImportParams>,
    request: axum::extract::Request,
) -> Result<(StatusCode, Json<CopyView>), ApiError> {
    let (parts, body) = request.into_parts();
    super::check_csrf(&parts.extensions, &parts.headers)?;
    let kept = tempfile::NamedTempFile::new().map_err(internal)?;
    let mut file = tokio::fs::File::from_std(kept.reopen().map_err(internal)?);
    let mut stream = body.into_data_stream();
    let mut received = 0u64;
    loop {
        let piece = tokio::time::timeout(PIECE_TIMEOUT, stream.next())
            .await
            .map_err(|_| AppError::BadRequest("the upload stalled".into()))?;
        let Some(piece) = piece else { break };
        let piece = piece.map_err(|error| AppError::BadRequest(format!("the upload failed: {error}")))?;
        received += piece.len() as u64;
        if received > MAX_IMPORT_BYTES {
            return Err(AppError::BadRequest(format!("the archive is larger than {MAX_IMPORT_BYTES} bytes")).into());
        }
        file.write_all(&piece).await.map_err(internal)?;
    }
    file.flush().await.map_err(internal)?;
    drop(file);
    let path = kept.into_temp_path().keep().map_err(internal)?;
    let destination = Endpoint { registry: wanted.registry, repository: wanted.repository };
    let tags = wanted.tag.filter(|tag| !tag.is_empty()).into_iter().collect();
    let planned = service.plan_import(&who, ImportSource::Archive { path, owned: true }, destination, tags).await?;
    Ok((StatusCode::CREATED, Json(planned)))
}
