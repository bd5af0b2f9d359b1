//! The plan page (`/delete`): what a delete would take as a tree of targets and what goes with
//! them, what stays, what breaks, which fallback indexes are pushed again, and one button that
//! confirms exactly that plan and opens its execution page (`routes/execution.rs`).

use std::collections::{HashMap, HashSet};

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::components::{DigestLink, ErrorView, KindIcon, TagChips};
use crate::error::AppError;
use crate::lifecycle::{confirm_plan, preview_plan};
use crate::model::{
    Mode, Plan, PlanItem, PlanPreview, PlanRequest, Reason, TagDeletion, TargetSpec, human_size, plan_href,
    plan_search_href, short_digest,
};
use crate::toolbar::encode;

/// `/delete?registry=…&repository=…&reference=…` or `/delete?q=…`, with `tag_only=1` to remove
/// only a tag: the plan, and the button that confirms it.
#[component]
pub fn DeletePage() -> impl IntoView {
    let query = use_query_map();
    let request = Memo::new(move |_| request_from(|key| query.read().get(key)));
    let preview = Resource::new(move || request.get(), preview_plan);
    view! {
        <section class="page-head">
            <nav class="crumbs" aria-label="Breadcrumb">{move || back_link(&request.get())}</nav>
            <h1>{move || heading(&request.get())}</h1>
            <p class="lead">"Nothing is deleted before you confirm. Blobs stay until the registry's garbage collection runs."</p>
        </section>
        <Suspense fallback=|| view! { <p class="loading">"Working out what would go…"</p> }>
            {move || Suspend::new(async move {
                match preview.await {
                    Ok(preview) => view! { <PlanView preview request=request.get_untracked()/> }.into_any(),
                    // An empty plan, a digest asked to lose only a tag: the address is fine, the plan is not.
                    Err(AppError::BadRequest(reason)) => view! { <NoPlan reason/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn NoPlan(reason: String) -> impl IntoView {
    crate::error::set_page_status(&AppError::BadRequest(reason.clone()));
    view! {
        <div class="error-box" role="alert">
            <h2>"Nothing to delete"</h2>
            <p>{reason}</p>
        </div>
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

/// Where the delete was asked from: the search, or the artifact.
fn back_link(request: &PlanRequest) -> Option<AnyView> {
    let (href, text) = match (&request.query, request.targets.first()) {
        (Some(search), _) => (format!("/search?q={}", encode(search)), "\u{2190} Back to the search".to_owned()),
        (None, Some(target)) => {
            let separator = if target.reference.contains(':') { "/@" } else { ":" };
            let href = format!("/r/{}/{}{separator}{}", target.registry, target.repository, target.reference);
            (href, format!("\u{2190} Back to {}", target_name(target)))
        }
        (None, None) => return None,
    };
    Some(view! { <a href=href>{text}</a> }.into_any())
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
                view! { <PlanTree nodes=tree mode=plan.mode/> }.into_any()
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
        {if !plan.incomplete.is_empty() {
            view! {
                <p class="plan-blocked" role="status">
                    "Nothing can be deleted from this plan: the latest crawl of "
                    {plan.incomplete.join(", ")}
                    " did not see everything. Refresh the repository, then plan again."
                </p>
            }.into_any()
        } else if !plan.items.is_empty() {
            view! { <ConfirmButton request plan_id=plan.id.clone() csrf label/> }.into_any()
        } else {
            ().into_any()
        }}
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
    // In a tag-only plan the warnings already say whether the registry can.
    let support = plan.tag_deletion.get(&target.registry).filter(|_| !tag_only).map(|support| match support {
        TagDeletion::Unsupported => format!(
            "Registry {} refused to remove a tag alone, even through a throwaway manifest, so removing only the tag will fail.",
            target.registry
        ),
        TagDeletion::Throwaway => format!(
            "Registry {} cannot delete a tag: ocicat points it at a throwaway manifest and deletes that; the image and its other tags stay.",
            target.registry
        ),
        TagDeletion::Unknown => format!(
            "Registry {} has not been asked to remove a tag alone yet; if it cannot, ocicat points the tag at a throwaway manifest and deletes that.",
            target.registry
        ),
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
fn PlanTree(nodes: Vec<TreeNode>, mode: Mode) -> AnyView {
    view! {
        <ul class="plan-tree">
            {nodes.into_iter().map(|node| view! { <PlanNode node mode/> }).collect_view()}
        </ul>
    }
    .into_any()
}

/// One item: a manifest with its tags and size, or (tag-only) the tag that goes.
#[component]
fn PlanNode(node: TreeNode, mode: Mode) -> AnyView {
    let TreeNode { item, below } = node;
    let where_ = (item.reason == Reason::Target).then(|| format!("{}/{}", item.registry, item.repository));
    let what = match (mode, item.tag.clone()) {
        (Mode::TagOnly, Some(tag)) => view! {
            <span class="small">"tag "</span><TagChips tags=vec![tag]/><span class="muted small">"(the manifest stays)"</span>
        }
        .into_any(),
        _ => view! { <TagChips tags=item.tags.clone()/><span class="muted small">{human_size(item.size)}</span> }.into_any(),
    };
    view! {
        <li class="plan-item" data-digest=item.digest.clone()>
            <div class="plan-line">
                <KindIcon kind=item.kind.clone()/>
                {relation(&item.reason).map(|text| view! { <span class="relation small">{text}</span> })}
                <DigestLink href=artifact_href(&item.registry, &item.repository, &item.digest) digest=item.digest.clone()/>
                {where_.map(|text| view! { <span class="mono small">{text}</span> })}
                {what}
            </div>
            {(!below.is_empty()).then(|| view! { <PlanTree nodes=below mode/> })}
        </li>
    }
    .into_any()
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
            incomplete: Vec::new(),
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
