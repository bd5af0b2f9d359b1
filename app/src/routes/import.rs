//! The import page (`/import?registry=…&repository=…`): an OCI image layout as a tar archive
//! (from ocicat's "Download OCI layout", `skopeo copy … oci-archive:` or `tar` of a layout
//! directory), uploaded to `POST /api/v1/imports`, comes back as a copy plan into the chosen
//! repository — shown and run exactly like a copy.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::error::AppError;
use crate::model::{CopyPreview, CopyView};
use crate::routes::copy::PlanView;

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
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast as _;
        let failed = |what: &str| AppError::BadRequest(what.to_owned());
        let csrf = crate::account::who_am_i().await?.csrf;
        let window = web_sys::window().ok_or_else(|| failed("no window"))?;
        let file = window
            .document()
            .and_then(|document| document.get_element_by_id("import-file"))
            .and_then(|element| element.dyn_into::<web_sys::HtmlInputElement>().ok())
            .and_then(|input| input.files())
            .and_then(|files| files.get(0))
            .ok_or_else(|| failed("choose a layout archive (.tar) first"))?;
        let encode = crate::model::encode;
        let mut url =
            format!("/api/v1/imports?registry={}&repository={}", encode(registry.trim()), encode(repository.trim()));
        if !tag.trim().is_empty() {
            url.push_str(&format!("&tag={}", encode(tag.trim())));
        }
        let headers = web_sys::Headers::new().map_err(|_| failed("cannot make the request"))?;
        let _ = headers.set("content-type", "application/x-tar");
        let _ = headers.set("x-csrf-token", &csrf);
        let init = web_sys::RequestInit::new();
        init.set_method("POST");
        init.set_headers(&headers);
        init.set_body(&file);
        let answered = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str_and_init(&url, &init))
            .await
            .map_err(|_| failed("the upload failed: the server could not be reached"))?;
        let response: web_sys::Response = answered.dyn_into().map_err(|_| failed("no answer"))?;
        let text = wasm_bindgen_futures::JsFuture::from(response.text().map_err(|_| failed("no answer"))?)
            .await
            .ok()
            .and_then(|text| text.as_string())
            .unwrap_or_default();
        if !response.ok() {
            let message = serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|body| body.get("error").and_then(|error| error.as_str()).map(str::to_owned))
                .unwrap_or_else(|| format!("the upload failed ({})", response.status()));
            return Err(AppError::BadRequest(message));
        }
        let copy: CopyView =
            serde_json::from_str(&text).map_err(|error| failed(&format!("an unexpected answer: {error}")))?;
        Ok(CopyPreview { copy, csrf })
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (registry, repository, tag);
        let _: Option<CopyView> = None;
        Err(AppError::BadRequest("uploading needs the page to be interactive".into()))
    }
}
