//! `/healthz` answers without touching the catalog, with the security headers of every response.

use axum::http::StatusCode;

use crate::util::TestApp;

#[tokio::test]
async fn healthz_answers_ok() {
    let app = TestApp::builder().unseeded().build().await;
    let response = app.get("/healthz").await;
    assert_eq!(response.status, StatusCode::OK);
    assert_eq!(response.body, "ok");
    assert_eq!(response.headers["x-content-type-options"], "nosniff");
    assert_eq!(response.headers["x-frame-options"], "DENY");
}
