//! A canary password (SECURITY S20) never appears in any page, API answer or `Debug` output,
//! not even when the registry rejects it and the error is shown to users.

use std::hash::{BuildHasher as _, Hasher as _};

use ocicat_testkit::DistributionOptions;

use crate::util::{LOCAL, TestApp, registry_source};

/// A password unique to this run.
fn canary(prefix: &str) -> String {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    format!("{prefix}-{:016x}", hasher.finish())
}

#[tokio::test]
async fn the_registry_password_never_reaches_a_response() {
    let password = canary("canary-Pa55");
    let wrong_password = canary("canary-Wr0ng");
    let options = DistributionOptions::basic("crawler", password.clone());
    let app = TestApp::builder().registry(options).build().await;
    // The same registry configured again with a wrong password: its crawl fails and the error is shown.
    let wrong_credentials = Some(("crawler".to_owned(), wrong_password.clone()));
    let wrong = registry_source("wrong", app.registry.url().parse().unwrap(), wrong_credentials);
    let wrong_error = app.crawl_other(&wrong).await.expect_err("a wrong password fails the crawl");
    assert!(wrong_error.contains("authentication failed"), "{wrong_error}");
    assert!(!wrong_error.contains(&wrong_password), "{wrong_error}");

    let image = app.report.tagged("demo/app", "1.0.0").expect("demo/app:1.0.0 is seeded");
    let mut paths = vec![
        "/".to_owned(),
        format!("/r/{LOCAL}"),
        "/r/wrong".to_owned(),
        format!("/r/{LOCAL}/demo/app"),
        format!("/r/{LOCAL}/demo/app/@{}", image.digest),
        "/api/v1/registries".to_owned(),
        format!("/api/v1/registries/{LOCAL}/repositories"),
        format!("/api/v1/registries/{LOCAL}/repositories/demo/app"),
        format!("/api/v1/registries/{LOCAL}/repositories/demo/app/@{}", image.digest),
        "/api/v1/registries/wrong/repositories".to_owned(),
        "/metrics".to_owned(),
        "/no/such/page".to_owned(),
    ];
    paths.extend(app.report.items.iter().map(|item| format!("/r/{LOCAL}/{}/@{}", item.repository, item.digest)));
    let mut saw_wrong_error = false;
    for path in &paths {
        let response = app.get(path).await;
        for secret in [&password, &wrong_password] {
            assert!(!response.body.contains(secret.as_str()), "{path} leaks the password:\n{}", response.body);
            for (name, value) in &response.headers {
                assert!(
                    !value.as_bytes().windows(secret.len()).any(|window| window == secret.as_bytes()),
                    "{path}: header {name}"
                );
            }
        }
        saw_wrong_error |= response.body.contains("authentication failed");
    }
    assert!(saw_wrong_error, "the failed crawl's error is shown somewhere, so the check above meant something");
    for debug in [
        format!("{:?}", app.source.client),
        format!("{:?}", app.source),
        format!("{wrong:?}"),
        format!("{:?}", app.board.snapshot()),
    ] {
        assert!(!debug.contains(&password) && !debug.contains(&wrong_password), "Debug leaks the password: {debug}");
    }
}

/// Collects every formatted log line of the test's thread.
#[derive(Clone, Default)]
struct Capture(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Capture {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn sign_in_passwords_and_api_tokens_never_reach_a_page_an_answer_or_a_log_line() {
    use crate::access::{Credential, access_section, call, make_token, post_login, sign_in};
    let capture = Capture::default();
    let writer = capture.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new("debug"))
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .finish();
    // Global, so the database's worker threads log here too (nextest runs each test in its own
    // process, so this is the first subscriber).
    tracing::subscriber::set_global_default(subscriber).expect("the first subscriber of this test process");

    let password = "correct horse battery staple";
    let wrong = canary("canary-Wr0ngPw");
    let typed_as_name = canary("canary-InNameBox");
    let app = TestApp::builder().access(&access_section(password, "[]"), None).build().await;
    post_login(&app, "viewer", &wrong, None).await;
    post_login(&app, &typed_as_name, password, None).await;
    let cookie = sign_in(&app, "viewer").await;
    let token = make_token(&app, &cookie, "canary").await;

    let image = app.report.tagged("demo/app", "1.0.0").expect("demo/app:1.0.0 is seeded");
    let paths = [
        "/".to_owned(),
        "/tokens".to_owned(),
        "/login?failed=1".to_owned(),
        "/status".to_owned(),
        "/search?q=kind:sbom".to_owned(),
        "/search?q=%22unclosed".to_owned(),
        format!("/r/{LOCAL}"),
        format!("/r/{LOCAL}/demo/app"),
        format!("/r/{LOCAL}/demo/app/@{}", image.digest),
        format!("/r/{LOCAL}/no/such"),
        "/no/such/page".to_owned(),
        "/api/v1/registries".to_owned(),
        "/api/v1/tokens".to_owned(),
        format!("/api/v1/registries/{LOCAL}/repositories/demo/app/@{}", image.digest),
        format!("/api/v1/registries/{LOCAL}/status"),
        "/api/v1/search?q=(".to_owned(),
    ];
    let canaries = [password, wrong.as_str(), typed_as_name.as_str(), token.as_str()];
    let credentials = [Credential::Cookie(cookie), Credential::Bearer(token.clone()), Credential::Visitor];
    for credential in &credentials {
        for path in &paths {
            let response = call(&app, "GET", path, credential).await;
            for secret in canaries {
                assert!(!response.body.contains(secret), "{path} ({credential:?}) shows a secret:\n{}", response.body);
                assert!(
                    response.headers.values().all(|value| !String::from_utf8_lossy(value.as_bytes()).contains(secret)),
                    "{path}: a header holds a secret"
                );
            }
        }
    }
    let logs = String::from_utf8(capture.0.lock().unwrap().clone()).unwrap();
    for event in ["sign-in-failed", "event=\"sign-in\"", "token-created"] {
        assert!(logs.contains(event), "the audit log records {event}, so the capture works:\n{logs}");
    }
    for secret in canaries {
        let leaked: Vec<&str> = logs.lines().filter(|line| line.contains(secret)).collect();
        assert!(leaked.is_empty(), "log lines hold a secret: {leaked:#?}");
    }
}
