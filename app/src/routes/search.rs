//! Search across every registry: one box with the query language, examples to click, facets
//! by kind, result cards, and errors that point at the mistake. The URL carries the query.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::search_artifacts;
use crate::components::{BadgeList, DateText, EmptyState, ErrorView, KindIcon, ShortDigest};
use crate::error::AppError;
use crate::model::{SearchHit, SearchPage as Results, attach_search_href, copy_href, human_size, plan_search_href};
use crate::routes::account::{IfCanCopy, IfCanDelete};
use crate::toolbar::{Pager, encode};

const EXAMPLES: [(&str, &str); 9] = [
    ("eol < today", "past their end of life"),
    ("vulns.critical > 0", "critical findings in the newest scan"),
    ("kind:sbom", "every SBOM"),
    ("kind:image signature:none", "unsigned images"),
    ("signature:invalid", "forged or broken signatures"),
    ("repo:demo/* created > now-365d", "recent builds under demo/"),
    ("platform:linux/arm64", "arm64 images"),
    ("type:application/spdx+json", "by artifact type"),
    ("annotation.\"org.opencontainers.image.licenses\" = Apache-2.0", "by annotation"),
];

/// The search page.
#[component]
pub fn SearchPage() -> impl IntoView {
    let query = use_query_map();
    let text = move || query.read().get("q").unwrap_or_default();
    let sort = move || query.read().get("sort").unwrap_or_else(|| "newest".into());
    let page = move || query.read().get("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(0);
    let results =
        Resource::new(move || (text(), sort(), page()), |(text, sort, page)| search_artifacts(text, sort, page));
    view! {
        <section class="page-head">
            <h1>"Search"</h1>
            <p class="lead">"Every artifact of every registry, by field, date or annotation."</p>
        </section>
        <form class="toolbar search-form" method="get" action="/search" role="search">
            <label class="visually-hidden" for="search-box">"Query"</label>
            <input id="search-box" type="search" name="q" prop:value=text placeholder="kind:sbom eol < today repo:demo/*" autocomplete="off"/>
            <label class="visually-hidden" for="search-sort">"Sort"</label>
            <select id="search-sort" name="sort">
                <option value="newest" selected=move || sort() == "newest">"Newest"</option>
                <option value="oldest" selected=move || sort() == "oldest">"Oldest"</option>
                <option value="name" selected=move || sort() == "name">"Repository"</option>
                <option value="relevance" selected=move || sort() == "relevance">"Best match"</option>
                <option value="size" selected=move || sort() == "size">"Largest"</option>
            </select>
            <button type="submit">"Search"</button>
        </form>
        <div class="search-layout">
            <aside class="panel help" aria-label="Query syntax">
                <h2>"Try"</h2>
                <ul class="examples">
                    {EXAMPLES.iter().map(|(example, what)| view! {
                        <li><a href=format!("/search?q={}", encode(example))><code>{*example}</code></a><span class="muted small">{*what}</span></li>
                    }).collect_view()}
                </ul>
                <p class="muted small">"Fields: kind, has (signature, sbom, scan, attestation, lifecycle), repo, tag, registry, type, media, platform, digest, subject, signature (verified, invalid, untrusted, unverifiable, none), trust (a policy), signer (match with : and * globs); created, eol, annotation.\"key\" (compare with < > and dates like 2024-01-01, today, now-90d); size (10MB); vulns, vulns.critical, vulns.high (counts of the newest scan: vulns.critical > 0); from attached SBOMs and scans: pkg (a name or purl; pkg:openssl version < 3.0.13), license, cve, fixable — the impact page groups what they find. Combine with spaces, OR, NOT, -, ( )."</p>
                <p class="muted small">"Or paste what a pull command names: a digest, repo:tag, registry/repo:tag or repo@sha256:…; a single match opens its page."</p>
            </aside>
            <div class="results">
                <Suspense fallback=|| view! { <p class="loading">"Searching…"</p> }>
                    {move || Suspend::new(async move {
                        match results.await {
                            Ok(found) => view! { <ResultList found sort=sort()/> }.into_any(),
                            Err(AppError::InvalidQuery { message, position }) => view! { <QueryErrorView query=text() message position/> }.into_any(),
                            Err(error) => view! { <ErrorView error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </div>
    }
}

#[component]
pub(crate) fn QueryErrorView(query: String, message: String, position: usize) -> impl IntoView {
    crate::error::set_page_status(&AppError::InvalidQuery { message: message.clone(), position });
    let before: String = query.chars().take(position).collect();
    let rest: String = query.chars().skip(position).collect();
    view! {
        <div class="error-box query-error" role="alert">
            <h2>"This query is not valid"</h2>
            <pre class="query-echo"><span>{before}</span><mark>{if rest.is_empty() { " ".to_string() } else { rest }}</mark></pre>
            <p>{message}</p>
        </div>
    }
}

#[component]
fn ResultList(found: Results, sort: String) -> impl IntoView {
    let pages = found.total.div_ceil(found.per_page as u64).max(1) as usize;
    let facet_link = {
        let (query, sort) = (found.query.clone(), sort.clone());
        move |field: &str, value: &str| {
            let narrowed = format!("{query} {field}:\"{}\"", value.replace('"', ""));
            format!("/search?q={}&sort={sort}", encode(narrowed.trim()))
        }
    };
    if let Some(path) = found.go_to.clone() {
        return view! { <leptos_router::components::Redirect path/> }.into_any();
    }
    if found.hits.is_empty() {
        return view! { <EmptyState title="Nothing matches".to_string() hint="Loosen the query, or try one of the examples.".to_string()/> }.into_any();
    }
    let delete_href = plan_search_href(&found.query);
    let attach_href = attach_search_href(&found.query);
    let delete_text = if found.total == 1 {
        "Delete this 1 result…".to_owned()
    } else {
        format!("Delete these {} results…", found.total)
    };
    let deletable = !found.query.trim().is_empty();
    // Copies start from one repository: offered when every result is in one.
    let single = |field: &str| {
        found.facets.iter().find(|group| group.field == field).and_then(|group| match group.values.as_slice() {
            [(value, _)] => Some(value.clone()),
            _ => None,
        })
    };
    let copy_results = match (deletable, single("registry"), single("repo")) {
        (true, Some(registry), Some(repository)) => {
            Some(copy_href(&registry, &repository, None, None, Some(&found.query)))
        }
        _ => None,
    };
    view! {
        <div class="result-head">
            <p class="muted" data-testid="result-count">{format!("{} artifact{}", found.total, if found.total == 1 { "" } else { "s" })}</p>
            {copy_results.map(|href| view! {
                <IfCanCopy><a id="copy-results" class="button" href=href.clone()>"Copy results to…"</a></IfCanCopy>
            })}
            {deletable.then(|| view! {
                <IfCanCopy><a id="attach-results" class="button" href=attach_href.clone()>"Mark end of life…"</a></IfCanCopy>
            })}
            {deletable.then(|| view! {
                <IfCanDelete><a id="delete-results" class="button danger" href=delete_href.clone()>{delete_text.clone()}</a></IfCanDelete>
            })}
        </div>
        <div class="facet-groups">
            {found.facets.iter().filter(|group| group.values.len() > 1 || group.field == "kind").map(|group| view! {
                <nav class="facets" aria-label=format!("Narrow by {}", group.label.to_lowercase())>
                    <span class="facet-label muted small">{group.label.clone()}</span>
                    {group.values.iter().map(|(value, count)| {
                        let label = if group.field == "kind" {
                            view! { <KindIcon kind=value.clone()/> }.into_any()
                        } else {
                            view! { <span class="facet-value">{value.clone()}</span> }.into_any()
                        };
                        view! { <a class="facet" data-field=group.field.clone() data-value=value.clone() href=facet_link(&group.field, value)>{label}" "{*count}</a> }
                    }).collect_view()}
                </nav>
            }).collect_view()}
        </div>
        <ul class="hits">
            {found.hits.into_iter().map(|hit| view! { <HitCard hit/> }).collect_view()}
        </ul>
        <Pager path="/search".to_string() filter=found.query.clone() sort page=found.page pages/>
    }
    .into_any()
}

/// One result: kind, name, registry, title and facts, linking to the artifact page.
#[component]
pub(crate) fn HitCard(hit: SearchHit) -> impl IntoView {
    let href = format!("/r/{}/{}/@{}", hit.registry, hit.repository, hit.digest);
    let name = match hit.tags.first() {
        Some(tag) => format!("{}:{tag}", hit.repository),
        None => format!("{}@{}", hit.repository, crate::model::short_digest(&hit.digest)),
    };
    let subject = hit.subject.clone().map(|subject| {
        let link = format!("/r/{}/{}/@{subject}", hit.registry, hit.repository);
        view! { <p class="hit-subject small">"for "<a class="mono" href=link>{crate::model::short_digest(&subject)}</a></p> }
    });
    // The name already shows the digest of an untagged artifact.
    let digest = (!hit.tags.is_empty()).then(|| view! { <ShortDigest digest=hit.digest.clone()/>" · " });
    view! {
        <li class="hit card">
            <div class="hit-top">
                <KindIcon kind=hit.kind.clone()/>
                <a class="hit-name mono" href=href>{name}</a>
                <span class="muted small">{hit.registry.clone()}</span>
                <BadgeList badges=hit.badges.clone()/>
            </div>
            {hit.title.clone().map(|title| view! { <p class="hit-title">{title}</p> })}
            {subject}
            <p class="hit-meta muted small">
                {digest}{hit.artifact_type.clone()}" · "{human_size(hit.size)}
                {(!hit.platforms.is_empty()).then(|| format!(" · {}", hit.platforms.join(", ")))}
                " · created "<DateText value=hit.created.clone()/>
            </p>
        </li>
    }
}
