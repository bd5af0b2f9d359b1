//! The page that marks the end of life of everything a search finds (`/attach?q=…`), or takes
//! it back: the artifacts listed first (referrers left out, they follow their subject), then
//! one button that pushes a lifecycle referrer to each, and how each went.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::{DigestLink, ErrorView};
use crate::error::AppError;
use crate::model::{AttachRequest, BulkAttachView, encode};

/// What `attach` would go to for the search `query`, or (not a dry run) attaches it to each (a
/// POST carrying the session's anti-CSRF token). The parts travel apart: a flattened request does
/// not survive the URL-encoded server-function body.
#[server]
pub async fn attach_to_results(
    query: String,
    attach: AttachRequest,
    dry_run: bool,
    csrf: String,
) -> Result<BulkAttachView, AppError> {
    use crate::model::BulkAttachRequest;
    use crate::shim::*;
    if !dry_run {
        check_csrf(&csrf)?;
    }
    service()?.attach_to_results(&principal(), BulkAttachRequest { query, attach, dry_run }).await
}

/// The page.
#[component]
pub fn BulkAttachPage() -> impl IntoView {
    let query = use_query_map().read_untracked().get("q").unwrap_or_default();
    let preview = Resource::new(
        {
            let query = query.clone();
            move || query.clone()
        },
        |query| async move {
            // A dry run checks the attachment too: one that is always valid stands in.
            let stand_in = AttachRequest { revoke_end_of_life: true, ..Default::default() };
            attach_to_results(query, stand_in, true, String::new()).await
        },
    );
    let date = RwSignal::new(String::new());
    let running = Action::new(move |attach: &AttachRequest| {
        let (query, attach) = (query.clone(), attach.clone());
        async move {
            let csrf = crate::account::who_am_i().await?.csrf;
            attach_to_results(query, attach, false, csrf).await
        }
    });
    let mark = move |_| {
        running.dispatch(AttachRequest { end_of_life: Some(date.get_untracked()), ..Default::default() });
    };
    let revoke = move |_| {
        running.dispatch(AttachRequest { revoke_end_of_life: true, ..Default::default() });
    };
    let idle = move || !running.pending().get() && running.value().get().is_none();
    view! {
        <nav class="crumbs" aria-label="Breadcrumb"><a href="/">"Registries"</a><span>"/"</span><span>"Mark end of life"</span></nav>
        <section class="page-head"><h1>"Mark end of life"</h1></section>
        <Suspense fallback=|| view! { <p class="loading">"Finding the artifacts…"</p> }>
            {move || Suspend::new(async move {
                match preview.await {
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                    Ok(found) if found.targets.is_empty() => view! {
                        <p class="muted">"The search finds no artifacts (referrers follow their subject and are left out)."</p>
                    }.into_any(),
                    Ok(found) => view! {
                        <section class="panel" id="bulk-attach">
                            <p>{format!("{} artifact{} found by ", found.targets.len(), if found.targets.len() == 1 { "" } else { "s" })}
                                <a href=format!("/search?q={}", encode(&found.query))><code>{found.query.clone()}</code></a>
                                {(found.skipped_referrers > 0).then(|| format!(" ({} referrers left out: they follow their subject)", found.skipped_referrers))}
                                ". Each gets a lifecycle referrer; their digests do not change."</p>
                            <p class="attach-row">
                                <label for="bulk-eol">"End of life "</label>
                                <input id="bulk-eol" type="date" bind:value=date/>
                                " " <button id="bulk-mark-eol" on:click=mark disabled=move || date.get().is_empty() || !idle()>"Mark end of life"</button>
                                " " <button id="bulk-revoke-eol" on:click=revoke disabled=move || !idle()>"Take back the end of life"</button>
                            </p>
                            {move || running.pending().get().then(|| view! { <p class="loading" role="status">"Attaching…"</p> })}
                            {move || match running.value().get() {
                                None => view! { <TargetTable found=found.clone()/> }.into_any(),
                                Some(Ok(done)) => view! {
                                    <p id="bulk-attached" role="status">{format!("Attached to {} of {}{}. Each repository is crawled again now.",
                                        done.attached, done.targets.len(), if done.failed > 0 { format!("; {} failed", done.failed) } else { String::new() })}</p>
                                    <TargetTable found=done/>
                                }.into_any(),
                                Some(Err(error)) => view! { <ErrorView error/> }.into_any(),
                            }}
                        </section>
                    }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The artifacts and, after a run, what became of each.
#[component]
fn TargetTable(found: BulkAttachView) -> impl IntoView {
    view! {
        <table class="table">
            <thead><tr><th>"Artifact"</th><th>"Tags"</th><th>"Outcome"</th></tr></thead>
            <tbody>
                {found.targets.into_iter().map(|target| {
                    let outcome = match (&target.attached, &target.error) {
                        (Some(attached), _) => format!("attached {}", crate::model::short_digest(&attached.digest)),
                        (_, Some(error)) => error.clone(),
                        _ if found.dry_run => "—".to_owned(),
                        _ => "not attempted".to_owned(),
                    };
                    view! {
                        <tr class:failed=target.error.is_some()>
                            <td><span class="mono small">{format!("{}/{}", target.registry, target.repository)}</span>" "
                                <DigestLink href=format!("/r/{}/{}/@{}", target.registry, target.repository, target.digest) digest=target.digest.clone()/></td>
                            <td data-label="Tags">{if target.tags.is_empty() { "untagged".to_owned() } else { target.tags.join(", ") }}</td>
                            <td data-label="Outcome">{outcome}</td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
