//! An artifact: what it is, how to pull it, its platforms, layers, annotations, config,
//! what refers to it and what it refers to, and its raw manifest.

use leptos::prelude::*;

use crate::api::get_artifact;
use crate::components::{BadgeList, CopyButton, DateText, DigestLink, ErrorView, KindIcon, ShortDigest};
use crate::model::{Annotation, ArtifactView, HistoryStep, Part, Related, human_size};
use crate::routes::referrers::ReferrersPanel;

/// The artifact page for `digest` in `registry`/`repository`.
#[component]
pub fn ArtifactPage(registry: String, repository: String, digest: String) -> impl IntoView {
    let data = Resource::new(
        move || (registry.clone(), repository.clone(), digest.clone()),
        |(registry, repository, digest)| get_artifact(registry, repository, digest),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading artifact…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(artifact) => view! { <ArtifactDetails artifact/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn ArtifactDetails(artifact: ArtifactView) -> impl IntoView {
    let base = format!("/r/{}/{}", artifact.registry, artifact.repository);
    let title = artifact.tags.first().cloned().unwrap_or_else(|| crate::model::short_digest(&artifact.digest));
    let pull = format!("docker pull {}/{}@{}", artifact.host, artifact.repository, artifact.digest);
    let artifact_type = artifact.artifact_type.clone().unwrap_or_else(|| "—".into());
    view! {
        <nav class="crumbs" aria-label="Breadcrumb">
            <a href="/">"Registries"</a><span>"/"</span>
            <a href=format!("/r/{}", artifact.registry)>{artifact.registry.clone()}</a><span>"/"</span>
            <a href=base.clone()>{artifact.repository.clone()}</a><span>"/"</span>
            <span>{title.clone()}</span>
        </nav>
        <section class="page-head artifact-head">
            <h1><KindIcon kind=artifact.kind.clone()/> " " <span class="mono">{format!("{}:{}", artifact.repository, title)}</span></h1>
            <BadgeList badges=artifact.badges.clone()/>
            <p class="pull"><span class="muted">"Pull "</span><code>{pull.clone()}</code><CopyButton text=pull label="Copy pull command"/></p>
        </section>
        <section class="panel">
            <dl class="facts">
                <div><dt>"Digest"</dt><dd><code class="mono break">{artifact.digest.clone()}</code></dd></div>
                <div><dt>"Kind"</dt><dd>{artifact.kind.clone()}</dd></div>
                <div><dt>"Media type"</dt><dd class="mono">{artifact.media_type.clone()}</dd></div>
                <div><dt>"Artifact type"</dt><dd class="mono">{artifact_type}</dd></div>
                <div><dt>"Tags"</dt><dd>{if artifact.tags.is_empty() { "untagged".to_string() } else { artifact.tags.join(", ") }}</dd></div>
                <div><dt>"Platforms"</dt><dd>{if artifact.platforms.is_empty() { "—".to_string() } else { artifact.platforms.join(", ") }}</dd></div>
                <div><dt>"Size"</dt><dd>{human_size(artifact.size)}</dd></div>
                <div><dt>"Created"</dt><dd><DateText value=artifact.created.clone()/></dd></div>
            </dl>
        </section>
        {artifact.subject.clone().map(|subject| view! {
            <section class="panel"><h2>"Refers to"</h2><RelatedList items=vec![subject] base=base.clone()/></section>
        })}
        {(!artifact.children.is_empty()).then(|| view! {
            <section class="panel"><h2>"Manifests in this index"</h2><PartTable parts=artifact.children.clone() base=base.clone()/></section>
        })}
        {(!artifact.layers.is_empty()).then(|| view! {
            <section class="panel"><h2>"Layers"</h2><PartTable parts=artifact.layers.clone() base=base.clone()/></section>
        })}
        {(!artifact.history.is_empty()).then(|| view! {
            <section class="panel"><h2>"History"</h2><HistoryTable steps=artifact.history.clone()/></section>
        })}
        <ReferrersPanel registry=artifact.registry.clone() repository=artifact.repository.clone()
            digest=artifact.digest.clone() types=artifact.referrer_types.clone() count=artifact.referrer_count/>
        {(!artifact.parents.is_empty()).then(|| view! {
            <section class="panel"><h2>"Indexes that contain it"</h2><RelatedList items=artifact.parents.clone() base=base.clone()/></section>
        })}
        <section class="panel"><h2>"Annotations"</h2><AnnotationTable items=artifact.annotations.clone()/></section>
        {(!artifact.labels.is_empty()).then(|| view! {
            <section class="panel"><h2>"Labels"</h2><AnnotationTable items=artifact.labels.clone()/></section>
        })}
        <section class="panel">
            <details>
                <summary>"Manifest JSON"</summary>
                <pre class="json">{artifact.manifest_json.clone()}</pre>
            </details>
            {artifact.config_json.clone().map(|config| view! {
                <details>
                    <summary>{format!("Config JSON ({})", artifact.config_media_type.clone().unwrap_or_default())}</summary>
                    <pre class="json">{config}</pre>
                </details>
            })}
        </section>
    }
}

#[component]
fn PartTable(parts: Vec<Part>, base: String) -> impl IntoView {
    view! {
        <table class="table">
            <thead><tr><th>"Digest"</th><th>"Media type"</th><th>"Detail"</th><th class="num">"Size"</th></tr></thead>
            <tbody>
                {parts.into_iter().map(|part| {
                    let digest_view = if part.linked {
                        view! { <DigestLink href=format!("{base}/@{}", part.digest) digest=part.digest.clone()/> }.into_any()
                    } else {
                        view! { <ShortDigest digest=part.digest.clone()/> }.into_any()
                    };
                    view! {
                        <tr>
                            <td>{digest_view}</td>
                            <td class="mono small">{part.media_type.clone()}</td>
                            <td>{part.label.clone().unwrap_or_default()}</td>
                            <td class="num">{human_size(part.size)}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn HistoryTable(steps: Vec<HistoryStep>) -> impl IntoView {
    view! {
        <table class="table history">
            <thead><tr><th>"Step"</th><th>"Created by"</th><th>"Created"</th></tr></thead>
            <tbody>
                {steps.into_iter().enumerate().map(|(number, step)| {
                    let command = if step.created_by.is_empty() { step.comment.clone().unwrap_or_default() } else { step.created_by.clone() };
                    view! {
                        <tr class:empty-layer=step.empty_layer>
                            <td class="num">{number + 1}</td>
                            <td class="mono small break">{command}{step.empty_layer.then(|| view! { <span class="muted small">" (no layer)"</span> })}</td>
                            <td><DateText value=step.created.clone()/></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn RelatedList(items: Vec<Related>, base: String) -> impl IntoView {
    view! {
        <ul class="related">
            {items.into_iter().map(|item| view! {
                <li>
                    <KindIcon kind=item.kind.clone()/>
                    <DigestLink href=format!("{base}/@{}", item.digest) digest=item.digest.clone()/>
                    <span class="mono small">{item.artifact_type.clone()}</span>
                    <DateText value=item.created.clone()/>
                </li>
            }).collect_view()}
        </ul>
    }
}

#[component]
fn AnnotationTable(items: Vec<Annotation>) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="muted">"None."</p> }.into_any();
    }
    view! {
        <table class="table kv">
            <tbody>
                {items.into_iter().map(|item| {
                    let value = if item.is_link {
                        view! { <a href=item.value.clone() rel="noopener noreferrer nofollow" target="_blank"><bdi>{item.value.clone()}</bdi></a> }.into_any()
                    } else {
                        view! { <bdi>{item.value.clone()}</bdi> }.into_any()
                    };
                    view! { <tr><th class="mono small">{item.key.clone()}</th><td class="break">{value}</td></tr> }
                }).collect_view()}
            </tbody>
        </table>
    }.into_any()
}
