//! What every document viewer shares: the address of a viewer state (layer, filter, sort,
//! page), a fact line, and the pager.

use leptos::prelude::*;

use crate::model::ContentQuery;
use crate::toolbar::{encode, page_links};

/// `path?layer=…&q=…` for a viewer state (empty fields left out).
pub(crate) fn viewer_link(path: &str, query: &ContentQuery) -> String {
    let mut parts = Vec::new();
    if query.layer > 0 {
        parts.push(format!("layer={}", query.layer));
    }
    for (key, value) in
        [("q", &query.q), ("sort", &query.sort), ("severity", &query.severity), ("compare", &query.compare)]
    {
        if !value.is_empty() {
            parts.push(format!("{key}={}", encode(value)));
        }
    }
    if query.fixed {
        parts.push("fixed=1".into());
    }
    if query.page > 0 {
        parts.push(format!("page={}", query.page));
    }
    if parts.is_empty() { path.to_owned() } else { format!("{path}?{}", parts.join("&")) }
}

/// A `dt`/`dd` pair when there is a value.
pub(crate) fn fact(label: &'static str, value: Option<String>) -> Option<impl IntoView> {
    value
        .filter(|value| !value.is_empty())
        .map(|value| view! { <div><dt>{label}</dt><dd class="break"><bdi>{value}</bdi></dd></div> })
}

/// Previous / next links keeping the rest of the viewer state.
#[component]
pub(crate) fn ViewerPager(path: String, query: ContentQuery, page: usize, pages: usize) -> impl IntoView {
    page_links(page, pages, |page| viewer_link(&path, &ContentQuery { page, ..query.clone() }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn viewer_links_keep_only_what_is_set() {
        let path = "/r/local/demo/app/@sha256:00";
        assert_eq!(viewer_link(path, &ContentQuery::default()), path);
        let query = ContentQuery {
            layer: 1,
            q: "a b&c".into(),
            severity: "high".into(),
            fixed: true,
            page: 2,
            ..ContentQuery::default()
        };
        assert_eq!(viewer_link(path, &query), format!("{path}?layer=1&q=a%20b%26c&severity=high&fixed=1&page=2"));
    }
}
