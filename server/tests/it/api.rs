//! The JSON API over a crawled registry: what it lists matches what the seeder pushed, and bad
//! or unknown names get JSON errors with the right status.

use std::collections::BTreeSet;

use axum::http::StatusCode;

use crate::util::{LOCAL, TestApp, is_version_tag, seeded_tags, tag_rows};

#[tokio::test]
async fn registry_list_counts_every_seeded_repository() {
    let app = TestApp::start().await;
    let registries = app.get_json("/api/v1/registries").await;
    let cards = registries.as_array().expect("an array of registries");
    assert_eq!(cards.len(), 1, "{registries:#}");
    let card = &cards[0];
    let repositories = app.report.repositories().len() as u64;
    assert_eq!(card["name"], LOCAL);
    assert_eq!(card["host"], app.registry.host());
    assert_eq!(card["repositories"], repositories, "{card:#}");
    assert_eq!(card["repositories_total"], repositories, "{card:#}");
    assert_eq!(card["repositories_done"], repositories, "{card:#}");
    assert_eq!(card["failures"], 0, "{card:#}");
    let distinct_digests: BTreeSet<(&str, &str)> =
        app.report.items.iter().map(|item| (item.repository.as_str(), item.digest.as_str())).collect();
    assert!(card["artifacts"].as_u64().unwrap() >= distinct_digests.len() as u64, "{card:#}");
    // `crawl_registry` alone leaves the state at "crawling"; only the crawl task sets "idle".
    let board_state = app.board.get(LOCAL).unwrap().state;
    assert_eq!(card["state"], serde_json::to_value(board_state).unwrap());
}

#[tokio::test]
async fn repository_filter_returns_only_matching_names_with_their_total() {
    let app = TestApp::start().await;
    let expected: Vec<String> =
        app.report.repositories().into_iter().filter(|repository| repository.contains("demo")).collect();
    assert!(expected.len() >= 2, "the test data set has several demo repositories: {expected:?}");
    let list = app.get_json(&format!("/api/v1/registries/{LOCAL}/repositories?q=demo")).await;
    let names: Vec<&str> = list["rows"].as_array().unwrap().iter().map(|row| row["name"].as_str().unwrap()).collect();
    assert_eq!(names, expected, "{list:#}");
    assert_eq!(list["total"], expected.len() as u64);
    let everything = app.get_json(&format!("/api/v1/registries/{LOCAL}/repositories")).await;
    assert_eq!(everything["total"], app.report.repositories().len() as u64);
    let nothing = app.get_json(&format!("/api/v1/registries/{LOCAL}/repositories?q=no-such-thing")).await;
    assert_eq!(nothing["total"], 0);
    assert_eq!(nothing["rows"], serde_json::json!([]));
}

#[tokio::test]
async fn repository_json_lists_every_seeded_tag_of_every_repository() {
    let app = TestApp::start().await;
    for repository in app.report.repositories() {
        let expected = seeded_tags(&app.report, &repository);
        let header = app.get_json(&format!("/api/v1/registries/{LOCAL}/repositories/{repository}")).await;
        assert_eq!(header["repository"], repository.as_str());
        assert_eq!(header["tag_count"], expected.len(), "{header:#}");
        let view = app.get_json(&format!("/api/v1/registries/{LOCAL}/repositories/{repository}/-/tags")).await;
        let rows = tag_rows(&view);
        let shown: BTreeSet<String> = rows.keys().cloned().collect();
        assert_eq!(shown, expected, "tags of {repository}: {view:#}");
        for (tag, row) in &rows {
            let seeded = app.report.tagged(&repository, tag).unwrap();
            assert_eq!(row["digest"], seeded.digest.as_str(), "{repository}:{tag}");
            assert_eq!(row["kind"], seeded.kind, "{repository}:{tag}");
        }
    }
}

#[tokio::test]
async fn artifact_json_matches_the_seed_report_and_the_registry() {
    let app = TestApp::start().await;
    let client = app.client();
    for item in &app.report.items {
        let path = format!("/api/v1/registries/{LOCAL}/repositories/{}/@{}", item.repository, item.digest);
        let artifact = app.get_json(&path).await;
        let served = client.get_manifest(&item.repository, &item.digest).await.unwrap();
        assert_eq!(artifact["digest"], item.digest.as_str(), "{path}");
        assert_eq!(artifact["kind"], item.kind, "{path}");
        assert_eq!(artifact["media_type"], served.media_type.as_str(), "{path}");
        assert_eq!(artifact["repository"], item.repository.as_str(), "{path}");
        if let Some(tag) = item.reference.as_deref().filter(|tag| is_version_tag(tag)) {
            let tags: Vec<&str> = artifact["tags"].as_array().unwrap().iter().filter_map(|t| t.as_str()).collect();
            assert!(tags.contains(&tag), "{path} lacks tag {tag}: {tags:?}");
        }
        if ["sbom", "signature", "scan", "lifecycle"].contains(&item.kind) {
            assert_eq!(artifact["subject"]["digest"], item.subject.as_deref().unwrap(), "{path}");
        }
        // The raw manifest is not in the artifact's JSON but at its own address, byte for byte.
        assert!(artifact.get("manifest_json").is_none(), "{path}");
        let raw_path = format!("/api/v1/registries/{LOCAL}/repositories/{}/manifests/{}", item.repository, item.digest);
        let raw = app.get(&raw_path).await;
        assert_eq!(raw.status, StatusCode::OK, "{raw_path}: {}", raw.body);
        assert_eq!(raw.content_type(), "application/json", "{raw_path}");
        assert_eq!(raw.body.as_bytes(), &served.raw[..], "{raw_path} serves the stored bytes");
        assert_eq!(artifact["manifest_size"], served.raw.len(), "{path}");
        // The build history is the config's, step for step; no stored config, no history.
        let config_response = app.get(&format!("{raw_path}/config")).await;
        if config_response.status == StatusCode::OK {
            assert_eq!(config_response.content_type(), "application/json", "{raw_path}/config");
            assert_eq!(artifact["config_size"], config_response.body.len(), "{path}");
            let config = config_response.json();
            let steps = config["history"].as_array().map_or(0, Vec::len);
            assert_eq!(artifact["history"].as_array().unwrap().len(), steps, "{path}");
            if let Some(first) = config["history"].get(0).and_then(|step| step["created_by"].as_str()) {
                assert_eq!(artifact["history"][0]["created_by"], first, "{path}");
            }
            let cmd = config["config"]["Cmd"].as_array().cloned().unwrap_or_default();
            if !cmd.is_empty() {
                assert_eq!(artifact["run_config"]["cmd"], serde_json::Value::from(cmd), "{path}");
            }
        } else {
            assert_eq!(config_response.status, StatusCode::NOT_FOUND, "{raw_path}/config: {}", config_response.body);
            assert!(
                config_response.json()["error"].as_str().unwrap().starts_with("config of"),
                "{}",
                config_response.body
            );
            assert!(artifact["config_size"].is_null() && artifact["run_config"].is_null(), "{path}");
        }
    }
    let mut with_history = 0;
    for item in app.report.items.iter().filter(|item| item.kind == "image") {
        let path = format!("/api/v1/registries/{LOCAL}/repositories/{}/@{}", item.repository, item.digest);
        with_history += usize::from(app.get_json(&path).await["history"].as_array().is_some_and(|s| !s.is_empty()));
    }
    assert!(with_history > 0, "some seeded image has a build history");
}

#[tokio::test]
async fn a_stored_config_is_the_registry_config_blob_byte_for_byte() {
    let app = TestApp::start().await;
    let client = app.client();
    let mut checked = 0;
    for item in app.report.items.iter().filter(|item| item.kind == "image") {
        let served = client.get_manifest(&item.repository, &item.digest).await.unwrap();
        let manifest: serde_json::Value = serde_json::from_slice(&served.raw).unwrap();
        let config_digest: ocicat_oci::Digest = manifest["config"]["digest"].as_str().unwrap().parse().unwrap();
        let blob = client.get_blob(&item.repository, &config_digest).await.unwrap();
        let path =
            format!("/api/v1/registries/{LOCAL}/repositories/{}/manifests/{}/config", item.repository, item.digest);
        let stored = app.get(&path).await;
        assert_eq!(stored.status, StatusCode::OK, "{path}: {}", stored.body);
        assert_eq!(stored.body.as_bytes(), &blob[..], "{path}");
        checked += 1;
    }
    assert!(checked >= 3, "several seeded images: {checked}");
}

#[tokio::test]
async fn raw_documents_of_unknown_or_malformed_digests_are_json_errors() {
    let app = TestApp::start().await;
    let unknown = format!("sha256:{}", "0".repeat(64));
    for suffix in ["", "/config"] {
        let path = format!("/api/v1/registries/{LOCAL}/repositories/demo/app/manifests/{unknown}{suffix}");
        let response = app.get(&path).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}: {}", response.body);
        assert!(response.json()["error"].as_str().unwrap().contains("not found"), "{}", response.body);
        let malformed = format!("/api/v1/registries/{LOCAL}/repositories/demo/app/manifests/sha256:../../x{suffix}");
        let response = app.get(&malformed).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{malformed}: {}", response.body);
        assert!(response.json()["error"].as_str().unwrap().starts_with("invalid request"), "{}", response.body);
    }
    let index = app.report.of_kind("index").next().expect("a seeded index");
    let path =
        format!("/api/v1/registries/{LOCAL}/repositories/{}/manifests/{}/config", index.repository, index.digest);
    let response = app.get(&path).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND, "an index has no config: {}", response.body);
    let unknown_registry = app.get(&format!("/api/v1/registries/nope/repositories/demo/app/manifests/{unknown}")).await;
    assert_eq!(unknown_registry.status, StatusCode::NOT_FOUND, "{}", unknown_registry.body);
}

#[tokio::test]
async fn unknown_digest_is_a_json_404() {
    let app = TestApp::start().await;
    let digest = format!("sha256:{}", "0".repeat(64));
    let response = app.get(&format!("/api/v1/registries/{LOCAL}/repositories/demo/app/@{digest}")).await;
    assert_eq!(response.status, StatusCode::NOT_FOUND, "{}", response.body);
    assert!(response.content_type().starts_with("application/json"), "{}", response.content_type());
    let error = response.json()["error"].as_str().expect("an error message").to_owned();
    assert!(error.contains("not found"), "{error}");
    let missing_repository = app.get(&format!("/api/v1/registries/{LOCAL}/repositories/no/such/repo")).await;
    assert_eq!(missing_repository.status, StatusCode::NOT_FOUND, "{}", missing_repository.body);
    assert!(missing_repository.json()["error"].is_string());
}

#[tokio::test]
async fn malformed_digests_are_rejected_with_400() {
    let app = TestApp::builder().unseeded().build().await;
    let malformed = [
        "sha256:../../x".to_owned(),
        "sha256:../../x%23".to_owned(),
        "md5:d41d8cd98f00b204e9800998ecf8427e".to_owned(),
        format!("sha256:{}", "A".repeat(64)),
        format!("sha256:{}", "a".repeat(63)),
        "sha256:".to_owned(),
    ];
    for digest in malformed {
        let response = app.get(&format!("/api/v1/registries/{LOCAL}/repositories/demo/app/@{digest}")).await;
        assert_eq!(response.status, StatusCode::BAD_REQUEST, "{digest}: {}", response.body);
        let error = response.json()["error"].as_str().expect("an error message").to_owned();
        assert!(error.starts_with("invalid request"), "{digest}: {error}");
    }
}

#[tokio::test]
async fn unknown_registry_is_a_json_404() {
    let app = TestApp::builder().unseeded().build().await;
    let digest = format!("sha256:{}", "0".repeat(64));
    for path in [
        "/api/v1/registries/nope/repositories".to_owned(),
        "/api/v1/registries/nope/repositories/demo/app".to_owned(),
        format!("/api/v1/registries/nope/repositories/demo/app/@{digest}"),
    ] {
        let response = app.get(&path).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}: {}", response.body);
        let error = response.json()["error"].as_str().expect("an error message").to_owned();
        assert!(error.contains("nope"), "{path}: {error}");
    }
}

#[tokio::test]
async fn the_tag_list_pages_every_seeded_tag_in_each_order() {
    let app = TestApp::start().await;
    for repository in app.report.repositories() {
        let expected = seeded_tags(&app.report, &repository);
        let base = format!("/api/v1/registries/{LOCAL}/repositories/{repository}/-/tags");
        let by_name = app.get_json(&format!("{base}?sort=name")).await;
        assert_eq!(by_name["total"], expected.len(), "{repository}: {by_name:#}");
        let names: Vec<String> =
            by_name["rows"].as_array().unwrap().iter().map(|row| row["tag"].as_str().unwrap().to_owned()).collect();
        assert_eq!(names, expected.iter().cloned().collect::<Vec<_>>(), "{repository}: sorted by name");
        for row in by_name["rows"].as_array().unwrap() {
            let seeded = app.report.tagged(&repository, row["tag"].as_str().unwrap()).unwrap();
            assert_eq!(row["digest"], seeded.digest.as_str());
        }
        let newest = app.get_json(&format!("{base}?sort=newest")).await;
        // RFC 3339 in UTC orders like the instants it names.
        let dates: Vec<&str> =
            newest["rows"].as_array().unwrap().iter().filter_map(|row| row["created"].as_str()).collect();
        assert!(dates.windows(2).all(|pair| pair[0] >= pair[1]), "{repository}: newest first {dates:?}");
        let semver = app.get_json(&format!("{base}?sort=semver")).await;
        assert_eq!(semver["total"], by_name["total"]);
    }
    let missing = app.get(&format!("/api/v1/registries/{LOCAL}/repositories/no/such/-/tags")).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_referrers_tree_holds_every_seeded_referrer_with_filters() {
    let app = TestApp::start().await;
    let subject = crate::util::fully_attached_subject(&app.report);
    let base = format!("/api/v1/registries/{LOCAL}/repositories/{}/@{}/referrers", subject.repository, subject.digest);
    let tree = app.get_json(&base).await;
    let direct: BTreeSet<&str> = app
        .report
        .items
        .iter()
        .filter(|item| item.subject.as_deref() == Some(subject.digest.as_str()))
        .map(|item| item.digest.as_str())
        .collect();
    let top: BTreeSet<&str> =
        tree["nodes"].as_array().unwrap().iter().map(|node| node["artifact"]["digest"].as_str().unwrap()).collect();
    assert!(direct.is_subset(&top), "every seeded referrer is in the tree: {direct:?} vs {top:?}");
    // Nested: whatever the seeder attached to a referrer hangs under that referrer.
    for node in tree["nodes"].as_array().unwrap() {
        let digest = node["artifact"]["digest"].as_str().unwrap();
        let nested: BTreeSet<&str> = app
            .report
            .items
            .iter()
            .filter(|item| item.subject.as_deref() == Some(digest))
            .map(|item| item.digest.as_str())
            .collect();
        let shown: BTreeSet<&str> = node["referrers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|child| child["artifact"]["digest"].as_str().unwrap())
            .collect();
        assert_eq!(shown, nested, "referrers of {digest}");
    }
    let sbom =
        app.report.items.iter().find(|item| item.kind == "sbom" && direct.contains(item.digest.as_str())).unwrap();
    let sbom_type = tree["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|node| node["artifact"]["digest"] == sbom.digest.as_str())
        .map(|node| node["artifact"]["artifact_type"].as_str().unwrap().to_owned())
        .unwrap();
    let filtered = app.get_json(&format!("{base}?artifactType={}", sbom_type.replace('+', "%2B"))).await;
    assert!(
        filtered["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|node| node["artifact"]["artifact_type"] == sbom_type.as_str())
    );
    assert!(filtered["total"].as_u64().unwrap() >= 1);
    let first = app.get_json(&format!("{base}?order=oldest&top=1")).await;
    assert_eq!(first["nodes"].as_array().unwrap().len(), 1);
    assert_eq!(first["total"], tree["total"]);
}

#[tokio::test]
async fn recent_pushes_are_the_newest_tagged_artifacts_and_the_home_page_links_them() {
    let app = TestApp::start().await;
    let recent = app.get_json("/api/v1/recent").await;
    let items = recent.as_array().expect("an array of artifacts");
    let tagged: BTreeSet<(&str, &str)> = app
        .report
        .items
        .iter()
        .filter(|item| item.reference.as_deref().is_some_and(is_version_tag))
        .map(|item| (item.repository.as_str(), item.digest.as_str()))
        .collect();
    assert_eq!(items.len(), ocicat_service::RECENT_LIMIT.min(tagged.len()), "{recent:#}");
    for item in items {
        let key = (item["repository"].as_str().unwrap(), item["digest"].as_str().unwrap());
        assert!(tagged.contains(&key), "{key:?} was pushed with a tag");
    }
    let created: Vec<&str> = items.iter().filter_map(|item| item["created"].as_str()).collect();
    assert!(created.windows(2).all(|pair| pair[0] >= pair[1]), "newest first: {created:?}");
    let newest = app.get_json("/api/v1/search?q=tag:*&sort=newest").await;
    assert_eq!(items[0]["digest"], newest["hits"][0]["digest"], "the newest tagged artifact leads");

    let home = app.get_page("/").await;
    assert!(home.contains("Recently built"), "home page has the section");
    let first =
        format!("/r/{LOCAL}/{}/@{}", items[0]["repository"].as_str().unwrap(), items[0]["digest"].as_str().unwrap());
    assert!(home.contains(&format!("href=\"{first}\"")), "home page links {first}");
    assert!(home.contains("id=\"home-search\""), "home page has a search box");
}

#[tokio::test]
async fn last_push_comes_from_the_repository_contents_never_from_the_crawl_clock() {
    let app = TestApp::start().await;
    let list = app.get_json(&format!("/api/v1/registries/{LOCAL}/repositories")).await;
    let rows = list["rows"].as_array().expect("rows");
    assert!(!rows.is_empty(), "{list:#}");
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    for row in rows {
        // The seeder dates every build in 2024; an invented "now" would show today.
        let last_push = row["last_push"].as_str().unwrap_or_default();
        assert!(!last_push.starts_with(&today), "{} has last push {last_push}", row["name"]);
    }
}
