//! Who is asking, as the pages and the API see it: the [`Principal`] the server's access
//! middleware put on the request, and the checks every lookup makes with it. Anything the
//! principal may not read is "not found", exactly as if it did not exist.

use leptos::prelude::use_context;
use ocicat_access::{Principal, Right};
use ocicat_catalog::{RegistryCounts, Scope};
use ocicat_crawler::RegistryStatus;

use super::UiState;
use crate::error::AppError;
use crate::model::RegistryCard;

/// The principal of the request being served (server functions and SSR read it from the
/// request parts); nobody, with no rights, when the middleware did not run.
pub fn principal() -> Principal {
    let found =
        use_context::<axum::http::request::Parts>().and_then(|parts| parts.extensions.get::<Principal>().cloned());
    found.unwrap_or_else(|| {
        tracing::error!("no principal on the request: the access middleware did not run");
        Principal::anonymous(Vec::new())
    })
}

/// A 404 unless `who` may read something in `registry` (which is also configured).
pub fn registry_visible(state: &UiState, who: &Principal, registry: &str) -> Result<RegistryStatus, AppError> {
    let not_found = || AppError::NotFound(format!("registry {registry:?}"));
    if !who.can_somewhere(Right::Read, registry) {
        return Err(not_found());
    }
    state.board.get(registry).ok_or_else(not_found)
}

/// A 404 unless `who` may read `repository` of `registry`.
pub fn repository_visible(
    state: &UiState,
    who: &Principal,
    registry: &str,
    repository: &str,
) -> Result<RegistryStatus, AppError> {
    let status = registry_visible(state, who, registry)?;
    if !who.can(Right::Read, registry, repository) {
        return Err(AppError::NotFound(format!("repository {repository:?}")));
    }
    Ok(status)
}

/// What `who` may read across the configured registries, for searches and counts.
pub fn read_scope(state: &UiState, who: &Principal) -> Scope {
    let names: Vec<String> = state.board.snapshot().into_iter().map(|status| status.name).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    who.scope(Right::Read, &names)
}

/// The registries `who` may read something in, in configuration order.
pub fn visible_registries(state: &UiState, who: &Principal) -> Vec<RegistryStatus> {
    state.board.snapshot().into_iter().filter(|status| who.can_somewhere(Right::Read, &status.name)).collect()
}

/// A registry card as `who` may see it: crawl internals (errors, counters, rate limits) only
/// for administrators of the registry.
pub fn card_for(who: &Principal, status: &RegistryStatus, counts: RegistryCounts) -> RegistryCard {
    let mut card = super::registry_card(status, counts);
    card.can_refresh = who.can_whole_registry(Right::Administer, &status.name);
    card.internals = who.can_somewhere(Right::Administer, &status.name);
    if !card.internals {
        card.last_error = None;
        card.rate_limit = None;
        card.failures = 0;
        card.manifests_seen = 0;
        card.manifests_unchanged = 0;
        card.manifests_per_second = None;
    }
    card
}
