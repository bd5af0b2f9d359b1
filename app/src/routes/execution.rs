//! The execution page (`/plans/:id`): a confirmed plan's state, each item's outcome and the
//! fallback indexes rewritten, asked again every second while it runs.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::{ErrorView, KindIcon, ShortDigest, TagChips, TimeText};
use crate::error::AppError;
use crate::lifecycle::get_execution;
use crate::model::{Execution, ExecutionState, ItemResult, PlanItem, short_digest};

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

#[component]
fn ExecutionView(execution: Execution) -> impl IntoView {
    let state = ExecutionState::key(execution.state);
    let items = execution.plan.items.clone();
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
                    <span class=format!("outcome outcome-{}", outcome.key())>{format!("{count} {}", outcome.label())}</span>
                }).collect_view()}
            </p>
            {(execution.state == ExecutionState::Planned).then(|| view! {
                <p class="muted small">"Stored but not started: a dry run's plan, or one waiting for its start over the API."</p>
            })}
            {execution.message.clone().map(|message| view! { <div class="error-detail" role="status"><pre class="break">{message}</pre></div> })}
        </section>
        <section class="panel">
            <h2>"Items"</h2>
            <ResultTable results=execution.results items=items.clone() row_class="execution-row"/>
        </section>
        {(!execution.rewrites.is_empty()).then(|| view! {
            <section class="panel">
                <h2>"Fallback indexes rewritten"</h2>
                <ResultTable results=execution.rewrites items=Vec::new() row_class="rewrite-row"/>
            </section>
        })}
        <p><a href="/audit">"Audit log"</a></p>
    }
}

/// Results with, for plan items, the kind and tags the plan recorded (`items`).
#[component]
fn ResultTable(results: Vec<ItemResult>, items: Vec<PlanItem>, row_class: &'static str) -> impl IntoView {
    let planned = |result: &ItemResult| {
        items.iter().find(|item| {
            item.digest == result.digest && item.repository == result.repository && item.registry == result.registry
        })
    };
    let rows = results
        .into_iter()
        .map(|result| {
            let item = planned(&result);
            let kind = item.map(|item| view! { <KindIcon kind=item.kind.clone()/> });
            let tags = match (&result.tag, item) {
                (Some(tag), _) => vec![tag.clone()],
                (None, Some(item)) => item.tags.clone(),
                (None, None) => Vec::new(),
            };
            let key = result.outcome.key();
            view! {
                <tr class=row_class data-outcome=key>
                    <td class="mono small">{format!("{}/{}", result.registry, result.repository)}</td>
                    <td><span class="digest-cell">{kind}<ShortDigest digest=result.digest.clone()/></span></td>
                    <td data-label="Tag"><TagChips tags/></td>
                    <td data-label="Outcome"><span class=format!("outcome outcome-{key}")>{result.outcome.label()}</span></td>
                    <td class="small break">{result.message.clone().unwrap_or_default()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table execution">
            <thead><tr><th scope="col">"Repository"</th><th scope="col">"Digest"</th><th scope="col">"Tags"</th><th scope="col">"Outcome"</th><th scope="col">"Message"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}
