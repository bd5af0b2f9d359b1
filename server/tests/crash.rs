//! S24: `kill -9` in the middle of a crawl. The real `ocicat crawl` binary crawls a real seeded
//! distribution (through a proxy that holds one repository's tag list forever), is killed with
//! SIGKILL once the repositories before it are committed, and is started again: the index opens
//! at its last commit, the crawl resumes from its checkpoint without re-listing what was done,
//! and ends with every artifact exactly once.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use ocicat_catalog::Catalog;
use ocicat_seed::{Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions, FaultyRegistry, Reply, Script};

fn write_config(directory: &Path, registry_url: &str) -> std::path::PathBuf {
    let path = directory.join("ocicat.toml");
    let config = format!(
        "[server]\ndata_dir = {:?}\n\n[crawl]\nconcurrency = 1\n\n[[registry]]\nname = \"local\"\nurl = {registry_url:?}\n",
        directory.join("data").display().to_string(),
    );
    std::fs::write(&path, config).unwrap();
    path
}

fn ocicat_crawl(config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_ocicat"));
    command.arg("--config").arg(config).arg("crawl").env("RUST_LOG", "info");
    command
}

/// The committed repositories, read the way a second process sees the index.
fn committed_repositories(data_dir: &Path) -> u64 {
    ocicat_catalog::open_reader(data_dir)
        .ok()
        .and_then(|catalog| catalog.registry_counts("local").ok())
        .map_or(0, |c| c.repositories)
}

/// Polls until `condition` holds (or `limit` passes), checking the child is still running.
async fn wait_for(child: &mut Child, limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if condition() {
            return true;
        }
        assert!(child.try_wait().unwrap().is_none(), "ocicat crawl exited before it was killed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    condition()
}

/// The digests indexed for `repository`, sorted: the index returns them in segment order, which
/// a background merge may change between two reads.
fn digests_of(catalog: &Catalog, repository: &str) -> Vec<String> {
    let mut digests: Vec<String> =
        catalog.artifacts_in_repository("local", repository).unwrap().into_iter().map(|doc| doc.digest).collect();
    digests.sort();
    digests
}

#[tokio::test]
async fn a_crawl_killed_with_sigkill_resumes_from_its_checkpoint_and_loses_nothing() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let repositories = report.repositories();
    assert!(repositories.len() >= 4, "{repositories:?}");
    let stalled = repositories[3].clone();
    let done_before_kill = &repositories[..3];
    let directory = tempfile::tempdir().unwrap();
    let data_dir = directory.path().join("data");

    // First run: everything proxied to the real registry, except the fourth repository's tags.
    let holding = FaultyRegistry::builder()
        .get(&format!("/v2/{stalled}/tags/list"), Reply::stall())
        .any("/v2/*", Script::proxy(&registry.url(), str::to_owned))
        .start()
        .await
        .unwrap();
    let config = write_config(directory.path(), &holding.url());
    let mut first = ocicat_crawl(&config).stdout(Stdio::null()).spawn().unwrap();
    let committed = wait_for(&mut first, Duration::from_secs(60), || {
        committed_repositories(&data_dir) == done_before_kill.len() as u64
    })
    .await;
    assert!(committed, "the first three repositories were never committed");
    assert_eq!(holding.count(&format!("/v2/{stalled}/tags/list")), 1, "the crawl is held at the fourth repository");
    first.kill().unwrap(); // SIGKILL: no shutdown, no final commit
    first.wait().unwrap();

    // The index opens at its last commit: the three repositories, nothing half-written.
    let after_kill = ocicat_catalog::open_reader(&data_dir).unwrap();
    let checkpoint = after_kill.checkpoint("local").unwrap().expect("a checkpoint was committed");
    assert!(checkpoint.finished.is_none(), "the killed crawl never finished");
    let before: Vec<Vec<String>> =
        done_before_kill.iter().map(|repository| digests_of(&after_kill, repository)).collect();
    assert!(before.iter().all(|digests| !digests.is_empty()));
    assert!(digests_of(&after_kill, &stalled).is_empty());

    // Second run against a plain proxy: resumes, and never lists the repositories already done.
    let plain =
        FaultyRegistry::builder().any("/v2/*", Script::proxy(&registry.url(), str::to_owned)).start().await.unwrap();
    let config = write_config(directory.path(), &plain.url());
    // Async: the proxy runs on this test's runtime and must keep serving while we wait.
    let output = tokio::process::Command::from(ocicat_crawl(&config)).output().await.unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let status: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(status[0]["repositories_resumed"], done_before_kill.len());
    assert_eq!(status[0]["repositories_done"], repositories.len());
    for repository in done_before_kill {
        assert_eq!(plain.count(&format!("/v2/{repository}/tags/list")), 0, "{repository} was crawled again");
    }
    for repository in &repositories[3..] {
        assert_eq!(plain.count(&format!("/v2/{repository}/tags/list")), 1, "{repository} was not crawled");
    }

    // Every seeded artifact exactly once; the resumed repositories untouched.
    let catalog = ocicat_catalog::open_reader(&data_dir).unwrap();
    assert!(catalog.checkpoint("local").unwrap().unwrap().finished.is_some());
    for (repository, digests) in done_before_kill.iter().zip(&before) {
        assert_eq!(&digests_of(&catalog, repository), digests, "{repository}");
    }
    let mut total = 0;
    for repository in &repositories {
        let digests = digests_of(&catalog, repository);
        let distinct: BTreeSet<&String> = digests.iter().collect();
        assert_eq!(distinct.len(), digests.len(), "{repository}: duplicate documents");
        total += digests.len();
    }
    let seeded: BTreeSet<&str> = report.items.iter().map(|item| item.digest.as_str()).collect();
    for item in &report.items {
        assert!(catalog.artifact("local", &item.repository, &item.digest).unwrap().is_some(), "{} lost", item.digest);
    }
    assert!(total >= seeded.len());
    let counts = catalog.registry_counts("local").unwrap();
    assert_eq!(counts.repositories as usize, repositories.len());
}
