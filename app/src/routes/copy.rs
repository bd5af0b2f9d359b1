//! The copy page (`/copy?registry=…&repository=…&digest=…&tag=…`): where the artifact goes,
//! the plan the server works out (every manifest in the order it is written, indented under
//! what it belongs to, what the destination holds already, tags that would move, what a filter
//! leaves behind, totals), one button that runs exactly that plan, its progress (asked again
//! twice a second while it runs), and how each step went.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::{ErrorView, KindIcon};
use crate::copies::{execute_copy, plan_copy};
use crate::error::AppError;
use crate::model::{
    CopyPreview, CopyRequest, CopyView, Endpoint, GraphFilter, ManifestItem, StepOutcome, human_size, short_digest,
};

/// The copy page.
#[component]
pub fn CopyPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |key: &str| query.read_untracked().get(key).unwrap_or_default();
    let (registry, repository, digest) = (get("registry"), get("repository"), get("digest"));
    // One artifact (a digest), what a search finds in the repository, or all of it.
    let search = get("query");
    let one = !digest.is_empty();
    let destination_registry = RwSignal::new(registry.clone());
    let destination_repository = RwSignal::new(repository.clone());
    let tag = RwSignal::new(get("tag"));
    let exclude = RwSignal::new(String::new());
    let include = RwSignal::new(String::new());
    let platform = RwSignal::new(String::new());
    let planning = Action::new(|request: &CopyRequest| plan_copy(request.clone()));
    let source = (registry.clone(), repository.clone(), digest.clone(), search.clone());
    let plan = move |_| {
        let (registry, repository, digest, search) = source.clone();
        let tags: Vec<String> =
            if one { tag.get_untracked().split_whitespace().map(str::to_owned).collect() } else { Vec::new() };
        let words = |signal: RwSignal<String>| signal.get_untracked().split_whitespace().map(str::to_owned).collect();
        let (exclude_artifact_types, include_artifact_types, platforms) =
            (words(exclude), words(include), words(platform));
        planning.dispatch(CopyRequest {
            source: Endpoint { registry, repository },
            digest: one.then_some(digest),
            query: (!one && !search.trim().is_empty()).then_some(search),
            destination: Endpoint {
                registry: destination_registry.get_untracked().trim().to_owned(),
                repository: destination_repository.get_untracked().trim().to_owned(),
            },
            tags,
            filter: GraphFilter { exclude_artifact_types, include_artifact_types, platforms },
        });
    };
    let (back, crumb) = match (one, search.trim().is_empty()) {
        (true, _) => (
            format!("/r/{registry}/{repository}/@{digest}"),
            format!("{registry}/{repository}@{}", short_digest(&digest)),
        ),
        (false, true) => {
            (format!("/r/{registry}/{repository}"), format!("{registry}/{repository}: every tagged artifact"))
        }
        (false, false) => (
            format!("/search?q={}", crate::toolbar::encode(&search)),
            format!("{registry}/{repository}: what \u{201c}{search}\u{201d} finds"),
        ),
    };
    let title = if one { "Copy with everything attached" } else { "Copy these artifacts with everything attached" };
    view! {
        <section class="page-head">
            <nav class="crumbs" aria-label="Breadcrumb"><a href=back.clone()>{crumb}</a></nav>
            <h1>{title}</h1>
            <p class="lead">"Index children, signatures, SBOMs, scans and attestations go too, byte for byte: every digest and every signature holds at the destination. Nothing is written before you confirm the plan."</p>
            {(!one).then(|| view! { <p class="muted">"Each artifact keeps its own tags at the destination."</p> })}
        </section>
        <section class="panel copy-form">
            <div class="form-grid">
                <label for="copy-registry">"Destination registry"</label>
                <input id="copy-registry" type="text" required bind:value=destination_registry/>
                <label for="copy-repository">"Destination repository"</label>
                <input id="copy-repository" type="text" required bind:value=destination_repository/>
                {one.then(|| view! {
                    <label for="copy-tag">"Tag there (optional)"</label>
                    <input id="copy-tag" type="text" bind:value=tag/>
                })}
                <label for="copy-exclude">"Leave behind artifact types (optional, space-separated prefixes)"</label>
                <input id="copy-exclude" type="text" placeholder="application/vnd.cyclonedx" bind:value=exclude/>
                <label for="copy-include">"Take only artifact types (optional, space-separated prefixes)"</label>
                <input id="copy-include" type="text" placeholder="application/vnd.dev.sigstore application/spdx" bind:value=include/>
                <label for="copy-platform">"Only this platform of an index (optional)"</label>
                <input id="copy-platform" type="text" placeholder="linux/amd64" bind:value=platform/>
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

/// A stored copy plan (a copy or an import), the button that runs it, its progress and report.
#[component]
pub(crate) fn PlanView(preview: CopyPreview) -> impl IntoView {
    let CopyPreview { copy, csrf } = preview;
    let plan = copy.plan.clone();
    let totals = plan.totals.clone();
    let move_tags = RwSignal::new(false);
    let running = Action::new(move |(id, fingerprint, move_tags, csrf): &(String, String, bool, String)| {
        execute_copy(id.clone(), fingerprint.clone(), *move_tags, csrf.clone())
    });
    let progress: RwSignal<Option<Result<CopyView, AppError>>> = RwSignal::new(None);
    Effect::new(move |_| {
        if let Some(result) = running.value().get() {
            progress.set(Some(result));
        }
    });
    poll_while_running(copy.id.clone(), progress);
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
        {move || running.pending().get().then(|| view! { <p class="loading">"Starting the copy…"</p> })}
        {move || progress.get().map(|result| match result {
            Ok(now) if now.running => view! { <ProgressView now/> }.into_any(),
            Ok(done) => view! { <ReportView done/> }.into_any(),
            Err(error) => view! { <ErrorView error/> }.into_any(),
        })}
    }
}

/// Asks how the copy `id` is going twice a second while `progress` says it runs.
fn poll_while_running(id: String, progress: RwSignal<Option<Result<CopyView, AppError>>>) {
    #[cfg(feature = "hydrate")]
    {
        /// How often a running copy is asked about.
        const POLL_MILLISECONDS: u64 = 500;
        let asking = std::rc::Rc::new(std::cell::Cell::new(false));
        let ask = move || {
            let runs = progress.with_untracked(|now| matches!(now, Some(Ok(view)) if view.running));
            if !runs || asking.get() {
                return;
            }
            asking.set(true);
            let (id, asking) = (id.clone(), asking.clone());
            leptos::task::spawn_local(async move {
                let now = crate::copies::get_copy(id).await;
                asking.set(false);
                progress.set(Some(now));
            });
        };
        if let Ok(handle) = set_interval_with_handle(ask, std::time::Duration::from_millis(POLL_MILLISECONDS)) {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (id, progress);
}

#[component]
fn ProgressView(now: CopyView) -> impl IntoView {
    let total = now.plan.step_count().max(1);
    let steps = now.report.as_ref().map(|report| report.steps.as_slice()).unwrap_or_default();
    let bytes: u64 = steps
        .iter()
        .map(|step| match step.outcome {
            StepOutcome::Copied { bytes } => bytes,
            _ => 0,
        })
        .sum();
    let last = steps.last().map(|step| format!("{} {}", step.what, short_digest(&step.target))).unwrap_or_default();
    view! {
        <section class="panel" id="copy-progress" aria-live="polite" aria-labelledby="copy-progress-title">
            <h2 id="copy-progress-title">"Copying…"</h2>
            <progress max=total.to_string() value=steps.len().to_string()></progress>
            <p id="copy-progress-counts">{format!("{} of {total} steps · {} sent of {}", steps.len(), human_size(bytes), human_size(now.plan.totals.bytes))}</p>
            {(!last.is_empty()).then(|| view! { <p class="muted small mono">{format!("last: {last}")}</p> })}
        </section>
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
    let href = match done.plan.roots.as_slice() {
        [root] => format!("/r/{}/{}/@{root}", destination.registry, destination.repository),
        _ => format!("/r/{}/{}", destination.registry, destination.repository),
    };
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
