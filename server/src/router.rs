//! The router: Leptos pages and server functions, the JSON API, health, static files, and the
//! layers every response goes through (tracing, timeout, security headers).

use std::time::Duration;

use app::{App, shell};
use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::routing::get;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// Builds the whole application router (shared by `serve` and the tests).
pub fn build_router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let ui = state.ui.clone();
    let leptos_options = state.leptos_options.clone();
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(crate::metrics::render_metrics))
        .route("/events/{registry}", axum::routing::post(crate::events::receive_events))
        .merge(crate::api::router())
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(ui.clone()),
            move || shell(leptos_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(security_headers())
        .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, Duration::from_secs(30)))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

async fn healthz() -> &'static str {
    "ok"
}

fn security_headers() -> tower::layer::util::Stack<
    SetResponseHeaderLayer<HeaderValue>,
    tower::layer::util::Stack<SetResponseHeaderLayer<HeaderValue>, SetResponseHeaderLayer<HeaderValue>>,
> {
    let nosniff = SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    let referrer = SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("same-origin"),
    );
    let frames = SetResponseHeaderLayer::if_not_present(
        HeaderName::from_static("x-frame-options"),
        HeaderValue::from_static("DENY"),
    );
    tower::layer::util::Stack::new(nosniff, tower::layer::util::Stack::new(referrer, frames))
}
