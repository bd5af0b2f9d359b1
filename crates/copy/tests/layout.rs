//! OCI image layouts against real tools: the seeder's app image (signatures, SBOMs, a signature
//! on an SBOM, scans, attestations) and its multi-platform index exported from distribution
//! 2.8.2 into a directory and as a streamed tar; skopeo and umoci read what ocicat wrote, and
//! ocicat reads it back (served by `ocicat-layout`, crawled like a registry) with the same graph
//! and the same verdicts; a layout written by `skopeo copy` is browsed and imported into
//! ferro-oci-server through a copy plan, digests intact.

mod support;

use std::path::Path;
use std::process::Command;

use futures::StreamExt as _;
use ocicat_catalog::Scope;
use ocicat_copy::{
    CopyRequest, Endpoint, ExportRequest, Role, execute, export_plan, export_tar, export_to_directory, plan,
};
use ocicat_layout::read::read_repository;
use ocicat_oci::{Client, ClientConfig, Credentials, Digest, Secret};
use ocicat_seed::{Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions, Ferro};
use support::{client, crawled, graph, subjects};

fn export_request(repository: &str, digest: &str, tag: &str) -> ExportRequest {
    ExportRequest {
        source: Endpoint { registry: "source".into(), repository: repository.into() },
        digest: Some(digest.into()),
        query: None,
        tags: vec![tag.into()],
        filter: ocicat_copy::GraphFilter::default(),
    }
}

/// A client reading the layouts under `server`.
fn layout_client(server: &ocicat_layout::LayoutServer) -> Client {
    let credentials = Credentials::Basic {
        username: ocicat_layout::USERNAME.into(),
        password: Secret::new(server.password().to_owned()),
    };
    Client::new(ClientConfig::new(server.url().clone(), credentials)).unwrap()
}

/// Runs a tool and answers its standard output, failing the test with its error otherwise.
fn run(program: &str, args: &[&str]) -> String {
    let output = Command::new(program).args(args).output().unwrap_or_else(|error| panic!("{program}: {error}"));
    assert!(output.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

/// The digest of the manifest skopeo reads from the layout at `dir` under `tag`.
fn skopeo_digest(dir: &Path, tag: &str) -> String {
    let raw = run("skopeo", &["inspect", "--raw", &format!("oci:{}:{tag}", dir.display())]);
    Digest::sha256(raw.as_bytes()).to_string()
}

#[tokio::test]
async fn an_exported_layout_reads_back_in_skopeo_umoci_and_ocicat_with_the_same_graph() {
    let distribution = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(distribution.url().parse().unwrap()), Size::Test).await.unwrap();
    let source_client = client(&distribution.url());
    let source = crawled("source", &source_client).await;
    let (repository, app, index) = subjects(&report);
    let (index_repository, index_digest) = index.split_once('@').unwrap();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("airgap/app");
    for (repository, digest, tag) in
        [(repository.as_str(), app.as_str(), "app-1"), (index_repository, index_digest, "index-1")]
    {
        let planned =
            export_plan(&source, &Scope::all(), &export_request(repository, digest, tag), Some(&dir)).unwrap();
        assert!(planned.manifests.iter().any(|item| item.role == Role::Referrer), "referrers go along: {planned:?}");
        let written = export_to_directory(&planned, &source_client, &dir).await.unwrap();
        assert!(written.complete, "{written:?}");
    }
    // Other tools read it: both names resolve to the exported digests.
    assert_eq!(skopeo_digest(&dir, "app-1"), app);
    assert_eq!(skopeo_digest(&dir, "index-1"), index_digest);
    let listed = run("umoci", &["ls", "--layout", &dir.display().to_string()]);
    assert!(listed.lines().any(|line| line == "app-1") && listed.lines().any(|line| line == "index-1"), "{listed}");
    run("umoci", &["stat", "--image", &format!("{}:app-1", dir.display())]);
    // ocicat reads it back: the same graph, digest for digest, with the same verdicts.
    let server = ocicat_layout::serve(root.path().join("airgap")).await.unwrap();
    let airgap = crawled("airgap", &layout_client(&server)).await;
    let expected = graph(&source, "source", &repository, &app);
    assert!(expected.len() >= 8, "a graph worth exporting: {expected:?}");
    assert_eq!(graph(&airgap, "airgap", "app", &app), expected);
    assert_eq!(graph(&airgap, "airgap", "app", index_digest), graph(&source, "source", index_repository, index_digest));
    // Again into the same directory: everything is there.
    let again = export_plan(&source, &Scope::all(), &export_request(&repository, &app, "app-1"), Some(&dir)).unwrap();
    assert_eq!((again.totals.manifests, again.totals.blobs), (0, 0), "{:?}", again.totals);
}

#[tokio::test]
async fn a_streamed_archive_has_the_announced_length_and_unpacks_to_a_layout_skopeo_reads() {
    let distribution = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(distribution.url().parse().unwrap()), Size::Test).await.unwrap();
    let source_client = client(&distribution.url());
    let source = crawled("source", &source_client).await;
    let (repository, app, _) = subjects(&report);
    let planned = export_plan(&source, &Scope::all(), &export_request(&repository, &app, "v1"), None).unwrap();
    let mut archive = export_tar(planned.clone(), source_client.clone()).unwrap();
    let mut bytes = Vec::new();
    while let Some(chunk) = archive.body.next().await {
        bytes.extend_from_slice(&chunk.unwrap());
    }
    assert_eq!(bytes.len() as u64, archive.length);
    let dir = tempfile::tempdir().unwrap();
    let files = ocicat_layout::archive::unpack(bytes.as_slice(), dir.path(), 1 << 30).unwrap();
    assert_eq!(files, 2 + planned.blobs.len() + planned.manifests.len());
    assert_eq!(skopeo_digest(dir.path(), "v1"), app);
    // Every referrer of the app is found again from the layout alone.
    let read = read_repository(dir.path()).unwrap();
    assert!(read.notes.is_empty(), "{:?}", read.notes);
    let attached = planned.manifests.iter().filter(|item| item.subject.as_deref() == Some(app.as_str())).count();
    assert_eq!(read.referrers.get(&app).map(Vec::len), Some(attached));
}

#[tokio::test]
async fn a_layout_skopeo_wrote_is_browsed_and_imported_with_its_digests() {
    let distribution = Distribution::start(DistributionOptions::anonymous()).await.unwrap();
    let report = ocicat_seed::seed(&Target::anonymous(distribution.url().parse().unwrap()), Size::Test).await.unwrap();
    let (_, _, index) = subjects(&report);
    let (index_repository, index_digest) = index.split_once('@').unwrap();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("mirror");
    run(
        "skopeo",
        &[
            "copy",
            "--quiet",
            "--all",
            "--preserve-digests",
            "--src-tls-verify=false",
            &format!("docker://{}/{index_repository}@{index_digest}", distribution.host()),
            &format!("oci:{}:v1", dir.display()),
        ],
    );
    let server = ocicat_layout::serve(root.path().to_path_buf()).await.unwrap();
    let layout = layout_client(&server);
    let airgap = crawled("airgap", &layout).await;
    let tagged = airgap.artifact("airgap", "mirror", index_digest).unwrap().expect("the index is browsable");
    assert_eq!(tagged.tags, vec!["v1".to_owned()]);
    assert!(tagged.children.len() >= 2, "{:?}", tagged.children);
    let ferro = Ferro::start().await.unwrap();
    let destination = client(&ferro.url());
    let request = CopyRequest {
        source: Endpoint { registry: "airgap".into(), repository: "mirror".into() },
        digest: None,
        query: None,
        destination: Endpoint { registry: "ferro".into(), repository: "imported".into() },
        tags: Vec::new(),
        filter: ocicat_copy::GraphFilter::default(),
    };
    let planned = plan(&airgap, &Scope::all(), &destination, &request).await.unwrap();
    let done = execute(&planned, &planned.fingerprint, false, &layout, &destination).await.unwrap();
    assert!(done.complete, "{done:?}");
    let landed = destination.head_manifest("imported", "v1").await.unwrap().map(|digest| digest.to_string());
    assert_eq!(landed.as_deref(), Some(index_digest));
    for child in &tagged.children {
        assert!(destination.head_manifest("imported", &child.digest).await.unwrap().is_some(), "{}", child.digest);
    }
    // Writes to a layout source are refused.
    let refused =
        layout.push_manifest("mirror", "v2", "application/vnd.oci.image.index.v1+json", b"{}".to_vec().into()).await;
    assert!(refused.is_err(), "{refused:?}");
}
