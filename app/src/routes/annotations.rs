//! Annotation tables: a manifest's own (values linked only when they are http(s) URLs),
//! those attached later by referrers (with who and when, and a link to the referrer), and the
//! compact list an index's platform table shows under each child.

use leptos::prelude::*;

use crate::components::{DateText, DigestLink};
use crate::model::{Annotation, AttachedAnnotationView};

/// A value: a link only for http(s), always text otherwise.
#[component]
fn AnnotationValue(item: Annotation) -> impl IntoView {
    if item.is_link {
        view! { <a href=item.value.clone() rel="noopener noreferrer nofollow" target="_blank"><bdi>{item.value.clone()}</bdi></a> }.into_any()
    } else {
        view! { <bdi>{item.value.clone()}</bdi> }.into_any()
    }
}

/// Key/value rows, or "None.".
#[component]
pub fn AnnotationTable(items: Vec<Annotation>) -> impl IntoView {
    if items.is_empty() {
        return view! { <p class="muted">"None."</p> }.into_any();
    }
    view! {
        <table class="table kv">
            <tbody>
                {items.into_iter().map(|item| view! {
                    <tr><th class="mono small">{item.key.clone()}</th><td class="break"><AnnotationValue item/></td></tr>
                }).collect_view()}
            </tbody>
        </table>
    }.into_any()
}

/// Attached annotations: key, value, who attached it, when, and the referrer carrying it.
#[component]
pub fn AttachedAnnotationTable(items: Vec<AttachedAnnotationView>, base: String) -> impl IntoView {
    view! {
        <table class="table">
            <thead><tr><th>"Key"</th><th>"Value"</th><th>"By"</th><th>"When"</th><th>"Referrer"</th></tr></thead>
            <tbody>
                {items.into_iter().map(|item| view! {
                    <tr>
                        <th class="mono small">{item.annotation.key.clone()}</th>
                        <td class="break"><AnnotationValue item=item.annotation.clone()/></td>
                        <td data-label="By">{item.by.clone().unwrap_or_else(|| "—".into())}</td>
                        <td data-label="When"><DateText value=item.at.clone()/></td>
                        <td data-label="Referrer"><DigestLink href=format!("{base}/@{}", item.referrer) digest=item.referrer.clone()/></td>
                    </tr>
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// A small `key: value` list under an index child's platform (nothing when there are none).
#[component]
pub fn CompactAnnotations(items: Vec<Annotation>) -> impl IntoView {
    (!items.is_empty()).then(|| {
        view! {
            <ul class="compact-annotations small">
                {items.into_iter().map(|item| view! {
                    <li><span class="mono muted">{item.key.clone()}": "</span><AnnotationValue item/></li>
                }).collect_view()}
            </ul>
        }
    })
}
