//! The home page: a search box, every connected registry with its health, counts and crawl
//! progress, and the newest tagged artifacts.

use leptos::prelude::*;

use crate::api::{list_registries, recent_pushes};
use crate::components::{DateText, ErrorView, NoRegistries, StatePill};
use crate::model::RegistryCard;
use crate::routes::search::HitCard;

/// Lists the connected registries.
#[component]
pub fn HomePage() -> impl IntoView {
    let registries = Resource::new(|| (), |()| list_registries());
    crate::routes::status::keep_fresh(registries);
    view! {
        <section class="page-head">
            <h1>"Registries"</h1>
            <p class="lead">"Everything stored in your OCI registries — images, indexes, charts, WASM, and the signatures, SBOMs and scans attached to them."</p>
            <form class="toolbar home-search" method="get" action="/search" role="search">
                <label class="visually-hidden" for="home-search">"Search every registry"</label>
                <input id="home-search" type="search" name="q" placeholder="Search every registry: nginx, kind:sbom, eol < today, vulns.critical > 0"/>
                <button type="submit">"Search"</button>
            </form>
        </section>
        <Transition fallback=|| view! { <p class="loading">"Loading registries…"</p> }>
            {move || Suspend::new(async move {
                match registries.await {
                    Ok(cards) if cards.is_empty() => view! { <NoRegistries/> }.into_any(),
                    Ok(cards) => view! {
                        <div class="cards">
                            {cards.into_iter().map(|card| view! { <RegistryCardView card/> }).collect_view()}
                        </div>
                    }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Transition>
        <RecentPushes/>
    }
}

/// The newest tagged artifacts across registries, refreshed with the cards.
#[component]
fn RecentPushes() -> impl IntoView {
    let recent = Resource::new(|| (), |()| recent_pushes());
    crate::routes::status::keep_fresh(recent);
    view! {
        <section class="recent" aria-labelledby="recent-title">
            <h2 id="recent-title">"Recently built"</h2>
            <Transition fallback=|| view! { <p class="loading">"Loading recent pushes…"</p> }>
                {move || Suspend::new(async move {
                    match recent.await {
                        Ok(hits) if hits.is_empty() => view! {
                            <p class="muted">"Nothing tagged is indexed yet. Tagged images, charts and modules show up here once a crawl has found them."</p>
                        }.into_any(),
                        Ok(hits) => view! {
                            <ul class="hits">{hits.into_iter().map(|hit| view! { <HitCard hit/> }).collect_view()}</ul>
                        }.into_any(),
                        Err(error) => view! { <ErrorView error/> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn RegistryCardView(card: RegistryCard) -> impl IntoView {
    let href = format!("/r/{}", card.name);
    let progress = (card.internals && card.state == "crawling").then(|| {
        let percent =
            if card.repositories_total == 0 { 0 } else { card.repositories_done * 100 / card.repositories_total };
        view! {
            <progress class="progress" max="100" value=percent.to_string() aria-label="Repositories crawled">
                {format!("{percent}%")}
            </progress>
        }
    });
    let error =
        card.last_error.clone().map(|error| view! { <p class="card-error" title=error.clone()>{error.clone()}</p> });
    let speed =
        card.manifests_per_second.map(|rate| view! { <p class="muted small">{format!("{rate} manifests/s")}</p> });
    let rate_limit =
        card.rate_limit.clone().map(|text| view! { <p class="card-note small" data-testid="rate-limit">{text}</p> });
    view! {
        <a class="card registry-card" href=href>
            <div class="card-top">
                <h2>{card.name.clone()}</h2>
                <StatePill state=card.state.clone()/>
            </div>
            <p class="muted mono">{card.host.clone()}</p>
            <dl class="stats">
                <div><dt>"Repositories"</dt><dd>{card.repositories}</dd></div>
                <div><dt>"Artifacts"</dt><dd>{card.artifacts}</dd></div>
                <div><dt>"Last crawl"</dt><dd><DateText value=card.last_success.clone()/></dd></div>
            </dl>
            {progress}
            {speed}
            {rate_limit}
            {error}
        </a>
    }
}
