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

/// Pages carry a Content-Security-Policy without `unsafe-inline`: the only inline script (the
/// hydration loader) is allowed by a per-response nonce, and nothing may frame the page.
#[tokio::test]
async fn pages_have_a_nonce_based_content_security_policy() {
    let app = TestApp::builder().unseeded().build().await;
    let first = app.get("/").await;
    let policy = first.headers["content-security-policy"].to_str().unwrap().to_owned();
    assert!(!policy.contains("unsafe-inline"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a nonce").to_owned();
    assert!(nonce.len() >= 16, "{nonce}");
    assert!(first.body.contains(&format!("nonce=\"{nonce}\"")), "the hydration script carries the nonce");
    let second = app.get("/").await;
    assert!(
        !second.headers["content-security-policy"].to_str().unwrap().contains(&nonce),
        "a fresh nonce per response"
    );
    // Other responses get the strict default policy.
    let health = app.get("/healthz").await;
    let default_policy = health.headers["content-security-policy"].to_str().unwrap();
    assert!(default_policy.contains("default-src 'self'") && !default_policy.contains("nonce"), "{default_policy}");
}
