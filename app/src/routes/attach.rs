//! The "Attach" panel of an artifact page, for those who may write somewhere: mark its end of
//! life (or take it back), add annotations, or attach a document (an SBOM, a scan report, VEX,
//! notes) — each pushed as a referrer, the artifact's digest unchanged; the repository is
//! crawled again at once, so the badge, searches and viewers follow.

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::components::ErrorView;
use crate::error::AppError;
use crate::model::{AttachRequest, AttachView, short_digest};

/// Attaches `request` to `registry/repository@digest` (a POST carrying the session's
/// anti-CSRF token).
#[server]
pub async fn attach_to(
    registry: String,
    repository: String,
    digest: String,
    request: AttachRequest,
    csrf: String,
) -> Result<AttachView, AppError> {
    use crate::shim::*;
    check_csrf(&csrf)?;
    service()?.attach(&principal(), &registry, &repository, &digest, request).await
}

/// The panel.
#[component]
pub fn AttachPanel(registry: String, repository: String, digest: String, end_of_life: Option<String>) -> impl IntoView {
    let date = RwSignal::new(String::new());
    let pairs = RwSignal::new(String::new());
    let annotation_type = RwSignal::new(String::new());
    let malformed = RwSignal::new(None::<String>);
    let media_type = RwSignal::new(String::new());
    let document_type = RwSignal::new(String::new());
    let upload_url = format!(
        "/api/v1/registries/{}/repositories/{}/@{}/attachments",
        crate::model::encode(&registry),
        repository,
        digest
    );
    // The upload runs only in the browser (a click); a local action would be made, and dropped,
    // on the server's threads while the page renders.
    let uploaded = RwSignal::new(None::<Result<AttachView, AppError>>);
    let uploading = RwSignal::new(false);
    let upload = move |_| {
        let url = upload_url.clone();
        let fields = vec![("media_type", media_type.get_untracked()), ("artifact_type", document_type.get_untracked())];
        uploading.set(true);
        leptos::task::spawn_local(async move {
            let sent = crate::upload::post_file(&url, "attach-file", crate::upload::UploadBody::Form(fields)).await;
            let answer = sent.and_then(|text| {
                serde_json::from_str::<AttachView>(&text)
                    .map_err(|error| AppError::BadRequest(format!("an unexpected answer: {error}")))
            });
            uploaded.set(Some(answer));
            uploading.set(false);
        });
    };
    let target = (registry, repository, digest);
    let attaching = Action::new(move |request: &AttachRequest| {
        let (registry, repository, digest) = target.clone();
        let request = request.clone();
        async move {
            let csrf = crate::account::who_am_i().await?.csrf;
            attach_to(registry, repository, digest, request, csrf).await
        }
    });
    let mark = move |_| {
        attaching.dispatch(AttachRequest { end_of_life: Some(date.get_untracked()), ..Default::default() });
    };
    let revoke = move |_| {
        attaching.dispatch(AttachRequest { revoke_end_of_life: true, ..Default::default() });
    };
    let annotate = move |_| {
        let text = pairs.get_untracked();
        let lines: Vec<&str> = text.lines().filter(|line| !line.trim().is_empty()).collect();
        if let Some(bad) = lines.iter().find(|line| !line.contains('=')) {
            malformed.set(Some(format!("{bad:?} is not key=value")));
            return;
        }
        malformed.set(None);
        let annotations: BTreeMap<String, String> = lines
            .iter()
            .filter_map(|line| line.split_once('='))
            .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
            .collect();
        let artifact_type = Some(annotation_type.get_untracked()).filter(|kind| !kind.trim().is_empty());
        attaching.dispatch(AttachRequest { annotations, artifact_type, ..Default::default() });
    };
    view! {
        <section class="panel" id="attach" aria-labelledby="attach-title">
            <h2 id="attach-title">"Attach"</h2>
            <p class="muted small">"Each is pushed as a referrer of this artifact; its digest does not change."</p>
            <p class="attach-row">
                <label for="attach-eol">"End of life "</label>
                <input id="attach-eol" type="date" bind:value=date/>
                " " <button id="mark-eol" on:click=mark disabled=move || date.get().is_empty() || attaching.pending().get()>"Mark end of life"</button>
                {end_of_life.map(|current| view! {
                    " " <button id="revoke-eol" on:click=revoke disabled=move || attaching.pending().get()>{format!("Take back the end of life ({current})")}</button>
                })}
            </p>
            <p class="attach-row">
                <label for="attach-annotations">"Annotations, key=value, one per line"</label><br/>
                <textarea id="attach-annotations" rows="2" cols="48" bind:value=pairs></textarea>
                <label for="attach-annotation-type" class="visually-hidden">"Artifact type of the annotations"</label>
                <input id="attach-annotation-type" type="text" size="34" placeholder="application/vnd.ocicat.annotations.v1+json" bind:value=annotation_type/>
                " " <button id="add-annotations" on:click=annotate disabled=move || pairs.get().trim().is_empty() || attaching.pending().get()>"Add annotations"</button>
            </p>
            {move || malformed.get().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
            <fieldset class="attach-document">
                <legend>"A document: an SBOM, scan report, VEX or notes (at most 4 MiB)"</legend>
                <div class="form-grid">
                    <label for="attach-file">"File"</label>
                    <input id="attach-file" type="file"/>
                    <label for="attach-media-type">"Media type"</label>
                    <input id="attach-media-type" type="text" placeholder="the file's own, e.g. application/spdx+json" bind:value=media_type/>
                    <label for="attach-artifact-type">"Artifact type"</label>
                    <input id="attach-artifact-type" type="text" placeholder="the media type" bind:value=document_type/>
                </div>
                <p><button id="attach-document" on:click=upload disabled=move || uploading.get()>"Attach document"</button></p>
            </fieldset>
            {move || uploaded.get().map(|result| match result {
                Ok(attached) => view! {
                    <p id="attached-document" role="status">{format!("Attached as {} ({}). It shows once the repository is crawled again, which starts now.", short_digest(&attached.digest), attached.artifact_type)}</p>
                }.into_any(),
                Err(error) => view! { <ErrorView error/> }.into_any(),
            })}
            {move || attaching.value().get().map(|result| match result {
                Ok(attached) => view! {
                    <p id="attached" role="status">{format!("Attached as {} ({}). It shows once the repository is crawled again, which starts now.", short_digest(&attached.digest), attached.artifact_type)}</p>
                }.into_any(),
                Err(error) => view! { <ErrorView error/> }.into_any(),
            })}
        </section>
    }
}
