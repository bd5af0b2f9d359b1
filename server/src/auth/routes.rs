//! `POST /auth/login` and `POST /auth/logout`: plain form posts from the sign-in page and the
//! header, so they work without JavaScript. Failures all read the same ("wrong name or
//! password"), are throttled per user name and per client address, and are audit events
//! without the password.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, Extension, Form, State};
use axum::response::{IntoResponse as _, Redirect, Response};
use axum::routing::post;
use ocicat_access::{Throttle, valid_name, verify_password};
use serde::Deserialize;
use tower_sessions::Session;

use super::{Auth, SESSION_USER, SessionUser};

/// The sign-in routes, with their state.
pub(super) fn router(auth: Auth) -> Router {
    Router::new().route("/auth/login", post(login)).route("/auth/logout", post(logout)).with_state(auth)
}

/// The documented sign-in routes (registered only when access control is on).
#[derive(utoipa::OpenApi)]
#[openapi(paths(login, logout))]
pub struct SignInRoutes;

/// The sign-in form.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
struct LoginForm {
    /// The user name.
    username: String,
    /// The password.
    password: String,
    /// Where to go after signing in (a path on this server).
    #[serde(default)]
    next: String,
}

/// The throttling key of a sign-in name: a hash, so a name of megabytes costs the limiter what
/// any other does.
fn name_key(name: &str) -> String {
    use sha2::Digest as _;
    format!("user:{}", hex::encode(&sha2::Sha256::digest(name.as_bytes())[..16]))
}

/// The client a sign-in comes from: the connection's peer, or, when the peer is a trusted
/// proxy, the rightmost `X-Forwarded-For` entry that is not one (what the first untrusted hop
/// saw; anything left of it the client could have written itself).
fn client_address(
    peer: Option<std::net::IpAddr>,
    headers: &axum::http::HeaderMap,
    trusted: &[ipnet::IpNet],
) -> Option<std::net::IpAddr> {
    let is_trusted = |ip: &std::net::IpAddr| trusted.iter().any(|network| network.contains(ip));
    let peer = peer?;
    if !is_trusted(&peer) {
        return Some(peer);
    }
    let forwarded: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .filter_map(|entry| entry.trim().parse().ok())
        .collect();
    Some(forwarded.into_iter().rev().find(|ip| !is_trusted(ip)).unwrap_or(peer))
}

/// Where to go after signing in: a path on this server, never another site.
fn local_target(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 2048
        && !next.chars().any(|c| c.is_control());
    if local && !next.starts_with("/login") { next } else { "/" }
}

/// Signs in: a new session (a new id), then a redirect to `next`; a failure redirects back to
/// the sign-in page and reads the same whatever went wrong.
#[utoipa::path(post, path = "/auth/login", tag = "account",
    request_body(content = LoginForm, content_type = "application/x-www-form-urlencoded"),
    responses((status = 303, description = "To `next` when signed in, else back to /login?failed=1")))]
async fn login(
    State(auth): State<Auth>,
    headers: axum::http::HeaderMap,
    session: Session,
    client: Option<Extension<ConnectInfo<SocketAddr>>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let Some(enforced) = auth.enforced.clone() else { return Redirect::to("/").into_response() };
    let target = local_target(&form.next).to_owned();
    let failed = || {
        let next: String = url::form_urlencoded::byte_serialize(target.as_bytes()).collect();
        Redirect::to(&format!("/login?failed=1&next={next}")).into_response()
    };
    let peer = client.map(|Extension(ConnectInfo(address))| address.ip());
    let client = client_address(peer, &headers, &enforced.trusted_proxies).map(|ip| ip.to_string());
    // A name that is not a user name is never logged (it may be a password typed in the wrong box).
    let user = if valid_name(&form.username) && enforced.users.contains_key(&form.username) {
        Some(form.username.clone())
    } else {
        None
    };
    let keys: Vec<String> =
        [Some(name_key(&form.username)), client.as_ref().map(|ip| format!("ip:{ip}"))].into_iter().flatten().collect();
    let locked = {
        let limiter = enforced.limiter.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        keys.iter().any(|key| matches!(limiter.check(key, enforced.instant()), Throttle::Locked { .. }))
    };
    if locked {
        tracing::warn!(target: "audit", event = "sign-in-throttled", user = user.as_deref().unwrap_or("<unknown>"), client = client.as_deref().unwrap_or("-"), "sign-in refused: too many failures");
        return failed();
    }
    let logged_user = user.clone().unwrap_or_else(|| "<unknown>".to_owned());
    let stored = user.as_ref().and_then(|name| enforced.users.get(name)).map(|user| user.password_hash.clone());
    let password = form.password;
    let verified =
        tokio::task::spawn_blocking(move || verify_password(&password, stored.as_deref())).await.unwrap_or(false);
    let Some(name) = user.filter(|_| verified) else {
        let mut limiter = enforced.limiter.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for key in &keys {
            limiter.record_failure(key, enforced.instant());
        }
        drop(limiter);
        tracing::warn!(target: "audit", event = "sign-in-failed", user = %logged_user, client = client.as_deref().unwrap_or("-"), "sign-in failed");
        return failed();
    };
    enforced.limiter.lock().unwrap_or_else(std::sync::PoisonError::into_inner).record_success(&name_key(&name));
    // A new session id at sign-in: an id planted before sign-in is worth nothing after it.
    let now = enforced.clock.now();
    let stored = async {
        session.cycle_id().await?;
        session
            .insert(
                SESSION_USER,
                SessionUser {
                    name: name.clone(),
                    signed_in: now,
                    seen: now,
                    csrf: ocicat_access::CsrfToken::random().0,
                },
            )
            .await
    };
    if let Err(error) = stored.await {
        tracing::error!(%error, "cannot store the session at sign-in");
        return failed();
    }
    tracing::info!(target: "audit", event = "sign-in", user = %name, client = client.as_deref().unwrap_or("-"), "signed in");
    Redirect::to(&target).into_response()
}

/// Signs out: the session is deleted on the server, then a redirect home.
#[utoipa::path(post, path = "/auth/logout", tag = "account",
    responses((status = 303, description = "Home, signed out")))]
async fn logout(State(auth): State<Auth>, session: Session) -> Response {
    if auth.enforced.is_some() {
        if let Ok(Some(user)) = session.get::<SessionUser>(SESSION_USER).await {
            tracing::info!(target: "audit", event = "sign-out", user = %user.name, "signed out");
        }
        if let Err(error) = session.flush().await {
            tracing::error!(%error, "cannot delete the session at sign-out");
        }
    }
    Redirect::to("/login?signed_out=1").into_response()
}

#[cfg(test)]
mod tests {
    use super::{client_address, local_target, name_key};

    #[test]
    fn the_client_behind_a_trusted_proxy_is_the_rightmost_untrusted_hop() {
        let trusted = vec![crate::auth::config::parse_network("10.0.0.0/8").unwrap()];
        let headers = |value: &str| {
            let mut map = axum::http::HeaderMap::new();
            map.insert("x-forwarded-for", value.parse().unwrap());
            map
        };
        let proxy: std::net::IpAddr = "10.0.0.2".parse().unwrap();
        let client = |peer: &str, forwarded: &str| {
            client_address(Some(peer.parse().unwrap()), &headers(forwarded), &trusted).unwrap().to_string()
        };
        assert_eq!(client("10.0.0.2", "203.0.113.7"), "203.0.113.7");
        assert_eq!(
            client("10.0.0.2", "198.51.100.1, 203.0.113.7, 10.0.0.9"),
            "203.0.113.7",
            "a forged left part is ignored"
        );
        assert_eq!(client("192.0.2.4", "203.0.113.7"), "192.0.2.4", "an untrusted peer's header is ignored");
        assert_eq!(client_address(Some(proxy), &axum::http::HeaderMap::new(), &trusted), Some(proxy));
        assert_eq!(client_address(Some(proxy), &headers("203.0.113.7"), &[]), Some(proxy), "no proxies trusted");
    }

    #[test]
    fn throttling_keys_of_names_are_short_whatever_the_name() {
        let huge = "a".repeat(1 << 20);
        assert_eq!(name_key(&huge).len(), name_key("alice").len());
        assert_ne!(name_key("alice"), name_key("bob"));
    }

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(local_target("/r/local/demo/app?page=2"), "/r/local/demo/app?page=2");
        for elsewhere in [
            "https://evil.test/",
            "//evil.test/x",
            "/\\evil.test",
            "javascript:alert(1)",
            "",
            "/login?next=/x",
            "/a\nb",
        ] {
            assert_eq!(local_target(elsewhere), "/", "{elsewhere:?}");
        }
    }
}
