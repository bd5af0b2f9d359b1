//! A catalog on two replicas through the change log, on SQLite and a real PostgreSQL: the
//! leader's writes reach both indexes only through the log, facts included; a new leader's
//! delete reaches both (on PostgreSQL woken by the append's announcement, not a poll); the old
//! leader's writer is fenced.

use std::time::Duration;

use chrono::{TimeZone as _, Utc};
use ocicat_catalog::impact::PackageFact;
use ocicat_catalog::{ArtifactDoc, ArtifactKind, Catalog, RepositoryDoc, SearchSort, WriterConfig};
use ocicat_cluster::{ChangeLog, Leases, LogSink, Replicas, Tailer};
use ocicat_sql::Database;

const TTL: Duration = Duration::from_secs(15);

#[tokio::test]
async fn sqlite_replicates_a_catalog() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", directory.path().join("ocicat.db").display());
    replicates_a_catalog(&url, Duration::from_millis(20)).await;
}

#[tokio::test]
async fn postgres_replicates_a_catalog() {
    let postgres = ocicat_testkit::Postgres::start().await.expect("postgres starts");
    // An hour between polls: the running tailer applies the new leader's delete because the
    // append is announced, or the test never ends.
    replicates_a_catalog(&postgres.url(), Duration::from_secs(3_600)).await;
}

fn summary() -> RepositoryDoc {
    RepositoryDoc {
        registry: "prod".into(),
        repository: "app".into(),
        tag_count: 1,
        artifact_count: 2,
        size: 1,
        last_push: None,
        crawled_at: None,
        incomplete: Vec::new(),
    }
}

/// An image tagged 1.0 and its SBOM listing zlib 1.3.
fn documents() -> Vec<ArtifactDoc> {
    let image_digest = format!("sha256:{}", "1".repeat(64));
    let image = ArtifactDoc {
        tags: vec!["1.0".into()],
        kind: ArtifactKind::Image,
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        manifest_size: 2,
        ..ArtifactDoc::new("prod", "app", image_digest.clone())
    };
    let sbom = ArtifactDoc {
        kind: ArtifactKind::Sbom,
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        subject: Some(image_digest.clone()),
        refers_to: Some(image_digest.clone()),
        manifest_size: 2,
        describes: vec![ocicat_catalog::artifact_key("prod", "app", &image_digest)],
        packages: vec![PackageFact {
            name: "zlib".into(),
            version: Some("1.3".into()),
            ecosystem: Some("deb".into()),
            purl: Some("pkg:deb/debian/zlib".into()),
            licenses: vec!["Zlib".into()],
        }],
        ..ArtifactDoc::new("prod", "app", format!("sha256:{}", "2".repeat(64)))
    };
    vec![image, sbom]
}

fn tags_found(catalog: &Catalog, query: &str) -> Vec<String> {
    let found = catalog.search(query, SearchSort::Name, 0, 10, Utc::now()).expect("search runs");
    found.items.iter().map(|item| item.tags.join(",")).collect()
}

async fn replicates_a_catalog(url: &str, idle: Duration) {
    let database = Database::connect(url).await.expect("database connects");
    let log = ChangeLog::open(database.clone()).await.unwrap();
    let (leases, replicas) = (Leases::open(database.clone()).await.unwrap(), Replicas::open(database).await.unwrap());
    let (catalog_a, local_a) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let (catalog_b, local_b) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let tail_a = Tailer::new(log.clone(), replicas.clone(), "replica-a", local_a.clone(), 0);
    let tail_b = Tailer::new(log.clone(), replicas.clone(), "replica-b", local_b.clone(), 0);

    // a leads: its writes go to the log, and reach its own index only through its tailer.
    let lease_a = leases.acquire("leader", "replica-a", TTL).await.unwrap().expect("a leads");
    let writer_a = local_a.through(LogSink::new(log.clone(), "leader", "replica-a", lease_a.epoch, tail_a.applied()));
    writer_a.upsert_repository(summary(), documents(), vec![]).await.unwrap();
    assert!(tags_found(&catalog_a, "pkg:zlib").is_empty(), "not applied yet");
    assert_eq!(tail_a.step().await.unwrap(), 1);
    writer_a.flush().await.expect("applied here: flush returns");
    assert_eq!(tags_found(&catalog_a, "pkg:zlib version < 1.3.1"), ["1.0"]);
    assert!(tags_found(&catalog_b, "pkg:zlib").is_empty());
    assert_eq!(tail_b.step().await.unwrap(), 1);
    assert_eq!(tags_found(&catalog_b, "pkg:zlib version < 1.3.1"), ["1.0"], "b has the facts too");
    assert_eq!(tail_b.step().await.unwrap(), 0, "nothing new");
    // b restarted: its index says how far it got, and it resumes there.
    let position = catalog_b.applied_position().unwrap().expect("committed with the changes");
    assert_eq!(position, *tail_b.applied().borrow());
    let restarted = Tailer::new(log.clone(), replicas.clone(), "replica-b", local_b.clone(), position);
    assert_eq!(restarted.step().await.unwrap(), 0, "nothing replayed");
    drop(restarted);
    let head = log.head().await.unwrap();
    let now = leases.now().await.unwrap();
    let applied: Vec<i64> = replicas.live_at(TTL, now).await.unwrap().iter().map(|r| r.applied).collect();
    assert_eq!(applied, [head, head], "both replicas caught up");

    // a steps down, b leads and removes the SBOM; a's writer is fenced from then on.
    assert!(leases.release("leader", "replica-a").await.unwrap());
    let lease_b = leases.acquire("leader", "replica-b", TTL).await.unwrap().expect("b leads");
    assert_eq!(lease_b.epoch, lease_a.epoch + 1);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let applied_b = tail_b.applied();
    let mut caught_up = tail_b.caught_up();
    let running = tokio::spawn(tail_b.run(idle, stopped));
    // Idle and listening before b writes: what applies the write is the wake-up, not a first step.
    caught_up.wait_for(|up| *up).await.expect("the tailer runs");
    let writer_b = local_b.through(LogSink::new(log.clone(), "leader", "replica-b", lease_b.epoch, applied_b));
    writer_b.remove_artifacts("prod", "app", vec![format!("sha256:{}", "2".repeat(64))]).await.unwrap();
    // A bound to fail rather than hang should the wake-up never come (the poll is an hour away).
    tokio::time::timeout(Duration::from_secs(120), writer_b.flush())
        .await
        .expect("the append woke b's tailer")
        .expect("b's running tailer applies it");
    assert!(tags_found(&catalog_b, "pkg:zlib").is_empty(), "gone on b");
    let refused = writer_a.upsert_repository(summary(), documents(), vec![]).await;
    assert!(format!("{refused:?}").contains("no longer holds the lease"), "{refused:?}");
    assert_eq!(tail_a.step().await.unwrap(), 1, "a applies b's delete, not its own refused write");
    assert!(tags_found(&catalog_a, "pkg:zlib").is_empty(), "gone on a");
    assert_eq!(tags_found(&catalog_a, "repo:app"), ["1.0"], "the image stays");
    stop.send_replace(true);
    running.await.expect("the tailer stops when asked");

    // b attaches a new SBOM (openssl), then writes it again as the crawler carries it (no facts
    // in hand); the log is pruned; a new replica c rebuilds from the current documents alone.
    let mut sbom = documents().remove(1);
    sbom.digest = format!("sha256:{}", "3".repeat(64));
    sbom.packages[0].name = "openssl".into();
    writer_b.upsert_repository(summary(), vec![sbom.clone()], vec![]).await.unwrap();
    let mut carried = sbom;
    carried.packages.clear();
    carried.fact_count = 1;
    writer_b.upsert_repository(summary(), vec![carried], vec![]).await.unwrap();
    writer_b.apply(ocicat_catalog::Change::Checkpoint { checkpoint: checkpoint() }).await.unwrap();
    let head = log.head().await.unwrap();
    log.prune_through(head).await.unwrap();
    assert_eq!((log.after(0, 10).await.unwrap().len(), log.head().await.unwrap()), (0, head), "pruned, head kept");
    let (catalog_c, local_c) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let tail_c = Tailer::new(log.clone(), replicas.clone(), "replica-c", local_c, 0);
    assert!(tail_c.step().await.unwrap() >= 3, "reset, the repository, the checkpoint");
    assert_eq!(*tail_c.applied().borrow(), head);
    assert_eq!(catalog_c.applied_position().unwrap(), Some(head), "the rebuild records its position");
    assert_eq!(tags_found(&catalog_c, "pkg:openssl"), ["1.0"], "facts kept through the carried write");
    assert!(tags_found(&catalog_c, "pkg:zlib").is_empty(), "the removed SBOM stays removed");
    assert_eq!(tags_found(&catalog_c, "repo:app kind:image"), ["1.0"]);
    assert_eq!(catalog_c.checkpoint("prod").unwrap(), Some(checkpoint()));
    assert_eq!(tail_c.step().await.unwrap(), 0, "then it tails");
}

fn checkpoint() -> ocicat_catalog::CrawlCheckpoint {
    ocicat_catalog::CrawlCheckpoint {
        registry: "prod".into(),
        started: Utc.with_ymd_and_hms(2026, 12, 1, 3, 0, 0).unwrap(),
        finished: None,
    }
}

#[tokio::test]
async fn sqlite_concurrent_writes_share_appends_and_all_land() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", directory.path().join("ocicat.db").display());
    concurrent_writes_share_appends_and_all_land(&url).await;
}

#[tokio::test]
async fn postgres_concurrent_writes_share_appends_and_all_land() {
    let postgres = ocicat_testkit::Postgres::start().await.expect("postgres starts");
    concurrent_writes_share_appends_and_all_land(&postgres.url()).await;
}

/// Thirty-two repositories written at once through one leader's sink (grouped into shared
/// transactions): every write is answered, lands once, in its own position, and reaches the index.
async fn concurrent_writes_share_appends_and_all_land(url: &str) {
    let database = Database::connect(url).await.expect("database connects");
    let log = ChangeLog::open(database.clone()).await.unwrap();
    let (leases, replicas) = (Leases::open(database.clone()).await.unwrap(), Replicas::open(database).await.unwrap());
    let (catalog, local) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let tailer = Tailer::new(log.clone(), replicas, "replica-a", local.clone(), 0);
    let epoch = leases.acquire("leader", "replica-a", TTL).await.unwrap().expect("a leads").epoch;
    let writer = local.through(LogSink::new(log.clone(), "leader", "replica-a", epoch, tailer.applied()));
    let writes = (0..32).map(|index| {
        let writer = writer.clone();
        tokio::spawn(async move {
            let repository = RepositoryDoc { repository: format!("app-{index:02}"), ..summary() };
            let mut image = documents().remove(0);
            image.repository = repository.repository.clone();
            writer.upsert_repository(repository, vec![image], vec![]).await
        })
    });
    for write in writes.collect::<Vec<_>>() {
        write.await.unwrap().expect("every write is answered and lands");
    }
    let changes = log.after(0, 100).await.unwrap();
    assert_eq!(changes.len(), 32, "each write once");
    let seqs: Vec<i64> = changes.iter().map(|change| change.seq).collect();
    assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]));
    assert_eq!(tailer.step().await.unwrap(), 32);
    let found = catalog.search("kind:image", SearchSort::Name, 0, 50, Utc::now()).unwrap();
    assert_eq!(found.total, 32, "every repository reached the index");
}
