//! [`FaultyRegistry`]: a registry that lies, loops, floods and stalls on purpose, scripted per test.
//!
//! Each test lists the routes it needs (`GET /v2/x/manifests/*` → a [`Script`]); everything else
//! answers distribution's plain-text 404. The server listens on `127.0.0.1:<free port>`, runs on
//! the test's tokio runtime, records every request (time, method, path, query, headers) and
//! every TCP connection, and is aborted on drop.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use ocicat_testkit::{FaultyRegistry, Reply, Script};
//! let registry = FaultyRegistry::builder()
//!     .get("/v2/x/manifests/*", Reply::manifest(r#"{"schemaVersion":2}"#))
//!     .get("/v2/_catalog", Script::sequence([Reply::new(500), Reply::json(serde_json::json!({"repositories":[]}))]))
//!     .start()
//!     .await?;
//! assert_eq!(registry.count("/v2/x/"), 0);
//! # Ok(()) }
//! ```

mod body;
mod reply;
mod scenarios;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context as _;
use axum::extract::{Request, State};
use axum::response::Response;
use axum::serve::ListenerExt as _;

pub use reply::{Reply, ReplyBody, Responder, Script};

/// One request as the registry saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// When it arrived.
    pub at: Instant,
    /// `GET`, `HEAD`, …
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string, if any.
    pub query: Option<String>,
    /// Every header, names lowercase, in arrival order.
    pub headers: Vec<(String, String)>,
    /// How many earlier requests hit the same route (0 for the first).
    pub hit: usize,
}

impl Seen {
    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(key, _)| *key == name).map(|(_, value)| value.as_str())
    }

    /// The first value of query parameter `name`, undecoded.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query.as_deref()?.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
    }

    /// `path?query`, exactly as requested.
    pub fn uri(&self) -> String {
        match &self.query {
            Some(query) => format!("{}?{query}", self.path),
            None => self.path.clone(),
        }
    }
}

struct Route {
    method: Option<String>,
    pattern: String,
    script: Script,
    hits: AtomicUsize,
}

impl Route {
    fn matches(&self, method: &str, path: &str) -> bool {
        let method_ok = self.method.as_deref().is_none_or(|wanted| {
            wanted.eq_ignore_ascii_case(method) || (wanted == "GET" && method.eq_ignore_ascii_case("HEAD"))
        });
        let path_ok = match self.pattern.strip_suffix('*') {
            Some(prefix) => path.starts_with(prefix),
            None => path == self.pattern,
        };
        method_ok && path_ok
    }
}

struct Shared {
    routes: Vec<Route>,
    log: Mutex<Vec<Seen>>,
    connections: Arc<AtomicUsize>,
    upstream: reqwest::Client,
}

/// The routes of a [`FaultyRegistry`] before it starts; the first matching route answers.
#[derive(Default)]
pub struct FaultyRegistryBuilder {
    routes: Vec<Route>,
}

impl FaultyRegistryBuilder {
    /// Answers `method` requests to `pattern` (an exact path, or a prefix ending in `*`).
    pub fn route(mut self, method: &str, pattern: &str, script: impl Into<Script>) -> Self {
        let method = (method != "*").then(|| method.to_owned());
        self.routes.push(Route {
            method,
            pattern: pattern.to_owned(),
            script: script.into(),
            hits: AtomicUsize::new(0),
        });
        self
    }

    /// Answers `GET` and `HEAD` requests to `pattern`.
    pub fn get(self, pattern: &str, script: impl Into<Script>) -> Self {
        self.route("GET", pattern, script)
    }

    /// Answers requests of any method to `pattern`.
    pub fn any(self, pattern: &str, script: impl Into<Script>) -> Self {
        self.route("*", pattern, script)
    }

    /// Binds `127.0.0.1:0` and serves on the current tokio runtime.
    pub async fn start(self) -> anyhow::Result<FaultyRegistry> {
        let connections = Arc::new(AtomicUsize::new(0));
        let upstream = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .context("failed to build the proxy client")?;
        let shared = Arc::new(Shared { routes: self.routes, log: Mutex::default(), connections, upstream });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.context("failed to bind 127.0.0.1:0")?;
        let address = listener.local_addr().context("failed to read the faulty registry's address")?;
        let counter = shared.connections.clone();
        let listener = listener.tap_io(move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let app = axum::Router::new().fallback(handle).with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FaultyRegistry { address, shared, task })
    }
}

/// A running scripted registry on `127.0.0.1`; see the module docs.
pub struct FaultyRegistry {
    address: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for FaultyRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FaultyRegistry").field("address", &self.address).finish_non_exhaustive()
    }
}

impl FaultyRegistry {
    /// Starts describing the routes.
    pub fn builder() -> FaultyRegistryBuilder {
        FaultyRegistryBuilder::default()
    }

    /// The base URL, e.g. `http://127.0.0.1:40123`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The base URL through another name for this machine's loopback, e.g. `http://vm:40123`.
    pub fn url_via(&self, host: &str) -> String {
        format!("http://{host}:{}", self.address.port())
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.address.port()
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Seen> {
        self.shared.log.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// How many requests arrived whose path starts with `prefix` (`""` counts all).
    pub fn count(&self, prefix: &str) -> usize {
        self.requests().iter().filter(|seen| seen.path.starts_with(prefix)).count()
    }

    /// The requests whose path starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<Seen> {
        self.requests().into_iter().filter(|seen| seen.path.starts_with(prefix)).collect()
    }

    /// How many TCP connections were accepted, including ones that never sent a valid request.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

impl Drop for FaultyRegistry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Names in `/etc/hosts` for `127.0.0.1` other than `localhost`: a client configured with one
/// of them does not know its registry is on loopback, so its SSRF guards apply in full.
pub fn loopback_aliases() -> Vec<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").unwrap_or_default();
    let mut aliases: Vec<String> = hosts
        .lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            (fields.next()? == "127.0.0.1").then(|| fields.map(str::to_owned).collect::<Vec<_>>())
        })
        .flatten()
        .filter(|name| name != "localhost" && !name.ends_with(".localhost") && !name.contains(':'))
        .collect();
    aliases.dedup();
    aliases
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let at = Instant::now();
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, 16 << 20).await.unwrap_or_default();
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
        .collect();
    let mut seen = Seen {
        at,
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        headers,
        hit: 0,
    };
    let route = shared.routes.iter().find(|route| route.matches(&seen.method, &seen.path));
    if let Some(route) = route {
        seen.hit = route.hits.fetch_add(1, Ordering::SeqCst);
    }
    shared.log.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).push(seen.clone());
    let reply = match route {
        None => Reply::not_found_plain(),
        Some(route) => match &route.script {
            Script::Proxy { upstream, rewrite_query } => {
                return body::proxy(&shared.upstream, upstream, rewrite_query.as_ref(), &seen, body).await;
            }
            script => script.reply(&seen),
        },
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    body::render(&reply)
}
