//! S9: `WWW-Authenticate` challenges whose realm is somewhere the credentials must not go,
//! oversized or broken headers, hostile token responses, and the token cache.

use std::time::Instant;

use ocicat_testkit::{Reply, Script};

use super::*;

/// A registry that challenges every request without `Authorization: Bearer good` with `challenge`.
async fn challenging(challenge: String) -> FaultyRegistry {
    let script = Script::dynamic(move |seen| match seen.header("authorization") {
        Some("Bearer good") => Reply::manifest(image_manifest("protected")),
        _ => Reply::new(401).header("www-authenticate", challenge.clone()),
    });
    FaultyRegistry::builder().get("/v2/*", script).start().await.unwrap()
}

fn token_server_reply() -> Script {
    Script::dynamic(|seen| match seen.header("authorization") {
        Some(_) => Reply::token("good"),
        None => Reply::new(401),
    })
}

// S9 (control): a realm on the registry's own loopback host gets the credentials, and the
// token is cached: three fetches cost one token request.
#[tokio::test]
async fn a_realm_next_to_a_loopback_registry_gets_one_token_request_for_many_fetches() {
    let tokens = FaultyRegistry::builder().get("/token", token_server_reply()).start().await.unwrap();
    let registry =
        challenging(format!(r#"Bearer realm="{}/token",service="faulty",scope="repository:x:pull""#, tokens.url()))
            .await;
    let client = client_with(&registry.url(), |config| config.credentials = basic("ci", "canary-pass"));
    for _ in 0..3 {
        client.get_manifest("x", "v1").await.unwrap();
    }
    let token_requests = tokens.requests();
    assert_eq!(token_requests.len(), 1, "{token_requests:?}");
    assert!(token_requests[0].header("authorization").is_some_and(|value| value.starts_with("Basic ")));
    assert!(token_requests[0].query_param("scope").is_some());
}

// S9: a refused token ends in Unauthorized after one retry, without a request loop.
#[tokio::test]
async fn a_token_the_registry_keeps_refusing_ends_in_unauthorized_without_a_loop() {
    let tokens = FaultyRegistry::builder().get("/token", Reply::token("useless")).start().await.unwrap();
    let registry = challenging(format!(r#"Bearer realm="{}/token",service="faulty""#, tokens.url())).await;
    let error = client_for(&registry).get_manifest("x", "v1").await.unwrap_err();
    assert!(matches!(error, OciError::Unauthorized { .. }), "{error}");
    assert_eq!(registry.count(""), 2);
    assert_eq!(tokens.count(""), 1);
}

// S9: for a registry the client treats as public, an http realm on another host is refused and
// the credentials never leave.
#[tokio::test]
async fn a_plain_http_realm_on_another_host_is_refused_for_a_public_registry() {
    let tokens = FaultyRegistry::builder().get("/token", token_server_reply()).start().await.unwrap();
    let registry = challenging(format!(r#"Bearer realm="{}/token",service="faulty""#, tokens.url())).await;
    let client = client_with(&registry.url_via(&aliases(1)[0]), |config| {
        config.credentials = basic("ci", "canary-pass");
    });
    let error = client.get_manifest("x", "v1").await.unwrap_err();
    assert!(matches!(error, OciError::Refused { .. }), "{error}");
    assert_eq!(tokens.connections(), 0);
    assert_eq!(registry.count(""), 1, "a refused realm is not retried");
}

// S9: a realm on a loopback address is refused for a public registry, even over https.
#[tokio::test]
async fn a_realm_on_a_loopback_address_is_refused_for_a_public_registry() {
    let tokens = FaultyRegistry::builder().get("/token", token_server_reply()).start().await.unwrap();
    let registry = challenging(format!(r#"Bearer realm="https://127.0.0.1:{}/token""#, tokens.port())).await;
    let client = client_with(&registry.url_via(&aliases(1)[0]), |config| {
        config.credentials = basic("ci", "canary-pass");
    });
    let error = client.get_manifest("x", "v1").await.unwrap_err();
    assert!(matches!(error, OciError::Refused { .. }), "{error}");
    assert_eq!(tokens.connections(), 0);
}

// S9 (DNS rebinding): an https realm whose name resolves to loopback is never connected to.
#[tokio::test]
async fn a_realm_whose_name_resolves_to_loopback_is_never_contacted() {
    let names = aliases(2);
    let tokens = FaultyRegistry::builder().get("/token", token_server_reply()).start().await.unwrap();
    let registry = challenging(format!(r#"Bearer realm="https://{}:{}/token""#, names[1], tokens.port())).await;
    let client = client_with(&registry.url_via(&names[0]), |config| config.credentials = basic("ci", "canary-pass"));
    let error = client.get_manifest("x", "v1").await.unwrap_err();
    assert!(matches!(&error, OciError::Unreachable { reason, .. } if reason.contains("internal")), "{error}");
    assert_eq!(tokens.connections(), 0);
}

// S9: a registry on loopback may point its realm at loopback helpers, but not at an http host
// elsewhere, which would receive the Basic credentials in clear text.
#[tokio::test]
async fn a_plain_http_realm_on_a_foreign_host_is_refused_even_for_a_loopback_registry() {
    let registry = challenging(r#"Bearer realm="http://evil.invalid/token",service="faulty""#.to_owned()).await;
    let client = client_with(&registry.url(), |config| config.credentials = basic("ci", "canary-pass"));
    let error = client.get_manifest("x", "v1").await.unwrap_err();
    assert!(matches!(error, OciError::Refused { .. }), "{error}");
    assert_eq!(registry.count(""), 1, "a refused realm is not retried");
}

// S9: broken quoting, an unterminated realm or a challenge without one ends in a typed error
// after one request: Refused when the realm is unusable, Unauthorized when no challenge parses.
#[tokio::test]
async fn a_challenge_with_broken_quoting_is_refused_without_panicking() {
    let refused = [r#"Bearer realm="unterminated"#, r#"Bearer realm=,service="x""#, r#"Bearer service="x""#];
    for challenge in refused {
        let registry = challenging(challenge.to_owned()).await;
        let error = client_for(&registry).get_manifest("x", "v1").await.unwrap_err();
        assert!(matches!(error, OciError::Refused { .. }), "{challenge}: {error}");
        assert_eq!(registry.count(""), 1, "{challenge}");
    }
    for challenge in ["Bearer ==,,\"", "=\"\\", ",,,"] {
        let registry = challenging(challenge.to_owned()).await;
        let error = client_for(&registry).get_manifest("x", "v1").await.unwrap_err();
        assert!(matches!(error, OciError::Unauthorized { .. }), "{challenge}: {error}");
        assert_eq!(registry.count(""), 1, "{challenge}");
    }
}

// S9: a 64 KiB WWW-Authenticate header is handled quickly and ends in a typed error.
#[tokio::test]
async fn a_sixty_four_kib_challenge_is_handled_quickly_and_cleanly() {
    let huge = [
        format!("Bearer realm=\"{}\"", "a".repeat(64 << 10)),
        format!("Bearer {}", "x=\"\\\",".repeat((64 << 10) / 6)),
        format!("Basic {}", ",".repeat(64 << 10)),
    ];
    for challenge in huge {
        let registry = challenging(challenge).await;
        let started = Instant::now();
        let error = client_for(&registry).get_manifest("x", "v1").await.unwrap_err();
        assert!(matches!(error, OciError::Refused { .. } | OciError::Unauthorized { .. }), "{error}");
        assert!(started.elapsed() < Duration::from_secs(2), "took {:?}", started.elapsed());
    }
}

// S6/S9: a token response whose token is JSON nested 10,000 deep is an invalid document.
#[tokio::test]
async fn a_token_response_nested_ten_thousand_deep_is_an_invalid_document() {
    let deep = format!(r#"{{"token":{}{}}}"#, "[".repeat(10_000), "]".repeat(10_000));
    let tokens = FaultyRegistry::builder()
        .get("/token", Reply::json(serde_json::Value::Null).bytes(deep))
        .start()
        .await
        .unwrap();
    let registry = challenging(format!(r#"Bearer realm="{}/token""#, tokens.url())).await;
    let error = client_for(&registry).get_manifest("x", "v1").await.unwrap_err();
    assert!(matches!(error, OciError::InvalidDocument { .. }), "{error}");
}

/// A registry whose `odd` repository answers with a Bearer challenge pointing at `realm`, while
/// every other repository takes Basic `ci`/`pass`.
async fn one_odd_repository(realm: String) -> FaultyRegistry {
    let script = Script::dynamic(move |seen| {
        let basic_ok = seen.header("authorization") == Some("Basic Y2k6cGFzcw==");
        if seen.uri().starts_with("/v2/odd/") {
            return Reply::new(401).header("www-authenticate", format!(r#"Bearer realm="{realm}",service="odd""#));
        }
        match basic_ok {
            true => Reply::manifest(image_manifest("fine")),
            false => Reply::new(401).header("www-authenticate", r#"Basic realm="registry""#),
        }
    });
    FaultyRegistry::builder().get("/v2/*", script).start().await.unwrap()
}

// S9, S15: one repository's challenge (a realm that hands out no token) never changes how the
// other repositories of its registry are read, whichever is met first.
#[tokio::test]
async fn one_repositorys_failing_realm_does_not_blind_the_client_to_the_rest() {
    let tokens = FaultyRegistry::builder().get("/token", Reply::json(serde_json::json!({}))).start().await.unwrap();
    for odd_first in [true, false] {
        let registry = one_odd_repository(format!("{}/token", tokens.url())).await;
        let client = client_with(&registry.url(), |config| config.credentials = basic("ci", "pass"));
        if odd_first {
            assert!(client.get_manifest("odd", "v1").await.is_err(), "the odd repository fails");
        }
        for repository in ["good", "other/good", "good"] {
            let fetched = client.get_manifest(repository, "v1").await;
            assert!(fetched.is_ok(), "odd first: {odd_first}, {repository}: {:?}", fetched.err());
        }
        assert!(client.get_manifest("odd", "v1").await.is_err(), "and keeps failing alone");
        assert!(client.get_manifest("good", "v2").await.is_ok(), "after it failed again");
    }
}
