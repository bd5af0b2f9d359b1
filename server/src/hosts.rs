//! The DNS-rebinding guard (SECURITY S18): a page on another site whose name is made to resolve
//! to ocicat's address reaches ocicat with that name in `Host`, and the browser then treats
//! ocicat as that site. A request is answered only when its `Host` names ocicat: an IP address,
//! `localhost`, the host of the configured `public_url`, or one of `allowed_hosts`; anything else
//! gets 421 Misdirected Request. When `public_url` is https, every answer also carries
//! `Strict-Transport-Security`, so a browser never talks to ocicat in clear text again.

use std::net::IpAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};

/// One year: what browsers' preload lists ask for.
const HSTS: &str = "max-age=31536000";

/// The host names ocicat answers to besides IP addresses and `localhost`, and whether it is
/// served over https; cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct AllowedHosts {
    names: Arc<Vec<String>>,
    https: bool,
}

impl AllowedHosts {
    /// IP addresses, `localhost` and `names` (host names, compared without case or port).
    pub fn new(names: impl IntoIterator<Item = String>) -> AllowedHosts {
        AllowedHosts {
            names: Arc::new(names.into_iter().map(|name| name.to_ascii_lowercase()).collect()),
            https: false,
        }
    }

    /// The same, answering with `Strict-Transport-Security` when `https` (ocicat's public
    /// address is https; a TLS-terminating proxy in front of it serves that).
    pub fn served_over_https(self, https: bool) -> AllowedHosts {
        AllowedHosts { https, ..self }
    }

    /// True when `authority` (a `Host` header: host and maybe port) names ocicat.
    pub fn allows(&self, authority: &str) -> bool {
        let host = match authority.strip_prefix('[') {
            Some(bracketed) => bracketed.split_once(']').map_or(bracketed, |(address, _)| address),
            None => authority
                .rsplit_once(':')
                .filter(|(_, port)| port.parse::<u16>().is_ok())
                .map_or(authority, |(host, _)| host),
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        host.parse::<IpAddr>().is_ok() || host == "localhost" || self.names.iter().any(|name| *name == host)
    }
}

/// Refuses requests for another host with 421.
pub(crate) async fn guard(State(hosts): State<AllowedHosts>, request: Request, next: Next) -> Response {
    let named = request
        .headers()
        .get(header::HOST)
        .map(|value| value.to_str().unwrap_or("\u{fffd}").to_owned())
        .or_else(|| request.uri().authority().map(|authority| authority.to_string()));
    match named {
        Some(host) if !hosts.allows(&host) => {
            tracing::warn!(http.host = %host.escape_debug(), "request for another host refused");
            let body = axum::Json(serde_json::json!({
                "error": "this server does not answer to that host name; add it to [server] allowed_hosts or public_url"
            }));
            (StatusCode::MISDIRECTED_REQUEST, body).into_response()
        }
        _ => {
            let mut response = next.run(request).await;
            if hosts.https {
                response.headers_mut().insert(header::STRICT_TRANSPORT_SECURITY, HeaderValue::from_static(HSTS));
            }
            response
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn answer(hosts: AllowedHosts, host: &str) -> Response {
        use tower::ServiceExt as _;
        let router = axum::Router::new()
            .route("/", axum::routing::get(|| async { "ok" }))
            .layer(axum::middleware::from_fn_with_state(hosts, guard));
        let request =
            axum::http::Request::builder().uri("/").header(header::HOST, host).body(axum::body::Body::empty());
        router.oneshot(request.unwrap()).await.unwrap()
    }

    #[tokio::test]
    async fn https_deployments_answer_with_hsts_and_others_do_not() {
        let names = || ["ocicat.example.com".to_owned()];
        let secure = answer(AllowedHosts::new(names()).served_over_https(true), "ocicat.example.com").await;
        assert_eq!(secure.status(), StatusCode::OK);
        assert_eq!(secure.headers()[header::STRICT_TRANSPORT_SECURITY], HSTS);
        let plain = answer(AllowedHosts::new(names()), "ocicat.example.com").await;
        assert!(plain.headers().get(header::STRICT_TRANSPORT_SECURITY).is_none(), "never over plain http");
        let foreign = answer(AllowedHosts::new(names()).served_over_https(true), "attacker.test").await;
        assert_eq!(foreign.status(), StatusCode::MISDIRECTED_REQUEST);
    }

    #[test]
    fn only_addresses_localhost_and_configured_names_are_answered() {
        let hosts = AllowedHosts::new(["ocicat.example.com".to_owned()]);
        for allowed in [
            "127.0.0.1:3000",
            "127.0.0.1",
            "[::1]:3000",
            "localhost:3000",
            "LOCALHOST",
            "10.0.0.7:80",
            "ocicat.example.com",
            "OCICAT.example.com:443",
            "ocicat.example.com.",
        ] {
            assert!(hosts.allows(allowed), "{allowed}");
        }
        for refused in [
            "rebind.attacker.test:3000",
            "attacker.test",
            "ocicat.example.com.attacker.test",
            "localhost.attacker.test",
            "",
            "127.0.0.1.nip.io",
        ] {
            assert!(!hosts.allows(refused), "{refused}");
        }
    }
}
