//! Every `ocicat` subcommand the README shows, run as the real binary against a real seeded
//! distribution 2.8.2: `user`, `check-config`, `crawl`, `search` (a query, a pasted digest,
//! `repo:tag`), `copy`, `export`, `import`, `delete` (plan, then `--yes`), `retention list|run`,
//! `audit`, `verify`, and a `layout` registry. Each checks what the command printed and what it
//! changed in the registry.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use ocicat_seed::{SeedReport, Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions};
use serde_json::Value;

const PASSWORD: &str = "correct horse battery staple";

/// A configuration over `registry_url` with an `ops` admin and two retention policies: a dry
/// run over everything and one that deletes in `charts/**`.
fn write_config(directory: &Path, registry_url: &str) -> PathBuf {
    let path = directory.join("ocicat.toml");
    let config = format!(
        r#"[server]
data_dir = {data:?}

[[registry]]
name = "local"
url = {registry_url:?}

[access]
users_file = {users:?}
secure_cookies = false

[[access.user]]
name = "ops"
grants = [{{ role = "admin", registry = "*" }}]

[[retention]]
name = "everything"
registry = "local"
keep_newest = 0
every_hours = 0

[[retention]]
name = "charts"
registry = "local"
repositories = "charts/**"
keep_newest = 0
every_hours = 0
dry_run = false
"#,
        data = directory.join("data").display().to_string(),
        users = directory.join("users").display().to_string(),
    );
    std::fs::write(&path, config).unwrap();
    path
}

/// Runs `ocicat --config <config> <arguments>` with `input` on stdin.
fn ocicat(config: &Path, arguments: &[&str], input: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ocicat"))
        .arg("--config")
        .arg(config)
        .args(arguments)
        .env("RUST_LOG", "warn")
        .env_remove("OCICAT_LOG_FORMAT")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the ocicat binary starts");
    if let Some(input) = input {
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    }
    drop(child.stdin.take());
    child.wait_with_output().unwrap()
}

/// Runs a command that must succeed; returns its standard output.
fn ok(config: &Path, arguments: &[&str], input: Option<&str>) -> String {
    let output = ocicat(config, arguments, input);
    let (stdout, stderr) = (String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "ocicat {arguments:?} failed: {stderr}\n{stdout}");
    stdout.into_owned()
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"))
}

fn seeded_tag<'a>(report: &'a SeedReport, repository_prefix: &str) -> (&'a str, &'a str, &'a str) {
    let item = report
        .items
        .iter()
        .find(|item| {
            item.repository.starts_with(repository_prefix)
                && item.reference.as_ref().is_some_and(|tag| !tag.starts_with("sha256-"))
        })
        .expect("a tagged seeded item");
    (&item.repository, item.reference.as_deref().unwrap(), &item.digest)
}

#[tokio::test]
async fn every_readme_command_works_on_a_crawled_registry() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let directory = tempfile::tempdir().unwrap();
    let config = write_config(directory.path(), &registry.url());

    // Users first: check-config resolves them from the users file.
    ok(&config, &["user", "add", "ops"], Some(&format!("{PASSWORD}\n")));
    assert_eq!(ok(&config, &["user", "list"], None).trim(), "ops");
    ok(&config, &["user", "passwd", "ops"], Some("another good password\n"));
    let checked = ok(&config, &["check-config"], None);
    assert!(checked.contains(": ok (1 registries, 1 users)"), "{checked}");

    let crawled = json(&ok(&config, &["crawl"], None));
    assert_eq!(crawled[0]["name"], "local");
    assert_eq!(crawled[0]["state"], "idle", "{crawled:#}");
    assert_eq!(crawled[0]["repositories_done"], report.repositories().len() as u64);

    // Search, as documented: a query, a pasted digest, a pasted repo:tag.
    let sboms = json(&ok(&config, &["search", "kind:sbom"], None));
    let expected = report.items.iter().filter(|item| item.kind == "sbom").count() as u64;
    assert_eq!(sboms["total"], expected, "{sboms:#}");
    let (repository, tag, digest) = seeded_tag(&report, "demo/");
    for query in [
        format!("digest:{digest}"),
        digest.to_owned(),
        format!("{repository}:{tag}"),
        format!("local/{repository}:{tag}"),
    ] {
        let found = json(&ok(&config, &["search", &query], None));
        assert_eq!(found["total"], 1, "{query}: {found:#}");
        assert_eq!(found["hits"][0]["digest"], digest, "{query}");
    }
    let refused = ocicat(&config, &["search", "vulnz > 1"], None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("unknown field 'vulnz'"));

    // Copy: the plan first, nothing written; then for real, under the same digest.
    let client = ocicat_oci::Client::new(ocicat_oci::ClientConfig::new(
        registry.url().parse().unwrap(),
        ocicat_oci::Credentials::Anonymous,
    ))
    .unwrap();
    let source = format!("local/{repository}:{tag}");
    let planned = json(&ok(&config, &["copy", &source, "local/promoted/app:copied"], None));
    assert_eq!(planned["plan"]["manifests"][0]["digest"], digest, "{planned:#}");
    assert_eq!(client.head_manifest("promoted/app", "copied").await.ok().flatten(), None, "a plan writes nothing");
    let copied = json(&ok(&config, &["copy", &source, "local/promoted/app:copied", "--yes"], None));
    assert_eq!(copied["report"]["complete"], true, "{copied:#}");
    assert_eq!(
        client.head_manifest("promoted/app", "copied").await.unwrap().map(|found| found.to_string()),
        Some(digest.to_owned())
    );
    // A whole repository, each artifact with its own tags; a search within it.
    let mirrored = json(&ok(&config, &["copy", &format!("local/{repository}"), "local/mirror/all", "--yes"], None));
    assert_eq!(mirrored["report"]["complete"], true, "{mirrored:#}");
    assert_eq!(
        client.head_manifest("mirror/all", tag).await.unwrap().map(|found| found.to_string()),
        Some(digest.to_owned())
    );
    let searched = json(&ok(
        &config,
        &["copy", &format!("local/{repository}"), "local/mirror/picked", "--query", &format!("tag:{tag}")],
        None,
    ));
    assert_eq!(searched["plan"]["tags"], serde_json::json!([{"tag": tag, "digest": digest}]), "{searched:#}");

    // Delete: the plan first, nothing deleted; then for real.
    let target = format!("local/{repository}:{tag}");
    let plan = json(&ok(&config, &["delete", &target], None));
    assert_eq!(plan["targets"][0]["digest"], digest, "{plan:#}");
    assert!(client.head_manifest(repository, digest).await.is_ok(), "a plan deletes nothing");
    let done = json(&ok(&config, &["delete", &target, "--yes"], None));
    assert_eq!(done["state"], "done", "{done:#}");
    assert!(client.head_manifest(repository, digest).await.is_err(), "deleted");

    // Retention: listed; a dry run reports; deleting with a dry-run policy needs the override.
    let policies = json(&ok(&config, &["retention", "list"], None));
    assert_eq!(policies.as_array().unwrap().len(), 2);
    let report_only = json(&ok(&config, &["retention", "run", "everything"], None));
    assert_eq!(report_only["dry_run"], true);
    assert!(!report_only["choices"].as_array().unwrap().is_empty());
    let refused = ocicat(&config, &["retention", "run", "everything", "--execute"], None);
    assert!(!refused.status.success(), "a dry-run policy does not delete without the override");
    assert!(String::from_utf8_lossy(&refused.stderr).contains("override"), "{:?}", refused);
    let (chart, chart_tag, chart_digest) = seeded_tag(&report, "charts/");
    let deleting = json(&ok(&config, &["retention", "run", "charts"], None));
    assert_eq!(deleting["dry_run"], false, "the charts policy deletes as configured");
    assert!(deleting["deleted"].as_u64().unwrap() > 0, "{deleting:#}");
    assert!(client.head_manifest(chart, chart_digest).await.is_err(), "{chart}:{chart_tag} went");

    // The audit log, oldest first, as JSON lines.
    let audit = ok(&config, &["audit"], None);
    let lines: Vec<Value> = audit.lines().map(json).collect();
    assert!(lines.windows(2).all(|pair| pair[0]["seq"].as_i64() < pair[1]["seq"].as_i64()), "oldest first");
    assert!(lines.iter().any(|line| line["action"] == "delete" && line["digest"] == digest));
    assert!(lines.iter().any(|line| line["action"] == "copy-tag" && line["tags"][0] == "copied"));
    assert!(lines.iter().any(|line| line["actor"] == "retention:charts" && line["outcome"] == "deleted"));

    ok(&config, &["user", "remove", "ops"], None);
    assert_eq!(ok(&config, &["user", "list"], None).trim(), "");
}

/// The digest the cosign payload of signature manifest `signature` names, read from the registry.
async fn cosign_signed_digest(client: &ocicat_oci::Client, repository: &str, signature: &str) -> String {
    let manifest: Value =
        serde_json::from_slice(&client.get_manifest(repository, signature).await.unwrap().raw).unwrap();
    let layer = manifest["layers"][0]["digest"].as_str().unwrap().parse().unwrap();
    let payload: Value = serde_json::from_slice(&client.get_blob(repository, &layer).await.unwrap()).unwrap();
    payload["critical"]["image"]["docker-manifest-digest"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn verify_prints_the_verdicts_and_fails_unless_a_trust_policy_vouches() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let directory = tempfile::tempdir().unwrap();
    // A key path relative to the configuration, as the README shows.
    std::fs::write(directory.path().join("release.pub"), ocicat_seed::DEMO_SIGNER_PUBLIC_KEY).unwrap();
    let config = directory.path().join("ocicat.toml");
    std::fs::write(
        &config,
        format!(
            "[server]\ndata_dir = {:?}\n\n[[registry]]\nname = \"local\"\nurl = {:?}\n\n[[trust]]\nname = \"release\"\nregistry = \"local\"\nrepositories = \"demo/**\"\ncosign_public_keys = [\"release.pub\"]\n",
            directory.path().join("data").display().to_string(),
            registry.url(),
        ),
    )
    .unwrap();
    let checked = ok(&config, &["check-config"], None);
    assert!(checked.contains("1 trust policies with 1 keys"), "{checked}");
    ok(&config, &["crawl"], None);

    let client = ocicat_oci::Client::new(ocicat_oci::ClientConfig::new(
        registry.url().parse().unwrap(),
        ocicat_oci::Credentials::Anonymous,
    ))
    .unwrap();
    let signatures: Vec<_> = report
        .items
        .iter()
        .filter(|item| item.kind == "signature" && item.reference.as_deref().is_some_and(|tag| tag.ends_with(".sig")))
        .collect();
    assert!(signatures.len() >= 2, "a genuine and a copied cosign signature are seeded");
    let mut copied = Vec::new();
    for signature in signatures {
        let subject = signature.subject.as_deref().unwrap();
        let target = format!("local/{}@{subject}", signature.repository);
        let output = ocicat(&config, &["verify", &target], None);
        let verdicts = json(&String::from_utf8_lossy(&output.stdout));
        if cosign_signed_digest(&client, &signature.repository, &signature.digest).await == subject {
            assert!(output.status.success(), "{target}: {verdicts:#}");
            assert_eq!(verdicts["status"], "verified", "{verdicts:#}");
            assert_eq!(verdicts["policies"], serde_json::json!(["release"]));
        } else {
            assert!(!output.status.success(), "a copied signature verifies nothing: {verdicts:#}");
            assert_eq!(verdicts["status"], "invalid", "{verdicts:#}");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains("a signature is invalid and none is verified"), "{stderr}");
            let reason = verdicts["signatures"][0]["verifications"][0]["reason"].as_str().unwrap();
            assert!(reason.starts_with("signs sha256:") && reason.ends_with(")"), "{reason}");
            copied.push(subject.to_owned());
        }
    }
    assert_eq!(copied.len(), 1);
    let invalid = json(&ok(&config, &["search", "signature:invalid"], None));
    assert_eq!(invalid["total"], 1, "{invalid:#}");
    assert_eq!(invalid["hits"][0]["digest"], copied[0].as_str());

    // Nothing signs a chart: `verify` says so and fails.
    let (chart, chart_tag, _) = seeded_tag(&report, "charts/");
    let unsigned = ocicat(&config, &["verify", &format!("local/{chart}:{chart_tag}")], None);
    assert!(!unsigned.status.success());
    assert_eq!(json(&String::from_utf8_lossy(&unsigned.stdout))["status"], "none");
}

/// `export` to a directory and a tar, the directory browsed as a `layout` registry, and
/// `import` of the tar into the registry: digests intact, a plan that writes nothing first,
/// audit lines after.
#[tokio::test]
async fn export_import_and_a_layout_registry_work_as_the_readme_shows() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(registry.url().parse().unwrap()), Size::Test).await.unwrap();
    let directory = tempfile::tempdir().unwrap();
    let layouts = directory.path().join("layouts");
    std::fs::create_dir_all(&layouts).unwrap();
    let config = directory.path().join("ocicat.toml");
    let text = format!(
        "[server]\ndata_dir = {data:?}\n\n[[registry]]\nname = \"local\"\nurl = {url:?}\n\n[[registry]]\nname = \"airgap\"\nlayout = \"layouts\"\n",
        data = directory.path().join("data").display().to_string(),
        url = registry.url(),
    );
    std::fs::write(&config, text).unwrap();
    ok(&config, &["crawl"], None);
    let (repository, tag, digest) = seeded_tag(&report, "demo/");
    let source = format!("local/{repository}:{tag}");

    // Export: a directory (skopeo reads it) and a tar archive.
    let exported = json(&ok(&config, &["export", &source, &layouts.join("app").display().to_string()], None));
    assert_eq!(exported["report"]["complete"], true, "{exported:#}");
    let raw = Command::new("skopeo")
        .args(["inspect", "--raw", &format!("oci:{}:{tag}", layouts.join("app").display())])
        .output()
        .unwrap();
    assert!(raw.status.success(), "{}", String::from_utf8_lossy(&raw.stderr));
    assert_eq!(ocicat_oci::Digest::sha256(&raw.stdout).to_string(), digest);
    let archive = directory.path().join("app.tar");
    let planned = json(&ok(&config, &["export", &source, &archive.display().to_string()], None));
    assert_eq!(planned["roots"][0], digest, "{planned:#}");
    assert!(std::fs::metadata(&archive).unwrap().len() > 2048);

    // The layout directory, crawled as the registry `airgap`: the same digest is found there.
    ok(&config, &["crawl"], None);
    let found = json(&ok(&config, &["search", &format!("digest:{digest}")], None));
    let registries: Vec<&str> =
        found["hits"].as_array().unwrap().iter().filter_map(|hit| hit["registry"].as_str()).collect();
    assert!(registries.contains(&"airgap") && registries.contains(&"local"), "{found:#}");

    // Import the archive: the plan first (nothing written), then for real.
    let client = ocicat_oci::Client::new(ocicat_oci::ClientConfig::new(
        registry.url().parse().unwrap(),
        ocicat_oci::Credentials::Anonymous,
    ))
    .unwrap();
    let destination = "local/imported/app:v9";
    let plan = json(&ok(&config, &["import", &archive.display().to_string(), destination], None));
    assert_eq!(plan["plan"]["roots"][0], digest, "{plan:#}");
    assert_eq!(client.head_manifest("imported/app", "v9").await.ok().flatten(), None, "a plan writes nothing");
    let imported = json(&ok(&config, &["import", &archive.display().to_string(), destination, "--yes"], None));
    assert_eq!(imported["report"]["complete"], true, "{imported:#}");
    assert_eq!(
        client.head_manifest("imported/app", "v9").await.unwrap().map(|found| found.to_string()),
        Some(digest.to_owned())
    );
    // As the README shows it: no tag named, every tagged artifact of the layout with its own tags.
    let whole = json(&ok(&config, &["import", &archive.display().to_string(), "local/imported/whole", "--yes"], None));
    assert_eq!(whole["report"]["complete"], true, "{whole:#}");
    assert_eq!(
        client.head_manifest("imported/whole", tag).await.unwrap().map(|found| found.to_string()),
        Some(digest.to_owned())
    );
    let audit: Vec<Value> = ok(&config, &["audit"], None).lines().map(json).collect();
    assert!(audit.iter().any(|line| line["action"] == "export-directory" && line["digest"] == digest));
    assert!(audit.iter().any(|line| line["action"] == "copy-tag" && line["tags"][0] == "v9"));
    // Attach later, as the README shows: an end of life the index reads back, and annotations.
    ok(&config, &["crawl"], None);
    let attached = json(&ok(&config, &["attach", "local/imported/app:v9", "--eol", "2020-01-31"], None));
    assert_eq!(attached["artifact_type"], "application/vnd.microsoft.artifact.lifecycle", "{attached:#}");
    let noted = json(&ok(&config, &["attach", "local/imported/app:v9", "--annotation", "owner=team-a"], None));
    assert_eq!(noted["artifact_type"], "application/vnd.ocicat.annotations.v1+json", "{noted:#}");
    ok(&config, &["crawl"], None);
    let expired = json(&ok(&config, &["search", "repo:imported/app eol < today"], None));
    assert_eq!(expired["total"], 1, "{expired:#}");
    assert_eq!(expired["hits"][0]["digest"], digest);
    // Impact, as the README shows it (CSV), and one the seed's real Debian SBOM answers.
    let csv = ok(&config, &["impact", "pkg:openssl version < 3.0.13", "--csv"], None);
    assert!(csv.starts_with("registry,repository,digest,tags,created,package"), "{csv}");
    let libc = ok(&config, &["impact", "pkg:libc6 version < 2.36-10", "--csv"], None);
    assert!(libc.lines().any(|line| line.contains(",libc6,2.36-9+deb12u14,deb,")), "{libc}");
    let newer = ok(&config, &["impact", "pkg:libc6 version < 2.36-9", "--csv"], None);
    assert_eq!(newer.lines().count(), 1, "Debian orders 2.36-9+deb12u14 after 2.36-9: {newer}");
    let sorted = json(&ok(&config, &["impact", "pkg:libc6", "--sort", "affected"], None));
    assert_eq!(sorted["sort"], "affected", "{sorted:#}");
    let counts: Vec<usize> =
        sorted["groups"].as_array().unwrap().iter().map(|group| group["rows"].as_array().unwrap().len()).collect();
    assert!(!counts.is_empty() && counts.windows(2).all(|pair| pair[0] >= pair[1]), "{counts:?}");
    let owned = json(&ok(&config, &["search", "annotation.\"owner\" = team-a"], None));
    assert_eq!(
        (owned["total"].as_u64(), &owned["hits"][0]["digest"]),
        (Some(1), &serde_json::json!(digest)),
        "{owned:#}"
    );
    // Every result of a search, as the README shows: listed first, marked with --yes.
    let query = "repo:imported/whole created < now-1d";
    let listed = json(&ok(&config, &["attach", "--query", query, "--eol", "2020-01-31"], None));
    assert_eq!(
        (listed["dry_run"].as_bool(), listed["targets"].as_array().map(Vec::len)),
        (Some(true), Some(1)),
        "{listed:#}"
    );
    assert_eq!(listed["targets"][0]["attached"], Value::Null, "a listing attaches nothing");
    let marked = json(&ok(&config, &["attach", "--query", query, "--eol", "2020-01-31", "--yes"], None));
    assert_eq!((marked["attached"].as_u64(), marked["failed"].as_u64()), (Some(1), Some(0)), "{marked:#}");
    ok(&config, &["crawl"], None);
    let ended = json(&ok(&config, &["search", "repo:imported/whole eol < today"], None));
    assert_eq!(ended["total"], 1, "{ended:#}");
    // A directory of several layouts needs one of them named.
    ok(&config, &["export", &source, &layouts.join("second").display().to_string()], None);
    let refused = ocicat(&config, &["import", &layouts.display().to_string(), "local/imported/all"], None);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("several layouts (app, second)"), "{refused:?}");
}
