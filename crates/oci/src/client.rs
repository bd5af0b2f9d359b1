//! The client for one registry: configuration, the authenticated request loop (challenge → token
//! → retry once), status mapping, manifests, blobs and pushes.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode, header};
use url::Url;

use crate::auth::{Credentials, Secret, TokenCache, TokenResponse, parse_challenges};
use crate::body::read_capped;
use crate::error::{OciError, Result};
use crate::status::check_status;

/// Caps on everything read from a registry.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest manifest accepted (the spec asks for at least 4 MiB).
    pub manifest_bytes: u64,
    /// Largest blob read into memory (configs, small artifacts).
    pub blob_bytes: u64,
    /// Largest page of a catalog or tag list.
    pub list_page_bytes: u64,
    /// Most pages followed in one listing before it is reported truncated.
    pub list_pages: usize,
    /// Most names kept from one listing (repositories, tags) or referrers of one subject; more
    /// are left out and the listing is reported truncated.
    pub list_items: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            manifest_bytes: 4 << 20,
            blob_bytes: 16 << 20,
            list_page_bytes: 8 << 20,
            list_pages: 1000,
            list_items: 100_000,
        }
    }
}

/// Whether a registry implements the referrers API: unknown until its first answer, then
/// remembered for the client's lifetime.
#[derive(Debug, Default)]
pub(crate) struct ReferrersCapability {
    pub(crate) known: Mutex<Option<bool>>,
}

/// How to reach and authenticate to one registry.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The registry's base URL, e.g. `http://127.0.0.1:5000`.
    pub base_url: Url,
    /// Credentials for Basic auth and token requests.
    pub credentials: Credentials,
    /// Size and count caps.
    pub limits: Limits,
    /// Time allowed to connect.
    pub connect_timeout: Duration,
    /// Time allowed for a whole request, and for each read of a body; a blob stream
    /// ([`Client::blob_stream`]) only has to keep reading within it (it may take up to
    /// an hour in all).
    pub request_timeout: Duration,
    /// Requests in flight, retries, backoff and the circuit breaker.
    pub politeness: crate::politeness::Politeness,
    /// Token realm hosts besides the registry's own that may receive the Basic credentials
    /// (Docker Hub's `auth.docker.io` is known); any other realm is asked without them.
    pub token_realms: Vec<String>,
}

/// Registry hosts whose token service lives on another, well-known host.
const KNOWN_TOKEN_REALMS: [(&str, &str); 1] = [(crate::reference::DOCKER_HUB_API, "auth.docker.io")];

impl ClientConfig {
    /// A configuration with default limits and timeouts (connect 5 s, request 30 s).
    pub fn new(base_url: Url, credentials: Credentials) -> ClientConfig {
        ClientConfig {
            base_url,
            credentials,
            limits: Limits::default(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            politeness: crate::politeness::Politeness::default(),
            token_realms: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Scheme {
    Basic,
    Bearer { realm: Url, service: Option<String> },
}

/// Scopes whose challenges are remembered before they are all forgotten (a bound, not a cache
/// policy: forgetting costs one more challenge round trip each).
const MAX_SCOPES_REMEMBERED: usize = 10_000;

/// What the client learnt from challenges: each request answers the challenge its own scope
/// received, so one repository whose realm fails never changes how the others are read.
#[derive(Debug, Default)]
struct Schemes {
    /// The scheme each scope set (`TokenCache::key`) was challenged with.
    by_scope: HashMap<String, Scheme>,
    /// The first scheme that worked: a guess for scopes never challenged yet.
    default: Option<Scheme>,
}

/// Where the scheme of a request came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Learnt {
    /// This scope's own challenge.
    ForScope,
    /// A guess from another scope (a failing token for it is no reason to fail this request).
    Guessed,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    credentials: Credentials,
    token_realms: Vec<String>,
    limits: Limits,
    /// How each scope (a repository's pull or push, the catalog) was told to authenticate, and
    /// the first scheme that worked, tried first for scopes not met yet.
    schemes: Mutex<Schemes>,
    tokens: TokenCache,
    referrers: ReferrersCapability,
    governor: crate::politeness::Governor,
}

/// A client for one registry; clones share connections and the token cache.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.inner.base.as_str()).finish_non_exhaustive()
    }
}

impl Client {
    /// Builds a client; redirects are followed only within the registry's origin or to https.
    pub fn new(config: ClientConfig) -> Result<Client> {
        let scheme = config.base_url.scheme();
        if scheme != "http" && scheme != "https" {
            return Err(OciError::Config(format!("registry url must be http or https, got {scheme}")));
        }
        let registry = config.base_url.clone();
        let redirect = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= 10 {
                return attempt.error("too many redirects");
            }
            match crate::ssrf::check_target(attempt.url(), &registry) {
                Ok(()) => attempt.follow(),
                Err(reason) => attempt.error(reason),
            }
        });
        let resolver = crate::ssrf::GuardedResolver {
            registry_host: config.base_url.host_str().unwrap_or_default().to_owned(),
            registry_internal: crate::ssrf::registry_is_internal(&config.base_url),
        };
        let http = reqwest::Client::builder()
            .dns_resolver(std::sync::Arc::new(resolver))
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // Also per read: what bounds a blob stream, whose whole time may be longer.
            .read_timeout(config.request_timeout)
            .redirect(redirect)
            .user_agent(concat!("ocicat/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| OciError::Config(format!("cannot build http client: {error}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base: config.base_url,
                credentials: config.credentials,
                token_realms: config.token_realms.iter().map(|host| host.to_ascii_lowercase()).collect(),
                limits: config.limits,
                schemes: Mutex::new(Schemes::default()),
                tokens: TokenCache::default(),
                referrers: Default::default(),
                governor: crate::politeness::Governor::new(config.politeness),
            }),
        })
    }

    /// The registry's base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    pub(crate) fn referrers_capability(&self) -> &ReferrersCapability {
        &self.inner.referrers
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.inner.limits
    }

    pub(crate) fn url(&self, path: &str) -> Result<Url> {
        self.inner.base.join(path).map_err(|error| OciError::Config(format!("cannot build url for {path}: {error}")))
    }

    /// Checks that the registry speaks the API and that our credentials work (`GET /v2/`).
    pub async fn ping(&self) -> Result<()> {
        let url = self.url("/v2/")?;
        let response = self.execute(Method::GET, url, &[], |request| request).await?;
        check_status(response).await.map(drop)
    }

    /// The rate-limit state this registry last announced.
    pub fn rate_limit(&self) -> crate::politeness::RateLimitState {
        self.inner.governor.snapshot()
    }

    /// Sends a request politely: within the in-flight bound, after any 429 window, through the
    /// circuit breaker, retrying 429s (any method) and 5xx or transport failures (GET/HEAD).
    pub(crate) async fn execute<F>(&self, method: Method, url: Url, scopes: &[String], configure: F) -> Result<Response>
    where
        F: Fn(RequestBuilder) -> RequestBuilder,
    {
        let governor = &self.inner.governor;
        let _permit = governor.permit().await;
        let idempotent = method == Method::GET || method == Method::HEAD;
        let mut attempt = 0;
        loop {
            if let Some((left, cause)) = governor.open_for() {
                return Err(OciError::CircuitOpen {
                    url: self.inner.base.to_string(),
                    retry_in_secs: left.as_secs().max(1),
                    cause,
                });
            }
            governor.wait_for_window().await;
            let outcome = self.execute_authenticated(&method, &url, scopes, &configure).await;
            let retry_in = match &outcome {
                Ok(response) if response.status() == StatusCode::TOO_MANY_REQUESTS => {
                    let wait = governor.wait_after_429(response, attempt);
                    governor.block_for(wait);
                    tracing::warn!(registry.url = %self.inner.base, wait_secs = wait.as_secs(), "registry is rate limiting");
                    Some(wait)
                }
                Ok(response) if response.status().is_server_error() => {
                    governor.failed(format!("status {}", response.status().as_u16()));
                    idempotent.then(|| governor.backoff(attempt))
                }
                Ok(response) => {
                    governor.succeeded(response);
                    None
                }
                Err(OciError::Unreachable { reason, .. }) => {
                    governor.failed(reason.chars().take(300).collect());
                    idempotent.then(|| governor.backoff(attempt))
                }
                Err(_) => None,
            };
            match retry_in {
                Some(wait) if attempt < governor.rules().max_retries => {
                    attempt += 1;
                    tokio::time::sleep(wait).await;
                }
                _ => return outcome,
            }
        }
    }

    /// Sends a request, answering one auth challenge and retrying once.
    async fn execute_authenticated<F>(
        &self,
        method: &Method,
        url: &Url,
        scopes: &[String],
        configure: &F,
    ) -> Result<Response>
    where
        F: Fn(RequestBuilder) -> RequestBuilder,
    {
        let (method, url) = (method.clone(), url.clone());
        let scope_set: BTreeSet<String> = scopes.iter().cloned().collect();
        let response = self.send_once(&method, &url, &scope_set, configure).await?;
        if response.status() != StatusCode::UNAUTHORIZED {
            return Ok(response);
        }
        let challenges: Vec<_> = response
            .headers()
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(parse_challenges)
            .collect();
        let mut wanted = scope_set.clone();
        let mut learned = None;
        for challenge in &challenges {
            match challenge.scheme.as_str() {
                "bearer" => {
                    let realm_text = challenge.param("realm").unwrap_or_default();
                    let realm = self.checked_realm(realm_text)?;
                    if let Some(scope) = challenge.param("scope") {
                        wanted.extend(scope.split(' ').filter(|s| !s.is_empty()).map(str::to_owned));
                    }
                    learned = Some(Scheme::Bearer { realm, service: challenge.param("service").map(str::to_owned) });
                    break;
                }
                "basic" => learned = Some(Scheme::Basic),
                _ => {}
            }
        }
        let Some(learned) = learned else {
            return Err(OciError::Unauthorized { url: url.to_string(), reason: "no supported auth challenge".into() });
        };
        if let Scheme::Bearer { realm, service } = &learned {
            // A cached token that was just refused must not be offered again.
            self.inner.tokens.forget(&token_key(realm, service.as_deref(), &wanted));
        }
        {
            let mut schemes = self.inner.schemes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if schemes.by_scope.len() >= MAX_SCOPES_REMEMBERED {
                schemes.by_scope.clear();
            }
            schemes.by_scope.insert(TokenCache::key(&scope_set), learned.clone());
            schemes.by_scope.insert(TokenCache::key(&wanted), learned.clone());
        }
        let retried = self.send_once(&method, &url, &wanted, configure).await?;
        if retried.status() == StatusCode::UNAUTHORIZED {
            let insufficient_scope = retried
                .headers()
                .get_all(header::WWW_AUTHENTICATE)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(parse_challenges)
                .any(|challenge| challenge.param("error") == Some("insufficient_scope"));
            if insufficient_scope {
                return Err(OciError::Denied { url: url.to_string() });
            }
            return Err(OciError::Unauthorized { url: url.to_string(), reason: "credentials rejected".into() });
        }
        let mut schemes = self.inner.schemes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        schemes.default.get_or_insert(learned);
        Ok(retried)
    }

    async fn send_once<F>(
        &self,
        method: &Method,
        url: &Url,
        scopes: &BTreeSet<String>,
        configure: &F,
    ) -> Result<Response>
    where
        F: Fn(RequestBuilder) -> RequestBuilder,
    {
        let scheme = {
            let schemes = self.inner.schemes.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            match schemes.by_scope.get(&TokenCache::key(scopes)) {
                Some(scheme) => Some((scheme.clone(), Learnt::ForScope)),
                None => schemes.default.clone().map(|scheme| (scheme, Learnt::Guessed)),
            }
        };
        let authorization = match scheme {
            None => None,
            Some((Scheme::Basic, _)) => self.inner.credentials.basic_header(),
            Some((Scheme::Bearer { realm, service }, learnt)) => {
                match self.token(&realm, service.as_deref(), scopes).await {
                    Ok(token) => Some(format!("Bearer {}", token.expose())),
                    // Another scope's realm: ask without credentials and answer our own challenge.
                    Err(error) if learnt == Learnt::Guessed => {
                        tracing::debug!(%error, "the guessed token realm failed; asking for this scope's challenge");
                        None
                    }
                    Err(error) => return Err(error),
                }
            }
        };
        let mut request = configure(self.inner.http.request(method.clone(), url.clone()));
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        request.send().await.map_err(|error| {
            if error.is_redirect() {
                // A redirect we refused (too many hops, another origin over http, an internal
                // address) is a decision, not a transport failure: never retried.
                OciError::Refused { target: url.to_string(), reason: error_chain(&error) }
            } else {
                OciError::Unreachable { url: url.to_string(), reason: error_chain(&error) }
            }
        })
    }

    fn checked_realm(&self, realm: &str) -> Result<Url> {
        let refused =
            |reason: &str| OciError::Refused { target: realm.chars().take(200).collect(), reason: reason.into() };
        let parsed = Url::parse(realm).map_err(|_| refused("token realm is not a url"))?;
        let plain_http_registry_realm =
            self.inner.base.scheme() == "http" && parsed.scheme() == "http" && parsed.host() == self.inner.base.host();
        if plain_http_registry_realm {
            return Ok(parsed);
        }
        crate::ssrf::check_target(&parsed, &self.inner.base).map_err(|reason| refused(&reason))?;
        Ok(parsed)
    }

    /// True when `realm` may see the registry's Basic credentials: it is on the registry's own
    /// host, a configured token realm, or the registry's well-known token service.
    fn may_receive_credentials(&self, realm: &Url) -> bool {
        let (Some(realm_host), Some(registry_host)) = (realm.host_str(), self.inner.base.host_str()) else {
            return false;
        };
        let realm_host = realm_host.to_ascii_lowercase();
        realm_host == registry_host.to_ascii_lowercase()
            || self.inner.token_realms.contains(&realm_host)
            || KNOWN_TOKEN_REALMS.iter().any(|(registry, known)| *registry == registry_host && *known == realm_host)
    }

    async fn token(&self, realm: &Url, service: Option<&str>, scopes: &BTreeSet<String>) -> Result<Secret> {
        let key = token_key(realm, service, scopes);
        if let Some(token) = self.inner.tokens.get(&key) {
            return Ok(token);
        }
        let mut url = realm.clone();
        {
            let mut query = url.query_pairs_mut();
            if let Some(service) = service {
                query.append_pair("service", service);
            }
            for scope in scopes {
                query.append_pair("scope", scope);
            }
        }
        let mut request = self.inner.http.get(url.clone());
        if let Some(basic) = self.inner.credentials.basic_header().filter(|_| self.may_receive_credentials(realm)) {
            request = request.header(header::AUTHORIZATION, basic);
        }
        let response = request
            .send()
            .await
            .map_err(|error| OciError::Unreachable { url: realm.to_string(), reason: error_chain(&error) })?;
        if !response.status().is_success() {
            return Err(OciError::Unauthorized {
                url: realm.to_string(),
                reason: format!("token endpoint answered {}", response.status().as_u16()),
            });
        }
        let body = read_capped(response, 1 << 20).await?;
        let parsed: TokenResponse = serde_json::from_slice(&body).map_err(|error| OciError::InvalidDocument {
            url: realm.to_string(),
            reason: format!("bad token response: {error}"),
        })?;
        let (token, lifetime) = parsed.into_token().ok_or_else(|| OciError::Unauthorized {
            url: realm.to_string(),
            reason: "token response carries no token".into(),
        })?;
        tracing::debug!(registry.url = %self.inner.base, token.scopes = %TokenCache::key(scopes), "obtained registry token");
        self.inner.tokens.put(key, token.clone(), lifetime);
        Ok(token)
    }
}

fn token_key(realm: &Url, service: Option<&str>, scopes: &BTreeSet<String>) -> String {
    format!("{realm} {} {}", service.unwrap_or(""), TokenCache::key(scopes))
}

pub(crate) fn pull_scope(repository: &str) -> String {
    format!("repository:{repository}:pull")
}

pub(crate) fn push_scope(repository: &str) -> String {
    format!("repository:{repository}:pull,push")
}

fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    crate::error::without_url_queries(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str, token_realms: &[&str]) -> Client {
        let mut config = ClientConfig::new(base.parse().unwrap(), Credentials::Anonymous);
        config.token_realms = token_realms.iter().map(|host| (*host).to_owned()).collect();
        Client::new(config).unwrap()
    }

    #[test]
    fn basic_credentials_go_only_to_the_registrys_own_or_configured_token_realms() {
        let own = client("https://registry.example.com", &[]);
        let realm = |url: &str| -> Url { url.parse().unwrap() };
        assert!(own.may_receive_credentials(&realm("https://registry.example.com/token")));
        assert!(own.may_receive_credentials(&realm("https://REGISTRY.example.com:8443/token")));
        assert!(!own.may_receive_credentials(&realm("https://auth.elsewhere.test/token")));
        let configured = client("https://registry.example.com", &["auth.example.com"]);
        assert!(configured.may_receive_credentials(&realm("https://auth.example.com/token")));
        assert!(!configured.may_receive_credentials(&realm("https://auth.example.com.attacker.test/token")));
        let hub = client("https://registry-1.docker.io", &[]);
        assert!(hub.may_receive_credentials(&realm("https://auth.docker.io/token")));
        assert!(!client("https://ghcr.io", &[]).may_receive_credentials(&realm("https://auth.docker.io/token")));
    }
}
