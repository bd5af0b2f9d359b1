//! S7–S8 for `Link` paging: loops and floods end at the cycle or the page cap, marked
//! truncated; links that leave the registry's origin are refused without being fetched.

use ocicat_oci::Listing;
use ocicat_testkit::{Reply, Script};

use super::*;

fn listing(items: &[&str], truncated: bool) -> Listing {
    Listing { items: items.iter().map(|item| (*item).to_owned()).collect(), truncated }
}

// S7 (control): relative links are followed to the end and nothing is marked truncated.
#[tokio::test]
async fn relative_next_links_are_followed_to_the_last_page() {
    let registry = FaultyRegistry::builder()
        .get("/v2/_catalog", Script::pages("/v2/_catalog", "repositories", 3))
        .get("/v2/x/tags/list", Script::pages("/v2/x/tags/list", "tags", 3))
        .start()
        .await
        .unwrap();
    let client = client_for(&registry);
    assert_eq!(client.catalog().await.unwrap(), listing(&["p0", "p1", "p2"], false));
    assert_eq!(client.tags("x").await.unwrap(), listing(&["p0", "p1", "p2"], false));
    assert_eq!(registry.count("/v2/_catalog"), 3);
}

// S7: a page whose next link is itself is read once and the listing is marked truncated.
#[tokio::test]
async fn a_page_linking_to_itself_is_read_once_and_marked_truncated() {
    let registry =
        FaultyRegistry::builder().get("/v2/_catalog", Script::self_linked_page("repositories")).start().await.unwrap();
    assert_eq!(client_for(&registry).catalog().await.unwrap(), listing(&["self"], true));
    assert_eq!(registry.count("/v2/_catalog"), 1);
}

// S7: an A→B→A cycle stops when it comes back and is marked truncated.
#[tokio::test]
async fn an_a_b_a_link_cycle_stops_and_is_marked_truncated() {
    let registry = FaultyRegistry::builder()
        .get("/v2/x/tags/list", Script::linked_pages("/v2/x/tags/list", "tags", |page| Some((page + 1) % 2)))
        .start()
        .await
        .unwrap();
    assert_eq!(client_for(&registry).tags("x").await.unwrap(), listing(&["p0", "p1"], true));
    let pages: Vec<String> = registry.requests().iter().map(|seen| seen.uri()).collect();
    assert_eq!(pages, ["/v2/x/tags/list?n=1000", "/v2/x/tags/list?page=1", "/v2/x/tags/list?page=0"]);
}

// S7: a million lazily generated pages stop at `Limits::list_pages`.
#[tokio::test]
async fn a_million_pages_stop_at_the_configured_page_cap() {
    let registry = FaultyRegistry::builder()
        .get("/v2/_catalog", Script::pages("/v2/_catalog", "repositories", 1_000_000))
        .start()
        .await
        .unwrap();
    let client = client_with(&registry.url(), |config| config.limits.list_pages = 25);
    let catalog = client.catalog().await.unwrap();
    assert!(catalog.truncated);
    assert_eq!(catalog.items.len(), 25);
    assert_eq!(registry.count("/v2/_catalog"), 25);
}

// S7: the default page cap is the 1,000 pages SECURITY.md asks for.
#[tokio::test]
async fn the_default_page_cap_is_one_thousand_pages() {
    let registry = FaultyRegistry::builder()
        .get("/v2/x/tags/list", Script::pages("/v2/x/tags/list", "tags", 1_000_000))
        .start()
        .await
        .unwrap();
    let tags = client_for(&registry).tags("x").await.unwrap();
    assert!(tags.truncated);
    assert_eq!(registry.count("/v2/x/tags/list"), 1000);
}

/// A registry whose first catalog and tags pages link to `target`.
async fn linking_to(target: &str) -> FaultyRegistry {
    FaultyRegistry::builder()
        .get("/v2/_catalog", Reply::json(serde_json::json!({"repositories": ["a"]})).next_link(target))
        .get("/v2/x/tags/list", Reply::json(serde_json::json!({"tags": ["a"]})).next_link(target))
        .start()
        .await
        .unwrap()
}

// S8: a next link to another host is refused, and that host is never asked.
#[tokio::test]
async fn a_next_link_to_another_host_is_refused() {
    for target in ["http://evil.invalid/v2/_catalog?last=a", "//evil.invalid/v2/_catalog?last=a"] {
        let registry = linking_to(target).await;
        let client = client_for(&registry);
        let error = client.catalog().await.unwrap_err();
        assert!(matches!(error, OciError::Refused { .. }), "{target}: {error}");
        assert!(matches!(client.tags("x").await, Err(OciError::Refused { .. })), "{target}");
        assert_eq!(registry.count(""), 2, "{target}: only the first pages were fetched");
    }
}

// S8: a next link to another port of the same loopback host is refused and never fetched.
#[tokio::test]
async fn a_next_link_to_another_port_is_refused_and_never_fetched() {
    let elsewhere = FaultyRegistry::builder()
        .get("/*", Reply::json(serde_json::json!({"repositories": ["stolen"], "tags": ["stolen"]})))
        .start()
        .await
        .unwrap();
    let registry = linking_to(&format!("{}/v2/_catalog?last=a", elsewhere.url())).await;
    let error = client_for(&registry).catalog().await.unwrap_err();
    assert!(matches!(error, OciError::Refused { .. }), "{error}");
    assert_eq!(elsewhere.connections(), 0);
}

// S8: a next link to the same host and port with another scheme (http → https here; https →
// http is the same origin check) is refused.
#[tokio::test]
async fn a_next_link_that_changes_the_scheme_is_refused() {
    let same_host_https = Script::dynamic(|seen| {
        let host = seen.header("host").unwrap_or_default();
        Reply::json(serde_json::json!({"tags": ["a"]})).next_link(&format!("https://{host}/v2/x/tags/list?last=a"))
    });
    let registry = FaultyRegistry::builder().get("/v2/x/tags/list", same_host_https).start().await.unwrap();
    let error = client_for(&registry).tags("x").await.unwrap_err();
    assert!(matches!(&error, OciError::Refused { target, .. } if target.starts_with("https://127.0.0.1:")), "{error}");
    assert_eq!(registry.count(""), 1);
}

// S7: a registry without `_catalog` gives Unsupported, not an empty list.
#[tokio::test]
async fn a_registry_without_catalog_is_unsupported_rather_than_empty() {
    let registry = FaultyRegistry::builder().start().await.unwrap();
    let error = client_for(&registry).catalog().await.unwrap_err();
    assert!(matches!(error, OciError::Unsupported { .. }), "{error}");
}

// S5, S7: a listing's pages are capped, and so are the names they add up to: a registry that
// sends thousands of names a page stops at the item cap, not after a thousand full pages.
#[tokio::test]
async fn a_flood_of_names_stops_at_the_item_cap() {
    let flood = Script::dynamic(|seen| {
        let page: u64 = seen.query_param("page").and_then(|page| page.parse().ok()).unwrap_or(0);
        let names: Vec<String> = (0..5_000).map(|n| format!("p{page}-{n}")).collect();
        Reply::json(serde_json::json!({ "name": "x", "tags": names }))
            .next_link(&format!("/v2/x/tags/list?page={}", page + 1))
    });
    let registry = FaultyRegistry::builder().get("/v2/x/tags/list", flood).start().await.unwrap();
    let client = client_with(&registry.url(), |config| config.limits.list_items = 12_000);
    let tags = client.tags("x").await.unwrap();
    assert!(tags.truncated);
    assert_eq!(tags.items.len(), 12_000);
    assert_eq!(registry.count("/v2/x/tags/list"), 3, "stopped at the page that reached the cap");
}
