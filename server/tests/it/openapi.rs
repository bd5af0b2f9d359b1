//! `GET /api/v1/openapi.json` is a valid OpenAPI 3.1 document (checked against the OpenAPI
//! Initiative's schema, `tests/data/openapi-3.1-schema.json`), every route it documents answers
//! on the real router over a real seeded registry with a status it documents, and every route
//! the README lists is in it.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use serde_json::Value;

use crate::access::{Credential, make_token, request, sign_in};
use crate::util::{LOCAL, TestApp, fully_attached_subject};

const PASSWORD: &str = "correct horse battery staple";

fn section() -> String {
    let hash = ocicat_access::hash_password(PASSWORD).expect("hash");
    format!(
        "anonymous = []\n\n[[user]]\nname = \"admin\"\npassword_hash = \"{hash}\"\ngrants = [{{ role = \"admin\", registry = \"*\" }}]\n"
    )
}

const POLICY: &str = "[[retention]]\nname = \"demo\"\nregistry = \"local\"\nrepositories = \"demo/**\"\nkeep_newest = 0\nevery_hours = 0\n";

async fn document(app: &TestApp) -> Value {
    let response = app.get("/api/v1/openapi.json").await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert!(response.content_type().starts_with("application/json"));
    response.json()
}

#[tokio::test]
async fn the_description_is_valid_openapi_3_1() {
    let app = TestApp::builder().unseeded().build().await;
    let document = document(&app).await;
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1."), "{}", document["openapi"]);
    let schema: Value =
        serde_json::from_str(include_str!("../data/openapi-3.1-schema.json")).expect("the OAS schema is JSON");
    let validator = jsonschema::validator_for(&schema).expect("the OAS schema compiles");
    let errors: Vec<String> =
        validator.iter_errors(&document).map(|error| format!("{error} at {}", error.instance_path())).collect();
    assert!(errors.is_empty(), "{}", errors.join("\n"));
    for (name, component) in document["components"]["schemas"].as_object().expect("schemas") {
        assert!(jsonschema::meta::is_valid(component), "schema {name} is not JSON Schema 2020-12: {component:#}");
    }
    let operations = operations(&document);
    assert!(operations.len() >= 30, "{} operations", operations.len());
    for ((method, path), operation) in &operations {
        assert!(operation["summary"].is_string() || operation["description"].is_string(), "{method} {path}");
        assert!(!operation["responses"].as_object().unwrap().is_empty(), "{method} {path}");
    }
}

/// Every (method, path) of the document with its operation.
fn operations(document: &Value) -> BTreeMap<(String, String), Value> {
    let mut found = BTreeMap::new();
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().unwrap() {
            if ["get", "post", "put", "delete", "patch"].contains(&method.as_str()) {
                found.insert((method.to_uppercase(), path.clone()), operation.clone());
            }
        }
    }
    found
}

/// How to call one documented route for real: the path with values, a body, the status.
struct Recipe {
    path: String,
    body: Option<(&'static str, String)>,
    status: StatusCode,
    /// Who calls, when not the admin's API token (an API token cannot make API tokens).
    credential: Option<Credential>,
}

fn recipe(path: impl Into<String>, status: StatusCode) -> Recipe {
    Recipe { path: path.into(), body: None, status, credential: None }
}

#[tokio::test]
async fn every_documented_route_answers_with_a_documented_status() {
    let app = TestApp::builder().access(&section(), None).retention(POLICY).build().await;
    let cookie = sign_in(&app, "admin").await;
    let admin = Credential::Bearer(make_token(&app, &cookie, "openapi").await);
    let document = document(&app).await;

    // Real values from the seed and from earlier calls.
    let subject = fully_attached_subject(&app.report);
    let (repository, digest) = (subject.repository.clone(), subject.digest.clone());
    let artifact = app.catalog.artifact(LOCAL, &repository, &digest).unwrap().expect("indexed");
    let blob = artifact.layers.first().expect("a layer").digest.clone();
    let sbom = app
        .report
        .items
        .iter()
        .find(|item| item.kind == "sbom" && item.subject.as_deref() == Some(digest.as_str()))
        .expect("an sbom of the subject");
    let session = Credential::Cookie(cookie.clone());
    let made = app
        .send(request("POST", "/api/v1/tokens", &session, Some(("application/json", r#"{"name":"x"}"#.into()))))
        .await;
    let token_id = made.json()["token"]["id"].as_str().unwrap().to_owned();
    let plan_body =
        format!(r#"{{"targets":[{{"registry":"{LOCAL}","repository":"{repository}","reference":"{digest}"}}]}}"#);
    let planned =
        app.send(request("POST", "/api/v1/plans", &admin, Some(("application/json", plan_body.clone())))).await;
    let plan_id = planned.json()["plan"]["id"].as_str().unwrap().to_owned();
    let ran = app.send(request("POST", "/api/v1/retention/demo/run?dry_run=true", &admin, None)).await;
    let run_id = ran.json()["id"].as_str().unwrap().to_owned();
    let copy_body = format!(
        r#"{{"source":{{"registry":"{LOCAL}","repository":"{repository}"}},"digest":"{digest}","destination":{{"registry":"{LOCAL}","repository":"promoted/app"}},"tags":["promoted"]}}"#
    );
    let copied =
        app.send(request("POST", "/api/v1/copies", &admin, Some(("application/json", copy_body.clone())))).await;
    let copy = copied.json();
    let (copy_id, copy_fingerprint) =
        (copy["id"].as_str().unwrap().to_owned(), copy["plan"]["fingerprint"].as_str().unwrap().to_owned());

    let chart = app.report.items.iter().find(|item| item.kind == "helm").expect("a seeded chart");
    let module = app.report.items.iter().find(|item| item.kind == "wasm").expect("a seeded module");
    let export_query = format!("registry={LOCAL}&repository={repository}&digest={digest}&tag=exported");
    let api = format!("/api/v1/registries/{LOCAL}/repositories/{repository}");
    let login = format!("username=admin&password={}&next=/", PASSWORD.replace(' ', "+"));
    let recipes: BTreeMap<(&str, &str), Recipe> = BTreeMap::from([
        (("GET", "/api/v1/openapi.json"), recipe("/api/v1/openapi.json", StatusCode::OK)),
        (("GET", "/api/v1/registries"), recipe("/api/v1/registries", StatusCode::OK)),
        (
            ("GET", "/api/v1/registries/{registry}/repositories"),
            recipe(format!("/api/v1/registries/{LOCAL}/repositories?q=demo&sort=name&page=0"), StatusCode::OK),
        ),
        (
            ("GET", "/api/v1/registries/{registry}/status"),
            recipe(format!("/api/v1/registries/{LOCAL}/status"), StatusCode::OK),
        ),
        // The test app runs no crawl tasks, so a refresh finds no queue to join.
        (
            ("POST", "/api/v1/registries/{registry}/refresh"),
            recipe(format!("/api/v1/registries/{LOCAL}/refresh"), StatusCode::NOT_FOUND),
        ),
        (("GET", "/api/v1/registries/{registry}/repositories/{repository}"), recipe(api.clone(), StatusCode::OK)),
        (
            ("GET", "/api/v1/registries/{registry}/repositories/{repository}/-/tags"),
            recipe(format!("{api}/-/tags?sort=semver"), StatusCode::OK),
        ),
        (
            ("GET", "/api/v1/registries/{registry}/repositories/{repository}/@{digest}"),
            recipe(format!("{api}/@{digest}"), StatusCode::OK),
        ),
        (
            ("GET", "/api/v1/registries/{registry}/repositories/{repository}/@{digest}/referrers"),
            recipe(format!("{api}/@{digest}/referrers?order=oldest&top=3"), StatusCode::OK),
        ),
        (
            ("GET", "/api/v1/registries/{registry}/repositories/{repository}/@{digest}/contents"),
            recipe(
                format!("/api/v1/registries/{LOCAL}/repositories/{}/@{}/contents?page=0", sbom.repository, sbom.digest),
                StatusCode::OK,
            ),
        ),
        (
            ("GET", "/api/v1/registries/{registry}/repositories/{repository}/@{digest}/signatures"),
            recipe(format!("{api}/@{digest}/signatures"), StatusCode::OK),
        ),
        (
            ("GET", "/api/v1/registries/{registry}/repositories/{repository}/@{digest}/chart"),
            recipe(
                format!("/api/v1/registries/{LOCAL}/repositories/{}/@{}/chart", chart.repository, chart.digest),
                StatusCode::OK,
            ),
        ),
        (
            ("GET", "/api/v1/registries/{registry}/repositories/{repository}/@{digest}/wasm"),
            recipe(
                format!("/api/v1/registries/{LOCAL}/repositories/{}/@{}/wasm", module.repository, module.digest),
                StatusCode::OK,
            ),
        ),
        (
            ("GET", "/api/v1/registries/{registry}/repositories/{repository}/manifests/{digest}"),
            recipe(format!("{api}/manifests/{digest}"), StatusCode::OK),
        ),
        (
            ("GET", "/api/v1/registries/{registry}/repositories/{repository}/manifests/{digest}/config"),
            recipe(format!("{api}/manifests/{digest}/config"), StatusCode::OK),
        ),
        (("GET", "/api/v1/search"), recipe("/api/v1/search?q=kind:sbom&sort=name", StatusCode::OK)),
        (("GET", "/api/v1/recent"), recipe("/api/v1/recent", StatusCode::OK)),
        (("GET", "/api/v1/impact"), recipe("/api/v1/impact?q=cve:CVE-2024-3094&latest=true", StatusCode::OK)),
        (
            ("GET", "/api/v1/diff"),
            recipe(
                format!("/api/v1/diff?a={LOCAL}/{repository}@{digest}&b={LOCAL}/{repository}@{digest}"),
                StatusCode::OK,
            ),
        ),
        (("GET", "/api/v1/trust"), recipe("/api/v1/trust", StatusCode::OK)),
        (("GET", "/api/v1/me"), recipe("/api/v1/me", StatusCode::OK)),
        (("GET", "/api/v1/tokens"), recipe("/api/v1/tokens", StatusCode::OK)),
        (
            ("POST", "/api/v1/tokens"),
            Recipe {
                path: "/api/v1/tokens".into(),
                body: Some(("application/json", r#"{"name":"y"}"#.into())),
                status: StatusCode::CREATED,
                credential: Some(session.clone()),
            },
        ),
        (("DELETE", "/api/v1/tokens/{id}"), recipe(format!("/api/v1/tokens/{token_id}"), StatusCode::NO_CONTENT)),
        (
            ("POST", "/api/v1/plans"),
            Recipe {
                path: "/api/v1/plans".into(),
                body: Some(("application/json", plan_body)),
                status: StatusCode::CREATED,
                credential: None,
            },
        ),
        (("GET", "/api/v1/plans/{id}"), recipe(format!("/api/v1/plans/{plan_id}"), StatusCode::OK)),
        (
            ("POST", "/api/v1/plans/{id}/execute"),
            recipe(format!("/api/v1/plans/{plan_id}/execute?wait=true"), StatusCode::OK),
        ),
        (
            ("POST", "/api/v1/copies"),
            Recipe {
                path: "/api/v1/copies".into(),
                body: Some(("application/json", copy_body)),
                status: StatusCode::CREATED,
                credential: None,
            },
        ),
        (("GET", "/api/v1/copies/{id}"), recipe(format!("/api/v1/copies/{copy_id}"), StatusCode::OK)),
        (
            ("POST", "/api/v1/copies/{id}/execute"),
            Recipe {
                path: format!("/api/v1/copies/{copy_id}/execute"),
                body: Some(("application/json", format!(r#"{{"fingerprint":"{copy_fingerprint}","wait":true}}"#))),
                status: StatusCode::OK,
                credential: None,
            },
        ),
        (
            ("POST", "/api/v1/imports"),
            Recipe {
                path: format!("/api/v1/imports?registry={LOCAL}&repository=imported/app"),
                body: Some(("application/x-tar", "not a tar archive".to_owned())),
                status: StatusCode::BAD_REQUEST,
                credential: None,
            },
        ),
        (
            ("POST", "/api/v1/registries/{registry}/repositories/{repository}/@{digest}/attachments"),
            Recipe {
                path: format!("{api}/@{digest}/attachments"),
                body: Some(("application/json", r#"{"annotations":{"team":"core"}}"#.to_owned())),
                status: StatusCode::CREATED,
                credential: None,
            },
        ),
        (
            ("POST", "/api/v1/attachments"),
            Recipe {
                path: "/api/v1/attachments".into(),
                body: Some((
                    "application/json",
                    format!(r#"{{"query":"repo:{repository} kind:image","end_of_life":"2030-01-01","dry_run":true}}"#),
                )),
                status: StatusCode::OK,
                credential: None,
            },
        ),
        (("GET", "/api/v1/exports/plan"), recipe(format!("/api/v1/exports/plan?{export_query}"), StatusCode::OK)),
        (
            ("GET", "/api/v1/exports/layout.tar"),
            recipe(format!("/api/v1/exports/layout.tar?{export_query}"), StatusCode::OK),
        ),
        (("GET", "/api/v1/audit"), recipe("/api/v1/audit?format=csv", StatusCode::OK)),
        (("GET", "/api/v1/retention"), recipe("/api/v1/retention", StatusCode::OK)),
        (("POST", "/api/v1/retention/{name}/run"), recipe("/api/v1/retention/demo/run?dry_run=true", StatusCode::OK)),
        (("GET", "/api/v1/retention/runs/{id}"), recipe(format!("/api/v1/retention/runs/{run_id}"), StatusCode::OK)),
        (
            ("GET", "/content/{registry}/{repository}/@{digest}"),
            recipe(format!("/content/{LOCAL}/{repository}/@{digest}"), StatusCode::OK),
        ),
        (
            ("GET", "/content/{registry}/{repository}/@{digest}/blobs/{blob}"),
            recipe(format!("/content/{LOCAL}/{repository}/@{digest}/blobs/{blob}"), StatusCode::OK),
        ),
        (("GET", "/metrics"), recipe("/metrics", StatusCode::OK)),
        // One server on its own: no replicas to show (the cluster test reads them from three).
        (("GET", "/api/v1/replicas"), recipe("/api/v1/replicas", StatusCode::NOT_FOUND)),
        (("GET", "/healthz"), recipe("/healthz", StatusCode::OK)),
        // The test app has no notification secret for any registry.
        (
            ("POST", "/events/{registry}"),
            Recipe {
                path: format!("/events/{LOCAL}"),
                body: Some(("application/json", r#"{"events":[]}"#.into())),
                status: StatusCode::NOT_FOUND,
                credential: None,
            },
        ),
        (
            ("POST", "/auth/login"),
            Recipe {
                path: "/auth/login".into(),
                body: Some(("application/x-www-form-urlencoded", login)),
                status: StatusCode::SEE_OTHER,
                credential: None,
            },
        ),
        (("POST", "/auth/logout"), recipe("/auth/logout", StatusCode::SEE_OTHER)),
    ]);

    let documented = operations(&document);
    let mut wrong = Vec::new();
    for ((method, path), operation) in &documented {
        let Some(recipe) = recipes.get(&(method.as_str(), path.as_str())) else {
            wrong.push(format!("{method} {path}: documented, but this test has no recipe for it"));
            continue;
        };
        // The execution of the plan deletes the subject: run it after everything that reads it.
        if path.ends_with("/execute") {
            continue;
        }
        check(&app, &admin, method, path, operation, recipe, &mut wrong).await;
    }
    let execute = ("POST".to_owned(), "/api/v1/plans/{id}/execute".to_owned());
    check(
        &app,
        &admin,
        &execute.0,
        &execute.1,
        &documented[&execute],
        &recipes[&("POST", "/api/v1/plans/{id}/execute")],
        &mut wrong,
    )
    .await;
    for (method, path) in recipes.keys() {
        if !documented.contains_key(&((*method).to_owned(), (*path).to_owned())) {
            wrong.push(format!("{method} {path}: has a recipe but is not documented"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

async fn check(
    app: &TestApp,
    admin: &Credential,
    method: &str,
    template: &str,
    operation: &Value,
    recipe: &Recipe,
    wrong: &mut Vec<String>,
) {
    let caller = recipe.credential.as_ref().unwrap_or(admin);
    let response = app.send(request(method, &recipe.path, caller, recipe.body.clone())).await;
    let status = response.status;
    if status != recipe.status {
        wrong.push(format!(
            "{method} {template} ({}): {status}, expected {}: {}",
            recipe.path, recipe.status, response.body
        ));
        return;
    }
    if operation["responses"].get(status.as_str()).is_none() {
        wrong.push(format!("{method} {template}: answered {status}, which it does not document"));
    }
    // Errors come from the handler (a JSON error), never from the router's fallback page.
    if (status.is_client_error() || status.is_server_error())
        && serde_json::from_str::<Value>(&response.body)
            .ok()
            .and_then(|body| body["error"].as_str().map(str::to_owned))
            .is_none()
    {
        wrong.push(format!("{method} {template}: {status} without a JSON error: {}", response.body));
    }
}

#[tokio::test]
async fn every_route_the_readme_lists_is_documented() {
    let app = TestApp::builder().unseeded().build().await;
    let documented = operations(&document(&app).await);
    let readme = include_str!("../../../README.md");
    let mut listed = 0;
    // The first cell of a table row: the routes, each in backticks (`\|` is an escaped bar).
    for line in readme.lines().map(str::trim).filter(|line| line.starts_with("| `")) {
        let unescaped = line.replace("\\|", "¦");
        let cell = unescaped.trim_start_matches('|').split('|').next().unwrap_or_default();
        for route in cell.split('`').skip(1).step_by(2) {
            let Some((method, path)) = route.split_once(' ') else { continue };
            if !["GET", "POST", "DELETE", "PUT"].contains(&method) {
                continue;
            }
            let path = path.split('?').next().unwrap_or_default();
            listed += 1;
            assert!(
                documented.contains_key(&(method.to_owned(), path.to_owned())),
                "the README lists {method} {path}, which the OpenAPI description lacks"
            );
        }
    }
    assert!(listed >= 20, "the README's route tables list {listed} routes");
}
