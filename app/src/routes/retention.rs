//! Retention (`/retention`): each policy in words (what it covers, its rules, its schedule,
//! whether its runs only report) with a "Dry run now" button for those who may run it, the
//! recent runs, and one run's report (`/retention/runs/:id`): every artifact considered with its
//! verdict, and the plan of what goes.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::components::{EmptyState, ErrorView, ShortDigest, TagChips, TimeText};
use crate::lifecycle::{dry_run_retention, get_retention_run, list_retention};
use crate::model::{PolicyView, RetentionChoice, RetentionRun, RetentionView, human_size};
use crate::toolbar::encode;

/// The retention page.
#[component]
pub fn RetentionPage() -> impl IntoView {
    let view_data = Resource::new(|| (), |()| list_retention());
    view! {
        <section class="page-head">
            <h1>"Retention"</h1>
            <p class="lead">"Policies that choose stale builds to delete, never what a kept artifact needs. A dry run only reports."</p>
        </section>
        <Suspense fallback=|| view! { <p class="loading">"Loading policies…"</p> }>
            {move || Suspend::new(async move {
                match view_data.await {
                    Ok(data) => view! { <Policies data/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Policies(data: RetentionView) -> impl IntoView {
    let RetentionView { policies, runs, csrf } = data;
    let policy_list = if policies.is_empty() {
        view! { <EmptyState title="No retention policies".to_string() hint="Add a [[retention]] section to ocicat.toml and restart ocicat.".to_string()/> }.into_any()
    } else {
        policies.into_iter().map(|policy| view! { <PolicyPanel policy csrf=csrf.clone()/> }).collect_view().into_any()
    };
    view! {
        {policy_list}
        <section class="panel" aria-labelledby="runs-title">
            <h2 id="runs-title">"Recent runs"</h2>
            {if runs.is_empty() {
                view! { <p class="muted">"No runs yet."</p> }.into_any()
            } else {
                view! { <RunTable runs/> }.into_any()
            }}
        </section>
    }
}

#[component]
fn PolicyPanel(policy: PolicyView, csrf: String) -> impl IntoView {
    let name = policy.name.clone();
    let run = Action::new(move |name: &String| dry_run_retention(name.clone(), csrf.clone()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(report)) = run.value().get() {
            navigate(&format!("/retention/runs/{}", encode(&report.id)), NavigateOptions::default());
        }
    });
    let failure = move || match run.value().get() {
        Some(Err(error)) => Some(view! { <ErrorView error/> }),
        _ => None,
    };
    let note = if policy.dry_run {
        "Its runs only report: nothing is deleted."
    } else {
        "Its scheduled runs delete; \u{201c}Dry run now\u{201d} only reports."
    };
    view! {
        <section class="panel policy" data-policy=policy.name.clone()>
            <div class="card-top">
                <h2>{policy.name.clone()}" "<span class=if policy.dry_run { "pill" } else { "pill pill-deletes" }>{if policy.dry_run { "dry run" } else { "deletes" }}</span></h2>
                {policy.can_run.then(|| view! {
                    <button type="button" class="refresh" disabled=move || run.pending().get()
                        on:click=move |_| { run.dispatch(name.clone()); }>
                        {move || if run.pending().get() { "Running…" } else { "Dry run now" }}
                    </button>
                })}
            </div>
            <dl class="facts">
                <div><dt>"Covers"</dt><dd class="mono">{policy.covers.clone()}</dd></div>
                <div><dt>"Schedule"</dt><dd>{policy.schedule.clone()}</dd></div>
            </dl>
            <ul class="rules">{policy.rules.iter().map(|rule| view! { <li>{rule.clone()}</li> }).collect_view()}</ul>
            <p class="muted small">{note}</p>
            {failure}
        </section>
    }
}

#[component]
fn RunTable(runs: Vec<RetentionRun>) -> impl IntoView {
    view! {
        <table class="table runs">
            <thead>
                <tr>
                    <th scope="col">"Policy"</th><th scope="col">"When"</th><th scope="col">"Dry run"</th>
                    <th scope="col">"Chosen"</th><th scope="col">"Manifests"</th><th scope="col">"Deleted"</th>
                    <th scope="col">"Failed"</th><th scope="col"><span class="visually-hidden">"Report"</span></th>
                </tr>
            </thead>
            <tbody>
                {runs.into_iter().map(|run| {
                    let chosen = run.choices.iter().filter(|choice| choice.delete).count();
                    view! {
                        <tr class="run-row" data-run=run.id.clone()>
                            <td>{run.policy.clone()}</td>
                            <td data-label="When"><TimeText value=Some(run.started.to_rfc3339())/></td>
                            <td data-label="Dry run">{if run.dry_run { "yes" } else { "no" }}</td>
                            <td class="num" data-label="Chosen">{chosen}</td>
                            <td class="num" data-label="Manifests">{totals(&run, run.manifests)}</td>
                            <td class="num" data-label="Deleted">{totals(&run, run.deleted)}</td>
                            <td class="num" data-label="Failed">{totals(&run, run.failed)}</td>
                            <td><a href=format!("/retention/runs/{}", encode(&run.id))>"Report"</a></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// A run's total as the reader may see it: a dash when lines they may not read were left out.
fn totals(run: &RetentionRun, count: u64) -> String {
    if run.hidden > 0 { "—".to_owned() } else { count.to_string() }
}

/// One retention run's report.
#[component]
pub fn RetentionRunPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let report = Resource::new(id, get_retention_run);
    view! {
        <nav class="crumbs" aria-label="Breadcrumb"><a href="/retention">"Retention"</a><span>"/"</span><span>"Run"</span></nav>
        <Suspense fallback=|| view! { <p class="loading">"Loading the report…"</p> }>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(run) => view! { <RunReport run/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn RunReport(run: RetentionRun) -> impl IntoView {
    let chosen = run.choices.iter().filter(|choice| choice.delete).count();
    view! {
        <section class="page-head">
            <h1>{format!("Retention run of {}", run.policy)}{run.dry_run.then(|| view! { " "<span class="pill">"dry run"</span> })}</h1>
        </section>
        <section class="panel" id="run-summary">
            <dl class="facts">
                <div><dt>"Started"</dt><dd><TimeText value=Some(run.started.to_rfc3339())/></dd></div>
                <div><dt>"Finished"</dt><dd><TimeText value=run.finished.map(|moment| moment.to_rfc3339())/></dd></div>
                <div><dt>"Considered"</dt><dd>{format!("{} artifacts, {chosen} chosen", run.choices.len())}</dd></div>
                {(run.hidden == 0).then(|| view! {
                    <div><dt>"Plan"</dt><dd>{format!("{} manifests, {}", run.manifests, human_size(run.bytes))}</dd></div>
                    {(!run.dry_run).then(|| view! { <div><dt>"Deleted"</dt><dd>{format!("{} deleted, {} failed", run.deleted, run.failed)}</dd></div> })}
                })}
            </dl>
            {(run.hidden > 0).then(|| view! {
                <p class="card-note small" id="run-hidden">
                    {format!("{} more artifacts in repositories you may not read are left out, and so are the run's totals and its plan.", run.hidden)}
                </p>
            })}
            {run.plan_id.clone().map(|id| view! {
                <p><a href=format!("/plans/{}", encode(&id))>{if run.dry_run { "The plan it would run" } else { "Its plan and each item's outcome" }}</a></p>
            })}
            {run.error.clone().map(|error| view! { <div class="error-detail" role="status"><h3>"The run failed"</h3><pre class="break">{error}</pre></div> })}
        </section>
        <section class="panel">
            <h2>"Artifacts considered"</h2>
            {if run.choices.is_empty() {
                view! { <p class="muted">"None: the policy covers nothing in the catalog."</p> }.into_any()
            } else {
                view! { <ChoiceTable choices=run.choices/> }.into_any()
            }}
        </section>
    }
}

#[component]
fn ChoiceTable(choices: Vec<RetentionChoice>) -> impl IntoView {
    view! {
        <table class="table retention-choices">
            <thead><tr><th scope="col">"Repository"</th><th scope="col">"Digest"</th><th scope="col">"Tags"</th><th scope="col">"Verdict"</th><th scope="col">"Delete"</th></tr></thead>
            <tbody>
                {choices.into_iter().map(|choice| view! {
                    <tr class="choice-row" data-delete=choice.delete.to_string()>
                        <td class="mono small">{format!("{}/{}", choice.registry, choice.repository)}</td>
                        <td><ShortDigest digest=choice.digest.clone()/></td>
                        <td data-label="Tags"><TagChips tags=choice.tags.clone()/></td>
                        <td class="small">{choice.verdict.clone()}</td>
                        <td data-label="Delete">{if choice.delete {
                            view! { <span class="verdict verdict-delete">"delete"</span> }.into_any()
                        } else {
                            view! { <span class="verdict verdict-keep">"keep"</span> }.into_any()
                        }}</td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}
