//! ocicat's pages: the HTML shell, the router table and the module list.
//!
//! Built twice: with `ssr` for the server (server functions call `ocicat-service`) and with
//! `hydrate` for the browser (the same components, made interactive).
#![recursion_limit = "256"]

pub mod account;
pub mod api;
pub mod components;
pub mod copies;
pub mod error;
pub mod lifecycle;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod shim;
pub mod toolbar;
pub mod upload;

/// The wire models, from the service (they build for the browser too).
pub use ocicat_service::model;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Title, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::hooks::use_params_map;
use leptos_router::{SsrMode, path};

use crate::components::EmptyState;
use crate::routes::account::{LoginPage, TokensPage, UserMenu};
use crate::routes::artifact::ArtifactPage;
use crate::routes::audit::AuditLogPage;
use crate::routes::bulk_attach::BulkAttachPage;
use crate::routes::copy::CopyPage;
use crate::routes::delete::DeletePage;
use crate::routes::diff::DiffPage;
use crate::routes::execution::ExecutionPage;
use crate::routes::home::HomePage;
use crate::routes::impact::ImpactPage;
use crate::routes::import::ImportPage;
use crate::routes::registry::RegistryPage;
use crate::routes::repository::RepositoryPage;
use crate::routes::retention::{RetentionPage, RetentionRunPage};
use crate::routes::search::SearchPage;
use crate::routes::status::StatusPage;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" type="image/svg+xml" href="/favicon.svg"/>
                <link rel="stylesheet" href="/pkg/ocicat.css"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The application: header, routes, footer.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Title text="ocicat"/>
        <Router>
            // rel="external" keeps the router out: the browser's own fragment navigation moves focus.
            <a class="skip-link" href="#main" rel="external">"Skip to content"</a>
            <header class="topbar">
                <a class="brand" href="/"><span class="brand-mark" aria-hidden="true">"◆"</span>" ocicat"</a>
                <nav class="topnav" aria-label="Main"><a href="/">"Registries"</a><a href="/search">"Search"</a><a href="/impact">"Impact"</a><a href="/status">"Status"</a></nav>
                <form class="topsearch" method="get" action="/search" role="search">
                    <label class="visually-hidden" for="top-search">"Search artifacts"</label>
                    <input id="top-search" type="search" name="q" placeholder="Search: kind:sbom, eol < today, nginx…"/>
                </form>
                <UserMenu/>
            </header>
            <main id="main" tabindex="-1">
                <Routes fallback=|| view! { <EmptyState title="Page not found".to_string() hint="Check the address, or start from the registries.".to_string()/> }>
                    // Async SSR: the page waits for its data, so a missing artifact is a real 404.
                    <Route path=path!("") view=HomePage ssr=SsrMode::Async/>
                    <Route path=path!("/search") view=SearchPage ssr=SsrMode::Async/>
                    <Route path=path!("/impact") view=ImpactPage ssr=SsrMode::Async/>
                    <Route path=path!("/diff") view=DiffPage ssr=SsrMode::Async/>
                    <Route path=path!("/status") view=StatusPage ssr=SsrMode::Async/>
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async/>
                    <Route path=path!("/tokens") view=TokensPage ssr=SsrMode::Async/>
                    <Route path=path!("/delete") view=DeletePage ssr=SsrMode::Async/>
                    <Route path=path!("/copy") view=CopyPage ssr=SsrMode::Async/>
                    <Route path=path!("/import") view=ImportPage ssr=SsrMode::Async/>
                    <Route path=path!("/attach") view=BulkAttachPage ssr=SsrMode::Async/>
                    <Route path=path!("/plans/:id") view=ExecutionPage ssr=SsrMode::Async/>
                    <Route path=path!("/audit") view=AuditLogPage ssr=SsrMode::Async/>
                    <Route path=path!("/retention") view=RetentionPage ssr=SsrMode::Async/>
                    <Route path=path!("/retention/runs/:id") view=RetentionRunPage ssr=SsrMode::Async/>
                    <Route path=path!("/r/:registry") view=RegistryPage ssr=SsrMode::Async/>
                    <Route path=path!("/r/:registry/*rest") view=RepositoryOrArtifact ssr=SsrMode::Async/>
                </Routes>
            </main>
            <footer class="footer muted">"ocicat — a catalog for OCI registries"</footer>
        </Router>
    }
}

/// Splits `/r/<registry>/<repository>[/@<digest>|:<tag>]` (repositories contain slashes).
#[component]
fn RepositoryOrArtifact() -> impl IntoView {
    let params = use_params_map();
    move || {
        let registry = params.read().get("registry").unwrap_or_default();
        let rest = params.read().get("rest").unwrap_or_default();
        let rest = rest.trim_end_matches('/').to_string();
        match rest.split_once("/@") {
            Some((repository, digest)) => {
                view! { <ArtifactPage registry repository=repository.to_string() digest=digest.to_string()/> }
                    .into_any()
            }
            // Repository names cannot hold ':', so `repo:tag` is a docker-style reference.
            None => match rest.rsplit_once(':') {
                Some((repository, tag)) if !tag.contains('/') => {
                    view! { <TaggedArtifact registry repository=repository.to_string() tag=tag.to_string()/> }
                        .into_any()
                }
                _ => view! { <RepositoryPage registry repository=rest/> }.into_any(),
            },
        }
    }
}

/// The artifact page of `repository:tag`, resolved through the index.
#[component]
fn TaggedArtifact(registry: String, repository: String, tag: String) -> impl IntoView {
    let names = (registry.clone(), repository.clone());
    let digest = Resource::new(
        move || (registry.clone(), repository.clone(), tag.clone()),
        |(registry, repository, tag)| crate::api::resolve_tag(registry, repository, tag),
    );
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Finding the tag…"</p> }>
            {
                let names = names.clone();
                move || {
                    let (registry, repository) = names.clone();
                    Suspend::new(async move {
                        match digest.await {
                            Ok(digest) => view! { <ArtifactPage registry repository digest/> }.into_any(),
                            Err(error) => view! { <crate::components::ErrorView error/> }.into_any(),
                        }
                    })
                }
            }
        </Suspense>
    }
}
