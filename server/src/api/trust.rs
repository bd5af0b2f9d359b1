//! `/api/v1/trust`: the trust policies signatures are verified against.

use axum::Json;
use axum::extract::{Extension, State};
use ocicat_access::Principal;
use ocicat_service::Service;
use ocicat_service::model::TrustPolicyView;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::state::AppState;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_trust_policies))
}

/// The configured trust policies that cover a registry the caller may read: name, coverage and
/// the fingerprints of the keys they trust.
#[utoipa::path(get, path = "/api/v1/trust", tag = "trust",
    responses((status = 200, body = Vec<TrustPolicyView>), (status = 401, description = "Sign in first", body = ocicat_service::AppError)))]
async fn list_trust_policies(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
) -> Json<Vec<TrustPolicyView>> {
    Json(service.trust_policies(&who))
}
