//! Impact (`/impact?q=…`): which artifacts contain a package or carry an advisory, according to
//! every attached SBOM and scan, grouped by registry and repository: tags, build date, what
//! matched (installed and fixed versions), which documents say so, signature and end of life;
//! "latest tag only" asks whether each repository's newest build is still affected; CSV and
//! JSON exports of the same.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::{BadgeList, DateText, DigestLink, EmptyState, ErrorView};
use crate::error::AppError;
use crate::model::{
    ImpactMatch, ImpactRow, ImpactSort, ImpactView, encode, impact_href, impact_sorted_href, short_date,
};
use crate::routes::search::QueryErrorView;
use crate::toolbar::page_links;

const EXAMPLES: [(&str, &str); 4] = [
    ("cve:CVE-2024-3094", "where an advisory is reported"),
    ("pkg:openssl version < 3.0.13", "an old package version"),
    ("license:GPL-3.0*", "a licence"),
    ("fixable:true vulns.critical > 0", "critical findings with a fix"),
];

/// Which artifacts `q` finds, with what their SBOMs and scans say.
#[server]
pub async fn get_impact(q: String, latest: bool, sort: String, page: usize) -> Result<ImpactView, AppError> {
    use crate::shim::*;
    service()?.impact(&principal(), q, latest, &sort, page).await
}

/// The impact page.
#[component]
pub fn ImpactPage() -> impl IntoView {
    let query = use_query_map();
    let text = move || query.read().get("q").unwrap_or_default();
    let latest = move || query.read().get("latest").is_some_and(|value| value == "true");
    let page = move || query.read().get("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(0);
    let sort = move || query.read().get("sort").unwrap_or_default();
    let found = Resource::new(
        move || (text(), latest(), sort(), page()),
        |(text, latest, sort, page)| async move {
            if text.trim().is_empty() { Ok(None) } else { get_impact(text, latest, sort, page).await.map(Some) }
        },
    );
    view! {
        <section class="page-head">
            <h1>"Impact"</h1>
            <p class="lead">"Which of our artifacts contain a package or carry an advisory — from every SBOM and scan attached to them, whoever made it."</p>
        </section>
        <form class="toolbar search-form" method="get" action="/impact" role="search">
            <label class="visually-hidden" for="impact-box">"Query"</label>
            <input id="impact-box" type="search" name="q" prop:value=text placeholder="cve:CVE-2024-3094, pkg:openssl version < 3.0.13" autocomplete="off"/>
            <label class="check"><input id="impact-latest" type="checkbox" name="latest" value="true" prop:checked=latest/>" Latest tag only"</label>
            {move || (!sort().is_empty()).then(|| view! { <input type="hidden" name="sort" value=sort()/> })}
            <button type="submit">"Show impact"</button>
        </form>
        <Suspense fallback=|| view! { <p class="loading">"Reading SBOMs and scans…"</p> }>
            {move || Suspend::new(async move {
                match found.await {
                    Ok(None) => view! {
                        <section class="panel help">
                            <h2>"Try"</h2>
                            <ul class="examples">
                                {EXAMPLES.iter().map(|(example, what)| view! {
                                    <li><a href=impact_href(example, false, 0)><code>{*example}</code></a><span class="muted small">{*what}</span></li>
                                }).collect_view()}
                            </ul>
                            <p class="muted small">"pkg: a package name (* globs) or purl; version compares it in its own ecosystem's order (Debian, RPM, apk, PEP 440, semver, Maven); cve: an advisory id (CVE, GHSA, …); license: an SPDX id; fixable: true or false. Any search clause may stand beside them: repo:prod/* NOT eol < today."</p>
                        </section>
                    }.into_any(),
                    Ok(Some(view)) => view! { <ImpactResults view/> }.into_any(),
                    Err(AppError::InvalidQuery { message, position }) => view! { <QueryErrorView query=text() message position/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ImpactResults(view: ImpactView) -> impl IntoView {
    if view.artifacts == 0 {
        return view! { <EmptyState title="Nothing affected".to_string() hint="No SBOM or scan you may read says so.".to_string()/> }.into_any();
    }
    let plural = |count: u64, one: &str, many: &str| format!("{count} {}", if count == 1 { one } else { many });
    let pages = (view.repositories as usize).div_ceil(view.per_page).max(1);
    let (query, latest, sort) = (view.query.clone(), view.latest_only, view.sort);
    let options = format!("{}&sort={}", if latest { "&latest=true" } else { "" }, sort.as_str());
    let csv = format!("/api/v1/impact?q={}&format=csv{options}", encode(&query));
    let json = format!("/api/v1/impact?q={}{options}", encode(&query));
    let orders = {
        let query = query.clone();
        view! {
            <nav class="sort-links" aria-label="Order of repositories" id="impact-sort">
                <span class="muted small">"Order: "</span>
                {ImpactSort::ALL.into_iter().map(|order| {
                    let current = (order == sort).then_some("page");
                    view! { <a href=impact_sorted_href(&query, latest, order, 0) aria-current=current data-sort=order.as_str()>{order.label()}</a> }
                }).collect_view()}
            </nav>
        }
    };
    view! {
        <div class="result-head">
            <p id="impact-counts" data-testid="impact-counts">{format!("{} in {} of {}{}",
                plural(view.artifacts, "artifact", "artifacts"), plural(view.repositories, "repository", "repositories"),
                plural(view.registries, "registry", "registries"), if latest { " (newest build of each)" } else { "" })}</p>
            {orders}
            <span class="page-actions">
                <a id="impact-csv" class="button" href=csv rel="external" download="impact.csv">"CSV"</a>
                <a class="button" href=json rel="external">"JSON"</a>
            </span>
        </div>
        {view.truncated.then(|| view! { <p class="card-note">"The query finds more than 2,000 artifacts; these are the first. Narrow it (repo:, registry:, created >)."</p> })}
        {view.groups.into_iter().map(|group| {
            let base = format!("/r/{}/{}", group.registry, group.repository);
            view! {
                <section class="panel impact-group">
                    <h2><a href=base.clone()><span class="muted">{format!("{}/", group.registry)}</span>{group.repository.clone()}</a></h2>
                    <table class="table impact">
                        <thead><tr><th>"Artifact"</th><th>"Built"</th><th>"What matches"</th><th>"Said by"</th><th>"Badges"</th></tr></thead>
                        <tbody>{group.rows.into_iter().map(|row| view! { <ImpactRowView row base=base.clone()/> }).collect_view()}</tbody>
                    </table>
                </section>
            }
        }).collect_view()}
        {page_links(view.page, pages, move |page| impact_sorted_href(&query, latest, sort, page))}
    }.into_any()
}

#[component]
fn ImpactRowView(row: ImpactRow, base: String) -> impl IntoView {
    let label = if row.tags.is_empty() { crate::model::short_digest(&row.digest) } else { row.tags.join(", ") };
    view! {
        <tr data-digest=row.digest.clone()>
            <td><a class="tag-link" href=format!("{base}/@{}", row.digest)>{label}</a>
                {row.latest.then(|| view! { " " <span class="badge">"latest"</span> })}
                <br/><span class="muted small">{row.kind.clone()}</span></td>
            <td data-label="Built"><DateText value=row.created.clone()/></td>
            <td data-label="What matches"><ul class="impact-matches">{row.matches.iter().cloned().map(|found| view! { <li><MatchText found/></li> }).collect_view()}</ul></td>
            <td data-label="Said by"><ul class="impact-sources">{row.matches.iter().flat_map(|found| found.sources.clone()).fold(Vec::new(), |mut seen: Vec<crate::model::ImpactSource>, source| { if !seen.iter().any(|known| known.digest == source.digest) { seen.push(source); } seen }).into_iter().map(|source| view! {
                <li><DigestLink href=format!("{base}/@{}", source.digest) digest=source.digest.clone()/>" "
                    <span class="small">{source.kind.clone()}{source.producer.clone().map(|producer| format!(" · {producer}"))}{source.created.as_deref().map(|date| format!(" · {}", short_date(date)))}</span></li>
            }).collect_view()}</ul></td>
            <td data-label="Badges"><BadgeList badges=row.badges.clone()/></td>
        </tr>
    }
}

#[component]
fn MatchText(found: ImpactMatch) -> impl IntoView {
    let version = found.version.clone().map(|version| format!(" {version}")).unwrap_or_default();
    view! {
        {found.advisory.clone().map(|advisory| view! {
            <a class="mono" href=impact_href(&format!("cve:{advisory}"), false, 0)>{advisory.clone()}</a>
            {found.severity.clone().map(|severity| view! { " " <span class=format!("severity-tag severity-{severity}")>{severity.clone()}</span> })}
            " in "
        })}
        <a class="mono" href=impact_href(&format!("pkg:\"{}\"", found.package.replace('"', "")), false, 0)>{found.package.clone()}</a>
        <span class="mono">{version}</span>
        {found.ecosystem.clone().map(|ecosystem| view! { " " <span class="muted small">{format!("({ecosystem})")}</span> })}
        {found.advisory.is_some().then(|| match found.fixed.clone() {
            Some(fixed) => view! { " → " <span class="fixed">{format!("fixed in {fixed}")}</span> }.into_any(),
            None => view! { " " <span class="muted small">"no fix yet"</span> }.into_any(),
        })}
    }
}
