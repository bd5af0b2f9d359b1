//! Server functions of the delete, audit and retention pages. Every state change (confirming a
//! plan, running a policy) is a POST that carries the session's anti-CSRF token.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{AuditPage, Execution, PlanPreview, PlanRequest, RetentionRun, RetentionView};

/// The plan of `request` (not stored): what would go, what stays, what breaks.
#[server]
pub async fn preview_plan(request: PlanRequest) -> Result<PlanPreview, AppError> {
    crate::ssr::lifecycle::preview(&crate::ssr::state()?, &crate::ssr::principal(), request).await
}

/// Confirms the plan the page showed (`expected` is its id; a changed plan is refused) and
/// starts deleting; answers the plan id to follow.
#[server]
pub async fn confirm_plan(request: PlanRequest, expected: String, csrf: String) -> Result<String, AppError> {
    crate::ssr::lifecycle::check_csrf_here(&csrf)?;
    crate::ssr::lifecycle::confirm(&crate::ssr::state()?, &crate::ssr::principal(), request, &expected).await
}

/// A stored plan and how far its execution got.
#[server]
pub async fn get_execution(id: String) -> Result<Execution, AppError> {
    crate::ssr::lifecycle::execution(&crate::ssr::state()?, &crate::ssr::principal(), &id).await
}

/// A page of the audit log, newest first, older than `before`.
#[server]
pub async fn list_audit(before: Option<i64>) -> Result<AuditPage, AppError> {
    crate::ssr::lifecycle::audit(&crate::ssr::state()?, &crate::ssr::principal(), before).await
}

/// The retention policies and their recent runs.
#[server]
pub async fn list_retention() -> Result<RetentionView, AppError> {
    crate::ssr::lifecycle::retention(&crate::ssr::state()?, &crate::ssr::principal()).await
}

/// Runs a retention policy now as a dry run (deleting runs go by schedule, API or CLI).
#[server]
pub async fn dry_run_retention(name: String, csrf: String) -> Result<RetentionRun, AppError> {
    crate::ssr::lifecycle::check_csrf_here(&csrf)?;
    crate::ssr::lifecycle::run_policy(&crate::ssr::state()?, &crate::ssr::principal(), &name, Some(true)).await
}

/// One retention run's report.
#[server]
pub async fn get_retention_run(id: String) -> Result<RetentionRun, AppError> {
    crate::ssr::lifecycle::retention_run(&crate::ssr::state()?, &crate::ssr::principal(), &id).await
}
