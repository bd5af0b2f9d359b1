//! The copy page (`/copy?registry=…&repository=…&digest=…&tag=…`): where the artifact goes,
//! the plan the server works out (every manifest in the order it is written, indented under
//! what it belongs to, what the destination holds already, tags that would move, what a filter
//! leaves behind, totals), one button that runs exactly that plan, and how each step went.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::{ErrorView, KindIcon};
use crate::copies::{execute_copy, plan_copy};
use crate::model::{CopyPreview, CopyRequest, CopyView, Endpoint, ManifestItem, StepOutcome, human_size, short_digest};

/// The copy page.
#[component]
pub fn CopyPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |key: &str| query.read_untracked().get(key).unwrap_or_default();
    let (registry, repository, digest) = (get("registry"), get("repository"), get("digest"));
    let destination_registry = RwSignal::new(registry.clone());
    let destination_repository = RwSignal::new(repository.clone());
    let tag = RwSignal::new(get("tag"));
    let exclude = RwSignal::new(String::new());
    let planning = Action::new(|request: &CopyRequest| plan_copy(request.clone()));
    let source = (registry.clone(), repository.clone(), digest.clone());
    let plan = move |_| {
        let (registry, repository, digest) = source.clone();
        let tags: Vec<String> = tag.get_untracked().split_whitespace().map(str::to_owned).collect();
        let exclude_artifact_types = exclude.get_untracked().split_whitespace().map(str::to_owned).collect();
        planning.dispatch(CopyRequest {
            source: Endpoint { registry, repository },
            digest: Some(digest),
            query: None,
            destination: Endpoint {
                registry: destination_registry.get_untracked().trim().to_owned(),
                repository: destination_repository.get_untracked().trim().to_owned(),
            },
            tags,
            exclude_artifact_types,
        });
    };
    let back = format!("/r/{registry}/{repository}/@{digest}");
    view! {
        <section class="page-head">
            <nav class="crumbs" aria-label="Breadcrumb"><a href=back.clone()>{format!("{registry}/{repository}@{}", short_digest(&digest))}</a></nav>
            <h1>"Copy with everything attached"</h1>
            <p class="lead">"Index children, signatures, SBOMs, scans and attestations go too, byte for byte: every digest and every signature holds at the destination. Nothing is written before you confirm the plan."</p>
        </section>
        <section class="panel copy-form">
            <div class="form-grid">
                <label for="copy-registry">"Destination registry"</label>
                <input id="copy-registry" type="text" required bind:value=destination_registry/>
                <label for="copy-repository">"Destination repository"</label>
                <input id="copy-repository" type="text" required bind:value=destination_repository/>
                <label for="copy-tag">"Tag there (optional)"</label>
                <input id="copy-tag" type="text" bind:value=tag/>
                <label for="copy-exclude">"Leave behind artifact types (optional, space-separated prefixes)"</label>
                <input id="copy-exclude" type="text" placeholder="application/vnd.cyclonedx" bind:value=exclude/>
            </div>
            <p><button id="plan-copy" class="primary" on:click=plan>"Plan the copy"</button></p>
        </section>
        {move || planning.pending().get().then(|| view! { <p class="loading">"Working out what to copy…"</p> })}
        {move || planning.value().get().map(|result| match result {
            Ok(preview) => view! { <PlanView preview/> }.into_any(),
            Err(error) => view! { <ErrorView error/> }.into_any(),
        })}
    }
}

/// How deep `item` sits under the root (children and referrers indent).
fn depth(items: &[ManifestItem], item: &ManifestItem) -> usize {
    let mut depth = 0;
    let mut parent = item.parent.clone();
    while let Some(digest) = parent {
        depth += 1;
        parent = items.iter().find(|other| other.digest == digest).and_then(|other| other.parent.clone());
        if depth > 32 {
            break;
        }
    }
    depth
}

#[component]
fn PlanView(preview: CopyPreview) -> impl IntoView {
    let CopyPreview { copy, csrf } = preview;
    let plan = copy.plan.clone();
    let totals = plan.totals.clone();
    let move_tags = RwSignal::new(false);
    let running = Action::new(move |(id, fingerprint, move_tags, csrf): &(String, String, bool, String)| {
        execute_copy(id.clone(), fingerprint.clone(), *move_tags, csrf.clone())
    });
    let (id, fingerprint) = (copy.id.clone(), plan.fingerprint.clone());
    let run = move |_| {
        running.dispatch((id.clone(), fingerprint.clone(), move_tags.get_untracked(), csrf.clone()));
    };
    let destination = plan.request.destination.clone();
    let rows = plan.manifests.clone();
    let summary = format!(
        "{} manifests and {} blobs ({}) to copy; {} manifests and {} blobs ({}) are there already.",
        totals.manifests,
        totals.blobs,
        human_size(totals.bytes),
        totals.manifests_present,
        totals.blobs_present,
        human_size(totals.bytes_present)
    );
    let referrers_note = if plan.destination_referrers_api {
        "The destination lists referrers through the referrers API.".to_owned()
    } else {
        format!(
            "The destination has no referrers API: {} entries are added to its sha256-<digest> fallback indexes (existing entries kept).",
            plan.fallback.len()
        )
    };
    let has_moves = !plan.moved_tags.is_empty();
    view! {
        <section class="panel" id="copy-plan" aria-labelledby="copy-plan-title">
            <h2 id="copy-plan-title">{format!("Plan: to {}/{}", destination.registry, destination.repository)}</h2>
            <p id="copy-totals">{summary}</p>
            <p class="muted small">{referrers_note}</p>
            {has_moves.then(|| view! {
                <section class="warning-box" id="moved-tags" aria-labelledby="moved-tags-title">
                    <h3 id="moved-tags-title">"Tags that would move"</h3>
                    <ul>{plan.moved_tags.iter().map(|moved| view! {
                        <li><code>{moved.tag.clone()}</code>" names "<code>{short_digest(&moved.from)}</code>" now; it would name "<code>{short_digest(&moved.to)}</code></li>
                    }).collect_view()}</ul>
                    <label><input id="move-tags" type="checkbox" bind:checked=move_tags/>" Move these tags"</label>
                </section>
            })}
            {(!plan.excluded.is_empty()).then(|| view! {
                <details class="excluded"><summary>{format!("{} left behind by the filter", plan.excluded.len())}</summary>
                    <ul>{plan.excluded.iter().map(|left| view! { <li><code>{short_digest(&left.digest)}</code>" — "{left.reason.clone()}</li> }).collect_view()}</ul>
                </details>
            })}
            <table class="copy-manifests">
                <thead><tr><th>"Manifest"</th><th>"Kind"</th><th class="num">"Size"</th><th>"At the destination"</th></tr></thead>
                <tbody>{rows.iter().map(|item| {
                    let indent = format!("depth-{}", depth(&rows, item).min(6));
                    let tags = item.tags.join(" ");
                    view! {
                        <tr data-digest=item.digest.clone() data-present=item.present.to_string()>
                            <td class=indent><code class="mono" title=item.digest.clone()>{short_digest(&item.digest)}</code>
                                {(!tags.is_empty()).then(|| view! { " " <span class="muted small">{tags}</span> })}</td>
                            <td><KindIcon kind=item.kind.clone()/></td>
                            <td class="num">{human_size(item.size)}</td>
                            <td>{if item.present { "there already" } else { "to copy" }}</td>
                        </tr>
                    }
                }).collect_view()}</tbody>
            </table>
            <p class="page-actions">
                <button id="run-copy" class="primary" on:click=run disabled=move || running.pending().get() || (has_moves && !move_tags.get())>
                    {format!("Copy {} manifests", totals.manifests + totals.manifests_present)}
                </button>
            </p>
        </section>
        {move || running.pending().get().then(|| view! { <p class="loading">"Copying…"</p> })}
        {move || running.value().get().map(|result| match result {
            Ok(done) => view! { <ReportView done/> }.into_any(),
            Err(error) => view! { <ErrorView error/> }.into_any(),
        })}
    }
}

#[component]
fn ReportView(done: CopyView) -> impl IntoView {
    let Some(report) = done.report.clone() else { return view! { <p>"Not run."</p> }.into_any() };
    let count = |wanted: fn(&StepOutcome) -> bool| report.steps.iter().filter(|step| wanted(&step.outcome)).count();
    let copied = count(|outcome| matches!(outcome, StepOutcome::Copied { .. }));
    let mounted = count(|outcome| matches!(outcome, StepOutcome::Mounted));
    let present = count(|outcome| matches!(outcome, StepOutcome::Present));
    let failure = report.steps.iter().find_map(|step| match &step.outcome {
        StepOutcome::Failed { reason } => Some(format!("{} {}: {reason}", step.what, step.target)),
        _ => None,
    });
    let destination = &done.plan.request.destination;
    let root = done.plan.roots.first().cloned().unwrap_or_default();
    let href = format!("/r/{}/{}/@{root}", destination.registry, destination.repository);
    view! {
        <section class="panel" id="copy-report" aria-labelledby="copy-report-title">
            <h2 id="copy-report-title">{if report.complete { "Copied" } else { "Stopped" }}</h2>
            <p id="copy-counts">{format!("{copied} written, {mounted} mounted, {present} there already.")}</p>
            {failure.map(|failure| view! { <p class="form-error" role="alert">{failure}" — run the plan again to resume."</p> })}
            {report.complete.then(|| view! {
                <p><a id="copy-destination" href=href.clone()>"Open the copy"</a>" (it shows once the destination repository is crawled again, which starts now)"</p>
            })}
        </section>
    }
    .into_any()
}
