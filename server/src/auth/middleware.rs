//! The middleware every request passes: the CSRF guard, then who is asking (API token, session,
//! or visitor) put on the request as a [`Principal`]; visitors with no rights at all are sent
//! to the sign-in page (pages) or answered 401 (API).

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Redirect, Response};
use ocicat_access::{CsrfToken, Principal, TokenHash};
use tower_sessions::Session;

use super::csrf::is_cross_site;
use super::{Auth, Enforced, SESSION_USER, SessionUser};

/// How stale `seen` may get before a request saves the session again.
const SEEN_RESOLUTION_SECS: i64 = 60;

/// Guards and labels one request.
pub(crate) async fn guard(State(auth): State<Auth>, mut request: Request, next: Next) -> Response {
    if is_cross_site(request.method(), request.headers(), auth.cookie_name()) {
        tracing::warn!(http.method = %request.method(), http.path = %request.uri().path(), "cross-site request refused");
        return refusal(StatusCode::FORBIDDEN, "cross-site request refused");
    }
    let Some(enforced) = auth.enforced.as_deref() else {
        request.extensions_mut().insert(super::local_operator());
        request.extensions_mut().insert(auth.open_token.clone());
        return next.run(request).await;
    };
    // Registry notifications carry their own shared secret as a bearer token, checked by the
    // events handler; it is not an API token.
    let notification = request.uri().path().starts_with("/events/");
    let (principal, csrf) = match bearer(&request).filter(|_| !notification) {
        Some(presented) => match token_principal(enforced, &presented).await {
            Some(principal) => {
                request.extensions_mut().insert(ocicat_access::BearerAuthenticated);
                (principal, None)
            }
            None => return refusal(StatusCode::UNAUTHORIZED, "invalid or revoked api token"),
        },
        None => match request.extensions().get::<Session>().cloned() {
            Some(session) => session_principal(enforced, &session).await,
            None => (enforced.visitor(), None),
        },
    };
    // Only a session cookie is an ambient credential a forged request could ride on.
    if let Some(csrf) = csrf {
        request.extensions_mut().insert(csrf);
    }
    if principal.user.is_none()
        && principal.grants.is_empty()
        && let Some(response) = sign_in_first(&request)
    {
        return response;
    }
    request.extensions_mut().insert(principal);
    next.run(request).await
}

/// The value of `Authorization: Bearer …`, if any (a non-UTF-8 value counts as a wrong token).
fn bearer(request: &Request) -> Option<String> {
    let value = request.headers().get(header::AUTHORIZATION)?;
    let text = value.to_str().unwrap_or("Bearer ?");
    let (scheme, token) = text.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
}

async fn token_principal(enforced: &Enforced, presented: &str) -> Option<Principal> {
    let hash = TokenHash::of_presented(presented).ok()?;
    match enforced.tokens.token_by_hash(&hash).await {
        Ok(Some(token)) => enforced.principal_of(&token.user),
        Ok(None) => None,
        Err(error) => {
            tracing::error!(%error, "api token lookup failed");
            None
        }
    }
}

/// The session's user (and its anti-CSRF token) while the session is within both timeouts; a
/// visitor otherwise (an expired session is deleted on the server, not just ignored).
async fn session_principal(enforced: &Enforced, session: &Session) -> (Principal, Option<CsrfToken>) {
    let user = match session.get::<SessionUser>(SESSION_USER).await {
        Ok(Some(user)) => user,
        Ok(None) => return (enforced.visitor(), None),
        Err(error) => {
            tracing::error!(%error, "session store failed; treating the request as a visitor");
            return (enforced.visitor(), None);
        }
    };
    let now = enforced.clock.now();
    let expired =
        now - user.signed_in > enforced.absolute_secs || now - user.seen > (enforced.idle_minutes * 60) as i64;
    let principal = if expired { None } else { enforced.principal_of(&user.name) };
    let Some(principal) = principal else {
        let reason = if expired { "expired" } else { "user removed" };
        tracing::info!(target: "audit", event = "session-ended", user = %user.name, reason, "session ended");
        if let Err(error) = session.flush().await {
            tracing::error!(%error, "cannot delete an ended session");
        }
        return (enforced.visitor(), None);
    };
    let csrf = if user.csrf.is_empty() { CsrfToken::random() } else { CsrfToken(user.csrf.clone()) };
    if now - user.seen >= SEEN_RESOLUTION_SECS || user.csrf.is_empty() {
        let touched = SessionUser { seen: now, csrf: csrf.0.clone(), ..user };
        if let Err(error) = session.insert(SESSION_USER, touched).await {
            tracing::error!(%error, "cannot refresh the session");
        }
    }
    (principal, Some(csrf))
}

/// For a visitor who may see nothing: pages go to the sign-in page, the API says 401; the
/// sign-in page itself, its assets and the server functions it calls stay reachable.
fn sign_in_first(request: &Request) -> Option<Response> {
    let path = request.uri().path();
    let open = path == "/login"
        || path.starts_with("/auth/")
        || path.starts_with("/pkg/")
        || path.starts_with("/events/")
        || matches!(path, "/healthz" | "/favicon.svg" | "/favicon.ico" | "/api/v1/openapi.json")
        || (path.starts_with("/api/") && !path.starts_with("/api/v1/"));
    if open {
        return None;
    }
    let page = request.method() == axum::http::Method::GET && !path.starts_with("/api/") && path != "/metrics";
    if !page {
        return Some(refusal(StatusCode::UNAUTHORIZED, "sign in first, or send an api token as a bearer token"));
    }
    let wanted = request.uri().path_and_query().map_or(path, |target| target.as_str());
    let next: String = url::form_urlencoded::byte_serialize(wanted.as_bytes()).collect();
    Some(Redirect::to(&format!("/login?next={next}")).into_response())
}

fn refusal(status: StatusCode, message: &str) -> Response {
    let mut response = (status, axum::Json(serde_json::json!({ "error": message }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"ocicat\""));
    }
    response
}
