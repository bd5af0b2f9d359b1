//! The audit log (`/audit`): who planned, deleted or ran retention, when, on what, with what
//! outcome, newest first a page at a time (`before` in the URL), with CSV and JSON Lines exports.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::{EmptyState, ErrorView, ShortDigest, TagChips, TimeText};
use crate::lifecycle::list_audit;
use crate::model::{AuditEntry, AuditPage, short_digest};
use crate::toolbar::encode;

/// The audit log page.
#[component]
pub fn AuditLogPage() -> impl IntoView {
    let query = use_query_map();
    let before = move || query.read().get("before").and_then(|value| value.parse::<i64>().ok());
    let page = Resource::new(before, list_audit);
    view! {
        <section class="page-head">
            <h1>"Audit log"</h1>
            <p class="lead">"Every plan, delete, tag removal and retention run, newest first. Times are UTC."</p>
            <p class="download">
                // rel="external": the router leaves these to the browser (they are downloads).
                <a class="button" href="/api/v1/audit?format=csv" rel="external">"Export CSV"</a>
                <a class="button" href="/api/v1/audit?format=jsonl" rel="external">"Export JSON Lines"</a>
            </p>
        </section>
        <Transition fallback=|| view! { <p class="loading">"Loading the audit log…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(page) => view! { <AuditTable page newest=before().is_none()/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditTable(page: AuditPage, newest: bool) -> impl IntoView {
    let AuditPage { entries, older } = page;
    if entries.is_empty() && newest {
        return view! { <EmptyState title="Nothing audited yet".to_string() hint="Plans, deletes and retention runs are listed here once they happen.".to_string()/> }.into_any();
    }
    view! {
        <table class="table audit" id="audit-table">
            <thead>
                <tr>
                    <th scope="col">"When (UTC)"</th><th scope="col">"Actor"</th><th scope="col">"Action"</th>
                    <th scope="col">"Where"</th><th scope="col">"Digest"</th><th scope="col">"Tags"</th>
                    <th scope="col">"Plan"</th><th scope="col">"Outcome"</th><th scope="col">"Detail"</th>
                </tr>
            </thead>
            <tbody>{entries.into_iter().map(|entry| view! { <AuditRow entry/> }).collect_view()}</tbody>
        </table>
        <nav class="pager" aria-label="Pages">
            {(!newest).then(|| view! { <a href="/audit">"← Newest"</a> })}
            {older.map(|before| view! { <a href=format!("/audit?before={before}") rel="next">"Older →"</a> })}
        </nav>
    }
    .into_any()
}

#[component]
fn AuditRow(entry: AuditEntry) -> impl IntoView {
    let place = match (&entry.registry, &entry.repository) {
        (Some(registry), Some(repository)) => format!("{registry}/{repository}"),
        (Some(registry), None) => registry.clone(),
        _ => String::new(),
    };
    let outcome_class = format!("outcome outcome-{}", entry.outcome.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
    view! {
        <tr class="audit-row" data-action=entry.action.clone() data-outcome=entry.outcome.clone()>
            <td data-label="When"><TimeText value=Some(entry.at.to_rfc3339())/></td>
            <td data-label="Actor">{entry.actor.clone()}</td>
            <td class="mono small" data-label="Action">{entry.action.clone()}</td>
            <td class="mono small nowrap">{place}</td>
            <td>{entry.digest.clone().map(|digest| view! { <ShortDigest digest/> })}</td>
            <td><TagChips tags=entry.tags.clone()/></td>
            <td>{entry.plan_id.clone().filter(|id| !id.is_empty()).map(|id| view! {
                <a class="mono small" href=format!("/plans/{}", encode(&id)) title=id.clone()>{short_digest(&id)}</a>
            })}</td>
            <td data-label="Outcome"><span class=outcome_class>{entry.outcome.clone()}</span></td>
            <td class="small detail">{entry.detail.clone().unwrap_or_default()}</td>
        </tr>
    }
}
