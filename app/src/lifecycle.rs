//! Server functions of the delete, audit and retention pages. Every state change (confirming a
//! plan, running a policy) is a POST that carries the session's anti-CSRF token.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{AuditPage, Execution, PlanPreview, PlanRequest, RetentionRun, RetentionView};

/// The plan of `request` (not stored): what would go, what stays, what breaks.
#[server]
pub async fn preview_plan(request: PlanRequest) -> Result<PlanPreview, AppError> {
    use crate::shim::*;
    let plan = service()?.preview_plan(&principal(), &request).await?;
    Ok(PlanPreview { plan, csrf: csrf_token() })
}

/// Confirms the plan the page showed (`expected` is its id; a changed plan is refused) and
/// starts deleting; answers the plan id to follow.
#[server]
pub async fn confirm_plan(request: PlanRequest, expected: String, csrf: String) -> Result<String, AppError> {
    use crate::shim::*;
    check_csrf(&csrf)?;
    service()?.confirm_plan(&principal(), &request, &expected).await
}

/// A stored plan and how far its execution got.
#[server]
pub async fn get_execution(id: String) -> Result<Execution, AppError> {
    use crate::shim::*;
    service()?.find_execution(&principal(), &id).await
}

/// A page of the audit log, newest first, older than `before`.
#[server]
pub async fn list_audit(before: Option<i64>) -> Result<AuditPage, AppError> {
    use crate::shim::*;
    service()?.audit_page(&principal(), before).await
}

/// The retention policies and their recent runs.
#[server]
pub async fn list_retention() -> Result<RetentionView, AppError> {
    use crate::shim::*;
    service()?.retention_view(&principal(), csrf_token()).await
}

/// Runs a retention policy now as a dry run (deleting runs go by schedule, API or CLI).
#[server]
pub async fn dry_run_retention(name: String, csrf: String) -> Result<RetentionRun, AppError> {
    use crate::shim::*;
    check_csrf(&csrf)?;
    service()?.run_policy(&principal(), &name, ocicat_service::RunMode::DryRun).await
}

/// One retention run's report.
#[server]
pub async fn get_retention_run(id: String) -> Result<RetentionRun, AppError> {
    use crate::shim::*;
    service()?.find_retention_run(&principal(), &id).await
}
