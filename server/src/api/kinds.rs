//! Per-kind views under the repository subtree (dispatched from `repository.rs`'s wildcard
//! route): `…/@{digest}/chart` (a Helm chart as `helm show` prints it, the README as sanitized
//! HTML) and `…/@{digest}/wasm` (a WebAssembly module's or component's imports, exports and
//! world).

use axum::Json;
use axum::response::{IntoResponse as _, Response};
use ocicat_access::Principal;
use ocicat_service::Service;
use ocicat_service::model::{ChartView, WasmView};

use crate::error::ApiError;

/// The documented paths.
#[derive(utoipa::OpenApi)]
#[openapi(paths(find_chart, find_wasm))]
pub(crate) struct KindRoutes;

/// A Helm chart: Chart.yaml's fields (from the config), the packaged values.yaml and Chart.yaml
/// as text, the README as sanitized HTML (no raw HTML, links only http(s), no images), its
/// templates and subcharts, and its provenance layer if signed. A package that cannot be read
/// leaves the metadata and says why (`files_error`).
#[utoipa::path(get, path = "/api/v1/registries/{registry}/repositories/{repository}/@{digest}/chart",
    tag = "artifacts",
    params(("registry" = String, Path, description = "The configured registry name"),
        ("repository" = String, Path, description = "The repository path; it may hold slashes"),
        ("digest" = String, Path, description = "The chart's digest")),
    responses((status = 200, body = ChartView), (status = 400, body = ocicat_service::AppError),
        (status = 404, description = "No such artifact, or not a Helm chart", body = ocicat_service::AppError)))]
pub(super) async fn find_chart(
    service: &Service,
    who: &Principal,
    registry: &str,
    repository: &str,
    digest: &str,
) -> Result<Response, ApiError> {
    Ok(Json(service.helm_chart(who, registry, repository, digest).await?).into_response())
}

/// A WebAssembly module or component: kind, size, imports and exports, the WIT world when a
/// `component-type` section names it, the toolchain; for an image marked
/// `module.wasm.image/variant`, that mark.
#[utoipa::path(get, path = "/api/v1/registries/{registry}/repositories/{repository}/@{digest}/wasm",
    tag = "artifacts",
    params(("registry" = String, Path, description = "The configured registry name"),
        ("repository" = String, Path, description = "The repository path; it may hold slashes"),
        ("digest" = String, Path, description = "The module's digest")),
    responses((status = 200, body = WasmView), (status = 400, body = ocicat_service::AppError),
        (status = 404, description = "No such artifact, or not WebAssembly", body = ocicat_service::AppError)))]
pub(super) async fn find_wasm(
    service: &Service,
    who: &Principal,
    registry: &str,
    repository: &str,
    digest: &str,
) -> Result<Response, ApiError> {
    Ok(Json(service.wasm_module(who, registry, repository, digest).await?).into_response())
}
