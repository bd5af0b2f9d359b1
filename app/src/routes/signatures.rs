//! Signatures and attestations: one on its own page (kind, signer certificate, payload), an
//! attestation's predicate, and the list of every signature and attestation of an image with
//! who signed and when.

use leptos::prelude::*;

use crate::api::list_signatures;
use crate::components::{DateText, ErrorView};
use crate::model::{AttestationView, SignatureView};
use crate::routes::viewer::fact;

#[component]
pub(crate) fn SignatureBody(signature: SignatureView) -> impl IntoView {
    let signer = signature.signer.clone();
    view! {
        <dl class="facts">
            {fact("Kind", Some(signature.kind.clone()))}
            {fact("Signed", signature.signed_at.clone())}
            {fact("Signs digest", signature.signed_digest.clone())}
            {fact("Image", signature.reference.clone())}
            {fact("Predicate type", signature.predicate_type.clone())}
            {signature.details.iter().map(|(label, value)| view! { <div><dt>{label.clone()}</dt><dd class="break"><bdi>{value.clone()}</bdi></dd></div> }).collect_view()}
        </dl>
        <h3>"Signer"</h3>
        {match signer {
            Some(signer) => view! {
                <dl class="facts signer">
                    {fact("Identity", signer.identity.clone())}
                    {fact("OIDC issuer", signer.oidc_issuer.clone())}
                    {fact("Subject", signer.subject.clone())}
                    {fact("Issuer", signer.issuer.clone())}
                    {fact("Valid from", signer.not_before.clone())}
                    {fact("Valid until", signer.not_after.clone())}
                    {fact("SHA-256 fingerprint", signer.fingerprint.clone())}
                </dl>
            }.into_any(),
            None => view! { <p class="muted">"No certificate: signed with a key (or the certificate is elsewhere)."</p> }.into_any(),
        }}
        <p class="muted small">"Shown as the signature states it; whether a trust policy vouches for it is the verdict."</p>
        <details class="payload"><summary>"Signed payload"</summary><pre class="json">{signature.payload.clone()}</pre></details>
    }
}

#[component]
pub(crate) fn AttestationBody(attestation: AttestationView) -> impl IntoView {
    view! {
        <dl class="facts">
            {fact("Predicate type", Some(attestation.predicate_type.clone()))}
            {fact("Statement", Some(attestation.statement_type.clone()))}
            {fact("Envelope signatures", Some(attestation.signatures.to_string()))}
        </dl>
        <h3>"Subjects"</h3>
        <ul class="related">
            {attestation.subjects.iter().map(|(name, digest)| view! { <li><bdi>{name.clone()}</bdi>" "<code class="mono small break">{digest.clone()}</code></li> }).collect_view()}
        </ul>
        <details class="payload" open=true><summary>"Predicate"</summary><pre class="json">{attestation.predicate.clone()}</pre></details>
    }
}

/// The signatures and attestations of an artifact with their signers, read once the page is
/// in the browser (the server renders pages from the index alone). The list is created only
/// after hydration, so the browser never hydrates a resource the server could not render.
#[component]
pub fn SignaturesPanel(registry: String, repository: String, digest: String) -> impl IntoView {
    let (mounted, set_mounted) = signal(false);
    Effect::new(move |_| set_mounted.set(true));
    let names = StoredValue::new((registry, repository, digest));
    view! {
        <section class="panel" id="signatures">
            <h2>"Signatures and attestations"</h2>
            {move || {
                if mounted.get() {
                    let (registry, repository, digest) = names.get_value();
                    view! { <SignatureList registry repository digest/> }.into_any()
                } else {
                    view! { <p class="loading">"Reading signatures…"</p> }.into_any()
                }
            }}
        </section>
    }
}

#[component]
fn SignatureList(registry: String, repository: String, digest: String) -> impl IntoView {
    let base = format!("/r/{registry}/{repository}");
    let rows = LocalResource::new(move || list_signatures(registry.clone(), repository.clone(), digest.clone()));
    view! {
            <Suspense fallback=|| view! { <p class="loading">"Reading signatures…"</p> }>
                {
                    let base = base.clone();
                    move || {
                        let base = base.clone();
                        Suspend::new(async move {
                            match rows.await {
                                Ok(rows) if rows.is_empty() => view! { <p class="muted">"None."</p> }.into_any(),
                                Ok(rows) => view! {
                                    <table class="table signatures">
                                        <thead><tr><th>"Kind"</th><th>"Verdict"</th><th>"Signer"</th><th>"Issuer"</th><th>"When"</th><th>"Predicate type"</th></tr></thead>
                                        <tbody>
                                            {rows.into_iter().map(|row| view! {
                                                <tr>
                                                    <td><a href=format!("{base}/@{}", row.digest)>{row.format.clone()}</a>
                                                        {row.problem.clone().map(|problem| view! { <div class="raw-error small">{problem}</div> })}</td>
                                                    <td class="break" data-label="Verdict">{row.verification.clone().map(|verdict| view! { <VerdictView verdict/> })}</td>
                                                    <td class="break" data-label="Signer"><bdi>{row.signer.clone().unwrap_or_else(|| "—".into())}</bdi></td>
                                                    <td class="break" data-label="Issuer"><bdi>{row.issuer.clone().unwrap_or_default()}</bdi></td>
                                                    <td data-label="When"><DateText value=row.signed_at.clone()/></td>
                                                    <td class="mono small break" data-label="Predicate type"><bdi>{row.predicate_type.clone().unwrap_or_default()}</bdi></td>
                                                </tr>
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                }.into_any(),
                                Err(error) => view! { <ErrorView error/> }.into_any(),
                            }
                        })
                    }
                }
            </Suspense>
    }
}

/// One signature's verdict: a badge (verified by which policy, invalid, untrusted or
/// unverifiable) and the reason under it.
#[component]
pub fn VerdictView(verdict: crate::model::Verification) -> impl IntoView {
    let (class, text) = match verdict.status.as_str() {
        "verified" => ("badge badge-verified", format!("✓ verified · {}", verdict.policy.clone().unwrap_or_default())),
        "invalid" => ("badge badge-invalid", "✗ invalid".to_owned()),
        "untrusted" => ("badge badge-unverified", "untrusted".to_owned()),
        _ => ("badge badge-unverified", "unverifiable".to_owned()),
    };
    view! {
        <span class=class data-verdict=verdict.status.clone()>{text}</span>
        <div class="muted small verdict-reason"><bdi>{verdict.reason.clone()}</bdi></div>
    }
}
