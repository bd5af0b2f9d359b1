//! A registry's repositories: server-side filter, sort and paging, all in the URL.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::list_repositories;
use crate::components::{DateText, EmptyState, ErrorView, StatePill};
use crate::model::{RepositoryList, human_size};

/// Lists the repositories of the registry named in the URL.
#[component]
pub fn RegistryPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let registry = move || params.read().get("registry").unwrap_or_default();
    let filter = move || query.read().get("q").unwrap_or_default();
    let sort = move || query.read().get("sort").unwrap_or_else(|| "name".into());
    let page = move || query.read().get("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(0);
    let listing = Resource::new(
        move || (registry(), filter(), sort(), page()),
        |(registry, filter, sort, page)| list_repositories(registry, filter, sort, page),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading repositories…"</p> }>
            {move || Suspend::new(async move {
                match listing.await {
                    Ok(list) => view! { <RepositoryTable list filter=filter() sort=sort()/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn RepositoryTable(list: RepositoryList, filter: String, sort: String) -> impl IntoView {
    let registry = list.registry.name.clone();
    let pages = list.total.div_ceil(list.per_page as u64).max(1) as usize;
    let page_link = {
        let (registry, filter, sort) = (registry.clone(), filter.clone(), sort.clone());
        move |page: usize| format!("/r/{registry}?q={}&sort={sort}&page={page}", encode(&filter))
    };
    let previous = (list.page > 0).then(|| page_link(list.page - 1));
    let next = (list.page + 1 < pages).then(|| page_link(list.page + 1));
    let rows = list.rows.clone();
    let empty = rows.is_empty();
    view! {
        <nav class="crumbs" aria-label="Breadcrumb"><a href="/">"Registries"</a><span>"/"</span><span>{registry.clone()}</span></nav>
        <section class="page-head">
            <h1>{registry.clone()} " " <StatePill state=list.registry.state.clone()/></h1>
            <p class="muted mono">{list.registry.host.clone()} " · " {list.total} " repositories"</p>
            {list.registry.last_error.clone().map(|error| view! { <p class="card-error" role="status">"Last crawl error: " {error}</p> })}
        </section>
        <form class="toolbar" method="get" action=format!("/r/{registry}")>
            <label class="visually-hidden" for="repo-filter">"Filter repositories"</label>
            <input id="repo-filter" type="search" name="q" value=filter.clone() placeholder="Filter repositories…" autocomplete="off"/>
            <label class="visually-hidden" for="repo-sort">"Sort"</label>
            <select id="repo-sort" name="sort">
                <option value="name" selected=sort == "name">"Name"</option>
                <option value="pushed" selected=sort == "pushed">"Last push"</option>
                <option value="tags" selected=sort == "tags">"Tag count"</option>
            </select>
            <button type="submit">"Apply"</button>
        </form>
        {if empty {
            view! { <EmptyState title="No repositories".to_string() hint=if filter.is_empty() { "The crawler has not found any repository in this registry yet.".to_string() } else { format!("Nothing matches “{filter}”.") }/> }.into_any()
        } else {
            view! {
                <table class="table">
                    <thead><tr><th>"Repository"</th><th class="num">"Tags"</th><th class="num">"Artifacts"</th><th class="num">"Size"</th><th>"Last push"</th></tr></thead>
                    <tbody>
                        {rows.into_iter().map(|row| {
                            let href = format!("/r/{}/{}", registry, row.name);
                            view! {
                                <tr>
                                    <td><a class="repo-link" href=href>{row.name.clone()}</a></td>
                                    <td class="num">{row.tag_count}</td>
                                    <td class="num">{row.artifact_count}</td>
                                    <td class="num">{human_size(row.size)}</td>
                                    <td><DateText value=row.last_push.clone()/></td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any()
        }}
        <nav class="pager" aria-label="Pages">
            {previous.map(|href| view! { <a href=href rel="prev">"← Previous"</a> })}
            <span class="muted">{format!("Page {} of {}", list.page + 1, pages)}</span>
            {next.map(|href| view! { <a href=href rel="next">"Next →"</a> })}
        </nav>
    }
}

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}
