//! A repository: its pull command and counts, then its version tags a page at a time — kind,
//! digest, platforms, size, date and badges — filtered as you type and sorted (newest, name,
//! semver) by the catalog, all in the URL. Referrer plumbing (fallback and cosign tags) shows
//! as badges on the tag it describes, never as a row.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::{get_repository, list_tags};
use crate::components::{BadgeList, CopyButton, DateText, EmptyState, ErrorView, KindIcon, ShortDigest};
use crate::model::{RepositoryView, TagList, copy_href, human_size, pull_command};
use crate::routes::account::IfCanCopy;
use crate::toolbar::{FilterBar, Pager, encode};

const SORTS: &[(&str, &str)] = &[("newest", "Newest first"), ("semver", "Version"), ("name", "Name")];

/// The repository page for `registry` and `repository`.
#[component]
pub fn RepositoryPage(registry: String, repository: String) -> impl IntoView {
    let query = use_query_map();
    let filter = move || query.read().get("q").unwrap_or_default();
    let sort = move || query.read().get("sort").unwrap_or_else(|| "newest".into());
    let page = move || query.read().get("page").and_then(|p| p.parse::<usize>().ok()).unwrap_or(0);
    let names = StoredValue::new((registry.clone(), repository.clone()));
    let header =
        Resource::new(move || names.get_value(), |(registry, repository)| get_repository(registry, repository));
    let tags = Resource::new(
        move || (names.get_value(), filter(), sort(), page()),
        |((registry, repository), filter, sort, page)| list_tags(registry, repository, filter, sort, page),
    );
    let path = format!("/r/{registry}/{repository}");
    let filter_path = path.clone();
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href="/">"Registries"</a><span>"/"</span>
            <a href=format!("/r/{registry}")>{registry.clone()}</a><span>"/"</span>
            <span>{repository.clone()}</span>
        </nav>
        <Suspense fallback=|| view! { <p class="loading">"Loading repository…"</p> }>
            {move || Suspend::new(async move {
                match header.await {
                    Ok(data) => view! { <RepositoryHead data/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Suspense>
        // The filter only for a repository that exists; its resource never refetches while
        // typing, so the box keeps focus.
        <Suspense fallback=|| ()>
            {
                let path = filter_path;
                move || {
                    let path = path.clone();
                    Suspend::new(async move {
                        header.await.ok().map(|_| view! { <FilterBar path id="tag-filter" placeholder="Filter tags…" sorts=SORTS/> })
                    })
                }
            }
        </Suspense>
        <Transition fallback=|| view! { <p class="loading">"Loading tags…"</p> }>
            {move || {
                let path = path.clone();
                Suspend::new(async move {
                    // An unknown repository already says so in the header.
                    match (header.await, tags.await) {
                        (Ok(_), Ok(list)) => view! { <TagTable list path filter=filter() sort=sort()/> }.into_any(),
                        (Ok(_), Err(error)) => view! { <ErrorView error/> }.into_any(),
                        (Err(_), _) => ().into_any(),
                    }
                })
            }}
        </Transition>
    }
}

#[component]
fn RepositoryHead(data: RepositoryView) -> impl IntoView {
    let pull = pull_command(&data.host, &data.repository, ":<tag>");
    let untagged = format!(
        "/search?q={}",
        encode(&format!("registry:\"{}\" repo:\"{}\" NOT tag:*", data.registry, data.repository))
    );
    view! {
        <section class="page-head">
            <h1 class="mono">{data.repository.clone()}</h1>
            <p class="muted">
                {format!("{} tags · {} manifests including referrers · {}", data.tag_count, data.artifact_count, human_size(data.size))}
                " · last push " <DateText value=data.last_push.clone()/>
                " · " <a href=untagged>"untagged manifests"</a>
            </p>
            <p class="pull"><span class="muted">"Pull "</span><code>{pull.clone()}</code><CopyButton text=pull label="Copy pull command"/></p>
            <IfCanCopy>
                <p class="page-actions"><a class="button" id="copy-repository" href=copy_href(&data.registry, &data.repository, None, None, None)
                    title="Every tagged artifact of this repository, each with its tags and everything attached">"Copy repository to…"</a></p>
            </IfCanCopy>
        </section>
        {(!data.incomplete.is_empty()).then(|| view! {
            <section class="warning-box" id="crawl-incomplete" aria-labelledby="crawl-incomplete-title">
                <h2 id="crawl-incomplete-title">"The latest crawl did not see everything here"</h2>
                <ul>{data.incomplete.iter().map(|reason| view! { <li>{reason.clone()}</li> }).collect_view()}</ul>
                <p>"What ocicat last verified is still shown. Deletes in this repository wait for a complete crawl."</p>
            </section>
        })}
    }
}

#[component]
fn TagTable(list: TagList, path: String, filter: String, sort: String) -> impl IntoView {
    let pages = list.total.div_ceil(list.per_page as u64).max(1) as usize;
    let count = if filter.is_empty() { format!("{} tags", list.total) } else { format!("{} tags match", list.total) };
    let table = if list.rows.is_empty() {
        let hint = if filter.is_empty() {
            "This repository has no version tags; its manifests are reachable from the untagged list.".to_string()
        } else {
            format!("No tag contains “{filter}”. Clear the filter to see every tag.")
        };
        view! { <EmptyState title="No matching tags".to_string() hint/> }.into_any()
    } else {
        let rows = list.rows.clone();
        let base = path.clone();
        view! {
            <table class="table tags">
                <thead><tr><th>"Tag"</th><th>"Kind"</th><th>"Digest"</th><th>"Platforms"</th><th class="num">"Size"</th><th>"Created"</th><th>"Attached"</th></tr></thead>
                <tbody>
                    {rows.into_iter().map(|row| view! {
                        <tr>
                            <td>
                                <a class="tag-link" href=format!("{base}/@{}", row.digest)>
                                    {row.tag.clone().unwrap_or_else(|| "untagged".into())}
                                </a>
                            </td>
                            <td><KindIcon kind=row.kind.clone()/></td>
                            <td><ShortDigest digest=row.digest.clone()/></td>
                            <td class="platforms">{row.platforms.join(", ")}</td>
                            <td class="num" data-label="Size">{human_size(row.size)}</td>
                            <td data-label="Created"><DateText value=row.created.clone()/></td>
                            <td><BadgeList badges=row.badges.clone()/></td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        }.into_any()
    };
    view! {
        <p class="muted small" data-testid="tag-count">{count}</p>
        {table}
        <Pager path filter sort page=list.page pages/>
    }
}
