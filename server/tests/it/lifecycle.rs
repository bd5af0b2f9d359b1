//! Deleting through the real router (PRODUCT rows 17–20, SECURITY S18, S22): a maintainer plans
//! `eol < today` over the JSON API and deletes it with the session's anti-CSRF token; the same
//! without the token, cross-site, by a viewer or outside the grant is refused; an API token
//! needs no CSRF token; the registry and the index lose exactly the plan; the audit log shows
//! it and exports it; a registry with deletion disabled is refused with nothing deleted.

use axum::http::{StatusCode, header};
use serde_json::{Value, json};

use crate::access::{Credential, make_token, request, session_with_csrf};
use crate::util::{LOCAL, TestApp};

const PASSWORD: &str = "correct horse battery staple";

fn section() -> String {
    let hash = ocicat_access::hash_password(PASSWORD).expect("hash");
    let user = |name: &str, role: &str, repositories: &str| {
        format!(
            "[[user]]\nname = \"{name}\"\npassword_hash = \"{hash}\"\ngrants = [{{ role = \"{role}\", registry = \"{LOCAL}\", repositories = \"{repositories}\" }}]\n\n"
        )
    };
    format!("anonymous = []\n\n{}{}", user("alice", "maintainer", "demo/**"), user("bob", "viewer", "**"))
}

async fn session(app: &TestApp, user: &str) -> (Credential, String) {
    session_with_csrf(app, user, PASSWORD).await
}

fn post_json(
    path: &str,
    credential: &Credential,
    body: Value,
    csrf: Option<&str>,
) -> axum::http::Request<axum::body::Body> {
    let mut built = request("POST", path, credential, Some(("application/json", body.to_string())));
    if let Some(token) = csrf {
        built.headers_mut().insert("x-csrf-token", token.parse().expect("header value"));
    }
    built
}

#[tokio::test]
async fn a_maintainer_deletes_everything_past_its_end_of_life_with_the_csrf_token_and_the_audit_log_shows_it() {
    let app = TestApp::builder().access(&section(), None).build().await;
    let (alice, csrf) = session(&app, "alice").await;
    let search = json!({ "query": "eol < today" });

    let refused = app.send(post_json("/api/v1/plans", &alice, search.clone(), None)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "no token: {}", refused.body);
    assert!(refused.body.contains("anti-CSRF"), "{}", refused.body);
    let wrong = app.send(post_json("/api/v1/plans", &alice, search.clone(), Some(&"0".repeat(64)))).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN);
    let mut cross_site = post_json("/api/v1/plans", &alice, search.clone(), Some(&csrf));
    cross_site.headers_mut().insert("sec-fetch-site", "cross-site".parse().unwrap());
    assert_eq!(app.send(cross_site).await.status, StatusCode::FORBIDDEN);
    let (bob, bob_csrf) = session(&app, "bob").await;
    let viewer = app.send(post_json("/api/v1/plans", &bob, search.clone(), Some(&bob_csrf))).await;
    assert_eq!(viewer.status, StatusCode::FORBIDDEN, "a viewer plans nothing");
    let outside = json!({ "targets": [{ "registry": LOCAL, "repository": "charts/demo", "reference": "0.1.0" }] });
    let outside = app.send(post_json("/api/v1/plans", &alice, outside, Some(&csrf))).await;
    assert_eq!(
        outside.status,
        StatusCode::NOT_FOUND,
        "outside alice's grant, as if it did not exist: {}",
        outside.body
    );

    let created = app.send(post_json("/api/v1/plans", &alice, search.clone(), Some(&csrf))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let stored = created.json();
    let plan = &stored["plan"];
    assert_eq!(stored["state"], "planned");
    assert_eq!(plan["query"], "eol < today");
    let targets: Vec<&str> =
        plan["targets"].as_array().unwrap().iter().map(|t| t["digest"].as_str().unwrap()).collect();
    assert!(!targets.is_empty());
    for digest in &targets {
        let artifact = app.catalog.artifact(LOCAL, "demo/app", digest).unwrap().expect("a target is indexed");
        assert!(artifact.end_of_life.unwrap() < chrono::Utc::now(), "only what is past its end of life");
    }
    let items: Vec<(String, String)> = plan["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| (item["repository"].as_str().unwrap().to_owned(), item["digest"].as_str().unwrap().to_owned()))
        .collect();
    assert!(items.len() > targets.len(), "the lifecycle referrer and the rest go with it: {items:?}");
    let id = plan["id"].as_str().unwrap().to_owned();

    let execute = format!("/api/v1/plans/{id}/execute?wait=true");
    assert_eq!(app.send(post_json(&execute, &alice, json!({}), None)).await.status, StatusCode::FORBIDDEN);
    let done = app.send(post_json(&execute, &alice, json!({}), Some(&csrf))).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert_eq!(done.json()["state"], "done", "{}", done.body);
    for (repository, digest) in &items {
        let gone = app.client().head_manifest(repository, digest).await;
        assert!(matches!(gone, Err(ocicat_oci::OciError::NotFound { .. })), "{repository}@{digest}: {gone:?}");
        assert!(app.catalog.artifact(LOCAL, repository, digest).unwrap().is_none(), "{digest} left the index");
    }
    let again = app.send(request("GET", "/api/v1/search?q=eol%20%3C%20today", &alice, None)).await;
    assert_eq!(again.json()["total"], 0, "{}", again.body);

    let log = app.send(request("GET", "/api/v1/audit", &alice, None)).await;
    assert_eq!(log.status, StatusCode::OK, "{}", log.body);
    let entries = log.json()["entries"].as_array().unwrap().clone();
    let deleted: Vec<&Value> =
        entries.iter().filter(|e| e["action"] == "delete" && e["outcome"] == "deleted").collect();
    assert_eq!(deleted.len(), items.len());
    assert!(deleted.iter().all(|entry| entry["actor"] == "alice" && entry["plan_id"] == id.as_str()));
    let csv = app.send(request("GET", "/api/v1/audit?format=csv", &alice, None)).await;
    assert_eq!(csv.headers[header::CONTENT_TYPE], "text/csv; charset=utf-8");
    assert!(csv.body.starts_with("seq,at,actor,action,"));
    assert!(items.iter().all(|(_, digest)| csv.body.contains(digest.as_str())));
    // JSON lines: one parseable entry per line, exactly the lines of the JSON pages, in order.
    let jsonl = app.send(request("GET", "/api/v1/audit?format=jsonl", &alice, None)).await;
    assert_eq!(jsonl.status, StatusCode::OK, "{}", jsonl.body);
    assert_eq!(jsonl.headers[header::CONTENT_TYPE], "application/jsonl");
    assert!(jsonl.headers[header::CONTENT_DISPOSITION].to_str().unwrap().contains("ocicat-audit.jsonl"));
    assert!(jsonl.body.ends_with('\n'));
    let lines: Vec<Value> =
        jsonl.body.lines().map(|line| serde_json::from_str(line).expect("each line is one JSON entry")).collect();
    let seqs = |entries: &[Value]| entries.iter().map(|entry| entry["seq"].as_i64().unwrap()).collect::<Vec<_>>();
    assert_eq!(seqs(&lines), seqs(&entries), "the export holds what the pages hold");
    let exported_deletes = lines.iter().filter(|e| e["action"] == "delete" && e["outcome"] == "deleted").count();
    assert_eq!(exported_deletes, items.len());
    let unknown = app.send(request("GET", "/api/v1/audit?format=xml", &alice, None)).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST, "{}", unknown.body);
    let bob_log = app.send(request("GET", "/api/v1/audit", &bob, None)).await;
    assert_eq!(bob_log.status, StatusCode::FORBIDDEN, "the audit log is for maintainers");

    // An API token carries no cookie: no CSRF token needed.
    let cookie = match &alice {
        Credential::Cookie(cookie) => cookie.clone(),
        _ => unreachable!(),
    };
    let token = make_token(&app, &cookie, "deletes").await;
    let by_token = json!({ "targets": [{ "registry": LOCAL, "repository": "demo/app", "reference": "1.0.0" }] });
    let planned = app.send(post_json("/api/v1/plans", &Credential::Bearer(token), by_token, None)).await;
    assert_eq!(planned.status, StatusCode::CREATED, "{}", planned.body);
}

/// The per-start token the open mode (no `[access]`) hands its pages, from `/api/v1/me`.
async fn open_mode_token(app: &TestApp) -> String {
    let who = app.send(request("GET", "/api/v1/me", &Credential::Visitor, None)).await;
    assert_eq!(who.status, StatusCode::OK, "{}", who.body);
    let csrf = who.json()["csrf"].as_str().expect("a per-start token").to_owned();
    assert_eq!(csrf.len(), 64);
    csrf
}

/// DNS rebinding (SECURITY S18): with no `[access]` every request is the local operator, so a
/// page whose name rebinds to 127.0.0.1 must neither be answered (421 for a host that is not
/// ocicat's) nor delete (plans and executions need the per-start token, which only ocicat's
/// own pages can read).
#[tokio::test]
async fn open_mode_deletes_need_the_per_start_token_and_foreign_hosts_get_421() {
    let app = TestApp::builder().build().await;
    let open = Credential::Visitor;
    let search = json!({ "query": "eol < today" });
    let refused = app.send(post_json("/api/v1/plans", &open, search.clone(), None)).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "no token: {}", refused.body);
    assert!(refused.body.contains("anti-CSRF"), "{}", refused.body);
    let wrong = app.send(post_json("/api/v1/plans", &open, search.clone(), Some(&"0".repeat(64)))).await;
    assert_eq!(wrong.status, StatusCode::FORBIDDEN, "{}", wrong.body);
    let csrf = open_mode_token(&app).await;
    let planned = app.send(post_json("/api/v1/plans", &open, search.clone(), Some(&csrf))).await;
    assert_eq!(planned.status, StatusCode::CREATED, "{}", planned.body);
    let id = planned.json()["plan"]["id"].as_str().unwrap().to_owned();
    let unconfirmed = app.send(post_json(&format!("/api/v1/plans/{id}/execute"), &open, json!({}), None)).await;
    assert_eq!(unconfirmed.status, StatusCode::FORBIDDEN, "{}", unconfirmed.body);
    assert_eq!(app.get_json(&format!("/api/v1/plans/{id}")).await["state"], "planned", "nothing ran");

    for host in ["attacker.test", "attacker.test:3000", "127.0.0.1.attacker.test"] {
        let mut rebound = request("GET", "/api/v1/me", &open, None);
        rebound.headers_mut().insert(axum::http::header::HOST, host.parse().unwrap());
        let answer = app.send(rebound).await;
        assert_eq!(answer.status, StatusCode::MISDIRECTED_REQUEST, "{host}: {}", answer.body);
        assert!(!answer.body.contains(&csrf), "the token never reaches another host");
        let mut rebound = post_json("/api/v1/plans", &open, search.clone(), Some(&csrf));
        rebound.headers_mut().insert(axum::http::header::HOST, host.parse().unwrap());
        assert_eq!(app.send(rebound).await.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
    }
    for host in ["127.0.0.1:3000", "localhost:3000", "[::1]:3000"] {
        let mut local = request("GET", "/api/v1/me", &open, None);
        local.headers_mut().insert(axum::http::header::HOST, host.parse().unwrap());
        assert_eq!(app.send(local).await.status, StatusCode::OK, "{host} is ocicat's own name");
    }
}

#[tokio::test]
async fn a_registry_with_deletion_disabled_refuses_the_plan_clearly_and_keeps_everything() {
    let app = TestApp::builder()
        .registry(ocicat_testkit::DistributionOptions::anonymous().with_delete_disabled())
        .build()
        .await;
    let open = Credential::Visitor;
    let csrf = open_mode_token(&app).await;
    let created = app.send(post_json("/api/v1/plans", &open, json!({ "query": "eol < today" }), Some(&csrf))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let plan = created.json()["plan"].clone();
    let id = plan["id"].as_str().unwrap();
    let execute = format!("/api/v1/plans/{id}/execute?wait=true");
    let done = app.send(post_json(&execute, &open, json!({}), Some(&csrf))).await;
    let outcome = done.json();
    assert_eq!(outcome["state"], "refused", "{}", done.body);
    assert!(outcome["message"].as_str().unwrap().contains("deletion is disabled"), "{}", done.body);
    for item in plan["items"].as_array().unwrap() {
        let (repository, digest) = (item["repository"].as_str().unwrap(), item["digest"].as_str().unwrap());
        assert!(app.client().head_manifest(repository, digest).await.is_ok(), "{digest} is still there");
        assert!(app.catalog.artifact(LOCAL, repository, digest).unwrap().is_some());
    }
    let page = app.get_json(&format!("/api/v1/plans/{id}")).await;
    assert_eq!(page["state"], "refused");
}

/// `execute?wait=true` runs on its own task: a caller that hangs up (a closed tab, a proxy's
/// timeout) in the middle of a delete neither cuts it off between the registry's answer and its
/// audit line nor leaves the plan busy until a restart.
#[tokio::test]
async fn a_waited_execution_runs_to_its_end_when_the_caller_hangs_up() {
    use ocicat_testkit::{Distribution, DistributionOptions, FaultyRegistry, Reply, Script};
    use std::time::Duration;
    let upstream = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let target = ocicat_seed::Target::anonymous(upstream.url().parse().unwrap());
    let report = ocicat_seed::seed(&target, ocicat_seed::Size::Test).await.unwrap();
    // Each DELETE takes a while to be answered, so the caller can hang up in the middle.
    let slow = FaultyRegistry::builder()
        .route("DELETE", "/v2/*", Reply::new(202).delayed(Duration::from_millis(300)))
        .any("/v2/*", Script::proxy(&upstream.url(), str::to_owned))
        .start()
        .await
        .unwrap();
    let source = crate::util::registry_source("slow", slow.url().parse().unwrap(), None);
    let app = TestApp::builder().unseeded().extra_source(source).build().await;
    let sbom = report.of_kind("sbom").find(|item| item.subject.is_some()).expect("an attached SBOM");
    let open = Credential::Visitor;
    let csrf = open_mode_token(&app).await;
    let targets =
        json!({ "targets": [{ "registry": "slow", "repository": sbom.repository, "reference": sbom.digest }] });
    let created = app.send(post_json("/api/v1/plans", &open, targets, Some(&csrf))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let plan = created.json()["plan"].clone();
    let id = plan["id"].as_str().unwrap().to_owned();
    let planned = plan["items"].as_array().unwrap().len();
    assert!(planned >= 1, "{plan:#}");

    let waited = app.send(post_json(&format!("/api/v1/plans/{id}/execute?wait=true"), &open, json!({}), Some(&csrf)));
    let mut waited = std::pin::pin!(waited);
    let deleting = || slow.requests().iter().any(|seen| seen.method == "DELETE");
    loop {
        tokio::select! {
            answered = &mut waited => panic!("answered before the caller could hang up: {}", answered.body),
            () = tokio::time::sleep(Duration::from_millis(10)) => if deleting() { break },
        }
    }
    drop(waited);

    let mut state = Value::Null;
    for _ in 0..300 {
        state = app.get_json(&format!("/api/v1/plans/{id}")).await;
        if state["state"] != "running" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(state["state"], "done", "{state:#}");
    let deletes = slow.requests().iter().filter(|seen| seen.method == "DELETE").count();
    assert_eq!(deletes, planned, "every planned item was deleted once");
    // The closing audit line is written right after the state turns done: ask until it is there.
    let mut lines = Vec::new();
    for _ in 0..100 {
        let log = app.get_json("/api/v1/audit").await;
        lines = log["entries"].as_array().unwrap().clone();
        // The opening line ("started") is there from the first; wait for the closing one.
        if lines.iter().any(|e| e["plan_id"] == id.as_str() && e["action"] == "execute" && e["outcome"] == "done") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let audited =
        lines.iter().filter(|e| e["plan_id"] == id.as_str() && e["action"] == "delete" && e["outcome"] == "deleted");
    assert_eq!(audited.count(), planned, "every delete has its audit line");
    assert!(lines.iter().any(|e| e["plan_id"] == id.as_str() && e["action"] == "execute" && e["outcome"] == "done"));
}
