//! The router: Leptos pages and server functions, the documented routes (JSON API, content
//! proxy, metrics, health, notifications: `crate::api`), static files, and the
//! layers every response goes through (tracing, timeout, security headers, access control).

use std::time::Duration;

use app::{App, shell};
use axum::Router;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

use crate::state::AppState;

/// Builds the whole application router (shared by `serve` and the tests).
pub fn build_router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let service = state.service.clone();
    let leptos_options = state.leptos_options.clone();
    let auth = state.auth.clone();
    let hosts = state.hosts.clone();
    let app_router = Router::new()
        .merge(crate::api::router())
        .leptos_routes_with_context(
            &state,
            routes,
            move || {
                provide_context(service.clone());
                page_security_policy();
            },
            move || shell(leptos_options.clone()),
        )
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .with_state(state);
    auth.apply(app_router)
        .layer(security_headers())
        .layer(axum::middleware::from_fn(request_timeout))
        .layer(axum::middleware::from_fn_with_state(hosts, crate::hosts::guard))
        .layer(TraceLayer::new_for_http())
}

/// Every request is answered within 30 s, but an upload of a layout, which may take as long as
/// its size needs (its own handler allows each piece 30 s instead).
async fn request_timeout(request: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    if request.uri().path() == "/api/v1/imports" {
        return next.run(request).await;
    }
    match tokio::time::timeout(Duration::from_secs(30), next.run(request)).await {
        Ok(response) => response,
        Err(_) => axum::response::IntoResponse::into_response(StatusCode::REQUEST_TIMEOUT),
    }
}

/// The policy for responses that are not pages (API, static files, errors): nothing inline.
const DEFAULT_POLICY: &str = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; \
    img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A page's Content-Security-Policy: scripts only from this origin or carrying this response's
/// nonce (leptos_axum puts it on the hydration script), WebAssembly compiled from our bundle,
/// styles only from the stylesheet, no framing. Set before the generic one, which then stays out.
fn page_security_policy() {
    let Some(nonce) = leptos::nonce::use_nonce() else { return };
    let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() else { return };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; \
         frame-ancestors 'none'"
    );
    if let Ok(value) = HeaderValue::from_str(&policy) {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

fn security_headers() -> tower::layer::util::Stack<
    SetResponseHeaderLayer<HeaderValue>,
    tower::layer::util::Stack<
        SetResponseHeaderLayer<HeaderValue>,
        tower::layer::util::Stack<SetResponseHeaderLayer<HeaderValue>, SetResponseHeaderLayer<HeaderValue>>,
    >,
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
    let policy = SetResponseHeaderLayer::if_not_present(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(DEFAULT_POLICY),
    );
    tower::layer::util::Stack::new(
        policy,
        tower::layer::util::Stack::new(nosniff, tower::layer::util::Stack::new(referrer, frames)),
    )
}
