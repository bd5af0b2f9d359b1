//! Access control through the real router (SECURITY S18, S19, S21): what a viewer of part of
//! one registry sees of it and of another registry (by session, by API token, as an anonymous
//! visitor with grants), sign-in and sign-out, session fixation, cookie flags, idle and absolute
//! expiry, cross-site requests, throttled sign-ins and API tokens.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::Value;

use crate::util::{LOCAL, TestApp, TestResponse};

const MIRROR: &str = "mirror";
const PASSWORD: &str = "correct horse battery staple";

/// A clock the test moves by hand.
#[derive(Debug)]
pub(crate) struct ManualClock(AtomicI64);

impl ManualClock {
    fn start() -> Arc<ManualClock> {
        Arc::new(ManualClock(AtomicI64::new(1_800_000_000)))
    }
    fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl ocicat::auth::Clock for ManualClock {
    fn now(&self) -> i64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// An unseeded app with access control whose time is a [`ManualClock`].
async fn clocked_app() -> (TestApp, Arc<ManualClock>) {
    let clock = ManualClock::start();
    let app = TestApp::builder()
        .unseeded()
        .access(&access_section(PASSWORD, "[]"), Some(clock.clone() as Arc<dyn ocicat::auth::Clock>))
        .build()
        .await;
    (app, clock)
}

/// An `[access]` section: `viewer` sees `demo/**` of [`LOCAL`], `admin` everything, visitors what
/// `anonymous` says.
pub(crate) fn access_section(password: &str, anonymous: &str) -> String {
    let hash = ocicat_access::hash_password(password).expect("hash");
    format!(
        "anonymous = {anonymous}\n\n[[user]]\nname = \"viewer\"\npassword_hash = \"{hash}\"\ngrants = [{{ role = \"viewer\", registry = \"{LOCAL}\", repositories = \"demo/**\" }}]\n\n[[user]]\nname = \"admin\"\npassword_hash = \"{hash}\"\ngrants = [{{ role = \"admin\", registry = \"*\" }}]\n"
    )
}

/// How a request proves who it is.
#[derive(Debug, Clone)]
pub(crate) enum Credential {
    /// Nothing.
    Visitor,
    /// A session cookie (`name=value`).
    Cookie(String),
    /// An API token.
    Bearer(String),
}

/// A request with `credential`; state changes say they come from the same origin.
pub(crate) fn request(
    method: &str,
    path: &str,
    credential: &Credential,
    body: Option<(&str, String)>,
) -> Request<Body> {
    let mut builder = Request::builder().method(method).uri(path).header("sec-fetch-site", "same-origin");
    match credential {
        Credential::Visitor => {}
        Credential::Cookie(cookie) => builder = builder.header(header::COOKIE, cookie),
        Credential::Bearer(token) => builder = builder.header(header::AUTHORIZATION, format!("Bearer {token}")),
    }
    match body {
        Some((content_type, text)) => builder.header(header::CONTENT_TYPE, content_type).body(Body::from(text)),
        None => builder.body(Body::empty()),
    }
    .expect("request builds")
}

pub(crate) async fn call(app: &TestApp, method: &str, path: &str, credential: &Credential) -> TestResponse {
    app.send(request(method, path, credential, None)).await
}

/// Posts the sign-in form; the response (a 303 either way).
pub(crate) async fn post_login(app: &TestApp, user: &str, password: &str, cookie: Option<&str>) -> TestResponse {
    let form = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([("username", user), ("password", password), ("next", "/r/local")])
        .finish();
    let credential = cookie.map_or(Credential::Visitor, |cookie| Credential::Cookie(cookie.to_owned()));
    app.send(request("POST", "/auth/login", &credential, Some(("application/x-www-form-urlencoded", form)))).await
}

/// The `name=value` of the session cookie a response sets.
/// Signs `user` in with `password`: the session cookie, and the session's anti-CSRF token
/// (from `GET /api/v1/me`) that state-changing requests carry.
pub(crate) async fn session_with_csrf(app: &TestApp, user: &str, password: &str) -> (Credential, String) {
    let response = post_login(app, user, password, None).await;
    let credential = Credential::Cookie(session_cookie(&response).expect("signed in"));
    let who = app.send(request("GET", "/api/v1/me", &credential, None)).await;
    (credential, who.json()["csrf"].as_str().expect("a csrf token").to_owned())
}

pub(crate) fn session_cookie(response: &TestResponse) -> Option<String> {
    response
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("__Host-ocicat="))
        .and_then(|value| value.split(';').next())
        .map(str::to_owned)
}

/// Signs in and returns the session cookie.
pub(crate) async fn sign_in(app: &TestApp, user: &str) -> String {
    let response = post_login(app, user, PASSWORD, None).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    assert_eq!(response.headers[header::LOCATION], "/r/local", "back to where the user was going");
    session_cookie(&response).expect("a session cookie")
}

/// Makes an API token as `cookie`'s user; returns its secret.
pub(crate) async fn make_token(app: &TestApp, cookie: &str, name: &str) -> String {
    let body = serde_json::json!({ "name": name }).to_string();
    let credential = Credential::Cookie(cookie.to_owned());
    let response = app.send(request("POST", "/api/v1/tokens", &credential, Some(("application/json", body)))).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    response.json()["secret"].as_str().expect("secret").to_owned()
}

fn is_visible(registry: &str, repository: &str) -> bool {
    registry == LOCAL && repository.starts_with("demo/")
}

/// Everything `credential` reaches is `demo/**` of [`LOCAL`]: listings, counts, search results
/// and facets, and every URL of everything else (guessed from the seed) is a 404.
async fn sees_only_demo_of_local(app: &TestApp, credential: &Credential) {
    let demo: Vec<String> = app.report.repositories().into_iter().filter(|name| name.starts_with("demo/")).collect();
    assert!(!demo.is_empty() && demo.len() < app.report.repositories().len(), "the seed has both kinds");
    let cards = call(app, "GET", "/api/v1/registries", credential).await.json();
    let names: Vec<&str> = cards.as_array().unwrap().iter().map(|card| card["name"].as_str().unwrap()).collect();
    assert_eq!(names, [LOCAL], "{cards:#}");
    assert_eq!(cards[0]["repositories"], demo.len() as u64, "counts only what may be seen");
    assert_eq!(cards[0]["last_error"], Value::Null);
    assert_eq!(cards[0]["can_refresh"], false);
    let listed = call(app, "GET", &format!("/api/v1/registries/{LOCAL}/repositories"), credential).await.json();
    let rows: Vec<&str> = listed["rows"].as_array().unwrap().iter().map(|row| row["name"].as_str().unwrap()).collect();
    assert_eq!(rows, demo, "{listed:#}");
    assert_eq!(listed["total"], demo.len() as u64);

    let search = call(app, "GET", "/api/v1/search?q=", credential).await.json();
    let open_total =
        app.catalog.search("", ocicat_catalog::SearchSort::Newest, 0, 1, chrono::Utc::now()).unwrap().total;
    let total = search["total"].as_u64().unwrap();
    assert!(total > 0 && total < open_total, "scoped total {total} of {open_total}");
    for hit in search["hits"].as_array().unwrap() {
        assert!(is_visible(hit["registry"].as_str().unwrap(), hit["repository"].as_str().unwrap()), "{hit:#}");
    }
    for group in search["facets"].as_array().unwrap() {
        for value in group["values"].as_array().unwrap() {
            let shown = value[0].as_str().unwrap();
            match group["field"].as_str().unwrap() {
                "registry" => assert_eq!(shown, LOCAL),
                "repo" => assert!(shown.starts_with("demo/"), "facet {shown}"),
                _ => {}
            }
        }
    }
    let mirrored = call(app, "GET", &format!("/api/v1/search?q=registry:{MIRROR}"), credential).await.json();
    assert_eq!(mirrored["total"], 0, "{mirrored:#}");
    for hit in call(app, "GET", "/api/v1/recent", credential).await.json().as_array().unwrap() {
        assert!(is_visible(hit["registry"].as_str().unwrap(), hit["repository"].as_str().unwrap()), "{hit:#}");
    }

    for registry in [LOCAL, MIRROR] {
        for item in &app.report.items {
            let (repository, digest) = (&item.repository, &item.digest);
            let expected = if is_visible(registry, repository) { StatusCode::OK } else { StatusCode::NOT_FOUND };
            let api = format!("/api/v1/registries/{registry}/repositories/{repository}");
            let mut paths = vec![
                format!("{api}/@{digest}"),
                format!("{api}/@{digest}/referrers"),
                format!("{api}/manifests/{digest}"),
                format!("/r/{registry}/{repository}/@{digest}"),
                format!("/content/{registry}/{repository}/@{digest}"),
            ];
            if let Some(tag) = item.reference.as_ref().filter(|tag| crate::util::is_version_tag(tag)) {
                paths.push(format!("/r/{registry}/{repository}:{tag}"));
                paths.push(format!("{api}/-/tags"));
                paths.push(format!("/r/{registry}/{repository}"));
            }
            for path in paths {
                let response = call(app, "GET", &path, credential).await;
                assert_eq!(response.status, expected, "GET {path}: {}", response.body);
            }
        }
    }
    let mirror_page = call(app, "GET", &format!("/r/{MIRROR}"), credential).await;
    assert_eq!(mirror_page.status, StatusCode::NOT_FOUND);
    for (method, path, status) in [
        ("POST", format!("/api/v1/registries/{LOCAL}/refresh"), StatusCode::FORBIDDEN),
        ("POST", format!("/api/v1/registries/{MIRROR}/refresh"), StatusCode::NOT_FOUND),
        ("GET", format!("/api/v1/registries/{LOCAL}/status"), StatusCode::FORBIDDEN),
        ("GET", format!("/api/v1/registries/{MIRROR}/status"), StatusCode::NOT_FOUND),
        ("GET", "/metrics".to_owned(), StatusCode::NOT_FOUND),
    ] {
        let response = call(app, method, &path, credential).await;
        assert_eq!(response.status, status, "{method} {path}: {}", response.body);
    }
}

#[tokio::test]
async fn a_viewer_of_part_of_one_registry_sees_nothing_else_by_session_or_token() {
    let app = TestApp::builder().mirrored_as(MIRROR).access(&access_section(PASSWORD, "[]"), None).build().await;
    let cookie = sign_in(&app, "viewer").await;
    sees_only_demo_of_local(&app, &Credential::Cookie(cookie.clone())).await;
    let token = make_token(&app, &cookie, "ci").await;
    sees_only_demo_of_local(&app, &Credential::Bearer(token)).await;
    // An administrator sees both registries whole, and may start crawls.
    let admin = Credential::Cookie(sign_in(&app, "admin").await);
    let cards = call(&app, "GET", "/api/v1/registries", &admin).await.json();
    assert_eq!(cards.as_array().unwrap().len(), 2, "{cards:#}");
    assert!(cards.as_array().unwrap().iter().all(|card| card["can_refresh"] == true && card["internals"] == true));
    let status = call(&app, "GET", &format!("/api/v1/registries/{MIRROR}/status"), &admin).await;
    assert_eq!(status.status, StatusCode::OK, "{}", status.body);
}

#[tokio::test]
async fn anonymous_grants_let_visitors_read_only_what_they_name() {
    let anonymous = format!("[{{ role = \"viewer\", registry = \"{LOCAL}\", repositories = \"demo/**\" }}]");
    let app = TestApp::builder().mirrored_as(MIRROR).access(&access_section(PASSWORD, &anonymous), None).build().await;
    sees_only_demo_of_local(&app, &Credential::Visitor).await;
    let tokens = call(&app, "GET", "/api/v1/tokens", &Credential::Visitor).await;
    assert_eq!(tokens.status, StatusCode::UNAUTHORIZED, "tokens belong to signed-in users");
}

#[tokio::test]
async fn visitors_without_grants_are_sent_to_sign_in() {
    let app = TestApp::builder().access(&access_section(PASSWORD, "[]"), None).build().await;
    let home = call(&app, "GET", "/r/local/demo/app?page=2", &Credential::Visitor).await;
    assert_eq!(home.status, StatusCode::SEE_OTHER);
    assert_eq!(home.headers[header::LOCATION], "/login?next=%2Fr%2Flocal%2Fdemo%2Fapp%3Fpage%3D2");
    for path in ["/api/v1/registries", "/api/v1/search?q=", "/metrics"] {
        let response = call(&app, "GET", path, &Credential::Visitor).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(response.headers[header::WWW_AUTHENTICATE], "Bearer realm=\"ocicat\"");
    }
    let login = call(&app, "GET", "/login", &Credential::Visitor).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains("action=\"/auth/login\""), "{}", login.body);
    for wrong in ["ocicat_wrong", "not-a-token", ""] {
        let response = call(&app, "GET", "/api/v1/registries", &Credential::Bearer(wrong.to_owned())).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{wrong:?}");
    }
}

#[tokio::test]
async fn sign_in_issues_a_fresh_hardened_cookie_and_sign_out_ends_the_session() {
    let app = TestApp::builder().unseeded().access(&access_section(PASSWORD, "[]"), None).build().await;
    let response = post_login(&app, "viewer", PASSWORD, None).await;
    let set_cookie = response.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    for flag in ["__Host-ocicat=", "Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(flag), "{flag} missing: {set_cookie}");
    }
    assert!(!set_cookie.to_ascii_lowercase().contains("domain="), "{set_cookie}");
    let first = session_cookie(&response).unwrap();
    // Fixation: whatever session the browser had before, signing in gives it a new id, and
    // the old id is worth nothing afterwards.
    let second_response = post_login(&app, "admin", PASSWORD, Some(&first)).await;
    let second = session_cookie(&second_response).expect("a new cookie at sign-in");
    assert_ne!(first, second);
    let old = call(&app, "GET", "/api/v1/registries", &Credential::Cookie(first)).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED, "the pre-sign-in id was replaced: {}", old.body);
    let current = Credential::Cookie(second.clone());
    assert_eq!(call(&app, "GET", "/api/v1/registries", &current).await.status, StatusCode::OK);
    // Sign-out is a POST (a GET changes nothing) and deletes the session on the server.
    assert_eq!(call(&app, "GET", "/auth/logout", &current).await.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(call(&app, "GET", "/api/v1/registries", &current).await.status, StatusCode::OK);
    let out = call(&app, "POST", "/auth/logout", &current).await;
    assert_eq!(out.status, StatusCode::SEE_OTHER);
    let replayed = call(&app, "GET", "/api/v1/registries", &current).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED, "a copied cookie is dead after sign-out");
}

#[tokio::test]
async fn sessions_and_tokens_survive_a_restart() {
    let app = TestApp::builder().unseeded().access(&access_section(PASSWORD, "[]"), None).build().await;
    survives_a_restart(app).await;
}

#[tokio::test]
async fn sessions_and_tokens_live_in_postgresql_for_several_replicas() {
    let postgres = ocicat_testkit::Postgres::start().await.expect("postgres starts");
    let app = TestApp::builder()
        .unseeded()
        .access(&access_section(PASSWORD, "[]"), None)
        .access_database(postgres.url())
        .build()
        .await;
    survives_a_restart(app).await;
}

/// Signs in and makes a token, restarts `app` (a new router, like another replica) and checks both still work.
async fn survives_a_restart(mut app: TestApp) {
    let cookie = sign_in(&app, "viewer").await;
    let session = Credential::Cookie(cookie.clone());
    let token = Credential::Bearer(make_token(&app, &cookie, "ci").await);
    app.restart().await;
    for credential in [&session, &token] {
        let response = call(&app, "GET", "/api/v1/registries", credential).await;
        assert_eq!(response.status, StatusCode::OK, "{credential:?} after a restart: {}", response.body);
    }
}

#[tokio::test]
async fn idle_and_absolute_timeouts_end_sessions() {
    let (app, clock) = clocked_app().await;
    let app = &app;
    let signed_in = |cookie: &str| {
        let credential = Credential::Cookie(cookie.to_owned());
        async move { call(app, "GET", "/api/v1/registries", &credential).await.status == StatusCode::OK }
    };
    let idle = sign_in(app, "viewer").await;
    clock.advance(29 * 60);
    assert!(signed_in(&idle).await, "29 idle minutes are fine");
    clock.advance(30 * 60 + 1);
    assert!(!signed_in(&idle).await, "30 idle minutes end the session");
    assert!(!signed_in(&idle).await, "and it stays ended");

    let busy = sign_in(app, "viewer").await;
    for _ in 0..16 {
        clock.advance(30 * 60);
        assert!(signed_in(&busy).await, "a busy session lives up to 8 hours");
    }
    clock.advance(60);
    assert!(!signed_in(&busy).await, "8 hours after sign-in the session ends, busy or not");
}

#[tokio::test]
async fn cross_site_state_changes_are_refused() {
    let app = TestApp::builder().access(&access_section(PASSWORD, "[]"), None).build().await;
    let cookie = sign_in(&app, "admin").await;
    let refresh = format!("/api/v1/registries/{LOCAL}/refresh");
    let cross_site = [
        vec![("sec-fetch-site", "cross-site")],
        vec![("sec-fetch-site", "same-site")],
        vec![("origin", "https://evil.test"), ("host", "127.0.0.1:3000")],
        vec![("origin", "null"), ("host", "127.0.0.1:3000")],
        vec![],
    ];
    for headers in cross_site {
        for (method, path) in [("POST", refresh.as_str()), ("POST", "/auth/logout"), ("POST", "/api/v1/tokens")] {
            let mut builder = Request::builder().method(method).uri(path).header(header::COOKIE, &cookie);
            for (name, value) in &headers {
                builder = builder.header(*name, *value);
            }
            let response = app.send(builder.body(Body::empty()).unwrap()).await;
            assert_eq!(response.status, StatusCode::FORBIDDEN, "{method} {path} with {headers:?}: {}", response.body);
        }
    }
    let same_origin = Request::builder()
        .method("POST")
        .uri(&refresh)
        .header(header::COOKIE, &cookie)
        .header("origin", "http://127.0.0.1:3000")
        .header("host", "127.0.0.1:3000")
        .body(Body::empty())
        .unwrap();
    let accepted = app.send(same_origin).await;
    // Past the guard (this test app runs no crawler, so the crawl itself is not found).
    assert_eq!(accepted.status, StatusCode::NOT_FOUND, "{}", accepted.body);
    assert!(accepted.body.contains("registry"), "{}", accepted.body);
    // The session survived every refused sign-out.
    assert_eq!(call(&app, "GET", "/api/v1/registries", &Credential::Cookie(cookie)).await.status, StatusCode::OK);
    let admin = Credential::Cookie(sign_in(&app, "admin").await);
    assert_eq!(call(&app, "GET", &refresh, &admin).await.status, StatusCode::METHOD_NOT_ALLOWED, "no change on GET");
}

#[tokio::test]
async fn repeated_failures_lock_a_user_out_with_the_same_message() {
    let (app, clock) = clocked_app().await;
    for attempt in 0..6 {
        let response = post_login(&app, "viewer", "wrong password", None).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER);
        assert!(response.headers[header::LOCATION].to_str().unwrap().starts_with("/login?failed=1"), "{attempt}");
        assert!(session_cookie(&response).is_none(), "no session for a failure");
    }
    let locked = post_login(&app, "viewer", PASSWORD, None).await;
    assert!(session_cookie(&locked).is_none(), "the right password waits out the lockout");
    assert!(locked.headers[header::LOCATION].to_str().unwrap().starts_with("/login?failed=1"));
    let unknown = post_login(&app, "nobody", PASSWORD, None).await;
    assert_eq!(unknown.headers[header::LOCATION], locked.headers[header::LOCATION], "one message for every cause");
    sign_in(&app, "admin").await;
    // The first lockout lasts a second; the next failure doubles it.
    clock.advance(2);
    assert!(session_cookie(&post_login(&app, "viewer", "wrong again", None).await).is_none());
    clock.advance(1);
    assert!(session_cookie(&post_login(&app, "viewer", PASSWORD, None).await).is_none(), "2 s this time");
    clock.advance(2);
    sign_in(&app, "viewer").await;
}

#[tokio::test]
async fn api_tokens_are_shown_once_listed_without_secrets_and_revocable() {
    let app = TestApp::builder().unseeded().access(&access_section(PASSWORD, "[]"), None).build().await;
    let cookie = sign_in(&app, "viewer").await;
    let secret = make_token(&app, &cookie, "deploys").await;
    let bearer = Credential::Bearer(secret.clone());
    assert_eq!(call(&app, "GET", "/api/v1/registries", &bearer).await.status, StatusCode::OK);
    let listed = call(&app, "GET", "/api/v1/tokens", &Credential::Cookie(cookie.clone())).await;
    assert!(!listed.body.contains(&secret), "{}", listed.body);
    let rows = listed.json();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["name"], "deploys");
    assert!(rows[0]["last_used"].is_string(), "{rows:#}");
    let id = rows[0]["id"].as_str().unwrap().to_owned();
    // Only its owner can revoke it.
    let admin = Credential::Cookie(sign_in(&app, "admin").await);
    assert_eq!(call(&app, "DELETE", &format!("/api/v1/tokens/{id}"), &admin).await.status, StatusCode::NOT_FOUND);
    let revoked = call(&app, "DELETE", &format!("/api/v1/tokens/{id}"), &Credential::Cookie(cookie)).await;
    assert_eq!(revoked.status, StatusCode::NO_CONTENT, "{}", revoked.body);
    assert_eq!(call(&app, "GET", "/api/v1/registries", &bearer).await.status, StatusCode::UNAUTHORIZED);
}
