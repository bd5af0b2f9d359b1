//! The client against a scripted hostile registry ([`FaultyRegistry`]): one test per defence
//! of SECURITY.md B3 (S1–S11, S15, S17), each asserting the typed error and, where it matters,
//! the requests that were (not) sent. Each also runs the honest variant or counts requests, so
//! it fails when its defence is removed.

#[path = "hostile/auth.rs"]
mod auth;
#[path = "hostile/digests.rs"]
mod digests;
#[path = "hostile/documents.rs"]
mod documents;
#[path = "hostile/paging.rs"]
mod paging;
#[path = "hostile/politeness.rs"]
mod politeness;
#[path = "hostile/redirects.rs"]
mod redirects;
#[path = "hostile/referrers.rs"]
mod referrers;

use std::time::Duration;

use futures::StreamExt as _;
use ocicat_oci::{BlobStream, Client, ClientConfig, Credentials, Digest, OciError, Result, Secret, media_types};
use ocicat_testkit::{FaultyRegistry, loopback_aliases};

/// The digest of the empty JSON config `{}`.
const EMPTY_CONFIG: &str = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

/// A valid OCI image manifest; `label` makes its bytes (and digest) unique.
fn image_manifest(label: &str) -> String {
    format!(
        r#"{{"schemaVersion":2,"mediaType":"{}","config":{{"mediaType":"{}","digest":"{EMPTY_CONFIG}","size":2}},"layers":[],"annotations":{{"label":"{label}"}}}}"#,
        media_types::OCI_MANIFEST,
        media_types::OCI_CONFIG,
    )
}

/// A client for `url` with fast retries (20 ms backoff) so fault tests stay quick.
fn client_with(url: &str, adjust: impl FnOnce(&mut ClientConfig)) -> Client {
    let mut config = ClientConfig::new(url.parse().expect("registry url"), Credentials::Anonymous);
    config.politeness.retry_base_delay = Duration::from_millis(20);
    adjust(&mut config);
    Client::new(config).expect("client builds")
}

fn client_for(registry: &FaultyRegistry) -> Client {
    client_with(&registry.url(), |_| {})
}

fn basic(username: &str, password: &str) -> Credentials {
    Credentials::Basic { username: username.into(), password: Secret::new(password) }
}

/// Two names for 127.0.0.1 other than `localhost` (from /etc/hosts). A client configured with
/// one does not know its registry is on loopback, so the guards for public registries apply.
fn aliases(needed: usize) -> Vec<String> {
    let aliases = loopback_aliases();
    assert!(
        aliases.len() >= needed,
        "this test needs {needed} names for 127.0.0.1 besides localhost in /etc/hosts, found {aliases:?}"
    );
    aliases
}

/// Drains a blob stream, keeping every item.
async fn drain(mut stream: BlobStream) -> Vec<Result<bytes::Bytes>> {
    let mut items = Vec::new();
    while let Some(item) = stream.next().await {
        items.push(item);
    }
    items
}
