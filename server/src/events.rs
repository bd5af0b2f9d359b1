//! Registry notifications: distribution POSTs its event envelopes here (`events.v1+json` from
//! 2.x, `events.v2+json` from 3.x: the same `events[].action/target` shape), authenticated by a
//! shared secret. The payload is never trusted for content — it only names repositories to
//! re-crawl, and the tags a push announced, which the refresh waits to see listed (see
//! `ocicat_crawler::RefreshRequest`) — and each registry may send a bounded number per second.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::extract::{FromRef, Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use ocicat_crawler::{Crawler, ExpectedTag};

/// Event requests accepted per registry per second (distribution sends one event per request,
/// and a 429 makes it back off, so bursts while a CI pipeline pushes must fit).
const REQUESTS_PER_SECOND: u32 = 200;
/// Repositories taken from one envelope.
const MAX_REPOSITORIES_PER_ENVELOPE: usize = 100;
/// Announced tags kept per repository from one envelope.
const MAX_TAGS_PER_REPOSITORY: usize = 100;

/// Envelope media types accepted (a missing Content-Type is read as JSON too).
const ENVELOPE_TYPES: [&str; 3] = [
    "application/vnd.docker.distribution.events.v1+json",
    "application/vnd.docker.distribution.events.v2+json",
    "application/json",
];

/// True when the request declares no content type or one of [`ENVELOPE_TYPES`].
fn is_envelope_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE) else { return true };
    let Ok(value) = value.to_str() else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    ENVELOPE_TYPES.contains(&essence.as_str())
}

/// Secrets and the rate limiter for the events endpoint.
#[derive(Debug, Default, Clone)]
pub struct Events {
    secrets: Arc<HashMap<String, String>>,
    windows: Arc<Mutex<HashMap<String, (Instant, u32)>>>,
}

impl Events {
    /// Events are accepted for the registries in `secrets` (name → shared secret).
    pub fn new(secrets: HashMap<String, String>) -> Events {
        Events { secrets: Arc::new(secrets), windows: Arc::default() }
    }

    fn authorized(&self, registry: &str, headers: &HeaderMap) -> Option<bool> {
        let secret = self.secrets.get(registry)?;
        let presented =
            headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
        Some(presented.is_some_and(|presented| constant_time_eq(presented.as_bytes(), secret.as_bytes())))
    }

    fn admit(&self, registry: &str) -> bool {
        let mut windows = self.windows.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (started, count) = windows.entry(registry.to_owned()).or_insert((Instant::now(), 0));
        if started.elapsed() >= Duration::from_secs(1) {
            *started = Instant::now();
            *count = 0;
        }
        *count += 1;
        *count <= REQUESTS_PER_SECOND
    }
}

fn constant_time_eq(left: &[u8], right: &[u8]) -> bool {
    left.len() == right.len() && left.iter().zip(right).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[derive(Debug, Deserialize)]
struct Envelope {
    #[serde(default)]
    events: Vec<Event>,
}

#[derive(Debug, Deserialize)]
struct Event {
    #[serde(default)]
    action: String,
    #[serde(default)]
    target: Target,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Target {
    #[serde(default)]
    repository: String,
    #[serde(default)]
    media_type: String,
    #[serde(default)]
    digest: String,
    #[serde(default)]
    tag: String,
}

impl Event {
    /// Manifest pushes and any delete change what the catalog shows; blob pushes do not.
    fn changes_manifests(&self) -> bool {
        let manifest_type = self.target.media_type.contains("manifest") || self.target.media_type.contains("index");
        (self.action == "push" && manifest_type) || self.action == "delete"
    }

    /// The tag a manifest push announced, when it names a well-formed tag and digest.
    fn pushed_tag(&self) -> Option<ExpectedTag> {
        let Target { tag, digest, .. } = &self.target;
        let valid =
            self.action == "push" && ocicat_oci::is_valid_tag(tag) && digest.parse::<ocicat_oci::Digest>().is_ok();
        valid.then(|| ExpectedTag { tag: tag.clone(), digest: digest.clone() })
    }
}

/// The notification route, for any state that holds the events' secrets and the crawler.
pub(crate) fn router<S>() -> utoipa_axum::router::OpenApiRouter<S>
where
    S: Clone + Send + Sync + 'static,
    Events: FromRef<S>,
    Crawler: FromRef<S>,
{
    utoipa_axum::router::OpenApiRouter::new().routes(utoipa_axum::routes!(receive_events))
}

/// A registry notification (distribution's `events.v1+json` or `v2+json` envelope), sent with
/// the registry's shared secret as a bearer token: queues a refresh of every repository whose
/// manifests it says changed.
#[utoipa::path(post, path = "/events/{registry}", tag = "operations",
    params(("registry" = String, Path, description = "The configured registry name"),
        ("Authorization" = String, Header, description = "`Bearer <the registry's events secret>`")),
    request_body(content = serde_json::Value, description = "A notification envelope",
        content_type = "application/vnd.docker.distribution.events.v1+json"),
    responses((status = 202, description = "Refreshes queued: `{\"queued\": n}`"),
        (status = 400, description = "Not an event envelope"), (status = 401, description = "Bad or missing secret"),
        (status = 404, description = "No event endpoint for this registry"),
        (status = 415, description = "Not an envelope media type"),
        (status = 429, description = "Too many event requests; retry after a second")))]
async fn receive_events(
    State(events): State<Events>,
    State(crawler): State<Crawler>,
    Path(registry): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    match events.authorized(&registry, &headers) {
        None => {
            return (StatusCode::NOT_FOUND, Json(serde_json::json!({"error": "no event endpoint for this registry"})))
                .into_response();
        }
        Some(false) => {
            return (StatusCode::UNAUTHORIZED, Json(serde_json::json!({"error": "bad or missing event secret"})))
                .into_response();
        }
        Some(true) => {}
    }
    if !events.admit(&registry) {
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, "1")],
            Json(serde_json::json!({"error": "too many event requests"})),
        )
            .into_response();
    }
    if !is_envelope_type(&headers) {
        let expected = ENVELOPE_TYPES.join(", ");
        return (
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Json(serde_json::json!({"error": format!("event envelopes must be one of: {expected}")})),
        )
            .into_response();
    }
    let envelope: Envelope = match serde_json::from_slice(&body) {
        Ok(envelope) => envelope,
        Err(error) => {
            return (
                StatusCode::BAD_REQUEST,
                Json(serde_json::json!({"error": format!("not an event envelope: {error}")})),
            )
                .into_response();
        }
    };
    // Repository → the tags its pushes announced (a delete or a push by digest announces none).
    let mut repositories: BTreeMap<String, Vec<ExpectedTag>> = BTreeMap::new();
    for event in envelope.events.iter().filter(|event| event.changes_manifests()) {
        let repository = &event.target.repository;
        if !ocicat_oci::is_valid_repository(repository)
            || (!repositories.contains_key(repository) && repositories.len() >= MAX_REPOSITORIES_PER_ENVELOPE)
        {
            continue;
        }
        let expected = repositories.entry(repository.clone()).or_default();
        expected.extend(event.pushed_tag().filter(|_| expected.len() < MAX_TAGS_PER_REPOSITORY));
    }
    let queued = repositories
        .into_iter()
        .filter(|(repository, expect)| crawler.refresh_after_push(&registry, repository, expect.clone()))
        .count();
    if queued == 0 {
        tracing::debug!(registry.name = %registry, "registry events without manifest changes to refresh");
    } else {
        tracing::info!(registry.name = %registry, events.queued = queued, "registry events received");
    }
    (StatusCode::ACCEPTED, Json(serde_json::json!({"queued": queued}))).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_envelope_versions_and_plain_json_are_accepted() {
        let with = |value: &str| HeaderMap::from_iter([(header::CONTENT_TYPE, value.parse().unwrap())]);
        assert!(is_envelope_type(&HeaderMap::new()));
        assert!(is_envelope_type(&with("application/vnd.docker.distribution.events.v1+json")));
        assert!(is_envelope_type(&with("application/vnd.docker.distribution.events.v2+json; charset=utf-8")));
        assert!(is_envelope_type(&with("Application/JSON")));
        assert!(!is_envelope_type(&with("text/plain")));
        assert!(!is_envelope_type(&with("application/x-www-form-urlencoded")));
    }

    #[test]
    fn secrets_compare_exactly() {
        assert!(constant_time_eq(b"secret", b"secret"));
        assert!(!constant_time_eq(b"secret", b"secreT"));
        assert!(!constant_time_eq(b"secret", b"secret2"));
    }

    #[test]
    fn the_window_admits_a_bounded_number_of_requests() {
        let events = Events::new(HashMap::new());
        let admitted = (0..(REQUESTS_PER_SECOND * 3)).filter(|_| events.admit("local")).count();
        assert_eq!(admitted, REQUESTS_PER_SECOND as usize);
    }
}
