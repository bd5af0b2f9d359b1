//! A layout root served read-only as an OCI distribution registry on `127.0.0.1`, so the
//! crawler, the content proxy, the viewers and copy plans read a layout through the same client,
//! limits and digest checks as any registry. It answers `/v2/`, `_catalog`, `tags/list`,
//! manifests and blobs (`GET`/`HEAD`) and the referrers API (from `subject` fields); every
//! write is refused. Each server has its own random password (Basic auth), so other local
//! users cannot read through it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse as _, Response};
use base64::Engine as _;
use rand::Rng as _;
use serde_json::json;
use sha2::{Digest as _, Sha256};

use crate::read::{Descriptor, LayoutError, Repository, blob_path, discover, read_manifest, read_repository};

/// The user name a [`LayoutServer`] expects.
pub const USERNAME: &str = "ocicat";
const INDEX_MEDIA_TYPE: &str = "application/vnd.oci.image.index.v1+json";

/// A running read-only registry over a layout root; stopped when dropped (unless detached).
#[derive(Debug)]
pub struct LayoutServer {
    url: url::Url,
    password: String,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl LayoutServer {
    /// Its base URL (`http://127.0.0.1:<port>/`).
    pub fn url(&self) -> &url::Url {
        &self.url
    }

    /// The password for [`USERNAME`].
    pub fn password(&self) -> &str {
        &self.password
    }

    /// Keeps it running for the rest of the process.
    pub fn detach(mut self) {
        self.task = None;
    }
}

impl Drop for LayoutServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// `(modification time, length)` of an `index.json`: a cached read is reused while it holds.
type Stamp = (Option<SystemTime>, u64);

struct Served {
    root: PathBuf,
    /// SHA-256 of the one `Authorization` header accepted.
    authorization: [u8; 32],
    cache: Mutex<HashMap<PathBuf, (Stamp, Arc<Repository>)>>,
}

/// Serves the layouts under `root` (see [`discover`]) until the server is dropped.
pub async fn serve(root: PathBuf) -> Result<LayoutServer, LayoutError> {
    discover(&root)?;
    let bytes: [u8; 24] = rand::rng().random();
    let password = hex::encode(bytes);
    let header =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{USERNAME}:{password}")));
    let served = Arc::new(Served {
        root: root.clone(),
        authorization: Sha256::digest(header.as_bytes()).into(),
        cache: Mutex::new(HashMap::new()),
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await.map_err(crate::read::io_error(&root))?;
    let address = listener.local_addr().map_err(crate::read::io_error(&root))?;
    let router = axum::Router::new().fallback(handle).with_state(served);
    let task = tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, router).await {
            tracing::error!(%error, "the layout server stopped");
        }
    });
    let url = url::Url::parse(&format!("http://{address}/"))
        .map_err(|error| LayoutError::Invalid { path: root.display().to_string(), reason: error.to_string() })?;
    tracing::info!(layout = %root.display(), %url, "serving an OCI layout read-only");
    Ok(LayoutServer { url, password, task: Some(task) })
}

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = json!({"errors": [{"code": code, "message": message}]});
    (status, [(header::CONTENT_TYPE, "application/json")], body.to_string()).into_response()
}

fn unauthorized() -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", "authentication required");
    response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"ocicat layout\""));
    response
}

async fn handle(State(served): State<Arc<Served>>, method: Method, uri: Uri, headers: HeaderMap) -> Response {
    let presented = headers.get(header::AUTHORIZATION).map(|value| Sha256::digest(value.as_bytes()));
    if presented.is_none_or(|digest| digest.as_slice() != served.authorization) {
        return unauthorized();
    }
    if method != Method::GET && method != Method::HEAD {
        return error(StatusCode::METHOD_NOT_ALLOWED, "UNSUPPORTED", "an OCI layout source is read-only");
    }
    let Some(path) = uri.path().strip_prefix("/v2/") else {
        return error(StatusCode::NOT_FOUND, "NOT_FOUND", "not a registry route");
    };
    let query = parse_query(uri.query());
    let head = method == Method::HEAD;
    let served = served.clone();
    let path = path.to_owned();
    // File reads happen off the async threads.
    let response = tokio::task::spawn_blocking(move || route(&served, &path, &query, head)).await;
    match response {
        Ok(Routed::Ready(response)) => response,
        Ok(Routed::Blob(path, length)) => blob(path, length, head).await,
        Err(_) => error(StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN", "the layout read failed"),
    }
}

enum Routed {
    Ready(Response),
    Blob(PathBuf, u64),
}

fn parse_query(query: Option<&str>) -> HashMap<String, String> {
    url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()).into_owned().collect()
}

fn route(served: &Served, path: &str, query: &HashMap<String, String>, head: bool) -> Routed {
    let ready = Routed::Ready;
    if path.is_empty() {
        return ready(json_response(json!({}), "application/json", head));
    }
    if path == "_catalog" {
        return ready(match discover(&served.root) {
            Ok(found) => {
                let names: Vec<String> = found.into_iter().map(|(name, _)| name).collect();
                paged("/v2/_catalog", "repositories", None, names, query, head)
            }
            Err(failure) => error(StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN", &failure.to_string()),
        });
    }
    let mut parts = path.rsplitn(3, '/');
    let (Some(last), Some(kind), Some(name)) = (parts.next(), parts.next(), parts.next()) else {
        return ready(error(StatusCode::NOT_FOUND, "NOT_FOUND", "not a registry route"));
    };
    let Some(dir) = repository_dir(served, name) else {
        return ready(error(StatusCode::NOT_FOUND, "NAME_UNKNOWN", "repository name not known to registry"));
    };
    if kind == "blobs" {
        return match blob_path(&dir, last).and_then(|path| Some((std::fs::metadata(&path).ok()?, path))) {
            Some((metadata, path)) if metadata.is_file() => Routed::Blob(path, metadata.len()),
            _ => ready(error(StatusCode::NOT_FOUND, "BLOB_UNKNOWN", "blob unknown to registry")),
        };
    }
    let repository = match load(served, &dir) {
        Ok(repository) => repository,
        Err(failure) => return ready(error(StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN", &failure.to_string())),
    };
    ready(match (kind, last) {
        ("tags", "list") => {
            let tags: Vec<String> = repository.tags.keys().cloned().collect();
            paged(&format!("/v2/{name}/tags/list"), "tags", Some(name), tags, query, head)
        }
        ("manifests", reference) => manifest(&dir, &repository, reference, head),
        ("referrers", digest) => referrers(&repository, digest, query, head),
        _ => error(StatusCode::NOT_FOUND, "NOT_FOUND", "not a registry route"),
    })
}

/// The layout directory of repository `name`, if there is one.
fn repository_dir(served: &Served, name: &str) -> Option<PathBuf> {
    if !ocicat_oci::is_valid_repository(name) {
        return None;
    }
    if served.root.join("oci-layout").is_file() {
        let found = discover(&served.root).ok()?;
        return found.into_iter().find(|(own, _)| own == name).map(|(_, dir)| dir);
    }
    let dir = served.root.join(name);
    dir.join("oci-layout").is_file().then_some(dir)
}

/// The layout at `dir`, read again only when its `index.json` changed.
fn load(served: &Served, dir: &Path) -> Result<Arc<Repository>, LayoutError> {
    let metadata = std::fs::metadata(dir.join("index.json")).map_err(crate::read::io_error(dir))?;
    let stamp: Stamp = (metadata.modified().ok(), metadata.len());
    if let Some((cached, repository)) = served.cache.lock().unwrap_or_else(|poison| poison.into_inner()).get(dir)
        && *cached == stamp
    {
        return Ok(repository.clone());
    }
    let repository = Arc::new(read_repository(dir)?);
    for note in &repository.notes {
        tracing::warn!(layout = %dir.display(), note, "part of a layout skipped");
    }
    served
        .cache
        .lock()
        .unwrap_or_else(|poison| poison.into_inner())
        .insert(dir.to_path_buf(), (stamp, repository.clone()));
    Ok(repository)
}

fn json_response(value: serde_json::Value, content_type: &str, head: bool) -> Response {
    bytes_response(value.to_string().into_bytes(), content_type, None, head)
}

fn bytes_response(bytes: Vec<u8>, content_type: &str, digest: Option<&str>, head: bool) -> Response {
    let length = bytes.len();
    let body = if head { Body::empty() } else { Body::from(bytes) };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(content_type) {
        headers.insert(header::CONTENT_TYPE, value);
    }
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Some(value) = digest.and_then(|digest| HeaderValue::from_str(digest).ok()) {
        headers.insert("docker-content-digest", value);
    }
    response
}

/// A list answered in pages (`n`, `last`, a `Link` to the next page), as distribution does.
fn paged(
    path: &str,
    field: &str,
    name: Option<&str>,
    mut items: Vec<String>,
    query: &HashMap<String, String>,
    head: bool,
) -> Response {
    items.sort();
    if let Some(last) = query.get("last") {
        items.retain(|item| item > last);
    }
    let page = query.get("n").and_then(|n| n.parse::<usize>().ok()).filter(|n| *n > 0).unwrap_or(1_000);
    let more = items.len() > page;
    items.truncate(page);
    let mut body = json!({ field: items });
    if let Some(name) = name {
        body["name"] = name.into();
    }
    let mut response = json_response(body, "application/json", head);
    if more && let Some(last) = items.last() {
        let encoded: String = url::form_urlencoded::byte_serialize(last.as_bytes()).collect();
        if let Ok(value) = HeaderValue::from_str(&format!("<{path}?n={page}&last={encoded}>; rel=\"next\"")) {
            response.headers_mut().insert(header::LINK, value);
        }
    }
    response
}

fn manifest(dir: &Path, repository: &Repository, reference: &str, head: bool) -> Response {
    let known: Option<&Descriptor> = if reference.contains(':') {
        repository.manifests.get(reference)
    } else {
        repository.tags.get(reference).and_then(|tagged| repository.manifests.get(&tagged.digest))
    };
    let Some(known) = known else {
        return error(StatusCode::NOT_FOUND, "MANIFEST_UNKNOWN", "manifest unknown to registry");
    };
    match read_manifest(dir, &known.digest) {
        Ok(bytes) => bytes_response(bytes, &known.media_type, Some(&known.digest), head),
        Err(failure) => error(StatusCode::INTERNAL_SERVER_ERROR, "UNKNOWN", &failure.to_string()),
    }
}

fn referrers(repository: &Repository, digest: &str, query: &HashMap<String, String>, head: bool) -> Response {
    if digest.parse::<ocicat_oci::Digest>().is_err() {
        return error(StatusCode::BAD_REQUEST, "DIGEST_INVALID", "not a digest");
    }
    let filter = query.get("artifactType");
    let manifests: Vec<&Descriptor> = repository
        .referrers
        .get(digest)
        .into_iter()
        .flatten()
        .filter(|referrer| filter.is_none_or(|wanted| referrer.artifact_type.as_ref() == Some(wanted)))
        .collect();
    let body = json!({"schemaVersion": 2, "mediaType": INDEX_MEDIA_TYPE, "manifests": manifests});
    let mut response = json_response(body, INDEX_MEDIA_TYPE, head);
    if filter.is_some() {
        response.headers_mut().insert("oci-filters-applied", HeaderValue::from_static("artifactType"));
    }
    response
}

async fn blob(path: PathBuf, length: u64, head: bool) -> Response {
    let body = if head {
        Body::empty()
    } else {
        match tokio::fs::File::open(&path).await {
            Ok(file) => Body::from_stream(tokio_util::io::ReaderStream::with_capacity(file, 256 << 10)),
            Err(failure) => {
                return error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "UNKNOWN",
                    &format!("cannot read the blob: {failure}"),
                );
            }
        }
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Some(name) = path.file_name().and_then(|name| name.to_str())
        && let Some(algorithm) = path.parent().and_then(Path::file_name).and_then(|name| name.to_str())
        && let Ok(value) = HeaderValue::from_str(&format!("{algorithm}:{name}"))
    {
        headers.insert("docker-content-digest", value);
    }
    response
}
