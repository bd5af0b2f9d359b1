//! Copying through the real router: a maintainer of the destination plans a copy of the
//! seeded app (with everything attached) from `demo/` to `release/` with the session's
//! anti-CSRF token, runs it, and the destination registry holds it under the same digest and
//! the index shows it; a viewer, someone without write on the destination, a stale plan and
//! an unconfirmed tag move are refused; the audit log has a line per step.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::access::{Credential, request, session_with_csrf};
use crate::util::{LOCAL, TestApp, fully_attached_subject};

const PASSWORD: &str = "correct horse battery staple";

fn section() -> String {
    let hash = ocicat_access::hash_password(PASSWORD).expect("hash");
    let user = |name: &str, grants: &str| {
        format!("[[user]]\nname = \"{name}\"\npassword_hash = \"{hash}\"\ngrants = [{grants}]\n\n")
    };
    let grant = |role: &str, repositories: &str| {
        format!("{{ role = \"{role}\", registry = \"{LOCAL}\", repositories = \"{repositories}\" }}")
    };
    format!(
        "anonymous = []\n\n{}{}{}{}",
        user("carol", &format!("{}, {}", grant("viewer", "demo/**"), grant("maintainer", "release/**"))),
        user("bob", &grant("viewer", "**")),
        user("dave", &grant("maintainer", "demo/**")),
        user("erin", &grant("viewer", "other/**")),
    )
}

async fn session(app: &TestApp, user: &str) -> (Credential, String) {
    session_with_csrf(app, user, PASSWORD).await
}

fn post(path: &str, credential: &Credential, body: Value, csrf: &str) -> axum::http::Request<axum::body::Body> {
    let mut built = request("POST", path, credential, Some(("application/json", body.to_string())));
    built.headers_mut().insert("x-csrf-token", csrf.parse().expect("header value"));
    built
}

#[tokio::test]
async fn a_maintainer_of_the_destination_copies_the_app_with_everything_attached() {
    let app = TestApp::builder().access(&section(), None).build().await;
    let subject = fully_attached_subject(&app.report);
    let body = json!({
        "source": {"registry": LOCAL, "repository": subject.repository},
        "digest": subject.digest,
        "destination": {"registry": LOCAL, "repository": "release/app"},
        "tags": ["1.0"],
    });
    // A viewer everywhere, and a maintainer of the source only, may not write to release/.
    for user in ["bob", "dave"] {
        let (credential, csrf) = session(&app, user).await;
        let refused = app.send(post("/api/v1/copies", &credential, body.clone(), &csrf)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{user}: {}", refused.body);
    }
    let (carol, csrf) = session(&app, "carol").await;
    let planned = app.send(post("/api/v1/copies", &carol, body.clone(), &csrf)).await;
    assert_eq!(planned.status, StatusCode::CREATED, "{}", planned.body);
    let planned = planned.json();
    let plan = &planned["plan"];
    let referrers =
        app.report.items.iter().filter(|item| item.subject.as_deref() == Some(subject.digest.as_str())).count();
    let manifests = plan["manifests"].as_array().unwrap();
    assert!(manifests.len() > referrers, "the app, its referrers and theirs: {}", manifests.len());
    assert_eq!(manifests[0]["digest"], subject.digest.as_str(), "the subject before its referrers");
    assert_eq!(manifests[0]["role"], "root");
    assert!(plan["totals"]["bytes"].as_u64().unwrap() > 0);
    assert_eq!(plan["destination_referrers_api"], false, "distribution lists referrers through fallback tags");
    let id = planned["id"].as_str().unwrap();

    // Shown is what runs: another fingerprint is refused, nothing written.
    let stale = app
        .send(post(&format!("/api/v1/copies/{id}/execute"), &carol, json!({"fingerprint": "0".repeat(64)}), &csrf))
        .await;
    assert_eq!(stale.status, StatusCode::CONFLICT, "{}", stale.body);
    let fingerprint = plan["fingerprint"].as_str().unwrap();
    let execute = format!("/api/v1/copies/{id}/execute");
    let started = app.send(post(&execute, &carol, json!({"fingerprint": fingerprint}), &csrf)).await;
    assert_eq!(started.status, StatusCode::ACCEPTED, "{}", started.body);
    assert_eq!(started.json()["running"], true, "it runs on its own task");
    // Once at a time.
    let twice = app.send(post(&execute, &carol, json!({"fingerprint": fingerprint, "wait": true}), &csrf)).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "{}", twice.body);
    // Its progress shows while it runs; the report when it ended.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let shown = loop {
        let shown = app.send(request("GET", &format!("/api/v1/copies/{id}"), &carol, None)).await.json();
        let total =
            shown["plan"]["manifests"].as_array().unwrap().len() + shown["plan"]["blobs"].as_array().unwrap().len();
        assert!(shown["report"]["steps"].as_array().unwrap().len() <= total + 64, "{shown:#}");
        if shown["running"] == false {
            break shown;
        }
        assert!(std::time::Instant::now() < deadline, "the copy ends");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    let report = &shown["report"];
    assert_eq!(report["complete"], true, "{report:#}");

    // The registry holds it under the same digest and tag.
    let registry = app.source.client.clone();
    assert_eq!(
        registry.head_manifest("release/app", "1.0").await.unwrap().map(|digest| digest.to_string()),
        Some(subject.digest.clone())
    );
    // The plan shows its report to whoever may run it; the audit log has the steps.
    let shown = app.send(request("GET", &format!("/api/v1/copies/{id}"), &carol, None)).await;
    assert_eq!(shown.json()["report"]["complete"], true);
    let (bob, _) = session(&app, "bob").await;
    let hidden = app.send(request("GET", &format!("/api/v1/copies/{id}"), &bob, None)).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let audit = app.send(request("GET", "/api/v1/audit?format=jsonl", &carol, None)).await;
    assert!(audit.body.contains("\"copy-manifest\"") && audit.body.contains("\"copy-tag\""), "{}", audit.body);

    // A second copy to the same tag of another artifact would move it: refused unless confirmed.
    let other = app
        .report
        .items
        .iter()
        .find(|item| item.kind == "image" && item.digest != subject.digest && item.repository == subject.repository)
        .unwrap();
    let moving = json!({
        "source": {"registry": LOCAL, "repository": other.repository},
        "digest": other.digest,
        "destination": {"registry": LOCAL, "repository": "release/app"},
        "tags": ["1.0"],
    });
    let planned = app.send(post("/api/v1/copies", &carol, moving, &csrf)).await.json();
    assert_eq!(planned["plan"]["moved_tags"][0]["tag"], "1.0", "{planned:#}");
    let (id, fingerprint) = (planned["id"].as_str().unwrap(), planned["plan"]["fingerprint"].as_str().unwrap());
    let unconfirmed = app
        .send(post(&format!("/api/v1/copies/{id}/execute"), &carol, json!({"fingerprint": fingerprint}), &csrf))
        .await;
    assert_eq!(unconfirmed.status, StatusCode::CONFLICT, "{}", unconfirmed.body);
    assert_eq!(
        registry.head_manifest("release/app", "1.0").await.unwrap().map(|digest| digest.to_string()),
        Some(subject.digest.clone()),
        "the tag did not move"
    );
}

/// An export: the plan as JSON and the layout as a tar download for whoever may read the
/// source, exactly as long as announced, unpacking to a layout that names the artifact and
/// holds every referrer; "not found" for someone who may not read the source.
#[tokio::test]
async fn a_reader_downloads_an_artifact_with_its_graph_as_an_oci_layout() {
    let app = TestApp::builder().access(&section(), None).build().await;
    let subject = fully_attached_subject(&app.report);
    let query = format!(
        "registry={LOCAL}&repository={}&digest={}&tag=1.0",
        subject.repository.replace('/', "%2F"),
        subject.digest.replace(':', "%3A")
    );
    let visitor =
        app.send(request("GET", &format!("/api/v1/exports/layout.tar?{query}"), &Credential::Visitor, None)).await;
    assert_eq!(visitor.status, StatusCode::UNAUTHORIZED, "{}", visitor.body);
    let (erin, _) = session(&app, "erin").await;
    for path in ["plan", "layout.tar"] {
        let hidden = app.send(request("GET", &format!("/api/v1/exports/{path}?{query}"), &erin, None)).await;
        assert_eq!(hidden.status, StatusCode::NOT_FOUND, "{path}: {}", hidden.body);
    }
    let (carol, _) = session(&app, "carol").await;
    let plan = app.send(request("GET", &format!("/api/v1/exports/plan?{query}"), &carol, None)).await;
    assert_eq!(plan.status, StatusCode::OK, "{}", plan.body);
    let plan = plan.json();
    assert_eq!(plan["tags"], json!([{"tag": "1.0", "digest": subject.digest}]));
    let download = app.send(request("GET", &format!("/api/v1/exports/layout.tar?{query}"), &carol, None)).await;
    assert_eq!(download.status, StatusCode::OK, "{}", download.body);
    assert_eq!(download.content_type(), "application/x-tar");
    let length: usize = download.headers["content-length"].to_str().unwrap().parse().unwrap();
    assert_eq!(download.raw.len(), length);
    let disposition = download.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"") && disposition.ends_with("-1.0.oci.tar\""),
        "{disposition}"
    );
    let dir = tempfile::tempdir().unwrap();
    ocicat_layout::archive::unpack(download.raw.as_ref(), dir.path(), 1 << 30).unwrap();
    let layout = ocicat_layout::read_repository(dir.path()).unwrap();
    assert_eq!(layout.tags["1.0"].digest, subject.digest);
    // Everything attached is in it: OCI referrers by their subject, cosign's by their tags.
    assert!(layout.notes.is_empty(), "{:?}", layout.notes);
    for item in app.report.items.iter().filter(|item| item.subject.as_deref() == Some(subject.digest.as_str())) {
        assert!(layout.manifests.contains_key(&item.digest), "{} ({})", item.digest, item.kind);
    }
    assert!(!layout.referrers[&subject.digest].is_empty());
}

/// An import: a layout downloaded as a tar goes back up into another repository through a copy
/// plan (a maintainer there; not a viewer), runs like any copy, and arrives under the same
/// digest and tag; an archive with a path outside a layout is refused.
#[tokio::test]
async fn a_maintainer_imports_an_uploaded_layout_archive_through_a_copy_plan() {
    let app = TestApp::builder().access(&section(), None).build().await;
    let subject = fully_attached_subject(&app.report);
    let (carol, csrf) = session(&app, "carol").await;
    let query = format!(
        "registry={LOCAL}&repository={}&digest={}&tag=1.0",
        subject.repository.replace('/', "%2F"),
        subject.digest.replace(':', "%3A")
    );
    let archive = app.send(request("GET", &format!("/api/v1/exports/layout.tar?{query}"), &carol, None)).await.raw;
    let upload = |credential: &Credential, csrf: &str, body: Vec<u8>| {
        let mut built = request(
            "POST",
            &format!("/api/v1/imports?registry={LOCAL}&repository=release%2Fimported"),
            credential,
            Some(("application/x-tar", String::new())),
        );
        *built.body_mut() = axum::body::Body::from(body);
        built.headers_mut().insert("x-csrf-token", csrf.parse().expect("header value"));
        built
    };
    let (bob, bob_csrf) = session(&app, "bob").await;
    let refused = app.send(upload(&bob, &bob_csrf, archive.to_vec())).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    let planned = app.send(upload(&carol, &csrf, archive.to_vec())).await;
    assert_eq!(planned.status, StatusCode::CREATED, "{}", planned.body);
    let planned = planned.json();
    assert_eq!(planned["plan"]["roots"], json!([subject.digest]), "{planned:#}");
    assert_eq!(planned["plan"]["tags"], json!([{"tag": "1.0", "digest": subject.digest}]));
    let (id, fingerprint) = (planned["id"].as_str().unwrap(), planned["plan"]["fingerprint"].as_str().unwrap());
    let ran = app
        .send(post(
            &format!("/api/v1/copies/{id}/execute"),
            &carol,
            json!({"fingerprint": fingerprint, "wait": true}),
            &csrf,
        ))
        .await;
    assert_eq!(ran.status, StatusCode::OK, "{}", ran.body);
    assert_eq!(ran.json()["report"]["complete"], true, "{}", ran.body);
    assert_eq!(
        app.source.client.head_manifest("release/imported", "1.0").await.unwrap().map(|digest| digest.to_string()),
        Some(subject.digest.clone())
    );
    // A hostile archive: a path outside the layout.
    let mut hostile = tar_entry("../escape", b"x");
    hostile.extend_from_slice(&[0u8; 1024]);
    let refused = app.send(upload(&carol, &csrf, hostile)).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{}", refused.body);
    assert!(refused.body.contains("not a layout archive"), "{}", refused.body);
}

/// One tar entry named `name` (written raw, as a hostile archive would be).
fn tar_entry(name: &str, content: &[u8]) -> Vec<u8> {
    let mut header = [0u8; 512];
    header[..name.len()].copy_from_slice(name.as_bytes());
    header[100..108].copy_from_slice(b"0000644\0");
    header[124..136].copy_from_slice(format!("{:011o}\0", content.len()).as_bytes());
    header[136..148].copy_from_slice(b"00000000000\0");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|byte| u32::from(*byte)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    let mut entry = header.to_vec();
    entry.extend_from_slice(content);
    entry.resize(entry.len().div_ceil(512) * 512, 0);
    entry
}
