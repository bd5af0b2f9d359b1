//! Deleting: the plan page (`/delete`: what would go as a tree of targets and what goes with
//! them, what stays, what breaks, which fallback indexes are pushed again, and one button that
//! confirms exactly that plan) and the execution page (`/plans/:id`: each item's outcome, live
//! while it runs).

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::account::who_am_i;
use crate::components::{DigestLink, ErrorView, KindIcon, ShortDigest, TimeText};
use crate::error::AppError;
use crate::lifecycle::{confirm_plan, get_execution, preview_plan};
use crate::model::{
    Execution, ExecutionState, ItemResult, Mode, Outcome, Plan, PlanItem, PlanPreview, PlanRequest, Reason,
    SessionView, TagDeletion, TargetSpec, human_size, outcome_label, plan_href, plan_search_href, short_digest,
};
use crate::toolbar::encode;

/// Shows `children` only to viewers who may delete somewhere.
#[component]
pub fn IfCanDelete(children: ChildrenFn) -> impl IntoView {
    let who = Resource::new(|| (), |()| who_am_i());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let children = children.clone();
                Suspend::new(async move { matches!(who.await, Ok(SessionView { can_delete: true, .. })).then(|| children()) })
            }}
        </Suspense>
    }
}

/// `/delete?registry=…&repository=…&reference=…` or `/delete?q=…`, with `tag_only=1` to remove
/// only a tag: the plan, and the button that confirms it.
#[component]
pub fn DeletePage() -> impl IntoView {
    let query = use_query_map();
    let request = Memo::new(move |_| request_from(|key| query.read().get(key)));
    let preview = Resource::new(move || request.get(), preview_plan);
    view! {
        <section class="page-head">
            <h1>{move || heading(&request.get())}</h1>
            <p class="lead">"Nothing is deleted before you confirm. Blobs stay until the registry's garbage collection runs."</p>
        </section>
        <Suspense fallback=|| view! { <p class="loading">"Working out what would go…"</p> }>
            {move || Suspend::new(async move {
                match preview.await {
                    Ok(preview) => view! { <PlanView preview request=request.get_untracked()/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The request the page's address asks for (`get` reads a query parameter).
fn request_from(get: impl Fn(&str) -> Option<String>) -> PlanRequest {
    let given = |key: &str| get(key).filter(|value| !value.trim().is_empty());
    let tag_only = given("tag_only").as_deref() == Some("1");
    if let Some(search) = given("q") {
        return PlanRequest { targets: Vec::new(), query: Some(search), tag_only };
    }
    let targets = match (given("registry"), given("repository"), given("reference")) {
        (Some(registry), Some(repository), Some(reference)) => vec![TargetSpec { registry, repository, reference }],
        _ => Vec::new(),
    };
    PlanRequest { targets, query: None, tag_only }
}

/// The address of the plan page of `request`.
fn page_href(request: &PlanRequest) -> String {
    let base = match (&request.query, request.targets.first()) {
        (Some(search), _) => plan_search_href(search),
        (None, Some(target)) => plan_href(&target.registry, &target.repository, &target.reference),
        (None, None) => "/delete?".to_owned(),
    };
    if request.tag_only { format!("{base}&tag_only=1") } else { base }
}

fn target_name(target: &TargetSpec) -> String {
    let separator = if target.reference.contains(':') { "@" } else { ":" };
    format!("{}/{}{separator}{}", target.registry, target.repository, target.reference)
}

fn heading(request: &PlanRequest) -> String {
    match (&request.query, request.targets.as_slice()) {
        (Some(search), _) => format!("Delete everything matching \u{201c}{search}\u{201d}"),
        (None, [target]) if request.tag_only => {
            format!("Remove tag {} from {}/{}", target.reference, target.registry, target.repository)
        }
        (None, [target]) => format!("Delete {}", target_name(target)),
        _ => "Delete".to_owned(),
    }
}

/// What the confirm button says: the count and the query, or the tag.
fn confirm_label(plan: &Plan) -> String {
    match plan.mode {
        Mode::TagOnly => {
            let tags: Vec<&str> = plan.items.iter().filter_map(|item| item.tag.as_deref()).collect();
            match tags.as_slice() {
                [tag] => format!("Remove tag {tag}"),
                _ => format!("Remove {} tags", tags.len()),
            }
        }
        Mode::Manifests => {
            let count = plan.totals.manifests;
            let noun = if count == 1 { "manifest" } else { "manifests" };
            match &plan.query {
                Some(search) => format!("Delete {count} {noun} matching {search}"),
                None => format!("Delete {count} {noun}"),
            }
        }
    }
}

/// One plan item with the items that go because it goes.
#[derive(Debug, Clone, PartialEq)]
struct TreeNode {
    item: PlanItem,
    below: Vec<TreeNode>,
}

type ItemKey = (String, String, String);

fn key_of(item: &PlanItem, digest: &str) -> ItemKey {
    (item.registry.clone(), item.repository.clone(), digest.to_owned())
}

/// Nests every item under the item its reason names: targets (in `targets` order) at the top,
/// and anything whose parent is not in the plan (or sits in a loop) at the top too.
fn build_tree(targets: &[PlanItem], items: &[PlanItem]) -> Vec<TreeNode> {
    let present: HashSet<ItemKey> = items.iter().map(|item| key_of(item, &item.digest)).collect();
    let mut below: HashMap<ItemKey, Vec<&PlanItem>> = HashMap::new();
    let mut roots = Vec::new();
    for item in items {
        match item.reason.parent() {
            Some(parent) if parent != item.digest && present.contains(&key_of(item, parent)) => {
                below.entry(key_of(item, parent)).or_default().push(item);
            }
            _ => roots.push(item),
        }
    }
    let position =
        |item: &PlanItem| targets.iter().position(|target| target.digest == item.digest).unwrap_or(usize::MAX);
    roots.sort_by_key(|item| position(item));
    let mut placed = HashSet::new();
    let mut tree: Vec<TreeNode> = roots.into_iter().filter_map(|item| grow(item, &below, &mut placed)).collect();
    for item in items {
        if let Some(node) = grow(item, &below, &mut placed) {
            tree.push(node);
        }
    }
    tree
}

fn grow(item: &PlanItem, below: &HashMap<ItemKey, Vec<&PlanItem>>, placed: &mut HashSet<ItemKey>) -> Option<TreeNode> {
    let key = key_of(item, &item.digest);
    if !placed.insert(key.clone()) {
        return None;
    }
    let children = below.get(&key).map(Vec::as_slice).unwrap_or_default();
    let below_nodes = children.iter().filter_map(|child| grow(child, below, placed)).collect();
    Some(TreeNode { item: item.clone(), below: below_nodes })
}

/// Why a non-target item goes, in words.
fn relation(reason: &Reason) -> Option<&'static str> {
    match reason {
        Reason::Target => None,
        Reason::Referrer { .. } => Some("attached"),
        Reason::Child { .. } => Some("index child"),
        Reason::FallbackIndex { .. } => Some("fallback referrers index"),
    }
}

fn artifact_href(registry: &str, repository: &str, digest: &str) -> String {
    format!("/r/{registry}/{repository}/@{digest}")
}

#[component]
fn PlanView(preview: PlanPreview, request: PlanRequest) -> impl IntoView {
    let PlanPreview { plan, csrf } = preview;
    let tree = build_tree(&plan.targets, &plan.items);
    let label = confirm_label(&plan);
    let tag_target = request.targets.first().filter(|target| !target.reference.contains(':')).cloned();
    view! {
        <PlanSummary plan=plan.clone()/>
        {(!plan.warnings.is_empty()).then(|| view! {
            <section class="warning-box" aria-labelledby="plan-warnings-title">
                <h2 id="plan-warnings-title">"Read this before confirming"</h2>
                <ul>{plan.warnings.iter().map(|warning| view! { <li class="plan-warning">{warning.clone()}</li> }).collect_view()}</ul>
            </section>
        })}
        {tag_target.map(|target| view! { <TagChoice target plan=plan.clone() tag_only=request.tag_only/> })}
        <section class="panel" aria-labelledby="plan-goes-title">
            <h2 id="plan-goes-title">{if plan.mode == Mode::TagOnly { "Tags removed" } else { "Goes" }}</h2>
            {if tree.is_empty() {
                view! { <p class="muted">"Nothing: the plan is empty."</p> }.into_any()
            } else {
                view! { <PlanTree nodes=tree/> }.into_any()
            }}
        </section>
        {(!plan.kept.is_empty()).then(|| view! {
            <section class="panel" aria-labelledby="plan-kept-title">
                <h2 id="plan-kept-title">"Stays"</h2>
                <ul class="related">
                    {plan.kept.iter().map(|kept| view! {
                        <li class="plan-kept" data-digest=kept.digest.clone()>
                            <KindIcon kind=kept.kind.clone()/>
                            <DigestLink href=artifact_href(&kept.registry, &kept.repository, &kept.digest) digest=kept.digest.clone()/>
                            <span>{kept.because.clone()}</span>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        {(!plan.broken_parents.is_empty()).then(|| view! {
            <section class="panel" aria-labelledby="plan-breaks-title">
                <h2 id="plan-breaks-title">"Breaks"</h2>
                <ul class="related">
                    {plan.broken_parents.iter().map(|parent| view! {
                        <li class="plan-broken">
                            <KindIcon kind="index".to_string()/>
                            <DigestLink href=artifact_href(&parent.registry, &parent.repository, &parent.digest) digest=parent.digest.clone()/>
                            <TagChips tags=parent.tags.clone()/>
                            <span>"stays but lists "<code class="digest" title=parent.child.clone()>{short_digest(&parent.child)}</code>", which goes"</span>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        {(!plan.fallback_rewrites.is_empty()).then(|| view! {
            <section class="panel" aria-labelledby="plan-rewrites-title">
                <h2 id="plan-rewrites-title">"Fallback indexes rewritten"</h2>
                <ul class="related">
                    {plan.fallback_rewrites.iter().map(|rewrite| view! {
                        <li class="plan-rewrite">
                            <code class="mono">{format!("{}:{}", rewrite.repository, rewrite.tag)}</code>
                            <span>{format!("pushed again without {} referrer{}", rewrite.remove.len(), if rewrite.remove.len() == 1 { "" } else { "s" })}</span>
                        </li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        {(!plan.items.is_empty()).then(|| view! { <ConfirmButton request plan_id=plan.id.clone() csrf label/> })}
    }
}

#[component]
fn PlanSummary(plan: Plan) -> impl IntoView {
    let totals = plan.totals;
    let tag_only = plan.mode == Mode::TagOnly;
    view! {
        <section class="panel" id="plan-summary" aria-label="Summary">
            <dl class="stats plan-stats">
                <div><dt>"Manifests"</dt><dd>{totals.manifests}</dd></div>
                <div><dt>{if tag_only { "Tags removed" } else { "Tags" }}</dt><dd>{totals.tags}</dd></div>
                <div><dt>"Size"</dt><dd>{human_size(totals.bytes)}</dd></div>
                <div><dt>"Repositories"</dt><dd>{totals.repositories}</dd></div>
            </dl>
            {(!totals.by_kind.is_empty()).then(|| view! {
                <p class="kind-counts">
                    {totals.by_kind.into_iter().map(|(kind, count)| view! {
                        <span class="kind-count"><KindIcon kind/>" "{count}</span>
                    }).collect_view()}
                </p>
            })}
            {plan.truncated.then(|| view! { <p class="card-note small">"Cut at a limit: this plan deletes less than was asked."</p> })}
        </section>
    }
}

/// Delete the manifest (and every tag on it), or remove only the tag: two links.
#[component]
fn TagChoice(target: TargetSpec, plan: Plan, tag_only: bool) -> impl IntoView {
    let tags = plan.targets.first().map(|item| item.tags.len()).unwrap_or(1);
    let manifest_text = if tags > 1 {
        format!("Delete the manifest (removes all {tags} tags)")
    } else {
        "Delete the manifest (and its tag)".to_owned()
    };
    let manifest_href = plan_href(&target.registry, &target.repository, &target.reference);
    let tag_href = format!("{manifest_href}&tag_only=1");
    let support = plan.tag_deletion.get(&target.registry).map(|support| match support {
        TagDeletion::Unsupported => format!(
            "Registry {} cannot remove a tag alone (distribution 2.8 and ferro refuse), so removing only the tag will fail.",
            target.registry
        ),
        TagDeletion::Unknown => {
            format!("Registry {} has not been asked to remove a tag alone yet; if it refuses, nothing changes.", target.registry)
        }
        TagDeletion::Supported => format!("Registry {} can remove a tag alone.", target.registry),
    });
    let current = |chosen: bool| chosen.then_some("page");
    view! {
        <section class="panel tag-choice" aria-labelledby="tag-choice-title">
            <h2 id="tag-choice-title">{format!("The manifest, or only tag {}?", target.reference)}</h2>
            <ul class="choices">
                <li><a class="choice" class:current=!tag_only aria-current=current(!tag_only) href=manifest_href>{manifest_text}</a></li>
                <li><a class="choice" class:current=tag_only aria-current=current(tag_only) href=tag_href>"Remove only the tag"</a></li>
            </ul>
            {support.map(|text| view! { <p class="small muted tag-support">{text}</p> })}
        </section>
    }
}

#[component]
fn PlanTree(nodes: Vec<TreeNode>) -> AnyView {
    view! {
        <ul class="plan-tree">
            {nodes.into_iter().map(|node| view! { <PlanNode node/> }).collect_view()}
        </ul>
    }
    .into_any()
}

#[component]
fn PlanNode(node: TreeNode) -> AnyView {
    let TreeNode { item, below } = node;
    let where_ = (item.reason == Reason::Target).then(|| format!("{}/{}", item.registry, item.repository));
    let removed_tag = item.tag.clone().filter(|_| item.reason == Reason::Target);
    view! {
        <li class="plan-item" data-digest=item.digest.clone()>
            <div class="plan-line">
                <KindIcon kind=item.kind.clone()/>
                {relation(&item.reason).map(|text| view! { <span class="relation small">{text}</span> })}
                <DigestLink href=artifact_href(&item.registry, &item.repository, &item.digest) digest=item.digest.clone()/>
                {where_.map(|text| view! { <span class="mono small">{text}</span> })}
                {removed_tag.map(|tag| view! { <span class="small">"as "<span class="tag-chip mono">{tag}</span></span> })}
                <TagChips tags=item.tags.clone()/>
                <span class="muted small">{human_size(item.size)}</span>
            </div>
            {(!below.is_empty()).then(|| view! { <PlanTree nodes=below/> })}
        </li>
    }
    .into_any()
}

#[component]
fn TagChips(tags: Vec<String>) -> impl IntoView {
    (!tags.is_empty()).then(|| {
        view! { <span class="tag-chips">{tags.into_iter().map(|tag| view! { <span class="tag-chip mono">{tag}</span> }).collect_view()}</span> }
    })
}

/// The one button that confirms the plan shown (by its id) and opens its execution page.
#[component]
fn ConfirmButton(request: PlanRequest, plan_id: String, csrf: String, label: String) -> impl IntoView {
    let reload_href = page_href(&request);
    let inputs = StoredValue::new((request, plan_id, csrf));
    let confirm = Action::new(|(request, expected, csrf): &(PlanRequest, String, String)| {
        confirm_plan(request.clone(), expected.clone(), csrf.clone())
    });
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = confirm.value().get() {
            navigate(&format!("/plans/{}", encode(&id)), NavigateOptions::default());
        }
    });
    let failure = move || match confirm.value().get() {
        Some(Err(error)) => {
            let changed = matches!(error, AppError::Conflict(_));
            let reload_href = reload_href.clone();
            Some(view! {
                <ErrorView error/>
                {changed.then(|| view! {
                    <p class="reload"><a href=reload_href rel="external">"Reload the plan"</a>" and check it again before confirming."</p>
                })}
            })
        }
        _ => None,
    };
    view! {
        <div class="confirm-bar">
            <button type="button" id="plan-confirm" class="danger-solid" disabled=move || confirm.pending().get()
                on:click=move |_| { confirm.dispatch(inputs.get_value()); }>
                {label}
            </button>
            <span class="muted small">"The registry is asked to delete exactly what is listed above."</span>
        </div>
        {failure}
    }
}

/// `/plans/:id`: a stored plan and its execution, asked again every second while it runs.
#[component]
pub fn ExecutionPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let execution = Resource::new(id, get_execution);
    poll_while_running(execution);
    view! {
        <section class="page-head">
            <h1>"Delete plan"</h1>
            <p class="muted mono small break">{id}</p>
        </section>
        <Transition fallback=|| view! { <p class="loading">"Loading the plan…"</p> }>
            {move || Suspend::new(async move {
                match execution.await {
                    Ok(execution) => view! { <ExecutionView execution/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// Refetches `execution` every second in the browser while it runs (and for a while when it is
/// planned but not started yet).
fn poll_while_running(execution: Resource<Result<Execution, AppError>>) {
    #[cfg(feature = "hydrate")]
    {
        /// How often an open execution page asks how far a running plan got.
        const POLL_MILLISECONDS: u64 = 1000;
        /// How many times a page asks about a plan that has not started (a confirmed plan
        /// starts at once; a dry run's plan never does).
        const PLANNED_POLLS: u32 = 30;
        let planned_polls = std::cell::Cell::new(0u32);
        let ask = move || {
            let state = execution.with_untracked(|loaded| match loaded {
                Some(Ok(execution)) => Some(execution.state),
                _ => None,
            });
            let again = match state {
                Some(ExecutionState::Running) => true,
                Some(ExecutionState::Planned) => {
                    planned_polls.set(planned_polls.get() + 1);
                    planned_polls.get() <= PLANNED_POLLS
                }
                _ => false,
            };
            if again {
                execution.refetch();
            }
        };
        if let Ok(handle) = set_interval_with_handle(ask, std::time::Duration::from_millis(POLL_MILLISECONDS)) {
            on_cleanup(move || handle.clear());
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = execution;
}

/// The word of a state, as `#execution-state` shows it.
fn state_word(state: ExecutionState) -> &'static str {
    match state {
        ExecutionState::Planned => "planned",
        ExecutionState::Running => "running",
        ExecutionState::Done => "done",
        ExecutionState::Partial => "partial",
        ExecutionState::Refused => "refused",
    }
}

/// An outcome as a stable key (`data-outcome`, CSS).
fn outcome_key(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Pending => "pending",
        Outcome::Deleted => "deleted",
        Outcome::AlreadyGone => "already_gone",
        Outcome::TagMoved => "tag_moved",
        Outcome::Skipped => "skipped",
        Outcome::Failed => "failed",
    }
}

#[component]
fn ExecutionView(execution: Execution) -> impl IntoView {
    let state = state_word(execution.state);
    let counts = execution.counts();
    let started = execution.started.map(|moment| moment.to_rfc3339());
    let finished = execution.finished.map(|moment| moment.to_rfc3339());
    let what = match (&execution.plan.query, execution.plan.targets.as_slice()) {
        (Some(search), _) => format!("Everything matching \u{201c}{search}\u{201d}"),
        (None, [target]) => format!("{}/{}@{}", target.registry, target.repository, short_digest(&target.digest)),
        (None, targets) => format!("{} targets", targets.len()),
    };
    view! {
        <section class="panel execution-head">
            <p class="execution-what">{what}" "<span id="execution-state" class=format!("pill pill-state-{state}")>{state}</span></p>
            <dl class="facts">
                <div><dt>"Created by"</dt><dd>{execution.plan.created_by.clone()}</dd></div>
                <div><dt>"Confirmed by"</dt><dd>{execution.executed_by.clone().unwrap_or_else(|| "—".into())}</dd></div>
                <div><dt>"Started"</dt><dd><TimeText value=started/></dd></div>
                <div><dt>"Finished"</dt><dd><TimeText value=finished/></dd></div>
            </dl>
            <p class="outcome-counts">
                {counts.into_iter().map(|(outcome, count)| view! {
                    <span class=format!("outcome outcome-{}", outcome_key(outcome))>{format!("{count} {}", outcome_label(outcome))}</span>
                }).collect_view()}
            </p>
            {(execution.state == ExecutionState::Planned).then(|| view! {
                <p class="muted small">"Stored but not started: a dry run's plan, or one waiting for its start over the API."</p>
            })}
            {execution.message.clone().map(|message| view! { <div class="error-detail" role="status"><pre class="break">{message}</pre></div> })}
        </section>
        <section class="panel">
            <h2>"Items"</h2>
            <ResultTable results=execution.results/>
        </section>
        {(!execution.rewrites.is_empty()).then(|| view! {
            <section class="panel">
                <h2>"Fallback indexes rewritten"</h2>
                <ResultTable results=execution.rewrites/>
            </section>
        })}
        <p><a href="/audit">"Audit log"</a></p>
    }
}

#[component]
fn ResultTable(results: Vec<ItemResult>) -> impl IntoView {
    view! {
        <table class="table execution">
            <thead><tr><th scope="col">"Repository"</th><th scope="col">"Digest"</th><th scope="col">"Tag"</th><th scope="col">"Outcome"</th><th scope="col">"Message"</th></tr></thead>
            <tbody>
                {results.into_iter().map(|result| view! {
                    <tr class="execution-row" data-outcome=outcome_key(result.outcome)>
                        <td class="mono small">{format!("{}/{}", result.registry, result.repository)}</td>
                        <td><ShortDigest digest=result.digest.clone()/></td>
                        <td class="mono small" data-label="Tag">{result.tag.clone().unwrap_or_default()}</td>
                        <td data-label="Outcome"><span class=format!("outcome outcome-{}", outcome_key(result.outcome))>{outcome_label(result.outcome)}</span></td>
                        <td class="small break">{result.message.clone().unwrap_or_default()}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(digest: &str, reason: Reason) -> PlanItem {
        PlanItem {
            registry: "local".into(),
            repository: "demo/app".into(),
            digest: digest.into(),
            kind: "image".into(),
            tags: Vec::new(),
            tag: None,
            size: 10,
            reason,
            depth: 0,
            after: Vec::new(),
        }
    }

    fn digests(nodes: &[TreeNode]) -> Vec<String> {
        nodes.iter().map(|node| format!("{}{:?}", node.item.digest, digests(&node.below))).collect()
    }

    #[test]
    fn items_nest_under_the_item_that_brought_them_in() {
        let referrer = item("sha256:sig", Reason::Referrer { of: "sha256:app".into() });
        let fallback = item("sha256:fallback", Reason::FallbackIndex { of: "sha256:app".into() });
        let child = item("sha256:amd64", Reason::Child { of: "sha256:index".into() });
        let (app, index) = (item("sha256:app", Reason::Target), item("sha256:index", Reason::Target));
        let items = vec![referrer, fallback, app.clone(), index.clone(), child];
        let tree = build_tree(&[index, app], &items);
        assert_eq!(
            digests(&tree),
            ["sha256:index[\"sha256:amd64[]\"]", "sha256:app[\"sha256:sig[]\", \"sha256:fallback[]\"]"]
        );
    }

    #[test]
    fn orphans_and_loops_still_show_once() {
        let orphan = item("sha256:orphan", Reason::Referrer { of: "sha256:elsewhere".into() });
        let first = item("sha256:a", Reason::Child { of: "sha256:b".into() });
        let second = item("sha256:b", Reason::Child { of: "sha256:a".into() });
        let tree = build_tree(&[], &[orphan, first, second]);
        assert_eq!(digests(&tree), ["sha256:orphan[]", "sha256:a[\"sha256:b[]\"]"]);
    }

    #[test]
    fn the_address_becomes_a_request_and_a_heading() {
        let params = |pairs: &'static [(&'static str, &'static str)]| {
            move |key: &str| pairs.iter().find(|(name, _)| *name == key).map(|(_, value)| (*value).to_owned())
        };
        let search = request_from(params(&[("q", "eol < today"), ("registry", "local")]));
        assert_eq!(search.query.as_deref(), Some("eol < today"));
        assert!(search.targets.is_empty());
        assert_eq!(heading(&search), "Delete everything matching \u{201c}eol < today\u{201d}");
        let tag = request_from(params(&[
            ("registry", "local"),
            ("repository", "demo/app"),
            ("reference", "1.0"),
            ("tag_only", "1"),
        ]));
        assert!(tag.tag_only);
        assert_eq!(heading(&tag), "Remove tag 1.0 from local/demo/app");
        assert_eq!(page_href(&tag), "/delete?registry=local&repository=demo/app&reference=1.0&tag_only=1");
        assert!(request_from(params(&[("registry", "local")])).targets.is_empty(), "a target needs all three");
    }

    #[test]
    fn the_confirm_button_names_the_count_and_the_query() {
        let mut plan = Plan {
            id: "p".into(),
            created: Default::default(),
            created_by: "admin".into(),
            query: Some("eol < today".into()),
            mode: Mode::Manifests,
            targets: Vec::new(),
            items: Vec::new(),
            kept: Vec::new(),
            broken_parents: Vec::new(),
            fallback_rewrites: Vec::new(),
            tag_deletion: Default::default(),
            warnings: Vec::new(),
            totals: Default::default(),
            truncated: false,
        };
        plan.totals.manifests = 12;
        assert_eq!(confirm_label(&plan), "Delete 12 manifests matching eol < today");
        plan.query = None;
        plan.totals.manifests = 1;
        assert_eq!(confirm_label(&plan), "Delete 1 manifest");
        plan.mode = Mode::TagOnly;
        plan.items = vec![PlanItem { tag: Some("1.0".into()), ..item("sha256:app", Reason::Target) }];
        assert_eq!(confirm_label(&plan), "Remove tag 1.0");
    }
}
