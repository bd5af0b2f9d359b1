//! Image references (`registry/repository:tag@alg:hex`) with Docker Hub's defaults: no registry
//! means `docker.io` (served by `registry-1.docker.io`), and a one-part name means `library/<name>`.

use std::fmt;
use std::str::FromStr;

use crate::digest::Digest;
use crate::error::OciError;
use crate::names::{validate_reference, validate_repository};

/// The registry assumed when a reference names none.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that actually serves Docker Hub's registry API.
pub const DOCKER_HUB_API: &str = "registry-1.docker.io";

/// A parsed, validated reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Registry host (and port), `docker.io` by default.
    pub registry: String,
    /// Repository path, `library/`-prefixed on Docker Hub when it has one part.
    pub repository: String,
    /// The tag, if one was given (`latest` is not assumed here; see [`Reference::tag_or_latest`]).
    pub tag: Option<String>,
    /// The digest, if one was given.
    pub digest: Option<Digest>,
}

impl Reference {
    /// The host to send API requests to (`registry-1.docker.io` for `docker.io`).
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB { DOCKER_HUB_API } else { &self.registry }
    }

    /// The tag, or `latest` when neither a tag nor a digest was given.
    pub fn tag_or_latest(&self) -> Option<&str> {
        match (&self.tag, &self.digest) {
            (Some(tag), _) => Some(tag),
            (None, None) => Some("latest"),
            (None, Some(_)) => None,
        }
    }

    /// What to put after `/manifests/`: the digest when present, else the tag (or `latest`).
    pub fn manifest_reference(&self) -> String {
        match &self.digest {
            Some(digest) => digest.to_string(),
            None => self.tag_or_latest().unwrap_or("latest").to_owned(),
        }
    }
}

fn looks_like_registry(component: &str) -> bool {
    component.contains('.') || component.contains(':') || component == "localhost"
}

/// `host`, `host:port`, `[v6]` or `[v6]:port`, with a numeric port.
fn valid_registry(registry: &str) -> bool {
    let (host, port) = match registry.strip_prefix('[') {
        Some(rest) => match rest.split_once(']') {
            Some((v6, after)) if !v6.is_empty() && v6.bytes().all(|b| b.is_ascii_hexdigit() || b == b':') => {
                ("v6", after.strip_prefix(':'))
            }
            _ => return false,
        },
        None => match registry.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (registry, None),
        },
    };
    let host_ok = !host.is_empty() && host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
    let port_ok =
        port.is_none_or(|port| !port.is_empty() && port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit()));
    host_ok && port_ok
}

impl FromStr for Reference {
    type Err = OciError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || OciError::InvalidReference(text.chars().take(200).collect());
        if text.is_empty() || text.len() > 1024 || text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (name_and_tag, digest) = match text.split_once('@') {
            Some((name, digest)) => (name, Some(digest.parse::<Digest>()?)),
            None => (text, None),
        };
        let last_slash = name_and_tag.rfind('/').map_or(0, |index| index + 1);
        let (name, tag) = match name_and_tag[last_slash..].rfind(':') {
            Some(colon) => {
                let split = last_slash + colon;
                (&name_and_tag[..split], Some(name_and_tag[split + 1..].to_owned()))
            }
            None => (name_and_tag, None),
        };
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest)) if looks_like_registry(first) => (first.to_owned(), rest.to_owned()),
            _ => (DOCKER_HUB.to_owned(), name.to_owned()),
        };
        let registry =
            if registry == "index.docker.io" || registry == DOCKER_HUB_API { DOCKER_HUB.to_owned() } else { registry };
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        if !valid_registry(&registry) {
            return Err(invalid());
        }
        validate_repository(&repository)?;
        if let Some(tag) = &tag {
            if tag.contains(':') || validate_reference(tag)?.is_some() {
                return Err(invalid());
            }
        }
        Ok(Reference { registry, repository, tag, digest })
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn docker_hub_defaults_apply() {
        let reference: Reference = "alpine".parse().unwrap();
        assert_eq!((reference.registry.as_str(), reference.repository.as_str()), ("docker.io", "library/alpine"));
        assert_eq!(reference.api_host(), "registry-1.docker.io");
        assert_eq!(reference.manifest_reference(), "latest");
        let reference: Reference = "bitnami/redis:7.2".parse().unwrap();
        assert_eq!((reference.repository.as_str(), reference.tag.as_deref()), ("bitnami/redis", Some("7.2")));
    }

    #[test]
    fn registries_with_ports_tags_and_digests_parse() {
        let digest = Digest::sha256(b"x");
        let reference: Reference = format!("localhost:5000/team/app:v1@{digest}").parse().unwrap();
        assert_eq!(reference.registry, "localhost:5000");
        assert_eq!(reference.repository, "team/app");
        assert_eq!(reference.tag.as_deref(), Some("v1"));
        assert_eq!(reference.digest, Some(digest.clone()));
        assert_eq!(reference.manifest_reference(), digest.to_string());
        assert_eq!(reference.to_string(), format!("localhost:5000/team/app:v1@{digest}"));
    }

    #[test]
    fn hostile_references_are_rejected() {
        for bad in
            ["", "a b", "ghcr.io/../x", "ghcr.io/A/b", "x@sha256:../../etc", "x:ta/g", "host:1/x:.bad", "x\u{202e}y"]
        {
            assert!(bad.parse::<Reference>().is_err(), "{bad:?} must be rejected");
        }
    }

    proptest! {
        #[test]
        fn display_parses_back_to_the_same_reference(
            host in "[a-z]{1,8}\\.[a-z]{2,4}(:[0-9]{2,5})?",
            repository in "[a-z0-9]{1,8}(/[a-z0-9]{1,8}){0,2}",
            tag in proptest::option::of("[a-zA-Z0-9_][a-zA-Z0-9._-]{0,20}"),
        ) {
            let text = match &tag { Some(tag) => format!("{host}/{repository}:{tag}"), None => format!("{host}/{repository}") };
            let parsed: Reference = text.parse().unwrap();
            prop_assert_eq!(parsed.to_string(), text);
        }

        #[test]
        fn parsing_never_panics(text in ".{0,120}") {
            let _ = text.parse::<Reference>();
        }
    }
}
