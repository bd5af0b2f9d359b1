//! Fills a registry with a realistic demo and test data set: real images and indexes made by
//! `umoci`, `skopeo` and `buildah`, plus spec-correct hand-built artifacts (Helm, WASM, SBOMs,
//! scans, cosign and notation signatures, buildx attestations, lifecycle metadata) pushed with
//! `ocicat-oci`.
//!
//! Referrers are always pushed by digest; on registries without the referrers API the seeder
//! maintains the `sha256-<hex>` fallback index tag itself, as the distribution spec asks.
//! Errors are `anyhow` with context: this crate is setup glue, not a library layer.

mod bench;
mod catalog;
mod document;
mod fixtures;
mod handmade;
mod push;
mod referrers;
mod scans;
mod signing;
mod tools;

use anyhow::Context as _;
use ocicat_oci::{Client, ClientConfig, Credentials, Secret};

use crate::push::Pusher;

/// The public key (PEM) of the demo signer that signs the seeded cosign signatures: a trust
/// policy with it verifies them. Public like its private key: it protects nothing.
pub const DEMO_SIGNER_PUBLIC_KEY: &str = include_str!("../fixtures/demo-signer.pub");

/// The notation identity of the demo signer's self-signed certificate (the seeded notation
/// signatures' `x5c`).
pub const DEMO_SIGNER_NOTATION_IDENTITY: &str = "x509.subject: CN=ocicat demo signer, O=ocicat demo";

/// The demo signer's self-signed certificate (PEM): a trust policy with it among its
/// `notation_roots` verifies the seeded notation signatures.
pub fn demo_signer_certificate_pem() -> String {
    signing::Signer::demo().certificate_pem()
}

/// The demo signer's certificate (DER).
pub fn demo_signer_certificate_der() -> &'static [u8] {
    signing::Signer::demo().certificate_der()
}

/// The end-of-life date the seeder gives the newest `demo/app`: 31 December five years from
/// now, so that it is in the future whenever the data is seeded and tests run.
pub fn future_end_of_life() -> String {
    use chrono::Datelike as _;
    format!("{}-12-31", chrono::Utc::now().year() + 5)
}

/// How much data to seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// A rich data set for demos: several namespaces, several tags each, Docker and OCI manifests.
    Demo,
    /// A small data set with every kind of artifact, fast enough for each integration test.
    Test,
    /// Many small hand-built image repositories (`bench/repo-NNNNN`) for scale tests; no external tools.
    Bench {
        /// How many repositories to create.
        repositories: usize,
    },
}

/// The registry to fill.
#[derive(Debug, Clone)]
pub struct Target {
    /// The registry's base URL, e.g. `http://127.0.0.1:5000`.
    pub url: url::Url,
    /// The user name for Basic auth or token requests, if the registry needs one.
    pub username: Option<String>,
    /// The password that goes with `username`.
    pub password: Option<String>,
    /// True when the registry implements the OCI 1.1 referrers API (ferro-oci-server); false when
    /// the seeder must maintain the `sha256-<hex>` fallback index tag (distribution 2.8.2).
    pub referrers_api: bool,
}

impl Target {
    /// An anonymous target without the referrers API (distribution 2.8.2 defaults).
    pub fn anonymous(url: url::Url) -> Target {
        Target { url, username: None, password: None, referrers_api: false }
    }

    /// `host:port` as `skopeo` and `buildah` want it in `docker://` references.
    fn host(&self) -> anyhow::Result<String> {
        let host = self.url.host_str().with_context(|| format!("registry url {} has no host", self.url))?;
        Ok(match self.url.port_or_known_default() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        })
    }

    /// `user:password` for `--dest-creds`/`--creds`, when credentials are set.
    fn tool_credentials(&self) -> Option<String> {
        let username = self.username.as_deref()?;
        Some(format!("{username}:{}", self.password.as_deref().unwrap_or("")))
    }
}

/// One manifest the seeder pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seeded {
    /// The repository it lives in, e.g. `demo/app`.
    pub repository: String,
    /// The tag it was pushed under; `None` for manifests pushed by digest only (referrers, index children).
    pub reference: Option<String>,
    /// Its digest, `sha256:<hex>`.
    pub digest: String,
    /// The coarse kind: `image`, `index`, `helm`, `wasm`, `sbom`, `signature`, `attestation`,
    /// `scan`, `lifecycle` or `other`.
    pub kind: &'static str,
    /// The digest of the manifest it describes: its `subject`, the target of a cosign
    /// `sha256-<hex>.sig|.att` tag, or the `vnd.docker.reference.digest` of a buildx attestation.
    pub subject: Option<String>,
}

/// Everything one [`seed`] run pushed, in push order.
#[derive(Debug, Clone, Default)]
pub struct SeedReport {
    /// The pushed manifests (fallback index tags are maintained but not listed).
    pub items: Vec<Seeded>,
}

impl SeedReport {
    /// The items of one kind.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Seeded> + 'a {
        self.items.iter().filter(move |item| item.kind == kind)
    }

    /// The item tagged `reference` in `repository`, if any.
    pub fn tagged(&self, repository: &str, reference: &str) -> Option<&Seeded> {
        self.items.iter().find(|item| item.repository == repository && item.reference.as_deref() == Some(reference))
    }

    /// The distinct repositories, sorted.
    pub fn repositories(&self) -> Vec<String> {
        let mut repositories: Vec<String> = self.items.iter().map(|item| item.repository.clone()).collect();
        repositories.sort();
        repositories.dedup();
        repositories
    }
}

/// Where [`seed_keyless_sample`] puts the production keyless signature.
pub const KEYLESS_SAMPLE_REPOSITORY: &str = "upstream/cosign-keyless";
/// The signer the keyless sample's Fulcio certificate names.
pub const KEYLESS_SAMPLE_IDENTITY: &str = "mitr@redhat.com";
/// The OIDC issuer that vouched for [`KEYLESS_SAMPLE_IDENTITY`].
pub const KEYLESS_SAMPLE_ISSUER: &str = "https://github.com/login/oauth";

/// Pushes a real production keyless cosign signature (Fulcio certificate, Rekor bundle) to
/// [`KEYLESS_SAMPLE_REPOSITORY`] of `target`, under the `.sig` tag of the image it signs (which
/// is not pushed: only its signature is public data). For the demo and the end-to-end stack.
pub async fn seed_keyless_sample(target: &Target) -> anyhow::Result<SeedReport> {
    let pusher = pusher_for(target).await?;
    referrers::push_upstream_keyless_signature(&pusher, KEYLESS_SAMPLE_REPOSITORY).await?;
    Ok(pusher.into_report())
}

/// A pusher to `target`, after checking that it answers.
async fn pusher_for(target: &Target) -> anyhow::Result<Pusher> {
    let credentials = match &target.username {
        Some(username) => Credentials::Basic {
            username: username.clone(),
            password: Secret::new(target.password.clone().unwrap_or_default()),
        },
        None => Credentials::Anonymous,
    };
    let client = Client::new(ClientConfig::new(target.url.clone(), credentials))
        .with_context(|| format!("failed to build a registry client for {}", target.url))?;
    client.ping().await.with_context(|| format!("failed to ping registry {}", target.url))?;
    Ok(Pusher::new(client, target.referrers_api))
}

/// Seeds `target` with the data set of `size` and reports every manifest pushed.
pub async fn seed(target: &Target, size: Size) -> anyhow::Result<SeedReport> {
    let pusher = pusher_for(target).await?;
    let started = std::time::Instant::now();
    match size {
        Size::Bench { repositories } => {
            let host = target.host()?;
            bench::seed_bench(&pusher, &host, repositories).await?
        }
        Size::Test => catalog::seed_catalog(&pusher, target, catalog::Plan::test()).await?,
        Size::Demo => catalog::seed_catalog(&pusher, target, catalog::Plan::demo()).await?,
    }
    let report = pusher.into_report();
    tracing::info!(
        registry.url = %target.url,
        seed.items = report.items.len(),
        duration_ms = started.elapsed().as_millis() as u64,
        "seeded registry {}", target.url
    );
    Ok(report)
}
