//! Artifacts shown the way their own tools show them, on the artifact page: a Helm chart's
//! Chart.yaml, dependencies, maintainers, README (HTML the server sanitized: no raw HTML, links
//! only http(s), no images) and values; a WebAssembly module's or component's world, imports
//! and exports.

use leptos::prelude::*;

use crate::components::{ErrorView, ShortDigest};
use crate::error::AppError;
use crate::model::{ChartView, WasmItemView, WasmView, human_size};

/// A Helm chart as `helm show all` prints it.
#[server]
pub async fn get_chart(registry: String, repository: String, digest: String) -> Result<ChartView, AppError> {
    use crate::shim::*;
    service()?.helm_chart(&principal(), &registry, &repository, &digest).await
}

/// A WebAssembly module's or component's summary.
#[server]
pub async fn get_wasm(registry: String, repository: String, digest: String) -> Result<WasmView, AppError> {
    use crate::shim::*;
    service()?.wasm_module(&principal(), &registry, &repository, &digest).await
}

/// The chart panel, loaded with the page.
#[component]
pub fn ChartPanel(registry: String, repository: String, digest: String) -> impl IntoView {
    let chart =
        Resource::new(move || (registry.clone(), repository.clone(), digest.clone()), |(r, p, d)| get_chart(r, p, d));
    view! {
        <section class="panel" id="chart" aria-labelledby="chart-title">
            <h2 id="chart-title">"Helm chart"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Reading the chart…"</p> }>
                {move || Suspend::new(async move {
                    match chart.await {
                        Ok(chart) => view! { <ChartDetails chart/> }.into_any(),
                        Err(error) => view! { <ErrorView error/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

fn or_dash(value: &Option<String>) -> String {
    value.clone().filter(|value| !value.is_empty()).unwrap_or_else(|| "—".into())
}

#[component]
fn ChartDetails(chart: ChartView) -> impl IntoView {
    let link = |url: String| view! { <a href=url.clone() rel="noopener noreferrer nofollow" target="_blank"><bdi>{url.clone()}</bdi></a> };
    view! {
        {chart.deprecated.then(|| view! { <p class="warning-box" id="chart-deprecated">"This chart is marked deprecated."</p> })}
        {chart.description.clone().map(|text| view! { <p class="chart-description"><bdi>{text}</bdi></p> })}
        <dl class="facts">
            <div><dt>"Name"</dt><dd class="mono">{or_dash(&chart.name)}</dd></div>
            <div><dt>"Version"</dt><dd class="mono">{or_dash(&chart.version)}</dd></div>
            <div><dt>"App version"</dt><dd class="mono">{or_dash(&chart.app_version)}</dd></div>
            <div><dt>"Type"</dt><dd>{or_dash(&chart.chart_type)}</dd></div>
            <div><dt>"API version"</dt><dd class="mono">{or_dash(&chart.api_version)}</dd></div>
            <div><dt>"Kubernetes"</dt><dd class="mono">{or_dash(&chart.kube_version)}</dd></div>
            <div><dt>"Home"</dt><dd class="break">{chart.home.clone().map(link)}</dd></div>
            <div><dt>"Provenance"</dt><dd>{match chart.provenance.clone() {
                Some(digest) => view! { "signed package (" <ShortDigest digest/> ")" }.into_any(),
                None => view! { <span class="muted">"none (not signed with helm package --sign)"</span> }.into_any(),
            }}</dd></div>
        </dl>
        {(!chart.keywords.is_empty()).then(|| view! { <p class="muted small">"Keywords: " {chart.keywords.join(", ")}</p> })}
        {(!chart.sources.is_empty()).then(|| view! {
            <p class="small">"Sources: " {chart.sources.clone().into_iter().map(|url| view! { {link(url)} " " }).collect_view()}</p>
        })}
        {(!chart.dependencies.is_empty()).then(|| view! {
            <h3>"Dependencies"</h3>
            <table class="table" id="chart-dependencies">
                <thead><tr><th>"Name"</th><th>"Version"</th><th>"Repository"</th><th>"Condition"</th></tr></thead>
                <tbody>{chart.dependencies.clone().into_iter().map(|dependency| view! {
                    <tr>
                        <td class="mono">{dependency.name.clone()}{dependency.alias.clone().map(|alias| format!(" (as {alias})"))}</td>
                        <td class="mono" data-label="Version">{or_dash(&dependency.version)}</td>
                        <td class="mono small break" data-label="Repository">{or_dash(&dependency.repository)}</td>
                        <td class="mono small" data-label="Condition">{or_dash(&dependency.condition)}</td>
                    </tr>
                }).collect_view()}</tbody>
            </table>
        })}
        {(!chart.maintainers.is_empty()).then(|| view! {
            <h3>"Maintainers"</h3>
            <ul class="chart-maintainers">{chart.maintainers.clone().into_iter().map(|maintainer| view! {
                <li><bdi>{or_dash(&maintainer.name)}</bdi>
                    {maintainer.email.clone().map(|email| view! { " " <span class="muted mono small">{format!("<{email}>")}</span> })}
                    {maintainer.url.clone().map(|url| view! { " " {link(url)} })}</li>
            }).collect_view()}</ul>
        })}
        {chart.files_error.clone().map(|error| view! { <p class="warning-box" id="chart-files-error">{error}</p> })}
        {chart.readme_html.clone().map(|html| view! {
            <details class="chart-readme" open=true>
                <summary>"README.md"</summary>
                // Sanitized on the server: no raw HTML, links only http(s) with rel=noopener, no images.
                <div class="markdown" id="chart-readme" inner_html=html></div>
            </details>
        })}
        {chart.values_yaml.clone().map(|values| view! {
            <details class="chart-values"><summary>"values.yaml"</summary><pre class="code" id="chart-values">{values}</pre></details>
        })}
        {chart.chart_yaml.clone().map(|text| view! {
            <details><summary>"Chart.yaml"</summary><pre class="code">{text}</pre></details>
        })}
        {(!chart.templates.is_empty()).then(|| view! {
            <details><summary>{format!("Templates ({})", chart.templates.len())}</summary>
                <ul class="mono small">{chart.templates.clone().into_iter().map(|path| view! { <li>{path}</li> }).collect_view()}</ul></details>
        })}
        {(!chart.subcharts.is_empty()).then(|| view! {
            <p class="small">"Subcharts packaged with it: " <span class="mono">{chart.subcharts.join(", ")}</span></p>
        })}
        {chart.truncated.then(|| view! { <p class="card-note small">"Some of it is long and is cut here."</p> })}
    }
}

/// The WebAssembly panel, loaded with the page.
#[component]
pub fn WasmPanel(registry: String, repository: String, digest: String) -> impl IntoView {
    let module =
        Resource::new(move || (registry.clone(), repository.clone(), digest.clone()), |(r, p, d)| get_wasm(r, p, d));
    view! {
        <section class="panel" id="wasm" aria-labelledby="wasm-title">
            <h2 id="wasm-title">"WebAssembly"</h2>
            <Suspense fallback=|| view! { <p class="loading">"Reading the module…"</p> }>
                {move || Suspend::new(async move {
                    match module.await {
                        Ok(module) => view! { <WasmDetails module/> }.into_any(),
                        Err(error) => view! { <ErrorView error/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}

#[component]
fn WasmDetails(module: WasmView) -> impl IntoView {
    let list =
        |title: &'static str, items: Vec<WasmItemView>| {
            (!items.is_empty()).then(|| view! {
            <h3>{format!("{title} ({})", items.len())}</h3>
            <table class="table wasm-items">
                <tbody>{items.into_iter().map(|item| view! {
                    <tr><td class="mono small break">{item.name}</td><td class="muted small">{item.kind}</td></tr>
                }).collect_view()}</tbody>
            </table>
        })
        };
    view! {
        {module.compat_image.then(|| view! {
            <p id="wasm-compat">"A container image marked " <code>"module.wasm.image/variant"</code>
                ": WASM-aware runtimes (crun, runwasi) run it as WebAssembly."</p>
        })}
        {module.kind.clone().map(|kind| view! {
            <dl class="facts">
                <div><dt>"Kind"</dt><dd id="wasm-kind">{if kind == "component" { "component (component model)".to_owned() } else { "core module".to_owned() }}</dd></div>
                <div><dt>"Size"</dt><dd>{human_size(module.size)}</dd></div>
                <div><dt>"Media type"</dt><dd class="mono">{module.media_type.clone()}</dd></div>
                {(kind == "module").then(|| view! { <div><dt>"Functions"</dt><dd>{module.functions}</dd></div> })}
                {module.world.clone().map(|world| view! { <div><dt>"World"</dt><dd class="mono" id="wasm-world">{world}</dd></div> })}
            </dl>
        })}
        {(!module.producers.is_empty()).then(|| view! { <p class="muted small">"Built with: " {module.producers.join("; ")}</p> })}
        {list("Imports", module.imports.clone())}
        {list("Exports", module.exports.clone())}
        {module.truncated.then(|| view! { <p class="card-note small">"The lists are long and are cut here."</p> })}
        {module.error.clone().map(|error| view! { <p class="warning-box" id="wasm-error">{error}</p> })}
    }
}
