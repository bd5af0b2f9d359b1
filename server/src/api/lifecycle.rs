//! Deleting over the JSON API: `POST /api/v1/plans` (a plan, stored), `POST …/{id}/execute`,
//! `GET …/{id}`; the audit log as JSON, JSON lines or CSV; retention policies, runs and reports.
//! Session requests that change something carry `X-CSRF-Token`; API-token requests need none.

use axum::Json;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use ocicat_access::Principal;
use ocicat_service::model::{AuditEntry, AuditPage, Execution, PlanRequest, RetentionRun, RetentionView};
use ocicat_service::{AppError, RunMode, Service};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::error::ApiError;
use crate::state::AppState;

/// The header a session request's state changes carry the anti-CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Most audit lines one export holds.
const MAX_EXPORT: usize = 1_000_000;

pub(super) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(make_plan))
        .routes(routes!(show_plan))
        .routes(routes!(execute_plan))
        .routes(routes!(audit_log))
        .routes(routes!(retention))
        .routes(routes!(run_policy))
        .routes(routes!(retention_run))
}

/// Computes and stores a plan: what goes in execution order, what stays and why, indexes it
/// breaks, fallback indexes rewritten, totals, warnings. Nothing is deleted until it is executed.
#[utoipa::path(post, path = "/api/v1/plans", tag = "deleting", request_body = PlanRequest,
    params(("X-CSRF-Token" = Option<String>, Header, description = "The session's token, with a session cookie")),
    responses((status = 201, body = Execution), (status = 400, body = AppError), (status = 403, body = AppError),
        (status = 404, description = "A target the caller may not read, or that does not exist", body = AppError)))]
async fn make_plan(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    request: axum::extract::Request,
) -> Result<(StatusCode, Json<Execution>), ApiError> {
    let (parts, body) = request.into_parts();
    super::check_csrf(&parts.extensions, &parts.headers)?;
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .map_err(|error| AppError::BadRequest(format!("cannot read the body: {error}")))?;
    let request: PlanRequest = serde_json::from_slice(&bytes).map_err(|error| {
        AppError::BadRequest(format!(
            "a plan request is {{\"targets\": [{{\"registry\", \"repository\", \"reference\"}}], \"query\", \
             \"tag_only\"}}: {error}"
        ))
    })?;
    Ok((StatusCode::CREATED, Json(service.store_plan(&who, &request).await?)))
}

/// A stored plan and how far its execution got.
#[utoipa::path(get, path = "/api/v1/plans/{id}", tag = "deleting",
    params(("id" = String, Path, description = "The plan's id")),
    responses((status = 200, body = Execution), (status = 404, body = AppError)))]
async fn show_plan(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<Execution>, ApiError> {
    Ok(Json(service.find_execution(&who, &id).await?))
}

#[derive(Debug, Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
struct ExecuteParams {
    /// Answer once the plan is carried out (bounded by the request timeout).
    #[serde(default)]
    wait: bool,
}

/// Deletes a stored plan: 202 with the plan, to be polled at `GET …/{id}`; with `wait=true`,
/// 200 with the outcome of every item.
#[utoipa::path(post, path = "/api/v1/plans/{id}/execute", tag = "deleting",
    params(("id" = String, Path, description = "The plan's id"), ExecuteParams,
        ("X-CSRF-Token" = Option<String>, Header, description = "The session's token, with a session cookie")),
    responses((status = 200, body = Execution), (status = 202, body = Execution), (status = 403, body = AppError),
        (status = 404, body = AppError), (status = 503, description = "The plan is running already", body = AppError)))]
async fn execute_plan(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Query(wanted): Query<ExecuteParams>,
    request: axum::extract::Request,
) -> Result<(StatusCode, Json<Execution>), ApiError> {
    super::check_csrf(request.extensions(), request.headers())?;
    let execution = service.execute_plan(&who, &id, wanted.wait).await?;
    let status = if wanted.wait { StatusCode::OK } else { StatusCode::ACCEPTED };
    Ok((status, Json(execution)))
}

#[derive(Debug, Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
struct AuditParams {
    /// Only lines older than this sequence number.
    before: Option<i64>,
    /// `json` (a page), `jsonl` or `csv` (everything the caller may see, as a download).
    #[serde(default)]
    format: String,
}

/// The audit log: a page as JSON, or everything the caller may see as JSON lines or CSV
/// (maintainers: their repositories and their own plans; administrators of everything: all).
#[utoipa::path(get, path = "/api/v1/audit", tag = "deleting", params(AuditParams),
    responses((status = 200, body = AuditPage, content_type = "application/json"),
        (status = 200, description = "Every visible line, as JSON lines or CSV", content_type = "text/csv"),
        (status = 400, body = AppError), (status = 403, body = AppError)))]
async fn audit_log(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Query(wanted): Query<AuditParams>,
) -> Result<Response, ApiError> {
    if wanted.format.is_empty() || wanted.format == "json" {
        return Ok(Json(service.audit_page(&who, wanted.before).await?).into_response());
    }
    if !matches!(wanted.format.as_str(), "jsonl" | "csv") {
        return Err(AppError::BadRequest(format!("format {:?}: use json, jsonl or csv", wanted.format)).into());
    }
    let mut entries: Vec<AuditEntry> = Vec::new();
    let mut before = wanted.before;
    loop {
        let page = service.audit_page(&who, before).await?;
        entries.extend(page.entries);
        match page.older {
            Some(older) if entries.len() < MAX_EXPORT => before = Some(older),
            _ => break,
        }
    }
    let (body, content_type, extension) = if wanted.format == "jsonl" {
        let lines: Vec<String> = entries.iter().filter_map(|entry| serde_json::to_string(entry).ok()).collect();
        (lines.join("\n") + "\n", "application/jsonl", "jsonl")
    } else {
        (csv(&entries), "text/csv; charset=utf-8", "csv")
    };
    let disposition = format!("attachment; filename=\"ocicat-audit.{extension}\"");
    Ok(([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response())
}

/// RFC 4180 CSV; a cell starting with `=`, `+`, `-` or `@` gets a leading `'` so spreadsheets
/// never run registry-supplied text as a formula.
fn csv(entries: &[AuditEntry]) -> String {
    fn cell(text: &str) -> String {
        let text = if text.starts_with(['=', '+', '-', '@']) { format!("'{text}") } else { text.to_owned() };
        format!("\"{}\"", text.replace('"', "\"\""))
    }
    let mut out = String::from("seq,at,actor,action,registry,repository,digest,tags,plan_id,outcome,detail\r\n");
    for entry in entries {
        let row = [
            entry.seq.to_string(),
            entry.at.to_rfc3339(),
            entry.actor.clone(),
            entry.action.clone(),
            entry.registry.clone().unwrap_or_default(),
            entry.repository.clone().unwrap_or_default(),
            entry.digest.clone().unwrap_or_default(),
            entry.tags.join(" "),
            entry.plan_id.clone().unwrap_or_default(),
            entry.outcome.clone(),
            entry.detail.clone().unwrap_or_default(),
        ];
        out.push_str(&row.iter().map(|value| cell(value)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

/// The retention policies the caller may see (those that reach where they may delete), and
/// their recent runs, each cut to what the caller may read.
#[utoipa::path(get, path = "/api/v1/retention", tag = "retention",
    responses((status = 200, body = RetentionView), (status = 403, body = AppError)))]
async fn retention(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
) -> Result<Json<RetentionView>, ApiError> {
    Ok(Json(service.retention_view(&who, String::new()).await?))
}

#[derive(Debug, Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
struct RunParams {
    /// `true`: a report only; `false`: delete what the policy chooses; absent: as configured.
    dry_run: Option<bool>,
    /// With `dry_run=false` on a policy configured as a dry run: override it (administrators of
    /// everything the policy reaches only).
    #[serde(default)]
    override_dry_run: bool,
}

/// Runs a policy now and answers its report. Needs the maintainer role on every repository the
/// policy can reach.
#[utoipa::path(post, path = "/api/v1/retention/{name}/run", tag = "retention",
    params(("name" = String, Path, description = "The policy's name"), RunParams,
        ("X-CSRF-Token" = Option<String>, Header, description = "The session's token, with a session cookie")),
    responses((status = 200, body = RetentionRun), (status = 403, body = AppError), (status = 404, body = AppError)))]
async fn run_policy(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    Query(wanted): Query<RunParams>,
    request: axum::extract::Request,
) -> Result<Json<RetentionRun>, ApiError> {
    super::check_csrf(request.extensions(), request.headers())?;
    let mode = match wanted.dry_run {
        None => RunMode::AsConfigured,
        Some(true) => RunMode::DryRun,
        Some(false) => RunMode::Execute { override_dry_run: wanted.override_dry_run },
    };
    Ok(Json(service.run_policy(&who, &name, mode).await?))
}

/// One run's report, cut to what the caller may read.
#[utoipa::path(get, path = "/api/v1/retention/runs/{id}", tag = "retention",
    params(("id" = String, Path, description = "The run's id")),
    responses((status = 200, body = RetentionRun), (status = 404, body = AppError)))]
async fn retention_run(
    State(service): State<Service>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<RetentionRun>, ApiError> {
    Ok(Json(service.find_retention_run(&who, &id).await?))
}
