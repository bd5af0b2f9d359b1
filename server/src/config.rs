//! The TOML configuration: server settings, crawl settings, the connected registries and
//! access control (`[access]`, in `auth::config`).
//! Errors name the file, the line and what to fix; secrets come from the environment or a file
//! and are never part of the configuration text.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use serde::Deserialize;
use toml::Spanned;

/// The whole configuration file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub server: ServerConfig,
    #[serde(default)]
    pub crawl: CrawlConfig,
    #[serde(default, rename = "registry")]
    pub registries: Vec<RegistryConfig>,
    /// Users, roles and sessions; `None` leaves the server open to everyone.
    #[serde(default)]
    pub access: Option<crate::auth::config::AccessConfig>,
    /// Retention policies (`[[retention]]`).
    #[serde(default)]
    pub retention: Vec<ocicat_lifecycle::retention::RetentionPolicy>,
    /// How deletes behave (`[delete]`).
    #[serde(default)]
    pub delete: DeleteConfig,
    /// Trust policies (`[[trust]]`): who vouches for which repositories' signatures.
    #[serde(default)]
    pub trust: Vec<ocicat_trust::TrustPolicy>,
    /// Several replicas on one PostgreSQL (`[cluster]`); `None` is one process on its own index.
    #[serde(default)]
    pub cluster: Option<ClusterConfig>,
    /// The trust policies with their keys read (relative paths from the configuration's folder).
    #[serde(skip)]
    pub trust_policies: std::sync::Arc<ocicat_trust::Policies>,
}

/// `[cluster]`: replicas sharing one PostgreSQL database. One of them (the leader, by a lease)
/// crawls and runs scheduled retention; every replica keeps its own index from the catalog's
/// change log in the database.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterConfig {
    /// Environment variable holding the `postgres://` URL (the same database as `[access]`).
    pub database_url_env: String,
    /// This replica's name, unique among the replicas (the host name by default).
    #[serde(default)]
    pub replica_name: Option<String>,
    /// Seconds a leader's lease lasts unrenewed: a leader that died is replaced after at most
    /// this long plus a fifth of it (3 to 60; 10 by default).
    #[serde(default = "lease_secs")]
    pub lease_secs: u64,
}

fn lease_secs() -> u64 {
    10
}

impl ClusterConfig {
    /// Checks that the environment names a PostgreSQL database. The connection itself is
    /// `[access]`'s: the configuration check requires both sections to name one variable.
    pub fn check_database(&self) -> anyhow::Result<()> {
        let variable = &self.database_url_env;
        let url = std::env::var(variable)
            .with_context(|| format!("[cluster] database_url_env: environment variable {variable} is not set"))?;
        anyhow::ensure!(
            url.starts_with("postgres://") || url.starts_with("postgresql://"),
            "[cluster] database_url_env: {variable} must hold a postgres:// URL (replicas share PostgreSQL)"
        );
        Ok(())
    }

    /// This replica's name: `replica_name`, else the host name.
    pub fn replica_name(&self) -> String {
        self.replica_name.clone().unwrap_or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|name| name.trim().to_owned())
                .filter(|name| !name.is_empty())
                .unwrap_or_else(|| "ocicat".to_owned())
        })
    }

    /// The leader's lease time.
    pub fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_secs)
    }
}

/// `[delete]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DeleteConfig {
    /// A stored plan older than this many minutes is planned again before it runs.
    pub plan_max_age_minutes: u64,
}

impl Default for DeleteConfig {
    fn default() -> Self {
        DeleteConfig { plan_max_age_minutes: 60 }
    }
}

/// `[server]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: String,
    /// Where the index lives.
    pub data_dir: PathBuf,
    /// Where the built site (`pkg/`, favicon) lives.
    pub site_root: PathBuf,
    /// The address users reach ocicat at (`https://ocicat.example.com`), when it is a name.
    pub public_url: Option<String>,
    /// More host names ocicat answers to (requests naming any other get 421).
    pub allowed_hosts: Vec<String>,
    /// Connections served at once; more wait until one ends (a client has 10 s to send a
    /// request's headers, so slow clients cannot hold them).
    pub max_connections: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:3000".into(),
            data_dir: "data".into(),
            site_root: "target/site".into(),
            public_url: None,
            allowed_hosts: Vec::new(),
            max_connections: 1024,
        }
    }
}

impl ServerConfig {
    /// The host names requests may name (`public_url`'s host and `allowed_hosts`), and HSTS
    /// when `public_url` is https.
    pub fn allowed_hosts(&self) -> crate::hosts::AllowedHosts {
        let public = self
            .public_url
            .as_deref()
            .and_then(|url| url::Url::parse(url).ok())
            .and_then(|url| url.host_str().map(str::to_owned));
        let https = self.public_url.as_deref().is_some_and(|url| url.to_ascii_lowercase().starts_with("https://"));
        crate::hosts::AllowedHosts::new(public.into_iter().chain(self.allowed_hosts.iter().cloned()))
            .served_over_https(https)
    }
}

/// `[crawl]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CrawlConfig {
    /// Seconds between two full crawls of a registry.
    pub interval_secs: u64,
    /// Repositories crawled at once per registry.
    pub concurrency: usize,
    /// Hours between full reconciles, which fetch every manifest again instead of trusting
    /// known digests (repairs documents an older version or a bug got wrong).
    pub reconcile_hours: u64,
}

impl Default for CrawlConfig {
    fn default() -> Self {
        CrawlConfig { interval_secs: 300, concurrency: 4, reconcile_hours: 24 }
    }
}

/// One `[[registry]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistryConfig {
    /// Short name used in URLs: lowercase letters, digits, `-` and `_`.
    pub name: Spanned<String>,
    /// Base URL, `http://` or `https://` (or `layout` instead).
    #[serde(default)]
    pub url: Option<Spanned<String>>,
    /// A directory of OCI image layouts, crawled read-only instead of a registry: each
    /// directory below it holding an `oci-layout` file is a repository (the directory itself,
    /// when it is one, a repository named after it).
    #[serde(default)]
    pub layout: Option<PathBuf>,
    /// Username for Basic auth and token requests.
    #[serde(default)]
    pub username: Option<String>,
    /// Name of the environment variable holding the password.
    #[serde(default)]
    pub password_env: Option<String>,
    /// File holding the password (first line).
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Repositories to crawl when the registry has no `_catalog`.
    #[serde(default)]
    pub repositories: Option<Vec<String>>,
    /// Seconds between two crawls of this registry (overrides `[crawl] interval_secs`).
    #[serde(default)]
    pub interval_secs: Option<u64>,
    /// Environment variable holding the shared secret the registry's notifications send as
    /// `Authorization: Bearer <secret>` to `/events/<name>`; no variable, no endpoint.
    #[serde(default)]
    pub events_secret_env: Option<String>,
    /// Token realm hosts besides the registry's own that may receive its credentials (Docker
    /// Hub's is known); any other realm a challenge names is asked without them.
    #[serde(default)]
    pub token_realms: Vec<String>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].lines().count().max(1)
}

/// A registry URL: http(s), without credentials.
fn check_url(url: &Spanned<String>, text: &str, path: &Path) -> anyhow::Result<()> {
    let url_line = line_of(text, url.span().start);
    let parsed = url::Url::parse(url.get_ref()).map_err(|error| {
        anyhow::anyhow!("{}:{url_line}: registry url {:?} is not a url: {error}", path.display(), url.get_ref())
    })?;
    if parsed.scheme() != "http" && parsed.scheme() != "https" {
        bail!("{}:{url_line}: registry url must start with http:// or https://", path.display());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        bail!("{}:{url_line}: put credentials in username/password_env, never in the url", path.display());
    }
    Ok(())
}

impl Config {
    /// Reads and validates `path`.
    pub fn load(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read configuration file {}", path.display()))?;
        Config::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> anyhow::Result<Config> {
        let config: Config = toml::from_str(text)
            .map_err(|error| anyhow::anyhow!("{}: {}", path.display(), error.to_string().trim_end()))?;
        let mut names = std::collections::HashSet::new();
        for registry in &config.registries {
            let name = registry.name.get_ref();
            let name_line = line_of(text, registry.name.span().start);
            let valid = !name.is_empty()
                && name.len() <= 64
                && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
            if !valid {
                bail!(
                    "{}:{name_line}: registry name {name:?} must be 1-64 lowercase letters, digits, '-' or '_'",
                    path.display()
                );
            }
            if !names.insert(name.clone()) {
                bail!(
                    "{}:{name_line}: registry name {name:?} is used twice; give each registry its own name",
                    path.display()
                );
            }
            match (&registry.url, &registry.layout) {
                (Some(url), None) => check_url(url, text, path)?,
                (None, Some(layout)) => {
                    let layout = path.parent().unwrap_or(Path::new(".")).join(layout);
                    if !layout.is_dir() {
                        bail!(
                            "{}:{name_line}: registry {name:?}: layout {} is not a directory",
                            path.display(),
                            layout.display()
                        );
                    }
                    if registry.username.is_some()
                        || registry.password_env.is_some()
                        || registry.password_file.is_some()
                    {
                        bail!("{}:{name_line}: registry {name:?}: a layout takes no credentials", path.display());
                    }
                }
                _ => bail!("{}:{name_line}: registry {name:?}: set either url or layout", path.display()),
            }
            if registry.password_env.is_some() && registry.password_file.is_some() {
                bail!("{}:{name_line}: set password_env or password_file, not both", path.display());
            }
        }
        if config.crawl.concurrency == 0 || config.crawl.concurrency > 64 {
            bail!("{}: [crawl] concurrency must be between 1 and 64", path.display());
        }
        if let Some(url) = &config.server.public_url
            && !url::Url::parse(url)
                .is_ok_and(|url| matches!(url.scheme(), "http" | "https") && url.host_str().is_some())
        {
            bail!("{}: [server] public_url {url:?} must be an http(s) URL with a host", path.display());
        }
        if !(16..=65_536).contains(&config.server.max_connections) {
            bail!("{}: [server] max_connections must be between 16 and 65536", path.display());
        }
        if !(1..=7 * 24 * 60).contains(&config.delete.plan_max_age_minutes) {
            bail!("{}: [delete] plan_max_age_minutes must be between 1 and 10080 (a week)", path.display());
        }
        let mut policies = std::collections::HashSet::new();
        for policy in &config.retention {
            policy.validate().map_err(|error| anyhow::anyhow!("{}: [[retention]] {error}", path.display()))?;
            if !policies.insert(policy.name.clone()) {
                bail!("{}: [[retention]] name {:?} is used twice", path.display(), policy.name);
            }
            if policy.registry != "*" && !names.contains(&policy.registry) {
                bail!(
                    "{}: [[retention]] {}: registry {:?} is not configured",
                    path.display(),
                    policy.name,
                    policy.registry
                );
            }
        }
        for policy in &config.trust {
            policy.validate().map_err(|error| anyhow::anyhow!("{}: [[trust]] {error}", path.display()))?;
            if policy.registry != "*" && !names.contains(&policy.registry) {
                bail!(
                    "{}: [[trust]] {}: registry {:?} is not configured",
                    path.display(),
                    policy.name,
                    policy.registry
                );
            }
            if !ocicat_catalog::pattern::is_reasonable(&policy.repositories) {
                bail!(
                    "{}: [[trust]] {}: repositories {:?} is too long for a pattern",
                    path.display(),
                    policy.name,
                    policy.repositories
                );
            }
        }
        let base = path.parent().unwrap_or(Path::new("."));
        let policies = ocicat_trust::Policies::load(&config.trust, base)
            .map_err(|error| anyhow::anyhow!("{}: [[trust]] {error}", path.display()))?;
        let mut config = config;
        config.trust_policies = std::sync::Arc::new(policies);
        for registry in &mut config.registries {
            // Relative to the configuration file, like every other path in it.
            registry.layout = registry.layout.take().map(|layout| base.join(layout));
        }
        if let Some(cluster) = &config.cluster {
            if !(3..=60).contains(&cluster.lease_secs) {
                bail!("{}: [cluster] lease_secs must be 3 to 60, not {}", path.display(), cluster.lease_secs);
            }
            if let Some(name) = &cluster.replica_name {
                let printable = !name.is_empty() && name.len() <= 128 && !name.chars().any(char::is_control);
                if !printable {
                    bail!("{}: [cluster] replica_name must be 1 to 128 printable characters", path.display());
                }
            }
            let shared = config.access.as_ref().and_then(|access| access.database_url_env.as_ref());
            if shared != Some(&cluster.database_url_env) {
                bail!(
                    "{}: [cluster] needs [access] with database_url_env = {:?}: sessions, tokens and delete \
                     plans must be shared by the replicas too",
                    path.display(),
                    cluster.database_url_env
                );
            }
        }
        if let Some(access) = &config.access {
            let registries: Vec<&str> =
                config.registries.iter().map(|registry| registry.name.get_ref().as_str()).collect();
            access.validate(&registries, path)?;
        }
        Ok(config)
    }

    /// The crawl interval.
    pub fn interval(&self) -> Duration {
        Duration::from_secs(self.crawl.interval_secs.max(5))
    }

    /// Crawl intervals of the registries that set their own.
    pub fn registry_intervals(&self) -> std::collections::HashMap<String, Duration> {
        self.registries
            .iter()
            .filter_map(|registry| {
                Some((registry.name.get_ref().clone(), Duration::from_secs(registry.interval_secs?.max(5))))
            })
            .collect()
    }

    /// Time between full reconciles.
    pub fn reconcile_interval(&self) -> Duration {
        Duration::from_secs(self.crawl.reconcile_hours.max(1) * 3600)
    }
}

impl RegistryConfig {
    /// Resolves the password from the environment or its file.
    pub fn password(&self) -> anyhow::Result<Option<String>> {
        if let Some(variable) = &self.password_env {
            let value = std::env::var(variable).with_context(|| {
                format!("registry {:?}: environment variable {variable} is not set", self.name.get_ref())
            })?;
            return Ok(Some(value));
        }
        if let Some(file) = &self.password_file {
            let text = std::fs::read_to_string(file).with_context(|| {
                format!("registry {:?}: cannot read password file {}", self.name.get_ref(), file.display())
            })?;
            return Ok(Some(text.lines().next().unwrap_or_default().to_owned()));
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicate_registry_names_are_reported_with_their_line() {
        let text = "[[registry]]\nname = \"a\"\nurl = \"http://x\"\n\n[[registry]]\nname = \"a\"\nurl = \"http://y\"\n";
        let error = Config::parse(text, Path::new("ocicat.toml")).unwrap_err().to_string();
        assert!(error.starts_with("ocicat.toml:6:"), "{error}");
        assert!(error.contains("used twice"), "{error}");
    }

    #[test]
    fn a_registry_is_a_url_or_a_layout_directory_relative_to_the_file() {
        let directory = tempfile::tempdir().unwrap();
        std::fs::create_dir(directory.path().join("oci")).unwrap();
        let file = directory.path().join("ocicat.toml");
        let config = Config::parse("[[registry]]\nname = \"airgap\"\nlayout = \"oci\"\n", &file).unwrap();
        assert_eq!(config.registries[0].layout.as_deref(), Some(directory.path().join("oci").as_path()));
        for (text, expected) in [
            ("[[registry]]\nname = \"a\"\n", "set either url or layout"),
            ("[[registry]]\nname = \"a\"\nurl = \"http://x\"\nlayout = \"oci\"\n", "set either url or layout"),
            ("[[registry]]\nname = \"a\"\nlayout = \"missing\"\n", "is not a directory"),
            ("[[registry]]\nname = \"a\"\nlayout = \"oci\"\nusername = \"u\"\n", "takes no credentials"),
        ] {
            let error = Config::parse(text, &file).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
    }

    #[test]
    fn a_cluster_shares_the_access_database_and_names_its_replica() {
        let access = "[access]\nusers_file = \"users\"\ndatabase_url_env = \"DB\"\n";
        let text = format!("{access}\n[cluster]\ndatabase_url_env = \"DB\"\nreplica_name = \"ocicat-2\"\n");
        let config = Config::parse(&text, Path::new("c.toml")).unwrap();
        let cluster = config.cluster.expect("a cluster");
        assert_eq!((cluster.replica_name(), cluster.lease()), ("ocicat-2".to_owned(), Duration::from_secs(10)));
        let unnamed = Config::parse(&format!("{access}\n[cluster]\ndatabase_url_env = \"DB\"\n"), Path::new("c.toml"));
        assert!(!unnamed.unwrap().cluster.unwrap().replica_name().is_empty(), "the host name by default");
        for (text, expected) in [
            ("[cluster]\ndatabase_url_env = \"DB\"\n".to_owned(), "needs [access] with database_url_env"),
            (
                format!("{access}\n[cluster]\ndatabase_url_env = \"OTHER\"\n"),
                "needs [access] with database_url_env = \"OTHER\"",
            ),
            (format!("{access}\n[cluster]\ndatabase_url_env = \"DB\"\nlease_secs = 1\n"), "lease_secs must be 3 to 60"),
            (format!("{access}\n[cluster]\ndatabase_url_env = \"DB\"\nreplica_name = \"\"\n"), "replica_name must be"),
        ] {
            let error = Config::parse(&text, Path::new("c.toml")).unwrap_err().to_string();
            assert!(error.contains(expected), "{text}: {error}");
        }
        // Replicas share PostgreSQL: a SQLite URL is refused when serving starts.
        let cluster = ClusterConfig {
            database_url_env: "OCICAT_TEST_CLUSTER_URL_THAT_IS_NOT_SET".into(),
            replica_name: None,
            lease_secs: 10,
        };
        assert!(cluster.check_database().unwrap_err().to_string().contains("is not set"));
    }

    #[test]
    fn syntax_errors_name_the_file_and_line() {
        let error = Config::parse("[server]\nlisten = \n", Path::new("bad.toml")).unwrap_err().to_string();
        assert!(error.starts_with("bad.toml:"), "{error}");
        assert!(error.contains("line 2"), "{error}");
    }

    #[test]
    fn credentials_in_urls_and_unknown_keys_are_refused() {
        let error = Config::parse("[[registry]]\nname = \"a\"\nurl = \"http://u:p@x\"\n", Path::new("c.toml"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("never in the url"), "{error}");
        let error = Config::parse("[server]\nlisen = \"x\"\n", Path::new("c.toml")).unwrap_err().to_string();
        assert!(error.contains("unknown field"), "{error}");
    }

    #[test]
    fn registries_may_set_their_own_interval_and_reconciles_have_theirs() {
        let text = "[crawl]\ninterval_secs = 600\nreconcile_hours = 6\n\n[[registry]]\nname = \"a\"\nurl = \"http://x\"\ninterval_secs = 30\n\n[[registry]]\nname = \"b\"\nurl = \"http://y\"\n";
        let config = Config::parse(text, Path::new("c.toml")).unwrap();
        assert_eq!(config.interval(), Duration::from_secs(600));
        assert_eq!(config.registry_intervals(), [("a".to_string(), Duration::from_secs(30))].into());
        assert_eq!(config.reconcile_interval(), Duration::from_secs(6 * 3600));
    }

    #[test]
    fn trust_policies_read_their_keys_next_to_the_file_and_refuse_what_cannot_be_checked() {
        let folder = tempfile::tempdir().unwrap();
        std::fs::write(folder.path().join("release.pub"), ocicat_seed::DEMO_SIGNER_PUBLIC_KEY).unwrap();
        let path = folder.path().join("ocicat.toml");
        let registry = "[[registry]]\nname = \"a\"\nurl = \"http://x\"\n\n";
        let policy = |body: &str| format!("{registry}[[trust]]\nname = \"release\"\n{body}");
        let config =
            Config::parse(&policy("registry = \"a\"\ncosign_public_keys = [\"release.pub\"]\n"), &path).unwrap();
        let loaded = config.trust_policies.all();
        assert_eq!(
            (loaded[0].name.as_str(), loaded[0].repositories.as_str(), loaded[0].keys.len()),
            ("release", "**", 1)
        );
        let error = |body: &str| Config::parse(&policy(body), &path).unwrap_err().to_string();
        let unknown = error("registry = \"b\"\ncosign_public_keys = [\"release.pub\"]\n");
        assert!(unknown.ends_with("[[trust]] release: registry \"b\" is not configured"), "{unknown}");
        let missing = error("registry = \"a\"\ncosign_public_keys = [\"gone.pub\"]\n");
        assert!(missing.contains("[[trust]] release: cannot read key") && missing.contains("gone.pub"), "{missing}");
        let keyless = Config::parse(
            &policy("registry = \"*\"\nkeyless = [{ issuer = \"https://token.actions.githubusercontent.com\", identity = \"https://github.com/acme/*\" }]\n"),
            &path,
        )
        .unwrap();
        assert_eq!(keyless.trust_policies.all()[0].keyless[0].identity, "https://github.com/acme/*");
        let notation = error("registry = \"*\"\nnotation_roots = [\"root.pem\"]\n");
        assert!(notation.contains("notation needs both notation_roots and notation_identities"), "{notation}");
        std::fs::write(folder.path().join("root.pem"), ocicat_seed::demo_signer_certificate_pem()).unwrap();
        let notation = Config::parse(
            &policy("registry = \"*\"\nnotation_roots = [\"root.pem\"]\nnotation_identities = [\"*\"]\n"),
            &path,
        )
        .unwrap();
        assert_eq!(notation.trust_policies.all()[0].notation_roots.len(), 1);
        let typo = error("registry = \"a\"\ncosign_public_key = [\"release.pub\"]\n");
        assert!(typo.contains("unknown field"), "{typo}");
    }

    #[test]
    fn the_readme_configuration_is_valid() {
        let readme = include_str!("../../README.md");
        let block = readme.split("```toml\n").nth(1).and_then(|rest| rest.split("```").next()).expect("a toml block");
        let folder = tempfile::tempdir().unwrap();
        std::fs::create_dir(folder.path().join("trust")).unwrap();
        std::fs::write(folder.path().join("trust/release.pub"), ocicat_seed::DEMO_SIGNER_PUBLIC_KEY).unwrap();
        std::fs::write(folder.path().join("trust/acme-root.pem"), ocicat_seed::demo_signer_certificate_pem()).unwrap();
        // The layout directory the example names, here.
        std::fs::create_dir(folder.path().join("oci")).unwrap();
        let block = block.replace("\"/srv/oci\"", &format!("{:?}", folder.path().join("oci")));
        let config =
            Config::parse(&block, &folder.path().join("ocicat.toml")).unwrap_or_else(|error| panic!("{error:#}"));
        assert_eq!(config.registries.len(), 3);
        assert!(config.registries[1].layout.is_some());
        let trust = &config.trust_policies.all()[0];
        assert_eq!((trust.keys.len(), trust.keyless.len(), trust.notation_roots.len()), (1, 1, 1));
        assert!(config.access.is_some() && !config.retention.is_empty());
    }

    #[test]
    fn retention_policies_are_checked_against_the_registries() {
        let registry = "[[registry]]\nname = \"a\"\nurl = \"http://x\"\n\n";
        let good = format!("{registry}[[retention]]\nname = \"ci\"\nregistry = \"a\"\nkeep_newest = 3\n");
        let config = Config::parse(&good, Path::new("c.toml")).unwrap();
        assert!(config.retention[0].dry_run, "dry run by default");
        let unknown = good.replace("registry = \"a\"\nkeep", "registry = \"b\"\nkeep");
        let error = Config::parse(&unknown, Path::new("c.toml")).unwrap_err().to_string();
        assert!(error.contains("registry \"b\" is not configured"), "{error}");
        let twice = format!("{good}\n[[retention]]\nname = \"ci\"\nregistry = \"*\"\nolder_than_days = 9\n");
        assert!(Config::parse(&twice, Path::new("c.toml")).unwrap_err().to_string().contains("used twice"));
        let no_rule = format!("{registry}[[retention]]\nname = \"ci\"\nregistry = \"a\"\n");
        let error = Config::parse(&no_rule, Path::new("c.toml")).unwrap_err().to_string();
        assert!(error.starts_with("c.toml: [[retention]]") && error.contains("ci"), "{error}");
    }
}
