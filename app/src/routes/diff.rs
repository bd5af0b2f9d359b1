//! The SBOM diff (`/diff?a=…&b=…`; without `a`, the previous tagged build of `b`'s repository):
//! packages added, removed, up- and downgraded and relicensed, and the scan findings fixed and
//! introduced between two artifacts.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::{DateText, ErrorView};
use crate::error::AppError;
use crate::model::{DiffSide, DiffView, FindingChange, PackageChange, impact_href, short_digest};

/// What changed from `a` to `b`.
#[server]
pub async fn get_diff(a: String, b: String) -> Result<DiffView, AppError> {
    use crate::shim::*;
    service()?.diff(&principal(), a, b).await
}

/// The page.
#[component]
pub fn DiffPage() -> impl IntoView {
    let query = use_query_map();
    let wanted = move || (query.read().get("a").unwrap_or_default(), query.read().get("b").unwrap_or_default());
    let diff = Resource::new(wanted, |(a, b)| get_diff(a, b));
    view! {
        <section class="page-head"><h1>"What changed"</h1>
            <p class="lead">"Between two artifacts, according to their SBOMs and scans."</p></section>
        <Suspense fallback=|| view! { <p class="loading">"Comparing…"</p> }>
            {move || Suspend::new(async move {
                match diff.await {
                    Ok(diff) => view! { <DiffDetails diff/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn SideView(side: DiffSide, label: &'static str) -> impl IntoView {
    let title = if side.tags.is_empty() { short_digest(&side.digest) } else { side.tags.join(", ") };
    view! {
        <div class="diff-side">
            <span class="muted small">{label}</span>
            <a class="tag-link" href=format!("/r/{}/{}/@{}", side.registry, side.repository, side.digest)>{format!("{}:{title}", side.repository)}</a>
            <span class="small">" built " <DateText value=side.created.clone()/>{format!(" · {} SBOM{}, {} scan{}", side.sboms, if side.sboms == 1 { "" } else { "s" }, side.scans, if side.scans == 1 { "" } else { "s" })}</span>
        </div>
    }
}

#[component]
fn DiffDetails(diff: DiffView) -> impl IntoView {
    let nothing_read = diff.a.sboms + diff.b.sboms + diff.a.scans + diff.b.scans == 0;
    let package_table = |title: &'static str, id: &'static str, rows: Vec<PackageChange>| {
        (!rows.is_empty()).then(|| view! {
            <h3>{format!("{title} ({})", rows.len())}</h3>
            <table class="table diff" id=id>
                <thead><tr><th>"Package"</th><th>"Before"</th><th>"After"</th><th>"Licences"</th></tr></thead>
                <tbody>{rows.into_iter().map(|change| {
                    let licences = if change.licenses_before == change.licenses_after { change.licenses_after.join(", ") }
                        else { format!("{} → {}", change.licenses_before.join(", "), change.licenses_after.join(", ")) };
                    view! { <tr>
                        <td><a class="mono" href=impact_href(&format!("pkg:\"{}\"", change.name.replace('"', "")), false, 0)>{change.name.clone()}</a>
                            {change.ecosystem.clone().map(|ecosystem| view! { " " <span class="muted small">{format!("({ecosystem})")}</span> })}</td>
                        <td class="mono small" data-label="Before">{change.before.join(", ")}</td>
                        <td class="mono small" data-label="After">{change.after.join(", ")}{(!change.exact).then(|| view! { " " <span class="muted small" title="compared as text: no ecosystem order applied">"≈"</span> })}</td>
                        <td class="small" data-label="Licences">{licences}</td>
                    </tr> }
                }).collect_view()}</tbody>
            </table>
        })
    };
    let finding_table = |title: &'static str, id: &'static str, rows: Vec<FindingChange>| {
        (!rows.is_empty()).then(|| view! {
            <h3>{format!("{title} ({})", rows.len())}</h3>
            <table class="table diff" id=id>
                <thead><tr><th>"Advisory"</th><th>"Severity"</th><th>"Package"</th><th>"Installed"</th><th>"Fixed in"</th></tr></thead>
                <tbody>{rows.into_iter().map(|finding| view! { <tr>
                    <td><a class="mono" href=impact_href(&format!("cve:{}", finding.advisory), false, 0)>{finding.advisory.clone()}</a></td>
                    <td data-label="Severity"><span class=format!("severity-tag severity-{}", finding.severity)>{finding.severity.clone()}</span></td>
                    <td data-label="Package">{finding.package.clone()}</td>
                    <td class="mono small" data-label="Installed">{finding.installed.clone().unwrap_or_default()}</td>
                    <td class="mono small" data-label="Fixed in">{finding.fixed.clone().unwrap_or_else(|| "—".into())}</td>
                </tr> }).collect_view()}</tbody>
            </table>
        })
    };
    view! {
        <section class="panel diff-sides"><SideView side=diff.a.clone() label="from"/><span aria-hidden="true">"→"</span><SideView side=diff.b.clone() label="to"/></section>
        {nothing_read.then(|| view! { <p class="card-note">"Neither artifact has an SBOM or scan ocicat could read, so there is nothing to compare."</p> })}
        <section class="panel" id="diff-packages">
            <h2>"Packages"</h2>
            <p class="muted" id="diff-summary">{format!("{} added, {} removed, {} upgraded, {} downgraded, {} relicensed, {} unchanged",
                diff.added.len(), diff.removed.len(), diff.upgraded.len(), diff.downgraded.len(), diff.relicensed.len(), diff.unchanged)}</p>
            {package_table("Added", "diff-added", diff.added.clone())}
            {package_table("Removed", "diff-removed", diff.removed.clone())}
            {package_table("Upgraded", "diff-upgraded", diff.upgraded.clone())}
            {package_table("Downgraded", "diff-downgraded", diff.downgraded.clone())}
            {package_table("Licences changed", "diff-relicensed", diff.relicensed.clone())}
        </section>
        <section class="panel" id="diff-findings">
            <h2>"Scan findings"</h2>
            <p class="muted">{format!("{} fixed, {} introduced", diff.fixed.len(), diff.introduced.len())}</p>
            {finding_table("Fixed", "diff-fixed", diff.fixed.clone())}
            {finding_table("Introduced", "diff-introduced", diff.introduced.clone())}
        </section>
    }
}
