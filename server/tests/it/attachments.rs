//! Attaching later through the real router: a maintainer marks a seeded image end of life (a
//! lifecycle referrer, through distribution's fallback index), the crawl reads it back and
//! `eol < today` finds it; a newer referrer without a date takes it back (the newest decides);
//! annotations and a document arrive as referrers of their types; the image keeps its digest;
//! annotations read and search as the image's own, with who and when; a document also arrives
//! as a form upload; a search's results get an end of life at once (a viewer: refused, nothing
//! pushed); a viewer is refused; each attachment has an audit line.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::access::{Credential, request, session_with_csrf};
use crate::util::{LOCAL, TestApp};

const PASSWORD: &str = "correct horse battery staple";

fn section() -> String {
    let hash = ocicat_access::hash_password(PASSWORD).expect("hash");
    let user = |name: &str, role: &str| {
        format!(
            "[[user]]\nname = \"{name}\"\npassword_hash = \"{hash}\"\ngrants = [{{ role = \"{role}\", registry = \"{LOCAL}\", repositories = \"demo/**\" }}]\n\n"
        )
    };
    format!("anonymous = []\n\n{}{}{}", user("dave", "maintainer"), user("bob", "viewer"), user("ada", "admin"))
}

async fn session(app: &TestApp, user: &str) -> (Credential, String) {
    session_with_csrf(app, user, PASSWORD).await
}

async fn attach(app: &TestApp, who: &(Credential, String), path: &str, body: Value) -> (StatusCode, Value) {
    let mut built = request("POST", path, &who.0, Some(("application/json", body.to_string())));
    built.headers_mut().insert("x-csrf-token", who.1.parse().expect("header value"));
    let answered = app.send(built).await;
    let value = serde_json::from_str(&answered.body).unwrap_or(Value::Null);
    (answered.status, value)
}

/// A tagged image of the seed's `demo/` repositories (maintainers may write there).
fn demo_image(app: &TestApp) -> &ocicat_seed::Seeded {
    let demo = |item: &&ocicat_seed::Seeded| item.repository.starts_with("demo/") && item.kind == "image";
    app.report.items.iter().find(|item| demo(item) && item.reference.is_some()).expect("a seeded demo image")
}

/// The search API's path for `text`.
fn search_path(text: &str) -> String {
    format!("/api/v1/search?q={}", text.replace(' ', "%20").replace('<', "%3C").replace(':', "%3A"))
}

/// The digests the `sha256-<hex>` fallback index of `digest` lists (none when there is none).
async fn fallback_entries(app: &TestApp, repository: &str, digest: &str) -> Vec<String> {
    let tag = format!("sha256-{}", digest.trim_start_matches("sha256:"));
    match app.client().get_manifest(repository, &tag).await {
        Ok(index) => serde_json::from_slice::<Value>(&index.raw).unwrap()["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .map(|entry| entry["digest"].as_str().unwrap().to_owned())
            .collect(),
        Err(_) => Vec::new(),
    }
}

#[tokio::test]
async fn a_maintainer_marks_end_of_life_takes_it_back_and_attaches_notes_and_documents() {
    let app = TestApp::builder().access(&section(), None).build().await;
    let image = demo_image(&app);
    let path = format!("/api/v1/registries/{LOCAL}/repositories/{}/@{}/attachments", image.repository, image.digest);
    let eol_query = search_path(&format!("digest:{} eol < today", image.digest));
    let dave = session(&app, "dave").await;
    let bob = session(&app, "bob").await;
    // What the seed attached already (through distribution's fallback index) stays attached.
    let already: Vec<&str> = app
        .report
        .items
        .iter()
        .filter(|item| item.subject.as_deref() == Some(image.digest.as_str()))
        .map(|item| item.digest.as_str())
        .collect();
    let before = fallback_entries(&app, &image.repository, &image.digest).await;
    assert!(!before.is_empty(), "the seed attached to it through the fallback index");
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
    for seeded in &already {
        assert!(tree.body.contains(seeded), "the seeded referrer {seeded} is still attached: {}", tree.body);
    }
    let after = fallback_entries(&app, &image.repository, &image.digest).await;
    for digest in
        before.iter().map(String::as_str).chain([notes["digest"].as_str().unwrap(), doc["digest"].as_str().unwrap()])
    {
        assert!(after.iter().any(|entry| entry == digest), "the fallback index keeps {digest}: {after:?}");
    }
    assert!(tree.body.contains("application/vnd.ocicat.annotations.v1+json"));
    // The annotations read as the image's own, with who attached them and when, and find it.
    let page = app
        .send(request(
            "GET",
            &format!("/api/v1/registries/{LOCAL}/repositories/{}/@{}", image.repository, image.digest),
            &dave.0,
            None,
        ))
        .await
        .json();
    let attached = page["attached_annotations"].as_array().expect("attached annotations");
    let team = attached.iter().find(|row| row["annotation"]["key"] == "team").expect("team");
    assert_eq!(
        (&team["annotation"]["value"], &team["by"], &team["referrer"]),
        (&json!("core"), &json!("dave"), &notes["digest"])
    );
    assert!(team["at"].as_str().is_some_and(|at| at.starts_with("20")), "{team}");
    let by_note = format!("/api/v1/search?q={}", "annotation.%22ticket%22%20%3D%20REL-7");
    let found = app.send(request("GET", &by_note, &dave.0, None)).await.json();
    assert_eq!(found["total"], 1, "{found:#}");
    assert_eq!(found["hits"][0]["digest"], json!(image.digest));
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

#[tokio::test]
async fn a_document_arrives_as_a_form_upload() {
    let app = TestApp::builder().access(&section(), None).build().await;
    let image = demo_image(&app);
    let path = format!("/api/v1/registries/{LOCAL}/repositories/{}/@{}/attachments", image.repository, image.digest);
    let dave = session(&app, "dave").await;
    let boundary = "ocicat-test-boundary";
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"VEX.json\"\r\n\
         Content-Type: application/json\r\n\r\n{{\"vex\": true}}\r\n\
         --{boundary}\r\nContent-Disposition: form-data; name=\"artifact_type\"\r\n\r\napplication/vnd.example.vex\r\n\
         --{boundary}--\r\n"
    );
    let content_type = format!("multipart/form-data; boundary={boundary}");
    let mut built = request("POST", &path, &dave.0, Some((content_type.as_str(), form.clone())));
    let answered = app.send(built).await;
    assert_eq!(answered.status, StatusCode::FORBIDDEN, "no CSRF token: {}", answered.body);
    built = request("POST", &path, &dave.0, Some((content_type.as_str(), form)));
    built.headers_mut().insert("x-csrf-token", dave.1.parse().expect("header value"));
    let answered = app.send(built).await;
    assert_eq!(answered.status, StatusCode::CREATED, "{}", answered.body);
    let attached = answered.json();
    assert_eq!(attached["artifact_type"], "application/vnd.example.vex");
    let digest = attached["digest"].as_str().unwrap();
    let manifest = app.client().get_manifest(&image.repository, digest).await.expect("pushed");
    let body: Value = serde_json::from_slice(&manifest.raw).unwrap();
    assert_eq!(body["layers"][0]["mediaType"], "application/json");
    assert_eq!(body["layers"][0]["annotations"]["org.opencontainers.image.title"], "VEX.json");
    assert_eq!(body["annotations"]["vnd.ocicat.attached-by"], "dave");

    // An SBOM uploaded so opens in the SBOM viewer like any other.
    let spdx = json!({
        "spdxVersion": "SPDX-2.3", "SPDXID": "SPDXRef-DOCUMENT", "name": "uploaded", "dataLicense": "CC0-1.0",
        "documentNamespace": "https://example.com/uploaded",
        "creationInfo": {"created": "2026-12-01T00:00:00Z", "creators": ["Tool: hand"]},
        "packages": [{"SPDXID": "SPDXRef-zlib", "name": "zlib", "versionInfo": "1.3.1"}],
    });
    let form = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"sbom.spdx.json\"\r\n\
         Content-Type: application/spdx+json\r\n\r\n{spdx}\r\n--{boundary}--\r\n"
    );
    let mut built = request("POST", &path, &dave.0, Some((content_type.as_str(), form)));
    built.headers_mut().insert("x-csrf-token", dave.1.parse().expect("header value"));
    let answered = app.send(built).await;
    assert_eq!(answered.status, StatusCode::CREATED, "{}", answered.body);
    let sbom = answered.json()["digest"].as_str().unwrap().to_owned();
    app.recrawl().await;
    let viewed = app
        .send(request(
            "GET",
            &format!("/api/v1/registries/{LOCAL}/repositories/{}/@{sbom}/contents", image.repository),
            &dave.0,
            None,
        ))
        .await
        .json();
    assert_eq!(viewed["body"]["Sbom"]["packages"][0]["name"], "zlib", "{viewed:#}");
}

#[tokio::test]
async fn a_search_s_results_get_an_end_of_life_at_once_and_a_viewer_pushes_nothing() {
    let expiry = "[[retention]]\nname = \"expired\"\nregistry = \"local\"\nrepositories = \"demo/**\"\nexpire_by_annotation = true\nevery_hours = 0\n";
    let app = TestApp::builder().access(&section(), None).retention(expiry).build().await;
    let dave = session(&app, "dave").await;
    let bob = session(&app, "bob").await;
    let repository = demo_image(&app).repository.clone();
    let query = format!("repo:{repository} kind:image");
    let digests = |page: &Value, list: &str| {
        let mut digests: Vec<String> =
            page[list].as_array().unwrap().iter().map(|hit| hit["digest"].as_str().unwrap().to_owned()).collect();
        digests.sort();
        digests
    };
    let wanted = digests(&app.send(request("GET", &search_path(&query), &dave.0, None)).await.json(), "hits");
    assert!(!wanted.is_empty());
    let (status, refused) =
        attach(&app, &bob, "/api/v1/attachments", json!({"query": query, "end_of_life": "2020-02-29"})).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{refused}");
    let (status, preview) = attach(
        &app,
        &dave,
        "/api/v1/attachments",
        json!({"query": query, "end_of_life": "2020-02-29", "dry_run": true}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{preview}");
    assert_eq!(digests(&preview, "targets"), wanted, "{preview:#}");
    assert!(preview["targets"].as_array().unwrap().iter().all(|t| t["attached"].is_null()), "a dry run pushes nothing");
    let audit = app.send(request("GET", "/api/v1/audit?format=jsonl", &dave.0, None)).await;
    assert_eq!(
        audit.body.matches("\"attach\"").count(),
        0,
        "neither the viewer nor the dry run attached: {}",
        audit.body
    );

    let (status, done) =
        attach(&app, &dave, "/api/v1/attachments", json!({"query": query, "end_of_life": "2020-02-29"})).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!((done["attached"].as_u64(), done["failed"].as_u64()), (Some(wanted.len() as u64), Some(0)), "{done:#}");
    app.recrawl().await;
    let found =
        app.send(request("GET", &search_path(&format!("repo:{repository} eol < today")), &dave.0, None)).await.json();
    assert_eq!(digests(&found, "hits"), wanted, "{found:#}");
    // Retention's annotation expiry picks exactly those.
    let ada = session(&app, "ada").await;
    let (status, run) = attach(&app, &ada, "/api/v1/retention/expired/run?dry_run=true", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{run}");
    let chosen: Vec<&str> = run["choices"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|choice| choice["repository"] == json!(repository) && choice["delete"] == true)
        .map(|choice| choice["digest"].as_str().unwrap())
        .collect();
    assert!(wanted.iter().all(|digest| chosen.contains(&digest.as_str())), "{wanted:?} in {run:#}");
    let (status, bad) =
        attach(&app, &dave, "/api/v1/attachments", json!({"query": "eol <", "end_of_life": "2020-02-29"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}");
}
