//! The four access bugs of issue 16, each played over HTTP through the real router against a
//! real distribution 2.8.2 seeded by the real seeder: a scoped administrator running a policy
//! that reaches further, retention reports showing other teams' repositories, whole-registry
//! facts for scoped users, and answers that tell a secret name from an unknown one.

use axum::http::StatusCode;
use serde_json::Value;

use crate::access::{Credential, call, make_token, sign_in};
use crate::util::{LOCAL, TestApp};

const PASSWORD: &str = "correct horse battery staple";

/// `admin` everything; `lead` admin of `demo/**`; `maint` maintainer of all of local;
/// `demo_maint` maintainer of `demo/**`; `viewer` reads all of local.
fn section() -> String {
    let hash = ocicat_access::hash_password(PASSWORD).expect("hash");
    let user = |name: &str, role: &str, registry: &str, repositories: &str| {
        format!(
            "[[user]]\nname = \"{name}\"\npassword_hash = \"{hash}\"\ngrants = [{{ role = \"{role}\", registry = \"{registry}\", repositories = \"{repositories}\" }}]\n\n"
        )
    };
    [
        "anonymous = []\n\n".to_owned(),
        user("admin", "admin", "*", "**"),
        user("lead", "admin", LOCAL, "demo/**"),
        user("maint", "maintainer", LOCAL, "**"),
        user("demo_maint", "maintainer", LOCAL, "demo/**"),
        user("viewer", "viewer", LOCAL, "**"),
    ]
    .concat()
}

/// Two dry-run policies that choose every top-level artifact: one over everything, one over demo.
const POLICIES: &str = r#"
[[retention]]
name = "everything"
registry = "*"
repositories = "**"
keep_newest = 0
every_hours = 0

[[retention]]
name = "demo"
registry = "local"
repositories = "demo/**"
keep_newest = 0
every_hours = 0
"#;

async fn app() -> TestApp {
    TestApp::builder().access(&section(), None).retention(POLICIES).build().await
}

/// An API token of `user` (so state changes need no anti-CSRF token).
async fn token(app: &TestApp, user: &str) -> Credential {
    let cookie = sign_in(app, user).await;
    Credential::Bearer(make_token(app, &cookie, "test").await)
}

/// The seeded repositories that still have every seeded tag they had, by the registry itself.
async fn intact(app: &TestApp, repositories: impl Fn(&str) -> bool) -> bool {
    let client = app.client();
    for item in app.report.items.iter().filter(|item| repositories(&item.repository)) {
        let Some(tag) = item.reference.as_ref().filter(|tag| crate::util::is_version_tag(tag)) else { continue };
        if client.head_manifest(&item.repository, tag).await.is_err() {
            return false;
        }
    }
    true
}

fn choices(run: &Value) -> Vec<String> {
    run["choices"].as_array().expect("choices").iter().map(|c| c["repository"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn a_scoped_admin_cannot_run_a_policy_that_reaches_further_and_no_dry_run_is_overridden_unasked() {
    let app = app().await;
    let (lead, maint) = (token(&app, "lead").await, token(&app, "maint").await);
    for path in ["/api/v1/retention/everything/run?dry_run=false", "/api/v1/retention/everything/run"] {
        let refused = call(&app, "POST", path, &lead).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{path}: {}", refused.body);
    }
    let refused = call(&app, "POST", "/api/v1/retention/demo/run?dry_run=false", &maint).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "a dry-run policy stays one: {}", refused.body);
    assert!(refused.body.contains("override_dry_run"), "{}", refused.body);
    let refused = call(&app, "POST", "/api/v1/retention/demo/run?dry_run=false&override_dry_run=true", &maint).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "overriding needs an administrator: {}", refused.body);
    assert!(intact(&app, |_| true).await, "nothing was deleted");

    let done = call(&app, "POST", "/api/v1/retention/demo/run?dry_run=false&override_dry_run=true", &lead).await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    let run = done.json();
    assert_eq!(run["dry_run"], false);
    assert!(run["deleted"].as_u64().unwrap() > 0, "{run:#}");
    assert!(choices(&run).iter().all(|repository| repository.starts_with("demo/")), "{run:#}");
    assert!(!intact(&app, |repository| repository.starts_with("demo/")).await, "demo went");
    assert!(intact(&app, |repository| !repository.starts_with("demo/")).await, "nothing else went");
}

#[tokio::test]
async fn a_retention_report_shows_each_reader_only_what_they_may_read() {
    let app = app().await;
    let (admin, demo_maint, viewer) =
        (token(&app, "admin").await, token(&app, "demo_maint").await, token(&app, "viewer").await);
    let run = call(&app, "POST", "/api/v1/retention/everything/run?dry_run=true", &admin).await;
    assert_eq!(run.status, StatusCode::OK, "{}", run.body);
    let run = run.json();
    let id = run["id"].as_str().unwrap().to_owned();
    assert!(choices(&run).iter().any(|repository| !repository.starts_with("demo/")), "{run:#}");
    assert_eq!(run["hidden"], 0);

    let seen = call(&app, "GET", &format!("/api/v1/retention/runs/{id}"), &demo_maint).await;
    assert_eq!(seen.status, StatusCode::OK, "{}", seen.body);
    let seen = seen.json();
    let repositories = choices(&seen);
    assert!(!repositories.is_empty() && repositories.iter().all(|r| r.starts_with("demo/")), "{seen:#}");
    assert!(seen["hidden"].as_u64().unwrap() > 0);
    assert_eq!((seen["manifests"].as_u64(), seen["plan_id"].as_str()), (Some(0), None), "totals count the rest");
    let listed = call(&app, "GET", "/api/v1/retention", &demo_maint).await.json();
    for listed_run in listed["runs"].as_array().unwrap() {
        assert!(choices(listed_run).iter().all(|r| r.starts_with("demo/")), "{listed_run:#}");
    }
    let policies: Vec<&str> =
        listed["policies"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(policies, ["everything", "demo"]);
    assert_eq!(listed["policies"][0]["can_run"], false, "everything reaches further than demo");
    assert_eq!(listed["policies"][1]["can_run"], true);

    let hidden = call(&app, "GET", &format!("/api/v1/retention/runs/{id}"), &viewer).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND, "a viewer deletes nowhere: {}", hidden.body);
}

#[tokio::test]
async fn whole_registry_facts_go_only_to_administrators_of_the_whole_registry() {
    let app = app().await;
    app.board.update(LOCAL, |status| status.last_error = Some("charts/secret: manifest unknown".into()));
    let (admin, lead) = (token(&app, "admin").await, token(&app, "lead").await);

    let cards = call(&app, "GET", "/api/v1/registries", &lead).await.json();
    let card = &cards[0];
    assert_eq!(card["internals"], false, "{card:#}");
    assert_eq!(card["last_error"], Value::Null);
    assert_eq!((card["repositories_total"].as_u64(), card["repositories_done"].as_u64()), (Some(0), Some(0)));
    assert_eq!(card["can_refresh"], false);
    let full = call(&app, "GET", "/api/v1/registries", &admin).await.json();
    assert_eq!(full[0]["internals"], true);
    assert_eq!(full[0]["last_error"], "charts/secret: manifest unknown");
    assert!(full[0]["repositories_total"].as_u64().unwrap() > 0);

    let status = call(&app, "GET", &format!("/api/v1/registries/{LOCAL}/status"), &lead).await;
    assert_eq!(status.status, StatusCode::FORBIDDEN, "{}", status.body);
    let metrics = call(&app, "GET", "/metrics", &lead).await;
    assert_eq!(metrics.status, StatusCode::NOT_FOUND, "{}", metrics.body);
    assert_eq!(call(&app, "GET", "/metrics", &admin).await.status, StatusCode::OK);

    let plan = serde_json::json!({ "query": "repo:charts/*" }).to_string();
    let planned =
        app.send(crate::access::request("POST", "/api/v1/plans", &admin, Some(("application/json", plan)))).await;
    assert_eq!(planned.status, StatusCode::CREATED, "{}", planned.body);
    let mine = serde_json::json!({ "query": "repo:demo/*" }).to_string();
    let mine = app.send(crate::access::request("POST", "/api/v1/plans", &lead, Some(("application/json", mine)))).await;
    assert_eq!(mine.status, StatusCode::CREATED, "{}", mine.body);
    let audit = call(&app, "GET", "/api/v1/audit?format=jsonl", &lead).await;
    assert_eq!(audit.status, StatusCode::OK);
    assert!(!audit.body.contains("charts"), "another team's search: {}", audit.body);
    assert!(audit.body.contains("repo:demo/*"), "the lead's own plan: {}", audit.body);
    let everything = call(&app, "GET", "/api/v1/audit?format=jsonl", &admin).await;
    assert!(everything.body.contains("repo:charts/*") && everything.body.contains("repo:demo/*"));
}

#[tokio::test]
async fn a_name_the_caller_may_not_read_answers_exactly_as_an_unknown_one() {
    let app = app().await;
    let (demo_maint, viewer) = (token(&app, "demo_maint").await, token(&app, "viewer").await);
    let plan = |registry: &str, repository: &str| {
        let body =
            serde_json::json!({ "targets": [{ "registry": registry, "repository": repository, "reference": "1.0" }] });
        crate::access::request("POST", "/api/v1/plans", &demo_maint, Some(("application/json", body.to_string())))
    };
    let secret = app.send(plan(LOCAL, "charts/demo")).await;
    let unknown_repository = app.send(plan(LOCAL, "charts/nothing-here")).await;
    let unknown_registry = app.send(plan("ghost", "charts/demo")).await;
    for answer in [&secret, &unknown_repository, &unknown_registry] {
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{}", answer.body);
        assert!(answer.json()["error"].as_str().unwrap().ends_with("not found"), "{}", answer.body);
    }
    assert_eq!(secret.body.replace("charts/demo", "X"), unknown_repository.body.replace("charts/nothing-here", "X"));

    let known = call(&app, "POST", "/api/v1/retention/demo/run", &viewer).await;
    let unknown = call(&app, "POST", "/api/v1/retention/nothing/run", &viewer).await;
    assert_eq!((known.status, unknown.status), (StatusCode::NOT_FOUND, StatusCode::NOT_FOUND), "{}", known.body);
    assert_eq!(known.body.replace("demo", "X"), unknown.body.replace("nothing", "X"));
    let known = call(&app, "POST", "/api/v1/retention/demo/run", &demo_maint).await;
    assert_eq!(known.status, StatusCode::OK, "its own policy runs: {}", known.body);
    let further = call(&app, "GET", "/api/v1/retention/runs/nothing", &viewer).await;
    assert_eq!(further.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn an_api_token_cannot_make_an_api_token() {
    let app = app().await;
    let token = token(&app, "viewer").await;
    let body = serde_json::json!({ "name": "successor" }).to_string();
    let minted =
        app.send(crate::access::request("POST", "/api/v1/tokens", &token, Some(("application/json", body)))).await;
    assert_eq!(minted.status, StatusCode::FORBIDDEN, "{}", minted.body);
    let listed = call(&app, "GET", "/api/v1/tokens", &token).await.json();
    assert_eq!(listed.as_array().unwrap().len(), 1, "only the token made after signing in: {listed:#}");
}
