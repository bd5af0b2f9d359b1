//! Access control on the server: who a request comes from (a session, an API token, or an
//! anonymous visitor), turned into the [`Principal`] every page, server function and API
//! handler checks; sign-in and sign-out; the CSRF guard. An open server (no `[access]`)
//! treats every request as an administrator of everything, as before access control existed.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use axum::Router;
use ocicat_access::{ANY_REGISTRY, Grant, LoginLimiter, Principal, Role, Tokens};
use ocicat_sql::Database;
use serde::{Deserialize, Serialize};

pub mod config;
mod csrf;
mod middleware;
mod routes;
pub mod session;

use config::{AccessConfig, ResolvedUser};
pub use routes::SignInRoutes;
use session::SessionBackend;

/// Seconds since the Unix epoch, from a clock tests can set.
pub trait Clock: Send + Sync + std::fmt::Debug {
    /// Now.
    fn now(&self) -> i64;
}

/// The system clock.
#[derive(Debug)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> i64 {
        chrono::Utc::now().timestamp()
    }
}

/// What the session remembers of its user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SessionUser {
    /// The user name.
    pub(crate) name: String,
    /// When they signed in (the absolute timeout counts from here).
    pub(crate) signed_in: i64,
    /// The last request seen, to the minute (the idle timeout counts from here).
    pub(crate) seen: i64,
    /// This session's anti-CSRF token for deletes (made at sign-in; older sessions get one).
    #[serde(default)]
    pub(crate) csrf: String,
}

/// The session key of [`SessionUser`].
pub(crate) const SESSION_USER: &str = "user";

/// The URL of the session, token and audit database: `database_url_env`, else SQLite in the
/// data directory.
pub fn database_url(access: &AccessConfig, data_dir: &Path) -> anyhow::Result<String> {
    Ok(match &access.database_url_env {
        Some(variable) => std::env::var(variable)
            .with_context(|| format!("[access] database_url_env: environment variable {variable} is not set"))?,
        None => {
            std::fs::create_dir_all(data_dir)
                .with_context(|| format!("cannot create data directory {}", data_dir.display()))?;
            format!("sqlite://{}?mode=rwc", data_dir.join("access.db").display())
        }
    })
}

/// Connects to the database at `url` (SQLite or PostgreSQL). The URL may hold a password: an
/// error names the kind of database and the failure, never the URL.
pub async fn open_database(url: &str, what: &str) -> anyhow::Result<Database> {
    let kind = if url.starts_with("postgres") { "postgresql" } else { "sqlite" };
    Database::connect(url).await.map_err(|error| {
        anyhow::anyhow!("cannot open the {kind} {what} database: {}", error.to_string().replace(url, "<url>"))
    })
}

/// Access control as configured; cheap to clone.
#[derive(Debug, Clone)]
pub struct Auth {
    enforced: Option<Arc<Enforced>>,
    /// Without access control every request acts as the local operator, so state changes there
    /// carry this token, made at start (`GET /api/v1/me` answers it): a page elsewhere cannot.
    open_token: ocicat_access::CsrfToken,
}

impl Default for Auth {
    fn default() -> Auth {
        Auth::open()
    }
}

#[derive(Debug)]
pub(crate) struct Enforced {
    pub(crate) users: HashMap<String, ResolvedUser>,
    pub(crate) anonymous: Vec<Grant>,
    pub(crate) limiter: Mutex<LoginLimiter>,
    pub(crate) tokens: Tokens,
    pub(crate) backend: SessionBackend,
    pub(crate) secure: bool,
    pub(crate) idle_minutes: u64,
    pub(crate) absolute_secs: i64,
    pub(crate) clock: Arc<dyn Clock>,
    /// Reverse proxies whose `X-Forwarded-For` names the client.
    pub(crate) trusted_proxies: Vec<ipnet::IpNet>,
    /// The limiter's time line: `clock` seconds mapped onto an `Instant` from the start.
    pub(crate) epoch: (std::time::Instant, i64),
}

impl Auth {
    /// No access control: everyone may do everything (the server logs a warning at start).
    pub fn open() -> Auth {
        Auth { enforced: None, open_token: ocicat_access::CsrfToken::random() }
    }

    /// Access control from `[access]`: users resolved, the database under `data_dir` (or the
    /// configured PostgreSQL) opened, session table created.
    pub async fn from_config(access: &AccessConfig, data_dir: &Path) -> anyhow::Result<Auth> {
        Auth::with_database(access, &database_url(access, data_dir)?).await
    }

    /// Access control from `[access]` with sessions and tokens in the database at `url`.
    pub async fn with_database(access: &AccessConfig, url: &str) -> anyhow::Result<Auth> {
        let users = access.resolve_users()?;
        let database = open_database(url, "session").await?;
        let tokens = Tokens::open(database.clone()).await.context("cannot create the token table")?;
        let backend = SessionBackend::open(&database).await.context("cannot create the session table")?;
        backend.spawn_cleanup();
        Ok(Auth {
            open_token: ocicat_access::CsrfToken::random(),
            enforced: Some(Arc::new(Enforced {
                users,
                anonymous: access.anonymous.clone(),
                limiter: Mutex::new(LoginLimiter::default()),
                tokens,
                backend,
                secure: access.secure_cookies,
                idle_minutes: access.idle_minutes,
                absolute_secs: (access.absolute_hours * 3600) as i64,
                clock: Arc::new(SystemClock),
                trusted_proxies: access.trusted_networks(),
                epoch: (std::time::Instant::now(), SystemClock.now()),
            })),
        })
    }

    /// The same, reading time from `clock` (tests move it to expire sessions).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Auth {
        if let Some(enforced) = self.enforced.as_mut().and_then(Arc::get_mut) {
            enforced.epoch = (std::time::Instant::now(), clock.now());
            enforced.clock = clock;
        }
        self
    }

    /// True when access control is on.
    pub fn is_enforced(&self) -> bool {
        self.enforced.is_some()
    }

    /// The session and token database, when access control is on (plans and the audit log
    /// live there too).
    pub fn database(&self) -> Option<Database> {
        self.enforced.as_ref().map(|enforced| enforced.tokens.database().clone())
    }

    /// The API tokens, when access control is on.
    pub fn tokens(&self) -> Option<Tokens> {
        self.enforced.as_ref().map(|enforced| enforced.tokens.clone())
    }

    /// Adds the access layers to `router` (with its state applied): the CSRF guard and principal
    /// resolution always; with access control also the sign-in routes, and the session layer
    /// around everything.
    pub fn apply(&self, router: Router) -> Router {
        let Some(enforced) = &self.enforced else {
            return router.layer(axum::middleware::from_fn_with_state(self.clone(), middleware::guard));
        };
        router
            .merge(routes::router(self.clone()))
            .layer(axum::middleware::from_fn_with_state(self.clone(), middleware::guard))
            .layer(session::layer(enforced.backend.clone(), enforced.secure, enforced.idle_minutes))
    }

    /// The cookie name in use (for the CSRF guard).
    fn cookie_name(&self) -> Option<&'static str> {
        self.enforced.as_ref().map(|enforced| session::cookie_name(enforced.secure))
    }
}

/// Whoever runs the CLI on the data directory (which holds the whole index anyway), and every
/// request to an open server: an administrator of everything.
pub fn local_operator() -> Principal {
    Principal::anonymous(vec![Grant { role: Role::Admin, registry: ANY_REGISTRY.into(), repositories: "**".into() }])
}

impl Enforced {
    /// `name` with their grants and the anonymous ones; `None` when no longer configured.
    pub(crate) fn principal_of(&self, name: &str) -> Option<Principal> {
        let user = self.users.get(name)?;
        let mut grants = user.grants.clone();
        grants.extend(self.anonymous.iter().cloned());
        Some(Principal { user: Some(name.to_owned()), grants })
    }

    /// Now on the sign-in limiter's time line (follows `clock`, so tests can move it).
    pub(crate) fn instant(&self) -> std::time::Instant {
        let elapsed = (self.clock.now() - self.epoch.1).max(0) as u64;
        self.epoch.0 + std::time::Duration::from_secs(elapsed)
    }

    pub(crate) fn visitor(&self) -> Principal {
        Principal::anonymous(self.anonymous.clone())
    }
}
