//! A scan report on its artifact's page: counts by severity, scanner and database, the other
//! scans of the same image newest first with a comparison, and the findings filtered by
//! severity and "has a fix", sorted and paged.

use leptos::prelude::*;

use crate::components::DateText;
use crate::model::{ContentQuery, FindingRow, ScanDiff, ScanView, VulnerabilityCounts, impact_href, short_digest};
use crate::routes::viewer::{ViewerPager, fact, viewer_link};

const FINDING_SORTS: &[(&str, &str)] = &[("severity", "Severity"), ("id", "Advisory"), ("package", "Package")];

/// Counts by severity as a row of coloured boxes.
#[component]
fn SeveritySummary(counts: VulnerabilityCounts) -> impl IntoView {
    let boxes = [
        ("critical", "Critical", counts.critical),
        ("high", "High", counts.high),
        ("medium", "Medium", counts.medium),
        ("low", "Low", counts.low),
        ("unknown", "Unknown", counts.unknown),
    ];
    view! {
        <ul class="severity-summary" aria-label="Findings by severity">
            {boxes.into_iter().map(|(class, label, count)| view! {
                <li class=format!("severity severity-{class}")><span class="count">{count}</span>" "<span>{label}</span></li>
            }).collect_view()}
        </ul>
    }
}

#[component]
pub(crate) fn ScanBody(scan: ScanView, path: String, query: ContentQuery) -> impl IntoView {
    let scanner = match (&scan.scanner, &scan.scanner_version) {
        (Some(name), Some(version)) => Some(format!("{name} {version}")),
        (Some(name), None) => Some(name.clone()),
        _ => None,
    };
    let sort = if query.sort.is_empty() { "severity".to_owned() } else { query.sort.clone() };
    let severities = ["critical", "high", "medium", "low", "unknown"];
    view! {
        <SeveritySummary counts=scan.counts.clone()/>
        <dl class="facts">
            {fact("Format", Some(scan.format.clone()))}
            {fact("Scanner", scanner)}
            {fact("Database", scan.database.clone())}
            {fact("Scanned", scan.scanned_at.clone())}
            {fact("Target", scan.artifact.clone())}
            {fact("Wrapped in", scan.wrapped_in.clone())}
            {fact("With a fix", Some(format!("{} findings", scan.fixable)))}
        </dl>
        {scan.truncated.then(|| view! { <p class="card-note small">"The report lists more findings than are shown here; the download has them all."</p> })}
        <ScanList scan=scan.clone() path=path.clone()/>
        {scan.compare.clone().map(|diff| view! { <ScanComparison diff/> })}
        <h3>"Findings"</h3>
        <form class="toolbar" method="get" action=path.clone() role="search">
            {(query.layer > 0).then(|| view! { <input type="hidden" name="layer" value=query.layer.to_string()/> })}
            {(!query.compare.is_empty()).then(|| view! { <input type="hidden" name="compare" value=query.compare.clone()/> })}
            <label class="visually-hidden" for="finding-filter">"Filter findings"</label>
            <input id="finding-filter" type="search" name="q" value=query.q.clone() placeholder="Filter by advisory, package, title…" autocomplete="off" spellcheck="false"/>
            <label class="visually-hidden" for="finding-severity">"Severity"</label>
            <select id="finding-severity" name="severity">
                <option value="" selected=query.severity.is_empty()>"All severities"</option>
                {severities.iter().map(|value| view! { <option value=*value selected=query.severity == *value>{*value}</option> }).collect_view()}
            </select>
            <label class="check"><input type="checkbox" name="fixed" value="1" checked=query.fixed/>" Has a fix"</label>
            <label class="visually-hidden" for="finding-sort">"Sort"</label>
            <select id="finding-sort" name="sort">
                {FINDING_SORTS.iter().map(|(value, label)| view! { <option value=*value selected=sort == *value>{*label}</option> }).collect_view()}
            </select>
            <button type="submit">"Apply"</button>
        </form>
        <p class="muted small" id="finding-count">{format!("{} of {} findings", scan.matching, scan.counts.critical + scan.counts.high + scan.counts.medium + scan.counts.low + scan.counts.unknown)}</p>
        <FindingTable findings=scan.findings.clone()/>
        <ViewerPager path query page=scan.page pages=scan.pages/>
    }
}

#[component]
fn FindingTable(findings: Vec<FindingRow>) -> impl IntoView {
    if findings.is_empty() {
        return view! { <p class="muted">"No findings."</p> }.into_any();
    }
    view! {
        <table class="table findings">
            <thead><tr><th>"Advisory"</th><th>"Severity"</th><th>"Package"</th><th>"Installed"</th><th>"Fixed in"</th><th>"Title"</th></tr></thead>
            <tbody>
                {findings.into_iter().map(|finding| {
                    let id = match finding.link.clone() {
                        Some(href) => view! { <a href=href rel="noopener noreferrer nofollow" target="_blank"><bdi>{finding.id.clone()}</bdi></a> }.into_any(),
                        None => view! { <bdi>{finding.id.clone()}</bdi> }.into_any(),
                    };
                    view! {
                        <tr>
                            <td class="mono small">{id}" "<a class="impact-link" href=impact_href(&format!("cve:{}", finding.id), false, 0) title="Which of our artifacts carry it">"impact"</a></td>
                            <td data-label="Severity"><span class=format!("severity-tag severity-{}", finding.severity)>{finding.severity.clone()}</span></td>
                            <td data-label="Package"><bdi>{finding.package.clone()}</bdi></td>
                            <td class="mono small break" data-label="Installed"><bdi>{finding.installed.clone().unwrap_or_default()}</bdi></td>
                            <td class="mono small break" data-label="Fixed in"><bdi>{finding.fixed.clone().unwrap_or_else(|| "—".into())}</bdi></td>
                            <td class="break" data-label="Title"><bdi>{finding.title.clone().unwrap_or_default()}</bdi></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

/// Every scan of the same artifact, newest first, with links to compare.
#[component]
fn ScanList(scan: ScanView, path: String) -> impl IntoView {
    if scan.scans.len() < 2 {
        return ().into_any();
    }
    let base = path.rsplit_once("/@").map(|(base, _)| base.to_owned()).unwrap_or_default();
    let this = path.rsplit_once("/@").map(|(_, digest)| digest.to_owned()).unwrap_or_default();
    view! {
        <h3>"Scans of this artifact, newest first"</h3>
        <table class="table scans">
            <thead><tr><th>"Scan"</th><th>"Date"</th><th>"Critical"</th><th>"High"</th><th>"Medium"</th><th>"Low"</th><th></th></tr></thead>
            <tbody>
                {scan.scans.iter().map(|other| {
                    let counts = other.counts.clone().unwrap_or_default();
                    let is_this = other.digest == this;
                    let action = if is_this {
                        view! { <span class="muted small">"this scan"</span> }.into_any()
                    } else {
                        let href = viewer_link(&path, &ContentQuery { compare: other.digest.clone(), ..ContentQuery::default() });
                        view! { <a href=href class="compare-link">"Compare with this"</a> }.into_any()
                    };
                    view! {
                        <tr class:current=is_this>
                            <td><a href=format!("{base}/@{}", other.digest)><code class="digest" title=other.digest.clone()>{short_digest(&other.digest)}</code></a></td>
                            <td data-label="Date"><DateText value=other.created.clone()/></td>
                            <td class="num" data-label="Critical">{counts.critical}</td>
                            <td class="num" data-label="High">{counts.high}</td>
                            <td class="num" data-label="Medium">{counts.medium}</td>
                            <td class="num" data-label="Low">{counts.low}</td>
                            <td>{action}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
    .into_any()
}

#[component]
fn ScanComparison(diff: ScanDiff) -> impl IntoView {
    view! {
        <section class="comparison" id="comparison">
            <h3>"Compared with the scan of "<DateText value=diff.other_created.clone()/>" ("<code>{short_digest(&diff.other)}</code>")"</h3>
            <p>{format!("{} new here, {} gone since, {} in both.", diff.only_here.len(), diff.only_there.len(), diff.unchanged)}</p>
            <h4>"Only in this scan"</h4>
            <FindingTable findings=diff.only_here/>
            <h4>"Only in the other scan (fixed or no longer found)"</h4>
            <FindingTable findings=diff.only_there/>
        </section>
    }
}
