//! The referrers tree of an artifact, like `oras discover`: what is attached to it, what is
//! attached to those, and so on, each node with its kind, artifact type, date and (on demand)
//! annotations. The controls — artifact type, order, top N — live in the URL: a GET form
//! without JavaScript, an in-place reload of the tree with it.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::list_referrers;
use crate::components::{DateText, DigestLink, ErrorView, KindIcon};
use crate::model::{Annotation, ReferrerNodeView, ReferrerTreeView};
use crate::toolbar::encode;

const TOPS: [usize; 4] = [0, 1, 5, 10];

/// The tree of referrers of `digest`, with its controls; `types` are the artifact types of the
/// direct referrers (the filter's choices), `count` how many there are.
#[component]
pub fn ReferrersPanel(
    registry: String,
    repository: String,
    digest: String,
    types: Vec<String>,
    count: usize,
) -> impl IntoView {
    let query = use_query_map();
    let wanted = move || query.read().get("artifactType").unwrap_or_default();
    let order = move || query.read().get("order").filter(|order| order == "oldest").unwrap_or_else(|| "newest".into());
    let top = move || query.read().get("top").and_then(|top| top.parse::<usize>().ok()).unwrap_or(0);
    let base = format!("/r/{registry}/{repository}/@{digest}");
    let names = StoredValue::new((registry, repository, digest));
    let tree = Resource::new(
        move || (names.get_value(), wanted(), order(), top()),
        |((registry, repository, digest), wanted, order, top)| {
            list_referrers(registry, repository, digest, wanted, order, top)
        },
    );
    let navigate = use_navigate();
    let target = StoredValue::new(base.clone());
    let go = move |wanted: String, order: String, top: usize| {
        let href = format!(
            "{}?artifactType={}&order={}&top={top}#referrers",
            target.get_value(),
            encode(&wanted),
            encode(&order)
        );
        navigate(&href, NavigateOptions { replace: true, scroll: false, ..NavigateOptions::default() });
    };
    let (go_type, go_order, go_top) = (go.clone(), go.clone(), go);
    let item_base = StoredValue::new(base.split("/@").next().unwrap_or_default().to_owned());
    view! {
        <section class="panel" id="referrers">
            <h2>{format!("Referrers ({count})")}</h2>
            {if count == 0 {
                view! { <p class="muted">"Nothing refers to this artifact."</p> }.into_any()
            } else {
                view! {
                    <form class="toolbar referrer-controls" method="get" action=base.clone()>
                        <label for="referrer-type">"Type"</label>
                        <select id="referrer-type" name="artifactType"
                            on:change=move |event| go_type(event_target_value(&event), order(), top())>
                            <option value="" selected=move || wanted().is_empty()>"All types"</option>
                            {types.into_iter().map(|kind| {
                                let value = kind.clone();
                                view! { <option value=kind.clone() selected=move || wanted() == value>{kind.clone()}</option> }
                            }).collect_view()}
                        </select>
                        <label for="referrer-order">"Order"</label>
                        <select id="referrer-order" name="order"
                            on:change=move |event| go_order(wanted(), event_target_value(&event), top())>
                            <option value="newest" selected=move || order() == "newest">"Newest first"</option>
                            <option value="oldest" selected=move || order() == "oldest">"Oldest first"</option>
                        </select>
                        <label for="referrer-top">"Show"</label>
                        <select id="referrer-top" name="top"
                            on:change=move |event| go_top(wanted(), order(), event_target_value(&event).parse().unwrap_or(0))>
                            {TOPS.iter().map(|n| {
                                let n = *n;
                                let label = if n == 0 { "All".to_string() } else { format!("Top {n}") };
                                view! { <option value=n.to_string() selected=move || top() == n>{label}</option> }
                            }).collect_view()}
                        </select>
                        <button type="submit" class="apply">"Apply"</button>
                    </form>
                    <Transition fallback=|| view! { <p class="loading">"Loading referrers…"</p> }>
                        {move || Suspend::new(async move {
                            match tree.await {
                                Ok(tree) => view! { <Tree tree base=item_base.get_value()/> }.into_any(),
                                Err(error) => view! { <ErrorView error/> }.into_any(),
                            }
                        })}
                    </Transition>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn Tree(tree: ReferrerTreeView, base: String) -> impl IntoView {
    let shown = tree.nodes.len();
    let summary =
        if shown < tree.total { format!("{shown} of {} shown", tree.total) } else { format!("{} shown", tree.total) };
    view! {
        <p class="muted small" data-testid="referrer-count">{summary}</p>
        {tree.truncated.then(|| view! { <p class="card-note small">"The tree is deep or large; the deepest levels are left out."</p> })}
        <Nodes nodes=tree.nodes base/>
    }
}

/// One level of the tree (recursive through [`Node`]).
#[component]
fn Nodes(nodes: Vec<ReferrerNodeView>, base: String) -> impl IntoView {
    view! {
        <ul class="referrer-tree">
            {nodes.into_iter().map(|node| view! { <Node node base=base.clone()/> }).collect_view()}
        </ul>
    }
}

#[component]
fn Node(node: ReferrerNodeView, base: String) -> AnyView {
    let item = node.artifact;
    let found = if item.sources.is_empty() {
        "How it was found is not recorded yet (the next crawl records it)".to_string()
    } else {
        format!("Found through the {}", item.sources.join(", the "))
    };
    let children = (!node.referrers.is_empty()).then(|| {
        let nested = node.referrers;
        let base = base.clone();
        view! { <Nodes nodes=nested base/> }.into_any()
    });
    view! {
        <li class="referrer-node">
            <div class="referrer-line" title=found>
                <KindIcon kind=item.kind.clone()/>
                <DigestLink href=format!("{base}/@{}", item.digest) digest=item.digest.clone()/>
                <span class="mono small">{item.artifact_type.clone()}</span>
                <DateText value=item.created.clone()/>
                {item.signature.clone().map(|signature| view! { <crate::components::SignatureBadgeView signature/> })}
            </div>
            <Annotations items=node.annotations/>
            {children}
        </li>
    }
    .into_any()
}

/// A node's annotations, folded until asked for.
#[component]
fn Annotations(items: Vec<Annotation>) -> impl IntoView {
    (!items.is_empty()).then(|| {
        let count = items.len();
        view! {
            <details class="referrer-annotations">
                <summary class="small">{if count == 1 { "1 annotation".to_string() } else { format!("{count} annotations") }}</summary>
                <dl class="kv-list small">
                    {items.into_iter().map(|item| view! {
                        <div><dt class="mono">{item.key.clone()}</dt><dd class="break"><bdi>{item.value.clone()}</bdi></dd></div>
                    }).collect_view()}
                </dl>
            </details>
        }
    })
}
