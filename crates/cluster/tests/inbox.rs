//! Changes made on a follower, and crawl requests received by one, on SQLite and a real
//! PostgreSQL: a follower's delete goes through the inbox, lands in the log only when the
//! leader moves it, and its flush returns once the follower's own index holds it; a follower
//! cannot move posts; a post that does not parse is refused (its poster told) without holding
//! up later ones;
//! crawl requests are taken once, in order; the leader's crawl status is read back as published.

use std::time::Duration;

use chrono::Utc;
use ocicat_catalog::{ArtifactDoc, ArtifactKind, Catalog, Change, RepositoryDoc, SearchSort, WriterConfig};
use ocicat_cluster::{
    ChangeLog, ClusterError, CrawlRequest, CrawlRequests, CrawlStatus, Inbox, InboxSink, Landed, Leases, LogSink,
    Replicas, Tailer,
};
use ocicat_sql::Database;

const TTL: Duration = Duration::from_secs(15);

async fn sqlite() -> (tempfile::TempDir, Database) {
    let directory = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", directory.path().join("ocicat.db").display());
    let database = Database::connect(&url).await.expect("database connects");
    (directory, database)
}

#[tokio::test]
async fn sqlite_moves_a_followers_changes_through_the_leader() {
    let (_directory, database) = sqlite().await;
    moves_a_followers_changes_through_the_leader(database).await;
}

#[tokio::test]
async fn postgres_moves_a_followers_changes_through_the_leader() {
    let postgres = ocicat_testkit::Postgres::start().await.expect("postgres starts");
    moves_a_followers_changes_through_the_leader(Database::connect(&postgres.url()).await.unwrap()).await;
}

#[tokio::test]
async fn sqlite_takes_crawl_requests_once_in_order() {
    let (_directory, database) = sqlite().await;
    takes_crawl_requests_once_in_order(database).await;
}

#[tokio::test]
async fn postgres_takes_crawl_requests_once_in_order() {
    let postgres = ocicat_testkit::Postgres::start().await.expect("postgres starts");
    takes_crawl_requests_once_in_order(Database::connect(&postgres.url()).await.unwrap()).await;
}

fn summary() -> RepositoryDoc {
    RepositoryDoc {
        registry: "prod".into(),
        repository: "app".into(),
        tag_count: 2,
        artifact_count: 2,
        size: 1,
        last_push: None,
        crawled_at: None,
        incomplete: Vec::new(),
    }
}

fn image(tag: &str, hex: &str) -> ArtifactDoc {
    ArtifactDoc {
        tags: vec![tag.into()],
        kind: ArtifactKind::Image,
        media_type: "application/vnd.oci.image.manifest.v1+json".into(),
        manifest_size: 2,
        ..ArtifactDoc::new("prod", "app", format!("sha256:{}", hex.repeat(64)))
    }
}

fn tags(catalog: &Catalog) -> Vec<String> {
    let found = catalog.search("repo:app", SearchSort::Name, 0, 10, Utc::now()).expect("search runs");
    let mut tags: Vec<String> = found.items.iter().flat_map(|item| item.tags.clone()).collect();
    tags.sort();
    tags
}

async fn moves_a_followers_changes_through_the_leader(database: Database) {
    let log = ChangeLog::open(database.clone()).await.unwrap();
    let inbox = Inbox::open(database.clone()).await.unwrap();
    let (leases, replicas) = (Leases::open(database.clone()).await.unwrap(), Replicas::open(database).await.unwrap());
    let (catalog_a, local_a) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let (catalog_b, local_b) = ocicat_catalog::open_in_ram(WriterConfig::default()).unwrap();
    let tail_a = Tailer::new(log.clone(), replicas.clone(), "a", local_a.clone(), 0);
    let tail_b = Tailer::new(log.clone(), replicas.clone(), "b", local_b.clone(), 0);
    let epoch = leases.acquire("leader", "a", TTL).await.unwrap().expect("a leads").epoch;
    let leader = local_a.through(LogSink::new(log.clone(), "leader", "a", epoch, tail_a.applied()));
    leader.replace_repository(summary(), vec![image("1.0", "1"), image("2.0", "2")]).await.unwrap();
    tail_a.step().await.unwrap();
    tail_b.step().await.unwrap();
    assert_eq!(tags(&catalog_b), ["1.0", "2.0"]);

    // b deletes 1.0 through the inbox: nothing lands in the log until the leader moves it.
    let head = log.head().await.unwrap();
    let follower = local_b.through(InboxSink::new(inbox.clone(), "b", tail_b.applied()));
    follower.remove_artifacts("prod", "app", vec![format!("sha256:{}", "1".repeat(64))]).await.unwrap();
    assert_eq!((log.head().await.unwrap(), inbox.waiting().await.unwrap()), (head, 1), "posted, not in the log");
    // b is no leader: moving the post is fenced, and it stays posted.
    let fenced = inbox.move_posted(&log, "leader", "b", epoch).await;
    assert!(matches!(fenced, Err(ClusterError::Fenced { .. })), "{fenced:?}");
    assert_eq!(inbox.waiting().await.unwrap(), 1);

    // b's flush returns once its own index holds the delete: the leader moves, b's tailer applies.
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running_b = tokio::spawn(tail_b.run(Duration::from_millis(20), stopped));
    let flushing = tokio::spawn({
        let follower = follower.clone();
        async move { follower.flush().await }
    });
    assert_eq!(inbox.move_posted(&log, "leader", "a", epoch).await.unwrap(), 1);
    tokio::time::timeout(Duration::from_secs(60), flushing)
        .await
        .expect("the flush returns once applied")
        .unwrap()
        .expect("the flush succeeds");
    assert_eq!(tags(&catalog_b), ["2.0"], "b reads its own write when its flush returns");
    assert_eq!(log.head().await.unwrap(), head + 1, "one append, by the leader");
    tail_a.step().await.unwrap();
    assert_eq!(tags(&catalog_a), ["2.0"], "and a has it from the log");

    // A post that does not parse (a replica of another version) is refused; the next one lands.
    let refused = inbox.post("c", "{\"op\":\"no_such_change\"}").await.unwrap();
    let change = Change::RemoveArtifacts {
        registry: "prod".into(),
        repository: "app".into(),
        digests: vec![format!("sha256:{}", "2".repeat(64))],
    };
    inbox.post("c", &serde_json::to_string(&change).unwrap()).await.unwrap();
    assert_eq!(inbox.move_posted(&log, "leader", "a", epoch).await.unwrap(), 2);
    assert_eq!((inbox.waiting().await.unwrap(), log.head().await.unwrap()), (0, head + 2), "one refused, one moved");
    // Its poster learns it was refused (a flush fails rather than pretending it landed).
    assert_eq!(inbox.landed("c", 0, refused).await.unwrap(), Some(Landed::Refused));
    assert_eq!(inbox.landed("c", refused, refused + 1).await.unwrap(), Some(Landed::At(head + 2)));
    tail_a.step().await.unwrap();
    assert!(tags(&catalog_a).is_empty());

    // Moved posts go with the log they landed in.
    log.prune_through(head + 2).await.unwrap();
    assert_eq!(inbox.prune_through(head + 2).await.unwrap(), 3);
    stop.send_replace(true);
    running_b.await.unwrap();
}

async fn takes_crawl_requests_once_in_order(database: Database) {
    let requests = CrawlRequests::open(database.clone()).await.unwrap();
    let request = |registry: &str, body: &str| CrawlRequest { registry: registry.into(), body: body.into() };
    for (registry, body) in [("prod", "first"), ("staging", "second"), ("prod", "third")] {
        assert!(requests.push(&request(registry, body)).await.unwrap());
    }
    let taken = requests.take(2).await.unwrap();
    assert_eq!(taken, [request("prod", "first"), request("staging", "second")]);
    assert_eq!(requests.take(10).await.unwrap(), [request("prod", "third")], "each taken once");
    assert!(requests.take(10).await.unwrap().is_empty());

    let status = CrawlStatus::open(database).await.unwrap();
    status.publish("prod", "{\"state\":\"crawling\"}").await.unwrap();
    status.publish("prod", "{\"state\":\"idle\"}").await.unwrap();
    status.publish("staging", "{\"state\":\"pending\"}").await.unwrap();
    let published = status.read().await.unwrap();
    assert_eq!(
        published,
        [
            ("prod".to_owned(), "{\"state\":\"idle\"}".to_owned()),
            ("staging".to_owned(), "{\"state\":\"pending\"}".to_owned())
        ]
    );
}
