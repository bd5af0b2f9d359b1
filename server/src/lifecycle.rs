//! Deleting, over the JSON API and at start: the lifecycle engine built from the configuration
//! (its store in the access database, or SQLite in the data directory), interrupted plans
//! resumed, retention scheduled; `POST /api/v1/plans` (plan), `POST …/{id}/execute`, the audit
//! log as JSON, JSON lines or CSV, and retention policies with their runs. Session requests
//! that change something carry `X-CSRF-Token`; API-token requests need none.

use axum::extract::{Extension, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use anyhow::Context as _;
use app::model::{AuditEntry, Execution, PlanRequest, RetentionRun, RetentionView};
use app::ssr::UiState;
use app::ssr::lifecycle as glue;
use ocicat_access::{Database, Principal, Right};
use ocicat_catalog::{Catalog, CatalogWriter};
use ocicat_crawler::{RegistrySource, StatusBoard};
use ocicat_lifecycle::Engine;
use ocicat_lifecycle::store::Store;

use crate::config::Config;
use crate::error::ApiError;
use crate::state::AppState;

/// The header a session request's state changes carry the anti-CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Opens the store of plans, runs and the audit log: in `database` (the access database when
/// the server has one open), else where `[access]` keeps it, else `<data_dir>/lifecycle.db`.
pub async fn open_store(config: &Config, database: Option<Database>) -> anyhow::Result<Store> {
    let database = match (database, &config.access) {
        (Some(database), _) => database,
        (None, access) => {
            let url = match access {
                Some(access) => crate::auth::database_url(access, &config.server.data_dir)?,
                None => {
                    std::fs::create_dir_all(&config.server.data_dir).with_context(|| {
                        format!("cannot create data directory {}", config.server.data_dir.display())
                    })?;
                    format!("sqlite://{}?mode=rwc", config.server.data_dir.join("lifecycle.db").display())
                }
            };
            // The URL may hold a password: the error names the failure only.
            Database::connect(&url).await.map_err(|error| match error {
                ocicat_access::StoreError::Database(inner) => {
                    anyhow::anyhow!("cannot open the lifecycle database: {}", inner.to_string().replace(&url, "<url>"))
                }
                other => anyhow::anyhow!("cannot open the lifecycle database: {other}"),
            })?
        }
    };
    Store::open(database).await.context("cannot open the delete plans and audit log")
}

/// Builds the engine over `sources` with the configured retention policies.
pub async fn open_engine(
    config: &Config,
    database: Option<Database>,
    sources: Vec<RegistrySource>,
    catalog: Catalog,
    writer: CatalogWriter,
    board: StatusBoard,
) -> anyhow::Result<Engine> {
    let store = open_store(config, database).await?;
    Ok(Engine::new(sources, catalog, writer, board, store).with_policies(config.retention.clone()))
}

/// The lifecycle routes, merged into the main router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/plans", post(make_plan))
        .route("/api/v1/plans/{id}", get(show_plan))
        .route("/api/v1/plans/{id}/execute", post(execute_plan))
        .route("/api/v1/audit", get(audit_log))
        .route("/api/v1/retention", get(retention))
        .route("/api/v1/retention/{name}/run", post(run_policy))
        .route("/api/v1/retention/runs/{id}", get(retention_run))
        .route("/api/v1/me", get(me))
}

/// Who the caller is, what they may do, and (with a session cookie) the anti-CSRF token that
/// deletes sent with that cookie carry in `X-CSRF-Token`.
async fn me(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
    token: Option<Extension<ocicat_access::CsrfToken>>,
) -> Json<app::model::SessionView> {
    let mut view = app::ssr::session_view(&ui, &who);
    view.csrf = token.map(|Extension(token)| token.0).unwrap_or_default();
    Json(view)
}

fn csrf(headers: &HeaderMap, extensions: &axum::http::Extensions) -> Result<(), ApiError> {
    let presented = headers.get(CSRF_HEADER).and_then(|value| value.to_str().ok()).unwrap_or_default();
    Ok(glue::check_csrf(extensions, presented)?)
}

/// Computes and stores a plan; nothing is deleted until it is executed.
async fn make_plan(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
    request: axum::extract::Request,
) -> Result<(StatusCode, Json<Execution>), ApiError> {
    let (parts, body) = request.into_parts();
    csrf(&parts.headers, &parts.extensions)?;
    let bytes = axum::body::to_bytes(body, 1 << 20)
        .await
        .map_err(|error| app::error::AppError::BadRequest(format!("cannot read the body: {error}")))?;
    let request: PlanRequest = serde_json::from_slice(&bytes)
        .map_err(|error| app::error::AppError::BadRequest(format!("a plan request is {{\"targets\": [{{\"registry\", \"repository\", \"reference\"}}], \"query\", \"tag_only\"}}: {error}")))?;
    if !who.can_anywhere(Right::Delete) {
        return Err(app::error::AppError::Forbidden("deleting needs the maintainer role".into()).into());
    }
    Ok((StatusCode::CREATED, Json(glue::store_plan(&ui, &who, request).await?)))
}

async fn show_plan(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<Execution>, ApiError> {
    Ok(Json(glue::execution(&ui, &who, &id).await?))
}

#[derive(Debug, Deserialize, Default)]
struct ExecuteQuery {
    #[serde(default)]
    wait: bool,
}

/// Starts deleting a stored plan: 202 with the plan, to be polled at `GET …/{id}`; with
/// `?wait=true`, 200 with the outcome once done (bounded by the request timeout).
async fn execute_plan(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
    Query(query): Query<ExecuteQuery>,
    request: axum::extract::Request,
) -> Result<(StatusCode, Json<Execution>), ApiError> {
    csrf(request.headers(), request.extensions())?;
    if query.wait {
        return Ok((StatusCode::OK, Json(glue::run_to_end(&ui, &who, &id).await?)));
    }
    Ok((StatusCode::ACCEPTED, Json(glue::start(&ui, &who, &id).await?)))
}

#[derive(Debug, Deserialize, Default)]
struct AuditQuery {
    before: Option<i64>,
    #[serde(default)]
    format: String,
}

/// The audit log: a page as JSON, or everything visible as JSON lines or CSV (pages of 50 read
/// in turn, newest first).
async fn audit_log(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
    Query(query): Query<AuditQuery>,
) -> Result<Response, ApiError> {
    if query.format.is_empty() || query.format == "json" {
        return Ok(Json(glue::audit(&ui, &who, query.before).await?).into_response());
    }
    let mut entries: Vec<AuditEntry> = Vec::new();
    let mut before = query.before;
    loop {
        let page = glue::audit(&ui, &who, before).await?;
        entries.extend(page.entries);
        match page.older {
            Some(older) if entries.len() < 1_000_000 => before = Some(older),
            _ => break,
        }
    }
    let (body, content_type, extension) = match query.format.as_str() {
        "jsonl" => {
            let lines: Vec<String> = entries.iter().filter_map(|entry| serde_json::to_string(entry).ok()).collect();
            (lines.join("\n") + "\n", "application/jsonl", "jsonl")
        }
        "csv" => (csv(&entries), "text/csv; charset=utf-8", "csv"),
        other => {
            return Err(app::error::AppError::BadRequest(format!("format {other:?}: use json, jsonl or csv")).into());
        }
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

async fn retention(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
) -> Result<Json<RetentionView>, ApiError> {
    Ok(Json(glue::retention(&ui, &who).await?))
}

#[derive(Debug, Deserialize, Default)]
struct RunQuery {
    dry_run: Option<bool>,
}

/// Runs a policy now; `?dry_run=false` deletes even when the policy is a dry run by default.
async fn run_policy(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
    Path(name): Path<String>,
    Query(query): Query<RunQuery>,
    request: axum::extract::Request,
) -> Result<Json<RetentionRun>, ApiError> {
    csrf(request.headers(), request.extensions())?;
    Ok(Json(glue::run_policy(&ui, &who, &name, query.dry_run).await?))
}

async fn retention_run(
    State(ui): State<UiState>,
    Extension(who): Extension<Principal>,
    Path(id): Path<String>,
) -> Result<Json<RetentionRun>, ApiError> {
    Ok(Json(glue::retention_run(&ui, &who, &id).await?))
}
