//! The cross-site request guard (SECURITY S18): a request that may change state (any method but
//! GET, HEAD and OPTIONS) is refused with 403 when the browser says it comes from another site
//! (`Sec-Fetch-Site`), or its `Origin` is not this server, or it carries our session cookie
//! without either header. Clients that are not browsers (curl, CI with a token, a registry's
//! notifications) send neither header nor cookie and pass.

use axum::http::{HeaderMap, Method, header};

/// True when the request must be refused as cross-site.
pub(crate) fn is_cross_site(method: &Method, headers: &HeaderMap, cookie_name: Option<&str>) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    if let Some(site) = headers.get("sec-fetch-site") {
        return !matches!(site.to_str(), Ok("same-origin" | "none"));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let host = headers.get(header::HOST).and_then(|value| value.to_str().ok());
        let origin_host = origin.to_str().ok().and_then(|origin| origin.split_once("://")).map(|(_, rest)| rest);
        return match (origin_host, host) {
            (Some(origin_host), Some(host)) => !origin_host.eq_ignore_ascii_case(host),
            _ => true,
        };
    }
    cookie_name.is_some_and(|name| carries_cookie(headers, name))
}

fn carries_cookie(headers: &HeaderMap, name: &str) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|cookies| cookies.split(';').any(|pair| pair.trim().split_once('=').is_some_and(|(key, _)| key == name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn only_same_origin_browsers_and_cookieless_clients_may_change_state() {
        let post = Method::POST;
        let cookie = Some("__Host-ocicat");
        assert!(!is_cross_site(&Method::GET, &headers(&[("sec-fetch-site", "cross-site")]), cookie), "reads pass");
        assert!(is_cross_site(&post, &headers(&[("sec-fetch-site", "cross-site")]), cookie));
        assert!(is_cross_site(&post, &headers(&[("sec-fetch-site", "same-site")]), cookie), "a sibling subdomain");
        assert!(!is_cross_site(&post, &headers(&[("sec-fetch-site", "same-origin")]), cookie));
        assert!(!is_cross_site(&post, &headers(&[("origin", "http://cat:3000"), ("host", "cat:3000")]), cookie));
        assert!(is_cross_site(&post, &headers(&[("origin", "https://evil.test"), ("host", "cat:3000")]), cookie));
        assert!(is_cross_site(&post, &headers(&[("origin", "null"), ("host", "cat:3000")]), cookie));
        assert!(is_cross_site(&Method::DELETE, &headers(&[("cookie", "a=b; __Host-ocicat=x")]), cookie));
        assert!(!is_cross_site(&post, &headers(&[("cookie", "a=b")]), cookie), "no session, nothing to ride on");
        assert!(!is_cross_site(&post, &headers(&[("authorization", "Bearer x")]), cookie), "automation");
    }
}
