//! Attaching later through the real router: a maintainer marks a seeded image end of life (a
//! lifecycle referrer, through distribution's fallback index), the crawl reads it back and
//! `eol < today` finds it; a newer referrer without a date takes it back (the newest decides);
//! annotations and a document arrive as referrers of their types; the image keeps its digest;
//! a viewer is refused; each attachment has an audit line.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::access::{Credential, post_login, request, session_cookie};
use crate::util::{LOCAL, TestApp};

const PASSWORD: &str = "correct horse battery staple";

fn section() -> String {
    let hash = ocicat_access::hash_password(PASSWORD).expect("hash");
    let user = |name: &str, role: &str| {
        format!(
            "[[user]]\nname = \"{name}\"\npassword_hash = \"{hash}\"\ngrants = [{{ role = \"{role}\", registry = \"{LOCAL}\", repositories = \"demo/**\" }}]\n\n"
        )
    };
    format!("anonymous = []\n\n{}{}", user("dave", "maintainer"), user("bob", "viewer"))
}

async fn session(app: &TestApp, user: &str) -> (Credential, String) {
    let response = post_login(app, user, PASSWORD, None).await;
    let credential = Credential::Cookie(session_cookie(&response).expect("signed in"));
    let who = app.send(request("GET", "/api/v1/me", &credential, None)).await;
    (credential, who.json()["csrf"].as_str().expect("a csrf token").to_owned())
}

async fn attach(app: &TestApp, who: &(Credential, String), path: &str, body: Value) -> (StatusCode, Value) {
    let mut built = request("POST", path, &who.0, Some(("application/json", body.to_string())));
    built.headers_mut().insert("x-csrf-token", who.1.parse().expect("header value"));
    let answered = app.send(built).await;
    let value = serde_json::from_str(&answered.body).unwrap_or(Value::Null);
    (answered.status, value)
}

#[tokio::test]
async fn a_maintainer_marks_end_of_life_takes_it_back_and_attaches_notes_and_documents() {
    let app = TestApp::builder().access(&section(), None).build().await;
    let image = app
        .report
        .items
        .iter()
        .find(|item| item.repository.starts_with("demo/") && item.kind == "image" && item.reference.is_some())
        .unwrap();
    let path = format!("/api/v1/registries/{LOCAL}/repositories/{}/@{}/attachments", image.repository, image.digest);
    let eol_query = format!(
        "/api/v1/search?q={}",
        format!("digest:{} eol < today", image.digest).replace(' ', "%20").replace('<', "%3C").replace(':', "%3A")
    );
    let dave = session(&app, "dave").await;
    let bob = session(&app, "bob").await;
    let (status, body) = attach(&app, &bob, &path, json!({"end_of_life": "2020-01-31"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");

    let (status, body) = attach(&app, &dave, &path, json!({"end_of_life": "2020-01-31"})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["artifact_type"], "application/vnd.microsoft.artifact.lifecycle");
    assert_eq!(body["fallback"], true, "distribution lists it in the fallback index");
    app.recrawl().await;
    let found = app.send(request("GET", &eol_query, &dave.0, None)).await.json();
    assert_eq!(found["total"], 1, "{found:#}");

    // A newer lifecycle referrer without a date takes it back.
    let (status, body) = attach(&app, &dave, &path, json!({"revoke_end_of_life": true})).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    app.recrawl().await;
    let found = app.send(request("GET", &eol_query, &dave.0, None)).await.json();
    assert_eq!(found["total"], 0, "{found:#}");

    // Annotations and a document, as referrers of their own types.
    let (status, notes) = attach(&app, &dave, &path, json!({"annotations": {"team": "core", "ticket": "REL-7"}})).await;
    assert_eq!(status, StatusCode::CREATED, "{notes}");
    let document =
        json!({"document": {"media_type": "text/markdown", "name": "NOTES.md", "content_base64": "IyByZWxlYXNlZAo="}});
    let (status, doc) = attach(&app, &dave, &path, document).await;
    assert_eq!(status, StatusCode::CREATED, "{doc}");
    let (status, refused) = attach(&app, &dave, &path, json!({"end_of_life": "soon"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    app.recrawl().await;
    let tree = app
        .send(request(
            "GET",
            &format!("/api/v1/registries/{LOCAL}/repositories/{}/@{}/referrers", image.repository, image.digest),
            &dave.0,
            None,
        ))
        .await;
    for attached in [&notes, &doc] {
        assert!(tree.body.contains(attached["digest"].as_str().unwrap()), "{} in {}", attached["digest"], tree.body);
    }
    assert!(tree.body.contains("application/vnd.ocicat.annotations.v1+json"));
    assert_eq!(
        app.client()
            .head_manifest(&image.repository, image.reference.as_deref().unwrap())
            .await
            .unwrap()
            .map(|d| d.to_string()),
        Some(image.digest.clone()),
        "the image keeps its digest"
    );
    let audit = app.send(request("GET", "/api/v1/audit?format=jsonl", &dave.0, None)).await;
    assert_eq!(audit.body.matches("\"attach\"").count(), 4, "{}", audit.body);
}
