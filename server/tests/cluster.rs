//! Several replicas, one catalog (issue 22): three real `ocicat serve` processes share a real
//! PostgreSQL and crawl a real seeded distribution 2.8.2 through a counting proxy. Only the
//! leader crawls (the registry sees each manifest fetched once, not three times), every replica
//! serves the same index, a crawl asked of a follower runs on the leader, a delete through a
//! follower runs once (claimed in the database) and disappears from every replica, a copy
//! planned on one replica runs once through another, `kill -9` of the leader hands the crawl to another
//! replica within 15 s without fetching again what was indexed, and a replica started later
//! catches up before `/healthz` says so, and with PostgreSQL gone every replica keeps serving
//! reads from its own index, then replicates again once it is back.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use ocicat_seed::{SeedReport, Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions, FaultyRegistry, Postgres, Script, free_port};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery staple";
const DATABASE_ENV: &str = "OCICAT_CLUSTER_TEST_DATABASE_URL";
const EVENTS_ENV: &str = "OCICAT_CLUSTER_TEST_EVENTS_SECRET";
const EVENTS_SECRET: &str = "cluster-events-secret-0123456789";
/// The issue's bound on a takeover after the leader dies.
const TAKEOVER: Duration = Duration::from_secs(15);
/// A daily dry-run retention policy every replica is configured with; its last run is put a
/// day and an hour back, so whoever runs its schedule runs it at once.
const RETENTION: &str = "nightly";

fn write_config(directory: &Path, name: &str, registry_url: &str) -> PathBuf {
    let path = directory.join(format!("{name}.toml"));
    let config = format!(
        r#"[server]
data_dir = {data:?}

[[registry]]
name = "local"
url = {registry_url:?}
events_secret_env = "{EVENTS_ENV}"

[access]
users_file = {users:?}
secure_cookies = false
database_url_env = "{DATABASE_ENV}"
anonymous = [{{ role = "viewer", registry = "*" }}]

[[access.user]]
name = "ops"
grants = [{{ role = "admin", registry = "*" }}]

[cluster]
database_url_env = "{DATABASE_ENV}"
replica_name = "{name}"

[[retention]]
name = "{RETENTION}"
registry = "local"
keep_newest = 1000
every_hours = 24
dry_run = true
"#,
        data = directory.join(name).display().to_string(),
        users = directory.join("users").display().to_string(),
    );
    std::fs::write(&path, config).unwrap();
    path
}

/// One `ocicat serve` process.
struct Replica {
    name: String,
    url: String,
    log: PathBuf,
    child: tokio::process::Child,
}

impl Replica {
    fn start(directory: &Path, name: &str, registry_url: &str, database_url: &str) -> Replica {
        let config = write_config(directory, name, registry_url);
        let port = free_port().unwrap();
        let log = directory.join(format!("{name}.log"));
        let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_ocicat"))
            .arg("--config")
            .arg(&config)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env(DATABASE_ENV, database_url)
            .env(EVENTS_ENV, EVENTS_SECRET)
            .env("RUST_LOG", "info")
            .env_remove("OCICAT_LOG_FORMAT")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .kill_on_drop(true)
            .spawn()
            .expect("ocicat serve starts");
        Replica { name: name.to_owned(), url: format!("http://127.0.0.1:{port}"), log, child }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

/// Polls `check` every 100 ms until it answers `Some`, or panics after `limit` with `what`.
async fn eventually<T, F, Fut>(limit: Duration, what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "{what} did not happen within {} s", limit.as_secs());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

struct Api {
    http: reqwest::Client,
    token: String,
}

impl Api {
    async fn get(&self, replica: &Replica, path: &str) -> Value {
        let response = self.http.get(format!("{}{path}", replica.url)).bearer_auth(&self.token).send().await.unwrap();
        assert!(response.status().is_success(), "{} GET {path}: {}", replica.name, response.status());
        response.json().await.unwrap()
    }

    async fn post(&self, replica: &Replica, path: &str, body: Value) -> (reqwest::StatusCode, Value) {
        let response =
            self.http.post(format!("{}{path}", replica.url)).bearer_auth(&self.token).json(&body).send().await.unwrap();
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    async fn card(&self, replica: &Replica) -> Value {
        let cards = self.get(replica, "/api/v1/registries").await;
        cards.as_array().unwrap().iter().find(|card| card["name"] == "local").cloned().expect("the registry's card")
    }

    async fn total(&self, replica: &Replica, query: &str) -> u64 {
        let query = url::form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>();
        self.get(replica, &format!("/api/v1/search?q={query}")).await["total"].as_u64().unwrap()
    }
}

/// Signs `ops` in on `replica` and makes an API token (valid on every replica: tokens live in
/// the shared database).
async fn api_token(replica: &Replica) -> String {
    let http = reqwest::Client::new();
    let cookie = ocicat_testkit::session_cookie(&replica.url, "ops", PASSWORD).await.unwrap();
    let me: Value = http
        .get(format!("{}/api/v1/me", replica.url))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let made = http
        .post(format!("{}/api/v1/tokens", replica.url))
        .header("cookie", &cookie)
        .header("origin", &replica.url)
        .header("x-csrf-token", me["csrf"].as_str().expect("a csrf token"))
        .json(&serde_json::json!({ "name": "cluster-test" }))
        .send()
        .await
        .unwrap();
    let status = made.status();
    let body = made.text().await.unwrap();
    assert_eq!(status, reqwest::StatusCode::CREATED, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["secret"].as_str().unwrap().to_owned()
}

async fn healthy(replica: &Replica) -> bool {
    let answer = reqwest::get(format!("{}/healthz", replica.url)).await;
    answer.is_ok_and(|response| response.status() == reqwest::StatusCode::OK)
}

/// The name of the replica holding the leader's lease, by the database's clock.
async fn leader(leases: &ocicat_cluster::Leases) -> Option<String> {
    let lease = leases.current("leader").await.ok()??;
    (lease.expires_at > leases.now().await.ok()?).then(|| lease.holder.split('#').next().unwrap_or_default().to_owned())
}

/// GETs of manifests through the proxy since request number `from`, per path.
fn manifest_gets(proxy: &FaultyRegistry, from: usize) -> HashMap<String, usize> {
    let mut gets = HashMap::new();
    for seen in proxy.requests().into_iter().skip(from) {
        if seen.method == "GET" && seen.path.contains("/manifests/") {
            *gets.entry(seen.path).or_default() += 1;
        }
    }
    gets
}

/// Tagged seeded images of `demo/`, as (repository, tag, digest).
fn seeded_tags(report: &SeedReport) -> Vec<(String, String, String)> {
    report
        .items
        .iter()
        .filter(|item| {
            item.repository.starts_with("demo/")
                && item.kind == "image"
                && item.reference.as_ref().is_some_and(|tag| !tag.starts_with("sha256-"))
        })
        .map(|item| (item.repository.clone(), item.reference.clone().unwrap(), item.digest.clone()))
        .collect()
}

/// Deletes `target` through `replica` (a plan, then its execution); answers the plan's id.
async fn delete_through(api: &Api, replica: &Replica, target: &(String, String, String)) -> String {
    let (repository, tag, _) = target;
    let plan = serde_json::json!({ "targets": [{ "registry": "local", "repository": repository, "reference": tag }] });
    let (status, planned) = api.post(replica, "/api/v1/plans", plan).await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{planned:#}");
    planned["plan"]["id"].as_str().expect("a plan id").to_owned()
}

/// A visitor's search total (no session, no token: nothing asks the database).
async fn visitor_total(replica: &Replica, query: &str) -> Option<u64> {
    let query = url::form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>();
    let response = reqwest::get(format!("{}/api/v1/search?q={query}", replica.url)).await.ok()?;
    response.json::<Value>().await.ok()?["total"].as_u64()
}

#[tokio::test]
async fn three_replicas_crawl_once_share_every_write_and_survive_the_leader() {
    let mut postgres = Postgres::start().await.unwrap();
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let proxy =
        FaultyRegistry::builder().any("/v2/*", Script::proxy(&registry.url(), str::to_owned)).start().await.unwrap();
    let directory = tempfile::tempdir().unwrap();
    let database_url = postgres.url();

    // The retention policy's last run, a day and an hour ago: every replica that ran the
    // schedule would run it at its start.
    let seeded_run = chrono::Utc::now() - chrono::Duration::hours(25);
    let store = ocicat_lifecycle::store::Store::open(ocicat_sql::Database::connect(&database_url).await.unwrap())
        .await
        .unwrap();
    store
        .save_run(&ocicat_lifecycle::RetentionRun {
            id: "seeded".into(),
            policy: RETENTION.into(),
            started: seeded_run,
            finished: Some(seeded_run),
            dry_run: true,
            choices: Vec::new(),
            plan_id: None,
            manifests: 0,
            bytes: 0,
            deleted: 0,
            failed: 0,
            error: None,
            hidden: 0,
        })
        .await
        .unwrap();

    // The user first (the users file is shared); then three replicas.
    let users = tokio::process::Command::new(env!("CARGO_BIN_EXE_ocicat"))
        .arg("--config")
        .arg(write_config(directory.path(), "a", &proxy.url()))
        .args(["user", "add", "ops"])
        .env(DATABASE_ENV, &database_url)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    let mut users = users;
    {
        use tokio::io::AsyncWriteExt as _;
        let mut stdin = users.stdin.take().unwrap();
        stdin.write_all(format!("{PASSWORD}\n").as_bytes()).await.unwrap();
    }
    assert!(users.wait().await.unwrap().success());
    let mut replicas: Vec<Replica> = ["a", "b", "c"]
        .into_iter()
        .map(|name| Replica::start(directory.path(), name, &proxy.url(), &database_url))
        .collect();
    let outcome = tokio::time::timeout(Duration::from_secs(420), async {
        scenario(&report, &proxy, &mut replicas, directory.path(), &mut postgres).await
    })
    .await;
    if !matches!(outcome, Ok(Ok(()))) {
        for replica in &replicas {
            eprintln!("--- {} ---\n{}", replica.name, replica.log_tail());
        }
    }
    match outcome {
        Ok(Ok(())) => {}
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(_) => panic!("the scenario did not finish within 7 minutes"),
    }
}

async fn scenario(
    report: &SeedReport,
    proxy: &FaultyRegistry,
    replicas: &mut Vec<Replica>,
    directory: &Path,
    postgres: &mut Postgres,
) -> Result<(), Box<dyn std::any::Any + Send>> {
    use futures::FutureExt as _;
    std::panic::AssertUnwindSafe(steps(report, proxy, replicas, directory, postgres)).catch_unwind().await
}

async fn steps(
    report: &SeedReport,
    proxy: &FaultyRegistry,
    replicas: &mut Vec<Replica>,
    directory: &Path,
    postgres: &mut Postgres,
) {
    let database_url = &postgres.url();
    for replica in replicas.iter() {
        eventually(Duration::from_secs(60), &format!("{} answering /healthz", replica.name), || async {
            healthy(replica).await.then_some(())
        })
        .await;
    }
    let api = Api { http: reqwest::Client::new(), token: api_token(&replicas[0]).await };
    let database = ocicat_sql::Database::connect(database_url).await.unwrap();
    let leases = ocicat_cluster::Leases::open(database).await.unwrap();

    // One crawl, by the leader; every replica serves all of it and shows the leader's status.
    let sboms = report.of_kind("sbom").count() as u64;
    assert!(sboms > 0);
    for replica in replicas.iter() {
        eventually(Duration::from_secs(120), &format!("{} showing the whole crawl", replica.name), || async {
            let card = api.card(replica).await;
            let done = card["state"] == "idle" && card["crawls_completed"].as_u64() >= Some(1);
            (done && api.total(replica, "kind:sbom").await == sboms).then_some(())
        })
        .await;
    }
    let first = manifest_gets(proxy, 0);
    assert!(!first.is_empty());
    let repeated: Vec<_> = first.iter().filter(|(_, count)| **count > 1).collect();
    assert!(repeated.is_empty(), "manifests fetched more than once by three replicas: {repeated:?}");
    let everything = api.total(&replicas[0], "").await;
    for replica in &replicas[1..] {
        assert_eq!(api.total(replica, "").await, everything, "{} serves the same index", replica.name);
    }

    // A crawl asked of a follower runs on the leader (the only one that talks to the registry).
    let leading = eventually(Duration::from_secs(30), "a leader", || leader(&leases)).await;
    let follower = replicas.iter().position(|replica| replica.name != leading).unwrap();

    // Every replica shows who leads and how far each one got, in JSON and in the metrics.
    let shown = eventually(Duration::from_secs(30), "every replica caught up", || async {
        let view = api.get(&replicas[follower], "/api/v1/replicas").await;
        let rows = view["replicas"].as_array().unwrap().clone();
        let caught_up = rows.len() == 3 && rows.iter().all(|row| row["lag"] == 0 && row["live"] == true);
        caught_up.then_some(view)
    })
    .await;
    assert_eq!(shown["this_replica"], replicas[follower].name.as_str());
    assert_eq!(shown["leader"], leading.as_str(), "{shown:#}");
    let names: Vec<&str> =
        shown["replicas"].as_array().unwrap().iter().map(|row| row["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "b", "c"]);
    let leaders: Vec<&Value> =
        shown["replicas"].as_array().unwrap().iter().filter(|row| row["leading"] == true).collect();
    assert_eq!(leaders.len(), 1);
    let metrics = api.http.get(format!("{}/metrics", replicas[follower].url)).bearer_auth(&api.token).send().await;
    let metrics = metrics.unwrap().text().await.unwrap();
    assert!(metrics.contains(&format!("ocicat_replica_leading{{replica=\"{leading}\"}} 1")), "{metrics}");
    assert!(metrics.contains("ocicat_replica_lag{replica=\"a\"} 0"), "{metrics}");

    let crawls = api.card(&replicas[follower]).await["crawls_completed"].as_u64().unwrap();
    let listed = proxy.count("/v2/_catalog");
    let (status, _) = api.post(&replicas[follower], "/api/v1/registries/local/refresh", Value::Null).await;
    assert!(status.is_success(), "{status}");
    eventually(Duration::from_secs(60), "the requested crawl", || async {
        (api.card(&replicas[follower]).await["crawls_completed"].as_u64().unwrap() > crawls).then_some(())
    })
    .await;
    assert!(proxy.count("/v2/_catalog") > listed, "the leader crawled again");

    // A push the registry notifies to a follower is searchable on every replica: the
    // notification goes into the shared queue, the leader refreshes that repository.
    let pushed = report.items.iter().find(|item| item.kind == "wasm" && item.reference.is_some()).unwrap();
    let registry = ocicat_oci::Client::new(ocicat_oci::ClientConfig::new(
        proxy.url().parse().unwrap(),
        ocicat_oci::Credentials::Anonymous,
    ))
    .unwrap();
    let manifest = registry.get_manifest(&pushed.repository, &pushed.digest).await.unwrap();
    registry.push_manifest(&pushed.repository, "notified", &manifest.media_type, manifest.raw.clone()).await.unwrap();
    let query = format!("tag:notified repo:{}", pushed.repository);
    assert_eq!(api.total(&replicas[0], &query).await, 0, "not indexed before the notification");
    let envelope = serde_json::json!({"events": [{
        "id": "cluster-push-1",
        "timestamp": chrono::Utc::now().to_rfc3339(),
        "action": "push",
        "target": {
            "mediaType": manifest.media_type, "digest": pushed.digest, "size": manifest.raw.len(),
            "length": manifest.raw.len(), "repository": pushed.repository, "tag": "notified",
        },
        "request": {"id": "r1", "method": "PUT", "useragent": "oras"},
        "source": {"addr": "registry:5000", "instanceID": "i1"},
    }]});
    let notified = api
        .http
        .post(format!("{}/events/local", replicas[follower].url))
        .bearer_auth(EVENTS_SECRET)
        .header("content-type", "application/vnd.docker.distribution.events.v1+json")
        .body(envelope.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(notified.status().as_u16(), 202);
    let queued: Value = notified.json().await.unwrap();
    assert_eq!(queued["queued"], 1, "the notification was queued: {queued}");
    for replica in replicas.iter() {
        eventually(Duration::from_secs(30), &format!("the notified push on {}", replica.name), || async {
            (api.total(replica, &query).await == 1).then_some(())
        })
        .await;
    }

    // A delete through a follower: gone from it at once, and from every other replica soon.
    let targets = seeded_tags(report);
    assert!(targets.len() >= 3, "{targets:?}");
    let digest = targets[0].2.clone();
    let deleter = &replicas[follower];
    let id = delete_through(&api, deleter, &targets[0]).await;
    // A plan another replica is executing (its claim held in the database) is refused as busy.
    let claim = format!("plan:{id}");
    assert!(leases.acquire(&claim, "elsewhere#1", Duration::from_secs(60)).await.unwrap().is_some());
    let (status, busy) = api.post(deleter, &format!("/api/v1/plans/{id}/execute?wait=true"), Value::Null).await;
    assert_eq!(status, reqwest::StatusCode::SERVICE_UNAVAILABLE, "{busy:#}");
    assert!(busy.to_string().contains("is running"), "busy because claimed elsewhere: {busy:#}");
    assert!(leases.forget(&claim, "elsewhere#1").await.unwrap());
    let (status, executed) = api.post(deleter, &format!("/api/v1/plans/{id}/execute?wait=true"), Value::Null).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{executed:#}");
    assert!(leases.current(&claim).await.unwrap().is_none(), "the claim is given up when the execution ends");
    let query = format!("digest:{digest}");
    assert_eq!(api.total(deleter, &query).await, 0, "the deleting replica shows the delete when it answers");
    for replica in replicas.iter() {
        eventually(Duration::from_secs(10), &format!("the delete reaching {}", replica.name), || async {
            (api.total(replica, &query).await == 0).then_some(())
        })
        .await;
    }

    // A copy planned on one replica and executed through another (a load balancer's choice):
    // the plan is found there, the copy runs once, and every replica shows its result.
    let (repository, tag, copied) = targets[2].clone();
    let request = serde_json::json!({
        "source": { "registry": "local", "repository": repository },
        "digest": copied,
        "destination": { "registry": "local", "repository": "copies/cluster" },
        "tags": [tag],
    });
    let planner = &replicas[0];
    let runner = &replicas[1];
    let (status, planned) = api.post(planner, "/api/v1/copies", request).await;
    assert_eq!(status, reqwest::StatusCode::CREATED, "{planned:#}");
    let copy = planned["id"].as_str().unwrap().to_owned();
    let fingerprint = planned["plan"]["fingerprint"].as_str().unwrap().to_owned();
    let shown = api.get(runner, &format!("/api/v1/copies/{copy}")).await;
    assert_eq!(shown["plan"]["fingerprint"], fingerprint.as_str(), "the other replica finds the plan");
    let claim = format!("copy:{copy}");
    assert!(leases.acquire(&claim, "elsewhere#1", Duration::from_secs(60)).await.unwrap().is_some());
    let execution = serde_json::json!({ "fingerprint": fingerprint, "wait": true });
    let (status, refused) = api.post(runner, &format!("/api/v1/copies/{copy}/execute"), execution.clone()).await;
    assert_eq!(status, reqwest::StatusCode::CONFLICT, "another replica runs it: {refused:#}");
    assert!(leases.forget(&claim, "elsewhere#1").await.unwrap());
    let (status, ran) = api.post(runner, &format!("/api/v1/copies/{copy}/execute"), execution).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{ran:#}");
    assert_eq!(ran["report"]["complete"], true, "{ran:#}");
    let seen = api.get(planner, &format!("/api/v1/copies/{copy}")).await;
    assert_eq!(seen["report"]["complete"], true, "the planning replica shows the result: {seen:#}");
    for replica in replicas.iter() {
        eventually(Duration::from_secs(30), &format!("the copy reaching {}", replica.name), || async {
            (api.total(replica, &format!("repo:copies/cluster tag:{tag}")).await == 1).then_some(())
        })
        .await;
    }

    // kill -9 of the leader: another replica leads within 15 s and crawls without fetching any
    // manifest again.
    let leading = eventually(Duration::from_secs(30), "a leader", || leader(&leases)).await;
    let index = replicas.iter().position(|replica| replica.name == leading).unwrap();
    let mut killed = replicas.remove(index);
    let survivor = &replicas[0];
    let crawls = api.card(survivor).await["crawls_completed"].as_u64().unwrap();
    let before_kill = proxy.requests().len();
    killed.child.start_kill().unwrap();
    killed.child.wait().await.unwrap();
    let killed_at = Instant::now();
    let next = eventually(TAKEOVER + Duration::from_secs(5), "a new leader", || async {
        leader(&leases).await.filter(|name| *name != killed.name)
    })
    .await;
    let took = killed_at.elapsed();
    eprintln!("{next} took over from {} after {took:?}", killed.name);
    assert!(took <= TAKEOVER, "{next} took over after {took:?}");
    let next = replicas.iter().find(|replica| replica.name == next).unwrap();
    eventually(Duration::from_secs(60), "the new leader's crawl", || async {
        let card = api.card(next).await;
        (card["state"] == "idle" && card["crawls_completed"].as_u64().unwrap() > crawls).then_some(())
    })
    .await;
    assert!(proxy.requests().len() > before_kill, "the new leader crawled");
    let again = manifest_gets(proxy, before_kill);
    assert!(again.is_empty(), "the new leader fetched indexed manifests again: {again:?}");

    // A replica started later catches up before it says it is healthy, and serves the same.
    let late = Replica::start(directory, "d", &proxy.url(), database_url);
    eventually(Duration::from_secs(60), "the late replica healthy", || async { healthy(&late).await.then_some(()) })
        .await;
    assert_eq!(api.total(&late, "kind:sbom").await, api.total(&replicas[0], "kind:sbom").await);
    assert_eq!(api.total(&late, "").await, api.total(&replicas[0], "").await);
    assert_eq!(api.total(&late, &query).await, 0, "the late replica knows of the delete");
    replicas.push(late);

    // PostgreSQL goes away: every replica keeps serving searches from its own index; once it is
    // back, replication resumes (a delete through a follower reaches every replica again).
    let sboms_now = api.total(&replicas[0], "kind:sbom").await;
    postgres.stop().await.unwrap();
    for replica in replicas.iter() {
        let total = visitor_total(replica, "kind:sbom").await;
        assert_eq!(total, Some(sboms_now), "{} serves reads without the database", replica.name);
    }
    postgres.start_again().await.unwrap();
    let leading = eventually(Duration::from_secs(30), "a leader again", || leader(&leases)).await;
    let follower = replicas.iter().find(|replica| replica.name != leading).unwrap();
    let id = eventually(Duration::from_secs(30), "a plan after the restart", || async {
        let (repository, tag, _) = &targets[1];
        let plan =
            serde_json::json!({ "targets": [{ "registry": "local", "repository": repository, "reference": tag }] });
        let (status, planned) = api.post(follower, "/api/v1/plans", plan).await;
        (status == reqwest::StatusCode::CREATED).then(|| planned["plan"]["id"].as_str().unwrap().to_owned())
    })
    .await;
    let (status, executed) = api.post(follower, &format!("/api/v1/plans/{id}/execute?wait=true"), Value::Null).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{executed:#}");
    let query = format!("digest:{}", targets[1].2);
    for replica in replicas.iter() {
        eventually(
            Duration::from_secs(30),
            &format!("the delete after the restart reaching {}", replica.name),
            || async { (api.total(replica, &query).await == 0).then_some(()) },
        )
        .await;
    }

    // Scheduled retention ran once: by the first leader, at once (its last run was due), and
    // neither by a follower (each started with the policy due) nor by the leaders after
    // it (the takeover, PostgreSQL's restart), whose clock runs from that run.
    let store =
        ocicat_lifecycle::store::Store::open(ocicat_sql::Database::connect(database_url).await.unwrap()).await.unwrap();
    let runs = eventually(Duration::from_secs(30), "the scheduled retention run", || async {
        let runs = store.runs(Some(RETENTION), 100).await.unwrap();
        (runs.len() > 1).then_some(runs)
    })
    .await;
    let scheduled: Vec<_> = runs.iter().filter(|run| run.id != "seeded").collect();
    assert_eq!(scheduled.len(), 1, "scheduled retention ran more than once: {:?}", scheduled);
    assert!(scheduled[0].dry_run && scheduled[0].error.is_none(), "{:?}", scheduled[0]);
}
