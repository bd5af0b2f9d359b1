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
