//! A Docker token server (ES256 JWTs) for distribution's `auth.token`, counting what it issues.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::jwt::{ResourceAccess, TokenSigner, parse_scope};

/// Settings of a [`TokenServer`]: the one valid user and the names it signs.
#[derive(Clone)]
pub struct TokenServerOptions {
    /// The only user whose credentials are accepted.
    pub username: String,
    /// That user's password.
    pub password: String,
    /// Service name, the token audience (`aud`) and distribution's `auth.token.service`.
    pub service: String,
    /// Issuer name (`iss`), distribution's `auth.token.issuer`.
    pub issuer: String,
    /// Lifetime of issued tokens in seconds, reported as `expires_in`.
    pub expires_in_seconds: u64,
}

impl TokenServerOptions {
    /// Builds options for one user with the default service, issuer and a 300 s lifetime.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        Self {
            username: username.into(),
            password: password.into(),
            service: "ocicat-test-registry".to_owned(),
            issuer: "ocicat-testkit".to_owned(),
            expires_in_seconds: 300,
        }
    }
}

impl std::fmt::Debug for TokenServerOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TokenServerOptions")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("service", &self.service)
            .field("issuer", &self.issuer)
            .field("expires_in_seconds", &self.expires_in_seconds)
            .finish()
    }
}

/// Shared state of the token endpoint.
struct TokenState {
    options: TokenServerOptions,
    signer: TokenSigner,
    tokens_issued: AtomicUsize,
    anonymous_tokens_issued: AtomicUsize,
    requests_rejected: AtomicUsize,
    requested_scopes: Mutex<Vec<String>>,
}

/// A running token server on `127.0.0.1`, stopped when dropped.
///
/// `GET /token?service=..&scope=..` with the right Basic credentials grants every
/// requested action; wrong credentials get 401; no credentials get a token with
/// an empty `access` claim.
pub struct TokenServer {
    address: SocketAddr,
    state: Arc<TokenState>,
    certificate_path: PathBuf,
    task: tokio::task::JoinHandle<()>,
    _certificate_dir: tempfile::TempDir,
}

impl TokenServer {
    /// Generates a key and certificate and starts serving on a free loopback port.
    pub async fn start(options: TokenServerOptions) -> anyhow::Result<Self> {
        let signer = TokenSigner::generate(&options.issuer)?;
        let certificate_dir = tempfile::Builder::new()
            .prefix("ocicat-token-")
            .tempdir()
            .context("failed to create the token server tempdir")?;
        let certificate_path = certificate_dir.path().join("token-root.pem");
        std::fs::write(&certificate_path, signer.certificate_pem())
            .with_context(|| format!("failed to write {}", certificate_path.display()))?;

        let listener = tokio::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .await
            .context("failed to bind the token server to 127.0.0.1:0")?;
        let address = listener.local_addr().context("failed to read the token server address")?;
        let state = Arc::new(TokenState {
            options,
            signer,
            tokens_issued: AtomicUsize::new(0),
            anonymous_tokens_issued: AtomicUsize::new(0),
            requests_rejected: AtomicUsize::new(0),
            requested_scopes: Mutex::new(Vec::new()),
        });
        let router = axum::Router::new().route("/token", get(issue_token)).with_state(Arc::clone(&state));
        let task = tokio::spawn(async move {
            if let Err(error) = axum::serve(listener, router).await {
                tracing::warn!(%error, "token server stopped with an error");
            }
        });
        tracing::debug!(%address, "token server listening on {address}");
        Ok(Self { address, state, certificate_path, task, _certificate_dir: certificate_dir })
    }

    /// Returns the base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Returns the token endpoint, the `realm` of the registry's challenge.
    pub fn realm(&self) -> String {
        format!("{}/token", self.url())
    }

    /// Returns the service name (token audience).
    pub fn service(&self) -> &str {
        &self.state.options.service
    }

    /// Returns the issuer name.
    pub fn issuer(&self) -> &str {
        &self.state.options.issuer
    }

    /// Returns the PEM file holding the signing certificate (`rootcertbundle`).
    pub fn certificate_path(&self) -> &Path {
        &self.certificate_path
    }

    /// Returns the libtrust key id placed in every token's `kid` header.
    pub fn key_id(&self) -> &str {
        self.state.signer.key_id()
    }

    /// Returns how many tokens were issued, anonymous ones included.
    pub fn tokens_issued(&self) -> usize {
        self.state.tokens_issued.load(Ordering::SeqCst)
    }

    /// Returns how many tokens were issued without credentials.
    pub fn anonymous_tokens_issued(&self) -> usize {
        self.state.anonymous_tokens_issued.load(Ordering::SeqCst)
    }

    /// Returns how many token requests were refused (bad credentials or service).
    pub fn requests_rejected(&self) -> usize {
        self.state.requests_rejected.load(Ordering::SeqCst)
    }

    /// Returns every scope requested so far, in arrival order.
    pub fn requested_scopes(&self) -> Vec<String> {
        lock_scopes(&self.state).clone()
    }

    /// Signs a token outside the HTTP flow, e.g. an expired or narrow one.
    ///
    /// `valid_for_seconds` may be negative to produce a token that is already expired.
    pub fn mint_token(
        &self,
        subject: &str,
        access: &[ResourceAccess],
        valid_for_seconds: i64,
    ) -> anyhow::Result<String> {
        sign_token(&self.state, subject, access, valid_for_seconds)
    }
}

impl std::fmt::Debug for TokenServer {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("TokenServer")
            .field("address", &self.address)
            .field("options", &self.state.options)
            .field("key_id", &self.key_id())
            .finish()
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn lock_scopes(state: &TokenState) -> std::sync::MutexGuard<'_, Vec<String>> {
    state.requested_scopes.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Who is asking for a token.
enum Caller {
    Anonymous,
    User(String),
    Rejected,
}

fn identify_caller(options: &TokenServerOptions, headers: &HeaderMap) -> Caller {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Caller::Anonymous;
    };
    let Some((scheme, encoded)) = value.to_str().ok().and_then(|text| text.split_once(' ')) else {
        return Caller::Rejected;
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Caller::Rejected;
    }
    let Some(decoded) = STANDARD.decode(encoded.trim()).ok().and_then(|bytes| String::from_utf8(bytes).ok()) else {
        return Caller::Rejected;
    };
    match decoded.split_once(':') {
        Some((username, password)) if username == options.username && password == options.password => {
            Caller::User(username.to_owned())
        }
        _ => Caller::Rejected,
    }
}

async fn issue_token(State(state): State<Arc<TokenState>>, headers: HeaderMap, RawQuery(query): RawQuery) -> Response {
    let mut requested_service = None;
    let mut scopes = Vec::new();
    for (key, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "service" => requested_service = Some(value.into_owned()),
            // One scope per parameter, but tolerate the space-joined form too.
            "scope" => scopes.extend(value.split_whitespace().map(str::to_owned)),
            _ => {}
        }
    }
    lock_scopes(&state).extend(scopes.iter().cloned());

    if let Some(service) = &requested_service
        && *service != state.options.service
    {
        state.requests_rejected.fetch_add(1, Ordering::SeqCst);
        return error_response(StatusCode::BAD_REQUEST, "unknown service");
    }
    let (subject, access) = match identify_caller(&state.options, &headers) {
        Caller::Rejected => {
            state.requests_rejected.fetch_add(1, Ordering::SeqCst);
            return error_response(StatusCode::UNAUTHORIZED, "invalid username or password");
        }
        Caller::Anonymous => {
            state.anonymous_tokens_issued.fetch_add(1, Ordering::SeqCst);
            (String::new(), Vec::new())
        }
        Caller::User(username) => (username, scopes.iter().filter_map(|scope| parse_scope(scope)).collect()),
    };
    let expires_in = i64::try_from(state.options.expires_in_seconds).unwrap_or(i64::MAX / 2);
    let token = match sign_token(&state, &subject, &access, expires_in) {
        Ok(token) => token,
        Err(error) => {
            tracing::error!(%error, "failed to sign token");
            return error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    state.tokens_issued.fetch_add(1, Ordering::SeqCst);
    let issued_at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    axum::Json(serde_json::json!({
        "token": token,
        "access_token": token,
        "expires_in": state.options.expires_in_seconds,
        "issued_at": issued_at,
    }))
    .into_response()
}

fn sign_token(
    state: &TokenState,
    subject: &str,
    access: &[ResourceAccess],
    valid_for_seconds: i64,
) -> anyhow::Result<String> {
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "iss": state.options.issuer,
        "sub": subject,
        "aud": state.options.service,
        "exp": now.saturating_add(valid_for_seconds),
        "nbf": now,
        "iat": now,
        "jti": format!("{:032x}", rand::random::<u128>()),
        "access": access,
    });
    state.signer.sign(&claims)
}

fn error_response(status: StatusCode, message: &str) -> Response {
    let code = if status == StatusCode::UNAUTHORIZED { "UNAUTHORIZED" } else { "DENIED" };
    let body = axum::Json(serde_json::json!({"errors": [{"code": code, "message": message}]}));
    let mut response = (status, body).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Basic realm=\"ocicat-testkit\""));
    }
    response
}
