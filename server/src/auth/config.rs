//! `[access]`: who may sign in (users with argon2id hashes, inline or in an htpasswd-style
//! file), what each may do (grants per registry and repository pattern), what visitors may read,
//! where sessions and tokens live, and the cookie and timeout settings. Without this section
//! ocicat is open to everyone (and says so at start).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use ocicat_access::{ANY_REGISTRY, Grant, parse_users_file, valid_name};
use serde::Deserialize;

/// `[access]`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessConfig {
    /// An htpasswd-style file of `name:argon2id-hash` lines (`ocicat user add` writes it).
    #[serde(default)]
    pub users_file: Option<PathBuf>,
    /// Grants of visitors who are not signed in (and of everyone who is); none by default.
    #[serde(default)]
    pub anonymous: Vec<Grant>,
    /// Environment variable holding a `postgres://` URL for sessions and tokens shared by
    /// several replicas; without it they live in SQLite under the data directory.
    #[serde(default)]
    pub database_url_env: Option<String>,
    /// `Secure` cookies with the `__Host-` prefix (the default). Switch off only for a
    /// plain-http demo on a machine of your own.
    #[serde(default = "yes")]
    pub secure_cookies: bool,
    /// Minutes without a request after which a session ends (15 to 30 is usual).
    #[serde(default = "idle_minutes")]
    pub idle_minutes: u64,
    /// Hours after sign-in after which a session ends whatever happens (at most 8).
    #[serde(default = "absolute_hours")]
    pub absolute_hours: u64,
    /// Reverse proxies in front of ocicat (addresses or CIDR ranges): from these only,
    /// `X-Forwarded-For` names the client a sign-in is throttled by.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
    /// The users and their grants.
    #[serde(default, rename = "user")]
    pub users: Vec<UserConfig>,
}

/// `text` as a network: a CIDR range, or one address.
pub(crate) fn parse_network(text: &str) -> Option<ipnet::IpNet> {
    text.parse::<ipnet::IpNet>().ok().or_else(|| text.parse::<std::net::IpAddr>().ok().map(ipnet::IpNet::from))
}

impl AccessConfig {
    /// The trusted proxies as networks (validated at load).
    pub fn trusted_networks(&self) -> Vec<ipnet::IpNet> {
        self.trusted_proxies.iter().filter_map(|proxy| parse_network(proxy)).collect()
    }
}

/// One `[[access.user]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserConfig {
    /// The sign-in name.
    pub name: String,
    /// An argon2id PHC string, when the user is not in `users_file`.
    #[serde(default)]
    pub password_hash: Option<String>,
    /// What the user may do where.
    #[serde(default)]
    pub grants: Vec<Grant>,
}

fn yes() -> bool {
    true
}
fn idle_minutes() -> u64 {
    30
}
fn absolute_hours() -> u64 {
    8
}

/// A user ready for sign-in: the hash and the grants (the anonymous ones not included).
#[derive(Debug, Clone)]
pub struct ResolvedUser {
    /// argon2id PHC string.
    pub password_hash: String,
    /// The user's own grants.
    pub grants: Vec<Grant>,
}

impl AccessConfig {
    /// Checks names, grants and timeouts against the configured `registries`.
    pub fn validate(&self, registries: &[&str], path: &Path) -> anyhow::Result<()> {
        let file = path.display();
        if !(1..=30).contains(&self.idle_minutes) {
            bail!("{file}: [access] idle_minutes must be between 1 and 30");
        }
        if !(1..=8).contains(&self.absolute_hours) {
            bail!("{file}: [access] absolute_hours must be between 1 and 8");
        }
        if let Some(bad) = self.trusted_proxies.iter().find(|proxy| parse_network(proxy).is_none()) {
            bail!(
                "{file}: [access] trusted_proxies entry {bad:?} must be an IP address or a CIDR range like 10.0.0.0/8"
            );
        }
        let mut seen = std::collections::HashSet::new();
        for user in &self.users {
            if !valid_name(&user.name) {
                bail!("{file}: [[access.user]] name {:?} must be 1-64 of A-Z a-z 0-9 . _ @ -", user.name);
            }
            if !seen.insert(&user.name) {
                bail!("{file}: [[access.user]] {:?} is defined twice", user.name);
            }
            if let Some(hash) = &user.password_hash
                && (!hash.starts_with("$argon2") || ocicat_access::check_hash(hash).is_err())
            {
                bail!(
                    "{file}: the password_hash of {:?} is not an argon2 hash; make one with `ocicat user add`",
                    user.name
                );
            }
            check_grants(&user.grants, registries, &format!("{file}: user {:?}", user.name))?;
        }
        check_grants(&self.anonymous, registries, &format!("{file}: [access] anonymous"))?;
        Ok(())
    }

    /// Every user who can sign in: `users_file` entries and inline hashes, each with the grants
    /// of its `[[access.user]]` (none when it has no entry). A user with no hash is an error.
    pub fn resolve_users(&self) -> anyhow::Result<HashMap<String, ResolvedUser>> {
        let mut hashes: HashMap<String, String> = HashMap::new();
        if let Some(file) = &self.users_file {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("cannot read the users file {}", file.display()))?;
            let entries = parse_users_file(&text).map_err(|error| anyhow::anyhow!("{}: {error}", file.display()))?;
            hashes.extend(entries.into_iter().map(|entry| (entry.name, entry.password_hash)));
        }
        let mut users = HashMap::new();
        for user in &self.users {
            let hash = match (&user.password_hash, hashes.remove(&user.name)) {
                (Some(_), Some(_)) => {
                    bail!("user {:?} has a password_hash and a line in the users file; keep one", user.name)
                }
                (Some(hash), None) => hash.clone(),
                (None, Some(hash)) => hash,
                (None, None) => bail!("user {:?} has no password: run `ocicat user add {}`", user.name, user.name),
            };
            users.insert(user.name.clone(), ResolvedUser { password_hash: hash, grants: user.grants.clone() });
        }
        for (name, hash) in hashes {
            tracing::warn!(user = %name, "user in the users file has no [[access.user]] grants: only anonymous grants apply");
            users.insert(name, ResolvedUser { password_hash: hash, grants: Vec::new() });
        }
        Ok(users)
    }
}

fn check_grants(grants: &[Grant], registries: &[&str], context: &str) -> anyhow::Result<()> {
    for grant in grants {
        if grant.registry != ANY_REGISTRY && !registries.contains(&grant.registry.as_str()) {
            bail!("{context}: grant on registry {:?}, which is not configured", grant.registry);
        }
        let pattern_ok = !grant.repositories.is_empty()
            && grant.repositories.len() <= 256
            && grant
                .repositories
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-/*".contains(&b));
        if !pattern_ok {
            bail!(
                "{context}: repository pattern {:?} may hold lowercase letters, digits, . _ - / and * only",
                grant.repositories
            );
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn parse(access: &str) -> anyhow::Result<Config> {
        let text = format!("[[registry]]\nname = \"prod\"\nurl = \"http://x\"\n\n{access}");
        Config::parse(&text, Path::new("c.toml"))
    }

    #[test]
    fn grants_name_configured_registries_and_safe_patterns() {
        let ok = parse(
            "[access]\nanonymous = [{ role = \"viewer\", registry = \"*\", repositories = \"public/**\" }]\n\n[[access.user]]\nname = \"alice\"\ngrants = [{ role = \"maintainer\", registry = \"prod\", repositories = \"team-a/*\" }]\n",
        );
        let access = ok.expect("valid").access.expect("[access]");
        assert_eq!((access.idle_minutes, access.absolute_hours, access.secure_cookies), (30, 8, true));
        for (bad, expected) in [
            ("[access]\nanonymous = [{ role = \"viewer\", registry = \"staging\" }]\n", "not configured"),
            (
                "[access]\nanonymous = [{ role = \"viewer\", registry = \"prod\", repositories = \"(.*)\" }]\n",
                "repository pattern",
            ),
            ("[access]\nidle_minutes = 90\n", "idle_minutes"),
            ("[access]\nabsolute_hours = 24\n", "absolute_hours"),
            ("[access]\n[[access.user]]\nname = \"a b\"\n", "must be 1-64"),
            ("[access]\n[[access.user]]\nname = \"a\"\n[[access.user]]\nname = \"a\"\n", "defined twice"),
            ("[access]\n[[access.user]]\nname = \"a\"\npassword_hash = \"hunter2\"\n", "not an argon2 hash"),
            ("[access]\nanonymous = [{ role = \"owner\", registry = \"prod\" }]\n", "unknown variant"),
        ] {
            let error = format!("{:#}", parse(bad).expect_err(bad));
            assert!(error.contains(expected), "{bad}: {error}");
            assert!(!error.contains("hunter2"), "a hash-like secret is never echoed: {error}");
        }
    }

    #[test]
    fn users_come_from_the_file_or_inline_and_each_needs_a_password() {
        let directory = tempfile::tempdir().expect("temporary directory");
        let file = directory.path().join("users");
        let hash = ocicat_access::hash_password("a long password").expect("hash");
        std::fs::write(&file, format!("alice:{hash}\nbob:{hash}\n")).expect("users file");
        let section = |users: &str| format!("[access]\nusers_file = {:?}\n{users}", file.display().to_string());
        let config = parse(&section(
            "[[access.user]]\nname = \"alice\"\ngrants = [{ role = \"admin\", registry = \"prod\" }]\n",
        ))
        .expect("valid");
        let users = config.access.expect("[access]").resolve_users().expect("users resolve");
        assert_eq!(users["alice"].grants.len(), 1);
        assert!(users["bob"].grants.is_empty(), "in the file without grants: only anonymous ones apply");
        let both = parse(&section(&format!("[[access.user]]\nname = \"alice\"\npassword_hash = \"{hash}\"\n")))
            .expect("valid");
        assert!(format!("{:#}", both.access.unwrap().resolve_users().unwrap_err()).contains("keep one"));
        let none = parse(&section("[[access.user]]\nname = \"carol\"\n")).expect("valid");
        assert!(format!("{:#}", none.access.unwrap().resolve_users().unwrap_err()).contains("ocicat user add carol"));
    }
}
