//! The error server functions return is the service's [`AppError`]; this gives a page rendered
//! on the server the HTTP status it maps to.

pub use ocicat_service::AppError;

/// Gives the page being rendered on the server the status of `error` (the browser ignores it).
pub fn set_page_status(error: &AppError) {
    #[cfg(feature = "ssr")]
    if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
        if let Ok(status) = axum::http::StatusCode::from_u16(error.status_code()) {
            response.set_status(status);
        }
    }
    #[cfg(not(feature = "ssr"))]
    let _ = error;
}
