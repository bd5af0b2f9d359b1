//! Leases and the replica registry on SQLite and on a real PostgreSQL: one test body for both.
//! Times are passed in (`*_at`) so expiry is driven, not waited for; one check reads the
//! database's own clock.

use std::time::Duration;

use ocicat_cluster::{ClusterError, Leases, Replicas};
use ocicat_sql::Database;

const TTL: Duration = Duration::from_secs(15);
const T0: i64 = 1_800_000_000_000;

#[tokio::test]
async fn sqlite_leases_and_replicas() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", directory.path().join("ocicat.db").display());
    leases_and_replicas(&url).await;
}

#[tokio::test]
async fn postgres_leases_and_replicas() {
    let postgres = ocicat_testkit::Postgres::start().await.expect("postgres starts");
    leases_and_replicas(&postgres.url()).await;
}

async fn leases_and_replicas(url: &str) {
    let database = Database::connect(url).await.expect("database connects");
    let leases = Leases::open(database.clone()).await.expect("leases open");
    let leases = {
        drop(leases);
        Leases::open(database.clone()).await.expect("opening twice is harmless")
    };
    one_holder_at_a_time_and_takeover_after_the_ttl(&leases).await;
    exactly_one_of_many_racing_replicas_wins(&leases).await;
    the_database_clock_decides(&leases).await;
    let replicas = Replicas::open(database.clone()).await.expect("replicas open");
    replicas_are_live_while_they_beat(&replicas).await;
    assert!(matches!(leases.acquire_at("leader", "", TTL, T0).await, Err(ClusterError::BadName(_))));
    assert!(matches!(leases.acquire_at("lea\nder", "a", TTL, T0).await, Err(ClusterError::BadName(_))));
}

async fn one_holder_at_a_time_and_takeover_after_the_ttl(leases: &Leases) {
    let a = leases.acquire_at("leader", "replica-a", TTL, T0).await.unwrap().expect("a takes a free lease");
    assert_eq!((a.epoch, a.acquired_at, a.expires_at), (1, T0, T0 + 15_000));
    assert_eq!(leases.acquire_at("leader", "replica-b", TTL, T0 + 1_000).await.unwrap(), None, "b waits");
    let renewed = leases.acquire_at("leader", "replica-a", TTL, T0 + 5_000).await.unwrap().expect("a renews");
    assert_eq!((renewed.epoch, renewed.acquired_at, renewed.expires_at), (1, T0, T0 + 20_000));
    // a stops renewing: b waits out the whole TTL from a's last renewal, then takes over.
    assert_eq!(leases.acquire_at("leader", "replica-b", TTL, T0 + 19_999).await.unwrap(), None);
    let b = leases.acquire_at("leader", "replica-b", TTL, T0 + 20_000).await.unwrap().expect("b takes over");
    assert_eq!((b.epoch, b.acquired_at), (2, T0 + 20_000), "a new holder, a new fencing epoch");
    assert_eq!(leases.acquire_at("leader", "replica-a", TTL, T0 + 21_000).await.unwrap(), None, "a lost it");
    assert!(!leases.release("leader", "replica-a").await.unwrap(), "only the holder releases");
    assert!(leases.release("leader", "replica-b").await.unwrap());
    let again = leases.acquire_at("leader", "replica-a", TTL, T0 + 22_000).await.unwrap().expect("released");
    assert_eq!(again.epoch, 3);
    assert_eq!(leases.current("leader").await.unwrap(), Some(again.clone()));
    // a lets it lapse and takes it again: a new epoch all the same (a restarted process of the
    // same name must not share a fencing token with the one it replaces).
    let lapsed = leases.acquire_at("leader", "replica-a", TTL, T0 + 37_000).await.unwrap().unwrap();
    assert_eq!((lapsed.epoch, lapsed.acquired_at), (again.epoch + 1, T0 + 37_000));
    assert_eq!(leases.current("never-taken").await.unwrap(), None);
    // Leases are independent of each other.
    assert!(leases.acquire_at("retention", "replica-b", TTL, T0 + 22_000).await.unwrap().is_some());
}

async fn exactly_one_of_many_racing_replicas_wins(leases: &Leases) {
    let racers = (0..8).map(|number| {
        let leases = leases.clone();
        tokio::spawn(async move { leases.acquire_at("race", &format!("racer-{number}"), TTL, T0).await })
    });
    let mut winners = Vec::new();
    for racer in racers {
        if let Some(lease) = racer.await.expect("racer ran").expect("no database error") {
            winners.push(lease);
        }
    }
    assert_eq!(winners.len(), 1, "{winners:?}");
    assert_eq!(winners[0].epoch, 1);
}

async fn the_database_clock_decides(leases: &Leases) {
    let now = leases.now().await.unwrap();
    let local = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
    assert!((now - local).abs() < 60_000, "the database's clock in ms: {now} vs {local}");
    let taken = leases.acquire("clocked", "replica-a", TTL).await.unwrap().expect("free");
    assert!(taken.expires_at - taken.acquired_at == 15_000 && taken.acquired_at >= now, "{taken:?}");
    assert_eq!(leases.acquire("clocked", "replica-b", TTL).await.unwrap(), None, "15 s have not passed");
}

async fn replicas_are_live_while_they_beat(replicas: &Replicas) {
    replicas.heartbeat_at("replica-a", 40, T0).await.unwrap();
    replicas.heartbeat_at("replica-b", 35, T0 + 1_000).await.unwrap();
    replicas.heartbeat_at("replica-a", 42, T0 + 2_000).await.unwrap();
    let live = replicas.live_at(TTL, T0 + 3_000).await.unwrap();
    let names: Vec<(&str, i64, i64)> = live.iter().map(|r| (r.name.as_str(), r.applied, r.started_at)).collect();
    assert_eq!(names, [("replica-a", 42, T0), ("replica-b", 35, T0 + 1_000)], "first heartbeat kept as start");
    assert_eq!(replicas.applied_by_all_at(TTL, T0 + 3_000).await.unwrap(), Some(35), "the log below 35 may go");
    // b falls silent: it no longer holds the log back, and is forgotten later.
    replicas.heartbeat_at("replica-a", 50, T0 + 17_000).await.unwrap();
    assert_eq!(replicas.applied_by_all_at(TTL, T0 + 17_000).await.unwrap(), Some(50));
    assert_eq!(replicas.forget_silent_at(Duration::from_secs(60), T0 + 62_000).await.unwrap(), 1);
    assert_eq!(replicas.live_at(Duration::from_secs(3_600), T0 + 62_000).await.unwrap().len(), 1);
    assert_eq!(replicas.applied_by_all_at(TTL, T0 + 600_000).await.unwrap(), None, "nobody live");
    replicas.heartbeat("replica-c", 7).await.unwrap();
}

#[tokio::test]
async fn sqlite_change_log() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", directory.path().join("ocicat.db").display());
    change_log(&url).await;
}

#[tokio::test]
async fn postgres_change_log() {
    let postgres = ocicat_testkit::Postgres::start().await.expect("postgres starts");
    change_log(&postgres.url()).await;
}

/// Only the epoch holding the lease appends; readers tail in order; pruning keeps what is newer.
async fn change_log(url: &str) {
    let database = Database::connect(url).await.expect("database connects");
    let log = ocicat_cluster::ChangeLog::open(database.clone()).await.expect("log opens");
    let leases = Leases::open(database).await.expect("leases open");
    assert_eq!(log.head().await.unwrap(), 0, "an empty log");
    let a = leases.acquire_at("leader", "replica-a", TTL, T0).await.unwrap().unwrap();
    let bodies = |names: &[&str]| names.iter().map(|name| (*name).to_owned()).collect::<Vec<_>>();
    let first = log.append("leader", "replica-a", a.epoch, &bodies(&["one", "two", "three"])).await.unwrap();
    assert!(first.windows(2).all(|pair| pair[0] < pair[1]), "{first:?}");
    // b takes over after a lapsed: a's appends are refused from then on, b's land after a's.
    let b = leases.acquire_at("leader", "replica-b", TTL, T0 + 15_000).await.unwrap().unwrap();
    match log.append("leader", "replica-a", a.epoch, &bodies(&["stale"])).await {
        Err(ClusterError::Fenced { epoch, appended }) => assert_eq!((epoch, appended.len()), (1, 0)),
        other => panic!("a stale leader appended: {other:?}"),
    }
    assert!(
        matches!(
            log.append("leader", "replica-a", b.epoch, &bodies(&["forged epoch"])).await,
            Err(ClusterError::Fenced { .. })
        ),
        "the epoch is b's, the holder is not"
    );
    let second = log.append("leader", "replica-b", b.epoch, &bodies(&["four"])).await.unwrap();
    assert!(second[0] > first[2]);
    assert_eq!(log.head().await.unwrap(), second[0]);
    let tail = log.after(first[0], 10).await.unwrap();
    let read: Vec<(&str, i64)> = tail.iter().map(|change| (change.body.as_str(), change.epoch)).collect();
    assert_eq!(read, [("two", 1), ("three", 1), ("four", 2)]);
    assert_eq!(log.after(first[0], 1).await.unwrap().len(), 1, "limited");
    assert_eq!(log.prune_through(first[2]).await.unwrap(), 3);
    assert_eq!(log.pruned_through().await.unwrap(), first[2], "a replica behind this rebuilds");
    let left: Vec<String> = log.after(0, 10).await.unwrap().into_iter().map(|change| change.body).collect();
    assert_eq!(left, ["four"]);
    assert_eq!(log.head().await.unwrap(), second[0], "pruning keeps the head");
}

#[tokio::test]
async fn sqlite_leadership() {
    let directory = tempfile::tempdir().expect("temporary directory");
    leadership(&format!("sqlite://{}?mode=rwc", directory.path().join("ocicat.db").display())).await;
}

#[tokio::test]
async fn postgres_leadership() {
    let postgres = ocicat_testkit::Postgres::start().await.expect("postgres starts");
    leadership(&postgres.url()).await;
}

/// Waits until `leading` says `wanted`, failing after a bound rather than hanging.
async fn until(
    leading: &mut tokio::sync::watch::Receiver<Option<i64>>,
    wanted: impl Fn(Option<i64>) -> bool,
) -> Option<i64> {
    let found = tokio::time::timeout(Duration::from_secs(30), leading.wait_for(|epoch| wanted(*epoch))).await;
    *found.expect("leadership settles in time").expect("the bid runs")
}

/// One of two replicas leads; killed (no release), the other takes over once the lease lapses;
/// stopped cleanly, it releases at once and a third takes over.
async fn leadership(url: &str) {
    use ocicat_cluster::Leadership;
    use tokio::sync::watch;
    let ttl = Duration::from_secs(2);
    let leases = Leases::open(Database::connect(url).await.expect("database connects")).await.unwrap();
    let bid = |holder: &str| {
        let (leading, watching) = watch::channel(None);
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(Leadership::new(leases.clone(), "leader", holder, ttl).run(leading, stopped));
        (watching, stop, task)
    };
    let (mut a, _stop_a, task_a) = bid("replica-a");
    let first = until(&mut a, |epoch| epoch.is_some()).await.expect("a leads");
    let (mut b, stop_b, task_b) = bid("replica-b");
    assert_eq!(*b.borrow(), None);
    task_a.abort(); // killed: no release
    let second = until(&mut b, |epoch| epoch.is_some()).await.expect("b takes over");
    assert_eq!(second, first + 1);
    let lease = leases.current("leader").await.unwrap().unwrap();
    assert_eq!((lease.holder.as_str(), lease.epoch), ("replica-b", second));
    let (mut c, _stop_c, _task_c) = bid("replica-c");
    let lapse = leases.current("leader").await.unwrap().unwrap().expires_at;
    stop_b.send_replace(true);
    task_b.await.expect("b stops cleanly");
    assert_eq!(until(&mut c, |epoch| epoch.is_some()).await, Some(second + 1));
    let taken = leases.current("leader").await.unwrap().unwrap();
    assert!(taken.acquired_at < lapse, "c took it before b's lease could lapse: b released it ({taken:?}, {lapse})");
}

#[tokio::test]
async fn postgres_concurrent_appends_are_read_in_commit_order() {
    let postgres = ocicat_testkit::Postgres::start().await.expect("postgres starts");
    let database = Database::connect(&postgres.url()).await.expect("database connects");
    let log = ocicat_cluster::ChangeLog::open(database.clone()).await.unwrap();
    let leases = Leases::open(database).await.unwrap();
    let lease = leases.acquire("leader", "replica-a", TTL).await.unwrap().unwrap();
    // Eight crawl tasks append at once while a tailer reads after what it has read: it must
    // meet every change (a sequence number committed after a higher one would be skipped).
    let writers: Vec<_> = (0..8)
        .map(|task| {
            let log = log.clone();
            tokio::spawn(async move {
                for change in 0..20 {
                    let body = vec![format!("task {task} change {change}")];
                    log.append("leader", "replica-a", lease.epoch, &body).await.expect("appended");
                }
            })
        })
        .collect();
    let mut seen = Vec::new();
    let mut applied = 0;
    while seen.len() < 160 {
        for change in log.after(applied, 7).await.unwrap() {
            applied = change.seq;
            seen.push(change.body);
        }
        if writers.iter().all(|writer| writer.is_finished()) && log.head().await.unwrap() == applied {
            break;
        }
    }
    for writer in writers {
        writer.await.expect("writer ran");
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 160, "every change read once, none skipped");
}
