//! The catalog end to end on a real on-disk index: replace, list, filter, sort, reopen.

use chrono::{TimeZone, Utc};
use ocicat_catalog::{ArtifactDoc, RepositoryDoc, RepositorySort, WriterConfig};

fn artifact(repository: &str, digest_seed: u8, tags: &[&str]) -> ArtifactDoc {
    ArtifactDoc {
        registry: "demo".into(),
        repository: repository.into(),
        digest: format!("sha256:{}", format!("{digest_seed:02x}").repeat(32)),
        tags: tags.iter().map(|tag| tag.to_string()).collect(),
        kind: "image".into(),
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        artifact_type: None,
        platforms: vec!["linux/amd64".into()],
        size: 1234,
        created: Some(Utc.with_ymd_and_hms(2024, 1, digest_seed as u32 % 28 + 1, 0, 0, 0).unwrap()),
        subject: None,
        annotations: [("org.opencontainers.image.title".to_string(), "<script>x</script>".to_string())].into(),
        labels: Default::default(),
        config_media_type: None,
        layers: vec![],
        children: vec![],
        manifest_json: "{}".into(),
        config_json: None,
        indexed_at: Utc::now(),
        end_of_life: None,
        referrers_index: false,
        attached: Vec::new(),
        referrers: Default::default(),
        scan_findings: None,
    }
}

fn summary(repository: &str, tag_count: u64, day: u32) -> RepositoryDoc {
    RepositoryDoc {
        registry: "demo".into(),
        repository: repository.into(),
        tag_count,
        artifact_count: tag_count,
        size: 1,
        last_push: Some(Utc.with_ymd_and_hms(2024, 2, day, 0, 0, 0).unwrap()),
        crawled_at: None,
    }
}

#[tokio::test]
async fn replaced_repositories_are_listed_filtered_sorted_and_survive_a_reopen() {
    let directory = tempfile::tempdir().unwrap();
    {
        let (catalog, writer) = ocicat_catalog::open(directory.path(), WriterConfig::default()).unwrap();
        writer
            .replace_repository(
                summary("team/api", 2, 3),
                vec![artifact("team/api", 1, &["v1"]), artifact("team/api", 2, &["v2"])],
            )
            .await
            .unwrap();
        writer.replace_repository(summary("team/web", 5, 1), vec![artifact("team/web", 3, &["latest"])]).await.unwrap();
        writer.replace_repository(summary("base/debian", 1, 9), vec![]).await.unwrap();
        writer.flush().await.unwrap();

        let counts = catalog.registry_counts("demo").unwrap();
        assert_eq!((counts.repositories, counts.artifacts), (3, 3));
        let names =
            |page: ocicat_catalog::RepositoryPage| page.items.into_iter().map(|r| r.repository).collect::<Vec<_>>();
        assert_eq!(
            names(catalog.repositories("demo", "", RepositorySort::Name, 0, 10).unwrap()),
            ["base/debian", "team/api", "team/web"]
        );
        assert_eq!(
            names(catalog.repositories("demo", "", RepositorySort::LastPush, 0, 10).unwrap()),
            ["base/debian", "team/api", "team/web"]
        );
        assert_eq!(
            names(catalog.repositories("demo", "", RepositorySort::TagCount, 0, 2).unwrap()),
            ["team/web", "team/api"]
        );
        let filtered = catalog.repositories("demo", "TEAM/", RepositorySort::Name, 1, 10).unwrap();
        assert_eq!(filtered.total, 2);
        assert_eq!(names(filtered), ["team/web"]);

        // Replacing a repository removes artifacts that disappeared.
        writer
            .replace_repository(summary("team/api", 1, 3), vec![artifact("team/api", 2, &["v2", "latest"])])
            .await
            .unwrap();
        writer.flush().await.unwrap();
        let api = catalog.artifacts_in_repository("demo", "team/api").unwrap();
        assert_eq!(api.len(), 1);
        assert_eq!(api[0].tags, ["v2", "latest"]);
        assert!(catalog.artifact("demo", "team/api", &artifact("team/api", 1, &[]).digest).unwrap().is_none());
        writer.close().await.unwrap();
        assert!(writer.flush().await.is_err(), "a closed writer refuses work");
    }
    let (catalog, _writer) = ocicat_catalog::open(directory.path(), WriterConfig::default()).unwrap();
    let reopened = catalog
        .artifact("demo", "team/api", &artifact("team/api", 2, &[]).digest)
        .unwrap()
        .expect("artifact after reopen");
    assert_eq!(reopened.annotations["org.opencontainers.image.title"], "<script>x</script>");
    assert_eq!(catalog.repository("demo", "team/web").unwrap().unwrap().tag_count, 5);
}

#[tokio::test]
async fn a_different_schema_version_directory_is_removed() {
    let directory = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(directory.path().join("index-v0")).unwrap();
    let _opened = ocicat_catalog::open(directory.path(), WriterConfig::default()).unwrap();
    assert!(!directory.path().join("index-v0").exists());
    assert!(directory.path().join(format!("index-v{}", ocicat_catalog::SCHEMA_VERSION)).exists());
}

#[tokio::test]
async fn dates_outside_what_the_index_can_hold_are_left_out_not_fatal() {
    let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let mut ancient = artifact("old/image", 9, &["v0"]);
    ancient.created = Some(Utc.with_ymd_and_hms(1, 1, 1, 0, 0, 0).unwrap());
    let mut summary = summary("old/image", 1, 1);
    summary.last_push = ancient.created;
    writer.replace_repository(summary, vec![ancient.clone()]).await.unwrap();
    writer.flush().await.unwrap();
    let stored = catalog.artifact("demo", "old/image", &ancient.digest).unwrap().expect("indexed");
    assert_eq!(stored.created, ancient.created);
}
