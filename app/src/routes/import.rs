//! The import page (`/import?registry=…&repository=…`): an OCI image layout as a tar archive
//! (from ocicat's "Download OCI layout", `skopeo copy … oci-archive:` or `tar` of a layout
//! directory), uploaded to `POST /api/v1/imports`, comes back as a copy plan into the chosen
//! repository — shown and run exactly like a copy.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::error::AppError;
use crate::model::{CopyPreview, CopyView};
use crate::routes::copy::PlanView;
use crate::upload::UploadBody;

/// The import page.
#[component]
pub fn ImportPage() -> impl IntoView {
    let query = use_query_map();
    let get = move |key: &str| query.read_untracked().get(key).unwrap_or_default();
    let registry = RwSignal::new(get("registry"));
    let repository = RwSignal::new(get("repository"));
    let tag = RwSignal::new(String::new());
    let planning = Action::new_local(move |(): &()| {
        let (registry, repository, tag) = (registry.get_untracked(), repository.get_untracked(), tag.get_untracked());
        async move { upload(registry, repository, tag).await }
    });
    view! {
        <section class="page-head">
            <h1>"Import an OCI image layout"</h1>
            <p class="lead">"Upload a layout as a tar archive — ocicat's \u{201c}Download OCI layout\u{201d}, or a layout directory written by skopeo, oras or regctl, archived with tar. Every tagged artifact goes into the repository with its tags and everything attached to it, byte for byte. Nothing is written before you confirm the plan."</p>
        </section>
        <section class="panel copy-form">
            <div class="form-grid">
                <label for="import-file">"Layout archive (.tar)"</label>
                <input id="import-file" type="file" accept=".tar,application/x-tar" required/>
                <label for="import-registry">"Destination registry"</label>
                <input id="import-registry" type="text" required bind:value=registry/>
                <label for="import-repository">"Destination repository"</label>
                <input id="import-repository" type="text" required bind:value=repository/>
                <label for="import-tag">"Tag there (optional; the layout must name exactly one artifact)"</label>
                <input id="import-tag" type="text" bind:value=tag/>
            </div>
            <p><button id="plan-import" class="primary" on:click=move |_| { planning.dispatch(()); }>"Upload and plan"</button></p>
        </section>
        {move || planning.pending().get().then(|| view! { <p class="loading">"Uploading and reading the layout…"</p> })}
        {move || planning.value().get().map(|result| match result {
            Ok(preview) => view! { <PlanView preview/> }.into_any(),
            Err(error) => view! { <crate::components::ErrorView error/> }.into_any(),
        })}
    }
}

/// Sends the chosen file to `POST /api/v1/imports` with the session's anti-CSRF token; answers
/// the stored plan with the token its execution carries.
async fn upload(registry: String, repository: String, tag: String) -> Result<CopyPreview, AppError> {
    let encode = crate::model::encode;
    let mut url =
        format!("/api/v1/imports?registry={}&repository={}", encode(registry.trim()), encode(repository.trim()));
    if !tag.trim().is_empty() {
        url.push_str(&format!("&tag={}", encode(tag.trim())));
    }
    let text = crate::upload::post_file(&url, "import-file", UploadBody::Raw("application/x-tar")).await?;
    let copy: CopyView =
        serde_json::from_str(&text).map_err(|error| AppError::BadRequest(format!("an unexpected answer: {error}")))?;
    let csrf = crate::account::who_am_i().await?.csrf;
    Ok(CopyPreview { copy, csrf })
}
