//! Synthetic catalog documents for the indexing and search scenarios: deterministic, shaped like
//! what the crawler stores (kind mix, media and artifact types, platforms, raw manifests and
//! configs, referrers with subjects, dates over three years, date-valued annotations, end of life).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use ocicat_catalog::{ArtifactDoc, ArtifactKind, ChildRef, LayerRef, RepositoryDoc, Vulnerabilities};

/// The word the full-text scenario looks for; it appears in one description in eight.
pub(crate) const FULL_TEXT_WORD: &str = "alpine";

/// The date-valued annotation every artifact carries.
pub(crate) const CREATED_ANNOTATION: &str = "org.opencontainers.image.created";

/// The registries the synthetic repositories belong to.
pub(crate) const REGISTRIES: [&str; 3] = ["prod", "staging", "mirror"];
/// Namespaces and services the repository names combine (`payments/gateway-00042`).
pub(crate) const NAMESPACES: [&str; 12] =
    ["platform", "payments", "search", "data", "ml", "web", "mobile", "infra", "security", "tools", "ci", "edge"];
pub(crate) const SERVICES: [&str; 16] = [
    "api",
    "worker",
    "gateway",
    "frontend",
    "scheduler",
    "indexer",
    "proxy",
    "cache",
    "auth",
    "billing",
    "notifier",
    "exporter",
    "ingest",
    "reports",
    "console",
    "runner",
];
const DESCRIPTIONS: [&str; 8] = [
    "alpine based service image",
    "debian slim runtime for the service",
    "distroless static binary",
    "ubuntu build toolchain",
    "python web application",
    "java spring service on temurin",
    "node frontend bundle served by nginx",
    "go microservice with a scratch base",
];
const PLATFORMS: [&str; 4] = ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/s390x"];
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
const EMPTY_CONFIG: &str = "application/vnd.oci.empty.v1+json";
/// The digest of the empty config `{}` (image-spec's empty descriptor).
const EMPTY_CONFIG_DIGEST: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";
const OCI_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";

/// A small, fast, deterministic generator (splitmix64): the data set is the same on every run.
#[derive(Debug, Clone)]
pub(crate) struct Random(pub(crate) u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut mixed = self.0;
        mixed = (mixed ^ (mixed >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        mixed = (mixed ^ (mixed >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        mixed ^ (mixed >> 31)
    }

    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }

    fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
        choices[self.below(choices.len() as u64) as usize]
    }

    fn digest(&mut self) -> String {
        format!("sha256:{:016x}{:016x}{:016x}{:016x}", self.next(), self.next(), self.next(), self.next())
    }
}

/// Generates the documents of a data set of `repositories` × `artifacts_per_repository`.
#[derive(Debug, Clone)]
pub(crate) struct Generator {
    /// The instant dates are spread back from (three years).
    pub(crate) now: DateTime<Utc>,
    /// Artifacts in each repository.
    pub(crate) artifacts_per_repository: usize,
}

impl Generator {
    /// The registry a repository number belongs to (three registries, unevenly filled).
    fn registry(number: usize) -> &'static str {
        match number % 10 {
            0..=5 => REGISTRIES[0],
            6..=8 => REGISTRIES[1],
            _ => REGISTRIES[2],
        }
    }

    /// The repository name of `number`, e.g. `payments/gateway-00042`.
    fn repository_name(number: usize) -> String {
        let namespace = NAMESPACES[number % NAMESPACES.len()];
        let service = SERVICES[(number / NAMESPACES.len()) % SERVICES.len()];
        format!("{namespace}/{service}-{number:05}")
    }

    /// Every artifact of repository `number` and its summary, as one crawl would upsert them.
    pub(crate) fn repository(&self, number: usize) -> (RepositoryDoc, Vec<ArtifactDoc>) {
        let mut random = Random(number as u64 ^ 0x0C1C_A75E_ED00_0001);
        let registry = Self::registry(number);
        let repository = Self::repository_name(number);
        let mut artifacts: Vec<ArtifactDoc> = Vec::with_capacity(self.artifacts_per_repository);
        // The artifact referrers attach to: the last image or index generated.
        let mut last_subject: Option<usize> = None;
        for position in 0..self.artifacts_per_repository {
            let roll = random.below(100);
            let kind = match roll {
                0..=49 => "image",
                50..=61 => "index",
                62..=73 => "sbom",
                74..=85 => "signature",
                86..=90 => "attestation",
                91..=94 => "scan",
                95..=97 => "helm",
                _ => "wasm",
            };
            // A referrer needs something to refer to: the first artifacts are images.
            let kind = if is_referrer(kind) && last_subject.is_none() { "image" } else { kind };
            let mut artifact = self.artifact(&mut random, registry, &repository, kind, position);
            if let Some(subject_position) = last_subject.filter(|_| is_referrer(kind)) {
                artifact.subject = Some(artifacts[subject_position].digest.clone());
                artifact.refers_to = artifact.subject.clone();
                attach(&mut artifacts[subject_position], &artifact);
            }
            if kind == "image" || kind == "index" {
                last_subject = Some(artifacts.len());
            }
            artifacts.push(artifact);
        }
        let newest_image = artifacts.iter().rposition(|artifact| artifact.kind == ArtifactKind::Image);
        if let Some(newest) = newest_image {
            artifacts[newest].tags.push("latest".into());
        }
        let tagged = artifacts.iter().filter(|artifact| !artifact.tags.is_empty());
        let summary = RepositoryDoc {
            registry: registry.to_owned(),
            repository: repository.clone(),
            tag_count: tagged.clone().map(|artifact| artifact.tags.len() as u64).sum(),
            artifact_count: artifacts.len() as u64,
            size: tagged.clone().map(|artifact| artifact.size).sum(),
            last_push: tagged.filter_map(|artifact| artifact.created).max(),
            crawled_at: Some(self.now),
            incomplete: Vec::new(),
        };
        (summary, artifacts)
    }

    fn artifact(
        &self,
        random: &mut Random,
        registry: &str,
        repository: &str,
        kind: &str,
        position: usize,
    ) -> ArtifactDoc {
        let created = self.now - Duration::seconds(random.below(3 * 365 * 24 * 3600) as i64);
        let created_text = created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let version = format!("{}.{}.{}", position / 40, (position / 8) % 5, position % 8);
        let mut annotations = BTreeMap::from([(CREATED_ANNOTATION.to_owned(), created_text.clone())]);
        let tagged = matches!(kind, "image" | "index" | "helm" | "wasm");
        if tagged {
            annotations.insert("org.opencontainers.image.version".into(), version.clone());
            annotations.insert("org.opencontainers.image.description".into(), random.pick(&DESCRIPTIONS).into());
            annotations
                .insert("org.opencontainers.image.source".into(), format!("https://git.example.invalid/{repository}"));
        }
        let mut tags = Vec::new();
        if tagged {
            tags.push(version.clone());
            if random.below(5) == 0 {
                tags.push(format!("{}.{}", position / 40, (position / 8) % 5));
            }
        }
        let platform = if random.below(10) < 7 { PLATFORMS[0] } else { PLATFORMS[1] };
        let (media_type, artifact_type) = media_types(random, kind);
        let mut artifact = ArtifactDoc {
            tags,
            kind: ArtifactKind::from_name(kind),
            media_type: media_type.to_owned(),
            artifact_type: artifact_type.map(str::to_owned),
            created: Some(created),
            annotations,
            indexed_at: self.now,
            ..ArtifactDoc::new(registry, repository, random.digest())
        };
        match kind {
            "image" => fill_image(random, &mut artifact, platform, &created_text),
            "index" => fill_index(random, &mut artifact),
            _ => fill_artifact(random, &mut artifact),
        }
        if tagged && random.below(20) == 0 {
            artifact.end_of_life = Some(created + Duration::days(365 + random.below(730) as i64));
        }
        artifact
    }
}

fn is_referrer(kind: &str) -> bool {
    matches!(kind, "sbom" | "signature" | "attestation" | "scan")
}

fn media_types(random: &mut Random, kind: &str) -> (&'static str, Option<&'static str>) {
    match kind {
        "image" if random.below(10) < 3 => (DOCKER_MANIFEST, None),
        "image" => (OCI_MANIFEST, None),
        "index" if random.below(10) < 3 => (DOCKER_LIST, None),
        "index" => (OCI_INDEX, None),
        "sbom" if random.below(2) == 0 => (OCI_MANIFEST, Some("application/spdx+json")),
        "sbom" => (OCI_MANIFEST, Some("application/vnd.cyclonedx+json")),
        "signature" if random.below(2) == 0 => (OCI_MANIFEST, Some("application/vnd.dev.cosign.artifact.sig.v1+json")),
        "signature" => (OCI_MANIFEST, Some("application/vnd.cncf.notary.signature")),
        "attestation" => (OCI_MANIFEST, Some("application/vnd.in-toto+json")),
        "scan" => (OCI_MANIFEST, Some("application/sarif+json")),
        "helm" => (OCI_MANIFEST, Some("application/vnd.cncf.helm.config.v1+json")),
        _ => (OCI_MANIFEST, Some("application/vnd.wasm.config.v0+json")),
    }
}

/// Records `referrer` on its subject, as the crawler's summary does.
fn attach(subject: &mut ArtifactDoc, referrer: &ArtifactDoc) {
    let kind = referrer.kind.as_str().to_owned();
    if !subject.attached.contains(&kind) {
        subject.attached.push(kind.clone());
        subject.attached.sort();
    }
    *subject.referrers.counts.entry(kind).or_default() += 1;
    if let Some(found) = &referrer.scan_findings {
        subject.referrers.vulnerabilities = Some(found.clone());
    }
}

/// A descriptor as JSON; every value here is generated, so none needs escaping.
fn descriptor(media_type: &str, digest: &str, size: u64) -> String {
    format!(r#"{{"mediaType":"{media_type}","digest":"{digest}","size":{size}}}"#)
}

fn to_json(map: &BTreeMap<String, String>) -> String {
    serde_json::to_string(map).unwrap_or_default()
}

fn fill_image(random: &mut Random, artifact: &mut ArtifactDoc, platform: &str, created: &str) {
    let (os, architecture) = platform.split_once('/').unwrap_or(("linux", "amd64"));
    artifact.platforms = vec![platform.to_owned()];
    artifact.labels = BTreeMap::from([
        ("maintainer".to_owned(), "platform team <platform@example.invalid>".to_owned()),
        ("org.opencontainers.image.vendor".to_owned(), "Example Corp".to_owned()),
    ]);
    let layer_count = 1 + random.below(4) as usize;
    let mut diff_ids = Vec::with_capacity(layer_count);
    for _ in 0..layer_count {
        let size = 1_000 + random.below(80 << 20);
        artifact.layers.push(LayerRef {
            media_type: OCI_LAYER.into(),
            digest: random.digest(),
            size,
            title: None,
            annotations: BTreeMap::new(),
        });
        diff_ids.push(format!("\"{}\"", random.digest()));
    }
    let run_settings = concat!(
        r#"{"User":"65532:65532","Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"#,
        r#""Cmd":["/app/run"],"WorkingDir":"/app""#
    );
    let history = format!(r#"[{{"created":"{created}","created_by":"COPY app/ /app/ # buildkit"}}]"#);
    let config = format!(
        r#"{{"created":"{created}","architecture":"{architecture}","os":"{os}","config":{settings},"Labels":{labels}}},"rootfs":{{"type":"layers","diff_ids":[{diff_ids}]}},"history":{history}}}"#,
        settings = run_settings,
        labels = to_json(&artifact.labels),
        diff_ids = diff_ids.join(","),
    );
    let config_descriptor = LayerRef {
        media_type: OCI_CONFIG.into(),
        digest: random.digest(),
        size: config.len() as u64,
        title: None,
        annotations: BTreeMap::new(),
    };
    let layers: Vec<String> =
        artifact.layers.iter().map(|layer| descriptor(&layer.media_type, &layer.digest, layer.size)).collect();
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{},"layers":[{}],"annotations":{}}}"#,
        artifact.media_type,
        descriptor(OCI_CONFIG, &config_descriptor.digest, config_descriptor.size),
        layers.join(","),
        to_json(&artifact.annotations),
    );
    artifact.manifest_size = manifest.len() as u64;
    artifact.config_media_type = Some(OCI_CONFIG.into());
    artifact.size =
        (manifest.len() + config.len()) as u64 + artifact.layers.iter().map(|layer| layer.size).sum::<u64>();
    // What the crawler keeps of an image config: its run settings (labels apart) and history.
    artifact.config_summary = Some(format!(r#"{{"config":{run_settings}}},"history":{history}}}"#));
    artifact.config = Some(config_descriptor);
}

fn fill_index(random: &mut Random, artifact: &mut ArtifactDoc) {
    let platform_count = 2 + random.below(3) as usize;
    let mut manifests = Vec::with_capacity(platform_count);
    for platform in PLATFORMS.iter().take(platform_count) {
        let (digest, size) = (random.digest(), 400 + random.below(800));
        let (os, architecture) = platform.split_once('/').unwrap_or_default();
        manifests.push(format!(
            r#"{{"mediaType":"{OCI_MANIFEST}","digest":"{digest}","size":{size},"platform":{{"os":"{os}","architecture":"{architecture}"}}}}"#
        ));
        artifact.children.push(ChildRef {
            media_type: OCI_MANIFEST.into(),
            digest,
            size,
            platform: Some((*platform).to_owned()),
            attests: None,
            annotations: BTreeMap::new(),
        });
        artifact.platforms.push((*platform).to_owned());
    }
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","manifests":[{}],"annotations":{}}}"#,
        artifact.media_type,
        manifests.join(","),
        to_json(&artifact.annotations),
    );
    artifact.manifest_size = manifest.len() as u64;
    artifact.size = manifest.len() as u64 + artifact.children.iter().map(|child| child.size).sum::<u64>();
}

/// Referrers, Helm charts and WASM modules: one titled blob and an artifact type.
fn fill_artifact(random: &mut Random, artifact: &mut ArtifactDoc) {
    let artifact_type = artifact.artifact_type.clone().unwrap_or_default();
    let title = format!("{}.json", artifact.kind);
    let size = 500 + random.below(200_000);
    let layer = LayerRef {
        media_type: artifact_type.clone(),
        digest: random.digest(),
        size,
        title: Some(title),
        annotations: BTreeMap::new(),
    };
    let config_type = match artifact.kind.as_str() {
        "helm" | "wasm" => artifact_type.clone(),
        _ => EMPTY_CONFIG.to_owned(),
    };
    if artifact.kind == ArtifactKind::Scan {
        artifact.scan_findings = Some(Vulnerabilities {
            scan: artifact.digest.clone(),
            scanned: artifact.created,
            critical: random.below(3),
            high: random.below(10),
            medium: random.below(30),
            low: random.below(60),
            unknown: random.below(5),
        });
    }
    // The empty config `{}` has one digest; a Helm or WASM config is its own document.
    let config_digest = if config_type == EMPTY_CONFIG { EMPTY_CONFIG_DIGEST.to_owned() } else { random.digest() };
    let config = LayerRef {
        media_type: config_type.clone(),
        digest: config_digest,
        size: 2,
        title: None,
        annotations: BTreeMap::new(),
    };
    let manifest = format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","artifactType":"{artifact_type}","config":{},"layers":[{}],"annotations":{}}}"#,
        artifact.media_type,
        descriptor(&config.media_type, &config.digest, config.size),
        descriptor(&layer.media_type, &layer.digest, layer.size),
        to_json(&artifact.annotations),
    );
    artifact.layers.push(layer);
    artifact.config_media_type = Some(config_type);
    artifact.config = Some(config);
    artifact.manifest_size = manifest.len() as u64;
    artifact.size = manifest.len() as u64 + size;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repositories_are_deterministic_and_referrers_have_subjects() {
        let generator = Generator { now: Utc::now(), artifacts_per_repository: 100 };
        let (summary, artifacts) = generator.repository(7);
        let (_, again) = generator.repository(7);
        assert_eq!(
            artifacts.iter().map(|a| &a.digest).collect::<Vec<_>>(),
            again.iter().map(|a| &a.digest).collect::<Vec<_>>()
        );
        assert_eq!(summary.artifact_count, artifacts.len() as u64);
        assert_eq!(artifacts.len(), 100);
        for referrer in artifacts.iter().filter(|artifact| is_referrer(artifact.kind.as_str())) {
            let subject = referrer.subject.as_deref().expect("a referrer has a subject");
            assert!(artifacts.iter().any(|artifact| artifact.digest == subject));
        }
        assert!(artifacts.iter().all(|artifact| artifact.annotations.contains_key(CREATED_ANNOTATION)));
        for artifact in &artifacts {
            assert!(artifact.manifest_size > 0, "{} has a manifest", artifact.kind);
            if let Some(json) = &artifact.config_summary {
                assert!(
                    serde_json::from_str::<serde_json::Value>(json).is_ok(),
                    "{} is not JSON: {json}",
                    artifact.kind
                );
            }
        }
    }
}
