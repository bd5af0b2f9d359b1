//! Addresses the pages link to that carry user text: query values percent-encoded, so a
//! repository, tag or search reaches the page it names and nothing else.

/// Percent-encodes a query value (slashes kept, they are common in repository names).
pub fn encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

/// The OCI layout download (`GET /api/v1/exports/layout.tar`) of an artifact with its graph,
/// named in the layout by `tag` when it has one.
pub fn layout_download_href(registry: &str, repository: &str, digest: &str, tag: Option<&str>) -> String {
    let mut href = format!(
        "/api/v1/exports/layout.tar?registry={}&repository={}&digest={}",
        encode(registry),
        encode(repository),
        encode(digest)
    );
    if let Some(tag) = tag {
        href.push_str(&format!("&tag={}", encode(tag)));
    }
    href
}

/// The copy page of an artifact (`digest`, with the `tag` to set), or of what `query` finds in
/// a repository, or of a whole repository (neither).
pub fn copy_href(
    registry: &str,
    repository: &str,
    digest: Option<&str>,
    tag: Option<&str>,
    query: Option<&str>,
) -> String {
    let mut href = format!("/copy?registry={}&repository={}", encode(registry), encode(repository));
    for (key, value) in [("digest", digest), ("tag", tag), ("query", query)] {
        if let Some(value) = value {
            href.push_str(&format!("&{key}={}", encode(value)));
        }
    }
    href
}

/// The plan page of one artifact (by tag or digest).
pub fn plan_href(registry: &str, repository: &str, reference: &str) -> String {
    format!("/delete?registry={}&repository={}&reference={}", encode(registry), encode(repository), encode(reference))
}

/// The plan page of everything a search finds.
pub fn plan_search_href(query: &str) -> String {
    format!("/delete?q={}", encode(query))
}

/// The impact page of `query` (`latest`: the newest build of each repository alone).
pub fn impact_href(query: &str, latest: bool, page: usize) -> String {
    impact_sorted_href(query, latest, super::ImpactSort::default(), page)
}

/// The impact page of `query` with its repositories in `sort` order.
pub fn impact_sorted_href(query: &str, latest: bool, sort: super::ImpactSort, page: usize) -> String {
    let latest = if latest { "&latest=true" } else { "" };
    let sort = if sort == super::ImpactSort::default() { String::new() } else { format!("&sort={}", sort.as_str()) };
    let page = if page > 0 { format!("&page={page}") } else { String::new() };
    format!("/impact?q={}{latest}{sort}{page}", encode(query))
}

/// The page that marks the end of life of everything `query` finds.
pub fn attach_search_href(query: &str) -> String {
    format!("/attach?q={}", encode(query))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_encoded_but_slashes_kept() {
        assert_eq!(encode("demo/app x&y=z"), "demo/app%20x%26y%3Dz");
        assert_eq!(plan_href("local", "demo/app", "1.0"), "/delete?registry=local&repository=demo/app&reference=1.0");
        assert_eq!(plan_search_href("eol < today"), "/delete?q=eol%20%3C%20today");
    }
}
