//! The document viewer on an attached artifact's page: the tabs of its layers, the download of
//! the original, and the SBOM view (summary, license breakdown, package table). Scans are in
//! `scan.rs`, signatures and attestations in `signatures.rs`. Everything comes from the server
//! already filtered and paged (state in the URL: `layer`, `q`, `sort`, `page`, `severity`,
//! `fixed`, `compare`), so the tables work without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api::get_contents;
use crate::components::ErrorView;
use crate::model::{ContentBody, ContentQuery, ContentsView, LicenseShare, SbomView, human_size, impact_href};
use crate::routes::scan::ScanBody;
use crate::routes::signatures::{AttestationBody, SignatureBody};
use crate::routes::viewer::{ViewerPager, fact, viewer_link};

/// The viewer for the attached artifact `digest`.
#[component]
pub fn ContentPanel(registry: String, repository: String, digest: String) -> impl IntoView {
    let url = use_query_map();
    let query = move || {
        let url = url.read();
        let number = |key: &str| url.get(key).and_then(|value| value.parse::<usize>().ok()).unwrap_or(0);
        ContentQuery {
            layer: number("layer"),
            q: url.get("q").unwrap_or_default(),
            sort: url.get("sort").unwrap_or_default(),
            page: number("page"),
            severity: url.get("severity").unwrap_or_default(),
            fixed: url.get("fixed").is_some_and(|value| value == "1" || value == "on"),
            compare: url.get("compare").unwrap_or_default(),
        }
    };
    let path = format!("/r/{registry}/{repository}/@{digest}");
    let names = StoredValue::new((registry, repository, digest));
    let data = Resource::new(
        move || (names.get_value(), query()),
        |((registry, repository, digest), query)| get_contents(registry, repository, digest, query),
    );
    view! {
        <section class="panel viewer" id="contents">
            <h2>"Contents"</h2>
            <Transition fallback=|| view! { <p class="loading">"Reading the document from the registry…"</p> }>
                {
                    let path = path.clone();
                    move || {
                        let path = path.clone();
                        Suspend::new(async move {
                            let query = query();
                            match data.await {
                                Ok(contents) => view! { <Contents contents path query/> }.into_any(),
                                Err(error) => view! { <ErrorView error/> }.into_any(),
                            }
                        })
                    }
                }
            </Transition>
        </section>
    }
}

#[component]
fn Contents(contents: ContentsView, path: String, query: ContentQuery) -> impl IntoView {
    let tabs = (contents.layers.len() > 1).then(|| {
        let links = contents.layers.iter().enumerate().map(|(index, layer)| {
            let href = viewer_link(&path, &ContentQuery { layer: index, ..ContentQuery::default() });
            let current = index == contents.selected;
            view! {
                <a href=href class="tab" class:current=current aria-current=current.then_some("true")>
                    {layer.label.clone()}
                </a>
            }
        });
        view! { <nav class="tabs" aria-label="Documents in this artifact">{links.collect_view()}</nav> }
    });
    let selected = contents.layers.get(contents.selected).cloned();
    let download = selected.map(|layer| {
        let name = layer.title.clone().unwrap_or_else(|| layer.media_type.clone());
        view! {
            <p class="download">
                <a class="button" href=layer.download.clone() rel="external" download="">"Download the original"</a>
                " "<span class="muted small"><bdi>{name}</bdi>" · "{human_size(layer.size)}" · "<span class="mono">{layer.media_type.clone()}</span></span>
            </p>
        }
    });
    let body = match contents.body {
        ContentBody::Sbom(sbom) => view! { <SbomBody sbom path query/> }.into_any(),
        ContentBody::Scan(scan) => view! { <ScanBody scan path query/> }.into_any(),
        ContentBody::Signature(signature) => view! { <SignatureBody signature/> }.into_any(),
        ContentBody::Attestation(attestation) => view! { <AttestationBody attestation/> }.into_any(),
        ContentBody::Unreadable(reason) => view! {
            <p class="raw-error" role="alert">"Cannot display this document: "{reason}". Download it instead."</p>
        }
        .into_any(),
    };
    view! { {tabs}{download}{body} }
}

const PACKAGE_SORTS: &[(&str, &str)] =
    &[("name", "Name"), ("version", "Version"), ("type", "Type"), ("license", "License"), ("supplier", "Supplier")];

#[component]
fn SbomBody(sbom: SbomView, path: String, query: ContentQuery) -> impl IntoView {
    let generators = (!sbom.generators.is_empty()).then(|| sbom.generators.join(", "));
    let counted = format!("{} packages, {} relations", sbom.package_total, sbom.relation_total);
    let sort = if query.sort.is_empty() { "name".to_owned() } else { query.sort.clone() };
    view! {
        <dl class="facts">
            {fact("Format", Some(sbom.format.clone()))}
            {fact("Name", sbom.name.clone())}
            {fact("Created", sbom.created.clone())}
            {fact("Generated by", generators)}
            {fact("Wrapped in", sbom.wrapped_in.clone())}
            {fact("Contents", Some(counted))}
        </dl>
        {sbom.truncated.then(|| view! { <p class="card-note small">"The document lists more packages than are shown here; the download has them all."</p> })}
        <h3>"Licenses"</h3>
        <LicenseChart shares=sbom.licenses.clone()/>
        <h3>"Packages"</h3>
        <form class="toolbar" method="get" action=path.clone() role="search">
            {(query.layer > 0).then(|| view! { <input type="hidden" name="layer" value=query.layer.to_string()/> })}
            <label class="visually-hidden" for="package-filter">"Filter packages"</label>
            <input id="package-filter" type="search" name="q" value=query.q.clone() placeholder="Filter by name, purl, license, supplier…" autocomplete="off" spellcheck="false"/>
            <label class="visually-hidden" for="package-sort">"Sort"</label>
            <select id="package-sort" name="sort">
                {PACKAGE_SORTS.iter().map(|(value, label)| view! { <option value=*value selected=sort == *value>{*label}</option> }).collect_view()}
            </select>
            <button type="submit">"Apply"</button>
        </form>
        <p class="muted small" id="package-count">{format!("{} of {} packages", sbom.matching, sbom.package_total)}</p>
        <table class="table packages">
            <thead><tr><th>"Name"</th><th>"Version"</th><th>"Type"</th><th>"License"</th><th>"Supplier"</th><th>"Package URL"</th></tr></thead>
            <tbody>
                {sbom.packages.into_iter().map(|package| {
                    let name = match package.homepage.clone() {
                        Some(href) => view! { <a href=href rel="noopener noreferrer nofollow" target="_blank"><bdi>{package.name.clone()}</bdi></a> }.into_any(),
                        None => view! { <bdi>{package.name.clone()}</bdi> }.into_any(),
                    };
                    let depends = (!package.depends_on.is_empty()).then(|| view! {
                        <div class="muted small break">"depends on "<bdi>{package.depends_on.join(", ")}</bdi></div>
                    });
                    view! {
                        <tr>
                            <td class="break">{name}" "<a class="impact-link" href=impact_href(&format!("pkg:\"{}\"", package.name.replace('"', "")), false, 0) title="Which of our artifacts contain it">"impact"</a>{depends}</td>
                            <td class="mono small break" data-label="Version"><bdi>{package.version.clone().unwrap_or_default()}</bdi></td>
                            <td data-label="Type"><bdi>{package.kind.clone().unwrap_or_default()}</bdi></td>
                            <td class="break" data-label="License"><bdi>{package.license.clone().unwrap_or_default()}</bdi></td>
                            <td class="break" data-label="Supplier"><bdi>{package.supplier.clone().unwrap_or_default()}</bdi></td>
                            <td class="mono small break" data-label="Package URL"><bdi>{package.purl.clone().unwrap_or_default()}</bdi></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <ViewerPager path query page=sbom.page pages=sbom.pages/>
    }
}

/// Horizontal bars, one per license, drawn with SVG attributes (the CSP allows no inline styles).
#[component]
fn LicenseChart(shares: Vec<LicenseShare>) -> impl IntoView {
    if shares.is_empty() {
        return view! { <p class="muted">"No license information."</p> }.into_any();
    }
    view! {
        <table class="table licenses">
            <tbody>
                {shares.into_iter().map(|share| view! {
                    <tr>
                        <th class="break"><bdi>{share.license.clone()}</bdi></th>
                        <td class="bar-cell">
                            <svg class="bar" viewBox="0 0 100 6" preserveAspectRatio="none" role="img"
                                aria-label=format!("{} percent", share.percent)>
                                <rect width="100" height="6" class="bar-track"/>
                                <rect width=share.percent.max(1).to_string() height="6" class="bar-fill"/>
                            </svg>
                        </td>
                        <td class="num">{share.count}</td>
                        <td class="num muted">{format!("{} %", share.percent)}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}
