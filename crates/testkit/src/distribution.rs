//! CNCF distribution 2.8.2 (`docker-registry serve`) in anonymous, htpasswd or token mode.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use crate::process::{ChildSpec, ManagedChild, spawn_ready_on_free_port};
use crate::token_server::{TokenServer, TokenServerOptions};

/// Program started for distribution; the Debian package installs it in `/usr/bin`.
const DISTRIBUTION_PROGRAM: &str = "docker-registry";

/// Realm sent in distribution's `Basic` challenge.
const BASIC_REALM: &str = "basic-realm";

/// How clients must authenticate to the registry.
#[derive(Clone, PartialEq, Eq)]
pub enum AuthMode {
    /// No authentication at all.
    Anonymous,
    /// htpasswd with one bcrypt entry; challenges with `Basic realm="basic-realm"`.
    Basic {
        /// The user name.
        username: String,
        /// The user's password.
        password: String,
    },
    /// Bearer tokens from a [`TokenServer`] started alongside the registry.
    Token {
        /// The user the token server accepts.
        username: String,
        /// That user's password.
        password: String,
    },
}

impl std::fmt::Debug for AuthMode {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Anonymous => formatter.write_str("Anonymous"),
            Self::Basic { username, .. } => {
                formatter.debug_struct("Basic").field("username", username).field("password", &"<redacted>").finish()
            }
            Self::Token { username, .. } => {
                formatter.debug_struct("Token").field("username", username).field("password", &"<redacted>").finish()
            }
        }
    }
}

/// A webhook endpoint that distribution posts its events to.
#[derive(Clone, PartialEq, Eq)]
pub struct Notifications {
    /// Full URL receiving `POST`s of `{"events":[...]}`.
    pub url: String,
    /// Shared secret sent as `Authorization: Bearer <secret>` with each post.
    pub secret: String,
}

impl std::fmt::Debug for Notifications {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter.debug_struct("Notifications").field("url", &self.url).field("secret", &"<redacted>").finish()
    }
}

/// How to run a [`Distribution`]; `Default` is anonymous with deletion enabled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DistributionOptions {
    /// Authentication mode.
    pub auth: AuthMode,
    /// Optional webhook endpoint; `pull` events are not sent.
    pub notifications: Option<Notifications>,
    /// Whether `DELETE` is allowed (`storage.delete.enabled`); otherwise 405.
    pub delete_enabled: bool,
}

impl Default for DistributionOptions {
    fn default() -> Self {
        Self { auth: AuthMode::Anonymous, notifications: None, delete_enabled: true }
    }
}

impl DistributionOptions {
    /// Returns options for an anonymous registry.
    pub fn anonymous() -> Self {
        Self::default()
    }

    /// Returns options for an htpasswd registry with one user.
    pub fn basic(username: impl Into<String>, password: impl Into<String>) -> Self {
        let auth = AuthMode::Basic { username: username.into(), password: password.into() };
        Self { auth, ..Self::default() }
    }

    /// Returns options for a token-auth registry with one user.
    pub fn token(username: impl Into<String>, password: impl Into<String>) -> Self {
        let auth = AuthMode::Token { username: username.into(), password: password.into() };
        Self { auth, ..Self::default() }
    }

    /// Makes the registry post its events to `url` with `Authorization: Bearer <secret>`.
    pub fn with_notifications(mut self, url: impl Into<String>, secret: impl Into<String>) -> Self {
        self.notifications = Some(Notifications { url: url.into(), secret: secret.into() });
        self
    }

    /// Disables deletion, so `DELETE` answers 405 `UNSUPPORTED`.
    pub fn with_delete_disabled(mut self) -> Self {
        self.delete_enabled = false;
        self
    }
}

/// A running distribution registry on `127.0.0.1`, killed when dropped.
#[derive(Debug)]
pub struct Distribution {
    // Declared first so the process dies before its directory and token server go.
    process: ManagedChild,
    port: u16,
    options: DistributionOptions,
    config_path: PathBuf,
    token_server: Option<TokenServer>,
    directory: tempfile::TempDir,
}

impl Distribution {
    /// Starts the registry on a free port and waits until `GET /v2/` answers.
    pub async fn start(options: DistributionOptions) -> anyhow::Result<Self> {
        let directory = tempfile::Builder::new()
            .prefix("ocicat-distribution-")
            .tempdir()
            .context("failed to create the distribution tempdir")?;
        let token_server = match &options.auth {
            AuthMode::Token { username, password } => {
                Some(TokenServer::start(TokenServerOptions::new(username, password)).await?)
            }
            AuthMode::Anonymous | AuthMode::Basic { .. } => None,
        };
        let auth_config = match &options.auth {
            AuthMode::Anonymous => None,
            AuthMode::Basic { username, password } => {
                let htpasswd_path = directory.path().join("htpasswd");
                write_htpasswd(&htpasswd_path, username, password).await?;
                Some(serde_json::json!({"htpasswd": {"realm": BASIC_REALM, "path": htpasswd_path}}))
            }
            AuthMode::Token { .. } => token_server.as_ref().map(|server| {
                serde_json::json!({"token": {
                    "realm": server.realm(),
                    "service": server.service(),
                    "issuer": server.issuer(),
                    "rootcertbundle": server.certificate_path(),
                }})
            }),
        };
        let config_path = directory.path().join("config.yml");
        let storage_path = directory.path().join("storage");
        let log_path = directory.path().join("registry.log");
        let (process, port) = spawn_ready_on_free_port(|port| {
            let config = build_config(port, &storage_path, auth_config.as_ref(), &options);
            // YAML 1.2 is a superset of JSON, and JSON needs no hand-escaping.
            let config_text = serde_json::to_string_pretty(&config).context("failed to encode distribution config")?;
            std::fs::write(&config_path, config_text)
                .with_context(|| format!("failed to write {}", config_path.display()))?;
            Ok(ChildSpec {
                name: DISTRIBUTION_PROGRAM,
                program: PathBuf::from(DISTRIBUTION_PROGRAM),
                args: vec![OsString::from("serve"), config_path.clone().into_os_string()],
                envs: Vec::new(),
                log_path: log_path.clone(),
            })
        })
        .await?;
        Ok(Self { process, port, options, config_path, token_server, directory })
    }

    /// Returns the base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> String {
        format!("http://{}", self.host())
    }

    /// Returns the registry host as used in references, e.g. `127.0.0.1:41234`.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Returns the port the registry listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Returns `(username, password)` for Basic and Token modes, `None` when anonymous.
    pub fn credentials(&self) -> Option<(String, String)> {
        match &self.options.auth {
            AuthMode::Anonymous => None,
            AuthMode::Basic { username, password } | AuthMode::Token { username, password } => {
                Some((username.clone(), password.clone()))
            }
        }
    }

    /// Returns the options the registry was started with.
    pub fn options(&self) -> &DistributionOptions {
        &self.options
    }

    /// Returns the token server of a Token-mode registry.
    pub fn token_server(&self) -> Option<&TokenServer> {
        self.token_server.as_ref()
    }

    /// Returns the process id of the registry.
    pub fn pid(&self) -> u32 {
        self.process.pid()
    }

    /// Returns the file that holds the registry's stdout and stderr.
    pub fn log_path(&self) -> &Path {
        self.process.log_path()
    }

    /// Returns the last `lines` lines of the registry log.
    pub fn log_tail(&self, lines: usize) -> String {
        self.process.log_tail(lines)
    }

    /// Returns the generated configuration file.
    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    /// Returns the temporary directory holding config, storage and log.
    pub fn directory(&self) -> &Path {
        self.directory.path()
    }
}

/// Builds the distribution configuration document for one port.
fn build_config(
    port: u16,
    storage_path: &Path,
    auth_config: Option<&serde_json::Value>,
    options: &DistributionOptions,
) -> serde_json::Value {
    let mut config = serde_json::json!({
        "version": "0.1",
        "log": {"level": "info", "formatter": "text"},
        "storage": {
            "filesystem": {"rootdirectory": storage_path},
            "delete": {"enabled": options.delete_enabled},
            "redirect": {"disable": true},
        },
        "http": {
            "addr": format!("127.0.0.1:{port}"),
            "secret": format!("{:032x}", rand::random::<u128>()),
        },
        "health": {"storagedriver": {"enabled": false}},
    });
    if let Some(auth_config) = auth_config {
        config["auth"] = auth_config.clone();
    }
    if let Some(notifications) = &options.notifications {
        // Pull events are ignored so that a crawler reading manifests does not
        // trigger itself through its own webhook.
        config["notifications"] = serde_json::json!({
            "events": {"includereferences": true},
            "endpoints": [{
                "name": "ocicat",
                "url": notifications.url,
                "headers": {"Authorization": [format!("Bearer {}", notifications.secret)]},
                "timeout": "1s",
                "threshold": 5,
                "backoff": "1s",
                "ignore": {"actions": ["pull"]},
            }],
        });
    }
    config
}

/// Writes an htpasswd file with one bcrypt entry using apache2-utils' `htpasswd`.
async fn write_htpasswd(path: &Path, username: &str, password: &str) -> anyhow::Result<()> {
    // Cost 4 is the bcrypt minimum: distribution verifies the hash on every request.
    let output = tokio::process::Command::new("htpasswd")
        .args(["-B", "-C", "4", "-b", "-c"])
        .arg(path)
        .arg(username)
        .arg(password)
        .output()
        .await
        .context("failed to run htpasswd (install apache2-utils)")?;
    if !output.status.success() {
        bail!(
            "htpasswd failed for user {username} with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(())
}
