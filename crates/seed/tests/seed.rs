//! Seeds real registries (distribution 2.8.2 anonymous, basic and token auth; ferro-oci-server
//! with the referrers API) and checks that what the report claims is really there.

use std::collections::BTreeSet;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ocicat_oci::{Client, ClientConfig, Credentials, Digest, ManifestBody, Secret, classify};
use ocicat_seed::{SeedReport, Size, Target, seed};
use ocicat_testkit::{Distribution, DistributionOptions, Ferro};
use serde_json::Value;

const TEST_REPOSITORIES: [&str; 6] =
    ["base/debian-slim", "charts/nginx", "ci/build-123", "demo/api", "demo/app", "wasm/hello"];

fn target(url: &str, credentials: Option<(String, String)>, referrers_api: bool) -> Target {
    let (username, password) =
        credentials.map_or((None, None), |(username, password)| (Some(username), Some(password)));
    Target { url: url.parse().expect("registry url parses"), username, password, referrers_api }
}

fn client(target: &Target) -> Client {
    let credentials = match &target.username {
        Some(username) => Credentials::Basic {
            username: username.clone(),
            password: Secret::new(target.password.clone().unwrap_or_default()),
        },
        None => Credentials::Anonymous,
    };
    Client::new(ClientConfig::new(target.url.clone(), credentials)).expect("client builds")
}

async fn manifest_json(client: &Client, repository: &str, reference: &str) -> Value {
    let manifest = client
        .get_manifest(repository, reference)
        .await
        .unwrap_or_else(|error| panic!("{repository}:{reference}: {error}"));
    serde_json::from_slice(&manifest.raw).expect("manifest is json")
}

fn digest_of<'a>(report: &'a SeedReport, repository: &str, tag: &str) -> &'a str {
    &report.tagged(repository, tag).unwrap_or_else(|| panic!("{repository}:{tag} is not in the report")).digest
}

/// The `(artifactType, annotations)` of every descriptor in a fallback index or referrers list.
fn artifact_types(index: &Value) -> BTreeSet<String> {
    index["manifests"]
        .as_array()
        .expect("manifests array")
        .iter()
        .map(|entry| entry["artifactType"].as_str().unwrap_or("").to_owned())
        .collect()
}

fn sorted_items(report: &SeedReport) -> Vec<String> {
    let mut items: Vec<String> = report.items.iter().map(|item| format!("{item:?}")).collect();
    items.sort();
    items
}

fn lifecycle_date(index: &Value) -> String {
    let entry = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .find(|entry| entry["artifactType"] == "application/vnd.microsoft.artifact.lifecycle")
        .expect("a lifecycle referrer");
    entry["annotations"]["vnd.microsoft.artifact.lifecycle.end-of-life.date"].as_str().unwrap().to_owned()
}

/// Checks everything that is the same on every registry: catalog, kinds, manifests, tools' output.
async fn assert_core_data_set(client: &Client, report: &SeedReport) {
    let catalog: BTreeSet<String> = client.catalog().await.expect("catalog").items.into_iter().collect();
    let expected: BTreeSet<String> = TEST_REPOSITORIES.iter().map(|name| (*name).to_owned()).collect();
    assert_eq!(catalog, expected);
    assert_eq!(report.repositories(), TEST_REPOSITORIES.to_vec());
    for kind in ["image", "index", "helm", "wasm", "sbom", "signature", "attestation", "scan", "lifecycle"] {
        assert!(report.of_kind(kind).next().is_some(), "no {kind} in the report");
    }
    for item in &report.items {
        let manifest = client
            .get_manifest(&item.repository, &item.digest)
            .await
            .unwrap_or_else(|error| panic!("{item:?}: {error}"));
        assert_eq!(manifest.digest.to_string(), item.digest);
        assert_eq!(classify(&manifest).0.as_str(), item.kind, "the crawler's kind of {item:?}");
    }

    let app = client.get_manifest("demo/app", "1.0.0").await.unwrap();
    let ManifestBody::Image(app_manifest) = &app.body else { panic!("demo/app:1.0.0 is not an image") };
    assert_eq!(app_manifest.annotations().as_ref().unwrap()["org.opencontainers.image.version"], "1.0.0");
    let api = client.get_manifest("demo/api", "2.0.0").await.unwrap();
    assert_eq!(api.media_type, "application/vnd.docker.distribution.manifest.v2+json");

    let base = manifest_json(client, "base/debian-slim", "bookworm").await;
    let platforms: Vec<String> = base["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|entry| {
            format!(
                "{}/{}",
                entry["platform"]["os"].as_str().unwrap(),
                entry["platform"]["architecture"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(platforms, ["linux/amd64", "linux/arm64"]);

    let chart = manifest_json(client, "charts/nginx", "15.2.1").await;
    assert_eq!(chart["config"]["mediaType"], "application/vnd.cncf.helm.config.v1+json");
    assert_eq!(chart["layers"][0]["mediaType"], "application/vnd.cncf.helm.chart.content.v1.tar+gzip");
    assert!(chart.get("mediaType").is_none(), "helm manifests carry no mediaType");

    let wasm = manifest_json(client, "wasm/hello", "0.1.0").await;
    assert_eq!(wasm["config"]["mediaType"], "application/vnd.wasm.config.v0+json");
    let module_digest: Digest = wasm["layers"][0]["digest"].as_str().unwrap().parse().unwrap();
    assert!(client.get_blob("wasm/hello", &module_digest).await.unwrap().starts_with(b"\0asm\x01\0\0\0"));

    let build = manifest_json(client, "ci/build-123", "main").await;
    let attestation = &build["manifests"][1];
    assert_eq!(attestation["platform"]["architecture"], "unknown");
    assert_eq!(attestation["annotations"]["vnd.docker.reference.type"], "attestation-manifest");
    assert_eq!(attestation["annotations"]["vnd.docker.reference.digest"], build["manifests"][0]["digest"]);
    let attestation_manifest = manifest_json(client, "ci/build-123", attestation["digest"].as_str().unwrap()).await;
    assert_eq!(
        attestation_manifest["layers"][0]["annotations"]["in-toto.io/predicate-type"],
        "https://slsa.dev/provenance/v0.2"
    );

    let app_digest: Digest = digest_of(report, "demo/app", "1.0.0").parse().unwrap();
    let signature = manifest_json(client, "demo/app", &format!("{}.sig", app_digest.fallback_tag())).await;
    assert_eq!(signature["layers"][0]["mediaType"], "application/vnd.dev.cosign.simplesigning.v1+json");
    assert!(
        signature["layers"][0]["annotations"]["dev.cosignproject.cosign/signature"]
            .as_str()
            .is_some_and(|value| !value.is_empty())
    );
    let attestations = manifest_json(client, "demo/app", &format!("{}.att", app_digest.fallback_tag())).await;
    let predicate_types: Vec<&str> = attestations["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|layer| {
            assert_eq!(layer["mediaType"], "application/vnd.dsse.envelope.v1+json");
            layer["annotations"]["predicateType"].as_str().unwrap()
        })
        .collect();
    assert_eq!(predicate_types, ["https://slsa.dev/provenance/v0.2", "https://cyclonedx.org/bom"]);
    let sbom_statement = statement_of(&blob_json(client, &attestations["layers"][1]).await);
    assert_eq!(sbom_statement["predicate"]["bomFormat"], "CycloneDX");
    assert_eq!(sbom_statement["subject"][0]["digest"]["sha256"], app_digest.hex());

    assert_cosign_referrers(client, report, &app_digest).await;
}

async fn blob_json(client: &Client, descriptor: &Value) -> Value {
    let digest: Digest = descriptor["digest"].as_str().unwrap().parse().unwrap();
    serde_json::from_slice(&client.get_blob("demo/app", &digest).await.unwrap()).expect("blob is json")
}

/// The in-toto statement inside a DSSE envelope.
fn statement_of(envelope: &Value) -> Value {
    assert_eq!(envelope["payloadType"], "application/vnd.in-toto+json");
    assert!(envelope["signatures"][0]["sig"].as_str().is_some_and(|sig| !sig.is_empty()));
    let payload = STANDARD.decode(envelope["payload"].as_str().unwrap()).unwrap();
    serde_json::from_slice(&payload).expect("statement is json")
}

/// The sigstore bundle signature and the vulnerability attestation referrer of the newest app.
async fn assert_cosign_referrers(client: &Client, report: &SeedReport, app_digest: &Digest) {
    let referrers = report
        .items
        .iter()
        .filter(|item| item.reference.is_none() && item.subject.as_deref() == Some(&app_digest.to_string()));
    let mut bundles = Vec::new();
    let mut vuln_attestations = Vec::new();
    for item in referrers {
        let manifest = manifest_json(client, "demo/app", &item.digest).await;
        match manifest["artifactType"].as_str() {
            Some("application/vnd.dev.sigstore.bundle.v0.3+json") => bundles.push((item.kind, manifest)),
            Some("application/vnd.in-toto+json") => vuln_attestations.push((item.kind, manifest)),
            _ => {}
        }
    }
    let [(kind, bundle)] = bundles.as_slice() else { panic!("one bundle referrer, not {}", bundles.len()) };
    assert_eq!(*kind, "signature");
    assert_eq!(bundle["config"]["mediaType"], "application/vnd.oci.empty.v1+json");
    assert_eq!(bundle["annotations"]["dev.sigstore.bundle.content"], "dsse-envelope");
    assert_eq!(bundle["annotations"]["dev.sigstore.bundle.predicateType"], "https://sigstore.dev/cosign/sign/v1");
    assert!(bundle["annotations"]["org.opencontainers.image.created"].is_string());
    assert_eq!(bundle["layers"][0]["mediaType"], "application/vnd.dev.sigstore.bundle.v0.3+json");
    let content = blob_json(client, &bundle["layers"][0]).await;
    assert_eq!(content["mediaType"], "application/vnd.dev.sigstore.bundle.v0.3+json");
    let certificate = STANDARD.decode(content["verificationMaterial"]["certificate"]["rawBytes"].as_str().unwrap());
    assert_eq!(certificate.unwrap()[0], 0x30, "the certificate is DER");
    let statement = statement_of(&content["dsseEnvelope"]);
    assert_eq!(statement["predicateType"], "https://sigstore.dev/cosign/sign/v1");
    assert_eq!(statement["subject"][0]["digest"]["sha256"], app_digest.hex());

    let [(kind, vuln)] = vuln_attestations.as_slice() else { panic!("one in-toto referrer") };
    assert_eq!(*kind, "attestation", "ocicat classifies application/vnd.in-toto+json as an attestation");
    let layer = &vuln["layers"][0];
    assert_eq!(layer["mediaType"], "application/vnd.dsse.envelope.v1+json");
    assert_eq!(layer["annotations"]["predicateType"], "https://cosign.sigstore.dev/attestation/vuln/v1");
    let statement = statement_of(&blob_json(client, layer).await);
    assert_eq!(statement["subject"][0]["digest"]["sha256"], app_digest.hex());
    let result = statement["predicate"]["scanner"]["result"].to_string();
    assert!(result.contains("CVE-2023-45853") && result.contains("CVE-2024-6345"), "the attested report");
    let newest_scan = report
        .of_kind("scan")
        .filter(|item| item.subject.as_deref() == Some(&app_digest.to_string()))
        .map(|item| item.digest.clone());
    for scan in newest_scan {
        let scan = manifest_json(client, "demo/app", &scan).await;
        let created =
            |manifest: &Value| manifest["annotations"]["org.opencontainers.image.created"].as_str().unwrap().to_owned();
        assert!(created(vuln) > created(&scan), "the attested scan is the newest");
    }
}

#[tokio::test]
async fn test_size_fills_anonymous_distribution_and_maintains_fallback_tags() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.expect("distribution starts");
    let target = target(&registry.url(), None, false);
    let report = seed(&target, Size::Test).await.expect("seeding succeeds");
    let client = client(&target);
    assert_core_data_set(&client, &report).await;

    let app_digest: Digest = digest_of(&report, "demo/app", "1.0.0").parse().unwrap();
    let fallback = manifest_json(&client, "demo/app", &app_digest.fallback_tag()).await;
    assert_eq!(fallback["mediaType"], "application/vnd.oci.image.index.v1+json");
    let expected_types: BTreeSet<String> = [
        "application/spdx+json",
        "application/vnd.cyclonedx+json",
        "application/vnd.aquasec.trivy.report+json",
        "application/sarif+json",
        "application/vnd.cncf.notary.signature",
        "application/vnd.microsoft.artifact.lifecycle",
        "application/vnd.dev.sigstore.bundle.v0.3+json",
        "application/vnd.in-toto+json",
    ]
    .iter()
    .map(|name| (*name).to_owned())
    .collect();
    assert_eq!(artifact_types(&fallback), expected_types);
    let listed: BTreeSet<&str> =
        fallback["manifests"].as_array().unwrap().iter().map(|entry| entry["digest"].as_str().unwrap()).collect();
    let referrers: BTreeSet<&str> = report
        .items
        .iter()
        .filter(|item| item.subject.as_deref() == Some(&app_digest.to_string()) && item.reference.is_none())
        .map(|item| item.digest.as_str())
        .collect();
    assert_eq!(listed, referrers);
    assert_eq!(lifecycle_date(&fallback), ocicat_seed::future_end_of_life());

    let old_digest: Digest = digest_of(&report, "demo/app", "0.9.0").parse().unwrap();
    let old_fallback = manifest_json(&client, "demo/app", &old_digest.fallback_tag()).await;
    assert_eq!(lifecycle_date(&old_fallback), "2024-06-30");

    let sbom = report.of_kind("sbom").find(|item| item.subject.as_deref() == Some(&app_digest.to_string())).unwrap();
    let sbom_digest: Digest = sbom.digest.parse().unwrap();
    let sbom_fallback = manifest_json(&client, "demo/app", &sbom_digest.fallback_tag()).await;
    assert_eq!(artifact_types(&sbom_fallback), BTreeSet::from(["application/vnd.cncf.notary.signature".to_owned()]));

    let scan = report.of_kind("scan").next().unwrap();
    let scan_manifest = manifest_json(&client, "demo/app", &scan.digest).await;
    let report_digest: Digest = scan_manifest["layers"][0]["digest"].as_str().unwrap().parse().unwrap();
    let scan_body: Value = serde_json::from_slice(&client.get_blob("demo/app", &report_digest).await.unwrap()).unwrap();
    let text = scan_body.to_string();
    assert!(text.contains("CVE-2023-45853") && text.contains("CVE-2022-40897"), "scan lists the real advisories");

    let again = seed(&target, Size::Test).await.expect("seeding twice succeeds");
    assert_eq!(sorted_items(&again), sorted_items(&report), "seeding is deterministic");
    let fallback_again = manifest_json(&client, "demo/app", &app_digest.fallback_tag()).await;
    assert_eq!(fallback_again["manifests"].as_array().unwrap().len(), listed.len(), "re-seeding adds no duplicates");
}

#[tokio::test]
async fn test_size_fills_basic_auth_distribution_with_tools_using_credentials() {
    let registry =
        Distribution::start(DistributionOptions::basic("seeder", "s3cret-pass")).await.expect("distribution starts");
    let target = target(&registry.url(), registry.credentials(), false);
    let report = seed(&target, Size::Test).await.expect("seeding succeeds");
    assert_core_data_set(&client(&target), &report).await;

    let anonymous = Target { username: None, password: None, ..target.clone() };
    let error = seed(&anonymous, Size::Test).await.expect_err("anonymous seeding is refused");
    assert!(format!("{error:#}").contains("authentication failed"), "{error:#}");
}

#[tokio::test]
async fn test_size_fills_token_auth_distribution() {
    let registry =
        Distribution::start(DistributionOptions::token("seeder", "t0ken-pass")).await.expect("distribution starts");
    let target = target(&registry.url(), registry.credentials(), false);
    let report = seed(&target, Size::Test).await.expect("seeding succeeds");
    assert_core_data_set(&client(&target), &report).await;
}

#[tokio::test]
async fn referrers_api_registry_gets_referrers_without_fallback_tags() {
    let registry = Ferro::start().await.expect("ferro starts");
    let target = target(&registry.url(), None, true);
    let report = seed(&target, Size::Test).await.expect("seeding succeeds");
    let client = client(&target);
    assert_core_data_set(&client, &report).await;

    let app_digest = digest_of(&report, "demo/app", "1.0.0");
    let url = format!("{}/v2/demo/app/referrers/{app_digest}", registry.url());
    let referrers: Value = reqwest::get(&url).await.unwrap().error_for_status().unwrap().json().await.unwrap();
    assert!(artifact_types(&referrers).contains("application/spdx+json"));
    assert!(artifact_types(&referrers).contains("application/vnd.microsoft.artifact.lifecycle"));
    assert!(artifact_types(&referrers).contains("application/vnd.dev.sigstore.bundle.v0.3+json"));
    assert!(artifact_types(&referrers).contains("application/vnd.in-toto+json"));
    let tags = client.tags("demo/app").await.unwrap().items;
    assert!(
        tags.iter().all(|tag| !tag.starts_with("sha256-") || tag.ends_with(".sig") || tag.ends_with(".att")),
        "{tags:?}"
    );
}

#[tokio::test]
async fn demo_size_has_several_namespaces_and_tags() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.expect("distribution starts");
    let target = target(&registry.url(), None, false);
    let report = seed(&target, Size::Demo).await.expect("seeding succeeds");
    let client = client(&target);
    let catalog = client.catalog().await.unwrap().items;
    for repository in [
        "demo/app",
        "demo/api",
        "base/debian-slim",
        "charts/nginx",
        "charts/redis",
        "wasm/hello",
        "ci/build-123",
        "ci/build-124",
    ] {
        assert!(catalog.iter().any(|name| name == repository), "{repository} missing from {catalog:?}");
    }
    let app_tags = client.tags("demo/app").await.unwrap().items;
    for tag in ["0.9.0", "1.0.0", "1.1.0", "1.2.0", "latest"] {
        assert!(app_tags.iter().any(|name| name == tag), "demo/app:{tag} missing from {app_tags:?}");
    }
    assert_eq!(digest_of(&report, "demo/app", "latest"), digest_of(&report, "demo/app", "1.2.0"));
    let redis_tags = client.tags("charts/redis").await.unwrap().items;
    assert!(redis_tags.iter().any(|tag| tag == "18.2.0_build.7"), "helm turns + into _ in tags: {redis_tags:?}");
    let docker_images =
        report.items.iter().filter(|item| item.repository == "demo/api" && item.kind == "image").count();
    assert_eq!(docker_images, 3, "demo/api has 2.0.0, 2.1.0 and stable");
    for tag in ["bookworm", "12", "latest"] {
        assert_eq!(digest_of(&report, "base/debian-slim", tag), digest_of(&report, "base/debian-slim", "bookworm"));
    }
}

#[tokio::test]
async fn bench_size_creates_the_requested_repositories() {
    let registry = Distribution::start(DistributionOptions::anonymous()).await.expect("distribution starts");
    let target = target(&registry.url(), None, false);
    let report = seed(&target, Size::Bench { repositories: 30 }).await.expect("seeding succeeds");
    let client = client(&target);
    let catalog = client.catalog().await.unwrap().items;
    assert_eq!(catalog.len(), 30);
    assert!(catalog.iter().all(|name| name.starts_with("bench/repo-")));
    assert_eq!(report.of_kind("image").count(), 30 + 8, "every fourth repository has a second version");
    assert_eq!(report.of_kind("sbom").count(), 10, "every third repository has an SBOM");
    assert_eq!(report.of_kind("signature").count(), 8, "every fourth (from the second) is signed");
    let tags: BTreeSet<String> = client.tags("bench/repo-00004").await.unwrap().items.into_iter().collect();
    assert_eq!(tags, BTreeSet::from(["1.0.0".to_owned(), "1.1.0".to_owned()]));
    // distribution 2.8 has no referrers API: the SBOM is listed by the subject's fallback tag.
    let sbom = report.of_kind("sbom").find(|item| item.repository == "bench/repo-00003").unwrap();
    let fallback = sbom.subject.as_deref().unwrap().replace(':', "-");
    let tags = client.tags("bench/repo-00003").await.unwrap().items;
    assert!(tags.contains(&fallback), "{tags:?}");
    let signed = client.tags("bench/repo-00001").await.unwrap().items;
    assert!(signed.iter().any(|tag| tag.starts_with("sha256-") && tag.ends_with(".sig")), "{signed:?}");
}
