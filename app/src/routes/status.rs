//! Crawl status: for every registry, where its crawl stands (live while one runs), what it
//! fetched and reused, its last error in full, its rate limit, and a "refresh now" button (the
//! counters, errors and rate limits for administrators of the registry, the button for
//! administrators of all of it).

use leptos::prelude::*;

use crate::api::{RefreshNow, list_registries, list_replicas};
use crate::components::{ErrorView, NoRegistries, StatePill, TimeText};
use crate::model::{RegistryCard, ReplicasView};

/// How often an open status or home page asks for fresh progress.
pub const POLL_SECONDS: u64 = 3;

/// Refetches `resource` every [`POLL_SECONDS`] while the page is open in a browser.
pub fn keep_fresh<T>(resource: Resource<T>)
where
    T: Send + Sync + serde::Serialize + serde::de::DeserializeOwned + 'static,
{
    #[cfg(feature = "hydrate")]
    if let Ok(handle) =
        set_interval_with_handle(move || resource.refetch(), std::time::Duration::from_secs(POLL_SECONDS))
    {
        on_cleanup(move || handle.clear());
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = resource;
}

/// The crawl status page.
#[component]
pub fn StatusPage() -> impl IntoView {
    let registries = Resource::new(|| (), |()| list_registries());
    keep_fresh(registries);
    let replicas = Resource::new(|| (), |()| list_replicas());
    keep_fresh(replicas);
    view! {
        <section class="page-head">
            <h1>"Crawl status"</h1>
            <p class="muted">"Progress and health of every connected registry, refreshed every few seconds."</p>
        </section>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match replicas.await {
                    Ok(Some(view)) => view! { <ReplicasPanel view/> }.into_any(),
                    Ok(None) => ().into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Transition>
        <Transition fallback=|| view! { <p class="loading">"Loading status…"</p> }>
            {move || Suspend::new(async move {
                match registries.await {
                    Ok(cards) if cards.is_empty() => view! { <NoRegistries/> }.into_any(),
                    Ok(cards) => cards.into_iter().map(|card| view! { <RegistryStatusView card/> }).collect_view().into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The replicas sharing one database: who leads, and how far behind the catalog each one is.
#[component]
fn ReplicasPanel(view: ReplicasView) -> impl IntoView {
    let leader = match &view.leader {
        Some(leader) => format!("{leader} leads: it crawls and runs scheduled retention for every replica."),
        None => "No replica leads right now: crawls wait until one takes the lease.".to_owned(),
    };
    let this = view.this_replica.clone();
    view! {
        <section class="panel replicas-panel" data-testid="replicas">
            <h2>"Replicas"</h2>
            <p class="small muted">{leader}" This page comes from "<strong>{this.clone()}</strong>"."</p>
            <table class="table">
                <thead><tr><th>"Replica"</th><th>"Role"</th><th>"Applied"</th><th>"Behind"</th><th>"Last heard"</th></tr></thead>
                <tbody>
                    {view.replicas.into_iter().map(|replica| {
                        let role = if replica.leading { "leader" } else if replica.live { "follower" } else { "silent" };
                        let behind = if replica.lag == 0 { "caught up".to_owned() } else { format!("{} changes", replica.lag) };
                        let heard = format!("{} s ago", replica.seconds_since_heartbeat);
                        let here = replica.name == this;
                        view! {
                            <tr data-replica=replica.name.clone()>
                                <td class="mono">{replica.name.clone()}{here.then_some(" (this one)")}</td>
                                <td><span class=format!("pill pill-{role}")>{role}</span></td>
                                <td class="num">{replica.applied}</td>
                                <td>{behind}</td>
                                <td>{heard}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn RegistryStatusView(card: RegistryCard) -> impl IntoView {
    let refresh = ServerAction::<RefreshNow>::new();
    let requested = move || match refresh.value().get() {
        Some(Ok(())) => Some("Crawl requested: progress appears here in a moment.".to_string()),
        Some(Err(error)) => Some(format!("Could not start a crawl: {error}")),
        None => None,
    };
    let percent = if card.repositories_total == 0 { 0 } else { card.repositories_done * 100 / card.repositories_total };
    let crawling = card.state == "crawling";
    let mode = if card.reconciling { "full reconcile" } else { "incremental" };
    let name = card.name.clone();
    view! {
        <section class="panel status-panel" data-registry=card.name.clone()>
            <div class="card-top">
                <h2><a href=format!("/r/{}", card.name)>{card.name.clone()}</a>" " <StatePill state=card.state.clone()/></h2>
                {card.can_refresh.then(|| view! {
                    <ActionForm action=refresh>
                        <input type="hidden" name="registry" value=name/>
                        <button type="submit" class="refresh" disabled=move || refresh.pending().get()>"Refresh now"</button>
                    </ActionForm>
                })}
            </div>
            <p class="muted mono">{card.host.clone()}</p>
            {move || requested().map(|text| view! { <p class="card-note small" role="status">{text}</p> })}
            {card.internals.then(|| view! {
                <progress class="progress" max="100" value=percent.to_string() aria-label="Repositories crawled">{format!("{percent}%")}</progress>
                <p class="small muted" data-testid="crawl-progress">
                    {format!("{} of {} repositories", card.repositories_done, card.repositories_total)}
                    {crawling.then(|| format!(" · {mode} crawl running"))}
                    {card.manifests_per_second.map(|rate| format!(" · {rate} manifests/s"))}
                </p>
            })}
            <dl class="facts">
                <div><dt>"In the catalog"</dt><dd>{format!("{} repositories · {} artifacts", card.repositories, card.artifacts)}</dd></div>
                <div><dt>"Last success"</dt><dd><TimeText value=card.last_success.clone()/></dd></div>
                {card.internals.then(|| view! {
                    <div><dt>"Last crawl"</dt><dd>{format!("{} fetched · {} unchanged · {} failed", card.manifests_seen, card.manifests_unchanged, card.failures)}</dd></div>
                    <div><dt>"Started"</dt><dd><TimeText value=card.last_started.clone()/></dd></div>
                    <div><dt>"Last full reconcile"</dt><dd><TimeText value=card.last_reconcile.clone()/></dd></div>
                    <div><dt>"Last push notification"</dt><dd><TimeText value=card.last_notification.clone()/></dd></div>
                    <div><dt>"Crawl between reconciles"</dt><dd>{if card.listed_only { "tag lists only (notifications announce pushes)" } else { "a HEAD per tag" }}</dd></div>
                    <div><dt>"Crawls since start"</dt><dd>{card.crawls_completed}</dd></div>
                    <div><dt>"Rate limit"</dt><dd>{card.rate_limit.clone().unwrap_or_else(|| "none announced".into())}</dd></div>
                })}
            </dl>
            {(!card.internals).then(|| view! {
                <p class="card-note small">"Crawl progress, counters and errors are shown to administrators of the whole registry."</p>
            })}
            {card.last_error.clone().map(|error| view! {
                <div class="error-detail" role="status"><h3>"Last error"</h3><pre class="break">{error}</pre></div>
            })}
        </section>
    }
}
