//! The pages the load scenarios (P6, P7, P14b) visit: the synthetic catalog filled and the
//! list of its pages (repositories, artifacts and searches, more distinct searches than the
//! facet cache holds), how one page is loaded and checked, and the order clients visit them.

use std::sync::Arc;

use anyhow::{Context as _, bail};
use chrono::{DateTime, Utc};
use ocicat_catalog::CatalogWriter;
use ocicat_crawler::StatusBoard;

use super::index::ARTIFACTS_PER_REPOSITORY;
use super::synthetic::{Generator, NAMESPACES, SERVICES};

/// Different repositories (and their artifacts) the clients visit.
const VISITED_REPOSITORIES: usize = 100;

/// Words of the synthetic descriptions, for full-text searches.
const WORDS: [&str; 8] = ["alpine", "debian", "distroless", "ubuntu", "python", "java", "node", "go"];

/// Search pages loaded during the warm-up (the others are first loaded under load).
const WARMED_SEARCHES: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum PageKind {
    Search,
    Repository,
    Artifact,
}

impl PageKind {
    /// The kind's name in the summary.
    pub(crate) fn name(self) -> &'static str {
        match self {
            PageKind::Search => "search",
            PageKind::Repository => "repository",
            PageKind::Artifact => "artifact",
        }
    }
}

/// One page the clients load, and a text the page must contain.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    kind: PageKind,
    url: String,
    expect: String,
    /// The session cookie sent with it, when the server enforces access control.
    cookie: Option<Arc<str>>,
}

impl Page {
    /// This page at the server whose `http://host:port` is `base`.
    pub(crate) fn at(&self, base: &str) -> Page {
        Page { url: format!("{base}{}", self.url), ..self.clone() }
    }

    /// What kind of page it is.
    pub(crate) fn kind(&self) -> PageKind {
        self.kind
    }

    /// Where it is.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }

    /// This page loaded by a signed-in user whose session cookie is `cookie`.
    pub(crate) fn signed_in(&self, cookie: &Arc<str>) -> Page {
        Page { cookie: Some(cookie.clone()), ..self.clone() }
    }
}

/// The rows a page lists: result cards on a search page, table rows (less the header) on a
/// repository page; artifact pages have none.
fn rows_of(kind: PageKind, body: &str) -> usize {
    match kind {
        PageKind::Search => body.matches("class=\"hit card\"").count(),
        PageKind::Repository => body.matches("<tr").count().saturating_sub(1),
        PageKind::Artifact => 0,
    }
}

/// What one page load brought.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Loaded {
    /// The page's size.
    pub(crate) bytes: usize,
    /// Result cards (search) or tag rows (repository) on it.
    pub(crate) rows: usize,
    /// The bytes of those rows: their markup and their share of the hydration data (the rest
    /// is the page's chrome, which a page with more rows would not repeat).
    pub(crate) row_bytes: usize,
}

/// The bytes `body` spends on its rows: the list's markup (`<ul class="hits">`, `<tbody>`) and
/// the array of the same rows in the serialized resource the browser hydrates from.
fn row_bytes(kind: PageKind, body: &str) -> usize {
    let (open, close, key) = match kind {
        PageKind::Search => ("<ul class=\"hits\">", "</ul>", "\\\"hits\\\":["),
        PageKind::Repository => ("<tbody", "</tbody>", "\\\"rows\\\":["),
        PageKind::Artifact => return 0,
    };
    let markup = body.find(open).and_then(|start| body[start..].find(close)).map_or(0, |length| length + close.len());
    (markup + json_array_bytes(body, key)).min(body.len())
}

/// The length of the JSON array that starts at `key` (which ends with its `[`), key included;
/// 0 when there is none. Brackets are counted, not parsed: the bench's own data has none in
/// its strings.
fn json_array_bytes(body: &str, key: &str) -> usize {
    let Some(start) = body.find(key) else { return 0 };
    let mut depth = 0usize;
    for (offset, byte) in body.as_bytes()[start + key.len() - 1..].iter().enumerate() {
        match byte {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return key.len() + offset;
                }
            }
            _ => {}
        }
    }
    0
}

/// Indexes the synthetic repositories, registers their registries on the board (pages answer
/// only for known registries) and returns the pages to visit (paths only).
pub(crate) async fn fill(
    writer: &CatalogWriter,
    board: &StatusBoard,
    artifacts: usize,
    now: DateTime<Utc>,
) -> anyhow::Result<Vec<Page>> {
    let generator = Generator { now, artifacts_per_repository: ARTIFACTS_PER_REPOSITORY };
    let repositories = artifacts.div_ceil(ARTIFACTS_PER_REPOSITORY);
    let step = (repositories / VISITED_REPOSITORIES).max(1);
    let mut pages = Vec::new();
    for number in 0..repositories {
        let (summary, documents) = generator.repository(number);
        if board.get(&summary.registry).is_none() {
            board.register(&summary.registry, &format!("https://{}.example.invalid", summary.registry));
        }
        if number % step == 0 && pages.len() < 2 * VISITED_REPOSITORIES {
            let base = format!("/r/{}/{}", summary.registry, summary.repository);
            let shown = documents
                .iter()
                .rev()
                .find(|artifact| artifact.kind == ocicat_catalog::ArtifactKind::Image && !artifact.tags.is_empty());
            if let Some(artifact) = shown {
                let expect = artifact.digest.clone();
                pages.push(Page {
                    kind: PageKind::Artifact,
                    url: format!("{base}/@{}", artifact.digest),
                    expect,
                    cookie: None,
                });
            }
            pages.push(Page {
                kind: PageKind::Repository,
                url: base,
                expect: summary.repository.clone(),
                cookie: None,
            });
        }
        writer
            .upsert_repository(summary, documents, Vec::new())
            .await
            .with_context(|| format!("failed to upsert bench repository {number}"))?;
    }
    writer.flush().await.context("failed to commit the load catalog")?;
    for query in searches() {
        let url = format!("/search?q={}", url::form_urlencoded::byte_serialize(query.as_bytes()).collect::<String>());
        pages.push(Page { kind: PageKind::Search, url, expect: "data-testid=\"result-count\"".into(), cookie: None });
    }
    Ok(pages)
}

/// The searches the clients run: more distinct queries than the facet cache holds (so the
/// figures are mostly uncached searches, as varied traffic is), from narrow (one service's
/// repositories) to broad (a date range over every artifact).
fn searches() -> Vec<String> {
    let mut queries = Vec::new();
    for (number, namespace) in NAMESPACES.iter().enumerate() {
        for (service_number, service) in SERVICES.iter().enumerate() {
            let repositories = format!("repo:{namespace}/{service}-*");
            let word = WORDS[(number + service_number) % WORDS.len()];
            queries.push(format!("{repositories} kind:image"));
            queries.push(format!("{repositories} {word}"));
            queries.push(format!("{repositories} kind:image NOT has:signature"));
        }
        for word in WORDS {
            queries.push(format!("repo:{namespace}/* {word}"));
        }
    }
    for days in 1..=365 {
        queries.push(format!("created > now-{days}d"));
    }
    for platform in ["linux/amd64", "linux/arm64", "linux/arm/v7", "linux/s390x"] {
        for word in WORDS {
            queries.push(format!("platform:{platform} {word}"));
        }
    }
    queries
}

/// Loads every page once (but only [`WARMED_SEARCHES`] of the searches), failing on the first
/// that does not answer as expected.
pub(crate) async fn warm_up(pages: &[Page]) -> anyhow::Result<()> {
    let http = reqwest::Client::new();
    let mut searches = 0;
    for page in pages {
        if page.kind == PageKind::Search {
            searches += 1;
            if searches > WARMED_SEARCHES {
                continue;
            }
        }
        fetch(&http, page).await.with_context(|| format!("warm-up of {} failed", page.url))?;
    }
    Ok(())
}

/// Loads `page`; returns its size and rows.
pub(crate) async fn fetch(http: &reqwest::Client, page: &Page) -> anyhow::Result<Loaded> {
    let mut request = http.get(&page.url);
    if let Some(cookie) = &page.cookie {
        request = request.header(reqwest::header::COOKIE, cookie.as_ref());
    }
    let response = request.send().await.context("request failed")?;
    let status = response.status();
    let body = response.text().await.context("failed to read the page")?;
    if !status.is_success() {
        bail!("{} answered {status}", page.url);
    }
    if !body.contains(&page.expect) {
        bail!("{} does not contain {:?}", page.url, page.expect);
    }
    Ok(Loaded { bytes: body.len(), rows: rows_of(page.kind, &body), row_bytes: row_bytes(page.kind, &body) })
}

/// The order the clients visit pages in: the three kinds in turn (an equal share each), within a
/// kind the next of its pages; built once, so the load loop only indexes it.
pub(crate) fn rotation(pages: &[Page]) -> Vec<Page> {
    let by_kind: Vec<Vec<&Page>> = [PageKind::Search, PageKind::Repository, PageKind::Artifact]
        .iter()
        .map(|kind| pages.iter().filter(|page| page.kind == *kind).collect())
        .filter(|of_kind: &Vec<&Page>| !of_kind.is_empty())
        .collect();
    let longest = by_kind.iter().map(Vec::len).max().unwrap_or(0);
    (0..longest * by_kind.len())
        .map(|turn| {
            let of_kind = &by_kind[turn % by_kind.len()];
            of_kind[(turn / by_kind.len()) % of_kind.len()].clone()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{PageKind, row_bytes, rows_of};

    #[test]
    fn a_pages_rows_are_its_list_and_their_hydration_array() {
        let cards = r#"<ul class="hits"><li class="hit card">a</li><li class="hit card">b</li></ul>"#;
        let data = r#"\"hits\":[{\"tags\":[\"1\"]},{\"tags\":[]}]"#;
        let body =
            format!("<main>{cards}<nav>pager</nav></main><script>x = \"{{{data},\\\"facets\\\":[]}}\";</script>");
        assert_eq!(rows_of(PageKind::Search, &body), 2);
        assert_eq!(row_bytes(PageKind::Search, &body), cards.len() + data.len());
        assert_eq!(row_bytes(PageKind::Artifact, &body), 0);
        assert_eq!(row_bytes(PageKind::Repository, "<p>no table</p>"), 0);
    }
}
