//! Small reusable views: kind icons, digests, badges, state pills, empty and error states.

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{Badges, short_date, short_digest};

/// A colored square naming the artifact's kind.
#[component]
pub fn KindIcon(kind: String) -> impl IntoView {
    let (label, title) = match kind.as_str() {
        "image" => ("IMG", "Container image"),
        "index" => ("IDX", "Multi-platform index"),
        "helm" => ("HELM", "Helm chart"),
        "wasm" => ("WASM", "WebAssembly module"),
        "sbom" => ("SBOM", "Software bill of materials"),
        "signature" => ("SIG", "Signature"),
        "attestation" => ("ATT", "Attestation"),
        "scan" => ("SCAN", "Vulnerability scan"),
        "lifecycle" => ("EOL", "Lifecycle metadata"),
        "build-record" => ("BUILD", "Build record"),
        _ => ("ART", "Other artifact"),
    };
    let class = format!("kind kind-{}", kind.chars().filter(char::is_ascii_alphabetic).collect::<String>());
    view! { <span class=class title=title aria-label=title>{label}</span> }
}

/// A short digest with the full one in its title, and a button that copies the full one.
#[component]
pub fn ShortDigest(digest: String) -> impl IntoView {
    let short = short_digest(&digest);
    view! {
        <span class="digest-cell">
            <code class="digest" title=digest.clone()>{short}</code>
            <CopyButton text=digest label="Copy digest"/>
        </span>
    }
}

/// A short digest linking to `href`, with the copy button beside the link (not inside it).
#[component]
pub fn DigestLink(digest: String, href: String) -> impl IntoView {
    let short = short_digest(&digest);
    view! {
        <span class="digest-cell">
            <a href=href><code class="digest" title=digest.clone()>{short}</code></a>
            <CopyButton text=digest label="Copy digest"/>
        </span>
    }
}

/// A button that puts `text` on the clipboard (once hydrated) and says so.
#[component]
pub fn CopyButton(text: String, label: &'static str) -> impl IntoView {
    let (copied, set_copied) = signal(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(window) = web_sys::window() {
            // The promise settles on its own; a refusal leaves the label unchanged.
            let _ = window.navigator().clipboard().write_text(&text);
            set_copied.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&text, set_copied);
    };
    view! {
        <button type="button" class="copy" title=label aria-label=label on:click=copy>
            {move || if copied.get() { "Copied" } else { "Copy" }}
        </button>
    }
}

/// Tags as chips (long ones, like fallback tags, cut with the whole tag in the title).
#[component]
pub fn TagChips(tags: Vec<String>) -> impl IntoView {
    (!tags.is_empty()).then(|| {
        view! {
            <span class="tag-chips">
                {tags.into_iter().map(|tag| view! { <span class="tag-chip mono" title=tag.clone()>{tag.clone()}</span> }).collect_view()}
            </span>
        }
    })
}

/// Signed / SBOM / scans / attestations / end-of-life badges.
#[component]
pub fn BadgeList(badges: Badges) -> impl IntoView {
    let eol = badges.end_of_life.clone().map(|date| {
        let (class, text) = if badges.expired {
            ("badge badge-expired", format!("EOL {date} · expired"))
        } else {
            ("badge badge-eol", format!("EOL {date}"))
        };
        view! { <span class=class>{text}</span> }
    });
    view! {
        <span class="badges">
            {badges.signature.clone().map(|signature| view! { <SignatureBadgeView signature/> })}
            {badges.sbom.then(|| view! { <span class="badge badge-sbom" title="An SBOM refers to this artifact">"SBOM"</span> })}
            {badges.vulnerabilities.clone().map(|found| view! { <VulnerabilityBadge found/> })}
            {(badges.scans > 0).then(|| view! { <span class="badge badge-scan">{format!("{} scan{}", badges.scans, if badges.scans == 1 { "" } else { "s" })}</span> })}
            {(badges.attestations > 0).then(|| view! { <span class="badge badge-att">{format!("{} attestation{}", badges.attestations, if badges.attestations == 1 { "" } else { "s" })}</span> })}
            {eol}
        </span>
    }
}

/// What the signatures' verdicts say: verified by a policy, invalid, or signed but unverified;
/// the reason in the title.
#[component]
pub fn SignatureBadgeView(signature: crate::model::SignatureBadge) -> impl IntoView {
    let (class, text) = match signature.status.as_str() {
        "verified" => ("badge badge-verified", format!("✓ verified · {}", signature.policies.join(", "))),
        "invalid" => ("badge badge-invalid", "✗ invalid signature".to_owned()),
        _ => ("badge badge-unverified", "signed · unverified".to_owned()),
    };
    view! { <span class=class data-signature=signature.status.clone() title=signature.reason.clone()>{text}</span> }
}

/// Findings of the newest scan: critical and high counts up front, the rest in the title.
#[component]
fn VulnerabilityBadge(found: crate::model::VulnerabilityCounts) -> impl IntoView {
    let title = format!(
        "Newest scan: {} critical, {} high, {} medium, {} low, {} unrated",
        found.critical, found.high, found.medium, found.low, found.unknown
    );
    let (class, text) = if found.critical > 0 {
        ("badge badge-vuln-critical", format!("{} critical · {} high", found.critical, found.high))
    } else if found.high > 0 {
        ("badge badge-vuln-high", format!("{} high", found.high))
    } else if found.medium + found.low + found.unknown > 0 {
        ("badge badge-vuln-low", format!("{} findings", found.medium + found.low + found.unknown))
    } else {
        ("badge badge-vuln-none", "no findings".to_string())
    };
    view! { <span class=class title=title.clone() aria-label=title>{text}</span> }
}

/// The crawl state of a registry as a colored pill.
#[component]
pub fn StatePill(state: String) -> impl IntoView {
    let text = match state.as_str() {
        "idle" => "up to date",
        "crawling" => "crawling",
        "unreachable" => "unreachable",
        _ => "waiting for first crawl",
    };
    view! { <span class=format!("pill pill-{state}")>{text}</span> }
}

/// A moment shown as `yyyy-mm-dd hh:mm UTC` (for crawl times, where the hour matters).
#[component]
pub fn TimeText(value: Option<String>) -> impl IntoView {
    match value {
        Some(timestamp) => view! {
            <time datetime=timestamp.clone() title=timestamp.clone()>{crate::model::short_time(&timestamp)}</time>
        }
        .into_any(),
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// A date shown as `yyyy-mm-dd` with the full timestamp in its title.
#[component]
pub fn DateText(value: Option<String>) -> impl IntoView {
    match value {
        Some(timestamp) => {
            view! { <time datetime=timestamp.clone() title=timestamp.clone()>{short_date(&timestamp)}</time> }
                .into_any()
        }
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// The home and status pages with no registry configured.
#[component]
pub fn NoRegistries() -> impl IntoView {
    view! {
        <EmptyState title="No registries configured".to_string()
            hint="Add a [[registry]] section to ocicat.toml and restart ocicat.".to_string()/>
    }
}

/// A friendly box for "nothing here" situations.
#[component]
pub fn EmptyState(title: String, hint: String) -> impl IntoView {
    view! {
        <div class="empty">
            <h2>{title}</h2>
            <p>{hint}</p>
        </div>
    }
}

/// Shows an error with what the user can do about it.
#[component]
pub fn ErrorView(error: AppError) -> impl IntoView {
    crate::error::set_page_status(&error);
    let (title, hint) = match &error {
        AppError::NotFound(what) => (
            format!("Not found: {what}"),
            "It may have been deleted, the crawler may not have reached it yet, or you may not have access to it."
                .to_string(),
        ),
        AppError::Unauthorized => {
            ("Sign in first".to_string(), "This needs a signed-in user: use \"Sign in\" at the top.".to_string())
        }
        AppError::Forbidden(what) => {
            (format!("Not allowed: {what}"), "Your roles do not include this; ask an administrator.".to_string())
        }
        AppError::BadRequest(reason) => ("This address is not valid".to_string(), reason.clone()),
        AppError::InvalidQuery { message, .. } => ("This query is not valid".to_string(), message.clone()),
        AppError::Busy(reason) => ("The server is busy".to_string(), reason.clone()),
        AppError::Conflict(reason) => ("This changed in the meantime".to_string(), reason.clone()),
        AppError::Internal => (
            "Something went wrong on the server".to_string(),
            "The error was logged. Try again in a moment.".to_string(),
        ),
        AppError::Transport(reason) => ("The server could not be reached".to_string(), reason.clone()),
        AppError::Registry(reason) => ("The registry could not deliver it".to_string(), reason.clone()),
    };
    view! {
        <div class="error-box" role="alert">
            <h2>{title}</h2>
            <p>{hint}</p>
            <a href="/">"Back to registries"</a>
        </div>
    }
}
