//! A registry's repositories: server-side filter (as you type), sort and paging, all in the URL.

use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

use crate::api::{check_registry, list_repositories};
use crate::components::{DateText, EmptyState, ErrorView, StatePill};
use crate::model::{RepositoryList, human_size};
use crate::routes::account::IfCanCopy;
use crate::toolbar::{FilterBar, Pager};

const SORTS: &[(&str, &str)] = &[("name", "Name"), ("pushed", "Last push"), ("tags", "Tag count")];

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
    let known = Resource::new(registry, check_registry);
    view! {
        <nav class="crumbs" aria-label="Breadcrumb"><a href="/">"Registries"</a><span>"/"</span><span>{registry}</span></nav>
        <Transition fallback=|| view! { <p class="loading">"Loading repositories…"</p> }>
            {move || Suspend::new(async move {
                match listing.await {
                    Ok(list) => view! { <RegistryHead list/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Transition>
        // The filter only for a registry that exists: this resource follows the registry name
        // alone, so it does not refetch (and the box keeps focus) while typing.
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                known.await.ok().map(|_| view! {
                    <FilterBar path=format!("/r/{}", registry()) id="repo-filter" placeholder="Filter repositories…" sorts=SORTS/>
                })
            })}
        </Suspense>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                listing.await.ok().map(|list| view! { <RepositoryTable list filter=filter() sort=sort()/> })
            })}
        </Transition>
    }
}

#[component]
fn RegistryHead(list: RepositoryList) -> impl IntoView {
    let writable = !list.registry.host.starts_with(crate::model::LAYOUT_LOCATION);
    let import = format!("/import?registry={}", crate::model::encode(&list.registry.name));
    view! {
        <section class="page-head">
            <h1>{list.registry.name.clone()} " " <StatePill state=list.registry.state.clone()/></h1>
            <p class="muted mono">{list.registry.host.clone()} " · " {list.registry.repositories} " repositories"</p>
            {list.registry.last_error.clone().map(|error| view! { <p class="card-error" role="status">"Last crawl error: " {error}</p> })}
            {writable.then(|| view! {
                <IfCanCopy>
                    <p class="page-actions"><a class="button" id="import-layout" href=import.clone()>"Import an OCI layout…"</a></p>
                </IfCanCopy>
            })}
        </section>
    }
}

#[component]
fn RepositoryTable(list: RepositoryList, filter: String, sort: String) -> impl IntoView {
    let registry = list.registry.name.clone();
    let pages = list.total.div_ceil(list.per_page as u64).max(1) as usize;
    let rows = list.rows.clone();
    let count = if filter.is_empty() {
        format!("{} repositories", list.total)
    } else {
        format!("{} repositories match", list.total)
    };
    let table = if rows.is_empty() {
        let hint = if filter.is_empty() {
            "The crawler has not found any repository in this registry yet.".to_string()
        } else {
            format!("Nothing matches “{filter}”. Clear the filter to see every repository.")
        };
        view! { <EmptyState title="No repositories".to_string() hint/> }.into_any()
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
                                <td class="num" data-label="Tags">{row.tag_count}</td>
                                <td class="num" data-label="Artifacts">{row.artifact_count}</td>
                                <td class="num" data-label="Size">{human_size(row.size)}</td>
                                <td data-label="Last push"><DateText value=row.last_push.clone()/></td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        }.into_any()
    };
    view! {
        <p class="muted small" data-testid="repository-count">{count}</p>
        {table}
        <Pager path=format!("/r/{}", list.registry.name) filter sort page=list.page pages/>
    }
}
