//! Server functions of the copy page. Planning stores the plan (nothing is written to a
//! registry); running it is a POST that carries the session's anti-CSRF token.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{CopyPreview, CopyRequest, CopyView};

/// The plan of `request`, stored for an hour, with the session's anti-CSRF token.
#[server]
pub async fn plan_copy(request: CopyRequest) -> Result<CopyPreview, AppError> {
    use crate::shim::*;
    let copy = service()?.plan_copy(&principal(), request).await?;
    Ok(CopyPreview { copy, csrf: csrf_token() })
}

/// Starts the stored plan `id` as the page showed it (`fingerprint`), moving tags when
/// `move_tags`; answers at once, while it runs.
#[server]
pub async fn execute_copy(
    id: String,
    fingerprint: String,
    move_tags: bool,
    csrf: String,
) -> Result<CopyView, AppError> {
    use crate::shim::*;
    check_csrf(&csrf)?;
    service()?.execute_copy(&principal(), &id, &fingerprint, move_tags, false).await
}

/// The stored plan `id` and the steps of its execution so far.
#[server]
pub async fn get_copy(id: String) -> Result<CopyView, AppError> {
    use crate::shim::*;
    service()?.copy_plan(&principal(), &id).await
}
