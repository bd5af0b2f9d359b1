//! A repository's tags: kind, digest, platforms, size, date and badges, with a filter and a sort
//! that react as you type (the page's interactive part, hydrated in the browser).

use leptos::prelude::*;

use crate::api::get_repository;
use crate::components::{BadgeList, DateText, EmptyState, ErrorView, KindIcon, ShortDigest};
use crate::model::{RepositoryView, TagRow, human_size};

/// The repository page for `registry` and `repository`.
#[component]
pub fn RepositoryPage(registry: String, repository: String) -> impl IntoView {
    let view_data = Resource::new(
        move || (registry.clone(), repository.clone()),
        |(registry, repository)| get_repository(registry, repository),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading tags…"</p> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Ok(data) => view! { <TagTable data/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

fn matches(row: &TagRow, needle: &str) -> bool {
    needle.is_empty()
        || row.tag.as_deref().unwrap_or("untagged").to_lowercase().contains(needle)
        || row.digest.contains(needle)
        || row.kind.contains(needle)
}

#[component]
fn TagTable(data: RepositoryView) -> impl IntoView {
    let (filter, set_filter) = signal(String::new());
    let (sort, set_sort) = signal("newest".to_string());
    let all_rows = StoredValue::new(data.tags.clone());
    let total = data.tags.len();
    let visible = move || {
        let needle = filter.get().trim().to_lowercase();
        let mut rows: Vec<TagRow> =
            all_rows.with_value(|rows| rows.iter().filter(|row| matches(row, &needle)).cloned().collect());
        if sort.get() == "name" {
            rows.sort_by(|a, b| a.tag.cmp(&b.tag));
        }
        rows
    };
    let shown = move || visible().len();
    let registry = data.registry.clone();
    let repository = data.repository.clone();
    let base = StoredValue::new(format!("/r/{registry}/{repository}"));
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href="/">"Registries"</a><span>"/"</span>
            <a href=format!("/r/{registry}")>{registry.clone()}</a><span>"/"</span>
            <span>{repository.clone()}</span>
        </nav>
        <section class="page-head">
            <h1 class="mono">{repository.clone()}</h1>
            <p class="muted">{format!("{total} tags · {} manifests including referrers", data.artifact_count)}</p>
            <p class="pull"><span class="muted">"Pull "</span><code class="copyable">{format!("docker pull {}/{}:<tag>", data.host, repository)}</code></p>
        </section>
        <div class="toolbar">
            <label class="visually-hidden" for="tag-filter">"Filter tags"</label>
            <input id="tag-filter" type="search" placeholder="Filter tags, digests, kinds…" autocomplete="off"
                prop:value=move || filter.get()
                on:input=move |event| set_filter.set(event_target_value(&event))/>
            <label class="visually-hidden" for="tag-sort">"Sort tags"</label>
            <select id="tag-sort" on:change=move |event| set_sort.set(event_target_value(&event))>
                <option value="newest">"Newest first"</option>
                <option value="name">"Name"</option>
            </select>
            <span class="muted" data-testid="tag-count">{move || format!("{} of {total}", shown())}</span>
        </div>
        <Show when=move || { shown() > 0 } fallback=|| view! { <EmptyState title="No matching tags".to_string() hint="Clear the filter to see every tag.".to_string()/> }>
            <table class="table tags">
                <thead><tr><th>"Tag"</th><th>"Kind"</th><th>"Digest"</th><th>"Platforms"</th><th class="num">"Size"</th><th>"Created"</th><th>"Attached"</th></tr></thead>
                <tbody>
                    <For each=visible key=|row| (row.tag.clone(), row.digest.clone()) let:row>
                        <tr>
                            <td>
                                <a class="tag-link" href=format!("{}/@{}", base.get_value(), row.digest)>
                                    {row.tag.clone().unwrap_or_else(|| "untagged".into())}
                                </a>
                            </td>
                            <td><KindIcon kind=row.kind.clone()/></td>
                            <td><ShortDigest digest=row.digest.clone()/></td>
                            <td class="platforms">{row.platforms.join(", ")}</td>
                            <td class="num">{human_size(row.size)}</td>
                            <td><DateText value=row.created.clone()/></td>
                            <td><BadgeList badges=row.badges.clone()/></td>
                        </tr>
                    </For>
                </tbody>
            </table>
        </Show>
    }
}
