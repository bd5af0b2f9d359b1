//! `TestApp`: a real distribution registry seeded by the real seeder, crawled once into an
//! in-RAM catalog, behind the real router; requests go through `tower::ServiceExt::oneshot`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode, header};
use http_body_util::BodyExt as _;
use ocicat::events::Events;
use ocicat::state::AppState;
use ocicat_catalog::{Catalog, CatalogWriter, WriterConfig};
use ocicat_crawler::{CrawlState, Crawler, RegistrySource, StatusBoard, crawl_registry};
use ocicat_oci::{Client, ClientConfig, Credentials, Secret};
use ocicat_seed::{SeedReport, Seeded, Size, Target};
use ocicat_testkit::{Distribution, DistributionOptions};
use serde_json::Value;
use tower::ServiceExt as _;

/// The name the seeded registry is configured under.
pub(crate) const LOCAL: &str = "local";

/// Repositories crawled at once, as in the default configuration.
const CONCURRENCY: usize = 4;

/// One response, fully read.
#[derive(Debug)]
pub(crate) struct TestResponse {
    /// The status code.
    pub(crate) status: StatusCode,
    /// The response headers.
    pub(crate) headers: HeaderMap,
    /// The body as text.
    pub(crate) body: String,
    /// The body as bytes (downloads).
    pub(crate) raw: bytes::Bytes,
}

impl TestResponse {
    /// The `Content-Type` header, or an empty string.
    pub(crate) fn content_type(&self) -> &str {
        self.headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok()).unwrap_or_default()
    }

    /// The body parsed as JSON; panics with the body when it is not JSON.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}), status {}: {}", self.status, self.body))
    }
}

/// How to start a [`TestApp`].
#[derive(Debug)]
pub(crate) struct TestAppBuilder {
    options: DistributionOptions,
    seeded: bool,
    extra_sources: Vec<RegistrySource>,
    access: Option<(String, Option<Arc<dyn ocicat::auth::Clock>>)>,
    access_database: Option<String>,
    same_registry_as: Vec<String>,
    retention: Vec<ocicat_lifecycle::retention::RetentionPolicy>,
    trust: Arc<ocicat_trust::Policies>,
}

/// The real router over a real, seeded and crawled registry named [`LOCAL`].
pub(crate) struct TestApp {
    /// The registry; it stops when the app is dropped.
    pub(crate) registry: Distribution,
    /// What the seeder pushed (empty when unseeded).
    pub(crate) report: SeedReport,
    /// The source the app crawls as [`LOCAL`].
    pub(crate) source: RegistrySource,
    /// Tokens the token server had issued before the crawl (token mode only).
    pub(crate) tokens_before_crawl: Option<usize>,
    /// The error of every extra source whose crawl failed, by name.
    pub(crate) crawl_errors: BTreeMap<String, String>,
    /// The read side of the index.
    pub(crate) catalog: Catalog,
    /// The write side of the index.
    pub(crate) writer: CatalogWriter,
    /// Crawl status per registry, shared with the pages.
    pub(crate) board: StatusBoard,
    /// The `[access]` section, the directory of its SQLite database, and the URL of another
    /// database that replaces it.
    access: Option<(String, tempfile::TempDir, Option<String>)>,
    /// The registry clients the content proxy uses (every crawled source).
    content: ocicat_content::Content,
    router: Router,
    /// Where the delete plans and audit log live when access control is off.
    _lifecycle_directory: tempfile::TempDir,
}

impl TestApp {
    /// An anonymous registry, seeded with [`Size::Test`] and crawled.
    pub(crate) async fn start() -> TestApp {
        TestApp::builder().build().await
    }

    /// Starts building an app; the default is an anonymous seeded registry and no extra sources.
    pub(crate) fn builder() -> TestAppBuilder {
        TestAppBuilder {
            options: DistributionOptions::anonymous(),
            seeded: true,
            extra_sources: Vec::new(),
            access: None,
            access_database: None,
            same_registry_as: Vec::new(),
            retention: Vec::new(),
            trust: Arc::default(),
        }
    }

    /// A client for the registry with the app's credentials.
    pub(crate) fn client(&self) -> Client {
        self.source.client.clone()
    }

    /// Crawls [`LOCAL`] again (after a test pushed something) and waits for the commit.
    pub(crate) async fn recrawl(&self) {
        crawl_registry(&self.source, &self.catalog, &self.writer, &self.board, CONCURRENCY)
            .await
            .unwrap_or_else(|error| panic!("recrawl failed: {error}\n{}", self.registry.log_tail(20)));
    }

    /// Registers `source` in the board and crawls it into the same catalog; a failure is shown
    /// on the board as the crawl task would show it.
    pub(crate) async fn crawl_other(&self, source: &RegistrySource) -> Result<(), String> {
        self.board.register(&source.name, source.client.base_url().as_str());
        crawl_and_record_failure(source, &self.catalog, &self.writer, &self.board).await
    }

    /// Sends `GET path` through the router.
    pub(crate) async fn get(&self, path: &str) -> TestResponse {
        get(&self.router, path).await
    }

    /// A new router over the same catalog and the same session and token database, as after a
    /// restart of the server.
    pub(crate) async fn restart(&mut self) {
        let (section, data, url) = self.access.as_ref().expect("an app with access control");
        let auth = open_access(&self.board, section, data.path(), url.as_deref()).await;
        let mut state = app_state(self.catalog.clone(), self.board.clone(), Crawler::default());
        state.service = state.service.with_content(self.content.clone());
        state.service = state.service.with_tokens(auth.tokens());
        state.auth = auth;
        self.router = ocicat::router::build_router(state);
    }

    /// Sends `GET path` and reads the body as bytes; `Err` when the body stream broke off (a
    /// download the server aborted).
    pub(crate) async fn download(
        &self,
        path: &str,
        headers: &[(&str, &str)],
    ) -> (StatusCode, axum::http::HeaderMap, Result<bytes::Bytes, String>) {
        let mut request = Request::builder().uri(path);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(Body::empty()).expect("request builds");
        let response = self.router.clone().oneshot(request).await.expect("the router is infallible");
        let (status, headers) = (response.status(), response.headers().clone());
        let body = response.into_body().collect().await.map(|body| body.to_bytes()).map_err(|error| error.to_string());
        (status, headers, body)
    }

    /// Sends `request` through the router.
    pub(crate) async fn send(&self, request: Request<Body>) -> TestResponse {
        send(&self.router, request).await
    }

    /// Calls the server function `S` as the page does (a form-encoded POST of `arguments`).
    pub(crate) async fn call_server_fn<S: leptos::server_fn::ServerFn>(
        &self,
        arguments: &[(&str, &str)],
    ) -> TestResponse {
        let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(arguments).finish();
        let request = Request::builder()
            .method("POST")
            .uri(S::PATH)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .expect("request builds");
        send(&self.router, request).await
    }

    /// Sends `GET path`, asserts a 200 and returns the JSON body.
    pub(crate) async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).await;
        assert_eq!(response.status, StatusCode::OK, "GET {path}: {}", response.body);
        response.json()
    }

    /// Sends `GET path`, asserts a 200 HTML page and returns its body.
    pub(crate) async fn get_page(&self, path: &str) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status, StatusCode::OK, "GET {path}: {}", response.body);
        assert!(response.content_type().starts_with("text/html"), "GET {path}: {}", response.content_type());
        response.body
    }
}

impl TestAppBuilder {
    /// Runs the registry with these options (auth mode); credentials come from them.
    pub(crate) fn registry(mut self, options: DistributionOptions) -> TestAppBuilder {
        self.options = options;
        self
    }

    /// Leaves the registry empty.
    pub(crate) fn unseeded(mut self) -> TestAppBuilder {
        self.seeded = false;
        self
    }

    /// Turns access control on with this `[access]` section (TOML without the header); time
    /// comes from `clock` when given.
    pub(crate) fn access(mut self, section: &str, clock: Option<Arc<dyn ocicat::auth::Clock>>) -> TestAppBuilder {
        self.access = Some((section.to_owned(), clock));
        self
    }

    /// Keeps sessions and tokens in the database at `url` instead of SQLite.
    pub(crate) fn access_database(mut self, url: String) -> TestAppBuilder {
        self.access_database = Some(url);
        self
    }

    /// Also configures the seeded registry under `name` (a second registry with the same content).
    pub(crate) fn mirrored_as(mut self, name: &str) -> TestAppBuilder {
        self.same_registry_as.push(name.to_owned());
        self
    }

    /// Configures these retention policies (TOML, `[[retention]]` tables without the header).
    pub(crate) fn retention(mut self, policies: &str) -> TestAppBuilder {
        #[derive(serde::Deserialize)]
        struct Policies {
            retention: Vec<ocicat_lifecycle::retention::RetentionPolicy>,
        }
        let parsed: Policies = toml::from_str(policies).expect("retention policies parse");
        for policy in &parsed.retention {
            policy.validate().expect("the policy is valid");
        }
        self.retention = parsed.retention;
        self
    }

    /// Verifies [`LOCAL`]'s signatures against `policies` (and lists them in the API).
    pub(crate) fn trust(mut self, policies: ocicat_trust::Policies) -> TestAppBuilder {
        self.trust = Arc::new(policies);
        self
    }

    /// Registers and crawls another source before [`LOCAL`] in the same board and catalog.
    pub(crate) fn extra_source(mut self, source: RegistrySource) -> TestAppBuilder {
        self.extra_sources.push(source);
        self
    }

    /// Starts the registry, seeds it, crawls every source once and builds the router.
    pub(crate) async fn build(self) -> TestApp {
        ocicat_testkit::init_tracing_for_tests();
        let registry = Distribution::start(self.options).await.expect("distribution starts");
        let url: url::Url = registry.url().parse().expect("registry url parses");
        let credentials = registry.credentials();
        let report = if self.seeded {
            let (username, password) = credentials.clone().unzip();
            let target = Target { url: url.clone(), username, password, referrers_api: false };
            ocicat_seed::seed(&target, Size::Test).await.expect("seeding succeeds")
        } else {
            SeedReport::default()
        };
        let tokens_before_crawl = registry.token_server().map(|server| server.tokens_issued());
        let source = registry_source(LOCAL, url.clone(), credentials).trusting(self.trust.clone());
        let (catalog, writer) = ocicat_catalog::open_in_ram(WriterConfig::default()).expect("catalog opens");
        let board = StatusBoard::default();
        let mut crawl_errors = BTreeMap::new();
        for extra in self.extra_sources.iter().chain([&source]) {
            board.register(&extra.name, extra.client.base_url().as_str());
        }
        for extra in &self.extra_sources {
            if let Err(error) = crawl_and_record_failure(extra, &catalog, &writer, &board).await {
                crawl_errors.insert(extra.name.clone(), error);
            }
        }
        crawl_registry(&source, &catalog, &writer, &board, CONCURRENCY)
            .await
            .unwrap_or_else(|error| panic!("crawl of {LOCAL} failed: {error}\n{}", registry.log_tail(20)));
        let mut clients: Vec<(String, Client)> =
            self.extra_sources.iter().chain([&source]).map(|s| (s.name.clone(), s.client.clone())).collect();
        for name in &self.same_registry_as {
            let mirror = registry_source(name, url.clone(), registry.credentials());
            board.register(name, mirror.client.base_url().as_str());
            crawl_registry(&mirror, &catalog, &writer, &board, CONCURRENCY).await.expect("the mirror crawls");
            clients.push((name.clone(), mirror.client.clone()));
        }
        let content = ocicat_content::Content::new(clients);
        let mut state = app_state(catalog.clone(), board.clone(), Crawler::default());
        state.service = state.service.with_content(content.clone()).with_trust(self.trust.clone());
        let access = match self.access {
            Some((section, clock)) => {
                let data = tempfile::tempdir().expect("temporary directory");
                let mut auth = open_access(&board, &section, data.path(), self.access_database.as_deref()).await;
                if let Some(clock) = clock {
                    auth = auth.with_clock(clock);
                }
                state.service = state.service.with_tokens(auth.tokens());
                state.auth = auth;
                Some((section, data, self.access_database))
            }
            None => None,
        };
        let lifecycle_directory = tempfile::tempdir().expect("temporary directory");
        let database = match state.auth.database() {
            Some(database) => database,
            None => {
                let url = format!("sqlite://{}?mode=rwc", lifecycle_directory.path().join("lifecycle.db").display());
                ocicat_sql::Database::connect(&url).await.expect("lifecycle database opens")
            }
        };
        let store = ocicat_lifecycle::store::Store::open(database).await.expect("lifecycle store opens");
        let sources: Vec<RegistrySource> = self.extra_sources.iter().chain([&source]).cloned().collect();
        let engine = ocicat_lifecycle::Engine::new(sources, catalog.clone(), writer.clone(), board.clone(), store)
            .with_policies(self.retention);
        state.service = state.service.with_lifecycle(engine);
        let router = ocicat::router::build_router(state);
        TestApp {
            _lifecycle_directory: lifecycle_directory,
            registry,
            report,
            source,
            tokens_before_crawl,
            crawl_errors,
            catalog,
            writer,
            board,
            access,
            content,
            router,
        }
    }
}

/// Access control from `section` with its database under `data`, for the registries on `board`.
async fn open_access(
    board: &StatusBoard,
    section: &str,
    data: &std::path::Path,
    database: Option<&str>,
) -> ocicat::auth::Auth {
    let names: Vec<String> = board.snapshot().into_iter().map(|status| status.name).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let config: ocicat::auth::config::AccessConfig = toml::from_str(section).expect("[access] parses");
    config.validate(&names, std::path::Path::new("test.toml")).expect("[access] is valid");
    match database {
        Some(url) => ocicat::auth::Auth::with_database(&config, url).await.expect("access opens"),
        None => ocicat::auth::Auth::from_config(&config, data).await.expect("access opens"),
    }
}

/// Sends `GET path` through `router` and reads the whole response.
pub(crate) async fn get(router: &Router, path: &str) -> TestResponse {
    let request = Request::builder().uri(path).body(Body::empty()).expect("request builds");
    send(router, request).await
}

/// Sends `request` through `router` and reads the whole response.
async fn send(router: &Router, request: Request<Body>) -> TestResponse {
    let response = router.clone().oneshot(request).await.expect("the router is infallible");
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body reads").to_bytes();
    // Downloads are bytes; the tests that read bodies read text.
    let body = String::from_utf8_lossy(&bytes).into_owned();
    TestResponse { status, headers, body, raw: bytes }
}

/// Crawls `source` once; on failure marks it unreachable with the error, as the crawl task does.
async fn crawl_and_record_failure(
    source: &RegistrySource,
    catalog: &Catalog,
    writer: &CatalogWriter,
    board: &StatusBoard,
) -> Result<(), String> {
    let outcome = crawl_registry(source, catalog, writer, board, CONCURRENCY).await;
    if let Err(error) = &outcome {
        board.update(&source.name, |status| {
            status.state = CrawlState::Unreachable;
            status.last_error = Some(error.to_string());
        });
    }
    outcome.map_err(|error| error.to_string())
}

/// A source named `name` for `url`, with Basic credentials when given.
pub(crate) fn registry_source(name: &str, url: url::Url, credentials: Option<(String, String)>) -> RegistrySource {
    let credentials = match credentials {
        Some((username, password)) => Credentials::Basic { username, password: Secret::new(password) },
        None => Credentials::Anonymous,
    };
    let client = Client::new(ClientConfig::new(url, credentials)).expect("client builds");
    RegistrySource::new(name.to_owned(), client)
}

/// The state `serve` builds around `crawler` (tests that crawl explicitly pass a default one).
pub(crate) fn app_state(catalog: Catalog, board: StatusBoard, crawler: Crawler) -> AppState {
    AppState::open(catalog, board, crawler, Events::new(HashMap::new()), "target/site")
}

/// True for tags the pages show as versions (not cosign `sha256-<hex>.sig` style tags).
pub(crate) fn is_version_tag(tag: &str) -> bool {
    !tag.starts_with("sha256-")
}

/// The version tags the seeder pushed into `repository`.
pub(crate) fn seeded_tags(report: &SeedReport, repository: &str) -> BTreeSet<String> {
    report
        .items
        .iter()
        .filter(|item| item.repository == repository)
        .filter_map(|item| item.reference.clone())
        .filter(|tag| is_version_tag(tag))
        .collect()
}

/// The kinds of every seeded item that refers to `digest`.
pub(crate) fn referrer_kinds<'a>(report: &'a SeedReport, digest: &str) -> Vec<&'a str> {
    report.items.iter().filter(|item| item.subject.as_deref() == Some(digest)).map(|item| item.kind).collect()
}

/// The seeded manifest that an SBOM, a scan, a signature and a lifecycle referrer all describe.
pub(crate) fn fully_attached_subject(report: &SeedReport) -> &Seeded {
    report
        .items
        .iter()
        .find(|item| {
            let kinds = referrer_kinds(report, &item.digest);
            ["sbom", "scan", "signature", "lifecycle"].iter().all(|kind| kinds.contains(kind))
        })
        .expect("the seeder attaches every referrer kind to one image")
}

/// The rows of a tag list JSON document (`…/-/tags`) as `(tag, row)` pairs.
pub(crate) fn tag_rows(list: &Value) -> BTreeMap<String, Value> {
    list["rows"]
        .as_array()
        .expect("rows is an array")
        .iter()
        .filter_map(|row| row["tag"].as_str().map(|tag| (tag.to_owned(), row.clone())))
        .collect()
}
