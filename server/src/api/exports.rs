//! Exports over the JSON API: `GET /api/v1/exports/plan` (what an OCI image layout of an
//! artifact with its graph would hold) and `GET /api/v1/exports/layout.tar` (that layout as a tar
//! archive, streamed from the registry as the client reads it, with its exact length up front).
//! Reads only: whoever may read the source repository may export it.

use axum::Json;
use axum::body::Body;
use axum::extract::{Extension, Query, State};
use axum::http::header;
use axum::response::{IntoResponse as _, Response};
use ocicat_access::Principal;
use ocicat_service::model::{Endpoint, ExportPlan, ExportRequest, GraphFilter};
use ocicat_service::{AppError, Service};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(export_plan)).routes(routes!(export_tar))
}

#[derive(Debug, Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExportParams {
    /// The source registry.
    registry: String,
    /// The source repository.
    repository: String,
    /// One artifact; without it, what `query` finds in the repository, or every tagged artifact.
    digest: Option<String>,
    /// The name the one artifact gets in the layout (`org.opencontainers.image.ref.name`).
    tag: Option<String>,
    /// A search within the repository.
    query: Option<String>,
    /// Referrers of these artifact types (comma-separated prefixes) stay behind.
    exclude_artifact_types: Option<String>,
    /// Only referrers of these artifact types (comma-separated prefixes) go along.
    include_artifact_types: Option<String>,
    /// An index goes as its one image for this platform (`linux/amd64`).
    platform: Option<String>,
}

/// The comma-separated items of `text`.
fn list(text: Option<String>) -> Vec<String> {
    text.unwrap_or_default().split(',').map(str::trim).filter(|item| !item.is_empty()).map(str::to_owned).collect()
}

impl ExportParams {
    fn request(self) -> ExportRequest {
        ExportRequest {
            source: Endpoint { registry: self.registry, repository: self.repository },
            digest: self.digest.filter(|digest| !digest.is_empty()),
            query: self.query.filter(|query| !query.trim().is_empty()),
            tags: self.tag.filter(|tag| !tag.is_empty()).into_iter().collect(),
            filter: GraphFilter {
                exclude_artifact_types: list(self.exclude_artifact_types),
                include_artifact_types: list(self.include_artifact_types),
                platforms: list(self.platform),
            },
        }
    }
}

/// What the layout of an artifact (or a search, or a repository) would hold: every manifest in
/// write order, every blob with its size, the names `index.json` gives, what a filter leaves out.
#[utoipa::path(get, path = "/api/v1/exports/plan", tag = "copying", params(ExportParams),
    responses((status = 200, body = ExportPlan), (status = 400, body = AppError), (status = 404, body = AppError)))]
async fn export_plan(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Query(wanted): Query<ExportParams>,
) -> Result<Json<ExportPlan>, ApiError> {
    Ok(Json(service.export_plan(&who, &wanted.request(), None)?))
}

/// The OCI image layout of an artifact with its graph, as a tar archive (`oci-layout`,
/// `blobs/…`, `index.json`), streamed from the registry; every blob is checked against its digest
/// on the way, and a lie ends the download early instead of completing it.
#[utoipa::path(get, path = "/api/v1/exports/layout.tar", tag = "copying", params(ExportParams),
    responses((status = 200, description = "The layout archive", content_type = "application/x-tar"),
        (status = 400, body = AppError), (status = 404, body = AppError)))]
async fn export_tar(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Query(wanted): Query<ExportParams>,
) -> Result<Response, ApiError> {
    let request = wanted.request();
    let (plan, archive) = service.export_tar(&who, &request).await?;
    let name = file_name(&plan);
    let disposition = format!("attachment; filename=\"{name}\"");
    let headers = [
        (header::CONTENT_TYPE, "application/x-tar".to_owned()),
        (header::CONTENT_LENGTH, archive.length.to_string()),
        (header::CONTENT_DISPOSITION, disposition),
    ];
    Ok((headers, Body::from_stream(archive.body)).into_response())
}

/// `<repository's last part>-<tag or short digest>.oci.tar`, in characters safe in a header.
fn file_name(plan: &ExportPlan) -> String {
    let repository = plan.request.source.repository.rsplit('/').next().unwrap_or("export");
    let suffix = match (plan.tags.first(), plan.roots.as_slice()) {
        (Some(tag), _) => tag.tag.clone(),
        (None, [one]) => one.split_once(':').map_or(one.as_str(), |(_, hex)| hex).chars().take(12).collect(),
        (None, _) => "all".to_owned(),
    };
    let name = format!("{repository}-{suffix}.oci.tar");
    name.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect()
}
