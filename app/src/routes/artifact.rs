//! An artifact: what it is, how to pull and run it, its platforms, layers, annotations,
//! config, what refers to it and what it refers to, and its raw manifest and config (loaded
//! when opened).

use leptos::prelude::*;

use crate::api::{get_artifact, get_raw_json};
use crate::components::{BadgeList, CopyButton, DateText, DigestLink, ErrorView, KindIcon, ShortDigest};
use crate::model::{
    ArtifactView, DOCUMENT_KINDS, HistoryStep, Part, RawDocument, Related, RunConfig, copy_href, human_size,
    json_array, layout_download_href, plan_href, raw_json_href,
};
use crate::routes::account::{IfCanCopy, IfCanDelete};
use crate::routes::annotations::{AnnotationTable, AttachedAnnotationTable, CompactAnnotations};
use crate::routes::attach::AttachPanel;
use crate::routes::content::ContentPanel;
use crate::routes::kinds::{ChartPanel, WasmPanel};
use crate::routes::referrers::ReferrersPanel;
use crate::routes::signatures::SignaturesPanel;

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
    let pull = artifact.pull_command.clone();
    let artifact_type = artifact.artifact_type.clone().unwrap_or_else(|| "—".into());
    let names = (artifact.registry.clone(), artifact.repository.clone(), artifact.digest.clone());
    let reference = artifact.tags.first().unwrap_or(&artifact.digest);
    let delete_href = plan_href(&artifact.registry, &artifact.repository, reference);
    let first_tag = artifact.tags.iter().find(|tag| !tag.starts_with("sha256-")).map(String::as_str);
    let attach_to = (
        artifact.registry.clone(),
        artifact.repository.clone(),
        artifact.digest.clone(),
        artifact.badges.end_of_life.clone(),
    );
    let download_href = layout_download_href(&artifact.registry, &artifact.repository, &artifact.digest, first_tag);
    let copy_href = copy_href(
        &artifact.registry,
        &artifact.repository,
        Some(&artifact.digest),
        Some(artifact.tags.iter().find(|tag| !tag.starts_with("sha256-")).map(String::as_str).unwrap_or("")),
        None,
    );
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
            {artifact.discover_command.clone().map(|tree| view! {
                <p class="discover"><span class="muted">"Tree "</span><code>{tree.clone()}</code><CopyButton text=tree label="Copy discover command"/></p>
            })}
            <p class="page-actions">
                {(artifact.badges.sbom || artifact.badges.scans > 0).then(|| view! {
                    <a class="button" id="compare-previous" href=format!("/diff?b={}", crate::model::encode(&format!("{}/{}@{}", artifact.registry, artifact.repository, artifact.digest)))
                        title="Packages and findings that changed since the tagged build before this one">"Compare with previous tag"</a>
                })}
                <a class="button" id="download-layout" href=download_href rel="external" download=""
                    title="An OCI image layout of this artifact with everything attached to it, as a tar archive">
                    "Download OCI layout"</a>
                <IfCanCopy>
                    <a class="button" id="copy-to" href=copy_href.clone()>"Copy to…"</a>
                </IfCanCopy>
            </p>
            <IfCanDelete>
                <p class="page-actions"><a class="button danger" href=delete_href.clone()>"Delete…"</a></p>
            </IfCanDelete>
        </section>
        {artifact.crawl_error.clone().map(|error| view! {
            <section class="warning-box" id="crawl-error" aria-labelledby="crawl-error-title">
                <h2 id="crawl-error-title">"Not confirmed by the latest crawl"</h2>
                <p>{error}</p>
                <p>"This page shows what ocicat last read and verified for this digest."</p>
            </section>
        })}
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
        <IfCanCopy>
            <AttachPanel registry=attach_to.0.clone() repository=attach_to.1.clone()
                digest=attach_to.2.clone() end_of_life=attach_to.3.clone()/>
        </IfCanCopy>
        {artifact.subject.clone().map(|subject| view! {
            <section class="panel"><h2>"Refers to"</h2><RelatedList items=vec![subject] base=base.clone()/></section>
        })}
        {(artifact.kind == "helm").then(|| view! {
            <ChartPanel registry=artifact.registry.clone() repository=artifact.repository.clone() digest=artifact.digest.clone()/>
        })}
        {(artifact.kind == "wasm" || artifact.annotations.iter().any(|item| item.key == "module.wasm.image/variant")).then(|| view! {
            <WasmPanel registry=artifact.registry.clone() repository=artifact.repository.clone() digest=artifact.digest.clone()/>
        })}
        {DOCUMENT_KINDS.contains(&artifact.kind.as_str()).then(|| view! {
            <ContentPanel registry=artifact.registry.clone() repository=artifact.repository.clone() digest=artifact.digest.clone()/>
        })}
        {(!artifact.verifications.is_empty()).then(|| view! {
            <section class="panel" id="verdicts">
                <h2>{if artifact.verifications.len() == 1 { "Verdict" } else { "Verdicts" }}</h2>
                <ul class="verdicts">
                    {artifact.verifications.clone().into_iter().map(|verdict| view! {
                        <li><crate::routes::signatures::VerdictView verdict/></li>
                    }).collect_view()}
                </ul>
            </section>
        })}
        {(artifact.badges.signature.is_some() || artifact.badges.attestations > 0).then(|| view! {
            <SignaturesPanel registry=artifact.registry.clone() repository=artifact.repository.clone() digest=artifact.digest.clone()/>
        })}
        {(!artifact.children.is_empty()).then(|| view! {
            <section class="panel"><h2>"Manifests in this index"</h2><PartTable parts=artifact.children.clone() base=base.clone()/></section>
        })}
        {artifact.run_config.clone().map(|run| view! { <RunPanel run/> })}
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
        // Build tools often copy the labels into the annotations: one table then, titled so.
        {
            let same = !artifact.labels.is_empty() && artifact.labels == artifact.annotations;
            let title = if same { "Annotations and image labels (the same)" } else { "Annotations" };
            view! { <section class="panel"><h2>{title}</h2><AnnotationTable items=artifact.annotations.clone()/></section> }
        }
        {(!artifact.attached_annotations.is_empty()).then(|| view! {
            <section class="panel" id="attached-annotations"><h2>"Attached annotations"</h2>
                <p class="muted small">"Added later by referrers of this artifact; searchable like its own."</p>
                <AttachedAnnotationTable items=artifact.attached_annotations.clone() base=base.clone()/>
            </section>
        })}
        {(!artifact.descriptor_annotations.is_empty()).then(|| view! {
            <section class="panel" id="descriptor-annotations"><h2>"Annotations in the index that lists it"</h2>
                <AnnotationTable items=artifact.descriptor_annotations.clone()/>
            </section>
        })}
        {(!artifact.labels.is_empty() && artifact.labels != artifact.annotations).then(|| view! {
            <section class="panel"><h2>"Image labels"</h2><AnnotationTable items=artifact.labels.clone()/></section>
        })}
        <section class="panel">
            <RawJson title="Manifest JSON".to_string() size=artifact.manifest_size names=names.clone() document=RawDocument::Manifest/>
            {artifact.config_size.map(|size| view! {
                <RawJson title=format!("Config JSON ({})", artifact.config_media_type.clone().unwrap_or_default())
                    size names=names.clone() document=RawDocument::Config/>
            })}
        </section>
    }
}

/// Registry, repository and digest of the artifact a [`RawJson`] reads.
type ArtifactNames = (String, String, String);

/// A raw JSON document behind a `<details>`, fetched from the registry through the server
/// (pretty-printed, cut at 64 KiB) the first time it is opened, so it rides neither in the HTML
/// nor in the hydration data. The link beside the summary serves the registry's bytes, with or
/// without JavaScript.
#[component]
fn RawJson(title: String, size: u64, names: ArtifactNames, document: RawDocument) -> impl IntoView {
    let href = raw_json_href(&names.0, &names.1, &names.2, document);
    let names = StoredValue::new(names);
    let load = Action::new(move |_: &()| {
        let (registry, repository, digest) = names.get_value();
        get_raw_json(registry, repository, digest, document)
    });
    let start = move || {
        let loaded = matches!(load.value().get_untracked(), Some(Ok(_)));
        if !loaded && !load.pending().get_untracked() {
            load.dispatch(());
        }
    };
    let details = NodeRef::<leptos::html::Details>::new();
    // Opened before the page was hydrated: the toggle went unheard, so load now.
    Effect::new(move |_| {
        if details.get().is_some_and(|element| element.open()) {
            start();
        }
    });
    let on_toggle = move |event: leptos::ev::Event| {
        if event_target::<leptos::web_sys::HtmlDetailsElement>(&event).open() {
            start();
        }
    };
    let body = move || {
        if load.pending().get() {
            return view! { <p class="loading">"Loading…"</p> }.into_any();
        }
        match load.value().get() {
            Some(Ok(text)) => view! { <pre class="json">{text}</pre> }.into_any(),
            Some(Err(error)) => view! { <p class="raw-error" role="alert">{format!("Could not load it: {error}")}</p> }.into_any(),
            None => view! { <p class="muted small">"Shown here once loaded; the raw JSON link works without JavaScript."</p> }.into_any(),
        }
    };
    let link_label = format!("{title}, raw");
    view! {
        <div class="raw-json">
            <details node_ref=details on:toggle=on_toggle>
                <summary>{title}" "<span class="muted small">{human_size(size)}</span></summary>
                {body}
            </details>
            <a class="raw-link small" href=href rel="external" aria-label=link_label>"Raw JSON"</a>
        </div>
    }
    .into_any()
}

/// How the image runs: the command its entrypoint and `Cmd` make (shell-quoted, and each as
/// the exec-form JSON array), the environment as `KEY=value` rows, and the other settings.
#[component]
fn RunPanel(run: RunConfig) -> impl IntoView {
    let command = run.command();
    let setting = |label: &'static str, value: Option<String>| {
        value.map(|value| view! { <div><dt>{label}</dt><dd class="mono break"><bdi>{value}</bdi></dd></div> })
    };
    let exec_form = |arguments: &[String]| (!arguments.is_empty()).then(|| json_array(arguments));
    let listed = |items: &[String]| (!items.is_empty()).then(|| items.join(", "));
    let env = (!run.env.is_empty()).then(|| view! {
        <div><dt>"Environment"</dt><dd>
            <ul class="env-list mono">
                {run.env.iter().map(|var| view! { <li class="break"><bdi>{var.name.clone()}</bdi>"="<bdi>{var.value.clone()}</bdi></li> }).collect_view()}
            </ul>
        </dd></div>
    });
    view! {
        <section class="panel" id="run-config">
            <h2>"Run configuration"</h2>
            <dl class="kv-list run-config">
                {setting("Command", (!command.is_empty()).then_some(command))}
                {setting("Entrypoint (exec form)", exec_form(&run.entrypoint))}
                {setting("Cmd (exec form)", exec_form(&run.cmd))}
                {setting("Working directory", run.working_dir.clone())}
                {setting("User", run.user.clone())}
                {setting("Exposed ports", listed(&run.exposed_ports))}
                {setting("Volumes", listed(&run.volumes))}
                {setting("Stop signal", run.stop_signal.clone())}
                {env}
            </dl>
            {run.truncated.then(|| view! { <p class="card-note small">"Some values are too long and are cut here; the config JSON has them whole."</p> })}
        </section>
    }
    .into_any()
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
                            <td>{part.label.clone().unwrap_or_default()}<CompactAnnotations items=part.annotations.clone()/></td>
                            <td class="num" data-label="Size">{human_size(part.size)}</td>
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
                            <td data-label="Created"><DateText value=step.created.clone()/></td>
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
