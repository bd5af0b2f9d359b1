//! The lifecycle store on SQLite and on a real PostgreSQL: one test body for both.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeZone as _, Utc};
use ocicat_lifecycle::store::Store;
use ocicat_lifecycle::{
    AuditEntry, Execution, ExecutionState, ItemResult, Mode, Outcome, Plan, PlanItem, Reason, RetentionChoice,
    RetentionRun, Totals,
};
use ocicat_sql::Database;

#[tokio::test]
async fn sqlite_store_keeps_plans_audit_and_runs() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let url = format!("sqlite://{}?mode=rwc", directory.path().join("ocicat.db").display());
    store_keeps_plans_audit_and_runs(&url).await;
}

#[tokio::test]
async fn postgres_store_keeps_plans_audit_and_runs() {
    let postgres = ocicat_testkit::Postgres::start().await.expect("postgres starts");
    store_keeps_plans_audit_and_runs(&postgres.url()).await;
}

async fn store_keeps_plans_audit_and_runs(url: &str) {
    let database = Database::connect(url).await.expect("database connects");
    let store = Store::open(database.clone()).await.expect("store opens");
    let store = {
        drop(store);
        Store::open(database.clone()).await.expect("opening twice is harmless")
    };

    executions_round_trip_and_upsert(&store).await;
    let seqs = audit_appends_and_pages_exactly(&store).await;
    audit_rows_cannot_be_changed_or_removed(&database).await;
    runs_round_trip_and_filter_by_policy(&store).await;

    drop(store);
    drop(database);
    let reconnected = Database::connect(url).await.expect("database connects again");
    let reopened = Store::open(reconnected.clone()).await.expect("store reopens");
    everything_survives_reopening(&reopened, &seqs).await;
    audit_rows_cannot_be_changed_or_removed(&reconnected).await;
}

async fn executions_round_trip_and_upsert(store: &Store) {
    assert_eq!(store.execution("nope").await.expect("lookup"), None);

    let planned = execution("plan-a", ExecutionState::Planned);
    store.save_execution(&planned).await.expect("save");
    assert_eq!(store.execution("plan-a").await.expect("lookup"), Some(planned.clone()));

    let mut running = planned.clone();
    running.state = ExecutionState::Running;
    running.executed_by = Some("alice".to_owned());
    running.started = Some(at(1_700_000_100_123));
    running.results[0].outcome = Outcome::Deleted;
    store.save_execution(&running).await.expect("upsert");
    assert_eq!(store.execution("plan-a").await.expect("lookup"), Some(running.clone()));
    assert_eq!(store.executions_in_state(ExecutionState::Planned).await.expect("by state"), vec![]);

    store.save_execution(&execution("plan-b", ExecutionState::Done)).await.expect("save");
    store.save_execution(&execution("plan-c", ExecutionState::Running)).await.expect("save");
    let running_ids = ids(&store.executions_in_state(ExecutionState::Running).await.expect("by state"));
    assert_eq!(running_ids, ["plan-a", "plan-c"], "oldest plan first");
    let done_ids = ids(&store.executions_in_state(ExecutionState::Done).await.expect("by state"));
    assert_eq!(done_ids, ["plan-b"]);

    // Saving plan-a again makes it the most recently updated, although its id sorts first.
    store.save_execution(&running).await.expect("save again");
    let recent = ids(&store.recent_executions(10).await.expect("recent"));
    assert_eq!(recent, ["plan-a", "plan-c", "plan-b"]);
    assert_eq!(ids(&store.recent_executions(2).await.expect("recent")), ["plan-a", "plan-c"]);
}

/// Appends five entries and returns their positions.
async fn audit_appends_and_pages_exactly(store: &Store) -> Vec<i64> {
    assert_eq!(store.audit(None, 10).await.expect("empty log"), vec![]);
    let mut seqs = Vec::new();
    for index in 0..5 {
        let mut entry = audit_entry(index);
        entry.seq = 999; // ignored: the log numbers entries itself
        seqs.push(store.append(entry).await.expect("append"));
    }
    assert!(seqs.windows(2).all(|pair| pair[0] < pair[1]), "positions increase: {seqs:?}");
    assert!(!seqs.contains(&999));

    let newest = store.audit(None, 2).await.expect("first page");
    assert_eq!(newest.iter().map(|entry| entry.seq).collect::<Vec<_>>(), [seqs[4], seqs[3]]);
    let mut expected = audit_entry(4);
    expected.seq = seqs[4];
    assert_eq!(newest[0], expected, "every field round-trips");

    let older = store.audit(Some(seqs[3]), 2).await.expect("next page");
    assert_eq!(older.iter().map(|entry| entry.seq).collect::<Vec<_>>(), [seqs[2], seqs[1]]);
    let oldest = store.audit(Some(seqs[1]), 2).await.expect("last page");
    assert_eq!(oldest.iter().map(|entry| entry.seq).collect::<Vec<_>>(), [seqs[0]]);

    let first = store.audit_since(0, 3).await.expect("export page");
    assert_eq!(first.iter().map(|entry| entry.seq).collect::<Vec<_>>(), seqs[..3]);
    let rest = store.audit_since(seqs[2], 3).await.expect("export page");
    assert_eq!(rest.iter().map(|entry| entry.seq).collect::<Vec<_>>(), seqs[3..]);
    assert_eq!(store.audit_since(seqs[4], 3).await.expect("export end"), vec![]);
    assert_eq!(rest[0].tags, Vec::<String>::new(), "an entry without tags has none");
    seqs
}

/// UPDATE, DELETE (and on PostgreSQL TRUNCATE) run straight on the pool are refused.
async fn audit_rows_cannot_be_changed_or_removed(database: &Database) {
    let store = Store::open(database.clone()).await.expect("store opens");
    let before = store.audit(None, 100).await.expect("log");
    assert!(!before.is_empty(), "there are rows to protect");
    let statements = ["UPDATE ocicat_audit SET actor = 'mallory'", "DELETE FROM ocicat_audit"];
    for statement in statements {
        let refused = raw_execute(database, statement).await.expect_err("the audit log is append-only");
        assert!(refused.to_string().contains("the audit log is append-only"), "{statement}: {refused}");
    }
    if let Database::Postgres(pool) = database {
        let refused = sqlx::query("TRUNCATE ocicat_audit").execute(pool).await.expect_err("truncate is refused");
        assert!(refused.to_string().contains("the audit log is append-only"), "{refused}");
    }
    assert_eq!(store.audit(None, 100).await.expect("log"), before, "no row went or changed");
}

async fn runs_round_trip_and_filter_by_policy(store: &Store) {
    assert_eq!(store.run("nope").await.expect("lookup"), None);
    let nightly_old = retention_run("run-1", "nightly", 1_700_000_000);
    let weekly = retention_run("run-2", "weekly", 1_700_000_500);
    let mut nightly_new = retention_run("run-3", "nightly", 1_700_086_400);
    for run in [&nightly_old, &weekly, &nightly_new] {
        store.save_run(run).await.expect("save run");
    }
    nightly_new.finished = Some(nightly_new.started + chrono::Duration::seconds(30));
    nightly_new.deleted = 1;
    store.save_run(&nightly_new).await.expect("upsert run");

    assert_eq!(store.run("run-3").await.expect("lookup"), Some(nightly_new.clone()));
    let all = store.runs(None, 10).await.expect("all runs");
    assert_eq!(run_ids(&all), ["run-3", "run-2", "run-1"], "latest started first");
    assert_eq!(run_ids(&store.runs(Some("nightly"), 10).await.expect("nightly")), ["run-3", "run-1"]);
    assert_eq!(run_ids(&store.runs(Some("nightly"), 1).await.expect("nightly")), ["run-3"]);
    assert_eq!(store.runs(Some("hourly"), 10).await.expect("hourly"), vec![]);
}

async fn everything_survives_reopening(store: &Store, seqs: &[i64]) {
    let plan = store.execution("plan-a").await.expect("lookup").expect("plan-a kept");
    assert_eq!(plan.state, ExecutionState::Running);
    assert_eq!(plan.results[0].outcome, Outcome::Deleted);
    let running = ids(&store.executions_in_state(ExecutionState::Running).await.expect("by state"));
    assert_eq!(running, ["plan-a", "plan-c"]);
    let exported = store.audit_since(0, 1000).await.expect("export");
    assert_eq!(exported.iter().map(|entry| entry.seq).collect::<Vec<_>>(), seqs);
    let next = store.append(audit_entry(5)).await.expect("append after reopening");
    assert!(next > seqs[seqs.len() - 1], "positions keep increasing: {next} after {seqs:?}");
    assert_eq!(run_ids(&store.runs(None, 10).await.expect("runs")), ["run-3", "run-2", "run-1"]);
}

async fn raw_execute(database: &Database, sql: &str) -> Result<u64, sqlx::Error> {
    Ok(match database {
        Database::Sqlite(pool) => sqlx::query(sql).execute(pool).await?.rows_affected(),
        Database::Postgres(pool) => sqlx::query(sql).execute(pool).await?.rows_affected(),
    })
}

fn at(milliseconds: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(milliseconds).single().expect("a valid time")
}

fn ids(executions: &[Execution]) -> Vec<String> {
    executions.iter().map(|execution| execution.plan.id.clone()).collect()
}

fn run_ids(runs: &[RetentionRun]) -> Vec<String> {
    runs.iter().map(|run| run.id.clone()).collect()
}

fn execution(id: &str, state: ExecutionState) -> Execution {
    // Plans are created in id order, a second apart, with sub-millisecond precision in the body.
    let offset = i64::from(id.as_bytes()[id.len() - 1]);
    let created = at(1_700_000_000_000 + offset * 1000) + chrono::Duration::nanoseconds(123_456);
    let item = PlanItem {
        registry: "local".to_owned(),
        repository: "team/app".to_owned(),
        digest: format!("sha256:{}", "a".repeat(64)),
        kind: "image".to_owned(),
        tags: vec!["1.0".to_owned(), "latest".to_owned()],
        tag: Some("1.0".to_owned()),
        size: 4096,
        reason: Reason::Target,
        depth: 0,
        after: vec![],
    };
    let plan = Plan {
        id: id.to_owned(),
        created,
        created_by: "alice".to_owned(),
        query: Some("repo:team/app tag:1.*".to_owned()),
        mode: Mode::Manifests,
        targets: vec![item.clone()],
        items: vec![item.clone()],
        kept: vec![],
        broken_parents: vec![],
        fallback_rewrites: vec![],
        tag_deletion: BTreeMap::new(),
        warnings: vec!["one warning".to_owned()],
        totals: Totals { manifests: 1, tags: 2, bytes: 4096, by_kind: BTreeMap::new(), repositories: 1 },
        truncated: false,
        incomplete: vec!["local/team/app (its tag list was cut short)".to_owned()],
    };
    let result = ItemResult {
        registry: item.registry,
        repository: item.repository,
        digest: item.digest,
        tag: item.tag,
        outcome: Outcome::Pending,
        message: None,
        refused: false,
    };
    Execution {
        plan,
        state,
        executed_by: None,
        started: None,
        finished: None,
        results: vec![result],
        rewrites: vec![],
        message: None,
    }
}

fn audit_entry(index: i64) -> AuditEntry {
    let one_item = index % 2 == 0;
    AuditEntry {
        seq: 0,
        at: at(1_700_000_000_000 + index * 1001),
        actor: "alice".to_owned(),
        action: if one_item { "delete" } else { "execute" }.to_owned(),
        registry: one_item.then(|| "local".to_owned()),
        repository: one_item.then(|| "team/app".to_owned()),
        digest: one_item.then(|| format!("sha256:{index:064}")),
        tags: if one_item { vec!["1.0".to_owned(), format!("build-{index}")] } else { vec![] },
        plan_id: Some("plan-a".to_owned()),
        outcome: "deleted".to_owned(),
        detail: (!one_item).then(|| format!("{index} items")),
    }
}

fn retention_run(id: &str, policy: &str, started_seconds: i64) -> RetentionRun {
    RetentionRun {
        id: id.to_owned(),
        policy: policy.to_owned(),
        started: Utc.timestamp_opt(started_seconds, 0).single().expect("a valid time"),
        finished: None,
        dry_run: true,
        choices: vec![RetentionChoice {
            registry: "local".to_owned(),
            repository: "team/app".to_owned(),
            digest: format!("sha256:{}", "b".repeat(64)),
            tags: vec!["0.9".to_owned()],
            verdict: "delete: older than 30 days".to_owned(),
            delete: true,
        }],
        plan_id: None,
        manifests: 1,
        bytes: 2048,
        deleted: 0,
        failed: 0,
        hidden: 0,
        error: None,
    }
}
