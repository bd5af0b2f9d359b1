//! The signed-in user's corner: the header's sign-in link or user menu (with the audit log and
//! retention for maintainers), what only maintainers are shown, the sign-in page (a plain form
//! the server checks, so it works before hydration), and the API tokens page.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::account::{CreateToken, RevokeToken, list_tokens, who_am_i};
use crate::components::{CopyButton, EmptyState, ErrorView, TimeText};
use crate::model::{SessionView, TokenRow};

/// "Sign in", or the user's name with their tokens and "Sign out"; nothing on an open server.
#[component]
pub fn UserMenu() -> impl IntoView {
    let who = Resource::new(|| (), |()| who_am_i());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match who.await {
                    Ok(SessionView { access: true, user: Some(user), can_delete, .. }) => view! {
                        <div class="usermenu">
                            <span class="username" title="Signed in">{user}</span>
                            {can_delete.then(|| view! { <a href="/audit">"Audit log"</a><a href="/retention">"Retention"</a> })}
                            <a href="/tokens">"API tokens"</a>
                            <form method="post" action="/auth/logout">
                                <button type="submit" class="linkish">"Sign out"</button>
                            </form>
                        </div>
                    }
                    .into_any(),
                    Ok(SessionView { access: true, user: None, .. }) => {
                        view! { <div class="usermenu"><a class="signin" href="/login">"Sign in"</a></div> }.into_any()
                    }
                    _ => ().into_any(),
                }
            })}
        </Suspense>
    }
}

/// Shows `children` only to viewers who may write somewhere ("Copy to…").
#[component]
pub fn IfCanCopy(children: ChildrenFn) -> impl IntoView {
    view! { <IfSession allowed=|who| who.can_copy children/> }
}

/// Shows `children` only to viewers who may delete somewhere.
#[component]
pub fn IfCanDelete(children: ChildrenFn) -> impl IntoView {
    view! { <IfSession allowed=|who| who.can_delete children/> }
}

/// Shows `children` only when the viewer's session is `allowed`.
#[component]
fn IfSession(allowed: fn(&SessionView) -> bool, children: ChildrenFn) -> impl IntoView {
    let who = Resource::new(|| (), |()| who_am_i());
    view! {
        <Suspense fallback=|| ()>
            {move || {
                let children = children.clone();
                Suspend::new(async move { who.await.is_ok_and(|who| allowed(&who)).then(|| children()) })
            }}
        </Suspense>
    }
}

/// `/login`: name and password, posted to `/auth/login`; after a failure one message for every
/// cause (wrong name, wrong password, too many attempts).
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let failed = move || query.read().get("failed").is_some();
    let signed_out = move || query.read().get("signed_out").is_some();
    let next = move || query.read().get("next").unwrap_or_default();
    view! {
        <section class="login panel">
            <h1>"Sign in to ocicat"</h1>
            {move || failed().then(|| view! {
                <p class="form-error" role="alert">
                    "Sign-in failed: the name or password is wrong, or there were too many attempts. Try again in a minute."
                </p>
            })}
            {move || signed_out().then(|| view! { <p class="card-note" role="status">"You are signed out."</p> })}
            <form method="post" action="/auth/login" class="login-form">
                <input type="hidden" name="next" value=next/>
                <label for="login-name">"Name"</label>
                <input id="login-name" name="username" type="text" autocomplete="username" required maxlength="64" autofocus/>
                <label for="login-password">"Password"</label>
                <input id="login-password" name="password" type="password" autocomplete="current-password" required maxlength="1024"/>
                <button type="submit" class="primary">"Sign in"</button>
            </form>
            <p class="small muted">"Automation signs in with an API token instead: " <code>"Authorization: Bearer ocicat_…"</code></p>
        </section>
    }
}

/// `/tokens`: the user's API tokens; a new one's secret is shown once, right after it is made.
#[component]
pub fn TokensPage() -> impl IntoView {
    let create = ServerAction::<CreateToken>::new();
    let revoke = ServerAction::<RevokeToken>::new();
    let tokens = Resource::new(move || (create.version().get(), revoke.version().get()), |_| list_tokens());
    let created = move || {
        match create.value().get() {
        Some(Ok(made)) => view! {
            <div class="new-token" role="status">
                <p><strong>{format!("Token \u{201c}{}\u{201d} created.", made.token.name)}</strong>" Copy it now: it is not shown again."</p>
                <p class="copyline"><code class="mono break" data-testid="new-token">{made.secret.clone()}</code><CopyButton text=made.secret label="Copy token"/></p>
            </div>
        }
        .into_any(),
        Some(Err(error)) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
        None => ().into_any(),
    }
    };
    view! {
        <section class="page-head">
            <h1>"API tokens"</h1>
            <p class="muted">"Tokens act as you, with your roles, for scripts and CI: send one as " <code>"Authorization: Bearer <token>"</code>"."</p>
        </section>
        <section class="panel">
            <ActionForm action=create attr:class="token-form">
                <label for="token-name">"New token name"</label>
                <input id="token-name" name="name" type="text" required maxlength="64" placeholder="ci-deploy"/>
                <button type="submit" class="primary" disabled=move || create.pending().get()>"Create token"</button>
            </ActionForm>
            {created}
        </section>
        <Transition fallback=|| view! { <p class="loading">"Loading tokens…"</p> }>
            {move || Suspend::new(async move {
                match tokens.await {
                    Ok(rows) if rows.is_empty() => view! {
                        <EmptyState title="No tokens yet".to_string() hint="Create one above for a script or a CI job.".to_string()/>
                    }
                    .into_any(),
                    Ok(rows) => view! { <TokenTable rows revoke/> }.into_any(),
                    Err(error) => view! { <ErrorView error/> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn TokenTable(rows: Vec<TokenRow>, revoke: ServerAction<RevokeToken>) -> impl IntoView {
    view! {
        <table class="table tokens">
            <thead><tr><th scope="col">"Name"</th><th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col"><span class="visually-hidden">"Revoke"</span></th></tr></thead>
            <tbody>
                {rows.into_iter().map(|TokenRow { id, name, created, last_used }| {
                    let (row_id, label) = (id.clone(), format!("Revoke {name}"));
                    view! {
                    <tr data-token=row_id>
                        <td data-label="Name">{name.clone()}</td>
                        <td data-label="Created"><TimeText value=Some(created)/></td>
                        <td data-label="Last used">{match last_used {
                            Some(used) => view! { <TimeText value=Some(used)/> }.into_any(),
                            None => view! { <span class="muted">"never"</span> }.into_any(),
                        }}</td>
                        <td>
                            <ActionForm action=revoke>
                                <input type="hidden" name="id" value=id/>
                                <button type="submit" class="danger" aria-label=label>"Revoke"</button>
                            </ActionForm>
                        </td>
                    </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}
