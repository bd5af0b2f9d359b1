//! The orchestration itself: registry, seed, ocicat child process, readiness, teardown.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use ocicat_seed::{SeedReport, Size};
use ocicat_testkit::{Distribution, DistributionOptions};
use tokio::process::{Child, Command};

use crate::{ocicat_binary, workspace_root};

/// Parses `demo`, `test` or a repository count.
pub(crate) fn parse_size(text: &str) -> anyhow::Result<Size> {
    Ok(match text {
        "demo" => Size::Demo,
        "test" => Size::Test,
        number => Size::Bench { repositories: number.parse().context("size must be demo, test or a number")? },
    })
}

/// The seed report as JSON (for the end-to-end suite and the terminal).
pub(crate) fn report_json(report: &SeedReport) -> serde_json::Value {
    let items: Vec<serde_json::Value> = report
        .items
        .iter()
        .map(|item| {
            serde_json::json!({
                "repository": item.repository, "reference": item.reference, "digest": item.digest,
                "kind": item.kind, "subject": item.subject,
            })
        })
        .collect();
    serde_json::json!({ "items": items })
}

struct Stack {
    registry: Distribution,
    /// An empty second registry (`staging`), where copies go.
    staging: Distribution,
    ocicat: Child,
    url: String,
    /// More replicas of ocicat on the same PostgreSQL (`demo --replicas N`), with their URLs.
    replicas: Vec<(Child, String)>,
    report: SeedReport,
    users: Users,
    _postgres: Option<ocicat_testkit::Postgres>,
    _work: tempfile::TempDir,
}

/// The environment variable the replicas' configurations name for the database URL.
const DATABASE_ENV: &str = "OCICAT_DATABASE_URL";

/// The passwords of the stack's users, fresh each run: `admin` administers everything, `alice`
/// views `demo/*` of `local`.
#[derive(Debug, Clone)]
pub(crate) struct Users {
    pub(crate) admin: String,
    pub(crate) alice: String,
}

impl Users {
    fn generate() -> Users {
        let password = || ocicat_access::ApiToken::generate().secret["ocicat_".len()..][..20].to_owned();
        Users { admin: password(), alice: password() }
    }

    fn json(&self) -> String {
        serde_json::json!({ "admin": self.admin, "alice": self.alice }).to_string()
    }
}

/// The `[access]` section over a users file holding `users`; visitors get `anonymous` grants.
/// Cookies are not `Secure`: the stack serves plain http on loopback.
fn access_section(directory: &Path, users: &Users, anonymous: &str) -> anyhow::Result<String> {
    let file = directory.join("users");
    let entries = [("admin", &users.admin), ("alice", &users.alice)]
        .into_iter()
        .map(|(name, password)| {
            Ok(ocicat_access::UserEntry { name: name.into(), password_hash: ocicat_access::hash_password(password)? })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    std::fs::write(&file, ocicat_access::render_users_file(&entries))?;
    Ok(format!(
        "\n[access]\nusers_file = {file:?}\nsecure_cookies = false\nanonymous = {anonymous}\n\n[[access.user]]\nname = \"admin\"\ngrants = [{{ role = \"admin\", registry = \"*\" }}]\n\n[[access.user]]\nname = \"alice\"\ngrants = [{{ role = \"viewer\", registry = \"local\", repositories = \"demo/*\" }}]\n"
    ))
}

/// Visitors read everything (the demo, and the end-to-end suite's main server).
const READ_ALL: &str = "[{ role = \"viewer\", registry = \"*\" }]";

/// Starts the registry, seeds it, starts an empty `staging` registry beside it (where copies
/// go), writes the `airgap` layouts (read-only, from the seed) and starts ocicat on all three;
/// `offline_registry` adds a registry configured on a port where nothing listens (the end-to-end suite checks how it is shown).
async fn start_stack(
    listen: &str,
    size: Size,
    offline_registry: Option<u16>,
    replicas: usize,
) -> anyhow::Result<Stack> {
    let started = Instant::now();
    // The registry notifies ocicat of every push (distribution retries until ocicat is up).
    let events_secret =
        format!("demo-events-{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_nanos());
    let options =
        DistributionOptions::anonymous().with_notifications(format!("http://{listen}/events/local"), &events_secret);
    let registry = Distribution::start(options).await.context("cannot start the registry")?;
    tracing::info!(registry.url = %registry.url(), "registry started");
    let target = ocicat_seed::Target::anonymous(registry.url().parse()?);
    let mut report = ocicat_seed::seed(&target, size).await.context("cannot seed the registry")?;
    let keyless = ocicat_seed::seed_keyless_sample(&target).await.context("cannot seed the keyless sample")?;
    report.items.extend(keyless.items);
    tracing::info!(items = report.items.len(), seconds = started.elapsed().as_secs_f32(), "registry seeded");
    let work = tempfile::tempdir()?;
    let users = Users::generate();
    let staging =
        Distribution::start(DistributionOptions::anonymous()).await.context("cannot start the staging registry")?;
    let airgap = crate::airgap::write_layouts(work.path(), &registry.url(), &report).await?;
    let mut extra = format!(
        "\n[[registry]]\nname = \"staging\"\nurl = {:?}\n\n[[registry]]\nname = \"airgap\"\nlayout = {:?}\n\n[[trust]]\nname = \"airgap\"\nregistry = \"airgap\"\nrepositories = \"**\"\ncosign_public_keys = [\"demo-signer.pub\"]\nnotation_roots = [\"demo-signer.crt\"]\nnotation_identities = [{:?}]\n",
        staging.url(),
        airgap,
        ocicat_seed::DEMO_SIGNER_NOTATION_IDENTITY,
    );
    if let Some(port) = offline_registry {
        extra.push_str(&format!("\n[[registry]]\nname = \"offline\"\nurl = \"http://127.0.0.1:{port}\"\n"));
    }
    let mut access = access_section(work.path(), &users, READ_ALL)?;
    if replicas <= 1 {
        let ocicat = start_ocicat(work.path(), listen, &registry.url(), &extra, &access, Some(&events_secret), None)?;
        let url = format!("http://{listen}");
        wait_until_crawled(&url, None).await?;
        tracing::info!(seconds = started.elapsed().as_secs_f32(), "ocicat crawled the registry");
        return Ok(Stack {
            registry,
            staging,
            ocicat,
            url,
            replicas: Vec::new(),
            report,
            users,
            _postgres: None,
            _work: work,
        });
    }
    // Several replicas: one PostgreSQL for sessions, plans and the catalog; each replica its
    // own index and port (the first on `listen`, the next ones on the ports after it).
    let postgres = ocicat_testkit::Postgres::start().await.context("cannot start PostgreSQL")?;
    access = access
        .replace("secure_cookies = false\n", &format!("secure_cookies = false\ndatabase_url_env = {DATABASE_ENV:?}\n"));
    let first: std::net::SocketAddr = listen.parse().context("--listen must be an address:port")?;
    let mut started_replicas = Vec::new();
    for index in 0..replicas {
        let address = std::net::SocketAddr::new(first.ip(), first.port() + index as u16).to_string();
        let name = format!("replica-{}", index + 1);
        let cluster = format!("\n[cluster]\ndatabase_url_env = {DATABASE_ENV:?}\nreplica_name = {name:?}\n");
        let database = Some((name.as_str(), postgres.url()));
        let child = start_ocicat(
            work.path(),
            &address,
            &registry.url(),
            &format!("{extra}{cluster}"),
            &access,
            Some(&events_secret),
            database,
        )?;
        started_replicas.push((child, format!("http://{address}")));
    }
    for (_, url) in &started_replicas {
        wait_until_crawled(url, None).await?;
    }
    tracing::info!(seconds = started.elapsed().as_secs_f32(), replicas, "the replicas serve the crawled registry");
    let (ocicat, url) = started_replicas.remove(0);
    Ok(Stack {
        registry,
        staging,
        ocicat,
        url,
        replicas: started_replicas,
        report,
        users,
        _postgres: Some(postgres),
        _work: work,
    })
}

/// A retention policy for the demo and the end-to-end tests: a daily dry run that would delete
/// whatever is past its end of life or beyond the five newest builds of a repository, never
/// a release.
const RETENTION: &str = "\n[[retention]]\nname = \"stale-builds\"\nregistry = \"local\"\nrepositories = \"**\"\nkeep_newest = 5\nkeep_tags = [\"latest\", \"release-*\"]\nexpire_by_annotation = true\n";

/// The demo's trust policies: the seeder's committed demo key vouches for `local`'s cosign
/// signatures, attestations and bundles, and its certificate for the notation signatures
/// (written next to the configuration as `demo-signer.pub` and `demo-signer.crt`); the keyless
/// sample's signer, by its Fulcio certificate and Rekor entry, for its repository.
fn trust_policy() -> String {
    format!(
        "\n[[trust]]\nname = \"demo\"\nregistry = \"local\"\nrepositories = \"**\"\ncosign_public_keys = [\"demo-signer.pub\"]\nnotation_roots = [\"demo-signer.crt\"]\nnotation_identities = [{:?}]\n\n[[trust]]\nname = \"upstream\"\nregistry = \"local\"\nrepositories = {:?}\nkeyless = [{{ issuer = {:?}, identity = {:?} }}]\n",
        ocicat_seed::DEMO_SIGNER_NOTATION_IDENTITY,
        ocicat_seed::KEYLESS_SAMPLE_REPOSITORY,
        ocicat_seed::KEYLESS_SAMPLE_ISSUER,
        ocicat_seed::KEYLESS_SAMPLE_IDENTITY,
    )
}

/// Starts ocicat with its data under `directory`, crawling `registry_url` as `local`; as one
/// replica of several, `replica` names it and the database URL it shares.
fn start_ocicat(
    directory: &Path,
    listen: &str,
    registry_url: &str,
    extra_registries: &str,
    access: &str,
    events_secret: Option<&str>,
    replica: Option<(&str, String)>,
) -> anyhow::Result<Child> {
    let (config_path, data) = match &replica {
        Some((name, _)) => (directory.join(format!("{name}.toml")), directory.join(format!("data-{name}"))),
        None => (directory.join("ocicat.toml"), directory.join("data")),
    };
    let site_root = workspace_root().join("target/site");
    let events = if events_secret.is_some() { "events_secret_env = \"OCICAT_EVENTS_SECRET\"\n" } else { "" };
    std::fs::write(directory.join("demo-signer.pub"), ocicat_seed::DEMO_SIGNER_PUBLIC_KEY)?;
    std::fs::write(directory.join("demo-signer.crt"), ocicat_seed::demo_signer_certificate_pem())?;
    std::fs::write(
        &config_path,
        format!(
            "[server]\nlisten = {listen:?}\ndata_dir = {:?}\nsite_root = {site_root:?}\n\n[crawl]\ninterval_secs = 60\n\n[[registry]]\nname = \"local\"\nurl = {registry_url:?}\n{events}{extra_registries}{RETENTION}{trust}{access}",
            data,
            trust = trust_policy(),
        ),
    )?;
    let mut command = Command::new(ocicat_binary());
    command.arg("--config").arg(&config_path).arg("serve").stdin(Stdio::null()).kill_on_drop(true);
    if let Some(secret) = events_secret {
        command.env("OCICAT_EVENTS_SECRET", secret);
    }
    if let Some((_, url)) = replica {
        command.env(DATABASE_ENV, url);
    }
    command.spawn().with_context(|| format!("cannot start {}", ocicat_binary().display()))
}

/// Polls the JSON API (with `cookie`, if given) until every registry finished its first crawl or
/// was found unreachable (bounded).
async fn wait_until_crawled(url: &str, cookie: Option<&str>) -> anyhow::Result<()> {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let mut request = client.get(format!("{url}/api/v1/registries"));
        if let Some(cookie) = cookie {
            request = request.header(reqwest::header::COOKIE, cookie);
        }
        if let Ok(response) = request.send().await {
            if let Ok(cards) = response.json::<Vec<serde_json::Value>>().await {
                if !cards.is_empty()
                    && cards.iter().all(|card| card["last_success"].is_string() || card["state"] == "unreachable")
                {
                    return Ok(());
                }
            }
        }
        if Instant::now() > deadline {
            bail!("ocicat at {url} did not finish its first crawl within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// README command 1.
pub(crate) async fn demo(listen: &str, replicas: usize) -> anyhow::Result<()> {
    let mut stack = start_stack(listen, Size::Demo, None, replicas).await?;
    let report_path = workspace_root().join("target/demo-seed.json");
    std::fs::write(&report_path, serde_json::to_vec_pretty(&report_json(&stack.report))?)?;
    println!(
        "\n  ocicat demo is ready: {}\n  registry: {} (push to it with skopeo or oras)\n  visitors read everything; sign in as admin / {} to start crawls and see crawl internals,\n  or as alice / {} to see only demo/*\n  Ctrl-C stops everything.\n",
        stack.url,
        stack.registry.url(),
        stack.users.admin,
        stack.users.alice,
    );
    for (_, url) in &stack.replicas {
        println!("  another replica on the same catalog: {url} (/status shows who leads)");
    }
    let replicas = &mut stack.replicas;
    let others = async move {
        if replicas.is_empty() {
            std::future::pending::<()>().await;
        }
        futures::future::select_all(replicas.iter_mut().map(|(child, _)| Box::pin(child.wait()))).await.0
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        status = stack.ocicat.wait() => bail!("ocicat exited unexpectedly: {status:?}"),
        status = others => bail!("an ocicat replica exited unexpectedly: {status:?}"),
    }
    for (child, _) in &mut stack.replicas {
        stop(child).await;
    }
    stop(&mut stack.ocicat).await;
    println!("stopped");
    Ok(())
}

/// The end-to-end suite (part of README command 2).
pub(crate) async fn e2e() -> anyhow::Result<()> {
    let port = ocicat_testkit::free_port()?;
    let mut stack =
        start_stack(&format!("127.0.0.1:{port}"), Size::Test, Some(ocicat_testkit::free_port()?), 1).await?;
    let report_path = stack._work.path().join("seed.json");
    std::fs::write(&report_path, serde_json::to_vec_pretty(&report_json(&stack.report))?)?;
    // A second server on the same registry where visitors see nothing: the sign-in suite's.
    let strict_work = tempfile::tempdir()?;
    let strict_listen = format!("127.0.0.1:{}", ocicat_testkit::free_port()?);
    let access = access_section(strict_work.path(), &stack.users, "[]")?;
    let mut strict = start_ocicat(strict_work.path(), &strict_listen, &stack.registry.url(), "", &access, None, None)?;
    let strict_url = format!("http://{strict_listen}");
    let ready = async {
        let cookie = wait_for_sign_in(&strict_url, &stack.users.admin).await?;
        wait_until_crawled(&strict_url, Some(&cookie)).await
    }
    .await;
    let status = match ready {
        Ok(()) => run_node_suite(&workspace_root().join("end2end"), &stack, &strict_url, &report_path).await,
        Err(error) => Err(error),
    };
    stop(&mut strict).await;
    stop(&mut stack.ocicat).await;
    let status = status?;
    if !status.success() {
        bail!("end-to-end suite failed ({status})");
    }
    Ok(())
}

/// Signs in as admin once the server answers (bounded).
async fn wait_for_sign_in(url: &str, password: &str) -> anyhow::Result<String> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match ocicat_testkit::session_cookie(url, "admin", password).await {
            Ok(cookie) => return Ok(cookie),
            Err(error) if Instant::now() > deadline => return Err(error),
            Err(_) => tokio::time::sleep(Duration::from_millis(250)).await,
        }
    }
}

async fn run_node_suite(
    directory: &Path,
    stack: &Stack,
    strict_url: &str,
    report: &Path,
) -> anyhow::Result<std::process::ExitStatus> {
    Command::new("npm")
        .arg("test")
        .current_dir(directory)
        .env("OCICAT_URL", &stack.url)
        .env("OCICAT_STRICT_URL", strict_url)
        .env("OCICAT_USERS", stack.users.json())
        .env("OCICAT_SEED_REPORT", report)
        .env("OCICAT_REGISTRY", "local")
        .env("OCICAT_REGISTRY_URL", stack.registry.url())
        .env("OCICAT_STAGING_URL", stack.staging.url())
        .status()
        .await
        .context("cannot run npm test in end2end/")
}

async fn stop(child: &mut Child) {
    if let Some(pid) = child.id() {
        // SIGTERM first so ocicat shuts down gracefully, then make sure.
        let _ = Command::new("kill").arg("-TERM").arg(pid.to_string()).status().await;
        if tokio::time::timeout(Duration::from_secs(10), child.wait()).await.is_err() {
            let _ = child.kill().await;
        }
    }
}
