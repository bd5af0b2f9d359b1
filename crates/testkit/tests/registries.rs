//! The harness against real registries: distribution in three auth modes, ferro, and cleanup.

mod support;

use std::time::{Duration, Instant};

use ocicat_testkit::{Distribution, DistributionOptions, Ferro, ResourceAccess, init_tracing_for_tests};
use reqwest::StatusCode;
use support::{
    OCI_MANIFEST, WebhookReceiver, basic_authorization, challenge_of, http_client, list_tags, parameter,
    process_group_of, process_is_alive, push_tiny_image, status_of,
};

#[tokio::test]
async fn anonymous_distribution_accepts_a_push_and_lists_the_tag() -> anyhow::Result<()> {
    init_tracing_for_tests();
    let registry = Distribution::start(DistributionOptions::anonymous()).await?;
    assert_eq!(registry.url(), format!("http://{}", registry.host()));
    assert_eq!(registry.credentials(), None);
    let client = http_client();

    let digest = push_tiny_image(&client, &registry.url(), "demo/app", "v1", None).await?;
    assert_eq!(list_tags(&client, &registry.url(), "demo/app", None).await?, vec!["v1"]);

    let manifest = client
        .get(format!("{}/v2/demo/app/manifests/v1", registry.url()))
        .header("accept", OCI_MANIFEST)
        .send()
        .await?;
    assert_eq!(manifest.status(), StatusCode::OK);
    assert_eq!(manifest.headers()["docker-content-digest"].to_str()?, digest);

    let deleted = client.delete(format!("{}/v2/demo/app/manifests/{digest}", registry.url())).send().await?;
    assert_eq!(deleted.status(), StatusCode::ACCEPTED);
    Ok(())
}

#[tokio::test]
async fn distribution_with_delete_disabled_refuses_deletion() -> anyhow::Result<()> {
    init_tracing_for_tests();
    let registry = Distribution::start(DistributionOptions::anonymous().with_delete_disabled()).await?;
    let client = http_client();
    let digest = push_tiny_image(&client, &registry.url(), "demo/keep", "v1", None).await?;

    let deleted = client.delete(format!("{}/v2/demo/keep/manifests/{digest}", registry.url())).send().await?;
    assert_eq!(deleted.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(list_tags(&client, &registry.url(), "demo/keep", None).await?, vec!["v1"]);
    Ok(())
}

#[tokio::test]
async fn basic_distribution_requires_the_htpasswd_credentials() -> anyhow::Result<()> {
    init_tracing_for_tests();
    let registry = Distribution::start(DistributionOptions::basic("alice", "s3cret")).await?;
    assert_eq!(registry.credentials(), Some(("alice".to_owned(), "s3cret".to_owned())));
    let client = http_client();
    let good = basic_authorization("alice", "s3cret");
    let bad = basic_authorization("alice", "wrong");

    let anonymous = client.get(format!("{}/v2/", registry.url())).send().await?;
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let (scheme, parameters) = challenge_of(&anonymous)?;
    assert_eq!((scheme.as_str(), parameter(&parameters, "realm")?), ("Basic", "basic-realm"));

    let wrong = client.get(format!("{}/v2/", registry.url())).header("authorization", &bad).send().await?;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);

    push_tiny_image(&client, &registry.url(), "team/tool", "1.0", Some(&good)).await?;
    let unauthenticated_tags = client.get(format!("{}/v2/team/tool/tags/list", registry.url())).send().await?;
    assert_eq!(unauthenticated_tags.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(list_tags(&client, &registry.url(), "team/tool", Some(&good)).await?, vec!["1.0"]);
    Ok(())
}

#[tokio::test]
async fn token_distribution_accepts_tokens_from_the_token_server() -> anyhow::Result<()> {
    init_tracing_for_tests();
    let registry = Distribution::start(DistributionOptions::token("bob", "hunter2")).await?;
    let token_server = registry.token_server().expect("token mode starts a token server");
    let client = http_client();

    // Base challenge names the realm and service.
    let base = client.get(format!("{}/v2/", registry.url())).send().await?;
    assert_eq!(base.status(), StatusCode::UNAUTHORIZED);
    let (scheme, base_parameters) = challenge_of(&base)?;
    assert_eq!(scheme, "Bearer");
    let realm = parameter(&base_parameters, "realm")?.to_owned();
    let service = parameter(&base_parameters, "service")?.to_owned();
    assert_eq!((realm.as_str(), service.as_str()), (token_server.realm().as_str(), token_server.service()));

    // An upload challenge carries the push scope.
    let upload = client.post(format!("{}/v2/demo/signed/blobs/uploads/", registry.url())).send().await?;
    assert_eq!(upload.status(), StatusCode::UNAUTHORIZED);
    let (_, upload_parameters) = challenge_of(&upload)?;
    let scope = parameter(&upload_parameters, "scope")?.to_owned();
    // distribution 2.8 lists the challenged actions in map order, so compare sets.
    let mut challenged = ocicat_testkit::parse_scope(&scope).expect("challenge scope parses");
    challenged.actions.sort();
    assert_eq!(
        (challenged.name.as_str(), challenged.actions.as_slice()),
        ("demo/signed", &["pull".to_owned(), "push".to_owned()][..])
    );

    let mut token_url = url::Url::parse(&realm)?;
    token_url.query_pairs_mut().append_pair("service", &service).append_pair("scope", &scope);

    let wrong =
        client.get(token_url.clone()).header("authorization", basic_authorization("bob", "wrong")).send().await?;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(token_server.requests_rejected(), 1);

    // An anonymous token is issued but grants nothing.
    let anonymous: serde_json::Value = client.get(token_url.clone()).send().await?.error_for_status()?.json().await?;
    let anonymous_bearer = format!("Bearer {}", anonymous["token"].as_str().expect("token field"));
    let refused = client
        .post(format!("{}/v2/demo/signed/blobs/uploads/", registry.url()))
        .header("authorization", &anonymous_bearer)
        .send()
        .await?;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let granted: serde_json::Value = client
        .get(token_url)
        .header("authorization", basic_authorization("bob", "hunter2"))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    assert_eq!(granted["expires_in"], 300);
    assert_eq!(granted["token"], granted["access_token"]);
    assert!(chrono::DateTime::parse_from_rfc3339(granted["issued_at"].as_str().unwrap_or_default()).is_ok());
    let bearer = format!("Bearer {}", granted["token"].as_str().expect("token field"));
    push_tiny_image(&client, &registry.url(), "demo/signed", "v1", Some(&bearer)).await?;
    assert_eq!(list_tags(&client, &registry.url(), "demo/signed", Some(&bearer)).await?, vec!["v1"]);
    assert_eq!(token_server.tokens_issued(), 2);
    assert_eq!(token_server.anonymous_tokens_issued(), 1);

    // A token for another repository or an expired one is refused.
    let pull_other = [ResourceAccess {
        resource_type: "repository".to_owned(),
        class: None,
        name: "demo/other".to_owned(),
        actions: vec!["pull".to_owned()],
    }];
    let other = format!("Bearer {}", token_server.mint_token("bob", &pull_other, 300)?);
    let tags_url = format!("{}/v2/demo/signed/tags/list", registry.url());
    assert_eq!(status_of(&client, &tags_url, &other).await?, StatusCode::UNAUTHORIZED);
    let mut pull_signed = pull_other.clone();
    pull_signed[0].name = "demo/signed".to_owned();
    let expired = format!("Bearer {}", token_server.mint_token("bob", &pull_signed, -3600)?);
    assert_eq!(status_of(&client, &tags_url, &expired).await?, StatusCode::UNAUTHORIZED);
    let fresh = format!("Bearer {}", token_server.mint_token("bob", &pull_signed, 300)?);
    assert_eq!(status_of(&client, &tags_url, &fresh).await?, StatusCode::OK);
    Ok(())
}

#[tokio::test]
async fn distribution_posts_push_events_with_the_shared_secret() -> anyhow::Result<()> {
    init_tracing_for_tests();
    let receiver = WebhookReceiver::start().await?;
    let options = DistributionOptions::anonymous().with_notifications(receiver.url(), "hook-secret");
    let registry = Distribution::start(options).await?;
    let digest = push_tiny_image(&http_client(), &registry.url(), "demo/hooked", "v2", None).await?;

    let deadline = Instant::now() + Duration::from_secs(20);
    let (authorization, event) = loop {
        if let Some(found) = receiver.find_event(|event| event["target"]["tag"] == "v2") {
            break found;
        }
        assert!(Instant::now() < deadline, "no manifest push event; log:\n{}", registry.log_tail(30));
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(authorization.as_deref(), Some("Bearer hook-secret"));
    assert_eq!(event["action"], "push");
    assert_eq!(event["target"]["repository"], "demo/hooked");
    assert_eq!(event["target"]["digest"], digest.as_str());
    Ok(())
}

#[tokio::test]
async fn ferro_accepts_a_push_and_serves_referrers() -> anyhow::Result<()> {
    init_tracing_for_tests();
    let registry = Ferro::start().await?;
    assert_eq!(registry.url(), format!("http://{}", registry.host()));
    let client = http_client();

    let base = client.get(format!("{}/v2/", registry.url())).send().await?;
    assert_eq!(base.status(), StatusCode::OK);
    let digest = push_tiny_image(&client, &registry.url(), "demo/ferro", "v1", None).await?;
    push_tiny_image(&client, &registry.url(), "demo/ferro", "v0", None).await?;
    assert_eq!(list_tags(&client, &registry.url(), "demo/ferro", None).await?, vec!["v0", "v1"]);

    let referrers = client.get(format!("{}/v2/demo/ferro/referrers/{digest}", registry.url())).send().await?;
    assert_eq!(referrers.status(), StatusCode::OK);
    let index: serde_json::Value = referrers.json().await?;
    assert_eq!(index["manifests"], serde_json::json!([]));
    Ok(())
}

#[tokio::test]
async fn dropping_a_distribution_kills_its_process() -> anyhow::Result<()> {
    init_tracing_for_tests();
    let registry = Distribution::start(DistributionOptions::token("carol", "pw")).await?;
    let pid = registry.pid();
    let directory = registry.directory().to_path_buf();
    assert!(process_is_alive(pid), "registry pid {pid} should run");
    assert_eq!(process_group_of(pid)?, pid, "registry should lead its own process group");
    let url = registry.url();
    let realm = registry.token_server().expect("token server").realm();

    drop(registry);

    assert!(!process_is_alive(pid), "registry pid {pid} survived drop");
    assert!(!directory.exists(), "tempdir {} survived drop", directory.display());
    let client = http_client();
    assert!(client.get(format!("{url}/v2/")).send().await.is_err(), "registry still answers");
    assert!(client.get(&realm).send().await.is_err(), "token server still answers");
    Ok(())
}

#[tokio::test]
async fn dropping_ferro_kills_its_process() -> anyhow::Result<()> {
    init_tracing_for_tests();
    let registry = Ferro::start().await?;
    let pid = registry.pid();
    assert!(process_is_alive(pid), "ferro pid {pid} should run");
    drop(registry);
    assert!(!process_is_alive(pid), "ferro pid {pid} survived drop");
    Ok(())
}

#[tokio::test]
async fn a_panicking_test_still_stops_its_registry() -> anyhow::Result<()> {
    init_tracing_for_tests();
    let (pid_sender, pid_receiver) = tokio::sync::oneshot::channel();
    let panicking = tokio::spawn(async move {
        let registry = Distribution::start(DistributionOptions::anonymous()).await.expect("registry starts");
        pid_sender.send(registry.pid()).expect("pid is received");
        panic!("simulated test failure");
    });
    let pid = pid_receiver.await?;
    assert!(panicking.await.is_err_and(|error| error.is_panic()));
    assert!(!process_is_alive(pid), "registry pid {pid} survived a panic");
    Ok(())
}
