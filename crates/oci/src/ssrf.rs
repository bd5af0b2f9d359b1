//! Where the client may go besides its registry: redirect targets, token realms and DNS answers
//! are checked so a registry cannot point ocicat at loopback, link-local or private addresses
//! (cloud metadata, internal services) — unless the registry itself is configured there.

use std::net::{IpAddr, SocketAddr};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use url::{Host, Url};

/// True for addresses no public registry or storage host should send us to.
pub(crate) fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1])
        }
        IpAddr::V6(v6) => {
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some_and(|v4| is_internal(IpAddr::V4(v4)))
        }
    }
}

/// True for link-local and cloud metadata addresses (169.254.0.0/16, fe80::/10, AWS's
/// fd00:ec2::/64): never a place a registry may send ocicat, whatever the registry is.
pub(crate) fn is_metadata(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => {
            let segments = v6.segments();
            (segments[0] & 0xffc0) == 0xfe80
                || (segments[0] == 0xfd00 && segments[1] == 0x0ec2 && segments[2] == 0 && segments[3] == 0)
                || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_link_local())
        }
    }
}

/// Whether `registry` itself lives on an internal address (then internal targets are fine).
pub(crate) fn registry_is_internal(registry: &Url) -> bool {
    match registry.host() {
        Some(Host::Ipv4(v4)) => is_internal(IpAddr::V4(v4)),
        Some(Host::Ipv6(v6)) => is_internal(IpAddr::V6(v6)),
        Some(Host::Domain(domain)) => domain == "localhost" || domain.ends_with(".localhost"),
        None => false,
    }
}

/// Checks a redirect or realm target against the registry: same origin always passes;
/// elsewhere only https, and never an internal IP literal unless the registry is internal.
pub(crate) fn check_target(target: &Url, registry: &Url) -> Result<(), String> {
    if target.origin() == registry.origin() {
        return Ok(());
    }
    let literal = match target.host() {
        Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
        Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
        _ => None,
    };
    if literal.is_some_and(is_metadata) {
        return Err("target is a link-local or cloud metadata address".into());
    }
    let internal = match (literal, target.host()) {
        (Some(ip), _) => is_internal(ip),
        (None, Some(Host::Domain(domain))) => domain == "localhost" || domain.ends_with(".localhost"),
        (None, _) => true,
    };
    // Plain http off-origin only between internal hosts (a loopback registry and its loopback
    // token server): never from an internal registry out to any other host.
    let internal_http =
        registry.scheme() == "http" && target.scheme() == "http" && registry_is_internal(registry) && internal;
    if target.scheme() != "https" && !internal_http {
        return Err("only https targets are followed outside the registry's origin".into());
    }
    if internal && !registry_is_internal(registry) {
        return Err("target is an internal address".into());
    }
    Ok(())
}

/// A resolver that drops internal addresses for every host except the registry's own
/// (DNS rebinding: the name is checked after resolution, once, on the addresses we connect to).
#[derive(Debug)]
pub(crate) struct GuardedResolver {
    pub(crate) registry_host: String,
    pub(crate) registry_internal: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let own = host.eq_ignore_ascii_case(&self.registry_host);
        let trusted = self.registry_internal || own;
        Box::pin(async move {
            let resolved: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let allowed: Vec<SocketAddr> = resolved
                .into_iter()
                .filter(|address| own || !is_metadata(address.ip()))
                .filter(|address| trusted || !is_internal(address.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(format!("refused to connect to {host}: it resolves only to internal addresses").into());
            }
            let addresses: Addrs = Box::new(allowed.into_iter());
            Ok(addresses)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses_are_recognised() {
        for internal in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "0.0.0.0",
        ] {
            assert!(is_internal(internal.parse().unwrap()), "{internal}");
        }
        for public in ["8.8.8.8", "2001:4860:4860::8888", "100.128.0.1"] {
            assert!(!is_internal(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn public_registries_may_not_send_us_inside_or_over_http() {
        let registry = Url::parse("https://registry.example.com").unwrap();
        assert!(check_target(&Url::parse("https://storage.example.net/blob").unwrap(), &registry).is_ok());
        assert!(check_target(&Url::parse("http://storage.example.net/blob").unwrap(), &registry).is_err());
        assert!(check_target(&Url::parse("https://169.254.169.254/latest").unwrap(), &registry).is_err());
        assert!(check_target(&Url::parse("https://127.0.0.1:5000/x").unwrap(), &registry).is_err());
        assert!(check_target(&Url::parse("https://registry.example.com/v2/x").unwrap(), &registry).is_ok());
    }

    #[test]
    fn metadata_addresses_are_refused_even_for_an_internal_registry() {
        for metadata in ["169.254.169.254", "169.254.0.1", "fe80::1", "fd00:ec2::254", "::ffff:169.254.169.254"] {
            assert!(is_metadata(metadata.parse().unwrap()), "{metadata}");
        }
        assert!(!is_metadata("10.0.0.1".parse().unwrap()) && !is_metadata("fd00::1".parse().unwrap()));
        let internal = Url::parse("http://10.0.0.5:5000").unwrap();
        assert!(check_target(&Url::parse("http://10.0.0.6/blob").unwrap(), &internal).is_ok(), "internal helpers");
        for target in
            ["http://169.254.169.254/latest/meta-data/", "https://[fd00:ec2::254]/latest", "https://[fe80::1]/x"]
        {
            assert!(check_target(&Url::parse(target).unwrap(), &internal).is_err(), "{target}");
        }
    }

    #[test]
    fn a_registry_configured_on_loopback_may_use_loopback_helpers() {
        let registry = Url::parse("http://127.0.0.1:5000").unwrap();
        assert!(check_target(&Url::parse("http://127.0.0.1:5001/token").unwrap(), &registry).is_ok());
        assert!(check_target(&Url::parse("ftp://127.0.0.1/x").unwrap(), &registry).is_err());
        assert!(check_target(&Url::parse("http://evil.example/token").unwrap(), &registry).is_err());
    }
}
