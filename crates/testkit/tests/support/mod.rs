//! Plain-reqwest OCI helpers for the harness tests: push a tiny image, list tags, read challenges.

use std::sync::{Arc, Mutex};

use anyhow::{Context as _, bail, ensure};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, LOCATION, WWW_AUTHENTICATE};
use sha2::{Digest as _, Sha256};

/// Media type of OCI image manifests.
pub(crate) const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// A reqwest client that never goes through a proxy.
pub(crate) fn http_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().expect("reqwest client builds")
}

/// Returns the `sha256:<hex>` digest of bytes.
pub(crate) fn sha256_digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}

/// Adds an `Authorization` header when one is given.
fn authorize(request: reqwest::RequestBuilder, authorization: Option<&str>) -> reqwest::RequestBuilder {
    match authorization {
        Some(value) => request.header(AUTHORIZATION, value),
        None => request,
    }
}

/// Uploads a blob with POST then PUT and returns its digest.
pub(crate) async fn push_blob(
    client: &reqwest::Client,
    base_url: &str,
    repository: &str,
    blob: &[u8],
    authorization: Option<&str>,
) -> anyhow::Result<String> {
    let digest = sha256_digest(blob);
    let start_url = format!("{base_url}/v2/{repository}/blobs/uploads/");
    let started = authorize(client.post(&start_url), authorization).send().await?;
    ensure!(started.status() == StatusCode::ACCEPTED, "upload start answered {}", started.status());
    let location = started.headers().get(LOCATION).context("upload start has no location")?.to_str()?;
    let mut upload_url = url::Url::parse(base_url)?.join(location)?;
    upload_url.query_pairs_mut().append_pair("digest", &digest);
    let finished = authorize(client.put(upload_url), authorization)
        .header(CONTENT_TYPE, "application/octet-stream")
        .body(blob.to_vec())
        .send()
        .await?;
    ensure!(finished.status() == StatusCode::CREATED, "upload put answered {}", finished.status());
    Ok(digest)
}

/// Pushes a one-layer OCI image under `tag` and returns the manifest digest.
pub(crate) async fn push_tiny_image(
    client: &reqwest::Client,
    base_url: &str,
    repository: &str,
    tag: &str,
    authorization: Option<&str>,
) -> anyhow::Result<String> {
    let config = b"{}";
    let layer = format!("layer of {repository}:{tag}").into_bytes();
    let config_digest = push_blob(client, base_url, repository, config, authorization).await?;
    let layer_digest = push_blob(client, base_url, repository, &layer, authorization).await?;
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": "application/vnd.oci.empty.v1+json", "digest": config_digest, "size": config.len()},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": layer_digest, "size": layer.len()}],
    });
    let manifest_bytes = serde_json::to_vec(&manifest)?;
    let response = authorize(client.put(format!("{base_url}/v2/{repository}/manifests/{tag}")), authorization)
        .header(CONTENT_TYPE, OCI_MANIFEST)
        .body(manifest_bytes.clone())
        .send()
        .await?;
    let status = response.status();
    if status != StatusCode::CREATED {
        bail!("manifest put answered {status}: {}", response.text().await.unwrap_or_default());
    }
    Ok(sha256_digest(&manifest_bytes))
}

/// Lists the tags of a repository, failing on any status but 200.
pub(crate) async fn list_tags(
    client: &reqwest::Client,
    base_url: &str,
    repository: &str,
    authorization: Option<&str>,
) -> anyhow::Result<Vec<String>> {
    let response = authorize(client.get(format!("{base_url}/v2/{repository}/tags/list")), authorization).send().await?;
    ensure!(response.status() == StatusCode::OK, "tags/list answered {}", response.status());
    let body: serde_json::Value = response.json().await?;
    let tags = body["tags"].as_array().context("tags/list has no tags array")?;
    Ok(tags.iter().filter_map(|tag| tag.as_str().map(str::to_owned)).collect())
}

/// Returns `Basic <base64(user:pass)>`.
pub(crate) fn basic_authorization(username: &str, password: &str) -> String {
    use base64::Engine as _;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}")))
}

/// Returns the scheme and `key="value"` parameters of a simple `WWW-Authenticate` value.
pub(crate) fn challenge_of(response: &reqwest::Response) -> anyhow::Result<(String, Vec<(String, String)>)> {
    let value = response.headers().get(WWW_AUTHENTICATE).context("response has no www-authenticate")?.to_str()?;
    let (scheme, rest) = value.split_once(' ').context("challenge has no parameters")?;
    let mut parameters = Vec::new();
    let mut remaining = rest.trim();
    while let Some((key, after_key)) = remaining.split_once("=\"") {
        let (parameter_value, after_value) = after_key.split_once('"').context("unterminated quoted value")?;
        parameters.push((key.trim().to_owned(), parameter_value.to_owned()));
        remaining = after_value.trim_start_matches(',').trim();
    }
    Ok((scheme.to_owned(), parameters))
}

/// Returns the value of one challenge parameter.
pub(crate) fn parameter<'a>(parameters: &'a [(String, String)], key: &str) -> anyhow::Result<&'a str> {
    parameters
        .iter()
        .find(|(name, _)| name == key)
        .map(|(_, value)| value.as_str())
        .with_context(|| format!("challenge has no {key}"))
}

/// Tells whether a process with this pid exists and is not a zombie.
pub(crate) fn process_is_alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Returns the process group id of a running process.
pub(crate) fn process_group_of(pid: u32) -> anyhow::Result<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let (_, rest) = stat.rsplit_once(')').context("malformed stat")?;
    // Fields after the name: state, ppid, pgrp.
    let group = rest.split_whitespace().nth(2).context("stat has no pgrp")?;
    Ok(group.parse()?)
}

/// Returns the status of a GET with the given `Authorization` value.
pub(crate) async fn status_of(client: &reqwest::Client, url: &str, authorization: &str) -> anyhow::Result<StatusCode> {
    let response = client.get(url).header(AUTHORIZATION, authorization).send().await?;
    Ok(response.status())
}

/// Webhook posts received so far: `Authorization` header and JSON body.
type ReceivedPosts = Arc<Mutex<Vec<(Option<String>, serde_json::Value)>>>;

/// An axum endpoint on `127.0.0.1:0` that records distribution's notification posts.
pub(crate) struct WebhookReceiver {
    url: String,
    received: ReceivedPosts,
    task: tokio::task::JoinHandle<()>,
}

impl WebhookReceiver {
    /// Starts listening on a free loopback port.
    pub(crate) async fn start() -> anyhow::Result<Self> {
        let received: ReceivedPosts = Arc::default();
        let router =
            axum::Router::new().route("/events", axum::routing::post(record_post)).with_state(Arc::clone(&received));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let url = format!("http://{}/events", listener.local_addr()?);
        let task = tokio::spawn(async move {
            let _stopped = axum::serve(listener, router).await;
        });
        Ok(Self { url, received, task })
    }

    /// Returns the URL to configure as the notification endpoint.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// Returns the first event matching `predicate` with the post's authorization.
    pub(crate) fn find_event(
        &self,
        predicate: impl Fn(&serde_json::Value) -> bool,
    ) -> Option<(Option<String>, serde_json::Value)> {
        let received = self.received.lock().expect("webhook lock");
        received.iter().find_map(|(authorization, envelope)| {
            let events = envelope["events"].as_array()?;
            let event = events.iter().find(|event| predicate(event))?;
            Some((authorization.clone(), event.clone()))
        })
    }
}

impl Drop for WebhookReceiver {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn record_post(
    axum::extract::State(received): axum::extract::State<ReceivedPosts>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let authorization = headers.get(AUTHORIZATION).and_then(|value| value.to_str().ok()).map(str::to_owned);
    let envelope = serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null);
    received.lock().expect("webhook lock").push((authorization, envelope));
    StatusCode::OK
}
