//! The filter-and-sort bar of the list pages. Without JavaScript it is a plain GET form; once
//! hydrated, typing or choosing a sort replaces the URL's query (page back to the first), and
//! the list, keyed on the URL, reloads from the server while the bar keeps focus.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

pub use crate::model::encode;

/// `?q=…&sort=…&page=…` for `path`.
pub fn list_link(path: &str, filter: &str, sort: &str, page: usize) -> String {
    format!("{path}?q={}&sort={}&page={page}", encode(filter), encode(sort))
}

/// A filter box and a sort menu for the list at `path`; `sorts` are (value, label) pairs, the
/// first being the default.
#[component]
pub fn FilterBar(
    path: String,
    id: &'static str,
    placeholder: &'static str,
    sorts: &'static [(&'static str, &'static str)],
) -> impl IntoView {
    let query = use_query_map();
    let filter = move || query.read().get("q").unwrap_or_default();
    let sort = move || query.read().get("sort").unwrap_or_else(|| sorts[0].0.to_owned());
    let navigate = use_navigate();
    let target = StoredValue::new(path.clone());
    let go = move |filter: String, sort: String| {
        let options = NavigateOptions { replace: true, scroll: false, ..NavigateOptions::default() };
        navigate(&list_link(&target.get_value(), &filter, &sort, 0), options);
    };
    let go_filter = go.clone();
    let sort_id = format!("{id}-sort");
    view! {
        <form class="toolbar" method="get" action=path role="search">
            <label class="visually-hidden" for=id>{placeholder}</label>
            <input id=id type="search" name="q" placeholder=placeholder autocomplete="off" spellcheck="false"
                prop:value=filter
                on:input=move |event| go_filter(event_target_value(&event), sort())/>
            <label class="visually-hidden" for=sort_id.clone()>"Sort"</label>
            <select id=sort_id name="sort" on:change=move |event| go(filter(), event_target_value(&event))>
                {sorts.iter().map(|(value, label)| view! {
                    <option value=*value selected=move || sort() == *value>{*label}</option>
                }).collect_view()}
            </select>
            <button type="submit" class="apply">"Apply"</button>
        </form>
    }
}

/// Previous / "Page n of m" / next links for a list at `path`.
#[component]
pub fn Pager(path: String, filter: String, sort: String, page: usize, pages: usize) -> impl IntoView {
    page_links(page, pages, |page| list_link(&path, &filter, &sort, page))
}

/// The pager's markup: `link(n)` is the address of page `n`; nothing when there is one page.
pub fn page_links(page: usize, pages: usize, link: impl Fn(usize) -> String) -> AnyView {
    let previous = (page > 0).then(|| link(page - 1));
    let next = (page + 1 < pages).then(|| link(page + 1));
    if previous.is_none() && next.is_none() {
        return ().into_any();
    }
    view! {
        <nav class="pager" aria-label="Pages">
            {previous.map(|href| view! { <a href=href rel="prev">"← Previous"</a> })}
            <span class="muted">{format!("Page {} of {}", page + 1, pages.max(1))}</span>
            {next.map(|href| view! { <a href=href rel="next">"Next →"</a> })}
        </nav>
    }
    .into_any()
}
